"""rastertoescpos809 on CUPS raster streams built here from the header offsets in
../shared/reference/cups-zeroconf.md §2 (and real gstoraster output via cupsfilter), checked
byte for byte against the ESC/POS the reference gives: GS v 0, ESC J, ESC d, GS V, ESC B, ESC p."""

from __future__ import annotations

import io
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from escpos809.cups.filter import run
from escpos809.cups.ppd import generate
from escpos809.cups.raster import read_pages
from escpos809.profile import load_profile

ROOT = Path(__file__).resolve().parents[2]
PROFILE = load_profile()
ESC_AT_FS_DOT = b"\x1b\x40\x1c\x2e"  # ESC @, FS . (Chinese mode off: the profile's power-on quirk)


def header(
    order: str = "<",
    width: int = 576,
    height: int = 4,
    bpl: int = 72,
    cut: int = 0,
    ints: dict[int, int] | None = None,
    space: int = 3,
    bits: int = 1,
    res: int = 203,
    copies: int = 1,
    name: str = "X80MMY100MM",
) -> bytes:
    """A cups_page_header2_t: offsets from the reference table."""
    h = bytearray(1796)

    def put(offset: int, *values: int) -> None:
        struct.pack_into(f"{order}{len(values)}I", h, offset, *values)

    put(268, cut)  # CutMedia
    put(276, res, res)  # HWResolution
    put(340, copies)  # NumCopies
    put(352, 204, 283)  # PageSize (pt)
    put(372, width)  # cupsWidth
    put(376, height)  # cupsHeight
    put(384, bits)  # cupsBitsPerColor
    put(388, bits)  # cupsBitsPerPixel
    put(392, bpl)  # cupsBytesPerLine
    put(400, space)  # cupsColorSpace (3 = K)
    for i, v in (ints or {}).items():
        put(452 + 4 * i, v)  # cupsInteger[i]
    h[1732 : 1732 + len(name)] = name.encode()
    return bytes(h)


def stream(sync: bytes, *pages: tuple[bytes, bytes]) -> bytes:
    return sync + b"".join(h + body for h, body in pages)


def filtered(data: bytes) -> tuple[bytes, list[str]]:
    out, log = io.BytesIO(), []
    assert run(io.BytesIO(data), out, PROFILE, log.append) == 0, log
    return out.getvalue(), log


def gs_v0(width_bytes: int, rows: int, data: bytes) -> bytes:
    # GS v 0 m xL xH yL yH d1…dk (reference §5)
    return b"\x1d\x76\x30\x00" + bytes([width_bytes & 0xFF, width_bytes >> 8, rows & 0xFF, rows >> 8]) + data


ROW_A = bytes([0xF0]) + bytes(71)
ROW_B = bytes(71) + bytes([0x01])
BLANK = bytes(72)


@pytest.mark.parametrize("sync, order", [(b"3SaR", "<"), (b"RaS3", ">"), (b"tSaR", "<"), (b"RaSt", ">")])
def test_uncompressed_page_both_byte_orders(sync, order):
    body = ROW_A + BLANK + BLANK + ROW_B
    out, log = filtered(stream(sync, (header(order), body)))
    # blank rows are fed (ESC J 2), not sent as pixels; no cut, no feed (all options 0)
    assert out == ESC_AT_FS_DOT + gs_v0(72, 1, ROW_A) + b"\x1b\x4a\x02" + gs_v0(72, 1, ROW_B)
    assert "PAGE: 1 1" in log


@pytest.mark.parametrize("sync, order", [(b"2SaR", "<"), (b"RaS2", ">")])
def test_compressed_page(sync, order):
    # row 1: repeat byte 1 (two identical lines); run 0x00 "repeat next pixel once" -> F0,
    #        then 0x46 (70) "repeat 71 times" 00: 72 bytes
    # row 3: repeat 0; literal run 0xFE (257-254 = 3 pixels) AA BB CC; 0x80 clear to end of line
    body = bytes([0x01, 0x00, 0xF0, 0x46, 0x00]) + bytes([0x00, 0xFE, 0xAA, 0xBB, 0xCC, 0x80])
    out, _ = filtered(stream(sync, (header(order, height=3), body)))
    row3 = bytes([0xAA, 0xBB, 0xCC]) + bytes(69)
    assert out == ESC_AT_FS_DOT + gs_v0(72, 3, ROW_A + ROW_A + row3)


