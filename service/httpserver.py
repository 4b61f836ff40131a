"""Waitress, tuned so that many idle or slow clients never starve real ones.

Waitress's defaults fall over at about 100 idle connections: ``connection_limit = 100`` makes
it stop accepting (a new client waits in the listen backlog, ``/healthz`` included), and
``select()`` cannot watch a descriptor numbered 1024 or more. Waitress itself is a good fit
otherwise: a connection costs a socket and a small buffer, never a worker thread, until its
request has fully arrived, so idle and half-sent requests only cost file descriptors and a
little memory. So it stays, with:

* ``poll()`` instead of ``select()`` (no 1024-descriptor ceiling), and the soft
  ``RLIMIT_NOFILE`` raised to the hard limit at start (systemd's soft default is 1024);
* ``connection_limit`` in the thousands (bounded by that limit), and when it is reached the
  connections idle longest are closed to make room instead of refusing new clients: an
  attacker holding the limit's worth of idle sockets pushes out its own oldest ones;
* deadlines checked every second (waitress's checks only every 30 s, and only for silence):
  a request's line and headers must arrive within ``header_timeout_s`` of its first byte (of
  the connection's opening for the first request) — trickling a byte now and then no longer
  keeps a connection — a body gets ``header_timeout_s`` plus a second for each 8 KiB that
  arrived (an average rate, as Apache's mod_reqtimeout), and a connection that sends nothing
  for ``idle_timeout_s`` (between requests or within one) is closed;
* a request with both ``Content-Length`` and ``Transfer-Encoding: chunked`` is a 400
  (waitress reads it chunked; a proxy reading the length would see another request);
* request line + headers at most 32 KiB (waitress allows 256 KiB; more is a 431); waitress's
  own refusals answer problem+json like the API's;
* up to 64 connections accepted per loop turn (waitress: one, and a turn costs time in
  proportion to the open connections, so a flood left real clients in the backlog for seconds).
"""

from __future__ import annotations

import logging
import resource
import socket
import time
from typing import TYPE_CHECKING, Any

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser, ParsingError
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask

from .dispatch import QueueDispatcher
from .problems import problem_body

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

    from .config import ServiceConfig

log = logging.getLogger(__name__)

MAX_HEADER_BYTES = 32 * 1024
BODY_MIN_RATE = 8 * 1024  # bytes a second a body must keep up, on average
CHECK_EVERY_S = 1  # how often deadlines are checked (waitress's cleanup_interval)
ACCEPT_BATCH = 64  # connections accepted per loop turn
FD_RESERVE = 256  # descriptors kept for the database, printers, threads, zeroconf
#: bytes read from a socket at a time (waitress: 8 KiB): a 2 MB body then costs 9 reads and
#: parser turns instead of 270, about 5 ms less on a 2-core machine (a read's buffer is cut
#: to what arrived: a small request costs no more)
RECV_BYTES = 256 * 1024


class _Parser(HTTPRequestParser):
    """Waitress's request parser, stamped with when the request began and its headers ended."""

    def __init__(self, adj: Adjustments) -> None:
        super().__init__(adj)
        self.began = time.monotonic()
        self.headers_at: float | None = None

    def parse_header(self, header_plus: bytes) -> None:
        super().parse_header(header_plus)
        if self.chunked and "CONTENT_LENGTH" in self.headers:
            # RFC 9112 6.3: chunked wins, but a proxy in front may have read the length: the
            # rest of the body would be a request smuggled past it (waitress takes both)
            raise ParsingError("Content-Length and Transfer-Encoding: chunked both sent; send one")

    def received(self, data: bytes) -> int:
        n = super().received(data)
        if self.headers_at is None and self.headers_finished:
            self.headers_at = time.monotonic()
        return n


