"""``escpos809 probe`` against every firmware variant of the virtual printer, over TCP: the
answers a person would give are read off the printed sheet; the written profile must recover
the variant's settings, and the demo receipt and an OCPP receipt must then print right."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from escpos809.demo import QR_URL
from escpos809.emulator.firmware import builtin_firmware, load_firmware
from escpos809.probe import sheet
from escpos809.profile import load_profile
from tests.emulator.emulate import emulate

from .paper import answer_flags, cli, codes_in, dots, jobs, judge, new_job, texts

MIXED = "Grüße 12,50 € Привет שלום"
OCPP_SESSION = Path(__file__).parent.parent / "data" / "ocpp" / "v201-session.jsonl"


@pytest.fixture(scope="module", params=builtin_firmware())
def variant(request, tmp_path_factory):
    """(firmware name, print URI, discovery port, paper folder) of a running virtual printer."""
    out = tmp_path_factory.mktemp(f"fw-{request.param}")
    proc = emulate(out, "--firmware", request.param, "--discovery-port", "0")
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first.startswith("virtual OCPP-809 printing on tcp://"), first + proc.stderr.read() if proc.stderr else ""
    uri = first.split()[4]
    discovery = proc.stdout.readline().split()[1].rsplit(":", 1)[1]
    yield request.param, uri, discovery, out
    proc.terminate()
    proc.wait(10)


def _probe_and_answer(variant, tmp_path: Path) -> tuple[Path, str]:
    name, uri, discovery, out = variant
    before = jobs(out)
    first = cli("probe", "--printer", uri, "--discovery-port", discovery, "--status-port", "-1", "--timeout", "0.5")
    assert first.returncode == 0, first.stderr
    folder, j = new_job(out, before)
    lines = sheet.plan(load_profile())
    verdict = judge(folder, j, lines)
    written = tmp_path / f"{name}.toml"
    second = cli(
        "probe", "--printer", uri, "--no-sheet", "--status-port", "-1", "--discovery-port", "-1", "--timeout", "0.5",
        *answer_flags(verdict), "--write-profile", str(written),
    )  # fmt: skip
    assert second.returncode == 0, second.stderr
    return written, first.stdout + second.stdout


def test_probe_recovers_the_variant_and_receipts_print_right(variant, tmp_path):
    name, uri, _, out = variant
    fw = load_firmware(name)
    written, report = _probe_and_answer(variant, tmp_path)
    assert 'extends = "ocpp-809"' in written.read_text()
    prof = load_profile(str(written))
    base = load_profile()

    # status answers, seen by the automatic part
    assert ("GS r 1: 0x00" in report) == fw.answers_to("gs-r")
    assert prof.commands.get("confirm", "gs-r") == ("gs-r" if fw.answers_to("gs-r") else "none")
    assert ("ESC v on the print port: 10 00 00 0f" in report) == fw.answers_to("esc-v")
    if fw.answers_to("gs-i"):
        assert f"maker '{fw.ids.get('maker', 'OCOM')}'" in report  # the variant's, or the built-in
    else:
        assert "GS I: no reply" in report
    assert "network (XP0001FIND): MAC 00:2E:80:09:00:01, IP 127.0.0.1" in report

    # what the sheet showed
    assert prof.commands.get("chinese_mode_at_power_on", True) == fw.chinese_at_power_on
    hyps: dict[int, set[str]] = {}
    for n, codec in sheet.codepage_hypotheses(base):
        hyps.setdefault(n, set()).add(codec)
    for n, codecs in hyps.items():
        truth = fw.codepages.get(n)
        assert prof.codepages.get(n) == (truth if truth in codecs else None), (n, prof.codepages.get(n), truth)
    expected_qr = next((f for f in ("epson", "legacy") if f in fw.qr_forms), "image")
    assert prof.qr_form == expected_qr
    assert prof.band_rows == max(r for r in sheet.BAND_ROWS if r <= fw.max_band_rows)
    assert prof.commands.get("full_cut", True) == (fw.cut_mode("gs_v_full", "full") == "full")

    # the demo receipt with the written profile: euro signs as euro signs, the QR code readable
    before = jobs(out)
    demo = cli("demo", "--printer", uri, "--profile", str(written))
    assert demo.returncode == 0, demo.stderr
    folder, j = new_job(out, before)
    assert "€" in texts(j) and "?" not in texts(j).replace("?s=", ""), texts(j)
    assert QR_URL in codes_in(dots(folder, j))

    # an OCPP charging receipt, the profile taken from the configuration (as the service does)
    before = jobs(out)
    replay = cli("ocpp", "replay", str(OCPP_SESSION), "--printer", uri, env={"ESCPOS809_PROFILE": str(written)})
    assert replay.returncode == 0, replay.stderr
    folder, j = new_job(out, before)
    # (delivered, and confirmed where the unit answers GS r: "none" in the profile otherwise)
    assert re.search(r"TOTAL +4\.70 EUR", texts(j)) and "Thank you!" in texts(j), texts(j)
    assert "?" not in texts(j)

    # text in several scripts: right with the written profile; with the default profile only on
    # the default firmware (sprt: ESC t 17 is Greek, 32 Turkish; epson: 32 is Arabic; zjiang: no 19)
    note = tmp_path / "note.txt"
    note.write_text(MIXED + "\n", "utf-8")
    for profile, right in ((str(written), True), ("ocpp-809", name == "default")):
        before = jobs(out)
        r = cli("print", str(note), "--printer", uri, "--profile", profile, "--no-confirm", "--no-cut")
        assert r.returncode == 0, r.stderr
        printed = texts(new_job(out, before)[1])
        assert (MIXED in printed) == right, (profile, printed)

    # the default profile on a variant that differs: the same receipt does not print right
    if name == "zjiang":
        before = jobs(out)
        demo = cli("demo", "--printer", uri)
        folder, j = new_job(out, before)
        assert "€" not in texts(j)
        assert QR_URL not in codes_in(dots(folder, j))


def test_silent_printer_is_a_timeout(tmp_path):
    proc = emulate(tmp_path, "--silent")
    try:
        assert proc.stdout is not None
        uri = proc.stdout.readline().split()[4]
        quiet = ("--status-port", "-1", "--discovery-port", "-1")
        r = cli("probe", "--printer", uri, "--batch", "--timeout", "0.2", *quiet)
        assert r.returncode == 5
        assert r.stderr.count("\n") == 1 and "no reply to DLE EOT 1-4, GS r 1 or ESC v" in r.stderr
    finally:
        proc.terminate()
        proc.wait(10)


def test_unreachable_printer_is_not_found():
    r = cli("probe", "--printer", "tcp://127.0.0.1:9", "--batch")
    assert r.returncode == 3
    assert r.stderr.count("\n") == 1 and "connection refused" in r.stderr


@pytest.mark.parametrize("spec", ["3=maybe", "0=yes", "999=no", "5-2=yes", "x"])
def test_bad_answer_is_a_usage_error(spec):
    r = cli("probe", "--printer", "tcp://127.0.0.1:9", "--answer", spec)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("escpos809: ") and "--answer" in r.stderr


def test_batch_prints_nothing(variant):
    _, uri, _, out = variant
    before = jobs(out)
    r = cli("probe", "--printer", uri, "--batch", "--status-port", "-1", "--discovery-port", "-1")
    assert r.returncode == 0, r.stderr
    assert "calibration sheet" not in r.stdout
    try:
        folder, j = new_job(out, before, timeout=3)
    except AssertionError:
        return  # status traffic only: no job at all
    assert not any(op["kind"] in ("text", "raster", "qr", "barcode", "cut") for op in j["ops"])
