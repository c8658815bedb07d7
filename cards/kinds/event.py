"""Events: when they happened, and which event a summary describes."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from cards.dates import PartialDate, span_words
from cards.gate import STOPWORDS, normal
from cards.graph import Graph, pdate, year_span
from cards.kinds.base import card
from cards.kinds.organ import mask
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


def _check(rec: Record) -> list[tuple[str, str]]:
    if "date" in rec and ("start" in rec or "end" in rec):
        return [("date", "give either date or start and end, not both")]
    if "date" not in rec and "start" not in rec:
        return [("date", "missing, expected date or start (and end)")]
    if "end" in rec and "start" not in rec:
        return [("start", "missing, an event with an end needs a start")]
    return []


def event_bounds(e: Record) -> tuple[PartialDate | None, PartialDate | None]:
    """An event's first and last date (one date for both when it has a single one)."""
    if "date" in e:
        d = pdate(e["date"])
        return d, d
    return pdate(e.get("start")), pdate(e.get("end"))


def event_span(e: Record) -> str:
    """An event's date in words, at the precision stored."""
    if "date" in e:
        return PartialDate.parse(e["date"]).words()
    return span_words(pdate(e.get("start")), pdate(e.get("end")))


class Event(KindModule):
    kind = Kind("event", "events", "name", (
        Field("name", required=True, help="what the event is called"),
        Field("date", "date", help="a single date (or give start and end)"),
        Field("start", "date", help="first day of an event that lasted"),
        Field("end", "date", help="last day of an event that lasted"),
        Field("place", help="where it took place"),
        Field("people", "refs", ref="person", help="ids of people involved"),
        Field("organs", "refs", ref="organ", help="ids of organs involved"),
        Field("summary", help="a description without the name, for 'which event?' cards"),
        Field("question", help="your own wording of the 'when' question"),
    ), span=("start", "end"), check=_check)
    columns = ("id", "name", "date", "start", "end")
    order = 5

    def context_lines(self, records: Records, rec: Record) -> list[str]:
        line = f"{rec['name']}: {event_span(rec)}" + (f", {rec['place']}" if rec.get("place")
                                                      else "")
        return [line, *super().context_lines(records, rec)]


@functools.lru_cache(maxsize=131072)  # pure; several families ask it of every event's name
def sentence_like(name: str) -> bool:
    """A name that reads as a sentence ('Trotsky removed as war commissar') or starts
    with a possessive ("Lenin's Testament"): it takes no article."""
    plain = re.sub(r'\([^)]*\)|"[^"]*"|“[^”]*”', " ", name)
    first = plain.split()[0] if plain.split() else ""
    if first.endswith(("'s", "’s")) or first.lower() in ("a", "an", "the"):
        return True
    return any(w[:1].islower() and w.lower() not in STOPWORDS and w.isalpha()
               and w not in EVENT_NOUNS for w in plain.split()[1:])


#: Lower-case words that end a name without making it a sentence: "August coup",
#: "Tiananmen crackdown" read "the August coup", unlike "Trotsky removed as war commissar".
EVENT_NOUNS = frozenset(
    "affair conference congress coup crackdown crisis famine incident massacre meeting "
    "mutiny plenum protests purge putsch rebellion revolt revolution rising speech strike "
    "trial uprising war".split())


#: Words that open an event's name as a plain noun ("Death of Lenin"): after "the" in a
#: sentence they read in lower case ("the death of Lenin"), unlike a proper name's
#: first word ("the Long March", "the Third Plenum of ...").
PLAIN_NOUNS = frozenset(
    "abolition arrest assassination collapse death defeat dismissal dissolution election "
    "execution expulsion fall founding murder proclamation removal resignation".split())


def the_event(name: str) -> str:
    """An event's name in a sentence: 'the Long March', 'the 17th Party Congress',
    'the death of Lenin', 'Trotsky removed as war commissar'."""
    if sentence_like(name):
        return name
    first, _, rest = name.partition(" ")
    if first.lower() in PLAIN_NOUNS and rest.startswith("of "):
        return f"the {first.lower()} {rest}"
    return f"the {name}"


class EventCards(Family):
    """``date`` (in which year) and ``identify`` (the summary, its name masked)."""

    name = "event"
    label, plural = "Event", "Events"
    templates = ("date", "identify")
    data_fields = ("Name", "Date", "Place", "People", "Organs", "Summary")
    sort = "Name"
    kind = "event"
    order = 30

    def cards(self, graph: Graph) -> Iterator[CardSpec]:
        for eid, e in graph.events.items():
            start, end = event_bounds(e)
            mine = (f"event:{eid}",)
            name = str(e["name"])
            if start is not None:
                single = end is None or start.year == end.year
                years = "year" if single else "years"
                question = e.get("question") or (
                    f"In which {years} was this: {name}?" if sentence_like(name)
                    else f"In which {years} did {the_event(name)} take place?")
                yield card(self.name, e, "date", question, year_span(start, end),
                           facts=(start.year, end.year if end else None), mentions=mine)
            if e.get("summary"):
                text = mask(str(e["summary"]), name)
                yield card(self.name, e, "identify", f"Which event is this? {text}", name,
                           facts=(normal(name),), entity=f"event:{eid}")

    def note(self, records: Records, rid: str) -> tuple[list[str], list[Record],
                                                        list[tuple[str, str]]]:
        e = records["event"][rid]
        people = records.get("person", {})
        organs = records.get("organ", {})
        data = [str(e["name"]), event_span(e), e.get("place", ""),
                ", ".join(str(people[p]["name"]) if p in people else p
                          for p in e.get("people", [])),
                ", ".join(str(organs[o]["name"]) if o in organs else o
                          for o in e.get("organs", [])),
                e.get("summary", "")]
        uses = [("event", rid)] + [("person", p) for p in e.get("people", [])] + [
            ("organ", o) for o in e.get("organs", [])]
        return data, [e], uses


register_kind(Event())
register_family(EventCards())
