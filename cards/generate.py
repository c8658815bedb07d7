"""Cards generated from records: no card is written by hand.

Each card has a stable key ``KIND:ID:TEMPLATE``. A succession card's id joins
the ids of its two tenures with ``+``. Cards that give each other's answers
away share a sibling group (``KIND:ID`` of the record they come from; a
succession card is in the groups of both its tenures), and the review buries
a group together.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from cards.dates import PartialDate, parse_optional, span_phrase, span_words
from cards.records import Record

Records = dict[str, dict[str, Record]]

#: Two tenures of one office are a succession when the second starts at most
#: this many days after the first ends; a longer gap means the office was
#: vacant or renamed, and "who succeeded A" would mislead.
SUCCESSION_GAP_DAYS = 366


@dataclass(frozen=True)
class CardSpec:
    """A card as generated: its identity and its texts, without scheduling state."""

    key: str
    kind: str
    record_kind: str
    record_id: str
    template: str
    question: str
    answer: str
    siblings: tuple[str, ...]
    tags: tuple[str, ...]

    @property
    def answer_hash(self) -> str:
        return answer_hash(self.answer)


def answer_hash(answer: str) -> str:
    """A short hash of an answer, to tell when an edit changed it."""
    return hashlib.sha1(answer.encode()).hexdigest()[:16]


def _d(value: str | None) -> PartialDate | None:
    return parse_optional(value)


def organ_name(organ: Record) -> str:
    """An organ's name with its abbreviation: 'Committee for State Security (KGB)'."""
    short = organ.get("short")
    if short and short != organ["name"]:
        return f"{organ['name']} ({short})"
    return str(organ["name"])


def _the(organ: Record) -> str:
    """The organ's name as it stands in a sentence (newspapers take no article)."""
    name = organ_name(organ)
    if organ.get("kind") == "newspaper" or name.lower().startswith("the "):
        return name
    return f"the {name}"


def office_title(office: Record | None, office_id: str, acting: bool = False) -> str:
    title = str(office["title"]) if office else office_id
    return f"acting {title}" if acting else title


def tenure_title(records: Records, tenure: Record, acting: bool = False) -> str:
    """The title borne in a tenure: its own ``title`` (a renamed post), else the office's."""
    if tenure.get("title"):
        return f"acting {tenure['title']}" if acting else str(tenure["title"])
    return office_title(records["office"].get(tenure["office"]), tenure["office"], acting)


def _person(records: Records, pid: str) -> str:
    person = records["person"].get(pid)
    return str(person["name"]) if person else pid


def tenure_span(tenure: Record) -> str:
    return span_words(_d(tenure["start"]), _d(tenure.get("end")))


def event_span(event: Record) -> str:
    if "date" in event:
        return _d(event["date"]).words()  # type: ignore[union-attr]
    return span_words(_d(event.get("start")), _d(event.get("end")))


def _tenure_cards(records: Records, t: Record) -> Iterator[CardSpec]:
    person = _person(records, t["person"])
    acting = bool(t.get("acting"))
    title = tenure_title(records, t, acting)
    status = " (acting)" if acting else " (informal)" if t.get("informal") else ""
    start, end = _d(t["start"]), _d(t.get("end"))
    phrase = span_phrase(start, end)
    ongoing = end is None
    group = (f"tenure:{t['id']}",)
    tags = tuple(t.get("tags", ()))

    def card(template: str, question: str, answer: str) -> CardSpec:
        return CardSpec(f"tenure:{t['id']}:{template}", "tenure", "tenure", t["id"], template,
                        question, answer, group, tags)

    if ongoing:
        yield card("holder", f"Who has been {title} {phrase}?", person)
        yield card("office", f"Which office has {person} held {phrase}?",
                   tenure_title(records, t) + status)
        yield card("dates", f"Since when has {person} been {title}?", span_words(start, end))
    else:
        yield card("holder", f"Who was {title} {phrase}?", person)
        yield card("office", f"Which office did {person} hold {phrase}?",
                   tenure_title(records, t) + status)
        yield card("dates", f"When was {person} {title}?", span_words(start, end))


def successions(records: Records) -> list[tuple[Record, Record]]:
    """Pairs (A, B) of tenures where B succeeded A in the same office.

    An informal holder neither succeeds nor is succeeded, and a pair whose
    titles differ (a renamed post) is left out: "who succeeded A as X" would
    name a title one of them never bore.
    """
    by_office: dict[str, list[Record]] = defaultdict(list)
    for t in records["tenure"].values():
        by_office[t["office"]].append(t)
    pairs = []
    for tenures in by_office.values():
        tenures.sort(key=lambda t: (PartialDate.parse(t["start"]).earliest(), t["id"]))
        for a, b in zip(tenures, tenures[1:], strict=False):
            if a["person"] == b["person"] or "end" not in a:
                continue
            if a.get("informal") or b.get("informal") or a.get("title") != b.get("title"):
                continue
            gap = PartialDate.parse(b["start"]).earliest() - PartialDate.parse(a["end"]).latest()
            if gap.days <= SUCCESSION_GAP_DAYS:
                pairs.append((a, b))
    return pairs


