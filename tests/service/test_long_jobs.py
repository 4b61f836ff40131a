"""A day's report of 20,000 lines, end to end: printed by the library over real TCP to
``escpos809 emulate`` in its own process (memory bounded on the sending side), and through
the print service over HTTP; a 40,000-block invalid document is refused with its paths.
Figures at full size: benchmarks/bench_long_documents.py."""

from __future__ import annotations

import base64
import io
import json
import threading
import time
import tracemalloc

import pytest
from PIL import Image

from escpos809 import document as d
from escpos809.emulator import VirtualPrinter
from escpos809.errors import PrinterTimeout
from escpos809.printer import Printer
from escpos809.profile import load_profile
from escpos809.receipt import render
from tests.emulator.emulate import emulate
from tests.service.test_api import receipt

LINES = 20_000
LINE_DOTS = 32  # font A at the default line spacing
CUT_DOTS = 24  # GS V B 0 still feeds the head-to-cutter distance (the virtual printer's 3 mm)


def day_report(lines: int = LINES) -> dict:
    """A title, one table row per session, a closing line, a cut: ``lines`` printed lines."""
    rows = [
        [f"11-25 {i // 60 % 24:02d}:{i % 60:02d}", f"CP-{i % 37:03d}", f"{i * 0.173:.3f} kWh"] for i in range(lines - 2)
    ]
    cols = [{"width": 11}, {"width": 6}, {"width": 29, "align": "right"}]
    return {
        "blocks": [
            {"type": "text", "text": "DAY REPORT 2026-11-25", "bold": True},
            {"type": "columns", "columns": cols, "rows": rows},
            {"type": "kv", "key": "Sessions", "value": str(lines - 2)},
            {"type": "cut", "feed": 0},
        ]
    }


def test_a_day_report_prints_over_tcp_in_bounded_memory(tmp_path):
    doc = d.from_dict(day_report())
    out = tmp_path / "paper"
    proc = emulate(out, "--jobs", "1")
    try:
        port = int(proc.stdout.readline().rsplit(":", 1)[1])
        threading.Thread(target=proc.stdout.read, daemon=True).start()
        tracemalloc.start()
        with Printer(f"tcp://127.0.0.1:{port}") as p:
            assert p.print_document(doc) == []  # returns once the printer confirmed the last line
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert proc.wait(60) == 0, proc.stderr.read()
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    log = json.loads((out / "job-0001" / "job.json").read_text())
    assert log["state"] == "done" and log["confirmed"] == 1
    ops = [op for op in log["ops"] if op["kind"] != "status_request"]  # the first 10,000 are kept
    assert ops[0]["kind"] == "init" and {op["kind"] for op in ops[1:]} == {"text"}
    assert ops[6]["text"] == "11-25 00:04 CP-004" + " " * 21 + "0.692 kWh"
    assert sum(p["height"] for p in log["page_info"]) == LINES * LINE_DOTS + CUT_DOTS  # every line, once
    assert log["page_info"][-1]["end"] == "cut" and log["ops_total"] > LINES + 1
    # the bytes sent were ~0.8 MB; laid out whole, the report alone took ~11 MB
    assert peak < 8_000_000, peak


def test_the_service_takes_a_day_report_and_refuses_only_its_preview(service, vprinter):
    r = service.request("POST", "/api/v1/printers/default/jobs", {"type": "receipt", "document": day_report()})
    assert r.status == 202, r
    job = service.wait_state(r.json["id"], timeout=120)
    assert vprinter.wait_idle(60)
    log = json.loads((vprinter.jobs[-1].folder / "job.json").read_text())
    assert log["state"] == "done" and log["confirmed"] == 1 and job["bytes"] > LINES * 30
    assert sum(p["height"] for p in log["page_info"]) == LINES * LINE_DOTS + CUT_DOTS  # every line, once
    p = service.request("GET", f"/api/v1/jobs/{job['id']}/preview.png")
    assert p.status == 422 and p.json["title"] == "Preview too long", p
    assert "a preview draws at most 50,000" in p.json["detail"]


