"""SQLite for OCPP ingest: every accepted frame (the sessions are rebuilt from them at start)
and one row per printed receipt, so a restart neither loses a session nor prints it twice."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypedDict

from ..errors import Escpos809Error
from ..sqlitedb import claim, open_durable

PRINTING, PRINTED, FAILED = "printing", "printed", "failed"
#: frames read back per query at start (the log is streamed, never loaded whole)
CHUNK = 5000
#: SQLite's page cache for the session database, KiB
CACHE_KIB = 16 * 1024
#: a batch hands its frames to SQLite this many (or this many characters) at a time
FRAMES_AT_ONCE = 1000
FRAME_CHARS_AT_ONCE = 4 << 20
_INSERT_FRAME = "INSERT INTO frames (cp, dir, version, received, frame) VALUES (?, ?, ?, ?, ?)"


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
  seq INTEGER PRIMARY KEY,
  cp TEXT NOT NULL, dir TEXT NOT NULL, version TEXT, received REAL NOT NULL, frame TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS receipts (
  cp TEXT NOT NULL, tx TEXT NOT NULL, state TEXT NOT NULL, job TEXT, attempts INTEGER NOT NULL DEFAULT 0,
  error TEXT, summary TEXT, updated REAL NOT NULL, PRIMARY KEY (cp, tx));
CREATE INDEX IF NOT EXISTS receipts_state ON receipts (state, updated);
-- printed sessions by the transactionId as sent and their start, and how many uses of each id
-- the store knows: a station that reuses one id for every session costs one look-up per start
CREATE TABLE IF NOT EXISTS tx_uses (
  cp TEXT NOT NULL, tx TEXT NOT NULL, start TEXT NOT NULL, key_tx TEXT NOT NULL, PRIMARY KEY (cp, tx, start));
CREATE TABLE IF NOT EXISTS tx_epochs (cp TEXT NOT NULL, tx TEXT NOT NULL, next INTEGER NOT NULL, PRIMARY KEY (cp, tx));
"""


