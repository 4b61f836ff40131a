"""PDF pages on paper (escpos809/pdf.py through the pdf block): page ranges, scales, trimming,
a cut per page, and every refusal before anything is drawn at full size."""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import sys

import pytest
from PIL import Image

from escpos809 import pdf, pdfchild
from escpos809.document import from_dict
from escpos809.errors import InvalidDocument
from escpos809.layout import CutOp, Layout, Raster
from escpos809.profile import load_profile
from escpos809.receipt import preview
from tests.pdf import make

zxingcpp = pytest.importorskip("zxingcpp")
PROFILE = load_profile()


def block(data: bytes, **opts) -> dict:
    return {"blocks": [{"type": "pdf", "base64": base64.b64encode(data).decode(), **opts}]}


def ops(data: bytes, **opts) -> list:
    return Layout(PROFILE).run(from_dict(block(data, **opts)))


def refusal(data: bytes, **opts) -> tuple[str, str]:
    with pytest.raises(InvalidDocument) as info:
        ops(data, **opts)
    assert len(info.value.errors) == 1
    return info.value.errors[0]


@pytest.mark.parametrize(
    "spec, count, pages",
    [
        (None, 3, [0, 1, 2]),
        ("all", 3, [0, 1, 2]),
        ("1-3,5", 10, [0, 1, 2, 4]),
        ("8-", 10, [7, 8, 9]),
        (" 2 , 1 ", 2, [1, 0]),
        ("4,4", 4, [3, 3]),
    ],
)
def test_page_numbers(spec, count, pages):
    assert pdf.page_numbers(spec, count) == pages


@pytest.mark.parametrize(
    "spec, count, message",
    [
        ("0", 5, "starts before page 1"),
        ("3-1", 5, "empty"),
        ("2-9", 5, "page 9 asked for; the PDF has 5 pages"),
        ("x", 5, "pages must be like"),
        ("1,,2", 5, "pages must be like"),
        ("-3", 5, "pages must be like"),
        ("1-999999999", 10**9, "more than 100"),  # counted, never listed
        ("all", 10_000, "the PDF has 10,000 pages; at most 100"),
        (None, 101, "at most 100"),
    ],
)
def test_page_numbers_refused(spec, count, message):
    with pytest.raises(pdf.PagesError, match=message):
        pdf.page_numbers(spec, count)


@pytest.mark.parametrize("value, scale", [("fit", "fit"), ("actual", "actual"), (150, 150), ("150%", 150), ("10", 10)])
def test_scale_of(value, scale):
    assert pdf.scale_of(value) == scale


@pytest.mark.parametrize("value", [9, 401, "big", True, None, 1.5, "1e2", "０１２"])
def test_scale_refused(value):
    with pytest.raises(ValueError, match="scale must be fit, actual or a percentage from 10 to 400"):
        pdf.scale_of(value)


