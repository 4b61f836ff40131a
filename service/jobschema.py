"""The job database's schema, and the steps that bring a database made by an older release up
to it (run at every open; each is done once, in one transaction, and a second process doing
it at the same time finds nothing left to do)."""

from __future__ import annotations

import sqlite3

from escpos809.sqlitedb import immediate

#: jobs: what the queue needs (small rows, rewritten at each state change). ``seq`` is the
#: submission order, the print order per printer: the rowid, so the next is the highest + 1
#: (jobs are never deleted). Neither AUTOINCREMENT nor a (printer, idem_key) constraint: the
#: first rewrote its counter's page at every commit, the second an index page for every job
#: (nearly all without a key); both were 2 of the 9 pages a commit wrote and synced.
_JOBS = """
CREATE TABLE IF NOT EXISTS {name} (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    printer     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    state       TEXT NOT NULL,
    hold_reason TEXT,               -- 'printer' (released when it recovers) or 'restart' (by a person)
    reprint     INTEGER NOT NULL DEFAULT 0,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    idem_key    TEXT,
    request_digest TEXT,            -- fingerprint of the request that brought idem_key
    created     REAL NOT NULL,
    updated     REAL NOT NULL,
    started     REAL,
    finished    REAL
)"""
_COLUMNS = (
    "seq, id, printer, kind, state, hold_reason, reprint, attempts, last_error, idem_key, request_digest,"
    " created, updated, started, finished"
)

_SCHEMA = (
    _JOBS.format(name="jobs")
    + """;
-- a job's submission and bytes, apart from its state: in the same row, every state change
-- rewrote the whole job (an 8 MiB job: 17 MB of WAL each) and reading any column after them
-- (a listing) walked all their overflow pages
CREATE TABLE IF NOT EXISTS job_data (
    seq         INTEGER PRIMARY KEY,  -- the job's (jobs.seq)
    payload     TEXT NOT NULL,        -- what was submitted (JSON), for preview and audit
    data        BLOB NOT NULL         -- the ESC/POS bytes, rendered at acceptance
);
"""
)
_INDEXES = (
    "CREATE INDEX IF NOT EXISTS jobs_queue ON jobs (printer, state, seq)",
    "CREATE UNIQUE INDEX IF NOT EXISTS jobs_idem ON jobs (printer, idem_key) WHERE idem_key IS NOT NULL",
)
#: columns added since the first release: (name, declaration); added to older databases at open
_ADDED = (("request_digest", "TEXT"),)


def prepare(db: sqlite3.Connection) -> None:
    """Make the schema on a new database, or bring an older one up to it (``db`` in autocommit)."""
    db.executescript(_SCHEMA)
    have = {row[1] for row in db.execute("PRAGMA table_info(jobs)")}
    if "data" in have:
        _move_data(db)
    for name, decl in _ADDED:
        if name not in have:
            try:
                db.execute(f"ALTER TABLE jobs ADD COLUMN {name} {decl}")
            except sqlite3.OperationalError as exc:  # another process added it first
                if "duplicate column" not in str(exc):
                    raise
    if _old_jobs_table(db):
        _rebuild_jobs(db)
    for index in _INDEXES:
        db.execute(index)


def _old_jobs_table(db: sqlite3.Connection) -> bool:
    """A jobs table made before the rebuild (AUTOINCREMENT, a table-wide key constraint)."""
    row = db.execute("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'jobs'").fetchone()
    return row is not None and "AUTOINCREMENT" in row[0].upper()


def _move_data(db: sqlite3.Connection) -> None:
    """Jobs of a database from before ``job_data``: their payload and bytes moved there."""
    with immediate(db):
        if "data" in {row[1] for row in db.execute("PRAGMA table_info(jobs)")}:
            db.execute("INSERT OR IGNORE INTO job_data (seq, payload, data) SELECT seq, payload, data FROM jobs")
            db.execute("ALTER TABLE jobs DROP COLUMN payload")
            db.execute("ALTER TABLE jobs DROP COLUMN data")


def _rebuild_jobs(db: sqlite3.Connection) -> None:
    """The jobs table made again without AUTOINCREMENT and its (printer, idem_key) constraint
    (neither can be altered away), every row kept with its ``seq``; the keys' uniqueness is
    then the partial index ``jobs_idem``."""
    with immediate(db):
        if not _old_jobs_table(db):
            return
        db.execute(_JOBS.format(name="jobs_rebuilt"))
        db.execute(f"INSERT INTO jobs_rebuilt ({_COLUMNS}) SELECT {_COLUMNS} FROM jobs")
        db.execute("DROP TABLE jobs")
        db.execute("ALTER TABLE jobs_rebuilt RENAME TO jobs")
        for index in _INDEXES:  # the keys stay unique from the first moment of the new table
            db.execute(index)
