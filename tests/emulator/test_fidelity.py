"""The virtual printer reads each command as print801's firmware reads it (Printer/command/escp/
esc.c, gs.c, fs.c): parameter lengths, what prints where, what stays unknown. Byte strings are
written out from the command reference and the firmware source, not from our encoder."""

from __future__ import annotations

import numpy as np
import pytest
import zxingcpp
from PIL import ImageOps

from escpos809.emulator import state
from escpos809.emulator.interpreter import Interpreter, read_bytes
from escpos809.paper.codes import WIDE_DOTS, barcode_row, upce_from_upca
from escpos809.paper.draw import render_pages
from tests.conftest import h


def printed(data: bytes) -> tuple[list, list[str], list]:
    """Operations, the replies sent back, and the pages (no drawing warning allowed)."""
    replies: list[bytes] = []
    it = Interpreter(reply=replies.append)
    it.feed(data)
    it.finish()
    warnings: list[dict] = []
    pages = render_pages(it.ops, warnings=warnings)
    assert [w for w in warnings if "missing_glyphs" not in w] == []
    return it.ops, [r.hex(" ") for r in replies], pages


def kinds(ops) -> list[str]:
    return [op.kind for op in ops]


def texts(ops) -> list[str]:
    return [op.text for op in ops if op.kind == "text"]


def test_column_image_prints_with_its_line_feed():
    # ESC 3 16, three bands of ESC * 33 (24-dot double density, 4 columns) + LF: 24 dots each
    band = h("1B 2A 21 04 00") + b"\xff" * 12 + b"\n"
    ops, _, pages = printed(h("1B 33 10") + band * 3)
    assert kinds(ops) == ["column_image"] * 3
    assert [op.height for op in ops] == [24, 24, 24] and pages[0].height == 72


def test_column_image_8_dot_modes_are_24_dots_tall_and_single_density_doubles():
    # ESC * 0 (8-dot single density): each bit 3 dots tall, each column 2 dots wide
    ops, _, pages = printed(h("1B 2A 00 02 00 80 01 0A"))
    dots = np.array(pages[0]) < 128
    assert ops[0].height == 32  # line spacing 32 > 24
    assert dots[0:3, 0:2].all() and not dots[3:21, 0:4].any() and dots[21:24, 2:4].all()


def test_column_image_after_text_is_in_the_same_line():
    ops, _, _ = printed(b"AB" + h("1B 2A 21 02 00") + b"\xff" * 6 + b"CD\n")
    image, text = ops
    assert (image.kind, image.height, image.args["x"]) == ("column_image", 0, 24)
    assert text.text == "AB CD" and text.height == 32  # the image's place: one 2-dot blank


def test_column_image_bad_mode_prints_its_parameters():
    ops, _, _ = printed(h("1B 2A 05") + b"AB\n")
    assert kinds(ops) == ["unknown", "text"] and texts(ops) == ["AB"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"A" + h("1B 24 64 00") + b"B\n", [("A", 0), (" ", 88), ("B", 0)]),  # absolute: 100 dots from the edge
        (b"A" + h("1B 5C 0C 00") + b"B\n", [("A", 0), (" ", 12), ("B", 0)]),  # relative: +12
        (b"A" + h("1D 50 66 00 1B 5C 03 00") + b"B\n", [("A", 0), (" ", 6), ("B", 0)]),  # GS P 102: 2-dot units
        (b"A" + h("1B 24 40 02") + b"B\n", [("A", 0), ("B", 0)]),  # 576: outside the line, ignored
        (b"AB" + h("1B 66 00 07") + b"C\n", [("A", 0), ("B", 0), (" ", 7), ("C", 0)]),  # ESC f 0 n: n dots
    ],
)
def test_print_positions_are_blanks_in_the_line(data, expected):
    ops, _, _ = printed(data)
    [line] = [op for op in ops if op.kind == "text"]
    assert [(c.char, c.advance) for c in line.args["cells"]] == expected


