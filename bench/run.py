"""Secretariat's benchmarks: one command, one table.

    python bench/run.py            # the sizes the issues ask for
    python bench/run.py --quick    # a tenth of them, for a smoke test
    python bench/run.py --scaling  # each measure at several sizes, with its growth exponent

Not part of the test run. Prints a Markdown table with the machine it ran on.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from io import StringIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import NOW, fill_history, tenures_toml  # noqa: E402

ROWS: list[tuple[str, str, str]] = []


def row(what: str, figure: str, target: str = "") -> None:
    ROWS.append((what, figure, target))
    print(f"  {what}: {figure}  {target}", file=sys.stderr, flush=True)


def bench_import(work: Path, tenures: int) -> None:
    from cards.authoring import load_and_import
    from cards.listing import list_cards
    from cards.store import Store

    path = work / "tenures.toml"
    path.write_text(tenures_toml(tenures))
    store = Store.open(work / "import.db")
    t0 = time.perf_counter()
    report = load_and_import(store, [path], NOW)
    t1 = time.perf_counter()
    cards = list_cards(store)
    t2 = time.perf_counter()
    records = len(report.added)
    row(f"import {tenures:,} tenures ({records:,} records, {report.cards['total']:,} cards)",
        f"{t1 - t0:.2f} s", "target < 3 s")
    row(f"list {len(cards):,} cards", f"{t2 - t1:.2f} s")
    store.close()


def build_large(work: Path, cards_wanted: int, reviews: int) -> Path:
    from cards.authoring import load_and_import
    from cards.store import Store

    path = work / "large.toml"
    # 4 tenures an office give 12 tenure cards and 6 succession cards: 4.5 cards a tenure
    path.write_text(tenures_toml(int(cards_wanted / 4.5) + 4))
    db = work / "large.db"
    store = Store.open(db)
    load_and_import(store, [path], NOW)
    store.close()
    t0 = time.perf_counter()
    n = fill_history(db, reviews)
    print(f"  built {n:,} cards and {reviews:,} reviews in {time.perf_counter() - t0:.1f} s",
          file=sys.stderr)
    return db


def bench_due(db: Path, runs: int) -> None:
    from bench.due import measure

    t = measure(db, NOW.isoformat(), runs)
    row("`study due --json`, regular install (median wall time, round-robin)",
        f"{t['due'] * 1000:.0f} ms",
        f"{t['ratio']:.2f}x `python -c pass` ({t['bare'] * 1000:.0f} ms); CPU time "
        f"{t['cpu_ratio']:.2f}x; target <= 2.5x")


def answer_gaps(db: Path, answers: int, ties: int = 9_000) -> list[float]:
    """Seconds from each answer to the next card drawn, sorted (see ``answer_times``)."""
    return answer_times(db, answers, ties)[0]


def answer_times(db: Path, answers: int, ties: int = 9_000) -> tuple[list[float], list[float]]:
    """Seconds from each answer to the next card drawn, wall and CPU, each sorted;
    ``ties`` review cards first get one due time, at the head of the queue.

    That is the queue after an edit reset many cards: each card shown is
    picked from a group of thousands that tie on their due time. Each answer
    is committed before the next card is chosen; after drawing it, the
    session does what the terminal does while the learner reads (``idle``).
    """
    import sqlite3
    from zoneinfo import ZoneInfo

    from cards.db import iso
    from cards.store import Store
    from study.session import ReviewSession
    from study.settings import Settings
    from study.terminal import PlainView

    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE cards SET due = ? WHERE key IN (SELECT key FROM cards "
                     "WHERE state = 'review' ORDER BY position LIMIT ?)",
                     [iso(NOW - timedelta(days=5)), ties])
    conn.close()
    store = Store.open(db)
    session = ReviewSession(store, Settings(reviews_per_day=99_999), ZoneInfo("UTC"))
    view = PlainView(StringIO())
    shown = session.next(NOW)
    assert shown is not None
    walls, cpus = [], []
    for i in range(answers):
        c0, t0 = time.process_time(), time.perf_counter()
        session.answer(shown, 3 if i % 5 else 1, NOW, 2000)
        shown = session.next(NOW)
        assert shown is not None
        view.card(shown.counts or session.counts(NOW), i, shown)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        session.idle()  # as the terminal does once the card is drawn
    store.close()
    return sorted(walls), sorted(cpus)


def percentiles(times: list[float]) -> str:
    """p50, p95 and p99 of sorted seconds, in milliseconds."""
    return ", ".join(f"p{q} {times[min(len(times) - 1, len(times) * q // 100)] * 1000:.1f}"
                     for q in (50, 95, 99))


def bench_answer(db: Path, answers: int, ties: int = 9_000) -> None:
    import sqlite3

    conn = sqlite3.connect(db)
    reviews = conn.execute("SELECT COUNT(*) FROM reviews").fetchone()[0]
    conn.close()
    walls, cpus = answer_times(db, answers, ties)
    row(f"answer -> next card shown ({answers} answers, {reviews:,} reviews, "
        f"{ties:,} cards tied on one due time), wall; CPU",
        f"{percentiles(walls)} ms; {percentiles(cpus)} ms", "target p95 < 5 ms")


def bench_answer_sizes(work: Path, scale: int, db: Path | None = None) -> None:
    """Answer -> next card at 1,000,000 reviews (``db`` if given, else built), then with
    4,000,000 more (5,000,000 reviews; fill_history's direct inserts: about 5 minutes)."""
    from bench.common import fill_history

    db = db or build_large(work, 100_000 // scale, 1_000_000 // scale)
    for more in (0, 4_000_000 // scale):
        if more:
            t0 = time.perf_counter()
            fill_history(db, more, seed=8)
            print(f"  added {more:,} reviews in {time.perf_counter() - t0:.1f} s",
                  file=sys.stderr)
        copy = work / "answer.db"
        shutil.copy(db, copy)
        bench_answer(copy, 300)
        for path in work.glob("answer.db*"):
            path.unlink()


def bench_export(notes: int, rounds: int) -> None:
    from bench.export import measure

    t = measure(notes, rounds)
    plain_end_to_end = t["notes"] + t["genanki"]
    row(f"Anki export of {int(t['notes_written']):,} notes ({int(t['cards']):,} cards), "
        f"best of {rounds}: writer vs plain genanki on the same notes",
        f"{t['ours']:.2f} s vs {t['genanki']:.2f} s ({t['ours'] / t['genanki']:.2f}x)",
        "target <= 1x")
    row("  store to .apkg vs the same notes built and written by plain genanki",
        f"{t['export']:.2f} s vs {plain_end_to_end:.2f} s "
        f"({t['export'] / plain_end_to_end:.2f}x)", "target <= 1x")
    row("  file size vs plain genanki",
        f"{t['our_size'] / 1e6:.1f} MB vs {t['plain_size'] / 1e6:.1f} MB "
        f"({t['our_size'] / t['plain_size']:.0%})", "target <= 40%")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes")
    parser.add_argument("--scaling", action="store_true",
                        help="each measure at several sizes, with its growth exponent")
    parser.add_argument("--answer", action="store_true",
                        help="only answer -> next card, at 1,000,000 and 5,000,000 reviews")
    args = parser.parse_args()
    if args.scaling:
        from bench.scaling import main as scaling

        table = scaling(args.quick)
        print(f"\nMachine: {platform.platform()}, {platform.processor() or platform.machine()}, "
              f"Python {platform.python_version()}, {os.cpu_count()} cores, "
              f"load average {os.getloadavg()[0]:.1f}\n")
        print("\n".join(table))
        return
    scale = 10 if args.quick else 1
    if args.answer:
        with tempfile.TemporaryDirectory() as tmp:
            bench_answer_sizes(Path(tmp), scale)
        _table()
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        print("import:", file=sys.stderr)
        bench_import(work, 10_000 // scale)
        print("large store:", file=sys.stderr)
        db = build_large(work, 100_000 // scale, 1_000_000 // scale)
        bench_due(db, 30)
        from bench.stats import bench_stats

        print("stats:", file=sys.stderr)
        bench_stats(db, row)
        from bench.history import bench_replay

        print("review log:", file=sys.stderr)
        bench_replay(db, row)
        print("answer -> next card:", file=sys.stderr)
        bench_answer_sizes(work, scale, db)
        for path in work.glob("large.*"):
            path.unlink()
        print("optimize:", file=sys.stderr)
        from bench.optimize import bench_optimize

        bench_optimize(work, row, 100_000 // scale)
        print("export:", file=sys.stderr)
        bench_export(100_000 // scale, 1 if args.quick else 3)
        print("listing (streamed --json):", file=sys.stderr)
        from bench.listing import bench_listing

        bench_listing(work, row, (50_000 // scale, 500_000 // scale), 1 if args.quick else 3)
        print("card families:", file=sys.stderr)
        from bench.cards import bench_cards

        bench_cards(row, (1_000, 10_000) if args.quick else (10_000, 100_000),
                    1 if args.quick else 3)
        print("anki sync:", file=sys.stderr)
        from bench.sync import bench_sync

        try:
            import anki.collection  # noqa: F401
        except ImportError:
            row("Anki sync", "skipped: the anki package is not installed")
        else:
            bench_sync(work, row, [2_000 // scale, 20_000 // scale])
    _table()


def _table() -> None:
    print(f"\nMachine: {platform.platform()}, {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}\n")
    print("| measurement | result | target |\n|---|---|---|")
    for what, figure, target in ROWS:
        print(f"| {what} | {figure} | {target} |")


if __name__ == "__main__":
    main()
