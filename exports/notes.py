"""The store's cards as Anki notes: what the .apkg and the CSV export share.

One note per record or family record that has live cards (a tenure, a
succession pair, an as-of year of a tenure, ...: ``kind:id`` of the card key)
and one note type per card family of ``cards.registry``. A note whose cards
all retired is left out, so Anki keeps it as it was. A note type has, for each
card template of its family, a question field and an answer field holding the card's
texts exactly as the store generated them, so Anki shows the store's wording.
A template's fields are empty when the store makes no such card for the
record (or retired it), and each Anki template is wrapped in a conditional on
its question field, so Anki makes exactly the store's cards. Besides those, a
note holds the record's data as readable text (dates in words), the Context
shown with an answer (dates, lives), the Note, the Source (a link when it is
a URL) and the Key (``kind:id``, the record's stable key; the first field, so
Anki's duplicate check sees unique values).

Identity never depends on the clock or on chance:

- note type and deck ids are hashes of fixed names (``secretariat:model:tenure``,
  ``secretariat:deck:Secretariat::Tenures``);
- a note's GUID is ``genanki.guid_for("secretariat", key)``;
- a note's id is its first card's creation time in milliseconds plus that
  card's position in the store, and a card's id likewise: the store hands out
  positions in creation order, so these do not collide (should the clock have
  gone back, a taken id moves up to the next free one), stay put from one
  export to the next, and read as the time the card was made;
- a note's modification time is the latest ``updated`` time of the records its
  texts draw on (a tenure's person and office too, a succession's two tenures,
  an organ's parent and successor, an event's people and organs) and of its
  cards, so Anki, which updates a note only when the incoming one is newer,
  takes exactly the notes that changed.

All text is HTML-escaped, for ``<``, ``>`` and ``&`` only: a fact about
``<b>`` shows ``<b>``, and quotes stay as they are, so that Anki's search
finds ``People's``.

A change to the exporter's own output bumps ``FORMAT_VERSION``: it is added
(in seconds) to every note's modification time, so the change reaches notes
that Anki already holds, and a later edit still reads as newer.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from cards.errors import CardsError
from cards.registry import FAMILIES, KIND_MODULES, Record, Records, family_of, load
from cards.store import Store
from cards.tags import has_tag

#: Bumped with each change to the notes' own format (fields, escaping, tags),
#: and added to their modification times (seconds), so that Anki takes the change.
FORMAT_VERSION = 1  # 1: quotes no longer escaped, tags under Secretariat::

#: Called as ``progress(done, total)`` while notes are built and written.
Progress = Callable[[int, int], None]

#: How many notes to build between two progress calls.
PROGRESS_STEP = 2000


class NothingToExport(CardsError):
    """The selection holds no cards."""


class BadDeckName(CardsError):
    """A deck name that Anki cannot use."""


def stable_id(name: str) -> int:
    """A fixed id for a fixed name, in the range genanki recommends (2**30 to 2**31)."""
    digest = hashlib.sha256(name.encode()).digest()
    return (1 << 30) + int.from_bytes(digest[:8], "big") % (1 << 30)


def template_label(template: str) -> str:
    """The Anki name of a store card template: 'holder' -> 'Holder'."""
    return template.capitalize()


@dataclass(frozen=True)
class NoteType:
    """The Anki note type of one kind of record."""

    kind: str
    label: str
    plural: str
    data: tuple[str, ...]
    templates: tuple[str, ...]
    sort: str

    @property
    def name(self) -> str:
        return f"Secretariat {self.label}"

    @property
    def id(self) -> int:
        return stable_id(f"secretariat:model:{self.kind}")

    @property
    def fields(self) -> tuple[str, ...]:
        """Key, the data, a question and an answer per template, Context, Note, Source."""
        texts = [f"{template_label(t)} {side}" for t in self.templates
                 for side in ("Question", "Answer")]
        return ("Key", *self.data, *texts, "Context", "Note", "Source")


def _note_types() -> dict[str, NoteType]:
    """A note type per card family in the registry, its templates in the family's order."""
    load()
    return {f.name: NoteType(f.name, f.label, f.plural, f.data_fields, f.templates, f.sort)
            for f in FAMILIES.values()}


