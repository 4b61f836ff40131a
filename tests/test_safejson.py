"""JSON from outside within limits (escpos809.safejson), and the receipt schema errors that
stay cheap however big the document (escpos809.docerrors)."""

from __future__ import annotations

import json
import re
import time
from decimal import Decimal

import pytest

from escpos809 import document as d
from escpos809.safejson import JsonRefused, Limits, check_text, loads, lone_surrogate


@pytest.mark.parametrize(
    "text, message, limit",
    [
        (b"[" * 100_000, "nested more than 32 levels deep", True),
        (b'{"a":' * 5000 + b"1" + b"}" * 5000, "nested more than 32 levels deep", True),
        (b"[" * 33 + b"]" * 33, "nested more than 32 levels deep", True),
        (b'{"n": ' + b"9" * 4301 + b"}", "(4,301 characters) is too long (at most 40 characters)", True),
        (b"[1e400]", "number 1e400 is out of range", True),
        (b"[-1E+999]", "out of range", True),
        (b"[NaN]", "NaN is not a JSON number", False),
        (b"[Infinity]", "Infinity is not a JSON number", False),
        (b'{"cp": "\\ud800"}', "/cp: a lone UTF-16 surrogate escape is not Unicode text", False),
        (b'["ok", {"\\udc00x": 1}]', "/1/\\udc00x: a lone UTF-16 surrogate", False),
        (b'"\xff"', "the text is not UTF-8", False),
        (b'{"a": ', "Expecting value at line 1 column 7", False),
        (b"]" * 1_000_000, "Expecting value at line 1 column 1", False),
        (b"[" + b"0," * 600_000 + b"0]", "600,001 values; at most 500,000", True),
        (b"[" + b"[]," * 200_000 + b"0]", "200,001 arrays and objects; at most 100,000", True),
    ],
)
def test_refusals_are_precise_and_cheap(text, message, limit):
    start = time.perf_counter()
    with pytest.raises(JsonRefused) as exc:
        loads(text)
    assert time.perf_counter() - start < 0.5
    assert message in str(exc.value) and exc.value.limit is limit


def test_what_is_fine_passes_unchanged():
    assert loads(b'{"e": "\\ud83d\\ude00", "s": "\\\\ud800"}') == {"e": "😀", "s": "\\ud800"}
    assert loads(b'["' + b"9" * 5000 + b'", 1.5e+20, -0.0, 1e-400]') == ["9" * 5000, 1.5e20, -0.0, 0.0]
    assert loads(b"[" * 32 + b"]" * 32) is not None
    assert loads(b'{"v": 0.1}', exact=True) == {"v": Decimal("0.1")}
    assert loads(b'["\\ud800"]', surrogates=True) == ["\ud800"]
    assert loads(b'["' + b"," * 600_000 + b'"]') == ["," * 600_000]  # commas inside a string are no values
    assert loads(b'["\\"' + b"[," * 300_000 + b'"]') == ['"' + "[," * 300_000]  # ... after an escaped quote too
    with pytest.raises(JsonRefused, match="600,001 values; at most 500,000"):
        loads(b"[" + b'"a",' * 600_000 + b'"b"]')
    with pytest.raises(JsonRefused, match="bytes of JSON; at most 10"):
        loads(b'["0123456789"]', Limits(max_bytes=10))
    with pytest.raises(JsonRefused, match="a string of 20 bytes at line 1 column 2; at most 16"):
        loads(b'["' + b"x" * 20 + b'"]', Limits(max_string_bytes=16))


def test_check_text_names_the_field():
    assert check_text("CP-1", "cp", 10) == "CP-1"
    for value, message in [
        (5, "cp must be a string, not a number"),
        ("", "cp is empty"),
        ("x" * 11, "cp has 11 characters; at most 10"),
        ("a\ud800", "cp is not valid Unicode"),
        ("a\x00b", "cp contains the control character U+0000"),
        ("a\x1b@", "control character U+001B"),
    ]:
        with pytest.raises(ValueError, match=re.escape(message)):
            check_text(value, "cp", 10)
    assert lone_surrogate({"a": ["ok", {"b": "x\udfff"}]}) == "/a/1/b"
    assert lone_surrogate({"a": "é"}) is None


