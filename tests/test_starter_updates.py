"""`study init` again: the starter records are updated, the user's own are not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cards import starter
from cards.authoring import load_and_import
from cards.db import iso
from cards.store import Store
from study.session import ReviewSession
from study.settings import Settings

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
OWN = """
[[person]]
id = "stalin"
name = "Iosif Dzhugashvili"
tags = ["mine"]

[[fact]]
id = "mine"
question = "Whose record is this?"
answer = "Mine"
"""


def test_a_record_of_mine_under_a_starter_id_is_kept(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.db")  # as after `study init --empty`
    own = tmp_path / "own.toml"
    own.write_text(OWN)
    load_and_import(store, [own], T0)
    report = starter.load_starter(store, T0)
    assert report.kept == [("person", "stalin")]
    assert store.get("person", "stalin")["name"] == "Iosif Dzhugashvili"
    assert store.exists("fact", "mine")
    # the starter's tenures of Stalin now point at the user's record: still consistent
    assert store.exists("tenure", "stalin--cpsu-general-secretary--1922-04-03")
    again = starter.load_starter(store, T0 + timedelta(days=1))
    assert again.kept == [("person", "stalin")] and not again.changed


def test_a_starter_record_is_updated_and_a_dropped_one_removed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store.open(tmp_path / "s.db")
    starter.load_starter(store, T0)
    text = starter.starter_text()
    edited = text.replace('name = "Vladimir Lenin"', 'name = "V. I. Lenin"')
    start = edited.index('[[fact]]\nid = "kulak"')
    edited = edited[:start] + edited[edited.index("[[fact]]", start + 5):]
    assert edited != text and 'id = "kulak"' not in edited
    monkeypatch.setattr(starter, "starter_text", lambda: edited)
    report = starter.load_starter(store, T0 + timedelta(days=1))
    assert report.changed == [("person", "lenin")]
    assert report.removed == [("fact", "kulak")]
    assert not store.exists("fact", "kulak")
    retired = store.card_rows("key = 'fact:kulak:forward'")[0]
    assert retired["retired"] == 1
    assert store.get("person", "lenin")["name"] == "V. I. Lenin"


def test_a_dropped_starter_record_that_i_use_stays(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store.open(tmp_path / "s.db")
    starter.load_starter(store, T0)
    own = tmp_path / "own.toml"
    own.write_text('[[event]]\nid = "my-event"\nname = "Something"\ndate = "1925"\n'
                   'people = ["zinoviev"]\n')
    load_and_import(store, [own], T0)
    text = starter.starter_text()
    start = text.index('[[person]]\nid = "zinoviev"')
    edited = text[:start] + text[text.index("[[person]]", start + 5):]
    edited = edited.replace('"zinoviev", ', "").replace(', "zinoviev"', "")
    monkeypatch.setattr(starter, "starter_text", lambda: edited)
    report = starter.load_starter(store, T0)
    assert ("person", "zinoviev") not in report.removed
    assert store.exists("person", "zinoviev")


FIXTURES = Path(__file__).parent / "fixtures"
#: cards of the first starter deck whose records the second keeps, some with corrected dates
KEPT = {
    "tenure:khrushchev--cpsu-first-secretary--1953-09-14:dates": "1953–1964",
    "tenure:zhao-ziyang--ccp-general-secretary--1987-01-15:holder": "Zhao Ziyang",
    "tenure:stalin--cpsu-general-secretary--1922-04-03:holder": "Joseph Stalin",
    "organ:cpsu-secretariat:founded": "1917",
    "event:bukharin-trial:date": "1938",
}
DROPPED = "organ:sovnarkom:founded"  # the sheet has no Sovnarkom organ


def test_a_store_that_reviewed_the_first_deck_keeps_its_history(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store.open(tmp_path / "s.db")
    first = (FIXTURES / "starter-v1.toml").read_text(encoding="utf-8")
    monkeypatch.setattr(starter, "starter_text", lambda: first)
    starter.load_starter(store, T0)
    session = ReviewSession(store, Settings(fuzz=False), ZoneInfo("UTC"))
    for key in [*KEPT, DROPPED]:
        [row] = store.card_rows("key = ?", [key])
        session.answer(session.show(row, "new", T0), 3, T0, 1000)
    reviews = store.db.execute("SELECT COUNT(*) FROM reviews").fetchone()[0]
    assert reviews == len(KEPT) + 1

    monkeypatch.undo()  # the deck as shipped now
    later = T0 + timedelta(days=1)
    report = starter.load_starter(store, later)
    assert report.kept == []
    assert ("organ", "sovnarkom") in report.removed
    assert ("office", "cpsu-first-secretary") in report.removed
    for key, words in KEPT.items():
        [row] = store.card_rows("key = ?", [key])
        assert (row["retired"], row["reps"]) == (0, 1), key
        assert words in row["answer"], (key, row["answer"])
    # a day corrected within the year asked (14 -> 7 September 1953) is no answer change:
    # the card asks for years, and its history goes on unmarked
    [khrushchev] = store.card_rows("key = ?", [next(iter(KEPT))])
    assert khrushchev["reviewed_hash"] == khrushchev["answer_hash"]
    assert khrushchev["due"] <= iso(later)
    [dropped] = store.card_rows("key = ?", [DROPPED])
    assert dropped["retired"] == 1
    assert store.db.execute("SELECT COUNT(*) FROM reviews").fetchone()[0] == reviews
    assert store.get("tenure", "khrushchev--cpsu-first-secretary--1953-09-14")["office"] == (
        "cpsu-general-secretary")


# -- the learner's edits of starter records (issue 8, item 8) ---------------------

def _newer_deck(monkeypatch: pytest.MonkeyPatch, *changes: tuple[str, str]) -> None:
    text = starter.starter_text()
    for old, new in changes:
        assert old in text
        text = text.replace(old, new)
    monkeypatch.setattr(starter, "starter_text", lambda: text)


def _edit(store: Store, kind: str, rid: str, **fields: str) -> None:
    with store.transaction():
        store.put_many([(kind, {**store.get(kind, rid), **fields})], T0)
        store.remake_cards(T0)


def test_a_starter_record_i_edited_is_kept_and_named_when_the_deck_changes_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store.open(tmp_path / "s.db")
    starter.load_starter(store, T0)
    _edit(store, "person", "lenin", name="Ulyanov")
    _edit(store, "person", "stalin", name="Koba")
    _newer_deck(monkeypatch, ('name = "Vladimir Lenin"', 'name = "V. I. Lenin"'),
                ('name = "Nikita Khrushchev"', 'name = "N. S. Khrushchev"'))
    report = starter.load_starter(store, T0 + timedelta(days=1))
    assert store.get("person", "lenin")["name"] == "Ulyanov"        # edited: kept
    assert store.get("person", "stalin")["name"] == "Koba"          # edited, not changed
    assert store.get("person", "khrushchev")["name"] == "N. S. Khrushchev"  # not edited
    assert report.changed == [("person", "khrushchev")]
    assert report.edited == [("person", "lenin")]
    assert ("changed in the starter deck but kept as you edited them: person 'lenin' "
            "(`study init --reset KIND ID` takes the starter's version)") in report.summary()
    again = starter.load_starter(store, T0 + timedelta(days=2))  # said while it differs
    assert again.edited == [("person", "lenin")] and not again.changed


def test_init_reset_takes_the_starter_version(isolated: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.helpers import json_of, run

    assert run("init").exit_code == 0
    with Store.open(isolated / "study.db") as store:
        _edit(store, "person", "lenin", name="Ulyanov")
    _newer_deck(monkeypatch, ('name = "Vladimir Lenin"', 'name = "V. I. Lenin"'))
    result = run("init")
    assert result.exit_code == 0
    assert "kept as you edited them: person 'lenin'" in result.stdout

    def lenin() -> str:
        return next(p["name"] for p in json_of("list", "people", "--json")
                    if p["id"] == "lenin")

    assert lenin() == "Ulyanov"
    result = run("init", "--reset", "person", "lenin")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Starter deck: added 0, changed 1, ")
    assert lenin() == "V. I. Lenin"
    assert "kept as you edited" not in run("init").stdout
    unknown = run("init", "--reset", "person", "nobody")
    assert unknown.exit_code == 1
    assert unknown.stderr == "Error: the starter deck has no person 'nobody'\n"
    assert run("init", "--reset", "persons", "lenin").exit_code == 2


def test_a_dropped_starter_record_i_edited_stays_mine(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store.open(tmp_path / "s.db")
    starter.load_starter(store, T0)
    _edit(store, "fact", "kulak", answer="My own answer")
    text = starter.starter_text()
    start = text.index('[[fact]]\nid = "kulak"')
    monkeypatch.setattr(starter, "starter_text",
                        lambda: text[:start] + text[text.index("[[fact]]", start + 5):])
    report = starter.load_starter(store, T0 + timedelta(days=1))
    assert report.removed == [] and report.edited == [("fact", "kulak")]
    assert store.get("fact", "kulak")["answer"] == "My own answer"
    assert ["fact", "kulak"] not in store.config()[starter.OWNED]


def test_a_store_from_before_versions_updates_as_then(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store.open(tmp_path / "s.db")
    starter.load_starter(store, T0)
    store.db.execute("DELETE FROM config WHERE key = ?", [starter.VERSIONS])
    _newer_deck(monkeypatch, ('name = "Vladimir Lenin"', 'name = "V. I. Lenin"'))
    report = starter.load_starter(store, T0 + timedelta(days=1))
    assert report.changed == [("person", "lenin")] and report.edited == []
    assert starter.VERSIONS in store.config()