def test_bands_have_the_profile_height_and_the_blank_tail_is_trimmed():
    rows = [bytes([i % 255 + 1]) + bytes(71) for i in range(50)] + [BLANK] * 30
    out, _ = filtered(stream(b"3SaR", (header(height=80), b"".join(rows))))
    assert PROFILE.band_rows == 24
    expect = (
        gs_v0(72, 24, b"".join(rows[:24])) + gs_v0(72, 24, b"".join(rows[24:48])) + gs_v0(72, 2, b"".join(rows[48:50]))
    )
    assert out == ESC_AT_FS_DOT + expect  # 30 blank rows at the end: nothing sent


def test_keep_page_length_feeds_the_tail_in_255_dot_steps():
    rows = [ROW_A] + [BLANK] * 300
    out, _ = filtered(stream(b"3SaR", (header(height=301, ints={4: 1}), b"".join(rows))))
    assert out == ESC_AT_FS_DOT + gs_v0(72, 1, ROW_A) + b"\x1b\x4a\xff" + b"\x1b\x4a\x2d"


def test_cut_feed_buzzer_drawer_from_the_page_header():
    # CutMedia 4 (page), FeedLines 3, CutMode full, 2 beeps, drawer 1 (pin 2) before printing
    h = header(height=1, cut=4, ints={0: 3, 1: 1, 2: 2, 3: 1})
    out, _ = filtered(stream(b"3SaR", (h, ROW_A), (h, ROW_B)))

    def page(row: bytes) -> bytes:
        return gs_v0(72, 1, row) + b"\x1b\x64\x03" + b"\x1d\x56\x41\x00"  # ESC d 3, GS V 65 0

    drawer = b"\x1b\x70\x00\x32\x32"  # ESC p 0 t1 t2: pin 2, 100 ms on / off
    assert out == ESC_AT_FS_DOT + drawer + page(ROW_A) + page(ROW_B) + b"\x1b\x42\x02\x02"  # ESC B 2 2


def test_cut_per_job_partial_and_drawer_after():
    h = header(height=1, cut=2, ints={3: 4})  # cut after the job; drawer 2 (pin 5) after printing
    out, log = filtered(stream(b"3SaR", (h, ROW_A), (h, ROW_B)))
    assert out == (
        ESC_AT_FS_DOT + gs_v0(72, 1, ROW_A) + gs_v0(72, 1, ROW_B) + b"\x1d\x56\x42\x00" + b"\x1b\x70\x01\x32\x32"
    )  # GS V 66 0, ESC p 1
    assert [line for line in log if line.startswith("PAGE:")] == ["PAGE: 1 1", "PAGE: 2 1"]


def test_copies_in_the_header_are_not_multiplied():
    out, _ = filtered(stream(b"3SaR", (header(height=1, copies=3), ROW_A)))
    assert out.count(b"\x1d\x76\x30") == 1


def test_wide_page_is_clipped_and_white_is_one_pages_are_inverted():
    # 640 dots wide (80 bytes), colour space W (1 = white): black pixel = 0 bit
    row = bytes([0x7F]) + b"\xff" * 79  # one black dot at x = 0
    out, log = filtered(stream(b"3SaR", (header(width=640, bpl=80, height=1, space=0), row)))
    assert out == ESC_AT_FS_DOT + gs_v0(72, 1, bytes([0x80]) + bytes(71))
    assert any("640 dots wide" in line for line in log)


def test_pad_bits_after_cups_width_are_cleared():
    row = bytes(71) + bytes([0x00])  # 575 dots, W colour space: the 576th bit inverts to 1
    out, _ = filtered(stream(b"3SaR", (header(width=575, height=2, space=0), row + b"\xff" * 72)))
    assert out == ESC_AT_FS_DOT + gs_v0(72, 1, b"\xff" * 71 + b"\xfe")


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "empty input"),
        (b"%PDF-1.4 ...", "not a CUPS raster stream"),
        (b"3SaR" + bytes(100), "stream ends inside page header"),
        (stream(b"3SaR", (header(height=4), ROW_A)), "stream ends inside page data"),
        (stream(b"3SaR", (header(bits=8, bpl=576), bytes(576 * 4))), "page is 8-bit"),
        (stream(b"3SaR", (header(space=1), bytes(288))), "colour space 1"),
        (stream(b"2SaR", (header(height=1), bytes([0x00, 0xFE, 0x01]))), "stream ends inside compressed"),
        (stream(b"2SaR", (header(height=1), bytes([0x00, 0x7F, 0x00]))), "decodes to 128 bytes"),
    ],
)
def test_bad_streams_are_refused_with_the_reason(data, message):
    out, log = io.BytesIO(), []
    assert run(io.BytesIO(data), out, PROFILE, log.append) == 1
    assert log[-1].startswith("ERROR: rastertoescpos809: ") and message in log[-1], log


