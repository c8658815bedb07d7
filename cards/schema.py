"""The store's schema, as ordered migrations.

Each migration is a plain function applied once, in order, and recorded by
sqlite-utils' ``Migrations`` helper. Never edit a released migration: add a
new one. ``SCHEMA_VERSION`` is the number of migrations; it is also written to
``PRAGMA user_version`` so that a newer store can be recognised and refused.
"""

from __future__ import annotations

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


#: Card keys whose template was renamed: ``(family, old template, new template)``.
#: Template names are unique across families; the organ's "successor" clashed
#: with the succession family's.
RENAMED_TEMPLATES = (("organ", "successor", "replaced-by"),)

#: Set by a migration when the stored cards must be regenerated from the records
#: (``Store.regenerate_if_stale``); the migration itself never runs the generator.
STALE_CARDS = "cards_stale"


@migrations()
def m_card_keys(db: Database) -> None:
    """Card families: renamed card keys, and answer hashes made from facts.

    Keys of renamed templates are renamed in ``cards``, ``card_groups`` and
    ``reviews`` (history kept). Answer hashes are now made from the facts an
    answer derives from: every card's hash is cleared, and a card reviewed
    since its answer last changed has its reviewed hash cleared too, so that
    the next regeneration adopts the new hash without showing the card as
    changed. Depends on no other migration's number.
    """
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
    db.execute("INSERT INTO config (key, value) VALUES (?, 'true') "
               "ON CONFLICT(key) DO UPDATE SET value = excluded.value", [STALE_CARDS])


MIGRATIONS = [m001_initial, m002_fields_v2, m_card_keys]
assert len(MIGRATIONS) == SCHEMA_VERSION, "bump cards.db.SCHEMA_VERSION with each migration"
