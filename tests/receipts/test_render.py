"""ESC/POS renderer: bytes per block (written from the reference), fewest bytes, and
property tests; the preview against the virtual printer's picture of the same bytes."""

import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops

from escpos809 import document as d
from escpos809.cli.printing import _load_receipt
from escpos809.emulator import VirtualPrinter
from escpos809.emulator.interpreter import Interpreter
from escpos809.errors import InvalidData, InvalidDocument
from escpos809.printer import Printer
from escpos809.profile import load_profile
from escpos809.receipt import preview, render
from tests.conftest import h

PROFILE = load_profile()
INIT = h("1B 40 1C 2E")
ROOT = Path(__file__).resolve().parents[2]


def body(*blocks) -> bytes:
    data = render(d.Document(tuple(blocks)), PROFILE).data
    assert data.startswith(INIT)
    return data[len(INIT) :]


def test_text_block_bytes():
    assert body(d.Text("Hi", d.Style(bold=True), align="center")) == h("1B 61 01 1B 45 01") + b"Hi\n"
    # several changes at once within ESC !'s range: one ESC ! (B1 = underline, 2w, 2h, font B)
    assert (
        body(d.Text("Big", d.Style(width=2, height=2, underline=1, invert=True, font="B")))
        == h("1B 21 B1 1D 42 01") + b"Big\n"
    )
    assert body(d.Text("Huge", d.Style(width=3, height=3, bold=True))) == h("1B 45 01 1D 21 22") + b"Huge\n"


def test_no_redundant_style_or_alignment():
    out = body(d.Text("a", d.Style(bold=True), "center"), d.Text("b", d.Style(bold=True), "center"), d.Text("c"))
    assert out == h("1B 61 01 1B 45 01") + b"a\nb\n" + h("1B 61 00 1B 45 00") + b"c\n"


def test_one_code_page_switch_for_a_german_receipt():
    out = body(d.Text("Hauptstraße 12"), d.KeyValue("Startgebühr", "1.00 €"), d.Text("Danke für Ihren Besuch!"))
    assert out.count(b"\x1bt") == 1


def test_rule_kv_columns_bytes():
    assert body(d.Rule("=")) == b"=" * 48 + b"\n"
    # padding becomes a tab stop (ESC D 41 NUL) and one HT instead of 36 spaces
    assert body(d.KeyValue("SUMME", "15.40 €")) == h("1B 44 29 00") + b"SUMME\t15.40 " + h("1B 74 13 D5 0A")
    cols = d.Columns((d.Column(2, "right"), d.Column(0.5), d.Column(0.5, "right")), (("1", "Tee", "2.50"),))
    assert body(cols) == h("1B 44 2C 00") + b" 1 Tee\t2.50\n"


def test_image_block_is_unpadded_bands_centred():
    buf = io.BytesIO()
    Image.new("1", (64, 50), 0).save(buf, "PNG")
    out = body(d.ImageBlock(buf.getvalue()))
    assert out.startswith(h("1B 61 01 1D 76 30 00 08 00 18 00"))  # 8 bytes wide: no padding to 72
    assert out.count(b"\x1dv0") == 3 and len(out) == 3 + 3 * 8 + 50 * 8


def test_native_qr_centred_golden_bytes():
    url = "https://charge.example.com/r/2024/000123?s=ABCDEFGHJKLMNPQRS"
    assert body(d.QR(url)) == h(
        "1B 61 01 1D 28 6B 04 00 31 41 32 00 1D 28 6B 03 00 31 43 06 1D 28 6B 03 00 31 45 311D 28 6B 3F 00 31 50 30"
    ) + url.encode() + h("1D 28 6B 03 00 31 51 30")


def test_qr_as_image_when_not_native():
    out = body(d.QR("x", size=4, native=False))
    assert b"\x1d(k" not in out and out.startswith(h("1B 61 01 1D 76 30 00"))


def test_barcode_feed_cut_beep_drawer_raw():
    assert body(d.Barcode("code128", "CHG2024000123", hri="below", align="left")) == h(
        "1D 68 40 1D 77 02 1D 48 02 1D 6B 49 0C 7B 42 43 48 47 7B 43 14 18 00 01 17"
    )  # GS f 0 is the default
    assert body(d.Feed(3)) == h("1B 64 03")
    assert body(d.Feed(2)) == b"\n\n"
    assert body(d.Feed(0, 20)) == h("1B 4A 14")
    assert body(d.Cut("full", None)) == h("1D 56 00")
    assert body(d.Cut("partial", 0)) == h("1D 56 42 00")
    assert body(d.Beep(2, 3)) == h("1B 42 02 03")
    assert body(d.Drawer(5, 100, 100)) == h("1B 70 01 32 32")
    # raw bytes may change anything: every style and the code page are stated again afterwards
    assert body(d.Raw(b"\x1bt\x00"), d.Text("€")) == h("1B 74 00 1B 61 00 1B 21 00 1D 42 00 1B 74 13 D5 0A")


def test_unencodable_text_is_replaced_and_reported():
    r = render(d.Document((d.Text("ok 😀"),)), PROFILE)
    assert r.data.endswith(b"ok ?\n") and r.replaced == ["😀"]


required = "€£¥äöüßéñçøØåЖжПривет"


@settings(max_examples=150, deadline=None)
@given(st.text(st.sampled_from(list("abc XYZ 0123,.-") + list(required)), max_size=120))
def test_encoding_round_trips_through_the_printer_model(text):
    r = render(d.Document((d.Text(text),)), PROFILE)
    it = Interpreter()
    it.feed(r.data)
    it.finish()
    printed = " ".join(op.text for op in it.ops if op.kind == "text")
    assert printed.split() == text.split()  # same words; wrapping only moves the breaks


