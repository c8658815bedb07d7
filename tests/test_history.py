"""The review history as events: replay, fuzz by seed, tombstones, merging, doctor, migration.

The cached state in ``cards`` is compared with a full replay after answers,
undos and merges of events with earlier times from another device.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fsrs import Scheduler

from cards.store import Store
from study import history, live
from study.history import fuzzed, merge_events, rebuild, replay
from study.logfile import export_log, read_log
from study.queue import done_today, study_day
from study.scheduler import NothingToUndo, SessionRunning, undo
from study.session import ReviewSession
from study.settings import Settings
from tests.helpers import T0, facts_toml, run, snapshot, store_from_toml

UTC_ZONE = ZoneInfo("UTC")
FIXTURES = Path(__file__).with_name("fixtures")


DEFAULTS = Settings()


def learn(store: Store, days: int, seed: int, settings: Settings = DEFAULTS,
          start: int = 0, every: timedelta = timedelta(minutes=3)) -> int:
    """Review every card shown for ``days`` days, with seeded ratings; returns answers."""
    rng = random.Random(seed)
    answered = 0
    for day in range(start, start + days):
        now = T0 + timedelta(days=day, seconds=rng.randint(0, 3600))
        sess = ReviewSession(store, settings, UTC_ZONE)
        for _ in range(60):
            shown = sess.next(now)
            if shown is None:
                break
            sess.answer(shown, rng.choice((1, 2, 3, 3, 3, 4)), now, 1000)
            answered += 1
            now += every
    return answered


def assert_cache_is_replay(store: Store) -> None:
    repairs = rebuild(store.db.conn, Settings.from_config(store.config()), dry_run=True)
    assert repairs.cards > 0
    assert repairs.differed == 0, repairs.differences[:3]


def states(store: Store) -> dict[str, tuple[object, ...]]:
    return {r[0]: r[1:] for r in store.db.execute(
        "SELECT key, state, step, stability, difficulty, due, last_review, reps, lapses "
        "FROM cards ORDER BY key")}


def live_reviews(store: Store) -> int:
    return int(store.db.execute(
        "SELECT COUNT(*) FROM reviews WHERE kind = 'review' AND live = 1").fetchone()[0])


# -- replay and fuzz ------------------------------------------------------------

def test_the_cache_is_the_replay_after_a_month_of_fuzzed_answers(tmp_path: Path) -> None:
    store = store_from_toml(tmp_path / "s.db", facts_toml(30))
    assert learn(store, 30, seed=1) > 100
    assert store.db.execute("SELECT COUNT(*) FROM cards WHERE state = 'review'").fetchone()[0]
    assert_cache_is_replay(store)


def test_replay_is_pure_and_gives_the_cached_state(tmp_path: Path) -> None:
    store = store_from_toml(tmp_path / "s.db", facts_toml(5))
    learn(store, 20, seed=2)
    settings = Settings()
    for key, cached in states(store).items():
        evs = history.events(store.db.conn, [key])
        first = replay(key, evs, settings)
        assert replay(key, list(reversed(evs)), settings) == first  # order given is irrelevant
        assert tuple(first[c] for c in history.DERIVED) == pytest.approx(cached)


def test_fuzz_is_seeded_by_card_and_review(tmp_path: Path) -> None:
    interval = timedelta(days=40)
    seen = {fuzzed(interval, 36500, f"card\x1f{i}") for i in range(200)}
    assert all(fuzzed(interval, 36500, f"card\x1f{i}") == fuzzed(interval, 36500,
                                                                  f"card\x1f{i}")
               for i in range(20))
    # py-fsrs' range for 40 days: 40 +- (1 + 0.15*4.5 + 0.1*13 + 0.05*20) = 36 to 44 days,
    # drawn as round(random() * (44 - 36 + 1) + 36), which reaches 45 as py-fsrs' does
    assert min(seen) == timedelta(days=36) and max(seen) == timedelta(days=45)
    assert len(seen) == 10
    assert fuzzed(timedelta(days=2), 36500, "x") == timedelta(days=2)  # too short to fuzz
    # py-fsrs fuzzes with the global generator: answers do not depend on it
    one = store_from_toml(tmp_path / "a.db", facts_toml(4))
    learn(one, 25, seed=3)
    random.seed(1)
    replayed = {k: replay(k, history.events(one.db.conn, [k]), Settings())
                for k in states(one)}
    random.seed(2)
    again = {k: replay(k, history.events(one.db.conn, [k]), Settings())
             for k in states(one)}
    assert replayed == again


def test_the_unfuzzed_replay_matches_py_fsrs_reschedule(tmp_path: Path) -> None:
    """Anchor: with fuzz off, replay is py-fsrs' own reschedule_card over the reviews."""
    from fsrs import Card, Rating, ReviewLog

    settings = Settings(fuzz=False)
    store = store_from_toml(tmp_path / "s.db", facts_toml(3))
    learn(store, 15, seed=4, settings=settings)
    scheduler = Scheduler(enable_fuzzing=False)
    for key in states(store):
        evs = [e for e in history.events(store.db.conn, [key]) if e.kind == "review"]
        if not evs:
            continue
        logs = [ReviewLog(card_id=1, rating=Rating(e.rating or 0), review_datetime=e.at,
                          review_duration=None) for e in evs]
        theirs = scheduler.reschedule_card(Card(card_id=1, due=evs[0].at), logs)
        ours = replay(key, evs, settings)
        assert ours["due"] == theirs.due.isoformat(timespec="microseconds")
        assert ours["stability"] == pytest.approx(theirs.stability)


