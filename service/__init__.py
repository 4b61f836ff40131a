"""The escpos809 HTTP print service: durable job queue, one worker per printer, status page,
zeroconf. ``create_app(config)`` builds the WSGI app; ``escpos809 serve`` runs it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> object:  # create_app is imported when first asked for (Flask is an extra)
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(name)
