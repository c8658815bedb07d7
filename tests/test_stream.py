"""The streamed gate (cards/stream.py) gives what ``gate.run`` gives, card by card, and a
first import through it writes what writing ``gate.run``'s cards writes."""

from __future__ import annotations

import random
import tracemalloc
from pathlib import Path

import pytest

import cards.authoring
import cards.gate
import cards.stream
from bench.cards import records as bench_records
from bench.common import tenures_toml
from cards.authoring import import_records, load_and_import, read_text, validate
from cards.errors import InvalidInput
from cards.gate import GateResult, run
from cards.generate import Records, candidates, verdicts
from cards.incremental import answers_needed, indexed
from cards.schema import GATE_ANSWERS
from cards.starter import starter_text
from cards.store import Store
from tests.helpers import DECK, T0, records_of
from tests.test_generate_pin import digest
from tests.test_incremental import edit, rows


def streamed(records: Records) -> tuple[GateResult, list[str]]:
    """The streamed gate's result with its kept cards, and the verdict of every card."""
    made = verdicts(records)
    every = list(made.cards())
    made.close()
    result = made.result
    result.cards = [s for s, check in every if check is None]
    assert made.kept == len(result.cards)
    assert made.authored == answers_needed(result)
    return result, [check or "kept" for _, check in every]


def assert_same(records: Records) -> GateResult:
    expected = run(candidates(records))
    got, verdict = streamed(records)
    assert [s.key for s in got.cards] == [s.key for s in expected.cards]
    assert [s.siblings for s in got.cards] == [s.siblings for s in expected.cards]
    assert digest(got) == digest(expected)
    # every card has a verdict, in the order made: the kept ones and the dropped ones
    assert verdict.count("kept") == len(expected.cards)
    assert len(verdict) == len(expected.cards) + len(expected.dropped)
    return expected


DECKS = {"starter": starter_text(), "deck": DECK, "tenures": tenures_toml(60)}


@pytest.mark.parametrize("deck", DECKS)
def test_the_streamed_gate_gives_what_the_gate_gives(deck: str) -> None:
    assert_same(records_of(DECKS[deck]))


#: Two facts ask one question (warned), and two offices of one title were held in the
#: same years (their generated cards are dropped)
AMBIGUOUS = '''
[[fact]]
id = "capital-a"
question = "Which city was the capital?"
answer = "Moscow"

[[fact]]
id = "capital-b"
question = "Which city was the capital?"
answer = "Petrograd"

[[person]]
id = "ann"
name = "Ann Smith"

[[person]]
id = "bob"
name = "Bob Jones"

[[office]]
id = "chair-a"
title = "Chair of the Board"

[[office]]
id = "chair-b"
title = "Chair of the Board"

[[tenure]]
person = "ann"
office = "chair-a"
start = "1920"
end = "1930"

[[tenure]]
person = "bob"
office = "chair-b"
start = "1920"
end = "1930"
'''


def test_the_streamed_gate_drops_warns_and_links_as_the_gate_does() -> None:
    expected = assert_same(records_of(DECK + AMBIGUOUS))
    assert {p.check for p in expected.warnings} == {"ambiguous"}
    assert {p.check for p in expected.dropped} == {"ambiguous"}
    # hand-written cards that give their answer away
    assert {p.check for p in assert_same(bench_records(600)).warnings} == {"giveaway"}
    # text leaks: links between cards
    starter = assert_same(records_of(starter_text()))
    assert starter.links


def test_an_entity_named_everywhere_gets_one_group(monkeypatch: pytest.MonkeyPatch) -> None:
    # below this many pairs an entity's cards are linked to each answering card; above it
    # they share one group link:ENTITY
    monkeypatch.setattr(cards.gate, "PAIRS_PER_ENTITY", 2)
    monkeypatch.setattr(cards.stream, "PAIRS_PER_ENTITY", 2)
    expected = assert_same(records_of(DECK))
    assert any(g.startswith("link:person:") for s in expected.cards for g in s.siblings)


@pytest.mark.parametrize("seed", range(6))
def test_random_decks_give_what_the_gate_gives(seed: int) -> None:
    rng = random.Random(seed)
    recs = records_of(DECK)
    for n in range(12):
        for kind, rec in edit(rng, recs, n):
            recs[kind][rec["id"]] = rec
    assert_same(recs)


