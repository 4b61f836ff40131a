"""Model profiles: the only place model facts enter the code.

A profile is a TOML file (see ``profiles/ocpp-809.toml``). A user profile may say
``extends = "ocpp-809"`` and give only what differs; tables are merged key by key.

This module is on the path of every CUPS job (the raster filter starts once per job), so it
imports no :mod:`dataclasses`, :mod:`typing` or :mod:`importlib.resources` at run time, and a
built-in profile, once checked, is kept as a :mod:`marshal` file beside it
(``profiles/__pycache__``, like a ``.pyc``; :mod:`.profilekeep`): loading it then needs no TOML
parser.
"""

from __future__ import annotations

import os
import stat
import sys

from .errors import Escpos809Error, ProfileError
from .record import Record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy and ruff know the name)
if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path
    from typing import Any

DEFAULT_PROFILE = "ocpp-809"
BUILTIN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "profiles")

_QR_FORMS = ("epson", "legacy", "image")  # image: no native QR, sent as a GS v 0 raster


def __getattr__(name: str) -> Any:
    if name == "tomllib":  # ``from .profile import tomllib``: the parser, imported when asked for
        return _tomllib()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _tomllib() -> Any:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    return tomllib


class Font(Record):
    __slots__ = ("name", "width", "height")

    name: str
    width: int
    height: int

    def __init__(self, name: str, width: int, height: int):
        super().__init__(name, width, height)


class UsbId(Record):
    __slots__ = ("vid", "pid", "name", "out_ep", "in_ep")

    vid: int
    pid: int
    name: str
    out_ep: int | None
    in_ep: int | None

    def __init__(self, vid: int, pid: int, name: str = "", out_ep: int | None = None, in_ep: int | None = None):
        super().__init__(vid, pid, name, out_ep, in_ep)


class Profile(Record):
    """Facts about one printer model, loaded from TOML."""

    __slots__ = (
        "id",
        "name",
        "width_dots",
        "dpi",
        "speed_mm_s",
        "fonts",
        "band_rows",
        "max_bytes_per_row",
        "codepages",
        "preferred_codepages",
        "chinese_codec",
        "commands",
        "transport",
        "network",
        "usb_ids",
    )
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
    usb_ids: tuple[UsbId, ...]

    def __init__(
        self,
        *,
        id: str,
        name: str,
        width_dots: int,
        dpi: int,
        speed_mm_s: int,
        fonts: Mapping[str, Font],
        band_rows: int,
        max_bytes_per_row: int,
        codepages: Mapping[int, str],
        preferred_codepages: tuple[int, ...],
        chinese_codec: str,
        commands: Mapping[str, Any],
        transport: Mapping[str, Any],
        network: Mapping[str, Any],
        usb_ids: tuple[UsbId, ...] = (),
    ):
        super().__init__(
            id,
            name,
            width_dots,
            dpi,
            speed_mm_s,
            fonts,
            band_rows,
            max_bytes_per_row,
            codepages,
            preferred_codepages,
            chinese_codec,
            commands,
            transport,
            network,
            usb_ids,
        )

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
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _read_toml(text: str, origin: str) -> dict:
    tomllib = _tomllib()
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"profile {origin}: {exc}") from None
    except RecursionError:  # tomllib reads nested arrays and inline tables recursively
        raise ProfileError(f"profile {origin}: nested too deeply") from None


#: a profile is a few kilobytes; a file much larger is not one (and is not read whole)
MAX_PROFILE_BYTES = 1024**2


def read_small_text(path: str, what: str = "profile", error: type[Escpos809Error] = ProfileError) -> str:
    """A small settings file's text (a profile, the configuration): a regular file (a FIFO or a
    device named as one, even by a CUPS job's options, must not hold up or flood the process),
    at most ``MAX_PROFILE_BYTES`` of UTF-8. Failures are ``error`` naming ``what`` and the path."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # OSError: the caller's to word
    with open(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise error(f"{what} {path}: not a regular file")
        data = f.read(MAX_PROFILE_BYTES + 1)
    if len(data) > MAX_PROFILE_BYTES:
        raise error(f"{what} {path}: larger than {MAX_PROFILE_BYTES // 1024} KiB; not a {what}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{what} {path}: not UTF-8 text (byte {exc.start})") from None


def _builtin_path(name: str) -> str:
    return os.path.join(BUILTIN_DIR, f"{name}.toml")


def _is_builtin(name: str) -> bool:
    """A built-in profile's name: a plain name (``../x`` would read, and keep a marshal file,
    outside the package; a CUPS job's options can name a profile)."""
    plain = name.isascii() and name[:1].isalnum() and all(c.isalnum() or c in "-_" for c in name)
    return plain and os.path.isfile(_builtin_path(name))


def builtin_profiles() -> list[str]:
    return sorted(n[:-5] for n in os.listdir(BUILTIN_DIR) if n.endswith(".toml"))


