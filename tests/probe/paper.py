"""Reading the virtual printer's paper the way a person reads the calibration sheet: which
numbered lines printed right, judged from what is on paper (job.json text, the page PNGs
decoded with zxing-cpp), never from what the probe meant to send."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import zxingcpp
from PIL import Image

from escpos809.probe.sheet import BAND_WIDTH_BYTES, Line
from tests.emulator.emulate import ENV, ROOT


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """``escpos809 ARGS`` in its own process."""
    return subprocess.run(
        [sys.executable, "-m", "escpos809.cli", *args],
        capture_output=True,
        text=True,
        env={**ENV, **(env or {})},
        cwd=ROOT,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def jobs(out: Path) -> list[Path]:
    return sorted(out.glob("job-[0-9]*"))


def wait_done(folder: Path, timeout: float = 30) -> dict:
    """The job's job.json once its state is final."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            j = json.loads((folder / "job.json").read_text("utf-8"))
        except (OSError, ValueError):
            j = {}
        if j.get("state") in ("done", "stopped", "power_loss"):
            return j
        time.sleep(0.05)
    raise AssertionError(f"{folder}: job not finished within {timeout} s")


def new_job(out: Path, before: list[Path], timeout: float = 30) -> tuple[Path, dict]:
    """The job that appeared in ``out`` since ``before``, once finished."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        fresh = [p for p in jobs(out) if p not in before]
        if fresh:
            return fresh[-1], wait_done(fresh[-1], max(1.0, end - time.monotonic()))
        time.sleep(0.05)
    raise AssertionError(f"no new job in {out} within {timeout} s")


def dots(folder: Path, j: dict) -> np.ndarray:
    """The job's paper as one array of dots (True = black), row 0 at the job's first op."""
    pages = [np.array(Image.open(folder / p["file"]).convert("L")) < 128 for p in j["page_info"]]
    return np.vstack(pages)


def codes_in(area: np.ndarray) -> list[str]:
    """What zxing-cpp reads in a stretch of paper (with a white margin around it)."""
    img = Image.fromarray(np.pad(~area, 24, constant_values=True).astype(np.uint8) * 255)
    return [r.text for r in zxingcpp.read_barcodes(img)]


def judge(folder: Path, j: dict, lines: list[Line]) -> dict[int, bool]:
    """Which sheet lines printed as their question says, read off the paper."""
    ops = j["ops"]
    y0 = ops[0]["y"]
    paper = dots(folder, j)
    labels = {}
    for i, op in enumerate(ops):
        text = op.get("text", "")
        if op["kind"] == "text" and (m := re.match(r"(\d{2,3}) ", text)):
            labels.setdefault(int(m[1]), (i, op))
    verdict: dict[int, bool] = {}
    for line in lines:
        if line.number not in labels:
            verdict[line.number] = False
            continue
        i, op = labels[line.number]
        nxt = labels.get(line.number + 1)
        top, bottom = op["y"] + op["height"] - y0, (nxt[1]["y"] if nxt else ops[-1]["y"] + ops[-1]["height"]) - y0
        area = paper[top:bottom]
        if line.kind == "chinese":
            verdict[line.number] = op["text"][len(line.label) :] == line.expect
        elif line.kind == "codepage":
            verdict[line.number] = op["text"].rsplit(" ", 1)[-1] == line.expect
        elif line.kind in ("qr", "barcode"):
            verdict[line.number] = line.expect in codes_in(area)
        elif line.kind == "band":
            bar = area[:, : BAND_WIDTH_BYTES * 8].all(axis=1)  # rows black across the whole bar
            verdict[line.number] = int(bar.sum()) == line.params["rows"]
        elif line.kind == "cut":
            cut = next((o for o in ops[i + 1 :] if o["kind"] in ("cut", "text")), None)
            verdict[line.number] = cut is not None and cut["kind"] == "cut" and cut["mode"] == line.expect
    return verdict


def answer_flags(verdict: dict[int, bool]) -> list[str]:
    return ["--answer", ",".join(f"{n}={'yes' if ok else 'no'}" for n, ok in sorted(verdict.items()))]


def texts(j: dict) -> str:
    return "\n".join(op.get("text", "") for op in j["ops"] if op["kind"] == "text")


__all__ = ["cli", "jobs", "new_job", "judge", "answer_flags", "texts", "codes_in", "dots"]