@pytest.mark.parametrize("path", ["streamed", "scoped"])
def test_a_first_import_writes_what_writing_the_gates_cards_writes(
        tmp_path: Path, path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # a large first import makes every card through the streamed gate; a small one, the
    # cards its records reach (all of them), through cards.incremental: both write the
    # cards, in the same order, that writing gate.run's cards writes
    if path == "streamed":
        monkeypatch.setattr(cards.authoring, "MAX_SCOPED", 0)
    for deck in ("deck", "tenures"):
        items, problems = read_text(DECKS[deck], "deck.toml")
        streaming = Store.open(tmp_path / f"{deck}-stream.db")
        validate(streaming, items, problems)
        report = import_records(streaming, items, T0)
        held = Store.open(tmp_path / f"{deck}-held.db")
        with held.transaction():
            held.put_many([(loc.kind, loc.record) for loc in items], T0)
            result = run(candidates(held.all_records()))
            answers = answers_needed(result)
            counts = held.sync_cards(T0, result.cards,
                                     candidates=indexed(result, answers), answers=answers)
        assert report.cards == counts
        assert rows(streaming) == rows(held)
        groups = "SELECT grp, key FROM card_groups ORDER BY 1, 2"
        assert list(streaming.db.execute(groups)) == list(held.db.execute(groups))
        tags = "SELECT * FROM card_tags ORDER BY card, tag"
        assert list(streaming.db.execute(tags)) == list(held.db.execute(tags))
        order = "SELECT key FROM cards ORDER BY position"
        assert list(streaming.db.execute(order)) == list(held.db.execute(order))
        assert streaming.index_current()
        mine, theirs = streaming.config(), held.config()
        assert bool(mine.pop(GATE_ANSWERS, False)) == bool(theirs.pop(GATE_ANSWERS, False))
        assert mine == theirs


def test_the_gate_holds_no_card_between_its_passes() -> None:
    # gate.run holds every card (about 1 KB each); the streamed gate only numbers
    records = records_of(tenures_toml(800))
    held = len(run(candidates(records)).cards)
    tracemalloc.start()
    made = verdicts(records)
    cards.stream._answer.cache_clear()  # a memo of answers, of a bounded size
    kept_bytes = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    made.close()
    assert held > 5000
    assert kept_bytes / held < 300, kept_bytes / held


def test_a_large_import_tells_its_progress_as_it_saves_the_cards(tmp_path: Path) -> None:
    file = tmp_path / "big.toml"
    file.write_text(tenures_toml(3000))  # more records than an import scopes: every card
    told: list[tuple[str, float]] = []
    with Store.open(tmp_path / "s.db") as store:
        load_and_import(store, [file], T0, progress=lambda what, share: told.append(
            (what, share)))
    shares = [share for _, share in told]
    assert shares == sorted(shares) and shares[-1] == 1.0
    for stage in ("Making the cards", "Saving the cards"):  # the bar moves in both
        shares = [share for what, share in told if what == stage]
        assert len(shares) >= 2 and len(set(shares)) == len(shares), (stage, shares)


def test_an_inconsistent_large_import_changes_nothing_and_makes_no_card(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the records are checked before any card is made (the cards' own warnings come
    # after the second pass): an error costs no card made, and nothing is written
    def no_cards(*args: object) -> None:
        raise AssertionError("cards made for an inconsistent import")

    monkeypatch.setattr(cards.authoring, "_make_all", no_cards)
    file = tmp_path / "big.toml"
    file.write_text(tenures_toml(1000) + '[[tenure]]\nperson = "person-1"\noffice = "office-0"\n'
                    'start = "1905-01-01"\nend = "1906-01-01"\n')
    with Store.open(tmp_path / "s.db") as store:
        before = store.db.execute("SELECT COUNT(*) FROM cards").fetchone()
        with pytest.raises(InvalidInput) as err:
            load_and_import(store, [file], T0)
        assert "overlaps tenure 'person-0--office-0--1901-01-01'" in str(err.value)
        assert store.db.execute("SELECT COUNT(*) FROM cards").fetchone() == before
        assert store.db.execute("SELECT COUNT(*) FROM tenures").fetchone() == (0,)
        assert store.db.execute("SELECT COUNT(*) FROM gate_terms").fetchone() == (0,)
        assert store.index_current()  # still the empty store's


def test_families_that_make_other_cards_the_second_time_are_caught() -> None:
    # the passes must see the same cards: a family that does not repeat itself is a bug,
    # reported, not a store with link groups and verdicts on the wrong cards
    records = records_of(DECK)
    made = list(candidates(records))
    calls = [made, made[:-1]]
    verdicts = cards.stream.Verdicts(lambda: calls.pop(0))
    with pytest.raises(cards.stream.Unrepeatable, match="differs from the first pass"):
        list(verdicts.cards())
    swapped = [made, [made[1], made[0], *made[2:]]]
    verdicts = cards.stream.Verdicts(lambda: swapped.pop(0))
    with pytest.raises(cards.stream.Unrepeatable, match=made[1].key):
        list(verdicts.cards())


def test_a_large_dry_run_makes_every_card_and_writes_nothing(tmp_path: Path) -> None:
    # a dry run of an import that makes every card streams them through the gate (for its
    # warnings) and writes nothing: no record, no card, no gate index
    file = tmp_path / "big.toml"
    file.write_text(tenures_toml(1000) + AMBIGUOUS)
    with Store.open(tmp_path / "s.db") as store:
        report = load_and_import(store, [file], T0, dry_run=True)
        assert len(report.added) > cards.authoring.MAX_SCOPED and report.cards == {}
        assert [w.message for w in report.warnings] == [
            "warning: card fact:capital-a:forward: ambiguous: the same question has another "
            "answer: 'Petrograd'",
            "warning: card fact:capital-b:forward: ambiguous: the same question has another "
            "answer: 'Moscow'"]
        for table in ("people", "tenures", "cards", "gate_cards", "card_groups"):
            assert store.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone() == (0,)
