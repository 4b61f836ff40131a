"""The print service as users run it: ``escpos809 serve`` in its own process (waitress on
127.0.0.1), printing to a virtual printer this test process owns (so faults can be injected)."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from escpos809.emulator import VirtualPrinter


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Response:
    def __init__(self, status: int, headers: dict, body: bytes):
        self.status, self.headers, self.body = status, headers, body

    @property
    def json(self):
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"<{self.status} {self.body[:300]!r}>"


class Service:
    """A running ``escpos809 serve`` process and an HTTP client for it."""

    def __init__(
        self, tmp: Path, printers: dict[str, str], token: str | None = None, host: str = "127.0.0.1", **settings
    ):
        self.tmp, self.port, self.token, self.host = tmp, free_port(), token, host
        self.db = tmp / "jobs.db"
        lines = ["[service]", f'database = "{self.db}"', "poll_s = 0.2", "retry_max_s = 0.5"]
        settings.setdefault("zeroconf", False)
        lines += [f"{k} = {json.dumps(v)}" for k, v in settings.items()]
        lines += ["[printers]"] + [f'{k} = "{v}"' for k, v in printers.items()]
        self.config = tmp / "config.toml"
        self.config.write_text("\n".join(lines) + "\n")
        self.proc: subprocess.Popen | None = None
        self.log = tmp / "service.log"
        self.flags: list[str] = []  # more ``serve`` flags

    def start(self, timeout: float = 20) -> Service:
        env = {**os.environ, "ESCPOS809_CONFIG": str(self.config), "ESCPOS809_PAPER_DIR": str(self.tmp / "paper")}
        env.pop("ESCPOS809_PRINTER", None)
        args = [
            sys.executable,
            "-c",
            "from escpos809.cli import main; main()",
            "serve",
            "--port",
            str(self.port),
            "--host",
            self.host,
        ]
        if self.token:
            args += ["--token", self.token]
        args += self.flags
        with open(self.log, "ab") as log:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=log)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"service exited {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            try:
                if self.request("GET", "/healthz", timeout=1).status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("service did not come up: " + self.log.read_text()[-2000:])

    def request(self, method: str, path: str, body=None, headers: dict | None = None, timeout: float = 10) -> Response:
        headers = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            body = body.encode()
        if self.token and "Authorization" not in headers:
            headers["Authorization"] = f"Bearer {self.token}"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            r = conn.getresponse()
            return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        finally:
            conn.close()

    def submit(self, body, printer: str = "default", **kw) -> Response:
        if isinstance(body, bytes) and "headers" not in kw:
            kw["headers"] = {"Content-Type": "application/vnd.escpos"}
        return self.request("POST", f"/api/v1/printers/{printer}/jobs", body, **kw)

    def job(self, job_id: str) -> dict:
        return self.request("GET", f"/api/v1/jobs/{job_id}").json

    def wait_state(self, job_id: str, states=("done",), timeout: float = 30) -> dict:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            j = self.job(job_id)
            if j["state"] in states:
                return j
            time.sleep(0.05)
        raise AssertionError(f"job {job_id} never reached {states}: {j}")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, timeout: float = 40) -> int:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode if self.proc else 0


@pytest.fixture
def vprinter(tmp_path):
    vp = VirtualPrinter(tmp_path / "vpaper", idle_s=0.1).start()
    yield vp
    vp.faults.paper_out = vp.faults.cover_open = False
    vp.faults.paper_mm = None
    vp.stop()


@pytest.fixture
def make_service(tmp_path):
    started: list[Service] = []

    def make(printers: dict[str, str], **kw) -> Service:
        svc = Service(tmp_path, printers, **kw)
        started.append(svc)
        return svc

    yield make
    for svc in started:
        svc.stop(10)


@pytest.fixture
def service(make_service, vprinter):
    return make_service({"default": vprinter.uri + "?timeout=3&read_timeout=1"}).start()


def printed_texts(vp: VirtualPrinter) -> list[str]:
    """The text lines of every job on the virtual printer's paper, in order."""
    out = []
    for job in list(vp.jobs):
        for op in job.ops:
            if op.kind == "text":
                out.append("".join(c.char for c in op.args["cells"]).strip())
    return out
