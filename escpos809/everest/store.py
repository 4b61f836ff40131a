"""SQLite for the EVerest listener: each connector's state (so a restart knows that the
``Finished`` it hears again was already taken) and one row per session's receipt (pending,
printing, printed, failed), so a restart neither loses a session nor prints it twice."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from ..sqlitedb import immediate, open_durable
from .charge import Charge, Connector

PENDING, PRINTING, PRINTED, FAILED = "pending", "printing", "printed", "failed"

SCHEMA = """
CREATE TABLE IF NOT EXISTS connectors (name TEXT PRIMARY KEY, state TEXT NOT NULL, updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS receipts (
  key TEXT PRIMARY KEY, connector TEXT NOT NULL, state TEXT NOT NULL, charge TEXT NOT NULL,
  job TEXT, error TEXT, attempts INTEGER NOT NULL DEFAULT 0, summary TEXT, updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS listing (id INTEGER PRIMARY KEY CHECK (id = 0), names TEXT NOT NULL);
"""
#: connectors no longer listed whose state is kept (the latest ones): a connector that comes
#: back still knows its last session; names listed once by garbage do not pile up
KEEP_UNLISTED = 64


class EverestStore:
    def __init__(self, path: str | Path):
        self.path = str(path)
        self._db = open_durable(self.path, SCHEMA, "EVerest session database")
        self._lock = threading.Lock()

    def load(self) -> tuple[dict[str, Connector], dict[str, Charge]]:
        """(connectors, charges whose receipt has not printed) as stored; printed ones stay
        on disk (:meth:`printed` answers for them)."""
        with self._lock:
            conns = self._db.execute("SELECT state FROM connectors").fetchall()
            rows = self._db.execute("SELECT key, charge FROM receipts WHERE state != ?", (PRINTED,)).fetchall()
        connectors = {c.name: c for c in (Connector.from_json(json.loads(s)) for (s,) in conns)}
        return connectors, {k: Charge.from_json(json.loads(ch)) for k, ch in rows}

    def listing(self) -> list[str] | None:
        """The connectors as ``<prefix>/connectors`` listed them last (None: never stored)."""
        with self._lock:
            row = self._db.execute("SELECT names FROM listing WHERE id = 0").fetchone()
        return None if row is None else list(json.loads(row[0]))

    def connector(self, name: str) -> Connector | None:
        with self._lock:
            row = self._db.execute("SELECT state FROM connectors WHERE name = ?", (name,)).fetchone()
        return None if row is None else Connector.from_json(json.loads(row[0]))

    def set_listing(self, names: list[str], keep_unlisted: int = KEEP_UNLISTED) -> None:
        """Store the listing; of the connectors not in it, only the ``keep_unlisted`` updated
        last and those with a session open keep their state."""
        listed = json.dumps(names)
        with self._lock:
            with immediate(self._db):
                self._db.execute(
                    "INSERT INTO listing (id, names) VALUES (0, ?) "
                    "ON CONFLICT (id) DO UPDATE SET names = excluded.names",
                    (listed,),
                )
                self._db.execute(
                    "DELETE FROM connectors WHERE name NOT IN (SELECT value FROM json_each(?)) "
                    "AND json_extract(state, '$.phase') != 'open' AND name NOT IN ("
                    "  SELECT name FROM connectors WHERE name NOT IN (SELECT value FROM json_each(?)) "
                    "  ORDER BY updated DESC LIMIT ?)",
                    (listed, listed, keep_unlisted),
                )

    def printed(self, key: str) -> bool:
        """Whether the receipt of ``key`` printed."""
        with self._lock:
            row = self._db.execute("SELECT 1 FROM receipts WHERE key = ? AND state = ?", (key, PRINTED)).fetchone()
        return row is not None

    def save(self, connectors: list[Connector], ended: list[Charge], updated: list[Charge]) -> None:
        """One message's changes in one transaction: a charge's end and its connector's
        FINISHED state are on disk together or not at all."""
        now = time.time()
        with self._lock:
            with immediate(self._db):
                for c in connectors:
                    self._db.execute(
                        "INSERT INTO connectors (name, state, updated) VALUES (?, ?, ?) "
                        "ON CONFLICT (name) DO UPDATE SET state = excluded.state, updated = excluded.updated",
                        (c.name, json.dumps(c.to_json()), now),
                    )
                for ch in ended:  # a key printed before stays printed (OR IGNORE)
                    self._db.execute(
                        "INSERT OR IGNORE INTO receipts (key, connector, state, charge, updated) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (ch.key, ch.connector, PENDING, json.dumps(ch.to_json()), now),
                    )
                for ch in updated:
                    self._db.execute(
                        "UPDATE receipts SET charge = ?, updated = ? WHERE key = ? AND state != ?",
                        (json.dumps(ch.to_json()), now, ch.key, PRINTED),
                    )

    def receipt(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT state, job, error, attempts FROM receipts WHERE key = ?", (key,)).fetchone()
        return None if row is None else dict(zip(("state", "job", "error", "attempts"), row, strict=True))

    def set_receipt(
        self, key: str, state: str, job: str | None = None, error: str | None = None, summary: dict | None = None
    ) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE receipts SET state = ?, job = COALESCE(?, job), error = ?, "
                "attempts = attempts + (? = 'printing'), summary = COALESCE(?, summary), updated = ? WHERE key = ?",
                (state, job, error, state, json.dumps(summary) if summary else None, time.time(), key),
            )

    def receipts(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT key, connector, state, job, error, attempts, summary FROM receipts ORDER BY updated"
            ).fetchall()
        names = ("key", "connector", "state", "job", "error", "attempts", "summary")
        return [{**dict(zip(names, r, strict=True)), "summary": json.loads(r[6]) if r[6] else None} for r in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
