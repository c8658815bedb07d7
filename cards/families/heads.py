"""Heads: "Who headed the NKVD at the time of the Assassination of Sergei Kirov (1934)?".

An event's date is joined to the tenures of the offices of its organs (and
of the organs those belong to, up the ``part_of`` chain). A card is made
only when exactly one holder of the role may have been in office on the
event's dates, at their precision.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from typing import Any

from cards.dates import PartialDate
from cards.graph import Graph, tenure_bounds
from cards.kinds.event import event_bounds, sentence_like, the_event
from cards.registry import CardSpec, Family, Loader, Record, Records, register_family

#: How far up the ``part_of`` chain an event's organs are followed.
DEPTH = 3


def _covering(tenures: list[Record], starts: list[Any], first: PartialDate,
              last: PartialDate) -> list[Record]:
    """Tenures of a role that may include some day from ``first`` to ``last``."""
    hi = bisect.bisect_right(starts, last.latest())
    found = []
    for t in reversed(tenures[:hi]):
        start, end = tenure_bounds(t)
        if end is None or end.latest() >= first.earliest():
            found.append(t)
        if len(found) > 1:
            break
    return found



def at_the_time(name: str) -> str:
    """'at the time of the Long March'; a headline name ('OGPU absorbed into the NKVD')
    reads as a clause after "when this happened:", not after "at the time of"."""
    return f"when this happened: {name}" if sentence_like(name) else (
        f"at the time of {the_event(name)}")

class Heads(Family):
    """``head-at``: who held an organ's post when an event happened."""

    name = "heads"
    label, plural = "Head", "Heads"
    templates = ("head-at",)
    data_fields = ("Event", "Office", "Holder")
    sort = "Event"
    order = 70

    def cards(self, graph: Graph) -> Iterator[CardSpec]:
        starts: dict[str, list[Any]] = {}
        for eid, e in graph.events.items():
            first, last = event_bounds(e)
            if first is None:
                continue
            last = last or first
            organs: list[str] = []
            for oid in e.get("organs", []):
                depth = 0
                while oid in graph.organs and oid not in organs and depth < DEPTH:
                    organs.append(oid)
                    oid = graph.organs[oid].get("part_of", "")
                    depth += 1
            roles = dict.fromkeys(graph.role_of.get(f, f) for oid in organs
                                  for f in graph.offices_of_organ.get(oid, ()))
            for role in roles:
                tenures = graph.by_role.get(role, [])
                if role not in starts:
                    starts[role] = [PartialDate.parse(t["start"]).earliest() for t in tenures]
                found = _covering(tenures, starts[role], first, last)
                if len(found) != 1:
                    continue
                t = found[0]
                start, end = tenure_bounds(t)
                if not (start.latest() <= first.earliest()
                        and (end is None or end.earliest() >= last.latest())):
                    continue  # in office for part of the event, or maybe not at all
                if t["person"] in e.get("people", []):
                    continue
                rid = f"{eid}@{t['office']}"
                year = first.year if first.year == last.year else f"{first.year}–{last.year}"
                yield CardSpec(
                    f"{self.name}:{rid}:head-at", self.name, self.name, rid, "head-at",
                    f"Who was {graph.styled_title(t)} {at_the_time(str(e['name']))} "
                    f"({year})?",
                    graph.person_name(t["person"]), (f"event:{eid}", f"tenure:{t['id']}"),
                    tuple(dict.fromkeys([*e.get("tags", ()), *t.get("tags", ())])),
                    facts=(t["person"], t["id"]), entity=f"person:{t['person']}",
                    mentions=(f"event:{eid}",))

    def parts(self, rid: str) -> list[tuple[str, str]]:
        return [("event", rid.rsplit("@", 1)[0])]

    def around(self, load: Loader, rid: str) -> Records:
        eid, office = rid.rsplit("@", 1)
        return {"event": load("event", [eid]), "office": load("office", [office])}

    def note(self, records: Records, rid: str) -> tuple[list[str], list[Record],
                                                        list[tuple[str, str]]]:
        eid, oid = rid.rsplit("@", 1)
        e = records["event"][eid]
        office = records["office"].get(oid)
        return ([str(e["name"]), str(office["title"]) if office else oid, ""], [e],
                [("event", eid), ("office", oid)])

    def aliases(self, records: Records, card: dict[str, Any]) -> list[str]:
        return [str(card["answer"])]


register_family(Heads())