def test_going_back_in_a_line_overprints_it():
    # ABC, back to 12 dots (ESC $ 12), then "__": drawn over "BC", nothing erased
    ops, _, pages = printed(b"ABC" + h("1B 24 0C 00") + b"__\n")
    first, second = ops
    assert (first.height, first.args["overprint"], second.height) == (0, True, 32)
    plain = printed(b"ABC\n")[2][0]
    assert ((np.array(plain) < 128) <= (np.array(pages[0]) < 128)).all()


def test_upside_down_only_at_the_start_of_a_line():
    ops, _, pages = printed(h("1B 7B 01") + b"up\n" + b"x" + h("1B 7B 00") + b"\n")
    assert ops[0].args["upside_down"] is True
    assert texts(ops)[1] == "x"  # mid-line, n (00) is not read: a control byte, nothing printed
    top = np.array(pages[0])[:24] < 128
    assert top[:, 552:].any() and not top[:, :500].any()  # "up" turned round: at the right end


@pytest.mark.parametrize(
    ("data", "printed_text"),
    [
        (h("1B 63 34 01") + b"X", "X"),  # ESC c 4 n: 4 bytes
        (h("1B 63 00") + b"X", "X"),  # ESC c 0: 3 bytes
        (h("1B 3F 41") + b"X", "X"),  # ESC ? n
        (h("1B 3D 01") + b"X", "X"),  # ESC = 1
        (h("1C 53 01 02") + b"X", "X"),  # FS S n1 n2
        (h("1C 43 00") + b"X", "X"),  # FS C n
        (h("1D 50 00 00") + b"X", "X"),  # GS P x y
        (h("1B 70 00 32 32") + b"X", "X"),  # ESC p m t1 t2
        (h("1B 70 07") + b"X", "X"),  # ESC p with a bad m: only m is read
        (h("1B 26 03 41 41 01 FF FF FF") + b"X", "X"),  # ESC & 3 c1 c2 x d(3x)
        (h("1D 28 45 03 00 01") + b"IN", "IN"),  # GS ( E: the firmware reads pL pH fn only
    ],
)
def test_parameter_lengths(data, printed_text):
    ops, _, _ = printed(data + b"\n")
    assert texts(ops) == [printed_text]


def test_commands_the_firmware_lacks_print_what_follows():
    ops, _, _ = printed(h("1B 34 01") + b"\n" + h("1D 62 01") + b"\n" + h("1D 6B 4A 02") + b"AB\n")
    commands = [op.args["bytes"] for op in ops if op.kind == "unknown" and len(op.args["bytes"]) > 2]
    assert commands == ["1b 34", "1d 62", "1d 6b 4a"] and texts(ops) == ["AB"]  # n = 02: not printable


def test_printer_disabled_drops_everything_until_enabled():
    ops, _, _ = printed(h("1B 3D 02") + b"lost\n" + h("1B 3D 03") + b"kept\n")
    assert texts(ops) == ["kept"] and ops[1].args == {"enabled": True, "dropped": 5}


def test_macro_runs_r_times():
    ops, _, _ = printed(h("1D 3A") + b"ab\n" + h("1D 3A 1D 5E 02 00 00"))
    assert texts(ops) == ["ab", "ab", "ab"]


def test_downloaded_bit_image_and_variable_image():
    # GS * 1 1 (8 x 8 dots, column format: 8 columns of one byte) then GS / 3 (double both ways)
    ops, _, pages = printed(h("1D 2A 01 01") + bytes([0x80] * 8) + h("1D 2F 03"))
    assert (ops[0].kind, ops[0].height) == ("column_image", 16)
    assert (np.array(pages[0])[:2, :16] < 128).all()
    # GS Q 0 m=0 x=4 y=1: four columns
    ops, _, _ = printed(h("1D 51 30 00 04 00 01 00 FF 81 81 FF"))
    assert ops[0].kind == "column_image" and ops[0].args["columns"] == 4
    # GS / with nothing downloaded: m is not read, it prints
    ops, _, _ = printed(h("1D 2F") + b"3\n")
    assert texts(ops) == ["3"]


@pytest.mark.parametrize(
    ("request_bytes", "reply"),
    [("1D 49 01", "20"), ("1D 49 02", "03"), ("1D 49 43", "5f 4f 43 50 50 2d 38 30 39 00"), ("1B 75 00", "00")],
)
def test_id_and_drawer_replies(request_bytes, reply):
    assert printed(h(request_bytes))[1] == [reply]


