"""Every builder against the hex values of ../shared/reference/ocpp809-commands.md
(section numbers in the comments). Expected bytes are written from the reference, not the code."""

import pytest

from escpos809.escpos import codes, vendor
from escpos809.escpos import commands as c
from tests.conftest import h


@pytest.mark.parametrize(
    "built, expected",
    [
        # §1 initialise, Chinese mode
        (c.initialize(), "1B 40 1C 2E"),
        (c.initialize(cancel_chinese=False), "1B 40"),
        (c.chinese_mode(), "1C 26"),
        (c.cancel_chinese_mode(), "1C 2E"),
        # §3 code page
        (c.select_codepage(19), "1B 74 13"),
        (c.select_codepage(0), "1B 74 00"),
        # §2 styles
        (c.bold(True), "1B 45 01"),
        (c.bold(False), "1B 45 00"),
        (c.underline(0), "1B 2D 00"),
        (c.underline(1), "1B 2D 01"),
        (c.underline(2), "1B 2D 02"),
        (c.char_size(1, 1), "1D 21 00"),
        (c.char_size(2, 2), "1D 21 11"),
        (c.char_size(2, 1), "1D 21 10"),
        (c.char_size(1, 2), "1D 21 01"),
        (c.char_size(8, 8), "1D 21 77"),
        (c.print_mode(), "1B 21 00"),
        (c.print_mode(double_height=True), "1B 21 10"),
        (c.print_mode(double_width=True), "1B 21 20"),
        (c.print_mode(double_width=True, double_height=True), "1B 21 30"),
        (c.print_mode(font_b=True, bold=True, underline=True), "1B 21 89"),
        (c.inverse(True), "1D 42 01"),
        (c.inverse(False), "1D 42 00"),
        (c.font("A"), "1B 4D 00"),
        (c.font("b"), "1B 4D 01"),
        (c.align("left"), "1B 61 00"),
        (c.align("center"), "1B 61 01"),
        (c.align("right"), "1B 61 02"),
        (c.line_spacing(), "1B 32"),
        (c.line_spacing(24), "1B 33 18"),
        (c.left_margin(0), "1D 4C 00 00"),
        (c.print_area_width(576), "1D 57 40 02"),
        # feeds
        (c.feed_lines(6), "1B 64 06"),
        (c.feed_dots(0), "1B 4A 00"),
        (c.feed_dots(255), "1B 4A FF"),
        # §8 cutter: the mode asked for is the mode sent
        (c.cut("full"), "1D 56 00"),
        (c.cut("partial"), "1D 56 01"),
        (c.cut("full", feed=16), "1D 56 41 10"),
        (c.cut("partial", feed=0), "1D 56 42 00"),
        # §10 drawer (python-escpos CD_KICK_2 / CD_KICK_5 values)
        (c.drawer_kick(2), "1B 70 00 32 32"),
        (c.drawer_kick(5), "1B 70 01 32 32"),
        # §11 status
        (c.status_request(1), "10 04 01"),
        (c.status_request(2), "10 04 02"),
        (c.status_request(3), "10 04 03"),
        (c.status_request(4), "10 04 04"),
        (c.automatic_status_back(), "1D 61 00"),
        (c.transmit_status(1), "1D 72 01"),  # §11 GS r n: 1/49 paper, 2/50 drawer
        (c.transmit_status(49), "1D 72 31"),
        (c.transmit_status(2), "1D 72 02"),
        (c.transmit_status(50), "1D 72 32"),
        # GS I n (print801 FW gs.c Command_1D49: 1-3 / 49-51 one byte back, 65-69 a string)
        (c.printer_id(1), "1D 49 01"),
        (c.printer_id(51), "1D 49 33"),
        (c.printer_id(66), "1D 49 42"),
        (c.printer_id(69), "1D 49 45"),
        # §9 buzzer and alarm
        (vendor.beep(3, 2), "1B 42 03 02"),
        (vendor.beep(9, 9), "1B 42 09 09"),
        (vendor.alarm(2, 10, "both"), "1B 43 02 0A 03"),
        (vendor.alarm(20, 1, "beep"), "1B 43 14 01 01"),
        (vendor.alarm(1, 20, "light"), "1B 43 01 14 02"),
        (vendor.status_port_request(), "1B 76"),
    ],
)
def test_builder_bytes(built, expected):
    assert built == h(expected)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: c.char_size(9, 1), "width multiplier must be 1-8, got 9"),
        (lambda: c.char_size(1, 0), "height multiplier must be 1-8, got 0"),
        (lambda: c.feed_lines(256), "feed lines must be 0-255"),
        (lambda: c.feed_dots(-1), "feed dots must be 0-255"),
        (lambda: c.select_codepage(300), "code page must be 0-255"),
        (lambda: c.cut("half"), "cut mode must be one of full, partial"),
        (lambda: c.cut("full", feed=256), "cut feed must be 0-255"),
        (lambda: c.underline(3), "underline must be one of 0, 1, 2"),
        (lambda: c.align("middle"), "alignment must be one of"),
        (lambda: c.font("C"), "font must be one of a, b"),
        (lambda: c.drawer_kick(3), "drawer pin must be one of 2, 5"),
        (lambda: c.drawer_kick(2, on_ms=600), "drawer on time (ms) must be 0-510"),
        (lambda: c.status_request(5), "status request must be 1-4"),
        (lambda: c.transmit_status(3), "transmit status must be one of 1, 2, 49, 50"),
        (lambda: vendor.beep(10, 1), "beep count must be 1-9, got 10"),
        (lambda: vendor.beep(1, 0), "beep duration must be 1-9, got 0"),
        (lambda: vendor.alarm(21, 1), "alarm count must be 1-20"),
        (lambda: vendor.alarm(1, 21), "alarm interval must be 1-20"),
        (lambda: vendor.alarm(1, 1, "siren"), "alarm mode must be one of"),
        (lambda: c.line_spacing(256), "line spacing must be 0-255"),
        (lambda: c.char_size(True, 1), "must be an integer"),
    ],
)
def test_out_of_range_names_the_range(call, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()


def test_raster_header_and_size_check():
    # §5: a 384 x 120 logo is 1D 76 30 00 30 00 78 00 + 5,760 data bytes = 5,768 B
    data = bytes(48 * 120)
    out = c.raster_image(48, 120, data)
    assert out[:8] == h("1D 76 30 00 30 00 78 00")
    assert len(out) == 5768
    with pytest.raises(ValueError, match="raster bytes per row must be 1-256"):
        c.raster_image(257, 1, bytes(257))
    with pytest.raises(ValueError, match="raster rows must be 1-2303"):
        c.raster_image(1, 2304, bytes(2304))
    with pytest.raises(ValueError, match="expected 48 x 120"):
        c.raster_image(48, 120, bytes(10))


QR_URL = "https://charge.example.com/r/2024/000123?s=ABCDEFGHJKLMNPQRS"


def test_qr_golden_vector():
    # §6 golden vector: 101 bytes
    expected = (
        h("1D 28 6B 04 00 31 41 32 00")
        + h("1D 28 6B 03 00 31 43 06")
        + h("1D 28 6B 03 00 31 45 31")
        + h("1D 28 6B 3F 00 31 50 30")
        + QR_URL.encode()
        + h("1D 28 6B 03 00 31 51 30")
    )
    assert len(QR_URL) == 60 and len(expected) == 101
    assert codes.qr_code(QR_URL, size=6, ec="M") == expected


@pytest.mark.parametrize("ec, byte", [("L", 0x30), ("M", 0x31), ("Q", 0x32), ("H", 0x33)])
def test_qr_error_levels(ec, byte):
    assert h("1D 28 6B 03 00 31 45") + bytes([byte]) in codes.qr_code("x", ec=ec)


def test_qr_model_1_and_sizes():
    assert codes.qr_code("x", model=1).startswith(h("1D 28 6B 04 00 31 41 31 00"))
    assert h("1D 28 6B 03 00 31 43 10") in codes.qr_code("x", size=16)
    with pytest.raises(ValueError, match="QR module size must be 1-16, got 17"):
        codes.qr_code("x", size=17)
    with pytest.raises(ValueError, match="QR error level must be one of"):
        codes.qr_code("x", ec="X")


def test_qr_store_length_two_bytes():
    data = "A" * 1000
    out = codes.qr_code(data, ec="L")
    # pL pH = k + 3 = 1003 = 0x03EB
    assert h("1D 28 6B EB 03 31 50 30") + data.encode() in out


def test_qr_capacity_is_checked():
    codes.qr_code("A" * 2331, ec="M")
    with pytest.raises(ValueError, match="at error level M a QR code holds at most 2331"):
        codes.qr_code("A" * 2332, ec="M")
    with pytest.raises(ValueError, match="empty"):
        codes.qr_code("")


def test_qr_legacy_form():
    # §6 Xprinter legacy form: 1D 28 6B 30 67 n / 30 69 e / 30 80 nL nH d / 30 81
    assert codes.qr_code("AB", size=6, ec="M", form="legacy") == (
        h("1D 28 6B 30 67 06") + h("1D 28 6B 30 69 31") + h("1D 28 6B 30 80 02 00") + b"AB" + h("1D 28 6B 30 81")
    )


def test_qr_utf8_payload():
    out = codes.qr_code("Zähler €")
    payload = "Zähler €".encode()
    assert (len(payload) + 3).to_bytes(2, "little") + h("31 50 30") + payload in out


def test_code128_golden_vector():
    # §7 golden vector (without the ESC a 1 that precedes it there)
    expected = h("1D 68 40 1D 77 02 1D 66 00 1D 48 02 1D 6B 49 0F 7B 42 43 48 47 32 30 32 34 30 30 30 31 32 33")
    assert codes.barcode("code128", "CHG2024000123", height=64, width=2, hri="below", code128_set="B") == expected


@pytest.mark.parametrize(
    "data, expected",
    [
        ("CHG2024000123", b"{BCHG{C" + bytes([20, 24, 0, 1, 23])),  # digits at the end switch to C
        ("12345678", b"{C" + bytes([12, 34, 56, 78])),
        ("12", b"{C" + bytes([12])),
        ("123", b"{B123"),  # too short for C
        ("12345", b"{B1{C" + bytes([23, 45])),  # odd run: one digit in B first
        ("AB1234CD", b"{BAB1234CD"),  # 4 digits mid-way: not worth it
        ("AB123456CD", b"{BAB{C" + bytes([12, 34, 56]) + b"{BCD"),  # 6 digits mid-way: C
        ("ab\x01", b"{Bab{A\x01"),  # control character needs set A
        ("\tX", b"{A\tX"),
        ("a{b", b"{Ba{{b"),  # literal brace doubled
    ],
)
def test_code128_automatic_code_sets(data, expected):
    assert codes.code128_bytes(data) == expected


@pytest.mark.parametrize(
    "kind, data, m",
    [
        ("upca", "03600029145", 65),
        ("upca", "036000291452", 65),
        ("ean13", "400638133393", 67),
        ("ean13", "4006381333931", 67),
        ("ean8", "9638507", 68),
        ("ean8", "96385074", 68),
        ("code39", "ABC-123", 69),
        ("code39", "*ABC*", 69),
        ("itf", "12345678", 70),
        ("codabar", "A40156B", 71),
        ("code93", "Code 93!", 72),
    ],
)
def test_barcode_function_b(kind, data, m):
    out = codes.barcode(kind, data, hri="none")
    assert out.endswith(h("1D 6B") + bytes([m, len(data)]) + data.encode())
    assert out.startswith(h("1D 68 A2 1D 77 03 1D 66 00 1D 48 00"))


@pytest.mark.parametrize(
    "kind, data, message",
    [
        ("ean13", "400638133392", None),  # valid body (12 digits) -> no error
        ("ean13", "4006381333932", "check digit of 4006381333932 should be 1"),
        ("ean13", "40063813339", "takes 12 or 13 digits, got 11"),
        ("ean13", "40063813339a", "digits only"),
        ("ean8", "96385075", "should be 4"),
        ("upca", "036000291453", "should be 2"),
        ("itf", "123", "even number"),
        ("code39", "abc", "not 'abc'"),
        ("codabar", "40156", "must start and end with A-D"),
        ("code93", "", "1-255 ASCII"),
        ("code128", "Grüße", "ASCII only"),
        ("code128", "", "empty"),
        ("code128", "x" * 300, "the printer takes 1-255"),
        ("qr", "1", "barcode type must be one of"),
    ],
)
def test_barcode_validation(kind, data, message):
    if message is None:
        codes.barcode(kind, data)
        return
    with pytest.raises(ValueError, match=message):
        codes.barcode(kind, data)


def test_barcode_option_ranges():
    with pytest.raises(ValueError, match="barcode module width must be 2-6, got 7"):
        codes.barcode("code39", "A", width=7)
    with pytest.raises(ValueError, match="barcode height must be 1-255, got 0"):
        codes.barcode("code39", "A", height=0)
    with pytest.raises(ValueError, match="HRI position must be one of"):
        codes.barcode("code39", "A", hri="left")
    assert h("1D 48 03") in codes.barcode("code39", "A", hri="both")
    assert h("1D 66 01") in codes.barcode("code39", "A", hri_font="B")
