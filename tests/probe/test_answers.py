"""Answers to the calibration sheet and what they make of a profile (no printer needed)."""

from __future__ import annotations

import os

import pytest

from escpos809.errors import ProfileError
from escpos809.probe import result, sheet
from escpos809.profile import load_profile, profile_from_text

LINES = sheet.plan(load_profile())


def _line(kind: str, **params) -> sheet.Line:
    return next(ln for ln in LINES if ln.kind == kind and all(ln.params.get(k) == v for k, v in params.items()))


def test_answers_take_lists_and_ranges():
    got = result.parse_answers(["1=yes,2-4=no", "5=Y", " 6 = n "], LINES)
    assert got == {1: True, 2: False, 3: False, 4: False, 5: True, 6: False}


@pytest.mark.parametrize("spec", ["1=maybe", "0=yes", f"{len(LINES) + 1}=no", "4-2=yes", "=yes", "1=", "a-b=yes"])
def test_bad_answers_name_the_item(spec):
    with pytest.raises(ValueError, match="expected N=yes|the sheet has lines"):
        result.parse_answers([spec], LINES)


def test_selection_for_a_group():
    group = [ln for ln in LINES if ln.kind == "band"]
    first = group[0].number
    assert result.parse_selection("all", group) == {ln.number: True for ln in group}
    assert result.parse_selection("none", group) == {ln.number: False for ln in group}
    picked = result.parse_selection(f"{first},{first + 2}-{first + 3}", group)
    assert [n for n, ok in picked.items() if ok] == [first, first + 2, first + 3]
    with pytest.raises(ValueError, match="not in this group"):
        result.parse_selection("1", group)


def test_no_answers_change_nothing():
    assert result.derive(LINES, {}, load_profile(), None) == {}


def test_derived_profile_loads_and_holds_only_the_differences():
    base = load_profile()
    answers = {
        _line("chinese").number: True,  # accents after ESC @: not in Chinese mode
        _line("codepage", n=19).number: False,  # no PC858
        _line("codepage", n=17, codec="cp866").number: False,
        _line("codepage", n=17, codec="cp1253").number: True,  # 17 is Greek here
        _line("qr", form="epson").number: False,
        _line("qr", form="legacy").number: True,
    }
    for ln in LINES:
        if ln.kind == "band":
            answers[ln.number] = ln.params["rows"] <= 64
    changes = result.derive(LINES, answers, base, None)
    assert changes["commands"] == {"chinese_mode_at_power_on": False, "qr": "legacy"}
    assert changes["codepages"]["absent"] == [19] and changes["codepages"]["table"] == {17: "cp1253"}
    assert changes["raster"] == {"band_rows": 64}
    p = profile_from_text(result.profile_text(changes, "ocpp-809", None, []))
    assert 19 not in p.codepages and p.codepages[17] == "cp1253" and p.codepages[16] == "cp1252"
    assert p.qr_form == "legacy" and p.band_rows == 64 and 19 not in p.preferred_codepages


def test_band_stops_at_the_first_broken_one():
    answers = {ln.number: ln.params["rows"] != 24 for ln in LINES if ln.kind == "band"}
    assert result.derive(LINES, answers, load_profile(), None)["raster"] == {"band_rows": 16}


def test_samples_tell_the_hypotheses_apart():
    for ln in (x for x in LINES if x.kind == "codepage"):
        for other in (x for x in LINES if x.kind == "codepage" and x.params["n"] == ln.params["n"] and x is not ln):
            wrong = ln.expect.encode(ln.params["codec"]).decode(other.params["codec"], "replace")
            assert all(a != b for a, b in zip(ln.expect, wrong, strict=True)), (ln, other)


def test_sheet_bytes_start_without_cancelling_chinese_mode():
    data = sheet.sheet_bytes(LINES)
    assert data.startswith(b"\x1b@") and not data.startswith(b"\x1b@\x1c.")
    line1 = data.index(b"01 ")
    assert data[line1 : line1 + 8] == b"01 \x82\x85\x87\x81\n"  # cp437 for éàçü
    assert data[line1 + 8 : line1 + 10] == b"\x1c."


def test_write_profile_replaces_only_a_profile_the_probe_wrote(tmp_path):
    out = tmp_path / "mine.toml"
    text = result.profile_text({"raster": {"band_rows": 64}}, "ocpp-809", None, [])
    result.write_profile(out, text)
    result.write_profile(out, text.replace("64", "32"))  # its own earlier profile: replaced
    assert "band_rows = 32" in out.read_text()
    notes = tmp_path / "notes.toml"
    notes.write_text("precious = true\n")
    with pytest.raises(ProfileError, match="not a profile the probe wrote"):
        result.write_profile(notes, text)
    assert notes.read_text() == "precious = true\n"
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    with pytest.raises(ProfileError, match="not a profile the probe wrote"):
        result.write_profile(fifo, text)  # refused without opening it (reading a FIFO waits forever)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo.toml", "mine.toml", "notes.toml"]  # no .tmp left


def test_write_profile_never_makes_a_profile_extend_itself(tmp_path):
    base = tmp_path / "base.toml"
    result.write_profile(base, result.profile_text({"raster": {"band_rows": 64}}, "ocpp-809", None, []))
    child = tmp_path / "child.toml"
    result.write_profile(child, result.profile_text({"raster": {"band_rows": 32}}, str(base), None, []))
    # probing again from child.toml (which extends base.toml) and writing over either of them
    # would make the file extend itself: a profile nothing can load
    for target in (base, child):
        with pytest.raises(ProfileError, match="extends this file"):
            result.write_profile(target, result.profile_text({}, str(child), None, []))
    assert load_profile(str(child)).band_rows == 32


def test_a_base_path_with_any_characters_is_written_as_toml(tmp_path):
    # a folder named with a tab, a newline, quotes and DEL: the extends line was broken TOML
    # (refused, so no profile could be written from such a base)
    folder = tmp_path / 'we\tird\n"dir"\\\x7f'
    folder.mkdir()
    base = folder / "base.toml"
    result.write_profile(base, result.profile_text({"raster": {"band_rows": 64}}, "ocpp-809", None, []))
    child = folder / "child.toml"
    result.write_profile(child, result.profile_text({"raster": {"band_rows": 32}}, str(base), None, []))
    assert load_profile(str(child)).band_rows == 32
