"""One review session: what to show next, answering, undo, and the summary.

No input or output here: the terminal front end (``study.terminal``) drives
a ``ReviewSession`` with keys and the time it reads from its clock.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from cards.db import busy
from cards.generate import context
from cards.registry import FAMILIES
from cards.store import Store
from study import scheduler as sched
from study.queue import Counts, Filters, Limits, Queue, study_day
from study.settings import Settings

#: Answers between two folds of the write-ahead log (``ReviewSession.idle``); well
#: below SQLite's automatic checkpoint, so that no answer's commit does it.
FOLD_EVERY = 20


@dataclass
class Showing:
    """A card on screen: enough to answer it and to draw it."""

    card: dict[str, Any]
    reason: str
    previews: dict[int, timedelta]
    changed: bool
    context: list[str]
    aliases: list[str]
    counts: Counts | None = None  # today's counts when the card was chosen

    @property
    def key(self) -> str:
        return str(self.card["key"])


@dataclass
class Tally:
    """What this session has done."""

    answered: int = 0
    again: int = 0
    milliseconds: int = 0
    leeches: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Summary:
    answered: int
    again: int
    seconds: float
    next_due: str | None
    due_tomorrow: int


class ReviewSession:
    """Reviews on one store, with the settings, time zone, filters and limits given."""

    def __init__(self, store: Store, settings: Settings, tz: tzinfo,
                 filters: Filters | None = None, limits: Limits | None = None,
                 order: str = "added", live_id: str | None = None) -> None:
        self.store = store
        self.live_id = live_id  # this session's row in ``sessions`` (study.live), if any
        self.conn = store.db.conn
        self.settings = settings
        self.tz = tz
        self.queue = Queue(self.conn, settings, tz, filters, limits, order)
        self.preview_scheduler = sched.make_scheduler(settings, fuzz=False)
        self.tally = Tally()
        self._undo_stack: list[tuple[int, int, str]] = []  # own answers: review id, rating, why
        self._unfolded = 0  # answers since the write-ahead log was last folded in

    def counts(self, now: datetime) -> Counts:
        return self.queue.counts(now)

    def show(self, card: dict[str, Any], reason: str, now: datetime) -> Showing:
        records = self.store.around(card["record_kind"], card["record_id"])
        changed = bool(card["reviewed_hash"]) and card["reviewed_hash"] != card["answer_hash"]
        family = FAMILIES.get(card["record_kind"])
        # other answers a typed answer may give: the person the answer names, and aliases
        aliases = family.aliases(records, card) if family else []
        return Showing(card, reason, sched.previews(self.preview_scheduler, card, now), changed,
                       context(records, card["record_kind"], card["record_id"]), aliases)

    def next(self, now: datetime) -> Showing | None:
        """The next card to show, or None when the session is done."""
        found = self.queue.next_card(now)
        if found is None:
            return None
        showing = self.show(*found, now)
        showing.counts = self.queue.last_counts
        return showing

    def refresh(self, showing: Showing, now: datetime) -> Showing | None:
        """The same card re-read from the store (after an edit); None if it is gone."""
        rows = self.store.card_rows("key = ? AND retired = 0", [showing.key])
        return self.show(rows[0], showing.reason, now) if rows else None

    def answer(self, showing: Showing, rating: int, now: datetime,
               duration_ms: int) -> sched.Answered:
        """Grade the card shown; committed before this returns.

        Raises:
            CardMoved: another session answered the card since it was shown.
        """
        before = self.queue.before_answer(showing.key, now)
        result = sched.answer(self.conn, self.settings, self.tz, showing.key,
                              showing.card["version"], rating, now, duration_ms, self.live_id)
        self.queue.after_answer(before)
        self.queue.shown(showing.reason)
        self.tally.answered += 1
        self.tally.again += rating == 1
        self.tally.milliseconds += max(0, duration_ms)
        if result.leech:
            self.tally.leeches.append(showing.key)
        self._undo_stack.append((result.review_id, rating, showing.reason))
        self._unfolded += 1
        return result

    def idle(self) -> None:
        """Work that waits until a card is on screen and the learner is reading it.

        Every ``FOLD_EVERY`` answers, this folds the write-ahead log into the
        store (a passive checkpoint, which waits for no one). SQLite would
        otherwise do it inside the commit of the answer that fills the log
        (1,000 pages, about 55 answers), and that answer's next card came
        several times slower. Each answer is committed as before: this moves
        work, it does not defer the commit.
        """
        if self._unfolded < FOLD_EVERY:
            return
        self._unfolded = 0
        try:
            self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.OperationalError as err:
            if not busy(err):  # another program's checkpoint: the next commit may do it
                raise

    def undo(self, now: datetime | None = None) -> dict[str, Any]:
        """Undo this session's last answer (another terminal's answers are not touched).

        Raises:
            NothingToUndo: this session has no answer left to undo.
        """
        if not self._undo_stack:
            raise sched.NothingToUndo("nothing to undo in this session")
        review_id, rating, reason = self._undo_stack[-1]
        try:
            review = sched.undo(self.conn, review_id, now)
        except sched.NothingToUndo:
            gone = self.conn.execute("SELECT live = 0 FROM reviews WHERE id = ?",
                                     [review_id]).fetchone()
            if gone and gone[0]:  # undone elsewhere (a merged log): the tally follows
                self._undo_stack.pop()
                self.queue.shown(reason, undone=True)
                self.tally.answered -= 1
                self.tally.again -= rating == 1
                raise sched.NothingToUndo("your last answer was already undone elsewhere "
                                          "(a merged log)") from None
            raise
        self._undo_stack.pop()
        self.queue.shown(reason, undone=True)
        self.tally.answered -= 1
        self.tally.again -= rating == 1
        self.tally.milliseconds -= review["duration_ms"]
        return review

    def suspend(self, showing: Showing) -> None:
        sched.set_suspended(self.conn, [showing.key], True)

    def bury(self, showing: Showing, now: datetime) -> None:
        sched.bury(self.conn, showing.key, study_day(now, self.tz, self.settings.rollover_hour).end)

    def summary(self, now: datetime) -> Summary:
        counts = self.queue.counts(now)
        return Summary(self.tally.answered, self.tally.again, self.tally.milliseconds / 1000,
                       counts.next_due, self.queue.due_tomorrow(now))
