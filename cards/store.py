"""The fact store: one SQLite file, opened through sqlite-utils.

``Store.open`` applies pending migrations (after a backup copy of an older
store), refuses a store written by a newer version, and sets foreign keys,
WAL journalling and a busy timeout. Writes go through ``transaction()``,
which takes the write lock at once (``BEGIN IMMEDIATE``) so that two
processes never deadlock upgrading a read lock.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from cards import schema
from cards.aggregates import add_card_tags, held_off
from cards.db import BUSY_TIMEOUT_MS, LOCKED, SCHEMA_VERSION, busy, iso, rollback, store_failure
from cards.errors import RecordInUse, StoreError, UnknownRecord
from cards.files import file_kind
from cards.gate import GateResult
from cards.generate import CardSpec, Records, maker, verdicts
from cards.records import KINDS, Kind, Record
from cards.registry import FAMILIES


def _check_access(p: Path) -> None:
    """Refuse, in one line, a store that cannot be read or written, or a missing folder."""
    folder = p.parent if str(p.parent) else Path(".")
    if p.is_dir():
        raise StoreError(f"{p}: is a directory, expected a store file")
    if p.exists() and not p.is_file():  # SQLite would put its journal beside it
        raise StoreError(f"{p}: not a regular file ({file_kind(p)}); a store is a regular file")
    if not folder.is_dir():
        what = "does not exist" if not folder.exists() else "is not a folder"
        raise StoreError(f"{p}: the folder {folder} {what}; create it first, or choose "
                         f"another path with --db")
    if p.exists():
        if not os.access(p, os.R_OK):
            raise StoreError(f"{p}: permission denied: the store cannot be read (its mode "
                             f"forbids it); fix it with chmod u+rw")
        if not os.access(p, os.W_OK):
            raise StoreError(f"{p}: the store is read-only; Secretariat needs to write to it")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise StoreError(f"{p}: cannot write in {folder}; Secretariat keeps its journal next "
                         f"to the store, so the folder must be writable")


def _columns(kind: Kind) -> list[str]:
    return [f.name for f in kind.all_fields if f.name != "tags" and f.type != "refs"]


_LINKS = {("event", "people"): ("event_people", "person"),
          ("event", "organs"): ("event_organs", "organ")}


#: At most this many values in one ``IN (...)`` list.
CHUNK = 500


def _chunked_rows(conn: sqlite3.Connection, sql: str, values: list[Any]) -> Iterator[Any]:
    """Rows of ``sql`` (whose ``{}`` takes a list of ``?``) for ``values``, a chunk at a time."""
    for i in range(0, len(values), CHUNK):
        part = values[i:i + CHUNK]
        yield from conn.execute(sql.format(", ".join("?" * len(part))), part)


def _chunked(conn: sqlite3.Connection, sql: str, values: list[Any]) -> list[Any]:
    """The first column of ``_chunked_rows``."""
    return [r[0] for r in _chunked_rows(conn, sql, values)]


def json_strings(texts: tuple[str, ...]) -> str:
    """``json.dumps(texts)`` for a tuple of strings, in half the time (the same text:
    the encoder's own string escaping, joined as dumps joins a list)."""
    return "[" + ", ".join(map(encode_basestring_ascii, texts)) + "]"


#: From this many new cards (and more new cards than stored ones), ``sync_cards``
#: writes them with the indexes of the card tables dropped and made again after.
BULK_CARDS = 5000

#: The indexes that new cards enter at random places (by record id, by card key), which
#: a bulk write of new cards drops and makes again; new cards enter the others at the
#: end (by position) or at one of a few places (by kind), which is cheap.
_BULK_DROPPED = ("cards_record", "card_tags_cards", "cards_tags_insert")

#: About how many cards a record makes (3.3 for the benchmark's tenures with their
#: people, offices and organs; 3.5 for the starter deck): a progress bar's guess.
CARDS_A_RECORD = 3.4

#: New cards (and their terms) are written this many at a time.
WRITE_BATCH = 2000

#: The columns of a stored card that making it again compares (the key first).
_COMPARED = "key, question, answer, answer_hash, siblings, tags, retired"

_INSERT_CARD = ("INSERT INTO cards (key, kind, record_kind, record_id, template, question, "
                "answer, answer_hash, siblings, tags, position, created, updated) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")

#: A card's terms in the gate index (``cards.incremental.terms``): (term, answer).
Terms = Iterable[tuple[str, "str | None"]]

_INSERT_GATE_CARD = "INSERT INTO gate_cards (id, key, answer, terms) VALUES (?, ?, ?, ?)"

#: The terms of the cards numbered after ``?`` into ``gate_terms``, in the table's order.
_INSERT_GATE_TERMS = ("INSERT OR IGNORE INTO gate_terms (term, card) SELECT t.value, c.id "
                      "FROM gate_cards c, json_each(c.terms) t WHERE c.id > ? ORDER BY 1, 2")


def _gate_card(number: int, key: str, terms: Terms) -> tuple[int, str, str | None, str] | None:
    """A card's row of ``gate_cards`` (``schema.m008_compact_card_index``): its number,
    key, the answer given with its question (its ``q:`` term, if asked) and its terms
    as a JSON list; None for a card without terms."""
    texts = []
    answer = None
    for term, given in terms:
        texts.append(term)
        if given is not None:
            answer = given
    return (number, key, answer, json_strings(tuple(texts))) if texts else None


class Store:
    """The fact store over one SQLite database."""

    def __init__(self, db: Database, path: str) -> None:
        self.db = db
        self.path = path
        self.created = False  # True when ``open`` created the store (and seeded it)

    # -- opening -----------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str],
             seed: Callable[[Store], object] | None = None) -> Store:
        """Open (or create) the store at ``path`` and bring its schema up to date.

        A new store (no file, a zero-byte file, or one whose creation never
        committed) is created in one transaction with whatever ``seed`` writes
        into it, so that a run killed half-way leaves a store that the next run
        creates afresh; ``created`` says whether this call created it.

        Raises:
            StoreError: the file is not a Secretariat store, cannot be read or
                written, its folder is missing or not writable, it is damaged,
                or it was written by a newer version.
        """
        path = str(path)
        if path != ":memory:":
            _check_access(Path(path))
        try:
            conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000,
                                   check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as err:
            if busy(err):
                raise StoreError(f"{path}: {LOCKED}; nothing was changed") from None
            what = "is damaged" if "malformed" in str(err) else "is not a Secretariat store"
            raise StoreError(f"{path}: {what} ({err}); nothing was changed") from None
        if tables and "_sqlite_migrations" not in tables:
            conn.close()
            raise StoreError(f"{path}: an SQLite file, but not a Secretariat store; "
                             f"choose another path with --db")
        if version > SCHEMA_VERSION:
            conn.close()
            raise StoreError(
                f"{path}: the store has schema version {version}, this version of Secretariat "
                f"knows up to {SCHEMA_VERSION}; upgrade Secretariat to use it")
        store = None
        try:
            if path != ":memory:":
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA cache_size = -32000")  # 32 MB: big imports stay in memory
            db = Database(conn)
            store = cls(db, path)
            pending = schema.migrations.pending(db)
            if pending and version > 0 and path != ":memory:":
                # a consistent copy (WAL content included) before any migration runs
                backup = sqlite3.connect(f"{path}.v{version}.bak")
                with backup:
                    conn.backup(backup)
                backup.close()
            if pending:
                # All pending migrations in one transaction, under the write lock:
                # apply() reads what is pending again under the lock (another
                # process may have migrated meanwhile) and runs each migration
                # with its record in a savepoint of this transaction.
                conn.execute("BEGIN IMMEDIATE")
                try:
                    # re-read under the write lock: another process may have made it
                    new = not {r[0] for r in conn.execute(
                        "SELECT name FROM sqlite_master WHERE type = 'table'")}
                    schema.migrations.apply(db)
                    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                    if new and seed is not None:
                        seed(store)
                    store.created = new
                    conn.execute("COMMIT")
                except BaseException:
                    rollback(conn)
                    raise
        except sqlite3.DatabaseError as err:
            conn.close()
            raise StoreError(store_failure(path, err)) from None
        except BaseException:
            conn.close()
            raise
        return store

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together or not at all (nested: a savepoint)."""
        conn = self.db.conn
        if conn.in_transaction:
            with self.db.atomic():
                yield
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            rollback(conn)
            raise
        conn.execute("COMMIT")

    # -- config ------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        return {r["key"]: json.loads(r["value"]) for r in self.db.query("SELECT * FROM config")}

    def set_config(self, key: str, value: Any) -> None:
        with self.transaction():
            self._put_config(key, value)

    def _put_config(self, key: str, value: Any) -> None:
        """Store ``value`` under ``key`` (inside the caller's transaction)."""
        self.db.conn.execute("INSERT INTO config (key, value) VALUES (?, ?) "
                             "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                             [key, json.dumps(value)])

    def reset_config(self, keys: list[str]) -> None:
        """Forget the stored values of ``keys``: their defaults apply again."""
        with self.transaction():
            self.db.conn.executemany("DELETE FROM config WHERE key = ?", [(k,) for k in keys])

    # -- records -----------------------------------------------------------

    def is_empty(self) -> bool:
        return not any(self.db.execute(f"SELECT 1 FROM {k.plural} LIMIT 1").fetchone()
                       for k in KINDS.values())

    def records(self, kind: str, ids: list[str] | None = None) -> dict[str, Record]:
        """The records of ``kind`` (all, or those with ``ids``) by id, in the order added."""
        k = KINDS[kind]
        if ids is None:
            only, params = "", []
        else:
            only, params = f" AND {{col}} IN ({', '.join('?' * len(ids))})", list(ids)
        # a tag or a reference read again is the string read first: a large store's
        # records share them instead of holding a copy each
        shared: dict[str, str] = {}
        tags: dict[str, list[str]] = {}
        for rid, tag in self.db.execute(
                "SELECT record, tag FROM tags WHERE kind = ?" + only.format(col="record")
                + " ORDER BY record, position", [kind, *params]):
            tags.setdefault(rid, []).append(shared.setdefault(tag, tag))
        links: dict[str, dict[str, list[str]]] = {}
        for (lk, field), (table, col) in _LINKS.items():
            if lk == kind:
                for eid, ref in self.db.execute(
                        f"SELECT event, {col} FROM {table} WHERE 1" + only.format(col="event")
                        + " ORDER BY event, position", params):
                    links.setdefault(eid, {}).setdefault(field, []).append(
                        shared.setdefault(ref, ref))
        out: dict[str, Record] = {}
        cols = _columns(k)
        where = {c: i for i, c in enumerate(cols)}
        # each field's place in the row and how it is read, worked out once per kind
        plan = [(f.name, f.type if f.name != "tags" else "tags", where.get(f.name, -1))
                for f in k.all_fields]
        sql = ("SELECT " + ", ".join(f'"{c}"' for c in cols) + f" FROM {k.plural} WHERE 1"
               + only.format(col="id") + " ORDER BY rowid")
        for row in self.db.execute(sql, params):
            rec: Record = {}
            for name, kind_of, i in plan:
                if kind_of == "tags":
                    if row[0] in tags:
                        rec["tags"] = tags[row[0]]
                    continue
                if kind_of == "refs":
                    refs = links.get(row[0], {}).get(name)
                    if refs:
                        rec[name] = refs
                    continue
                value: Any = row[i]
                if value is None:
                    continue
                if kind_of == "ref":
                    value = shared.setdefault(value, value)
                elif kind_of == "texts":
                    value = json.loads(value)
                    if not value:
                        continue
                elif kind_of == "bool":
                    if not value:
                        continue
                    value = True
                rec[name] = value
            out[rec["id"]] = rec
        return out

    def all_records(self) -> Records:
        return {kind: self.records(kind) for kind in KINDS}

    def around(self, record_kind: str, record_id: str) -> Records:
        """The records a card's family draws on for its texts and context."""
        out: Records = {kind: {} for kind in KINDS}
        family = FAMILIES.get(record_kind)
        if family is not None:
            for kind, recs in family.around(
                    lambda k, ids: self.records(k, list(ids)), record_id).items():
                out[kind].update(recs)
        return out

    def get(self, kind: str, rid: str) -> Record:
        """The record of ``kind`` with id ``rid``.

        Raises:
            UnknownRecord: there is none.
        """
        rec = self.records(kind, [rid]).get(rid)
        if rec is None:
            raise UnknownRecord(f"no {kind} with id '{rid}'")
        return rec

    def exists(self, kind: str, rid: str) -> bool:
        return self.db.execute(f"SELECT 1 FROM {KINDS[kind].plural} WHERE id = ?",
                               [rid]).fetchone() is not None

    def times(self, kind: str) -> dict[str, tuple[str, str]]:
        """``id -> (created, updated)`` for every record of ``kind``."""
        return {r[0]: (r[1], r[2]) for r in self.db.execute(
            f"SELECT id, created, updated FROM {KINDS[kind].plural}")}

    def put_many(self, items: list[tuple[str, Record]], now: datetime) -> None:
        """Insert or update records (by id); call inside ``transaction()``."""
        stamp = iso(now)
        conn = self.db.conn
        by_kind: dict[str, list[Record]] = {}
        for kind, rec in items:
            by_kind.setdefault(kind, []).append(rec)
        for kind, recs in by_kind.items():
            k = KINDS[kind]
            cols = _columns(k)
            types = [k.field(c).type for c in cols]
            rows = []
            for rec in recs:
                values: list[Any] = []
                for c, t in zip(cols, types, strict=True):
                    v = rec.get(c)
                    if t == "texts":
                        v = json.dumps(v) if v else None
                    elif t == "bool":
                        v = 1 if v else 0
                    values.append(v)
                rows.append((*values, stamp, stamp))
            quoted = ", ".join(f'"{c}"' for c in cols)
            updates = ", ".join(f'"{c}" = excluded."{c}"' for c in cols if c != "id")
            conn.executemany(
                f"INSERT INTO {k.plural} ({quoted}, created, updated) "
                f"VALUES ({', '.join('?' * len(cols))}, ?, ?) "
                f"ON CONFLICT(id) DO UPDATE SET {updates}, updated = excluded.updated", rows)
            # a first import has no old rows to take out (one probe instead of a delete a
            # record); new rows go in key order, as their table's primary key keeps them
            if conn.execute("SELECT 1 FROM tags WHERE kind = ? LIMIT 1", [kind]).fetchone():
                conn.executemany("DELETE FROM tags WHERE kind = ? AND record = ?",
                                 [(kind, rec["id"]) for rec in recs])
            conn.executemany(
                "INSERT INTO tags (kind, record, tag, position) VALUES (?, ?, ?, ?)",
                sorted((kind, rec["id"], tag, i) for rec in recs
                       for i, tag in enumerate(rec.get("tags", []))))
            for (lk, field), (table, col) in _LINKS.items():
                if lk == kind:
                    if conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone():
                        conn.executemany(f"DELETE FROM {table} WHERE event = ?",
                                         [(rec["id"],) for rec in recs])
                    conn.executemany(
                        f"INSERT INTO {table} (event, {col}, position) VALUES (?, ?, ?)",
                        sorted((rec["id"], ref, i) for rec in recs
                               for i, ref in enumerate(rec.get(field, []))))

    def referrers(self, kind: str, rid: str) -> list[tuple[str, str]]:
        """The records that refer to record ``kind``/``rid``, as ``(kind, id)``."""
        found: list[tuple[str, str]] = []
        for k in KINDS.values():
            for f in k.fields:
                if f.ref != kind:
                    continue
                if f.type == "ref":
                    rows = self.db.execute(
                        f'SELECT id FROM {k.plural} WHERE "{f.name}" = ? ORDER BY rowid', [rid])
                else:
                    table, col = _LINKS[(k.name, f.name)]
                    rows = self.db.execute(
                        f"SELECT DISTINCT event FROM {table} WHERE {col} = ? ORDER BY event", [rid])
                found.extend((k.name, r[0]) for r in rows if (k.name, r[0]) != (kind, rid))
        return list(dict.fromkeys(found))  # an organ may refer twice: part_of and succeeded_by

    def remove(self, kind: str, rid: str, now: datetime) -> int:
        """Remove a record and retire its cards (their history is kept).

        Returns:
            How many cards were retired.

        Raises:
            UnknownRecord: there is no such record.
            RecordInUse: other records refer to it.
        """
        with self.transaction():
            if not self.exists(kind, rid):
                raise UnknownRecord(f"no {kind} with id '{rid}'")
            users = self.referrers(kind, rid)
            if users:
                named = ", ".join(f"{k} '{i}'" for k, i in users[:10])
                more = f" and {len(users) - 10} more" if len(users) > 10 else ""
                raise RecordInUse(f"{kind} '{rid}' is used by {named}{more}; remove or change "
                                  f"those first")
            old = self.get(kind, rid)
            self.db.execute("DELETE FROM tags WHERE kind = ? AND record = ?", [kind, rid])
            self.db.execute(f"DELETE FROM {KINDS[kind].plural} WHERE id = ?", [rid])
            if self.index_current():  # only the cards the removal reaches
                from cards.incremental import indexed, plan

                scoped = plan(self, [], {}, [(kind, old)])
                if scoped is not None:
                    retired = self.sync_cards(
                        now, scoped.result.cards, scope=scoped.groups,
                        candidates=indexed(scoped.result, scoped.answers),
                        answers=scoped.answers)["retired"]
                    self.mark_indexed()  # still every card of the records, with its terms
                    return retired
            return self.remake_cards(now)[0]["retired"]

    # -- cards -------------------------------------------------------------

    def regenerate_if_stale(self, now: datetime) -> bool:
        """Regenerate the cards if a migration asked for it; True if it did."""
        if not self.config().get(schema.STALE_CARDS):
            return False
        with self.transaction():
            self.remake_cards(now)
        return True

    def remake_cards(self, now: datetime, records: Records | None = None,
                     progress: Callable[[str, float], None] | None = None
                     ) -> tuple[dict[str, int], GateResult]:
        """Make every card of the records again, streamed through the quality gate (no
        card is held: ``cards.stream``), and keep their terms in the gate index; call
        inside ``transaction()``.

        Args:
            records: every record (else read from the store).
            progress: told now and then the stage (making the cards, then saving
                them) and the share of it done (0 to 1; making's share is reckoned
                from ``CARDS_A_RECORD``).

        Returns:
            The counts of ``sync_cards``, and what the gate dropped and warned about.
        """
        from cards.incremental import verdict_terms  # (it imports this module)

        records = records if records is not None else self.all_records()
        expected = max(1.0, CARDS_A_RECORD * sum(map(len, records.values())))
        made = verdicts(records, None if progress is None else lambda n: progress(
            "Making the cards", min(1.0, n / expected)))

        def told() -> Iterator[tuple[CardSpec, bool, Terms]]:
            for n, (s, check) in enumerate(made.cards()):
                if progress is not None and n % WRITE_BATCH == 0:
                    progress("Saving the cards", n / max(made.total, 1))
                yield s, check is None, verdict_terms(s, check, answers)

        try:
            answers = made.authored
            counts = self.sync_made(now, told(), made.kept, answers)
        finally:
            made.close()
        return counts, made.result

    def sync_cards(self, now: datetime, specs: list[CardSpec], *,
                   candidates: Iterable[tuple[str, list[tuple[str, str | None]]]],
                   scope: set[str] | None = None, answers: bool = True) -> dict[str, int]:
        """Write cards made and held (those of an incremental import's scope; the
        cards of every record go through ``remake_cards``, which holds none); call
        inside ``transaction()``.

        A card whose key survives keeps its history and scheduling state even
        if its wording changed; a new key is a new card; a card whose key
        disappeared is retired (kept, never shown).

        Args:
            specs: the cards the gate kept.
            candidates: every card made (those the gate dropped too) with its
                terms (``cards.incremental.terms``): kept in the gate index for
                the next import.
            answers: the candidates' terms include their answers (``a:``).
            scope: record groups (``KIND:ID``): ``specs`` are then the cards of
                these groups only, and only the stored cards of these groups are
                compared and retired (``cards.incremental``).

        Returns:
            Counts of cards ``added``, ``changed``, ``retired`` and ``total``.
        """
        conn = self.db.conn
        columns = _COMPARED
        if scope is None:
            existing = {r[0]: r[1:] for r in conn.execute(f"SELECT {columns} FROM cards")}
        else:  # the stored cards of the scope's groups, and any with the keys made
            keys = set(_chunked(conn, "SELECT key FROM card_groups WHERE grp IN ({})",
                                sorted(scope)))
            keys.update(s.key for s in specs)
            existing = {r[0]: r[1:] for r in _chunked_rows(
                conn, f"SELECT {columns} FROM cards WHERE key IN ({{}})", sorted(keys))}
        bulk = scope is None and len(specs) >= BULK_CARDS + len(existing) and len(specs) > 2 * len(
            existing)
        added, total, changed, retired = self._write_cards(
            now, ((s, True, ()) for s in specs), existing, bulk)
        self._index(candidates, scope, answers)
        if scope is not None:
            total = conn.execute("SELECT COUNT(*) FROM cards WHERE retired = 0").fetchone()[0]
        else:
            self._mark_made()
        return {"added": added, "changed": changed, "retired": retired, "total": total}

    def sync_made(self, now: datetime, made: Iterable[tuple[CardSpec, bool, Terms]],
                  kept: int, answers: bool) -> dict[str, int]:
        """``sync_cards`` for every card of the records given one at a time, not held
        (``cards.stream``); call inside ``transaction()``.

        Args:
            made: every card made, in order, with True if the gate kept it, and its
                terms for the gate index (``cards.incremental.terms``).
            kept: how many of them are kept.
            answers: the terms include answers (``a:``).
        """
        conn = self.db.conn
        existing = {r[0]: r[1:] for r in conn.execute(f"SELECT {_COMPARED} FROM cards")}
        conn.execute("DELETE FROM gate_terms")
        conn.execute("DELETE FROM gate_cards")
        bulk = kept >= BULK_CARDS + len(existing) and kept > 2 * len(existing)
        # every card's key enters the gate index at a random place: indexed after
        with held_off(conn, ["gate_cards_key"]):
            added, total, changed, retired = self._write_cards(now, made, existing, bulk)
        self._put_config(schema.GATE_ANSWERS, answers)
        self.mark_indexed()
        return {"added": added, "changed": changed, "retired": retired, "total": total}

    def _write_cards(self, now: datetime, made: Iterable[tuple[CardSpec, bool, Terms]],
                     existing: dict[str, tuple[Any, ...]],
                     bulk: bool) -> tuple[int, int, int, int]:
        """Write the kept cards of ``made`` against the ``existing`` ones (their
        ``_COMPARED`` columns, by key), a batch at a time, with the terms of each card.

        A new card is inserted; a stored one is reworded if it reads otherwise, and
        one not made is retired. ``bulk``: many new cards, written
        with the indexes and the trigger of ``_BULK_DROPPED`` held off.

        Returns:
            The cards added, kept in all, reworded and retired.
        """
        stamp = iso(now)
        conn = self.db.conn
        position = conn.execute("SELECT COALESCE(MAX(position), 0) FROM cards").fetchone()[0]
        last = conn.execute("SELECT COALESCE(MAX(rowid), 0) FROM cards").fetchone()[0]
        updates: list[tuple[Any, ...]] = []
        reworded: list[CardSpec] = []
        seen: set[str] = set()  # the stored cards made again
        as_json: dict[tuple[str, ...], str] = {}  # few distinct tag lists
        rows: list[tuple[Any, ...]] = []
        groups: list[tuple[str, str]] = []
        gate: list[tuple[int, str, str | None, str]] = []  # rows of gate_cards
        numbered = conn.execute("SELECT COALESCE(MAX(id), 0) FROM gate_cards").fetchone()[0]
        number = numbered
        added = total = 0

        def flush() -> None:
            conn.executemany(_INSERT_CARD, rows)
            conn.executemany("INSERT OR IGNORE INTO card_groups (grp, key) VALUES (?, ?)",
                             groups)
            conn.executemany(_INSERT_GATE_CARD, gate)
            rows.clear()
            groups.clear()
            gate.clear()

        # the indexes new cards land in at random places, and the trigger that copies a
        # new card's tags, are made again after the insert (one sort each; the tags'
        # rows are written by one statement, add_card_tags)
        with held_off(conn, _BULK_DROPPED) if bulk else contextlib.nullcontext():
            for s, kept, card_terms in made:
                key = s.key
                indexed = _gate_card(number + 1, key, card_terms)
                if indexed is not None:
                    number += 1
                    gate.append(indexed)
                if not kept:
                    continue
                total += 1
                tags = as_json.get(s.tags) or as_json.setdefault(s.tags, json.dumps(s.tags))
                old = existing.get(key)
                if old is None:
                    added += 1
                    rows.append((key, s.kind, s.record_kind, s.record_id, s.template,
                                 s.question, s.answer, s.answer_hash, json_strings(s.siblings),
                                 tags, position + added, stamp, stamp))
                    if not bulk:
                        groups.extend((g, key) for g in s.siblings)
                    if len(rows) >= WRITE_BATCH:
                        flush()
                    continue
                seen.add(key)
                siblings = json_strings(s.siblings)
                if old != (s.question, s.answer, s.answer_hash, siblings, tags, 0):
                    updates.append((s.question, s.answer, s.answer_hash, siblings, tags, stamp,
                                    key))
                    reworded.append(s)
            flush()
            if number > numbered:  # the cards' terms, sorted
                conn.execute(_INSERT_GATE_TERMS, [numbered])
            if bulk:
                # what the dropped trigger would have written, and the new cards' sibling
                # groups (as stored in cards.siblings), each in its table's key order
                add_card_tags(conn, last)
                conn.execute("INSERT OR IGNORE INTO card_groups (grp, key) SELECT g.value, "
                             "c.key FROM cards c, json_each(c.siblings) g WHERE c.rowid > ? "
                             "ORDER BY 1, 2", [last])
        retire = [(stamp, k) for k, old in existing.items() if k not in seen and not old[-1]]
        # sibling groups, for burying: a reworded card's are made again (its old ones,
        # read from its old siblings, go first)
        conn.executemany("DELETE FROM card_groups WHERE key = ?1 AND grp IN (SELECT value "
                         "FROM json_each((SELECT siblings FROM cards WHERE key = ?1)))",
                         [(u[6],) for u in updates])
        # A card whose answer changed since its last review becomes due now. An empty
        # reviewed hash (left by the migration to hashes of facts) takes the new hash.
        conn.executemany(
            "UPDATE cards SET question = ?1, answer = ?2, answer_hash = ?3, siblings = ?4, "
            "tags = ?5, retired = 0, updated = ?6, version = version + 1, "
            "due = CASE WHEN reviewed_hash IS NOT NULL AND reviewed_hash NOT IN ('', ?3) "
            "AND due > ?6 THEN ?6 ELSE due END, "
            "reviewed_hash = CASE WHEN reviewed_hash = '' THEN ?3 ELSE reviewed_hash END "
            "WHERE key = ?7", updates)
        conn.executemany("UPDATE cards SET retired = 1, updated = ?, version = version + 1 "
                         "WHERE key = ?", retire)
        conn.executemany("INSERT OR IGNORE INTO card_groups (grp, key) VALUES (?, ?)",
                         ((g, s.key) for s in reworded for g in s.siblings))
        return added, total, len(updates), len(retire)

    def _index(self, candidates: Iterable[tuple[str, list[tuple[str, str | None]]]],
               scope: set[str] | None, answers: bool) -> None:
        """Keep the gate index (the terms of every card made: ``gate_cards``, numbered,
        and ``gate_terms``, term to number; see ``schema.m008_compact_card_index``) with
        the cards."""
        conn = self.db.conn
        if scope is None:
            conn.execute("DELETE FROM gate_terms")
            conn.execute("DELETE FROM gate_cards")
        else:
            # the cards of the scope: kept ones by their groups, dropped ones by u: terms
            ids = set(_chunked(conn, "SELECT card FROM gate_terms WHERE term IN ({})",
                               sorted(f"u:{g}" for g in scope)))
            keys = _chunked(conn, "SELECT key FROM card_groups WHERE grp IN ({})", sorted(scope))
            ids.update(_chunked(conn, "SELECT id FROM gate_cards WHERE key IN ({})",
                                sorted(set(keys))))
            gone = list(_chunked_rows(conn, "SELECT id, terms FROM gate_cards WHERE id IN ({})",
                                      sorted(ids)))
            conn.executemany("DELETE FROM gate_terms WHERE term = ? AND card = ?",
                             [(t, i) for i, terms in gone for t in json.loads(terms)])
            conn.executemany("DELETE FROM gate_cards WHERE id = ?", [(i,) for i, _ in gone])
        last = conn.execute("SELECT COALESCE(MAX(id), 0) FROM gate_cards").fetchone()[0]

        def rows() -> Iterator[tuple[int, str, str | None, str]]:
            number = last
            for key, terms in candidates:
                row = _gate_card(number + 1, key, terms)
                if row is not None:
                    number += 1
                    yield row

        # the cards' numbers are written in order; their keys (at random places) are
        # indexed after a full write, and the terms are sorted before they are written
        with held_off(conn, ["gate_cards_key"]) if scope is None else contextlib.nullcontext():
            conn.executemany(_INSERT_GATE_CARD, rows())
        conn.execute(_INSERT_GATE_TERMS, [last])
        if scope is None:
            self._put_config(schema.GATE_ANSWERS, answers)
            self.mark_indexed()

    def _mark_made(self) -> None:
        """Record that every card was made again, by this code: a migration's request
        for it is met."""
        self.db.conn.execute("DELETE FROM config WHERE key = ?", [schema.STALE_CARDS])
        self._put_config(schema.CARDS_MAKER, maker())

    def mark_indexed(self) -> None:
        """Record that the cards and the gate index are those of every record, made by
        this code (``sync_cards`` with every card, or an import into an empty store)."""
        self._mark_made()
        self._put_config(schema.GATE_INDEX, maker())

    def index_current(self) -> bool:
        """True if the cards are current and the gate index holds the terms of every card
        made with them, or if the store is new (no record, no card): an import may then
        make only the cards its change reaches (``cards.incremental``)."""
        kinds = " OR ".join(f"EXISTS (SELECT 1 FROM {k.plural})" for k in KINDS.values())
        stale, made, index, empty = self.db.execute(
            "SELECT (SELECT value FROM config WHERE key = ?), "
            "(SELECT value FROM config WHERE key = ?), (SELECT value FROM config WHERE key = ?), "
            f"NOT ({kinds} OR EXISTS (SELECT 1 FROM cards) OR EXISTS (SELECT 1 FROM gate_cards))",
            [schema.STALE_CARDS, schema.CARDS_MAKER, schema.GATE_INDEX]).fetchone()
        if empty:
            return True
        current = json.dumps(maker())
        return not (stale and json.loads(stale)) and made == current and index == current

    def cards_current(self) -> bool:
        """True if the stored cards were made by this code from the stored records, and
        no migration asked for them to be made again."""
        config = self.config()
        return not config.get(schema.STALE_CARDS) and config.get(schema.CARDS_MAKER) == maker()

    def card_counts(self) -> dict[str, int]:
        """The counts ``sync_cards`` gives when no card changes: none added, changed or
        retired, and the cards in use (those not retired) in all."""
        total = self.db.execute("SELECT COUNT(*) FROM cards WHERE retired = 0").fetchone()[0]
        return {"added": 0, "changed": 0, "retired": 0, "total": total}

    def card_rows(self, where: str = "1", params: list[Any] | None = None,
                  order: str = "position") -> list[dict[str, Any]]:
        """Cards as dicts (columns of the ``cards`` table)."""
        return list(self.db.query(f"SELECT * FROM cards WHERE {where} ORDER BY {order}",
                                  params or []))