# -- undo as a tombstone --------------------------------------------------------

def test_undo_is_a_tombstone_and_counts_skip_the_undone_answer(tmp_path: Path) -> None:
    store = store_from_toml(tmp_path / "s.db", facts_toml(3))
    sess = ReviewSession(store, Settings(), UTC_ZONE)
    day = study_day(T0, UTC_ZONE, 4)
    sess.answer(sess.next(T0), 3, T0, 1000)  # type: ignore[arg-type]
    assert done_today(store.db.conn, day) == (1, 0)
    undone = sess.undo(T0 + timedelta(seconds=5))
    assert done_today(store.db.conn, day) == (0, 0)
    assert live_reviews(store) == 0
    tomb = store.db.execute("SELECT kind, cancels, reviewed_at FROM reviews "
                            "WHERE kind = 'undo'").fetchone()
    assert tomb == ("undo", undone["event_id"], "2026-01-05T12:00:05.000000+00:00")
    assert store.card_rows("key = ?", [undone["card_key"]])[0]["state"] == "new"
    stats = json.loads(run("--db", str(tmp_path / "s.db"), "stats", "--json").stdout)
    assert stats["today"]["answered"] == 0
    assert_cache_is_replay(store)


def test_study_undo_leaves_a_running_sessions_answers_alone(tmp_path: Path) -> None:
    store = store_from_toml(tmp_path / "s.db", facts_toml(3))
    conn = store.db.conn
    mine = live.begin(conn, os.getpid(), "here", T0)
    sess = ReviewSession(store, Settings(), UTC_ZONE, live_id=mine)
    sess.answer(sess.next(T0), 3, T0, 1000)  # type: ignore[arg-type]
    running = live.running(conn, T0, "here", lambda pid: True)
    assert running == {mine}
    with pytest.raises(SessionRunning, match="still running"):
        undo(conn, now=T0, running=running)
    assert live_reviews(store) == 1
    # a killed session (its process gone) does not block undo
    assert live.running(conn, T0, "here", lambda pid: False) == set()
    assert conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 0
    undo(conn, now=T0, running=set())
    assert live_reviews(store) == 0
    # nor does a session on another host whose heartbeat is older than STALE_AFTER
    other = live.begin(conn, 1, "elsewhere", T0)
    assert live.running(conn, T0 + timedelta(hours=1), "here", lambda pid: True) == {other}
    assert live.running(conn, T0 + live.STALE_AFTER + timedelta(minutes=1), "here",
                        lambda pid: True) == set()


