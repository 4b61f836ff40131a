"""`escpos809 print` for receipts, images and QR codes, and `escpos809 preview`, as processes."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
zxingcpp = pytest.importorskip("zxingcpp")


def cli(*args, env=None):
    e = {**os.environ, "ESCPOS809_CONFIG": "/nonexistent.toml", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "escpos809.cli", *args], capture_output=True, text=True, env=e, cwd=ROOT, timeout=60
    )


def test_preview_writes_the_png(tmp_path):
    out = tmp_path / "r.png"
    res = cli("preview", "examples/charging-session.json", "-o", str(out))
    assert res.returncode == 0 and res.stdout.strip() == str(out)
    found = {r.text for r in zxingcpp.read_barcodes(Image.open(out))}
    assert "https://charge.example.com/r/2024/000123?s=ABCDEFGHJKLMNPQRS" in found


def test_template_receipt_to_the_virtual_printer(tmp_path):
    res = cli(
        "print",
        "examples/restaurant.json",
        "--data",
        "examples/restaurant.data.json",
        "--printer",
        "virtual://t",
        env={"ESCPOS809_PAPER_DIR": str(tmp_path)},
    )
    assert res.returncode == 0, res.stderr
    log = json.loads((tmp_path / "t" / "job-0001" / "job.json").read_text())
    texts = [op["text"] for op in log["ops"] if op["kind"] == "text"]
    assert "Table 12 · Server Giulia" in texts and any("Tiramisù" in t for t in texts)


def test_print_image_and_qr(tmp_path):
    env = {"ESCPOS809_PAPER_DIR": str(tmp_path)}
    assert cli("print", "examples/logo.png", "--printer", "virtual://i", env=env).returncode == 0
    log = json.loads((tmp_path / "i" / "job-0001" / "job.json").read_text())
    assert [op["kind"] for op in log["ops"]].count("raster") == 3  # 64 rows in 24-row bands
    res = cli("print", "--qr", "HELLO-809", "--printer", "virtual://q", env=env)
    assert res.returncode == 0
    page = Path(res.stdout.splitlines()[0].split("printed ", 1)[1])
    assert "HELLO-809" in {r.text for r in zxingcpp.read_barcodes(Image.open(page))}


@pytest.mark.parametrize(
    "doc, message",
    [
        ('{"blocks": [{"type": "text", "text": 5}]}', "blocks/0/text: 5 is not of type 'string'"),
        (
            '{"blocks": [{"type": "qr", "data": "x", "size": 40}]}',
            "blocks/0/size: 40 is greater than the maximum of 16",
        ),
        ('{"blocks": [', "is not JSON"),
    ],
)
def test_invalid_receipt_is_one_line_with_the_path(tmp_path, doc, message):
    f = tmp_path / "bad.json"
    f.write_text(doc)
    res = cli("print", str(f), "--printer", "memory://")
    assert res.returncode == 7 and message in res.stderr and res.stderr.count("\n") == 1


def test_missing_template_field(tmp_path):
    data = tmp_path / "d.json"
    data.write_text('{"table": "1"}')
    res = cli("preview", "examples/restaurant.json", "--data", str(data), "-o", str(tmp_path / "x.png"))
    assert res.returncode == 7 and "blocks/1/text: no value for {server}" in res.stderr


def test_bad_image_file(tmp_path):
    f = tmp_path / "x.png"
    f.write_bytes(b"not a png")
    res = cli("print", str(f), "--printer", "memory://")
    assert res.returncode == 7 and "cannot read image" in res.stderr


@pytest.mark.parametrize("command, option", [("print", "--printer=memory://"), ("preview", "--output=x.png")])
def test_template_without_data_says_so_in_one_line(tmp_path, command, option):
    res = cli(command, "examples/restaurant.json", option.replace("x.png", str(tmp_path / "x.png")))
    assert res.returncode == 2, res.stderr
    assert (
        res.stderr.count("\n") == 1
        and "is a template ({table}, {server}, repeat items, …): pass --data FILE" in res.stderr
    )
    assert not (tmp_path / "x.png").exists()


def test_placeholders_of_a_template():
    from escpos809.template import placeholders

    assert placeholders(json.loads((ROOT / "examples" / "restaurant.json").read_text())) == [
        "{table}",
        "{server}",
        "repeat items",
        "{item.qty}",
        "{item.name}",
        "{item.total}",
        "{subtotal}",
        "{service}",
        "{total}",
    ]
    assert placeholders({"blocks": [{"type": "text", "text": "{{literal}} braces"}]}) == []
    assert placeholders(json.loads((ROOT / "examples" / "shop.json").read_text())) == []
