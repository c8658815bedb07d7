"""Organs: parties, committees, services, newspapers; what they were part of and became."""

from __future__ import annotations

import re
from collections.abc import Iterator

from cards.dates import span_words
from cards.gate import name_words, normal
from cards.graph import Graph, organ_label, organ_name, pdate, the
from cards.kinds.base import card, words
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


class Organ(KindModule):
    kind = Kind("organ", "organs", "name", (
        Field("name", required=True, help="full name"),
        Field("short", help="abbreviation, e.g. KGB"),
        Field("kind", help="party, committee, security service, newspaper, ..."),
        Field("part_of", "ref", ref="organ", help="id of the organ it belongs to"),
        Field("succeeded_by", "ref", ref="organ", help="id of the organ that replaced it"),
        Field("founded", "date", help="date it was set up"),
        Field("dissolved", "date", help="date it ended; omit while it exists"),
        Field("summary", help="what the body did, without its name, for 'Which body ...?'"),
    ), span=("founded", "dissolved"))
    columns = ("id", "name", "short", "part_of", "founded", "dissolved")
    order = 2

    def context_lines(self, records: Records, rec: Record) -> list[str]:
        lines = []
        if rec.get("founded") or rec.get("dissolved"):
            lines.append(f"{organ_label(rec)}: "
                         f"{span_words(pdate(rec.get('founded')), pdate(rec.get('dissolved')))}")
        return lines + super().context_lines(records, rec)


def mask(text: str, *names: str) -> str:
    """``text`` with every occurrence of each name (any case, whole words) replaced by '…'."""
    for name in sorted((n.strip() for n in names if n and n.strip()), key=len, reverse=True):
        text = _mask_one(text, name)
    return text


def _mask_one(text: str, name: str) -> str:
    lower, needle = text.casefold(), name.casefold()
    if len(lower) != len(text) or needle not in lower:  # casefold changed lengths: rare
        if needle not in lower:
            return text
        return re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", "…", text, flags=re.IGNORECASE)
    out, at = [], 0
    while (i := lower.find(needle, at)) >= 0:
        j = i + len(needle)
        if (i == 0 or not text[i - 1].isalnum() and text[i - 1] != "_") and (
                j == len(text) or not text[j].isalnum() and text[j] != "_"):
            out.append(text[at:i])
            out.append("…")
        else:
            out.append(text[at:j])
        at = j
    out.append(text[at:])
    return "".join(out)


class OrganCards(Family):
    """``parent``, ``founded``, ``replaced-by``, ``replaced``, ``expansion``, ``function``."""

    name = "organ"
    label, plural = "Organ", "Organs"
    templates = ("parent", "founded", "replaced-by", "replaced", "expansion", "function")
    data_fields = ("Name", "Short", "Type", "Part Of", "Succeeded By", "Founded", "Dissolved",
                   "Summary")
    sort = "Name"
    kind = "organ"
    order = 10

    def cards(self, graph: Graph) -> Iterator[CardSpec]:
        organs = graph.organs
        for oid, o in organs.items():
            the_o = the(o)
            past = "dissolved" in o
            mine = (f"organ:{oid}",)
            shorts = (o["short"],) if o.get("short") else ()
            parent = organs.get(o.get("part_of", ""))
            if parent and parent is not o and not (
                    name_words(organ_name(parent)) <= name_words(organ_name(o))):
                verb = "was" if past else "is"
                yield card(self.name, o, "parent", f"Which body {verb} {the_o} part of?",
                           organ_name(parent), facts=(parent["id"],),
                           entity=f"organ:{parent['id']}", mentions=mine,
                           shorts=(parent["short"],) if parent.get("short") else ())
            founded = pdate(o.get("founded"))
            if founded:
                yield card(self.name, o, "founded", f"In which year was {the_o} founded?",
                           str(founded.year), facts=(founded.year,), mentions=mine)
            successor = organs.get(o.get("succeeded_by", ""))
            if successor and successor is not o:
                yield card(self.name, o, "replaced-by", f"Which body replaced {the_o}?",
                           organ_name(successor), facts=(successor["id"],),
                           entity=f"organ:{successor['id']}", mentions=mine,
                           shorts=(successor["short"],) if successor.get("short") else ())
            before = graph.predecessors.get(oid, [])
            if len(before) == 1:
                pred = organs[before[0]]
                yield card(self.name, o, "replaced", f"Which body did {the_o} replace?",
                           organ_name(pred), facts=(pred["id"],), entity=f"organ:{pred['id']}",
                           mentions=mine,
                           shorts=(pred["short"],) if pred.get("short") else ())
            short = o.get("short")
            if short and normal(short) and normal(short) not in normal(str(o["name"])):
                yield card(self.name, o, "expansion", f"What does {short} stand for?",
                           str(o["name"]), facts=(normal(str(o["name"])),),
                           entity=f"organ:{oid}")
            if o.get("summary"):
                text = mask(str(o["summary"]), str(o["name"]), short or "").strip()
                question = _function_question(text, past="dissolved" in o)
                yield card(self.name, o, "function", question, organ_name(o),
                           facts=(oid,), entity=f"organ:{oid}", shorts=shorts)

    def note(self, records: Records, rid: str) -> tuple[list[str], list[Record],
                                                        list[tuple[str, str]]]:
        o = records["organ"][rid]

        def named(oid: str | None) -> str:
            other = records["organ"].get(oid or "")
            return organ_label(other) if other else (oid or "")

        data = [str(o["name"]), o.get("short", ""), o.get("kind", ""), named(o.get("part_of")),
                named(o.get("succeeded_by")), words(o.get("founded")), words(o.get("dissolved")),
                o.get("summary", "")]
        uses = [("organ", rid)] + [("organ", o[f]) for f in ("part_of", "succeeded_by") if f in o]
        return data, [o], uses

    def around(self, load: Loader, rid: str) -> Records:
        organs = load("organ", [rid])
        refs = [o[f] for o in organs.values() for f in ("part_of", "succeeded_by") if f in o]
        return {"organ": {**organs, **(load("organ", refs) if refs else {})}}


register_kind(Organ())
register_family(OrganCards())


def _function_question(summary: str, past: bool) -> str:
    """The question of a ``function`` card, from a summary written without the name.

    A summary may be a verb phrase ("ran the party between congresses"), a
    noun phrase ("the party's disciplinary body") or a sentence of its own.
    A noun phrase names its own kind of body ("the newspaper that ..."), so it
    is asked with "What", not "Which body" ("Which body was the body ...").
    """
    text = summary.rstrip(". ")
    first = text.split(" ", 1)[0]
    if first in ("the", "a", "an"):
        return f"What {'was' if past else 'is'} {text}?"
    if text[:1].islower():
        return f"Which body {text}?"
    return f"Which body is this? {summary}"
