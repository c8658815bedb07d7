"""`study stats`: exact figures from scripted histories, study days across
daylight saving, narrowing by tag and kind, JSON and the drawing."""

from __future__ import annotations

import json
import random
import sqlite3
from collections import Counter
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from helpers import run
from rich.console import Console

from cards.db import iso
from cards.store import Store
from study.queue import Filters, study_day
from study.session import ReviewSession
from study.settings import Settings
from study.stats import compute, render

LONDON = ZoneInfo("Europe/London")
#: Monday 2 November 2026, a week after the clocks went back in London.
NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)

KOLKHOZ = "fact:kolkhoz:forward"
DANWEI = "fact:danwei:forward"
ORGAN = "organ:politburo:founded"
EVENT = "event:twentieth-congress:date"


@pytest.fixture
def store(deck: Path) -> Store:
    """The shared test deck at the path ``study`` opens ($STUDY_DB), study days in London."""
    s = Store.open(deck)
    s.set_config("timezone", "Europe/London")
    return s


def keys(store: Store, kind: str) -> list[str]:
    return [r["key"] for r in store.card_rows("kind = ?", [kind], order="key")]


def answer(conn: sqlite3.Connection, key: str, rating: int, at: datetime,
           state: str = "review", ms: int = 1000, before: str | None = None) -> None:
    """A review row as the scheduler writes it (state first in the snapshot)."""
    snapshot = before or json.dumps({"state": state, "step": None, "stability": 3.2,
                                     "difficulty": 5.1, "due": iso(at), "reps": 4})
    conn.execute("INSERT INTO reviews (card_key, rating, reviewed_at, duration_ms, "
                 "state_before, state_after, interval_days) VALUES (?, ?, ?, ?, ?, '{}', 1.0)",
                 [key, rating, iso(at), ms, snapshot])


def stats(store: Store, now: datetime = NOW, tz: ZoneInfo = LONDON, rollover: int = 4,
          tag: str | None = None, kind: str | None = None) -> dict:
    return compute(store.db.conn, now, tz, rollover, Filters(tag, kind))


def busy_days(figures: dict) -> dict[str, int]:
    return {day: n for day, n in figures["calendar"].items() if n}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# -- an empty store ------------------------------------------------------------

@pytest.mark.parametrize("narrow", [{}, {"tag": "ussr"}, {"kind": "facts"}])
def test_an_empty_history_gives_zeros_and_none(tmp_path: Path, narrow: dict) -> None:
    empty = Store.open(tmp_path / "empty.db")
    figures = stats(empty, **narrow)
    assert figures["date"] == "2026-11-02"
    assert len(figures["calendar"]) == 365 and set(figures["calendar"].values()) == {0}
    assert list(figures["calendar"])[0] == "2025-11-03"
    assert list(figures["calendar"])[-1] == "2026-11-02"
    assert figures["today"] == {"answered": 0, "again": 0, "seconds": 0.0}
    assert figures["retention"] == {p: {"answers": 0, "passed": 0, "retention": None}
                                    for p in ("day", "week", "month", "year")}
    assert figures["cards"] == {"new": 0, "learning": 0, "review": 0, "suspended": 0,
                                "leech": 0, "total": 0}
    assert len(figures["due"]) == 30 and set(figures["due"].values()) == {0}
    assert list(figures["due"])[0] == "2026-11-02"
    assert all(k["retention"] is None for k in figures["kinds"].values())
    assert figures["leeches"] == []
    render(figures, Console(file=StringIO(), width=80))


# -- answers per study day -----------------------------------------------------

