"""The store's schema, as ordered migrations.

Each migration is a plain function applied once, in order, and recorded by
sqlite-utils' ``Migrations`` helper. Never edit a released migration: add a
new one. ``SCHEMA_VERSION`` is the number of migrations; it is also written to
``PRAGMA user_version`` so that a newer store can be recognised and refused.
"""

from __future__ import annotations

import binascii
import hashlib
import itertools
import json
from collections.abc import Iterator

from sqlite_utils import Database, Migrations

from cards.db import SCHEMA_VERSION

migrations = Migrations("secretariat")

_COMMON = "source TEXT, note TEXT, created TEXT NOT NULL, updated TEXT NOT NULL"
_REF = "DEFERRABLE INITIALLY DEFERRED"


def _run(db: Database, script: str) -> None:
    """Run statements one by one (``executescript`` would commit the migration's transaction)."""
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


@migrations()
def m001_initial(db: Database) -> None:
    """Records, tags, cards with their scheduling state, reviews, config."""
    _run(db, f"""
    CREATE TABLE people (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, aliases TEXT, born TEXT, died TEXT, {_COMMON});
    CREATE TABLE organs (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, short TEXT, kind TEXT,
        part_of TEXT REFERENCES organs(id) {_REF},
        succeeded_by TEXT REFERENCES organs(id) {_REF},
        founded TEXT, dissolved TEXT, {_COMMON});
    CREATE TABLE offices (
        id TEXT PRIMARY KEY, title TEXT NOT NULL,
        organ TEXT REFERENCES organs(id) {_REF}, {_COMMON});
    CREATE TABLE tenures (
        id TEXT PRIMARY KEY,
        person TEXT NOT NULL REFERENCES people(id) {_REF},
        office TEXT NOT NULL REFERENCES offices(id) {_REF},
        start TEXT NOT NULL, "end" TEXT, acting INTEGER NOT NULL DEFAULT 0, {_COMMON});
    CREATE INDEX tenures_office ON tenures(office);
    CREATE INDEX tenures_person ON tenures(person);
    CREATE TABLE events (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, date TEXT, start TEXT, "end" TEXT,
        place TEXT, summary TEXT, {_COMMON});
    CREATE TABLE event_people (
        event TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE {_REF},
        person TEXT NOT NULL REFERENCES people(id) {_REF},
        position INTEGER NOT NULL, PRIMARY KEY (event, person));
    CREATE INDEX event_people_person ON event_people(person);
    CREATE TABLE event_organs (
        event TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE {_REF},
        organ TEXT NOT NULL REFERENCES organs(id) {_REF},
        position INTEGER NOT NULL, PRIMARY KEY (event, organ));
    CREATE INDEX event_organs_organ ON event_organs(organ);
    CREATE TABLE facts (
        id TEXT PRIMARY KEY, question TEXT NOT NULL, answer TEXT NOT NULL,
        reverse INTEGER NOT NULL DEFAULT 0, {_COMMON});
    CREATE TABLE tags (
        kind TEXT NOT NULL, record TEXT NOT NULL, tag TEXT NOT NULL, position INTEGER NOT NULL,
        PRIMARY KEY (kind, record, tag));
    CREATE INDEX tags_tag ON tags(tag);
    CREATE TABLE cards (
        key TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        record_kind TEXT NOT NULL,
        record_id TEXT NOT NULL,
        template TEXT NOT NULL,
        question TEXT NOT NULL,
        answer TEXT NOT NULL,
        answer_hash TEXT NOT NULL,
        siblings TEXT NOT NULL,
        tags TEXT NOT NULL,
        position INTEGER NOT NULL,
        retired INTEGER NOT NULL DEFAULT 0,
        created TEXT NOT NULL,
        updated TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'new',
        step INTEGER,
        stability REAL,
        difficulty REAL,
        due TEXT,
        last_review TEXT,
        reps INTEGER NOT NULL DEFAULT 0,
        lapses INTEGER NOT NULL DEFAULT 0,
        suspended INTEGER NOT NULL DEFAULT 0,
        leech INTEGER NOT NULL DEFAULT 0,
        buried_until TEXT,
        reviewed_hash TEXT,
        version INTEGER NOT NULL DEFAULT 0);
    CREATE INDEX cards_queue ON cards(retired, suspended, state, due, buried_until);
    CREATE INDEX cards_new ON cards(retired, suspended, state, position, buried_until);
    CREATE INDEX cards_record ON cards(record_kind, record_id);
    CREATE TABLE card_groups (
        grp TEXT NOT NULL, key TEXT NOT NULL REFERENCES cards(key) ON DELETE CASCADE,
        PRIMARY KEY (grp, key));
    CREATE INDEX card_groups_key ON card_groups(key);
    CREATE TABLE reviews (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        card_key TEXT NOT NULL REFERENCES cards(key),
        rating INTEGER NOT NULL,
        reviewed_at TEXT NOT NULL,
        duration_ms INTEGER NOT NULL,
        state_before TEXT NOT NULL,
        state_after TEXT NOT NULL,
        interval_days REAL NOT NULL,
        buried TEXT NOT NULL DEFAULT '[]');
    CREATE INDEX reviews_card ON reviews(card_key, id);
    CREATE INDEX reviews_time ON reviews(reviewed_at);
    CREATE TABLE config (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """)


