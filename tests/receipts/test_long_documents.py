"""Documents as long as users need: laid out and rendered as a stream (chunks; tab stops
chosen per window and re-sent where the columns change), the line limit naming the block,
and previews that refuse what they would not draw in bounded memory."""

from __future__ import annotations

import tracemalloc

import pytest
from PIL import Image

from escpos809 import document as d
from escpos809.emulator.interpreter import Interpreter
from escpos809.errors import InvalidDocument
from escpos809.layout import MAX_IMAGE_DOTS, MAX_LINES, Layout, Line
from escpos809.profile import load_profile
from escpos809.receipt import preview, render, render_to
from escpos809.render.escpos import CHUNK, WINDOW
from escpos809.render.image import MAX_PREVIEW_DOTS, PreviewTooLong, preview_bytes
from tests.conftest import h

PROFILE = load_profile()
ESC_D = h("1B 44")


def printed_columns(data: bytes) -> list[str]:
    """What the printer model prints, line by line, each character in its column (font A,
    single-width lines)."""
    it = Interpreter()
    it.feed(data)
    it.finish()
    cell = PROFILE.fonts["A"].width
    lines = []
    for op in it.ops:
        if op.kind != "text" or any(c.width != 1 for c in op.args["cells"]):
            continue
        line, x = [" "] * 48, 0
        for c in op.args["cells"]:  # HT jumps arrive as blank cells
            if x // cell < 48:
                line[x // cell] = c.char
            x += cell
        lines.append("".join(line).rstrip())
    return lines


def two_tables(rows: int) -> d.Document:
    """Two stretches longer than a window whose blank runs end in other columns, a double-width
    line between them (the new stops must still be measured in font A single width)."""
    first = d.Columns((d.Column(10), d.Column(0.3, "right")), tuple((f"item {i}", f"{i}.00") for i in range(rows)))
    second = d.Columns(
        (d.Column(4), d.Column(6, "right"), d.Column(0.5, "right")),
        tuple((f"{i % 7}", f"x{i % 13}", f"{i * 3}.5") for i in range(rows)),
    )
    return d.Document((first, d.Text("TOTALS", d.Style(width=2)), second, d.Cut()))


def test_tab_stops_follow_a_long_document_and_print_every_column():
    doc = two_tables(WINDOW + 300)
    data = render(doc, PROFILE).data
    assert data.count(ESC_D) >= 2  # after ESC @, then again where the second table's columns start
    assert data.count(b"\t") > 2 * WINDOW  # both tables jump their padding
    expected = [op.text.rstrip() for op in Layout(PROFILE).run(doc) if isinstance(op, Line) and op.spans[0].width == 1]
    assert printed_columns(data) == expected


def test_chunks_are_the_bytes_and_come_in_pieces():
    doc = two_tables(10_000)
    chunks: list[bytes] = []
    replaced = render_to(doc, chunks.append, PROFILE)
    assert replaced == [] and b"".join(chunks) == render(doc, PROFILE).data
    assert len(chunks) > 2 and all(len(c) < CHUNK + 4096 for c in chunks)


def test_rendering_a_long_document_keeps_memory_bounded():
    """Five times the lines (20,000), about the same peak: nothing is kept but a window."""
    peaks = []
    for rows in (4_000, 20_000):
        doc = two_tables(rows // 2)
        total = 0

        def count(chunk: bytes) -> None:
            nonlocal total
            total += len(chunk)

        tracemalloc.start()
        render_to(doc, count, PROFILE)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < 1.3 * peaks[0] and peaks[1] < 4_000_000, peaks


def test_the_line_limit_names_the_block():
    lines = d.Text("\n".join(f"line {i}" for i in range(MAX_LINES // 2)))
    with pytest.raises(InvalidDocument) as exc:
        render(d.Document((lines, d.Cut(), lines, d.Text("one more"))), PROFILE)
    assert exc.value.errors == [("blocks/3", f"the document prints more than {MAX_LINES:,} lines here")]
    # one table whose narrow cells wrap into more lines than a document may print: refused
    # while it is laid out, before the lines pile up
    narrow = d.Columns((d.Column(1), d.Column(1)), (("x" * 2000, "y"),) * 30)
    with pytest.raises(InvalidDocument, match="blocks/0: the document prints more than 50,000 lines"):
        render(d.Document((narrow,)), PROFILE)
    assert len(render(d.Document((lines, lines)), PROFILE).data) > MAX_LINES * 5  # the limit itself prints


def test_the_image_limit_names_the_block():
    tall = d.ImageBlock(image=Image.new("1", (576, MAX_IMAGE_DOTS // 4), 0))
    assert len(render(d.Document((tall,) * 4), PROFILE).data) > MAX_IMAGE_DOTS * 72  # the limit itself prints
    with pytest.raises(InvalidDocument) as exc:
        render(d.Document((tall,) * 4 + (d.Text("text is not image"), d.QR("one row more", native=False))), PROFILE)
    assert exc.value.errors == [("blocks/5", "the document's images print more than 160,000 dots (20,020 mm) here")]


def test_the_schema_takes_a_day_report():
    rows = [[f"{i:05d}", f"{i * 0.3:.2f}"] for i in range(20_000)]
    doc = d.from_dict({"blocks": [{"type": "columns", "columns": [{"width": 8}, {"width": 10}], "rows": rows}]})
    assert len(doc.blocks[0].rows) == 20_000
    report = d.from_dict({"blocks": [{"type": "text", "text": "x" * 900_000}] + [{"type": "cut"}] * 49_999})
    assert len(report.blocks) == d.MAX_BLOCKS


def test_a_preview_longer_than_its_limit_is_refused_before_drawing():
    long = d.Document((d.Text("\n".join(f"line {i}" for i in range(2_000))),))
    tracemalloc.start()
    with pytest.raises(PreviewTooLong, match=f"more than {MAX_PREVIEW_DOTS:,} dots"):
        preview(long, PROFILE)
    data = render(long, PROFILE).data
    with pytest.raises(PreviewTooLong, match="a preview draws at most 50,000"):
        preview_bytes(data, PROFILE)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 40_000_000  # a drawn 576 x 64,000 grey page alone would be 37 MB
    assert PreviewTooLong.http_status == 422
    short = d.Document((d.Text("\n".join(f"line {i}" for i in range(40))), d.Cut()))
    assert [im.height for im in preview_bytes(render(short, PROFILE).data, PROFILE)] == [
        im.height for im in preview(short, PROFILE)
    ]


def test_a_template_fills_a_day_report_and_a_nested_bomb_is_counted_before_filling():
    from escpos809.template import fill

    kv = {"type": "kv", "key": "{s.cp} {index}", "value": "{s.kwh}"}
    sessions = [{"cp": f"CP-{i % 37}", "kwh": f"{i * 0.1:.1f}"} for i in range(20_000)]
    doc = d.from_dict(fill({"blocks": [{"repeat": "sessions", "as": "s", "blocks": [kv]}]}, {"sessions": sessions}))
    assert len(doc.blocks) == 20_000 and doc.blocks[-1] == d.KeyValue("CP-19 20000", "1999.9")
    groups = {
        "repeat": "groups",
        "as": "g",
        "blocks": [{"type": "rule"}, {"repeat": "g.rows", "as": "s", "blocks": [kv]}],
    }
    rows = sessions[:300]
    assert len(fill({"blocks": [groups]}, {"groups": [{"rows": rows}] * 100})["blocks"]) == 100 * 301
    with pytest.raises(InvalidDocument, match="repeat would make more than 50,000 items"):
        fill({"blocks": [groups]}, {"groups": [{"rows": rows}] * 1000})
