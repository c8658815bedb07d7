"""Card generation and the card checks at two sizes: is every family linear?

    python bench/cards.py            # 10,000 and 100,000 records
    python bench/cards.py --quick    # 1,000 and 10,000

Builds a record set of every kind in memory (records as ``cards.records``
normalises them): people with tenures of offices (four holders an office,
some acting, some offices taking over another's role), organs in chains of
successors, events tagged and tied to organs (so that heads, chronology and
lineage all have work), and facts. Times, in the same run: generating every
family with the quality gate (``cards.generate.generate_checked``), and
``cards.check.check`` (the record checks and the card checks) on the set.
The growth from the small size to the large one is the ratio of the times
divided by the ratio of the sizes: 1.0 is linear, 10 would be quadratic.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cards.registry import Records  # noqa: E402

Row = Callable[[str, str, str], None]


def records(n: int) -> Records:
    """About ``n`` records: a fifth tenures, with their people, offices, organs, events, facts."""
    out: Records = {k: {} for k in ("person", "organ", "office", "tenure", "event", "fact")}
    tenures = n // 5
    offices = max(1, tenures // 4)
    organs = max(3, offices // 2)
    events = n // 5
    facts = n - tenures * 2 - offices - organs - events
    for o in range(organs):
        rec: dict[str, Any] = {"id": f"organ-{o}", "name": f"Body number {o}",
                               "short": f"B{o}", "founded": f"{1800 + o % 100}",
                               "tags": [f"area-{o % 7}"]}
        if o % 5:  # chains of five successor organs
            rec["succeeded_by"] = f"organ-{o + 1}" if o + 1 < organs else "organ-0"
        if o % 3 == 0 and o:
            rec["part_of"] = f"organ-{o - 1}"
        if o % 4 == 0:
            rec["summary"] = f"ran district {o} of the country"
        out["organ"][rec["id"]] = rec
    for f in range(offices):
        rec = {"id": f"office-{f}", "title": f"Secretary of body {f}",
               "organ": f"organ-{f % organs}"}
        if f % 10 == 1:
            rec["succeeded_by"] = f"office-{f + 1}" if f + 1 < offices else "office-0"
        out["office"][rec["id"]] = rec
    for t in range(tenures):
        office, slot = divmod(t, 4)
        start = 1801 + slot * 10 + (office % 50)
        out["person"][f"person-{t}"] = {"id": f"person-{t}", "name": f"Person Number {t}",
                                        "born": f"{start - 40}", "died": f"{start + 40}",
                                        **({"summary": f"leader of area {t % 9}"} if t % 3
                                           else {})}
        rec = {"id": f"t-{t}", "person": f"person-{t}", "office": f"office-{office % offices}",
               "start": f"{start}-01-01", "end": f"{start + 10}-01-01",
               "tags": [f"area-{office % 7}"]}
        if t % 17 == 0:
            rec["acting"] = True
        if t % 23 == 0:
            rec["title"] = f"First Secretary of body {office}"
        out["tenure"][rec["id"]] = rec
    for e in range(events):
        year = 1801 + (e * 7) % 200
        rec = {"id": f"event-{e}", "name": f"Event number {e}", "date": f"{year}-0{1 + e % 9}",
               "tags": [f"area-{e % 7}", f"area-{e % 7}::sub-{e % 3}"],
               "organs": [f"organ-{e % organs}"], "people": [f"person-{e % max(1, tenures)}"],
               "summary": f"Something happened in place {e}."}
        out["event"][rec["id"]] = rec
    for q in range(max(0, facts)):
        out["fact"][f"fact-{q}"] = {"id": f"fact-{q}", "question": f"What is term {q}?",
                                    "answer": f"Meaning number {q}", "reverse": q % 2 == 0}
    return out


def _median(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def bench_cards(row: Row, sizes: tuple[int, int] = (10_000, 100_000), runs: int = 3) -> None:
    from cards.check import check
    from cards.generate import generate_checked

    measured = {}
    for n in sizes:
        recs = records(n)
        count = sum(len(v) for v in recs.values())
        seconds, result = _median(lambda recs=recs: generate_checked(recs), runs)
        kinds = Counter(c.kind for c in result.cards)
        row(f"generate every family + gate, {count:,} records -> {len(result.cards):,} cards "
            f"(median of {runs})", f"{seconds:.2f} s",
            "target < 5 s at 100,000" if n == sizes[-1] else "")
        row(f"  cards by family at {count:,} records",
            ", ".join(f"{k} {v:,}" for k, v in kinds.items()), "")
        check_seconds, findings = _median(lambda recs=recs: check(recs), runs)
        row(f"`study check` (records + cards), {count:,} records, {len(result.cards):,} cards "
            f"(median of {runs})", f"{check_seconds:.2f} s ({len(findings):,} findings)",
            "target < 5 s at 100,000 cards" if n == sizes[-1] else "")
        measured[n] = (count, len(result.cards), seconds, check_seconds)
    (c0, k0, g0, s0), (c1, k1, g1, s1) = measured[sizes[0]], measured[sizes[-1]]
    row(f"growth {sizes[0]:,} -> {sizes[-1]:,} records (time ratio / size ratio; 1.0 = linear)",
        f"generate {g1 / g0 / (c1 / c0):.2f}, check {s1 / s0 / (k1 / k0):.2f}", "linear")
    # `study check` on a store of about 100,000 cards (the size for the check)
    wanted = sizes[-1]
    recs = records(int(wanted / (k1 / c1)))
    check_seconds, findings = _median(lambda: check(recs), runs)
    cards = len(generate_checked(recs).cards)
    row(f"`study check` (records + cards), {sum(len(v) for v in recs.values()):,} records, "
        f"{cards:,} cards (median of {runs})", f"{check_seconds:.2f} s",
        f"target < 5 s at {wanted:,} cards")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 and 10,000 records")
    args = parser.parse_args()

    def row(what: str, figure: str, target: str) -> None:
        print(f"| {what} | {figure} | {target} |", flush=True)

    bench_cards(row, (1_000, 10_000) if args.quick else (10_000, 100_000))


if __name__ == "__main__":
    main()
