"""The probe against printers that misbehave: floods, half replies, a link cut mid-way, and a
person answering at the terminal (with typos)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

import pytest
from click.testing import CliRunner

from escpos809.cli import cli as escpos809_cli
from escpos809.cli import probe as probe_cli
from escpos809.probe.sheet import plan
from escpos809.profile import load_profile
from tests.real.servers import torrent_server

from .paper import cli


class FakePrinter:
    """A TCP port that answers each chunk it receives with ``answer(chunk)`` (None: hang up)."""

    def __init__(self, answer: Callable[[bytes], bytes | None]):
        self.answer = answer
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.uri = f"tcp://127.0.0.1:{self.sock.getsockname()[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                while chunk := conn.recv(65536):
                    reply = self.answer(chunk)
                    if reply is None:
                        break
                    try:
                        conn.sendall(reply)
                    except OSError:
                        break

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def fake():
    made: list[FakePrinter] = []

    def make(answer):
        made.append(FakePrinter(answer))
        return made[-1]

    yield make
    for f in made:
        f.close()


QUIET = ("--batch", "--timeout", "0.3", "--status-port", "-1", "--discovery-port", "-1")


def test_flooding_printer_is_bounded(fake):
    printer = fake(lambda chunk: b"\xff" * 200_000)  # a torrent of bytes for every request
    start = time.monotonic()
    r = cli("probe", "--printer", printer.uri, *QUIET)
    assert time.monotonic() - start < 60
    assert r.returncode == 3, r.stderr  # what it answers is no printer's reply
    assert r.stderr.startswith("escpos809: ") and r.stderr.count("\n") == 1
    assert "not a printer" in r.stderr or "not an ESC/POS printer" in r.stderr


@pytest.fixture
def torrent():
    """A peer that sends without end from the moment it is connected, asked or not."""
    server, uri = torrent_server()
    yield uri
    server.close()


def test_a_peer_sending_without_end_is_no_printer_and_the_probe_ends(torrent):
    # before: the replies looked like status bytes, and closing the link read the torrent to
    # its end, which never came
    r = cli("probe", "--printer", torrent, *QUIET, timeout=60)
    assert r.returncode == 3, r.stderr
    assert "sends bytes nobody asked for" in r.stderr and r.stderr.count("\n") == 1


def test_closing_a_link_to_a_torrent_ends(torrent):
    from escpos809.transport import open_transport

    t = open_transport(torrent, read_timeout=0.2)
    t.open()
    t.write(b"\x1b@")
    closing = threading.Thread(target=t.close, daemon=True)
    closing.start()
    closing.join(30)
    assert not closing.is_alive()  # before: it read the torrent to its end, which never comes


def test_replies_without_the_status_bits_are_no_printer(fake):
    # a peer that answers every byte with 0xff (a serial echo, a line at the wrong speed)
    r = cli("probe", "--printer", fake(lambda chunk: b"\xff" * len(chunk)).uri, *QUIET)
    assert r.returncode == 3, r.stderr
    assert "1: 0xff" in r.stderr and "not an ESC/POS printer" in r.stderr


def test_gs_i_text_without_terminator_is_no_reply(fake):
    def answer(chunk: bytes) -> bytes:
        if chunk.startswith(b"\x1dI"):
            return b"\x20" if chunk[2] < 4 else b"\x5f" + b"A" * 500  # never NUL-terminated
        return b"\x12" if chunk.startswith(b"\x10\x04") else b""

    r = cli("probe", "--printer", fake(answer).uri, *QUIET)
    assert r.returncode == 0, r.stderr
    assert "model 0x20" in r.stdout and "maker" not in r.stdout


def test_link_cut_mid_probe_is_one_line(fake):
    count = {"n": 0}

    def answer(chunk: bytes) -> bytes | None:
        count["n"] += 1
        return b"\x12" if count["n"] < 3 else None

    r = cli("probe", "--printer", fake(answer).uri, *QUIET)
    assert r.returncode in (4, 5), r.stderr  # connection lost (or silent before it)
    assert r.stderr.startswith("escpos809: ") and r.stderr.count("\n") == 1


def test_a_file_that_is_not_a_printer_answers_nothing(tmp_path):
    f = tmp_path / "not-a-printer"
    f.write_bytes(b"")
    r = cli("probe", "--printer", f"lp://{f}", "--batch", "--timeout", "0.2")
    assert r.returncode == 5, r.stderr
    assert r.stderr.count("\n") == 1 and "no reply to DLE EOT 1-4" in r.stderr


def test_a_person_answers_at_the_terminal(fake, tmp_path, monkeypatch):
    printer = fake(lambda chunk: b"\x12" * chunk.count(b"\x10\x04") + b"\x00" * chunk.count(b"\x1dr"))
    monkeypatch.setattr(probe_cli, "_interactive", lambda: True)
    monkeypatch.setenv("ESCPOS809_CONFIG", "/nonexistent.toml")
    bands = [ln.number for ln in plan(load_profile()) if ln.kind == "band" and ln.params["rows"] <= 32]
    # groups: Chinese mode, code pages (a typo first), QR, barcodes, bands, cuts
    answers = "\n".join(["none", "zz", "all", "none", "all", f"{bands[0]}-{bands[-1]}", "all"]) + "\n"
    out = tmp_path / "mine.toml"
    args = ["probe", "--printer", printer.uri, "--timeout", "0.3", "--status-port", "-1", "--discovery-port", "-1"]
    r = CliRunner().invoke(escpos809_cli, [*args, "--write-profile", str(out)], input=answers)
    assert r.exit_code == 0, r.output
    assert "give line numbers and ranges" in r.output  # the typo was asked again
    text = out.read_text()
    assert 'qr = "image"' in text  # neither QR form read
    assert "band_rows = 32" in text
    assert "chinese_mode_at_power_on" not in text  # 'none' for line 1: Chinese mode on, as the base says
