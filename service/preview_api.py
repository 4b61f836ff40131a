"""Previews: what the virtual printer would print, as PNG, for a stored job or for a body
that is rendered like a job and never stored."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from flask import Blueprint, Response

from . import jobs
from .app import current
from .jobs_api import built_from_request, job_or_404
from .problems import Problem

if TYPE_CHECKING:
    from PIL.Image import Image

preview_api = Blueprint("previews", __name__)
#: dots of grey between the pages of a job with several cuts
PAGE_GAP = 24


def _png(images: Sequence[Image]) -> Response:
    from PIL import Image

    if len(images) == 1:
        page = images[0]
    else:  # one picture for several cuts: the pages one under the other, a gap between
        width, height = max(i.width for i in images), sum(i.height for i in images) + PAGE_GAP * (len(images) - 1)
        page = Image.new("L", (width, height), 200)
        y = 0
        for im in images:
            page.paste(im, (0, y))
            y += im.height + PAGE_GAP
    buf = io.BytesIO()
    page.save(buf, "PNG", optimize=False)
    return Response(buf.getvalue(), mimetype="image/png", headers={"Cache-Control": "no-store"})


def _paper(data: bytes) -> list[Image]:
    """What the virtual printer would print for these bytes."""
    from escpos809.render.image import preview_bytes

    pages = preview_bytes(data, current().profile)
    if not pages:
        raise Problem(422, "Nothing to preview", "the job prints nothing visible")
    return pages


@preview_api.get("/api/v1/jobs/<job_id>/preview.png")
def job_preview(job_id: str) -> Response:
    j = job_or_404(job_id, whole=True)
    return _png(_paper((jobs.reprint_mark(current().profile) if j.reprint else b"") + j.data))


@preview_api.post("/api/v1/preview")
def preview() -> Response:
    return _png(_paper(built_from_request().data))
