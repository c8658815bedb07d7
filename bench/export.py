"""Benchmark of the Anki export against plain genanki writing the same notes.

    python bench/export.py                 # 100,000 notes
    python bench/export.py --notes 10000   # a smaller run

Not part of the test run. Builds a store of about ``--notes`` notes (tenures
with their successions, organs, events and facts), then times, in the same
run and in alternating order (best of ``--rounds``):

- ``export_apkg``, end to end: the store's tables in, the .apkg on disk out;
- the notes alone (``exports.notes.stream_notes``, listed: fields, GUIDs, ids, tags
  from the store);
- the writers alone, given those same notes: ours (``write_collection`` into a
  file, ``write_package``, the atomic write) and plain genanki (a ``genanki.Note``
  per note with the same fields, tags and GUID, the same ``genanki.Model``s,
  one deck, ``genanki.Package.write_to_file``).

Targets: no slower than plain genanki, the file at most 40% of genanki's.
Both comparisons are printed: writer against writer on the same notes, and
end to end (ours, against the notes plus genanki's writer).

    python bench/export.py --processes --notes 10000 --notes 100000 --notes 300000

runs each side in a fresh interpreter instead, in turn (median of
``--rounds``), and reports each one's wall time and whole-process peak RSS
(``getrusage`` of the child itself) with the growth exponent over the sizes:
``study export anki``'s ``export_apkg`` (with ``now``, as the command calls
it) from the store to the file, and plain genanki given the same notes (read
from the store by ``exports.notes``, one ``genanki.Note`` each, one deck,
``write_to_file``). ``--before DIR`` adds the export of another checkout's
code (say /work/main) on the same store; ``--stores DIR`` keeps the built
stores there for the next run.
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
import zipfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def authoring_file(notes: int) -> str:
    """Records that make about ``notes`` notes: 40% tenures, 30% successions,
    10% each organs, events and facts."""
    tenures = notes * 4 // 10
    offices = tenures // 4
    organs = events = facts = notes // 10
    out = []
    for o in range(organs):
        part_of = f'part_of = "organ-{o // 10}"\n' if o >= 10 else ""
        out.append(f'[[organ]]\nid = "organ-{o}"\nname = "Committee number {o}"\n'
                   f'short = "C{o}"\nkind = "committee"\nfounded = "{1900 + o % 80}"\n{part_of}'
                   f'tags = ["bench"]\nsource = "https://example.org/organ/{o}"\n\n')
    for o in range(offices):
        out.append(f'[[office]]\nid = "office-{o}"\ntitle = "Secretary of body {o}"\n'
                   f'organ = "organ-{o % organs}"\n\n')
    for t in range(tenures):
        office, slot = divmod(t, 4)
        start = 1901 + slot * 10
        out.append(f'[[person]]\nid = "person-{t}"\nname = "Person Number {t}"\n'
                   f'born = "1870-01-01"\ndied = "1990-12-31"\n\n'
                   f'[[tenure]]\nperson = "person-{t}"\noffice = "office-{office}"\n'
                   f'start = "{start}-01-01"\nend = "{start + 10}-01-01"\n'
                   f'tags = ["bench", "tenures of {office % 50}"]\n'
                   f'source = "https://example.org/tenure/{t}"\n'
                   f'note = "Holder number {slot + 1} of office {office}."\n\n')
    for e in range(events):
        out.append(f'[[event]]\nid = "event-{e}"\nname = "Event number {e}"\n'
                   f'date = "{1905 + e % 80}-0{1 + e % 9}-1{e % 10}"\nplace = "Place {e % 300}"\n'
                   f'people = ["person-{e % tenures}"]\norgans = ["organ-{e % organs}"]\n'
                   f'summary = "Something that happened to body {e % organs}."\n'
                   f'tags = ["bench"]\n\n')
    for f in range(facts):
        reverse = "reverse = true\n" if f % 2 else ""
        out.append(f'[[fact]]\nid = "fact-{f}"\nquestion = "What is term {f} & why <it> matters?"\n'
                   f'answer = "The answer to question {f}"\n{reverse}tags = ["bench"]\n\n')
    return "".join(out)


def build_store(work: Path, notes: int) -> Path:
    from cards.authoring import load_and_import
    from cards.store import Store

    source = work / "bench.toml"
    source.write_text(authoring_file(notes), encoding="utf-8")
    db = work / "bench.db"
    t0 = time.perf_counter()
    with Store.open(db) as store:
        report = load_and_import(store, [source], NOW)
    print(f"  built a store of {len(report.added):,} records and {report.cards['total']:,} "
          f"cards in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return db


def counts(apkg: Path) -> tuple[int, int]:
    """Notes and cards in a package's collection."""
    with zipfile.ZipFile(apkg) as package, tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "collection.anki2"
        path.write_bytes(package.read("collection.anki2"))
        conn = sqlite3.connect(path)
        try:
            notes = conn.execute("SELECT count() FROM notes").fetchone()[0]
            cards = conn.execute("SELECT count() FROM cards").fetchone()[0]
        finally:
            conn.close()
    return notes, cards


