"""The interpreter on streams written from the reference's hex (not from the encoder),
plus fuzzing: no input may raise, and the state stays within the printer's ranges."""

from hypothesis import given, settings
from hypothesis import strategies as st

from escpos809.emulator.interpreter import Interpreter
from tests.conftest import h


def run(data: bytes, chunk: int | None = None):
    replies = []
    it = Interpreter(reply=replies.append)
    if chunk:
        for i in range(0, len(data), chunk):
            it.feed(data[i : i + chunk])
    else:
        it.feed(data)
    it.finish()
    return it, replies


def kinds(it):
    return [op.kind for op in it.ops]


def test_text_styles_from_reference_bytes():
    data = (
        h("1B 40 1C 2E 1B 45 01 1D 21 11") + b"BIG" + h("1B 45 00 1D 21 00 0A 1B 2D 02 1B 4D 01 1D 42 01") + b"small\n"
    )
    it, _ = run(data)
    lines = [op for op in it.ops if op.kind == "text"]
    assert [op.text for op in lines] == ["BIG", "small"]
    big, small = lines[0].args["cells"][0], lines[1].args["cells"][0]
    assert (big.bold, big.width, big.height, big.font) == (True, 2, 2, "A")
    assert (small.bold, small.underline, small.font, small.inverse) == (False, 2, "B", True)
    assert lines[0].height == 48 and lines[1].height == 32


def test_chinese_mode_is_on_after_power_on_and_init():
    # without FS . the clone reads é (0x82 in CP437/CP858) + next byte as a GB18030 pair
    it, _ = run(h("1B 40 1B 74 13") + "é!".encode("cp858") + b"\n")
    assert it.ops[-1].text != "é!"
    it, _ = run(h("1B 40 1C 2E 1B 74 13") + "é!".encode("cp858") + b"\n")
    assert it.ops[-1].text == "é!"
    it, _ = run(h("1B 40 1C 26") + "中文".encode("gb18030") + h("1C 2E 0A"))
    assert it.ops[-1].text == "中文" and it.ops[-1].args["cells"][0].double_byte


def test_alignment_feeds_and_wrapping():
    it, _ = run(h("1B 40 1C 2E 1B 61 01") + b"x" * 50 + h("1B 64 03 1B 4A 10"))
    texts = [op for op in it.ops if op.kind == "text"]
    assert [len(op.text) for op in texts] == [48, 2]  # 48 columns of font A, then wrap
    assert texts[0].args["align"] == 1
    # ESC d 3 after "xx": the line prints with its own feed, then 2 more (print801 Command_1B64)
    assert [op.args.get("dots") for op in it.ops if op.kind == "feed"] == [64, 16]


def test_cut_modes_as_sent():
    it, _ = run(h("1D 56 00 1D 56 01 1D 56 30 1D 56 31 1D 56 41 10 1D 56 42 00 1B 69 1B 6D"))
    cuts = [(op.args["mode"], op.args["feed"]) for op in it.ops if op.kind == "cut"]
    assert cuts == [
        ("full", None),
        ("partial", None),
        ("full", None),
        ("partial", None),
        ("full", 16),
        ("partial", 0),
        ("partial", None),
        ("partial", None),
    ]


def test_buzzer_alarm_drawer():
    it, _ = run(h("1B 42 03 02 1B 43 02 0A 03 1B 70 00 32 32 1B 70 01 32 32 1B 42 0A 01"))
    ops = [(op.kind, op.args) for op in it.ops]
    assert ops[0] == ("beep", {"times": 3, "duration_ms": 100})
    assert ops[1] == ("alarm", {"times": 2, "interval_ms": 500, "mode": "both"})
    assert ops[2] == ("drawer", {"pin": 2, "on_ms": 100, "off_ms": 100})
    assert ops[3][1]["pin"] == 5
    assert ops[4][0] == "warning"  # ESC B 10 1 is outside 1-9


