"""An import makes only the cards its change reaches (cards/incremental.py), and they are
exactly those of a full regeneration: random edits of the test deck, of the starter deck
and of the benchmark's tenures, each imported, then compared with making every card."""

from __future__ import annotations

import contextlib
import random
import re
import shutil
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import cards.authoring
from bench.common import tenures_toml
from cards.authoring import (
    StoredTables,
    import_records,
    load_and_import,
    read_text,
    record_toml,
    validate,
)
from cards.errors import InvalidInput
from cards.generate import generate_checked
from cards.incremental import answers_needed, indexed
from cards.records import Record, normalise
from cards.schema import GATE_ANSWERS, asked_term
from cards.starter import load_starter
from cards.store import Store
from tests.helpers import DECK, T0

COLUMNS = ("key, question, answer, answer_hash, siblings, tags, retired, position, state, "
           "due, reviewed_hash, kind, record_kind, record_id, template")


class _Rollback(Exception):
    """Undo a full regeneration made only to compare."""


def rows(store: Store) -> tuple[list[Any], list[Any]]:
    assert_groups(store)
    return (list(store.db.execute(f"SELECT {COLUMNS} FROM cards ORDER BY key")),
            list(store.db.execute(GATE_ROWS)))


#: The gate index as (term, key, answer given with a q: term)
GATE_ROWS = ("SELECT t.term, c.key, CASE WHEN t.term >= 'q:' AND t.term < 'q;' THEN c.answer "
             "END FROM gate_terms t JOIN gate_cards c ON c.id = t.card ORDER BY 1, 2")


def assert_groups(store: Store) -> None:
    """``card_groups`` holds exactly the groups of each card's ``siblings`` (which the
    readers by card read instead); ``gate_terms`` exactly the terms of ``gate_cards``."""
    groups = list(store.db.execute("SELECT grp, key FROM card_groups ORDER BY 1, 2"))
    assert groups == list(store.db.execute(
        "SELECT DISTINCT g.value, c.key FROM cards c, json_each(c.siblings) g ORDER BY 1, 2"))
    assert list(store.db.execute("SELECT term, card FROM gate_terms ORDER BY 1, 2")) == list(
        store.db.execute("SELECT DISTINCT t.value, c.id FROM gate_cards c, json_each(c.terms) t "
                         "ORDER BY 1, 2"))


def full(store: Store) -> tuple[dict[str, int], tuple[list[Any], list[Any]]]:
    """What a full regeneration of every stored record changes, and the cards it leaves
    (and their terms); undone afterwards. Answers stay indexed once a card written by
    hand asked for them (an incremental import keeps them after the last is removed)."""
    out: list[Any] = []
    try:
        with store.transaction():
            result = generate_checked(store.all_records())
            answers = answers_needed(result) or bool(store.config().get(GATE_ANSWERS))
            counts = store.sync_cards(T0 + timedelta(days=30), result.cards,
                                      candidates=indexed(result, answers), answers=answers)
            out.extend([counts, rows(store)])
            raise _Rollback
    except _Rollback:
        pass
    return out[0], out[1]


def _diff(got: list[Any], expected: list[Any]) -> tuple[list[Any], list[Any]]:
    return [r for r in got if r not in expected], [r for r in expected if r not in got]


WORDS = ["Red", "Kirov", "Volga", "Central", "Bureau", "Person Number 1", "Secretary",
         "Lenin", "Congress", "Committee number 0"]


def _year(rng: random.Random, lo: int = 1900, hi: int = 1995) -> int:
    return rng.randint(lo, hi)