def best(times: list[float]) -> str:
    return f"{min(times):.2f} s"


def measure(notes: int, rounds: int) -> dict[str, float]:
    """Best times of each step, the sizes of both files and the counts in them."""
    import genanki

    from cards.files import atomic_file
    from cards.store import Store
    from exports.anki import export_apkg, note_model, write_collection, write_package
    from exports.notes import select_notes, stable_id, stream_notes

    timings: dict[str, list[float]] = {"export": [], "notes": [], "ours": [], "genanki": []}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        db = build_store(work, notes)
        ours, mine, plain = work / "export.apkg", work / "writer.apkg", work / "genanki.apkg"
        store = Store.open(db)

        def run_export() -> None:
            t0 = time.perf_counter()
            export_apkg(store, ours, force=True)
            timings["export"].append(time.perf_counter() - t0)

        def run_writers() -> None:
            t0 = time.perf_counter()
            selection = select_notes(store)
            pairs = list(stream_notes(store, selection))
            notes = [n for n, _ in pairs]
            timings["notes"].append(time.perf_counter() - t0)

            t0 = time.perf_counter()
            collection = work / "writer.anki2"
            collection.unlink(missing_ok=True)
            conn = sqlite3.connect(collection)
            conn.execute("PRAGMA journal_mode = OFF")
            conn.execute("PRAGMA synchronous = OFF")
            write_collection(conn, selection, pairs)
            conn.close()
            with atomic_file(mine, force=True) as out:
                write_package(collection, out)
            timings["ours"].append(time.perf_counter() - t0)

            t0 = time.perf_counter()
            models = {kind: note_model(nt) for kind, nt in
                      {n.note_type.kind: n.note_type for n in notes}.items()}
            deck = genanki.Deck(stable_id("secretariat:deck:Secretariat"), "Secretariat")
            for n in notes:
                deck.add_note(genanki.Note(model=models[n.note_type.kind], fields=list(n.fields),
                                           tags=list(n.tags), guid=n.guid))
            genanki.Package(deck).write_to_file(plain)
            timings["genanki"].append(time.perf_counter() - t0)

        for round_ in range(rounds):
            for step in (run_export, run_writers) if round_ % 2 == 0 else (run_writers,
                                                                            run_export):
                step()
            print(f"  round {round_ + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s"
                                                        for k, v in timings.items()),
                  file=sys.stderr)
        store.close()

        found = {path.name: counts(path) for path in (ours, mine, plain)}
        assert len(set(found.values())) == 1, found
        assert ours.read_bytes() == mine.read_bytes()
        note_count, card_count = found[ours.name]
        our_size, plain_size = ours.stat().st_size, plain.stat().st_size

    return {**{k: min(v) for k, v in timings.items()}, "our_size": our_size,
            "plain_size": plain_size, "notes_written": note_count, "cards": card_count}


ROOT = Path(__file__).resolve().parent.parent

#: ``study export anki``'s work, from opening the store to the file on disk.
OURS = """
from datetime import UTC
from cards.store import Store
from exports.anki import export_apkg
from study.settings import Settings
t0 = time.perf_counter()
store = Store.open(sys.argv[1])
export_apkg(store, sys.argv[2], force=True, now=NOW, tz=UTC, settings=Settings())
store.close()
seconds = time.perf_counter() - t0
"""

#: The same notes (as ``exports.notes`` reads them from the store) written by plain genanki.
GENANKI = """
import genanki
from cards.store import Store
from exports.anki import note_model
from exports.notes import collect_notes, stable_id
t0 = time.perf_counter()
store = Store.open(sys.argv[1])
deck = genanki.Deck(stable_id("secretariat:deck:Secretariat"), "Secretariat")
models = {}
for n in collect_notes(store):
    model = models.get(n.note_type.kind)
    if model is None:
        model = models[n.note_type.kind] = note_model(n.note_type)
    deck.add_note(genanki.Note(model=model, fields=list(n.fields), tags=list(n.tags),
                               guid=n.guid))
genanki.Package(deck).write_to_file(sys.argv[2])
store.close()
seconds = time.perf_counter() - t0
"""


def child(code: str, root: Path, *args: str) -> tuple[float, float]:
    """Run ``code`` in a fresh interpreter with ``root``'s packages first on the path:
    (the seconds it reports, its own peak RSS in MiB)."""
    probe = ("import resource, sys, time\n"
             f"sys.path.insert(0, {str(root)!r})\n"
             "from datetime import UTC, datetime\n"
             f"NOW = datetime.fromisoformat({NOW.isoformat()!r})\n"
             f"{code}\n"
             "print(seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n")
    out = subprocess.run([sys.executable, "-c", probe, *args], check=True,
                         capture_output=True, text=True, cwd=root).stdout.split()
    return float(out[-2]), float(out[-1])


