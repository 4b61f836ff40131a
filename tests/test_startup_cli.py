"""What the common commands load: each is a new process, and a package it does not use is
start-up time spent for nothing. Structural, not timed (benchmarks/bench_startup.py times
them): ``--help`` loads no library beyond click, a text print and a status no imaging, schema
or web package."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = {"numpy", "PIL", "jsonschema", "jsonschema_rs", "qrcode", "barcode", "fontTools", "flask", "waitress"}

PROBE = """
import json, sys
sys.argv = ["escpos809", *json.loads(sys.argv[1])]
from escpos809.cli import main
try:
    main()
except SystemExit as exc:
    code = exc.code
sys.stdout.flush()
print("\\nMODULES", json.dumps(sorted(sys.modules)))
sys.exit(code)
"""


def loaded(args: list[str]) -> set[str]:
    env = {"ESCPOS809_CONFIG": "/nonexistent.toml", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)],
        input="a short receipt\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert "bytes for memory://" in proc.stdout or args == ["--help"], proc.stdout
    return {m.split(".")[0] for m in json.loads(proc.stdout.rsplit("MODULES ", 1)[1])}


def test_help_loads_click_and_the_command_modules_only():
    top = loaded(["--help"])
    assert not top & HEAVY, top & HEAVY
    assert "logging" not in top and "tomllib" not in top  # asked for by commands that use them


@pytest.mark.parametrize(
    "args",
    [
        ["print", "-p", "memory://", "--no-check", "--no-confirm", "-"],
        ["cut", "-p", "memory://"],
    ],
    ids=["print-text", "cut"],
)
def test_printing_text_loads_no_imaging_schema_or_web_package(args):
    top = loaded(args)
    assert not top & HEAVY, top & HEAVY
