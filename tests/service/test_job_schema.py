"""The job database's schema and its migrations (service/jobschema.py), on real SQLite files."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import closing

import pytest

from escpos809_service.jobschema import prepare
from escpos809_service.store import JobStore

#: the jobs table as the release before this one made it (AUTOINCREMENT, a table-wide key)
PREVIOUS = """
CREATE TABLE jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, printer TEXT NOT NULL, kind TEXT NOT NULL,
    state TEXT NOT NULL, hold_reason TEXT, reprint INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT, idem_key TEXT, request_digest TEXT, created REAL NOT NULL, updated REAL NOT NULL,
    started REAL, finished REAL, UNIQUE (printer, idem_key));
CREATE INDEX jobs_queue ON jobs (printer, state, seq);
CREATE TABLE job_data (seq INTEGER PRIMARY KEY, payload TEXT NOT NULL, data BLOB NOT NULL);
"""


def _previous_release_db(path) -> list[tuple]:
    with closing(sqlite3.connect(path)) as db, db:
        db.executescript(PREVIOUS)
        for k in range(1, 6):
            db.execute(
                "INSERT INTO jobs (id, printer, kind, state, idem_key, request_digest, created, updated)"
                " VALUES (?, 'p', 'raw', ?, ?, ?, ?, ?)",
                (f"{k:016x}", "done" if k < 4 else "queued", f"key-{k}" if k % 2 else None, "d" * k, k, k),
            )
            db.execute("INSERT INTO job_data (seq, payload, data) VALUES (?, ?, ?)", (k, f'{{"n": {k}}}', bytes([k])))
        db.execute("DELETE FROM jobs WHERE seq = 5")  # (never done by the service; AUTOINCREMENT remembers 5)
        db.execute("DELETE FROM job_data WHERE seq = 5")
        return db.execute("SELECT * FROM jobs ORDER BY seq").fetchall()


def _table_sql(db: sqlite3.Connection) -> str:
    return db.execute("SELECT sql FROM sqlite_schema WHERE name = 'jobs'").fetchone()[0]


def test_the_previous_release_database_is_rebuilt_with_every_job_kept(tmp_path):
    path = tmp_path / "jobs.db"
    before = _previous_release_db(path)
    store = JobStore(path)
    try:
        with closing(sqlite3.connect(path)) as db:
            assert "AUTOINCREMENT" not in _table_sql(db) and "UNIQUE (printer" not in _table_sql(db)
            assert db.execute("SELECT * FROM jobs ORDER BY seq").fetchall() == before  # every column kept
            indexes = {r[0] for r in db.execute("SELECT name FROM sqlite_schema WHERE type = 'index'")}
            assert {"jobs_queue", "jobs_idem"} <= indexes
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert [j.seq for j in store.list()] == [4, 3, 2, 1]
        assert store.get(f"{3:016x}").data == b"\x03"  # its bytes still found by seq
        again, created = store.submit("p", "raw", {}, b"x", "key-3", "d" * 3)
        assert not created and again.id == f"{3:016x}"  # the key still unique after the rebuild
        fresh, created = store.submit("p", "raw", {}, b"y")
        assert created and fresh.seq == 5 and store.next_for("p").seq == 4
    finally:
        store.close()


def test_keys_are_unique_per_printer_and_jobs_without_one_are_not_in_the_index(tmp_path):
    store = JobStore(tmp_path / "jobs.db")
    try:
        a, _ = store.submit("p", "raw", {}, b"a", "k")
        b, created = store.submit("q", "raw", {}, b"b", "k")
        assert created and a.id != b.id  # the same key on another printer: another job
        for _ in range(3):
            store.submit("p", "raw", {}, b"c")
        with closing(sqlite3.connect(tmp_path / "jobs.db")) as db:
            assert db.execute(
                "SELECT count(*) FROM jobs INDEXED BY jobs_idem WHERE idem_key IS NOT NULL"
            ).fetchone() == (2,)
            with pytest.raises(sqlite3.IntegrityError, match="jobs.printer, jobs.idem_key"), db:
                db.execute(
                    "INSERT INTO jobs (id, printer, kind, state, idem_key, created, updated)"
                    " VALUES ('ffffffffffffffff', 'p', 'raw', 'queued', 'k', 0, 0)"
                )
    finally:
        store.close()


def test_two_processes_opening_an_old_database_at_once_rebuild_it_once(tmp_path):
    path = tmp_path / "jobs.db"
    before = _previous_release_db(path)
    start, errors = threading.Barrier(4), []

    def open_it() -> None:
        db = sqlite3.connect(path, isolation_level=None, timeout=30)
        try:
            start.wait()
            prepare(db)
        except Exception as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT * FROM jobs ORDER BY seq").fetchall() == before
        assert "AUTOINCREMENT" not in _table_sql(db)


def test_a_rebuild_killed_midway_loses_no_job_and_the_next_open_finishes_it(tmp_path):
    """SIGKILL while an old database of 200,000 jobs is being rebuilt (its WAL growing with the
    uncommitted new table): the database is still the old one, every job kept, and the next
    open rebuilds it."""
    import os
    import signal
    import subprocess
    import sys
    import time

    path = tmp_path / "jobs.db"
    with closing(sqlite3.connect(path)) as db, db:
        db.executescript(PREVIOUS)
        db.executemany(
            "INSERT INTO jobs (id, printer, kind, state, idem_key, created, updated)"
            " VALUES (?, 'p', 'raw', 'done', ?, 0, 0)",
            ((f"{k:016x}", f"k{k}" if k % 7 == 0 else None) for k in range(1, 200_001)),
        )
        db.execute("INSERT INTO job_data (seq, payload, data) SELECT seq, '{}', x'0a' FROM jobs")
    wal = tmp_path / "jobs.db-wal"
    boot = "import sys; from escpos809_service.store import JobStore; JobStore(sys.argv[1])"
    child = subprocess.Popen([sys.executable, "-c", boot, str(path)])
    end = time.monotonic() + 60
    while not (wal.exists() and wal.stat().st_size > 2_000_000):  # the rebuild spilling to the WAL
        assert child.poll() is None and time.monotonic() < end, "the rebuild ended before it could be killed"
        time.sleep(0.002)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("SELECT count(*), max(seq) FROM jobs").fetchone() == (200_000, 200_000)
        assert "AUTOINCREMENT" in _table_sql(db)  # killed inside the transaction: nothing of it stayed
    store = JobStore(path)
    try:
        assert store.submit("p", "raw", {}, b"x", "k7")[1] is False  # the old keys still unique
        assert store.submit("p", "raw", {}, b"y")[0].seq == 200_001
    finally:
        store.close()
    with closing(sqlite3.connect(path)) as db:
        assert "AUTOINCREMENT" not in _table_sql(db)
        assert db.execute("SELECT count(*) FROM jobs JOIN job_data USING (seq)").fetchone() == (200_001,)
