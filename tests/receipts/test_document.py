"""The receipt format: schema errors with their JSON paths, dataclasses, templates."""

import base64
import io
import json
import struct
import zlib

import pytest
from PIL import Image

from escpos809 import document as d
from escpos809.errors import InvalidDocument
from escpos809.template import fill


def errors_of(doc) -> list[tuple[str, str]]:
    with pytest.raises(InvalidDocument) as exc:
        d.from_dict(doc)
    return exc.value.errors


def png(w, h, mode="1") -> str:
    buf = io.BytesIO()
    Image.new(mode, (w, h), 1).save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


BAD_DOCUMENTS = [
    ({"blocks": [{"type": "text", "text": 5}]}, "blocks/0/text", "is not of type 'string'"),
    ({"blocks": [{"type": "text", "text": "x", "bold": "yes"}]}, "blocks/0/bold", "is not of type 'boolean'"),
    ({"blocks": [{"type": "text", "text": "x", "width": 9}]}, "blocks/0/width", "greater than the maximum of 8"),
    ({"blocks": [{"type": "hologram"}]}, "blocks/0/type", "'hologram' is not one of"),
    ({"blocks": [{"type": "text", "text": "x", "colour": "red"}]}, "blocks/0", "unknown field colour"),
    ({"blocks": [{"type": "qr"}]}, "blocks/0", "'data' is a required property"),
    ({"blocks": [{"type": "qr", "data": "x" * 2000, "ec": "H"}]}, "blocks/0/data", "holds at most 1273"),
    ({"blocks": [{"type": "barcode", "kind": "ean13", "data": "123"}]}, "blocks/0/data", "12 or 13 digits"),
    ({"blocks": [{"type": "image"}]}, "blocks/0", "needs exactly one of 'path' or 'base64'"),
    ({"blocks": [{"type": "image", "base64": "aGVsbG8="}]}, "blocks/0", "not a readable image"),
    ({"blocks": [{"type": "image", "path": "/no/such.png"}]}, "blocks/0/path", "no such image file"),
    ({"blocks": [{"type": "raw", "hex": "1b40"}]}, "blocks/0", "allow_raw"),
    ({"blocks": "nope"}, "blocks", "is not of type 'array'"),
    ({"blox": []}, "", "'blocks' is a required property"),
    ({"blocks": [{"type": "columns", "columns": [{"width": 0}], "rows": []}]}, "blocks/0/columns/0/width", ""),
]


@pytest.mark.parametrize("doc, path, message", BAD_DOCUMENTS)
def test_schema_errors_name_the_path(doc, path, message):
    errors = errors_of(doc)
    assert any(p == path and message in m for p, m in errors), errors


def test_every_error_is_reported_not_just_the_first():
    errors = errors_of(
        {"blocks": [{"type": "text", "text": 1}, {"type": "cut", "mode": "half"}, {"type": "beep", "times": 0}]}
    )
    assert {p for p, _ in errors} == {"blocks/0/text", "blocks/1/mode", "blocks/2/times"}


def test_oversize_image_refused_at_load():
    errors = errors_of({"blocks": [{"type": "image", "base64": png(8000, 5001)}]})
    assert errors == [("blocks/0", "image is 8000x5001; at most 40,000,000 pixels")]


