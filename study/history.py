"""The review history as events (a stand-in for the event log of issue 10).

This is the minimal form of the API agreed with the event-log work (helper
H1), written so that the Anki sync can be built and tested before that work
lands; at merge H1's module replaces this one, and only these names are used
elsewhere: ``Event``, ``device_id``, ``events``, ``merge_events``, ``replay``,
``set_anki_revlog_id``.

Here the terminal's answers stay in the ``reviews`` table (each seen as a
review event of this device); events merged from elsewhere, and the Anki
revlog ids given to terminal answers, are kept in two side tables made on
first use.
"""

from __future__ import annotations

import json
import random
import sqlite3
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cards.db import from_iso, iso

_TABLES = """
CREATE TABLE IF NOT EXISTS history_events (
    id TEXT PRIMARY KEY, card_key TEXT NOT NULL, kind TEXT NOT NULL, at TEXT NOT NULL,
    device TEXT NOT NULL, origin TEXT NOT NULL, rating INTEGER, duration_ms INTEGER,
    cancels TEXT, anki_revlog_id INTEGER);
CREATE INDEX IF NOT EXISTS history_events_card ON history_events(card_key, at);
CREATE TABLE IF NOT EXISTS history_revlog (
    event_id TEXT PRIMARY KEY, revlog_id INTEGER NOT NULL);
"""


@dataclass(frozen=True)
class Event:
    """One immutable entry of the review history."""

    id: str
    card_key: str
    kind: str
    at: datetime
    device: str
    origin: str
    rating: int | None = None
    duration_ms: int | None = None
    cancels: str | None = None
    anki_revlog_id: int | None = None


def _tables(conn: sqlite3.Connection) -> None:
    for statement in _TABLES.split(";"):
        if statement.strip():
            conn.execute(statement)


def _device(conn: sqlite3.Connection) -> str:
    row = conn.execute("SELECT value FROM config WHERE key = 'device_id'").fetchone()
    if row:
        return str(json.loads(row[0]))
    device = uuid.uuid4().hex
    conn.execute("INSERT INTO config (key, value) VALUES ('device_id', ?)", [json.dumps(device)])
    return device


def device_id(store: Any) -> str:
    """This store's device id (made once, kept in config)."""
    return _device(store.db.conn)


def events(conn: sqlite3.Connection, card_keys: Iterable[str] | None = None,
           since: datetime | None = None) -> list[Event]:
    """Stored events in time order (ties by id)."""
    _tables(conn)
    device = _device(conn)
    keys = None if card_keys is None else list(dict.fromkeys(card_keys))
    out = []
    some = "" if keys is None else " WHERE card_key IN (SELECT value FROM json_each(?))"
    params = [] if keys is None else [json.dumps(keys)]
    terminal = conn.execute(
        "SELECT id, card_key, rating, reviewed_at, duration_ms FROM reviews" + some,
        params).fetchall()
    if keys is None:
        pushed = dict(conn.execute("SELECT event_id, revlog_id FROM history_revlog").fetchall())
    else:
        pushed = dict(conn.execute(
            "SELECT event_id, revlog_id FROM history_revlog WHERE event_id IN "
            "(SELECT value FROM json_each(?))",
            [json.dumps([f"{device}-{r[0]}" for r in terminal])]).fetchall())
    for rid, key, rating, at, duration in terminal:
        eid = f"{device}-{rid}"
        out.append(Event(eid, key, "review", from_iso(at), device, "terminal", rating, duration,
                         None, pushed.get(eid)))
    for row in conn.execute("SELECT id, card_key, kind, at, device, origin, rating, "
                            "duration_ms, cancels, anki_revlog_id FROM history_events" + some,
                            params):
        out.append(Event(row[0], row[1], row[2], from_iso(row[3]), *row[4:]))
    if since is not None:
        out = [e for e in out if e.at >= since]
    out.sort(key=lambda e: (e.at, e.id))
    return out


def replay(card_key: str, card_events: Iterable[Event], settings: Any) -> dict[str, Any]:
    """A card's scheduling state from its events (undone reviews skipped).

    Fuzz is seeded from the card key and each review's id, so a replay always
    gives the same intervals.
    """
    from fsrs import Card, Rating, State

    from study.scheduler import STATE_NAMES, make_scheduler

    evs = list(card_events)
    cancelled = {e.cancels for e in evs if e.kind == "undo"}
    reviews = sorted((e for e in evs if e.kind == "review" and e.id not in cancelled),
                     key=lambda e: (e.at, e.id))
    state: dict[str, Any] = {"state": "new", "step": None, "stability": None,
                             "difficulty": None, "due": None, "last_review": None,
                             "reps": 0, "lapses": 0}
    if not reviews:
        return state
    scheduler = make_scheduler(settings)
    card = Card(card_id=1, state=State.Learning, step=0, due=reviews[0].at)
    saved = random.getstate()
    try:
        for e in reviews:
            random.seed(f"{card_key}|{e.id}")
            lapse = card.state == State.Review and e.rating == 1 and state["reps"] > 0
            card, _ = scheduler.review_card(card, Rating(int(e.rating or 1)), e.at)
            state["reps"] += 1
            state["lapses"] += lapse
    finally:
        random.setstate(saved)
    state.update(state=STATE_NAMES[card.state], step=card.step, stability=card.stability,
                 difficulty=card.difficulty, due=iso(card.due), last_review=iso(reviews[-1].at))
    return state


def merge_events(conn: sqlite3.Connection, new_events: Iterable[Event], settings: Any,
                 now: datetime) -> int:
    """Add the events not yet stored (a union by id), then replay every card they touch.

    Returns:
        How many events were new. One transaction.
    """
    _tables(conn)
    incoming = list({e.id: e for e in new_events}.values())
    known = {e.id for e in events(conn, {e.card_key for e in incoming})}
    fresh = [e for e in incoming if e.id not in known]
    if not fresh:
        return 0
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN IMMEDIATE")
    try:
        conn.executemany(
            "INSERT INTO history_events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(e.id, e.card_key, e.kind, iso(e.at), e.device, e.origin, e.rating, e.duration_ms,
              e.cancels, e.anki_revlog_id) for e in fresh])
        touched = sorted({e.card_key for e in fresh})
        stored = {k for k in touched
                  if conn.execute("SELECT 1 FROM cards WHERE key = ?", [k]).fetchone()}
        by_key: dict[str, list[Event]] = {}
        for e in events(conn, stored):
            by_key.setdefault(e.card_key, []).append(e)
        for key in stored:
            state = replay(key, by_key.get(key, []), settings)
            sets = ", ".join(f"{c} = :{c}" for c in state)
            conn.execute(f"UPDATE cards SET {sets}, buried_until = NULL, "
                         f"reviewed_hash = answer_hash, version = version + 1 WHERE key = :key",
                         {**state, "key": key})
        if own:
            conn.execute("COMMIT")
    except BaseException:
        if own and conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return len(fresh)


def set_anki_revlog_id(conn: sqlite3.Connection, event_id: str, revlog_id: int) -> None:
    """Remember the Anki revlog id given to a terminal review pushed to Anki."""
    _tables(conn)
    conn.execute("UPDATE history_events SET anki_revlog_id = ? WHERE id = ?",
                 [revlog_id, event_id])
    conn.execute("INSERT OR REPLACE INTO history_revlog (event_id, revlog_id) VALUES (?, ?)",
                 [event_id, revlog_id])
