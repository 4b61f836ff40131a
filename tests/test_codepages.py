"""Code-page encoding: an independent decoder in this file reads the bytes back with the
profile's table; a dynamic program computes the fewest switches to compare with."""

from hypothesis import given, settings
from hypothesis import strategies as st

from escpos809.escpos.codepages import TextEncoder
from escpos809.profile import load_profile

PROFILE = load_profile()
ENC = TextEncoder(PROFILE)


def read_back(data: bytes, page=None) -> str:
    """Printer-side view: ESC t n selects a page, FS & / FS . bracket GB18030 text."""
    out, i, chinese = [], 0, bytearray()
    in_chinese = False
    while i < len(data):
        if data[i : i + 2] == b"\x1bt":
            page = data[i + 2]
            i += 3
        elif data[i : i + 2] == b"\x1c&":
            in_chinese = True
            i += 2
        elif data[i : i + 2] == b"\x1c.":
            out.append(chinese.decode("gb18030"))
            chinese.clear()
            in_chinese = False
            i += 2
        elif in_chinese:
            chinese.append(data[i])
            i += 1
        else:
            b = data[i : i + 1]
            out.append(b.decode(PROFILE.codepages[page]) if page is not None else b.decode("ascii"))
            i += 1
    assert not in_chinese, "Chinese mode left on"
    return "".join(out)


def fewest_switches(text: str) -> int:
    """Minimum number of ESC t over all page sequences (dynamic programming)."""

    def ok(page, ch):
        if ch in "\n\t":
            return True
        if page is None:
            return ch.isascii() and ch >= " "
        try:
            b = ch.encode(PROFILE.codepages[page])
        except UnicodeEncodeError:
            return False
        return len(b) == 1 and b[0] >= 0x20

    inf = float("inf")
    cost = {None: 0, **{p: inf for p in PROFILE.codepages}}
    for ch in text:
        best = min(cost.values())
        cost = {p: (min(cost[p], best + 1) if p is not None else cost[p]) if ok(p, ch) else inf for p in cost}
        cost[None] = cost[None] if ok(None, ch) else inf
    return min(cost.values())


def test_required_characters_print():
    text = "€ £ ¥ ä ö ü ß é ñ ç ø Ø å Привет"
    enc = ENC.encode(text)
    assert enc.replaced == []
    assert read_back(enc.data) == text


def test_german_receipt_line_needs_one_switch():
    enc = ENC.encode("Hauptstraße 12, 10115 Berlin — 15.40 €".replace("—", "-"))
    assert enc.switches == 1 and enc.data.count(b"\x1bt") == 1
    assert b"\x1bt\x13" in enc.data  # CP858 (ESC t 19 in the Xprinter table) carries ß and €
    again = ENC.encode("Danke für Ihren Besuch! 2,46 €", enc.codepage)
    assert again.switches == 0


def test_ascii_needs_no_switch_and_no_copy():
    enc = ENC.encode("Total 12.50")
    assert enc.data == b"Total 12.50" and enc.codepage is None


def test_cjk_goes_through_chinese_mode_and_back():
    enc = ENC.encode("Ladepunkt 充电站 1")
    assert enc.data == b"Ladepunkt \x1c&" + "充电站".encode("gb18030") + b"\x1c. 1"
    assert read_back(enc.data) == "Ladepunkt 充电站 1"


def test_unencodable_becomes_visible_replacement():
    enc = ENC.encode("ok 😀 \x1b@")
    assert enc.replaced == ["😀", "\x1b"]
    assert b"\x1b" not in enc.data  # text can never smuggle a command
    assert read_back(enc.data) == "ok ? ?@"


alphabet = st.sampled_from(list("abcXYZ 019.,-€£¥äöüßéñçøØåÆœŠžłąęЖждЯΩαβ«»°±") + ["\n"])


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet, max_size=40))
def test_round_trip_and_fewest_switches(text):
    enc = ENC.encode(text)
    assert enc.replaced == []  # every character of the alphabet is on some page
    assert read_back(enc.data) == text
    assert enc.switches == fewest_switches(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_any_unicode_never_raises_and_never_emits_controls(text):
    enc = ENC.encode(text)
    plain = enc.data.replace(b"\x1c&", b"").replace(b"\x1c.", b"")
    i = 0
    while (j := plain.find(b"\x1bt", i)) != -1:  # only ESC t may appear, nothing else
        plain = plain[:j] + plain[j + 3 :]
        i = j
    assert not any(b < 0x20 and b not in (0x0A, 0x09) for b in plain)
