"""``rastertoescpos809``: CUPS raster pages → OCPP-809 ESC/POS on stdout.

Each page becomes ``GS v 0`` bands of the profile's band height; blank rows are fed
(``ESC J n``) instead of sent as pixels, and the blank end of the page is dropped unless
``PaperReduction=Keep``. Cut, feed, buzzer and cash drawer come from the page header
(PPD options, see :mod:`.options`). Copies are already in the stream (``cupsManualCopies``):
every page is printed once. Only print data goes to stdout; messages go to stderr in the
CUPS ``LEVEL: text`` form.
"""

from __future__ import annotations

import sys

from ..escpos import commands, vendor
from ..profile import Profile, load_profile
from .options import BUZZER, CUT_MODE, DRAWER, DRAWER_ACTIONS, FEED_LINES, KEEP_LENGTH
from .raster import CUT_NONE, CUT_PAGE, Page, PageHeader, RasterError, read_pages

# cupsd starts this filter once per job: it imports only what it uses, and typing not at all
# (tests/cups/test_startup.py keeps the list)
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from typing import BinaryIO

    Log = Callable[[str], None]  # one CUPS message line (``LEVEL: text``)


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _feed(rows: int) -> bytes:
    """Feed ``rows`` dots with as few ``ESC J`` commands as there must be (255 dots each)."""
    full, rest = divmod(rows, 255)
    return commands.feed_dots(255) * full + (commands.feed_dots(rest) if rest else b"")


def _row_fixer(h: PageHeader, width_bytes: int) -> tuple[Callable[[bytes], bytes], int] | None:
    """Rows cut to the printer's width, with the pad bits after ``cupsWidth`` cleared (an
    inverted white-is-1 page has them set)."""
    bits = min(h.width, width_bytes * 8)
    whole, partial = divmod(bits, 8)
    if partial == 0 and whole == h.bytes_per_line:
        return None
    keep = whole + (1 if partial else 0)
    mask = (0xFF << (8 - partial)) & 0xFF if partial else 0xFF

    def fix(row: bytes) -> bytes:
        row = row[:keep]
        if partial and row[-1] & ~mask & 0xFF:
            row = row[:-1] + bytes([row[-1] & mask])
        return row

    return fix, keep


def encode_page(page: Page, profile: Profile) -> bytes:
    """One page's pixels and feeds (no cut; see :func:`encode_job`)."""
    h = page.header
    rows: Iterable[bytes] = page.rows
    width = h.bytes_per_line
    fixer = _row_fixer(h, profile.width_dots // 8)
    if fixer is not None:
        fix, width = fixer
        rows = map(fix, rows)
    blank = bytes(width)
    band_rows, gap = profile.band_rows, 0
    out: list[bytes] = []
    band: list[bytes] = []
    for row in rows:
        if row == blank:
            if band:
                out.append(commands.raster_image(width, len(band), b"".join(band)))
                band = []
            gap += 1
            continue
        if gap:
            out.append(_feed(gap))
            gap = 0
        band.append(row)
        if len(band) == band_rows:
            out.append(commands.raster_image(width, band_rows, b"".join(band)))
            band = []
    if band:
        out.append(commands.raster_image(width, len(band), b"".join(band)))
    if gap and h.integers[KEEP_LENGTH]:
        out.append(_feed(gap))
    return b"".join(out)


def _cut(h: PageHeader) -> bytes:
    # feed=0: GS V 65/66 0 moves the last printed line past the cutter before cutting
    return commands.cut("full" if h.integers[CUT_MODE] else "partial", feed=0)


def _drawer(h: PageHeader, before: bool) -> bytes:
    action = DRAWER_ACTIONS.get(h.integers[DRAWER])
    if action is None or action[1] != before:
        return b""
    return commands.drawer_kick(pin=action[0])


def encode_job(pages: Iterable[Page], profile: Profile, log: Log | None = None) -> Iterator[bytes]:
    """ESC/POS for a whole raster job, yielded page by page so the printer starts early."""
    log = log or (lambda line: None)
    last: PageHeader | None = None
    for number, page in enumerate(pages, 1):
        h = page.header
        if last is None:
            yield commands.initialize() + _drawer(h, before=True)
        if h.hw_resolution != (203, 203):
            log(
                f"WARNING: page {number} is at {h.hw_resolution[0]}x{h.hw_resolution[1]} dpi; "
                "the OCPP-809 prints 203 dpi, so it comes out scaled"
            )
        if h.width > profile.width_dots:
            log(
                f"WARNING: page {number} is {h.width} dots wide; the right part beyond "
                f"{profile.width_dots} dots is not printed"
            )
        log(
            f"DEBUG: page {number}: {h.width}x{h.height} {h.page_size_name or h.page_size} "
            f"cut={h.cut_media} feed={h.integers[FEED_LINES]} ints={list(h.integers[:5])}"
        )
        data = encode_page(page, profile)
        feed = h.integers[FEED_LINES]
        data += commands.feed_lines(min(feed, 255)) if feed else b""
        if h.cut_media == CUT_PAGE:
            data += _cut(h)
        yield data
        log(f"PAGE: {number} 1")
        last = h
    if last is None:
        log("WARNING: the job has no pages")
        return
    tail = b""
    if last.cut_media not in (CUT_NONE, CUT_PAGE):
        tail += _cut(last)
    if last.integers[BUZZER]:
        tail += vendor.beep(times=min(last.integers[BUZZER], 9), duration=2)
    tail += _drawer(last, before=False)
    if tail:
        yield tail


def run(source: BinaryIO, sink: BinaryIO, profile: Profile | None = None, log: Log | None = None) -> int:
    """Filter ``source`` to ``sink``; returns the filter's exit status."""
    say = log or _stderr
    profile = profile or load_profile()
    try:
        for chunk in encode_job(read_pages(source), profile, say):
            sink.write(chunk)
            sink.flush()
    except RasterError as exc:
        say(f"ERROR: rastertoescpos809: {exc}")
        return 1
    except BrokenPipeError:
        say("ERROR: rastertoescpos809: the backend stopped reading")
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """``rastertoescpos809 job user title copies options [file]`` (filter(7))."""
    argv = sys.argv if argv is None else argv
    if len(argv) not in (6, 7):
        print("Usage: rastertoescpos809 job-id user title copies options [file]", file=sys.stderr)
        return 1
    profile_name = None
    for opt in argv[5].split():
        if opt.startswith("escpos809-profile="):
            profile_name = opt.split("=", 1)[1]
    try:
        profile = load_profile(profile_name)
    except Exception as exc:  # a bad profile is a configuration error, said in one line
        print(f"ERROR: rastertoescpos809: {exc}", file=sys.stderr)
        return 1
    if len(argv) == 7:
        try:
            with open(argv[6], "rb") as f:
                return run(f, sys.stdout.buffer, profile)
        except OSError as exc:
            print(f"ERROR: rastertoescpos809: cannot read {argv[6]}: {exc.strerror}", file=sys.stderr)
            return 1
    return run(sys.stdin.buffer, sys.stdout.buffer, profile)


if __name__ == "__main__":
    sys.exit(main())
