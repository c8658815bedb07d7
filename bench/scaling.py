"""Each measure at several sizes, with its growth exponent (``bench/run.py --scaling``).

The exponent ``k`` is the slope of log(time) against log(size), fitted by
least squares over the sizes: 1 is linear, 0 flat, 2 quadratic. Times are
medians (or a p95 where said), the sizes of each measure are run in the same
process one after another, and peak memory is the child process's maximum
resident set size. The machine is noisy (2 cores, shared): read the
exponents and the ratios, not single figures.
"""

from __future__ import annotations

import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import NOW, fill_history, tenures_toml  # noqa: E402

#: One line of the table: what, unit, {size: value}.
Line = tuple[str, str, dict[int, float]]


def exponent(points: dict[int, float]) -> float:
    """The least-squares slope of log(value) against log(size)."""
    xs = [math.log(n) for n in points]
    ys = [math.log(max(v, 1e-9)) for v in points.values()]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return (sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
            / sum((x - mx) ** 2 for x in xs))


def _child(code: str, *args: str) -> tuple[float, float]:
    """Run ``code`` in a fresh interpreter; (the seconds it reports, its peak RSS in MiB)."""
    probe = ("import resource, sys, time\n"
             f"sys.path.insert(0, {str(ROOT)!r})\n"
             f"{code}\n"
             "print(seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n")
    out = subprocess.run([sys.executable, "-c", probe, *args], check=True,
                         capture_output=True, text=True).stdout.split()
    return float(out[-2]), float(out[-1])


IMPORT = """
from cards.authoring import load_and_import
from cards.store import Store
store = Store.open(sys.argv[1])
t0 = time.perf_counter()
load_and_import(store, [sys.argv[2]], NOW)
seconds = time.perf_counter() - t0
store.close()
"""


def imports(work: Path, sizes: list[int], emit: Callable[[Line], None]) -> None:
    """Import N tenures (with people, offices, organs); then re-import it unchanged, and
    with one record changed."""
    first: dict[int, float] = {}
    memory: dict[int, float] = {}
    same: dict[int, float] = {}
    again: dict[int, float] = {}
    prelude = "from bench.common import NOW\n"
    for n in sizes:
        db, toml = work / f"import-{n}.db", work / f"import-{n}.toml"
        text = tenures_toml(n)
        toml.write_text(text)
        first[n], memory[n] = _child(prelude + IMPORT, str(db), str(toml))
        same[n], _ = _child(prelude + IMPORT, str(db), str(toml))
        toml.write_text(text.replace('name = "Person Number 0"', 'name = "Person Number 0b"'))
        again[n], _ = _child(prelude + IMPORT, str(db), str(toml))
        print(f"  import {n:,}: {first[n]:.2f} s, {memory[n]:.0f} MiB, unchanged "
              f"{same[n]:.2f} s, one changed {again[n]:.2f} s", file=sys.stderr, flush=True)
        db.unlink()
    emit(("import N tenures (with people, offices, organs)", "s", first))
    emit(("  peak memory of that import (whole process)", "MiB", memory))
    emit(("  re-import unchanged", "s", same))
    emit(("  re-import unchanged / first import", "ratio",
          {n: same[n] / first[n] for n in sizes}))
    emit(("  re-import with one record changed", "s", again))
    emit(("  re-import / first import", "ratio",
          {n: again[n] / first[n] for n in sizes}))


def build(work: Path, reviews: int) -> Path:
    """A store of about reviews / 10 cards with ``reviews`` answers (as bench/run.py)."""
    from cards.authoring import load_and_import
    from cards.store import Store

    toml, db = work / f"large-{reviews}.toml", work / f"large-{reviews}.db"
    toml.write_text(tenures_toml(int(reviews / 10 / 4.5) + 4))
    store = Store.open(db)
    load_and_import(store, [toml], NOW)
    store.close()
    fill_history(db, reviews)
    return db


STATS = """
from zoneinfo import ZoneInfo
from bench.common import NOW
from cards.store import Store
from study.queue import Filters
from study.stats import compute
store = Store.open(sys.argv[1])
tag, kind = (sys.argv[2] or None), (sys.argv[3] or None)
runs = []
for _ in range(5):
    t0 = time.perf_counter()
    compute(store.db.conn, NOW, ZoneInfo("Europe/London"), 4, Filters(tag, kind))
    runs.append(time.perf_counter() - t0)
seconds = sorted(runs)[2]
"""