#: The note types, by family.
NOTE_TYPES: dict[str, NoteType] = _note_types()


class ExportNote(NamedTuple):
    """One Anki note, ready to write.

    ``cards`` holds ``(ordinal, card id, position)`` for each card the store
    makes from the record: the ordinal of its Anki template, a stable id, and
    its place in the store's order of new cards.
    """

    note_type: NoteType
    key: str
    guid: str
    id: int
    mod: int
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    deck: str
    cards: tuple[tuple[int, int, int], ...]


@dataclass(frozen=True)
class Exported:
    """What an export wrote."""

    notes: int
    cards: int
    decks: tuple[str, ...]

    def summary(self) -> str:
        return (f"{self.notes} note{'s' if self.notes != 1 else ''}, "
                f"{self.cards} card{'s' if self.cards != 1 else ''}")


# -- text --------------------------------------------------------------------

_SPECIAL = re.compile(r"[&<>\r\n\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def text_html(text: str) -> str:
    """Plain text as HTML that shows exactly that text (line breaks kept).

    Control characters are dropped: Anki separates a note's fields with \\x1f.
    """
    if _SPECIAL.search(text) is None:
        return text
    escaped = html.escape(_CONTROL.sub("", text), quote=False)
    if "\n" in escaped or "\r" in escaped:
        escaped = escaped.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")
    return escaped


_URL = re.compile(r"https?://[^\s<>\"']+\Z", re.IGNORECASE)


def source_html(source: str) -> str:
    """A source as HTML: a link when it is a web address, else the citation as text."""
    source = source.strip()
    if _URL.match(source):
        escaped = html.escape(source, quote=True)
        return f'<a href="{escaped}">{escaped}</a>'
    return text_html(source)


_BASE91 = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
           "!#$%&()*+,-./:;<=>?@[]^_`{|}~")


def note_guid(key: str) -> str:
    """The GUID of the note with stable key ``key`` (``tenure:ID``, ``succession:A+B``):
    ``genanki.guid_for("secretariat", key)``, computed without genanki's per-byte loop."""
    value = int.from_bytes(hashlib.sha256(f"secretariat__{key}".encode()).digest()[:8], "big")
    digits = []
    while value:
        value, digit = divmod(value, 91)
        digits.append(_BASE91[digit])
    return "".join(reversed(digits))


def note_key(record_kind: str, record_id: str) -> str:
    """The stable key of the note of a record's cards (``tenure:ID``, ``succession:A+B``)."""
    return f"{record_kind}:{record_id}"


def anki_tag(tag: str) -> str:
    """A tag as Anki keeps it: no spaces (they become '_'), no quotes or control
    characters, ``::`` for hierarchy with no empty levels. Empty if nothing is left."""
    parts = []
    for part in unicodedata.normalize("NFC", tag).split("::"):
        part = "".join(c for c in part if c != '"' and not (c < " " or c == "\x7f"))
        part = "_".join(part.split())
        if part:
            parts.append(part)
    return "::".join(parts)


#: Secretariat's tags in Anki live under this, apart from the learner's own.
TAG_ROOT = "Secretariat"


def namespaced(tags: tuple[str, ...]) -> list[str]:
    """Tags as Anki holds them: ``ussr`` -> ``Secretariat::ussr``."""
    return [f"{TAG_ROOT}::{t}" for t in tags]


def anki_tags(tags: list[str], kind: str) -> tuple[str, ...]:
    """The record's tags and its kind, valid for Anki, each once (Anki ignores case)."""
    out: dict[str, str] = {}
    for tag in [*tags, kind]:
        clean = anki_tag(tag)
        if clean:
            out.setdefault(clean.casefold(), clean)
    return tuple(out.values())


