"""Re-importing: unchanged records are skipped early, and the cards an import leaves
are those a full regeneration from every record gives (issue 11)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.common import tenures_toml
from cards.authoring import load_and_import
from cards.schema import CARDS_MAKER, STALE_CARDS
from cards.store import Store
from tests.helpers import DECK, T0

#: The columns a regeneration decides (not positions, times or review state).
MADE = ("key, kind, record_kind, record_id, template, question, answer, answer_hash, "
        "siblings, tags, retired")


def made(store: Store) -> list[tuple[Any, ...]]:
    return list(store.db.execute(f"SELECT {MADE} FROM cards ORDER BY key"))


def regenerated(store: Store) -> tuple[dict[str, int], list[tuple[Any, ...]]]:
    """What a full regeneration from every stored record changes, and the cards after."""
    with store.transaction():
        counts = store.remake_cards(T0 + timedelta(days=2))[0]
    return counts, made(store)


def test_an_unchanged_file_reimported_writes_no_card_and_runs_no_generation(
        tmp_path: Path) -> None:
    path = tmp_path / "tenures.toml"
    path.write_text(tenures_toml(200), encoding="utf-8")
    store = Store.open(tmp_path / "s.db")
    first = load_and_import(store, [path], T0)
    before = made(store)
    seen: list[str] = []
    ticks = [0]

    def tick() -> int:
        ticks[0] += 1
        return 0

    store.db.conn.set_trace_callback(seen.append)
    store.db.conn.set_progress_handler(tick, 100)
    again = load_and_import(store, [path], T0 + timedelta(days=1))
    store.db.conn.set_trace_callback(None)
    store.db.conn.set_progress_handler(None, 100)
    cards = store.db.execute("SELECT COUNT(*) FROM cards").fetchone()[0]
    # reading the records to compare is all, not every card too
    assert ticks[0] < cards / 7, (ticks[0], cards)  # about 1/10; reading the cards: 1/5
    assert not again.added and not again.changed and again.unchanged
    assert again.cards == {"added": 0, "changed": 0, "retired": 0,
                           "total": first.cards["total"]}
    assert not [s for s in seen if s.lstrip().upper().startswith(("INSERT", "UPDATE"))]
    assert made(store) == before
    assert regenerated(store) == ({"added": 0, "changed": 0, "retired": 0,
                                   "total": first.cards["total"]}, before)


def test_a_store_asking_for_new_cards_gets_them_even_from_an_unchanged_file(
        tmp_path: Path) -> None:
    path = tmp_path / "deck.toml"
    path.write_text(DECK, encoding="utf-8")
    store = Store.open(tmp_path / "s.db")
    load_and_import(store, [path], T0)
    with store.transaction():  # as a migration that changes the wording would leave it
        store.db.execute("UPDATE cards SET question = 'stale' WHERE rowid = 1")
        store.set_config(STALE_CARDS, True)
    again = load_and_import(store, [path], T0 + timedelta(days=1))
    assert again.cards["changed"] == 1
    assert STALE_CARDS not in store.config()
    assert not store.db.execute("SELECT 1 FROM cards WHERE question = 'stale'").fetchone()


def test_an_import_with_one_record_changed_gives_the_cards_of_a_full_regeneration(
        tmp_path: Path) -> None:
    path = tmp_path / "deck.toml"
    path.write_text(DECK, encoding="utf-8")
    store = Store.open(tmp_path / "s.db")
    load_and_import(store, [path], T0)
    fresh = Store.open(tmp_path / "fresh.db")
    person = store.db.execute("SELECT id, name FROM people ORDER BY rowid").fetchone()
    changed = DECK.replace(f'name = "{person[1]}"', f'name = "{person[1]} Junior"', 1)
    assert changed != DECK
    path.write_text(changed, encoding="utf-8")
    report = load_and_import(store, [path], T0 + timedelta(days=1))
    assert report.changed == [("person", person[0])]
    after = made(store)
    assert regenerated(store) == ({"added": 0, "changed": 0, "retired": 0,
                                   "total": report.cards["total"]}, after)
    load_and_import(fresh, [path], T0)
    live = [row for row in after if not row[-1]]
    assert live == [row for row in made(fresh) if not row[-1]]


def test_cards_made_by_other_code_are_made_again_even_from_an_unchanged_file(
        tmp_path: Path) -> None:
    path = tmp_path / "deck.toml"
    path.write_text(DECK, encoding="utf-8")
    store = Store.open(tmp_path / "s.db")
    load_and_import(store, [path], T0)
    assert store.cards_current()
    with store.transaction():  # as an older version would have made and worded them
        store.db.execute("UPDATE cards SET question = 'older' WHERE rowid = 1")
        store.set_config(CARDS_MAKER, "an older version")
    assert not store.cards_current()
    again = load_and_import(store, [path], T0 + timedelta(days=1))
    assert again.cards["changed"] == 1
    assert store.cards_current()
    assert not store.db.execute("SELECT 1 FROM cards WHERE question = 'older'").fetchone()
