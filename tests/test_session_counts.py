"""A review session holds today's counts between answers instead of counting every
due card again for each card shown: what it holds must equal a fresh count."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bench.common import tenures_toml
from cards.db import iso
from study import queue as queue_module
from study.queue import Filters, Limits, Queue
from study.session import FOLD_EVERY, ReviewSession
from study.settings import Settings
from tests.helpers import T0, facts_toml, store_from_toml

UTC_ZONE = ZoneInfo("UTC")
DECK = tenures_toml(12) + facts_toml(30, tag="demo")


def fresh(conn: sqlite3.Connection, settings: Settings, filters: Filters | None,
          limits: Limits | None, session: ReviewSession, now: datetime) -> tuple[int, ...]:
    """Today's counts as a queue that holds nothing counts them."""
    queue = Queue(conn, settings, UTC_ZONE, filters, limits)
    queue.session_new, queue.session_reviews = (session.queue.session_new,
                                                session.queue.session_reviews)
    counts = queue.counts(now)
    return counts.learning, counts.review, counts.new


def held(session: ReviewSession) -> tuple[int, ...]:
    counts = session.queue.last_counts
    assert counts is not None
    return counts.learning, counts.review, counts.new


@pytest.fixture
def recounts(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    calls: list[datetime] = []
    real = Queue._recount

    def counting(self: Queue, now: datetime, *rest: Any) -> Any:
        calls.append(now)
        return real(self, now, *rest)

    monkeypatch.setattr(queue_module.Queue, "_recount", counting)
    return calls


@pytest.mark.parametrize("filters", [None, Filters(tag="demo"), Filters(kind="tenure")])
@pytest.mark.parametrize("limits", [None, Limits(new=25, reviews=40)])
def test_held_counts_equal_a_fresh_count_after_every_answer(
        tmp_path: Path, recounts: list[datetime], filters: Filters | None,
        limits: Limits | None) -> None:
    store = store_from_toml(tmp_path / "s.db", DECK)
    conn = store.db.conn
    # some cards due for review today, and siblings of them new (burying takes both)
    conn.execute("UPDATE cards SET state = 'review', stability = 3, difficulty = 5, reps = 1, "
                 "due = ?, last_review = ? WHERE position % 3 = 0",
                 [iso(T0 - timedelta(hours=2)), iso(T0 - timedelta(days=3))])
    settings = Settings(fuzz=False, new_per_day=30, reviews_per_day=25)
    session = ReviewSession(store, settings, UTC_ZONE, filters, limits)
    now = T0
    shown = session.next(now)
    answered = 0
    while shown is not None and answered < 60:
        assert held(session) == fresh(conn, settings, filters, limits, session, now)
        session.answer(shown, (1, 3, 3, 2, 4)[answered % 5], now, 1000)
        answered += 1
        now += timedelta(seconds=40)
        shown = session.next(now)
    assert answered > 20
    assert held(session) == fresh(conn, settings, filters, limits, session, now)
    assert len(recounts) == 1  # counted once; every answer after that was an update
    store.close()


def test_another_programs_change_is_counted(tmp_path: Path, recounts: list[datetime]) -> None:
    path = tmp_path / "s.db"
    store = store_from_toml(path, facts_toml(10))
    settings = Settings(fuzz=False)
    session = ReviewSession(store, settings, UTC_ZONE)
    shown = session.next(T0)
    assert shown is not None and held(session)[2] == 10
    other = sqlite3.connect(path)
    with other:
        other.execute("UPDATE cards SET suspended = 1 WHERE key != ? AND position < 5",
                      [shown.key])
    other.close()
    session.answer(shown, 3, T0, 1000)
    session.next(T0)
    assert held(session) == fresh(store.db.conn, settings, None, None, session, T0)
    assert len(recounts) == 2
    store.close()


def test_a_card_buried_until_later_today_comes_back_when_its_time_comes(
        tmp_path: Path) -> None:
    store = store_from_toml(tmp_path / "s.db", facts_toml(5))
    settings = Settings(fuzz=False)
    session = ReviewSession(store, settings, UTC_ZONE)
    store.db.conn.execute("UPDATE cards SET buried_until = ? WHERE position = 3",
                          [iso(T0 + timedelta(hours=1))])  # as another device's sync may
    session.next(T0)
    assert held(session)[2] == 4
    session.next(T0 + timedelta(minutes=59))
    assert held(session)[2] == 4
    session.next(T0 + timedelta(hours=1))
    assert held(session)[2] == 5
    store.close()


def test_the_counts_start_again_with_the_next_study_day(tmp_path: Path) -> None:
    store = store_from_toml(tmp_path / "s.db", facts_toml(30))
    settings = Settings(fuzz=False, new_per_day=4)
    session = ReviewSession(store, settings, UTC_ZONE)
    now = T0
    for _ in range(4):
        shown = session.next(now)
        assert shown is not None
        session.answer(shown, 4, now, 1000)  # easy: out of today's counts
    assert session.next(now) is None
    tomorrow = datetime(2026, 1, 6, 12, tzinfo=UTC)
    assert session.next(tomorrow) is not None
    assert held(session) == fresh(store.db.conn, settings, None, None, session, tomorrow)
    assert held(session)[2] == 4
    store.close()


def test_idle_folds_the_write_ahead_log_so_that_no_commit_has_to(tmp_path: Path) -> None:
    """Without ``idle`` the log grows until SQLite's own checkpoint, inside a commit."""
    peaks = []
    for fold in (False, True):
        path = tmp_path / f"s{fold}.db"
        store = store_from_toml(path, facts_toml(90))
        session = ReviewSession(store, Settings(fuzz=False, new_per_day=90), UTC_ZONE)
        store.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        peak = 0
        for _ in range(4 * FOLD_EVERY):
            shown = session.next(T0)
            assert shown is not None
            if fold:
                session.idle()
            session.answer(shown, 4, T0, 1000)
            peak = max(peak, Path(f"{path}-wal").stat().st_size)
        peaks.append(peak)
        store.close()
    assert peaks[1] * 2 < peaks[0]