def deck_name(name: str) -> str:
    """A deck name as Anki keeps it, levels separated by ``::``.

    Raises:
        BadDeckName: the name or one of its levels is empty, or it holds a
            control character.
    """
    parts = [p.strip() for p in name.split("::")]
    if not all(parts) or _CONTROL.search(name):
        raise BadDeckName(f"--deck {name!r}: not a deck name, expected a name like "
                          f"'Secretariat' or 'History::USSR' (no empty levels, no control "
                          f"characters)")
    return "::".join(parts)


def kind_name(kind: str) -> str:
    """A kind of card as its family's name ('tenures' -> 'tenure')."""
    try:
        return family_of(kind).name
    except KeyError:
        raise ValueError(f"unknown kind {kind!r}, expected one of {', '.join(NOTE_TYPES)}") \
            from None


# -- the data of each kind ---------------------------------------------------

def _data(records: Records, kind: str, rid: str) -> tuple[list[str], list[Record],
                                                         list[tuple[str, str]]]:
    """The readable data of a note, the records it belongs to (their notes and
    sources are shown), and every record its texts draw on, as (kind, id)."""
    return FAMILIES[kind].note(records, rid)


class Contexts:
    """The families' context lines, each record's lines made once: a tenure's lines
    are shown by its own note and by the successions on either side."""

    def __init__(self, records: Records) -> None:
        self.records = records
        self._lines: dict[tuple[str, str], list[str]] = {}

    def lines(self, kind: str, rid: str) -> list[str]:
        """The lines shown with an answer of a card of family ``kind`` and id ``rid``."""
        family = FAMILIES[kind]
        out: list[str] = []
        for part in family.parts(rid):
            lines = self._lines.get(part)
            if lines is None:
                rec = self.records.get(part[0], {}).get(part[1])
                lines = self._lines[part] = (
                    KIND_MODULES[part[0]].context_lines(self.records, rec) if rec else [])
            out.extend(lines)
        return list(dict.fromkeys(out))


def _context_fields(contexts: Contexts, kind: str, rid: str,
                    own: list[Record]) -> tuple[str, str, str]:
    """Context, Note and Source as HTML.

    Context is what ``cards.generate.context`` shows with an answer, without
    the note and source lines, which get fields of their own.
    """
    notes = list(dict.fromkeys(r["note"] for r in own if r.get("note")))
    sources = list(dict.fromkeys(r["source"] for r in own if r.get("source")))
    separate = {f"Note: {n}" for n in notes} | {f"Source: {s}" for s in sources}
    lines = [line for line in contexts.lines(kind, rid) if line not in separate]
    return ("<br>".join(text_html(line) for line in lines),
            "<br>".join(text_html(n) for n in notes),
            "<br>".join(source_html(s) for s in sources))


# -- collecting the notes ----------------------------------------------------

#: The store's cards, as plain tuples (a large store has hundreds of thousands).
_CARDS = ("SELECT record_kind, record_id, template, question, answer, tags, position, retired, "
          "created, updated FROM cards ORDER BY position")
_KIND, _ID, _TEMPLATE, _QUESTION, _ANSWER, _TAGS, _POSITION, _RETIRED, _CREATED, _UPDATED = (
    range(10))
_Row = tuple[Any, ...]


class _Clock:
    """Stored ISO times as Unix times, each distinct string parsed once."""

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}

    def seconds(self, stamp: str) -> float:
        value = self._seen.get(stamp)
        if value is None:
            value = self._seen[stamp] = datetime.fromisoformat(stamp).timestamp()
        return value

    def card_id(self, row: _Row) -> int:
        """A card's id: its creation time in milliseconds plus its position."""
        return int(self.seconds(row[_CREATED]) * 1000) + int(row[_POSITION])


def _unique(value: int, taken: set[int]) -> int:
    """``value``, or the next free number after it if taken (only if the clock
    went back while the store made cards); ``taken`` gets the result."""
    while value in taken:
        value += 1
    taken.add(value)
    return value


