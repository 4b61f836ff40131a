"""A real Mosquitto on 127.0.0.1 (a free port, a temporary config), a publisher that plays
the sample sequences of tests/data/everest (written from EVerest's API README and
types/evse_manager.yaml), and the receipts as the virtual printer's job.json records them."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from tests.service.conftest import free_port

DATA = Path(__file__).resolve().parents[1] / "data" / "everest"
ROOT = Path(__file__).resolve().parents[2]
#: .ci/run installs mosquitto: there its tests must run, not skip
REQUIRED = os.environ.get("ESCPOS809_REQUIRE_MOSQUITTO") == "1"
MOSQUITTO = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)


class Broker:
    """``mosquitto -c <temp config>``: anonymous, loopback only, no persistence; restartable on
    the same port."""

    def __init__(self, root: Path, extra: str = ""):
        self.root, self.port, self.extra = root, free_port(), extra
        self.proc: subprocess.Popen | None = None
        self.log = root / "mosquitto.log"

    def start(self) -> Broker:
        conf = self.root / "mosquitto.conf"
        # user: as root mosquitto would drop to "mosquitto", who cannot read the test's files
        user = "user root\n" if os.geteuid() == 0 else ""
        base = f"listener {self.port} 127.0.0.1\n{user}persistence false\n"
        conf.write_text(base + (self.extra or "allow_anonymous true\n"))
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=log, stderr=log)
        end = time.monotonic() + 10
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited {self.proc.returncode}: {self.log.read_text()[-1000:]}")
            try:
                import socket

                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not come up: " + self.log.read_text()[-1000:])

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(10)

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"


@pytest.fixture
def broker(tmp_path):
    if MOSQUITTO is None:
        if REQUIRED:
            pytest.fail("ESCPOS809_REQUIRE_MOSQUITTO=1 but mosquitto is not installed")
        pytest.skip("mosquitto not installed (apt install mosquitto)")
    b = Broker(Path(tempfile.mkdtemp(prefix="escpos809-mqtt-", dir=tmp_path))).start()
    yield b
    b.stop()


class Publisher:
    """A paho client that publishes like EVerest's API module (QoS 0, as it does)."""

    def __init__(self, broker: Broker):
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"everest-sim-{os.getpid()}")
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()

    def send(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(5)

    def connectors(self, line: dict, listener: Listener) -> None:
        """Publish the connectors list and wait until the listener subscribed to their topics."""
        before = listener.text().count("EVerest subscribed")
        self.send(line["topic"], payload_bytes(line))
        wait_for(lambda: listener.text().count("EVerest subscribed") > before, what="the connectors' subscriptions")

    def play(self, lines: list[dict], pause: float = 0.0) -> None:
        for line in lines:
            self.send(line["topic"], payload_bytes(line))
            if pause:
                time.sleep(pause)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def payload_bytes(line: dict) -> bytes:
    """A sample line's payload: ``payload`` as JSON, or ``raw`` text as Latin-1 bytes (so a
    sample can hold bytes that are not UTF-8)."""
    return line["raw"].encode("latin-1") if "raw" in line else json.dumps(line["payload"]).encode()


def sample(name: str) -> list[dict]:
    return [json.loads(x) for x in (DATA / name).read_text().splitlines() if x.strip()]


@pytest.fixture
def publisher(broker):
    p = Publisher(broker)
    yield p
    p.close()


def paper_texts(out: Path) -> list[str]:
    """Every text line on the virtual printer's paper, job after job, from each job.json."""
    lines: list[str] = []
    for job in sorted(out.glob("job-*/job.json")):
        data = json.loads(job.read_text())
        lines += [op["text"].strip() for op in data.get("ops", []) if op.get("kind") == "text"]
    return lines


def receipts(out: Path) -> list[list[str]]:
    """The charging receipts on paper: the lines from each CHARGING RECEIPT title to the next."""
    found: list[list[str]] = []
    for line in paper_texts(out):
        if line == "CHARGING RECEIPT":
            found.append([])
        elif found:
            found[-1].append(line)
    return found


def wait_for(predicate, timeout: float = 20.0, what: str = "condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


CONFIG = """
[ocpp]
operator = "Stadtwerke Beispiel"
timezone = "Europe/Berlin"
footer = "Danke!"
[ocpp.tariff]
currency = "EUR"
vat_percent = 19
price_kwh = "0.39"
session_fee = "0.50"
"""


class Listener:
    """``escpos809 everest`` in its own process, its log in a file."""

    def __init__(self, tmp: Path, broker: Broker, printer: str, *extra: str):
        self.tmp, self.broker, self.printer, self.extra = tmp, broker, printer, extra
        self.broker_url = broker.url
        self.config = tmp / "escpos809.toml"
        self.config.write_text(CONFIG)
        self.log = tmp / "everest.log"
        self.proc: subprocess.Popen | None = None

    def start(self, wait_s: float = 20) -> Listener:
        env = {**os.environ, "ESCPOS809_CONFIG": str(self.config)}
        env.pop("ESCPOS809_PRINTER", None)
        args = ["--broker", self.broker_url, "--printer", self.printer, "--db", str(self.tmp / "everest.db")]
        args += ["--settle", "0.3", *self.extra]
        mark = self.log.read_text() if self.log.exists() else ""
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "escpos809.cli", "everest", *args], stderr=log, stdout=log, env=env, cwd=ROOT
            )
        wait_for(
            # subscribed, not only connected: what is published next reaches it
            lambda: self.text()[len(mark) :].count("EVerest subscribed") or self.proc.poll() is not None,
            timeout=wait_s,
            what="the listener to connect",
        )
        if self.proc.poll() is not None:
            raise RuntimeError(f"escpos809 everest exited {self.proc.returncode}: {self.text()[-2000:]}")
        return self

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode if self.proc else 0


@pytest.fixture
def listeners():
    """``make(tmp, broker, printer, *flags)`` → a :class:`Listener` (not started); every one
    made is stopped after the test, whatever happened in it."""
    made: list[Listener] = []

    def make(*args: object) -> Listener:
        made.append(Listener(*args))  # type: ignore[arg-type]
        return made[-1]

    yield make
    for lst in made:
        lst.stop()
