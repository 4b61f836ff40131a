"""Firmware variants of the virtual printer, as data: ``escpos809/profiles/firmware/*.toml``.

The clones sold as OCPP-809 differ in what their ROM does (``ESC t`` numbering, Chinese mode
at power-on, native QR, band height, which status requests answer, cut forms, ``GS I`` ids).
A :class:`Firmware` says what one of them does; the interpreter's handlers consult it. The
host's model profile never changes it: the printer does what its ROM does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType
from typing import Any

from ..errors import ProfileError
from ..profile import tomllib
from .state import BARCODE_NAMES, EPSON_GS1, XPRINTER_CODEPAGES

DEFAULT_FIRMWARE = "default"
STATUS_REQUESTS = ("dle-eot", "gs-r", "esc-v", "gs-i")
QR_FORMS = ("epson", "legacy")
CUT_MODES = ("full", "partial", "none")
CUT_KEYS = ("gs_v_full", "gs_v_partial", "esc_i", "esc_m")
_BASES: dict[str, Mapping[int, str]] = {"xprinter": XPRINTER_CODEPAGES, "none": {}}


@dataclass(frozen=True)
class Firmware:
    """What one firmware variant does (see ``profiles/firmware/default.toml`` for the keys)."""

    id: str = DEFAULT_FIRMWARE
    description: str = ""
    codepages: Mapping[int, str] = field(default_factory=lambda: MappingProxyType(dict(XPRINTER_CODEPAGES)))
    chinese_at_power_on: bool = True
    qr_forms: frozenset[str] = frozenset(QR_FORMS)
    max_band_rows: int = 2303
    answers: frozenset[str] = frozenset(STATUS_REQUESTS)
    cuts: Mapping[str, str] = field(
        default_factory=lambda: MappingProxyType(
            {"gs_v_full": "full", "gs_v_partial": "partial", "esc_i": "partial", "esc_m": "partial"}
        )
    )
    ids: Mapping[str, Any] = field(default_factory=dict)
    #: GS k m -> symbology this firmware draws (print801's set; a variant may add Epson's GS1 DataBar)
    barcodes: Mapping[int, str] = field(default_factory=lambda: MappingProxyType(dict(BARCODE_NAMES)))

    def answers_to(self, request: str) -> bool:
        """Whether this firmware replies to ``request`` (one of :data:`STATUS_REQUESTS`)."""
        return request in self.answers

    def cut_mode(self, key: str, asked: str) -> str:
        """What a cut command does (``key`` from :data:`CUT_KEYS`); ``asked`` when unlisted."""
        return self.cuts.get(key, asked)

    def printer_id(self, n: int) -> bytes | None:
        """The ``GS I n`` reply, None when there is none: n = 1-3 / 49-51 one byte (model, type,
        ROM version); 65-69 ``5F`` + ASCII + ``00`` (firmware, maker, name, serial, fonts), the
        form of print801 FW ``Command_1D49``."""
        one = {1: "model", 2: "type", 3: "rom", 49: "model", 50: "type", 51: "rom"}
        text = {65: "firmware", 66: "maker", 67: "name", 68: "serial", 69: "fonts"}
        if n in one and one[n] in self.ids:
            return bytes([int(self.ids[one[n]]) & 0xFF])
        if n in text and text[n] in self.ids:
            return b"\x5f" + str(self.ids[text[n]]).encode("ascii", "replace") + b"\x00"
        return None


def builtin_firmware() -> list[str]:
    """Names of the firmware variants shipped with escpos809."""
    folder = resources.files("escpos809.profiles").joinpath("firmware")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def _codepages(cps: Mapping[str, Any], origin: str) -> dict[int, str]:
    base = cps.get("base", "xprinter")
    if base not in _BASES:
        raise ProfileError(f"firmware {origin}: codepages.base must be one of {sorted(_BASES)}")
    table = dict(_BASES[base])
    for key, codec in dict(cps.get("table", {})).items():
        try:
            "a".encode(codec)
            table[int(key)] = codec
        except (LookupError, ValueError):
            raise ProfileError(f"firmware {origin}: bad code page entry {key} = {codec!r}") from None
    for n in cps.get("absent", []):
        table.pop(int(n), None)
    return table


def firmware_from_dict(data: Mapping[str, Any], origin: str = "<dict>") -> Firmware:
    """Build a :class:`Firmware` from parsed TOML, checking every value."""
    try:
        cps = data.get("codepages", {})
        qr = tuple(data.get("qr", {}).get("forms", QR_FORMS))
        answers = tuple(data.get("status", {}).get("answers", STATUS_REQUESTS))
        cuts = {**Firmware().cuts, **data.get("cut", {})}
        fw = Firmware(
            id=str(data["firmware"]["id"]),
            description=str(data["firmware"].get("description", "")),
            codepages=MappingProxyType(_codepages(cps, origin)),
            chinese_at_power_on=bool(cps.get("chinese_at_power_on", True)),
            qr_forms=frozenset(qr),
            max_band_rows=int(data.get("raster", {}).get("max_band_rows", 2303)),
            answers=frozenset(answers),
            cuts=MappingProxyType(cuts),
            ids=MappingProxyType(dict(data.get("ids", {}))),
            barcodes=MappingProxyType(
                {**BARCODE_NAMES, **(EPSON_GS1 if data.get("barcodes", {}).get("gs1_databar") else {})}
            ),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ProfileError(f"firmware {origin}: missing or invalid entry {exc}") from None
    if bad := set(qr) - set(QR_FORMS):
        raise ProfileError(f"firmware {origin}: unknown QR forms {sorted(bad)}; known: {QR_FORMS}")
    if bad := set(answers) - set(STATUS_REQUESTS):
        raise ProfileError(f"firmware {origin}: unknown status requests {sorted(bad)}; known: {STATUS_REQUESTS}")
    if bad_cuts := {k: v for k, v in cuts.items() if k not in CUT_KEYS or v not in CUT_MODES}:
        raise ProfileError(f"firmware {origin}: bad cut entries {bad_cuts}; keys {CUT_KEYS}, values {CUT_MODES}")
    if not 1 <= fw.max_band_rows <= 2303:
        raise ProfileError(f"firmware {origin}: raster.max_band_rows must be 1-2303")
    return fw


def load_firmware(name: str | None = None) -> Firmware:
    """A built-in firmware variant by name (default ``default``)."""
    name = name or DEFAULT_FIRMWARE
    if name not in builtin_firmware():
        raise ProfileError(f"no firmware variant {name!r}; built-in: {', '.join(builtin_firmware())}")
    text = resources.files("escpos809.profiles").joinpath("firmware").joinpath(f"{name}.toml").read_text("utf-8")
    try:
        return firmware_from_dict(tomllib.loads(text), name)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"firmware {name}: {exc}") from None