def edit(rng: random.Random, recs: dict[str, dict[str, Record]], n: int,
         events: bool = True) -> list[tuple[str, Record]]:
    """One random edit: the records it writes (new values); ``events``: events may be added."""
    people, tenures, offices = list(recs["person"]), list(recs["tenure"]), list(recs["office"])
    organs, facts = list(recs["organ"]), list(recs["fact"])
    tags = sorted({t for kind in recs.values() for r in kind.values() for t in r.get("tags", [])}
                  | {"bench", "extra::one"})
    what = rng.choice(["rename", "dates", "tenure", "event", "tags", "title", "fact", "fact",
                       "organ", "person", "successor"])
    if what == "rename" and people:
        p = dict(recs["person"][rng.choice(people)])
        other = recs["person"][rng.choice(people)]["name"]
        p["name"] = other if rng.random() < 0.3 else f"{p['name']} {rng.choice(WORDS)}"
        return [("person", p)]
    if what == "dates" and tenures:
        t = dict(recs["tenure"][rng.choice(tenures)])
        start = _year(rng)
        t["start"] = str(start)
        if rng.random() < 0.8:
            t["end"] = str(start + rng.randint(0, 12))
        else:
            t.pop("end", None)
        return [("tenure", t)]
    if what == "tenure" and people and offices:
        start = _year(rng)
        t = {"id": f"new-tenure-{n}", "person": rng.choice(people),
             "office": rng.choice(offices), "start": str(start)}
        if rng.random() < 0.8:
            t["end"] = str(start + rng.randint(0, 12))
        if rng.random() < 0.2:
            t["acting"] = True
        return [("tenure", t)]
    if what == "person":
        p = {"id": f"new-person-{n}", "name": rng.choice(["Ivan Petrov", "Person Number 2",
                                                          f"Someone {n}"])}
        out: list[tuple[str, Record]] = [("person", p)]
        if offices and rng.random() < 0.7:
            start = _year(rng)
            out.append(("tenure", {"id": f"new-tenure-{n}", "person": p["id"],
                                   "office": rng.choice(offices), "start": str(start),
                                   "end": str(start + rng.randint(1, 9))}))
        return out
    if what == "event" and events:
        start = _year(rng)
        e: Record = {"id": f"new-event-{n}", "name": f"{rng.choice(WORDS)} Affair {n}",
                     "date": str(start), "tags": rng.sample(tags, 1)}
        if organs:
            e["organs"] = rng.sample(organs, min(len(organs), rng.randint(0, 2)))
        if people:
            e["people"] = rng.sample(people, min(len(people), rng.randint(0, 2)))
        for key in ("organs", "people"):
            if not e.get(key):
                e.pop(key, None)
        return [("event", e)]
    if what == "tags":
        kind = rng.choice([k for k in ("tenure", "person", "organ", "event", "fact") if recs[k]])
        r = dict(recs[kind][rng.choice(list(recs[kind]))])
        r["tags"] = rng.sample(tags, rng.randint(0, 2))
        if not r["tags"]:
            del r["tags"]
        return [(kind, r)]
    if what == "title" and offices:
        o = dict(recs["office"][rng.choice(offices)])
        other = recs["office"][rng.choice(offices)]["title"]
        o["title"] = other if rng.random() < 0.3 else f"{rng.choice(WORDS)} {o['title']}"
        return [("office", o)]
    if what == "successor" and len(offices) > 1:
        o = dict(recs["office"][rng.choice(offices)])
        o["succeeded_by"] = rng.choice([x for x in offices if x != o["id"]])
        return [("office", o)]
    if what == "organ" and organs:
        g = dict(recs["organ"][rng.choice(organs)])
        g["name"] = f"{g['name']} {rng.choice(WORDS)}"
        if rng.random() < 0.5:
            g["short"] = rng.choice(["CC", "PB", "XYZ", f"S{n}"])
        return [("organ", g)]
    if what == "fact":
        names = [r["name"] for r in recs["person"].values()] or ["Lenin"]
        if facts and rng.random() < 0.5:
            f = dict(recs["fact"][rng.choice(facts)])
        else:
            f = {"id": f"new-fact-{n}"}
        f["question"] = rng.choice([f"Who wrote about {rng.choice(names)}?",
                                    f"What is question {n}?", "Who was Lenin?"])
        f["answer"] = rng.choice([rng.choice(names), f"Answer {n}", "1917"])
        return [("fact", f)]
    return []


def without_events(text: str) -> str:
    return "\n".join(t for t in re.split(r"\n(?=\[\[)", text) if not t.startswith("[[event]]"))


def text_of(deck: str) -> str:
    return "[[event]]" if deck == "starter" else DECKS[deck]


#: the benchmark's tenures have no fact: a first fact makes every card (answers are indexed
#: from then on)
DECKS = {"deck": DECK, "deck-without-events": without_events(DECK), "bench": tenures_toml(60)}


