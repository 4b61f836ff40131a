"""What a client may submit, turned into ESC/POS bytes at acceptance: a receipt document (with
optional template data), plain text, an image, or raw bytes. Everything is checked here, so a
job that is accepted can always be printed; errors carry the JSON path they refer to."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import repeat

from escpos809 import document as d
from escpos809.errors import InvalidDocument, InvalidInput
from escpos809.escpos import commands
from escpos809.profile import Profile
from escpos809.receipt import render

KINDS = ("receipt", "text", "image", "raw", "pdf")
#: a PDF submission's options: the pdf block's own (receipt.schema.json checks them)
PDF_OPTIONS = ("pages", "scale", "dither", "threshold", "cut")
#: Content types accepted as a whole body, besides application/json.
BODY_KINDS = {
    "text/plain": "text",
    "image/png": "image",
    "image/jpeg": "image",
    "image/gif": "image",
    "image/bmp": "image",
    "application/vnd.escpos": "raw",
    "application/octet-stream": "raw",
    "application/pdf": "pdf",
}


class BadSubmission(InvalidInput):
    """A submission that cannot become a job: ``errors`` lists (JSON path, message)."""

    http_title = "Invalid job"

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{p or '(body)'}: {m}" for p, m in errors))

    @classmethod
    def of(cls, exc: InvalidDocument, prefix: str, where: Callable[[str], str] = lambda p: p) -> BadSubmission:
        """A document's errors with their paths put where the document sits in the body."""
        return cls([(where(prefix + ("/" + p if p else "")), m) for p, m in exc.errors])


@dataclass
class Built:
    kind: str
    payload: dict  # stored for preview/audit (binary parts as base64)
    data: bytes
    warnings: list[str] = field(default_factory=list)


def _b64(value: object, path: str) -> bytes:
    if not isinstance(value, str):
        raise BadSubmission([(path, "must be a base64 string")])
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadSubmission([(path, f"not valid base64: {exc}")]) from None


def _no_paths(doc: dict) -> None:
    """Requests never name files on this machine: images come inline."""
    blocks = doc.get("blocks") if isinstance(doc, dict) else None
    if isinstance(blocks, list):  # beyond MAX_BLOCKS the document is refused anyway: not looked at
        try:  # the usual case, a list of objects without "path", judged at C speed
            if not any(map(dict.__contains__, blocks, repeat("path"))):
                return
        except TypeError:  # a block that is not an object: the schema says so; look one by one
            pass
        bad = [
            (f"/document/blocks/{i}/path", "image paths are not accepted over HTTP; send the image as base64")
            for i, b in enumerate(blocks[: d.MAX_BLOCKS])
            if isinstance(b, dict) and "path" in b
        ]
        if bad:
            raise BadSubmission(bad)


def _document(
    doc: d.Document, profile: Profile, kind: str, payload: dict, prefix: str = "", where: Callable[[str], str] = str
) -> Built:
    try:
        rendered = render(doc, profile)
    except InvalidDocument as exc:
        raise BadSubmission.of(exc, prefix, where) from None
    except ValueError as exc:  # InvalidData, and the builders' range checks
        raise BadSubmission([(prefix, str(exc))]) from None
    warnings = [f"printed as '?': {''.join(sorted(set(rendered.replaced)))}"] if rendered.replaced else []
    return Built(kind, payload, rendered.data, warnings)


def from_json(body: object, profile: Profile) -> Built:
    """A JSON submission: ``{"type": "receipt"|"text"|"image"|"raw", …}``."""
    if not isinstance(body, dict):
        raise BadSubmission([("", "the body must be a JSON object")])
    kind = body.get("type")
    if kind not in KINDS:
        raise BadSubmission([("/type", f"must be one of {', '.join(KINDS)}; got {kind!r}")])
    if kind == "receipt":
        return receipt(body, profile)
    if kind == "text":
        text = body.get("text")
        if not isinstance(text, str):
            raise BadSubmission([("/text", "must be a string")])
        cut = body.get("cut", True)
        if not isinstance(cut, bool):
            raise BadSubmission([("/cut", "must be true or false")])
        return plain_text(text, profile, cut, "/text")
    if kind == "image":  # the options go into the document as sent: its schema checks them
        opts = {k: body[k] for k in ("width", "dither", "threshold") if k in body}
        return image(_b64(body.get("image"), "/image"), profile, **opts)
    if kind == "pdf":
        return pdf(_b64(body.get("pdf"), "/pdf"), profile, **{k: body[k] for k in PDF_OPTIONS if k in body})
    return raw(_b64(body.get("data"), "/data"))


