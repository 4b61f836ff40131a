"""The library's own SQLite files (OCPP frames and receipts, EVerest sessions): one way to
open them, durable at every commit."""

from __future__ import annotations

import sqlite3
from pathlib import Path

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