@migrations()
def m002_fields_v2(db: Database) -> None:
    """Optional authoring fields of starter deck v2: summaries, office succession,
    tenure titles and informal holders, authored event and reverse questions."""
    _run(db, f"""
    ALTER TABLE people ADD COLUMN summary TEXT;
    ALTER TABLE organs ADD COLUMN summary TEXT;
    ALTER TABLE offices ADD COLUMN succeeded_by TEXT REFERENCES offices(id) {_REF};
    ALTER TABLE tenures ADD COLUMN informal INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE tenures ADD COLUMN title TEXT;
    ALTER TABLE events ADD COLUMN question TEXT;
    ALTER TABLE facts ADD COLUMN reverse_question TEXT;
    """)


#: Reviews made before the event log get ids hashed from this and their content:
#: the same review in two copies of one store gets the same id, so merging is a union.
LEGACY_SALT = b"secretariat legacy review\x1f"


def _legacy_id(row: tuple[object, ...]) -> str:
    text = "\x1f".join(map(str, row)).encode()
    return hashlib.blake2b(LEGACY_SALT + text, digest_size=16).hexdigest()

REVIEWS_TABLE = """
    CREATE TABLE reviews (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id TEXT NOT NULL UNIQUE DEFAULT (lower(hex(randomblob(16)))),
        card_key TEXT NOT NULL REFERENCES cards(key),
        kind TEXT NOT NULL DEFAULT 'review' CHECK (kind IN ('review', 'undo')),
        rating INTEGER CHECK (rating BETWEEN 1 AND 4),
        reviewed_at TEXT NOT NULL,
        duration_ms INTEGER,
        device TEXT NOT NULL DEFAULT 'legacy',
        origin TEXT NOT NULL DEFAULT 'terminal',
        cancels TEXT,
        anki_revlog_id INTEGER,
        live INTEGER NOT NULL DEFAULT 1,
        session TEXT,
        state_before TEXT,
        state_after TEXT,
        interval_days REAL,
        buried TEXT NOT NULL DEFAULT '[]',
        CHECK ((kind = 'review') = (rating IS NOT NULL)),
        CHECK ((kind = 'undo') = (cancels IS NOT NULL)))
"""


