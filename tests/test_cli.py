"""The command line through click's runner and as a real subprocess (exit codes, stderr)."""

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from escpos809.cli import cli
from tests.real.servers import FakeTcpPrinter, wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(*args, stdin=None, env=None):
    """Run ``python -m escpos809.cli`` as a real process."""
    e = {**os.environ, "ESCPOS809_CONFIG": "/nonexistent.toml", **(env or {})}
    e.pop("ESCPOS809_PRINTER", None) if "ESCPOS809_PRINTER" not in (env or {}) else None
    return subprocess.run(
        [sys.executable, "-m", "escpos809.cli", *args], input=stdin, capture_output=True, env=e, cwd=ROOT, timeout=60
    )


def dumped(output: str) -> bytes:
    """The bytes of the CLI's hex dump (offset, 16 hex bytes, text) for memory://."""
    return b"".join(
        bytes.fromhex(line[10:57])
        for line in output.splitlines()
        if line[:8].isalnum() and len(line) > 10 and line[8:10] == "  "
    )


@pytest.fixture
def runner(monkeypatch):
    monkeypatch.setenv("ESCPOS809_CONFIG", "/nonexistent.toml")
    monkeypatch.delenv("ESCPOS809_PRINTER", raising=False)
    return CliRunner()


def test_print_text_file_to_memory_shows_bytes(runner, tmp_path):
    f = tmp_path / "r.txt"
    f.write_text("Grüße €\n", encoding="utf-8")
    res = runner.invoke(cli, ["print", str(f), "--printer", "memory://", "--no-check"])
    assert res.exit_code == 0, res.output
    assert dumped(res.output) == bytes.fromhex("1b 40 1c 2e 47 72 1b 74 13 81 e1 65 20 d5 0a 1d 56 42 00")


def test_print_over_tcp_with_status_check():
    with FakeTcpPrinter() as srv:
        res = run("print", "-", "--printer", f"tcp://127.0.0.1:{srv.port}", stdin=b"Hallo\n")
        assert res.returncode == 0, res.stderr
        assert wait_for(lambda: b"\x1b@\x1c.Hallo\n\x1dVB\x00" in bytes(srv.received))


def test_print_refused_when_paper_out():
    with FakeTcpPrinter(status={1: 0x1A, 2: 0x32, 3: 0x12, 4: 0x72}) as srv:
        res = run("print", "-", "--printer", f"tcp://127.0.0.1:{srv.port}", stdin=b"Hallo\n")
    assert res.returncode == 4
    assert res.stderr.decode().strip().count("\n") == 0
    assert "not ready: paper out" in res.stderr.decode()
    assert b"Hallo" not in bytes(srv.received)


def test_raw_bytes_sent_unchanged(tmp_path):
    f = tmp_path / "job.bin"
    f.write_bytes(b"\x1b@\x1b\x61\x01RAW\n\x1dV\x00")
    with FakeTcpPrinter() as srv:
        res = run("print", str(f), "--raw", "--no-check", "--printer", f"tcp://127.0.0.1:{srv.port}")
        assert res.returncode == 0
        # the file's bytes unchanged, then the status (--no-check: not asked before) and GS r 1
        assert wait_for(
            lambda: (
                bytes(srv.received)
                == f.read_bytes() + bytes.fromhex("1D 61 00 10 04 01 10 04 02 10 04 03 10 04 04 1D 72 01")
            )
        )


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["cut", "--printer", "tcp://127.0.0.1:1"], 3, "connection refused"),
        (["beep", "--times", "12", "--printer", "memory://"], 7, "beep count must be 1-9, got 12"),
        (["cut", "--printer", "ftp://x"], 7, "unknown scheme 'ftp'"),
        (["cut", "--mode", "half", "--printer", "memory://"], 2, "'half' is not one of"),
        (["cut"], 2, "no printer: give --printer URI"),
        (["status", "--printer", "memory://"], 5, None),
        (["print", "/nonexistent.txt", "--printer", "memory://"], 1, "/nonexistent.txt: No such file"),
        (["frobnicate"], 2, "No such command"),
    ],
)
def test_failures_are_one_line_and_an_exit_code(args, code, message):
    res = run(*args)
    assert res.returncode == code, res.stderr
    err = res.stderr.decode()
    if message:
        assert message in err
        assert err.startswith("escpos809: ") and err.count("\n") == 1


def test_status_json_and_exit_codes():
    with FakeTcpPrinter() as srv:
        res = run("status", "--json", "--printer", f"tcp://127.0.0.1:{srv.port}")
    assert res.returncode == 0
    assert json.loads(res.stdout)["ready"] is True
    with FakeTcpPrinter(status={1: 0x12, 2: 0x16, 3: 0x12, 4: 0x12}) as srv:
        res = run("status", "--printer", f"tcp://127.0.0.1:{srv.port}")
    assert res.returncode == 4 and "cover open" in res.stdout.decode()
    with FakeTcpPrinter(mode="mute") as srv:
        res = run("status", "--timeout", "0.3", "--printer", f"tcp://127.0.0.1:{srv.port}")
    assert res.returncode == 5 and "status unknown" in res.stdout.decode()


