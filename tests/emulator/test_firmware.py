"""Firmware variants in the interpreter: each hook against bytes from the command reference."""

from __future__ import annotations

import pytest

from escpos809.emulator.firmware import builtin_firmware, firmware_from_dict, load_firmware
from escpos809.emulator.interpreter import Interpreter
from escpos809.errors import ProfileError
from tests.conftest import h


def _run(name: str, data: bytes) -> tuple[list, bytes]:
    replies: list[bytes] = []
    it = Interpreter(firmware=load_firmware(name), reply=replies.append)
    it.feed(data)
    it.finish()
    return it.ops, b"".join(replies)


def test_builtin_variants_load():
    assert {"default", "sprt", "epson", "zjiang"} <= set(builtin_firmware())
    for name in builtin_firmware():
        assert load_firmware(name).id == name


@pytest.mark.parametrize(
    "name, request_hex, reply_hex",
    [
        ("sprt", "1D 49 01", "20"),
        ("sprt", "1D 49 42", "5F 57 48 4B 4A 00"),  # "WHKJ"
        ("sprt", "1D 72 01", "00"),
        ("sprt", "1B 76", "10 00 00 0F"),
        ("zjiang", "1D 49 01", ""),
        ("zjiang", "1D 72 01", ""),
        ("zjiang", "1B 76", ""),
        ("zjiang", "10 04 01", "12"),
    ],
)
def test_status_answers(name, request_hex, reply_hex):
    assert _run(name, h(request_hex))[1] == h(reply_hex)


def test_chinese_mode_at_power_on_and_after_esc_at():
    # cp437 é à: a GB18030 pair in Chinese mode
    assert _run("default", h("1B 40 82 85 0A"))[0][-1].text != "éà"
    assert _run("epson", h("1B 40 82 85 0A"))[0][-1].text == "éà"
    assert _run("epson", h("82 85 0A"))[0][-1].text == "éà"


def test_code_page_numbering():
    euro = h("1B 74 13 D5 0A")  # ESC t 19, 0xD5 = € in PC858
    assert _run("default", h("1C 2E") + euro)[0][-1].text == "€"
    assert _run("zjiang", h("1C 2E") + euro)[0][-1].text == "?"
    greek = h("1C 2E 1B 74 11 C1 0A")  # ESC t 17, 0xC1: Α in WCP1253, ┴ in PC866
    assert _run("sprt", greek)[0][-1].text == "Α"
    assert _run("default", greek)[0][-1].text == "┴"


def test_qr_forms():
    epson = h("1D 28 6B 06 00 31 50 30 41 42 43 1D 28 6B 03 00 31 51 30")
    legacy = h("1D 28 6B 30 80 03 00 41 42 43 1D 28 6B 30 81")
    kinds = lambda name, data: [op.kind for op in _run(name, data)[0]]  # noqa: E731
    assert "qr" in kinds("default", epson) and "qr" in kinds("default", legacy)
    assert "qr" in kinds("sprt", epson) and "qr" not in kinds("sprt", legacy)
    assert "qr" not in kinds("zjiang", epson) and "qr" not in kinds("zjiang", legacy)


def test_tall_band_is_cut_short_and_the_rest_read_past():
    band = h("1D 76 30 00 01 00 40 00") + b"\xff" * 64 + b"ok\n"  # 64 rows, 1 byte wide
    ops = _run("zjiang", band)[0]
    raster = next(op for op in ops if op.kind == "raster")
    assert raster.args["rows"] == 32 and ops[-1].text == "ok"
    assert next(op for op in _run("default", band)[0] if op.kind == "raster").args["rows"] == 64


def test_cut_forms():
    full = h("1D 56 41 00")
    assert [op.args["mode"] for op in _run("default", full)[0] if op.kind == "cut"] == ["full"]
    assert [op.args["mode"] for op in _run("zjiang", full)[0] if op.kind == "cut"] == ["partial"]
    assert [op.args["mode"] for op in _run("epson", h("1B 69"))[0] if op.kind == "cut"] == ["full"]
    assert [op.args["mode"] for op in _run("default", h("1B 69"))[0] if op.kind == "cut"] == ["partial"]