def test_a_sync_and_a_review_session_keep_out_of_each_other(tmp_path: Path) -> None:
    store = store_from_toml(tmp_path / "s.db", facts_toml(3))
    conn = store.db.conn
    alive = {10, 20}
    mine = live.begin(conn, 10, "here", T0, alive.__contains__)
    with pytest.raises(live.Busy, match="a review session is running on this store"):
        live.begin_sync(conn, 20, "here", T0, alive.__contains__)
    live.end(conn, mine)
    mark = live.begin_sync(conn, 20, "here", T0, alive.__contains__)
    assert mark.startswith(live.SYNC)
    # the sync's mark is no review session: `study undo` does not count it
    assert live.running(conn, T0, "here", alive.__contains__) == set()
    assert live.syncing(conn, T0, "here", alive.__contains__) == {mark}
    with pytest.raises(live.Busy, match="a sync with Anki is running on this store"):
        live.begin(conn, 10, "here", T0, alive.__contains__)
    assert conn.execute("SELECT id FROM sessions").fetchall() == [(mark,)]
    # a sync whose process died leaves nothing in the way
    alive.discard(20)
    session = live.begin(conn, 10, "here", T0, alive.__contains__)
    assert conn.execute("SELECT id FROM sessions").fetchall() == [(session,)]
    # nor does one on another host whose heartbeat is older than STALE_AFTER
    live.end(conn, session)
    live.begin_sync(conn, 30, "elsewhere", T0, alive.__contains__)
    with pytest.raises(live.Busy):
        live.begin(conn, 10, "here", T0 + timedelta(hours=1), alive.__contains__)
    live.begin(conn, 10, "here", T0 + live.STALE_AFTER + timedelta(minutes=1),
               alive.__contains__)


