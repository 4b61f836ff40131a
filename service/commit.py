"""Group commit: writes that arrive together share one transaction, so one fsync makes a
whole batch durable instead of one fsync per job.

The first writer to find nobody committing becomes the leader: it takes every write waiting
at that moment, runs them in one ``BEGIN IMMEDIATE … COMMIT`` and wakes their writers; writes
that arrive meanwhile wait for the next batch, led by the first of them, whom the leader wakes
as soon as its own batch is committed. Each writer returns only once its batch is committed,
so "returned" still means "on disk". A write that fails gets its own exception and the others
in the batch go on: a failed statement is undone by SQLite alone, and when an error made
SQLite roll the whole transaction back (disk full, I/O error) the writes before it are run
again in a fresh transaction — nobody is told "stored" for a write that was rolled back, nor
blamed for another's error.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class _Write(Generic[T]):
    """One writer's write, and the lock it sleeps on: held from the start, released once by
    whoever wakes it (its batch's leader when the batch is done, or the leader before it when
    it is to lead the next batch)."""

    __slots__ = ("done", "error", "run", "value", "wake")

    def __init__(self, run: Callable[[sqlite3.Connection], T]):
        self.run = run
        self.value: Any = None
        self.error: BaseException | None = None
        self.done = False
        self.wake = threading.Lock()
        self.wake.acquire()

    def result(self) -> T:
        if self.error is not None:
            raise self.error
        return self.value


class GroupCommit:
    """Commits writes on ``db`` (guarded by ``lock``, shared with its other users) in batches."""

    def __init__(self, db: sqlite3.Connection, lock: threading.Lock):
        self._db, self._lock = db, lock
        self._queue = threading.Lock()  # guards _waiting and _leading: held for a few lines only
        self._waiting: list[_Write[Any]] = []
        self._leading = False
        self._heir: _Write[Any] | None = None  # woken to lead the next batch, not yet leading
        #: batches committed and writes in them (for the benchmark and the metrics)
        self.batches = 0
        self.writes = 0

    def write(self, run: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``run(db)`` inside a shared transaction; return its value once committed (or
        raise its error, or the commit's)."""
        mine: _Write[T] = _Write(run)
        with self._queue:
            self._waiting.append(mine)
            follow, self._leading = self._leading, True
        if follow:
            # Each sleeper is woken once, by name: its batch is done, or it leads the next one.
            # (A condition's notify_all woke every sleeper at every commit, the next batch's too,
            # to find out which it was: at 16 clients that was 7 % of the service's time.)
            try:
                mine.wake.acquire()
            except BaseException:  # interrupted (a signal in the main thread): not run, nor leading
                self._abandon(mine)
                raise
            if mine.done:
                return mine.result()
        with self._queue:  # all that wait (as many as there are threads submitting): mine included
            batch, self._waiting, self._heir = self._waiting, [], None
        try:
            self._commit(batch)
        except BaseException as exc:  # nothing of the batch was committed: each writer hears why
            for w in batch:
                w.value, w.error = None, w.error or exc
            raise
        finally:
            for w in batch:
                w.done = True
            self._pass_on()  # the next batch first: its fsync overlaps these returns
            for w in batch:
                if w is not mine:
                    w.wake.release()
        return mine.result()

    def _pass_on(self) -> None:
        """Wake the first waiting writer to lead the next batch (or let nobody lead)."""
        with self._queue:
            heir = self._heir = self._waiting[0] if self._waiting else None
            self._leading = heir is not None
        if heir is not None:
            heir.wake.release()

    def _abandon(self, mine: _Write[Any]) -> None:
        """A waiting writer that stopped waiting: its write is dropped if no batch took it yet,
        and the lead it was given passes on."""
        with self._queue:
            if mine in self._waiting:
                self._waiting.remove(mine)
            heir = self._heir is mine
        if heir:
            self._pass_on()

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
