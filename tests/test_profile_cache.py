"""Built-in profiles kept as marshal files (``profiles/__pycache__``): the CUPS filter starts
once per job and must not parse TOML each time. The kept profile is the checked one; an
edited TOML file, a damaged or foreign cache file, or a folder nobody may write are all
taken in stride."""

from __future__ import annotations

import marshal
import os
import shutil
import subprocess
import sys
import threading

import pytest

from escpos809 import profile as P


@pytest.fixture
def builtin(tmp_path, monkeypatch):
    """A private copy of the built-in profiles, so the tests can edit and break them."""
    folder = tmp_path / "profiles"
    shutil.copytree(P.BUILTIN_DIR, folder, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(P, "BUILTIN_DIR", str(folder))
    monkeypatch.setattr(P, "_cache", {})
    return folder


def fresh(name: str = "ocpp-809") -> P.Profile:
    P._cache.clear()
    return P.load_profile(name)


def test_the_first_load_keeps_the_checked_profile_and_the_next_reads_it(builtin, monkeypatch):
    first = fresh()
    kept = builtin / "__pycache__" / f"ocpp-809.{sys.implementation.cache_tag}.profile"
    assert kept.is_file()

    def no_parsing(*args):
        raise AssertionError("parsed the TOML although the kept profile is current")

    monkeypatch.setattr(P, "_raw", no_parsing)
    again = fresh()
    assert again == first and again is not first
    assert again.fonts["A"] == P.Font("A", 12, 24) and again.usb_ids == first.usb_ids
    assert again.columns("B") == 64 and again.qr_form == "epson"


def test_an_edited_profile_is_read_again(builtin):
    fresh()
    toml = builtin / "ocpp-809.toml"
    toml.write_text(toml.read_text().replace("band_rows = 24", "band_rows = 32"))
    os.utime(toml, ns=(1, 1))  # even with an old time stamp: the size changed
    assert fresh().band_rows == 32


@pytest.mark.parametrize("damage", [b"", b"not marshal at all", b"\xe3" * 40])
def test_a_damaged_cache_file_is_ignored_and_replaced(builtin, damage):
    good = fresh()
    kept = next((builtin / "__pycache__").glob("ocpp-809.*.profile"))
    kept.write_bytes(damage)
    assert fresh() == good
    assert kept.read_bytes() != damage


def test_a_place_the_cache_cannot_go_only_costs_the_parse(builtin):
    (builtin / "__pycache__").write_text("a file where the folder would be")  # as a read-only install, for root too
    assert fresh().width_dots == 576 and fresh().band_rows == 24
    assert not list(builtin.glob("*.tmp")) and not list(builtin.glob("__pycache__*.tmp"))


def test_a_bad_builtin_is_refused_and_not_kept(builtin):
    toml = builtin / "ocpp-809.toml"
    toml.write_text(toml.read_text().replace("band_rows = 24", "band_rows = 0"))
    with pytest.raises(P.ProfileError, match="band_rows"):
        fresh()
    assert not list(builtin.glob("__pycache__/ocpp-809.*"))


def test_a_kept_profile_loads_without_the_toml_parser():
    P.load_profile()  # writes the kept file if this checkout has none yet (as cups install does)
    code = "import sys; from escpos809.profile import load_profile; load_profile(); print('tomllib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def _kept(builtin) -> tuple:
    fresh()
    kept = next((builtin / "__pycache__").glob("ocpp-809.*.profile"))
    return kept, marshal.loads(kept.read_bytes())


def _with(fields: tuple, at: int, value) -> tuple:
    return (*fields[:at], value, *fields[at + 1 :])


@pytest.mark.parametrize(
    "change",
    [
        lambda form, stamp, f: (form, stamp, _with(f, 2, "576")),  # right shape, wrong type
        lambda form, stamp, f: (form, stamp, _with(f, 2, 580)),  # a width no raster can have
        lambda form, stamp, f: (form, stamp, _with(f, 5, 7)),  # fonts no table: was a traceback
        lambda form, stamp, f: (form, stamp, _with(f, 8, {"0": "cp437"})),
        lambda form, stamp, f: (form, stamp, (*f, "one more")),  # another version's layout
        lambda form, stamp, f: (form, (), _with(f, 6, 32)),  # no stamp: would match any TOML
        lambda form, stamp, f: (form, stamp[1:], _with(f, 6, 32)),  # not kept by this module
        # kept by another version of this module (same TOML): its fields may mean other things
        lambda form, stamp, f: (form, ((stamp[0][0], 1, 1), *stamp[1:]), _with(f, 6, 32)),
    ],
    ids=[
        "str-width",
        "odd-width",
        "fonts-int",
        "str-codepage-key",
        "more-fields",
        "no-stamp",
        "no-module",
        "other-module",
    ],
)
def test_a_kept_file_is_trusted_only_as_this_version_wrote_it(builtin, change):
    good = fresh()
    kept, (form, stamp, fields) = _kept(builtin)
    kept.write_bytes(marshal.dumps(change(form, stamp, fields)))
    loaded = fresh()
    assert loaded == good and type(loaded.width_dots) is int


def _in_time(call, seconds: float = 20):
    done: list = []
    worker = threading.Thread(target=lambda: done.append(call()), daemon=True)
    worker.start()
    worker.join(seconds)
    assert done, "waited on a FIFO"
    return done[0]


def test_a_huge_kept_file_is_not_read(builtin, monkeypatch):
    good = fresh()
    kept = next((builtin / "__pycache__").glob("ocpp-809.*.profile"))
    kept.write_bytes(kept.read_bytes() + b"\0" * P.MAX_PROFILE_BYTES)  # marshal reads the head only

    loads: list[object] = []
    monkeypatch.setattr(marshal, "load", lambda f: loads.append(f) or (0, (), ()))
    assert fresh() == good
    assert loads == []  # a kept file larger than any profile is not unmarshalled


def test_a_fifo_where_the_kept_file_goes_holds_nothing_up(builtin):
    good = fresh()
    kept = next((builtin / "__pycache__").glob("ocpp-809.*.profile"))
    kept.unlink()
    os.mkfifo(kept)  # opened for reading, a FIFO waits for a writer that never comes
    assert _in_time(fresh) == good
    kept.unlink()
    os.mkfifo(f"{kept}.{os.getpid()}.tmp")  # the name this process writes its new file under
    assert _in_time(fresh) == good


def test_a_name_climbing_out_of_the_profiles_is_no_builtin(builtin, tmp_path):
    # a CUPS job names its profile (escpos809-profile=NAME): "../x" read x.toml outside the
    # package and kept its marshal file there, making the folders on the way
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    shutil.copy(builtin / "ocpp-809.toml", outside / "evil.toml")
    name = os.path.relpath(outside / "deeper" / "evil", builtin / "__pycache__")  # ../../elsewhere/deeper/evil
    with pytest.raises(P.ProfileError, match="no built-in profile"):
        fresh(name)
    with pytest.raises(P.ProfileError, match="no built-in profile"):
        fresh(os.path.relpath(outside / "evil", builtin))
    assert sorted(p.name for p in outside.iterdir()) == ["evil.toml"]
