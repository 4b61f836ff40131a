"""A stored job as the code and the API see it: the row, its columns, its API view."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypedDict, overload


class JobView(TypedDict):
    """A job as the API shows it (:meth:`Job.to_dict`)."""

    id: str
    printer: str
    kind: str
    state: str
    hold_reason: str | None
    reprint: bool
    attempts: int
    last_error: str | None
    bytes: int
    created: str
    updated: str
    started: str | None
    finished: str | None


@dataclass
class Job:
    id: str
    seq: int
    printer: str
    kind: str
    state: str
    payload_text: str = field(repr=False)  # what was submitted, as stored (JSON)
    data: bytes = field(repr=False)
    hold_reason: str | None
    reprint: bool
    attempts: int
    last_error: str | None
    idem_key: str | None
    created: float
    updated: float
    started: float | None
    finished: float | None
    size: int  # bytes of ESC/POS (a listing loads this, not ``data``)

    @cached_property
    def payload(self) -> dict:
        """What was submitted, parsed when first asked (the worker never needs it: a long
        document is not parsed again for every look at the queue)."""
        return json.loads(self.payload_text)

    def to_dict(self) -> JobView:
        """The API's view of a job (no bytes)."""
        iso = iso_time
        return {
            "id": self.id,
            "printer": self.printer,
            "kind": self.kind,
            "state": self.state,
            "hold_reason": self.hold_reason,
            "reprint": self.reprint,
            "attempts": self.attempts,
            "last_error": self.last_error,
            "bytes": self.size,
            "created": iso(self.created),
            "updated": iso(self.updated),
            "started": iso(self.started),
            "finished": iso(self.finished),
        }


@overload
def iso_time(t: float) -> str: ...
@overload
def iso_time(t: None) -> None: ...
@overload
def iso_time(t: float | None) -> str | None: ...
def iso_time(t: float | None) -> str | None:
    if t is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}Z"


COLUMNS = (
    "id, seq, printer, kind, state, payload, data, hold_reason, reprint, attempts, last_error, "
    "idem_key, created, updated, started, finished, length(data)"
)
#: a listing's columns: each job's size (``length`` reads no blob), not its payload or bytes
LISTED = COLUMNS.replace("payload, data,", "'', X'',")
#: where the columns come from: a job's state and its submission and bytes (store.py's schema)
JOINED = "jobs JOIN job_data USING (seq)"


def job_from_row(row: tuple[Any, ...]) -> Job:
    """A :class:`Job` from a row of :data:`COLUMNS` (the Job's own field order)."""
    id_, seq, printer, kind, state, payload, data, hold, reprint, *rest = row
    return Job(id_, seq, printer, kind, state, payload, bytes(data), hold, bool(reprint), *rest)
