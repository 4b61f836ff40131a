"""The durable job queue: SQLite in WAL mode with ``synchronous=FULL``, so a job is on disk
before the 202 that accepts it, and a power cut after that loses nothing. Jobs submitted at
the same time share one transaction and one fsync (:mod:`.commit`); reads go through a
connection of their own, so they never wait behind a commit's fsync (WAL readers see the
last committed state). The row and its API view: :mod:`.jobrecord`; the schema and
its migrations: :mod:`.jobschema`."""

from __future__ import annotations

import json
import random
import sqlite3
import threading
import time
from pathlib import Path

from .commit import GroupCommit
from .jobrecord import COLUMNS, JOINED, LISTED, Job, JobView, iso_time, job_from_row
from .jobschema import prepare

__all__ = ["STATES", "Job", "JobStore", "JobView", "iso_time"]

STATES = ("queued", "printing", "done", "failed", "held", "cancelled")


def new_job_id() -> str:
    """A job id: 16 hex digits, the time in milliseconds (42 bits, until 2109) then 22 random
    bits. In time order, a batch's ids land on the last page of the id index: random ids put
    each job of a commit on a page of its own, and every page a commit touches is written to
    the WAL and synced (measured at 3.5 jobs a commit: 8.7 pages a commit, 11.3 with random
    ids). Ids are names, not secrets: the random bits only keep apart the jobs of one
    millisecond (and a clash is drawn again)."""
    return f"{(time.time_ns() // 1_000_000) << 22 | random.getrandbits(22):016x}"


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30)


#: how often the WAL is copied into the database, by a thread of its own: left to SQLite, the
#: commit that crosses its 1000-page mark does it (a copy and an fsync of the database) while
#: holding the write lock, and every submission waits behind it
CHECKPOINT_EVERY_S = 0.5