def test_a_40000_block_invalid_document_is_refused_with_its_paths(service, vprinter):
    blocks = [{"type": "text", "text": f"line {i}", "bold": "yes"} for i in range(40_000)]
    r = service.request("POST", "/api/v1/printers/default/jobs", {"type": "receipt", "document": {"blocks": blocks}})
    assert r.status == 422 and r.headers["content-type"] == "application/problem+json", r
    errors = r.json["errors"]
    assert [e["path"] for e in errors[:10]] == [f"/document/blocks/{i}/bold" for i in range(10)]
    assert errors[-1]["message"] == "blocks/10 is invalid too; checking stopped there (the first 10 are explained)"
    assert service.submit(receipt("after the big one")).status == 202  # and the service goes on


def test_a_job_the_printer_takes_slowly_is_confirmed_not_given_up(tmp_path):
    """Status questions asked while a long job drains wait behind its bytes: as long as the
    printer keeps taking them, it has not stopped answering (a silent one still raises)."""
    data = render(d.from_dict(day_report(5_000)), load_profile()).data  # ~190 KB
    with VirtualPrinter(tmp_path / "paper") as vp:
        vp.slow_bps = 60_000  # ~3 s to take it all: each status question would time out (2 s)
        with Printer(vp.uri + "?read_timeout=2") as p:
            p.status()  # heard before the job, as the worker and the CLI's check ask
            started = time.monotonic()
            assert p.print_job(data) is True
            assert p.transport.unsent() == 0 and time.monotonic() - started > 2.5
        assert vp.wait_idle(30) and vp.jobs[-1].confirmed == 1
        vp.slow_bps = None
        with Printer(vp.uri + "?read_timeout=1") as p:
            p.status()
            vp.faults.silent = True  # takes the (short) job, answers nothing: given up on
            with pytest.raises(PrinterTimeout, match="stopped answering"):
                p.print_job(b"\x1b@SHORT\n")


def test_a_template_repeating_a_tall_image_is_refused_not_rendered(service, vprinter):
    """One 576 x 10,000 image (a kB of PNG) repeated for 2,000 items (within the template's
    limits) would be 1.4 GB of raster bytes built in the service's memory; the layout counts
    the image rows and refuses at the block that passes the document's limit."""
    tall = Image.new("1", (576, 10_000), 1)
    tall.putpixel((0, 0), 0)
    buf = io.BytesIO()
    tall.save(buf, "PNG")
    image = {"type": "image", "base64": base64.b64encode(buf.getvalue()).decode()}
    doc = {"blocks": [{"repeat": "items", "as": "item", "blocks": [image]}]}
    body = {"type": "receipt", "document": doc, "data": {"items": list(range(2_000))}}
    r = service.request("POST", "/api/v1/printers/default/jobs", body, timeout=60)
    assert r.status == 422, r
    assert r.json["errors"] == [
        {
            "path": "/document/blocks/16",
            "message": "the document's images print more than 160,000 dots (20,020 mm) here",
        }
    ]
    assert service.request("GET", "/api/v1/jobs").json["jobs"] == []
    assert service.submit(receipt("after the tall one")).status == 202  # and the service goes on


def test_a_document_of_20000_unreadable_images_is_refused_in_a_few_lines(service, vprinter):
    """The content checks (images, PDFs, codes) stop after ten blocks with problems: the answer
    was every block's error (megabytes, each image read first)."""
    blocks = [{"type": "image", "base64": "iVBORw0KGgo="} for _ in range(20_000)]  # a PNG's signature only
    r = service.request("POST", "/api/v1/printers/default/jobs", {"type": "receipt", "document": {"blocks": blocks}})
    assert r.status == 422 and len(r.body) < 4_000, r
    errors = r.json["errors"]
    assert [e["path"] for e in errors] == [f"/document/blocks/{i}" for i in range(10)] + ["/document/blocks"]
    assert errors[-1]["message"] == "checking stopped after 10 blocks with problems: fix these first"