def _succession_cards(records: Records, a: Record, b: Record) -> Iterator[CardSpec]:
    title = tenure_title(records, a)
    pa, pb = _person(records, a["person"]), _person(records, b["person"])
    year = PartialDate.parse(b["start"]).year
    pair_id = f"{a['id']}+{b['id']}"
    group = (f"tenure:{a['id']}", f"tenure:{b['id']}")
    tags = tuple(dict.fromkeys([*a.get("tags", ()), *b.get("tags", ())]))
    acting = "acting, " if b.get("acting") else ""
    for template, question, answer in (
        ("successor", f"Who succeeded {pa} as {title}?", f"{pb} ({acting}{year})"),
        ("predecessor", f"Whom did {pb} succeed as {title} in {year}?", pa),
    ):
        yield CardSpec(f"succession:{pair_id}:{template}", "succession", "succession", pair_id,
                       template, question, answer, group, tags)


def _organ_cards(records: Records, o: Record) -> Iterator[CardSpec]:
    group = (f"organ:{o['id']}",)
    tags = tuple(o.get("tags", ()))
    the = _the(o)
    past = "dissolved" in o

    def card(template: str, question: str, answer: str) -> CardSpec:
        return CardSpec(f"organ:{o['id']}:{template}", "organ", "organ", o["id"], template,
                        question, answer, group, tags)

    parent = records["organ"].get(o.get("part_of", ""))
    if parent:
        verb = "was" if past else "is"
        yield card("parent", f"Which body {verb} {the} part of?", organ_name(parent))
    if "founded" in o:
        yield card("founded", f"When was {the} founded?", _d(o["founded"]).words())  # type: ignore[union-attr]
    successor = records["organ"].get(o.get("succeeded_by", ""))
    if successor:
        yield card("successor", f"Which body replaced {the}?", organ_name(successor))
    short = o.get("short")
    if short and short.casefold() not in str(o["name"]).casefold():
        yield card("expansion", f"What does {short} stand for?", str(o["name"]))


def mask(text: str, name: str) -> str:
    """``text`` with every occurrence of ``name`` (any case) replaced by '…'."""
    if not name.strip():
        return text
    return re.sub(re.escape(name.strip()), "…", text, flags=re.IGNORECASE)


def _event_cards(records: Records, e: Record) -> Iterator[CardSpec]:
    group = (f"event:{e['id']}",)
    tags = tuple(e.get("tags", ()))
    yield CardSpec(f"event:{e['id']}:date", "event", "event", e["id"], "date",
                   f"When did this take place: {e['name']}?", event_span(e), group, tags)
    if e.get("summary"):
        yield CardSpec(f"event:{e['id']}:identify", "event", "event", e["id"], "identify",
                       f"Which event is this? {mask(e['summary'], e['name'])}",
                       str(e["name"]), group, tags)


def _fact_cards(f: Record) -> Iterator[CardSpec]:
    group = (f"fact:{f['id']}",)
    tags = tuple(f.get("tags", ()))
    yield CardSpec(f"fact:{f['id']}:forward", "fact", "fact", f["id"], "forward",
                   str(f["question"]), str(f["answer"]), group, tags)
    if f.get("reverse"):
        yield CardSpec(f"fact:{f['id']}:reverse", "fact", "fact", f["id"], "reverse",
                       f"Which question has this answer: {f['answer']}", str(f["question"]),
                       group, tags)


def generate(records: Records) -> list[CardSpec]:
    """All cards the records make, in the order their records were added.

    Args:
        records: records by kind, then by id, each kind in the order added.

    Returns:
        The cards, each key once.
    """
    out: list[CardSpec] = []
    for o in records["organ"].values():
        out.extend(_organ_cards(records, o))
    follows: dict[str, list[tuple[Record, Record]]] = defaultdict(list)
    for a, b in successions(records):
        follows[b["id"]].append((a, b))
    for t in records["tenure"].values():
        out.extend(_tenure_cards(records, t))
        for a, b in follows.get(t["id"], ()):
            out.extend(_succession_cards(records, a, b))
    for e in records["event"].values():
        out.extend(_event_cards(records, e))
    for f in records["fact"].values():
        out.extend(_fact_cards(f))
    return out


def context(records: Records, record_kind: str, record_id: str) -> list[str]:
    """Lines shown with an answer: the record's dates, note and source."""
    lines: list[str] = []
    if record_kind == "succession":
        for tid in record_id.split("+"):
            lines.extend(context(records, "tenure", tid))
        return list(dict.fromkeys(lines))
    rec = records.get(record_kind, {}).get(record_id)
    if rec is None:
        return lines
    if record_kind == "tenure":
        title = tenure_title(records, rec, bool(rec.get("acting")))
        if rec.get("informal"):
            title += " (informal)"
        lines.append(f"{_person(records, rec['person'])}, {title}: {tenure_span(rec)}")
        person = records["person"].get(rec["person"])
        if person and (person.get("born") or person.get("died")):
            lines.append(f"{person['name']}: {_life(person)}")
    elif record_kind == "organ":
        if rec.get("founded") or rec.get("dissolved"):
            lines.append(f"{organ_name(rec)}: "
                         f"{span_words(_d(rec.get('founded')), _d(rec.get('dissolved')))}")
    elif record_kind == "event":
        lines.append(f"{rec['name']}: {event_span(rec)}"
                     + (f", {rec['place']}" if rec.get("place") else ""))
    if rec.get("note"):
        lines.append(f"Note: {rec['note']}")
    if rec.get("source"):
        lines.append(f"Source: {rec['source']}")
    return lines


def _life(person: Record) -> str:
    born, died = _d(person.get("born")), _d(person.get("died"))
    if born and died:
        return f"{born.words()} – {died.words()}"
    if born:
        return f"born {born.words()}"
    assert died is not None
    return f"died {died.words()}"