def _from_doc(
    doc: dict, profile: Profile, payload: dict, prefix: str, where: Callable[[str], str] = lambda p: p
) -> Built:
    """Validate and render a document dict; ``payload`` keeps it (under "document") for previews."""
    try:
        parsed = d.from_dict(doc)
    except InvalidDocument as exc:
        raise BadSubmission.of(exc, prefix, where) from None
    return _document(parsed, profile, payload["type"], {**payload, "document": doc}, prefix, where)


def receipt(body: dict, profile: Profile) -> Built:
    doc = body.get("document")
    if not isinstance(doc, dict):
        raise BadSubmission([("/document", "must be a receipt document (a JSON object with blocks)")])
    if "data" in body:
        from escpos809.template import fill

        try:
            doc = fill(doc, body["data"])
        except InvalidDocument as exc:
            raise BadSubmission.of(exc, "/document") from None
    _no_paths(doc)
    return _from_doc(doc, profile, {"type": "receipt"}, "/document")


_CUT = {"type": "cut", "mode": "partial", "feed": 3}


def plain_text(text: str, profile: Profile, cut: bool = True, source: str = "") -> Built:
    """Text as a receipt; its errors name ``source`` (the text's field; "" for a whole body),
    not the block made of it."""
    doc = {"blocks": [{"type": "text", "text": text.replace("\r\n", "\n")}] + ([_CUT] if cut else [])}
    return _from_doc(
        doc,
        profile,
        {"type": "text"},
        "",
        lambda p: source if p in ("/blocks/0", "/blocks/0/text") else p.replace("/blocks/0", source),
    )


def image(
    data: bytes, profile: Profile, width: int | None = None, dither: str = "floyd-steinberg", threshold: int = 128
) -> Built:
    block: dict[str, object] = {
        "type": "image",
        "base64": base64.b64encode(data).decode(),
        "dither": dither,
        "threshold": threshold,
    }
    if width is not None:
        block["width"] = width
    # errors name the submission's fields, not the document made of them
    return _from_doc(
        {"blocks": [block, _CUT]},
        profile,
        {"type": "image"},
        "",
        lambda p: "/image" if p in ("/blocks/0", "/blocks/0/base64") else p.replace("/blocks/0", ""),
    )


def pdf(data: bytes, profile: Profile, source: str = "/pdf", **options: object) -> Built:
    """A PDF's pages, each cut off; ``options`` are the pdf block's (pages, scale, …), and its
    errors name them as fields of the submission (the PDF itself as ``source``)."""
    block = {"type": "pdf", "base64": base64.b64encode(data).decode(), **options}
    return _from_doc(
        {"blocks": [block]},
        profile,
        {"type": "pdf"},
        "",
        lambda p: source if p in ("/blocks/0", "/blocks/0/base64") else p.replace("/blocks/0", ""),
    )


def raw(data: bytes) -> Built:
    if not data:
        raise BadSubmission([("/data", "no bytes to print")])
    return Built("raw", {"type": "raw", "data": base64.b64encode(data).decode()}, data)


def from_body(content_type: str, body: bytes, profile: Profile) -> Built:
    """A whole-body submission (text/plain, an image, or raw ESC/POS)."""
    kind = BODY_KINDS[content_type]
    if kind == "text":
        try:
            return plain_text(body.decode("utf-8"), profile)
        except UnicodeDecodeError as exc:
            raise BadSubmission([("", f"text/plain bodies must be UTF-8: {exc}")]) from None
    if kind == "image":
        return image(body, profile)
    if kind == "pdf":
        return pdf(body, profile, "")
    return raw(body)


def reprint_mark(profile: Profile) -> bytes:
    """The bytes of :data:`~escpos809.document.REPRINT_MARK`, printed before a stored job that
    may have printed (partly) before; the printer is reset after it, as every job expects."""
    mark = render(d.Document(d.REPRINT_MARK), profile).data
    return mark + commands.initialize(profile.commands.get("chinese_mode_at_power_on", True))