class JobStore:
    """All job state. Thread-safe: a writing connection behind one lock (submissions are
    committed in groups), a reading connection behind another."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = _connect(self.path)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # durable at commit, power cut included
        prepare(self._db)
        self._lock = threading.Lock()
        if str(path) == ":memory:":  # one database per connection: read where it is written
            self._read, self._read_lock = self._db, self._lock
        else:
            self._read, self._read_lock = _connect(self.path), threading.Lock()
        self.group = GroupCommit(self._db, self._lock)
        self.changed = threading.Condition()  # notified on every change a worker may care about
        self._closing = threading.Event()
        self._checkpointer: threading.Thread | None = None
        if str(path) != ":memory:":
            self._db.execute("PRAGMA wal_autocheckpoint=0")
            self._checkpointer = threading.Thread(target=self._checkpoints, name="job-store-checkpoints", daemon=True)
            self._checkpointer.start()

    def _checkpoints(self) -> None:
        """Copy committed WAL pages into the database off the commit path (PASSIVE: it never
        waits for, nor blocks, a writer; what it cannot copy now it copies next time)."""
        db = _connect(self.path)
        try:
            while not self._closing.wait(CHECKPOINT_EVERY_S):
                try:
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:  # busy or a passing I/O error: the WAL keeps every commit meanwhile
                    pass
        finally:
            db.close()

    def close(self) -> None:
        self._closing.set()
        if self._checkpointer is not None:
            self._checkpointer.join(5)
        with self._lock:
            self._db.close()
        with self._read_lock:
            self._read.close()

    def _notify(self) -> None:
        with self.changed:
            self.changed.notify_all()

    # --- writing ------------------------------------------------------------------------------------
    def submit(
        self,
        printer: str,
        kind: str,
        payload: dict,
        data: bytes,
        idem_key: str | None = None,
        digest: str | None = None,
    ) -> tuple[Job, bool]:
        """Store a new job (committed when this returns). With an idempotency key already used
        for this printer, return that job instead: ``(job, created)``. ``digest`` is the
        fingerprint of the request, kept with the key (see :meth:`by_key`)."""
        now = time.time()
        job_id = new_job_id()
        stored = json.dumps(payload)

        def insert(db: sqlite3.Connection) -> tuple[Job, bool]:
            nonlocal job_id
            db.execute("SAVEPOINT job")  # both rows or neither, whatever the batch's other writes do
            try:
                cur = db.execute(
                    "INSERT INTO jobs (id, printer, kind, state, idem_key, request_digest, created, updated)"
                    " VALUES (?, ?, ?, 'queued', ?, ?, ?, ?)",
                    (job_id, printer, kind, idem_key, digest, now, now),
                )
                db.execute("INSERT INTO job_data (seq, payload, data) VALUES (?, ?, ?)", (cur.lastrowid, stored, data))
                db.execute("RELEASE job")
            except sqlite3.IntegrityError as exc:
                _undo(db)
                if str(exc).endswith(": jobs.id"):  # two jobs of one millisecond drew the same bits
                    job_id = new_job_id()
                    return insert(db)
                if idem_key is None:
                    raise
                row = db.execute(
                    f"SELECT {COLUMNS} FROM {JOINED} WHERE printer = ? AND idem_key = ?", (printer, idem_key)
                )
                found = row.fetchone()
                if found is None:  # the insert failed for another reason than the key
                    raise
                return job_from_row(found), False
            except BaseException:
                _undo(db)
                raise
            assert cur.lastrowid is not None  # seq is the rowid
            fresh = (None, False, 0, None)  # hold_reason, reprint, attempts, last_error
            return Job(
                job_id,
                cur.lastrowid,
                printer,
                kind,
                "queued",
                stored,
                data,
                *fresh,
                idem_key,
                now,
                now,
                None,
                None,
                len(data),
            ), True

        job, created = self.group.write(insert)
        if created:
            self._notify()
        return job, created

    def _update(self, job_id: str, where: str = "", **values: object) -> bool:
        values["updated"] = time.time()
        sets = ", ".join(f"{k} = ?" for k in values)
        with self._lock:
            cur = self._db.execute(f"UPDATE jobs SET {sets} WHERE id = ? {where}", (*values.values(), job_id))
        self._notify()
        return cur.rowcount == 1

    def start(self, job_id: str) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE jobs SET state = 'printing', hold_reason = NULL, attempts = attempts + 1,"
                " started = COALESCE(started, ?), updated = ? WHERE id = ?",
                (time.time(), time.time(), job_id),
            )
        self._notify()

    def done(self, job_id: str, note: str | None = None) -> None:
        """Printed: the printer confirmed the job's last byte (``note`` says when it could not)."""
        self._update(job_id, state="done", finished=time.time(), last_error=note, hold_reason=None)

    def fail(self, job_id: str, error: str) -> None:
        self._update(job_id, state="failed", finished=time.time(), last_error=error)

    def requeue(self, job_id: str, error: str, reprint: bool) -> None:
        """Back to the head of its printer's queue after a failed attempt."""
        self._update(job_id, "AND state = 'printing'", state="queued", last_error=error, reprint=int(reprint))

    def hold(self, job_id: str, reason: str, error: str | None = None, reprint: bool | None = None) -> None:
        """Hold a job: ``reason`` 'printer' (goes on when the printer recovers), 'restart' or
        'unconfirmed' (sent, never confirmed: a person decides)."""
        extra = {} if reprint is None else {"reprint": int(reprint)}
        self._update(
            job_id, "AND state IN ('queued', 'printing')", state="held", hold_reason=reason, last_error=error, **extra
        )

    def note(self, job_id: str, error: str | None) -> None:
        """Record what the job is waiting for without changing its state."""
        self._update(job_id, last_error=error)

    def release(self, job_id: str) -> bool:
        """A job held for a person goes back to the queue (keeping its place: order is by
        submission). Jobs held by the printer's condition go on by themselves."""
        return self._update(
            job_id, "AND state = 'held' AND hold_reason IS NOT 'printer'", state="queued", hold_reason=None
        )

    def cancel(self, job_id: str) -> bool:
        """Cancel a job that has not started printing."""
        return self._update(job_id, "AND state IN ('queued', 'held')", state="cancelled", finished=time.time())

    def recover(self, policy: str) -> list[str]:
        """At start-up: jobs caught mid-print by a crash are reprinted (marked) or held."""
        with self._lock:
            ids = [r[0] for r in self._db.execute("SELECT id FROM jobs WHERE state = 'printing'")]
            if policy == "hold":
                self._db.execute(
                    "UPDATE jobs SET state = 'held', hold_reason = 'restart', reprint = 1,"
                    " last_error = 'interrupted by a restart' WHERE state = 'printing'"
                )
            else:
                self._db.execute(
                    "UPDATE jobs SET state = 'queued', reprint = 1,"
                    " last_error = 'interrupted by a restart' WHERE state = 'printing'"
                )
            # jobs held only because the printer was unwell are the worker's to re-check
            self._db.execute(
                "UPDATE jobs SET state = 'queued', hold_reason = NULL WHERE state = 'held' AND hold_reason = 'printer'"
            )
        return ids

    # --- reading ------------------------------------------------------------------------------------
    def get(self, job_id: str, whole: bool = True) -> Job | None:
        """The job ``job_id``; without its payload and bytes unless ``whole`` (its API view, its
        state: a client polling an 8 MiB job read 19 MB a time)."""
        columns = COLUMNS if whole else LISTED
        with self._read_lock:
            row = self._read.execute(f"SELECT {columns} FROM {JOINED} WHERE id = ?", (job_id,)).fetchone()
        return job_from_row(row) if row else None

    def by_key(self, printer: str, idem_key: str) -> tuple[Job, str | None] | None:
        """The job an idempotency key made on this printer, with its request's fingerprint
        (None for jobs stored before fingerprints were kept)."""
        with self._read_lock:
            row = self._read.execute(
                f"SELECT {COLUMNS}, request_digest FROM {JOINED} WHERE printer = ? AND idem_key = ?",
                (printer, idem_key),
            ).fetchone()
        return (job_from_row(row[:-1]), row[-1]) if row else None

    def next_for(self, printer: str, after: int | None = None) -> Job | None:
        """The printer's next job: the oldest that is queued, held by the printer's condition, or
        (after a crash) printing; with ``after``, the oldest behind that ``seq`` (the jobs before
        it are on their way). A job held for a person blocks nobody behind it."""
        with self._read_lock:
            row = self._read.execute(
                f"SELECT {COLUMNS} FROM {JOINED} WHERE printer = ? AND seq > ? AND (state IN ('queued', 'printing')"
                " OR (state = 'held' AND hold_reason = 'printer')) ORDER BY seq LIMIT 1",
                (printer, -1 if after is None else after),
            ).fetchone()
        return job_from_row(row) if row else None

    def list(
        self, printer: str | None = None, state: str | None = None, limit: int = 50, before: int | None = None
    ) -> list[Job]:
        """Newest first; ``before`` is a ``seq`` cursor for the next page. The jobs come without
        their payload and bytes (a page of 500 long jobs would read megabytes to show sizes)."""
        where: list[str] = []
        args: list[str | int] = []
        if printer:
            where.append("printer = ?")
            args.append(printer)
        if state:
            where.append("state = ?")
            args.append(state)
        if before is not None:
            where.append("seq < ?")
            args.append(before)
        sql = (
            f"SELECT {LISTED} FROM {JOINED}"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY seq DESC LIMIT ?"
        )
        with self._read_lock:
            rows = self._read.execute(sql, (*args, limit)).fetchall()
        return [job_from_row(r) for r in rows]

    def counts(self) -> dict[tuple[str, str], int]:
        """(printer, state) → number of jobs."""
        with self._read_lock:
            rows = self._read.execute("SELECT printer, state, COUNT(*) FROM jobs GROUP BY printer, state").fetchall()
        return {(p, s): n for p, s, n in rows}

    def queue_length(self, printer: str) -> int:
        with self._read_lock:
            return self._read.execute(
                "SELECT COUNT(*) FROM jobs WHERE printer = ? AND state IN ('queued', 'printing', 'held')", (printer,)
            ).fetchone()[0]

    def writable(self) -> bool:
        try:
            with self._lock:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.execute("ROLLBACK")
            return True
        except sqlite3.Error:
            return False


def _undo(db: sqlite3.Connection) -> None:
    """Undo a job's half-made rows (its savepoint), leaving the batch's transaction open; when
    SQLite already rolled the whole transaction back, there is nothing to undo."""
    if db.in_transaction:
        db.execute("ROLLBACK TO job")
        db.execute("RELEASE job")
