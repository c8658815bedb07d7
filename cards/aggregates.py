"""Hourly totals of the review history, and each card's tags as rows, kept by SQLite.

``study stats`` needs a year of answers by study day, kind, tag and outcome.
Scanning every answer grows with the history (a million answers a year is
a real learner's few years), so the store keeps totals by UTC hour, and
the figures read at most 8,760 hours a kind and outcome.

Hours, not study days: a study day depends on the time zone and rollover
hour, which the learner may change; an hour does not. A day boundary that
is not on a whole UTC hour (a zone such as Asia/Kolkata) splits one hour,
whose answers ``study.stats`` reads from ``reviews`` itself.

Triggers on ``cards`` and ``reviews`` keep both tables exact whoever writes
(the review session, undo, an import, a merge of another device's history,
the sqlite3 shell):

- ``card_tags`` holds each card's tags and their ancestors (``ussr::party``
  also gives ``ussr``), from the JSON list in ``cards.tags``, with a copy of
  the card's kind, retired, suspended, state and due: the cards of a tag are
  then one index range, as all cards are in ``cards_due``.
- ``review_hours`` holds, for each tag (``''`` for every answer), UTC hour
  (``YYYY-MM-DDTHH``), card kind, whether the card was a review card before
  the answer and whether the answer was not Again: the number of answers and
  their milliseconds. A row of ``reviews`` counts once in each of the card's
  tags and once under ``''``; deleting it takes it out again; a tag added to
  or removed from ``cards.tags`` moves the card's whole history in or out.
  A new card has no answers (``reviews.card_key`` references it), so adding
  one costs two small inserts.

Only reviews that stand count (``reviews.live = 1``): an undo adds a tombstone
(``live = 0``, counted nowhere) and sets its review's ``live`` to 0, which the
update trigger takes out; a merge or replay that rewrites a review's
``state_before`` moves it between was-review cells the same way. Whoever
changes what a row of ``reviews`` means must replace the ``reviews_hours_*``
triggers in a new migration, or call ``rebuild_aggregates`` after such writes;
``rebuild_aggregates`` recounts from ``reviews`` and ``cards`` alone, and a test
compares the kept totals with it.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Collection, Iterable, Iterator

#: The tags of each card in ``cards.tags`` (a JSON list), with every ancestor:
#: for ``a::b::c``, the prefixes ending before each ``::`` and the tag itself.
#: ``json_quote`` escapes quotes and backslashes, and no escape holds ``::``.
_CARD_TAGS = """
SELECT t.value AS tag, {card}.key AS card,
       {card}.kind, {card}.retired, {card}.suspended, {card}.state, {card}.due
FROM {source}json_each({card}.tags) t WHERE t.type = 'text'
"""
_ANCESTORS = """
SELECT substr(t.value, 1, (SELECT SUM(length(s2.value)) FROM json_each(
           '[' || replace(json_quote(t.value), '::', '","') || ']') s2
           WHERE s2.key <= s1.key) + 2 * s1.key) AS tag, {card}.key AS card,
       {card}.kind, {card}.retired, {card}.suspended, {card}.state, {card}.due
FROM {source}json_each({card}.tags) t,
     json_each('[' || replace(json_quote(t.value), '::', '","') || ']') s1
WHERE t.type = 'text' AND instr(t.value, '::')
"""


def _insert_tags(source: str, card: str) -> list[str]:
    """Statements that add the card's tags, then their ancestors (few tags have any)."""
    return [f"INSERT OR IGNORE INTO card_tags {_TAG_COLUMNS} "
            f"{sql.format(source=source, card=card)}" for sql in (_CARD_TAGS, _ANCESTORS)]


def _new_tags(card: str) -> str:
    """The tags (with ancestors) of the card row ``card``, as a subquery of one column."""
    return (f"SELECT tag FROM ({_CARD_TAGS.format(source='', card=card)} UNION "
            f"{_ANCESTORS.format(source='', card=card)})")


#: One answer's place in the totals (``r`` is the row of ``reviews``). ``Rewrite.reviews``
#: does the same in Python for ``rewriting``: change both (tests/test_history.py compares
#: them).
_HOUR = "substr({r}.reviewed_at, 1, 13)"
_KIND = "COALESCE((SELECT c.kind FROM cards c WHERE c.key = {r}.card_key), '')"
_WAS_REVIEW = "COALESCE(json_extract({r}.state_before, '$.state') = 'review', 0)"
_PASSED = "({r}.rating > 1)"


