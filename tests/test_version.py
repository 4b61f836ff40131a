"""One version, written once in pyproject.toml; the package and ``--version`` read it."""

import importlib.metadata
import re
from pathlib import Path

from click.testing import CliRunner

import escpos809
from escpos809.cli import cli
from escpos809.profile import tomllib

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
VERSION = PYPROJECT["project"]["version"]


def test_version_comes_from_pyproject():
    assert escpos809.__version__ == VERSION
    res = CliRunner().invoke(cli, ["--version"])
    assert res.exit_code == 0 and res.output == f"escpos809, version {VERSION}\n"


def test_version_is_written_nowhere_else_in_the_package():
    literal = re.compile(r"""__version__\s*=\s*["']|["']""" + re.escape(VERSION) + "[\"']")
    for path in (ROOT / "escpos809").rglob("*.py"):
        assert not literal.search(path.read_text("utf-8")), path


def test_source_checkout_without_metadata_reads_pyproject(monkeypatch):
    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", missing)
    escpos809._VERSION.clear()
    try:
        assert escpos809.__version__ == VERSION
    finally:
        escpos809._VERSION.clear()


def test_typed_marker_ships_with_the_package():
    assert (ROOT / "escpos809" / "py.typed").is_file()
    assert "py.typed" in PYPROJECT["tool"]["setuptools"]["package-data"]["escpos809"]
