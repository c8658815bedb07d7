"""Tenures: who held an office, when, and with which title."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cards.dates import PartialDate, span_words
from cards.graph import Graph, pdate, span_facts, tenure_bounds, year_phrase, year_span
from cards.kinds.base import card, life
from cards.registry import (
    CardSpec,
    Family,
    Field,
    Kind,
    KindModule,
    Loader,
    Record,
    Records,
    register_family,
    register_kind,
)


class Tenure(KindModule):
    kind = Kind("tenure", "tenures", "id", (
        Field("person", "ref", required=True, ref="person", help="id of the holder"),
        Field("office", "ref", required=True, ref="office", help="id of the office"),
        Field("start", "date", required=True, help="first day in office"),
        Field("end", "date", help="last day in office; omit while still in office"),
        Field("acting", "bool", help="an acting holder"),
        Field("informal", "bool", help="a de facto or informal holder, never said to succeed"),
        Field("title", help="the title the holder bore, when it differs from the office's"),
    ), span=("start", "end"))
    columns = ("id", "person", "office", "start", "end", "acting")
    order = 4

    def context_lines(self, records: Records, rec: Record) -> list[str]:
        graph = Graph(records)
        lines = [f"{graph.person_name(rec['person'])}, {graph.styled_title(rec)}: "
                 f"{span_words(pdate(rec['start']), pdate(rec.get('end')))}"]
        person = records.get("person", {}).get(rec["person"])
        if person and (person.get("born") or person.get("died")):
            lines.append(f"{person['name']}: {life(person)}")
        return lines + super().context_lines(records, rec)


def overlaps(a: Record, b: Record) -> bool:
    """True if two tenures may share a day (at the precision of their dates)."""
    a0, a1 = tenure_bounds(a)
    b0, b1 = tenure_bounds(b)
    return ((a1 is None or b0.earliest() <= a1.latest())
            and (b1 is None or a0.earliest() <= b1.latest()))


def _overlapping(graph: Graph) -> set[str]:
    """Ids of tenures whose holder held another stored tenure at some time during them.

    A sweep over each person's tenures by start: a tenure overlaps an earlier one
    when it starts before the latest end so far, and a later one when the next
    tenure starts before it ends (later ones start later still).
    """
    out: set[str] = set()
    for tenures in graph.by_person.values():
        latest = None  # the latest last day of the tenures so far (None: still open)
        for i, t in enumerate(tenures):
            start, end = tenure_bounds(t)
            if i and (latest is None or start.earliest() <= latest):
                out.add(t["id"])
            nxt = tenures[i + 1] if i + 1 < len(tenures) else None
            if nxt is not None and (end is None or PartialDate.parse(
                    nxt["start"]).earliest() <= end.latest()):
                out.add(t["id"])
            last = end.latest() if end else None
            if i == 0:
                latest = last
            elif latest is not None:
                latest = None if last is None else max(latest, last)
    return out


def person_aliases(records: Records, pid: str) -> list[str]:
    person = records.get("person", {}).get(pid)
    return [person["name"], *person.get("aliases", [])] if person else []


class TenureCards(Family):
    """``holder`` (who), ``office`` (which office) and ``dates`` (when), asked in years."""

    name = "tenure"
    label, plural = "Tenure", "Tenures"
    templates = ("holder", "office", "dates")
    data_fields = ("Person", "Office", "Dates")
    sort = "Person"
    kind = "tenure"
    order = 20

    def cards(self, graph: Graph) -> Iterator[CardSpec]:
        overlapping = _overlapping(graph)
        for t in graph.tenures.values():
            person = graph.person_name(t["person"])
            title = graph.styled_title(t)
            start, end = tenure_bounds(t)
            phrase = year_phrase(start, end)
            period = span_facts(start, end)
            who = f"person:{t['person']}"
            if end is None:
                q_holder = f"Who has been {title} {phrase}?"
                q_office = f"Which office has {person} held {phrase}?"
                q_dates = f"Since when has {person} been {title}?"
            else:
                q_holder = f"Who was {title} {phrase}?"
                q_office = f"Which office did {person} hold {phrase}?"
                q_dates = f"When was {person} {title}?"
            # an office named in a question is no leak across records: every holder card
            # names one, and the years tell them apart
            yield card(self.name, t, "holder", q_holder, person, facts=(t["person"], *period),
                       entity=who)
            if t["id"] not in overlapping:
                answer = graph.title(t) + (" (acting)" if t.get("acting") else "") + (
                    " (informal)" if t.get("informal") else "")
                yield card(self.name, t, "office", q_office, answer,
                           facts=(t["office"], graph.title(t), *period), mentions=(who,))
            yield card(self.name, t, "dates", q_dates, year_span(start, end),
                       facts=(start.year, end.year if end else None), mentions=(who,))

    def around(self, load: Loader, rid: str) -> Records:
        tenures = load("tenure", [rid])
        return {"tenure": tenures,
                "person": load("person", [t["person"] for t in tenures.values()]),
                "office": load("office", [t["office"] for t in tenures.values()])}

    def note(self, records: Records, rid: str) -> tuple[list[str], list[Record],
                                                        list[tuple[str, str]]]:
        t = records["tenure"][rid]
        graph = Graph(records)
        data = [graph.person_name(t["person"]), graph.styled_title(t),
                span_words(pdate(t["start"]), pdate(t.get("end")))]
        return data, [t], [("tenure", rid), ("person", t["person"]), ("office", t["office"])]

    def aliases(self, records: Records, card: dict[str, Any]) -> list[str]:
        if card["template"] != "holder":
            return []
        t = records.get("tenure", {}).get(card["record_id"])
        return person_aliases(records, t["person"]) if t else []


register_kind(Tenure())
register_family(TenureCards())
