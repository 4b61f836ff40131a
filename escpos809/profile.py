"""Model profiles: the only place model facts enter the code.

A profile is a TOML file (see ``profiles/ocpp-809.toml``). A user profile may say
``extends = "ocpp-809"`` and give only what differs; tables are merged key by key.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from .errors import ProfileError

DEFAULT_PROFILE = "ocpp-809"

_QR_FORMS = ("epson", "legacy")


@dataclass(frozen=True)
class Font:
    name: str
    width: int
    height: int


@dataclass(frozen=True)
class UsbId:
    vid: int
    pid: int
    name: str = ""
    out_ep: int | None = None
    in_ep: int | None = None


@dataclass(frozen=True)
class Profile:
    """Facts about one printer model, loaded from TOML."""

    id: str
    name: str
    width_dots: int
    dpi: int
    speed_mm_s: int
    fonts: Mapping[str, Font]
    band_rows: int
    max_bytes_per_row: int
    codepages: Mapping[int, str]
    preferred_codepages: tuple[int, ...]
    chinese_codec: str
    commands: Mapping[str, Any]
    transport: Mapping[str, Any]
    network: Mapping[str, Any]
    usb_ids: tuple[UsbId, ...] = field(default=())

    def columns(self, font: str = "A", width_multiplier: int = 1) -> int:
        """Characters per line for a font at a width multiplier (48 / 64 at 576 dots)."""
        return self.width_dots // (self.fonts[font].width * width_multiplier)

    @property
    def font_cells(self) -> dict[str, tuple[int, int]]:
        """Font name → (cell width, cell height) in dots, as the emulator and preview use them."""
        return {k: (f.width, f.height) for k, f in self.fonts.items()}

    @property
    def qr_form(self) -> str:
        return self.commands.get("qr", "epson")

    def usb_id(self, vid: int, pid: int) -> UsbId | None:
        return next((u for u in self.usb_ids if (u.vid, u.pid) == (vid, pid)), None)


def _merge(base: dict, over: Mapping) -> dict:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _read_toml(text: str, origin: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"profile {origin}: {exc}") from None


def _builtin_text(name: str) -> str:
    try:
        return resources.files("escpos809.profiles").joinpath(f"{name}.toml").read_text("utf-8")
    except FileNotFoundError:
        raise ProfileError(f"no built-in profile {name!r}; built-in: {', '.join(builtin_profiles())}") from None


def builtin_profiles() -> list[str]:
    return sorted(p.name[:-5] for p in resources.files("escpos809.profiles").iterdir() if p.name.endswith(".toml"))


def _raw(source: str, depth: int = 0) -> dict:
    if depth > 4:
        raise ProfileError(f"profile {source}: 'extends' chain too deep")
    path = Path(source)
    if source.endswith(".toml") or path.is_file():
        try:
            data = _read_toml(path.read_text("utf-8"), str(path))
        except OSError as exc:
            raise ProfileError(f"cannot read profile {path}: {exc.strerror}") from None
    else:
        data = _read_toml(_builtin_text(source), source)
    parent = data.pop("extends", None)
    if parent:
        data = _merge(_raw(parent, depth + 1), data)
    return data


def _int_keys(table: Mapping, origin: str) -> dict[int, str]:
    out = {}
    for key, codec in table.items():
        try:
            n = int(key)
        except ValueError:
            raise ProfileError(f"profile {origin}: code page key {key!r} is not a number") from None
        if not 0 <= n <= 255:
            raise ProfileError(f"profile {origin}: code page {n} outside ESC t range 0-255")
        try:
            "a".encode(codec)
        except LookupError:
            raise ProfileError(f"profile {origin}: unknown codec {codec!r} for ESC t {n}") from None
        out[n] = codec
    return out


def profile_from_dict(data: Mapping, origin: str = "<dict>") -> Profile:
    """Build a :class:`Profile` from parsed TOML, checking what later code relies on."""
    try:
        paper, raster, cps = data["paper"], data["raster"], data["codepages"]
        fonts = {k: Font(k, int(v["width"]), int(v["height"])) for k, v in data["fonts"].items()}
        codepages = _int_keys(cps["table"], origin)
        preferred = tuple(int(n) for n in cps.get("preferred", sorted(codepages)))
        profile = Profile(
            id=data["model"]["id"],
            name=data["model"].get("name", data["model"]["id"]),
            width_dots=int(paper["width_dots"]),
            dpi=int(paper.get("dpi", 203)),
            speed_mm_s=int(paper.get("speed_mm_s", 0)),
            fonts=fonts,
            band_rows=int(raster["band_rows"]),
            max_bytes_per_row=int(raster.get("max_bytes_per_row", 256)),
            codepages=codepages,
            preferred_codepages=preferred,
            chinese_codec=cps.get("chinese_codec", "gb18030"),
            commands=dict(data.get("commands", {})),
            transport=dict(data.get("transport", {})),
            network=dict(data.get("network", {})),
            usb_ids=tuple(UsbId(**u) for u in data.get("usb", [])),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ProfileError(f"profile {origin}: missing or invalid entry {exc}") from None
    if unknown := [n for n in preferred if n not in codepages]:
        raise ProfileError(f"profile {origin}: preferred code pages {unknown} not in the table")
    if {"A", "B"} - fonts.keys():
        raise ProfileError(f"profile {origin}: fonts A and B are required")
    if not 1 <= profile.band_rows <= 2303:
        raise ProfileError(f"profile {origin}: raster band_rows must be 1-2303")
    if profile.width_dots % 8 or not 8 <= profile.width_dots <= 8 * profile.max_bytes_per_row:
        raise ProfileError(f"profile {origin}: width_dots must be a multiple of 8 within the raster limit")
    if profile.commands.get("confirm", "gs-r") not in ("gs-r", "none"):
        raise ProfileError(f"profile {origin}: commands.confirm must be gs-r or none")
    if profile.qr_form not in _QR_FORMS:
        raise ProfileError(f"profile {origin}: commands.qr must be one of {_QR_FORMS}")
    return profile


_cache: dict[str, Profile] = {}


def load_profile(source: str | Path | None = None) -> Profile:
    """Load a built-in profile by name (default ``ocpp-809``) or a user's TOML file by path."""
    key = str(source or DEFAULT_PROFILE)
    if key not in _cache:
        _cache[key] = profile_from_dict(_raw(key), key)
    return _cache[key]
