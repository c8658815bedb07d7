"""The hourly totals behind `study stats` stay exact: after answers, undo, merged
history from another device, tag edits and a rebuild, they equal a full recount."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cards.aggregates import rebuild_aggregates, recount_sql
from cards.authoring import load_and_import
from cards.db import iso
from cards.store import Store
from study.queue import Filters, Queue
from study.session import ReviewSession
from study.settings import Settings
from study.stats import compute
from tests.helpers import T0, store_from_toml

DECK = """
[[fact]]
id = "kolkhoz"
question = "What is a kolkhoz?"
answer = "A collective farm"
tags = ["ussr::economy", "ussr"]

[[fact]]
id = "danwei"
question = "What is a danwei?"
answer = "A work unit"
tags = ["china::work"]

[[fact]]
id = "plain"
question = "What is plain?"
answer = "Untagged"
"""


def kept(conn: sqlite3.Connection) -> list[tuple[object, ...]]:
    return conn.execute("SELECT * FROM review_hours WHERE answers != 0 "
                        "ORDER BY 1, 2, 3, 4, 5").fetchall()


def recounted(conn: sqlite3.Connection) -> list[tuple[object, ...]]:
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS recount AS SELECT * FROM review_hours "
                 "WHERE 0")
    conn.execute("DELETE FROM recount")
    conn.execute(recount_sql("temp.recount"))
    return conn.execute("SELECT * FROM recount ORDER BY 1, 2, 3, 4, 5").fetchall()


def card_tags(conn: sqlite3.Connection) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for tag, card in conn.execute("SELECT tag, card FROM card_tags ORDER BY card, tag"):
        out.setdefault(card, []).append(tag)
    return out


def test_totals_equal_a_recount_after_answers_undo_merges_and_tag_edits(tmp_path: Path) -> None:
    store = store_from_toml(tmp_path / "s.db", DECK)
    conn = store.db.conn
    assert card_tags(conn) == {"fact:danwei:forward": ["china", "china::work"],
                               "fact:kolkhoz:forward": ["ussr", "ussr::economy"]}
    session = ReviewSession(store, Settings(fuzz=False), ZoneInfo("UTC"))
    now = T0
    for i in range(40):  # a month of sessions: answers of every grade, some undone
        shown = session.next(now)
        if shown is None:
            now += timedelta(days=1)
            continue
        session.answer(shown, 1 + i % 4, now, 1000 + i)
        if i % 7 == 3:
            session.undo()
        now += timedelta(hours=5)
    assert kept(conn) and kept(conn) == recounted(conn)

    # another device's answers arrive, earlier than ours, then one is taken back
    snapshot = json.dumps({"state": "review"})
    for n in range(30):
        conn.execute("INSERT INTO reviews (card_key, rating, reviewed_at, duration_ms, "
                     "state_before, state_after, interval_days) VALUES (?, ?, ?, ?, ?, '{}', 1)",
                     ["fact:danwei:forward", 1 + n % 4, iso(T0 - timedelta(hours=7 * n)),
                      500, snapshot])
    conn.execute("DELETE FROM reviews WHERE id = (SELECT MAX(id) FROM reviews)")
    assert kept(conn) == recounted(conn)

    # tags edited: a card leaves 'ussr', another joins it, one loses every tag
    (tmp_path / "edit.toml").write_text(
        DECK.replace('["ussr::economy", "ussr"]', '["economy"]')
            .replace('["china::work"]', '["ussr::work"]'))
    load_and_import(store, [tmp_path / "edit.toml"], now)
    assert card_tags(conn) == {"fact:danwei:forward": ["ussr", "ussr::work"],
                               "fact:kolkhoz:forward": ["economy"]}
    assert kept(conn) == recounted(conn)

    stale = conn.execute(
        "SELECT COUNT(*) FROM card_tags t JOIN cards c ON c.key = t.card WHERE "
        "t.kind IS NOT c.kind OR t.retired IS NOT c.retired OR t.suspended IS NOT c.suspended "
        "OR t.state IS NOT c.state OR t.due IS NOT c.due").fetchone()[0]
    assert stale == 0  # the copies of the cards' columns follow every answer

    with store.transaction():
        conn.execute("UPDATE review_hours SET answers = answers + 5")  # damage, then repair
        rebuild_aggregates(conn)
    assert kept(conn) == recounted(conn)


def test_a_tag_matches_its_descendants_in_review_and_stats(tmp_path: Path) -> None:
    store = store_from_toml(tmp_path / "s.db", DECK)
    conn = store.db.conn
    for key in ("fact:kolkhoz:forward", "fact:danwei:forward"):
        conn.execute("INSERT INTO reviews (card_key, rating, reviewed_at, duration_ms, "
                     "state_before, state_after, interval_days) VALUES (?, 3, ?, 1, ?, '{}', 1)",
                     [key, iso(T0 - timedelta(days=1)), json.dumps({"state": "review"})])
    utc = ZoneInfo("UTC")
    for tag, answers, cards in (("ussr", 1, 1), ("china", 1, 1), ("china::work", 1, 1),
                                ("chin", 0, 0), ("work", 0, 0)):
        figures = compute(conn, T0, utc, 4, Filters(tag))
        assert figures["retention"]["year"]["answers"] == answers, tag
        assert figures["cards"]["total"] == cards, tag
        counts = Queue(conn, Settings(), utc, Filters(tag)).counts(T0)
        assert counts.new == cards, tag


def test_a_store_from_before_the_totals_gets_them_from_its_history(tmp_path: Path) -> None:
    from cards.schema import m005_history_totals

    store = store_from_toml(tmp_path / "s.db", DECK)
    conn = store.db.conn
    for key in ("fact:kolkhoz:forward", "fact:plain:forward"):
        conn.execute("INSERT INTO reviews (card_key, rating, reviewed_at, duration_ms, "
                     "state_before, state_after, interval_days) VALUES (?, 2, ?, 9, '{}', '{}', 1)",
                     [key, iso(datetime(2026, 1, 4, 23, 59, tzinfo=UTC))])
    expected = kept(conn)
    for name in ("card_tags", "review_hours"):
        conn.execute(f"DROP TABLE {name}")  # as a store of schema 4 was
    m005_history_totals(store.db)
    assert kept(conn) == expected == recounted(conn) and len(expected) == 3
    store.close()
    assert Store.open(tmp_path / "s.db").db.execute("SELECT COUNT(*) FROM card_tags").fetchone()


def test_stats_read_no_more_history_than_the_figures_need(tmp_path: Path) -> None:
    """No statement of `study stats` scans the answers or the cards table: each walks an
    index range (the year's hours, today's answers, the matching cards)."""
    store = store_from_toml(tmp_path / "s.db", DECK)
    conn = store.db.conn
    for tz, narrow in ((ZoneInfo("Europe/London"), Filters()),
                       (ZoneInfo("Asia/Kolkata"), Filters(kind="facts")),
                       (ZoneInfo("UTC"), Filters(tag="ussr")),
                       (ZoneInfo("UTC"), Filters(tag="ussr", kind="facts"))):
        statements: list[str] = []
        conn.set_trace_callback(statements.append)
        compute(conn, T0, tz, 4, narrow)
        conn.set_trace_callback(None)
        assert statements
        for sql in statements:
            for *_, step in conn.execute(f"EXPLAIN QUERY PLAN {sql}"):
                table = step.split()[1] if step.startswith("SCAN") else ""
                assert table not in ("r", "reviews", "h", "review_hours"), (narrow, step)
                assert table not in ("c", "cards") or "INDEX cards_leech" in step, (narrow, step)


def _tables(conn: sqlite3.Connection) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the card tables, and the schema, in a fixed order."""
    return {name: conn.execute(f"SELECT * FROM {name} ORDER BY 1, 2").fetchall()
            for name in ("cards", "card_tags", "card_groups", "review_hours")} | {
        "schema": conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master "
                               "ORDER BY type, name").fetchall()}


