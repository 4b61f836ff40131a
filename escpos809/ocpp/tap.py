"""A fail-open WebSocket tap between charge points and their CSMS (reference §11 (b)).

The station connects to the tap as if it were the CSMS; the tap opens the same path on the
upstream CSMS with the station's subprotocols and Authorization header, accepts the station
with the subprotocol the CSMS chose, and then copies every frame both ways. Each frame is
forwarded first and only then handed to a recorder thread through a bounded queue: parsing,
SQLite and printing run there, so they can neither delay nor break the link (a full queue
drops recordings, counted, never frames).

TLS (OCPP security profiles 2 and 3): the tap terminates the station's TLS with its own
certificate (:func:`server_tls`), with ``client_ca`` requiring a station certificate signed by
that CA (profile 3; a station without one never gets past the handshake, and one whose
certificate names another station is refused with 403 before the CSMS hears of it), and speaks TLS to a
``wss://`` CSMS (:func:`upstream_tls`: a CA bundle, optionally a client certificate of its own,
since the station's cannot be passed on through a terminated TLS link). The station's Basic
``Authorization`` header goes to the CSMS untouched: the CSMS, not the tap, judges it.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import ssl
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from ..errors import Escpos809Error
from .frames import DOWN, UP

if TYPE_CHECKING:  # websockets is the ocpp extra's, imported when the tap runs
    from websockets.asyncio.client import ClientConnection
    from websockets.asyncio.connection import Connection
    from websockets.asyncio.server import ServerConnection
    from websockets.http11 import Request, Response
    from websockets.typing import Subprotocol

log = logging.getLogger("escpos809.ocpp.tap")
SUBPROTOCOLS = ("ocpp2.1", "ocpp2.0.1", "ocpp1.6")
Record = Callable[[str, str, str, float, "str | None"], object]
#: characters of frames waiting to be recorded, all stations together (a frame may be 1 MiB)
MAX_QUEUED_CHARS = 64 << 20


class TlsSetupError(Escpos809Error):
    """A certificate, key or CA file the tap cannot use; the message names it (exit 7, as
    any bad setting)."""

    exit_code = 7


def _load(what: str, action: Callable[[], object]) -> None:
    try:
        action()
    except (OSError, ssl.SSLError, ValueError) as exc:
        raise TlsSetupError(f"{what}: {getattr(exc, 'strerror', None) or exc}") from None


def server_tls(certfile: str, keyfile: str | None = None, client_ca: str | None = None) -> ssl.SSLContext:
    """The context stations meet: the tap's certificate and key (security profile 2); with
    ``client_ca``, a station certificate signed by it is required (profile 3)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2  # OCPP security profiles: TLS 1.2 or newer
    _load(f"certificate {certfile} / key {keyfile or certfile}", lambda: ctx.load_cert_chain(certfile, keyfile))
    if client_ca:
        _load(f"client CA {client_ca}", lambda: ctx.load_verify_locations(cafile=client_ca))
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def upstream_tls(cafile: str | None = None, certfile: str | None = None, keyfile: str | None = None) -> ssl.SSLContext:
    """The context the tap meets a ``wss://`` CSMS with: the system's CAs, or ``cafile``'s;
    the host name is checked; ``certfile`` is the tap's own client certificate, if the CSMS
    asks for one."""
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if cafile:
        _load(f"upstream CA {cafile}", lambda: ctx.load_verify_locations(cafile=cafile))
    if certfile:
        _load(f"upstream certificate {certfile}", lambda: ctx.load_cert_chain(certfile, keyfile))
    return ctx


