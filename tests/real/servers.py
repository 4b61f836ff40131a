"""Small real servers on 127.0.0.1 that behave like printers (and like broken ones)."""

from __future__ import annotations

import socket
import threading
import time


class FakeTcpPrinter:
    """Accepts connections on 127.0.0.1; mode decides what it does with each one.

    ``answer``  – reads everything, answers DLE EOT n with ``status[n]``
    ``mute``    – accepts and never reads nor answers (a hung printer)
    ``drop``    – reads ``drop_after`` bytes, then closes (power cut mid-job)
    ``junk``    – like answer, but first sends stale bytes nobody asked for

    ``confirms`` – answer ``GS r 1`` (in stream order: this fake prints instantly) with
    ``confirm_reply``; False models a unit that takes jobs but never confirms them.
    """

    def __init__(
        self,
        mode: str = "answer",
        status: dict | None = None,
        drop_after: int = 1000,
        family: int = socket.AF_INET,
        host: str = "127.0.0.1",
        confirms: bool = True,
        confirm_reply: int = 0x00,
    ):
        self.mode, self.drop_after = mode, drop_after
        self.confirms, self.confirm_reply = confirms, confirm_reply
        self.status = status or {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12}
        self.received = bytearray()
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if mode == "mute":  # keep the receive window tiny so the sender fills up fast
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.bind((host, 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.conns: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        self.sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.conns.append(conn)
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket):
        if self.mode == "mute":
            return
        if self.mode == "junk":
            conn.sendall(b"\x12\x1a\x99stale")
        conn.settimeout(0.1)
        buf = bytearray()
        while not self._stop.is_set():
            try:
                data = conn.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:  # the host is done: close our side too, as a printer's network card does
                conn.close()
                return
            self.received += data
            if self.mode == "drop" and len(self.received) >= self.drop_after:
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                conn.close()
                return
            buf += data
            while (i := _next_request(buf)) != -1 and i + 2 < len(buf):
                cmd, n = buf[i : i + 2], buf[i + 2]
                if cmd == b"\x10\x04" and n in self.status:
                    conn.sendall(bytes([self.status[n]]))
                elif cmd == b"\x1dr" and self.confirms:
                    conn.sendall(bytes([self.confirm_reply]))
                del buf[: i + 3]

    def close(self):
        self._stop.set()
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass
        self.sock.close()
        self._thread.join(1)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _next_request(buf: bytearray) -> int:
    """Offset of the first DLE EOT or GS r in ``buf`` (-1: none)."""
    found = [i for i in (buf.find(b"\x10\x04"), buf.find(b"\x1dr")) if i != -1]
    return min(found, default=-1)


def wait_for(pred, timeout=2.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.01)
    return pred()


def torrent_server() -> tuple[socket.socket, str]:
    """A peer that sends without end from the moment it is connected, asked or not (a flood, a
    wrong line speed): the listening socket (close it to stop) and its URI."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                try:
                    while True:
                        conn.sendall(b"\x12" * 65536)
                except OSError:
                    pass

    threading.Thread(target=serve, daemon=True).start()
    return server, f"tcp://127.0.0.1:{server.getsockname()[1]}"