def _place(r: str) -> str:
    """Hour, kind, was-review and passed of the answer in row ``r``."""
    return ", ".join(e.format(r=r) for e in (_HOUR, _KIND, _WAS_REVIEW, _PASSED))
_UPSERT = ("ON CONFLICT DO UPDATE SET answers = answers + excluded.answers, "
           "ms = ms + excluded.ms")
_COLUMNS = "(tag, hour, kind, was_review, passed, answers, ms)"


def _one_answer(row: str, sign: str) -> str:
    """Add (sign '+') or take out (sign '-') one row of reviews, in '' and each tag.

    Only a review that stands counts (``live = 1``): an undo's tombstone and
    the review it cancels count nothing.
    """
    return (f"INSERT INTO review_hours {_COLUMNS} "
            f"SELECT g.tag, {_place(row)}, {sign}1, {sign}COALESCE({row}.duration_ms, 0) "
            f"FROM (SELECT '' AS tag UNION ALL "
            f"SELECT tag FROM card_tags WHERE card = {row}.card_key) g "
            f"WHERE {row}.live = 1 {_UPSERT}")


def _card_history(tags: str, card: str, sign: str) -> str:
    """Add or take out a card's whole history under each of ``tags`` (a subquery)."""
    return (f"INSERT INTO review_hours {_COLUMNS} "
            f"SELECT g.tag, {_place('r')}, {sign}COUNT(*), {sign}COALESCE(SUM(r.duration_ms), 0) "
            f"FROM ({tags}) g, reviews r WHERE r.card_key = {card} AND r.live = 1 "
            f"GROUP BY 1, 2, 3, 4, 5 {_UPSERT}")


_TAG_COLUMNS = "(tag, card, kind, retired, suspended, state, due)"

SCHEMA = """
CREATE TABLE IF NOT EXISTS card_tags (
    tag TEXT NOT NULL, card TEXT NOT NULL, kind TEXT NOT NULL, retired INTEGER NOT NULL,
    suspended INTEGER NOT NULL, state TEXT NOT NULL, due TEXT,
    PRIMARY KEY (card, tag)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS card_tags_cards
    ON card_tags(tag, retired, suspended, state, due, kind);
CREATE TABLE IF NOT EXISTS review_hours (
    tag TEXT NOT NULL, hour TEXT NOT NULL, kind TEXT NOT NULL,
    was_review INTEGER NOT NULL, passed INTEGER NOT NULL,
    answers INTEGER NOT NULL, ms INTEGER NOT NULL,
    PRIMARY KEY (tag, hour, kind, was_review, passed)) WITHOUT ROWID;
"""

TRIGGERS = {
    # a new card has no answers yet (reviews.card_key references cards.key)
    "cards_tags_insert": f"""AFTER INSERT ON cards BEGIN
        {';'.join(_insert_tags('', 'NEW'))};
    END""",
    # a tag removed takes the card's answers out of it; a tag added brings them in
    "cards_tags_update": f"""AFTER UPDATE OF tags ON cards WHEN OLD.tags IS NOT NEW.tags BEGIN
        {_card_history(f"SELECT tag FROM card_tags WHERE card = OLD.key AND tag NOT IN "
                       f"({_new_tags('NEW')})", 'OLD.key', '-')};
        {_card_history(f"{_new_tags('NEW')} EXCEPT SELECT tag FROM card_tags "
                       f"WHERE card = OLD.key", 'NEW.key', '')};
        DELETE FROM card_tags WHERE card = OLD.key AND tag NOT IN ({_new_tags('NEW')});
        {';'.join(_insert_tags('', 'NEW'))};
    END""",
    "cards_tags_state": """AFTER UPDATE OF retired, suspended, state, due ON cards
        WHEN OLD.retired IS NOT NEW.retired OR OLD.suspended IS NOT NEW.suspended
            OR OLD.state IS NOT NEW.state OR OLD.due IS NOT NEW.due BEGIN
        UPDATE card_tags SET retired = NEW.retired, suspended = NEW.suspended,
            state = NEW.state, due = NEW.due WHERE card = NEW.key;
    END""",
    "cards_tags_delete": f"""AFTER DELETE ON cards BEGIN
        {_card_history("SELECT tag FROM card_tags WHERE card = OLD.key", 'OLD.key', '-')};
        DELETE FROM card_tags WHERE card = OLD.key;
    END""",
    "reviews_hours_insert": f"""AFTER INSERT ON reviews BEGIN
        {_one_answer('NEW', '')};
    END""",
    "reviews_hours_delete": f"""AFTER DELETE ON reviews BEGIN
        {_one_answer('OLD', '-')};
    END""",
    "reviews_hours_update": f"""AFTER UPDATE ON reviews BEGIN
        {_one_answer('OLD', '-')};
        {_one_answer('NEW', '')};
    END""",
}