@pytest.mark.parametrize(
    "data, message",
    [
        ({}, "firmware.id: missing"),
        ({"firmware": {"id": "x"}, "qr": {"forms": ["star"]}}, "qr.forms: unknown .star."),
        ({"firmware": {"id": "x"}, "status": {"answers": ["gs-q"]}}, "status.answers: unknown .gs-q."),
        ({"firmware": {"id": "x"}, "cut": {"gs_v_full": "half"}}, "cut.gs_v_full: unknown .half."),
        ({"firmware": {"id": "x"}, "raster": {"max_band_rows": 0}}, "max_band_rows"),
        (
            {"firmware": {"id": "x"}, "codepages": {"table": {"3": "no-codec"}}},
            "codepages.table.3: .no-codec. is no single-byte",
        ),
        ({"firmware": {"id": "x"}, "codepages": {"base": "star"}}, "codepages.base"),
        # each was taken before: a string read as true, a float cut down, a typo as the default,
        # a two-byte codec for a page, an id the GS I handler then choked on (ValueError)
        ({"firmware": {"id": "x"}, "codepages": {"chinese_at_power_on": "no"}}, "chinese_at_power_on: must be true"),
        ({"firmware": {"id": "x"}, "barcodes": {"gs1_databar": "false"}}, "gs1_databar: must be true or false"),
        ({"firmware": {"id": "x"}, "raster": {"max_band_rows": 31.9}}, "max_band_rows: must be an integer"),
        ({"firmware": {"id": "x"}, "raster": {"max_band_row": 8}}, "raster.max_band_row: unknown key"),
        ({"firmware": {"id": "x"}, "statuss": {"answers": []}}, "statuss: unknown table"),
        ({"firmware": {"id": "x"}, "qr": {"forms": "epson"}}, "qr.forms: must be an array"),
        ({"firmware": {"id": "x"}, "codepages": {"table": {"0": "utf-16"}}}, "codepages.table.0: 'utf-16' is no"),
        ({"firmware": {"id": "x"}, "codepages": {"table": {"0": "gb18030"}}}, "codepages.table.0: 'gb18030' is no"),
        ({"firmware": {"id": "x"}, "codepages": {"table": {"256": "cp437"}}}, "codepages.table.256: '256' is no ESC t"),
        ({"firmware": {"id": "x"}, "codepages": {"absent": ["x"]}}, "codepages.absent: 'x' is no ESC t"),
        ({"firmware": {"id": "x"}, "ids": {"model": "abc"}}, "ids.model: must be an integer"),
        ({"firmware": {"id": "x"}, "ids": {"model": 300}}, "ids.model: 300 is not one byte"),
        ({"firmware": {"id": "x"}, "ids": {"maker": "A\x00B"}}, "ids.maker: must be printable ASCII"),
        ({"firmware": {"id": "x"}, "ids": {"maker": "A" * 100_000}}, "ids.maker: must be printable ASCII"),
        ({"firmware": "x"}, "firmware: must be a table"),
    ],
)
def test_bad_firmware_is_reported(data, message):
    with pytest.raises(ProfileError, match=message):
        firmware_from_dict(data, "x")


def test_unknown_variant():
    with pytest.raises(ProfileError, match="no firmware variant 'nope'; built-in: default"):
        load_firmware("nope")


def test_gs1_databar_only_where_the_variant_has_it():
    databar = h("1D 77 03 1D 6B 4B 0D") + b"0950110153000"  # GS k 75, 13 digits
    assert "barcode" not in [op.kind for op in _run("default", databar)[0]]
    bars = [op for op in _run("epson", databar)[0] if op.kind == "barcode"]
    assert [op.args["type"] for op in bars] == ["databar"]


def test_emulate_lists_and_refuses_variants():
    from tests.probe.paper import cli

    listed = cli("emulate", "--list-firmware")
    assert listed.returncode == 0 and [ln.split()[0] for ln in listed.stdout.splitlines()] == builtin_firmware()
    bad = cli("emulate", "--firmware", "nope", "--port", "0")
    assert bad.returncode == 7
    assert bad.stderr == "escpos809: no firmware variant 'nope'; built-in: default, epson, sprt, zjiang\n"