def test_schema_errors_of_a_huge_document_stay_cheap():
    assert d.schema()["properties"]["blocks"]["maxItems"] == d.MAX_BLOCKS
    d.validate({"blocks": [{"type": "cut"}]})  # validators built
    cases = [
        (
            {"blocks": [{"type": "text", "text": "line", "bold": "yes"}] * 60_000},
            [("blocks", "60,000 items; at most 50,000 allowed here")],
        ),
        (
            {"blocks": [{"type": "text", "text": "line", "bold": "yes"}] * 40_000},
            [(f"blocks/{i}/bold", "'yes' is not of type 'boolean'") for i in range(10)]
            + [("blocks", "blocks/10 is invalid too; checking stopped there (the first 10 are explained)")],
        ),
        (
            {"blocks": [{"type": "text", "text": "ok"}] * 1999 + [{"type": "text", "text": 1}]},
            [("blocks/1999/text", "1 is not of type 'string'")],
        ),
        (
            {"blocks": [{"type": "columns", "columns": [{"width": 10}] * 3, "rows": [["a"] * 100_000, ["b", 3]]}]},
            [
                ("blocks/0/rows/0", "100,000 items; at most 16 allowed here"),
                ("blocks/0/rows/1/1", "3 is not of type 'string'"),
            ],
        ),
        (
            {"blocks": [{"type": "columns", "columns": [{"width": 10}] * 30, "rows": []}]},
            [("blocks/0/columns", "30 items; at most 16 allowed here")],
        ),
        ({"blocks": [{"type": "cut"}, ["x"] * 100_000]}, [("blocks/1", "a block must be an object, not an array")]),
        (
            {"blocks": [{"type": "text", "text": "x" * 8_000_000, "bold": 1}]},
            [
                ("blocks/0/bold", "1 is not of type 'boolean'"),
                ("blocks/0/text", "8,000,000 characters; at most 1,000,000 allowed here"),
            ],
        ),
    ]
    for doc, expected in cases:
        start = time.perf_counter()
        assert d.validate(doc) == expected
        assert time.perf_counter() - start < 0.1
    many = d.validate({"blocks": [{"type": "text", "text": 1}] * 2000})
    assert len(many) == 11 and many[-1] == (
        "blocks",
        "blocks/10 is invalid too; checking stopped there (the first 10 are explained)",
    )


def test_template_expansion_is_bounded():
    from escpos809.errors import InvalidDocument
    from escpos809.template import fill

    nested = {"repeat": "a", "blocks": [{"type": "text", "text": "{x}"}]}
    for _ in range(2):
        nested = {"repeat": "a", "blocks": [nested]}
    for template, data, message in [
        ({"blocks": [nested]}, {"a": list(range(1000)), "x": "y"}, "repeat would make more than 50,000 items"),
        ({"blocks": [{"type": "text", "text": "{x}" * 100_000}]}, {"x": "y" * 1000}, "more than 16,000,000"),
        ({"blocks": [{"type": "text", "text": "{a." + "9" * 5000 + "}"}]}, {"a": [1]}, "no value for {a.999"),
        ({"blocks": [{"repeat": "a", "as": [], "blocks": []}]}, {"a": [1]}, "'[]' is not a name"),  # found by fuzzing
    ]:
        start = time.perf_counter()
        with pytest.raises(InvalidDocument, match=re.escape(message)):
            fill(template, data)
        assert time.perf_counter() - start < 0.5
    assert (
        json.dumps(
            fill(
                {
                    "blocks": [
                        {"repeat": "o.items", "as": "it", "blocks": [{"type": "text", "text": "{index} {it.n} {shop}"}]}
                    ]
                },
                {"o": {"items": [{"n": "a"}]}, "shop": "S"},
            )
        )
        == '{"blocks": [{"type": "text", "text": "1 a S"}]}'
    )


