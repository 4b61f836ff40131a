"""The transport contract: open, write in chunks, read with a timeout, drain, close."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod

DEFAULT_WRITE_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 2.0
DEFAULT_CHUNK = 4096


class Transport(ABC):
    """A byte pipe to one printer. Subclasses implement ``_open``, ``_write``, ``_read``, ``_close``.

    ``write_timeout`` bounds each chunk; a printer that stops taking data raises
    :class:`~escpos809.errors.PrinterTimeout` instead of hanging.
    """

    scheme = ""
    can_read = True

    def __init__(
        self,
        *,
        write_timeout: float = DEFAULT_WRITE_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        chunk_bytes: int = DEFAULT_CHUNK,
        connect_timeout: float | None = None,
    ):
        if chunk_bytes < 1:
            raise ValueError("chunk_bytes must be >= 1")
        self.write_timeout = float(write_timeout)
        self.read_timeout = float(read_timeout)
        self.connect_timeout = float(connect_timeout if connect_timeout is not None else write_timeout)
        self.chunk_bytes = int(chunk_bytes)
        self.is_open = False
        self.bytes_written = 0

    @property
    @abstractmethod
    def uri(self) -> str:
        """The URI this transport was made from (for messages)."""

    def open(self) -> Transport:
        if not self.is_open:
            self._open()
            self.is_open = True
        return self

    def close(self) -> None:
        if self.is_open:
            self.is_open = False
            self._close()

    def write(self, data: bytes) -> None:
        """Send all of ``data`` in chunks of ``chunk_bytes``, each bounded by ``write_timeout``."""
        self.open()
        view = memoryview(data)
        for start in range(0, len(view), self.chunk_bytes):
            self._write(view[start : start + self.chunk_bytes])
            self.bytes_written += min(self.chunk_bytes, len(view) - start)

    def unsent(self) -> int | None:
        """Bytes written that the printer has not taken yet, where the link can tell (None:
        it cannot). Behind them, a status question waits its turn."""
        return None

    def read(self, size: int = 1, timeout: float | None = None) -> bytes:
        """Up to ``size`` bytes; ``b""`` when nothing arrives within ``timeout`` seconds."""
        self.open()
        return self._read(size, self.read_timeout if timeout is None else timeout)

    def drain(self, quiet: float = 0.05, limit: float = 1.0) -> bytes:
        """Read and return whatever is pending (stale replies) until ``quiet`` seconds pass
        with nothing new, or ``limit`` seconds in all."""
        if not self.can_read:
            return b""
        got, deadline = bytearray(), time.monotonic() + limit
        while time.monotonic() < deadline:
            chunk = self.read(256, quiet)
            if not chunk:
                break
            got += chunk
        return bytes(got)

    def __enter__(self) -> Transport:
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.uri}>"

    @abstractmethod
    def _open(self) -> None: ...

    @abstractmethod
    def _write(self, chunk: memoryview) -> None: ...

    @abstractmethod
    def _read(self, size: int, timeout: float) -> bytes: ...

    @abstractmethod
    def _close(self) -> None: ...