def split_key_tx(key: str) -> tuple[str, int]:
    """A session key's transactionId → (the id as sent, its use): the inverse of
    :func:`.session.key_tx`."""
    if "~" not in key:
        return key, 0
    tx, _, epoch = key.rpartition("~")
    return tx, int(epoch)


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
        self._claim = claim(self.path, "session database")  # one ingest per database
        try:
            self._db = open_durable(self.path, SCHEMA, "session database")
            # receipts and id uses are keyed by (station, transaction): each station writes at
            # its own place in those tables, and SQLite's 2 MB default cache could not hold
            # the pages of a few hundred stations (a 100,000-session replay slowed by a fifth
            # as its tables grew; 21,000 -> 23,300 frames/s with 16 MiB, as with 32)
            self._db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            self._index_uses()
        except sqlite3.Error as exc:
            self._let_go()
            raise Escpos809Error(f"cannot open the session database {self.path}: {exc}") from None
        except BaseException:
            self._let_go()
            raise
        self._lock = threading.RLock()
        self._batch = 0  # writes since the open batch transaction began (0: none open)
        self._every = 0
        self._marks = False
        # frames of the open batch not yet handed to SQLite: written together (executemany)
        # before any commit, so what a commit makes durable is the same as row by row
        self._frames: list[tuple[str, str, str | None, float, str]] = []
        self._frame_chars = 0

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
                try:
                    try:
                        self._write_frames()
                    finally:
                        if self._db.in_transaction:  # a failed write (a full disk) may have ended it
                            self._db.execute("COMMIT")
                except sqlite3.Error as exc:  # a full disk: said in one line, not a traceback
                    raise Escpos809Error(f"the session database {self.path} did not take the batch: {exc}") from exc

    @property
    def deferred_marks(self) -> bool:
        """Whether a receipt's "printing" mark written now would reach the disk only together
        with what follows it (a batch that does not commit marks at once): the caller may as
        well write the outcome alone, with the summary and the attempt."""
        return bool(self._batch) and not self._marks

    def _wrote(self) -> None:
        if self._batch:
            self._batch += 1
            if self._batch > self._every:
                self._recommit()

    def _recommit(self) -> None:
        self._write_frames()
        if self._db.in_transaction:
            self._db.execute("COMMIT")
        self._db.execute("BEGIN")
        self._batch = 1

    def append(self, cp: str, direction: str, version: str | None, received: float, frame: str) -> None:
        with self._lock:
            if not self._batch:
                self._db.execute(_INSERT_FRAME, (cp, direction, version, received, frame))
                return
            self._frames.append((cp, direction, version, received, frame))
            self._frame_chars += len(frame)
            if len(self._frames) >= FRAMES_AT_ONCE or self._frame_chars > FRAME_CHARS_AT_ONCE:
                self._write_frames()
            self._wrote()

    def _write_frames(self) -> None:
        if self._frames:
            rows, self._frames, self._frame_chars = self._frames, [], 0
            try:
                self._db.executemany(_INSERT_FRAME, rows)
            except sqlite3.Error as exc:  # the frames held for this write, not one: say how many
                raise type(exc)(f"{len(rows):,} frames of this batch not written: {exc}") from exc

    def frames(self) -> Iterator[tuple[str, str, str | None, float, str]]:
        """Every stored frame, oldest first: (cp, direction, version, received, frame text),
        read in chunks so a long log never sits in memory at once."""
        seq = -1
        with self._lock:
            self._write_frames()
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

    def _index_uses(self) -> None:
        """A database from before tx_uses: its printed receipts indexed once, at open."""
        if self._db.execute("SELECT 1 FROM tx_epochs LIMIT 1").fetchone():
            return
        rows = self._db.execute(
            "SELECT cp, tx, json_extract(summary, '$.start') FROM receipts WHERE state = ?", (PRINTED,)
        ).fetchall()
        self._db.execute("BEGIN")
        for cp, key, start in rows:
            self._use(cp, key, start)
        self._db.execute("COMMIT")

    def _use(self, cp: str, key: str, start: str | None) -> None:
        tx, epoch = split_key_tx(key)
        if start:
            self._db.execute(
                "INSERT OR IGNORE INTO tx_uses (cp, tx, start, key_tx) VALUES (?,?,?,?)", (cp, tx, start, key)
            )
        self._db.execute(
            "INSERT INTO tx_epochs (cp, tx, next) VALUES (?,?,?) "
            "ON CONFLICT (cp, tx) DO UPDATE SET next = MAX(next, excluded.next)",
            (cp, tx, epoch + 1),
        )

    def printed(self, cp: str, key: str) -> bool:
        """Whether the session keyed ``key`` (a transactionId, ``tx~n`` for a reuse) printed."""
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM receipts WHERE cp = ? AND tx = ? AND state = ?", (cp, key, PRINTED)
            ).fetchone()
        return row is not None

    def reused(self, cp: str, tx: str, start: str) -> tuple[str | None, int]:
        """For a transactionId as sent, started at ``start`` (ISO text): the key of its printed
        session with that start (None: none), and how many uses of the id the store knows."""
        with self._lock:
            same = self._db.execute(
                "SELECT key_tx FROM tx_uses WHERE cp = ? AND tx = ? AND start = ?", (cp, tx, start)
            ).fetchone()
            uses = self._db.execute("SELECT next FROM tx_epochs WHERE cp = ? AND tx = ?", (cp, tx)).fetchone()
        return (same[0] if same else None), (uses[0] if uses else 0)

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
        start: str | None = None,
        attempt: bool | None = None,
    ) -> None:
        """Record where a receipt is. For a PRINTED one, ``start`` is the session's start as in
        its summary, when the caller has it (else it is read from the row). ``attempt``: count
        an attempt to print (by default only a PRINTING mark does)."""
        with self._lock:
            own = state == PRINTED and not self._batch  # the row and its use on disk together
            if own:
                self._db.execute("BEGIN")
            try:
                self._set_receipt(cp, tx, state, job, error, summary, state == PRINTING if attempt is None else attempt)
                if state == PRINTED:
                    if start is None:
                        row = self._db.execute(
                            "SELECT json_extract(summary, '$.start') FROM receipts WHERE cp = ? AND tx = ?", (cp, tx)
                        ).fetchone()
                        start = row[0] if row else None
                    self._use(cp, tx, start)
                if own:
                    self._db.execute("COMMIT")
            except BaseException:
                if own:
                    self._db.execute("ROLLBACK")
                raise
            if self._batch and self._marks and state == PRINTING:
                self._recommit()  # on disk before the receipt goes out: after a crash, reprinted marked
            self._wrote()

    def _set_receipt(
        self,
        cp: str,
        tx: str,
        state: str,
        job: str | None,
        error: str | None,
        summary: dict[str, Any] | None,
        attempt: bool,
    ) -> None:
        self._db.execute(
            "INSERT INTO receipts (cp, tx, state, job, attempts, error, summary, updated) VALUES (?,?,?,?,?,?,?,?) "
            "ON CONFLICT (cp, tx) DO UPDATE SET state = excluded.state, job = COALESCE(excluded.job, job), "
            "attempts = attempts + excluded.attempts, error = excluded.error, "
            "summary = COALESCE(excluded.summary, summary), updated = excluded.updated",
            (
                cp,
                tx,
                state,
                job,
                int(attempt),
                error,
                json.dumps(summary) if summary is not None else None,
                time.time(),
            ),
        )

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

    def newest(self) -> float | None:
        """When the latest stored frame was received (None: no frame)."""
        with self._lock:
            row = self._db.execute("SELECT MAX(received) FROM frames").fetchone()
        return row[0]

    def prune(self, older_than: float) -> int:
        """Drop the frames that arrived before the first one received at or after ``older_than``
        (their sessions are long printed). In arrival order, not by time alone: a frame dated
        long ago that came after recent ones (a client's old ``ts``) belongs to a live session."""
        with self._lock:
            return self._db.execute(
                "DELETE FROM frames WHERE seq < (SELECT MIN(seq) FROM frames WHERE received >= ?)", (older_than,)
            ).rowcount

    def close(self) -> None:
        with self._lock:
            self._db.close()
            self._let_go()

    def _let_go(self) -> None:
        if self._claim is not None:
            self._claim.close()
