"""The review history as a log of events, and the card state derived from it.

Every answer is an immutable event with a global id, its device and origin,
its time, rating and duration; an undo is an event too, a tombstone naming
the review it cancels. A card's scheduling state is what replaying its
events through FSRS in time order gives (ties broken by event id), skipping
undone reviews. Fuzz is drawn from a generator seeded with the card key and
the review id, so every replay, on every machine, gives the same intervals.

The ``cards`` table keeps the replayed state as a cache (the queue reads it);
``rebuild`` compares the cache with a full replay and repairs it. Merging two
logs is a union by event id: merging the same events twice changes nothing.

The events live in the ``reviews`` table: one row per event, ``kind``
``review`` or ``undo``, ``live = 1`` for a review that stands.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import itertools
import json
import math
import operator
import sqlite3
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fsrs import Card, Rating, Scheduler, State

from cards.aggregates import Restated, Rewrite, Rewritten, rewriting
from cards.db import from_iso, iso
from study.settings import Settings

STATE_NAMES = {State.Learning: "learning", State.Review: "review", State.Relearning: "relearning"}
STATE_OF = {v: k for k, v in STATE_NAMES.items()}
#: The card columns that replaying a card's events gives.
DERIVED = ("state", "step", "stability", "difficulty", "due", "last_review", "reps", "lapses")
KINDS = ("review", "undo")
#: py-fsrs' fuzz ranges (fsrs.scheduler.FUZZ_RANGES): start, end, factor.
FUZZ_RANGES = ((2.5, 7.0, 0.15), (7.0, 20.0, 0.1), (20.0, math.inf, 0.05))
NEW_STATE: dict[str, Any] = {"state": "new", "step": None, "stability": None,
                             "difficulty": None, "due": None, "last_review": None,
                             "reps": 0, "lapses": 0}
_COLUMNS = ("event_id, card_key, kind, reviewed_at, device, origin, rating, duration_ms, "
            "cancels, anki_revlog_id")


@dataclass(frozen=True)
class Event:
    """One event of the review history: a review, or an undo that cancels one."""

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


def new_event_id() -> str:
    """A fresh, globally unique event id (a random UUID, as 32 hex digits)."""
    return uuid.uuid4().hex


def device_of(conn: sqlite3.Connection) -> str:
    """This store's device id, made on first use and kept in ``config``."""
    row = conn.execute("SELECT value FROM config WHERE key = 'device_id'").fetchone()
    if row is None:
        conn.execute("INSERT OR IGNORE INTO config (key, value) VALUES ('device_id', ?)",
                     [json.dumps(uuid.uuid4().hex)])
        row = conn.execute("SELECT value FROM config WHERE key = 'device_id'").fetchone()
    return str(json.loads(row[0]))


def device_id(store: Any) -> str:
    """This store's device id (made once, kept in config)."""
    return device_of(store.db.conn)


def settings_of(conn: sqlite3.Connection) -> Settings:
    """The scheduler settings stored in ``config``."""
    return Settings.from_config({k: json.loads(v) for k, v in conn.execute(
        "SELECT key, value FROM config")})


def _event(row: tuple[Any, ...]) -> Event:
    return Event(id=row[0], card_key=row[1], kind=row[2], at=from_iso(row[3]), device=row[4],
                 origin=row[5], rating=row[6], duration_ms=row[7], cancels=row[8],
                 anki_revlog_id=row[9])