def _describe(tag: str | None, kind: str | None) -> str:
    parts = []
    if kind:
        parts.append(f"--kind {kind}")
    if tag:
        parts.append(f"--tag {tag}")
    return f"no cards match {' and '.join(parts)}" if parts else "the store has no cards"


def collect_notes(store: Store, *, deck: str = "Secretariat", split_by: str | None = None,
                  tag: str | None = None, kind: str | None = None,
                  progress: Progress | None = None) -> list[ExportNote]:
    """The notes to export, in the store's order of cards.

    Args:
        store: the fact store.
        deck: the deck name (``::`` for subdecks).
        split_by: ``"kind"`` puts each kind in a subdeck (``Secretariat::Tenures``).
        tag: only records with this tag (a succession: either tenure's).
        kind: only this card family (a name in ``NOTE_TYPES``: tenure, as-of, heads, ...).
        progress: called as ``progress(done, total)`` as notes are built.

    Raises:
        NothingToExport: no card matches.
        BadDeckName: ``deck`` is not a deck name.
    """
    if split_by not in (None, "kind"):
        raise ValueError(f"split_by must be None or 'kind', not {split_by!r}")
    root = deck_name(deck)
    only = kind_name(kind) if kind else None
    groups: dict[tuple[str, str], list[_Row]] = {}
    for row in store.db.execute(_CARDS):
        groups.setdefault((row[_KIND], row[_ID]), []).append(row)
    chosen = []
    for (rkind, rid), rows in groups.items():
        live = [r for r in rows if not r[_RETIRED]]
        if not live or (only and rkind != only):
            continue
        if tag is not None and not has_tag(json.loads(live[0][_TAGS]), tag):
            continue
        chosen.append((rkind, rid, rows, live))
    if not chosen:
        raise NothingToExport(f"nothing to export: {_describe(tag, kind)}")
    records = store.all_records()
    updated = {k: {rid: times[1] for rid, times in store.times(k).items()} for k in records}
    clock = _Clock()
    contexts = Contexts(records)
    tag_sets: dict[tuple[str, str], tuple[str, ...]] = {}
    ordinals = {nt.kind: {t: i for i, t in enumerate(nt.templates)} for nt in NOTE_TYPES.values()}
    note_ids: set[int] = set()
    card_ids: set[int] = set()
    total = len(chosen)
    out = []
    for done, (rkind, rid, rows, live) in enumerate(chosen, start=1):
        note_type = NOTE_TYPES[rkind]
        data, own, uses = _data(records, rkind, rid)
        stamps = [updated[k][i] for k, i in uses if i in updated[k]]
        stamps += [r[_UPDATED] for r in rows]
        by_template = {r[_TEMPLATE]: r for r in live}
        texts: list[str] = []
        for template in note_type.templates:
            card = by_template.get(template)
            texts += (text_html(card[_QUESTION]), text_html(card[_ANSWER])) if card else ("", "")
        tags = tag_sets.get((live[0][_TAGS], rkind))
        if tags is None:
            tags = tag_sets[live[0][_TAGS], rkind] = anki_tags(json.loads(live[0][_TAGS]), rkind)
        key = note_key(rkind, rid)
        place = ordinals[rkind]
        out.append(ExportNote(
            note_type=note_type,
            key=key,
            guid=note_guid(key),
            id=_unique(clock.card_id(rows[0]), note_ids),  # rows are in the store's order
            mod=int(clock.seconds(max(stamps))) + FORMAT_VERSION,
            fields=(text_html(key), *map(text_html, data), *texts,
                    *_context_fields(contexts, rkind, rid, own)),
            tags=tags,
            deck=f"{root}::{note_type.plural}" if split_by == "kind" else root,
            cards=tuple(sorted((place[r[_TEMPLATE]], _unique(clock.card_id(r), card_ids),
                                r[_POSITION]) for r in live)),
        ))
        if progress is not None and (done % PROGRESS_STEP == 0 or done == total):
            progress(done, total)
    return out

