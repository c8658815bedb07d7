"""What the kinds' modules share: making a card of one record, and common wording."""

from __future__ import annotations

from typing import Any

from cards.dates import PartialDate
from cards.registry import CardSpec, Record


def card(family: str, rec: Record, template: str, question: str, answer: str,
         **extra: Any) -> CardSpec:
    """A card of record ``rec`` in its own sibling group ``FAMILY:ID``."""
    rid = rec["id"]
    return CardSpec(f"{family}:{rid}:{template}", family, family, rid, template, question,
                    answer, (f"{family}:{rid}",), tuple(rec.get("tags", ())), **extra)


def words(value: str | None) -> str:
    return PartialDate.parse(value).words() if value else ""


def life(person: Record) -> str:
    born, died = person.get("born"), person.get("died")
    if born and died:
        return f"{words(born)} – {words(died)}"
    if born:
        return f"born {words(born)}"
    return f"died {words(died)}"
