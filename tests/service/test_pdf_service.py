"""PDFs through the print service over real HTTP: an ``application/pdf`` body (options as query
parameters), ``{"type": "pdf"}`` JSON, a pdf block in a receipt, the preview endpoint; and the
refusals (problem+json with the field's path) that store and print nothing."""

from __future__ import annotations

import base64
import io
import threading
import time

import pytest
from PIL import Image

from tests.pdf import make
from tests.service.test_api import problem

zxingcpp = pytest.importorskip("zxingcpp")
PDF = {"Content-Type": "application/pdf"}


def send(service, body: bytes, query: str = ""):
    return service.request("POST", f"/api/v1/printers/default/jobs{query}", body, headers=PDF)


def cuts(vprinter) -> list[str]:
    return [op.args["mode"] for op in vprinter.jobs[-1].ops if op.kind == "cut"]


def test_a_pdf_body_prints_its_pages_with_a_cut_each(service, vprinter):
    body = make.text_pages("Invoice 77", "Terms page", "Last page")
    r = send(service, body, "?pages=1,3&scale=fit&cut=full")
    assert r.status == 202, r
    job = service.wait_state(r.json["id"])
    assert job["kind"] == "pdf"
    vprinter.wait_idle()
    assert cuts(vprinter) == ["full", "full"]
    assert len(vprinter.jobs[-1].pages) == 2


def test_the_query_is_part_of_an_idempotent_pdf_request(service):
    body = make.text_pages("One", "Two")
    key = {**PDF, "Idempotency-Key": "pdf-1"}
    first = service.request("POST", "/api/v1/printers/default/jobs?pages=1", body, headers=key)
    again = service.request("POST", "/api/v1/printers/default/jobs?pages=1", body, headers=key)
    assert first.status == 202 and again.status == 200 and again.json["id"] == first.json["id"]
    other = service.request("POST", "/api/v1/printers/default/jobs?pages=2", body, headers=key)
    assert problem(other, 422)["title"] == "Idempotency-Key reused"


def test_json_pdf_and_a_pdf_block_in_a_receipt(service, vprinter):
    qr = base64.b64encode(make.with_qr("TICKET", "https://example.com/t/55")).decode()
    r = service.submit({"type": "pdf", "pdf": qr, "scale": 90})
    service.wait_state(r.json["id"])
    vprinter.wait_idle()
    page = Image.open(vprinter.jobs[-1].pages[0])
    assert "https://example.com/t/55" in {x.text for x in zxingcpp.read_barcodes(page)}
    receipt = {
        "type": "receipt",
        "document": {"blocks": [{"type": "text", "text": "Thank you"}, {"type": "pdf", "base64": qr, "cut": "none"}]},
    }
    service.wait_state(service.submit(receipt).json["id"])
    vprinter.wait_idle()
    assert cuts(vprinter) == []


def test_preview_of_a_pdf_is_the_paper(service, vprinter):
    body = make.with_qr("PREVIEW", "https://example.com/p/1")
    pic = service.request("POST", "/api/v1/preview?scale=actual", body, headers=PDF)
    assert pic.status == 200 and pic.headers["content-type"] == "image/png"
    mine = Image.open(io.BytesIO(pic.body))
    assert "https://example.com/p/1" in {x.text for x in zxingcpp.read_barcodes(mine)}
    service.wait_state(send(service, body, "?scale=actual").json["id"])
    vprinter.wait_idle()
    paper = Image.open(vprinter.jobs[-1].pages[0])
    assert mine.size == paper.size and mine.convert("1").tobytes() == paper.convert("1").tobytes()


REFUSED = [
    (make.encrypted(), "", "", "the PDF is encrypted (it needs a password)"),
    (make.broken(make.text_pages("y" * 40)), "", "", "the PDF cannot be read"),
    (b"not a pdf at all", "", "", "not a PDF"),
    (make.blank_pages(10_000), "", "/pages", "the PDF has 10,000 pages; at most 100"),
    (make.text_pages("A"), "?pages=2", "/pages", "page 2 asked for; the PDF has 1 page"),
    (make.text_pages("A"), "?pages=1-999999999", "/pages", "page 999,999,999 asked for"),
    (make.text_pages("A"), "?scale=5000", "/scale", ""),
    (make.text_pages("A"), "?scale=huge", "/scale", ""),
    (make.text_pages("A"), "?cut=sideways", "/cut", ""),
    (make.long_page(5000), "", "", "page 1 is 5,000 mm long"),
    (make.text_pages("WIDE " * 12), "?scale=250", "", "print it with scale fit or at most"),
    (make.page_tree(loop=True), "", "", "page 2 cannot be read: the PDF's page tree is broken"),
]


def test_refusals_are_problems_and_print_nothing(service, vprinter):
    """One service for all the cases (it must stay up through them anyway)."""
    for body, query, path, message in REFUSED:
        for where in ("/api/v1/printers/default/jobs", "/api/v1/preview"):
            p = problem(service.request("POST", where + query, body, headers=PDF), 422)
            assert [e["path"] for e in p["errors"]] == [path] and message in p["errors"][0]["message"], (query, p)
    assert service.request("GET", "/api/v1/jobs").json["jobs"] == []
    assert service.request("GET", "/healthz").status == 200  # and the service runs on
    assert vprinter.jobs == [] or all(op.kind == "status_request" for j in vprinter.jobs for op in j.ops)


def test_json_pdf_errors_name_the_fields(service):
    p = problem(service.submit({"type": "pdf", "pdf": "!!"}), 422)
    assert p["errors"][0]["path"] == "/pdf"
    p = problem(service.submit({"type": "pdf", "pdf": base64.b64encode(make.encrypted()).decode()}), 422)
    assert p["errors"][0]["path"] == "/pdf" and "encrypted" in p["errors"][0]["message"]
    doc = {"blocks": [{"type": "pdf", "base64": base64.b64encode(make.text_pages("A")).decode(), "pages": "3"}]}
    p = problem(service.submit({"type": "receipt", "document": doc}), 422)
    assert p["errors"][0]["path"] == "/document/blocks/0/pages"
    p = problem(
        service.submit({"type": "receipt", "document": {"blocks": [{"type": "pdf", "path": "/etc/x.pdf"}]}}), 422
    )
    assert p["errors"][0]["path"] == "/document/blocks/0/path"  # no file of the machine is read


def test_a_drawing_bomb_is_refused_and_others_print_meanwhile(service, vprinter):
    """A page of one form drawing 10 forms 10 levels deep (PDFium would load it for hours) is
    refused when its time is up, its child killed; meanwhile another client's PDF and a plain
    job are answered (before the fix, PDFium's one lock held every PDF behind it)."""
    answer: list = []
    bomb = threading.Thread(target=lambda: answer.append(send_slowly(service, make.form_bomb(10))))
    bomb.start()
    time.sleep(0.5)  # the bomb is drawing
    other = send(service, make.text_pages("Invoice 78"))
    plain = service.submit(b"plain\n")
    assert other.status == 202 and plain.status == 202 and not answer  # both answered while it draws
    bomb.join()
    why = problem(answer[0], 422)["errors"][0]["message"]
    assert "take more than 10 s to draw" in why or "drawn in 1,024 MiB of memory" in why  # whichever runs out first
    assert {j["id"] for j in service.request("GET", "/api/v1/jobs").json["jobs"]} == {
        other.json["id"],
        plain.json["id"],
    }


def send_slowly(service, body: bytes):
    return service.request("POST", "/api/v1/printers/default/jobs", body, headers=PDF, timeout=60)
