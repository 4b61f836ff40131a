"""Group commit (service/commit.py): concurrent submissions share a transaction, each returns
only once its batch is on disk, and one write's failure is its own. Real SQLite files."""

from __future__ import annotations

import http.client
import re
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from escpos809_service.commit import GroupCommit
from escpos809_service.store import JobStore
from tests.service.test_api import receipt


def test_concurrent_submissions_share_commits_and_are_all_stored(tmp_path):
    store = JobStore(tmp_path / "jobs.db")
    start = threading.Barrier(16)

    def client(c: int) -> list[str]:
        start.wait()
        return [store.submit("p", "raw", {"n": c * 100 + k}, b"\x1b@%d\n" % k)[0].id for k in range(40)]

    with ThreadPoolExecutor(16) as pool:
        ids = [i for got in pool.map(client, range(16)) for i in got]
    store.close()
    assert len(set(ids)) == 640
    assert store.group.writes == 640 and store.group.batches < 640  # some commits carried several jobs
    with sqlite3.connect(tmp_path / "jobs.db") as db:  # a fresh reader: what is on disk
        rows = db.execute("SELECT id, seq, payload FROM jobs JOIN job_data USING (seq) ORDER BY seq").fetchall()
    assert sorted(r[0] for r in rows) == sorted(ids)
    assert [r[1] for r in rows] == list(range(1, 641))


def test_submissions_return_their_own_seq_and_payload(tmp_path):
    store = JobStore(tmp_path / "jobs.db")
    with ThreadPoolExecutor(8) as pool:
        jobs = list(pool.map(lambda k: store.submit("p", "raw", {"k": k}, bytes([k]))[0], range(200)))
    for job in jobs:  # the job each caller got back is the row stored under its id
        stored = store.get(job.id)
        assert stored is not None and (stored.seq, stored.payload, stored.data) == (job.seq, job.payload, job.data)
    store.close()


def test_one_idempotency_key_raced_by_many_makes_one_job(tmp_path):
    store = JobStore(tmp_path / "jobs.db")
    start = threading.Barrier(16)

    def client(c: int) -> tuple[str, bool]:
        start.wait()
        job, created = store.submit("p", "receipt", {"c": c}, b"x", "order-1", "digest")
        return job.id, created

    with ThreadPoolExecutor(16) as pool:
        got = list(pool.map(client, range(16)))
    assert len({i for i, _ in got}) == 1 and sum(created for _, created in got) == 1
    assert store.counts() == {("p", "queued"): 1}
    store.close()


def _queued(group: GroupCommit, runs: list) -> list:
    """Run ``runs[1:]`` as one batch: ``runs[0]`` holds its leader until the others all wait."""
    release, results = threading.Event(), [None] * len(runs)
    first = runs[0]

    def held(db):
        release.wait(10)
        return first(db)

    def call(k: int, run) -> None:
        try:
            results[k] = ("ok", group.write(run))
        except Exception as exc:  # noqa: BLE001 - the test looks at which writer got what
            results[k] = ("error", exc)

    threads = [threading.Thread(target=call, args=(0, held))]
    threads[0].start()
    _until(lambda: group._leading)
    for k, run in enumerate(runs[1:], 1):
        threads.append(threading.Thread(target=call, args=(k, run)))
        threads[-1].start()
    _until(lambda: len(group._waiting) == len(runs) - 1)
    release.set()
    for t in threads:
        t.join(10)
    return results


def _until(done, timeout: float = 10) -> None:
    end = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < end, "the writers did not line up"
        time.sleep(0.001)