@migrations()
def m003_review_events(db: Database) -> None:
    """The review history becomes a log of events that can be merged.

    Each row of ``reviews`` is an event with a global ``event_id``, its
    ``device`` and ``origin``: a review (``kind = 'review'``, with a rating)
    or an undo (``kind = 'undo'``), a tombstone naming in ``cancels`` the
    ``event_id`` of the review it cancels. ``live`` is 1 for a review that
    stands, 0 for an undone review and for a tombstone: counts of answers read
    ``live = 1``. ``state_before``, ``state_after`` and ``interval_days`` are
    a cache of the replay (NULL for tombstones). Older reviews keep their
    order, get ids derived from their content (two copies of one store agree),
    device ``legacy`` and origin ``terminal``. ``sessions`` lists the review
    sessions that are running, so that ``study undo`` leaves their answers alone.
    """
    db.execute("ALTER TABLE reviews RENAME TO reviews_old")
    _run(db, REVIEWS_TABLE)
    rows = db.execute("SELECT id, card_key, rating, reviewed_at, duration_ms, state_before, "
                      "state_after, interval_days, buried FROM reviews_old ORDER BY id")
    conn = db.conn
    while batch := rows.fetchmany(10_000):
        conn.executemany(
            "INSERT INTO reviews (id, event_id, card_key, kind, rating, reviewed_at, duration_ms, "
            "device, origin, live, state_before, state_after, interval_days, buried) "
            "VALUES (?, ?, ?, 'review', ?, ?, ?, 'legacy', 'terminal', 1, ?, ?, ?, ?)",
            [(r[0], _legacy_id(r[:5]), *r[1:]) for r in batch])
    _run(db, """
    DROP TABLE reviews_old;
    CREATE INDEX reviews_card ON reviews(card_key, reviewed_at);
    CREATE INDEX reviews_time ON reviews(reviewed_at, live);
    CREATE UNIQUE INDEX reviews_anki ON reviews(anki_revlog_id) WHERE anki_revlog_id IS NOT NULL;
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY, pid INTEGER NOT NULL, host TEXT NOT NULL,
        started TEXT NOT NULL, heartbeat TEXT NOT NULL);
    """)
    if db.execute("SELECT 1 FROM reviews LIMIT 1").fetchone():
        # the cached states came from py-fsrs' unseeded fuzz: the study layer replays
        # every card once (study.history.settle) so that the cache is the replay
        db.execute("INSERT OR REPLACE INTO config (key, value) VALUES ('replay_pending', 'true')")


@migrations()
def m004_queue_order(db: Database) -> None:
    """An index in the order the queue shows cards: by due time, then position.

    ``cards_queue`` ended at ``due``, so picking the next of thousands of cards
    due at the same time sorted all of them, for every card shown; walking
    ``(state, due, position)`` reads one row. ``buried_until`` stays last so
    that the counts need no table lookups.
    """
    _run(db, """
    DROP INDEX IF EXISTS cards_queue;
    CREATE INDEX IF NOT EXISTS cards_due
        ON cards(retired, suspended, state, due, position, buried_until);
    """)


@migrations()
def m005_history_totals(db: Database) -> None:
    """Hourly totals of the answers and a row per card and tag, kept by triggers.

    ``study stats`` read every answer of the year; it now reads the totals
    (see ``cards.aggregates``, which fills them from the existing history),
    and its card figures read one index whether narrowed by kind, tag or not.
    """
    from cards.aggregates import install

    install(db.conn)
    # the card figures of `study stats`, narrowed or not, read an index each
    _run(db, """
    CREATE INDEX IF NOT EXISTS cards_leech ON cards(key) WHERE leech = 1;
    CREATE INDEX IF NOT EXISTS cards_kind ON cards(kind, retired, suspended, state, due);
    """)


#: Card keys whose template was renamed: ``(family, old template, new template)``.
#: Template names are unique across families; the organ's "successor" clashed
#: with the succession family's.
RENAMED_TEMPLATES = (("organ", "successor", "replaced-by"),)

#: Set by a migration when the stored cards must be regenerated from the records
#: (``Store.regenerate_if_stale``); the migration itself never runs the generator.
STALE_CARDS = "cards_stale"

#: The fingerprint of the code that made the stored cards (``cards.generate.maker``),
#: kept by ``Store.sync_cards``: an import that changes no record skips making the
#: cards only when they were made by this very code.
CARDS_MAKER = "cards_maker"


