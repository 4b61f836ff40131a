"""The assembler's bookkeeping, sized by what is live rather than by history: per charge
point a bounded window of recent CALL ids and unanswered CALLs, per connector a short status
history and the sessions on it. Every operation costs the same after a million frames as
after ten (issue 14: a scan over all sessions per frame made a replay quadratic)."""

from __future__ import annotations

from collections import deque
from datetime import datetime
from typing import Any

#: re-sent CALLs come back within seconds; a window of the last ids per charge point and
#: direction catches them without remembering every id ever seen (OCPP-J lets a party have
#: one CALL unanswered at a time: a station re-sending one has sent few others since)
SEEN_PER_CP = 32
#: CALLs waiting for their reply, per charge point (the oldest is dropped beyond this): one at
#: a time is the rule, a few more for CALLs that timed out and were answered late
PENDING_PER_CP = 16
#: statuses a connector keeps for a session that starts later (the state it started in)
STATUS_HISTORY = 16
#: charge points remembered while no session of theirs is in memory: beyond this, the one
#: heard from least lately is forgotten (a CSMS-wide intake meets many; garbage ids, more)
MAX_STATIONS = 10_000
#: connectors a charge point keeps without a session on them (stations have a few; a
#: connectorId counting up is garbage)
MAX_IDLE_CONNECTORS = 64
#: sessions in memory, all charge points together: beyond this, an open one heard from least
#: lately is dropped (a transactionId nobody started or stopped: garbage, or a start lost
#: long ago); one that ended is kept until its receipt prints
MAX_SESSIONS = 20_000

Key = tuple[str, str]


class Recent:
    """The ids a charge point sent lately, in a bounded insertion-ordered window. An id is kept
    as the hash of (direction, id), not its text (up to 128 characters): thousands of stations
    each filling the window cost a few MB, not hundreds; two ids of one station's last 32
    sharing a 64-bit hash is not a risk worth a byte."""

    __slots__ = ("ids",)

    def __init__(self) -> None:
        self.ids: dict[int, None] = {}

    def add(self, direction: str, msg_id: str) -> bool:
        """Remember the id; False when it is already in the window (a re-sent CALL)."""
        key = hash((direction, msg_id))
        if key in self.ids:
            return False
        self.ids[key] = None
        if len(self.ids) > SEEN_PER_CP:
            del self.ids[next(iter(self.ids))]
        return True


class Station:
    """What the assembler knows of one charge point beyond its sessions."""

    __slots__ = ("boots", "connectors", "live", "pending", "recent")

    def __init__(self) -> None:
        self.recent = Recent()
        self.pending: dict[str, tuple[str, str, Any]] = {}  # msg id → (dir, action, payload)
        self.boots = 0  # BootNotifications seen: the station's restarts
        self.live = 0  # its sessions in memory: a station with any is never forgotten
        self.connectors: dict[int, None] = {}  # its connector ids in the keeper's index, oldest first

    def expect(self, msg_id: str, call: tuple[str, str, Any]) -> None:
        self.pending[msg_id] = call
        if len(self.pending) > PENDING_PER_CP:  # replies that never came
            del self.pending[next(iter(self.pending))]

    def rebooted(self) -> None:
        """A restart: message ids start again, and calls sent before it get no reply."""
        self.boots += 1
        self.recent = Recent()
        self.pending.clear()


class Connector:
    """A connector's recent statuses and the sessions on it that are still in memory."""

    __slots__ = ("sessions", "statuses")

    def __init__(self) -> None:
        self.statuses: deque[tuple[datetime, str]] = deque(maxlen=STATUS_HISTORY)
        self.sessions: dict[Key, None] = {}
