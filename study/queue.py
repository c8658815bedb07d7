"""The daily queue: which cards are due, in what order, within the limits.

Plain SQL on a ``sqlite3`` connection, without fsrs, rich or sqlite-utils,
so that ``study due`` starts fast. Times are stored in UTC; the study day
runs from the rollover hour in the learner's time zone to the next one, so a
daylight-saving change gives a 23- or 25-hour day and never skips or repeats
a study day.
"""

from __future__ import annotations

import functools
import sqlite3
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from cards.db import from_iso, iso, row_dict

TYPE_CHECKING = False  # `study due` imports this: typing would cost it about 3 ms
if TYPE_CHECKING:
    from typing import Any, NamedTuple

    from study.settings import Settings
else:
    from cards.tuples import NamedTuple

LIVE = "c.retired = 0 AND c.suspended = 0"
UNBURIED = "(c.buried_until IS NULL OR c.buried_until <= :now)"
ACTIVE = f"{LIVE} AND {UNBURIED}"
#: The three counts: learning cards due today, review cards due today, new cards.
LEARNING_TODAY = "c.state IN ('learning', 'relearning') AND c.due < :day_end"
REVIEW_TODAY = "c.state = 'review' AND c.due < :day_end"
NEW = "c.state = 'new'"
#: Counts capped at most this many cards stop at the cap (see ``Queue._count``).
CAPPED_COUNT = 1000
#: Plurals the queue accepts for ``--kind`` without loading the registry (the
#: command layer passes family names; these keep old spellings working).
KIND_NAMES = {"tenures": "tenure", "successions": "succession", "organs": "organ",
              "events": "event", "facts": "fact", "people": "person", "offices": "office"}


class Day(NamedTuple):
    """One study day: its date and its bounds in UTC."""

    date: date
    start: datetime
    end: datetime


@functools.lru_cache(maxsize=1024)
def day_start(day: date, tz: tzinfo, rollover_hour: int) -> datetime:
    """When study day ``day`` begins, in UTC: the first moment the local clock shows
    the rollover hour on that date (if the clocks jump over it, the jump itself)."""
    wall = datetime.combine(day, time(rollover_hour))
    start = wall.replace(tzinfo=tz).astimezone(UTC)
    if start.astimezone(tz).replace(tzinfo=None) == wall:
        return start
    # the rollover falls in a gap: find the jump between the two readings of the hour
    lo, hi = sorted((wall.replace(tzinfo=tz, fold=1).astimezone(UTC), start))
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if mid.astimezone(tz).replace(tzinfo=None) >= wall:
            hi = mid
        else:
            lo = mid
    return hi.replace(microsecond=0)


def study_day(now: datetime, tz: tzinfo, rollover_hour: int) -> Day:
    """The study day that ``now`` falls in."""
    local = now.astimezone(tz)
    day = (local.replace(tzinfo=None) - timedelta(hours=rollover_hour)).date()
    # the boundaries decide, not the wall clock: where clocks go back over the
    # rollover hour, the wall clock shows it twice, but the day ends once
    start, end = (day_start(d, tz, rollover_hour) for d in (day, day + timedelta(days=1)))
    if now >= end:
        day, start, end = day + timedelta(days=1), end, day_start(
            day + timedelta(days=2), tz, rollover_hour)
    elif now < start:
        day, start, end = day - timedelta(days=1), day_start(
            day - timedelta(days=1), tz, rollover_hour), start
    return Day(day, start, end)


class Filters(NamedTuple):
    """Which cards a session or count looks at."""

    tag: str | None = None
    kind: str | None = None

    def sql(self) -> str:
        parts = []
        if self.tag:
            # card_tags holds each tag with its ancestors: 'ussr' matches 'ussr::party'
            parts.append("(EXISTS (SELECT 1 FROM card_tags WHERE tag = :tag AND card = c.key)"
                         " OR (:tag = 'leech' AND c.leech = 1))")
        if self.kind:
            parts.append("c.kind = :kind")
        return " AND ".join(parts) or "1"

    def params(self) -> dict[str, Any]:
        return {"tag": self.tag, "kind": KIND_NAMES.get(self.kind or "", self.kind)}


class Limits(NamedTuple):
    """A session's own limits: ``study review --new N --limit N``; None keeps the daily one."""

    new: int | None = None
    reviews: int | None = None


class Counts(NamedTuple):
    """What is left today after the limits."""

    learning: int
    review: int
    new: int
    next_due: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"learning": self.learning, "review": self.review, "new": self.new,
                "next_due": self.next_due}


