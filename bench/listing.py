"""`study list cards --json` at two store sizes: peak memory and time (issue 11).

    python bench/listing.py                 # 50,000 and 500,000 cards
    python bench/listing.py 20000 200000    # other sizes
    python bench/listing.py --before /work/main 50000 500000   # also an older checkout

Each size is a store of tenures (4.5 cards a tenure, with their people and
offices). Each listing runs as its own process, writing to /dev/null; its peak
resident memory comes from wait4(). A listing that streams keeps its memory
flat as the store grows and its time linear.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import NOW, tenures_toml  # noqa: E402

Row = Callable[..., None]


def build(work: Path, cards: int) -> tuple[Path, int]:
    """A store of about ``cards`` cards, built in a child process.

    The child keeps this process small: a listing is started by fork and exec,
    and the peak RSS that wait4() reports counts what was copied at the fork.
    """
    db = work / f"list-{cards}.db"
    out = subprocess.run([sys.executable, __file__, "--build", str(cards), str(db)],
                         check=True, capture_output=True, text=True).stdout
    return db, int(out)


def _build(db: Path, cards: int) -> None:
    from cards.authoring import load_and_import
    from cards.store import Store

    work = db.parent
    toml = work / f"tenures-{cards}.toml"
    toml.write_text(tenures_toml(int(cards / 4.5) + 4))
    store = Store.open(db)
    load_and_import(store, [toml], NOW)
    total = store.db.execute("SELECT COUNT(*) FROM cards WHERE retired = 0").fetchone()[0]
    store.close()
    toml.unlink()
    print(total)


def run_once(args: list[str], db: Path, source: Path | None) -> tuple[float, float]:
    """Wall time (s) and peak RSS (MiB) of one ``study ARGS`` with output to /dev/null."""
    env = {**os.environ, "STUDY_DB": str(db), "STUDY_NOW": NOW.isoformat()}
    if source is not None:  # another checkout, read only: no .pyc written into it
        env.update(PYTHONPATH=str(source), PYTHONDONTWRITEBYTECODE="1")
    # A child forked from a large process (bench/run.py after building its stores)
    # reports the parent's pages in its own peak RSS: when GNU time is there, a small
    # process forks the listing and its figure is the listing's own.
    gnu_time = shutil.which("time", path="/usr/bin:/bin")
    with open(os.devnull, "w") as null, tempfile.NamedTemporaryFile("r") as peak:
        command = [sys.executable, "-m", "study", *args]
        if gnu_time:
            command = [gnu_time, "-f", "%M", "-o", peak.name, *command]
        t0 = time.perf_counter()
        child = subprocess.Popen(command, env=env, stdout=null, cwd=source or None)
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - t0
        kib = int(peak.read().split()[-1]) if gnu_time else usage.ru_maxrss
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"study {' '.join(args)} failed ({child.returncode})")
    return elapsed, kib / 1024  # KiB on Linux


def measure(args: list[str], db: Path, runs: int, source: Path | None = None
            ) -> tuple[float, float]:
    results = [run_once(args, db, source) for _ in range(runs)]
    return (statistics.median(t for t, _ in results), max(m for _, m in results))


def bench_listing(work: Path, row: Row, sizes: tuple[int, ...] = (50_000, 500_000),
                  runs: int = 3, before: Path | None = None) -> None:
    figures: dict[tuple[str, str], list[tuple[int, float, float]]] = {}
    for wanted in sizes:
        db, cards = build(work, wanted)
        records = cards * 2 // 9  # tenures (and as many people): 4.5 cards a tenure
        for args in (["list", "cards", "--json"], ["list", "tenures", "--json"]):
            versions = [("this", None)] + ([("before", before)] if before else [])
            for label, source in versions:
                t, rss = measure(args, db, runs, source)
                figures.setdefault((label, args[1]), []).append((cards, t, rss))
                what = f"`study {' '.join(args)}`" + (" (before)" if label == "before" else "")
                count = f"{cards:,} cards" if args[1] == "cards" else f"~{records:,} tenures"
                row(f"{what}, {count} (median of {runs})", f"{t:.2f} s, peak RSS {rss:.0f} MiB",
                    "target < 150 MiB at 500k cards" if args[1] == "cards" else "")
        db.unlink()
    for (label, what), points in figures.items():
        if len(points) < 2:
            continue
        (n0, t0, m0), (n1, t1, m1) = points[0], points[-1]
        row(f"  {what} {label}: {n1 / n0:.1f}x the cards",
            f"{t1 / t0:.1f}x the time, {m1 / m0:.2f}x the memory",
            "linear time, flat memory" if label == "this" else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[50_000, 500_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--before", type=Path, help="a checkout to compare with")
    parser.add_argument("--build", nargs=2, metavar=("CARDS", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        _build(Path(args.build[1]), int(args.build[0]))
        return

    def row(what: str, figure: str, target: str = "") -> None:
        print(f"| {what} | {figure} | {target} |", flush=True)

    print(f"load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores")
    print("| measurement | result | target |\n|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        bench_listing(Path(tmp), row, tuple(args.sizes), args.runs, args.before)


if __name__ == "__main__":
    main()
