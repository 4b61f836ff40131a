"""Finding and keeping sessions for the assembler (:class:`SessionKeeper`): by key, by the
transactionIds a station sent (retried starts, numbers reused after a reboot) and by connector,
each found through an index, never a scan; a finished session is evicted and the ``retired``
hook then tells its late frames (ignored) from a new session under the same number."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from ..errors import InvalidData
from ..safejson import check_text, shown
from .frames import MAX_ID_CHARS
from .index import MAX_IDLE_CONNECTORS, MAX_SESSIONS, MAX_STATIONS, Connector, Key, Station
from .session import CHARGING, W_NO_STOP, W_REUSED, Session, key_tx
from .values import BadValue

W_FINISHED = "its session's receipt is already printed: the frame is kept in the log only"
#: (cp, a session key's transactionId: ``tx``, ``tx~1``, …) → whether that session is finished
#: and kept outside memory (its receipt printed)
Retired = Callable[[str, str], bool]
#: (cp, transactionId as sent, start as ISO text) → (the key's transactionId of a finished session
#: of that id with that start, or None; how many uses of the id are kept outside memory)
Reused = Callable[[str, str, str], "tuple[str | None, int]"]


def tx_text(value: object) -> str:
    """A transactionId as sent → the text sessions are known by: a number as written, or a
    string of 1-128 characters without control characters (it is printed, listed and keyed
    on; a newline in it forged lines of the replay's output); :class:`BadValue` otherwise."""
    if isinstance(value, str):
        try:
            return check_text(value, "transactionId", MAX_ID_CHARS)
        except InvalidData as exc:
            raise BadValue(str(exc)) from None
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return str(value)
    raise BadValue(f"transactionId {shown(value)} is not a string or a number")


class Finished(Exception):
    """The frame belongs to a session already finished and evicted."""


@dataclass(slots=True)
class Result:
    accepted: bool
    reason: str = ""
    kind: int | None = None
    action: str | None = None
    duplicate: bool = False
    warnings: list[str] = field(default_factory=list)
    sessions: list[tuple[str, str]] = field(default_factory=list)  # (cp, tx) touched


class SessionKeeper:
    """The sessions in memory and the ways to them: by key, by the ids a station sent (retries,
    reused numbers), by connector; ``retired`` answers for the ones evicted."""

    def __init__(self) -> None:
        self.sessions: dict[Key, Session] = {}
        # the sessions' keys, the one heard from least lately first (an OrderedDict: a dict's
        # first item after many removals from the front costs a walk over their holes)
        self.heard: OrderedDict[Key, None] = OrderedDict()
        self.alias: dict[Key, Key] = {}  # (cp, tx as sent) → the session's key (retries, reused ids)
        self.stations: OrderedDict[str, Station] = OrderedDict()  # the one heard from least lately first
        self.starts: dict[tuple[object, ...], Key] = {}  # 1.6 start identity → session key
        self.connectors: dict[tuple[str, int], Connector] = {}
        self.retired: Retired = lambda cp, key_tx: False
        self.reused: Reused = lambda cp, tx, start: (None, 0)
        self.uses: dict[tuple[str, str], dict[int, None]] = {}  # (cp, tx as sent) → its uses in memory

    def session(self, cp: str, tx: object) -> Session | None:
        try:
            tx = tx_text(tx)
        except BadValue:  # no session is known by such an id
            return None
        key = self.alias.get((cp, tx)) or (cp, key_tx(tx))
        return self.sessions.get(key)

    def station(self, cp: str) -> Station:
        """The charge point's bookkeeping, made the most recently heard (kept in that order)."""
        st = self.stations.get(cp)
        if st is None:
            st = self.stations[cp] = Station()
        else:
            self.stations.move_to_end(cp)
        if len(self.stations) > MAX_STATIONS:
            self._forget_idle()
        return st

    def _forget_idle(self) -> None:
        """Forget the charge points heard from least lately that have no session in memory,
        so memory follows the live sessions, not every id ever seen. Two looks at most: one
        with sessions goes back to the end (those are bounded by MAX_SESSIONS themselves)."""
        for _ in range(2):
            if len(self.stations) <= MAX_STATIONS:
                return
            cp, st = self.stations.popitem(last=False)
            if st.live:
                self.stations[cp] = st
                continue
            for n in st.connectors:
                self.connectors.pop((cp, n), None)
            self._forgot(cp)

    def _forgot(self, cp: str) -> None:
        """Hook: a charge point was forgotten (the assembler drops what it keeps per station)."""

    def evict(self, key: Key) -> None:
        """Forget a finished session (its receipt is printed and stored): what it held in
        the indexes goes with it, so memory follows the live sessions, not the history."""
        s = self.sessions.pop(key, None)
        if s is None:
            return
        self.heard.pop(key, None)
        if (uses := self.uses.get((s.cp, s.tx))) is not None:
            uses.pop(s.epoch, None)
            if not uses:
                del self.uses[(s.cp, s.tx)]
        if st := self.stations.get(s.cp):
            st.live -= 1
        for tx in (s.tx, *s.aliases):
            if self.alias.get((s.cp, tx)) == key:
                del self.alias[(s.cp, tx)]
        for identity in s.start_identities:
            if self.starts.get(identity) == key:
                del self.starts[identity]
        if s.connector is not None and (c := self.connectors.get((s.cp, s.connector))):
            c.sessions.pop(key, None)

    def _get(self, cp: str, tx: object, version: str, now: float, res: Result) -> Session:
        """The session a frame names; a new one when unknown, unless it is finished and evicted
        (:class:`Finished`)."""
        tx = tx_text(tx)
        key = self.alias.get((cp, tx)) or (cp, key_tx(tx))
        s = self.sessions.get(key)
        if s is None:
            if self.retired(*key):
                raise Finished(key)
            s = self._new(key, tx, 0, version)
        return self._touch(s, now, res)

    def _new(self, key: Key, tx: str, epoch: int, version: str) -> Session:
        s = self.sessions[key] = Session(key[0], tx, version, epoch=epoch)
        self.uses.setdefault((key[0], tx), {})[epoch] = None
        self.station(key[0]).live += 1
        if key[1] != tx:
            self.alias[(key[0], tx)] = key
        return s

    def _touch(self, s: Session, now: float, res: Result) -> Session:
        s.last_seen = now
        if s.key in self.heard:
            self.heard.move_to_end(s.key)
        else:
            self.heard[s.key] = None
        if len(self.heard) > MAX_SESSIONS:
            self._drop_unheard(res)
        if s.key not in res.sessions:
            res.sessions.append(s.key)
        return s

    def _drop_unheard(self, res: Result) -> None:
        """Drop open sessions heard from least lately while there are too many (a few looks at
        most: an ended one goes back to the end, its receipt still to print)."""
        for _ in range(8):
            if len(self.heard) <= MAX_SESSIONS:
                return
            key = next(iter(self.heard))
            s = self.sessions[key]
            if s.ended:
                self.heard.move_to_end(key)
                continue
            self.evict(key)
            res.warnings.append(
                f"session {key[0]} {key[1]} dropped from memory: open, not heard from while "
                f"{MAX_SESSIONS} others were (its frames stay in the log)"
            )

    def _started(self, cp: str, tx: object, version: str, start: datetime, now: float, res: Result) -> Session:
        """The session a start event names. A transactionId already used by a session that
        started at another time is a new session (the station restarted its numbering): it
        gets the next free key ``tx~n`` and the id points there from now on. Costs the same
        after the id's ten-thousandth use as after its first: the uses in memory (a few) and
        one look-up in the store."""
        tx = tx_text(tx)
        live = self.uses.get((cp, tx), {})
        for epoch in list(live):
            s = self.sessions[(cp, key_tx(tx, epoch))]
            if s.start is None or s.start == start:
                return self._touch(s, now, res)
            if not s.ended:  # the old one never said it stopped
                self._end_unstopped(s, W_REUSED, res)
        same, stored = self.reused(cp, tx, start.isoformat())
        if same is not None:
            raise Finished((cp, same))
        epoch = max(stored, max(live, default=-1) + 1)
        return self._touch(self._new((cp, key_tx(tx, epoch)), tx, epoch, version), now, res)

    def _end_unstopped(self, s: Session, why: str, res: Result) -> None:
        res.sessions.append(s.key)  # this frame ended it: the caller may print it now
        s.ended = True
        s.ended_received = s.last_seen
        s.warn(why)
        if s.stop is None and s.samples:
            s.stop = max(s.samples)

    def _on_connector(self, s: Session, connector: int) -> None:
        """Put the session on its connector's index (1.6: with the statuses before its start)."""
        if s.connector == connector and s.key in self._connector(s.cp, connector).sessions:
            return
        if s.connector is not None and (old := self.connectors.get((s.cp, s.connector))):
            old.sessions.pop(s.key, None)
        s.connector = connector
        c = self._connector(s.cp, connector)
        c.sessions[s.key] = None
        if s.version == "1.6" and not s.connector_states:
            s.connector_states = list(c.statuses)
            if any(st in CHARGING for _, st in s.connector_states):
                s.charging_states = s.connector_states

    def _connector(self, cp: str, connector: int) -> Connector:
        c = self.connectors.get((cp, connector))
        if c is None:
            c = self.connectors[(cp, connector)] = Connector()
            ids = self.station(cp).connectors
            ids[connector] = None
            if len(ids) > MAX_IDLE_CONNECTORS:  # the oldest one without a session goes
                old = next((n for n in ids if not self.connectors[(cp, n)].sessions), None)
                if old is not None and old != connector:
                    del ids[old], self.connectors[(cp, old)]
        return c

    def _close_open_on_connector(self, cp: str, connector: int | None, new_key: Key, res: Result) -> None:
        c = self.connectors.get((cp, connector)) if connector is not None else None
        for key in list(c.sessions) if c else ():
            s = self.sessions[key]
            if key != new_key and not s.ended and s.start is not None:
                self._end_unstopped(s, W_NO_STOP, res)