def _wait_for(predicate: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.slow
def test_undo_from_another_terminal_during_a_review(tmp_path: Path) -> None:
    """A real `study review` (keys on a pipe) and a real `study undo` beside it."""
    db = tmp_path / "s.db"
    store_from_toml(db, facts_toml(3)).close()
    env = {**os.environ, "STUDY_DB": str(db), "STUDY_NOW": "2026-01-05T12:00:00+00:00"}
    proc = subprocess.Popen([sys.executable, "-m", "study", "review"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdin is not None

    def answers() -> int:
        conn = sqlite3.connect(db)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM reviews WHERE live = 1")
                       .fetchone()[0])
        finally:
            conn.close()

    try:
        proc.stdin.write(b" 3 3")
        proc.stdin.flush()
        _wait_for(lambda: answers() == 2)
        refused = subprocess.run([sys.executable, "-m", "study", "undo"], env=env,
                                 capture_output=True, timeout=60)
        assert refused.returncode == 1
        assert b"belongs to a review session that is still running" in refused.stderr
        assert answers() == 2
        # the session undoes its own answer, then quits
        out, _ = proc.communicate(b"uq", timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert b"Answered 1 card " in out  # the summary tells the truth
    assert answers() == 1
    done = subprocess.run([sys.executable, "-m", "study", "undo"], env=env,
                          capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert answers() == 0


@pytest.mark.slow
def test_a_killed_session_does_not_block_undo(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    store_from_toml(db, facts_toml(2)).close()
    env = {**os.environ, "STUDY_DB": str(db), "STUDY_NOW": "2026-01-05T12:00:00+00:00"}
    proc = subprocess.Popen([sys.executable, "-m", "study", "review"], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    assert proc.stdin is not None
    proc.stdin.write(b" 3")
    proc.stdin.flush()

    def answered() -> bool:
        conn = sqlite3.connect(db)
        try:
            return bool(conn.execute("SELECT COUNT(*) FROM reviews").fetchone()[0])
        finally:
            conn.close()

    try:
        _wait_for(answered)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    done = subprocess.run([sys.executable, "-m", "study", "undo"], env=env,
                          capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert b"Undid your answer 3 Good" in done.stdout


# -- merging ---------------------------------------------------------------------

def two_devices(tmp_path: Path, cards: int = 12) -> tuple[Store, Store]:
    """One store, copied to a second machine after a week of shared history."""
    first = store_from_toml(tmp_path / "a.db", facts_toml(cards))
    learn(first, 7, seed=5)
    first.close()
    shutil.copyfile(tmp_path / "a.db", tmp_path / "b.db")
    a, b = Store.open(tmp_path / "a.db"), Store.open(tmp_path / "b.db")
    b.db.execute("DELETE FROM config WHERE key = 'device_id'")  # the copy is a new device
    return a, b


def exchange(a: Store, b: Store, tmp_path: Path) -> tuple[int, int]:
    export_log(a.db.conn, tmp_path / "a.jsonl", force=True)
    export_log(b.db.conn, tmp_path / "b.jsonl", force=True)
    into_a = merge_events(a.db.conn, read_log(tmp_path / "b.jsonl"), Settings(), T0)
    into_b = merge_events(b.db.conn, read_log(tmp_path / "a.jsonl"), Settings(), T0)
    return into_a, into_b


def test_two_devices_that_reviewed_between_syncs_end_up_alike(tmp_path: Path) -> None:
    a, b = two_devices(tmp_path)
    assert history.device_id(a) != history.device_id(b)
    # both review on days 8-14; b's clock runs behind, so its answers interleave with a's,
    # and the same cards are answered on both
    learn(a, 7, seed=6, start=7)
    learn(b, 7, seed=7, start=7, every=timedelta(minutes=2))
    mine, theirs = live_reviews(a), live_reviews(b)
    into_a, into_b = exchange(a, b, tmp_path)
    assert into_a > 0 and into_b > 0
    assert live_reviews(a) == live_reviews(b) > max(mine, theirs)
    assert states(a) == states(b)
    assert_cache_is_replay(a)
    assert_cache_is_replay(b)
    # the same card, reviewed on both: both reviews, in time order
    both = a.db.execute("SELECT card_key FROM reviews WHERE reviewed_at > ? GROUP BY card_key "
                        "HAVING COUNT(DISTINCT device) = 2 LIMIT 1",
                        ["2026-01-12"]).fetchone()
    assert both is not None
    assert exchange(a, b, tmp_path) == (0, 0)  # merging again changes nothing


def test_merging_the_same_events_twice_changes_nothing(tmp_path: Path) -> None:
    a, b = two_devices(tmp_path, cards=5)
    learn(b, 3, seed=8, start=7)
    b.close()
    events = history.events(sqlite3.connect(tmp_path / "b.db"))
    assert merge_events(a.db.conn, events, Settings(), T0) > 0
    before = snapshot(tmp_path / "a.db")
    assert merge_events(a.db.conn, events, Settings(), T0) == 0
    assert snapshot(tmp_path / "a.db") == before


def test_an_undo_on_one_device_reaches_the_other(tmp_path: Path) -> None:
    a, b = two_devices(tmp_path, cards=5)
    now = T0 + timedelta(days=9)
    sess = ReviewSession(a, Settings(), UTC_ZONE)
    shown = sess.next(now)
    assert shown is not None
    sess.answer(shown, 1, now, 1000)
    exchange(a, b, tmp_path)
    assert states(a) == states(b)
    sess.undo(now + timedelta(seconds=3))
    exchange(a, b, tmp_path)
    assert states(a) == states(b)
    assert live_reviews(a) == live_reviews(b)
    row = b.db.execute("SELECT live FROM reviews WHERE card_key = ? AND reviewed_at = ?",
                       [shown.key, now.isoformat(timespec="microseconds")]).fetchone()
    assert row == (0,)
    assert_cache_is_replay(b)
    # an undo that arrives before its review (another order of files) works the same
    c = store_from_toml(tmp_path / "c.db", facts_toml(5))
    evs = history.events(b.db.conn, [shown.key])
    tombs = [e for e in evs if e.kind == "undo"]
    merge_events(c.db.conn, tombs, Settings(), T0)
    merge_events(c.db.conn, [e for e in evs if e.kind == "review"], Settings(), T0)
    assert c.card_rows("key = ?", [shown.key])[0]["reps"] == \
        b.card_rows("key = ?", [shown.key])[0]["reps"]


def test_events_of_unknown_cards_are_skipped_and_named(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    store_from_toml(db, facts_toml(2)).close()
    log = tmp_path / "log.jsonl"
    line = {"id": "e1", "card_key": "fact:zz:forward", "kind": "review",
            "at": "2026-01-05T12:00:00+00:00", "device": "d", "origin": "terminal",
            "rating": 3, "duration_ms": 10, "cancels": None, "anki_revlog_id": None}
    ok = {**line, "id": "e2", "card_key": "fact:f000:forward"}
    log.write_text(json.dumps(line) + "\n" + json.dumps(ok) + "\n")
    result = run("--db", str(db), "log", "merge", str(log))
    assert result.exit_code == 0, result.output
    assert "Merged 1 new event from" in result.output
    assert "this store does not have (first: fact:zz:forward)" in result.output
    store = Store.open(db)
    assert store.card_rows("key = ?", ["fact:f000:forward"])[0]["reps"] == 1


@pytest.mark.parametrize("line,message", [
    ("not json", "log.jsonl:2: not JSON (Expecting value); expected one event a line"),
    ('{"id": "e9", "card_key": "fact:f000:forward", "kind": "review", '
     '"at": "2026-01-05T12:00:00+00:00", "device": "d", "origin": "terminal", "rating": 7}',
     "log.jsonl:2: rating: expected a whole number 1 to 4"),
    ('{"id": "e9", "card_key": "fact:f000:forward", "kind": "undo", '
     '"at": "2026-01-05T12:00:00", "device": "d", "origin": "terminal", "cancels": "e1"}',
     "log.jsonl:2: at: expected an ISO 8601 time with its UTC offset"),
    ('{"id": "e9", "card_key": "fact:f000:forward", "kind": "undo", '
     '"at": "2026-01-05T12:00:00Z", "device": "d", "origin": "terminal"}',
     "log.jsonl:2: cancels: expected the id of the review an undo cancels"),
    ('{"id": "e9", "card_key": "fact:\\u001b[31m", "kind": "review", '
     '"at": "2026-01-05T12:00:00Z", "device": "d", "origin": "terminal", "rating": 3}',
     "log.jsonl:2: card_key: expected printable text of at most 200 characters"),
    ("[1, 2]", "log.jsonl:2: expected a JSON object (one event a line)"),
])
def test_a_bad_log_line_is_named_and_nothing_is_merged(
        tmp_path: Path, line: str, message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "s.db"
    store_from_toml(db, facts_toml(2)).close()
    good = ('{"id": "e1", "card_key": "fact:f000:forward", "kind": "review", '
            '"at": "2026-01-05T12:00:00+00:00", "device": "d", "origin": "terminal", '
            '"rating": 3, "duration_ms": 10, "cancels": null, "anki_revlog_id": null}')
    (tmp_path / "log.jsonl").write_text(good + "\n" + line + "\n")
    before = snapshot(db)
    monkeypatch.chdir(tmp_path)
    result = run("--db", str(db), "log", "merge", "log.jsonl")
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == message
    assert "\x1b" not in result.output
    assert result.output.splitlines()[-1] == "Error: 1 problem in the input; nothing was written."
    assert snapshot(db) == before


def test_log_export_round_trips_and_refuses_to_overwrite(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    store = store_from_toml(db, facts_toml(4))
    learn(store, 5, seed=9)
    undo(store.db.conn, now=T0 + timedelta(days=6))
    store.close()
    out = tmp_path / "log.jsonl"
    result = run("--db", str(db), "log", "export", str(out))
    assert result.exit_code == 0, result.output
    conn = sqlite3.connect(db)
    assert read_log(out) == history.events(conn)
    assert result.output == f"Wrote {len(read_log(out))} events to {out}\n"
    again = run("--db", str(db), "log", "export", str(out))
    assert again.exit_code == 1 and "already exists; use --force" in again.output
    assert run("--db", str(db), "log", "export", "--force", str(out)).exit_code == 0


# -- doctor ----------------------------------------------------------------------

def test_doctor_reports_and_repairs_a_damaged_cache(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    store = store_from_toml(db, facts_toml(4))
    learn(store, 10, seed=10)
    key = store.db.execute("SELECT key FROM cards WHERE reps > 0 ORDER BY key").fetchone()[0]
    good = states(store)[key]
    store.db.execute("UPDATE cards SET due = '2030-01-01T00:00:00.000000+00:00', reps = 99 "
                     "WHERE key = ?", [key])
    store.close()
    dry = run("--db", str(db), "doctor", "--dry-run")
    assert dry.exit_code == 0
    assert dry.output.splitlines()[0] == (
        f"{key}: due 2030-01-01T00:00:00.000000+00:00 -> {good[4]}; reps 99 -> {good[6]}")
    assert dry.output.splitlines()[-1] == (
        "Replayed 4 cards: 1 card differs from their events; run `study doctor` to repair them.")
    fixed = run("--db", str(db), "doctor")
    assert fixed.output.splitlines()[-1] == \
        "Replayed 4 cards: repaired 1 card whose cached state differed."
    assert states(Store.open(db))[key] == good
    assert run("--db", str(db), "doctor").output == \
        "Replayed 4 cards: every cached state agrees with its events.\n"


def damage(conn: sqlite3.Connection, seed: int) -> None:
    """Random states and stale review caches, as the benchmark's builder makes them."""
    rng = random.Random(seed)
    for (key,) in conn.execute("SELECT key FROM cards ORDER BY key").fetchall():
        conn.execute("UPDATE cards SET state = 'review', step = NULL, stability = ?, "
                     "difficulty = ?, due = ?, reps = 5 WHERE key = ?",
                     [rng.uniform(1, 300), rng.uniform(1, 10),
                      f"2026-{rng.randint(1, 12):02d}-10T00:00:00.000000+00:00", key])
    conn.execute("UPDATE reviews SET state_before = ? WHERE kind = 'review' AND id % 3 = 0",
                 [json.dumps({"state": "review"})])
    conn.execute("UPDATE reviews SET state_before = NULL WHERE kind = 'review' AND id % 3 = 1")


def kept_by_triggers(conn: sqlite3.Connection) -> list[tuple[object, ...]]:
    """What the triggers keep, every table that doctor writes or they follow, and the
    triggers and indexes that doctor holds off."""
    return [*conn.execute("SELECT key, state, step, stability, difficulty, due, last_review, "
                          "reps, lapses, leech, suspended, version FROM cards ORDER BY key"),
            *conn.execute("SELECT id, state_before, state_after, interval_days FROM reviews "
                          "ORDER BY id"),
            *conn.execute("SELECT * FROM review_hours WHERE answers != 0 ORDER BY 1, 2, 3, 4, 5"),
            *conn.execute("SELECT * FROM card_tags ORDER BY card, tag"),
            *conn.execute("SELECT name, sql FROM sqlite_master WHERE type IN ('trigger', "
                          "'index') ORDER BY name")]


@pytest.mark.parametrize("cells", [100_000, 7])
def test_doctor_repairs_in_bulk_as_the_triggers_would(tmp_path: Path, cells: int,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Doctor writes with the row triggers and the indexes on what it rewrites held off:
    the totals, the cards' tag rows, the triggers and indexes themselves end as a
    replay through the triggers leaves them (the moves of the totals written at the
    end, or every few cells)."""
    from cards.aggregates import Rewrite
    from tests.test_history_totals import kept, recounted

    monkeypatch.setattr(Rewrite, "CELLS", cells)

    store = store_from_toml(tmp_path / "a.db", facts_toml(30, tag="ussr::party"))
    learn(store, 20, seed=11)
    undo(store.db.conn)
    damage(store.db.conn, seed=12)
    store.close()
    shutil.copyfile(tmp_path / "a.db", tmp_path / "b.db")
    bulk, rows = sqlite3.connect(tmp_path / "a.db", isolation_level=None), \
        sqlite3.connect(tmp_path / "b.db", isolation_level=None)
    held: list[str] = []
    bulk.set_trace_callback(lambda sql: held.append(sql) if sql.startswith("DROP INDEX") else None)
    repairs = rebuild(bulk, DEFAULTS)
    bulk.set_trace_callback(None)
    assert repairs.cards == 30 and repairs.differed == 30
    assert {"DROP INDEX cards_due", "DROP INDEX card_tags_cards"} <= set(held)
    with history.write(rows):
        by_row = history.recompute(rows, [f"fact:f{i:03d}:forward" for i in range(30)],
                                   DEFAULTS, bulk=10**6)
    assert (by_row.cards, by_row.differed) == (30, 30)
    assert kept_by_triggers(bulk) == kept_by_triggers(rows)
    assert kept(bulk) == recounted(bulk)
    assert bulk.execute("SELECT COUNT(*) FROM card_tags t JOIN cards c ON c.key = t.card "
                        "WHERE t.state IS NOT c.state OR t.due IS NOT c.due").fetchone() == (0,)
    assert rebuild(bulk, DEFAULTS).differed == 0


def test_the_review_caches_are_written_as_json_dumps_writes_them() -> None:
    """Doctor writes a review's cache from the fields' text: the same text as
    ``json.dumps({**old, **replayed})``, whatever keys and order the old cache has."""
    rng = random.Random(17)
    state = {"state": "review", "step": None, "stability": 3.25, "difficulty": 5.5,
             "due": "2026-02-01T00:00:00.000000+00:00", "last_review": None, "reps": 4,
             "lapses": 1}
    extra = {"suspended": 0, "leech": 0, "buried_until": None, "reviewed_hash": "ab\"c"}
    fields = list(history.DERIVED) + list(extra)
    olds: list[dict[str, object] | None] = [
        None, {}, {"state": "review"}, {"state": "new", "step": 0}, {**state, **extra},
        {**extra, **state}, {**extra, "state": "learning"}, {"reps": 2, "state": "review"},
        {"x": 1, **state, "y": [1, 2]}, {**extra, "state": "new", "x": 1}]
    for _ in range(200):
        keys = rng.sample(fields, rng.randint(0, len(fields)))
        olds.append({k: rng.choice((None, 1, 2.5, "t\u00e9")) for k in keys})
    for old in olds:
        cached = None if old is None else json.dumps(old)
        got = history._cache_before(cached, json.dumps(extra)[1:-1], json.dumps(state)[1:-1])
        assert got == json.dumps({**(extra if old is None else old), **state}), old
    # a replayed state's fields, written out
    replayed = [history.state_of(card, reps, lapses) for _id, _before, card, reps, lapses in
                history.walk("k", [(f"e{i}", rng.choice((1, 2, 3, 4)),
                                    f"2026-01-{1 + i:02d}T10:00:00.000000+00:00")
                                   for i in range(28)], DEFAULTS)]
    odd = [{**state, "step": 2, "last_review": None}, {**state, "stability": float("nan")},
           {**state, "difficulty": math.inf}, {**state, "reps": True}, {**state, "due": None}]
    for each in [*replayed, *odd]:
        assert history._state_fields(each) == json.dumps(each)[1:-1], each


def test_a_doctor_that_fails_midway_changes_nothing(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    store = store_from_toml(tmp_path / "s.db", facts_toml(5))
    learn(store, 10, seed=13)
    damage(store.db.conn, seed=14)
    before = snapshot(tmp_path / "s.db")
    walked = history.walk

    def walk(key: str, *args: Any) -> Any:
        if key.endswith("f003:forward"):
            raise RuntimeError("stop")
        return walked(key, *args)

    monkeypatch.setattr(history, "walk", walk)
    with pytest.raises(RuntimeError):
        rebuild(store.db.conn, DEFAULTS, batch=2)
    assert snapshot(tmp_path / "s.db") == before  # triggers included


def test_doctor_names_the_first_twenty_cards_that_differ(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    store = store_from_toml(db, facts_toml(25))
    learn(store, 5, seed=15)
    damage(store.db.conn, seed=16)
    store.close()
    lines = run("--db", str(db), "doctor", "--dry-run").output.splitlines()
    assert [line.split(": ")[0] for line in lines[:20]] == [
        f"fact:f{i:03d}:forward" for i in range(20)]  # in key order
    assert lines[20:] == ["... and 5 more", "Replayed 25 cards: 25 cards differ from their "
                          "events; run `study doctor` to repair them."]


# -- migration -------------------------------------------------------------------

def test_the_v1_store_keeps_every_review_as_an_event(tmp_path: Path) -> None:
    old = sqlite3.connect(FIXTURES / "store-v1.db")
    before = old.execute("SELECT card_key, rating, reviewed_at, duration_ms FROM reviews "
                         "ORDER BY id").fetchall()
    old.close()
    assert before
    copies = []
    for name in ("one.db", "two.db"):
        shutil.copyfile(FIXTURES / "store-v1.db", tmp_path / name)
        result = run("--db", str(tmp_path / name), "doctor")
        assert result.exit_code == 0, result.output
        assert result.output.endswith("every cached state agrees with its events.\n")
        assert (tmp_path / f"{name}.v1.bak").exists()
        conn = sqlite3.connect(tmp_path / name)
        rows = conn.execute("SELECT card_key, rating, reviewed_at, duration_ms, event_id, "
                            "device, origin, kind, live FROM reviews ORDER BY id").fetchall()
        assert [r[:4] for r in rows] == before
        assert {r[5:] for r in rows} == {("legacy", "terminal", "review", 1)}
        copies.append([r[4] for r in rows])
        conn.close()
    assert copies[0] == copies[1]  # two copies of one store agree on the ids: a union
    assert len(set(copies[0])) == len(copies[0])


def test_an_answer_older_than_a_merged_one_is_replayed_in_time_order(tmp_path: Path) -> None:
    store = store_from_toml(tmp_path / "s.db", facts_toml(2))
    sess = ReviewSession(store, Settings(), UTC_ZONE)
    shown = sess.next(T0)
    assert shown is not None
    later = history.Event(id="f" * 32, card_key=shown.key, kind="review",
                          at=T0 + timedelta(hours=1), device="phone", origin="terminal",
                          rating=4, duration_ms=900)
    merge_events(store.db.conn, [later], Settings(), T0)
    shown = sess.refresh(shown, T0)
    assert shown is not None
    sess.answer(shown, 1, T0, 1000)  # this machine's clock is behind the phone's
    row = store.card_rows("key = ?", [shown.key])[0]
    assert row["reps"] == 2 and row["last_review"] == later.at.isoformat(
        timespec="microseconds")
    assert_cache_is_replay(store)
    # the cache of each answer says what the card was before it: new, then learning
    befores = [json.loads(b)["state"] for (b,) in store.db.execute(
        "SELECT state_before FROM reviews WHERE card_key = ? ORDER BY reviewed_at",
        [shown.key])]
    assert befores == ["new", "learning"]


def test_a_session_whose_answer_was_undone_by_a_merged_log_says_so(tmp_path: Path) -> None:
    store = store_from_toml(tmp_path / "s.db", facts_toml(2))
    sess = ReviewSession(store, Settings(), UTC_ZONE)
    shown = sess.next(T0)
    assert shown is not None
    sess.answer(shown, 3, T0, 1000)
    (review,) = history.events(store.db.conn, [shown.key])
    tomb = history.Event(id="a" * 32, card_key=shown.key, kind="undo",
                         at=T0 + timedelta(minutes=1), device="laptop", origin="terminal",
                         cancels=review.id)
    merge_events(store.db.conn, [tomb], Settings(), T0)
    assert store.card_rows("key = ?", [shown.key])[0]["state"] == "new"
    with pytest.raises(NothingToUndo, match="already undone elsewhere"):
        sess.undo(T0 + timedelta(minutes=2))
    assert sess.tally.answered == 0
    assert sess.summary(T0 + timedelta(minutes=2)).answered == 0
