"""Kill -9 torture with small counts (full counts: benchmarks/bench_torture.py). The paper
the virtual printer left on disk is the judge: every accepted job is on it, and every copy
after the first carries the REPRINT mark."""

from __future__ import annotations

from tests.service.torture import printer_kills, service_kills


def test_service_killed_at_random_points_loses_nothing(tmp_path):
    out = service_kills(tmp_path, jobs=30, kills=3, seed=12)
    print(out.summary())
    assert out.kills == 3 and out.accepted == 30
    assert out.ok(), out


def test_printer_power_pulled_at_random_points_loses_nothing(tmp_path):
    out = printer_kills(tmp_path, jobs=24, kills=2, seed=12, lines=8, spread=(0.4, 1.0))
    print(out.summary())
    assert out.kills == 2 and out.accepted == 24
    assert out.ok(), out