@pytest.mark.parametrize(
    ("page", "byte", "char"),
    [(1, 0x95, "─"), (1, 0xB1, "ｱ"), (6, 0xE9, "é"), (7, 0xE1, "α"), (23, 0xC4, "Д"), (53, 0xD5, "€")],
)
def test_code_pages(page, byte, char):
    ops, _, _ = printed(h("1C 2E 1B 74") + bytes([page, byte]) + b"\n")
    assert texts(ops) == [char]


def test_big5_after_fs_c_1():
    ops, _, _ = printed(h("1C 43 01 A4 A4") + b"\n")  # 中 in BIG5
    assert texts(ops) == ["中"]


def test_pdf417_settings_and_print():
    data = b"PDF417 42"
    store = h("1D 28 6B") + (len(data) + 3).to_bytes(2, "little") + h("30 50 30") + data
    ops, _, _ = printed(
        h("1D 28 6B 03 00 30 41 04 1D 28 6B 04 00 30 45 30 32 1D 28 6B 03 00 30 44 05")
        + store
        + h("1D 28 6B 03 00 30 51 30")
    )
    [sym] = ops
    assert (sym.kind, sym.args["symbology"], sym.args["options"]) == (
        "symbol",
        "pdf417",
        {"option_1": 2, "option_2": 4},
    )
    assert (sym.args["module_w"], sym.args["module_h"]) == (2, 10)


def test_qr_functions_read_only_their_parameters():
    # fn 66 is not a QR function: the firmware reads cn fn and stops; "Z" prints
    ops, _, _ = printed(h("1D 28 6B 03 00 31 42") + b"Z\n")
    assert kinds(ops) == ["unknown", "text"] and texts(ops) == ["Z"]


def test_qr_too_big_prints_the_firmware_error_line():
    data = b"x" * 600  # version 15 or so: 77 modules of 8 dots, wider than 576
    store = h("1D 28 6B") + (len(data) + 3).to_bytes(2, "little") + h("31 50 30") + data
    ops, _, _ = printed(h("1D 28 6B 03 00 31 43 08") + store + h("1D 28 6B 03 00 31 51 30"))
    assert texts(ops) == ["BarCode2D Data/Parameter Error"]


def test_data_matrix_through_gs_k():
    ops, _, _ = printed(h("1D 77 04 1D 6B 62 00 00 05 00") + b"DM 42")
    assert ops[0].kind == "symbol" and ops[0].args["symbology"] == "datamatrix"


@pytest.mark.parametrize("module", [2, 3, 4, 5, 6])
def test_two_width_barcodes_use_the_firmware_wide_bars(module):
    row = barcode_row("itf", "12", module)
    runs = np.diff(np.flatnonzero(np.diff(np.concatenate(([0], row.astype(np.int8), [0])) != 0)))
    assert set(runs.tolist()) == {module, WIDE_DOTS[module]}


@pytest.mark.parametrize(
    ("upca", "upce"),
    [("01234500006", "123456"), ("04210000526", "425261"), ("01200000003", "120030"), ("01234000005", "123454")],
)
def test_upce_from_upca(upca, upce):
    # GS1 General Specifications zero-suppression, the four forms
    assert upce_from_upca(upca) == upce


def test_barcode_wider_than_the_paper_feeds_blank():
    data = b"{B" + b"W" * 40  # 40 Code 128 characters at module 6: far beyond 576 dots
    ops, _, _ = printed(h("1D 77 06 1D 6B 49") + bytes([len(data)]) + data)
    assert kinds(ops) == ["warning", "feed"] and ops[1].height == 162


def test_read_bytes_keeps_its_contract():
    ops, y = read_bytes(h("1B 40 1C 2E") + b"hi\n")
    assert kinds(ops) == ["init", "text"] and y == 32


