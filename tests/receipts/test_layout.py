"""Layout: golden text grids for the sample receipts and properties of wrapping."""

import base64
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from escpos809 import document as d
from escpos809.cli.printing import _load_receipt
from escpos809.errors import InvalidDocument
from escpos809.layout import Layout, Line, column_widths, key_value, text_width, wrap
from escpos809.profile import load_profile

ROOT = Path(__file__).resolve().parents[2]
PROFILE = load_profile()
SAMPLES = [("shop", None), ("restaurant", "restaurant.data.json"), ("kiosk-ticket", None), ("charging-session", None)]


def grid(doc) -> list[str]:
    out = []
    for op in Layout(PROFILE).run(doc):
        if isinstance(op, Line):
            s = op.spans[0]
            flags = f"{'b' if s.bold else '-'}{'i' if s.invert else '-'}"
            out.append(f"{op.align[0]}{s.width}{s.height}{flags}{s.font}|{op.text}")
        else:
            out.append(f"#{type(op).__name__}")
    return out


@pytest.mark.parametrize("name, data", SAMPLES)
def test_golden_layout_of_each_sample(name, data):
    doc = _load_receipt(str(ROOT / "examples" / f"{name}.json"), str(ROOT / "examples" / data) if data else None)
    expected = (ROOT / "tests" / "data" / "golden" / f"{name}.txt").read_text().splitlines()
    assert grid(doc) == expected
    for line in grid(doc):
        if "|" in line:
            style, text = line.split("|", 1)
            w, font = int(style[1]), style[5]
            assert text_width(text) <= PROFILE.columns(font, w), line


def test_double_width_and_cjk_take_two_columns():
    doc = d.Document((d.Text("中" * 30), d.Text("x" * 30, d.Style(width=2)), d.Text("y" * 70, d.Style(font="B"))))
    lines = [op.text for op in Layout(PROFILE).run(doc)]
    assert lines == ["中" * 24, "中" * 6, "x" * 24, "x" * 6, "y" * 64, "y" * 6]


def test_key_value_shapes():
    assert key_value("Total", "9.99 €", 20) == ["Total         9.99 €"]
    assert key_value("A very long item name here", "1.00", 20) == ["A very long", "item name here  1.00"]
    assert key_value("Key", "V" * 25, 20) == ["Key", "V" * 20]


def test_column_widths_fill_the_line():
    cols = [d.Column(3), d.Column(0.7), d.Column(0.3)]
    assert sum(column_widths(cols, 48, 1)) + 2 == 48
    with pytest.raises(ValueError, match="columns need 60 characters; the line has 48"):
        column_widths([d.Column(30), d.Column(29)], 48, 1)


words = st.text(st.sampled_from(list("abcdefghij ÄÖÜß€中文")), max_size=200)


@settings(max_examples=300, deadline=None)
@given(words, st.integers(1, 64))
def test_wrapped_lines_never_exceed_the_columns(text, cols):
    lines = wrap(text, cols)
    assert all(text_width(line) <= cols or (len(line) == 1) for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")  # nothing lost or invented


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(words, words), min_size=1, max_size=5), st.sampled_from([1, 2]))
def test_table_and_kv_lines_fit(rows, width):
    doc = d.Document(
        (
            d.Columns((d.Column(0.6), d.Column(0.4, "right")), tuple(rows), style=d.Style(width=width)),
            d.KeyValue(rows[0][0], rows[0][1][:10], d.Style(width=width)),
        )
    )
    for op in Layout(PROFILE).run(doc):
        assert text_width(op.text) <= PROFILE.columns("A", width)


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.9, 0.99])
def test_an_image_broken_past_its_header_is_an_invalid_block(cut):
    """The document's check reads only an image's header; a PNG cut short or corrupt after it
    failed at layout as a bare OSError (the service's 'cannot be rendered', with a traceback)."""
    buf = io.BytesIO()
    Image.radial_gradient("L").save(buf, "PNG")  # 256x256, ~2.5 KB
    broken = buf.getvalue()[: int(len(buf.getvalue()) * cut)]
    doc = d.from_dict({"blocks": [{"type": "rule"}, {"type": "image", "base64": base64.b64encode(broken).decode()}]})
    with pytest.raises(InvalidDocument) as caught:
        Layout(PROFILE).run(doc)
    [(path, message)] = caught.value.errors
    assert path == "blocks/1" and message.startswith("the image cannot be decoded: "), message
