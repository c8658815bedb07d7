"""As-of: "Who was General Secretary of the CPSU in 1937?".

Asked only for a year that one person held the post throughout, with no
other holder (acting ones included) of the role in any part of that year,
and for at most ``PER_TENURE`` years of a tenure, chosen by a stable hash so
that a card's key does not move when other records change.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any

from cards.graph import Graph, stable_rank, substantive, tenure_bounds
from cards.kinds.tenure import person_aliases
from cards.registry import CardSpec, Family, Loader, Record, Records, register_family

PER_TENURE = 2
#: How many neighbours in a role are compared with a tenure (roles are sorted by start).
WINDOW = 8


def _years(tenures: list[Record], i: int,
           spans: list[tuple[int, int]] | None = None) -> list[int]:
    """Years that tenure ``i`` of a role covers alone, whole.

    ``spans`` are the role's tenures' (first, last) years, if worked out already.
    """
    t = tenures[i]
    start, end = tenure_bounds(t)
    if end is None:
        return []
    first = start.year if (start.month, start.day) == (1, 1) else start.year + 1
    last = end.year if (end.month, end.day) == (12, 31) else end.year - 1
    if last < first:
        return []
    if spans is None:
        spans = _spans(tenures)
    lo_j, hi_j = max(0, i - WINDOW), min(len(tenures), i + WINDOW + 1)
    # the neighbours that reach into the tenure's years (most reach none)
    taken = [(lo, hi) for lo, hi in spans[lo_j:i] + spans[i + 1:hi_j]
             if lo <= last and hi >= first]
    if not taken:
        return list(range(first, last + 1))
    return [y for y in range(first, last + 1)
            if not any(lo <= y <= hi for lo, hi in taken)]


def _spans(tenures: list[Record]) -> list[tuple[int, int]]:
    """Each tenure's first and last year (10,000 for one still running)."""
    out = []
    for t in tenures:
        s, e = tenure_bounds(t)
        out.append((s.earliest().year, e.latest().year if e else 10_000))
    return out


class AsOf(Family):
    """``held-in``: the one holder of a post in a given year."""

    name = "as-of"
    label, plural = "As Of", "As Of"
    templates = ("held-in",)
    data_fields = ("Office", "Year", "Holder")
    sort = "Office"
    order = 60

    def cards(self, graph: Graph) -> Iterator[CardSpec]:
        for tenures in graph.by_role.values():
            spans = _spans(tenures)
            for i, t in enumerate(tenures):
                if not substantive(t):
                    continue
                years = _years(tenures, i, spans)
                if len(years) > PER_TENURE:
                    # stable_rank(id, year), the checksum of the id taken once
                    base = stable_rank(t["id"])
                    years = sorted(years, key=lambda y: zlib.crc32(f"\x1f{y}".encode(), base))
                chosen = years[:PER_TENURE]
                for year in sorted(chosen):
                    rid = f"{t['id']}@{year}"
                    yield CardSpec(
                        f"{self.name}:{rid}:held-in", self.name, self.name, rid, "held-in",
                        f"Who was {graph.title(t)} in {year}?",
                        graph.person_name(t["person"]), (f"tenure:{t['id']}",),
                        tuple(t.get("tags", ())), facts=(t["person"], year),
                        entity=f"person:{t['person']}")

    def parts(self, rid: str) -> list[tuple[str, str]]:
        return [("tenure", rid.rsplit("@", 1)[0])]

    def around(self, load: Loader, rid: str) -> Records:
        tenures = load("tenure", [rid.rsplit("@", 1)[0]])
        return {"tenure": tenures,
                "person": load("person", [t["person"] for t in tenures.values()]),
                "office": load("office", [t["office"] for t in tenures.values()])}

    def note(self, records: Records, rid: str) -> tuple[list[str], list[Record],
                                                        list[tuple[str, str]]]:
        tid, year = rid.rsplit("@", 1)
        t = records["tenure"][tid]
        graph = Graph(records)
        return ([graph.title(t), year, graph.person_name(t["person"])], [t],
                [("tenure", tid), ("person", t["person"]), ("office", t["office"])])

    def aliases(self, records: Records, card: dict[str, Any]) -> list[str]:
        t = records.get("tenure", {}).get(str(card["record_id"]).rsplit("@", 1)[0])
        return person_aliases(records, t["person"]) if t else []


register_family(AsOf())
