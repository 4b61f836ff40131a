"""Drawing never loses a page: barcode HRI edge cases render, an operation that cannot be drawn
is skipped and named in job.json, and seeded fuzzed streams (biased toward command prefixes)
go through the interpreter and the renderer without one exception or drawing failure."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
from PIL import Image

from escpos809.emulator import VirtualPrinter
from escpos809.emulator.fuzz import streams
from escpos809.emulator.interpreter import Interpreter
from escpos809.paper import draw as paper
from escpos809.paper.draw import render_pages
from escpos809.printer import Printer
from tests.conftest import h

zxingcpp = pytest.importorskip("zxingcpp")


def draw(data: bytes) -> tuple[list, list[Image.Image], list[dict]]:
    it = Interpreter()
    it.feed(data)
    it.finish()
    warnings: list[dict] = []
    return it.ops, render_pages(it.ops, warnings=warnings), warnings


@pytest.mark.parametrize("hri", [1, 2, 3])
@pytest.mark.parametrize("data", [b"{A\x01\x02AB\x1e", b"{C\x0c\x22\x38", b"{B\x7f\x00x\x85"])
def test_code128_hri_edge_cases_render(hri, data):
    ops, pages, warnings = draw(bytes([0x1D, 0x48, hri, 0x1D, 0x6B, 73, len(data)]) + data + b"after\n")
    assert warnings == [] and len(pages) == 1
    [bc] = [op for op in ops if op.kind == "barcode"]
    assert bc.args["hri"] == ("none", "above", "below", "both")[hri]
    assert pages[0].height == bc.height + 32  # the barcode and the line after it, nothing lost
    ink = np.array(pages[0])[bc.height :] < 128
    assert ink.any()  # "after" is drawn


@pytest.mark.parametrize(
    ("data", "kinds", "height"),
    [
        (b"", ["warning", "text"], 32),  # n < 2: the firmware stops at n (print801 Command_1D6B)
        (b"{B", ["warning", "feed", "text"], 162 + 32),  # nothing to encode: the bar height fed blank
    ],
)
def test_code128_without_data_is_what_the_firmware_does(data, kinds, height):
    ops, pages, warnings = draw(bytes([0x1D, 0x48, 2, 0x1D, 0x6B, 73, len(data)]) + data + b"after\n")
    assert [op.kind for op in ops] == kinds and warnings == []
    assert pages[0].height == height and ops[-1].text == "after"


@pytest.mark.parametrize("text", ["ABC-123", "Hello, World"])
def test_code128_with_hri_reads_back(text):
    data = b"{B" + text.encode()
    _, pages, warnings = draw(h("1D 48 03 1D 77 02") + bytes([0x1D, 0x6B, 73, len(data)]) + data)
    assert warnings == []
    assert ("Code128", text) in {(r.format.name, r.text) for r in zxingcpp.read_barcodes(pages[0])}


@pytest.mark.parametrize("kind", [bytes, bytearray])
def test_a_qr_reads_back_whatever_holds_its_bytes(kind):
    data = b"https://example.invalid/qr?x=1"
    store = h("1D 28 6B") + (len(data) + 3).to_bytes(2, "little") + h("31 50 30") + data
    ops, _, _ = draw(store + h("1D 28 6B 03 00 31 51 30"))
    [qr] = [op for op in ops if op.kind == "qr"]
    qr.args["raw"] = kind(qr.args["raw"])  # an operation made elsewhere may hold a bytearray
    pages = render_pages(ops)
    assert [r.text for r in zxingcpp.read_barcodes(pages[0])] == [data.decode()]


def test_control_characters_and_unlayoutable_text_render():
    # a GB18030 pair can decode to a private-use character, which no font has: drawn as a
    # replacement mark and named, never silently; CODE39 data it cannot carry feeds blank paper
    ops, pages, warnings = draw(h("1C 26 AA A1 0A 1D 48 02 1D 6B 04") + b"\x0d\x1c\x1d\x85A\x00")
    assert [op.kind for op in ops] == ["text", "warning", "feed"] and ops[0].text == "\ue000"
    assert [(w["op"], w["missing_glyphs"]) for w in warnings] == [(0, ["U+E000"])] and len(pages) == 1


def test_an_operation_that_cannot_be_drawn_is_skipped_and_named(tmp_path, monkeypatch):
    def broken(*_args):
        raise RuntimeError("no QR today")

    monkeypatch.setattr(paper, "_draw_qr", broken)
    with VirtualPrinter(tmp_path / "p") as vp:
        with Printer(vp.uri) as p:
            p.initialize()
            p.text("before\n")
            p.qr("https://example.invalid/x", size=4)
            p.text("after\n")
            p.cut()
            sock = p.transport._sock.getsockname()
        job = vp.wait_job(f"tcp {sock[0]}:{sock[1]}")
    log = json.loads(job.log_path.read_text())
    [warning] = log["draw_warnings"]
    qr_index = next(i for i, op in enumerate(log["ops"]) if op["kind"] == "qr")
    assert warning["kind"] == "qr" and warning["op"] == qr_index and "no QR today" in warning["error"]
    assert warning["page"] == "page-1.png" and log["render_error"] is None
    page = np.array(Image.open(job.pages[0]).convert("L")) < 128
    rows = np.flatnonzero(page.any(axis=1))
    assert rows[0] < 32 and rows[-1] > page.shape[0] - 24 - 32 - 10  # "before" and "after" (and the cut mark)


def test_fuzzed_streams_never_raise_nor_fail_to_draw():
    rng = random.Random(809)
    failures = []
    for n, data in enumerate(streams(seed=809, count=2000)):
        it = Interpreter(reply=lambda b: None)
        try:
            pos = 0
            while pos < len(data):  # random chunking: commands split across reads
                step = rng.randrange(1, 64)
                it.feed(data[pos : pos + step])
                pos += step
            it.finish()
            warnings: list[dict] = []
            render_pages(it.ops, warnings=warnings)
        except Exception as exc:  # noqa: BLE001 - collected, the assertion shows them
            failures.append((n, repr(exc), data[:60]))
            continue
        # characters no font has are drawn as replacement marks and named: not a failure to draw
        failures += [(n, w, data[:60]) for w in warnings if "missing_glyphs" not in w]
    assert failures == []


def test_pages_are_dots_only():
    """A thermal head prints a dot or none: the paper (and the preview) has no grey."""
    _, pages, _ = draw(
        h("1B 40 1C 2E 1B 45 01 1D 21 11")
        + b"Bold big\n"
        + h("1B 45 00 1D 21 00 1D 42 01")
        + b"inverse\n"
        + h("1D 42 00 1D 56 00")
    )
    assert set(np.unique(np.array(pages[0]))) <= {0, 255}