def done_today(conn: sqlite3.Connection, day: Day) -> tuple[int, int]:
    """(new cards introduced, review cards answered) in this study day."""
    # the scheduler writes the snapshot with "state" first: a prefix test settles most
    # rows without parsing JSON (the queue asks this for every card shown)
    row = conn.execute(
        "SELECT COALESCE(SUM(CASE WHEN substr(state_before, 1, 10) = '{\"state\": ' "
        "THEN substr(state_before, 11, 5) = '\"new\"' "
        "ELSE json_extract(state_before, '$.state') = 'new' END), 0), "
        "COALESCE(SUM(CASE WHEN substr(state_before, 1, 10) = '{\"state\": ' "
        "THEN substr(state_before, 11, 8) = '\"review\"' "
        "ELSE json_extract(state_before, '$.state') = 'review' END), 0) "
        "FROM reviews WHERE reviewed_at >= ? AND reviewed_at < ? AND live = 1",
        [iso(day.start), iso(day.end)]).fetchone()
    return int(row[0]), int(row[1])


class Held(NamedTuple):
    """Today's counts before the limits, and today's answers, as of ``token``."""

    day_end: datetime
    token: tuple[int, int]  # (PRAGMA data_version, total_changes) when they held
    since: datetime  # they hold from this time ...
    until: datetime  # ... until the day ends or a buried card comes back
    learning: int
    review: int
    new: int
    new_done: int
    reviews_done: int


class Before(NamedTuple):
    """The counts a card's answer may change, taken before the answer."""

    key: str
    now: datetime
    classes: list[int]
    state: str | None


