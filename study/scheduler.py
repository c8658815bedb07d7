"""Answering cards with FSRS: one transaction per answer, undo, suspend, bury.

Every answer appends a row to ``reviews`` with the card's state before and
after, so that undo can restore the exact state; history is never rewritten
except that undo removes the last answer.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from fsrs import Card, Rating, Scheduler, State

from cards.db import from_iso, iso, rollback, row_dict
from cards.errors import CardsError, UnknownCard
from study.queue import study_day
from study.settings import Settings

STATE_NAMES = {State.Learning: "learning", State.Review: "review", State.Relearning: "relearning"}
STATE_OF = {v: k for k, v in STATE_NAMES.items()}
#: The card columns an answer changes; ``state_before`` holds all of them.
STATE_COLUMNS = ("state", "step", "stability", "difficulty", "due", "last_review", "reps",
                 "lapses", "suspended", "leech", "buried_until", "reviewed_hash")
RATINGS = {1: "Again", 2: "Hard", 3: "Good", 4: "Easy"}


class CardMoved(CardsError):
    """The card changed since it was shown (another session answered it)."""


class NothingToUndo(CardsError):
    """There is no answer to undo."""


def make_scheduler(settings: Settings, fuzz: bool | None = None) -> Scheduler:
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


def answer(conn: sqlite3.Connection, scheduler: Scheduler, settings: Settings, tz: tzinfo,
           key: str, version: int, rating: int, now: datetime, duration_ms: int) -> Answered:
    """Grade one showing of a card and commit it before returning.

    Args:
        version: the card's ``version`` when it was shown; if another session
            changed the card since, the answer is refused.

    Raises:
        CardMoved: the card was answered or changed elsewhere since it was shown.
        UnknownCard: no such card.
    """
    if rating not in RATINGS:
        raise ValueError(f"rating {rating} is not 1 to 4")
    with _Write(conn):
        card = _row(conn, key)
        if card["version"] != version or card["retired"] or card["suspended"]:
            raise CardMoved("this card was answered or changed in another session; "
                            "moving on to the next card")
        after, _log = scheduler.review_card(to_fsrs(card, now), Rating(rating), now)
        lapse = card["state"] == "review" and rating == 1
        lapses = card["lapses"] + lapse
        leech = bool(lapse and lapses >= settings.leech_threshold and not card["leech"])
        new_state = {
            "state": STATE_NAMES[after.state], "step": after.step,
            "stability": after.stability, "difficulty": after.difficulty,
            "due": iso(after.due), "last_review": iso(now), "reps": card["reps"] + 1,
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
                "SELECT c.key FROM cards c WHERE c.key IN (SELECT s.key FROM card_groups g "
                "JOIN card_groups s ON s.grp = g.grp WHERE g.key = :key) AND c.key != :key "
                "AND +c.retired = 0 AND +c.suspended = 0 "  # '+': look cards up by key
                "AND (c.buried_until IS NULL OR c.buried_until <= :now) "
                "AND (c.state = 'new' OR (c.state = 'review' AND c.due < :end)) ORDER BY c.key",
                {"key": key, "now": iso(now), "end": iso(day.end)})]
            conn.executemany("UPDATE cards SET buried_until = ?, version = version + 1 "
                             "WHERE key = ?", [(iso(day.end), k) for k in buried])
        interval = after.due - now
        cur = conn.execute(
            "INSERT INTO reviews (card_key, rating, reviewed_at, duration_ms, state_before, "
            "state_after, interval_days, buried) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [key, rating, iso(now), max(0, int(duration_ms)), json.dumps(_snapshot(card)),
             json.dumps(new_state), interval.total_seconds() / 86400, json.dumps(buried)])
    return Answered(key, rating, interval, new_state["state"], leech, tuple(buried),
                    int(cur.lastrowid or 0))


def undo(conn: sqlite3.Connection, review_id: int | None = None) -> dict[str, Any]:
    """Remove an answer and restore the card (and its buried siblings) as before.

    Args:
        review_id: the answer to undo (a session's own last one); by default the
            last answer in the store.

    Returns:
        The review row that was undone.

    Raises:
        NothingToUndo: no answer has been given, or that card was answered again since.
    """
    with _Write(conn):
        if review_id is None:
            cur = conn.execute("SELECT * FROM reviews ORDER BY id DESC LIMIT 1")
        else:
            cur = conn.execute("SELECT * FROM reviews WHERE id = ?", [review_id])
        row = cur.fetchone()
        if row is None:
            raise NothingToUndo("nothing to undo: no answer has been given yet"
                                if review_id is None else "that answer was already undone")
        review = row_dict(cur, row)
        later = conn.execute("SELECT 1 FROM reviews WHERE card_key = ? AND id > ?",
                             [review["card_key"], review["id"]]).fetchone()
        if later:
            raise NothingToUndo(f"cannot undo: {review['card_key']} was answered again since, "
                                f"in another session")
        before = json.loads(review["state_before"])
        sets = ", ".join(f"{c} = :{c}" for c in STATE_COLUMNS)
        conn.execute(f"UPDATE cards SET {sets}, version = version + 1 WHERE key = :key",
                     {**before, "key": review["card_key"]})
        conn.executemany("UPDATE cards SET buried_until = NULL, version = version + 1 "
                         "WHERE key = ?", [(k,) for k in json.loads(review["buried"])])
        conn.execute("DELETE FROM reviews WHERE id = ?", [review["id"]])
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
