"""The quality gate as checks: what ``study check``, ``import`` and ``add`` report on cards.

Generated cards never fail the gate (it drops them); cards written by hand
(facts) that give their answer away or share a question with another answer
are reported as warnings against the record they come from. A leak is not
reported: the gate links the two cards, and the review buries them together.
"""

from __future__ import annotations

from dataclasses import dataclass

from cards.gate import GateResult
from cards.registry import FAMILIES, Records


@dataclass(frozen=True)
class CardWarning:
    """A warning about a hand-written card: the record, the field to fix, the message."""

    kind: str
    id: str
    field: str
    message: str


def _field(template: str) -> str:
    return "answer" if template == "reverse" else "question"


def card_warnings(result: GateResult) -> list[CardWarning]:
    """Warnings on hand-written cards: giveaways and ambiguous questions."""
    out: list[CardWarning] = []
    for problem in result.warnings:
        card = problem.card
        kind, rid = FAMILIES[card.kind].parts(card.record_id)[0]
        out.append(CardWarning(kind, rid, _field(card.template),
                               f"card {card.key}: {problem.check}: {problem.message}"))
    return out


def check_cards(records: Records) -> list[CardWarning]:
    """Generate the cards of ``records`` and report on the hand-written ones."""
    from cards.generate import generate_checked

    return card_warnings(generate_checked(records))
