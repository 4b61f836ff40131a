"""escpos809 against python-escpos 3.1, measured in the same run, like for like.

    python3 benchmarks/bench_receipt.py [--rounds 200]

1. Bytes on the wire for the reference receipt (peers.md §6).
2. Build time: both libraries build the receipt from the same PIL logo, alternating which goes
   first each round (so neither always runs on a warm cache or a quiet moment); medians.
3. Import time in fresh interpreters, pair by pair: the package (``escpos809`` / ``escpos``),
   the printer class (``escpos809.printer`` / ``escpos.printer``) and what building the
   receipt needs (``escpos809.receipt`` + ``document`` / ``escpos.printer``); the pairs
   alternate, medians.
4. Image path: photos 576 dots wide and 100-8,000 rows to dithered ``GS v 0`` bands: escpos809
   on one thread, escpos809 in strips on every core, and python-escpos (one thread), all
   interleaved; the line says which of our two the default (``PARALLEL_MIN_PIXELS``) picks and
   whether that was the quicker. The machine's cores and load are printed: on a busy 2-core
   machine the threads have little to win.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fresh_process import ENV, note, warm  # noqa: E402
from PIL import Image  # noqa: E402
from reference_receipt import build_escpos809, build_python_escpos, logo  # noqa: E402

IMPORT_PAIRS = [
    ("escpos809", "escpos"),
    ("escpos809.printer", "escpos.printer"),
    ("escpos809.receipt, escpos809.document", "escpos.printer"),
]
IMAGE_ROWS = (100, 500, 1000, 2000, 4000, 8000)


def interleaved(fns: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """Median milliseconds of each function, run in turn every round, the order rotating."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    names = list(fns)
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            t = time.perf_counter()
            fns[name]()
            times[name].append(time.perf_counter() - t)
    return {k: statistics.median(v) * 1000 for k, v in times.items()}


def import_ms(modules: str) -> float:
    code = f"import time; t = time.perf_counter(); import {modules}; print(time.perf_counter() - t)"
    return float(subprocess.check_output([sys.executable, "-c", code], env=ENV)) * 1000


def photo(rows: int = 2000) -> Image.Image:
    """A 576-dot-wide 'photo': gradients plus noise, so dithering has real work."""
    w = 576
    grad = Image.linear_gradient("L").resize((w, rows))
    noise = Image.effect_noise((w, rows), 64)
    radial = Image.radial_gradient("L").resize((w, rows))
    return Image.merge("RGB", (grad, noise, radial))


def python_escpos_image(pic: Image.Image) -> bytes:
    from escpos.printer import Dummy

    p = Dummy(profile="TM-T20II")
    with contextlib.redirect_stdout(io.StringIO()):
        p.image(pic, impl="bitImageRaster")
    return p.output


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=200, help="build rounds (images: a tenth, at least 5)")
    ap.add_argument("--import-runs", type=int, default=9)
    args = ap.parse_args()

    from escpos809.profile import load_profile
    from escpos809.raster import PARALLEL_MIN_PIXELS, _workers, raster_bands, rasterize

    profile = load_profile()
    print(
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f} (others' work shares the cores: "
        "figures on a busy machine); ratios are python-escpos / escpos809 from the same run"
    )
    img = logo()  # both libraries get the same PIL image and convert it on every build
    ours, theirs = build_escpos809(img), build_python_escpos(img)
    build = interleaved(
        {"escpos809": lambda: build_escpos809(img), "python-escpos": lambda: build_python_escpos(img)}, args.rounds
    )
    print("reference receipt (peers.md §6)")
    print(
        f"  bytes on the wire   escpos809 {len(ours):>6,}   python-escpos {len(theirs):>6,}   "
        f"(peers.md: receipt-printer-encoder 6,971-7,049, receiptline 12,941)"
    )
    ours_ms, theirs_ms = build["escpos809"], build["python-escpos"]
    print(
        f"  median build        escpos809 {ours_ms:6.2f} ms  python-escpos {theirs_ms:6.2f} ms  "
        f"ratio {theirs_ms / ours_ms:4.1f}x  ({args.rounds} interleaved rounds)"
    )

    # per pair: [ours, theirs] times of each run, the pair's order alternating run by run
    runs: dict[tuple[str, str], list[tuple[float, float]]] = {pair: [] for pair in IMPORT_PAIRS}
    for pair in IMPORT_PAIRS:
        for modules in pair:
            warm([sys.executable, "-c", f"import {modules}"])
    if note():
        print(f"  {note()}")
    for r in range(args.import_runs):
        for pair in IMPORT_PAIRS:
            got = {m: import_ms(m) for m in (pair if r % 2 == 0 else pair[::-1])}
            runs[pair].append((got[pair[0]], got[pair[1]]))
    print(f"  import, fresh interpreter (median of {args.import_runs}, pairs alternating)")
    for (ours_mod, theirs_mod), times in runs.items():
        a, b = statistics.median(t[0] for t in times), statistics.median(t[1] for t in times)
        print(f"    {ours_mod:<40} {a:6.1f} ms   {theirs_mod:<16} {b:6.1f} ms   ratio {b / a:5.1f}x")

    image_rounds = max(5, args.rounds // 10)
    print(
        f"photo 576 x N -> dithered GS v 0 bands (median of {image_rounds} interleaved rounds; "
        f"strips: {_workers()} threads; default: strips from {PARALLEL_MIN_PIXELS:,} pixels)"
    )
    for rows in IMAGE_ROWS:
        pic = photo(rows)

        def ours_with(parallel: bool, pic: Image.Image = pic) -> bytes:
            return raster_bands(*rasterize(pic, profile.width_dots, parallel=parallel), profile.band_rows)

        t = interleaved(
            {
                "one": lambda: ours_with(False),
                "strips": lambda: ours_with(True),
                "peer": lambda pic=pic: python_escpos_image(pic),
            },
            image_rounds,
        )
        default = "strips" if 576 * rows >= PARALLEL_MIN_PIXELS else "one"
        quicker = min(("one", "strips"), key=t.__getitem__)
        paper_ms = rows / (profile.speed_mm_s * profile.dpi / 25.4) * 1000
        print(
            f"  576x{rows:<5} one thread {t['one']:7.2f} ms  strips {t['strips']:7.2f} ms  "
            f"python-escpos {t['peer']:7.2f} ms  ratio {t['peer'] / t[default]:5.1f}x  "
            f"default {default:<6} ({'the quicker' if default == quicker else 'NOT the quicker'}); "
            f"paper {paper_ms:.0f} ms"
        )


if __name__ == "__main__":
    main()