@pytest.mark.parametrize(
    "data",
    [
        h("1D 28 6B FF FF 30 50 30") + b"A" * 65532 + h("1D 28 6B 03 00 30 51 30"),  # PDF417 of 64 KB
        h("1D 6B 62 00 00 FF FF") + b"7" * 65535,  # Data Matrix of 64 KB
        h("1D 5A 02 1B 5A 00 4C 08 FF FF") + b"x" * 65535,  # vendor QR of 64 KB
    ],
)
def test_symbols_too_big_print_the_error_line(data):
    ops, _, _ = printed(data)
    assert texts(ops) == ["BarCode2D Data/Parameter Error"]


def test_macro_is_bounded_and_runs_255_times():
    body = (b"y" * 40 + b"\n") * 60  # 2460 bytes: the firmware keeps 2048
    ops, _, _ = printed(h("1D 3A") + body + h("1D 3A 1D 5E FF 00 00"))
    # the defining pass prints all 60 lines; each of the 255 runs, the first 2048 bytes: 49 lines
    # of 40 and 39 more
    assert sum(len(t) for t in texts(ops)) == 60 * 40 + 255 * (49 * 40 + 39)


def test_a_disabled_printer_drops_a_megabyte_without_holding_it():
    it = Interpreter()
    it.feed(h("1B 3D 02"))
    for _ in range(16):
        it.feed(b"z" * 65536)
        assert it.pending <= 1
    it.feed(h("1B 3D 01") + b"back\n")
    it.finish()
    assert [op.text for op in it.ops if op.kind == "text"] == ["back"]


def test_a_variant_with_gs1_databar_draws_it(monkeypatch):
    """GS k 75 stays unknown on print801; a firmware variant that adds it gets it drawn."""
    data = h("1D 77 03 1D 6B 4B 0D") + b"0950110153000"
    assert "unknown" in kinds(printed(data)[0])
    monkeypatch.setitem(state.BARCODE_NAMES, 75, state.EPSON_GS1[75])
    ops, _, pages = printed(data)
    assert kinds(ops) == ["barcode"]
    found = [r.text for r in zxingcpp.read_barcodes(ImageOps.expand(pages[0], border=32, fill=255))]
    assert found == ["(01)09501101530003"]  # the check digit (3) added, as GS1 specifies


@pytest.mark.parametrize("cut", ["1D 56 00", "1D 56 41 10", "1B 69", "1B 6D"])
def test_a_cut_counts_only_at_the_start_of_a_line(cut):
    ops, _, _ = printed(b"pending" + h(cut) + b"\n" + h(cut))
    assert [k for k in kinds(ops) if k != "feed"] == ["warning", "text", "cut"] and texts(ops) == ["pending"]


def test_right_spacing_follows_each_character():
    # ESC SP 6: 6 dots after each character of font A (12 dots), doubled with double width
    ops, _, _ = printed(h("1B 20 06") + b"ab" + h("1D 21 10") + b"c\n")
    [line] = [op for op in ops if op.kind == "text"]
    assert [(c.char, c.advance) for c in line.args["cells"]] == [
        ("a", 0),
        (" ", 6),
        ("b", 0),
        (" ", 6),
        ("c", 0),
        (" ", 12),
    ]
    wrapped, _, _ = printed(h("1B 20 0C") + b"x" * 30 + b"\n")  # 24 dots a character: 24 a line
    assert [len(t.replace(" ", "")) for t in texts(wrapped)] == [24, 6]


@pytest.mark.parametrize(
    ("size", "ascii_size", "cjk_size"),
    [
        ("1B 21 30", (2, 2), (1, 1)),  # ESC ! double width + height: single-byte characters only
        ("1D 21 11", (2, 2), (2, 2)),  # GS !: both
        ("1C 21 0C", (1, 1), (2, 2)),  # FS ! double width + height: double-byte characters only
        ("1C 57 01", (1, 1), (2, 2)),  # FS W 1
        ("1C 58 03 02", (1, 1), (3, 2)),  # FS X n1 n2
    ],
)
def test_double_byte_characters_have_their_own_size(size, ascii_size, cjk_size):
    ops, _, _ = printed(h(size) + b"A" + h("B3 E4") + b"\n")  # "A" and 充 (GB18030 B3E4)
    [line] = [op for op in ops if op.kind == "text"]
    assert [(c.char, (c.width, c.height)) for c in line.args["cells"]] == [("A", ascii_size), ("充", cjk_size)]