def _raw(source: str, depth: int = 0, files: list[str] | None = None) -> dict:
    """The merged TOML of ``source`` and what it extends; the files read go into ``files``."""
    if depth > 4:
        raise ProfileError(f"profile {source}: 'extends' chain too deep")
    if source.endswith(".toml") or os.path.isfile(source):
        path, origin = source, source
    elif _is_builtin(source):
        path, origin = _builtin_path(source), source
    else:
        raise ProfileError(f"no built-in profile {source!r}; built-in: {', '.join(builtin_profiles())}")
    try:
        data = _read_toml(read_small_text(path), origin)
    except OSError as exc:
        raise ProfileError(f"cannot read profile {path}: {exc.strerror}") from None
    if files is not None:
        files.append(path)
    parent = data.pop("extends", None)
    if parent:
        data = _merge(_raw(parent, depth + 1, files), data)
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
        for n in cps.get("absent", []):  # pages a unit lacks (a child profile cannot unset keys)
            codepages.pop(int(n), None)
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
    _check(profile, origin)
    return profile


def _check(profile: Profile, origin: str) -> None:
    """What later code relies on, beyond the types (also run on a kept profile)."""
    preferred, codepages, fonts = profile.preferred_codepages, profile.codepages, profile.fonts
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


def profile_from_text(text: str, origin: str = "<text>", files: list[str] | None = None) -> Profile:
    """A profile from TOML text (its ``extends`` resolved as for a file): what a file with this
    text would load as. The files its ``extends`` chain read go into ``files``."""
    data = _read_toml(text, origin)
    parent = data.pop("extends", None)
    return profile_from_dict(_merge(_raw(parent, files=files), data) if parent else data, origin)


_cache: dict[str, Profile] = {}


def _load(key: str) -> Profile:
    builtin = not key.endswith(".toml") and not os.path.isfile(key) and _is_builtin(key)
    if builtin:
        from . import profilekeep

        if (kept := _from_kept(profilekeep.read(key, BUILTIN_DIR), key)) is not None:
            return kept
    files: list[str] = []
    profile = profile_from_dict(_raw(key, files=files), key)
    if builtin:
        profilekeep.keep(key, BUILTIN_DIR, _fields(profile), files)
    return profile


def _from_kept(fields: object, name: str) -> Profile | None:
    """The profile from kept values, when they have this version's shape and pass the checks."""
    if fields is None or not _well_formed(fields):
        return None
    try:
        profile = _from_fields(fields)  # type: ignore[arg-type]
        _check(profile, name)
    except Exception:  # noqa: BLE001 - kept values that do not make a valid profile: parse the TOML
        return None
    return profile


# --- kept profiles (profilekeep): a checked profile as plain values and back ---------------


def _fields(p: Profile) -> tuple:
    """The checked profile as plain values (what :mod:`marshal` can store)."""
    return (
        *(getattr(p, k) for k in Profile.__slots__[:5]),
        {k: (f.width, f.height) for k, f in p.fonts.items()},
        p.band_rows,
        p.max_bytes_per_row,
        dict(p.codepages),
        p.preferred_codepages,
        p.chinese_codec,
        dict(p.commands),
        dict(p.transport),
        dict(p.network),
        tuple((u.vid, u.pid, u.name, u.out_ep, u.in_ep) for u in p.usb_ids),
    )


def _from_fields(v: tuple) -> Profile:
    return Profile(
        **dict(zip(Profile.__slots__[:5], v[:5], strict=True)),
        fonts={k: Font(k, w, h) for k, (w, h) in v[5].items()},
        band_rows=v[6],
        max_bytes_per_row=v[7],
        codepages=v[8],
        preferred_codepages=v[9],
        chinese_codec=v[10],
        commands=v[11],
        transport=v[12],
        network=v[13],
        usb_ids=tuple(UsbId(*u) for u in v[14]),
    )


#: the types of :func:`_fields`, in order: a kept file of another shape is not this version's
_FIELD_TYPES = (str, str, int, int, int, dict, int, int, dict, tuple, str, dict, dict, dict, tuple)


def _well_formed(fields: object) -> bool:
    """Whether ``fields`` has the shape :func:`_fields` gives (values checked by :func:`_check`)."""
    return (
        type(fields) is tuple
        and len(fields) == len(_FIELD_TYPES)
        and all(type(v) is t for v, t in zip(fields, _FIELD_TYPES, strict=True))
        and all(type(k) is str and type(w) is int and type(h) is int for k, (w, h) in fields[5].items())
        and all(type(n) is int and type(c) is str for n, c in fields[8].items())
        and all(type(n) is int for n in fields[9])
        and all(type(k) is str for table in fields[11:14] for k in table)
    )


def load_profile(source: str | Path | None = None) -> Profile:
    """Load a built-in profile by name (default ``ocpp-809``) or a user's TOML file by path."""
    key = str(source or DEFAULT_PROFILE)
    if key not in _cache:
        _cache[key] = _load(key)
    return _cache[key]
