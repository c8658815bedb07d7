"""Benchmark of `study stats` on a large store (see ``bench/run.py``)."""

from __future__ import annotations

import os
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.common import NOW

RUNS = 5


def _median_ms(work: Callable[[], object], runs: int = RUNS) -> tuple[float, float]:
    """(first run, median of the runs) in milliseconds."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        work()
        times.append((time.perf_counter() - t0) * 1000)
    return times[0], statistics.median(times)


def bench_stats(db: Path, row: Callable[..., None]) -> None:
    """Time ``study.stats.compute`` (and the whole command) on the store at ``db``."""
    from rich.console import Console

    from study.queue import Filters
    from study.stats import compute, render

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    reviews = conn.execute("SELECT COUNT(*) FROM reviews").fetchone()[0]
    cards = conn.execute("SELECT COUNT(*) FROM cards").fetchone()[0]
    tz = ZoneInfo("Europe/London")

    def figures(filters: Filters) -> dict[str, object]:
        return compute(conn, NOW, tz, 4, filters)

    first, median = _median_ms(partial(figures, Filters()))
    row(f"`study stats` figures, {cards:,} cards, {reviews:,} reviews "
        f"(compute(), median of {RUNS})", f"{median:.0f} ms (first run {first:.0f} ms)",
        "target < 1 s")
    stats = figures(Filters())
    _, drawing = _median_ms(lambda: render(stats, Console(file=StringIO(), width=120)))
    row("`study stats` drawing at 120 columns (render())", f"{drawing:.0f} ms")
    for label, filters in (("--kind tenures", Filters(kind="tenures")),
                           ("--tag bench (every card)", Filters(tag="bench"))):
        _, narrowed = _median_ms(partial(figures, filters))
        row(f"`study stats {label}` figures (compute())", f"{narrowed:.0f} ms")
    conn.close()

    env = {**os.environ, "STUDY_DB": str(db), "STUDY_NOW": NOW.isoformat(), "COLUMNS": "120"}
    walls = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "study", "stats"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        walls.append(time.perf_counter() - t0)
    row("`study stats` (whole command, median wall time)",
        f"{statistics.median(walls) * 1000:.0f} ms", "target < 1 s")


if __name__ == "__main__":  # python -m bench.stats STORE, from the repository
    bench_stats(Path(sys.argv[1]), lambda *cells: print(" | ".join(cells)))