class _ProblemTask(ErrorTask):
    """Waitress's own refusals (a request it cannot parse, headers or a body far too large) in
    the API's one error shape, problem+json, instead of its plain text."""

    def execute(self) -> None:
        e = self.request.error
        body = problem_body(e.code, e.reason, str(e.body).strip())
        self.status = f"{e.code} {e.reason}"
        self.response_headers.append(("Content-Type", "application/problem+json"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class _Channel(HTTPChannel):
    parser_class = _Parser
    error_task_class = _ProblemTask

    def __init__(
        self,
        server: GuardedServer,
        sock: socket.socket,
        addr: Any,  # addr: as accept() gave it
        adj: Adjustments,
        map: dict[int, Any] | None = None,
    ) -> None:
        super().__init__(server, sock, addr, adj, map=map)
        self.opened = time.monotonic()
        self.served = 0  # requests begun on this connection

    def received(self, data: bytes) -> bool:
        if self.request is None and data:
            self.served += 1
        return super().received(data)


class GuardedServer(TcpWSGIServer):
    channel_class = _Channel
    next_channel_cleanup: float  # waitress's: when maintenance() is next due (time.time())

    def __init__(self, *args: Any, header_timeout_s: float, idle_timeout_s: float, **kw: Any) -> None:
        self.header_timeout_s, self.idle_timeout_s = header_timeout_s, idle_timeout_s
        self.evicted = self.timed_out = 0
        self._unsaid: dict[str, int] = {}
        self._quiet_until: dict[str, float] = {}
        super().__init__(*args, **kw)

    def _deadline_passed(self, ch: _Channel, mono: float, wall: float) -> str | None:
        if ch.requests or ch.will_close or ch.close_when_flushed:
            return None  # being answered (or already closing): never cut short here
        if wall - ch.last_activity > self.idle_timeout_s:
            return "idle"  # nothing received for that long, whatever the state
        req = ch.request
        if req is None:  # between requests: idle (above), or the first one not begun yet
            return "no request" if ch.served == 0 and mono - ch.opened > self.header_timeout_s else None
        if req.headers_at is None:
            return "slow headers" if mono - req.began > self.header_timeout_s else None
        # the body: a start within header_timeout_s, then on average BODY_MIN_RATE (what
        # arrived buys time; what was merely declared does not)
        if mono - req.headers_at > self.header_timeout_s + req.body_bytes_received / BODY_MIN_RATE:
            return "slow body"
        return None

    def maintenance(self, now: float) -> None:
        """Every second (waitress: every 30 s, silence only): close what missed its deadline."""
        mono = time.monotonic()
        closed = 0
        for ch in list(self.active_channels.values()):
            why = self._deadline_passed(ch, mono, now)
            if why:
                closed += 1
                log.debug("closing %s: %s", ch.addr, why)
                ch.will_close = True
        self.timed_out += closed
        self._say("deadline", "closed connections that missed their deadline (slow or silent clients)", closed)

    def _say(self, key: str, text: str, n: int) -> None:
        """A warning at most every 10 s for each kind (an attack must not flood the log)."""
        if not n:
            return
        self._unsaid[key] = self._unsaid.get(key, 0) + n
        mono = time.monotonic()
        if mono >= self._quiet_until.get(key, 0.0):
            self._quiet_until[key] = mono + 10
            log.warning("%s: %d since the last such message", text, self._unsaid.pop(key))

    def _evict(self) -> bool:
        """At the connection limit: close the connections idle longest (not those being
        answered) so that a new client still gets in. True when room is being made."""
        idle = [
            ch
            for ch in self.active_channels.values()
            if not ch.requests and not ch.will_close and not ch.close_when_flushed
        ]
        if not idle:
            return False
        idle.sort(key=lambda ch: ch.last_activity)
        batch = idle[: max(1, self.adj.connection_limit // 64)]
        for ch in batch:
            ch.will_close = True
        self.evicted += len(batch)
        self._say(
            "evict",
            f"connection limit {self.adj.connection_limit} reached: closed the connections idle longest",
            len(batch),
        )
        return True

    def handle_accept(self) -> None:
        """Accept what waits, up to ACCEPT_BATCH at a time (waitress: one per loop turn, and a
        turn costs O(open connections), so a flood would sit in the backlog for seconds with
        a real client behind it)."""
        for _ in range(ACCEPT_BATCH):
            before = len(self._map)
            if before >= self.adj.connection_limit + FD_RESERVE // 2:
                return
            super().handle_accept()
            if len(self._map) == before:  # nothing was waiting (or accept failed: logged)
                return

    def readable(self) -> bool:
        now = time.time()
        if now >= self.next_channel_cleanup:
            self.next_channel_cleanup = now + self.adj.cleanup_interval
            self.maintenance(now)
        if not self.accepting:
            return False
        if len(self._map) < self.adj.connection_limit:
            self.in_connection_overflow = False
            return True
        # full: accept on only while room is being made (a few over the limit for a moment;
        # FD_RESERVE keeps that inside RLIMIT_NOFILE)
        if len(self._map) < self.adj.connection_limit + FD_RESERVE // 2 and self._evict():
            return True
        if not self.in_connection_overflow:
            self.in_connection_overflow = True
            log.warning(
                "connection limit %d reached and every connection is busy: not accepting for now",
                self.adj.connection_limit,
            )
        return False


def raise_nofile_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard one (systemd starts services at 1024); the soft
    limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft != resource.RLIM_INFINITY and soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
            soft = want
        except (ValueError, OSError) as exc:  # pragma: no cover - a sandbox that forbids it
            log.warning("cannot raise the open-file limit from %d: %s", soft, exc)
    return soft


def create_server(app: WSGIApplication, config: ServiceConfig) -> GuardedServer:
    """The listening server for ``config`` (host, port, threads, limits); its ``run()`` serves."""
    nofile = raise_nofile_limit()
    limit = min(config.connection_limit, max(64, nofile - FD_RESERVE))
    if limit < config.connection_limit:
        log.warning(
            "connection_limit %d lowered to %d: the open-file limit is %d", config.connection_limit, limit, nofile
        )
    adj = Adjustments(
        host=config.host,
        port=config.port,
        threads=config.threads,
        ident="escpos809",
        # the app answers oversize bodies with problem+json; waitress only stops absurd ones
        # (4x the limit) before they are spooled to disk
        max_request_body_size=4 * config.max_body_bytes,
        max_request_header_size=MAX_HEADER_BYTES,
        clear_untrusted_proxy_headers=True,
        connection_limit=limit,
        asyncore_use_poll=True,  # select() stops at descriptor 1024
        cleanup_interval=CHECK_EVERY_S,
        channel_timeout=int(max(1, config.idle_timeout_s)),  # waitress's own check; ours is finer
        backlog=1024,
        recv_bytes=RECV_BYTES,
    )
    dispatcher = QueueDispatcher()
    dispatcher.set_thread_count(adj.threads)
    # one address (the service binds one host); create_server() would build the same object
    return GuardedServer(
        app,
        map={},
        dispatcher=dispatcher,
        adj=adj,
        sockinfo=adj.listen[0],
        header_timeout_s=config.header_timeout_s,
        idle_timeout_s=config.idle_timeout_s,
    )
