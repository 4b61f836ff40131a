"""setip / discover end to end against the virtual printer, on loopback only."""

import os
import subprocess
import sys
import time

import pytest

from escpos809 import netconfig
from escpos809.emulator import VirtualPrinter
from escpos809.errors import InvalidData

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def cli(*args):
    env = {**os.environ, "ESCPOS809_CONFIG": "/nonexistent.toml"}
    return subprocess.run(
        [sys.executable, "-m", "escpos809.cli", *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60
    )


@pytest.fixture
def vp(tmp_path):
    with VirtualPrinter(tmp_path / "paper", discovery_port=0, reboot_s=0.2) as printer:
        yield printer


def test_setip_rebinds_and_is_verified(vp):
    res = cli("setip", "127.0.0.2", "--printer", vp.uri, "--port", str(vp.port), "--wait", "10")
    assert res.returncode == 0, res.stderr
    assert f"printer answers on tcp://127.0.0.2:{vp.port}" in res.stdout
    assert "gateway" in res.stderr  # the firmware's gateway/DHCP warning
    assert vp.network.ip == "127.0.0.2" and vp.network.gateway == "127.0.0.1" and not vp.network.dhcp
    job = next(j for j in vp.jobs if any(op.kind == "network" for op in j.ops))
    assert job.ops[0].kind == "network" and job.ops[-1].kind == "cut"  # settings slip, then cut


def test_setip_netall_with_mask_and_gateway_via_address_map(tmp_path):
    with VirtualPrinter(tmp_path / "p", address_map={"192.168.50.20": "127.0.0.3"}, reboot_s=0.1) as vp:
        plan = netconfig.plan("192.168.50.20", "255.255.255.0", "192.168.50.254", method="xp-netall")
        from escpos809.printer import Printer

        with Printer(vp.uri) as p:
            p.send(netconfig.command_bytes(plan))
        assert netconfig.wait_for_port("127.0.0.3", vp.port, 5) is not None
        n = vp.network
        assert (n.ip, n.mask, n.gateway) == ("192.168.50.20", "255.255.255.0", "192.168.50.254")


def test_discover_lists_the_printer(vp):
    res = cli("discover", "--target", "127.0.0.1", "--port", str(vp.discovery_port), "--timeout", "0.5")
    assert res.returncode == 0, res.stderr
    assert vp.network.mac in res.stdout and vp.network.ip in res.stdout


def test_discover_nothing_answers():
    res = cli("discover", "--target", "127.0.0.1", "--port", "9", "--timeout", "0.3")
    assert res.returncode == 3 and "no printers answered" in res.stderr


def test_setip_by_udp_save(vp):
    res = cli(
        "setip",
        "127.0.0.4",
        "--method",
        "xp-udp",
        "--mask",
        "255.0.0.0",
        "--gateway",
        "127.0.0.1",
        "--udp-target",
        "127.0.0.1",
        "--udp-port",
        str(vp.discovery_port),
        "--port",
        str(vp.port),
        "--wait",
        "10",
    )
    assert res.returncode == 0, res.stderr
    assert "sent XP0001SAVE to " + vp.network.mac in res.stdout
    assert vp.network.ip == "127.0.0.4" and vp.network.mask == "255.0.0.0"


@pytest.mark.parametrize(
    "args, message",
    [
        (["192.168.1.0"], "is the network address of 192.168.1.0/24"),
        (["192.168.1.255"], "is the broadcast address"),
        (["192.168.1.50", "--method", "xp-netall", "--gateway", "10.0.0.1"], "outside the printer's subnet"),
        (["192.168.1.50", "--dhcp", "--method", "xp-netall"], "--dhcp takes no static address"),
        (["192.168.1.500"], "is not an IPv4 address"),
        (["192.168.1.50", "--mask", "255.0.255.0", "--method", "xp-netall"], "not a valid netmask"),
        (["192.168.1.50", "--gateway", "192.168.1.1"], "sets the IP only"),
        (["224.0.0.5"], "multicast"),
    ],
)
def test_bad_input_refused_before_anything_is_sent(vp, args, message):
    res = cli("setip", *args, "--printer", vp.uri, "--wait", "1")
    assert res.returncode == 7, res.stdout + res.stderr
    assert message in res.stderr and res.stderr.count("\n") == 1
    time.sleep(0.2)
    assert vp.jobs == []  # nothing reached the printer


def test_setip_reports_a_printer_that_does_not_come_back_in_time(vp):
    vp.reboot_s = 5  # a slow reboot; the check gives up first (loopback only)
    res = cli("setip", "127.0.0.5", "--printer", vp.uri, "--port", str(vp.port), "--wait", "0.5")
    assert res.returncode == 4 and "did not answer on 127.0.0.5" in res.stderr


def test_plan_unit_rules():
    p = netconfig.plan("192.168.1.50")
    assert p.method == "91ip" and any("a.b.c.1" in w or "192.168.1.1" in w for w in p.warnings)
    with pytest.raises(InvalidData, match="give the new IP address"):
        netconfig.plan(None)
    d = netconfig.plan(None, dhcp=True, method="xp-netall")
    assert netconfig.command_bytes(d)[7] == 1
