"""Character-device transport: Linux usblp (``/dev/usb/lp0``), parallel ports, or a file.

usblp coexists with CUPS and needs no libusb; reads work when the interface speaks
protocol 2 (bidirectional), otherwise the device is write-only and status is unknown.
"""

from __future__ import annotations

import errno
import os
import select

from ..errors import UDEV_HINT, PrinterNotFound, PrinterOffline, PrinterPermissionDenied, PrinterTimeout
from .base import Transport


class LpTransport(Transport):
    scheme = "lp"

    def __init__(self, path: str, **kw):
        super().__init__(**kw)
        self.path = path
        self._fd: int | None = None
        self.can_read = True

    @property
    def uri(self) -> str:
        return f"lp://{self.path}"

    def _open(self) -> None:
        flags = os.O_NOCTTY | os.O_NONBLOCK
        try:
            try:
                self._fd = os.open(self.path, os.O_RDWR | flags)
            except PermissionError:
                self._fd = os.open(self.path, os.O_WRONLY | flags)
                self.can_read = False
        except FileNotFoundError:
            raise PrinterNotFound(
                f"{self.uri}: no such device {self.path} (printer unplugged or usblp not loaded)"
            ) from None
        except PermissionError:
            raise PrinterPermissionDenied(f"{self.uri}: permission denied on {self.path}; {UDEV_HINT}") from None
        except OSError as exc:
            if exc.errno in (errno.ENODEV, errno.ENXIO):
                raise PrinterNotFound(f"{self.uri}: device {self.path} is gone ({exc.strerror})") from None
            if exc.errno == errno.EBUSY:
                raise PrinterOffline(f"{self.uri}: {self.path} is busy (another program has it open)") from None
            raise PrinterOffline(f"{self.uri}: cannot open {self.path} ({exc.strerror})") from None

    def _write(self, chunk: memoryview) -> None:
        fd = self._fd
        assert fd is not None  # write() opens first
        while chunk:
            _, ready, _ = select.select([], [fd], [], self.write_timeout)
            if not ready:
                self.close()
                raise PrinterTimeout(
                    f"{self.uri}: device did not take data for {self.write_timeout:g} s "
                    f"after {self.bytes_written} bytes (paper out or printer off?)"
                )
            try:
                n = os.write(fd, chunk)
            except BlockingIOError:
                continue
            except OSError as exc:
                self.close()
                raise PrinterOffline(
                    f"{self.uri}: write failed after {self.bytes_written} bytes ({exc.strerror})"
                ) from None
            chunk = chunk[n:]

    def _read(self, size: int, timeout: float) -> bytes:
        if not self.can_read:
            return b""
        fd = self._fd
        assert fd is not None  # read() opens first
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            return b""
        try:
            return os.read(fd, size)
        except (BlockingIOError, InterruptedError):
            return b""
        except OSError as exc:
            if exc.errno in (errno.EINVAL, errno.EBADF):  # unidirectional device
                return b""
            raise PrinterOffline(f"{self.uri}: read failed ({exc.strerror})") from None

    def _close(self) -> None:
        if self._fd is not None:
            try:
                os.close(self._fd)
            finally:
                self._fd = None
