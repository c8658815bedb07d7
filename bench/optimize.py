"""Benchmark of `study optimize` on a realistic history of 100,000 answers.

    python bench/optimize.py             # 100,000 answers
    python bench/optimize.py --reviews 20000

``bench.common.fill_history`` writes answers whose state before is only
``{"state": "review"}``, so no card's history starts with its answer as new
and the optimizer has nothing to train on. ``fill_learner_history`` here
writes what a learner leaves behind instead: each card learnt from new with
two learning steps, then reviewed when due, recalled or forgotten according
to a hidden forgetting curve, with a relearning step after each lapse.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import NOW, tenures_toml  # noqa: E402
from cards.db import iso  # noqa: E402

Row = Callable[..., None]


def fill_learner_history(path: Path, reviews: int, seed: int = 11) -> tuple[int, int]:
    """Write ``reviews`` answers of a simulated learner over two years; returns (answers, cards).

    Each card is started on a random day of the first 700; cards are taken in
    order of position until there are ``reviews`` answers (the store needs
    about one card for every nine answers).
    """
    rng = random.Random(seed)
    conn = sqlite3.connect(path)
    keys = [k for (k,) in conn.execute("SELECT key FROM cards ORDER BY position")]
    start = NOW - timedelta(days=730)
    rows: list[tuple[object, ...]] = []
    used = 0
    for key in keys:
        if len(rows) >= reviews:
            break
        used += 1
        at = start + timedelta(days=rng.randrange(700), hours=rng.uniform(7, 22))
        true_stability = rng.uniform(1.0, 6.0)  # the learner's, in days
        interval = 1.0  # the scheduler's
        # the answer to the new card, then learning steps of 1 and 10 minutes
        rows.append(_row(key, 1 if rng.random() < 0.2 else 3, at, "new", 0.0))
        at += timedelta(minutes=1)
        rows.append(_row(key, 3, at, "learning", 0.0))
        at += timedelta(minutes=10)
        rows.append(_row(key, 3, at, "learning", interval))
        while True:
            elapsed = interval * rng.uniform(1.0, 1.3)  # answered when due, or a little late
            at += timedelta(days=elapsed)
            if at >= NOW or len(rows) >= reviews:
                break
            if rng.random() < 0.9 ** (elapsed / true_stability):
                rating = rng.choices((2, 3, 4), (1, 8, 1))[0]
                true_stability *= rng.uniform(2.0, 3.5)
                interval = min(3650.0, interval * (1.5 if rating == 2 else 3.0 if rating == 4
                                                   else 2.4))
                rows.append(_row(key, rating, at, "review", interval))
            else:
                true_stability = max(0.5, true_stability * 0.4)
                interval = max(1.0, interval * 0.3)
                rows.append(_row(key, 1, at, "review", 10 / 1440))
                at += timedelta(minutes=10)
                rows.append(_row(key, 3, at, "relearning", interval))
    del rows[reviews:]
    conn.executemany("INSERT INTO reviews (card_key, rating, reviewed_at, duration_ms, "
                     "state_before, state_after, interval_days, buried) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, '[]')", rows)
    conn.commit()
    conn.close()
    return len(rows), used


def _row(key: str, rating: int, at: datetime, state: str, interval: float) -> tuple[object, ...]:
    before = json.dumps({"state": state})
    after = json.dumps({"state": "review" if interval >= 1 else "learning"})
    return (key, rating, iso(at), 3000, before, after, interval)


def build_store(work: Path, reviews: int) -> Path:
    """A store of about one (tenure) card for every six answers wanted, with no history yet."""
    from cards.authoring import load_and_import
    from cards.store import Store

    source = work / "optimize.toml"
    source.write_text(tenures_toml(int(reviews / 6 / 4.5) + 8))
    db = work / "optimize.db"
    store = Store.open(db)
    load_and_import(store, [source], NOW)
    store.close()
    return db


def bench_optimize(work: Path, row: Row, reviews: int = 100_000, db: Path | None = None) -> None:
    """Time ``study.optimize.optimize`` on ``reviews`` answers (in ``db``, else in a new store)."""
    from cards.store import Store
    from study.optimize import history_items, optimize
    from study.settings import DEFAULT_PARAMETERS

    if db is None:
        t0 = time.perf_counter()
        db = build_store(work, reviews)
        written, cards = fill_learner_history(db, reviews)
        print(f"  built {cards:,} cards and {written:,} answers in "
              f"{time.perf_counter() - t0:.1f} s", file=sys.stderr)
    store = Store.open(db)
    conn = store.db.conn
    answers = conn.execute("SELECT count(*) FROM reviews").fetchone()[0]
    t0 = time.perf_counter()
    items = history_items(conn, NOW, tz=UTC)
    t1 = time.perf_counter()
    result = optimize(conn, DEFAULT_PARAMETERS, now=NOW, tz=UTC)
    t2 = time.perf_counter()
    store.close()
    row(f"`study optimize` on {answers:,} answers ({len(items):,} training items)",
        f"{t2 - t1:.2f} s (reading the history alone {t1 - t0:.2f} s)", "target < 10 s")
    row("  log loss, RMSE (bins): default -> fitted parameters",
        f"{result.current.log_loss:.4f}, {result.current.rmse:.4f} -> "
        f"{result.fitted.log_loss:.4f}, {result.fitted.rmse:.4f}")


def main() -> None:
    import os
    import platform
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviews", type=int, default=100_000, help="answers in the history")
    args = parser.parse_args()

    def row(what: str, figure: str, target: str = "") -> None:
        print(f"| {what} | {figure} | {target} |", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        print(f"Machine: {platform.platform()}, Python {platform.python_version()}, "
              f"{os.cpu_count()} cores\n")
        print("| measurement | result | target |\n|---|---|---|")
        bench_optimize(Path(tmp), row, args.reviews)


if __name__ == "__main__":
    main()