def test_a_bulk_import_writes_what_the_triggers_would_have(tmp_path: Path,
                                                            monkeypatch: Any) -> None:
    """Many new cards are written with the card tables' indexes and the tag trigger
    dropped, then made again: the rows, the totals and the schema are those of an
    import that writes one card at a time."""
    import cards.store
    from bench.common import tenures_toml

    nested = DECK.replace('["china::work"]', '["china::work::unit", "a::::b", "x::"]')
    more = nested + tenures_toml(40)
    stores = {}
    for name, threshold in (("one-at-a-time", 10**9), ("bulk", 1)):
        monkeypatch.setattr(cards.store, "BULK_CARDS", threshold)
        store = store_from_toml(tmp_path / f"{name}.db", DECK)  # 3 cards; then 300 more
        (tmp_path / "more.toml").write_text(more)
        report = load_and_import(store, [tmp_path / "more.toml"], T0 + timedelta(days=1))
        assert report.cards["added"] > 100
        stores[name] = store
    slow, bulk = (_tables(stores[n].db.conn) for n in ("one-at-a-time", "bulk"))
    assert bulk == slow
    assert {t for _, t in ((0, r[0]) for r in bulk["card_tags"])} >= {
        "china", "china::work", "china::work::unit", "a", "a::", "a::::b", "x", "x::", "bench"}
    conn = stores["bulk"].db.conn
    assert card_tags(conn) == card_tags(stores["one-at-a-time"].db.conn)
    with stores["bulk"].transaction():
        rebuild_aggregates(conn)
    assert _tables(conn) == bulk

    # the trigger is back: a card added later gets its tags, and answers count
    (tmp_path / "one.toml").write_text(more + '[[fact]]\nid = "late"\nquestion = "Late?"\n'
                                              'answer = "Yes"\ntags = ["late::one"]\n')
    load_and_import(stores["bulk"], [tmp_path / "one.toml"], T0 + timedelta(days=2))
    assert card_tags(conn)["fact:late:forward"] == ["late", "late::one"]
    session = ReviewSession(stores["bulk"], Settings(fuzz=False), ZoneInfo("UTC"))
    for i in range(5):
        shown = session.next(T0 + timedelta(days=3))
        assert shown is not None
        session.answer(shown, 3, T0 + timedelta(days=3, minutes=i), 1000)
    assert kept(conn) and kept(conn) == recounted(conn)


def test_a_bulk_import_that_fails_leaves_the_store_and_its_schema_as_they_were(
        tmp_path: Path, monkeypatch: Any) -> None:
    import cards.authoring
    import cards.store
    from bench.common import tenures_toml

    store = store_from_toml(tmp_path / "s.db", DECK)
    before = _tables(store.db.conn)

    def broken(conn: sqlite3.Connection, after: int) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(cards.store, "BULK_CARDS", 1)
    monkeypatch.setattr(cards.store, "add_card_tags", broken)
    # every card made (a small change is scoped, and a scoped sync never writes in bulk)
    monkeypatch.setattr(cards.authoring, "MAX_SCOPED", 0)
    (tmp_path / "more.toml").write_text(DECK + tenures_toml(10))
    with pytest.raises(sqlite3.OperationalError):
        load_and_import(store, [tmp_path / "more.toml"], T0)
    assert _tables(store.db.conn) == before
