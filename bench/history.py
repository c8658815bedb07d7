"""Benchmarks of the review log (issue 10): replay, doctor, answer -> next card, `study due`.

    python bench/history.py     # 10,000 cards and 100,000 events; 100,000 and 1,000,000
    python bench/history.py --sizes 2000:20000

Each size builds a store (``bench.common.fill_history``: every card in review,
answers spread over two years) and measures, in the same run:
- replaying every event (``study.history.walk`` over the rows read in card
  and time order), and the read alone;
- ``study doctor`` (``history.rebuild`` on the store's own connection, in a
  child process: wall and CPU time, peak RSS): the first run repairs every
  card (the builder's states are random), the second finds nothing to repair;
- answer -> next card shown, and ``study due`` against ``python -c pass``
  (``bench/run.py``'s measurements).
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from itertools import groupby
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def bench_replay(db: Path, row: Callable[..., None]) -> None:
    from study import history
    from study.settings import Settings

    settings = Settings()
    conn = sqlite3.connect(db)
    t0 = time.perf_counter()
    rows = conn.execute("SELECT card_key, event_id, rating, reviewed_at FROM reviews "
                        "WHERE kind = 'review' AND live = 1 "
                        "ORDER BY card_key, reviewed_at, event_id").fetchall()
    t1 = time.perf_counter()
    replayed = 0
    for key, group in groupby(rows, key=lambda r: r[0]):
        for _ in history.walk(key, [r[1:] for r in group], settings):
            replayed += 1
    t2 = time.perf_counter()
    cards = conn.execute("SELECT COUNT(*) FROM cards").fetchone()[0]
    row(f"replay {replayed:,} events of {cards:,} cards (read in card and time order, "
        f"FSRS with seeded fuzz)",
        f"{t2 - t0:.1f} s (read {t1 - t0:.1f} s, replay {t2 - t1:.1f} s, "
        f"{(t2 - t1) / max(1, replayed) * 1e6:.1f} us an event)", "target < 20 s")
    # the same number of answers through py-fsrs alone (no reading, no fuzz), for the ratio
    from datetime import timedelta

    from fsrs import Card, Rating, Scheduler, State

    from bench.common import NOW

    scheduler = Scheduler(enable_fuzzing=False)
    for name, kind in (("", Card), (" with the replay's card (a quick copy)", history._Card)):
        t0 = time.perf_counter()
        card = kind(card_id=1, state=State.Learning, step=0, due=NOW)
        for i in range(replayed):
            if i % 10 == 0:
                card = kind(card_id=1, state=State.Learning, step=0, due=NOW)
            card, _ = scheduler.review_card(card, Rating(3 if i % 7 else 1),
                                            NOW + timedelta(days=i % 10 * 5))
        bare = time.perf_counter() - t0
        row(f"  the same number of answers through py-fsrs' review_card alone{name}",
            f"{bare:.1f} s ({(t2 - t1) / bare:.2f}x for our replay)")
    conn.close()
    # `study doctor` as the command runs it (the store's connection), each run in a child
    # process for its peak memory
    for label in ("first: repairs every card", "again: nothing to repair"):
        out = subprocess.run([sys.executable, "-c", DOCTOR, str(db)], check=True, cwd=ROOT,
                             capture_output=True, text=True).stdout.split()
        wall, cpu, differed, cards, rss = float(out[0]), float(out[1]), *map(int, out[2:])
        row(f"  `study doctor` ({label}; {differed:,} of {cards:,} cards differed)",
            f"{wall:.1f} s (CPU {cpu:.1f} s), peak RSS {rss / 1024:.0f} MiB", "target < 20 s")


#: One `study doctor` on the store named by argv[1]: wall and CPU seconds, cards that
#: differed, cards, peak RSS in KiB (Linux's VmHWM: ru_maxrss would count the parent's
#: peak, inherited through fork).
DOCTOR = """
import re, resource, sys, time
from cards.store import Store
from study.history import rebuild
from study.settings import Settings
store = Store.open(sys.argv[1])
t0, c0 = time.perf_counter(), time.process_time()
repairs = rebuild(store.db.conn, Settings.from_config(store.config()))
try:
    with open("/proc/self/status") as status:
        peak = int(re.search(r"VmHWM:\\s+(\\d+)", status.read()).group(1))
except OSError:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(time.perf_counter() - t0, time.process_time() - c0, repairs.differed, repairs.cards, peak)
store.close()
"""


def main() -> None:
    from bench.common import NOW  # noqa: F401  (the fixed clock of every store)
    from bench.run import ROWS, bench_answer, bench_due, build_large, row

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000:100000,100000:1000000",
                        help="CARDS:EVENTS pairs, comma separated")
    args = parser.parse_args()
    for size in args.sizes.split(","):
        cards, events = (int(n) for n in size.split(":"))
        with tempfile.TemporaryDirectory() as tmp:
            print(f"{cards:,} cards, {events:,} events:", file=sys.stderr)
            db = build_large(Path(tmp), cards, events)
            bench_due(db, 20)
            bench_answer(db, 300)
            bench_replay(db, row)
    print(f"\nMachine: {platform.platform()}, {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}\n")
    print("| measurement | result | target |\n|---|---|---|")
    for what, figure, target in ROWS:
        print(f"| {what} | {figure} | {target} |")


if __name__ == "__main__":
    main()
