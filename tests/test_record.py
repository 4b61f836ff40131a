"""``Record``, the dataclass stand-in of the modules a CUPS job loads: fields by position or
name, all required, equal by value, read-only like the frozen dataclasses it replaced."""

import pytest

from escpos809.cups.options import Choice
from escpos809.escpos.vendor import NetSettings
from escpos809.profile import Font, load_profile


def test_fields_by_position_or_name_all_required():
    assert Choice("Full", "Full cut", 1) == Choice(name="Full", text="Full cut", value=1)
    assert repr(Font("A", 12, 24)) == "Font(name='A', width=12, height=24)"
    with pytest.raises(TypeError, match="missing \\['value'\\]"):
        Choice("Full", "Full cut")
    with pytest.raises(TypeError, match="given twice"):
        Choice("Full", "Full cut", 1, name="Partial")
    with pytest.raises(TypeError, match="takes 3 fields"):
        Choice("Full", "Full cut", 1, 2)
    with pytest.raises(TypeError, match="unknown \\['colour'\\]"):
        Choice("Full", "Full cut", value=1, colour="red")


def test_equal_by_value_and_hashable_when_the_values_are():
    a = NetSettings("00:11:22:33:44:55", "10.0.0.2", "255.0.0.0", "10.0.0.1", False)
    b = NetSettings("00:11:22:33:44:55", "10.0.0.2", "255.0.0.0", "10.0.0.1", False)
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != NetSettings("00:11:22:33:44:55", "10.0.0.3", "255.0.0.0", "10.0.0.1", False)
    assert Font("A", 12, 24) != Choice("A", 12, 24)  # another record with the same values


def test_read_only_like_a_frozen_dataclass():
    profile = load_profile()
    with pytest.raises(AttributeError, match="read-only"):
        profile.band_rows = 32
    with pytest.raises(AttributeError, match="read-only"):
        del profile.fonts["A"].width
    assert profile.band_rows == 24
