"""The environment for timing new Python processes as users start them.

Users' installs have bytecode (pip compiles a wheel's modules at install, and Python writes
``__pycache__`` on first import). A shell with ``PYTHONDONTWRITEBYTECODE=1`` (as some CI and
sandboxes set) makes every start compile every module from source, which would be timed as
start-up: it is dropped here, and :func:`warm` runs a command once untimed so the bytecode
exists. No user config file is read (``ESCPOS809_CONFIG`` points nowhere).
"""

from __future__ import annotations

import os
import subprocess

ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
ENV["ESCPOS809_CONFIG"] = "/nonexistent.toml"


def note() -> str:
    """A line for the report when the caller's shell would not have written bytecode."""
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        return "PYTHONDONTWRITEBYTECODE is set in this shell: dropped for the timed processes (see fresh_process.py)"
    return ""


def warm(cmd: list[str], stdin: bytes | None = None, env: dict[str, str] | None = None) -> None:
    """Run ``cmd`` once, untimed, so its modules' bytecode is written."""
    subprocess.run(cmd, input=stdin or b"", capture_output=True, env=ENV if env is None else env)
