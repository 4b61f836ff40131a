"""Money on the sample receipts: computed in Decimal (escpos809.money), never typed; the demo is
a document printed through the layout engine."""

import importlib.util
import json
from decimal import Decimal as D
from pathlib import Path

import pytest
from click.testing import CliRunner

from escpos809.cli import cli
from escpos809.demo import document
from escpos809.layout import Layout, Line
from escpos809.money import Bill, Item, cents, fmt, percent_of, vat_in_gross
from escpos809.profile import load_profile

ROOT = Path(__file__).resolve().parents[2]


def _build_module():
    spec = importlib.util.spec_from_file_location("examples_build", ROOT / "examples" / "build.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


BUILD = _build_module()


@pytest.mark.parametrize("name", sorted(BUILD.FILES))
def test_every_example_figure_is_computed_from_its_items(name):
    """A figure typed into an example (or a changed item) makes the file differ from the build."""
    on_disk = json.loads((ROOT / "examples" / name).read_text("utf-8"))
    assert on_disk == BUILD.FILES[name](), f"examples/{name}: run python3 examples/build.py"


def test_build_check_finds_a_typed_figure(tmp_path, monkeypatch):
    for name in BUILD.FILES:
        (tmp_path / name).write_text((ROOT / "examples" / name).read_text("utf-8"), "utf-8")
    shop = tmp_path / "shop.json"
    shop.write_text(shop.read_text("utf-8").replace("0,49 €", "0,48 €"), "utf-8")
    monkeypatch.setattr(BUILD, "HERE", tmp_path)
    assert BUILD.main(["--check"]) == 1
    assert BUILD.main([]) == 0 and BUILD.main(["--check"]) == 0  # rewritten from the items


def test_vat_is_rounded_once_per_rate_on_the_total():
    # 12.65 gross at 19 %: 12.65 - 12.65 / 1.19 = 2.0197 -> 2.02
    assert vat_in_gross(D("12.65"), 19) == D("2.02")
    # five lines of 1.05 at 19 %: per line 0.1676 -> 0.17 (x5 = 0.85); on the total 5.25 -> 0.84
    bill = Bill(tuple(Item(f"x{i}", D("1.05")) for i in range(5)))
    assert bill.total == D("5.25") and bill.vat == D("0.84") and bill.net == D("4.41")
    mixed = Bill((Item("a", D("2.58"), vat=D(7)), Item("b", D("1.24"))))
    assert [(s.rate, s.gross, s.vat) for s in mixed.shares] == [(7, D("2.58"), D("0.17")), (19, D("1.24"), D("0.20"))]


def test_half_cents_round_up_and_formatting():
    assert cents(D("0.125")) == D("0.13") and cents(D("-0.125")) == D("-0.13")
    assert Item("kWh", D("0.39"), D("23.456")).total == D("9.15")
    assert percent_of(D("41.50"), 10) == D("4.15")
    assert fmt(D("-1")) == "-1,00" and fmt(D("1234.5"), ".", ",") == "1,234.50"


def test_demo_vat_is_right_and_printed_as_laid_out(monkeypatch, tmp_path):
    monkeypatch.setenv("ESCPOS809_CONFIG", "/nonexistent.toml")
    monkeypatch.setenv("ESCPOS809_PAPER_DIR", str(tmp_path))
    res = CliRunner().invoke(cli, ["demo"])
    assert res.exit_code == 0, res.output
    log = json.loads((tmp_path / "demo" / "job-0001" / "job.json").read_text())
    printed = [op["text"] for op in log["ops"] if op["kind"] == "text"]
    vat = [t for t in printed if t.startswith("davon MwSt. 19 %")]
    assert len(vat) == 1 and vat[0].endswith(" 2,02 €")
    assert any(t.startswith("SUMME") and t.endswith("12,65 €") for t in printed)
    laid_out = [op.text for op in Layout(load_profile()).run(document()) if isinstance(op, Line)]
    assert printed == laid_out