def stores(work: Path, sizes: list[int], emit: Callable[[Line], None]) -> None:
    """due, answer -> next card, and stats, on stores of growing history."""
    from bench.due import regular_install, round_robin
    from bench.run import answer_gaps

    due: dict[int, float] = {}
    bare: dict[int, float] = {}
    p95: dict[int, float] = {}
    figures: dict[str, dict[int, float]] = {"": {}, "kind": {}, "tag": {}}
    command: dict[int, float] = {}
    bin_dir = regular_install(work / "venv")
    for reviews in sizes:
        t0 = time.perf_counter()
        db = build(work, reviews)
        print(f"  built {reviews:,} reviews in {time.perf_counter() - t0:.0f} s",
              file=sys.stderr, flush=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env.update(STUDY_DB=str(db), STUDY_NOW=NOW.isoformat(), COLUMNS="120")
        times = round_robin({"bare": [str(bin_dir / "python"), "-c", "pass"],
                             "due": [str(bin_dir / "study"), "due", "--json"]}, env, 15)
        bare[reviews], due[reviews] = (statistics.median(times[k]) for k in ("bare", "due"))
        for name, (tag, kind) in {"": ("", ""), "kind": ("", "tenures"),
                                  "tag": ("bench", "")}.items():
            figures[name][reviews], _ = _child(STATS, str(db), tag, kind)
        walls = []
        for _ in range(3):
            t1 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "study", "stats"], env={**os.environ, **env},
                           check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
            walls.append(time.perf_counter() - t1)
        command[reviews] = statistics.median(walls)
        copy = work / "answer.db"
        shutil.copy(db, copy)
        gaps = answer_gaps(copy, 200)
        p95[reviews] = gaps[int(len(gaps) * 0.95)]
        print(f"  {reviews:,}: due {due[reviews] / bare[reviews]:.2f}x, stats "
              f"{figures[''][reviews]:.2f} s (command {command[reviews]:.2f} s), "
              f"answer p95 {p95[reviews] * 1000:.1f} ms", file=sys.stderr, flush=True)
        for path in work.glob("answer.db*"):
            path.unlink()
        for path in work.glob(f"large-{reviews}.*"):
            path.unlink()
    emit(("`study due --json`, regular install (median)", "ms",
          {n: v * 1000 for n, v in due.items()}))
    emit(("  / `python -c pass` in the same rounds", "ratio",
          {n: due[n] / bare[n] for n in sizes}))
    emit(("answer -> next card, 9,000 cards tied (p95 of 200)", "ms",
          {n: v * 1000 for n, v in p95.items()}))
    emit(("`study stats` figures (compute, median of 5)", "ms",
          {n: v * 1000 for n, v in figures[""].items()}))
    emit(("  `--kind tenures`", "ms", {n: v * 1000 for n, v in figures["kind"].items()}))
    emit(("  `--tag bench` (every card)", "ms", {n: v * 1000 for n, v in figures["tag"].items()}))
    emit(("`study stats` whole command (median of 3)", "ms",
          {n: v * 1000 for n, v in command.items()}))


def exports(sizes: list[int], emit: Callable[[Line], None]) -> None:
    """``export anki`` end to end against the notes built and written by plain genanki."""
    from bench.export import measure

    ours: dict[int, float] = {}
    plain: dict[int, float] = {}
    for notes in sizes:
        t = measure(notes, 1)
        ours[notes], plain[notes] = t["export"], t["notes"] + t["genanki"]
        print(f"  export {notes:,}: {ours[notes]:.2f} s vs {plain[notes]:.2f} s",
              file=sys.stderr, flush=True)
    emit(("`export anki` N notes, store to .apkg", "s", ours))
    emit(("  the same notes built and written by plain genanki", "s", plain))
    emit(("  ours / plain genanki", "ratio", {n: ours[n] / plain[n] for n in sizes}))


def main(quick: bool) -> list[str]:
    """Run every measure at its sizes; the Markdown table, one string a line."""
    scale = 10 if quick else 1
    lines: list[Line] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        print("import:", file=sys.stderr)
        imports(work, [n // scale for n in (10_000, 25_000, 50_000, 100_000)], lines.append)
        print("stores:", file=sys.stderr)
        stores(work, [n // scale for n in (250_000, 500_000, 1_000_000)], lines.append)
        print("export:", file=sys.stderr)
        exports([n // scale for n in (10_000, 30_000, 100_000)], lines.append)
    out = ["| measure | unit | sizes: value | growth exponent k |", "|---|---|---|---|"]
    for what, unit, points in lines:
        values = ", ".join(f"{n:,}: {v:.2f}" if v < 10 else f"{n:,}: {v:.0f}"
                           for n, v in points.items())
        k = "" if unit == "ratio" else f"{exponent(points):.2f}"
        out.append(f"| {what} | {unit} | {values} | {k} |")
    return out
