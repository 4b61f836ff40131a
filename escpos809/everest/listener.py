"""The EVerest listener: MQTT in (paho-mqtt, reconnecting with back-off), sessions tracked
per connector (:mod:`.tracker`), state in SQLite (:mod:`.store`), each finished session
printed once through a sink (the CLI prints straight to a printer, the service queues a job).

Connectors are discovered from ``<prefix>/connectors``; their ``session_info`` and
``powermeter`` topics and, when ``events_prefix`` is set, their EvseManager's
``session_event`` are subscribed then (again after every reconnect). A message that cannot be
used is logged with its reason and skipped; nothing one connector sends stops another's
receipts. A receipt that fails is retried with back-off, never dropped."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import Escpos809Error
from ..ocpp.config import OcppConfig
from ..ticker import start_ticker
from . import payloads
from .charge import OPEN, Charge
from .config import EverestConfig
from .receipt import build
from .store import FAILED, PRINTED, PRINTING, EverestStore
from .tracker import Effects, Tracker

if TYPE_CHECKING:
    from ..ocpp.ingest import Sink

log = logging.getLogger("escpos809.everest")
RETRY_S = 2.0
MAX_RETRY_S = 600.0
#: error prefix of a receipt that was sent but not confirmed: its next attempt is marked REPRINT
UNCONFIRMED = "sent, not confirmed: "


class Listener:
    def __init__(
        self,
        cfg: EverestConfig,
        receipt_cfg: OcppConfig,
        database: str | Path,
        sink: Sink,
        clock: Callable[[], float] = time.time,
    ):
        self.cfg, self.receipt_cfg, self.sink, self.clock = cfg, receipt_cfg, sink, clock
        self.store = EverestStore(database)
        connectors, pending = self.store.load()
        # connector names as <prefix>/connectors lists them (until it is heard: as stored)
        listed = self.store.listing()
        self.order: list[str] = list(connectors) if listed is None else listed
        # in memory: the listed connectors and any with a session open; the others wait in the store
        keep = set(self.order)
        live = {n: c for n, c in connectors.items() if n in keep or c.phase == OPEN}
        self.tracker = Tracker(live, pending, self.store.printed)
        self.skipped = 0  # messages refused (bad payloads)
        self.printed = 0
        self._lock = threading.RLock()
        self._retry_at: dict[str, float] = {}
        self._failures: dict[str, int] = {}
        self._stop = threading.Event()
        self._timer: threading.Thread | None = None
        self._client: Any = None
        self.connected = threading.Event()

    # --- topics -------------------------------------------------------------------------------
    def _topics(self, name: str) -> list[str]:
        base = f"{self.cfg.prefix.rstrip('/')}/{name}/var/"
        topics = [base + "session_info", base + "powermeter"]
        if self.cfg.events_prefix:
            topics.append(f"{self.cfg.events_prefix}modules/{name}/impl/+/var/session_event")
        return topics

    def route(self, topic: str) -> tuple[str, str] | None:
        """(kind, connector) of a topic: kind is connectors, session_info, powermeter or session_event."""
        prefix = self.cfg.prefix.rstrip("/") + "/"
        if topic == prefix + "connectors":
            return "connectors", ""
        if topic.startswith(prefix):
            name, _, rest = topic[len(prefix) :].partition("/")
            if rest in ("var/session_info", "var/powermeter"):
                return rest[4:], name
        ev = self.cfg.events_prefix
        if ev and topic.startswith(ev + "modules/") and topic.endswith("/var/session_event"):
            return "session_event", topic[len(ev) + 8 :].split("/", 1)[0]
        return None

    # --- messages -----------------------------------------------------------------------------
    def handle(self, topic: str, payload: bytes, now: float | None = None) -> str | None:
        """One MQTT message. Returns None when taken, else why it was skipped (also logged)."""
        now = self.clock() if now is None else now
        route = self.route(topic)
        if route is None:
            return None
        kind, name = route
        try:
            with self._lock:
                if kind == "connectors":
                    self._connectors(payloads.connectors(payload))
                    return None
                if name not in self.order:
                    raise payloads.PayloadError(f"connector {name!r} is not listed in {self.cfg.prefix}/connectors")
                if kind == "session_info":
                    fx = self.tracker.session_info(name, payloads.session_info(payload), now)
                elif kind == "powermeter":
                    fx = self.tracker.powermeter(name, payloads.powermeter(payload))
                else:
                    fx = self.tracker.session_event(name, payloads.session_event(payload), now)
                self._save(fx)
        except payloads.PayloadError as exc:
            self.skipped += 1
            log.warning("EVerest %s: skipped: %s", topic[:200], exc)
            return str(exc)
        except Exception as exc:  # noqa: BLE001 - one message must not stop the others
            self.skipped += 1
            log.exception("EVerest %s: the message could not be handled", topic[:200])
            return f"{type(exc).__name__}: {exc}"
        # no printing here: this runs on the MQTT thread, and a printer that waits for paper
        # must not stall the broker's keep-alive; the receipt timer prints (flush)
        return None

    def _connectors(self, names: list[str]) -> None:
        """A new listing: connectors no longer in it are unsubscribed and leave memory (their
        state stays in the store for a while, unless a session is open on them), so names
        listed once do not pile up; a connector listed again takes its state back."""
        listed, before = set(names), set(self.order)
        new = [n for n in names if n not in before]
        gone = [n for n in self.order if n not in listed]
        self.order = names
        conns = self.tracker.connectors
        try:
            for n in new:
                if n not in conns and (c := self.store.connector(n)) is not None:
                    conns[n] = c
            self.store.set_listing(names)
        except Exception as exc:  # noqa: BLE001 - in memory it goes on
            log.error("EVerest connectors not written: %s", exc)
        for n in [n for n, c in conns.items() if n not in listed and c.phase != OPEN]:
            del conns[n]
        if new or gone:
            log.info("EVerest connectors: %s", ", ".join(names))
        if self._client is not None:
            if gone:
                self._client.unsubscribe([t for n in gone for t in self._topics(n)])
            if new:
                self._client.subscribe([(t, 1) for n in new for t in self._topics(n)])

    def _save(self, fx: Effects) -> None:
        if fx.connectors or fx.ended or fx.updated:
            conns = [self.tracker.connectors[n] for n in sorted(fx.connectors)]
            try:
                self.store.save(conns, fx.ended, fx.updated)
            except Exception as exc:  # noqa: BLE001 - in memory it goes on; a restart may lose it
                log.error("EVerest state not written: %s; a restart before the receipt prints forgets it", exc)

    # --- printing -----------------------------------------------------------------------------
    def due(self, ch: Charge, now: float) -> bool:
        return now >= (ch.ended_at or 0) + self.cfg.settle_s and self._retry_at.get(ch.key, 0) <= time.monotonic()

    def flush(self, now: float | None = None, force: bool = False) -> int:
        """Print every finished session that is due (all with ``force``); returns how many printed."""
        now = self.clock() if now is None else now
        with self._lock:
            due = [ch for ch in self.tracker.pending.values() if force or self.due(ch, now)]
        return sum(self._print(ch) for ch in due)

    def _number(self, name: str) -> int | None:
        return self.order.index(name) + 1 if name in self.order else None

    def _print(self, ch: Charge) -> bool:
        ref = f"everest:{ch.key}"
        try:
            row = self.store.receipt(ch.key) or {}
            reprint = row.get("state") == PRINTING or (
                row.get("state") == FAILED and (row.get("error") or "").startswith(UNCONFIRMED)
            )
            with self._lock:
                summary, doc = build(ch, self.cfg, self.receipt_cfg, self._number(ch.connector))
            self.store.set_receipt(ch.key, PRINTING, summary=summary.to_json())
        except Exception as exc:  # noqa: BLE001 - marked failed, retried; the others go on
            log.exception("EVerest receipt %r cannot be prepared", ref)
            return self._failed(ch.key, f"cannot prepare the receipt: {type(exc).__name__}: {exc}", True)
        try:
            job = self.sink(ref, doc, summary, reprint)
        except Exception as exc:  # noqa: BLE001 - printer away: retried, not lost
            maybe = UNCONFIRMED if getattr(exc, "maybe_printed", False) else ""
            return self._failed(ch.key, f"{maybe}{type(exc).__name__}: {exc}", False)
        try:
            self.store.set_receipt(ch.key, PRINTED, job=job)
        except Exception as exc:  # noqa: BLE001 - it printed: not again in this run
            log.error("EVerest receipt %r printed (%s) but not recorded: %s", ref, job, exc)
        with self._lock:
            self.tracker.printed(ch.key)
            self._retry_at.pop(ch.key, None)
            self._failures.pop(ch.key, None)
            self.printed += 1
        log.info("EVerest receipt %r printed: %s", ref, job)
        return True

    def _failed(self, key: str, error: str, backoff: bool) -> bool:
        with self._lock:
            n = self._failures[key] = self._failures.get(key, 0) + 1
            wait = min(RETRY_S * 2 ** (n - 1), MAX_RETRY_S) if backoff else RETRY_S
            self._retry_at[key] = time.monotonic() + wait
        try:
            self.store.set_receipt(key, FAILED, error=error)
        except Exception as exc:  # noqa: BLE001
            log.error("EVerest receipt state of %r not stored: %s", key, exc)
        log.warning("EVerest receipt %r failed (retried in %g s): %s", key, wait, error)
        return False

    def receipts(self) -> list[dict[str, Any]]:
        return self.store.receipts()

    # --- MQTT ---------------------------------------------------------------------------------
    def _make_client(self) -> Any:
        try:
            import paho.mqtt.client as mqtt
        except ImportError:
            raise Escpos809Error("EVerest needs paho-mqtt: pip install 'escpos809[everest]'") from None
        cfg = self.cfg
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=cfg.client_id or f"escpos809-everest-{id(self):x}",
            protocol=mqtt.MQTTv311,
        )
        if creds := cfg.credentials():
            client.username_pw_set(*creds)
        if cfg.tls:
            client.tls_set(ca_certs=cfg.ca or None, certfile=cfg.cert or None, keyfile=cfg.key or None)
        client.reconnect_delay_set(1, int(max(1, cfg.reconnect_max_s)))
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        return client

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any = None) -> None:
        if reason.is_failure:
            log.error("EVerest broker %s refused the connection: %s", self.cfg.broker, reason)
            return
        topics = [f"{self.cfg.prefix.rstrip('/')}/connectors", *(t for n in self.order for t in self._topics(n))]
        client.subscribe([(t, 1) for t in topics])
        self.connected.set()
        log.info("EVerest broker %s connected", self.cfg.broker)

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any = None) -> None:
        self.connected.clear()
        if not self._stop.is_set():
            log.warning("EVerest broker %s lost (%s): reconnecting", self.cfg.broker, reason)

    def _on_subscribe(self, client: Any, userdata: Any, mid: int, reasons: Any, properties: Any = None) -> None:
        failed = [str(r) for r in reasons if r.is_failure]
        if failed:
            log.error("EVerest broker %s refused subscriptions: %s", self.cfg.broker, ", ".join(failed))
        else:
            log.info("EVerest subscribed (%d topics)", len(reasons))

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        try:  # paho stops its loop on an exception from a callback
            self.handle(msg.topic, msg.payload)
        except Exception:  # noqa: BLE001
            log.exception("EVerest message on %s", msg.topic)

    def start(self, interval: float = 0.5) -> Listener:
        """Connect (in the background, retrying with back-off) and run the receipt timer."""
        self._client = self._make_client()
        try:
            self._client.connect_async(self.cfg.host, self.cfg.port, self.cfg.keepalive_s)
        except (OSError, ValueError) as exc:
            raise Escpos809Error(f"EVerest broker {self.cfg.broker}: {exc}") from None
        self._client.loop_start()

        self._timer = start_ticker(self.flush, interval, self._stop, "everest-receipts", log)
        return self

    def close(self) -> None:
        self._stop.set()
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()
        if self._timer:
            self._timer.join(5)
        self.store.close()