def _statements(script: str) -> list[str]:
    return [s for s in script.split(";\n") if s.strip()]


def install(conn: sqlite3.Connection) -> None:
    """Create the tables and triggers, and fill them from the store (for a migration)."""
    for statement in _statements(SCHEMA):
        conn.execute(statement)
    for name in (*TRIGGERS, "card_tags_history_in", "card_tags_history_out"):
        conn.execute(f"DROP TRIGGER IF EXISTS {name}")
    rebuild_aggregates(conn)
    for name, body in TRIGGERS.items():
        conn.execute(f"CREATE TRIGGER {name} {body}")


def rebuild_aggregates(conn: sqlite3.Connection) -> None:
    """Recount ``card_tags`` and ``review_hours`` from ``cards`` and ``reviews``.

    Exact whatever was written before; one pass over the cards and one over the
    history. Run it inside the caller's transaction.
    """
    conn.execute("DELETE FROM card_tags")
    conn.execute("DELETE FROM review_hours")
    for statement in _insert_tags("cards, ", "cards"):
        conn.execute(statement)
    conn.execute(recount_sql("review_hours"))


def add_card_tags(conn: sqlite3.Connection, after: int) -> None:
    """Give the cards whose rowid is above ``after`` their ``card_tags`` rows, as
    ``cards_tags_insert`` would have one card at a time (for a bulk insert made with
    that trigger dropped: one statement, rows added in key order). Only for cards
    with no answers yet, such as new ones."""
    for statement in _insert_tags("cards, ", "cards"):
        conn.execute(f"{statement} AND cards.rowid > ? ORDER BY 2, 1", [after])


def recount_sql(into: str) -> str:
    """SQL that writes the exact totals, recounted from ``reviews``, into table ``into``."""
    return (f"INSERT INTO {into} {_COLUMNS} "
            f"SELECT g.tag, {_place('r')}, COUNT(*), "
            f"COALESCE(SUM(r.duration_ms), 0) FROM reviews r JOIN cards c ON c.key = r.card_key "
            f"JOIN (SELECT '' AS tag, key AS card FROM cards UNION ALL "
            f"SELECT tag, card FROM card_tags) g ON g.card = r.card_key "
            f"WHERE r.live = 1 GROUP BY 1, 2, 3, 4, 5")



#: The row triggers that ``rewriting`` holds off: a card's state, a review's place.
_ROW_TRIGGERS = ("cards_tags_state", "reviews_hours_update")
#: A review (one that stands: ``live = 1``) whose ``state_before`` a bulk rewrite
#: changes: card key, card kind, ``reviewed_at``, rating, ``duration_ms``, the old and
#: the new ``state_before``.
Rewritten = tuple[str, str, str, int, int | None, str | None, str]
#: A card whose state a bulk rewrite changes: its new ``retired``, ``suspended``,
#: ``state`` and ``due``, then its key.
Restated = tuple[int, int, str, str | None, str]

#: The cards whose copy in ``card_tags`` a bulk rewrite leaves stale, until ``flush``.
_STALE = ("CREATE TEMP TABLE IF NOT EXISTS rewrite_cards (key TEXT PRIMARY KEY, "
          "retired INTEGER, suspended INTEGER, state TEXT, due TEXT) WITHOUT ROWID")
#: A pair of cells of the totals (was-review 0 and 1) is kept as one int: tag, hour
#: and kind numbered (``Rewrite.names``), and passed; the answers that move from
#: was-review 0 to 1 (less those that move back) as one int too,
#: ``answers * _ANSWER + ms`` (a window's ms stay far below ``_ANSWER / 2``).
_TAG_SHIFT, _HOUR_SHIFT, _KIND_SHIFT, _ANSWER_SHIFT = 42, 22, 2, 42
_ANSWER = 1 << _ANSWER_SHIFT


def was_review(state_before: str | None) -> int:
    """``_WAS_REVIEW`` in Python: 1 if the cached state before an answer is ``review``."""
    if not state_before:
        return 0
    if state_before.startswith('{"state": '):  # json.dumps' form: no parse needed
        return int(state_before[10:18] == '"review"')
    return int(json.loads(state_before).get("state") == "review")