class Queue:
    """Selects the next card and counts what is left, for one store and filter."""

    def __init__(self, conn: sqlite3.Connection, settings: Settings, tz: tzinfo,
                 filters: Filters | None = None, limits: Limits | None = None,
                 order: str = "added") -> None:
        self.conn = conn
        self.settings = settings
        self.tz = tz
        self.filters = filters or Filters()
        self.limits = limits or Limits()
        self.session_new = 0  # cards this session introduced and reviewed, for its own limits
        self.session_reviews = 0
        self.order = order
        self.reviews_since_new = 0
        self.last_counts: Counts | None = None
        self._tally: Held | None = None

    def _params(self, now: datetime, day: Day, **extra: Any) -> dict[str, Any]:
        return {"now": iso(now), "day_end": iso(day.end), **self.filters.params(), **extra}

    def _where(self, state_sql: str) -> str:
        return f"{ACTIVE} AND {self.filters.sql()} AND {state_sql}"

    def _count(self, state_sql: str, params: dict[str, Any], cap: int | None = None) -> int:
        """Matching cards, at most ``cap``: a small cap stops the count early; a plain
        COUNT(*) counts about twice as fast a row (no subquery), so it does the rest."""
        if cap is not None and cap <= CAPPED_COUNT:
            sql = (f"SELECT COUNT(*) FROM (SELECT 1 FROM cards c WHERE {self._where(state_sql)} "
                   f"LIMIT {max(0, cap)})")
        else:
            sql = f"SELECT COUNT(*) FROM cards c WHERE {self._where(state_sql)}"
        n = int(self.conn.execute(sql, params).fetchone()[0])
        return n if cap is None else min(n, max(0, cap))

    def left(self, now: datetime) -> tuple[int, int]:
        """(new, reviews) still allowed: by this session's own limits, else by today's."""
        day = study_day(now, self.tz, self.settings.rollover_hour)
        return self._left(*self._done(day))

    def _done(self, day: Day) -> tuple[int, int]:
        """``done_today``, unless this session's own limits make it moot."""
        if self.limits.new is not None and self.limits.reviews is not None:
            return 0, 0
        return done_today(self.conn, day)

    def _left(self, new_done: int, reviews_done: int) -> tuple[int, int]:
        new_left = (self.limits.new - self.session_new if self.limits.new is not None
                    else self.settings.new_per_day - new_done)
        reviews_left = (self.limits.reviews - self.session_reviews
                        if self.limits.reviews is not None
                        else self.settings.reviews_per_day - reviews_done)
        return max(0, new_left), max(0, reviews_left)

    def counts(self, now: datetime) -> Counts:
        """Learning cards due today, and reviews and new cards within today's limits."""
        counts, params = self._today(now)
        return counts._replace(next_due=self.next_due(params))

    def _today(self, now: datetime) -> tuple[Counts, dict[str, Any]]:
        """Today's counts (without the next due time) and the query parameters for ``now``."""
        p = self._params(now, study_day(now, self.tz, self.settings.rollover_hour))
        new_left, reviews_left = self.left(now)
        learning = self._count(LEARNING_TODAY, p)
        review = self._count(REVIEW_TODAY, p, reviews_left)
        new = self._count(NEW, p, new_left)
        return Counts(learning, review, new, None), p

    def _token(self) -> tuple[int, int]:
        """Changes since the last call: another connection's commits (``data_version``)
        and this connection's own writes (``total_changes``)."""
        return self.conn.execute("PRAGMA data_version").fetchone()[0], self.conn.total_changes

    def _tallied(self, now: datetime, day: Day, params: dict[str, Any]) -> Held:
        """Today's uncapped counts and answers, counted again only when something changed.

        A review session asks for the counts before every card; counting every due
        card each time grew with the cards due. They change only when the store
        does, when the day ends, or when a buried card comes back.
        """
        tally, token = self._tally, self._token()
        if (tally is None or tally.day_end != day.end or tally.token != token
                or not tally.since <= now < tally.until):
            tally = self._tally = self._recount(now, day, params, token)
        return tally

    def _recount(self, now: datetime, day: Day, params: dict[str, Any],
                 token: tuple[int, int]) -> Held:
        counts, until = [], day.end
        for state_sql in (LEARNING_TODAY, REVIEW_TODAY, NEW):
            # the active cards, and when the first card buried later than now comes back
            n, back = self.conn.execute(
                f"SELECT COUNT(*) FILTER (WHERE {UNBURIED}), "
                f"MIN(c.buried_until) FILTER (WHERE NOT {UNBURIED}) FROM cards c "
                f"WHERE {LIVE} AND {self.filters.sql()} AND {state_sql}", params).fetchone()
            counts.append(int(n))
            if back is not None:
                until = min(until, from_iso(back))
        return Held(day.end, token, now, until, counts[0], counts[1], counts[2],
                     *self._done(day))

    def before_answer(self, key: str, now: datetime) -> Before | None:
        """What answering ``key`` at ``now`` may change in the counts: the classes of
        the card and its siblings now (None when the counts are not held)."""
        tally = self._tally
        day = study_day(now, self.tz, self.settings.rollover_hour)
        if (tally is None or tally.day_end != day.end or tally.token != self._token()
                or not tally.since <= now < tally.until):
            self._tally = None
            return None
        state = self.conn.execute("SELECT state FROM cards WHERE key = ?", [key]).fetchone()
        return Before(key, now, self._classes(key, now, day), state[0] if state else None)

    def after_answer(self, before: Before | None) -> None:
        """Bring the held counts up to date after this connection committed the answer
        that ``before`` was taken for (and nothing else)."""
        tally, self._tally = self._tally, None
        if before is None or tally is None:
            return
        day = study_day(before.now, self.tz, self.settings.rollover_hour)
        after = self._classes(before.key, before.now, day)
        counts = [tally.learning, tally.review, tally.new]
        for cls in before.classes:
            counts[cls] -= 1
        for cls in after:
            counts[cls] += 1
        self._tally = tally._replace(
            token=(tally.token[0], self.conn.total_changes),
            learning=counts[0], review=counts[1], new=counts[2],
            new_done=tally.new_done + (before.state == "new"),
            reviews_done=tally.reviews_done + (before.state == "review"))

    def _classes(self, key: str, now: datetime, day: Day) -> list[int]:
        """Which count (0 learning, 1 review, 2 new) each active card of ``key``'s
        sibling group (``key`` included) is in."""
        p = self._params(now, day, key=key)
        return [row[0] for row in self.conn.execute(
            f"SELECT CASE WHEN {LEARNING_TODAY} THEN 0 WHEN {REVIEW_TODAY} THEN 1 "
            f"WHEN {NEW} THEN 2 END AS class "
            f"FROM (SELECT s.key FROM json_each((SELECT siblings FROM cards WHERE key = :key)) g "
            f"JOIN card_groups s ON s.grp = g.value UNION SELECT :key) AS k "
            f"CROSS JOIN cards c ON c.key = k.key "  # by key: not a walk of the queue's index
            f"WHERE {self._where('1')} AND class IS NOT NULL", p)]

    def next_due(self, params: dict[str, Any]) -> str | None:
        """The earliest due time of a card that is not new (one index walk per state)."""
        firsts = [self._first(f"c.state = '{state}'", "c.due", params)
                  for state in ("learning", "relearning", "review")]
        dues = [card["due"] for card in firsts if card]
        return min(dues) if dues else None

    def _earliest(self, due_sql: str, params: dict[str, Any]) -> dict[str, Any] | None:
        """The learning or relearning card due first (then by position) with ``due_sql``.

        One query per state, each walking the ``cards_due`` index and reading
        one row: ``state IN (...)`` would sort every such card.
        """
        firsts = [self._first(f"c.state = '{state}' AND {due_sql}", "c.due, c.position", params)
                  for state in ("learning", "relearning")]
        cards = [card for card in firsts if card]
        return min(cards, key=lambda card: (card["due"], card["position"])) if cards else None

    def _first(self, state_sql: str, order: str, params: dict[str, Any]) -> dict[str, Any] | None:
        cur = self.conn.execute(
            f"SELECT c.* FROM cards c WHERE {self._where(state_sql)} ORDER BY {order} LIMIT 1",
            params)
        row = cur.fetchone()
        if row is None:
            return None
        return row_dict(cur, row)

    def next_card(self, now: datetime) -> tuple[dict[str, Any], str] | None:
        """The next card to show and why (``learning``, ``review``, ``new``), or None."""
        day = study_day(now, self.tz, self.settings.rollover_hour)
        p = self._params(now, day)
        tally = self._tallied(now, day, p)
        new_left, reviews_left = self._left(tally.new_done, tally.reviews_done)
        #: what the header shows with this card
        self.last_counts = Counts(tally.learning, min(tally.review, reviews_left),
                                  min(tally.new, new_left), None)
        reviews, new = self.last_counts.review, self.last_counts.new
        card = self._earliest("c.due <= :now", p)
        if card:
            return card, "learning"
        # spread new cards evenly: one after every (reviews in this stretch / new) reviews
        stretch = self.reviews_since_new + reviews
        if new and (not reviews or self.reviews_since_new >= stretch // new):
            order = "random()" if self.order == "random" else "c.position"
            card = self._first("c.state = 'new'", order, p)
            if card:
                return card, "new"
        if reviews:
            card = self._first("c.state = 'review' AND c.due < :day_end", "c.due, c.position", p)
            if card:
                return card, "review"
        ahead = iso(now + timedelta(minutes=self.settings.learn_ahead_minutes))
        card = self._earliest("c.due <= :ahead", {**p, "ahead": ahead})
        if card:
            return card, "learning"
        return None

    def shown(self, reason: str, undone: bool = False) -> None:
        """Tell the queue what kind of card was answered (or that the answer was undone)."""
        step = -1 if undone else 1
        if reason == "new":
            self.session_new += step
            if not undone:
                self.reviews_since_new = 0
        elif reason == "review":
            self.session_reviews += step
            self.reviews_since_new = max(0, self.reviews_since_new + step)

    def due_tomorrow(self, now: datetime) -> int:
        """Non-new cards that fall due in the next study day (not those due today)."""
        day = study_day(now, self.tz, self.settings.rollover_hour)
        start, end = iso(day.end), iso(day_start(day.date + timedelta(days=2), self.tz,
                                                 self.settings.rollover_hour))
        sql = (f"SELECT COUNT(*) FROM cards c WHERE c.retired = 0 AND c.suspended = 0 "
               f"AND {self.filters.sql()} AND c.state != 'new' AND c.due >= :start "
               f"AND c.due < :end")
        return int(self.conn.execute(sql, self._params(now, day, start=start, end=end)
                                     ).fetchone()[0])


DUE_PERIODS = "now, today, tomorrow or a number of days such as 7d"


def due_cutoff(period: str, now: datetime, tz: tzinfo, rollover_hour: int) -> datetime:
    """The end of ``period`` (``now``, ``today``, ``tomorrow``, ``Nd``: N study days).

    ``today`` ends with this study day; ``tomorrow`` with the next; ``7d`` with
    the seventh study day from today.

    Raises:
        ValueError: ``period`` is none of these.
    """
    if period == "now":
        return now
    days = {"today": 1, "tomorrow": 2}.get(period)
    if days is None:
        number = period[:-1] if period.endswith("d") else ""
        if not number.isdigit() or not 0 < int(number) <= 36500:
            raise ValueError(f"{period!r} is not a period, expected {DUE_PERIODS}")
        days = int(number)
    day = study_day(now, tz, rollover_hour)
    return day_start(day.date + timedelta(days=days), tz, rollover_hour)