def test_qr_golden_vector_parsed():
    url = b"https://charge.example.com/r/2024/000123?s=ABCDEFGHJKLMNPQRS"
    data = (
        h("1B 61 01 1D 28 6B 04 00 31 41 32 00 1D 28 6B 03 00 31 43 06 1D 28 6B 03 00 31 45 31")
        + h("1D 28 6B 3F 00 31 50 30")
        + url
        + h("1D 28 6B 03 00 31 51 30")
    )
    it, _ = run(data, chunk=5)
    qr = [op for op in it.ops if op.kind == "qr"][0]
    assert qr.args["data"] == url.decode() and qr.args["size"] == 6 and qr.args["ec"] == "M"
    assert qr.args["align"] == 1 and qr.height == qr.args["modules"] * 6


def test_legacy_qr_form():
    it, _ = run(h("1D 28 6B 30 67 05 1D 28 6B 30 69 33 1D 28 6B 30 80 02 00") + b"AB" + h("1D 28 6B 30 81"))
    qr = it.ops[-1]
    assert qr.kind == "qr" and qr.args["data"] == "AB" and qr.args["size"] == 5 and qr.args["ec"] == "H"


def test_barcode_golden_vector_and_function_a():
    data = h("1B 61 01 1D 68 40 1D 77 02 1D 66 00 1D 48 02 1D 6B 49 0F 7B 42 43 48 47 32 30 32 34 30 30 30 31 32 33")
    data += h("1D 6B 04") + b"CODE39" + h("00") + h("1D 6B 49 08 7B 42 41 7B 43") + bytes([12, 34, 56])
    it, _ = run(data)
    bars = [op for op in it.ops if op.kind == "barcode"]
    assert [(b.args["type"], b.args["data"]) for b in bars] == [
        ("code128", "CHG2024000123"),
        ("code39", "CODE39"),
        ("code128", "A123456"),
    ]
    assert bars[0].args["bar_height"] == 64 and bars[0].args["module"] == 2 and bars[0].args["hri"] == "below"
    assert not any(op.kind == "text" for op in it.ops)  # no data leaking as text (escpos-tools' bug)


def test_raster_bands():
    it, _ = run(h("1D 76 30 00 02 00 03 00") + bytes([0x80, 0x01] * 3) + h("1D 76 30 00 02 00 01 00 FF FF"))
    rasters = [op for op in it.ops if op.kind == "raster"]
    assert [(r.args["width_bytes"], r.args["rows"], r.y) for r in rasters] == [(2, 3, 0), (2, 1, 3)]


def test_status_replies_follow_faults():
    replies = []
    it = Interpreter(reply=replies.append)
    it.feed(h("10 04 01 10 04 02 10 04 03 10 04 04"))
    it.faults.cover_open = True
    it.faults.paper_near_end = True
    it.feed(h("10 04 01 10 04 02 10 04 04"))
    it.faults.silent = True
    it.feed(h("10 04 01"))
    assert replies == [b"\x12", b"\x12", b"\x12", b"\x12", b"\x1a", b"\x16", b"\x1e"]


def test_status_request_split_across_reads_answered_once():
    replies = []
    it = Interpreter(reply=replies.append)
    for b in h("10 04 01 10 04 04"):
        it.feed(bytes([b]))
    assert replies == [b"\x12", b"\x12"]


def test_network_commands():
    it, _ = run(h("1F 1B 1F 91 00 49 50 C0 A8 13 64"))
    net = [op for op in it.ops if op.kind == "network"][0]
    assert net.args == {
        "method": "91ip",
        "ip": "192.168.19.100",
        "mask": "255.255.255.0",
        "gateway": "192.168.19.1",
        "dhcp": False,
    }
    assert it.ops[-1].kind == "cut"  # the firmware prints the settings and cuts
    it, _ = run(h("1F 1B 1F 91 00 49 FA 01 5A C0 A8 01 32 FF FF 00 00 C0 A8 01 FE"))
    assert it.network.mask == "255.255.0.0" and it.network.gateway == "192.168.1.254" and it.network.dhcp


def test_unknown_and_truncated_are_recorded():
    it, _ = run(h("1B 99 1D 28 6B 10 00 31"))
    assert kinds(it) == ["unknown", "truncated"]
    it, _ = run(h("1F 1B 1F 77") + b"XYZ\n")
    assert kinds(it)[0] == "unknown" and it.ops[-1].text == "XYZ"  # garbage prints, as on the printer


