"""Seeded fuzzing over real HTTP (a few seconds in CI; benchmarks/bench_fuzz_service.py runs
10,000 of each): mutated receipt, job and OCPP bodies, damaged bytes and wrong content types
never get a 5xx, never hit a bug (a render or assembler failure is a 4xx but still a bug), and
a good job and a good charging session still print afterwards."""

from __future__ import annotations

import collections
import random
import time

import pytest

from escpos809.emulator import VirtualPrinter
from tests.ocpp.conftest import plain
from tests.service import fuzz
from tests.service.conftest import Service, printed_texts

BODIES = FRAMES = 300
QUERIES = 50
#: 4xx titles that mean a bug was found (the edge turned it into a refusal, but it is a bug)
BUGS = ("Job cannot be rendered",)
BUG_REASONS = ("could not be read",)


def send(svc: Service, req: fuzz.Request):
    headers = dict(req.headers)
    if req.content_type is not None:
        headers["Content-Type"] = req.content_type
    return svc.request(req.method, req.path, req.body if req.method == "POST" else None, headers, timeout=60)


def _session(svc: Service, cp: str) -> dict | None:
    return {s["cp"]: s for s in svc.request("GET", "/api/v1/ocpp/sessions").json["sessions"]}.get(cp)


def finding(req: fuzz.Request, r) -> str | None:
    """What a fuzz run must not produce: a 5xx answer, a bug behind a 4xx answer."""
    title = r.json.get("title") if r.headers.get("content-type") == "application/problem+json" else None
    if r.status >= 500 or title in BUGS:
        return f"{r.status} {title} for {req.method} {req.path} {req.content_type}: {req.body[:200]!r}"
    if req.path.endswith("/ocpp/frames") and r.status in (200, 202):
        body = r.json
        for res in body.get("results", [body]):
            if any(b in (res.get("reason") or "") for b in BUG_REASONS):
                return f"assembler bug for {req.body[:200]!r}: {res['reason']}"
    return None


def run(svc: Service, seed: int, bodies: int, frames: int, queries: int, printer: str = "fuzz"):
    """Send the seeded requests one by one (made as they go: a run of 20,000 holds one at a
    time); returns (status counts per kind, findings)."""
    rng = random.Random(seed)
    job_seeds, frame_seeds = fuzz.job_seeds(), fuzz.frame_seeds()
    kinds = ["job bodies"] * bodies + ["ocpp frames"] * frames + ["queries"] * queries
    rng.shuffle(kinds)
    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    found = []
    for kind in kinds:
        req = (
            fuzz.job_request(rng, job_seeds, printer)
            if kind == "job bodies"
            else fuzz.frame_request(rng, frame_seeds)
            if kind == "ocpp frames"
            else fuzz.query_request(rng)
        )
        r = send(svc, req)
        counts[kind][r.status] += 1
        if (f := finding(req, r)) is not None:
            found.append(f)
    return counts, found


@pytest.fixture
def fuzz_service(tmp_path):
    printers = [VirtualPrinter(tmp_path / name, idle_s=0.1).start() for name in ("good", "fuzzed")]
    svc = Service(
        tmp_path,
        {
            "default": printers[0].uri + "?timeout=3&read_timeout=1",
            "fuzz": printers[1].uri + "?timeout=3&read_timeout=1",
        },
    )
    svc.config.write_text(svc.config.read_text() + '[ocpp]\nprinter = "default"\ngrace_s = 0.5\n')
    svc.start()
    yield svc, printers[0]
    svc.stop(10)
    for vp in printers:
        vp.stop()


def test_fuzzed_requests_never_get_a_5xx_and_good_input_still_prints(fuzz_service):
    svc, good = fuzz_service
    counts, found = run(svc, 809, BODIES, FRAMES, QUERIES)
    statuses = sum(counts.values(), collections.Counter())
    assert found == [], statuses
    assert statuses[202] + statuses[200] > 50 and sum(v for k, v in statuses.items() if 400 <= k < 500) > 200, statuses
    # good input after all of it
    r = svc.submit(
        {"type": "receipt", "document": {"blocks": [{"type": "text", "text": "STILL PRINTING"}, {"type": "cut"}]}}
    )
    assert r.status == 202 and svc.wait_state(r.json["id"])["state"] == "done"
    for o in plain("v201-session.jsonl"):
        assert (
            svc.request(
                "POST", "/api/v1/ocpp/frames", {"cp": "CS-AFTER-FUZZ", "dir": o["dir"], "frame": o["frame"]}
            ).status
            == 202
        )
    end = time.monotonic() + 30
    while (row := _session(svc, "CS-AFTER-FUZZ")) is None or row["state"] != "printed":
        assert time.monotonic() < end, row
        time.sleep(0.1)
    assert svc.wait_state(row["job"])["state"] == "done"  # the charging receipt printed
    good.wait_idle()
    assert "STILL PRINTING" in printed_texts(good)
    assert svc.request("GET", "/healthz").status == 200
