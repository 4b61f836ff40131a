"""The virtual OCPP-809: the interpreter (bytes → paper operations) and the printer around it
(server: ports and power; mechanism: receive buffer and print speed; recorder: the paper on
disk as it is printed — its on-disk contract is in :mod:`.recorder`). The paper itself (the
operations and their drawing) is :mod:`escpos809.paper`, shared with the preview.

A leaf: it imports the core, nothing in the core imports it. The ``virtual://name`` printer URI
names :func:`open_virtual` in :data:`escpos809.transport.uri.LAZY_SCHEMES`: the first use in a
process starts a virtual printer on 127.0.0.1 whose paper goes to
``$ESCPOS809_PAPER_DIR/<name>`` (default ``~/.cache/escpos809/paper/<name>``).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult

from ..transport.tcp import TcpTransport
from ..transport.uri import query_options
from .recorder import Job
from .server import VirtualPrinter

__all__ = ["VirtualPrinter", "VirtualTransport", "Job", "virtual_printer", "paper_dir", "open_virtual"]

_running: dict[str, VirtualPrinter] = {}
_lock = threading.Lock()


def paper_dir(name: str = "default") -> Path:
    """Where the virtual printer ``name`` puts its paper (``$ESCPOS809_PAPER_DIR`` or the cache)."""
    base = (
        os.environ.get("ESCPOS809_PAPER_DIR")
        or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "escpos809" / "paper"
    )
    return Path(base) / name


def virtual_printer(name: str = "default", **kw: Any) -> VirtualPrinter:
    """The in-process virtual printer called ``name``, started on first use."""
    with _lock:
        if name not in _running:
            _running[name] = VirtualPrinter(kw.pop("out_dir", paper_dir(name)), **kw).start()
        return _running[name]


class VirtualTransport(TcpTransport):
    """TCP to an in-process virtual printer; closing waits until the job is on paper."""

    scheme = "virtual"

    def __init__(self, name: str, printer: VirtualPrinter, **kw: Any):
        super().__init__(printer._bound_host(), printer.port, **kw)
        self.name, self.printer = name, printer
        self.last_job: Job | None = None

    @property
    def uri(self) -> str:
        return f"virtual://{self.name}"

    def _open(self) -> None:
        super()._open()
        assert self._sock is not None  # TcpTransport._open connected it or raised
        host, port = self._sock.getsockname()[:2]
        self._source = f"tcp {host}:{port}"

    def _close(self) -> None:
        super()._close()
        # a paused printer (paper out, cover open) keeps the job until it is fixed: don't wait for it
        self.last_job = self.printer.wait_job(self._source, timeout=0.5 if self.printer.interp.paused else 30)


def open_virtual(uri: str, parts: SplitResult, **kw: Any) -> VirtualTransport:
    """The transport for ``virtual://name`` (the factory :mod:`escpos809.transport.uri` names)."""
    name = parts.netloc or "default"
    return VirtualTransport(name, virtual_printer(name), **{**kw, **query_options(uri, parts.query, {})})
