"""The API over real HTTP: waitress on 127.0.0.1, printing to the virtual printer."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

from PIL import Image

from tests.service.conftest import printed_texts

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def receipt(text: str) -> dict:
    return {"type": "receipt", "document": {"blocks": [{"type": "text", "text": text}, {"type": "cut"}]}}


def test_receipt_accepted_stored_and_printed(service, vprinter):
    doc = json.loads((EXAMPLES / "shop.json").read_text())
    for block in doc["blocks"]:  # over HTTP images travel inline, never as paths
        if "path" in block:
            block["base64"] = base64.b64encode((EXAMPLES / block.pop("path")).read_bytes()).decode()
    r = service.submit({"type": "receipt", "document": doc})
    assert r.status == 202, r
    body = r.json
    assert r.headers["location"] == body["location"] == f"/api/v1/jobs/{body['id']}"
    assert body["state"] == "queued" and body["bytes"] > 0
    done = service.wait_state(body["id"])
    assert done["attempts"] == 1 and done["started"] and done["finished"] and done["last_error"] is None
    assert vprinter.wait_idle()
    job = vprinter.jobs[-1]
    assert job.pages and any(op.kind == "cut" for op in job.ops)


def test_text_image_and_raw_bodies(service, vprinter):
    r1 = service.submit("Grüße aus dem Dienst €\n", headers={"Content-Type": "text/plain; charset=utf-8"})
    img = Image.new("L", (200, 60), 255)
    img.paste(0, (20, 10, 180, 50))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    r2 = service.submit(buf.getvalue(), headers={"Content-Type": "image/png"})
    r3 = service.submit(b"\x1b@RAW LINE\n\x1dVA\x03")
    r4 = service.submit({"type": "image", "image": base64.b64encode(buf.getvalue()).decode(), "dither": "threshold"})
    for r in (r1, r2, r3, r4):
        assert r.status == 202, r
        service.wait_state(r.json["id"])
    vprinter.wait_idle()
    texts = printed_texts(vprinter)
    assert "Grüße aus dem Dienst €" in texts and "RAW LINE" in texts
    rasters = [op for j in vprinter.jobs for op in j.ops if op.kind == "raster"]
    assert len(rasters) >= 2 and all(op.args["width_bytes"] == 25 for op in rasters)


def test_idempotency_key_prints_once(service, vprinter):
    headers = {"Idempotency-Key": "order-4711"}
    first = service.submit(receipt("ORDER 4711"), headers=headers)
    again = service.submit(receipt("ORDER 4711"), headers=headers)
    assert (first.status, again.status) == (202, 200)
    assert first.json["id"] == again.json["id"]
    service.wait_state(first.json["id"])
    vprinter.wait_idle()
    assert printed_texts(vprinter).count("ORDER 4711") == 1
    other = service.submit({"type": "text", "text": "x"}, headers=headers)  # another request, same key
    assert other.status == 422 and "with a different request" in other.json["detail"]


def problem(r, status: int) -> dict:
    assert r.status == status, r
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json
    assert body["status"] == status and body["detail"]
    return body


def test_bad_bodies_get_precise_problems(service):
    p = problem(
        service.request(
            "POST", "/api/v1/printers/default/jobs", b'{"type": "text", "text": ', {"Content-Type": "application/json"}
        ),
        400,
    )
    assert "line 1 column" in p["detail"]
    p = problem(service.submit({"type": "text", "text": 5}), 422)
    assert p["errors"] == [{"path": "/text", "message": "must be a string"}]
    p = problem(service.submit({"type": "fax"}), 422)
    assert p["errors"][0]["path"] == "/type"
    p = problem(
        service.submit(
            {"type": "receipt", "document": {"blocks": [{"type": "text", "text": 1}, {"type": "hologram"}]}}
        ),
        422,
    )
    paths = [e["path"] for e in p["errors"]]
    assert "/document/blocks/0/text" in paths and any(x.startswith("/document/blocks/1") for x in paths)
    p = problem(service.submit({"type": "receipt", "document": {"blocks": [{"type": "qr", "data": "x" * 3000}]}}), 422)
    assert p["errors"][0]["path"].startswith("/document/blocks/0") and "at most 2,953" in p["errors"][0]["message"]
    p = problem(
        service.submit({"type": "receipt", "document": {"blocks": [{"type": "image", "path": "/etc/passwd"}]}}), 422
    )
    assert p["errors"][0]["path"] == "/document/blocks/0/path"
    p = problem(service.submit({"type": "image", "image": "not base64!"}), 422)
    assert p["errors"][0]["path"] == "/image"
    p = problem(service.submit({"type": "image", "image": base64.b64encode(b"GIF89a junk").decode()}), 422)
    assert "image" in p["errors"][0]["path"]
    p = problem(
        service.submit({"type": "receipt", "document": {"blocks": [{"type": "text", "text": "{name}"}]}, "data": {}}),
        422,
    )
    assert "name" in p["detail"]
    problem(service.submit("hi", headers={"Content-Type": "application/x-www-form-urlencoded"}), 415)
    problem(service.submit(receipt("x"), printer="nowhere"), 404)
    problem(service.submit(b"\xff\xfe", headers={"Content-Type": "text/plain"}), 422)
    problem(service.request("GET", "/api/v1/jobs/0123456789abcdef"), 404)
    problem(service.request("GET", "/api/v1/jobs/../../etc/passwd"), 404)
    problem(service.request("GET", "/api/v1/jobs?limit=0"), 400)
    problem(service.request("GET", "/api/v1/jobs?state=lost"), 400)
    problem(service.request("GET", "/api/v1/nothing"), 404)
    problem(service.request("PUT", "/api/v1/printers"), 405)
    # the service is still there and still prints
    r = service.submit(receipt("STILL ALIVE"))
    assert service.wait_state(r.json["id"])["state"] == "done"


def test_oversize_body_is_413(make_service, vprinter):
    svc = make_service({"default": vprinter.uri}, max_body_bytes=100_000).start()
    p = problem(svc.submit(b"\x00" * 200_000), 413)
    assert "100,000" in p["detail"]
    assert svc.request("GET", "/healthz").status == 200


def test_cancel_release_and_conflicts(service, vprinter):
    vprinter.faults.cover_open = True  # nothing prints: the jobs wait
    a = service.submit(receipt("A")).json
    b = service.submit(receipt("B")).json
    held = service.wait_state(a["id"], ("held",))
    assert held["hold_reason"] == "printer" and "cover open" in held["last_error"]
    c = service.request("DELETE", f"/api/v1/jobs/{b['id']}")
    assert c.status == 200 and c.json["state"] == "cancelled"
    problem(service.request("POST", f"/api/v1/jobs/{b['id']}/cancel"), 409)
    problem(service.request("POST", f"/api/v1/jobs/{a['id']}/release"), 409)  # held by the printer, not a person
    vprinter.faults.cover_open = False
    assert service.wait_state(a["id"])["state"] == "done"
    problem(service.request("POST", f"/api/v1/jobs/{a['id']}/cancel"), 409)
    vprinter.wait_idle()
    assert "B" not in printed_texts(vprinter)


def test_job_list_pages(service):
    ids = [service.submit(receipt(f"page {i}")).json["id"] for i in range(5)]
    first = service.request("GET", "/api/v1/jobs?limit=2").json
    assert [j["id"] for j in first["jobs"]] == ids[::-1][:2]
    second = service.request("GET", first["next"]).json
    third = service.request("GET", second["next"]).json
    assert [j["id"] for j in second["jobs"] + third["jobs"]] == ids[::-1][2:]
    assert third["next"] is None
    only = service.request("GET", "/api/v1/jobs?printer=default&state=queued&limit=500").json
    assert all(j["state"] == "queued" for j in only["jobs"])


def test_printer_status_test_print_beep_cut(service, vprinter):
    import time

    end = time.monotonic() + 10
    while not (st := service.request("GET", "/api/v1/printers/default").json)["last_seen"] and time.monotonic() < end:
        time.sleep(0.05)  # the worker's first status poll
    assert st["name"] == "default" and st["uri"].startswith("tcp://127.0.0.1")
    assert "queue" in st and st["status"]["ready"] is True and st["last_seen"]
    for what in ("test", "beep", "cut"):
        r = service.request("POST", f"/api/v1/printers/default/{what}")
        assert r.status == 202, r
        service.wait_state(r.json["id"])
    vprinter.wait_idle()
    kinds = [op.kind for j in vprinter.jobs for op in j.ops]
    assert "qr" in kinds and "beep" in kinds and kinds.count("cut") >= 2
    assert "escpos809 test print" in printed_texts(vprinter)


def test_previews_match_the_virtual_printer(service, vprinter):
    r = service.request("POST", "/api/v1/preview", receipt("PREVIEW ONLY"))
    assert r.status == 200 and r.headers["content-type"] == "image/png"
    Image.open(io.BytesIO(r.body)).verify()
    vprinter.wait_idle()
    assert "PREVIEW ONLY" not in printed_texts(vprinter)
    job = service.submit(receipt("PREVIEWED")).json
    service.wait_state(job["id"])
    vprinter.wait_idle()
    pic = service.request("GET", f"/api/v1/jobs/{job['id']}/preview.png")
    assert pic.status == 200
    paper = Image.open(vprinter.jobs[-1].pages[0])
    mine = Image.open(io.BytesIO(pic.body))
    assert mine.size == paper.size
    assert mine.convert("1").tobytes() == paper.convert("1").tobytes()


def test_openapi_describes_every_route(service):
    from escpos809_service.app import create_app
    from escpos809_service.config import ServiceConfig

    doc = service.request("GET", "/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.1")
    other = service.tmp / "other" / "o.db"  # its own OCPP database beside it: one ingest per database
    app = create_app(ServiceConfig(printers={"p": "memory://"}, database=other), start=False)
    routes = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(("/api/", "/healthz", "/metrics")):
            path = rule.rule.replace("<", "{").replace(">", "}")
            routes.setdefault(path, set()).update(m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})
    described = {p: set(ops) for p, ops in doc["paths"].items()}
    svc = app.extensions["escpos809"]  # never started: close its databases, no workers to stop
    svc.ocpp.close()
    svc.store.close()
    assert routes == described


def test_health_and_metrics(service, vprinter):
    h = service.request("GET", "/healthz")
    assert h.status == 200 and h.json["workers"] == {"default": "running"}
    service.wait_state(service.submit(receipt("M")).json["id"])
    m = service.request("GET", "/metrics").body.decode()
    assert 'escpos809_jobs{printer="default",state="done"} 1' in m
    assert 'escpos809_queue_length{printer="default"} 0' in m
    assert 'escpos809_printer_ready{printer="default"} 1' in m
    assert "\nescpos809_store_commits_total 1\n" in m and "\nescpos809_store_committed_jobs_total 1\n" in m


def test_token_required_and_checked(make_service, vprinter):
    svc = make_service({"default": vprinter.uri}, token="s3cret-token-0123456789").start()
    svc.token = None
    p = problem(svc.request("GET", "/api/v1/printers"), 401)
    assert "Bearer" in p["detail"] and svc.request("GET", "/api/v1/printers").headers["www-authenticate"]
    problem(svc.request("GET", "/api/v1/printers", headers={"Authorization": "Bearer wrong"}), 401)
    problem(svc.request("GET", "/metrics"), 401)
    ok = svc.request("GET", "/api/v1/printers", headers={"Authorization": "Bearer s3cret-token-0123456789"})
    assert ok.status == 200
    assert svc.request("GET", "/").status == 200  # the page itself carries no data


def _refused(svc) -> str:
    try:
        svc.start(timeout=10)
    except RuntimeError as exc:
        return str(exc)
    raise AssertionError("the service started")


def test_exposed_without_token_refuses_to_start(make_service, vprinter):
    message = _refused(make_service({"default": vprinter.uri}, host="0.0.0.0"))
    assert "exited 1" in message and "set a token" in message


def test_bad_printer_uri_and_busy_port_refuse_to_start(make_service, vprinter):
    message = _refused(make_service({"default": "bogus://x"}))
    assert "exited 7" in message and "unknown scheme 'bogus'" in message
    import socket

    busy = make_service({"default": vprinter.uri})
    with socket.socket() as s:
        s.bind(("127.0.0.1", busy.port))
        s.listen()
        message = _refused(busy)
    assert "exited 1" in message and f"cannot listen on 127.0.0.1:{busy.port}" in message
    assert "Traceback" not in busy.log.read_text()