class Rewrite:
    """What ``rewriting`` needs told: the cards and reviews rewritten.

    The cards' new values wait in a temporary table and go to ``card_tags`` in
    one statement at ``flush``. The moves of the totals are summed by cell in
    memory and written when ``CELLS`` cells are kept and at the end: each cell
    once a window (writing a cell was most of their cost), memory bounded.
    """

    #: the pairs of cells of moved totals kept before they are written (about 120 bytes
    #: each)
    CELLS = 100_000

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        #: how the hourly totals move, by pair of cells (``_TAG_SHIFT``), not yet written
        self.cells: dict[int, int] = {}
        #: the numbers of the tags, hours and kinds in ``cells``
        self.names: tuple[dict[str, int], dict[str, int], dict[str, int]] = ({}, {}, {})
        #: rows rewritten so far, and the indexes held off (name, SQL), by table
        self.rewritten: dict[str, int] = {}
        self.held: dict[str, list[tuple[str, str]]] = {}
        #: how many cards there are, once asked
        self.total: int | None = None
        conn.execute(_STALE)

    def cards(self, states: Iterable[Restated]) -> None:
        """These cards' ``retired``, ``suspended``, ``state`` and ``due`` (then key) were
        rewritten to these values: their rows in ``card_tags`` follow at ``flush``."""
        self.conn.executemany("INSERT OR REPLACE INTO temp.rewrite_cards "
                              "(retired, suspended, state, due, key) VALUES (?, ?, ?, ?, ?)",
                              states)

    def reviews(self, reviews: Collection[Rewritten]) -> None:
        """These reviews get (or got) their new ``state_before``; the totals follow."""
        moved = [(review, old) for review in reviews
                 if (old := was_review(review[5])) != was_review(review[6])]
        if not moved:
            return
        keys = json.dumps(sorted({review[0] for review, _old in moved}))
        tag_names, hour_names, kind_names = self.names
        untagged = [tag_names.setdefault("", len(tag_names)) << _TAG_SHIFT]
        tags: dict[str, list[int]] = {}
        for card, tag in self.conn.execute("SELECT card, tag FROM card_tags WHERE card IN "
                                           "(SELECT value FROM json_each(?))", [keys]):
            tags.setdefault(card, [*untagged]).append(
                tag_names.setdefault(tag, len(tag_names)) << _TAG_SHIFT)
        cells = self.cells
        for (key, kind, at, rating, duration, _before, _after), old in moved:
            place = (hour_names.setdefault(at[:13], len(hour_names)) << _HOUR_SHIFT
                     | kind_names.setdefault(kind, len(kind_names)) << _KIND_SHIFT
                     | (rating > 1))
            # a review leaves one was-review cell for the other: kept as the flow into 1
            move = -_ANSWER - (duration or 0) if old else _ANSWER + (duration or 0)
            for tag in tags.get(key, untagged):
                cells[tag | place] = cells.get(tag | place, 0) + move
        if len(cells) >= self.CELLS or len(hour_names) >= 1 << (_TAG_SHIFT - _HOUR_SHIFT) \
                or len(kind_names) >= 1 << (_HOUR_SHIFT - _KIND_SHIFT):
            self._totals()

    def _totals(self) -> None:
        """Write the moves of the totals kept so far."""
        tags, hours, kinds = ({n: name for name, n in numbered.items()}
                              for numbered in self.names)
        hour_mask, kind_mask = (1 << (_TAG_SHIFT - _HOUR_SHIFT)) - 1, \
            (1 << (_HOUR_SHIFT - _KIND_SHIFT)) - 1

        def rows() -> Iterator[tuple[str, str, str, int, int, int, int]]:
            for cell, flow in self.cells.items():
                answers = (flow + _ANSWER // 2) >> _ANSWER_SHIFT
                ms = flow - answers * _ANSWER
                if answers or ms:
                    place = (tags[cell >> _TAG_SHIFT], hours[cell >> _HOUR_SHIFT & hour_mask],
                             kinds[cell >> _KIND_SHIFT & kind_mask])
                    yield (*place, 0, cell & 1, -answers, -ms)
                    yield (*place, 1, cell & 1, answers, ms)

        self.conn.executemany(
            f"INSERT INTO review_hours {_COLUMNS} VALUES (?, ?, ?, ?, ?, ?, ?) {_UPSERT}",
            rows())
        self.cells.clear()
        for numbered in self.names:
            numbered.clear()

    def many(self, table: str, rows: int, columns: Collection[str]) -> None:
        """``rows`` rows of ``table`` (``cards``, or ``card_tags`` counted by card) are
        about to be rewritten in ``columns``: once they come to an eighth of the cards,
        the table's indexes on those columns are dropped until the rewrite ends, then
        made again from their SQL (for a rewrite of much of a table, less work than
        keeping them up to date: at 167,804 cards, 0.3 s an index against 2 s)."""
        self.rewritten[table] = self.rewritten.get(table, 0) + rows
        if table in self.held:
            return
        if self.total is None:
            self.total = self.conn.execute("SELECT COUNT(*) FROM cards").fetchone()[0]
        if self.rewritten[table] * 8 < self.total:
            return
        self.held[table] = self.conn.execute(
            "SELECT m.name, m.sql FROM sqlite_master m WHERE m.type = 'index' "
            "AND m.tbl_name = ? AND m.sql IS NOT NULL AND EXISTS (SELECT 1 FROM "
            "pragma_index_info(m.name) i WHERE i.name IN (SELECT value FROM json_each(?))) "
            "ORDER BY m.name", [table, json.dumps(sorted(columns))]).fetchall()
        for name, _sql in self.held[table]:
            self.conn.execute(f"DROP INDEX {name}")

    def flush(self) -> None:
        """Write the moves of the totals and the cards' rows in ``card_tags``."""
        self._totals()
        stale = self.conn.execute("SELECT COUNT(*) FROM temp.rewrite_cards").fetchone()[0]
        self.many("card_tags", stale, ("retired", "suspended", "state", "due"))
        self.conn.execute(
            "UPDATE card_tags SET retired = t.retired, suspended = t.suspended, "
            "state = t.state, due = t.due FROM temp.rewrite_cards t WHERE t.key = card_tags.card")
        self.conn.execute("DELETE FROM temp.rewrite_cards")

    def close(self) -> None:
        """Make the indexes held off again, and drop the temporary table."""
        for held in self.held.values():
            for _name, sql in held:
                self.conn.execute(sql)
        self.held.clear()
        self.conn.execute("DROP TABLE IF EXISTS temp.rewrite_cards")


@contextlib.contextmanager
def held_off(conn: sqlite3.Connection, names: Collection[str]) -> Iterator[None]:
    """Inside the caller's write transaction: without the schema objects ``names``
    (indexes, triggers), then each made again from its own SQL, exactly as it was.

    They are made again on the way out, even after an error while the transaction is
    still open; if SQLite rolled it back already, that brought them back.
    """
    saved = conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE name IN "
        "(SELECT value FROM json_each(?)) ORDER BY rowid", [json.dumps(sorted(names))]
    ).fetchall()
    for kind, name, _sql in saved:
        conn.execute(f'DROP {kind.upper()} "{name}"')
    try:
        yield
    finally:
        if conn.in_transaction:
            for _kind, _name, sql in saved:
                conn.execute(sql)