def events(conn: sqlite3.Connection, card_keys: Iterable[str] | None = None,
           since: datetime | None = None) -> list[Event]:
    """Stored events in time order (ties by id), of some cards or all, from ``since`` on."""
    where, params = ["1"], []
    if card_keys is not None:
        where.append("card_key IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(list(card_keys)))
    if since is not None:
        where.append("reviewed_at >= ?")
        params.append(iso(since))
    return [_event(r) for r in conn.execute(
        f"SELECT {_COLUMNS} FROM reviews WHERE {' AND '.join(where)} "
        f"ORDER BY reviewed_at, event_id", params)]


@contextlib.contextmanager
def write(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction (``BEGIN IMMEDIATE``); inside another one, a savepoint."""
    if conn.in_transaction:
        conn.execute("SAVEPOINT history")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK TO history")
            conn.execute("RELEASE history")
            raise
        conn.execute("RELEASE history")
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


# -- replay ------------------------------------------------------------------

@functools.lru_cache(maxsize=8)
def _scheduler(parameters: tuple[float, ...], desired_retention: float,
               learning_steps: tuple[timedelta, ...], relearning_steps: tuple[timedelta, ...],
               maximum_interval: int) -> Scheduler:
    return Scheduler(parameters=parameters, desired_retention=desired_retention,
                     learning_steps=learning_steps, relearning_steps=relearning_steps,
                     maximum_interval=maximum_interval, enable_fuzzing=False)


def scheduler_for(settings: Settings) -> Scheduler:
    """An unfuzzed scheduler with these settings (fuzz is applied by ``fuzzed``)."""
    return _scheduler(tuple(settings.parameters), settings.desired_retention,
                      tuple(settings.learning_steps), tuple(settings.relearning_steps),
                      settings.maximum_interval)


def unit(seed: str) -> float:
    """A number in [0, 1) drawn from ``seed`` (BLAKE2b: the same on every machine)."""
    return int.from_bytes(hashlib.blake2b(seed.encode(), digest_size=7).digest(), "big") / 2**56


@functools.lru_cache(maxsize=4096)
def _fuzz_range(days: int, maximum_interval: int) -> tuple[int, int]:
    """py-fsrs' fuzz range for an interval of ``days`` whole days: lowest, highest."""
    delta = 1.0
    for start, end, factor in FUZZ_RANGES:
        if days <= start:
            break
        delta += factor * (min(days, end) - start)
    low, high = max(2, round(days - delta)), min(round(days + delta), maximum_interval)
    return min(low, high), high


def fuzzed(interval: timedelta, maximum_interval: int, seed: str) -> timedelta:
    """``interval`` with py-fsrs' fuzz, drawn from ``seed`` instead of the global generator."""
    days = interval.days
    if days < 2.5:
        return interval
    low, high = _fuzz_range(days, maximum_interval)
    value = unit(seed) * (high - low + 1) + low
    return timedelta(days=min(round(value), maximum_interval))


def fuzz_seed(card_key: str, event_id: str) -> str:
    return f"{card_key}\x1f{event_id}"


_RATINGS = {int(r): r for r in Rating}


def step(settings: Settings, card: Card, rating: int, at: datetime, seed: str,
         scheduler: Scheduler | None = None) -> Card:
    """The card after one answer at ``at``: FSRS unfuzzed, then the seeded fuzz.

    Args:
        scheduler: ``scheduler_for(settings)``, when the caller has it at hand.
    """
    after, _log = (scheduler or scheduler_for(settings)).review_card(card, _RATINGS[rating], at)
    if settings.fuzz and after.state == State.Review:
        after.due = at + fuzzed(after.due - at, settings.maximum_interval, seed)
    return after


def fsrs_card(state: dict[str, Any], at: datetime) -> Card:
    """The FSRS view of a card state (a new card is a learning card at step 0)."""
    if state["state"] == "new":
        return Card(card_id=0, state=State.Learning, step=0, due=at)
    return Card(card_id=0, state=STATE_OF[state["state"]], step=state["step"],
                stability=state["stability"], difficulty=state["difficulty"],
                due=from_iso(state["due"]),
                last_review=from_iso(state["last_review"]) if state["last_review"] else None)


def state_of(card: Card, reps: int, lapses: int) -> dict[str, Any]:
    """A replayed card as the ``cards`` table holds it."""
    due, last = card.due, card.last_review
    return {"state": STATE_NAMES[card.state], "step": card.step, "stability": card.stability,
            "difficulty": card.difficulty,
            # as iso() gives them; a time already in UTC (every replayed one) needs no conversion
            "due": due.isoformat(timespec="microseconds") if due.tzinfo is UTC else iso(due),
            "last_review": (last.isoformat(timespec="microseconds") if last.tzinfo is UTC
                            else iso(last)) if last else None,
            "reps": reps, "lapses": lapses}


class _Card(Card):
    """py-fsrs' ``Card`` with a quick ``copy``: ``review_card`` copies the card it is
    given, and ``copy.copy``'s generic path was a quarter of its time. Same fields,
    same results; only the replay uses it (a ``Card`` compares unequal to it)."""

    __slots__ = ()

    def __copy__(self) -> _Card:
        new = object.__new__(_Card)
        new.__dict__.update(self.__dict__)
        return new


#: A review as replay reads it: event id, rating, time (stored ISO text), anything after.
_Review = tuple[Any, ...]
#: A replayed review: event id, the state's name before it, the card after it, reps, lapses.
Replayed = tuple[str, str, Card, int, int]


def walk(card_key: str, reviews: Iterable[_Review], settings: Settings,
         scheduler: Scheduler | None = None) -> Iterator[Replayed]:
    """Replay reviews of one card in the order given (``state_of`` makes a state of each).

    Each answer is ``step``'s: FSRS unfuzzed, then the seeded fuzz (written out
    here, as this loop runs for every event of ``study doctor``).

    Args:
        scheduler: ``scheduler_for(settings)``, when the caller has it at hand.
    """
    review_card = (scheduler or scheduler_for(settings)).review_card
    fuzz, maximum, ratings, names = settings.fuzz, settings.maximum_interval, _RATINGS, STATE_NAMES
    review = State.Review
    card: Card | None = None
    reps = lapses = 0
    before = "new"
    for row in reviews:
        event_id, rating = row[0], row[1]
        at = datetime.fromisoformat(row[2])
        card, _log = review_card(card if card is not None else _Card(
            card_id=0, state=State.Learning, step=0, due=at), ratings[rating], at)
        if fuzz and card.state is review:
            card.due = at + fuzzed(card.due - at, maximum, f"{card_key}\x1f{event_id}")
        reps += 1
        if rating == 1 and before == "review":
            lapses += 1
        yield event_id, before, card, reps, lapses
        before = names[card.state]


def replay(card_key: str, events: Iterable[Event], settings: Settings) -> dict[str, Any]:
    """The card's state from its events, undone reviews skipped.

    Returns:
        ``state``, ``step``, ``stability``, ``difficulty``, ``due``,
        ``last_review`` (ISO text, as in the ``cards`` table), ``reps`` and
        ``lapses``; a card with no review that stands is ``new``.
    """
    mine = [e for e in events if e.card_key == card_key]
    cancelled = {e.cancels for e in mine if e.kind == "undo"}
    reviews = sorted((e for e in mine if e.kind == "review" and e.id not in cancelled),
                     key=lambda e: (iso(e.at), e.id))
    state = dict(NEW_STATE)
    for _id, _before, card, reps, lapses in walk(
            card_key, [(e.id, e.rating or 0, iso(e.at)) for e in reviews], settings):
        state = state_of(card, reps, lapses)
    return state


# -- the cache ---------------------------------------------------------------

@dataclass(frozen=True)
class Difference:
    """A card whose cached state differed from its replay."""

    key: str
    columns: dict[str, tuple[Any, Any]]  # column -> (cached, replayed)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return bool(a == b)


def _changed_due(card: dict[str, Any], replayed: dict[str, Any]) -> dict[str, Any]:
    """A card whose answer changed since its last review was made due (``sync_cards``)."""
    if (card["reviewed_hash"] and card["reviewed_hash"] != card["answer_hash"]
            and replayed["due"] and card["updated"] and replayed["due"] > card["updated"]
            and (card["due"] or "") <= card["updated"]):
        return {**replayed, "due": card["due"]}
    return replayed


@dataclass
class Repairs:
    """What a replay of cards found: how many it replayed, how many differed, the first few."""

    cards: int = 0
    differed: int = 0
    #: the first ``keep`` cards that differed, in key order
    differences: list[Difference] = field(default_factory=list)


#: A replay of this many cards or more holds the row triggers off while it
#: writes (``cards.aggregates.rewriting``), and does their work in bulk.
BULK = 100


def recompute(conn: sqlite3.Connection, keys: Iterable[str] | None, settings: Settings,
              batch: int = 2000, keep: int = 20, bulk: int = BULK) -> Repairs:
    """Replay cards (all when ``keys`` is None) and write the results to the cache.

    Call inside a write transaction. The ``cards`` row gets the replayed
    state; each review's cached ``state_before``/``state_after`` is redone
    where it disagrees; a card whose lapses reach the leech threshold by
    merged reviews is marked leech and suspended, as an answer would. Cards
    are read ``batch`` at a time in key order, each with its reviews, and
    only rows that differ are written: memory does not grow with the history.

    Args:
        keep: how many differing cards to return in full.
        bulk: from this many cards on, write without the row triggers
            (``cards.aggregates.rewriting``).

    Returns:
        The cards replayed, and those whose cached state differed.
    """
    repairs = Repairs()
    wanted = None if keys is None else sorted(set(keys))
    with (rewriting(conn) if wanted is None or len(wanted) >= bulk
          else contextlib.nullcontext()) as rewrite:
        for cards, reviews in _batches(conn, wanted, batch):
            _recompute_batch(conn, cards, reviews, settings, repairs, keep, rewrite)
    return repairs


_PREFIXES = {name: f'{{"state": "{name}"' for name in ("new", *STATE_OF)}
_CARD_COLUMNS = (*DERIVED, "key", "suspended", "leech", "buried_until", "reviewed_hash",
                 "answer_hash", "updated", "rowid", "retired", "kind")
_CARD_SELECT = f"SELECT {', '.join(_CARD_COLUMNS)} FROM cards"
#: A review as the cache check reads it: what ``walk`` needs, the cached state, the row id
#: and what the hourly totals read (``cards.aggregates.rewriting``).
_REVIEW_SELECT = ("SELECT card_key, event_id, rating, reviewed_at, state_before, id, duration_ms "
                  "FROM reviews WHERE {} AND kind = 'review' AND live = 1 "
                  "ORDER BY card_key, reviewed_at, event_id")
_Rows = list[tuple[Any, ...]]


def _batches(conn: sqlite3.Connection, keys: list[str] | None, batch: int
             ) -> Iterator[tuple[_Rows, dict[str, _Rows]]]:
    """Cards in key order (``keys``, sorted, or all), ``batch`` at a time, each batch
    with its reviews by card."""
    key = _CARD_COLUMNS.index("key")
    if keys is None:  # every card: a range of the key index, then the same range of reviews
        last = ""
        while cards := conn.execute(f"{_CARD_SELECT} WHERE key > ? ORDER BY key LIMIT ?",
                                    [last, batch]).fetchall():
            last = cards[-1][key]
            yield cards, _reviews_by_card(conn, "card_key BETWEEN ? AND ?",
                                          [cards[0][key], last])
        return
    for start in range(0, len(keys), batch):
        chunk = json.dumps(keys[start:start + batch])
        cards = conn.execute(f"{_CARD_SELECT} WHERE key IN (SELECT value FROM json_each(?)) "
                             f"ORDER BY key", [chunk]).fetchall()
        yield cards, _reviews_by_card(
            conn, "card_key IN (SELECT value FROM json_each(?))", [chunk])


def _reviews_by_card(conn: sqlite3.Connection, where: str, params: list[Any]
                     ) -> dict[str, _Rows]:
    by_card: dict[str, _Rows] = {}
    for key, group in itertools.groupby(
            conn.execute(_REVIEW_SELECT.format(where), params), operator.itemgetter(0)):
        by_card[key] = [row[1:] for row in group]
    return by_card


def _fields(state: dict[str, Any]) -> str:
    """``json.dumps(state)`` without its braces: a state's part of a review's cache."""
    return json.dumps(state)[1:-1]


def _state_fields(state: dict[str, Any]) -> str:
    """``_fields`` of a replayed state (``state_of``'s), written out: the same text in
    about a third of the time. Its names and times (``isoformat``) need no escapes; json
    writes ints and finite floats by their ``repr``; anything else goes to ``_fields``."""
    step, stability, difficulty = state["step"], state["stability"], state["difficulty"]
    due, last, reps, lapses = state["due"], state["last_review"], state["reps"], state["lapses"]
    if not (type(stability) is float and type(difficulty) is float
            and stability - stability == 0.0 and difficulty - difficulty == 0.0  # finite
            and (step is None or type(step) is int) and type(reps) is int
            and type(lapses) is int and type(due) is str
            and (last is None or type(last) is str)):
        return _fields(state)
    last_text = "null" if last is None else f'"{last}"'
    return (f'"state": "{state["state"]}", "step": {"null" if step is None else step}, '
            f'"stability": {stability!r}, "difficulty": {difficulty!r}, "due": "{due}", '
            f'"last_review": {last_text}, "reps": {reps}, "lapses": {lapses}')


_NEW_FIELDS = _fields(NEW_STATE)
_DERIVED_SET = frozenset(DERIVED)
_STATE_ONLY = frozenset(json.dumps({"state": name}) for name in ("new", *STATE_OF))


def _cache_before(cached: str | None, extra: str, before: str) -> str:
    """``json.dumps({**old, **state})``: ``old`` is the review's cached state before
    (``cached`` parsed; the card's ``extra`` fields when there is none), ``state``
    the replayed one, both given as ``_fields`` text. The same text as that dict's,
    without making it again."""
    if cached is None:
        return f"{{{extra}, {before}}}"
    if cached in _STATE_ONLY:  # a cache of the state's name alone
        return f"{{{before}}}"
    old = json.loads(cached)
    keys = list(old)
    first = next((i for i, k in enumerate(keys) if k in _DERIVED_SET), len(keys))
    last = first
    while last < len(keys) and last - first < len(DERIVED) and keys[last] == DERIVED[last - first]:
        last += 1
    if (last - first < len(DERIVED) and last < len(keys)) or any(
            k in _DERIVED_SET for k in keys[last:]):
        # the state's fields are not together in order in the old cache: as the dicts go
        return json.dumps({**old, **json.loads(f"{{{before}}}")})
    # its fields in order (all, or a first few and nothing after): the new ones in their place
    parts = [_fields({k: old[k] for k in keys[:first]}) if first else "", before,
             _fields({k: old[k] for k in keys[last:]}) if last < len(keys) else ""]
    return "{" + ", ".join(p for p in parts if p) + "}"


def _recompute_batch(conn: sqlite3.Connection, cards: _Rows, reviews: dict[str, _Rows],
                     settings: Settings, repairs: Repairs, keep: int,
                     rewrite: Rewrite | None) -> None:
    derived = len(DERIVED)
    scheduler = scheduler_for(settings)
    card_updates: list[tuple[Any, ...]] = []
    review_updates: list[tuple[str, str, float, int]] = []
    rewritten: list[Rewritten] = []
    tagged: list[Restated] = []  # the cards' new card_tags columns
    for row in cards:
        card = dict(zip(_CARD_COLUMNS, row, strict=True))
        key = card["key"]
        rows = reviews.get(key, [])
        extra: str | None = None  # the card's fields that are no state, as _fields gives
        previous: tuple[Card, int, int] | None = None
        after: dict[str, Any] | None = None  # previous as a state, when made
        after_fields = ""  # and its _fields
        for (_id, before_name, fsrs, reps, lapses), review in zip(
                walk(key, rows, settings, scheduler), rows, strict=True):
            # what the counts read of this cache is the state before each answer
            cached = review[3]
            if cached is None or not cached.startswith(_PREFIXES[before_name]):
                if extra is None:
                    extra = _fields({c: card[c] for c in (
                        "suspended", "leech", "buried_until", "reviewed_hash")})
                before = after_fields if after else (
                    _state_fields(state_of(*previous)) if previous else _NEW_FIELDS)
                after = state_of(fsrs, reps, lapses)
                after_fields = _state_fields(after)
                days = (fsrs.due - fsrs.last_review).total_seconds() / 86400 \
                    if fsrs.last_review else 0.0
                state_before = _cache_before(cached, extra, before)
                review_updates.append((state_before, f"{{{extra}, {after_fields}}}", days,
                                       review[4]))
                rewritten.append((key, card["kind"], review[2], review[1], review[5], cached,
                                  state_before))
            else:
                after = None
            previous = (fsrs, reps, lapses)
        replayed = after or (state_of(*previous) if previous else dict(NEW_STATE))
        replayed = _changed_due(card, replayed)
        repairs.cards += 1
        values = tuple(replayed[c] for c in DERIVED)
        if row[:derived] == values:
            continue
        diff = {c: (card[c], replayed[c]) for c in DERIVED if not _same(card[c], replayed[c])}
        if diff:
            repairs.differed += 1
            if len(repairs.differences) < keep:
                repairs.differences.append(Difference(key, diff))
            leech = int(replayed["lapses"] >= settings.leech_threshold > card["lapses"]
                        and not card["leech"])
            card_updates.append((*values, leech, leech, card["rowid"]))
            suspended = max(card["suspended"], leech)
            if (replayed["state"], replayed["due"], suspended) != (
                    card["state"], card["due"], card["suspended"]):
                tagged.append((card["retired"], suspended, replayed["state"], replayed["due"],
                               key))
    if rewrite is not None:
        rewrite.many("cards", len(card_updates), (*DERIVED, "leech", "suspended", "version"))
    _write(conn, card_updates, review_updates)
    if rewrite is not None:
        rewrite.cards(tagged)
        rewrite.reviews(rewritten)


_SET_DERIVED = ", ".join(f"{c} = ?" for c in DERIVED)


def _write(conn: sqlite3.Connection, card_updates: list[tuple[Any, ...]],
           review_updates: list[tuple[str, str, float, int]]) -> None:
    """Write the cards' replayed ``DERIVED`` values (then leech twice and the row id)
    and the reviews' caches."""
    # in row order: each page is visited once
    if card_updates:
        conn.executemany(f"UPDATE cards SET {_SET_DERIVED}, leech = max(leech, ?), "
                         f"suspended = max(suspended, ?), version = version + 1 "
                         f"WHERE rowid = ?", sorted(card_updates, key=operator.itemgetter(-1)))
    if review_updates:
        conn.executemany("UPDATE reviews SET state_before = ?, state_after = ?, "
                         "interval_days = ? WHERE id = ?",
                         sorted(review_updates, key=operator.itemgetter(3)))


def settle(conn: sqlite3.Connection) -> bool:
    """Replay every card once if an upgrade asked for it (``replay_pending``); True if done."""
    if conn.execute("SELECT 1 FROM config WHERE key = 'replay_pending'").fetchone() is None:
        return False
    with write(conn):
        if conn.execute("SELECT 1 FROM config WHERE key = 'replay_pending'").fetchone():
            recompute(conn, None, settings_of(conn))
            conn.execute("DELETE FROM config WHERE key = 'replay_pending'")
    return True


def rebuild(conn: sqlite3.Connection, settings: Settings, dry_run: bool = False,
            keep: int = 20, batch: int = 2000) -> Repairs:
    """Replay every card's events and repair the cached state (``study doctor``).

    Returns:
        How many cards were replayed, how many had a cache that differed (left
        as they were with ``dry_run``), and the first ``keep`` of those.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        repairs = recompute(conn, None, settings, batch, keep)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("ROLLBACK" if dry_run else "COMMIT")
    return repairs


# -- merging -----------------------------------------------------------------

def _row(event: Event) -> tuple[Any, ...]:
    return (event.id, event.card_key, event.kind, event.rating, iso(event.at),
            event.duration_ms, event.device, event.origin, event.cancels,
            event.anki_revlog_id, 0 if event.kind == "undo" else 1)


def insert_events(conn: sqlite3.Connection, events: Iterable[Event]) -> tuple[int, set[str]]:
    """Add the events not stored yet (by id); call inside a write transaction.

    Events of cards this store does not have are left out. Returns how many
    events were new and the keys of the cards they touch.
    """
    given = list(events)
    keys = {e.card_key for e in given}
    known = {k for (k,) in conn.execute(
        "SELECT key FROM cards WHERE key IN (SELECT value FROM json_each(?))",
        [json.dumps(sorted(keys))])}
    # ids (and Anki revlog ids) already stored; looked up first, as INSERT OR IGNORE
    # would still use up AUTOINCREMENT numbers and so change the file
    have = {i for (i,) in conn.execute(
        "SELECT event_id FROM reviews WHERE event_id IN (SELECT value FROM json_each(?))",
        [json.dumps([e.id for e in given])])}
    revlogs = {i for (i,) in conn.execute(
        "SELECT anki_revlog_id FROM reviews WHERE anki_revlog_id IN "
        "(SELECT value FROM json_each(?))",
        [json.dumps([e.anki_revlog_id for e in given if e.anki_revlog_id is not None])])}
    rows = []
    touched: set[str] = set()
    for event in given:
        if (event.card_key not in known or event.id in have
                or (event.anki_revlog_id is not None and event.anki_revlog_id in revlogs)):
            continue
        have.add(event.id)
        if event.anki_revlog_id is not None:
            revlogs.add(event.anki_revlog_id)
        rows.append(_row(event))
        touched.add(event.card_key)
    conn.executemany(
        "INSERT INTO reviews (event_id, card_key, kind, rating, reviewed_at, duration_ms, "
        "device, origin, cancels, anki_revlog_id, live) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows)
    new = len(rows)
    if touched:
        # a tombstone cancels its review whichever arrived first
        conn.execute(
            "UPDATE reviews SET live = 0 WHERE kind = 'review' AND live = 1 AND event_id IN "
            "(SELECT cancels FROM reviews WHERE kind = 'undo' AND card_key IN "
            "(SELECT value FROM json_each(?)))", [json.dumps(sorted(touched))])
    return new, touched


def merge_events(conn: sqlite3.Connection, events: Iterable[Event], settings: Settings,
                 now: datetime) -> int:
    """Union the events with the stored ones (by id), then replay every card they touch.

    One transaction; merging the same events again changes nothing. Events
    of cards this store does not have are skipped (``unknown_cards`` names them).

    Returns:
        How many events were new.
    """
    del now  # the replay depends on the events alone
    with write(conn):
        new, touched = insert_events(conn, events)
        recompute(conn, touched, settings)
    return new


def unknown_cards(conn: sqlite3.Connection, events: Iterable[Event]) -> list[str]:
    """The card keys of ``events`` that name no card of this store, sorted."""
    keys = sorted({e.card_key for e in events})
    known = {k for (k,) in conn.execute(
        "SELECT key FROM cards WHERE key IN (SELECT value FROM json_each(?))",
        [json.dumps(keys)])}
    return [k for k in keys if k not in known]


def set_anki_revlog_id(conn: sqlite3.Connection, event_id: str, revlog_id: int) -> None:
    """Remember the Anki revlog id a terminal review was given when pushed to Anki."""
    conn.execute("UPDATE reviews SET anki_revlog_id = ? WHERE event_id = ?",
                 [revlog_id, event_id])
