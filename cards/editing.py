"""Adding and editing single records (``study add``, ``study edit``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from cards.authoring import (
    Located,
    check_references,
    consistency,
    import_records,
    read_text,
    record_toml,
)
from cards.errors import InvalidInput, Problem
from cards.incremental import plan
from cards.records import Record
from cards.store import Store


class RecordExists(InvalidInput):
    """A record with that id already exists."""


def _consistency(store: Store, loc: Located) -> tuple[list[Problem], list[Problem]]:
    """What ``study check`` would say about the store with ``loc``'s record in place."""
    ref = (loc.kind, loc.record["id"])
    if store.index_current():  # only the records and cards the change reaches
        old = store.records(loc.kind, [loc.record["id"]]).get(loc.record["id"])
        scoped = plan(store, [(loc.kind, loc.record)], {ref: old} if old else {})
        if scoped is not None:
            return consistency({ref: loc}, scoped.records, scoped.result)
    records = store.all_records()
    records[loc.kind][loc.record["id"]] = loc.record
    return consistency({(loc.kind, loc.record["id"]): loc}, records)


class EditGivenUp(InvalidInput):
    """The learner stopped editing a record that still has problems; nothing was saved."""

    def __init__(self, problems: list[Problem], text: str) -> None:
        super().__init__(problems)
        self.text = text


def add_record(store: Store, kind: str, record: Record, now: datetime,
               warn: Callable[[Problem], None] | None = None) -> dict[str, int]:
    """Add one new record and generate its cards.

    Args:
        warn: told each warning of ``study check`` about the new record.

    Raises:
        InvalidInput: the id is taken, or the record makes an error of
            ``study check`` (an overlap, a tenure outside a lifetime, a cycle).
    """
    with store.transaction():
        if store.exists(kind, record["id"]):
            raise RecordExists([Problem("study add", None, kind, record["id"], "id",
                                        "already exists; use `study edit` to change it")])
        # as an import of the one record: checked against the store, and only the cards
        # it reaches made
        report = import_records(store, [Located(kind, record, "study add")], now)
        for warning in report.warnings:
            if warn is not None:
                warn(warning)
        return report.cards


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
        EditGivenUp: the edit had problems and the user gave up (the text is kept
            in the error).
    """
    original = store.get(kind, rid)
    text = unchanged = record_toml(kind, original)
    name = f"{kind} '{rid}' (edited)"
    while True:
        edited = edit(text)
        if edited is None:  # the editor was closed without saving: the text shown stands
            edited = text
        if edited.strip() == unchanged.strip():
            return f"No changes to {kind} '{rid}'"
        items, problems = read_text(edited, name)
        warnings: list[Problem] = []
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
                if not problems:
                    errors, warnings = _consistency(store, items[0])
                    problems.extend(errors)
        if problems:
            if again(problems):
                text = edited
                continue
            raise EditGivenUp(problems, edited)
        record = items[0].record
        if record == original:
            return f"No changes to {kind} '{rid}'"
        # as an import of the one record: only the cards it reaches are made again (checked
        # above already)
        cards = import_records(store, items, now, consistent=False).cards
        reworded = f"{cards['changed']} card{'' if cards['changed'] == 1 else 's'} reworded"
        said = "".join(f"\n{w}" for w in warnings)
        return (f"Saved {kind} '{rid}' ({reworded}, {cards['added']} new, "
                f"{cards['retired']} retired){said}")
