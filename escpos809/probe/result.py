"""From answers to a profile: which sheet lines printed right, what that says about the unit,
and the profile file with only the differences (``extends`` the base profile)."""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import ProfileError
from ..profile import Profile, profile_from_text
from .ask import Findings
from .sheet import Line

_HEADER = "# Written by `escpos809 probe`"
_ANSWER = re.compile(r"^\s*(\d+)(?:\s*-\s*(\d+))?\s*=\s*(yes|no|y|n)\s*$", re.IGNORECASE)


def parse_answers(specs: list[str], lines: list[Line]) -> dict[int, bool]:
    """``--answer`` values (``N=yes``, ``N-M=no``, comma-separated) → {line: printed right}.
    Raises ``ValueError`` naming the bad item."""
    known = {line.number for line in lines}
    out: dict[int, bool] = {}
    for spec in specs:
        for item in spec.split(","):
            m = _ANSWER.match(item)
            if not m:
                raise ValueError(f"{item.strip()!r}: expected N=yes, N=no or N-M=yes (line numbers of the sheet)")
            first, last = int(m[1]), int(m[2] or m[1])
            if last < first or first not in known or last not in known:
                raise ValueError(f"{item.strip()!r}: the sheet has lines 1-{max(known)}")
            for n in range(first, last + 1):
                out[n] = m[3].lower().startswith("y")
    return out


def parse_selection(text: str, lines: list[Line]) -> dict[int, bool]:
    """A person's answer for a group of lines: numbers and ranges that printed right
    (``3,5-9``), ``all`` or ``none``; the group's other lines printed wrong."""
    numbers = [line.number for line in lines]
    text = text.strip().lower()
    right: set[int] = set()
    if text == "all":
        right = set(numbers)
    elif text not in ("none", ""):
        for item in text.replace(" ", ",").split(","):
            if not item:
                continue
            m = re.fullmatch(r"(\d+)(?:-(\d+))?", item)
            if not m:
                raise ValueError(f"{item!r}: give line numbers and ranges (3,5-9), 'all' or 'none'")
            right |= set(range(int(m[1]), int(m[2] or m[1]) + 1))
        if bad := right - set(numbers):
            raise ValueError(f"lines {sorted(bad)} are not in this group ({numbers[0]}-{numbers[-1]})")
    return {n: n in right for n in numbers}


def _largest_band(lines: list[Line], answers: dict[int, bool]) -> int | None:
    """The tallest band such that it and every smaller one tried printed whole."""
    best = None
    for line in sorted((ln for ln in lines if ln.kind == "band"), key=lambda ln: ln.params["rows"]):
        if answers.get(line.number) is not True:
            break
        best = line.params["rows"]
    return best


def derive(lines: list[Line], answers: dict[int, bool], base: Profile, found: Findings | None) -> dict[str, Any]:
    """The profile entries (nested tables) that differ from ``base``, from the sheet's answers
    and the automatic findings. Lines without an answer change nothing."""
    commands: dict[str, Any] = {}
    out: dict[str, Any] = {}
    chinese = next((ln for ln in lines if ln.kind == "chinese"), None)
    if chinese is not None and chinese.number in answers:
        on = not answers[chinese.number]  # accents shown: the unit is not in Chinese mode after ESC @
        if on != bool(base.commands.get("chinese_mode_at_power_on", True)):
            commands["chinese_mode_at_power_on"] = on
    table, absent = _codepages(lines, answers, base)
    if table or absent:
        cps: dict[str, Any] = {}
        if table:
            cps["table"] = table
        if absent:
            cps["absent"] = absent
        keep = [n for n in base.preferred_codepages if n not in absent]
        cps["preferred"] = keep + [n for n in sorted(table) if n not in keep]
        out["codepages"] = cps
    qr = {ln.params["form"]: answers.get(ln.number) for ln in lines if ln.kind == "qr"}
    form = next((f for f in ("epson", "legacy") if qr.get(f) is True), None)
    if form is None and qr and all(v is False for v in qr.values()):
        form = "image"
    if form is not None and form != base.qr_form:
        commands["qr"] = form
    for line in lines:
        if line.kind == "cut" and answers.get(line.number) is False:
            commands[f"{line.params['mode']}_cut"] = False  # recorded; the renderer does not read it
    band = _largest_band(lines, answers)
    if band is not None and band != base.band_rows:
        out["raster"] = {"band_rows": band}
    if found is not None:
        confirm = "gs-r" if found.gs_r is not None else "none"
        if confirm != base.commands.get("confirm", "gs-r"):
            commands["confirm"] = confirm
    if commands:
        out["commands"] = commands
    return out


def _codepages(lines: list[Line], answers: dict[int, bool], base: Profile) -> tuple[dict[int, str], list[int]]:
    """Pages renumbered or added (n → codec) and pages the unit does not have."""
    by_page: dict[int, list[Line]] = {}
    for line in lines:
        if line.kind == "codepage":
            by_page.setdefault(line.params["n"], []).append(line)
    table: dict[int, str] = {}
    absent: list[int] = []
    for n, hyps in sorted(by_page.items()):
        right = [ln.params["codec"] for ln in hyps if answers.get(ln.number) is True]
        if right:
            # the base's codec when it printed right too (near-twins like cp850/cp858 may both)
            codec = base.codepages[n] if base.codepages.get(n) in right else right[0]
            if codec != base.codepages.get(n):
                table[n] = codec
        elif n in base.codepages and all(answers.get(ln.number) is False for ln in hyps):
            absent.append(n)
    return table, absent


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):  # a JSON string is a TOML basic string, but for DEL, which TOML escapes
        return json.dumps(v, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {v!r} to TOML")


def profile_text(changes: dict[str, Any], extends: str, found: Findings | None, notes: list[str]) -> str:
    """The profile file: a comment header with the findings, ``extends``, then the changes."""
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    head = [f"{_HEADER} on {when}: only what differs from {extends!r}."]
    if found is not None:
        head += [f"# {found.uri}:"] + [f"#   {line}" for line in found.lines()]
    head += [f"# {note}" for note in notes]
    body = [f"extends = {_toml_value(extends)}"]
    for table, entries in changes.items():
        body += ["", f"[{table}]"] + [f"{k} = {_toml_value(v)}" for k, v in entries.items()]
    return "\n".join(head + body) + "\n"


def write_profile(path: Path, text: str) -> Profile:
    """Write the profile after checking that it loads (with its ``extends``) as the driver will.
    Only a profile the probe wrote is replaced, never a file the new one extends (it would
    extend itself), and the file appears whole or not at all."""
    files: list[str] = []
    profile = profile_from_text(text, str(path), files)
    if any(os.path.samefile(f, path) for f in files if path.exists()):
        raise ProfileError(f"{path}: the new profile extends this file; write it to another file")
    if path.exists() and not (path.is_file() and _written_by_probe(path)):  # a FIFO is never read
        raise ProfileError(f"{path}: exists and is not a profile the probe wrote; not overwritten (remove it first)")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, "utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return profile


def _written_by_probe(path: Path) -> bool:
    """Whether ``path`` starts as :func:`profile_text` starts a profile (unreadable: no)."""
    try:
        with path.open("rb") as f:
            return f.read(len(_HEADER)) == _HEADER.encode()
    except OSError:
        return False
