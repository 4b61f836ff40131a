"""Transports behind one URI form; see :func:`open_transport`."""

from .base import Transport
from .uri import open_transport

__all__ = ["Transport", "open_transport"]
