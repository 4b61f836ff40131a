"""Group commit: writes that arrive together share one transaction, so one fsync makes a
whole batch durable instead of one fsync per job.

The first writer to find nobody committing becomes the leader: it takes every write waiting
at that moment, runs them in one ``BEGIN IMMEDIATE … COMMIT`` and wakes their writers; writes
that arrive meanwhile wait for the next batch (led by one of their own writers). Each writer
returns only once its batch is committed, so "returned" still means "on disk". A write that
fails gets its own exception and the others in the batch go on: a failed statement is undone
by SQLite alone, and when an error made SQLite roll the whole transaction back (disk full,
I/O error) the writes before it are run again in a fresh transaction — nobody is told
"stored" for a write that was rolled back, nor blamed for another's error.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(eq=False)
class _Write(Generic[T]):
    run: Callable[[sqlite3.Connection], T]
    value: Any = None
    error: BaseException | None = None
    done: bool = field(default=False)

    def result(self) -> T:
        if self.error is not None:
            raise self.error
        return self.value


class GroupCommit:
    """Commits writes on ``db`` (guarded by ``lock``, shared with its other users) in batches."""

    def __init__(self, db: sqlite3.Connection, lock: threading.Lock):
        self._db, self._lock = db, lock
        self._cv = threading.Condition()
        self._waiting: list[_Write[Any]] = []
        self._leading = False
        #: batches committed and writes in them (for the benchmark and the metrics)
        self.batches = 0
        self.writes = 0

    def write(self, run: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``run(db)`` inside a shared transaction; return its value once committed (or
        raise its error, or the commit's)."""
        mine: _Write[T] = _Write(run)
        with self._cv:
            self._waiting.append(mine)
            while self._leading and not mine.done:
                self._cv.wait()
            if mine.done:
                return mine.result()
            self._leading = True
            # all that wait (as many as there are threads submitting): the leader's own included
            batch, self._waiting = self._waiting, []
        try:
            self._commit(batch)
        except BaseException as exc:  # nothing of the batch was committed: each writer hears why
            for w in batch:
                w.value, w.error = None, w.error or exc
            raise
        finally:
            with self._cv:
                for w in batch:
                    w.done = True
                self._leading = False
                self._cv.notify_all()  # the done return; one of the others leads the next batch
        return mine.result()

    def _commit(self, batch: list[_Write[Any]]) -> None:
        db = self._db
        todo = batch
        with self._lock:
            while todo:
                try:
                    db.execute("BEGIN IMMEDIATE")
                except sqlite3.Error as exc:
                    for w in todo:
                        w.error = exc
                    return
                ran: list[_Write[Any]] = []
                rerun: list[_Write[Any]] | None = None
                for k, w in enumerate(todo):
                    w.value, w.error = None, None
                    try:
                        w.value = w.run(db)
                        ran.append(w)
                    except Exception as exc:  # noqa: BLE001 - the writer gets it, the batch goes on
                        w.error = exc
                        if not db.in_transaction:  # SQLite rolled the whole transaction back
                            rerun = ran + todo[k + 1 :]
                            break
                if rerun is not None:
                    todo = rerun
                    continue
                try:
                    db.execute("COMMIT")
                except sqlite3.Error as exc:
                    _rollback(db)
                    for w in ran:
                        w.value, w.error = None, exc
                self.batches += 1
                self.writes += len(ran)
                return


def _rollback(db: sqlite3.Connection) -> None:
    """End a transaction that cannot commit (nothing to do when SQLite already ended it)."""
    if db.in_transaction:
        try:
            db.execute("ROLLBACK")
        except sqlite3.Error:
            pass