def test_filter_program_writes_only_print_data_to_stdout(tmp_path):
    data = stream(b"3SaR", (header(height=2), ROW_A + ROW_B))
    proc = subprocess.run(
        [sys.executable, "-m", "escpos809.cups.filter", "7", "u", "t", "1", ""], input=data, capture_output=True
    )
    assert proc.returncode == 0
    assert proc.stdout == ESC_AT_FS_DOT + gs_v0(72, 2, ROW_A + ROW_B)
    assert b"PAGE: 1 1" in proc.stderr
    bad = subprocess.run(
        [sys.executable, "-m", "escpos809.cups.filter", "7", "u", "t", "1", ""], input=b"junk", capture_output=True
    )
    assert (bad.returncode, bad.stdout) == (1, b"")
    assert bad.stderr.decode().strip().startswith("ERROR: rastertoescpos809: not a CUPS raster stream")


@pytest.mark.parametrize("kind", ["fifo", "device", "deep"])
def test_a_job_naming_a_hostile_profile_fails_at_once(tmp_path, kind):
    # a job's options are the submitter's: escpos809-profile=FILE naming a FIFO hung the filter
    # (and the queue) for good, /dev/zero behind a .toml name filled its memory
    bad = tmp_path / "p.toml"
    if kind == "fifo":
        os.mkfifo(bad)
    elif kind == "device":
        bad.symlink_to("/dev/zero")
    else:
        bad.write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    data = stream(b"3SaR", (header(height=2), ROW_A + ROW_B))
    proc = subprocess.run(
        [sys.executable, "-m", "escpos809.cups.filter", "7", "u", "t", "1", f"escpos809-profile={bad}"],
        input=data,
        capture_output=True,
        timeout=60,
    )
    assert (proc.returncode, proc.stdout) == (1, b"")
    why = "nested too deeply" if kind == "deep" else "not a regular file"
    assert proc.stderr.decode() == f"ERROR: rastertoescpos809: profile {bad}: {why}\n"


needs_cupsfilter = pytest.mark.skipif(not shutil.which("cupsfilter"), reason="cups-filters not installed")


@needs_cupsfilter
def test_real_gstoraster_output(tmp_path):
    """Debian's chain (texttopdf, gstoraster) writes 3SaR with the PPD's options in the header."""
    ppd = tmp_path / "ocpp809.ppd"
    ppd.write_text(generate())
    text = tmp_path / "hello.txt"
    text.write_text("Hello\n")
    raster = subprocess.run(
        [
            "cupsfilter",
            "-p",
            str(ppd),
            "-m",
            "application/vnd.cups-raster",
            "-o",
            "PageSize=X80MMY100MM",
            "-o",
            "CutMedia=Job",
            "-o",
            "FeedLines=5",
            "-o",
            "CashDrawer=Drawer2Before",
            str(text),
        ],
        capture_output=True,
        check=True,
    ).stdout
    assert raster[:4] == b"3SaR"
    [page] = list(read_pages(io.BytesIO(raster)))
    h = page.header
    assert (h.hw_resolution, h.bytes_per_line, h.cut_media, h.page_size_name) == ((203, 203), 72, 2, "X80MMY100MM")
    assert h.integers[:4] == (5, 0, 0, 3) and h.height == 799
    out, _ = filtered(raster)
    assert out.startswith(ESC_AT_FS_DOT + b"\x1b\x70\x01\x32\x32")  # drawer 2 before printing
    assert out.endswith(b"\x1b\x64\x05\x1d\x56\x42\x00")  # ESC d 5, then the job's cut
    assert len(out) < len(raster) / 10  # one line of text: blank rows and tail are not sent


def test_ppd_file_is_the_generated_one_and_passes_cupstestppd(tmp_path):
    shipped = ROOT / "packaging/cups/ocpp809.ppd"
    assert shipped.read_text() == generate(), "regenerate: escpos809 cups ppd > packaging/cups/ocpp809.ppd"
    text = shipped.read_text()
    assert '*PageSize X80MMY80MM/80 x 80 mm roll: "<</PageSize[204.1 226.8]/ImagingBBox null>>setpagedevice"' in text
    assert '*PaperDimension X80MMY297MM/80 x 297 mm roll: "204.1 841.9"' in text
    assert "*cupsManualCopies: True" in text and "*CustomPageSize True:" in text
    if not shutil.which("cupstestppd"):
        pytest.skip("cupstestppd not installed")
    root = tmp_path / "root"
    filt = root / "usr/lib/cups/filter/rastertoescpos809"
    filt.parent.mkdir(parents=True)
    filt.write_text("#!/bin/sh\n")
    filt.chmod(0o755)
    proc = subprocess.run(["cupstestppd", "-R", str(root), str(shipped)], capture_output=True, text=True)
    assert proc.returncode == 0 and "PASS" in proc.stdout, proc.stdout
