"""Answering cards with FSRS: one transaction per answer, undo, suspend, bury.

Every answer appends a review event to ``reviews`` (see ``study.history``)
with the card's state before and after as a cache; the card's state in
``cards`` is the replay of its events, updated in the same transaction.
Undo appends a tombstone event naming the review it cancels and replays
the card; history is never rewritten.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from fsrs import Card, Rating, Scheduler, State

from cards.db import from_iso, iso, rollback, row_dict
from cards.errors import CardsError, UnknownCard
from study import history
from study.history import STATE_NAMES, STATE_OF
from study.queue import study_day
from study.settings import Settings

#: The card columns an answer changes; ``state_before`` holds all of them.
STATE_COLUMNS = ("state", "step", "stability", "difficulty", "due", "last_review", "reps",
                 "lapses", "suspended", "leech", "buried_until", "reviewed_hash")
RATINGS = {1: "Again", 2: "Hard", 3: "Good", 4: "Easy"}


class CardMoved(CardsError):
    """The card changed since it was shown (another session answered it)."""


class NothingToUndo(CardsError):
    """There is no answer to undo."""


class SessionRunning(NothingToUndo):
    """The answer belongs to a review session that is still running."""


def make_scheduler(settings: Settings, fuzz: bool | None = None) -> Scheduler:
    """A py-fsrs scheduler with these settings (for previews: answers fuzz by seed)."""
    return Scheduler(
        parameters=settings.parameters,
        desired_retention=settings.desired_retention,
        learning_steps=settings.learning_steps,
        relearning_steps=settings.relearning_steps,
        maximum_interval=settings.maximum_interval,
        enable_fuzzing=settings.fuzz if fuzz is None else fuzz,
    )


def to_fsrs(card: dict[str, Any], now: datetime) -> Card:
    """The FSRS view of a stored card (a new card is a learning card at step 0)."""
    if card["state"] == "new":
        return Card(card_id=card["position"], state=State.Learning, step=0, due=now)
    return Card(card_id=card["position"], state=STATE_OF[card["state"]], step=card["step"],
                stability=card["stability"], difficulty=card["difficulty"],
                due=from_iso(card["due"]),
                last_review=from_iso(card["last_review"]) if card["last_review"] else None)


def previews(scheduler: Scheduler, card: dict[str, Any], now: datetime) -> dict[int, timedelta]:
    """The interval each rating would schedule (use an unfuzzed scheduler)."""
    current = to_fsrs(card, now)
    return {r: scheduler.review_card(current, Rating(r), now)[0].due - now for r in RATINGS}


@dataclass(frozen=True)
class Answered:
    """What an answer did."""

    key: str
    rating: int
    interval: timedelta
    state: str
    leech: bool
    buried: tuple[str, ...]
    review_id: int


def _snapshot(card: dict[str, Any]) -> dict[str, Any]:
    return {c: card[c] for c in STATE_COLUMNS}


def _row(conn: sqlite3.Connection, key: str) -> dict[str, Any]:
    cur = conn.execute("SELECT * FROM cards WHERE key = ?", [key])
    row = cur.fetchone()
    if row is None:
        raise UnknownCard(f"no card with key '{key}'")
    return row_dict(cur, row)


class _Write:
    """BEGIN IMMEDIATE ... COMMIT on a connection in autocommit mode."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.conn.execute("COMMIT")
        else:
            rollback(self.conn)  # a failed rollback must not hide the error