block_strategy = st.one_of(
    st.builds(
        lambda t, b, w, a: {"type": "text", "text": t, "bold": b, "width": w, "align": a},
        st.text(max_size=80),
        st.booleans(),
        st.integers(1, 8),
        st.sampled_from(["left", "center", "right"]),
    ),
    st.builds(lambda k, v: {"type": "kv", "key": k, "value": v}, st.text(max_size=60), st.text(max_size=20)),
    st.builds(
        lambda r: {"type": "columns", "columns": [{"width": 0.5}, {"width": 0.5, "align": "right"}], "rows": r},
        st.lists(st.lists(st.text(max_size=30), min_size=2, max_size=2), max_size=4),
    ),
    st.builds(lambda c: {"type": "rule", "char": c}, st.sampled_from(["-", "=", "*", "─"])),
    st.builds(lambda q, s: {"type": "qr", "data": q, "size": s}, st.text(min_size=1, max_size=100), st.integers(1, 8)),
    st.builds(
        lambda n: {"type": "barcode", "kind": "code128", "data": n},
        st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=40),
    ),
    st.builds(lambda n: {"type": "feed", "lines": n}, st.integers(0, 5)),
    st.just({"type": "cut"}),
    st.just({"type": "beep"}),
    st.just({"type": "drawer"}),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(block_strategy, max_size=8))
def test_any_valid_document_renders(blocks):
    doc = d.from_dict({"blocks": blocks})
    data = render(doc, PROFILE).data
    it = Interpreter()
    it.feed(data)
    it.finish()
    assert not [op for op in it.ops if op.kind in ("unknown", "truncated")]


@pytest.mark.parametrize(
    "name, data",
    [("shop", None), ("restaurant", "restaurant.data.json"), ("kiosk-ticket", None), ("charging-session", None)],
)
def test_preview_is_what_the_virtual_printer_prints(tmp_path, name, data):
    doc = _load_receipt(str(ROOT / "examples" / f"{name}.json"), str(ROOT / "examples" / data) if data else None)
    with VirtualPrinter(tmp_path / "paper") as vp:
        with Printer(vp.uri) as p:
            p.print_document(doc)
            sock = p.transport._sock.getsockname()
        job = vp.wait_job(f"tcp {sock[0]}:{sock[1]}")
    printed = [Image.open(page) for page in job.pages]
    expected = preview(doc, PROFILE)
    assert len(printed) == len(expected)
    for a, b in zip(printed, expected, strict=True):
        assert a.size == b.size and ImageChops.difference(a.convert("L"), b).getbbox() is None


@settings(max_examples=120, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(st.sampled_from(list("abc XYZ 0123") + list(required)), max_size=30),
            st.text(st.sampled_from(list("0123.,") + list("€£Ж")), min_size=1, max_size=9),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_tab_jumps_print_the_same_columns_as_spaces(rows):
    """Key-value lines go out with HT jumps (and sometimes a code-page switch inside the line,
    which takes the piecewise path): the printer model must show every character in the column
    the laid-out line puts it in."""
    from escpos809.layout import Layout

    doc = d.Document(tuple(d.KeyValue(k, v) for k, v in rows))
    expected = [op.text.rstrip() for op in Layout(PROFILE).run(doc)]
    it = Interpreter()
    it.feed(render(doc, PROFILE).data)
    it.finish()
    cell = PROFILE.fonts["A"].width
    printed = []
    for op in it.ops:
        if op.kind != "text":
            continue
        line = [" "] * 48
        x = 0
        for c in op.args["cells"]:  # HT jumps arrive as blank cells, so x is the column
            if x // cell < 48:
                line[x // cell] = c.char
            x += cell
        printed.append("".join(line).rstrip())
    assert printed == expected


def test_a_qr_no_symbol_holds_is_refused_by_print_and_preview_alike():
    native = d.Document(blocks=(d.QR("x" * 5000),))
    with pytest.raises(InvalidData):
        render(native)
    with pytest.raises(InvalidData, match="does not fit a QR code"):  # was a TypeError
        preview(native)
    as_image = d.Document(blocks=(d.QR("x" * 5000, native=False),))
    for make in (render, preview):  # was an AttributeError
        with pytest.raises(InvalidDocument) as exc:
            make(as_image)
        assert exc.value.errors == [("blocks/0", "QR data (5000 bytes) does not fit a QR code at error level M")]


def test_an_image_block_with_nothing_to_draw_is_an_invalid_document():
    for make in (render, preview):  # was a TypeError from Path(None)
        with pytest.raises(InvalidDocument) as exc:
            make(d.Document(blocks=(d.Text("x"), d.ImageBlock())))
        assert exc.value.errors == [("blocks/1", "an image block needs data, a path or an image")]


def test_a_big_chinese_heading_is_big_on_the_printer():
    """ESC ! does not size GB18030 characters on the firmware (print801 Command_1B21): a
    heading styled through it gets GS ! before its Chinese text, as the preview draws it."""
    from escpos809 import document, receipt
    from escpos809.emulator.interpreter import read_bytes

    doc = document.from_dict(
        {"version": 1, "blocks": [{"type": "text", "text": "充电 Receipt", "bold": True, "width": 2, "height": 2}]}
    )
    ops, _ = read_bytes(receipt.render(doc).data)
    [line] = [op for op in ops if op.kind == "text"]
    assert {(c.width, c.height) for c in line.args["cells"]} == {(2, 2)}
