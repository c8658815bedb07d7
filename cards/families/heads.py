"""Heads: "Who headed the NKVD at the time of the Assassination of Sergei Kirov (1934)?".

An event's date is joined to the tenures of the offices of its organs (and
of the organs those belong to, up the ``part_of`` chain). A card is made
only when exactly one holder of the role may have been in office on the
event's dates, at their precision.

It is also joined to the top post of the event's party, so an event of the
security police can ask who led the party at the time:

* The party of an event is the one organ of kind ``party`` that its organs
  belong to (the organ itself or up its ``part_of`` chain). An event with no
  such organ takes the one party whose tags share a top-level tag with the
  event's (``ussr`` of ``ussr::security``). No party, or two (an event of the
  Soviet and the Chinese party), means no party card: never a guess.
* The party's top post is the role (offices joined by ``succeeded_by``) held
  in the party or its organs that has the most tenures; a tie means none.
* A long tenure covers many events, and "who led the party?" is worth asking
  near its ends, so a tenure gets at most ``PER_TENURE`` such card: for the
  event nearest its start or end (ties by card key; cards of the event's own
  organs are not limited). Without the limit Stalin's 31-year tenure made 17
  cards of one answer, which share a sibling group and bury one another in
  study (tests/test_month.py bounds the buried share at a tenth).

A holder is asked for only when exactly one tenure of the role covers the
event. An acting holder is named as acting; an informal holder did not hold
the post, so an event in an informal holder's time makes no card.
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

#: At most this many party-top-post cards per tenure: for the events nearest its ends.
PER_TENURE = 1


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

def _party_of_organ(graph: Graph, oid: str) -> str | None:
    """The organ of kind ``party`` that ``oid`` is or belongs to, if any."""
    seen: set[str] = set()
    while oid in graph.organs and oid not in seen:
        if graph.organs[oid].get("kind") == "party":
            return oid
        seen.add(oid)
        oid = graph.organs[oid].get("part_of", "")
    return None


def _top(tag: str) -> str:
    return tag.split("::", 1)[0]


def top_posts(graph: Graph) -> dict[str, str]:
    """Party organ id -> the role of its top post (the role with the most tenures)."""
    count: dict[str, dict[str, int]] = {}
    for oid, office in graph.offices.items():
        party = _party_of_organ(graph, office.get("organ", ""))
        if party is not None:
            role = graph.role_of.get(oid, oid)
            count.setdefault(party, {})[role] = len(graph.by_role.get(role, ()))
    out = {}
    for party, per in count.items():
        ranked = sorted(per.values(), reverse=True)
        if ranked[0] > 0 and (len(ranked) == 1 or ranked[0] > ranked[1]):
            out[party] = max(per, key=per.__getitem__)
    return out


def parties_by_top_tag(graph: Graph) -> dict[str, set[str]]:
    """The party organs under each top-level tag (``ussr`` for ``ussr::party``)."""
    out: dict[str, set[str]] = {}
    for oid, o in graph.organs.items():
        if o.get("kind") == "party":
            for t in o.get("tags", ()):
                out.setdefault(_top(str(t)), set()).add(oid)
    return out


def party_of(graph: Graph, event: Record,
             by_top: dict[str, set[str]] | None = None) -> str | None:
    """The one party an event belongs to (see the module docstring), or None.

    ``by_top`` is ``parties_by_top_tag(graph)``, made once for many events (else
    made here): looking through every organ for every event would be quadratic.
    """
    parties = {p for oid in event.get("organs", [])
               if (p := _party_of_organ(graph, oid)) is not None}
    if not parties:
        by_top = parties_by_top_tag(graph) if by_top is None else by_top
        parties = {oid for t in event.get("tags", ())
                   for oid in by_top.get(_top(str(t)), ())}
    return parties.pop() if len(parties) == 1 else None


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
        top = top_posts(graph)
        by_top = parties_by_top_tag(graph)
        by_party: dict[str, list[tuple[Any, CardSpec]]] = {}
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
            party = party_of(graph, e, by_top)
            party_role = top.get(party) if party is not None else None
            from_party = party_role is not None and party_role not in roles
            if party_role is not None:
                roles.setdefault(party_role)
            for role in roles:
                tenures = graph.by_role.get(role, [])
                if role not in starts:
                    starts[role] = [PartialDate.parse(t["start"]).earliest() for t in tenures]
                found = _covering(tenures, starts[role], first, last)
                if len(found) != 1:
                    continue
                t = found[0]
                if t.get("informal"):
                    continue  # not presented as holding the post
                start, end = tenure_bounds(t)
                if not (start.latest() <= first.earliest()
                        and (end is None or end.earliest() >= last.latest())):
                    continue  # in office for part of the event, or maybe not at all
                if t["person"] in e.get("people", []):
                    continue
                rid = f"{eid}@{t['office']}"
                year = first.year if first.year == last.year else f"{first.year}–{last.year}"
                card = CardSpec(
                    f"{self.name}:{rid}:head-at", self.name, self.name, rid, "head-at",
                    f"Who was {graph.styled_title(t)} {at_the_time(str(e['name']))} "
                    f"({year})?",
                    graph.person_name(t["person"]), (f"event:{eid}", f"tenure:{t['id']}"),
                    tuple(dict.fromkeys([*e.get("tags", ()), *t.get("tags", ())])),
                    facts=(t["person"], t["id"]), entity=f"person:{t['person']}",
                    mentions=(f"event:{eid}",))
                if from_party and role == party_role:
                    gap = min(first.earliest() - start.latest(),
                              (end.earliest() - last.latest()) if end else first.earliest()
                              - start.latest())
                    by_party.setdefault(t["id"], []).append((gap, card))
                else:
                    yield card
        for found_cards in by_party.values():
            found_cards.sort(key=lambda gc: (gc[0], gc[1].key))
            yield from (c for _, c in found_cards[:PER_TENURE])

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
