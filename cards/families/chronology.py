"""Chronology: "Which came first: the Assassination of Sergei Kirov or the 17th Party Congress?".

Pairs of events at most ``YEARS`` years apart that share a tag, one
certainly before the other. Each event is paired with at most ``PER_EVENT``
later events, chosen among its next ``WINDOW`` candidates by a stable hash of
the pair, so that keys stay put when other events are added; the work is
linear in the number of events.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Iterator

from cards.graph import Graph, stable_rank
from cards.kinds.event import event_bounds, the_event
from cards.registry import CardSpec, Family, Record, Records, register_family

YEARS = 5
PER_EVENT = 1
WINDOW = 12


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


class Chronology(Family):
    """``first``: which of two events came first."""

    name = "chronology"
    label, plural = "Chronology", "Chronology"
    templates = ("first",)
    data_fields = ("Earlier", "Later")
    sort = "Earlier"
    order = 90

    def cards(self, graph: Graph) -> Iterator[CardSpec]:
        by_tag: dict[str, list[tuple[object, str]]] = defaultdict(list)
        spans = {}
        for eid, e in graph.events.items():
            first, last = event_bounds(e)
            if first is None:
                continue
            spans[eid] = (first.earliest(), (last or first).latest())
            for tag in e.get("tags", ()):
                by_tag[tag].append((spans[eid][0], eid))
        candidates: dict[str, set[str]] = defaultdict(set)
        for events in by_tag.values():
            events.sort()
            for i, (_, a) in enumerate(events):
                for _, b in events[i + 1:i + 1 + WINDOW]:
                    if b != a:
                        candidates[a].add(b)
        made: set[tuple[str, str]] = set()
        for a in graph.events:
            others = candidates.get(a)
            if not others:
                continue
            mine = []
            a0, a1 = spans[a]
            for b in others:
                b0, b1 = spans[b]
                if a1 < b0:
                    early, late, gap = a, b, b0.year - a1.year
                elif b1 < a0:
                    early, late, gap = b, a, a0.year - b1.year
                else:
                    continue  # they overlap, or the dates are too coarse to tell
                if gap > YEARS:
                    continue
                # stable_rank(*sorted((a, b))), inline: this runs for every candidate pair
                pair = f"{a}\x1f{b}" if a < b else f"{b}\x1f{a}"
                mine.append((zlib.crc32(pair.encode()), early, late))
            for _, early, late in sorted(mine)[:PER_EVENT]:
                if (early, late) in made:
                    continue
                made.add((early, late))
                yield self._card(graph.events[early], graph.events[late])

    def _card(self, early: Record, late: Record) -> CardSpec:
        rid = f"{early['id']}+{late['id']}"
        names = [str(early["name"]), str(late["name"])]
        if stable_rank(rid) % 2:
            names.reverse()
        question = (f"Which came first: {the_event(names[0])}, or "
                    f"{the_event(names[1])}?")
        tags = tuple(t for t in early.get("tags", ()) if t in set(late.get("tags", ())))
        return CardSpec(
            f"{self.name}:{rid}:first", self.name, self.name, rid, "first", question,
            _capital(the_event(str(early["name"]))),
            (f"event:{early['id']}", f"event:{late['id']}"), tags, facts=(early["id"],),
            options=tuple(names))

    def parts(self, rid: str) -> list[tuple[str, str]]:
        first, second = rid.split("+")
        return [("event", first), ("event", second)]

    def note(self, records: Records, rid: str) -> tuple[list[str], list[Record],
                                                        list[tuple[str, str]]]:
        first, second = rid.split("+")
        a, b = records["event"][first], records["event"][second]
        return [str(a["name"]), str(b["name"])], [a, b], [("event", first), ("event", second)]


register_family(Chronology())
