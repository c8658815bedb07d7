"""The record set as a graph, indexed once for every card family, and shared wording.

Every index is built in one pass over the records (or a sort), so that the
families that work across records stay linear in the number of records.
"""

from __future__ import annotations

import functools
import zlib
from collections import defaultdict
from typing import Any

from cards.dates import PartialDate, _parse, parse_optional
from cards.registry import Record, Records


def pdate(value: str | None) -> PartialDate | None:
    return parse_optional(value)


def year_span(start: PartialDate | None, end: PartialDate | None) -> str:
    """A range at year precision: '1922–1952', 'since 2012', '1953'."""
    if start is None and end is None:
        return "date unknown"
    if start is None:
        assert end is not None
        return f"until {end.year}"
    if end is None:
        return f"since {start.year}"
    if start.year == end.year:
        return str(start.year)
    return f"{start.year}–{end.year}"


def year_phrase(start: PartialDate, end: PartialDate | None) -> str:
    """A range in a sentence, at year precision, or month precision within one year:
    'from 1922 to 1952', 'since 2012', 'in 1953', 'from March to September 1953'."""
    if end is None:
        return f"since {start.year}"
    if start.year != end.year:
        return f"from {start.year} to {end.year}"
    if start.month and end.month and start.month != end.month:
        return f"from {start.words().split(' ')[-2]} to {end.words().split(' ')[-2]} {end.year}"
    if start.month and end.month:
        return f"in {PartialDate(end.year, end.month).words()}"
    return f"in {start.year}"


def span_facts(start: PartialDate | None, end: PartialDate | None) -> tuple[Any, ...]:
    """The facts of a range at the precision ``year_phrase`` asks."""
    if start is None or end is None or start.year != end.year:
        return (start.year if start else None, end.year if end else None)
    return (start.year, start.month, end.year, end.month)


def stable_rank(*parts: str) -> int:
    """A number that orders items the same way on every run (for bounded choices)."""
    return zlib.crc32("\x1f".join(parts).encode())


def organ_name(organ: Record) -> str:
    """An organ's name as it stands in a card: its full name, no abbreviation."""
    return str(organ["name"])


def organ_label(organ: Record) -> str:
    """An organ's name with its abbreviation, for context lines and notes."""
    short = organ.get("short")
    if short and short != organ["name"]:
        return f"{organ['name']} ({short})"
    return str(organ["name"])


def the(organ: Record) -> str:
    """The organ's name in a sentence (newspapers and names with an article take none)."""
    name = organ_name(organ)
    if organ.get("kind") == "newspaper" or name.lower().startswith("the "):
        return name
    return f"the {name}"


def office_title(office: Record | None, office_id: str, acting: bool = False) -> str:
    title = str(office["title"]) if office else office_id
    return f"acting {title}" if acting else title


def substantive(tenure: Record) -> bool:
    """A holder who may be said to have succeeded or been succeeded (not acting or informal)."""
    return not tenure.get("acting") and not tenure.get("informal")


class Graph:
    """The records with the indexes the card families share."""

    def __init__(self, records: Records) -> None:
        self.records = records
        self.people = records.get("person", {})
        self.organs = records.get("organ", {})
        self.offices = records.get("office", {})
        self.tenures = records.get("tenure", {})
        self.events = records.get("event", {})
        self.facts = records.get("fact", {})

    def person_name(self, pid: str) -> str:
        person = self.people.get(pid)
        return str(person["name"]) if person else pid

    def title(self, tenure: Record) -> str:
        """The title the holder bore: the tenure's own, else its office's."""
        if tenure.get("title"):
            return str(tenure["title"])
        return office_title(self.offices.get(tenure["office"]), tenure["office"])

    def styled_title(self, tenure: Record) -> str:
        """The title with how it was held: 'acting General Secretary ...'."""
        title = self.title(tenure)
        if tenure.get("acting"):
            return f"acting {title}"
        if tenure.get("informal"):
            return f"de facto {title}"
        return title

    @functools.cached_property
    def role_of(self) -> dict[str, str]:
        """Each office's role: offices joined by ``succeeded_by`` share one (its first)."""
        parent = {oid: oid for oid in self.offices}

        def find(x: str) -> str:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for oid, office in self.offices.items():
            nxt = office.get("succeeded_by")
            if nxt is not None and nxt in parent:
                a, b = find(oid), find(nxt)
                if a != b:
                    parent[max(a, b)] = min(a, b)
        return {oid: find(oid) for oid in self.offices}

    @functools.cached_property
    def by_role(self) -> dict[str, list[Record]]:
        """The tenures of each role, by start (then id)."""
        out: dict[str, list[Record]] = defaultdict(list)
        role_of = self.role_of
        for t in self.tenures.values():
            office: str = t["office"]
            out[role_of.get(office, office)].append(t)
        for tenures in out.values():
            tenures.sort(key=_start_key)
        return out

    @functools.cached_property
    def by_person(self) -> dict[str, list[Record]]:
        out: dict[str, list[Record]] = defaultdict(list)
        for t in self.tenures.values():
            out[t["person"]].append(t)
        for tenures in out.values():
            tenures.sort(key=_start_key)
        return out

    @functools.cached_property
    def offices_of_organ(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = defaultdict(list)
        for oid, office in self.offices.items():
            if office.get("organ"):
                out[office["organ"]].append(oid)
        return out

    @functools.cached_property
    def predecessors(self) -> dict[str, list[str]]:
        """Organ id -> the organs that ``succeeded_by`` names it from."""
        out: dict[str, list[str]] = defaultdict(list)
        for oid, organ in self.organs.items():
            nxt = organ.get("succeeded_by")
            if nxt in self.organs and nxt != oid:
                out[nxt].append(oid)
        return out


def _start_key(t: Record) -> tuple[Any, ...]:
    return (PartialDate.parse(t["start"]).earliest(), t["id"])


def tenure_bounds(t: Record) -> tuple[PartialDate, PartialDate | None]:
    # called for every tenure by several families: strings go straight to the parse cache
    start, end = t["start"], t.get("end")
    return (_parse(start) if type(start) is str else PartialDate.parse(start),
            None if end is None or end == "" else
            _parse(end) if type(end) is str else PartialDate.parse(end))