@pytest.mark.parametrize("deck", [*DECKS, "starter"])
def test_random_edits_imported_give_the_cards_of_a_full_regeneration(
        tmp_path: Path, deck: str, monkeypatch: pytest.MonkeyPatch) -> None:
    scoped = [0, 0]
    plan = cards.authoring.plan

    def counting(*args: Any) -> Any:
        found = plan(*args)
        scoped[found is not None] += 1
        return found

    monkeypatch.setattr(cards.authoring, "plan", counting)
    rng = random.Random(f"{deck}-11")
    store = Store.open(tmp_path / "s.db")
    if deck == "starter":
        load_starter(store, T0)
    else:
        items, problems = read_text(DECKS[deck], "deck.toml")
        validate(store, items, problems)
        import_records(store, items, T0)
    with store.transaction():  # as after an import of every record
        result = generate_checked(store.all_records())
        store.sync_cards(T0, result.cards,
                         candidates=indexed(result, answers_needed(result)),
                         answers=answers_needed(result))
    rounds = 0
    for n in range(40):
        recs = store.all_records()
        events = "[[event]]" in text_of(deck)
        writes = [w for _ in range(rng.randint(1, 2)) for w in edit(rng, recs, n, events)]
        if not writes:
            continue
        now = T0 + timedelta(hours=n + 1)
        if rng.random() < 0.15:  # remove a record that nothing refers to
            kind = rng.choice(["tenure", "fact", "event", "person", "office", "organ"])
            free = [rid for rid in recs[kind] if not store.referrers(kind, rid)]
            if free:
                store.remove(kind, rng.choice(free), now)
                rounds += 1
                counts, expected = full(store)
                assert rows(store) == expected, (n, kind)
                continue
        text = "\n".join(record_toml(kind, r) for kind, r in writes)
        items, problems = read_text(text, f"edit-{n}.toml")
        try:
            validate(store, items, problems)
            import_records(store, items, now, consistent=rng.random() < 0.5)
        except InvalidInput:
            continue
        rounds += 1
        counts, expected = full(store)
        got = rows(store)
        assert got == expected, (n, text, _diff(got[0], expected[0]), _diff(got[1], expected[1]))
        assert counts == {"added": 0, "changed": 0, "retired": 0,
                          "total": counts["total"]}, (n, text)
    assert rounds > 20
    assert scoped[1] > scoped[0], scoped  # most edits were scoped, not made in full


