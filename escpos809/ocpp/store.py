"""SQLite for OCPP ingest: every accepted frame (the sessions are rebuilt from them at start)
and one row per printed receipt, so a restart neither loses a session nor prints it twice."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypedDict

from ..sqlitedb import open_durable

PRINTING, PRINTED, FAILED = "printing", "printed", "failed"
#: frames read back per query at start (the log is streamed, never loaded whole)
CHUNK = 5000


class ReceiptState(TypedDict):
    """Where a session's receipt is."""

    state: str  # PRINTING, PRINTED or FAILED
    job: str | None  # the sink's reference once it took the receipt
    error: str | None  # why the last attempt failed


class ReceiptRow(ReceiptState):
    """A row of the receipts table."""

    cp: str
    tx: str
    attempts: int
    summary: dict[str, Any] | None  # Summary.to_json() of the receipt being printed
    updated: float


SCHEMA = """
CREATE TABLE IF NOT EXISTS frames (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  cp TEXT NOT NULL, dir TEXT NOT NULL, version TEXT, received REAL NOT NULL, frame TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS receipts (
  cp TEXT NOT NULL, tx TEXT NOT NULL, state TEXT NOT NULL, job TEXT, attempts INTEGER NOT NULL DEFAULT 0,
  error TEXT, summary TEXT, updated REAL NOT NULL, PRIMARY KEY (cp, tx));
CREATE INDEX IF NOT EXISTS receipts_state ON receipts (state, updated);
"""


_RECEIPT = "cp, tx, state, job, attempts, error, summary, updated"


def _receipt(row: tuple[Any, ...]) -> ReceiptRow:
    cp, tx, state, job, attempts, error, summary, updated = row
    return ReceiptRow(
        cp=cp,
        tx=tx,
        state=state,
        job=job,
        error=error,
        attempts=attempts,
        summary=json.loads(summary) if summary else None,
        updated=updated,
    )


class FrameStore:
    def __init__(self, path: str | Path):
        self.path = str(path)
        self._db = open_durable(self.path, SCHEMA, "session database")
        self._lock = threading.RLock()
        self._batch = 0  # writes since the open batch transaction began (0: none open)
        self._every = 0
        self._marks = False

    @contextmanager
    def batch(self, every: int = 2000, marks_at_once: bool = False) -> Iterator[None]:
        """Group the writes made inside into transactions of ``every`` writes (all committed
        when the block ends): a replay, whose log file is the record, and a request, answered
        only after the block, need not wait for the disk after each frame. ``marks_at_once``:
        a receipt's "printing" mark is committed before it goes out (a printer of its own, whose
        receipt is reprinted marked after a crash; the service's job queue needs none: its
        idempotency key keeps a receipt from printing twice). One batch at a time."""
        with self._lock:
            self._db.execute("BEGIN")
            self._batch, self._every, self._marks = 1, every, marks_at_once
        try:
            yield
        finally:
            with self._lock:
                self._batch = 0
                if self._db.in_transaction:  # a failed write (a full disk) may have ended it
                    self._db.execute("COMMIT")

    def _wrote(self) -> None:
        if self._batch:
            self._batch += 1
            if self._batch > self._every:
                self._recommit()

    def _recommit(self) -> None:
        if self._db.in_transaction:
            self._db.execute("COMMIT")
        self._db.execute("BEGIN")
        self._batch = 1

    def append(self, cp: str, direction: str, version: str | None, received: float, frame: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO frames (cp, dir, version, received, frame) VALUES (?, ?, ?, ?, ?)",
                (cp, direction, version, received, frame),
            )
            self._wrote()

    def frames(self) -> Iterator[tuple[str, str, str | None, float, str]]:
        """Every stored frame, oldest first: (cp, direction, version, received, frame text),
        read in chunks so a long log never sits in memory at once."""
        seq = -1
        while True:
            with self._lock:
                rows = self._db.execute(
                    "SELECT seq, cp, dir, version, received, frame FROM frames WHERE seq > ? ORDER BY seq LIMIT ?",
                    (seq, CHUNK),
                ).fetchall()
            for row in rows:
                yield row[1:]
            if len(rows) < CHUNK:
                return
            seq = rows[-1][0]

    def printed_starts(self, cp: str, tx: str) -> dict[str, str]:
        """The printed receipts of a transactionId and of its reuses (``tx~1``, ``tx~2``, …):
        their key's transactionId → the session's start (ISO text; "" when unknown). One range
        scan of the primary key ('~' sorts just below DEL)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT tx, json_extract(summary, '$.start') FROM receipts "
                "WHERE cp = ? AND (tx = ? OR (tx > ? AND tx < ?)) AND state = ?",
                (cp, tx, f"{tx}~", f"{tx}\x7f", PRINTED),
            ).fetchall()
        return {t: start or "" for t, start in rows}

    def receipt(self, cp: str, tx: str) -> ReceiptRow | None:
        with self._lock:
            row = self._db.execute(f"SELECT {_RECEIPT} FROM receipts WHERE cp = ? AND tx = ?", (cp, tx)).fetchone()
        return None if row is None else _receipt(row)

    def set_receipt(
        self,
        cp: str,
        tx: str,
        state: str,
        job: str | None = None,
        error: str | None = None,
        summary: dict[str, Any] | None = None,
    ) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO receipts (cp, tx, state, job, attempts, error, summary, updated) VALUES (?,?,?,?,?,?,?,?) "
                "ON CONFLICT (cp, tx) DO UPDATE SET state = excluded.state, job = COALESCE(excluded.job, job), "
                "attempts = attempts + (excluded.state = 'printing'), error = excluded.error, "
                "summary = COALESCE(excluded.summary, summary), updated = excluded.updated",
                (
                    cp,
                    tx,
                    state,
                    job,
                    1 if state == PRINTING else 0,
                    error,
                    json.dumps(summary) if summary is not None else None,
                    time.time(),
                ),
            )
            if self._batch and self._marks and state == PRINTING:
                self._recommit()  # on disk before the receipt goes out: after a crash, reprinted marked
            self._wrote()

    def receipts(self, state: str | None = None, limit: int = -1) -> list[ReceiptRow]:
        """Receipt rows, oldest first; with ``limit``, the latest ``limit`` (of ``state``)."""
        where = "WHERE state = ?" if state else ""
        args: tuple[Any, ...] = (state,) if state else ()
        with self._lock:
            if limit < 0:
                rows = self._db.execute(f"SELECT {_RECEIPT} FROM receipts {where} ORDER BY updated", args).fetchall()
            else:
                rows = self._db.execute(
                    f"SELECT {_RECEIPT} FROM receipts {where} ORDER BY updated DESC LIMIT ?", (*args, limit)
                ).fetchall()
                rows.reverse()
        return [_receipt(r) for r in rows]

    def prune(self, older_than: float) -> int:
        """Drop frames received before ``older_than`` (their sessions are long printed)."""
        with self._lock:
            return self._db.execute("DELETE FROM frames WHERE received < ?", (older_than,)).rowcount

    def close(self) -> None:
        with self._lock:
            self._db.close()
