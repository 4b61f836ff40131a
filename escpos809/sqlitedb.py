"""The library's own SQLite files (OCPP frames and receipts, EVerest sessions): one way to
open them, durable at every commit."""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from .errors import Escpos809Error


def open_durable(path: str, schema: str, what: str) -> sqlite3.Connection:
    """Open (or make) the database at ``path`` with ``schema`` applied: WAL, ``synchronous=FULL``
    (a committed row survives a power cut, which is what "printed once" rests on), autocommit,
    usable from several threads (callers hold their own lock). ``what`` names the file in errors."""
    try:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.executescript(schema)
    except (OSError, sqlite3.Error) as exc:
        raise Escpos809Error(f"cannot open the {what} {path}: {exc}") from None
    return db


@contextmanager
def immediate(db: sqlite3.Connection) -> Iterator[None]:
    """A write transaction on ``db`` (in autocommit mode), the write lock taken at its start:
    committed when the block ends, rolled back when it raises."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if db.in_transaction:  # (SQLite ends it by itself after some errors)
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def claim(path: str, what: str) -> IO[bytes] | None:
    """Hold the database at ``path`` for this process alone while the returned file is open
    (an advisory lock on ``<path>-lock``; None for ``:memory:``): two processes that both print
    from one database would each print what the other has not recorded yet. Readers (a copy,
    ``sqlite3`` itself) are not kept out. The kernel lets go when the process dies."""
    if path == ":memory:":
        return None
    import fcntl

    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        held = open(f"{path}-lock", "ab")  # noqa: SIM115 - kept open as long as the claim lasts
    except OSError as exc:
        raise Escpos809Error(f"cannot open the {what} {path}: {exc.strerror or exc}") from None
    try:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        held.close()
        raise Escpos809Error(
            f"the {what} {path} is in use by another process (a replay, tap or service on it): one at a time"
        ) from None
    return held


def scratch_copy(path: str, what: str) -> tuple[str, tempfile.TemporaryDirectory]:
    """A copy of the database at ``path`` in a temporary directory, for work that must leave
    the file as it is (a dry run): made with SQLite's backup API (consistent while another
    process writes the file); a file that does not exist is not made (an empty copy). Returns
    the copy's path and the directory, which the caller cleans up."""
    tmp = tempfile.TemporaryDirectory(prefix="escpos809-")
    copy = str(Path(tmp.name) / Path(path).name)
    if Path(path).exists():
        try:
            src = sqlite3.connect(f"{Path(path).absolute().as_uri()}?mode=ro", uri=True)
            try:
                with sqlite3.connect(copy) as dst:
                    src.backup(dst)
                dst.close()
            finally:
                src.close()
        except sqlite3.Error as exc:
            tmp.cleanup()
            raise Escpos809Error(f"cannot read the {what} {path}: {exc}") from None
    return copy, tmp
