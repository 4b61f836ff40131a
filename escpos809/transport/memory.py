"""In-memory transport: collects what is sent, answers from a responder. For tests and dry runs."""

from __future__ import annotations

from collections.abc import Callable

from .base import Transport

Responder = Callable[[bytes], bytes]


class MemoryTransport(Transport):
    """Keeps every byte written in ``written``. ``responder(chunk) -> reply`` (optional) models a
    printer's answers; without one the transport stays silent, like a printer that never answers."""

    scheme = "memory"

    def __init__(self, name: str = "", responder: Responder | None = None, **kw):
        super().__init__(**kw)
        self.name = name
        self.responder = responder
        self.written = bytearray()
        self._inbox = bytearray()

    @property
    def uri(self) -> str:
        return f"memory://{self.name}"

    def feed(self, data: bytes) -> None:
        """Queue bytes for the next read (as if the printer had sent them)."""
        self._inbox += data

    def _open(self) -> None:
        pass

    def _write(self, chunk: memoryview) -> None:
        data = bytes(chunk)
        self.written += data
        if self.responder:
            self._inbox += self.responder(data)

    def _read(self, size: int, timeout: float) -> bytes:
        out = bytes(self._inbox[:size])
        del self._inbox[:size]
        return out

    def _close(self) -> None:
        pass
