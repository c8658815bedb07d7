"""Facts: a question and answer written by hand, and its reverse."""

from __future__ import annotations

import re
from collections.abc import Iterator

from cards.gate import normal
from cards.graph import Graph
from cards.kinds.base import card
from cards.registry import (
    CardSpec,
    Family,
    Field,
    Kind,
    KindModule,
    Record,
    Records,
    register_family,
    register_kind,
)

_TERM = re.compile(r"(?:what|who)\s+(?:is|was|are|were)\s+(?:(?:a|an|the)\s+)?(.+?)\s*\?*\s*\Z",
                   re.IGNORECASE | re.DOTALL)


class Fact(KindModule):
    kind = Kind("fact", "facts", "question", (
        Field("question", required=True, help="the question, as it is asked"),
        Field("answer", required=True, help="the expected answer"),
        Field("reverse", "bool", help="also ask the answer, expecting the question"),
        Field("reverse_question", help="your own wording of the reverse card"),
    ))
    columns = ("id", "question", "answer")
    order = 6


def _lower_first(text: str) -> str:
    """'A collective farm' -> 'a collective farm' (not 'NKVD ...' -> 'nKVD ...')."""
    first = text.split(" ", 1)[0]
    if len(first) > 1 and first.isupper():
        return text
    return text[:1].lower() + text[1:]


class FactCards(Family):
    """``forward`` (the question) and ``reverse`` ("Which term means: ...?")."""

    name = "fact"
    label, plural = "Fact", "Facts"
    templates = ("forward", "reverse")
    data_fields = ("Question", "Answer")
    sort = "Question"
    kind = "fact"
    order = 40

    def cards(self, graph: Graph) -> Iterator[CardSpec]:
        for f in graph.facts.values():
            question, answer = str(f["question"]), str(f["answer"])
            yield card(self.name, f, "forward", question, answer, facts=(normal(answer),),
                       authored=True)
            if f.get("reverse") or f.get("reverse_question"):
                term = _TERM.fullmatch(question.strip())
                expected = term[1] if term else question
                reverse = f.get("reverse_question") or (
                    f"Which term means: {_lower_first(answer.rstrip('.'))}?")
                yield card(self.name, f, "reverse", reverse, expected,
                           facts=(normal(expected),), authored=True)

    def note(self, records: Records, rid: str) -> tuple[list[str], list[Record],
                                                        list[tuple[str, str]]]:
        f = records["fact"][rid]
        return [str(f["question"]), str(f["answer"])], [f], [("fact", rid)]


register_kind(Fact())
register_family(FactCards())
