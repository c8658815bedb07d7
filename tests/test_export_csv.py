"""The CSV export (exports/csv.py), checked with Anki's own CSV importer."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from anki.collection import Collection
from anki.import_export_pb2 import ImportCsvRequest
from helpers import DECK, T0
from test_export_anki import (
    CARDS,
    NOTES,
    anki_cards,
    collection,
    import_apkg,
    leftovers,
    live_cards,
    study,
    update,
    visible,
)

from cards.store import Store
from exports.anki import export_apkg
from exports.csv import export_csv, header
from exports.notes import NOTE_TYPES, collect_notes


@pytest.fixture
def store(deck: Path) -> Store:
    """The shared test deck."""
    return Store.open(deck)


def import_csv(col: Collection, path: Path) -> Any:
    """Import as Anki's import dialog does: the metadata Anki reads from the file."""
    metadata = col.get_csv_metadata(str(path), None)
    return col.import_csv(ImportCsvRequest(path=str(path), metadata=metadata)).log


def rendered(col: Collection) -> dict[str, tuple[str, str, str]]:
    """Each card's deck, question and answer, as Anki shows them, by store key."""
    return {key: (col.decks.name(card.did), visible(card.question()), visible(card.answer()))
            for key, card in anki_cards(col).items()}


def with_note_types_only(tmp_path: Path, store: Store, name: str) -> Collection:
    """A collection that has Secretariat's note types but none of its notes:
    a package imported once, its notes deleted."""
    export_apkg(store, tmp_path / f"{name}.apkg", force=True)
    col = collection(tmp_path / name / "collection.anki2")
    import_apkg(col, tmp_path / f"{name}.apkg")
    col.remove_notes(col.find_notes(""))
    assert col.card_count() == 0
    used = {row["record_kind"] for row in store.card_rows()}
    assert {NOTE_TYPES[kind].name for kind in used} <= {m.name for m in
                                                        col.models.all_names_and_ids()}
    return col


@pytest.mark.parametrize("separator", ["tab", "comma"])
def test_csv_makes_the_same_cards_as_the_package(store: Store, tmp_path: Path,
                                                 separator: str) -> None:
    export_apkg(store, tmp_path / "out.apkg", split_by="kind")
    from_package = collection(tmp_path / "package" / "collection.anki2")
    import_apkg(from_package, tmp_path / "out.apkg")

    export_csv(store, tmp_path / "out.csv", split_by="kind", separator=separator)
    col = with_note_types_only(tmp_path, store, "text")
    log = import_csv(col, tmp_path / "out.csv")
    assert len(log.new) == NOTES
    assert not log.missing_notetype and not log.missing_deck and not log.conflicting
    assert col.note_count() == NOTES
    assert col.card_count() == len(live_cards(store)) == from_package.card_count()
    assert rendered(col) == rendered(from_package)
    guids = {n.key: n.guid for n in collect_notes(store)}
    for key, card in anki_cards(col).items():
        note = card.note()
        assert note.guid == guids[note["Key"]]
        assert sorted(note.tags) == sorted(anki_cards(from_package)[key].note().tags)
    col.close()
    from_package.close()


def test_csv_over_an_imported_package_updates_in_place(store: Store, tmp_path: Path) -> None:
    export_apkg(store, tmp_path / "out.apkg")
    col = collection(tmp_path / "anki" / "collection.anki2")
    import_apkg(col, tmp_path / "out.apkg")
    before = {key: card.id for key, card in anki_cards(col).items()}
    update(store, DECK.replace('place = "Moscow"', 'place = "the Kremlin, Moscow"'), days=1)
    export_csv(store, tmp_path / "out.csv")
    log = import_csv(col, tmp_path / "out.csv")
    assert col.note_count() == NOTES
    assert {key: card.id for key, card in anki_cards(col).items()} == before
    assert [n.fields[0] for n in log.updated] == ["event:secret-speech"]
    card = anki_cards(col)["event:secret-speech:date"]
    assert "Secret Speech: 25 February 1956, the Kremlin, Moscow" in card.answer()
    col.close()


def test_header_and_rows(store: Store, tmp_path: Path) -> None:
    result = export_csv(store, tmp_path / "out.csv")
    assert (result.notes, result.cards) == (NOTES, len(live_cards(store)))
    text = (tmp_path / "out.csv").read_text(encoding="utf-8")
    assert text.startswith("#separator:tab\n#html:true\n#notetype column:1\n#deck column:2\n"
                           "#guid column:3\n#tags column:4\n")
    assert header("comma").startswith("#separator:comma\n")
    rows = list(csv.reader(text.splitlines()[6:], delimiter="\t"))
    assert len(rows) == NOTES
    assert len({len(row) for row in rows}) == 1
    notes = collect_notes(store)
    for row, note in zip(rows, notes, strict=True):
        assert row[:4] == [note.note_type.name, "Secretariat", note.guid,
                           " ".join(f"Secretariat::{t}" for t in note.tags)]
        assert tuple(row[4:4 + len(note.fields)]) == note.fields
        assert not any(row[4 + len(note.fields):])


def test_csv_exports_a_part(store: Store, tmp_path: Path) -> None:
    result = export_csv(store, tmp_path / "out.csv", kind="succession", deck="History")
    assert (result.notes, result.cards, result.decks) == (1, 2, ("History",))


def test_command_writes_the_csv(store: Store, tmp_path: Path) -> None:
    store.close()
    db, out = str(tmp_path / "study.db"), tmp_path / "out.csv"
    result = study("--db", db, "export", "csv", str(out), "--separator", "comma")
    assert result.exit_code == 0, result.output
    assert result.output == f"Wrote {out}: {NOTES} notes, {CARDS} cards\n"
    assert out.read_text(encoding="utf-8").startswith("#separator:comma\n")
    result = study("--db", db, "export", "csv", str(out))
    assert result.exit_code == 1
    assert result.output == f"Error: {out}: already exists; use --force to overwrite it\n"
    result = study("--db", db, "export", "csv", str(tmp_path / "new.csv"), "--tag", "none")
    assert result.exit_code == 1
    assert result.output == ("Warning: no record has the tag 'none'; `study tags` lists them\n"
                             "Error: nothing to export: no cards match --tag none\n")
    assert not (tmp_path / "new.csv").exists()
    assert leftovers(tmp_path) == []


@pytest.mark.slow
def test_the_csv_export_does_not_load_genanki() -> None:
    """Only the .apkg needs genanki; `study export csv` must not pay for loading it."""
    import subprocess
    import sys

    probe = "import sys, exports.csv; print(sorted(m for m in sys.modules if 'genanki' in m))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_starter_deck_csv_makes_the_same_cards_as_the_package(tmp_path: Path) -> None:
    """Every family of the starter deck (heads, lineage, chronology, ...) through the CSV."""
    from cards.starter import load_starter

    store = Store.open(tmp_path / "starter.db")
    load_starter(store, T0)
    export_apkg(store, tmp_path / "out.apkg", split_by="kind")
    from_package = collection(tmp_path / "package" / "collection.anki2")
    import_apkg(from_package, tmp_path / "out.apkg")
    export_csv(store, tmp_path / "out.csv", split_by="kind")
    col = with_note_types_only(tmp_path, store, "text")
    log = import_csv(col, tmp_path / "out.csv")
    assert not log.missing_notetype and not log.missing_deck and not log.conflicting
    assert col.note_count() == len(log.new) == from_package.note_count()
    assert col.card_count() == len(live_cards(store)) == from_package.card_count()
    assert rendered(col) == rendered(from_package)
    col.close()
    from_package.close()
