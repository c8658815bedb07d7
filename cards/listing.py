"""Records and cards as plain data for listings and JSON."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from cards.records import KINDS, Record
from cards.store import Store
from cards.tags import has_tag

CARD_STATE_FIELDS = ("state", "due", "reps", "lapses", "suspended", "stability", "difficulty")


def _matches(values: list[Any], search: str) -> bool:
    needle = search.casefold()
    return any(needle in str(v).casefold() for v in values)


def list_records(store: Store, kind: str, search: str | None = None,
                 tag: str | None = None) -> list[Record]:
    """The records of ``kind`` (TOML field names), filtered."""
    out = []
    for rec in store.records(kind).values():
        if tag and not has_tag(rec.get("tags", []), tag):
            continue
        if search and not _matches(list(rec.values()), search):
            continue
        empty = {"bool": False, "texts": [], "refs": []}
        out.append({f.name: rec.get(f.name, empty.get(f.type)) for f in KINDS[kind].all_fields})
    return out


def list_cards(store: Store, search: str | None = None, tag: str | None = None,
               include_retired: bool = False) -> list[dict[str, Any]]:
    """The cards with their record, sibling keys and scheduling state."""
    rows = store.card_rows("1" if include_retired else "retired = 0")
    groups: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        for group in json.loads(row["siblings"]):
            groups[group].append(row["key"])
    out = []
    for row in rows:
        tags = json.loads(row["tags"]) + (["leech"] if row["leech"] else [])
        if tag and not has_tag(tags, tag):
            continue
        if search and not _matches([row["question"], row["answer"], row["key"]], search):
            continue
        mine = json.loads(row["siblings"])
        siblings = sorted({k for g in mine for k in groups[g]} - {row["key"]})
        links = sorted({k for g in mine if g.startswith("link:") for k in groups[g]}
                       - {row["key"]})
        card = {
            "key": row["key"],
            "kind": row["kind"],
            "template": row["template"],
            "record": {"kind": row["record_kind"], "id": row["record_id"]},
            "question": row["question"],
            "answer": row["answer"],
            "siblings": siblings,
            "links": links,
            "tags": tags,
        }
        card.update({f: row[f] for f in CARD_STATE_FIELDS})
        card["suspended"] = bool(card["suspended"])
        if card["state"] == "new":
            card["due"] = None
        out.append(card)
    return out
