"""A listing of jobs shows each job's size without reading its bytes or payload."""

from __future__ import annotations

import sqlite3
from contextlib import closing

from escpos809_service.store import JobStore


def test_a_listing_reports_sizes_without_the_bytes(tmp_path):
    store = JobStore(tmp_path / "jobs.db")
    try:
        sizes = [0, 1, 4096, 3 << 20]
        made = [store.submit("default", "raw", {"type": "raw", "n": n}, (b"\x1b@" * n)[:n])[0] for n in sizes]
        listed = store.list(limit=10)
        assert [j.id for j in listed] == [j.id for j in made][::-1]
        assert [j.to_dict()["bytes"] for j in listed] == sizes[::-1] == [j.size for j in made][::-1]
        assert all(j.data == b"" and j.payload_text == "" for j in listed)  # neither blob was read
        whole = store.get(made[-1].id)
        assert (
            whole is not None
            and len(whole.data) == whole.size == 3 << 20
            and whole.payload == {"type": "raw", "n": 3 << 20}
        )
        assert whole.to_dict() == made[-1].to_dict() == listed[0].to_dict()
        shown = store.get(made[-1].id, whole=False)  # what the API shows of one job
        assert shown is not None and shown.data == b"" and shown.to_dict() == whole.to_dict()
    finally:
        store.close()


def test_a_state_change_does_not_rewrite_the_jobs_bytes(tmp_path):
    """Start, note and done touch the job's state, not its 3 MiB: in the same row, each one
    wrote the whole job to the WAL again (~770 pages each)."""
    store = JobStore(tmp_path / "jobs.db")
    try:
        job = store.submit("default", "raw", {"type": "raw"}, b"\x1b@" * (3 << 19))[0]
        with closing(sqlite3.connect(tmp_path / "jobs.db")) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # an empty WAL: what follows is counted
            store.start(job.id)
            store.note(job.id, "printer not ready after the job: cover open")
            store.done(job.id)
            _busy, frames, _copied = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        assert 0 < frames < 50, frames  # pages written since: a few per change
        whole = store.get(job.id)
        assert whole is not None and whole.state == "done" and whole.data == b"\x1b@" * (3 << 19)
    finally:
        store.close()


def test_the_jobs_page_shows_the_stored_size(service):
    job = service.submit({"type": "text", "text": "SIZE " * 200}).json
    listed = {j["id"]: j for j in service.request("GET", "/api/v1/jobs?limit=500").json["jobs"]}
    assert (
        listed[job["id"]]["bytes"] == job["bytes"] == service.request("GET", f"/api/v1/jobs/{job['id']}").json["bytes"]
    )
    assert job["bytes"] > 1000