def test_each_page_is_trimmed_fitted_and_cut():
    data = make.text_pages("FIRST PAGE\nline two", "SECOND", "THIRD PAGE IS HERE")
    laid = ops(data)
    assert [type(o) for o in laid] == [Raster, CutOp] * 3
    assert {o.mode for o in laid if isinstance(o, CutOp)} == {"partial"}
    rasters = [o for o in laid if isinstance(o, Raster)]
    # fit: the widest ink fills the paper; every page keeps that one scale (a short page is not blown up)
    assert {r.width_bytes for r in rasters} == {PROFILE.width_dots // 8}
    heights = [r.rows for r in rasters]
    assert heights[1] == heights[2] and heights[0] > heights[1]
    # trimmed: an A4 page at the paper's width would be ~800 dots long; its two lines are not
    assert heights[0] < 250
    pages = preview(from_dict(block(data)))
    assert len(pages) == 3  # one picture per cut
    for page in pages:  # ink starts within the kept margin of the top, not at the A4 margin
        rows = page.convert("L").point(lambda v: 255 if v < 128 else 0).getbbox()
        assert rows is not None and rows[1] < 40


def test_scale_actual_and_percent_keep_the_pdf_size():
    data = make.text_pages("Total 12.34 EUR", size=make.RECEIPT, font_size=10)
    actual, half = ops(data, scale="actual")[0], ops(data, scale=50)[0]
    fit = ops(data)[0]
    assert actual.rows == pytest.approx(2 * half.rows, abs=3)
    assert fit.rows > actual.rows  # ~40 mm of text filled out to 72 mm
    # the text's own width at 203 dpi: not stretched to the paper
    assert actual.width_bytes * 8 < PROFILE.width_dots


def test_cut_options():
    data = make.text_pages("A", "B")
    assert [o.mode for o in ops(data, cut="full") if isinstance(o, CutOp)] == ["full", "full"]
    assert not [o for o in ops(data, cut="none") if isinstance(o, CutOp)]


def test_a_qr_code_in_the_pdf_scans_from_the_preview():
    pages = preview(from_dict(block(make.with_qr("INVOICE 42", "https://example.com/i/42"))))
    assert len(pages) == 1 and pages[0].width == PROFILE.width_dots
    assert "https://example.com/i/42" in {r.text for r in zxingcpp.read_barcodes(pages[0])}


def test_threshold_dither_draws_pure_black_text():
    laid = ops(make.text_pages("BLACK"), dither="threshold", threshold=128)
    assert isinstance(laid[0], Raster) and any(laid[0].data)


def test_blank_pages_print_nothing():
    data = make.text_pages("ONE", "", "THREE")
    assert [type(o) for o in ops(data)] == [Raster, CutOp] * 2
    assert refusal(make.blank_pages(2)) == ("blocks/0", "the chosen pages are blank: nothing to print")


@pytest.mark.parametrize(
    "data, opts, path, message",
    [
        (make.encrypted(), {}, "blocks/0", "the PDF is encrypted (it needs a password)"),
        (make.broken(make.text_pages("x" * 40)), {}, "blocks/0", "the PDF cannot be read"),
        (b"GIF89a not a pdf", {}, "blocks/0", "not a PDF"),
        (b"", {}, "blocks/0", "not a PDF"),
        (make.blank_pages(101), {}, "blocks/0/pages", "the PDF has 101 pages; at most 100"),
        (make.text_pages("A", "B"), {"pages": "3"}, "blocks/0/pages", "page 3 asked for; the PDF has 2 pages"),
        (make.long_page(5000), {}, "blocks/0", "page 1 is 5,000 mm long; at most 2,002 mm print per page"),
        (make.long_page(2500), {}, "blocks/0", "page 1 would print 2,"),  # past the slack: its trimmed length
        (make.text_pages("WIDE " * 12), {"scale": 200}, "blocks/0", "at scale 200; the paper takes 576"),
        (make.busy(20_001), {}, "blocks/0", "page 1 draws 20,001 objects; at most 20,000"),
        (make.page_tree(loop=True), {}, "blocks/0", "page 2 cannot be read: the PDF's page tree is broken"),
        (make.page_tree(depth=100_000), {}, "blocks/0", "page 1 cannot be read: the PDF's page tree is broken"),
    ],
)
def test_refused_with_the_reason(data, opts, path, message):
    where, why = refusal(data, **opts)
    assert where == path and message in why


def test_a_job_too_long_is_refused_before_any_page_is_drawn(monkeypatch):
    drawn: list[int] = []
    real = pdf._draw
    monkeypatch.setattr(pdf, "_draw", lambda doc, p: drawn.append(p.index) or real(doc, p))
    data = make.text_pages(*["x"] * 2)  # small pages: only the job's total is over
    monkeypatch.setattr(pdf, "MAX_JOB_DOTS", 100)
    with pytest.raises(pdf.PdfRefused, match="of paper; at most"):  # here: the child would not see the patch
        pdf.render_here(data, None, "fit", PROFILE.dpi, PROFILE.width_dots)
    assert drawn == []


def test_a_busy_page_within_the_limit_prints():
    assert isinstance(ops(make.busy(20_000))[0], Raster)


def test_pages_pick_and_order():
    data = make.text_pages("PAGE 1", "PAGE 2", "PAGE 3")  # as wide as each other: one crop, one scale
    every = [o.data for o in ops(data) if isinstance(o, Raster)]
    assert len(set(every)) == 3
    assert [o.data for o in ops(data, pages="3,1") if isinstance(o, Raster)] == [every[2], every[0]]
    assert [o.data for o in ops(data, pages="2-") if isinstance(o, Raster)] == every[1:]


def test_schema_checks_the_block_options():
    data = make.text_pages("A")
    for opts, path in [
        ({"scale": 5}, "blocks/0/scale"),
        ({"scale": "huge"}, "blocks/0/scale"),
        ({"pages": "1;2"}, "blocks/0/pages"),
        ({"cut": "half"}, "blocks/0/cut"),
        ({"colour": True}, "blocks/0"),
    ]:
        with pytest.raises(InvalidDocument) as info:
            from_dict(block(data, **opts))
        assert info.value.errors[0][0] == path, (opts, info.value.errors)
    with pytest.raises(InvalidDocument, match="pdf needs exactly one of 'path' or 'base64'"):
        from_dict({"blocks": [{"type": "pdf"}]})


def test_a_pdf_file_next_to_the_receipt(tmp_path):
    (tmp_path / "terms.pdf").write_bytes(make.text_pages("TERMS"))
    doc = from_dict({"blocks": [{"type": "text", "text": "Receipt"}, {"type": "pdf", "path": "terms.pdf"}]}, tmp_path)
    assert len(preview(doc)) == 1
    with pytest.raises(InvalidDocument) as info:
        from_dict({"blocks": [{"type": "pdf", "path": "gone.pdf"}]}, tmp_path)
    assert info.value.errors == [("blocks/0/path", "no such PDF file gone.pdf")]


def test_concurrent_renders_are_serialised():
    """PDFium is not thread-safe: the service's threads render one PDF at a time, correctly."""
    from concurrent.futures import ThreadPoolExecutor

    data = make.with_qr("T", "concurrent")
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: ops(data)[0].data, range(8)))
    assert len(set(results)) == 1


