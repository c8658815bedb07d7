"""Golden scheduler tests: fixed clocks, fuzz off, exact intervals and states."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cards.authoring import load_and_import
from cards.db import from_iso
from cards.store import Store
from study.queue import Limits, study_day
from study.scheduler import CardMoved, NothingToUndo
from study.session import ReviewSession, Showing
from study.settings import Settings
from tests.helpers import T0, facts_toml, store_from_toml

LONDON = ZoneInfo("Europe/London")
GOLDEN = Settings(fuzz=False)

TENURES = """
[[person]]
id = "andropov"
name = "Yuri Andropov"

[[person]]
id = "chernenko"
name = "Konstantin Chernenko"

[[office]]
id = "gs"
title = "General Secretary"

[[tenure]]
person = "andropov"
office = "gs"
start = "1982-11-12"
end = "1984-02-09"

[[tenure]]
person = "chernenko"
office = "gs"
start = "1984-02-13"
end = "1985-03-10"
"""


def session(store: Store, settings: Settings = GOLDEN, **kw: object) -> ReviewSession:
    return ReviewSession(store, settings, LONDON, **kw)  # type: ignore[arg-type]


def card(store: Store, key: str) -> dict[str, object]:
    return store.card_rows("key = ?", [key])[0]


def next_at(sess: ReviewSession, now: datetime) -> Showing:
    shown = sess.next(now)
    assert shown is not None
    return shown


@pytest.fixture
def one_fact(tmp_path: Path) -> Store:
    return store_from_toml(tmp_path / "s.db", facts_toml(1))


def test_interval_sequence_is_pinned(one_fact: Store) -> None:
    sess = session(one_fact)
    now = T0
    got = []
    for rating in [3, 3, 3, 3, 3, 1, 3, 3, 4, 2]:
        shown = sess.next(now)
        assert shown is not None, now
        result = sess.answer(shown, rating, now, 1500)
        got.append((result.state, result.interval))
        now += result.interval
    d, m = timedelta(days=1), timedelta(minutes=1)
    assert got == [
        ("learning", 10 * m), ("review", 2 * d), ("review", 11 * d), ("review", 46 * d),
        ("review", 163 * d), ("relearning", 10 * m), ("review", 5 * d), ("review", 12 * d),
        ("review", 41 * d), ("review", 74 * d),
    ]
    row = card(one_fact, "fact:f000:forward")
    assert (row["reps"], row["lapses"], row["state"]) == (10, 1, "review")
    assert one_fact.db.execute("SELECT COUNT(*) FROM reviews").fetchone()[0] == 10


def test_button_labels_of_a_new_card(one_fact: Store) -> None:
    from study.terminal import buttons

    shown = next_at(session(one_fact), T0)
    assert buttons(shown) == "1 Again 1m   2 Hard 6m   3 Good 10m   4 Easy 8d"


def test_new_cards_per_day_and_order(tmp_path: Path) -> None:
    store = store_from_toml(tmp_path / "s.db", facts_toml(12))
    settings = Settings(fuzz=False, new_per_day=5)
    sess = session(store, settings)
    shown_keys = []
    while (shown := sess.next(T0)) is not None:
        shown_keys.append(shown.key)
        sess.answer(shown, 4, T0, 100)  # Easy: straight to review, not due today
    assert shown_keys == [f"fact:f{i:03d}:forward" for i in range(5)]
    assert sess.counts(T0).new == 0
    # the same study day, another session: still nothing new
    assert session(store, settings).next(T0 + timedelta(hours=3)) is None
    # the next study day (after the 04:00 rollover) brings 5 more
    tomorrow = datetime(2026, 1, 6, 4, 0, tzinfo=UTC)
    assert session(store, settings).counts(tomorrow).new == 5
    assert session(store, settings).counts(tomorrow - timedelta(minutes=1)).new == 0


def test_session_override_of_limits(tmp_path: Path) -> None:
    store = store_from_toml(tmp_path / "s.db", facts_toml(12))
    sess = session(store, GOLDEN, limits=Limits(new=3, reviews=0))
    assert sess.counts(T0).new == 3


def test_a_session_limit_counts_its_own_cards_after_the_daily_limit(tmp_path: Path) -> None:
    store = store_from_toml(tmp_path / "s.db", facts_toml(12))
    settings = Settings(fuzz=False, new_per_day=4)
    daily = session(store, settings)
    while (shown := daily.next(T0)) is not None:
        daily.answer(shown, 4, T0, 1)
    assert daily.tally.answered == 4
    extra = session(store, settings, limits=Limits(new=3))  # study review --new 3
    keys = []
    while (shown := extra.next(T0)) is not None:
        keys.append(shown.key)
        extra.answer(shown, 4, T0, 1)
    assert keys == [f"fact:f{i:03d}:forward" for i in range(4, 7)]
    extra.undo()
    assert extra.counts(T0).new == 1  # the undone card may be shown again
    assert session(store, settings).counts(T0).new == 0  # the daily limit is still used up


def test_reviews_per_day(tmp_path: Path) -> None:
    store = store_from_toml(tmp_path / "s.db", facts_toml(10))
    sess = session(store, Settings(fuzz=False, new_per_day=10))
    while (shown := sess.next(T0)) is not None:
        sess.answer(shown, 4, T0, 100)
    later = T0 + timedelta(days=30)
    limited = session(store, Settings(fuzz=False, reviews_per_day=4))
    assert limited.counts(later).review == 4
    reasons = []
    while (shown := limited.next(later)) is not None:
        reasons.append(shown.reason)
        limited.answer(shown, 3, later, 100)
    assert reasons == ["review"] * 4


def test_reviews_come_earliest_due_first_with_new_cards_spread(tmp_path: Path) -> None:
    store = store_from_toml(tmp_path / "s.db", facts_toml(12))
    first = session(store, Settings(fuzz=False, new_per_day=8))
    for i in range(8):
        first.answer(next_at(first, T0 + timedelta(minutes=i)), 4, T0 + timedelta(minutes=i), 1)
    later = T0 + timedelta(days=20)
    sess = session(store, Settings(fuzz=False, new_per_day=2))
    reasons, keys = [], []
    while (shown := sess.next(later)) is not None:
        reasons.append(shown.reason)
        keys.append(shown.key)
        sess.answer(shown, 4, later, 1)
    assert reasons == ["review"] * 4 + ["new"] + ["review"] * 4 + ["new"]
    reviewed = [k for k, r in zip(keys, reasons, strict=True) if r == "review"]
    assert reviewed == [f"fact:f{i:03d}:forward" for i in range(8)]


def test_study_day_rolls_over_at_the_configured_hour() -> None:
    before = datetime(2026, 1, 6, 3, 59, tzinfo=UTC)  # London = UTC in winter
    after = datetime(2026, 1, 6, 4, 0, tzinfo=UTC)
    assert study_day(before, LONDON, 4).date.isoformat() == "2026-01-05"
    assert study_day(after, LONDON, 4).date.isoformat() == "2026-01-06"
    assert study_day(after, LONDON, 0).date.isoformat() == "2026-01-06"


@pytest.mark.parametrize("start,hours_in_changed_day", [
    (datetime(2026, 3, 27, tzinfo=UTC), 23),   # clocks go forward 29 March
    (datetime(2026, 10, 23, tzinfo=UTC), 25),  # clocks go back 25 October
])
@pytest.mark.parametrize("rollover", [0, 1, 2, 4])
def test_daylight_saving_neither_skips_nor_repeats_a_day(
        start: datetime, hours_in_changed_day: int, rollover: int) -> None:
    days = []
    for minutes in range(0, 6 * 24 * 60, 15):
        day = study_day(start + timedelta(minutes=minutes), LONDON, rollover)
        if not days or days[-1] != day:
            days.append(day)
    dates = [d.date for d in days]
    assert dates == sorted(set(dates))
    assert all(b.toordinal() - a.toordinal() == 1 for a, b in zip(dates, dates[1:], strict=False))
    lengths = sorted({(d.end - d.start) / timedelta(hours=1) for d in days[1:-1]})
    assert lengths == sorted({24, hours_in_changed_day})
    assert all(a.end == b.start for a, b in zip(days, days[1:], strict=False))


def test_daily_limit_resets_once_across_daylight_saving(tmp_path: Path) -> None:
    store = store_from_toml(tmp_path / "s.db", facts_toml(30))
    settings = Settings(fuzz=False, new_per_day=3)
    now = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    introduced = []
    for _ in range(4):
        sess = session(store, settings)
        count = 0
        while (shown := sess.next(now)) is not None:
            if shown.reason == "new":
                count += 1
            sess.answer(shown, 4, now, 1)
        introduced.append(count)
        now += timedelta(hours=12)  # two sessions a day, across the change on 29 March
    assert introduced == [3, 0, 3, 0]


def test_siblings_wait_until_the_next_day(tmp_path: Path) -> None:
    store = store_from_toml(tmp_path / "s.db", TENURES)
    sess = session(store)
    shown = next_at(sess, T0)
    assert shown.key == "tenure:andropov--gs--1982-11-12:holder"
    result = sess.answer(shown, 3, T0, 1)
    # the record's cards, its successions, and the cards linked to it by a leak
    assert {k for k in result.buried if not k.startswith(("as-of:", "person:"))} == {
        "tenure:andropov--gs--1982-11-12:office", "tenure:andropov--gs--1982-11-12:dates",
        "succession:andropov--gs--1982-11-12+chernenko--gs--1984-02-13:successor",
        "succession:andropov--gs--1982-11-12+chernenko--gs--1984-02-13:predecessor"}
    assert "person:andropov:who" in result.buried  # "Who was Yuri Andropov?": a leak
    rest = []
    while (shown := sess.next(T0)) is not None:
        rest.append(shown.key)
        sess.answer(shown, 3, T0, 1)
    # the learning step of the answered card is not held back; the Chernenko tenure was
    # not buried by Andropov's card, but answering it buries nothing left
    assert rest[0] == "tenure:chernenko--gs--1984-02-13:holder"
    assert "tenure:andropov--gs--1982-11-12:holder" in rest
    assert not any(k.endswith((":office", ":dates")) or k.startswith("succession") for k in rest)
    next_day = T0 + timedelta(days=1)
    # the next day, the cards buried today are back, all of them still new
    buried_today = store.card_rows("state = 'new' AND buried_until IS NOT NULL")
    assert len(buried_today) >= len(result.buried)
    assert session(store).counts(next_day).new == len(buried_today)


def test_bury_siblings_can_be_turned_off(tmp_path: Path) -> None:
    store = store_from_toml(tmp_path / "s.db", TENURES)
    sess = session(store, Settings(fuzz=False, bury_siblings=False))
    result = sess.answer(next_at(sess, T0), 3, T0, 1)
    assert result.buried == ()
    assert next_at(sess, T0).key == "tenure:andropov--gs--1982-11-12:office"


def test_a_sibling_in_learning_is_not_held_back(tmp_path: Path) -> None:
    store = store_from_toml(tmp_path / "s.db", TENURES)
    sess = session(store, Settings(fuzz=False, bury_siblings=False))
    first = next_at(sess, T0)
    sess.answer(first, 1, T0, 1)  # holder: learning, due in 1 minute
    second = next_at(sess, T0)
    assert second.key.endswith(":office")
    buried = session(store).answer(second, 3, T0, 1).buried
    assert first.key not in buried


def _to_review(sess: ReviewSession, now: datetime) -> datetime:
    sess.answer(next_at(sess, now), 4, now, 1)
    return now


def test_leech_at_the_eighth_lapse(one_fact: Store) -> None:
    sess = session(one_fact)
    now = _to_review(sess, T0)
    leech_at = None
    for lapse in range(1, 9):
        now = from_iso(str(card(one_fact, "fact:f000:forward")["due"]))
        result = sess.answer(next_at(sess, now), 1, now, 1)  # lapse
        row = card(one_fact, "fact:f000:forward")
        assert row["lapses"] == lapse
        if result.leech:
            leech_at = lapse
            break
        now += result.interval
        sess.answer(next_at(sess, now), 3, now, 1)  # back to review
    assert leech_at == 8
    row = card(one_fact, "fact:f000:forward")
    assert row["suspended"] == 1 and row["leech"] == 1
    assert sess.tally.leeches == ["fact:f000:forward"]
    assert session(one_fact).next(now + timedelta(days=400)) is None


def test_undo_restores_the_exact_state(tmp_path: Path) -> None:
    store = store_from_toml(tmp_path / "s.db", TENURES)
    sess = session(store)
    first = next_at(sess, T0)
    sess.answer(first, 3, T0, 1)
    later = T0 + timedelta(minutes=10)
    shown = next_at(sess, later)
    before = {r["key"]: r for r in store.card_rows()}
    result = sess.answer(shown, 4, later, 1234)
    assert store.db.execute("SELECT COUNT(*) FROM reviews").fetchone()[0] == 2
    review = sess.undo()
    assert review["card_key"] == shown.key and review["rating"] == 4
    after = {r["key"]: r for r in store.card_rows()}
    ignore = {"version"}
    for key, row in before.items():
        assert {k: v for k, v in row.items() if k not in ignore} == \
               {k: v for k, v in after[key].items() if k not in ignore}, key
    # the answer stays in the log, cancelled by a tombstone that names it
    rows = list(store.db.query("SELECT event_id, kind, live, cancels FROM reviews ORDER BY id"))
    assert [(r["kind"], r["live"]) for r in rows] == [("review", 1), ("review", 0), ("undo", 0)]
    assert rows[2]["cancels"] == rows[1]["event_id"]
    assert sess.tally.answered == 1
    assert result.key == shown.key


def test_undo_with_nothing_to_undo(one_fact: Store) -> None:
    with pytest.raises(NothingToUndo):
        session(one_fact).undo()


def test_changed_answer_is_due_today_and_marked(tmp_path: Path) -> None:
    path = tmp_path / "facts.toml"
    path.write_text(facts_toml(1))
    store = Store.open(tmp_path / "s.db")
    load_and_import(store, [path], T0)
    sess = session(store)
    sess.answer(next_at(sess, T0), 4, T0, 1)  # review, due in 8 days
    assert sess.next(T0 + timedelta(days=1)) is None
    path.write_text(facts_toml(1).replace("Answer 0", "A better answer"))
    edit_time = T0 + timedelta(days=1)
    load_and_import(store, [path], edit_time)
    shown = next_at(session(store), edit_time)
    assert shown.changed and shown.card["answer"] == "A better answer"
    session(store).answer(shown, 3, edit_time, 1)
    row = card(store, "fact:f000:forward")
    assert row["reviewed_hash"] == row["answer_hash"]


def test_a_card_answered_elsewhere_is_refused(one_fact: Store, tmp_path: Path) -> None:
    other = Store.open(tmp_path / "s.db")
    mine, theirs = session(one_fact), session(other)
    a, b = next_at(mine, T0), next_at(theirs, T0)
    mine.answer(a, 3, T0, 1)
    with pytest.raises(CardMoved):
        theirs.answer(b, 3, T0, 1)
    assert one_fact.db.execute("SELECT COUNT(*) FROM reviews").fetchone()[0] == 1


def test_review_rows_hold_enough_to_replay(one_fact: Store) -> None:
    sess = session(one_fact)
    sess.answer(next_at(sess, T0), 3, T0, 2500)
    row = dict(one_fact.db.execute("SELECT * FROM reviews").fetchone()
               if False else next(one_fact.db.query("SELECT * FROM reviews")))
    assert row["card_key"] == "fact:f000:forward"
    assert row["rating"] == 3 and row["duration_ms"] == 2500
    assert row["reviewed_at"] == "2026-01-05T12:00:00.000000+00:00"
    assert json.loads(row["state_before"])["state"] == "new"
    assert json.loads(row["state_after"])["state"] == "learning"
    assert row["interval_days"] == pytest.approx(10 / 1440)


def test_undo_in_a_session_undoes_its_own_answer_only(tmp_path: Path) -> None:
    store = store_from_toml(tmp_path / "s.db", facts_toml(3))
    mine, theirs = session(store), session(Store.open(tmp_path / "s.db"))
    first = next_at(mine, T0)
    mine.answer(first, 3, T0, 1)
    other = next_at(theirs, T0)
    assert other.key != first.key
    theirs.answer(other, 3, T0, 1)
    undone = mine.undo()
    assert undone["card_key"] == first.key
    assert card(store, other.key)["reps"] == 1
    assert card(store, first.key)["state"] == "new"
    with pytest.raises(NothingToUndo):
        mine.undo()


def test_undo_refuses_when_the_card_was_answered_again_elsewhere(tmp_path: Path) -> None:
    store = store_from_toml(tmp_path / "s.db", facts_toml(1))
    mine, theirs = session(store), session(Store.open(tmp_path / "s.db"))
    mine.answer(next_at(mine, T0), 1, T0, 1)
    later = T0 + timedelta(minutes=2)
    theirs.answer(next_at(theirs, later), 3, later, 1)
    with pytest.raises(NothingToUndo, match="answered again since"):
        mine.undo()
    assert store.db.execute("SELECT COUNT(*) FROM reviews").fetchone()[0] == 2


def test_typed_answers_accept_only_the_answer_person_names(tmp_path: Path) -> None:
    store = store_from_toml(tmp_path / "s.db", TENURES)
    sess = session(store)
    pair = "andropov--gs--1982-11-12+chernenko--gs--1984-02-13"
    for template, name in (("successor", "Konstantin Chernenko"),
                           ("predecessor", "Yuri Andropov")):
        shown = sess.show(card(store, f"succession:{pair}:{template}"), "new", T0)
        assert shown.aliases == [name]
    holder = sess.show(card(store, "tenure:chernenko--gs--1984-02-13:holder"), "new", T0)
    assert holder.aliases == ["Konstantin Chernenko"]


@pytest.mark.parametrize("zone,rollover", [
    ("Pacific/Chatham", 3),      # clocks jump 02:45 -> 03:45: the rollover hour never shows
    ("Europe/London", 1),        # the gap starts at the rollover hour
    ("America/New_York", 2),
    ("America/New_York", 1),     # clocks go back over the rollover hour: it shows twice
    ("Australia/Lord_Howe", 2),  # a half-hour shift
])
def test_every_moment_lies_inside_its_study_day(zone: str, rollover: int) -> None:
    tz = ZoneInfo(zone)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    previous = None
    for minutes in range(0, 366 * 24 * 60, 7):
        now = start + timedelta(minutes=minutes)
        day = study_day(now, tz, rollover)
        assert day.start <= now < day.end, (now, day)
        if previous is not None and previous.date != day.date:
            assert previous.end == day.start
            assert day.date.toordinal() - previous.date.toordinal() == 1
        previous = day


def test_cards_tied_on_due_time_come_by_position_without_sorting_them(tmp_path: Path) -> None:
    """After an edit resets many cards to one due time, each pick walks an index (issue 11)."""
    store = store_from_toml(tmp_path / "s.db", facts_toml(30))
    conn = store.db.conn
    due = (T0 - timedelta(hours=1)).isoformat(timespec="microseconds")
    for state in ("review", "learning", "relearning"):
        conn.execute("UPDATE cards SET state = ?, due = ?, stability = 3, difficulty = 5, "
                     "last_review = ?, step = 0", [state, due, due])
        sess = session(store, Settings(reviews_per_day=999))
        first = conn.execute("SELECT MIN(position) FROM cards").fetchone()[0]
        picked = [sess.next(T0).card["position"] for _ in range(3)]  # type: ignore[union-attr]
        assert picked == [first] * 3  # the same card until answered: lowest position first
        statements: list[str] = []
        conn.set_trace_callback(statements.append)
        sess.next(T0)
        conn.set_trace_callback(None)
        for sql in (s for s in statements if "LIMIT 1" in s):
            for *_, detail in conn.execute(f"EXPLAIN QUERY PLAN {sql}"):
                assert "TEMP B-TREE" not in detail, (state, sql, detail)