def test_printer_from_environment_and_config(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("ESCPOS809_PRINTER", "memory://env")
    res = runner.invoke(cli, ["cut", "--mode", "full"])
    assert res.exit_code == 0 and "memory://env" in res.output and dumped(res.output) == b"\x1dV\x00"
    monkeypatch.delenv("ESCPOS809_PRINTER")
    cfg = tmp_path / "config.toml"
    cfg.write_text('printer = "memory://cfg"\n')
    monkeypatch.setenv("ESCPOS809_CONFIG", str(cfg))
    res = runner.invoke(cli, ["drawer", "--pin", "5"])
    assert res.exit_code == 0 and "memory://cfg" in res.output and dumped(res.output) == b"\x1bp\x01\x32\x32"


def test_unencodable_text_warns_but_prints(runner):
    res = runner.invoke(cli, ["print", "-", "--printer", "memory://", "--no-check"], input="ok 😀\n")
    assert res.exit_code == 0
    assert "warning: no code page carries '😀'" in res.stderr
    assert b"ok ?\n" in dumped(res.output)


def test_not_text_gives_a_clear_error(runner, tmp_path):
    f = tmp_path / "bin"
    f.write_bytes(b"\xff\xfe\x00")
    res = runner.invoke(cli, ["print", str(f), "--printer", "memory://"])
    assert res.exit_code == 7 and "is not utf-8 text" in res.stderr


def test_usb_list_through_pyusb(runner, monkeypatch):
    import usb.backend.libusb1

    from tests.usb_sim import SimBackend, SimPrinter

    monkeypatch.setattr(usb.backend.libusb1, "get_backend", lambda *a, **k: SimBackend(SimPrinter()))
    res = runner.invoke(cli, ["usb-list"])
    assert res.exit_code == 0
    assert "usb://0483:5743?serial=OCPP809-0001  STMicroelectronics POS80 Printer USB  [ocpp-809 family" in res.output


def test_usb_list_line_gives_the_printer_uri_and_the_cups_device_uri(runner, monkeypatch):
    import usb.backend.libusb1

    from tests.usb_sim import SimBackend, SimPrinter

    sims = SimBackend(SimPrinter(), SimPrinter(vid=0x1FC9, pid=0x2016, serial="", product="", manufacturer=""))
    monkeypatch.setattr(usb.backend.libusb1, "get_backend", lambda *a, **k: sims)
    res = runner.invoke(cli, ["usb-list"])
    assert res.exit_code == 0, res.output
    first, second = res.output.splitlines()
    uri = first.split()[0]
    assert uri == "usb://0483:5743?serial=OCPP809-0001"  # what --printer takes, first on the line
    assert first.endswith(f"  cups escpos809:{uri}")  # what lpadmin -v / a CUPS queue takes
    assert second.startswith("usb://1fc9:2016  (no name)") and second.endswith("  cups escpos809:usb://1fc9:2016")


def test_setip_without_an_address_is_a_usage_error(runner):
    res = runner.invoke(cli, ["setip"], prog_name="escpos809")
    assert res.exit_code == 2
    assert res.stderr == "escpos809: give the new IP address, or --dhcp (see escpos809 setip --help)\n"


def test_help_on_every_command(runner):
    for cmd in ["status", "beep", "cut", "drawer", "print", "usb-list"]:
        res = runner.invoke(cli, [cmd, "--help"])
        assert res.exit_code == 0 and "Usage:" in res.output


def test_print_exits_5_when_the_printer_never_confirms(tmp_path):
    prof = tmp_path / "quick.toml"
    prof.write_text('extends = "ocpp-809"\n[transport]\nconfirm_timeout_s = 0.3\n')
    with FakeTcpPrinter(confirms=False) as srv:
        res = run("print", "-", "--profile", str(prof), "--printer", f"tcp://127.0.0.1:{srv.port}", stdin=b"Hallo\n")
    err = res.stderr.decode()
    assert res.returncode == 5, err
    assert err.count("\n") == 1 and "did not confirm it within" in err and "may or may not have printed" in err


def test_print_no_confirm_and_unconfirmable_models(tmp_path):
    prof = tmp_path / "none.toml"
    prof.write_text('extends = "ocpp-809"\n[commands]\nconfirm = "none"\n')
    with FakeTcpPrinter(confirms=False) as srv:
        res = run("print", "-", "--no-confirm", "--printer", f"tcp://127.0.0.1:{srv.port}", stdin=b"Hallo\n")
        assert res.returncode == 0 and res.stderr == b""
        res = run("print", "-", "--profile", str(prof), "--printer", f"tcp://127.0.0.1:{srv.port}", stdin=b"Hallo\n")
        assert res.returncode == 0
        assert "not confirmed: the profile says this model cannot confirm" in res.stderr.decode()
    assert b"\x1dr" not in bytes(srv.received)


def test_print_of_hostile_json_is_one_line_exit_7(tmp_path):
    """The CLI reads receipts within the service's limits: no RecursionError traceback."""
    for name, blob in (("deep.json", b"[" * 100000), ("bigint.json", b'{"blocks": [' + b"9" * 5000 + b"]}")):
        f = tmp_path / name
        f.write_bytes(blob)
        res = run("print", str(f), "--printer", "memory://")
        err = res.stderr.decode()
        assert res.returncode == 7, err
        assert err.count("\n") == 1 and "Traceback" not in err and "is not JSON we take" in err
