"""A simulated month of daily study on the starter deck, with a fixed clock."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from cards.db import from_iso, iso
from cards.starter import load_starter
from cards.store import Store
from study.queue import done_today, study_day
from study.session import ReviewSession
from study.settings import Settings

LONDON = ZoneInfo("Europe/London")
RATINGS = [3, 3, 1, 3, 4, 2, 3, 3, 3, 1]


def test_a_month_of_daily_study(tmp_path: Path) -> None:
    start = datetime(2026, 3, 10, 7, 30, tzinfo=UTC)
    store = Store.open(tmp_path / "s.db")
    load_starter(store, start)
    total_cards = len(store.card_rows("retired = 0"))
    settings = Settings(fuzz=False, new_per_day=20, reviews_per_day=40)
    answered = 0
    per_day = []
    for day_number in range(30):
        now = start + timedelta(days=day_number)
        day = study_day(now, LONDON, settings.rollover_hour)
        sess = ReviewSession(store, settings, LONDON)
        while now < day.end:
            shown = sess.next(now)
            if shown is None:
                # wait for the next learning step today, as a learner would
                pending = store.db.execute(
                    "SELECT MIN(due) FROM cards WHERE retired = 0 AND suspended = 0 "
                    "AND state IN ('learning', 'relearning') AND due < ?",
                    [iso(day.end)]).fetchone()[0]
                if pending is None:
                    break
                now = max(now, from_iso(pending))
                continue
            sess.answer(shown, RATINGS[answered % len(RATINGS)], now, 3000)
            answered += 1
            now += timedelta(seconds=20)
        new, reviews = done_today(store.db.conn, day)
        per_day.append((new, reviews))
        assert new <= 20 and reviews <= 40, (day_number, new, reviews)

    # limits held every day; new cards came 20 a day until burying siblings left fewer
    assert [n for n, _ in per_day[:9]] == [20] * 9
    still_new = store.card_rows("state = 'new'")
    # a new card whose siblings (or linked cards) are reviewed every day waits (buried)
    # until a quiet day; the others wait for the daily limit (30 days of 20 new cards)
    # (a record's group holds its as-of, succession and person cards too: a tenth at most)
    waiting = [r for r in still_new if not r["buried_until"]]
    assert len(still_new) - len(waiting) <= max(5, total_cards // 10)
    assert len(waiting) <= max(0, total_cards - 20 * 30)
    assert sum(n for n, _ in per_day) == total_cards - len(still_new)
    # no card lost or duplicated: every card is still there once, and its
    # reps agree with its rows in the append-only reviews table
    rows = store.card_rows("retired = 0")
    assert len(rows) == len({r["key"] for r in rows}) == total_cards
    counts = Counter(k for (k,) in store.db.execute("SELECT card_key FROM reviews"))
    assert sum(counts.values()) == answered
    for row in rows:
        assert row["reps"] == counts[row["key"]], row["key"]
    # each card was introduced exactly once
    introduced = Counter(k for (k, before) in store.db.execute(
        "SELECT card_key, state_before FROM reviews") if json.loads(before)["state"] == "new")
    assert set(introduced.values()) == {1} and len(introduced) == total_cards - len(still_new)
    assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