def answer(conn: sqlite3.Connection, settings: Settings, tz: tzinfo, key: str, version: int,
           rating: int, now: datetime, duration_ms: int, session: str | None = None
           ) -> Answered:
    """Grade one showing of a card and commit it before returning.

    The review is a new event (fuzz seeded from the card key and its id);
    the card's cached state becomes the replay of its events.

    Args:
        version: the card's ``version`` when it was shown; if another session
            changed the card since, the answer is refused.
        session: the running review session's id (``study.live``), if any.

    Raises:
        CardMoved: the card was answered or changed elsewhere since it was shown.
        UnknownCard: no such card.
    """
    if rating not in RATINGS:
        raise ValueError(f"rating {rating} is not 1 to 4")
    stamp = iso(now)
    with _Write(conn):
        card = _row(conn, key)
        if card["version"] != version or card["retired"] or card["suspended"]:
            raise CardMoved("this card was answered or changed in another session; "
                            "moving on to the next card")
        event_id = history.new_event_id()
        after = history.step(settings, to_fsrs(card, now), rating, now,
                             history.fuzz_seed(key, event_id))
        lapse = card["state"] == "review" and rating == 1
        lapses = card["lapses"] + lapse
        leech = bool(lapse and lapses >= settings.leech_threshold and not card["leech"])
        new_state = {
            "state": STATE_NAMES[after.state], "step": after.step,
            "stability": after.stability, "difficulty": after.difficulty,
            "due": iso(after.due), "last_review": stamp, "reps": card["reps"] + 1,
            "lapses": lapses, "suspended": int(bool(card["suspended"]) or leech),
            "leech": int(bool(card["leech"]) or leech), "buried_until": None,
            "reviewed_hash": card["answer_hash"],
        }
        sets = ", ".join(f"{c} = :{c}" for c in new_state)
        conn.execute(f"UPDATE cards SET {sets}, version = version + 1 WHERE key = :key",
                     {**new_state, "key": key})
        buried: list[str] = []
        if settings.bury_siblings:
            day = study_day(now, tz, settings.rollover_hour)
            buried = [r[0] for r in conn.execute(
                "SELECT c.key FROM cards c WHERE c.key IN (SELECT s.key FROM json_each((SELECT "
                "siblings FROM cards WHERE key = :key)) g JOIN card_groups s ON s.grp = g.value) "
                "AND c.key != :key "
                "AND +c.retired = 0 AND +c.suspended = 0 "  # '+': look cards up by key
                "AND (c.buried_until IS NULL OR c.buried_until <= :now) "
                "AND (c.state = 'new' OR (c.state = 'review' AND c.due < :end)) ORDER BY c.key",
                {"key": key, "now": stamp, "end": iso(day.end)})]
            conn.executemany("UPDATE cards SET buried_until = ?, version = version + 1 "
                             "WHERE key = ?", [(iso(day.end), k) for k in buried])
        interval = after.due - now
        cur = conn.execute(
            "INSERT INTO reviews (event_id, card_key, kind, rating, reviewed_at, duration_ms, "
            "device, origin, live, session, state_before, state_after, interval_days, buried) "
            "VALUES (?, ?, 'review', ?, ?, ?, ?, 'terminal', 1, ?, ?, ?, ?, ?)",
            [event_id, key, rating, stamp, max(0, int(duration_ms)), history.device_of(conn),
             session, json.dumps(_snapshot(card)), json.dumps(new_state),
             interval.total_seconds() / 86400, json.dumps(buried)])
        review_id = int(cur.lastrowid or 0)
        if card["last_review"] and card["last_review"] >= stamp:
            # an event as late as this answer is stored (a clock behind another device's,
            # or a fixed clock): the state is the replay in time order, not this step
            history.recompute(conn, [key], settings)
            replayed = _row(conn, key)
            interval = from_iso(replayed["due"]) - now
            new_state["state"] = replayed["state"]
        if session is not None:
            conn.execute("UPDATE sessions SET heartbeat = ? WHERE id = ?", [stamp, session])
    return Answered(key, rating, interval, new_state["state"], leech, tuple(buried), review_id)


