"""escpos809 against python-escpos 3.1, measured in the same run.

    python3 benchmarks/bench_receipt.py

Prints bytes on the wire for the reference receipt, median build time (fresh builds), import
time in a fresh interpreter, and the time to turn a 576x2000 photo into dithered raster bands,
with the ratios, and checks the pipeline against the printer's 300 mm/s.
"""

from __future__ import annotations

import io
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from PIL import Image  # noqa: E402
from reference_receipt import build_escpos809, build_python_escpos, logo  # noqa: E402

RUNS = 200


def median_ms(fn, runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def import_ms(module: str, runs: int = 7) -> float:
    code = f"import time; t=time.perf_counter(); import {module}; print(time.perf_counter()-t)"
    return statistics.median(float(subprocess.check_output([sys.executable, "-c", code])) for _ in range(runs)) * 1000


def photo() -> Image.Image:
    """A 576x2000 'photo': gradients plus noise, so dithering has real work."""
    w, h = 576, 2000
    grad = Image.linear_gradient("L").resize((w, h))
    noise = Image.effect_noise((w, h), 64)
    radial = Image.radial_gradient("L").resize((w, h))
    return Image.merge("RGB", (grad, noise, radial))


def main() -> None:
    from escpos809.profile import load_profile
    from escpos809.raster import image_to_escpos

    profile = load_profile()
    img = logo()  # both libraries get the same PIL image and convert it on every build
    ours, theirs = build_escpos809(img), build_python_escpos(img)
    ours_ms = median_ms(lambda: build_escpos809(img))
    theirs_ms = median_ms(lambda: build_python_escpos(img))

    pic = photo()

    def ours_image():
        return image_to_escpos(pic, profile.width_dots, profile.band_rows)

    def theirs_image():
        from escpos.printer import Dummy

        p = Dummy(profile="TM-T20II")
        import contextlib

        with contextlib.redirect_stdout(io.StringIO()):
            p.image(pic, impl="bitImageRaster")
        return p.output

    ours_img_ms, theirs_img_ms = median_ms(ours_image, 9), median_ms(theirs_image, 9)
    imp_ours, imp_theirs = import_ms("escpos809"), import_ms("escpos.printer")
    imp_printer = import_ms("escpos809.printer")

    print("reference receipt (peers.md §6)")
    print(
        f"  bytes on the wire     escpos809 {len(ours):>6,}   python-escpos {len(theirs):>6,}   "
        f"(peers.md: python-escpos 9,800, receipt-printer-encoder 6,971-7,049, receiptline 12,941)"
    )
    print(
        f"  median build          escpos809 {ours_ms:6.2f} ms python-escpos {theirs_ms:6.2f} ms  "
        f"ratio {theirs_ms / ours_ms:4.1f}x"
    )
    print(
        f"  import                escpos809 {imp_ours:6.1f} ms python-escpos {imp_theirs:6.1f} ms  "
        f"(escpos809.printer {imp_printer:.1f} ms)"
    )
    print("576x2000 photo -> dithered GS v 0 bands")
    print(
        f"  median                escpos809 {ours_img_ms:6.1f} ms python-escpos {theirs_img_ms:6.1f} ms  "
        f"ratio {theirs_img_ms / ours_img_ms:4.1f}x"
    )
    paper_s = 2000 / (profile.speed_mm_s * profile.dpi / 25.4)
    print(
        f"  the printer needs {paper_s * 1000:.0f} ms to print it at {profile.speed_mm_s} mm/s: "
        f"the pipeline is {paper_s * 1000 / ours_img_ms:.0f}x faster than the paper"
    )


if __name__ == "__main__":
    main()
