"""Receipts in one call: document → ESC/POS bytes, or → preview images (same layout)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .document import Document
from .layout import Layout
from .profile import Profile, load_profile
from .render.escpos import EscposRenderer, Rendered

if TYPE_CHECKING:
    from PIL import Image


def render(doc: Document, profile: Profile | None = None, initialize: bool = True) -> Rendered:
    """The ESC/POS bytes of a receipt (and the characters that had to become '?')."""
    profile = profile or load_profile()
    return EscposRenderer(profile).render(Layout(profile).iter(doc), initialize)


def render_to(
    doc: Document, write: Callable[[bytes], object], profile: Profile | None = None, initialize: bool = True
) -> list[str]:
    """The ESC/POS bytes of a receipt handed to ``write`` in chunks as they are made (a long
    document is never laid out or rendered whole); returns the characters printed as '?'.
    An invalid block raises when it is reached, after the chunks before it were written."""
    profile = profile or load_profile()
    return EscposRenderer(profile).render_to(Layout(profile).iter(doc), write, initialize)


def preview(doc: Document, profile: Profile | None = None) -> list[Image.Image]:
    """The receipt as the virtual printer draws it: one image per cut."""
    from .render.image import preview as draw

    profile = profile or load_profile()
    return draw(Layout(profile).iter(doc), profile)
