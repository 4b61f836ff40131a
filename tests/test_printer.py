"""Printer over the in-memory transport: what goes on the wire for each call."""

from PIL import Image

from escpos809.printer import Printer
from escpos809.transport.memory import MemoryTransport
from tests.conftest import h


def make(responder=None):
    t = MemoryTransport(responder=responder)
    return Printer(t), t


def test_raw_bytes_with_esc_t_make_the_page_unknown():
    p, t = make()
    with p:
        p.text("€")
        p.send(b"\x1bt\x00")  # the user picked CP437 by hand
        p.text("€")
    assert bytes(t.written) == h("1B 74 13 D5 1B 74 00 1B 74 13 D5")


def test_code_page_is_sent_again_after_initialise():
    p, t = make()
    with p:
        p.initialize()
        p.text("€")
        p.text("€")  # same page: no second ESC t
        p.initialize()  # ESC @ returns to the power-on page ...
        p.text("€")  # ... so ESC t is sent again
    assert bytes(t.written) == h("1B 40 1C 2E 1B 74 13 D5 D5 1B 40 1C 2E 1B 74 13 D5")


def test_native_qr_is_centred():
    p, t = make()
    with p:
        p.qr("https://x.test/1", size=4, ec="Q")
    out = bytes(t.written)
    assert out.startswith(h("1B 61 01 1D 28 6B 04 00 31 41 32 00 1D 28 6B 03 00 31 43 04"))
    assert out.endswith(h("1D 28 6B 03 00 31 51 30 0A 1B 61 00"))


def test_legacy_qr_form_from_profile(tmp_path):
    prof = tmp_path / "p.toml"
    prof.write_text('extends = "ocpp-809"\n[commands]\nqr = "legacy"\n')
    t = MemoryTransport()
    with Printer(t, profile=str(prof)) as p:
        p.qr("AB", center=False)
    assert bytes(t.written).startswith(h("1D 28 6B 30 67 06"))


def test_image_bands_follow_the_profile():
    p, t = make()
    with p:
        p.image(Image.new("L", (100, 50), 0), dither="threshold")
    out = bytes(t.written)
    assert out.count(b"\x1dv0") == 3  # 24-row bands: 24 + 24 + 2
    assert out.startswith(h("1B 61 01 1D 76 30 00 0D 00 18 00"))


def test_drawer_beep_alarm_cut():
    p, t = make()
    with p:
        p.drawer(5, on_ms=120, off_ms=240)
        p.beep(2, 3)
        p.alarm(3, 4, "light")
        p.cut("full", feed=20)
    assert bytes(t.written) == h("1B 70 01 3C 78 1B 42 02 03 1B 43 03 04 02 1D 56 41 14")


def test_status_drains_then_asks_each_request():
    replies = {1: b"\x12", 2: b"\x16", 3: b"\x12", 4: b"\x12"}
    p, t = make(lambda d: replies.get(d[2], b"") if d[:2] == b"\x10\x04" else b"")
    t.feed(b"\x1a\x1a")  # stale replies from an earlier query
    with p:
        st = p.status()
    assert st.known and st.cover_open and st.online
    assert bytes(t.written) == h("1D 61 00 10 04 01 10 04 02 10 04 03 10 04 04")