#: Answers around both daylight-saving changes of 2026 in London (29 March:
#: GMT to BST at 01:00 UTC; 25 October: back at 01:00 UTC) and the rollover
#: at 04:00 local time, with the study day each belongs to.
DST_ANSWERS = {
    "2025-11-02T12:00:00": None,  # 365 days ago: outside the calendar
    "2025-11-03T04:00:00": "2025-11-03",  # the calendar's first day
    "2026-03-28T03:59:00": "2026-03-27",  # 03:59 GMT
    "2026-03-28T04:00:00": "2026-03-28",  # 04:00 GMT
    "2026-03-29T02:59:00": "2026-03-28",  # 03:59 BST: 28 March was 23 hours long
    "2026-03-29T03:00:00": "2026-03-29",  # 04:00 BST
    "2026-10-24T02:59:00": "2026-10-23",  # 03:59 BST
    "2026-10-24T03:00:00": "2026-10-24",  # 04:00 BST
    "2026-10-25T03:30:00": "2026-10-24",  # 03:30 GMT: 24 October was 25 hours long
    "2026-10-25T04:00:00": "2026-10-25",  # 04:00 GMT
    "2026-11-02T03:59:00": "2026-11-01",
    "2026-11-02T04:00:00": "2026-11-02",  # today
}


@pytest.mark.parametrize("narrow", [{}, {"tag": "ussr"}, {"kind": "fact"}])
def test_answers_per_study_day_across_daylight_saving(store: Store, narrow: dict) -> None:
    for text in DST_ANSWERS:
        answer(store.db.conn, KOLKHOZ, 3, at(text))
    expected = Counter(day for day in DST_ANSWERS.values() if day)
    assert busy_days(stats(store, **narrow)) == dict(sorted(expected.items()))
    assert busy_days(stats(store, tag="china")) == {}


def test_the_rollover_hour_moves_the_day_boundary(store: Store) -> None:
    for text in ("2026-11-01T23:30:00", "2026-11-02T00:30:00", "2026-11-02T03:59:00",
                 "2026-10-24T23:30:00"):  # 00:30 BST on 25 October
        answer(store.db.conn, KOLKHOZ, 3, at(text))
    assert busy_days(stats(store, rollover=0)) == {
        "2026-10-25": 1, "2026-11-01": 1, "2026-11-02": 2}
    assert busy_days(stats(store, rollover=4)) == {"2026-10-24": 1, "2026-11-01": 3}


@pytest.mark.parametrize(("zone", "rollover"), [
    ("Europe/London", 4), ("Europe/London", 1), ("America/New_York", 2), ("Asia/Kolkata", 3),
    ("America/St_Johns", 3), ("Australia/Lord_Howe", 2), ("Pacific/Chatham", 4),
    ("Pacific/Chatham", 3), ("UTC", 0)])
@pytest.mark.parametrize("narrow", [{}, {"tag": "ussr"}])
def test_the_calendar_agrees_with_study_day_everywhere(store: Store, zone: str, rollover: int,
                                                        narrow: dict) -> None:
    """Half-hour and 45-minute offsets, a half-hour daylight-saving shift (Lord Howe),
    rollover hours at the start of a daylight-saving gap (London 1, New York 2)."""
    tz = ZoneInfo(zone)
    rng = random.Random(zone)
    times = [NOW - timedelta(seconds=rng.uniform(0, 370 * 86400)) for _ in range(400)]
    for days_ago in range(366):  # and one either side of every day boundary
        start = study_day(NOW - timedelta(days=days_ago), tz, rollover).start
        times += [start - timedelta(microseconds=1), start]
    for t in times:
        answer(store.db.conn, ORGAN, 3, t)
    first = study_day(NOW, tz, rollover).date - timedelta(days=364)
    expected = Counter(d.isoformat() for d in (study_day(t, tz, rollover).date for t in times)
                       if d >= first)
    figures = stats(store, tz=tz, rollover=rollover, **narrow)
    assert busy_days(figures) == dict(sorted(expected.items()))


# -- today and true retention ----------------------------------------------------