def processes(sizes: list[int], rounds: int, stores: Path | None, before: Path | None) -> None:
    """Each side in its own process at each size: median time, peak RSS, growth."""
    import statistics

    sides = {"ours": (OURS, ROOT), "genanki": (GENANKI, ROOT)}
    if before is not None:
        sides["before"] = (OURS, before)
    figures: dict[str, dict[int, tuple[float, float]]] = {side: {} for side in sides}
    found: dict[int, tuple[int, int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for notes in sizes:
            work = (stores or Path(tmp)) / str(notes)
            work.mkdir(parents=True, exist_ok=True)
            db = work / "bench.db"
            if not db.exists():
                build_store(work, notes)
                (work / "bench.toml").unlink()
            runs: dict[str, list[tuple[float, float]]] = {side: [] for side in sides}
            for round_ in range(rounds):
                order = list(sides) if round_ % 2 == 0 else list(reversed(sides))
                for side in order:
                    code, root = sides[side]
                    out = Path(tmp) / f"{side}.apkg"
                    runs[side].append(child(code, root, str(db), str(out)))
                    print(f"  {notes:,} notes, {side}: {runs[side][-1][0]:.2f} s, "
                          f"{runs[side][-1][1]:.0f} MiB", file=sys.stderr, flush=True)
            found[notes] = counts(Path(tmp) / "ours.apkg")
            if before is not None:
                same = (Path(tmp) / "ours.apkg").read_bytes() == (
                    Path(tmp) / "before.apkg").read_bytes()
                print(f"  {notes:,} notes: ours and before byte-identical: {same}",
                      file=sys.stderr, flush=True)
            for side, values in runs.items():
                figures[side][notes] = (statistics.median(t for t, _ in values),
                                        statistics.median(m for _, m in values))
    print(f"\nMachine: {platform.platform()}, Python {platform.python_version()}, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} (1 min), "
          f"{os.getloadavg()[2]:.1f} (15 min); median of {rounds}, each run its own process\n")
    names = {"ours": "`export_apkg` (store to .apkg, with `now`)",
             "before": f"the same, {before}'s code",
             "genanki": "plain genanki, the same notes from the store"}
    print("| side | " + " | ".join(f"{found[n][0]:,} notes ({found[n][1]:,} cards)" for n in sizes)
          + " | growth k |\n|---|" + "---|" * (len(sizes) + 1))
    for i, unit in ((0, "s"), (1, "MiB")):
        for side in sides:
            points = {n: figures[side][n][i] for n in sizes}
            what = "time" if i == 0 else "peak RSS"
            print(f"| {names[side]}: {what} | " + " | ".join(
                f"{v:.2f} {unit}" if i == 0 else f"{v:.0f} {unit}" for v in points.values())
                + f" | {growth(points):.2f} |")
        print(f"| ours / genanki ({'time' if i == 0 else 'peak RSS'}) | " + " | ".join(
            f"{figures['ours'][n][i] / figures['genanki'][n][i]:.2f}x" for n in sizes) + " | |")


def growth(points: dict[int, float]) -> float:
    """The least-squares slope of log(value) against log(size): 1 linear, 0 flat."""
    import math
    import statistics

    xs = [math.log(n) for n in points]
    ys = [math.log(max(v, 1e-9)) for v in points.values()]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return (sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
            / (sum((x - mx) ** 2 for x in xs) or 1.0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, action="append",
                        help="about how many notes (repeat for several sizes; default 100,000)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each, the best counts")
    parser.add_argument("--processes", action="store_true",
                        help="each side in its own process: time and peak RSS")
    parser.add_argument("--stores", type=Path, help="keep the built stores in this folder")
    parser.add_argument("--before", type=Path, help="also time this checkout's export")
    args = parser.parse_args()
    sizes = args.notes or [100_000]
    if args.processes:
        processes(sizes, args.rounds, args.stores, args.before)
        return
    t = measure(sizes[0], args.rounds)
    our_size, plain_size = t["our_size"], t["plain_size"]
    note_count, card_count = int(t["notes_written"]), int(t["cards"])
    print(f"\nMachine: {platform.platform()}, Python {platform.python_version()}, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
          f"best of {args.rounds}\n")
    print(f"{note_count:,} notes, {card_count:,} cards\n")
    print("| | Secretariat | plain genanki | ratio | target |\n|---|---|---|---|---|")
    print(f"| writing the same notes | {t['ours']:.2f} s | {t['genanki']:.2f} s "
          f"| {t['ours'] / t['genanki']:.2f}x | <= 1x |")
    print(f"| store to file (genanki: the same notes + its writer) | {t['export']:.2f} s "
          f"| {t['notes'] + t['genanki']:.2f} s | {t['export'] / (t['notes'] + t['genanki']):.2f}x "
          f"| <= 1x |")
    print(f"| file size | {our_size / 1e6:.1f} MB | {plain_size / 1e6:.1f} MB "
          f"| {our_size / plain_size:.0%} | <= 40% |")
    print(f"\n(Building the notes from the store alone: {t['notes']:.2f} s; the whole export "
          f"is {t['export'] / t['genanki']:.2f}x genanki's writer given ready notes.)")


if __name__ == "__main__":
    main()
