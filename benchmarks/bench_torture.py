"""Kill -9 torture at full counts: the print service killed at random points over 200 jobs,
and the virtual printer's power pulled at random points over 200 jobs. Both run as their own
processes; the paper the virtual printer left on disk is the judge.

    python3 benchmarks/bench_torture.py [--jobs 200] [--kills 10] [--seed 809]

Target (issue 12): 0 lost, every repeat marked, first copies in submission order.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.service.torture import printer_kills, service_kills  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=200)
    ap.add_argument("--kills", type=int, default=10)
    ap.add_argument("--seed", type=int, default=809)
    args = ap.parse_args()
    failed = False
    for run in (service_kills, printer_kills):
        with tempfile.TemporaryDirectory() as d:
            out = run(Path(d), jobs=args.jobs, kills=args.kills, seed=args.seed, lines=6, spread=(0.3, 1.5))
        print(out.summary())
        if out.repeated:
            print(f"  reprinted (each after a REPRINT mark): {', '.join(out.repeated)}")
        for name in ("lost", "unmarked", "not_done"):
            if getattr(out, name):
                print(f"  {name}: {', '.join(getattr(out, name))}")
        failed |= not out.ok()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