@migrations()
def m006_card_families(db: Database) -> None:
    """Card families: renamed card keys, answer hashes made from facts.

    Keys of renamed templates are renamed in ``cards``, ``card_groups`` and
    ``reviews`` (history kept). Answer hashes are now made from the facts an
    answer derives from: every card's hash is cleared, and a card reviewed
    since its answer last changed has its reviewed hash cleared too, so that
    the next regeneration adopts the new hash without showing the card as
    changed. The hourly totals and card tags are recounted under the new keys.
    Depends on no other migration's number.
    """
    from cards.aggregates import rebuild_aggregates

    # the keys are referenced by card_groups and reviews: check them at commit
    db.execute("PRAGMA defer_foreign_keys = ON")
    for family, old, new in RENAMED_TEMPLATES:
        prefix, suffix = f"{family}:", f":{old}"
        where = "substr({col}, 1, :plen) = :prefix AND substr({col}, -:slen) = :suffix"
        renamed = "substr({col}, 1, length({col}) - :slen) || :new"
        params = {"prefix": prefix, "plen": len(prefix), "suffix": suffix, "slen": len(suffix),
                  "new": f":{new}"}
        db.execute(f"UPDATE cards SET key = {renamed.format(col='key')}, template = :template "
                   f"WHERE {where.format(col='key')}", {**params, "template": new})
        db.execute(f"UPDATE card_groups SET key = {renamed.format(col='key')} "
                   f"WHERE {where.format(col='key')}", params)
        db.execute(f"UPDATE reviews SET card_key = {renamed.format(col='card_key')} "
                   f"WHERE {where.format(col='card_key')}", params)
    db.execute("UPDATE cards SET reviewed_hash = CASE WHEN reviewed_hash = answer_hash "
               "THEN '' ELSE reviewed_hash END, answer_hash = ''")
    if db.execute("SELECT 1 FROM cards LIMIT 1").fetchone():  # a new store has none yet
        db.execute("INSERT INTO config (key, value) VALUES (?, 'true') "
                   "ON CONFLICT(key) DO UPDATE SET value = excluded.value", [STALE_CARDS])
    rebuild_aggregates(db.conn)


#: Set by ``Store.sync_cards`` to the card maker's fingerprint when ``gate_terms`` holds
#: the terms of exactly the cards made with the stored cards; removed by any card sync
#: that does not keep it, so that the next import makes every card (and the index) again.
GATE_INDEX = "gate_index"
#: True when ``gate_terms`` keeps every card's answer (``a:``): only when some card is
#: written by hand (a fact), since only then can an answer leak into a question. Set by
#: a full card sync; an incremental one keeps it as it is.
GATE_ANSWERS = "gate_answers"


@migrations()
def m007_gate_index(db: Database) -> None:
    """What an import needs to make only the cards a change can reach.

    ``gate_terms`` holds, for every card the families made at the last full
    generation (those the quality gate dropped too), the terms through which
    cards act on one another (``cards.incremental``): its records' groups, the
    entity it answers and those it mentions, its normalised question (with
    its answer, if the card passed the giveaway check) and answer. Indexes on
    the reverse links that an import follows (offices and organs that a record
    succeeds, organs that are part of it) and on the cards' order. An older
    store has no index yet: its next import makes every card, as before, and
    fills it.
    """
    _run(db, """
    CREATE TABLE gate_terms (term TEXT NOT NULL, key TEXT NOT NULL, answer TEXT,
                             PRIMARY KEY (term, key)) WITHOUT ROWID;
    CREATE INDEX gate_terms_key ON gate_terms(key);
    CREATE INDEX offices_succeeded_by ON offices(succeeded_by) WHERE succeeded_by IS NOT NULL;
    CREATE INDEX organs_succeeded_by ON organs(succeeded_by) WHERE succeeded_by IS NOT NULL;
    CREATE INDEX organs_part_of ON organs(part_of) WHERE part_of IS NOT NULL;
    CREATE INDEX cards_position ON cards(position);
    """)