def test_a_decompression_bomb_is_an_invalid_image_not_a_crash():
    """20000x20000 pixels in 80 bytes: Pillow refuses it before its size can be compared (it was
    a DecompressionBombError out of the document's check, a 'cannot be rendered' in the service)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", 20_000, 20_000, 1, 0, 0, 0, 0))
    bomb = b"\x89PNG\r\n\x1a\n" + header + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    errors = errors_of({"blocks": [{"type": "image", "base64": base64.b64encode(bomb).decode()}]})
    assert errors == [("blocks/0", "image is far larger than 40,000,000 pixels (a decompression bomb)")]


def test_not_json():
    with pytest.raises(InvalidDocument, match="not JSON: Expecting"):
        d.load_document('{"blocks": [}')


def test_round_trip_between_json_and_dataclasses():
    doc = d.from_dict(
        {
            "font": "B",
            "blocks": [
                {"type": "text", "text": "Hi", "bold": True, "align": "center", "width": 2},
                {
                    "type": "columns",
                    "columns": [{"width": 0.5}, {"width": 10, "align": "right"}],
                    "rows": [["a", "b"]],
                    "header": ["x", "y"],
                },
                {"type": "kv", "key": "k", "value": "v"},
                {"type": "rule", "char": "="},
                {"type": "image", "base64": png(16, 8), "dither": "threshold"},
                {"type": "qr", "data": "q", "native": False},
                {"type": "barcode", "kind": "code39", "data": "AB"},
                {"type": "feed", "dots": 12},
                {"type": "cut", "mode": "full", "feed": 3},
                {"type": "beep"},
                {"type": "drawer", "pin": 5},
            ],
        }
    )
    assert isinstance(doc.blocks[0], d.Text) and doc.blocks[0].style.bold and doc.blocks[0].style.width == 2
    assert d.from_dict(json.loads(json.dumps(d.to_dict(doc)))) == doc


def test_raw_is_opt_in():
    doc = d.from_dict({"allow_raw": True, "blocks": [{"type": "raw", "hex": "1b 40"}]})
    assert doc.blocks[0] == d.Raw(b"\x1b@")


def test_template_fills_fields_and_repeats():
    t = {
        "blocks": [
            {"type": "text", "text": "Tisch {table} {{literal}}"},
            {
                "repeat": "items",
                "as": "i",
                "blocks": [{"type": "kv", "key": "{index}. {i.name}", "value": "{i.price}"}],
            },
        ]
    }
    out = fill(t, {"table": 7, "items": [{"name": "Pasta", "price": "9.50"}, {"name": "Vino", "price": "5.00"}]})
    assert out["blocks"] == [
        {"type": "text", "text": "Tisch 7 {literal}"},
        {"type": "kv", "key": "1. Pasta", "value": "9.50"},
        {"type": "kv", "key": "2. Vino", "value": "5.00"},
    ]


@pytest.mark.parametrize(
    "template, values, path, message",
    [
        ({"blocks": [{"type": "text", "text": "{missing}"}]}, {}, "blocks/0/text", "no value for {missing}"),
        ({"blocks": [{"type": "text", "text": "{a.b}"}]}, {"a": {}}, "blocks/0/text", "no value for {a.b}"),
        ({"blocks": [{"type": "text", "text": "{a}"}]}, {"a": {"x": 1}}, "blocks/0/text", "is dict, not text"),
        ({"blocks": [{"type": "text", "text": "{x.__class__}"}]}, {"x": "s"}, "blocks/0/text", "no value"),
        ({"blocks": [{"type": "text", "text": "{0}"}]}, {}, "blocks/0/text", "unmatched '{'"),
        ({"blocks": [{"repeat": "rows", "blocks": []}]}, {"rows": 3}, "blocks/0/repeat", "is not a list"),
    ],
)
def test_template_errors_are_errors_not_blanks(template, values, path, message):
    with pytest.raises(InvalidDocument) as exc:
        fill(template, values)
    ((p, m),) = exc.value.errors
    assert p == path and message in m


def test_a_block_too_wide_for_the_paper_names_its_path():
    from escpos809.layout import Layout
    from escpos809.profile import load_profile

    doc = d.from_dict(
        {
            "blocks": [
                {"type": "rule"},
                {"type": "columns", "columns": [{"width": 40}, {"width": 40}], "rows": [["a", "b"]]},
            ]
        }
    )
    with pytest.raises(InvalidDocument) as exc:
        Layout(load_profile()).run(doc)
    assert exc.value.errors == [("blocks/1", "columns need 81 characters; the line has 48")]


def test_a_column_of_width_1_is_one_character_and_1_0_the_whole_line():
    """1 is both an integer (characters) and a number up to 1 (a fraction): the schema said
    "1 is valid under each of" and refused it; the JSON tells them apart, as the layout does."""
    from escpos809.layout import Layout
    from escpos809.profile import load_profile

    doc = json.loads(
        '{"blocks": [{"type": "columns", "columns": [{"width": 1}, {"width": 1.0}], "rows": [["ab", "cd"]]}]}'
    )
    lines = Layout(load_profile()).run(d.from_dict(doc))
    assert [op.spans[0].text for op in lines] == ["a cd", "b"]


def test_integers_written_as_6_0_print_as_6():
    """JSON Schema takes 6.0 for an integer, and Python's json.dumps(6.0) writes it: each
    block's numbers printed as the same whole numbers (they crashed with TypeError or were
    refused as 'must be an integer 1-16, got 6.0')."""
    from escpos809.profile import load_profile
    from escpos809.receipt import render

    buf = io.BytesIO()
    Image.new("L", (100, 50), 0).save(buf, "PNG")
    png = base64.b64encode(buf.getvalue()).decode()
    blocks = [
        {"type": "image", "base64": png, "width": 80, "threshold": 100},
        {"type": "qr", "data": "x", "size": 6},
        {"type": "feed", "lines": 2},
        {"type": "barcode", "data": "123", "kind": "code128", "height": 80},
        {"type": "text", "text": "x", "width": 2},
        {"type": "cut", "feed": 3},
    ]
    as_floats = json.loads(json.dumps(blocks).replace(": 80", ": 80.0").replace(": 6", ": 6.0").replace(": 2", ": 2.0"))
    assert sum(type(v) is float for b in as_floats for v in b.values()) == 5
    prof = load_profile()
    assert render(d.from_dict({"blocks": as_floats}), prof).data == render(d.from_dict({"blocks": blocks}), prof).data


def test_fast_and_explaining_validators_agree():
    """jsonschema-rs says "valid?", jsonschema says why not: on every sample and every bad case
    here they must give the same verdict, or a bad document could be accepted unexplained."""
    from pathlib import Path

    import jsonschema
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    fast = d._fast_validator()
    assert fast is not None
    slow = jsonschema.Draft202012Validator(d.schema())
    examples = Path(__file__).resolve().parents[2] / "examples"
    docs = [json.loads(p.read_text()) for p in examples.glob("*.json") if not p.name.endswith(".data.json")]
    docs += [doc for doc, _, _ in BAD_DOCUMENTS]
    for doc in docs:
        assert fast.is_valid(doc) == slow.is_valid(doc), doc

    values = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-3, 300),
        st.text(max_size=5),
        st.sampled_from(["left", "center", "B", "A", "full", "H", "code128", "below"]),
    )
    keys = st.sampled_from(
        [
            "type",
            "text",
            "bold",
            "width",
            "height",
            "align",
            "font",
            "char",
            "key",
            "value",
            "data",
            "size",
            "ec",
            "kind",
            "mode",
            "feed",
            "lines",
            "dots",
            "times",
            "pin",
            "x",
        ]
    )
    types = st.sampled_from(["text", "rule", "kv", "qr", "barcode", "feed", "cut", "beep", "drawer", "columns", "x"])
    block = st.builds(lambda t, extra: {"type": t, **extra}, types, st.dictionaries(keys, values, max_size=4))

    @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(block, max_size=4))
    def agree(blocks):
        doc = {"blocks": blocks}
        assert fast.is_valid(doc) == slow.is_valid(doc), doc

    agree()