def test_nesting_is_measured_outside_strings():
    """The depth is judged on the bytes: brackets inside strings (escaped quotes too) do not count."""
    deep = b"[" * 32 + b'"[[[[{{{{ \\" ]]]] [["' + b"]" * 32
    value = loads(deep)
    for _ in range(32):  # 32 levels: allowed
        value = value[0]
    assert value == '[[[[{{{{ " ]]]] [['
    assert loads(b'{"a": "' + b"{[" * 100 + b'", "b": [["x"]]}') == {"a": "{[" * 100, "b": [["x"]]}
    for too_deep in (b"[" * 33 + b'"]]"' + b"]" * 33, b'[{"a": "\\"", "b": ' * 17 + b"1" + b"}]" * 17):
        with pytest.raises(JsonRefused, match="nested more than 32 levels deep"):
            loads(too_deep)


def test_loads_keeping_gives_the_member_as_sent():
    from escpos809.safejson import loads_keeping

    line = b' {"cp": "CP-1", "frame" : [2, "a", "Heartbeat", {"v": 1.50, "s": "\\u00e4"}] , "ts": 1}\n'
    value, [text] = loads_keeping(line, "frame", exact=True)
    assert value == loads(line, exact=True)
    assert text == '[2, "a", "Heartbeat", {"v": 1.50, "s": "\\u00e4"}]'
    assert loads(text.encode(), exact=True) == value["frame"]
    # an array: one text per item, None where an item has no such member or is no object
    value, texts = loads_keeping(b'[{"frame": [1]}, 3, {"x": 1}, {"frame": "s", "frame": [2]}]', "frame")
    assert value == [{"frame": [1]}, 3, {"x": 1}, {"frame": [2]}]
    assert texts == ["[1]", None, None, "[2]"]  # repeated names: the last wins, as in the value
    assert loads_keeping(b"{}", "frame") == ({}, [None])
    # the name met again after the value, nested, or inside a string: the member's own text
    assert loads_keeping(b'{"ts": 1, "frame": [1.0], "frame": [2]}', "frame")[1] == ["[2]"]
    assert loads_keeping(b'{"a": {"frame": [9]}, "frame": [1.0], "z": "\\"frame\\""}', "frame")[1] == ["[1.0]"]
    assert loads_keeping(b'{"a": "{\\"frame\\": [9]", "frame": [1.0]}', "frame")[1] == ["[1.0]"]
    # a name with escapes is the name it spells: the last member of that name, wherever
    # it is, gives the value and the text (a log line kept "[1]" and processed [2.50])
    for line in (
        b'{"cp": "C", "frame": [1], "fr\\u0061me": [2.50]}',
        b'{"fr\\u0061me": [1], "cp": "C", "frame": [2.50]}',
    ):
        assert loads_keeping(line, "frame", exact=True) == ({"cp": "C", "frame": [Decimal("2.50")]}, ["[2.50]"])
    assert loads_keeping(b'[{"\\u0066rame": [1], "z": 0}, {"frame": [2]}]', "frame")[1] == ["[1]", "[2]"]
    assert loads_keeping(b'{"a": 1, "frame": [1], "b": "\\"frame\\""}', "frame")[1] == ["[1]"]


@pytest.mark.parametrize(
    "text",
    [b'{"frame": [1],}', b'{"a\x01": 1}', b'{"frame": [1]} x', b'[{"frame": 01}]', b'{"frame": NaN}', b"[1e999]"],
)
def test_loads_keeping_refuses_as_loads_does(text):
    from escpos809.safejson import loads_keeping

    with pytest.raises(JsonRefused) as kept:
        loads_keeping(text, "frame")
    with pytest.raises(JsonRefused) as plain:
        loads(text)
    assert str(kept.value) == str(plain.value)


def _nesting(value) -> int:
    """The depth of a parsed value, walked in Python (what the byte-level measure must agree with)."""
    if isinstance(value, dict):
        return 1 + max(map(_nesting, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_nesting, value), default=0)
    return 0


