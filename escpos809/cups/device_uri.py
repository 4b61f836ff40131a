"""Which printer URIs a CUPS queue may name: the transports an administrator means by a
receipt printer, and nothing that turns the backend (running as ``lp``) into a file writer.

- ``tcp://host[:port]`` and ``usb://VID:PID``: as the library takes them.
- ``lp:///dev/…`` and ``serial:///dev/…``: a path under ``/dev`` (after ``..`` and symlinks)
  that is a character device when it exists (an unplugged printer's node may be missing: the
  job waits), reached through no world-writable directory such as ``/dev/shm``.
- Not ``virtual://`` or ``memory://``: they print nowhere a person sees it (the virtual
  printer would write picture files as ``lp`` wherever its paper directory points); test a
  queue with the virtual printer over ``tcp://`` instead, as the project's CUPS tests do.
"""

from __future__ import annotations

import os
import stat

from ..errors import InvalidURI
from ..transport.uri import split_uri

ALLOWED = ("tcp", "serial", "usb", "lp")
_EXAMPLES = "tcp://192.168.1.50:9100, usb://0483:5743, serial:///dev/ttyUSB0 or lp:///dev/usb/lp0"


def check_printer_uri(uri: str) -> str:
    """Return ``uri`` if a CUPS queue may print to it; else :class:`InvalidURI` says why."""
    if not isinstance(uri, str) or "://" not in uri:
        raise InvalidURI(f"{uri!r} is not a printer URI; a CUPS queue takes {_EXAMPLES}")
    parts = split_uri(uri)
    scheme = parts.scheme.lower()
    if scheme in ("virtual", "memory"):
        raise InvalidURI(f"{uri}: {scheme}:// prints nowhere a person sees it; a CUPS queue takes {_EXAMPLES}")
    if scheme not in ALLOWED:
        raise InvalidURI(f"{uri}: unknown scheme {scheme!r}; a CUPS queue takes {_EXAMPLES}")
    if scheme in ("lp", "serial"):
        _device(uri, parts.netloc + parts.path if scheme == "serial" and parts.netloc else parts.path)
    return uri


def _device(uri: str, path: str) -> None:
    """A device path the backend may open: under /dev, a character device if it is there."""
    if not path.startswith("/"):
        raise InvalidURI(f"{uri}: the device must be an absolute path under /dev, e.g. /dev/usb/lp0")
    real, plain = os.path.realpath(path), os.path.normpath(path)
    if not plain.startswith("/dev/"):
        raise InvalidURI(f"{uri}: {path} is not under /dev; a CUPS queue writes only to printer devices")
    if not real.startswith("/dev/"):
        raise InvalidURI(f"{uri}: {path} leads to {real}, not to a printer device under /dev")
    walked = "/"
    for part in plain.split("/")[1:-1]:  # directories on the way, as given
        walked = os.path.join(walked, part)
        try:
            mode = os.lstat(walked).st_mode
        except OSError:
            break
        if stat.S_ISDIR(mode) and mode & stat.S_IWOTH:
            raise InvalidURI(f"{uri}: {walked} is world-writable; a printer device is never there")
    try:
        mode = os.stat(real).st_mode
    except OSError:
        return  # not plugged in (or not ours to look at): opening it says so, and the job waits
    if not stat.S_ISCHR(mode):
        raise InvalidURI(f"{uri}: {path} is not a character device (a printer is /dev/usb/lp0, /dev/ttyUSB0, …)")
