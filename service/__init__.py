"""The escpos809 HTTP print service: durable job queue, one worker per printer, status page,
zeroconf. ``create_app(config)`` builds the WSGI app; ``escpos809 serve`` runs it."""

from __future__ import annotations

__all__ = ["create_app"]


def __getattr__(name: str):
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(name)
