"""§12 network configuration and UDP discovery packets, from the reference's hex."""

import pytest

from escpos809.errors import InvalidData
from escpos809.escpos import vendor
from tests.conftest import h


def test_set_ip_family_command():
    # §12: 1F1B1F91004950C0A81364 = 192.168.19.100
    assert vendor.set_ip("192.168.19.100") == h("1F 1B 1F 91 00 49 50 C0 A8 13 64")
    assert vendor.set_ip("192.168.1.50") == h("1F 1B 1F 91 00 49 50 C0 A8 01 32")


def test_set_network_all_is_21_bytes():
    out = vendor.set_network_all("192.168.1.50", "255.255.255.0", "192.168.1.1", dhcp=False)
    assert out == h("1F 1B 1F 91 00 49 FA 00 5A C0 A8 01 32 FF FF FF 00 C0 A8 01 01")
    assert len(out) == 21
    assert vendor.set_network_all("10.0.0.5", "255.0.0.0", "10.0.0.1", dhcp=True)[7] == 0x01


def test_other_variants():
    assert vendor.set_ip_short("192.168.1.50") == h("1F 1B 1F 22 C0 A8 01 32")
    assert vendor.set_mask("255.255.255.0") == h("1F 1B 1F B0 FF FF FF 00")
    assert vendor.set_gateway("192.168.1.1") == h("1F 1B 1F B1 C0 A8 01 01")


@pytest.mark.parametrize("bad", ["192.168.1.256", "1.2.3", "printer.local", "", "::1"])
def test_bad_addresses_are_refused(bad):
    with pytest.raises(InvalidData, match="is not an IPv4 address"):
        vendor.set_ip(bad)


def test_discovery_request_bytes():
    assert vendor.discovery_request() == h("58 50 30 30 30 31 46 49 4E 44")


def test_found_reply_offsets():
    s = vendor.NetSettings("00:11:22:AA:BB:CC", "192.168.1.50", "255.255.255.0", "192.168.1.1", True)
    pkt = vendor.discovery_reply(s)
    assert pkt[0:11] == h("58 50 30 30 30 31 46 4F 55 4E 44")
    assert pkt[11:17] == h("00 11 22 AA BB CC")
    assert pkt[19:23] == h("C0 A8 01 32")
    assert pkt[23:27] == h("FF FF FF 00")
    assert pkt[27:31] == h("C0 A8 01 01")
    assert pkt[33] == 1
    assert vendor.parse_discovery_reply(pkt) == s


def test_save_packet_offsets():
    s = vendor.NetSettings("00:11:22:AA:BB:CC", "10.1.2.3", "255.255.0.0", "10.1.0.1", False)
    pkt = vendor.save_request(s)
    assert pkt[0:10] == h("58 50 30 30 30 31 53 41 56 45")
    assert pkt[10:16] == h("00 11 22 AA BB CC")
    assert pkt[16:18] == h("22 00")
    assert pkt[18:22] == h("0A 01 02 03")
    assert pkt[22:26] == h("FF FF 00 00")
    assert pkt[26:30] == h("0A 01 00 01")
    assert pkt[30:32] == h("8C 17")
    assert pkt[32] == 0 and len(pkt) == 33
    assert vendor.parse_save_request(pkt) == s


def test_garbage_packets_rejected():
    with pytest.raises(InvalidData, match="not an XP0001FOUND reply"):
        vendor.parse_discovery_reply(b"XP0001FOUND\x00")
    with pytest.raises(InvalidData, match="not an XP0001SAVE packet"):
        vendor.parse_save_request(b"hello")
    with pytest.raises(InvalidData, match="six hex octets"):
        vendor.save_request(vendor.NetSettings("00:11", "1.2.3.4", "255.0.0.0", "1.0.0.1", False))
