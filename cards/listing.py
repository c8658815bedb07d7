"""Records and cards as plain data for listings and JSON.

Listings are generators: a row is read, shaped and handed on before the next
one is read, so that ``study list cards --json`` keeps its memory flat however
large the store grows.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from cards.db import iso
from cards.records import KINDS, Record
from cards.store import Store
from cards.tags import has_tag

CARD_STATE_FIELDS = ("state", "due", "reps", "lapses", "suspended", "stability", "difficulty")

_CARD_COLUMNS = ("key", "kind", "template", "record_kind", "record_id", "question", "answer",
                 "tags", "leech", "buried_until", *CARD_STATE_FIELDS)

#: What ``study list cards`` calls a card's state, in the order the filter offers them.
STATUSES = ("new", "learning", "review", "suspended", "buried", "leech")


def _matches(values: list[Any], search: str) -> bool:
    needle = search.casefold()
    return any(needle in str(v).casefold() for v in values)


def iter_records(store: Store, kind: str, search: str | None = None,
                 tag: str | None = None) -> Iterator[Record]:
    """The records of ``kind`` (TOML field names, every field), filtered, one at a time.

    Each row brings its tags and links with it (ordered subqueries), so that no
    record waits for the others and memory stays flat.
    """
    k = KINDS[kind]
    extra = {"tags": f"SELECT tag FROM tags WHERE kind = '{k.name}' AND record = r.id "
                     f"ORDER BY position"}
    for f in k.all_fields:
        if f.type == "refs":  # event people and organs: tables event_people, event_organs
            extra[f.name] = (f"SELECT {f.ref} FROM {k.name}_{f.name} WHERE {k.name} = r.id "
                             f"ORDER BY position")
    columns = [f'r."{f.name}"' if f.name not in extra else
               f"(SELECT json_group_array({_last_word(extra[f.name])}) FROM ({extra[f.name]}))"
               for f in k.all_fields]
    cursor = store.db.conn.execute(
        f"SELECT {', '.join(columns)} FROM {k.plural} r ORDER BY r.rowid")
    for values in cursor:
        rec: Record = {}
        for f, value in zip(k.all_fields, values, strict=True):
            if f.type in ("texts", "refs"):
                value = json.loads(value) if value else []
            elif f.type == "bool":
                value = bool(value)
            rec[f.name] = value
        if tag and not has_tag(rec["tags"], tag):
            continue
        if search and not _matches([v for v in rec.values() if v not in (None, [], False)],
                                   search):
            continue
        yield rec


def _last_word(select: str) -> str:
    """The column a one-column subquery selects (``SELECT tag FROM ...`` -> ``tag``)."""
    return select.split()[1]


def status(row: dict[str, Any], now: datetime | None) -> str:
    """A card's state as a learner sees it: new, learning, review, suspended, buried, leech.

    A leech is suspended too, and is called a leech; relearning counts as learning.
    """
    if row["leech"] and row["suspended"]:
        return "leech"
    if row["suspended"]:
        return "suspended"
    if now is not None and row["buried_until"] and row["buried_until"] > iso(now):
        return "buried"
    return "learning" if row["state"] == "relearning" else str(row["state"])


def list_cards(store: Store, search: str | None = None, tag: str | None = None,
               include_retired: bool = False, **filters: Any) -> list[dict[str, Any]]:
    """The cards with their record, sibling keys and scheduling state (see ``iter_cards``)."""
    return list(iter_cards(store, search, tag, include_retired, **filters))


def iter_cards(store: Store, search: str | None = None, tag: str | None = None,
               include_retired: bool = False, *, state: str | None = None,
               kind: str | None = None, due_before: datetime | None = None,
               now: datetime | None = None) -> Iterator[dict[str, Any]]:
    """The cards with their record, sibling keys and scheduling state, one at a time.

    Args:
        state: only cards in this state (one of ``STATUSES``).
        kind: only cards of this kind (tenure, succession, organ, event, fact).
        due_before: only cards in learning or review that are due before this time.
        now: the time that decides whether a card is buried (None: never buried).
    """
    alive = "" if include_retired else " AND s.retired = 0"
    where, params = ["1"], []
    if not include_retired:
        where.append("+c.retired = 0")  # "+": a scan in rowid order, not the index and a sort
    if kind:
        where.append("c.kind = ?")
        params.append(kind)
    if due_before is not None:
        where.append("c.state != 'new' AND c.due < ?")
        params.append(iso(due_before))
    # the siblings of each card come with it, so that no row waits for the others (its
    # groups are those of its siblings column; card_groups gives their cards)
    # Cards are inserted in position order and never deleted, so rowid order is
    # position order, and rows come as they are read (ORDER BY position would
    # sort the whole table before the first row).
    columns = ", ".join(f"c.{c}" for c in _CARD_COLUMNS)
    sql = (f"SELECT {columns}, (SELECT json_group_array(key) FROM (SELECT DISTINCT g2.key AS key "
           f"FROM json_each(c.siblings) g1 JOIN card_groups g2 ON g2.grp = g1.value "
           f"JOIN cards s ON s.key = g2.key{alive} "
           f"WHERE g2.key != c.key ORDER BY g2.key)) AS sibling_keys, "
           # links: the siblings by a leak's group (cards.gate), across records
           f"(SELECT json_group_array(key) FROM (SELECT DISTINCT g2.key AS key "
           f"FROM json_each(c.siblings) g1 JOIN card_groups g2 ON g2.grp = g1.value "
           f"JOIN cards s ON s.key = g2.key{alive} "
           f"WHERE g1.value >= 'link:' AND g1.value < 'link;' "
           f"AND g2.key != c.key ORDER BY g2.key)) AS link_keys "
           f"FROM cards c WHERE {' AND '.join(where)} ORDER BY c.rowid")
    cursor = store.db.conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    for values in cursor:
        row = dict(zip(names, values, strict=True))
        tags = json.loads(row["tags"]) + (["leech"] if row["leech"] else [])
        if tag and not has_tag(tags, tag):
            continue
        if search and not _matches([row["question"], row["answer"], row["key"]], search):
            continue
        shown = status(row, now)
        if state and shown != state:
            continue
        card = {
            "key": row["key"],
            "kind": row["kind"],
            "template": row["template"],
            "record": {"kind": row["record_kind"], "id": row["record_id"]},
            "question": row["question"],
            "answer": row["answer"],
            "siblings": json.loads(row["sibling_keys"]),
            "links": json.loads(row["link_keys"]),
            "tags": tags,
        }
        card.update({f: row[f] for f in CARD_STATE_FIELDS})
        card["suspended"] = bool(card["suspended"])
        card["status"] = shown
        card["buried_until"] = row["buried_until"] if shown == "buried" else None
        if card["state"] == "new":
            card["due"] = None
        yield card


def tag_counts(store: Store) -> list[tuple[str, int, int]]:
    """Every tag with how many records and how many live cards carry it, by name."""
    records = dict(store.db.execute("SELECT tag, COUNT(*) FROM tags GROUP BY tag").fetchall())
    cards = dict(store.db.execute(
        "SELECT j.value, COUNT(*) FROM cards c, json_each(c.tags) j WHERE c.retired = 0 "
        "GROUP BY j.value").fetchall())
    leeches = store.db.execute("SELECT COUNT(*) FROM cards WHERE retired = 0 AND leech = 1"
                               ).fetchone()[0]
    if leeches:
        cards["leech"] = cards.get("leech", 0) + leeches
    return [(t, records.get(t, 0), cards.get(t, 0)) for t in sorted({*records, *cards})]


def unknown_tag(store: Store, tag: str) -> str | None:
    """A warning if no record or card carries ``tag`` (or a tag below it), else None.

    A tag is known if it, or a tag below it (``ussr::party`` for ``ussr``), exists.
    """
    known = [t for t, _, _ in tag_counts(store)] + ["leech"]
    if any(t == tag or t.startswith(tag + "::") for t in known):
        return None
    close = difflib.get_close_matches(tag, known, n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else \
        "; `study tags` lists them"
    return f"no record has the tag {tag!r}{hint}"


def select_cards(store: Store, targets: list[str], tag: str | None = None,
                 search: str | None = None) -> list[str]:
    """The keys of the live cards named by ``targets``, ``tag`` and ``search``.

    A target is a card key (``KIND:ID:TEMPLATE``) or a record (``KIND:ID``: all
    its cards). With ``tag`` or ``search`` as well as targets, a card must
    match all of them.

    Raises:
        UnknownCard: a key names no card.
        UnknownRecord: a record does not exist.
    """
    from cards.errors import UnknownCard, UnknownRecord

    chosen: list[str] | None = None
    if targets:
        chosen = []
        for target in targets:
            parts = target.split(":")
            if len(parts) == 2 and parts[0] in KINDS:
                if not store.exists(parts[0], parts[1]):
                    raise UnknownRecord(f"no {parts[0]} with id '{parts[1]}'")
                chosen += [r[0] for r in store.db.execute(
                    "SELECT key FROM cards WHERE record_kind = ? AND record_id = ? "
                    "AND retired = 0 ORDER BY position", parts)]
            elif store.db.execute("SELECT 1 FROM cards WHERE key = ?", [target]).fetchone():
                chosen.append(target)
            else:
                raise UnknownCard(f"no card with key '{target}' (expected a card key "
                                  f"KIND:ID:TEMPLATE or a record KIND:ID)")
    if tag or search:
        matching = [c["key"] for c in iter_cards(store, search=search, tag=tag)]
        if chosen is None:
            return matching
        wanted = set(matching)
        chosen = [k for k in chosen if k in wanted]
    return list(dict.fromkeys(chosen or []))