def test_today_and_true_retention_by_period(store: Store) -> None:
    conn = store.db.conn
    today = "2026-11-02T"
    answer(conn, KOLKHOZ, 3, at(today + "05:00:00"), ms=1500)
    answer(conn, KOLKHOZ, 1, at(today + "06:00:00"), ms=2500)
    answer(conn, DANWEI, 1, at(today + "07:00:00"), state="learning", ms=1000)
    answer(conn, ORGAN, 3, at(today + "08:00:00"), state="new", ms=3000)
    answer(conn, KOLKHOZ, 1, at("2026-11-02T03:00:00"))  # yesterday's study day
    answer(conn, KOLKHOZ, 4, at("2026-10-30T12:00:00"))  # 3 days ago
    answer(conn, ORGAN, 2, at("2026-10-30T13:00:00"))  # Hard is not Again
    answer(conn, ORGAN, 3, at("2026-10-30T14:00:00"), state="relearning")
    answer(conn, KOLKHOZ, 1, at("2026-10-23T12:00:00"))  # 10 days ago
    answer(conn, KOLKHOZ, 3, at("2026-07-25T12:00:00"))  # 100 days ago
    answer(conn, KOLKHOZ, 3, at("2025-09-28T12:00:00"))  # 400 days ago
    figures = stats(store)
    assert figures["today"] == {"answered": 4, "again": 2, "seconds": 8.0}
    assert figures["retention"] == {
        "day": {"answers": 2, "passed": 1, "retention": 0.5},
        "week": {"answers": 5, "passed": 3, "retention": 0.6},
        "month": {"answers": 6, "passed": 3, "retention": 0.5},
        "year": {"answers": 7, "passed": 4, "retention": 4 / 7},
    }


def test_a_review_card_is_recognised_in_any_snapshot_format(store: Store) -> None:
    """The prefix shortcut and the JSON parse agree."""
    t = at("2026-11-02T05:00:00")
    for before in ('{"state": "review", "step": null}', '{"state":"review"}',
                   '{"step": null, "state": "review"}', '{ "state" : "review" }',
                   '{"state": "reviewed"}', '{"state": "relearning"}', '{"state": "new"}',
                   '{"state": "learning", "note": "review"}', '{"state": null}'):
        answer(store.db.conn, KOLKHOZ, 3, t, before=before)
    assert stats(store)["retention"]["day"] == {"answers": 4, "passed": 4, "retention": 1.0}


def test_retention_by_kind_over_the_year(store: Store) -> None:
    conn = store.db.conn
    tenure = keys(store, "tenure")[0]
    succession = keys(store, "succession")[0]
    t = at("2026-09-01T12:00:00")
    for key, rating in ((ORGAN, 3), (ORGAN, 1), (tenure, 2), (tenure, 4), (tenure, 1),
                        (tenure, 3), (succession, 1), (KOLKHOZ, 3)):
        answer(conn, key, rating, t)
    answer(conn, EVENT, 3, t, state="learning")  # not a review card
    answer(conn, succession, 3, at("2025-10-01T12:00:00"))  # more than a year ago
    kinds = stats(store)["kinds"]
    assert list(kinds) == ["organ", "tenure", "succession", "event", "fact", "person",
                           "office", "as-of", "heads", "lineage", "chronology"]
    none = {"answers": 0, "passed": 0, "retention": None}
    assert kinds == {**{k: none for k in kinds},
        "tenure": {"answers": 4, "passed": 3, "retention": 0.75},
        "organ": {"answers": 2, "passed": 1, "retention": 0.5},
        "event": {"answers": 0, "passed": 0, "retention": None},
        "fact": {"answers": 1, "passed": 1, "retention": 1.0},
        "succession": {"answers": 1, "passed": 0, "retention": 0.0},
    }
    assert stats(store, kind="tenures")["kinds"] == {
        "tenure": {"answers": 4, "passed": 3, "retention": 0.75}}


# -- cards by state, due, leeches ------------------------------------------------

def set_card(store: Store, key: str, **values: object) -> None:
    sets = ", ".join(f"{c} = ?" for c in values)
    store.db.execute(f"UPDATE cards SET {sets} WHERE key = ?", [*values.values(), key])
    store.db.conn.commit()


