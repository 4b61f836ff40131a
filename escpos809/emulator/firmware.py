"""Firmware variants of the virtual printer, as data: ``escpos809/profiles/firmware/*.toml``.

The clones sold as OCPP-809 differ in what their ROM does (``ESC t`` numbering, Chinese mode
at power-on, native QR, band height, which status requests answer, cut forms, ``GS I`` ids).
A :class:`Firmware` says what one of them does; the interpreter's handlers consult it. The
host's model profile never changes it: the printer does what its ROM does.
"""

from __future__ import annotations

import codecs
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


#: every table and key a firmware file may have, with the TOML type of its value
_KEYS: dict[str, dict[str, type]] = {
    "firmware": {"id": str, "description": str},
    "codepages": {"base": str, "chinese_at_power_on": bool, "table": dict, "absent": list},
    "qr": {"forms": list},
    "barcodes": {"gs1_databar": bool},
    "raster": {"max_band_rows": int},
    "status": {"answers": list},
    "cut": dict.fromkeys(CUT_KEYS, str),
    "ids": {
        "model": int,
        "type": int,
        "rom": int,
        **dict.fromkeys(("firmware", "maker", "name", "serial", "fonts"), str),
    },
}
_TYPE_NAMES = {str: "a string", bool: "true or false", int: "an integer", dict: "a table", list: "an array"}
#: longest GS I text: the reply is 5F + text + 00 (print801's are under 20 characters)
MAX_ID_TEXT = 64


class _Bad(Exception):
    """A firmware file's entry is wrong: which one (``table.key``) and why."""

    def __init__(self, key: str, why: str):
        super().__init__(f"{key}: {why}")


def _tables(data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The file's tables, every key known and every value of its type (a typo is no default)."""
    if unknown := sorted(set(data) - _KEYS.keys()):
        raise _Bad(unknown[0], f"unknown table; known: {', '.join(_KEYS)}")
    out: dict[str, dict[str, Any]] = {}
    for table, keys in _KEYS.items():
        entries = data.get(table, {})
        if not isinstance(entries, dict):
            raise _Bad(table, "must be a table")
        for key, value in entries.items():
            if key not in keys:
                raise _Bad(f"{table}.{key}", f"unknown key; known: {', '.join(keys)}")
            if type(value) is not keys[key]:  # type(): true is no integer, 1 no boolean
                raise _Bad(f"{table}.{key}", f"must be {_TYPE_NAMES[keys[key]]}, not {value!r:.40}")
        out[table] = entries
    if "id" not in out["firmware"]:
        raise _Bad("firmware.id", "missing")
    return out


def _strings(key: str, values: list[Any], known: tuple[str, ...]) -> frozenset[str]:
    if bad := [v for v in values if v not in known]:
        raise _Bad(key, f"unknown {bad[0]!r:.40}; known: {', '.join(known)}")
    return frozenset(values)


def _page(key: str, n: Any) -> int:
    """An ``ESC t`` number, from a table key (text) or an array (integer)."""
    page = int(n) if isinstance(n, str) and n.isdigit() else n
    if type(page) is not int or not 0 <= page <= 255:
        raise _Bad(key, f"{n!r:.40} is no ESC t page number (0-255)")
    return page


def _single_byte(codec: str) -> bool:
    """Whether ``codec`` reads each byte as one character, as the interpreter does."""
    try:
        if not codecs.lookup(codec)._is_text_encoding:
            return False
        whole = bytes(range(256)).decode(codec, "replace")
    except (LookupError, UnicodeError):
        return False
    alone = "".join(bytes([b]).decode(codec, "replace") for b in range(256))
    return len(whole) == 256 and whole == alone and len(b"\xc3\xa9".decode(codec, "replace")) == 2


def _codepages(cps: Mapping[str, Any]) -> dict[int, str]:
    base = cps.get("base", "xprinter")
    if base not in _BASES:
        raise _Bad("codepages.base", f"must be one of {', '.join(_BASES)}")
    table = dict(_BASES[base])
    for key, codec in cps.get("table", {}).items():
        if not isinstance(codec, str) or not _single_byte(codec):
            raise _Bad(f"codepages.table.{key}", f"{codec!r:.40} is no single-byte code page Python knows")
        table[_page(f"codepages.table.{key}", key)] = codec
    for n in cps.get("absent", []):
        table.pop(_page("codepages.absent", n), None)
    return table


def _cuts(cuts: Mapping[str, str]) -> dict[str, str]:
    for key, mode in cuts.items():
        _strings(f"cut.{key}", [mode], CUT_MODES)
    return dict(cuts)


def _ids(ids: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in ids.items():
        if isinstance(value, int) and not 0 <= value <= 255:
            raise _Bad(f"ids.{key}", f"{value} is not one byte (0-255)")
        if isinstance(value, str) and not (len(value) <= MAX_ID_TEXT and value.isascii() and value.isprintable()):
            raise _Bad(f"ids.{key}", f"must be printable ASCII of at most {MAX_ID_TEXT} characters (no NUL)")
    return dict(ids)


def firmware_from_dict(data: Mapping[str, Any], origin: str = "<dict>") -> Firmware:
    """Build a :class:`Firmware` from parsed TOML, checking every table, key and value; the
    :class:`ProfileError` names the entry (``table.key``)."""
    try:
        t = _tables(data)
        band = t["raster"].get("max_band_rows", 2303)
        if not 1 <= band <= 2303:
            raise _Bad("raster.max_band_rows", "must be 1-2303")
        return Firmware(
            id=t["firmware"]["id"],
            description=t["firmware"].get("description", ""),
            codepages=MappingProxyType(_codepages(t["codepages"])),
            chinese_at_power_on=t["codepages"].get("chinese_at_power_on", True),
            qr_forms=_strings("qr.forms", t["qr"].get("forms", list(QR_FORMS)), QR_FORMS),
            max_band_rows=band,
            answers=_strings("status.answers", t["status"].get("answers", list(STATUS_REQUESTS)), STATUS_REQUESTS),
            cuts=MappingProxyType({**Firmware().cuts, **_cuts(t["cut"])}),
            ids=MappingProxyType(_ids(t["ids"])),
            barcodes=MappingProxyType({**BARCODE_NAMES, **(EPSON_GS1 if t["barcodes"].get("gs1_databar") else {})}),
        )
    except _Bad as exc:
        raise ProfileError(f"firmware {origin}: {exc}") from None


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
