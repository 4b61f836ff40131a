"""A private, loopback-only cupsd under a temporary directory (recipe:
../shared/reference/cups-zeroconf.md §5), with escpos809's backend and filter installed by
``escpos809 cups install`` and queues printing to virtual printers over TCP."""

from __future__ import annotations

import grp
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.service.conftest import free_port

REQUIRED = os.environ.get("ESCPOS809_REQUIRE_CUPS") == "1"


def _missing() -> str | None:
    if not shutil.which("cupsd") or not shutil.which("lpadmin"):
        return "cupsd / lpadmin not installed (apt install cups cups-client cups-filters)"
    if os.geteuid() != 0:
        return "a private cupsd that drops to lp needs root"
    return None


CUPSD_CONF = """LogLevel debug
MaxLogSize 0
Listen 127.0.0.1:{port}
Listen {root}/run/cups.sock
Browsing No
WebInterface No
DefaultAuthType None
DefaultShared No
ErrorPolicy abort-job
JobRetryInterval 1
<Location />
  Order allow,deny
  Allow 127.0.0.1
  Allow @LOCAL
</Location>
<Policy default>
  <Limit All>
    Order deny,allow
  </Limit>
</Policy>
"""

FILES_CONF = """ServerRoot {root}/etc
ServerBin {root}/bin
RequestRoot {root}/spool
TempDir {root}/spool/tmp
CacheDir {root}/cache
StateDir {root}/state
AccessLog {root}/log/access_log
ErrorLog {root}/log/error_log
PageLog {root}/log/page_log
User lp
Group lp
SystemGroup root
"""


class Cupsd:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="escpos809-cups-"))
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.env = {**os.environ, "CUPS_SERVER": str(self.root / "run" / "cups.sock")}
        self.env.pop("ESCPOS809_PRINTER", None)

    # --- life cycle ---------------------------------------------------------------------
    def setup(self) -> None:
        r = self.root
        for d in (
            "etc/ppd",
            "etc/ssl",
            "spool/tmp",
            "cache",
            "state/certs",
            "log",
            "run",
            "bin/backend",
            "bin/filter",
            "lib",
        ):
            (r / d).mkdir(parents=True, exist_ok=True)
        for d in (r, r / "bin", r / "bin/backend", r / "bin/filter", r / "lib"):
            d.chmod(0o755)
        system = Path("/usr/lib/cups")
        for entry in system.iterdir():
            if entry.name not in ("backend", "filter"):
                (r / "bin" / entry.name).symlink_to(entry)
        for f in (system / "filter").iterdir():
            (r / "bin/filter" / f.name).symlink_to(f)
        lp = grp.getgrnam("lp").gr_gid
        os.chown(r / "spool", 0, lp)
        (r / "spool").chmod(0o710)
        os.chown(r / "spool/tmp", 0, lp)
        (r / "spool/tmp").chmod(0o1770)
        for p in [r / "etc", *(r / "etc").rglob("*")]:
            os.chown(p, 0, lp)
            p.chmod(0o755)
        (r / "etc/cups-files.conf").write_text(FILES_CONF.format(root=r))
        (r / "etc/cupsd.conf").write_text(CUPSD_CONF.format(root=r, port=self.port))

    def install(self) -> subprocess.CompletedProcess:
        """``escpos809 cups install`` into this cupsd's ServerBin (before cupsd starts, so
        it reads the escpos809.types file the install writes)."""
        return self.escpos809("cups", "install", *self.dirs())

    def dirs(self) -> list[str]:
        return [
            "--server-bin",
            str(self.root / "bin"),
            "--server-root",
            str(self.root / "etc"),
            "--lib-dir",
            str(self.root / "lib"),
        ]

    def start(self) -> None:
        conf = ["-c", str(self.root / "etc/cupsd.conf"), "-s", str(self.root / "etc/cups-files.conf")]
        check = subprocess.run(["cupsd", "-t", *conf], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr + check.stdout
        self.proc = subprocess.Popen(["cupsd", "-f", *conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if (self.root / "run/cups.sock").exists() and self.run("lpstat", "-r").returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError("cupsd did not start:\n" + self.error_log()[-3000:])

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    # --- clients ------------------------------------------------------------------------
    def run(self, *args: str, check: bool = False, **kw) -> subprocess.CompletedProcess:
        proc = subprocess.run(list(args), capture_output=True, text=True, env=self.env, **kw)
        if check and proc.returncode != 0:
            raise AssertionError(f"{args}: rc {proc.returncode}: {proc.stderr}")
        return proc

    def escpos809(self, *args: str) -> subprocess.CompletedProcess:
        return self.run(sys.executable, "-c", "from escpos809.cli import main; main()", *args)

    def lp(self, queue: str, *args: str) -> int:
        out = self.run("lp", "-d", queue, *args, check=True).stdout
        # "request id is q-12 (1 file(s))"
        return int(out.split("request id is ", 1)[1].split()[0].rsplit("-", 1)[1])

    def wait_job_done(self, job: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            queued = [line for line in self.run("lpstat", "-o").stdout.splitlines() if line.strip()]
            if not any(line.split("-")[-1].split()[0] == str(job) for line in queued):
                return
            time.sleep(0.05)
        raise AssertionError(
            f"job {job} still queued: {self.run('lpstat', '-l', '-o').stdout}\n{self.error_log()[-4000:]}"
        )

    def error_log(self) -> str:
        try:
            return (self.root / "log/error_log").read_text(errors="replace")
        except OSError:
            return ""


@pytest.fixture(scope="session")
def cupsd():
    why = _missing()
    if why:
        if REQUIRED:
            pytest.fail(why)
        pytest.skip(why)
    c = Cupsd()
    c.setup()
    installed = c.install()
    assert installed.returncode == 0, installed.stderr
    c.start()
    yield c
    c.stop()


STATE_TEST = Path(__file__).with_name("get-job-state.test")


def job_state(c: Cupsd, queue: str, job: int) -> dict[str, str]:
    """job-state, job-state-reasons, job-printer-state-message of a job, read over IPP."""
    out = c.run(
        "ipptool", "-t", "-d", f"job={job}", f"ipp://127.0.0.1:{c.port}/printers/{queue}", str(STATE_TEST)
    ).stdout
    attrs = {}
    for line in out.splitlines():
        line = line.strip()
        for name in ("job-state-reasons", "job-state", "job-printer-state-message"):
            if line.startswith(name + " ("):
                attrs[name] = line.split(" = ", 1)[1] if " = " in line else ""
    return attrs