def test_cards_by_state_and_leeches(store: Store) -> None:
    holder, office, dates = (f"tenure:stalin-gensec:{t}"
                             for t in ("holder", "office", "dates"))
    set_card(store, ORGAN, state="review", due=iso(NOW))
    set_card(store, holder, state="learning", due=iso(NOW))
    set_card(store, office, state="relearning", due=iso(NOW))
    set_card(store, dates, state="review", due=iso(NOW), suspended=1, leech=1)
    set_card(store, KOLKHOZ, state="review", due=iso(NOW), leech=1)  # unsuspended again
    set_card(store, DANWEI, state="review", due=iso(NOW), leech=1, retired=1)
    total = len(store.card_rows("retired = 0"))
    figures = stats(store)
    assert figures["cards"] == {"new": total - 5, "learning": 2, "review": 2, "suspended": 1,
                                "leech": 2, "total": total}
    assert figures["leeches"] == [
        {"key": KOLKHOZ, "question": "What is a kolkhoz?"},
        {"key": dates, "question": "When was Joseph Stalin General Secretary?"},
    ]
    facts = len(keys(store, "fact")) - 1  # danwei is retired
    assert stats(store, kind="facts")["cards"] == {"new": facts - 1, "learning": 0, "review": 1,
                                                   "suspended": 0, "leech": 1, "total": facts}
    assert stats(store, tag="china")["cards"]["total"] == 0  # danwei is retired
    assert stats(store, kind="tenure")["leeches"] == [figures["leeches"][1]]


def test_cards_due_on_each_of_the_next_30_days(store: Store) -> None:
    """Saturday 28 March 2026: the clocks go forward tonight, so today ends at 03:00 UTC."""
    now = at("2026-03-28T12:00:00")
    tenures = keys(store, "tenure")
    set_card(store, ORGAN, state="review", due=iso(at("2026-03-01T12:00:00")))  # overdue
    set_card(store, tenures[0], state="learning", due=iso(at("2026-03-28T13:00:00")))
    set_card(store, tenures[1], state="review", due=iso(at("2026-03-29T02:59:00")))
    set_card(store, tenures[2], state="review", due=iso(at("2026-03-29T03:30:00")))  # 04:30 BST
    set_card(store, KOLKHOZ, state="relearning", due=iso(at("2026-04-26T12:00:00")))  # day 29
    set_card(store, EVENT, state="review", due=iso(at("2026-04-27T12:00:00")))  # day 30
    set_card(store, DANWEI, state="review", due=iso(now), suspended=1)
    for key in keys(store, "succession"):
        set_card(store, key, state="review", due=iso(now), retired=1)
    due = stats(store, now=now)["due"]
    assert len(due) == 30
    assert list(due)[0] == "2026-03-28" and list(due)[-1] == "2026-04-26"
    assert {d: n for d, n in due.items() if n} == {
        "2026-03-28": 3, "2026-03-29": 1, "2026-04-26": 1}
    assert {d: n for d, n in stats(store, now=now, kind="fact")["due"].items() if n} == {
        "2026-04-26": 1}


# -- narrowing, and a history made by real sessions -------------------------------

