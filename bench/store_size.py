"""What a first import writes: store size by table, and the time of the import and
of re-imports, for this checkout and optionally an older one, round-robin.

    python bench/store_size.py 10000 30000                      # this checkout
    python bench/store_size.py --before /tmp/base --rounds 3 10000 30000

Each run is a fresh process importing N tenures (with their people, offices and
organs, bench/common.py) into a fresh store; then the same file with one person
renamed, then with one tenure's end moved (both incremental), then a listing of
every card (``iter_cards``, which reads the card groups). Times are medians of
the rounds, wall and CPU; sizes come from SQLite's ``dbstat``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, os, sys, time
from datetime import timedelta
sys.path.insert(0, sys.argv[1])
from bench.common import NOW
from cards.authoring import load_and_import
from cards.listing import iter_cards
from cards.store import Store
toml, db = sys.argv[2], sys.argv[3]
text = open(toml).read()
out = {}
def timed(name, call):
    t0, c0 = time.perf_counter(), time.process_time()
    call()
    out[name] = (time.perf_counter() - t0, time.process_time() - c0)
store = Store.open(db)
timed("first import", lambda: load_and_import(store, [toml], NOW))
store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
out["cards"] = store.db.execute("SELECT COUNT(*) FROM cards").fetchone()[0]
out["tables"] = dict(store.db.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"))
out["bytes"] = os.path.getsize(db)
edits = [("one person renamed", 'name = "Person Number 7"\n', 'name = "Person Number 7b"\n'),
         ("one tenure's end moved", 'end = "1921-01-01"\ntags = ["bench"]\nsource = '
          '"https://example.org/5"', 'end = "1920-06-01"\ntags = ["bench"]\nsource = '
          '"https://example.org/5"')]
for day, (name, old, new) in enumerate(edits, 1):
    assert old in text
    with open(toml, "w") as f:
        f.write(text.replace(old, new))
    timed(f"re-import, {name}", lambda: load_and_import(store, [toml], NOW + timedelta(days=day)))
timed("list every card (iter_cards)", lambda: sum(1 for _ in iter_cards(store)))
with open(toml, "w") as f:
    f.write(text)
store.close()
print(json.dumps(out))
"""


def child(root: Path, toml: Path, db: Path) -> dict[str, object]:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    done = subprocess.run([sys.executable, "-c", CHILD, str(root), str(toml), str(db)],
                          capture_output=True, text=True, check=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    result: dict[str, object] = json.loads(done.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[10_000, 30_000])
    parser.add_argument("--before", type=Path, help="an older checkout to compare with")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from bench.common import tenures_toml

    roots = {"after": ROOT} | ({"before": args.before} if args.before else {})
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            toml = Path(tmp) / f"t{n}.toml"
            toml.write_text(tenures_toml(n))
            runs: dict[str, list[dict[str, object]]] = {name: [] for name in roots}
            for _ in range(args.rounds):  # round-robin: the same load for both
                for name, root in roots.items():
                    runs[name].append(child(root, toml, Path(tmp) / f"{name}.db"))
            print(f"\n## {n:,} tenures, {runs['after'][0]['cards']:,} cards "
                  f"(load average {os.getloadavg()[0]:.2f})")
            print("| measure | " + " | ".join(roots) + " |")
            print("|---|" + "---|" * len(roots))
            for measure in [k for k in runs["after"][0] if isinstance(runs["after"][0][k], list)]:
                cells = []
                for name in roots:
                    wall = statistics.median(r[measure][0] for r in runs[name])  # type: ignore
                    cpu = statistics.median(r[measure][1] for r in runs[name])  # type: ignore
                    cells.append(f"{wall:.2f} s (CPU {cpu:.2f} s)")
                print(f"| {measure} | " + " | ".join(cells) + " |")
            print("| store, MB | " + " | ".join(
                f"{runs[name][0]['bytes'] / 1e6:.1f}" for name in roots) + " |")
            tables: dict[str, dict[str, int]] = {
                name: runs[name][0]["tables"] for name in roots}  # type: ignore
            names = sorted({t for ts in tables.values() for t in ts},
                           key=lambda t: -max(ts.get(t, 0) for ts in tables.values()))
            for t in names:
                if max(ts.get(t, 0) for ts in tables.values()) >= 500_000:
                    print(f"| {t}, MB | " + " | ".join(
                        f"{tables[name].get(t, 0) / 1e6:.1f}" for name in roots) + " |")


if __name__ == "__main__":
    main()