@contextlib.contextmanager
def rewriting(conn: sqlite3.Connection) -> Iterator[Rewrite]:
    """Rewrite many rows of ``cards`` and ``reviews`` with their row triggers held off,
    and bring ``card_tags`` and ``review_hours`` up to date in bulk.

    For rewrites of thousands of rows (``study doctor``), where the triggers'
    lookups, run for each row, were most of the time. Inside, change only
    cards' ``retired``, ``suspended``, ``state`` and ``due`` (never their tags),
    giving the new values to ``Rewrite.cards``; and only reviews' ``state_before``,
    named with the old and new one to ``Rewrite.reviews``, and columns the
    totals do not read. The totals move by the answers whose was-review cell
    changes, summed by cell and written every ``Rewrite.CELLS`` cells and at
    the end. When much of ``cards`` or ``card_tags`` is rewritten, their indexes
    on the rewritten columns are held off too (``Rewrite.many``). Call inside a
    write transaction: the triggers and indexes are dropped and made again
    within it, so no other connection sees them gone, and a rollback brings
    them back.
    """
    with held_off(conn, _ROW_TRIGGERS):
        rewrite = Rewrite(conn)
        try:
            yield rewrite
            rewrite.flush()
        finally:
            if conn.in_transaction:  # else SQLite rolled back, indexes and all
                rewrite.close()
