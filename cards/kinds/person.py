"""People: who they were, from their tenures and an optional summary."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cards.gate import normal
from cards.graph import Graph, tenure_bounds, year_span
from cards.kinds.base import card, life, words
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

#: At most this many of a person's tenures are named in the "Who was X?" answer.
MAX_TENURES = 3


class Person(KindModule):
    kind = Kind("person", "people", "name", (
        Field("name", required=True, help="full name"),
        Field("aliases", "texts", help="other names accepted as answers"),
        Field("born", "date", help="date of birth"),
        Field("died", "date", help="date of death; omit while living"),
        Field("summary", help="a few words on who they were, for the 'Who was X?' card"),
    ), span=("born", "died"))
    columns = ("id", "name", "born", "died", "tags")
    order = 1

    def context_lines(self, records: Records, rec: Record) -> list[str]:
        lines = [f"{rec['name']}: {life(rec)}"] if rec.get("born") or rec.get("died") else []
        return lines + super().context_lines(records, rec)


def said_in(held: str, summary: str) -> bool:
    """True if ``summary`` names the post of ``held`` ("General Secretary of the CCP
    Central Committee, 1935–1943") by its head ("General Secretary") and first year."""
    title, _, span = held.rpartition(", ")
    head = title.split(" of ")[0].removesuffix(" (informal)").lower()
    head = head.removeprefix("acting ")
    return bool(head) and head in summary.lower() and span[:4] in summary


def _by_title(held: list[str]) -> list[str]:
    """``"Title, span"`` entries with each title once, its spans in order."""
    spans: dict[str, list[str]] = {}
    for h in held:
        title, sep, span = h.rpartition(", ")
        if not sep:  # "…": not a post
            title, span = h, ""
        spans.setdefault(title, []).append(span)
    out = []
    for title, found in spans.items():
        found = [s for s in found if s]
        if not found:
            out.append(title)
            continue
        joined = found[0] if len(found) == 1 else ", ".join(found[:-1]) + " and " + found[-1]
        out.append(f"{title}, {joined}")
    return out


class PersonCards(Family):
    """``who``: "Who was Vyacheslav Menzhinsky?" -> his offices and years, and his summary."""

    name = "person"
    label, plural = "Person", "People"
    templates = ("who",)
    data_fields = ("Name", "Aliases", "Born", "Died", "Summary")
    sort = "Name"
    kind = "person"
    order = 50

    def cards(self, graph: Graph) -> Iterator[CardSpec]:
        for pid, person in graph.people.items():
            tenures = graph.by_person.get(pid, [])
            if not tenures and not person.get("summary"):
                continue
            held, facts = [], []
            for t in tenures[:MAX_TENURES]:
                start, end = tenure_bounds(t)
                span = year_span(start, end)
                held.append(f"{graph.styled_title(t)}, {span}")
                facts.append((t["id"], graph.styled_title(t), start.year,
                              end.year if end else None))
            if len(tenures) > MAX_TENURES:
                held.append("…")
            summary = str(person.get("summary") or "")
            # a post the summary already names with its year is not said twice, and a
            # post held twice is named once with both spans ("..., 1941 and 1943–1946")
            held = _by_title([h for h in held if not said_in(h, summary)])
            parts = ([summary[:1].upper() + summary[1:]] if summary else []) + held
            living = "died" not in person and any("end" not in t for t in tenures)
            verb = "is" if living else "was"
            yield card(self.name, person, "who", f"Who {verb} {person['name']}?",
                       "; ".join(parts),
                       facts=(normal(person.get("summary", "")), *facts),
                       mentions=(f"person:{pid}",))

    def note(self, records: Records, rid: str) -> tuple[list[str], list[Record],
                                                        list[tuple[str, str]]]:
        p = records["person"][rid]
        data = [str(p["name"]), ", ".join(p.get("aliases", [])), words(p.get("born")),
                words(p.get("died")), p.get("summary", "")]
        return data, [p], [("person", rid)]

    def aliases(self, records: Records, card: dict[str, Any]) -> list[str]:
        return []


register_kind(Person())
register_family(PersonCards())
