"""Adding and editing single records (``study add``, ``study edit``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from cards.authoring import check_references, read_text, record_toml
from cards.card_checks import card_warnings
from cards.errors import InvalidInput, Problem
from cards.generate import generate_checked
from cards.records import Record
from cards.store import Store


class RecordExists(InvalidInput):
    """A record with that id already exists."""


def add_record(store: Store, kind: str, record: Record, now: datetime) -> dict[str, Any]:
    """Add one new record and generate its cards.

    Returns:
        The card counts of ``Store.sync_cards`` and ``warnings``: the quality
        gate's warnings on the record's hand-written cards.

    Raises:
        InvalidInput: the id is taken.
    """
    with store.transaction():
        if store.exists(kind, record["id"]):
            raise RecordExists([Problem("study add", None, kind, record["id"], "id",
                                        "already exists; use `study edit` to change it")])
        records = store.all_records()
        records[kind][record["id"]] = record
        # the card checks run before anything is written
        result = generate_checked(records)
        warnings = [Problem("study add", None, w.kind, w.id, w.field, f"warning: {w.message}")
                    for w in card_warnings(result) if (w.kind, w.id) == (kind, record["id"])]
        store.put_many([(kind, record)], now)
        counts = store.sync_cards(now, records, result.cards)
        return {**counts, "warnings": warnings}


def edit_record(store: Store, kind: str, rid: str, now: datetime,
                edit: Callable[[str], str | None],
                again: Callable[[list[Problem]], bool]) -> str:
    """Let the user edit one record as TOML, check it, and save it.

    Args:
        edit: shows the text to the user and returns the edited text (None: unchanged).
        again: told the problems of an edit, says whether to edit again.

    Returns:
        A one-line account of what happened.

    Raises:
        UnknownRecord: no such record.
        InvalidInput: the edit had problems and the user gave up.
    """
    original = store.get(kind, rid)
    text = record_toml(kind, original)
    name = f"{kind} '{rid}' (edited)"
    while True:
        edited = edit(text)
        if edited is None or edited.strip() == text.strip():
            return f"No changes to {kind} '{rid}'"
        items, problems = read_text(edited, name)
        if not problems:
            same = [loc for loc in items if loc.kind == kind]
            if len(items) != 1 or not same:
                problems.append(Problem(name, None, kind, rid, None,
                                        f"expected exactly one [[{kind}]] table"))
            elif same[0].record.get("id") != rid:
                problems.append(same[0].problem("id", f"cannot change the id (was '{rid}'); "
                                                      f"add a new record instead"))
            else:
                problems.extend(check_references(items, store, []))
        if problems:
            if again(problems):
                text = edited
                continue
            raise InvalidInput(problems)
        record = items[0].record
        if record == original:
            return f"No changes to {kind} '{rid}'"
        with store.transaction():
            store.put_many([(kind, record)], now)
            cards = store.sync_cards(now)
        return (f"Saved {kind} '{rid}' ({cards['changed']} cards reworded, "
                f"{cards['added']} new, {cards['retired']} retired)")