def test_nesting_measured_on_the_bytes_agrees_with_the_parsed_value():
    """Strings full of brackets, quotes and backslashes around nesting near the limit: the bytes'
    measure (brackets alone when every string is free of them, quote parity otherwise, strings
    cut out when a quote is escaped) refuses exactly what is deeper than 32."""
    import random

    rng = random.Random(809)
    # per document: plain strings (the brackets alone tell), brackets in strings (quote
    # parity), escaped quotes too (strings cut out)
    alphabets = ["a \n:,", "a []{}:,", 'a []{}:,"\\']
    alphabet = alphabets[0]

    def string() -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.choice((0, 0, 1, 3, 8))))

    def value(depth: int):
        """A spine ``depth`` deep, with shallow values beside it."""
        if depth <= 0:
            return rng.choice([string(), 1, None, True, [], {}])
        items = [value(min(depth - 1, rng.randint(0, 2))) for _ in range(rng.randint(0, 2))]
        items.insert(rng.randint(0, len(items)), value(depth - 1))
        if rng.random() < 0.5:
            return items
        return {f"{string()}{i}": v for i, v in enumerate(items)}

    seen = {True: 0, False: 0}
    for n in range(600):
        alphabet = alphabets[n % 3]
        spine = value(rng.randint(30, 34))
        # as it is (a short text: its brackets are picked out on their own), and padded past
        # 100,000 bytes (they come from the counting pass), one level deeper
        for doc in (spine, [spine, "p" * 100_000]) if n % 4 == 0 else (spine,):
            text = json.dumps(doc).encode()
            deep = _nesting(doc) > 32
            seen[deep] += 1
            if deep:
                with pytest.raises(JsonRefused, match="nested more than 32 levels deep"):
                    loads(text)
            else:
                assert loads(text) == doc
    assert min(seen.values()) > 50, seen  # both sides of the limit were tried


def test_schema_checking_stops_at_the_first_invalid_block_past_those_explained():
    late = [{"type": "cut"}] * 30_000 + [{"type": "cut", "mode": "x"}] * 11 + [{"type": "text"}] * 5
    errors = d.validate({"blocks": late})
    assert [p for p, _ in errors[:10]] == [f"blocks/{30_000 + i}/mode" for i in range(10)]
    assert errors[10:] == [
        ("blocks", "blocks/30010 is invalid too; checking stopped there (the first 10 are explained)")
    ]
    exactly = d.validate({"blocks": [{"type": "cut", "mode": "x"}] * 10 + [{"type": "cut"}] * 5})
    assert len(exactly) == 10 and all(p.endswith("/mode") for p, _ in exactly)  # no "stopped" said


def test_blocks_explained_by_their_type_say_what_the_whole_schema_says(monkeypatch):
    """docerrors explains a block of a known type by its type's definition alone: on random
    blocks (unknown types, missing fields, wrong values, unknown fields) the errors are those
    jsonschema finds walking the whole document."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    values = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-3, 300),
        st.text(max_size=4),
        st.sampled_from(["left", "center", "B", "code128", "full", "M", "below"]),
        st.lists(st.sampled_from(["a", 1, None]), max_size=3),
    )
    keys = st.sampled_from(
        ["type", "text", "bold", "width", "align", "char", "key", "value", "data", "kind", "mode", "lines", "pin", "x"]
    )
    types = st.sampled_from(["text", "rule", "kv", "qr", "barcode", "feed", "cut", "beep", "drawer", "columns", "x", 3])
    block = st.one_of(
        st.builds(lambda t, extra: {"type": t, **extra}, types, st.dictionaries(keys, values, max_size=4)),
        st.dictionaries(keys, values, max_size=3),  # no type, or any
    )

    def whole(doc: dict) -> list[tuple[str, str]]:
        with monkeypatch.context() as m:  # the document's errors from jsonschema alone
            m.setattr(d, "_explainer", lambda: None)
            return d.validate(doc)

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(block, min_size=1, max_size=4))
    def same(blocks):
        doc = {"blocks": blocks}
        assert d.validate(doc) == whole(doc), doc

    same()
