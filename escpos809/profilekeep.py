"""Built-in profiles kept as :mod:`marshal` files beside them (``profiles/__pycache__``, like
a ``.pyc``): the CUPS filter starts once per job and loads its profile without a TOML parser.

A kept file is trusted only when it is what this code wrote: a regular file of profile size,
stamped with this module's and :mod:`.profile`'s files and the TOML files it was made from
(another version of either, or an edited TOML, makes it stale), of the shape :func:`_fields`
gives, and passing the profile checks. Anything else is ignored and the TOML parsed.
"""

from __future__ import annotations

import marshal
import os
import stat
import sys

from . import profile as _profile
from .profile import MAX_PROFILE_BYTES, Font, Profile, UsbId, _builtin_path, _check

#: the code that gives a kept file its meaning: the profile record and this module's layout
_CODE = [_profile.__file__, __file__]

CACHE_FORMAT = 1


def _cache_path(name: str) -> str:
    return os.path.join(_profile.BUILTIN_DIR, "__pycache__", f"{name}.{sys.implementation.cache_tag}.profile")


def _stamp(files: list[str]) -> tuple:
    return tuple((f, os.stat(f).st_mtime_ns, os.stat(f).st_size) for f in files)


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


def cached(name: str) -> Profile | None:
    """The built-in profile ``name`` from its marshal file, if that is current: kept for these
    TOML files by this code, of the shape this version writes, and still valid."""
    try:
        # O_NONBLOCK: a FIFO put where the file goes must not hold up the CUPS job
        fd = os.open(_cache_path(name), os.O_RDONLY | os.O_NONBLOCK)
        with open(fd, "rb") as f:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_PROFILE_BYTES:  # a kept profile is small
                return None
            form, stamp, fields = marshal.load(f)
        files = [s[0] for s in stamp]
        if form == CACHE_FORMAT and files[:3] == [*_CODE, _builtin_path(name)] and _stamp(files) == stamp:
            if _well_formed(fields):
                profile = _from_fields(fields)
                _check(profile, name)
                return profile
    except Exception:  # noqa: BLE001 - whatever is wrong with the kept file, the TOML is parsed
        pass
    return None


def store(name: str, profile: Profile, files: list[str]) -> None:
    """Keep the checked profile for the next process; skipped where the package is read-only."""
    path = _cache_path(name)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        data = marshal.dumps((CACHE_FORMAT, _stamp([*_CODE, *files]), _fields(profile)))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        # a new file only: never through a link or into a FIFO someone left at this name
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644), "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except (OSError, ValueError):  # read-only install, or a value marshal cannot store
        try:
            os.unlink(tmp)
        except OSError:
            pass