class Recorder:
    """Feeds recorded frames to ``record`` on its own thread; ``put`` never blocks. The queue is
    bounded in frames and in characters: while recording is stuck (a printer waiting for
    paper), stations sending megabyte frames cannot fill memory; what does not fit is dropped
    from the recording (counted), never from the link."""

    def __init__(self, record: Record, maxsize: int = 100_000, max_chars: int = MAX_QUEUED_CHARS):
        self.record = record
        self.queue: queue.Queue[tuple[str, str, str, float, str | None] | None] = queue.Queue(maxsize)
        self.max_chars = max_chars
        self.queued_chars = 0
        self.dropped = 0
        self.failed = 0
        self._size_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="ocpp-recorder", daemon=True)
        self._thread.start()

    def put(self, cp: str, direction: str, text: str, received: float, version: str | None) -> None:
        with self._size_lock:
            if self.queued_chars + len(text) > self.max_chars:
                self.dropped += 1
                return
            self.queued_chars += len(text)
        try:
            self.queue.put_nowait((cp, direction, text, received, version))
        except queue.Full:
            self.dropped += 1
            with self._size_lock:
                self.queued_chars -= len(text)

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            try:
                self.record(*item)
            except Exception:  # noqa: BLE001 - a recording bug must not stop recording
                self.failed += 1
                log.exception("recording a frame from %s failed", item[0])
            finally:
                with self._size_lock:
                    self.queued_chars -= len(item[2])
                self.queue.task_done()

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until everything put so far is recorded (tests, shutdown)."""
        end = time.monotonic() + timeout
        while self.queue.unfinished_tasks and time.monotonic() < end:
            time.sleep(0.01)
        return not self.queue.unfinished_tasks

    def close(self) -> None:
        self.queue.put(None)
        self._thread.join(5)


def upstream_url(upstream: str, path: str) -> str:
    """``ws://csms:9000`` + ``/ocpp/CP1`` → ``ws://csms:9000/ocpp/CP1``; an upstream with a
    path of its own gets the charge-point id (last path segment) appended."""
    up = urlsplit(upstream)
    if up.path in ("", "/"):
        return f"{up.scheme}://{up.netloc}{path}"
    cp = path.rstrip("/").rsplit("/", 1)[-1]
    return f"{upstream.rstrip('/')}/{cp}"


def charge_point_id(path: str) -> str:
    """The charge-point id a station's URL names: the last path segment, without a query (a
    token some stations add is not part of the id)."""
    return urlsplit(path).path.rstrip("/").rsplit("/", 1)[-1]


@dataclass
class Tap:
    upstream: str
    recorder: Recorder | None = None
    host: str = "127.0.0.1"
    port: int = 0
    #: TLS towards the stations (:func:`server_tls`); None: plain ws://
    tls: ssl.SSLContext | None = None
    #: TLS towards a wss:// CSMS (:func:`upstream_tls`); None: the system's defaults
    upstream_tls: ssl.SSLContext | None = None
    #: with station certificates (``client_ca``): the certificate's commonName must be the
    #: charge-point id the station's URL names, as security profile 3 has it (CN = the station's
    #: identity); the tap terminated the TLS, so the CSMS can no longer check that itself
    station_identity: bool = True
    stats: dict[str, int] = field(default_factory=lambda: {"connections": 0, "frames_up": 0, "frames_down": 0})
    #: each station's connection to the CSMS, opened before the station's handshake is answered
    #: (weak: it goes with the station's connection, whatever becomes of that handshake)
    _upstreams: weakref.WeakKeyDictionary[ServerConnection, ClientConnection] = field(
        default_factory=weakref.WeakKeyDictionary, init=False, repr=False, compare=False
    )

    async def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        from websockets.asyncio.client import connect
        from websockets.typing import Subprotocol

        offered = [
            Subprotocol(p.strip()) for h in request.headers.get_all("Sec-WebSocket-Protocol") for p in h.split(",")
        ]
        headers = {}
        if auth := request.headers.get("Authorization"):
            headers["Authorization"] = auth  # security profiles 1/2: the CSMS checks it, not the tap
        if refused := self._not_this_station(connection, request.path):
            log.warning("station refused: %s", refused)
            return connection.respond(403, f"{refused}\n")
        url = upstream_url(self.upstream, request.path)
        secure = url.startswith("wss://")
        try:
            self._upstreams[connection] = await connect(
                url,
                ssl=(self.upstream_tls or True) if secure else None,
                subprotocols=offered or None,
                additional_headers=headers,
                open_timeout=10,
                proxy=None,
                compression=None,
            )
        except Exception as exc:  # noqa: BLE001 - refused, unreachable, 401 from the CSMS
            log.warning("upstream %s refused the connection: %s", url, exc)
            status = getattr(getattr(exc, "response", None), "status_code", 502)
            return connection.respond(status if status in (401, 403, 404) else 502, f"upstream: {exc}\n")
        return None

    def _not_this_station(self, connection: ServerConnection, path: str) -> str | None:
        """Why a station's certificate does not fit the id it connects as (None: it does, or
        there is no certificate to judge: profile 2, or the check is off)."""
        if self.tls is None or not self.station_identity:
            return None
        peer = connection.transport.get_extra_info("peercert")  # {} unless the handshake verified one
        if not peer:
            return None
        names = [value for rdn in peer.get("subject", ()) for key, value in rdn if key == "commonName"]
        cp = unquote(charge_point_id(path))
        if cp in names:
            return None
        return f"the station certificate names {', '.join(map(repr, names)) or 'no commonName'}, not {cp!r}"

    def _select_subprotocol(self, connection: ServerConnection, offered: Sequence[Subprotocol]) -> Subprotocol | None:
        chosen = self._upstreams[connection].subprotocol
        return chosen if chosen in offered else None

    async def _handler(self, station: ServerConnection) -> None:
        upstream = self._upstreams.pop(station)
        assert station.request is not None  # the handler runs once the handshake is done
        cp = charge_point_id(station.request.path)
        version = {"ocpp1.6": "1.6", "ocpp2.0.1": "2.0.1", "ocpp2.1": "2.1"}.get(station.subprotocol or "")
        self.stats["connections"] += 1

        async def pump(src: Connection, dst: Connection, direction: str, counter: str) -> None:
            async for message in src:
                await dst.send(message)  # forward first
                self.stats[counter] += 1
                if self.recorder is not None:
                    text = message if isinstance(message, str) else message.decode("utf-8", "replace")
                    self.recorder.put(cp, direction, text, time.time(), version)

        tasks = [
            asyncio.create_task(pump(station, upstream, UP, "frames_up")),
            asyncio.create_task(pump(upstream, station, DOWN, "frames_down")),
        ]
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for t in pending:
            t.cancel()
        # the side that ended first decides how the other one is closed
        ended: Connection = station if tasks[0] in done else upstream
        other = upstream if ended is station else station
        code = ended.close_code or 1000
        await other.close(code if code not in (1005, 1006) else 1011, ended.close_reason or "")

    # --- running ----------------------------------------------------------------------------
    async def serve(self, ready: Callable[[int], None] | None = None, stop: asyncio.Event | None = None) -> None:
        from websockets.asyncio.server import serve
        from websockets.typing import Subprotocol

        async with serve(
            self._handler,
            self.host,
            self.port,
            subprotocols=[Subprotocol(p) for p in SUBPROTOCOLS],
            process_request=self._process_request,
            select_subprotocol=self._select_subprotocol,
            compression=None,
            ssl=self.tls,
        ) as server:
            self.port = server.sockets[0].getsockname()[1]
            if ready:
                ready(self.port)
            await (stop.wait() if stop else asyncio.Future())

    def start_thread(self) -> TapThread:
        return TapThread(self).start()


class TapThread:
    """A tap on its own event loop thread (tests, and the CLI's Ctrl-C handling)."""

    def __init__(self, tap: Tap):
        self.tap = tap
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="ocpp-tap", daemon=True)
        self.error: BaseException | None = None

    def _run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            await self.tap.serve(ready=lambda port: self._ready.set(), stop=self._stop)

        try:
            asyncio.run(main())
        except BaseException as exc:  # noqa: BLE001 - reported to the starter
            self.error = exc
            self._ready.set()

    def start(self) -> TapThread:
        self._thread.start()
        self._ready.wait(10)
        if self.error:
            raise self.error
        return self

    def stop(self) -> None:
        if self._loop and self._stop:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(5)