def asked_term(question: str) -> str:
    """The ``gate_terms`` term of a normalised question that a card asks: ``q:`` and a
    96-bit digest of it (16 characters, where questions take 60 to 90), written for
    every card made; equal questions, and only they, get equal terms."""
    digest = hashlib.blake2b(question.encode(), digest_size=12).digest()
    return "q:" + binascii.b2a_base64(digest, newline=False).decode()


#: The gate index's tables as m008 makes them (``cards.store.Store._index`` writes them).
GATE_TABLES = """
    CREATE TABLE gate_cards (id INTEGER PRIMARY KEY, key TEXT NOT NULL, answer TEXT,
                             terms TEXT NOT NULL);
    CREATE INDEX gate_cards_key ON gate_cards(key);
    CREATE TABLE gate_terms (term TEXT NOT NULL, card INTEGER NOT NULL,
                             PRIMARY KEY (term, card)) WITHOUT ROWID;
"""


@migrations()
def m008_compact_card_index(db: Database) -> None:
    """Fewer bytes written per card: ``card_groups`` in one tree, the gate index by number.

    ``card_groups`` was a rowid table with an index on its primary key and another
    on its keys: three trees, each holding the card's key. It is now one tree
    (``WITHOUT ROWID``, keyed by group then card), and a card's groups are read
    from its own ``siblings`` (the same groups, kept by the same writes). It has
    no foreign key to ``cards`` any more: a copy of the cards' siblings, it costs
    a look-up in ``cards`` for each row written, and without an index by card a
    change of a card's key would scan it (cards are never deleted; a migration
    that renames keys renames them here too, as m006 did).

    ``gate_terms`` (term, key, answer) and its index by key wrote each card's key
    twice for each of its terms, and each ``q:`` term held the card's whole
    normalised question. Now ``gate_cards`` has a row per card made, numbered
    in the order written: its key, the answer that goes with its question (if
    asked) and its terms (a JSON list); ``gate_terms`` maps each term to those
    numbers; a ``q:`` term is a digest of the question (``asked_term``). The
    index is converted in place, so a store's gate index stays current.
    """
    _run(db, """
    CREATE TABLE card_groups_new (
        grp TEXT NOT NULL, key TEXT NOT NULL,
        PRIMARY KEY (grp, key)) WITHOUT ROWID;
    INSERT INTO card_groups_new (grp, key) SELECT grp, key FROM card_groups ORDER BY grp, key;
    DROP TABLE card_groups;
    ALTER TABLE card_groups_new RENAME TO card_groups;
    """)
    db.execute("ALTER TABLE gate_terms RENAME TO gate_terms_old")
    db.execute("DROP INDEX gate_terms_key")
    _run(db, GATE_TABLES)

    def cards() -> Iterator[tuple[str, str | None, str]]:
        old = db.execute("SELECT key, term, answer FROM gate_terms_old ORDER BY key, term")
        for key, rows in itertools.groupby(old, key=lambda r: r[0]):
            terms, answer = [], None
            for _, term, given in rows:
                if term.startswith("q:"):
                    term, answer = asked_term(term[2:]), given
                terms.append(term)
            yield key, answer, json.dumps(terms)

    db.conn.executemany("INSERT INTO gate_cards (key, answer, terms) VALUES (?, ?, ?)", cards())
    _run(db, """
    INSERT INTO gate_terms (term, card) SELECT t.value, c.id FROM gate_cards c, json_each(c.terms) t
        ORDER BY 1, 2;
    DROP TABLE gate_terms_old;
    """)


MIGRATIONS = [m001_initial, m002_fields_v2, m003_review_events, m004_queue_order,
              m005_history_totals, m006_card_families, m007_gate_index,
              m008_compact_card_index]
assert len(MIGRATIONS) == SCHEMA_VERSION, "bump cards.db.SCHEMA_VERSION with each migration"