def test_paper_runs_out_and_pauses():
    it = Interpreter()
    it.faults.paper_mm = 10.0  # 10 mm = 80 dots
    it.feed(b"\n" * 5)  # 5 x 32 dots > 80
    assert it.faults.paper_out and it.paused
    assert it.pending > 0  # the rest waits in the buffer
    it.faults.paper_out, it.faults.paper_mm = False, None
    it.process()
    assert it.pending == 0


styles = st.sampled_from(
    [
        h("1B 40"),
        h("1C 2E"),
        h("1C 26"),
        h("1B 45 01"),
        h("1D 21 11"),
        h("1D 21 77"),
        h("1B 61 01"),
        h("1B 74 13"),
        h("1B 4D 01"),
        h("1D 42 01"),
        b"Text \xe9\xd5 ",
        h("1D 56 42 00"),
        h("1B 64 02"),
        h("0A"),
        h("1D 76 30 00 01 00 02 00 F0 0F"),
        h("1D 28 6B 04 00 31 41 32 00 1D 28 6B 05 00 31 50 30 41 42 1D 28 6B 03 00 31 51 30"),
        h("1D 6B 49 04 7B 42 41 42"),
        h("10 04 01"),
        h("1F 1B 1F 91 00 49 50 0A 00 00 05"),
    ]
)


def check_state(it: Interpreter) -> None:
    s = it.style
    assert 1 <= s.width <= 8 and 1 <= s.height <= 8
    assert s.align in (0, 1, 2) and s.font in ("A", "B") and s.underline in (0, 1, 2)
    assert 0 <= s.left_margin <= 576 and 0 < s.print_width <= 576
    assert all(op.height >= 0 for op in it.ops)
    ys = [op.y for op in it.ops]
    assert ys == sorted(ys)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), st.integers(1, 64))
def test_fuzz_random_bytes(data, chunk):
    it, _ = run(data, chunk)
    check_state(it)


@settings(max_examples=200, deadline=None)
@given(st.lists(styles, max_size=20), st.data())
def test_fuzz_mutated_valid_streams(parts, draw):
    data = bytearray(b"".join(parts))
    for _ in range(draw.draw(st.integers(0, 5))):
        if data:
            pos = draw.draw(st.integers(0, len(data) - 1))
            op = draw.draw(st.sampled_from(["flip", "drop", "insert"]))
            if op == "flip":
                data[pos] = draw.draw(st.integers(0, 255))
            elif op == "drop":
                del data[pos]
            else:
                data.insert(pos, draw.draw(st.sampled_from([0x1B, 0x1D, 0x1C, 0x10, 0x1F, 0x00, 0xFF])))
    it, _ = run(bytes(data), draw.draw(st.integers(1, 50)))
    check_state(it)


def test_tab_stops_count_in_the_character_width_when_set():
    # ESC D 10 20 in font A (12 dots) = stops at 120 and 240 dots
    it, _ = run(h("1B 44 0A 14 00") + b"ab\tc\t\td\n")
    cells = it.ops[-1].args["cells"]
    text = "".join(c.char for c in cells)
    assert text.index("c") == 10 and text.index("d") == 20  # the second HT: no stop left, nothing
    # set while double width: the stop is 2 x 12 x 5 = 120 dots, reached by 10 font-A cells
    it, _ = run(h("1D 21 10 1B 44 05 00 1D 21 00") + b"x\ty\n")
    assert "".join(c.char for c in it.ops[-1].args["cells"]).index("y") == 10
    it, _ = run(h("1B 44 FF 00") + b"a\tb\n")  # a stop beyond the paper is ignored
    assert it.ops[-1].text == "ab"


def test_epson_qr_with_45_bytes_is_not_taken_for_the_legacy_form():
    """pL = 0x30 (45 bytes of data + 3) starts like the Xprinter legacy form (GS ( k 30 fn);
    found by hypothesis: a 45-byte QR was read as an unknown legacy function."""
    from escpos809.document import QR, Document
    from escpos809.receipt import render

    for n in (44, 45, 46):
        it = Interpreter()
        it.feed(render(Document((QR("x" * n),))).data)
        it.finish()
        qrs = [op for op in it.ops if op.kind == "qr"]
        assert len(qrs) == 1 and not [op for op in it.ops if op.kind in ("unknown", "bad")], n
