import pytest

from escpos809.errors import ProfileError
from escpos809.profile import MAX_PROFILE_BYTES, builtin_profiles, load_profile


def test_builtin_profile_facts():
    p = load_profile()
    assert p.id == "ocpp-809" and "ocpp-809" in builtin_profiles()
    assert p.width_dots == 576 and p.dpi == 203 and p.speed_mm_s == 300
    assert (p.fonts["A"].width, p.fonts["A"].height) == (12, 24)
    assert (p.fonts["B"].width, p.fonts["B"].height) == (9, 17)
    assert p.columns("A") == 48 and p.columns("B") == 64
    assert p.columns("A", 2) == 24 and p.columns("B", 2) == 32
    assert p.codepages[19] == "cp858" and p.codepages[16] == "cp1252" and p.codepages[17] == "cp866"
    assert p.band_rows == 24 and p.qr_form == "epson"
    ids = {(u.vid, u.pid): u for u in p.usb_ids}
    assert ids[(0x0483, 0x5743)].out_ep == 0x02 and ids[(0x0483, 0x5743)].in_ep == 0x81
    assert ids[(0x0416, 0x5011)].out_ep == 0x03
    assert p.network["print_port"] == 9100 and p.network["status_port"] == 4000


def test_user_profile_extends_builtin(tmp_path):
    f = tmp_path / "narrow.toml"
    f.write_text(
        'extends = "ocpp-809"\n[model]\nid = "narrow"\n[paper]\nwidth_dots = 512\n'
        '[raster]\nband_rows = 32\n[commands]\nqr = "legacy"\n'
    )
    p = load_profile(str(f))
    assert p.id == "narrow" and p.width_dots == 512 and p.columns("A") == 42 and p.columns("B") == 56
    assert p.band_rows == 32 and p.qr_form == "legacy"
    assert p.codepages[19] == "cp858"  # inherited
    assert p.dpi == 203


@pytest.mark.parametrize(
    "body, message",
    [
        ('extends = "ocpp-809"\n[codepages]\ntable = { 99 = "no-such-codec" }\n', "unknown codec"),
        ('extends = "ocpp-809"\n[commands]\nqr = "star"\n', "commands.qr must be one of"),
        ('extends = "ocpp-809"\n[paper]\nwidth_dots = 570\n', "multiple of 8"),
        ('extends = "ocpp-809"\n[raster]\nband_rows = 0\n', "band_rows must be 1-2303"),
        ('[model]\nid = "x"\n', "missing or invalid entry"),
        ("this is = = not toml", "profile"),
        ('extends = "no-such-model"\n', "no built-in profile 'no-such-model'"),
    ],
)
def test_bad_profiles_are_reported(tmp_path, body, message):
    f = tmp_path / "bad.toml"
    f.write_text(body)
    with pytest.raises(ProfileError, match=message):
        load_profile(str(f))


def test_missing_profile_file():
    with pytest.raises(ProfileError, match="cannot read profile"):
        load_profile("/nonexistent/profile.toml")


def test_probe_written_profile_drops_pages_and_takes_image_qr(tmp_path):
    f = tmp_path / "probed.toml"
    f.write_text(
        'extends = "ocpp-809"\n[codepages]\nabsent = [19]\ntable = { 6 = "cp1251" }\n'
        'preferred = [16, 0, 6]\n[commands]\nqr = "image"\n'
    )
    p = load_profile(str(f))
    assert 19 not in p.codepages and p.codepages[6] == "cp1251" and p.codepages[16] == "cp1252"
    assert p.preferred_codepages == (16, 0, 6) and p.qr_form == "image"
    bad = tmp_path / "still-prefers-19.toml"  # (load_profile caches by path)
    bad.write_text('extends = "ocpp-809"\n[codepages]\nabsent = [19]\n')
    with pytest.raises(ProfileError, match=r"preferred code pages \[19\] not in the table"):
        load_profile(str(bad))


def test_image_qr_profile_sends_a_raster_not_gs_paren_k(tmp_path):
    from escpos809.document import QR, Document
    from escpos809.receipt import render

    f = tmp_path / "noqr.toml"
    f.write_text('extends = "ocpp-809"\n[commands]\nqr = "image"\n')
    data = render(Document((QR("https://example.com/r/1"),)), load_profile(str(f))).data
    assert b"\x1d(k" not in data and b"\x1dv0" in data
    assert b"\x1d(k" in render(Document((QR("https://example.com/r/1"),)), load_profile()).data


def test_a_profile_file_too_large_or_not_text_is_refused(tmp_path):
    big = tmp_path / "big.toml"
    big.write_bytes(b"#" * (MAX_PROFILE_BYTES + 1))  # a comment: read whole, it would parse
    with pytest.raises(ProfileError, match="larger than 1024 KiB"):
        load_profile(big)
    latin = tmp_path / "latin.toml"
    latin.write_bytes(b'extends = "ocpp-809"\n# caf\xe9\n')
    with pytest.raises(ProfileError, match="not UTF-8 text"):
        load_profile(latin)