def test_tag_and_kind_narrow_every_figure(store: Store) -> None:
    conn = store.db.conn
    today = at("2026-11-02T09:00:00")
    answer(conn, DANWEI, 1, today, ms=4000)
    answer(conn, KOLKHOZ, 3, today, ms=2000)
    answer(conn, ORGAN, 3, today, ms=1000)
    answer(conn, ORGAN, 3, at("2026-06-01T09:00:00"))
    set_card(store, DANWEI, state="review", due=iso(NOW), leech=1)
    set_card(store, ORGAN, state="review", due=iso(NOW + timedelta(days=2)))

    china = stats(store, tag="china")
    assert china["filters"] == {"tag": "china", "kind": None}
    assert busy_days(china) == {"2026-11-02": 1}
    assert china["today"] == {"answered": 1, "again": 1, "seconds": 4.0}
    assert china["retention"]["year"] == {"answers": 1, "passed": 0, "retention": 0.0}
    assert china["cards"] == {"new": 0, "learning": 0, "review": 1, "suspended": 0,
                              "leech": 1, "total": 1}
    assert sum(china["due"].values()) == 1 and china["due"]["2026-11-02"] == 1
    assert china["kinds"]["fact"]["answers"] == 1 and china["kinds"]["organ"]["answers"] == 0
    assert [leech["key"] for leech in china["leeches"]] == [DANWEI]

    organs = stats(store, kind="organs")
    assert organs["filters"] == {"tag": None, "kind": "organ"}
    assert busy_days(organs) == {"2026-06-01": 1, "2026-11-02": 1}
    assert organs["today"] == {"answered": 1, "again": 0, "seconds": 1.0}
    assert list(organs["kinds"]) == ["organ"]
    assert organs["kinds"]["organ"] == {"answers": 2, "passed": 2, "retention": 1.0}
    assert organs["cards"]["total"] == len(keys(store, "organ"))
    assert organs["due"]["2026-11-04"] == 1
    assert organs["leeches"] == []

    both = stats(store, tag="ussr", kind="fact")
    assert busy_days(both) == {"2026-11-02": 1} and both["today"]["again"] == 0

    everything = stats(store)
    assert busy_days(everything) == {"2026-06-01": 1, "2026-11-02": 3}
    assert everything["today"] == {"answered": 3, "again": 1, "seconds": 7.0}


def test_figures_of_a_history_made_by_review_sessions(store: Store) -> None:
    """A week of sessions with a fixed clock: the figures agree with the review rows."""
    settings = Settings(fuzz=False, leech_threshold=2, timezone="Europe/London")
    ratings = [3, 1, 3, 3, 1, 2, 4, 1]
    start = datetime(2026, 10, 20, 8, 0, tzinfo=UTC)
    answered: Counter[str] = Counter()
    n = 0
    for day in range(14):
        now = start + timedelta(days=day)
        session = ReviewSession(store, settings, LONDON)
        while (shown := session.next(now)) is not None and n < 1000:
            session.answer(shown, ratings[n % len(ratings)], now, 2000 + n)
            answered[study_day(now, LONDON, 4).date.isoformat()] += 1
            n += 1
            now += timedelta(minutes=11)
    figures = stats(store, now=now)
    assert busy_days(figures) == dict(sorted(answered.items()))
    rows = store.db.execute("SELECT rating, reviewed_at, duration_ms, state_before "
                            "FROM reviews").fetchall()
    today = study_day(now, LONDON, 4)
    todays = [r for r in rows if r[1] >= iso(today.start)]
    assert figures["today"] == {"answered": len(todays),
                                "again": sum(r[0] == 1 for r in todays),
                                "seconds": sum(r[2] for r in todays) / 1000}
    reviews = [r for r in rows if json.loads(r[3])["state"] == "review"]
    assert reviews, "the history should reach review cards"
    assert figures["retention"]["year"] == {
        "answers": len(reviews), "passed": sum(r[0] > 1 for r in reviews),
        "retention": sum(r[0] > 1 for r in reviews) / len(reviews)}
    leeches = [r["key"] for r in store.card_rows("leech = 1 AND retired = 0", order="key")]
    assert leeches and [leech["key"] for leech in figures["leeches"]] == leeches
    counts = Counter(("suspended" if r["suspended"] else r["state"].replace("relearning",
                                                                            "learning"))
                     for r in store.card_rows("retired = 0"))
    assert {k: v for k, v in figures["cards"].items() if k not in ("leech", "total") and v} \
        == dict(counts)


# -- the command ------------------------------------------------------------------

