"""The receipt designer (``/designer``): a page that edits a receipt document and its template
data, shows the service's own preview as one types, names errors at their JSON paths and
prints to a chosen printer; and the examples it starts from (``/api/v1/examples``): the
project's ``examples/`` (packaged through the ``web/examples`` link) and the demo receipt."""

from __future__ import annotations

import base64
import io
import re
from functools import lru_cache
from importlib import resources

from flask import Blueprint, Response, jsonify

from escpos809.safejson import Limits, loads

from ..problems import Problem
from . import _file

designer = Blueprint("designer", __name__)
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")
#: the examples are the project's own small files; these limits only keep a stray one out
_EXAMPLE_LIMITS = Limits(max_bytes=1 << 20)


@designer.get("/designer")
def page() -> Response:
    return _file("designer.html")


@designer.get("/static/<any('designer.js', 'designer.css'):name>")
def static(name: str) -> Response:
    return _file(name)


def _demo() -> dict:
    """The demo receipt as JSON: its logo (a drawn image) as base64 PNG."""
    from escpos809 import demo
    from escpos809.document import ImageBlock, to_dict

    doc = demo.document()
    out = to_dict(doc)
    for b, d in zip(doc.blocks, out["blocks"], strict=True):
        if isinstance(b, ImageBlock) and b.image is not None:
            png = io.BytesIO()
            b.image.save(png, "PNG")
            d.pop("image", None)
            d["base64"] = base64.b64encode(png.getvalue()).decode()
    return out


@lru_cache(maxsize=1)
def examples() -> dict[str, dict]:
    """name → {"name", "title", "document", "data"?}: each ``NAME.json`` of the examples, with
    ``NAME.data.json`` as its template data, and the demo receipt."""
    found: dict[str, dict] = {
        "demo": {"name": "demo", "title": "Charging receipt (escpos809 demo)", "document": _demo()}
    }
    folder = resources.files(__package__) / "examples"
    if not folder.is_dir():  # installed without the examples: the demo alone
        return found
    for item in sorted(folder.iterdir(), key=lambda f: f.name):
        name = item.name.removesuffix(".json")
        if not item.name.endswith(".json") or name.endswith(".data") or not _NAME.match(name):
            continue
        doc = _inline_images(_read(item), folder)
        entry = {"name": name, "title": name.replace("-", " ").capitalize(), "document": doc}
        data = folder / f"{name}.data.json"
        if data.is_file():
            entry["data"] = _read(data)
        found[name] = entry
    return found


def _inline_images(doc: object, folder) -> object:
    """The example with the images it names by file (beside it) sent inline, as requests must."""
    blocks = doc.get("blocks") if isinstance(doc, dict) else None
    for b in blocks if isinstance(blocks, list) else []:
        path = b.get("path") if isinstance(b, dict) and b.get("type") in ("image", "pdf") else None
        if isinstance(path, str) and _NAME.match(path.rsplit(".", 1)[0]) and (folder / path).is_file():
            del b["path"]
            b["base64"] = base64.b64encode((folder / path).read_bytes()).decode()
    return doc


def _read(item) -> object:  # a Traversable: importlib.resources types it per Python version
    return loads(item.read_bytes(), _EXAMPLE_LIMITS)


@designer.get("/api/v1/examples")
def list_examples() -> Response:
    return jsonify(
        examples=[{"name": e["name"], "title": e["title"], "template": "data" in e} for e in examples().values()]
    )


@designer.get("/api/v1/examples/<name>")
def example(name: str) -> Response:
    found = examples().get(name)
    if found is None:
        raise Problem(404, "Unknown example", f"no example {name[:60]!r}; GET /api/v1/examples lists them")
    return jsonify(found)
