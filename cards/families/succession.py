"""Succession: who followed whom at the head of a role, across renamed offices.

A role is an office together with the offices joined to it by
``succeeded_by`` (Responsible Secretary -> General Secretary); a tenure's
``title`` says what the post was called at the time (First Secretary
1953-1966). Two tenures of a role in a row, by different people, at most
``SUCCESSION_GAP_DAYS`` apart, make a succession. Acting and informal holders
are never said to have succeeded anyone: the holders on either side of them
are joined, and the acting holder gets an ``acting`` card of their own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from cards.dates import PartialDate
from cards.graph import Graph, substantive
from cards.kinds.tenure import person_aliases
from cards.registry import (
    CardSpec,
    Family,
    Loader,
    Record,
    Records,
    register_family,
)

#: Two tenures of a role are a succession when the second starts at most this
#: many days after the first ends; a longer gap means the post was vacant.
SUCCESSION_GAP_DAYS = 366


#: Across two offices of a role, B must begin no more than this many days before A
#: ends: two posts held side by side for longer are parallel, not one after the other.
OVERLAP_DAYS = 31


def successions(graph: Graph) -> Iterator[tuple[Record, Record, bool]]:
    """``(A, B, acting)``: B followed A in A's role; ``acting``: B is acting or informal."""
    for tenures in graph.by_role.values():
        last: Record | None = None  # the last substantive holder
        for t in tenures:
            if last is not None and last["person"] != t["person"] and "end" in last:
                start = PartialDate.parse(t["start"])
                end = PartialDate.parse(last["end"])
                gap = start.earliest() - end.latest()
                parallel = (last["office"] != t["office"]
                            and (end.earliest() - start.latest()).days > OVERLAP_DAYS)
                if gap.days <= SUCCESSION_GAP_DAYS and not parallel:
                    yield last, t, not substantive(t)
            if substantive(t):
                last = t


class Succession(Family):
    """``successor``, ``predecessor``, and ``acting`` for an acting or informal holder."""

    name = "succession"
    label, plural = "Succession", "Successions"
    templates = ("successor", "predecessor", "acting")
    data_fields = ("Office", "Predecessor", "Successor", "Date")
    sort = "Office"
    order = 25

    def cards(self, graph: Graph) -> Iterator[CardSpec]:
        terms = Counter((graph.role_of.get(t["office"], t["office"]), t["person"])
                        for t in graph.tenures.values() if substantive(t))
        for a, b, acting in successions(graph):
            pa, pb = graph.person_name(a["person"]), graph.person_name(b["person"])
            year = PartialDate.parse(b["start"]).year
            pair = f"{a['id']}+{b['id']}"
            group = (f"tenure:{a['id']}", f"tenure:{b['id']}")
            tags = tuple(dict.fromkeys([*a.get("tags", ()), *b.get("tags", ())]))
            ta, tb = graph.title(a), graph.title(b)
            renamed = ta != tb
            several = terms[graph.role_of.get(a["office"], a["office"]), a["person"]] > 1
            when = f" in {year}" if several else ""
            # across a renamed post, each holder is named with the title they bore
            # (the name in use at the time), and the question asks for "that post"
            after = f"{pa} ({ta})" if renamed else pa
            before = f"{pb} ({tb})" if renamed else pb
            head = "in that post" if renamed else f"as {ta}"
            who_a, who_b = f"person:{a['person']}", f"person:{b['person']}"

            def card(template: str, question: str, answer: str, facts: tuple[Any, ...],
                     entity: str, mentions: tuple[str, ...], pair: str = pair,
                     group: tuple[str, ...] = group, tags: tuple[str, ...] = tags) -> CardSpec:
                return CardSpec(f"succession:{pair}:{template}", "succession", "succession",
                                pair, template, question, answer, group, tags, facts=facts,
                                entity=entity, mentions=mentions)

            if acting:
                style = "acting" if b.get("acting") else "de facto"
                yield card("acting", f"Who was {style} {tb} after {pa}?",
                           f"{pb} ({year})", (b["person"], year), who_b, (who_a,))
                continue
            # the answer gives the year of the succession, unless the question asks with it
            shown = [tb] if renamed else []
            if not several:
                shown.append(str(year))
            label = f"{pb} ({', '.join(shown)})" if shown else pb
            yield card("successor", f"Who succeeded {after} {head}{when}?", label,
                       (b["person"], year), who_b, (who_a,))
            yield card("predecessor", f"Whom did {before} succeed {head} in {year}?", pa,
                       (a["person"],), who_a, (who_b,))

    def parts(self, rid: str) -> list[tuple[str, str]]:
        first, second = rid.split("+")
        return [("tenure", first), ("tenure", second)]

    def around(self, load: Loader, rid: str) -> Records:
        tenures = load("tenure", rid.split("+"))
        return {"tenure": tenures,
                "person": load("person", [t["person"] for t in tenures.values()]),
                "office": load("office", [t["office"] for t in tenures.values()])}

    def edit_target(self, rid: str, template: str) -> tuple[str, str]:
        first, second = rid.split("+")
        return ("tenure", first if template == "predecessor" else second)

    def note(self, records: Records, rid: str) -> tuple[list[str], list[Record],
                                                        list[tuple[str, str]]]:
        first, second = rid.split("+")
        a, b = records["tenure"][first], records["tenure"][second]
        graph = Graph(records)
        style = " (acting)" if b.get("acting") else " (de facto)" if b.get("informal") else ""
        data = [graph.title(a), graph.person_name(a["person"]),
                graph.person_name(b["person"]) + style,
                PartialDate.parse(b["start"]).words()]
        uses = [("tenure", first), ("tenure", second), ("person", a["person"]),
                ("person", b["person"]), ("office", a["office"]), ("office", b["office"])]
        return data, [a, b], uses

    def aliases(self, records: Records, card: dict[str, Any]) -> list[str]:
        first, second = str(card["record_id"]).split("+")
        tid = first if card["template"] == "predecessor" else second
        t = records.get("tenure", {}).get(tid)
        return person_aliases(records, t["person"]) if t else []


register_family(Succession())