def test_a_large_files_tables_equal_to_stored_records_are_taken_as_stored(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Re-reading a large file takes a table that equals its stored record as it is (not
    normalised again); a table that differs is normalised and checked, with its line."""
    text = tenures_toml(400)  # 910 tables
    path = tmp_path / "t.toml"
    path.write_text(text)
    store = Store.open(tmp_path / "s.db")
    load_and_import(store, [path], T0)
    calls = []
    real = normalise

    def counting(kind: Any, raw: dict[str, Any], *rest: Any) -> Any:
        calls.append(raw)
        return real(kind, raw, *rest)

    monkeypatch.setattr(cards.authoring, "normalise", counting)
    path.write_text(text.replace('name = "Person Number 7"', 'name = "  Person Number 7 "'))
    report = load_and_import(store, [path], T0 + timedelta(days=1))
    assert not report.added and not report.changed  # spaces are trimmed: the same record
    # the first LOOK_UPS tables of each kind, and the one that differs
    assert len(calls) <= 3 * StoredTables.LOOK_UPS + 10 + 1, len(calls)
    path.write_text(text.replace('name = "Person Number 170"',
                                 'name = "  Person Number 170 "'))
    calls.clear()
    report = load_and_import(store, [path], T0 + timedelta(days=1))
    assert not report.added and not report.changed
    assert {"id": "person-170", "name": "  Person Number 170 ", "born": "1870-01-01",
            "died": "1990-12-31"} in calls
    path.write_text(text.replace('born = "1870-01-01"\ndied = "1990-12-31"\n\n[[tenure]]\n'
                                 'person = "person-140"',
                                 'born = "1870-13-01"\ndied = "1990-12-31"\n\n[[tenure]]\n'
                                 'person = "person-140"'))
    with pytest.raises(InvalidInput) as err:
        load_and_import(store, [path], T0 + timedelta(days=2))
    line = text.split("\n").index('id = "person-140"') + 3
    assert f"{path}:{line}" in str(err.value) and "born" in str(err.value)


def test_study_add_and_edit_make_only_the_cards_they_reach_and_keep_the_index(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cards.editing import add_record, edit_record

    scoped = []
    plan = cards.authoring.plan

    def counting(*args: Any) -> Any:
        found = plan(*args)
        scoped.append(found is not None)
        return found

    monkeypatch.setattr(cards.authoring, "plan", counting)
    store = Store.open(tmp_path / "s.db")
    load_starter(store, T0)
    with store.transaction():  # as after an import of every record
        result = generate_checked(store.all_records())
        answers = answers_needed(result)
        store.sync_cards(T0, result.cards, candidates=indexed(result, answers),
                         answers=answers)
    scoped.clear()  # (the starter deck, with facts, was made in full)
    office = next(iter(store.records("office")))
    warned: list[Any] = []
    add_record(store, "person", {"id": "someone", "name": "Some One"}, T0)
    add_record(store, "tenure", {"id": "added", "person": "someone", "office": office,
                                 "start": "1999", "end": "2001"}, T0 + timedelta(hours=1),
               warn=warned.append)
    assert scoped == [True, True]
    assert store.index_current()
    counts, expected = full(store)
    assert rows(store) == expected and counts["added"] == counts["changed"] == 0
    said = edit_record(store, "tenure", "added", T0 + timedelta(hours=2),
                       edit=lambda text: text.replace('"2001"', '"2003"'),
                       again=lambda problems: False)
    assert said.startswith("Saved tenure 'added'") and scoped == [True, True, True]
    assert store.index_current()
    counts, expected = full(store)
    assert rows(store) == expected and counts["added"] == counts["changed"] == 0


def test_a_small_first_import_makes_its_cards_in_the_order_of_the_file(tmp_path: Path) -> None:
    # the scoped path sorts new records after stored ones by 1e18 + i, which as a float
    # rounded to 1e18 for all: new records came in set order (the hash seed's)
    items, problems = read_text(tenures_toml(60), "deck.toml")
    store = Store.open(tmp_path / "s.db")
    validate(store, items, problems)
    import_records(store, items, T0)
    who = [k for (k,) in store.db.execute(
        "SELECT key FROM cards WHERE template = 'who' ORDER BY position")]
    assert who == [f"person:person-{i}:who" for i in range(60)]


# -- m008: the compact index ---------------------------------------------------------

FIXTURES = Path(__file__).parent / "fixtures"


def test_a_schema_7_store_is_converted_in_place(tmp_path: Path) -> None:
    """m008: card_groups in one tree with the same rows, the gate index by number with
    the same terms (``q:`` as digests), history untouched; imports after it make the
    cards of a full regeneration."""
    path = tmp_path / "v7.db"
    shutil.copyfile(FIXTURES / "store-v7.db", path)
    with contextlib.closing(sqlite3.connect(path)) as conn:
        groups = sorted(conn.execute("SELECT grp, key FROM card_groups"))
        terms = sorted(conn.execute("SELECT term, key, answer FROM gate_terms"))
        reviews = conn.execute("SELECT * FROM reviews ORDER BY id").fetchall()
    assert groups and reviews and any(t.startswith("q:") for t, _, _ in terms)
    store = Store.open(path)
    assert sorted(store.db.execute("SELECT grp, key FROM card_groups")) == groups
    assert sorted(store.db.execute(GATE_ROWS)) == sorted(
        (asked_term(t[2:]) if t.startswith("q:") else t, k, a) for t, k, a in terms)
    assert store.db.execute("SELECT * FROM reviews ORDER BY id").fetchall() == reviews
    [(name, sql)] = store.db.execute(
        "SELECT name, sql FROM sqlite_master WHERE tbl_name = 'card_groups'").fetchall()
    assert name == "card_groups" and sql.endswith("WITHOUT ROWID")  # no index of its own
    assert store.db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert_groups(store)
    for n, name in enumerate(["Vladimir Ilyich Lenin", "V. I. Lenin"]):
        person = next(iter(store.records("person").values()))
        text = record_toml("person", {**person, "name": name})
        items, problems = read_text(text, f"edit-{n}.toml")
        validate(store, items, problems)
        import_records(store, items, T0 + timedelta(days=10 + n))
        assert store.index_current()  # the first import made every card, the second not
        counts, expected = full(store)
        assert rows(store) == expected and counts["added"] == counts["changed"] == 0


@pytest.mark.parametrize("version", [1, 2, 3, 5, 6, 7])
def test_every_older_store_keeps_its_card_groups(tmp_path: Path, version: int) -> None:
    path = tmp_path / "old.db"
    shutil.copyfile(FIXTURES / f"store-v{version}.db", path)
    with contextlib.closing(sqlite3.connect(path)) as conn:
        groups = sorted(conn.execute("SELECT grp, key FROM card_groups"))
    store = Store.open(path)
    after = sorted(store.db.execute("SELECT grp, key FROM card_groups"))
    assert after == groups if version >= 6 else len(after) == len(groups)  # m006 renames keys
    assert_groups(store)
    store.close()
