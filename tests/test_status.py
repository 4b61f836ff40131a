"""DLE EOT decoding against the bit tables of §11, plus property tests."""

from hypothesis import given
from hypothesis import strategies as st

from escpos809.escpos.status import decode, decode_asb, is_status_byte

IDLE = 0x12  # bits 1 and 4 always set: idle/OK


def test_idle_printer_is_ready():
    s = decode({1: IDLE, 2: IDLE, 3: IDLE, 4: IDLE})
    assert s.known and s.ready and s.online and s.problems() == []


def test_bits_of_each_request():
    assert decode({1: IDLE | 0x08}).online is False
    assert decode({1: IDLE | 0x04}).drawer_pin3_high is True
    s2 = decode({1: IDLE | 0x08, 2: IDLE | 0x04})
    assert s2.cover_open and "cover open" in s2.problems() and not s2.ready
    assert decode({1: IDLE, 2: IDLE | 0x08}).feed_button
    assert decode({1: IDLE, 2: IDLE | 0x20}).paper_end_stop
    assert decode({1: IDLE, 2: IDLE | 0x40}).error
    s3 = decode({1: IDLE, 3: IDLE | 0x08})
    assert s3.cutter_error and "cutter error" in s3.problems()
    assert decode({1: IDLE, 3: IDLE | 0x04}).mechanical_error
    assert decode({1: IDLE, 3: IDLE | 0x20}).unrecoverable_error
    assert decode({1: IDLE, 3: IDLE | 0x40}).autorecoverable_error
    near = decode({1: IDLE, 4: IDLE | 0x0C})
    assert near.paper_near_end and not near.paper_end and near.ready and near.warnings() == ["paper near end"]
    out = decode({1: IDLE, 4: IDLE | 0x60})
    assert out.paper_end and not out.ready and "paper out" in out.problems()


def test_silence_is_unknown_never_ok():
    s = decode({})
    assert not s.known and not s.ready and s.online is None
    assert s.problems() == ["status unknown: no reply to DLE EOT 1"]


def test_non_status_byte_is_unknown():
    s = decode({1: 0x41})  # an 'A' from a stale echo is not a status reply
    assert not s.known and "0x41" in s.reason


def test_asb_bytes():
    ok = decode_asb(bytes([0x10, 0x00, 0x00, 0x0F]))
    assert ok.known and ok.ready
    bad = decode_asb(bytes([0x10 | 0x08 | 0x20, 0x08, 0x0C, 0x0F]))
    assert bad.cover_open and bad.cutter_error and bad.paper_end and not bad.online
    assert not decode_asb(b"\x10\x00").known
    assert not decode_asb(b"\xff\xff\xff\xff").known


status_bytes = st.integers(0, 255).map(lambda b: (b & ~0x93) | 0x12)


@given(st.dictionaries(st.sampled_from([1, 2, 3, 4]), st.integers(0, 255)))
def test_any_reply_decodes_without_error_and_is_consistent(replies):
    s = decode(replies)
    valid = 1 in replies and all(is_status_byte(b) for b in replies.values())
    assert s.known == valid
    if not s.known:
        assert not s.ready and s.reason
    assert s.ready == (s.known and s.problems() == [] and s.online is True)


@given(status_bytes, status_bytes, status_bytes, status_bytes)
def test_flags_follow_bits(b1, b2, b3, b4):
    s = decode({1: b1, 2: b2, 3: b3, 4: b4})
    assert s.known
    assert s.online == (not b1 & 0x08)
    assert s.cover_open == bool(b2 & 0x04)
    assert s.cutter_error == bool(b3 & 0x08)
    assert s.paper_end == bool(b4 & 0x60)
    assert s.paper_near_end == bool(b4 & 0x0C)
    assert s.to_dict()["ready"] == s.ready