def test_json_prints_the_computed_figures(store: Store) -> None:
    answer(store.db.conn, KOLKHOZ, 3, at("2026-11-02T09:00:00"), ms=1234)
    answer(store.db.conn, ORGAN, 1, at("2026-11-01T09:00:00"))
    store.db.conn.commit()
    env = {"STUDY_NOW": iso(NOW)}
    assert json.loads(run("stats", "--json", env=env).stdout) == json.loads(
        json.dumps(stats(store)))
    narrowed = run("stats", "--json", "--kind", "facts", "--tag", "ussr", env=env)
    assert narrowed.exit_code == 0
    figures = json.loads(narrowed.stdout)
    assert figures == json.loads(json.dumps(stats(store, tag="ussr", kind="facts")))
    assert figures["today"] == {"answered": 1, "again": 0, "seconds": 1.234}
    assert busy_days(figures) == {"2026-11-02": 1}


def test_json_uses_the_configured_time_zone_and_rollover(store: Store) -> None:
    answer(store.db.conn, KOLKHOZ, 3, at("2026-10-25T03:30:00"))  # 03:30 GMT
    store.db.conn.commit()
    env = {"STUDY_NOW": iso(NOW)}
    assert busy_days(json.loads(run("stats", "--json", env=env).stdout)) == {"2026-10-24": 1}
    store.set_config("rollover_hour", 3)
    assert busy_days(json.loads(run("stats", "--json", env=env).stdout)) == {"2026-10-25": 1}


def test_a_bad_kind_is_a_usage_error(store: Store) -> None:
    result = run("stats", "--kind", "nobody")
    assert result.exit_code == 2 and "Invalid value for '--kind'" in result.output


# -- drawing ----------------------------------------------------------------------

def a_full_history(store: Store) -> None:
    conn = store.db.conn
    rng = random.Random(5)
    cards = [r["key"] for r in store.card_rows()]
    for _ in range(600):
        t = NOW - timedelta(days=rng.uniform(0, 400) ** 1.3 / 2.5)
        answer(conn, rng.choice(cards), rng.choice([1, 2, 3, 3, 3, 4]), t,
               state=rng.choice(["review", "review", "learning", "new"]), ms=rng.randint(900, 9000))
    for i, key in enumerate(cards):
        set_card(store, key, state="review", due=iso(NOW + timedelta(days=i * 3 - 2)))
    set_card(store, KOLKHOZ, leech=1, suspended=1)
    store.db.conn.commit()


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize("color", [False, True])
def test_the_drawing_fits_the_terminal(store: Store, width: int, color: bool) -> None:
    a_full_history(store)
    out = StringIO()
    console = Console(file=out, width=width, force_terminal=color,
                      color_system="truecolor" if color else None)
    render(stats(store), console)
    text = out.getvalue()
    if not color:
        lines = text.splitlines()
        assert max(len(line) for line in lines) <= width
        assert lines[0] == "Statistics for Monday 2 Nov 2026"
        for needle in ("answers in the last 365 days", "Mon", "Wed", "Fri", "Less ·░▒▓█ More",
                       "Today: ", "True retention", "Cards by state", "By kind, 365 days",
                       "Tenures", "Successions", "Due in the next 30 days", "today",
                       "Leeches: 1", KOLKHOZ):
            assert needle in text, needle
        # twelve month names above the weeks
        assert sum(month in lines[3] for month in ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                   "Jul", "Aug", "Sep", "Oct", "Nov",
                                                   "Dec")) >= 11
    else:
        assert "\x1b[" in text and "■" in text


def test_the_command_draws_at_80_columns(store: Store) -> None:
    a_full_history(store)
    result = run("stats", "--tag", "ussr", env={"STUDY_NOW": iso(NOW), "COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "Statistics for Monday 2 Nov 2026 · tag ussr"
    assert max(len(line) for line in lines) <= 80
    assert "True retention" in result.stdout


def test_an_empty_store_draws_without_error(tmp_path: Path) -> None:
    Store.open(tmp_path / "study.db").close()
    result = run("stats", env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "0 answers in the last 365 days" in result.stdout
    assert "Today: no answers yet" in result.stdout
    assert "Due in the next 30 days: 0 cards" in result.stdout
    assert "Leeches: none" in result.stdout
