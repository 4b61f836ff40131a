"""Raw TCP (port 9100) transport, IPv4 or IPv6, with connect/write/read timeouts."""

from __future__ import annotations

import socket
import sys

from ..errors import PrinterNotFound, PrinterOffline, PrinterTimeout
from .base import Transport

DEFAULT_PORT = 9100
#: what a printer may still send once the host has half-closed, beyond one byte per byte it was
#: sent (stray status replies, pushes; every DLE EOT found inside image data is answered): a
#: peer sending more is flooding, and reading it to its end would never end
CLOSE_DRAIN_BYTES = 64 * 1024


class TcpTransport(Transport):
    scheme = "tcp"

    def __init__(self, host: str, port: int = DEFAULT_PORT, **kw):
        super().__init__(**kw)
        self.host, self.port = host, int(port)
        self._sock: socket.socket | None = None

    @property
    def uri(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"tcp://{host}:{self.port}"

    def _open(self) -> None:
        # an ASCII name or address goes to the resolver as bytes: as str, socket encodes it with
        # the "idna" codec first, whose import (unicodedata, stringprep) cost the CUPS backend,
        # a new process per job, ~6 ms, and which raises UnicodeError, not OSError, on "a..b"
        host = self.host.encode("ascii") if self.host.isascii() else self.host
        try:
            self._sock = socket.create_connection((host, self.port), timeout=self.connect_timeout)  # type: ignore[arg-type]
        except socket.gaierror as exc:
            raise PrinterNotFound(f"{self.uri}: cannot resolve host {self.host!r} ({exc.strerror})") from None
        except UnicodeError as exc:  # a non-ASCII name IDNA cannot encode
            raise PrinterNotFound(f"{self.uri}: {self.host!r} is not a valid host name ({exc})") from None
        except ConnectionRefusedError:
            raise PrinterNotFound(f"{self.uri}: connection refused (nothing listening on port {self.port})") from None
        except TimeoutError:
            raise PrinterTimeout(
                f"{self.uri}: no answer to connect within {self.connect_timeout:g} s "
                "(printer off, wrong address, or another job holds the port)"
            ) from None
        except OSError as exc:
            raise PrinterOffline(f"{self.uri}: cannot connect ({exc.strerror or exc})") from None
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _write(self, chunk: memoryview) -> None:
        assert self._sock is not None
        self._sock.settimeout(self.write_timeout)
        try:
            self._sock.sendall(chunk)
        except TimeoutError:
            self.close()
            raise PrinterTimeout(
                f"{self.uri}: printer stopped accepting data for {self.write_timeout:g} s "
                f"after {self.bytes_written} bytes (busy, paper out or cover open?)"
            ) from None
        except OSError as exc:
            self.close()
            raise PrinterOffline(
                f"{self.uri}: connection lost after {self.bytes_written} bytes ({exc.strerror or exc})"
            ) from None

    def unsent(self) -> int | None:
        """Bytes in the socket's send queue the printer has not acknowledged (Linux
        ``SIOCOUTQ``); None where that cannot be asked."""
        if self._sock is None:
            return None
        try:
            import fcntl
            import termios

            return int.from_bytes(fcntl.ioctl(self._sock.fileno(), termios.TIOCOUTQ, bytes(4)), sys.byteorder)
        except (ImportError, AttributeError, OSError):  # not Linux, or the socket is gone
            return None

    def _read(self, size: int, timeout: float) -> bytes:
        assert self._sock is not None
        self._sock.settimeout(timeout)
        try:
            data = self._sock.recv(size)
        except TimeoutError:
            return b""
        except OSError as exc:
            self.close()
            raise PrinterOffline(f"{self.uri}: connection lost while reading ({exc.strerror or exc})") from None
        if not data:
            self.close()
            raise PrinterOffline(f"{self.uri}: printer closed the connection")
        return data

    def _close(self) -> None:
        if self._sock is None:
            return
        try:
            # Half-close and read to the printer's end: closing a socket with unread bytes in it
            # (a stray status reply, a DLE EOT the printer found inside image data) sends RST,
            # and the printer throws away whatever it had not read yet: the end of the job.
            # A printer closes its side once it has read everything; one that stays silent and
            # open this long is left behind (3 s of silence at most, or the write timeout); one
            # that keeps sending (a flood) is left once it has sent more than it could have been
            # asked for: a reply per byte sent, plus CLOSE_DRAIN_BYTES.
            self._sock.shutdown(socket.SHUT_WR)
            self._sock.settimeout(min(self.write_timeout, 3.0))
            left = CLOSE_DRAIN_BYTES + self.bytes_written
            while left > 0 and (chunk := self._sock.recv(4096)):
                left -= len(chunk)
        except OSError:
            pass
        finally:
            self._sock.close()
            self._sock = None