def undo(conn: sqlite3.Connection, review_id: int | None = None, now: datetime | None = None,
         running: Collection[str] = ()) -> dict[str, Any]:
    """Cancel an answer with a tombstone event and restore the card as before.

    The card's scheduling state is replayed without the answer; its
    suspension, leech mark and buried siblings are restored as they were.

    Args:
        review_id: the answer to undo (a session's own last one, by its local
            id); by default the last answer given on this device.
        now: when the undo happens (the tombstone's time); by default the
            time of the answer it cancels.
        running: ids of review sessions still running: their answers are
            theirs to undo, and are left alone.

    Returns:
        The review row that was undone.

    Raises:
        NothingToUndo: no answer has been given, that answer was already
            undone, or that card was answered again since.
        SessionRunning: the answer belongs to a running review session.
    """
    with _Write(conn):
        device = history.device_of(conn)
        if review_id is None:
            cur = conn.execute(
                "SELECT * FROM reviews WHERE kind = 'review' AND live = 1 "
                "AND device IN (?, 'legacy') ORDER BY id DESC LIMIT 1", [device])
        else:
            cur = conn.execute("SELECT * FROM reviews WHERE id = ? AND kind = 'review'",
                               [review_id])
        row = cur.fetchone()
        review = row_dict(cur, row) if row is not None else None
        if review is None or not review["live"]:
            raise NothingToUndo("nothing to undo: no answer has been given yet"
                                if review_id is None else "that answer was already undone")
        if review["session"] is not None and review["session"] in running:
            raise SessionRunning(
                f"cannot undo: the last answer ({review['card_key']}) belongs to a review "
                f"session that is still running; press u in that session to undo it")
        later = conn.execute(
            "SELECT 1 FROM reviews WHERE card_key = ? AND kind = 'review' AND live = 1 "
            "AND (reviewed_at, event_id) > (?, ?)",
            [review["card_key"], review["reviewed_at"], review["event_id"]]).fetchone()
        if later:
            raise NothingToUndo(f"cannot undo: {review['card_key']} was answered again since, "
                                f"in another session")
        conn.execute(
            "INSERT INTO reviews (event_id, card_key, kind, reviewed_at, device, origin, "
            "cancels, live) VALUES (?, ?, 'undo', ?, ?, 'terminal', ?, 0)",
            [history.new_event_id(), review["card_key"],
             iso(now) if now is not None else review["reviewed_at"], device,
             review["event_id"]])
        conn.execute("UPDATE reviews SET live = 0 WHERE id = ?", [review["id"]])
        if review["state_before"]:
            before = json.loads(review["state_before"])
            kept = {c: before[c] for c in ("suspended", "leech", "buried_until",
                                            "reviewed_hash") if c in before}
            if kept:
                sets = ", ".join(f"{c} = :{c}" for c in kept)
                conn.execute(f"UPDATE cards SET {sets}, version = version + 1 WHERE key = :key",
                             {**kept, "key": review["card_key"]})
        conn.executemany("UPDATE cards SET buried_until = NULL, version = version + 1 "
                         "WHERE key = ?", [(k,) for k in json.loads(review["buried"])])
        history.recompute(conn, [review["card_key"]], history.settings_of(conn))
        conn.execute("UPDATE cards SET version = version + 1 WHERE key = ?",
                     [review["card_key"]])
    return review


def set_suspended(conn: sqlite3.Connection, keys: list[str], suspended: bool) -> list[str]:
    """Suspend or unsuspend cards; returns the keys changed.

    Raises:
        UnknownCard: a key names no card (nothing is changed).
    """
    with _Write(conn):
        for key in keys:
            _row(conn, key)
        changed = [k for k in keys if conn.execute(
            "UPDATE cards SET suspended = ?, version = version + 1 WHERE key = ? "
            "AND suspended != ?", [int(suspended), k, int(suspended)]).rowcount]
    return changed


def bury(conn: sqlite3.Connection, key: str, until: datetime) -> None:
    """Hold a card back until ``until`` (the next study day)."""
    with _Write(conn):
        _row(conn, key)
        conn.execute("UPDATE cards SET buried_until = ?, version = version + 1 WHERE key = ?",
                     [iso(until), key])