def _db(tmp_path):
    db = sqlite3.connect(tmp_path / "t.db", isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA foreign_keys=ON")
    db.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    db.execute("CREATE TABLE t (v TEXT UNIQUE, parent INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)")
    return db


def _insert(v: str, parent: int | None = None):
    return lambda db: db.execute("INSERT INTO t (v, parent) VALUES (?, ?)", (v, parent)).lastrowid


def _stored(tmp_path) -> list[str]:
    with sqlite3.connect(tmp_path / "t.db") as fresh:
        return [r[0] for r in fresh.execute("SELECT v FROM t ORDER BY v")]


def test_a_failed_write_is_its_own_and_the_batch_commits(tmp_path):
    group = GroupCommit(_db(tmp_path), threading.Lock())
    results = _queued(group, [_insert("a"), _insert("a"), _insert("b"), lambda db: 1 / 0, _insert("c")])
    assert [r[0] for r in results] == ["ok", "error", "ok", "error", "ok"]
    assert isinstance(results[1][1], sqlite3.IntegrityError) and isinstance(results[3][1], ZeroDivisionError)
    assert group.batches == 2 and group.writes == 3  # the held first write, then all the others at once
    assert _stored(tmp_path) == ["a", "b", "c"]


def test_a_job_whose_bytes_are_refused_leaves_no_half_job_and_the_others_commit(tmp_path):
    """A job is two rows (its state, its bytes): the second refused, the first goes too; the
    jobs submitted beside it are stored whole."""
    store = JobStore(tmp_path / "jobs.db")
    with sqlite3.connect(tmp_path / "jobs.db") as db:
        db.execute(
            "CREATE TRIGGER refuse13 BEFORE INSERT ON job_data WHEN length(NEW.data) = 13"
            " BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )
    try:
        with ThreadPoolExecutor(6) as pool:
            futures = [
                pool.submit(store.submit, "p", "raw", {}, b"x" * n, key) for n in (5, 13, 7) for key in (None, f"k{n}")
            ]
        outcomes = [f.exception() or f.result()[0].size for f in futures]
        assert [o if isinstance(o, int) else type(o) for o in outcomes] == [5, 5] + [sqlite3.IntegrityError] * 2 + [
            7,
            7,
        ]
        assert sorted(j.size for j in store.list()) == [5, 5, 7, 7]  # no job without its bytes
        with sqlite3.connect(tmp_path / "jobs.db") as db:
            assert db.execute("SELECT count(*) FROM jobs").fetchone() == (4,)
    finally:
        store.close()


def test_a_write_that_rolls_the_transaction_back_costs_the_others_nothing(tmp_path):
    def rolls_back(db):  # as SQLite does by itself on a full disk or an I/O error
        db.execute("ROLLBACK")
        raise sqlite3.OperationalError("database or disk is full")

    group = GroupCommit(_db(tmp_path), threading.Lock())
    results = _queued(group, [_insert("0"), _insert("a"), _insert("b"), rolls_back, _insert("c")])
    assert [r[0] for r in results] == ["ok", "ok", "ok", "error", "ok"]
    assert "disk is full" in str(results[3][1])
    assert _stored(tmp_path) == ["0", "a", "b", "c"]  # the writes before it were run again


def test_a_failed_commit_fails_every_write_of_the_batch_and_stores_none(tmp_path):
    db = _db(tmp_path)
    group = GroupCommit(db, threading.Lock())
    # a deferred foreign key is checked at COMMIT: the whole batch is refused there
    results = _queued(group, [_insert("0"), _insert("a"), _insert("b", parent=99), _insert("c")])
    assert [r[0] for r in results] == ["ok"] + ["error"] * 3
    assert all("FOREIGN KEY" in str(r[1]) for r in results[1:])
    assert _stored(tmp_path) == ["0"] and not db.in_transaction
    assert group.write(_insert("d")) is not None and _stored(tmp_path) == ["0", "d"]  # and the store goes on


def test_a_writer_interrupted_while_it_waits_is_dropped_and_the_lead_goes_on(tmp_path):
    """A writer that stops waiting (a signal in the main thread) is not run, and when the lead
    had just been passed to it, the writers behind it are still committed."""
    import signal

    group = GroupCommit(_db(tmp_path), threading.Lock())
    release = threading.Event()
    leader = threading.Thread(target=group.write, args=(lambda db: release.wait(10) and _insert("0")(db),))
    leader.start()
    _until(lambda: group._leading)
    behind: list = []
    later = threading.Thread(target=lambda: behind.append(group.write(_insert("b"))))

    def interrupt(signum, frame):
        later.start()  # queued behind the interrupted writer: it will be handed the lead
        _until(lambda: len(group._waiting) == 2)
        release.set()
        _until(lambda: group._heir is not None)
        raise InterruptedError("stop waiting")

    old = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.2)
    try:
        with pytest.raises(InterruptedError):
            group.write(_insert("a"))
    finally:
        signal.signal(signal.SIGALRM, old)
    leader.join(10)
    later.join(10)
    assert not later.is_alive() and behind, "the writer behind the interrupted one was never committed"
    assert _stored(tmp_path) == ["0", "b"] and not group._leading


def test_job_ids_are_in_time_order_and_a_clash_is_drawn_again(tmp_path, monkeypatch):
    """Ids are 16 hex digits in time order (a batch's land on one page of the id index); two
    jobs of one millisecond that draw the same random bits both get stored, under two ids."""
    import escpos809_service.store as store_module

    store = JobStore(tmp_path / "jobs.db")
    ids = [store.submit("p", "raw", {}, b"x")[0].id for _ in range(50)]
    ms = [int(i, 16) >> 22 for i in ids]
    assert all(re.fullmatch("[0-9a-f]{16}", i) for i in ids) and ms == sorted(ms)
    assert abs(ms[-1] - time.time() * 1000) < 60_000  # the time, in milliseconds
    clash = ids[-1]
    drawn = iter([clash, clash, "7" + clash[1:]])
    monkeypatch.setattr(store_module, "new_job_id", lambda: next(drawn))
    job, created = store.submit("p", "raw", {"n": 1}, b"y")
    assert created and job.id == "7" + clash[1:] and store.get(job.id).data == b"y"
    assert store.get(clash).data == b"x" and len(store.list(limit=100)) == 51
    store.close()


@pytest.mark.parametrize("path", [":memory:"])
def test_an_in_memory_store_reads_what_it_wrote(path):
    store = JobStore(path)
    job, _ = store.submit("p", "raw", {}, b"x")
    assert store.get(job.id) is not None and store.next_for("p") is not None
    store.close()


def test_a_service_killed_while_clients_submit_at_once_lost_no_accepted_job(make_service, vprinter):
    """16 clients submit at once (jobs share commits) while the service is SIGKILLed: every job
    that got its 202 is there after the restart. The printer's cover is open: jobs only queue."""
    vprinter.faults.cover_open = True
    svc = make_service({"default": vprinter.uri + "?timeout=3&read_timeout=1"}).start()
    accepted: list[str] = []
    stop = threading.Event()

    def client(c: int) -> None:
        k = 0
        while not stop.is_set():
            k += 1
            try:
                r = svc.submit(receipt(f"C{c}-{k}"), timeout=5)
            except (OSError, http.client.HTTPException):  # killed under us: no answer, not "accepted"
                time.sleep(0.02)
                continue
            if r.status == 202:
                accepted.append(r.json["id"])

    threads = [threading.Thread(target=client, args=(c,)) for c in range(16)]
    for t in threads:
        t.start()
    try:
        for _ in range(2):
            time.sleep(1.0)
            svc.kill()
            svc.start()
        time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    metrics = svc.request("GET", "/metrics").body.decode()
    assert len(accepted) > 50 and "escpos809_store_commits_total" in metrics
    missing = [i for i in accepted if svc.request("GET", f"/api/v1/jobs/{i}").status != 200]
    assert missing == [], f"{len(missing)} of {len(accepted)} accepted jobs lost"


def test_the_wal_is_checkpointed_off_the_commit_path(tmp_path):
    """Commits never checkpoint (that stalled every submission behind one copy and fsync of the
    database); the store's own thread copies the WAL into the database meanwhile."""
    store = JobStore(tmp_path / "jobs.db")
    try:
        for k in range(300):
            store.submit("p", "raw", {"k": k}, bytes(2000))
        # left to the commits, nothing would be copied before the WAL reached 1000 pages (4 MB);
        # no other connection is opened here (closing one may checkpoint)
        deadline = time.monotonic() + 10
        while (tmp_path / "jobs.db").stat().st_size < 300 * 2000 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert (tmp_path / "jobs.db").stat().st_size > 300 * 2000, "the jobs' pages never reached the database"
    finally:
        store.close()
