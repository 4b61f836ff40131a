"""The small status page: printers, queue, previews, test print and beep. Plain HTML and JS,
served from fixed names (no request path reaches the filesystem)."""

from __future__ import annotations

from importlib import resources

from flask import Blueprint, Response

web = Blueprint("web", __name__)

_FILES = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
    "designer.html": "text/html; charset=utf-8",  # the receipt designer (designer.py)
    "designer.js": "text/javascript; charset=utf-8",
    "designer.css": "text/css; charset=utf-8",
}


def _file(name: str) -> Response:
    body = (resources.files(__package__) / "static" / name).read_bytes()
    return Response(
        body,
        content_type=_FILES[name],
        headers={
            "Cache-Control": "no-cache",
            # frame-ancestors / X-Frame-Options: a page of another origin that frames these
            # (invisibly, over its own bait) would have the user's clicks print
            "Content-Security-Policy": "default-src 'self'; img-src 'self' blob:; style-src 'self'; "
            "frame-ancestors 'none'",
            "X-Frame-Options": "DENY",
            "X-Content-Type-Options": "nosniff",
        },
    )


@web.get("/")
def index() -> Response:
    return _file("index.html")


@web.get("/static/<any('app.js', 'style.css'):name>")
def static(name: str) -> Response:
    return _file(name)
