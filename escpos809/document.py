"""Receipts as data: the JSON format (schema in ``schema/receipt.schema.json``) and the same
blocks as dataclasses. ``load_document`` validates and reports the JSON path of every error."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .errors import InvalidDocument

if TYPE_CHECKING:
    from jsonschema_rs import Validator as FastValidator

    from .docerrors import Explainer, Found

Align = Literal["left", "center", "right"]


@dataclass(frozen=True)
class Style:
    bold: bool = False
    underline: int = 0
    invert: bool = False
    font: str | None = None  # None: the document's font
    width: int = 1
    height: int = 1


@dataclass(frozen=True)
class Text:
    text: str
    style: Style = Style()
    align: Align = "left"
    wrap: bool = True
    type: str = "text"


@dataclass(frozen=True)
class Column:
    width: float  # characters (int >= 1) or a fraction of the line (0 < w <= 1)
    align: Align = "left"


@dataclass(frozen=True)
class Columns:
    columns: tuple[Column, ...]
    rows: tuple[tuple[str, ...], ...]
    header: tuple[str, ...] | None = None
    gap: int = 1
    style: Style = Style()
    type: str = "columns"


@dataclass(frozen=True)
class Rule:
    char: str = "-"
    style: Style = Style()
    type: str = "rule"


@dataclass(frozen=True)
class KeyValue:
    key: str
    value: str
    style: Style = Style()
    type: str = "kv"


@dataclass(frozen=True)
class ImageBlock:
    data: bytes | None = None  # encoded image file (PNG, JPEG, …)
    path: str | None = None
    width: int | None = None
    dither: str = "floyd-steinberg"
    threshold: int = 128
    align: Align = "center"
    type: str = "image"
    image: Any = field(default=None, compare=False, repr=False)  # a PIL image (Python API only)


@dataclass(frozen=True)
class PdfBlock:
    """Pages of a PDF (``pdf.py`` renders them), each trimmed of blank margins and cut off."""

    data: bytes | None = None  # the PDF file
    path: str | None = None
    pages: str | None = None  # "1-3,5,8-"; None: every page
    scale: int | str = "fit"  # "fit" (the paper's width), "actual" (its own size) or a percentage
    dither: str = "floyd-steinberg"
    threshold: int = 128
    cut: str = "partial"  # after each page: "partial", "full" or "none"
    align: Align = "center"
    type: str = "pdf"


@dataclass(frozen=True)
class QR:
    data: str
    size: int = 6
    ec: str = "M"
    native: bool = True
    align: Align = "center"
    type: str = "qr"


@dataclass(frozen=True)
class Barcode:
    kind: str
    data: str
    height: int = 64
    width: int = 2
    hri: str = "below"
    align: Align = "center"
    type: str = "barcode"


@dataclass(frozen=True)
class Feed:
    lines: int = 1
    dots: int | None = None
    type: str = "feed"


@dataclass(frozen=True)
class Cut:
    mode: str = "partial"
    feed: int | None = None
    type: str = "cut"


@dataclass(frozen=True)
class Beep:
    times: int = 1
    duration: int = 2
    type: str = "beep"


@dataclass(frozen=True)
class Drawer:
    pin: int = 2
    on_ms: int = 100
    off_ms: int = 100
    type: str = "drawer"


@dataclass(frozen=True)
class Raw:
    data: bytes
    type: str = "raw"


Block = Text | Columns | Rule | KeyValue | ImageBlock | PdfBlock | QR | Barcode | Feed | Cut | Beep | Drawer | Raw


@dataclass(frozen=True)
class Document:
    blocks: tuple[Block, ...]
    font: str = "A"
    allow_raw: bool = False
    base: Path | None = field(default=None, compare=False)  # folder for relative image paths


#: Printed above a job that may have printed (in part) before, so the cashier knows the paper
#: may be a copy. Double width and height: receipts print their totals bold, so bold alone
#: would not stand out; the size does, and it still fits one line (30 of font A's 48 columns).
REPRINT_MARK: tuple[Block, ...] = (Text("*** REPRINT ***", Style(bold=True, width=2, height=2), "center"), Feed(1))


def marked_reprint(doc: Document) -> Document:
    """``doc`` with :data:`REPRINT_MARK` above it (the one look of a reprint everywhere)."""
    return replace(doc, blocks=REPRINT_MARK + doc.blocks)


# --- validation ---------------------------------------------------------------------------------
#: the schema's ``blocks`` maxItems (a test checks that they agree)
MAX_BLOCKS = 50_000

_validator = None
_FILE_BLOCKS = ("image", "pdf", "raw")  # one of two sources: path or base64 (raw: hex or base64)
_UNEXPECTED = re.compile(r"'([^']+)'")


def schema() -> dict:
    """The JSON Schema of the receipt format (draft 2020-12)."""
    return json.loads(resources.files("escpos809.schema").joinpath("receipt.schema.json").read_text("utf-8"))


def _json_path(parts: Iterable[object]) -> str:
    return "/".join(str(p) for p in parts)


@lru_cache(maxsize=1)
def _fast_validator() -> FastValidator | None:
    """jsonschema-rs answers "valid?" a thousand times faster than jsonschema; jsonschema then
    explains what is wrong only for the documents that are not (the two agree: tests check)."""
    try:
        import jsonschema_rs
    except ImportError:
        return None
    return jsonschema_rs.validator_for(schema())


@lru_cache(maxsize=1)
def _explainer() -> Explainer | None:
    from .docerrors import Explainer

    return Explainer(schema()) if _fast_validator() is not None else None


def _schema_errors(data: Any) -> list[Found]:
    """The document's errors (:class:`~escpos809.docerrors.Found`), in path order; with
    jsonschema-rs at hand, only those of the first invalid blocks (the cost stays small)."""
    global _validator
    explainer = _explainer()
    if explainer is not None:
        return sorted(explainer.errors(data), key=lambda e: (e.validator == "more", list(map(str, e.path)), e.message))
    from .docerrors import _found

    if _validator is None:
        import jsonschema

        _validator = jsonschema.Draft202012Validator(schema())
    return sorted(map(_found, _validator.iter_errors(data)), key=lambda e: (list(map(str, e.path)), e.message))


def validate(data: Any) -> list[tuple[str, str]]:
    """Every problem with a document as (JSON path, message); empty when it is valid."""
    errors = _schema_errors(data)
    out: list[tuple[str, str]] = []
    paths = {_json_path(e.path) for e in errors}
    for e in errors:
        path = _json_path(e.path)
        if e.validator == "unevaluatedProperties":
            names = [n for n in _UNEXPECTED.findall(e.message)]
            names = [n for n in names if f"{path}/{n}" not in paths]  # already reported as a bad value
            if not names:
                continue
            msg = f"unknown field{'s' if len(names) > 1 else ''} {', '.join(names)}"
        elif e.validator == "oneOf" and isinstance(e.instance, dict) and e.instance.get("type") in _FILE_BLOCKS:
            keys = ("hex", "base64") if e.instance["type"] == "raw" else ("path", "base64")
            msg = f"{e.instance['type']} needs exactly one of {keys[0]!r} or {keys[1]!r}"
        elif e.validator == "if":
            continue
        elif e.validator in ("maxLength", "minLength") and isinstance(e.instance, str):
            bound = "at most" if e.validator == "maxLength" else "at least"
            msg = f"{len(e.instance):,} characters; {bound} {e.validator_value:,} allowed here"
        elif e.validator == "maxItems" and isinstance(e.instance, list):
            msg = f"{len(e.instance):,} items; at most {e.validator_value:,} allowed here"
        else:
            msg = e.message if len(e.message) < 200 else e.message[:200] + "…"
        if (path, msg) not in out:  # a block that is not an object fails each type's "then"
            out.append((path, msg))
    blocks = data.get("blocks") if isinstance(data, dict) else None
    if isinstance(blocks, list) and not data.get("allow_raw") and not any(p == "blocks" for p, _ in out):
        for i, b in enumerate(blocks):
            if isinstance(b, dict) and b.get("type") == "raw":
                out.append((f"blocks/{i}", 'raw blocks need "allow_raw": true in the document'))
    return out


def _style(b: dict) -> Style:
    return Style(**{f.name: b[f.name] for f in fields(Style) if f.name in b})


def _bytes(b: dict, path: str, what: str) -> bytes:
    try:
        if "hex" in b:
            return bytes.fromhex(b["hex"])
        return base64.b64decode(b["base64"], validate=True)
    except (ValueError, binascii.Error) as exc:
        raise InvalidDocument([(f"{path}/{'hex' if 'hex' in b else 'base64'}", f"{what}: {exc}")]) from None


def _block(b: dict, path: str) -> Block:
    # a block's own numbers are all integers in the schema, which passes 6.0 as 6 (JSON Schema
    # does; Python and Go clients send it): the byte builders take ints
    b = {k: int(v) if type(v) is float else v for k, v in b.items()}
    t = b["type"]
    align = b.get("align")
    common = {"align": align} if align else {}
    if t == "text":
        return Text(b["text"], _style(b), wrap=b.get("wrap", True), **common)
    if t == "columns":
        cols = tuple(Column(c["width"], c.get("align", "left")) for c in b["columns"])
        return Columns(
            cols,
            tuple(tuple(r) for r in b["rows"]),
            tuple(b["header"]) if "header" in b else None,
            b.get("gap", 1),
            _style(b),
        )
    if t == "rule":
        return Rule(b.get("char", "-"), _style(b))
    if t == "kv":
        return KeyValue(b["key"], b["value"], _style(b))
    if t == "image":
        data = _bytes(b, path, "not valid base64") if "base64" in b else None
        return ImageBlock(
            data, b.get("path"), b.get("width"), b.get("dither", "floyd-steinberg"), b.get("threshold", 128), **common
        )
    if t == "pdf":
        opts = {k: b[k] for k in ("path", "pages", "scale", "dither", "threshold", "cut") if k in b}
        return PdfBlock(_bytes(b, path, "not valid base64") if "base64" in b else None, **opts, **common)
    if t == "qr":
        return QR(b["data"], b.get("size", 6), b.get("ec", "M"), b.get("native", True), **common)
    if t == "barcode":
        return Barcode(b["kind"], b["data"], b.get("height", 64), b.get("width", 2), b.get("hri", "below"), **common)
    if t == "feed":
        return Feed(b.get("lines", 1 if "dots" not in b else 0), b.get("dots"))
    if t == "cut":
        return Cut(b.get("mode", "partial"), b.get("feed"))
    if t == "beep":
        return Beep(b.get("times", 1), b.get("duration", 2))
    if t == "drawer":
        return Drawer(b.get("pin", 2), b.get("on_ms", 100), b.get("off_ms", 100))
    return Raw(_bytes(b, path, "not valid raw data"))


def from_dict(data: Any, base: Path | None = None) -> Document:
    """Validate a parsed JSON document and build the dataclasses; raises InvalidDocument.
    ``base`` is the folder relative image paths are read from."""
    errors = validate(data)
    if errors:
        raise InvalidDocument(errors)
    blocks = tuple(_block(b, f"blocks/{i}") for i, b in enumerate(data["blocks"]))
    from .doccheck import content_errors

    if errors := content_errors(blocks, base):
        raise InvalidDocument(errors)
    return Document(blocks, data.get("font", "A"), data.get("allow_raw", False), base)


def load_document(source: str | Path | bytes) -> Document:
    """Read a receipt from a JSON file path, or from JSON text/bytes."""
    base = None
    if isinstance(source, Path) or (isinstance(source, str) and not source.lstrip().startswith("{")):
        text = Path(source).read_text("utf-8")
        base = Path(source).resolve().parent
    else:
        text = source.decode("utf-8") if isinstance(source, bytes) else source
    from .safejson import JsonRefused, Limits, loads

    try:  # a local file may carry big images inline: only the size limit is wider
        data = loads(text, Limits(max_bytes=64 << 20))
    except JsonRefused as exc:
        what = "JSON beyond limits" if exc.limit else "not JSON"
        raise InvalidDocument([(exc.path or "", f"{what}: {exc}")]) from None
    return from_dict(data, base)


def to_dict(doc: Document) -> dict:
    """The JSON form of a document (inverse of :func:`from_dict`)."""
    out = []
    for b in doc.blocks:
        d = {k: v for k, v in asdict(b).items() if v is not None}
        style = d.pop("style", None)
        if style:
            d.update({k: v for k, v in style.items() if v != getattr(Style(), k)})
        if isinstance(b, (ImageBlock, PdfBlock, Raw)) and b.data is not None:
            d.pop("data")
            d["base64"] = base64.b64encode(b.data).decode("ascii")
        if isinstance(b, Columns):
            d["columns"] = [asdict(c) for c in b.columns]
            d["rows"] = [list(r) for r in b.rows]
            if b.header is not None:
                d["header"] = list(b.header)
        out.append(d)
    return {"version": 1, "font": doc.font, "allow_raw": doc.allow_raw, "blocks": out}
