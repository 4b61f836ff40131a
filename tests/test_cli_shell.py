"""What users expect of a command line: shell completion (click's, through the installed
``escpos809`` entry point, completed by real bash, fish and zsh), one ``--printer`` option
naming every URI form, and ``--version`` from the package metadata."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from escpos809.cli import cli

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # the venv's bin, where pip put the escpos809 command
ENV = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "ESCPOS809_CONFIG": "/nonexistent.toml"}
#: .ci/run installs zsh and fish: there their tests must run, not skip
REQUIRED = os.environ.get("ESCPOS809_REQUIRE_SHELLS") == "1"


def shell(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if REQUIRED:
            pytest.fail(f"{name} is not installed but ESCPOS809_REQUIRE_SHELLS=1")
        pytest.skip(f"{name} not installed (apt install {name})")
    return path


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, env={**ENV, **env}, timeout=60)


def test_the_entry_point_is_installed():
    assert (BIN / "escpos809").exists(), "pip install -e . makes the escpos809 command"


def test_bash_completes_subcommands_and_options():
    script = 'eval "$(_ESCPOS809_COMPLETE=bash_source escpos809)"; COMP_WORDS=({words}); COMP_CWORD={cword}; '
    script += '_escpos809_completion escpos809; printf "%s\\n" "${{COMPREPLY[@]}}"'
    res = run(shell("bash"), "-c", script.format(words="escpos809 pr", cword=1))
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["preview", "print", "probe"]
    res = run(shell("bash"), "-c", script.format(words="escpos809 cups ins", cword=2))
    assert res.stdout.split() == ["install"]
    res = run(shell("bash"), "-c", script.format(words="escpos809 status --pr", cword=2))
    assert set(res.stdout.split()) == {"--printer", "--profile"}


def test_fish_completes_subcommands_and_options():
    script = "eval (env _ESCPOS809_COMPLETE=fish_source escpos809 | string collect); complete -C '{line}'"
    res = run(shell("fish"), "-c", script.format(line="escpos809 dem"))
    assert res.returncode == 0, res.stderr
    assert [line.split("\t")[0] for line in res.stdout.splitlines()] == ["demo"]
    res = run(shell("fish"), "-c", script.format(line="escpos809 print --pri"))
    assert [line.split("\t")[0] for line in res.stdout.splitlines()] == ["--printer"]


def test_zsh_script_is_valid_and_completes():
    script = run("escpos809", _ESCPOS809_COMPLETE="zsh_source")
    assert script.returncode == 0 and script.stdout.startswith("#compdef escpos809")
    check = subprocess.run([shell("zsh"), "-n"], input=script.stdout, capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stderr
    # what the zsh function asks the command for (zsh_complete: type, value, description per line)
    res = run("escpos809", _ESCPOS809_COMPLETE="zsh_complete", COMP_WORDS="escpos809 ocpp rep", COMP_CWORD="2")
    assert res.stdout.splitlines()[:2] == ["plain", "replay"]


def _commands(group: click.Group, path: str = "escpos809"):
    for name, cmd in group.commands.items():
        yield f"{path} {name}", cmd
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, f"{path} {name}")


def test_every_printer_option_names_the_uri_forms():
    seen = []
    for path, cmd in _commands(cli):
        for param in cmd.params:
            if "--printer" in getattr(param, "opts", ()):
                seen.append(path)
                assert sorted(param.opts) == ["--printer", "-p"], path
                assert param.help.startswith("Printer URI: tcp://host:9100, usb://VID:PID"), path
                assert "virtual://" in param.help and "serial://" in param.help, path
    assert {"escpos809 print", "escpos809 status", "escpos809 serve", "escpos809 cups install"} <= set(seen)
    # one definition: no command module spells the option out itself
    for module in (ROOT / "escpos809" / "cli").glob("*.py"):
        if module.name != "common.py":
            assert '"--printer"' not in module.read_text("utf-8"), module


def test_version_of_the_installed_command():
    res = run("escpos809", "--version")
    assert res.returncode == 0
    assert res.stdout == f"escpos809, version {importlib.metadata.version('escpos809')}\n"
