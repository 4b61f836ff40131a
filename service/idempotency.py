"""``Idempotency-Key`` (IETF draft-ietf-httpapi-idempotency-key-header): the key is bound to
a fingerprint of the request it first came with (printer, what was asked, body bytes). The
same key with the same request returns the first job; with another request it is refused
with 422, so a new receipt is never silently swallowed by an old key."""

from __future__ import annotations

import hashlib
import re

from .problems import Problem

_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
#: keys the service makes itself (a charging receipt is queued once under ocpp:<cp>:<tx>)
RESERVED = "ocpp:"


def key_from(header: str | None) -> str | None:
    """The header's key, checked; None when there is none."""
    if header is None:
        return None
    if not _KEY.match(header):
        raise Problem(400, "Bad Idempotency-Key", "use 1-200 visible ASCII characters")
    if header.startswith(RESERVED):
        raise Problem(400, "Bad Idempotency-Key", f"keys starting with {RESERVED!r} are the service's own")
    return header


def fingerprint(printer: str, kind: str, body: bytes) -> str:
    """SHA-256 of the canonical request: printer, kind (endpoint and content type), body bytes."""
    h = hashlib.sha256()
    h.update(f"{printer}\0{kind}\0".encode())
    h.update(body)
    return h.hexdigest()


def check(key: str, job_id: str, stored: str | None, digest: str) -> None:
    """Refuse a key reused for another request (jobs stored before fingerprints pass)."""
    if stored is not None and stored != digest:
        raise Problem(
            422,
            "Idempotency-Key reused",
            f"key {key!r} was used for job {job_id} with a different request; send a new key "
            "for a new request (the same request again returns that job)",
        )
