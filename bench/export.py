"""Benchmark of the Anki export against plain genanki writing the same notes.

    python bench/export.py                 # 100,000 notes
    python bench/export.py --notes 10000   # a smaller run

Not part of the test run. Builds a store of about ``--notes`` notes (tenures
with their successions, organs, events and facts), then times, in the same
run and in alternating order (best of ``--rounds``):

- ``export_apkg``, end to end: the store's tables in, the .apkg on disk out;
- the notes alone (``collect_notes``: fields, GUIDs, ids, tags from the store);
- the writers alone, given those same notes: ours (``collection_bytes``,
  ``package_bytes``, the atomic write) and plain genanki (a ``genanki.Note``
  per note with the same fields, tags and GUID, the same ``genanki.Model``s,
  one deck, ``genanki.Package.write_to_file``).

Targets: no slower than plain genanki, the file at most 40% of genanki's.
Both comparisons are printed: writer against writer on the same notes, and
end to end (ours, against the notes plus genanki's writer).
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
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

    from cards.files import write_atomic
    from cards.store import Store
    from exports.anki import collection_bytes, export_apkg, note_model, package_bytes
    from exports.notes import collect_notes, stable_id

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
            notes = collect_notes(store)
            timings["notes"].append(time.perf_counter() - t0)

            t0 = time.perf_counter()
            write_atomic(mine, package_bytes(collection_bytes(notes)), force=True)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=100_000, help="about how many notes")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each, the best counts")
    args = parser.parse_args()
    t = measure(args.notes, args.rounds)
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
