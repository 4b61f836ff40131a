"""Built-in profiles kept as :mod:`marshal` files beside them (``profiles/__pycache__``, like
a ``.pyc``): the CUPS filter starts once per job and loads its profile without a TOML parser.

This module stores and finds plain values; :mod:`.profile` turns a profile into them and back
(and checks what it reads back). A kept file is trusted only when it is what this code wrote: a
regular file of profile size, stamped with this module's and ``profile.py``'s files and the TOML
files it was made from (another version of either, or an edited TOML, makes it stale). Anything
else is ignored and the TOML parsed.
"""

from __future__ import annotations

import marshal
import os
import stat
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
#: the code that gives a kept file its meaning: the profile record and this module's layout
_CODE = [os.path.join(_HERE, "profile.py"), os.path.join(_HERE, "profilekeep.py")]

CACHE_FORMAT = 1
#: a kept profile is a few kilobytes: a larger file is not one of ours (and is not read)
MAX_KEPT_BYTES = 1024**2


def _cache_path(builtin_dir: str, name: str) -> str:
    return os.path.join(builtin_dir, "__pycache__", f"{name}.{sys.implementation.cache_tag}.profile")


def _stamp(files: list[str]) -> tuple:
    return tuple((f, os.stat(f).st_mtime_ns, os.stat(f).st_size) for f in files)


def read(name: str, builtin_dir: str) -> object | None:
    """The values kept for the built-in profile ``name`` (in ``builtin_dir``), if they are
    current: kept by this code for these TOML files. The caller checks their shape."""
    try:
        # O_NONBLOCK: a FIFO put where the file goes must not hold up the CUPS job
        fd = os.open(_cache_path(builtin_dir, name), os.O_RDONLY | os.O_NONBLOCK)
        with open(fd, "rb") as f:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_KEPT_BYTES:
                return None
            form, stamp, fields = marshal.load(f)
        files = [s[0] for s in stamp]
        toml = os.path.join(builtin_dir, f"{name}.toml")
        if form == CACHE_FORMAT and files[:3] == [*_CODE, toml] and _stamp(files) == stamp:
            return fields
    except Exception:  # noqa: BLE001 - whatever is wrong with the kept file, the TOML is parsed
        pass
    return None


def keep(name: str, builtin_dir: str, fields: tuple, files: list[str]) -> None:
    """Keep a checked profile's values for the next process; skipped where the package is read-only."""
    path = _cache_path(builtin_dir, name)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        data = marshal.dumps((CACHE_FORMAT, _stamp([*_CODE, *files]), fields))
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