def test_fit_fills_the_paper_but_enlarges_at_most_four_times():
    (page,) = pdf.render(make.text_pages("hello hello hello"), None, "fit", PROFILE.dpi, PROFILE.width_dots)
    assert isinstance(page, Image.Image) and page.mode == "L" and page.width == PROFILE.width_dots
    (word,) = pdf.render(make.text_pages("hi"), None, "fit", PROFILE.dpi, PROFILE.width_dots)
    (at_400,) = pdf.render(make.text_pages("hi"), None, 400, PROFILE.dpi, PROFILE.width_dots)
    assert word.size == at_400.size and word.width < PROFILE.width_dots


def test_a_drawing_bomb_is_refused_when_its_time_is_up(monkeypatch):
    """A page of one drawing object (a form drawing a form ten times, nine levels deep: 10**9
    squares) would hold PDFium for hours; it is drawn in a child that is killed in time."""
    monkeypatch.setattr(pdfchild, "DRAW_SECONDS", 1.0)
    where, why = refusal(make.form_bomb(9))
    assert where == "blocks/0" and "take more than 1 s to draw" in why
    assert isinstance(ops(make.form_bomb(2))[0], Raster)  # a hundred squares through forms print


def test_pdf_blocks_share_one_time_budget(monkeypatch):
    monkeypatch.setattr(pdfchild, "DRAW_SECONDS", 1.0)
    slow = base64.b64encode(make.form_bomb(5)).decode()  # each well under a second, eight far over
    doc = {"blocks": [{"type": "pdf", "base64": slow} for _ in range(8)]}
    with pytest.raises(InvalidDocument) as info:
        Layout(PROFILE).run(from_dict(doc))
    assert "take more than" in info.value.errors[0][1]


def test_a_drawing_child_ends_itself_when_its_time_is_up():
    """Its own CPU limit (the seconds it is given): a child whose parent was SIGKILLed (nobody
    left to kill it) cannot draw on for hours."""
    ask = {"pages": None, "scale": "fit", "dpi": 203, "width_dots": 576, "seconds": 0}
    done = subprocess.run(
        [sys.executable, "-m", "escpos809.pdf"],
        input=json.dumps(ask).encode() + b"\n" + make.fill_bomb(19_000),  # a minute of CPU, a few MB
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == -signal.SIGXCPU
    assert "take more than" in pdfchild._failure(done)
