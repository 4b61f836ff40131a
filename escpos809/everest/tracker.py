"""EVerest messages → charging sessions, one connector at a time; pure (the listener stores
what :class:`Effects` names). A session runs from plug-in (a ``session_info`` state that is
not idle, or a ``SessionStarted`` / ``TransactionStarted`` event) to ``Finished`` (or
``TransactionFinished``). EVerest republishes ``session_info`` every second, ``Finished``
included: a connector that already ended its session ignores the repeats until it goes idle,
and one that sees ``Finished`` without having seen the session (the listener was down) takes
it only when its frozen energy and duration differ from the last session's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from .charge import FINISHED, IDLE, OPEN, Charge, Connector
from .payloads import ACTIVE_STATES, IDLE_STATES, PayloadError, Powermeter, SessionEvent, SessionInfo

UNKNOWN = "unknown"  # a connector the listener has not heard from yet
W_JOINED = "the listener joined mid-session: start time estimated, meter start unknown"
W_NO_FINISHED = "the session went idle without Finished: it ended at the unplug"
W_REGISTER_BACK = "the meter register went backwards during the session (meter reset?)"


@dataclass
class Effects:
    """What one message changed: connectors to store, charges that ended (to store as
    pending receipts) and pending charges that learned more."""

    connectors: set[str] = field(default_factory=set)
    ended: list[Charge] = field(default_factory=list)
    updated: list[Charge] = field(default_factory=list)


def _stamp(at: datetime) -> str:
    return f"{at.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}"


def _charged(ch: Charge) -> bool:
    """Whether a session is worth a receipt: energy, a Charging state or a transaction."""
    return bool(ch.charged_wh) or any(s == "Charging" for _, s in ch.states) or ch.tx_start_wh is not None


class Tracker:
    def __init__(
        self,
        connectors: dict[str, Connector] | None = None,
        pending: dict[str, Charge] | None = None,
        printed: Callable[[str], bool] = lambda key: False,
    ):
        self.connectors = dict(connectors or {})
        self.pending = dict(pending or {})  # ended, receipt not printed yet: key → charge
        # whether a key's receipt printed, asked of the store: printed sessions leave memory
        self.is_printed = printed

    def _conn(self, name: str) -> Connector:
        c = self.connectors.get(name)
        if c is None:
            c = self.connectors[name] = Connector(name, UNKNOWN)
        return c

    def _new(self, c: Connector, at: datetime, joined: bool, key: str | None = None) -> Charge:
        ch = Charge(c.name, key or f"{c.name}@{_stamp(at)}", start=at, start_estimated=joined, meter_id=c.meter_id)
        if joined:
            ch.warn(W_JOINED)
        else:
            ch.register_start = ch.register_end = c.register
        c.current, c.phase = ch, OPEN
        return ch

    def _end(self, c: Connector, ch: Charge, at: datetime | None, now: float, fx: Effects) -> None:
        new = ch.key not in self.pending and not self.is_printed(ch.key)  # asked first: it may raise
        ch.stop = ch.stop or at
        ch.ended_at = now
        c.current, c.phase = None, FINISHED
        c.last_fingerprint, c.last_uuid, c.last_key = ch.fingerprint(), ch.uuid, ch.key
        c.last_start, c.last_end = ch.start, ch.stop or c.last_end
        fx.connectors.add(c.name)
        if new:
            self.pending[ch.key] = ch
            fx.ended.append(ch)

    # --- the API module ---------------------------------------------------------------------
    def session_info(self, name: str, info: SessionInfo, now: float) -> Effects:
        fx, c = Effects(), self._conn(name)
        if info.state in IDLE_STATES:
            if c.phase == OPEN and c.current is not None:
                ch = c.current
                if _charged(ch):
                    ch.warn(W_NO_FINISHED)
                    self._end(c, ch, info.at, now, fx)
            if c.phase != IDLE:
                c.phase, c.current = IDLE, None
                fx.connectors.add(name)
            return fx
        if info.state in ACTIVE_STATES:
            if c.phase != OPEN or c.current is None:
                if c.last_start and c.last_end and c.last_start <= info.at < c.last_end:
                    # dated within the last session, delivered after its end (a QoS 1 resend, a
                    # bridge's queue): it would open a second one. Dated before that session, it
                    # is a station whose clock was set back (a reboot without a real-time clock).
                    raise PayloadError(
                        f"session_info {info.state} of {info.at.isoformat()} is dated within the last "
                        f"session ({c.last_start.isoformat()} to {c.last_end.isoformat()}), which "
                        "ended: out of order"
                    )
                joined = c.phase == UNKNOWN
                start = info.at - timedelta(seconds=info.duration_s) if joined else info.at
                self._new(c, start, joined)
                fx.connectors.add(name)
            current = c.current
            assert current is not None
            current.charged_wh, current.duration_s = info.charged_wh, info.duration_s
            current.add_state(info.at, info.state)
            return fx
        # Finished
        if c.phase == OPEN and c.current is not None:
            ch = c.current
            ch.charged_wh, ch.duration_s = info.charged_wh, info.duration_s
            ch.add_state(info.at, info.state)
            if _charged(ch):
                self._end(c, ch, info.at, now, fx)
            else:  # plugged in, never charged, no transaction (a plug-in timeout): no receipt
                c.current, c.phase = None, FINISHED
                fx.connectors.add(name)
        elif c.phase in (UNKNOWN, IDLE):
            fingerprint = f"{info.charged_wh}:{info.duration_s}"
            if info.charged_wh > 0 and fingerprint != c.last_fingerprint:
                ch = self._new(c, info.at - timedelta(seconds=info.duration_s), True)
                ch.charged_wh, ch.duration_s = info.charged_wh, info.duration_s
                ch.add_state(info.at, info.state)
                self._end(c, ch, info.at, now, fx)
            elif c.phase != FINISHED:
                c.phase = FINISHED
                fx.connectors.add(name)
        else:  # ended by TransactionFinished a moment ago: EVerest's final figures arrive now
            last = self.pending.get(c.last_key or "")
            for ch in [last] if last is not None else []:
                if (ch.charged_wh, ch.duration_s) != (info.charged_wh, info.duration_s):
                    ch.charged_wh, ch.duration_s = info.charged_wh, info.duration_s
                    c.last_fingerprint = ch.fingerprint()
                    fx.updated.append(ch)
                    fx.connectors.add(name)
        return fx

    def powermeter(self, name: str, pm: Powermeter) -> Effects:
        fx, c = Effects(), self._conn(name)
        c.register, c.meter_id = pm.total_wh, pm.meter_id or c.meter_id
        targets = [c.current] if c.phase == OPEN and c.current else []
        if c.phase == FINISHED:  # a reading that arrives just after the end still belongs to it
            last = self.pending.get(c.last_key or "")
            targets = [last] if last is not None else []
        for ch in targets:
            if ch.start_estimated:
                continue
            ch.meter_id = ch.meter_id or pm.meter_id
            if ch.register_start is None:
                ch.register_start = pm.total_wh
                fx.connectors.add(name)
            if ch.register_end is not None and pm.total_wh < ch.register_end:
                ch.warn(W_REGISTER_BACK)
            ch.register_end = pm.total_wh
            if c.phase == FINISHED:
                fx.updated.append(ch)
        return fx

    # --- the evse_manager's session events --------------------------------------------------
    def session_event(self, name: str, ev: SessionEvent, now: float) -> Effects:
        fx, c = Effects(), self._conn(name)
        if ev.uuid not in self.pending and self.is_printed(ev.uuid):
            return fx
        pending = self.pending.get(ev.uuid)
        ch = c.current if c.phase == OPEN else None
        if ch is not None and ch.uuid not in (None, ev.uuid):
            ch = None  # another session's event: the current one is not it
        if ev.event in ("SessionStarted", "TransactionStarted") and pending is None:
            if ch is None:
                if c.phase == OPEN and c.current is not None:  # a new uuid: the old session ended unseen
                    c.current.warn(W_NO_FINISHED)
                    self._end(c, c.current, ev.at, now, fx)
                ch = self._new(c, ev.at or datetime.fromtimestamp(now).astimezone(), False, ev.uuid)
            ch.uuid, ch.key = ev.uuid, ev.uuid
            fx.connectors.add(name)
            if ev.event == "TransactionStarted":
                ch.start, ch.start_estimated = ev.at or ch.start, False
                ch.warnings = [w for w in ch.warnings if w != W_JOINED]
                ch.tx_start_wh, ch.signed_start, ch.id_tag = ev.meter_wh, ev.signed, ev.id_tag
                ch.meter_id = ev.meter_id or ch.meter_id
        elif ev.event == "TransactionFinished":
            target = pending or ch
            if target is None:
                return fx  # the start was never seen and session_info did not open it: nothing to bill
            target.uuid = target.uuid or ev.uuid
            target.tx_end_wh, target.signed_end, target.reason = ev.meter_wh, ev.signed, ev.reason
            target.stop = ev.at or target.stop
            if target is ch:
                if ch.key != ev.uuid and ch.key not in self.pending:
                    ch.key = ev.uuid
                self._end(c, ch, ev.at, now, fx)
            else:
                fx.updated.append(target)
        elif ev.event == "SessionFinished" and c.phase != IDLE:
            if ch is not None and _charged(ch):
                ch.warn(W_NO_FINISHED)
                self._end(c, ch, ev.at, now, fx)
            c.phase, c.current = IDLE, None
            fx.connectors.add(name)
        return fx

    def printed(self, key: str) -> None:
        self.pending.pop(key, None)
