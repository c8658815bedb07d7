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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from cards.errors import CardsError
from cards.registry import (
    FAMILIES,
    KIND_MODULES,
    KINDS,
    Family,
    Record,
    Records,
    family_of,
    load,
)
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

#: The store's cards grouped by record (a note), the notes in the order of their first
#: card, each note's cards in the store's order, with what the scheduling needs.
_CARDS = ("SELECT c.record_kind, c.record_id, c.template, c.question, c.answer, c.tags, "
          "c.position, c.retired, c.created, c.updated, c.key, c.state, c.step, c.stability, "
          "c.difficulty, c.due, c.last_review, c.reps, c.lapses, c.suspended, c.buried_until "
          "FROM (SELECT record_kind AS k, record_id AS r, min(position) AS first FROM cards "
          "GROUP BY record_kind, record_id) AS g "
          "JOIN cards AS c ON c.record_kind = g.k AND c.record_id = g.r "
          "ORDER BY g.first, c.position")
(_KIND, _ID, _TEMPLATE, _QUESTION, _ANSWER, _TAGS, _POSITION, _RETIRED, _CREATED, _UPDATED,
 _KEY) = range(11)
#: The scheduling columns of a row of ``_CARDS`` (``stream_notes`` gives its rows),
#: from ``ROW_SCHEDULE`` on; ``ROW_POSITION`` and ``ROW_RETIRED`` are two more.
SCHEDULE_COLUMNS = ("state", "step", "stability", "difficulty", "due", "last_review", "reps",
                    "lapses", "suspended", "buried_until")
ROW_POSITION, ROW_RETIRED, ROW_SCHEDULE = _POSITION, _RETIRED, _KEY + 1
_Row = tuple[Any, ...]

#: How many notes share one read of their records (the memory an export holds).
CHUNK = 1000
#: How many records (and records' context lines) an export keeps for later notes.
RECORDS_HELD = 20_000


class _Clock:
    """Stored ISO times as Unix times, each distinct string parsed once."""

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}

    def seconds(self, stamp: str) -> float:
        value = self._seen.get(stamp)
        if value is None:
            if len(self._seen) > 100_000:  # an import stamps all its cards alike: rare
                self._seen.clear()
            value = self._seen[stamp] = datetime.fromisoformat(stamp).timestamp()
        return value

    def millis(self, stamp: str) -> int:
        return int(self.seconds(stamp) * 1000)


def _unique(value: int, taken: set[int]) -> int:
    """``value``, or the next free number after it if taken (only if the clock
    went back while the store made cards); ``taken`` gets the result."""
    while value in taken:
        value += 1
    taken.add(value)
    return value


class CardIds:
    """Note and card ids: a card's creation time in milliseconds plus its position
    (a note's, its first card's).

    These are all different unless the clock went back while the store made
    cards (one query checks). Then a taken id moves up to the next free one,
    in the order the notes are written: every id is worked out beforehand, in
    one pass over the selection's cards, and held (only in that case).
    """

    def __init__(self, store: Store, selection: Selection) -> None:
        self.clock = _Clock()
        conn = store.db.conn
        conn.create_function("secretariat_millis", 1, self.clock.millis, deterministic=True)
        self.distinct = bool(conn.execute(
            "SELECT count(*) = count(DISTINCT secretariat_millis(created) + position) "
            "FROM cards").fetchone()[0])
        self.notes: dict[tuple[str, str], int] = {}
        self.cards: dict[str, int] = {}
        if not self.distinct:
            notes_taken: set[int] = set()
            cards_taken: set[int] = set()
            for rows, live in _groups(store, selection):
                self.notes[rows[0][_KIND], rows[0][_ID]] = _unique(self._of(rows[0]),
                                                                   notes_taken)
                for r in live:
                    self.cards[r[_KEY]] = _unique(self._of(r), cards_taken)

    def _of(self, row: _Row) -> int:
        return self.clock.millis(row[_CREATED]) + int(row[_POSITION])

    def note(self, first: _Row) -> int:
        """The id of the note whose first card (live or retired) is ``first``."""
        return self._of(first) if self.distinct else self.notes[first[_KIND], first[_ID]]

    def card(self, row: _Row) -> int:
        """The id of a live card of a chosen note."""
        return self._of(row) if self.distinct else self.cards[row[_KEY]]

    def card_of(self, key: str, created: str, position: int) -> int:
        """``card`` of the card with that key, creation time and position."""
        return (self.clock.millis(created) + int(position) if self.distinct
                else self.cards[key])


def _describe(tag: str | None, kind: str | None) -> str:
    parts = []
    if kind:
        parts.append(f"--kind {kind}")
    if tag:
        parts.append(f"--tag {tag}")
    return f"no cards match {' and '.join(parts)}" if parts else "the store has no cards"


@dataclass(frozen=True)
class Selection:
    """Which notes an export writes, as one pass over the cards' small columns found.

    ``kinds`` are the families of the chosen notes in the order of their first
    note, ``total`` how many notes there are.
    """

    root: str
    split_by: str | None
    tag: str | None
    kind: str | None
    kinds: tuple[str, ...]
    total: int

    def deck(self, kind: str) -> str:
        return f"{self.root}::{NOTE_TYPES[kind].plural}" if self.split_by == "kind" else self.root

    @property
    def decks(self) -> tuple[str, ...]:
        """The notes' decks, in the order of their first note."""
        return tuple(dict.fromkeys(self.deck(k) for k in self.kinds))

    def chosen(self, kind: str, first_live_tags: str, memo: dict[str, bool]) -> bool:
        """Whether a record's note is exported (given its first live card's tags)."""
        if self.kind and kind != self.kind:
            return False
        if self.tag is None:
            return True
        found = memo.get(first_live_tags)
        if found is None:
            if len(memo) > 10_000:
                memo.clear()
            found = memo[first_live_tags] = has_tag(json.loads(first_live_tags), self.tag)
        return found


def select_notes(store: Store, *, deck: str = "Secretariat", split_by: str | None = None,
                 tag: str | None = None, kind: str | None = None) -> Selection:
    """The notes to export: a note per record (or family record) with a live card.

    Args:
        store: the fact store.
        deck: the deck name (``::`` for subdecks).
        split_by: ``"kind"`` puts each kind in a subdeck (``Secretariat::Tenures``).
        tag: only records with this tag (a succession: either tenure's).
        kind: only this card family (a name in ``NOTE_TYPES``: tenure, as-of, heads, ...).

    Raises:
        NothingToExport: no card matches.
        BadDeckName: ``deck`` is not a deck name.
    """
    if split_by not in (None, "kind"):
        raise ValueError(f"split_by must be None or 'kind', not {split_by!r}")
    root = deck_name(deck)
    only = kind_name(kind) if kind else None
    probe = Selection(root, split_by, tag, only, (), 0)
    firsts: dict[str, int] = {}
    total = 0
    memo: dict[str, bool] = {}
    group: tuple[str, str] | None = None
    first = 0
    live_tags: str | None = None

    def close() -> None:
        nonlocal total
        if group is not None and live_tags is not None and probe.chosen(group[0], live_tags,
                                                                        memo):
            total += 1
            firsts[group[0]] = min(first, firsts.get(group[0], first))

    if tag is None:  # no tags to read: SQLite counts
        for rkind, first_note, notes in store.db.execute(
                "SELECT record_kind, min(first), count(*) FROM (SELECT record_kind, "
                "min(position) AS first FROM cards GROUP BY record_kind, record_id "
                "HAVING min(retired) = 0) GROUP BY record_kind"):
            if probe.chosen(rkind, "", memo):
                total += notes
                firsts[rkind] = first_note
    else:
        for rkind, rid, position, retired, tags in store.db.execute(
                "SELECT record_kind, record_id, position, retired, tags FROM cards "
                "ORDER BY record_kind, record_id, position"):
            if (rkind, rid) != group:
                close()
                group, first, live_tags = (rkind, rid), position, None
            if live_tags is None and not retired:
                live_tags = tags
        close()
    if not total:
        raise NothingToExport(f"nothing to export: {_describe(tag, kind)}")
    return Selection(root, split_by, tag, only, tuple(sorted(firsts, key=firsts.__getitem__)),
                     total)


def _groups(store: Store, selection: Selection) -> Iterator[tuple[list[_Row], list[_Row]]]:
    """The chosen notes' card rows (every card, and the live ones), in the notes' order."""
    memo: dict[str, bool] = {}
    rows: list[_Row] = []
    live: list[_Row] = []
    group: tuple[str, str] | None = None
    for row in store.db.execute(_CARDS):
        if (row[_KIND], row[_ID]) != group:
            if live and selection.chosen(rows[0][_KIND], live[0][_TAGS], memo):
                yield rows, live
            rows, live, group = [], [], (row[_KIND], row[_ID])
        rows.append(row)
        if not row[_RETIRED]:
            live.append(row)
    if live and selection.chosen(rows[0][_KIND], live[0][_TAGS], memo):
        yield rows, live


class _KindRecords(dict[str, Record]):
    """The records of one kind that a chunk of notes has read; another is read on first use."""

    def __init__(self, reader: _Reader, kind: str) -> None:
        super().__init__()
        self.reader = reader
        self.kind = kind
        self.absent: set[str] = set()

    def _has(self, rid: object) -> bool:
        if not dict.__contains__(self, rid) and rid not in self.absent and isinstance(rid, str):
            self.reader.read(self.kind, [rid])
        return dict.__contains__(self, rid)

    def __contains__(self, rid: object) -> bool:
        return self._has(rid)

    def __getitem__(self, rid: str) -> Record:
        self._has(rid)
        return dict.__getitem__(self, rid)

    def get(self, rid: str, default: Any = None) -> Any:
        return dict.__getitem__(self, rid) if self._has(rid) else default


class _Reader:
    """The records a chunk of notes draws on, read from the store in a few queries."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.kinds = {kind: _KindRecords(self, kind) for kind in KINDS}
        self.records: Records = {kind: self.kinds[kind] for kind in KINDS}
        self.updated: dict[tuple[str, str], str] = {}
        self.reads = 0

    def read(self, kind: str, ids: list[str]) -> None:
        """Read the records of ``kind`` with ``ids`` (and their times) into ``records``."""
        have = self.kinds[kind]
        ids = [i for i in dict.fromkeys(ids) if not dict.__contains__(have, i)
               and i not in have.absent]
        if not ids:
            return
        self.reads += 1
        found = self.store.records(kind, ids)
        dict.update(have, found)
        have.absent.update(i for i in ids if i not in found)
        for rid, updated in self.store.db.execute(
                f"SELECT id, updated FROM {KINDS[kind].plural} WHERE id IN "
                f"(SELECT value FROM json_each(?))", [json.dumps(list(found))]):
            self.updated[kind, rid] = updated

    def prefetch(self, notes: list[tuple[str, str]]) -> None:
        """Read, a kind at a time, what the notes' families draw on: each note's
        records, the records they name, and what the family's ``around`` loads."""
        wanted: dict[str, list[str]] = {}
        for kind, rid in notes:
            for part, ident in FAMILIES[kind].parts(rid):
                wanted.setdefault(part, []).append(ident)
        self._read_all(wanted)
        refs: dict[str, list[str]] = {}
        for part, ids in wanted.items():
            have = self.kinds[part]
            fields = [f for f in KINDS[part].all_fields if f.ref and f.type in ("ref", "refs")]
            for ident in ids:
                rec = dict.get(have, ident)
                for f in fields if rec else ():
                    value = rec.get(f.name) if rec else None
                    if value:
                        refs.setdefault(str(f.ref), []).extend(
                            value if isinstance(value, list) else [value])
        self._read_all(refs)
        for _ in range(3):
            missing: dict[str, list[str]] = {}

            def load(kind: str, ids: list[str], missing: dict[str, list[str]] = missing
                     ) -> dict[str, Record]:
                have = self.kinds[kind]
                out = {}
                for i in ids:
                    if dict.__contains__(have, i):
                        out[i] = dict.__getitem__(have, i)
                    elif i not in have.absent:
                        missing.setdefault(kind, []).append(i)
                return out

            for kind, rid in notes:
                family = FAMILIES[kind]
                if type(family).around is not Family.around:  # else: its parts, read above
                    family.around(load, rid)
            if not missing:
                break
            self._read_all(missing)

    def held(self) -> int:
        return sum(len(have) + len(have.absent) for have in self.kinds.values())

    def close(self) -> None:
        """Let the records go now (each kind's records point back at the reader)."""
        for have in self.kinds.values():
            dict.clear(have)
            have.absent.clear()
        self.updated.clear()

    def _read_all(self, wanted: dict[str, list[str]]) -> None:
        for kind, ids in wanted.items():
            self.read(kind, ids)


def _note(selection: Selection, records: Records, updated: dict[tuple[str, str], str],
          contexts: Contexts, ids: CardIds, rows: list[_Row], live: list[_Row],
          tag_sets: dict[tuple[str, str], tuple[str, ...]]) -> ExportNote:
    rkind, rid = rows[0][_KIND], rows[0][_ID]
    note_type = NOTE_TYPES[rkind]
    data, own, uses = _data(records, rkind, rid)
    stamps = []
    for k, i in uses:
        stamp = updated.get((k, i))
        if stamp is None and i in records[k]:  # not read yet: read it
            stamp = updated.get((k, i))
        if stamp is not None:
            stamps.append(stamp)
    stamps += [r[_UPDATED] for r in rows]
    by_template = {r[_TEMPLATE]: r for r in live}
    texts: list[str] = []
    for template in note_type.templates:
        card = by_template.get(template)
        texts += (text_html(card[_QUESTION]), text_html(card[_ANSWER])) if card else ("", "")
    tags = tag_sets.get((live[0][_TAGS], rkind))
    if tags is None:
        if len(tag_sets) > 10_000:
            tag_sets.clear()
        tags = tag_sets[live[0][_TAGS], rkind] = anki_tags(json.loads(live[0][_TAGS]), rkind)
    key = note_key(rkind, rid)
    place = _ORDINALS[rkind]
    return ExportNote(
        note_type=note_type,
        key=key,
        guid=note_guid(key),
        id=ids.note(rows[0]),  # rows are in the store's order
        mod=int(ids.clock.seconds(max(stamps))) + FORMAT_VERSION,
        fields=(text_html(key), *map(text_html, data), *texts,
                *_context_fields(contexts, rkind, rid, own)),
        tags=tags,
        deck=selection.deck(rkind),
        cards=tuple(sorted((place[r[_TEMPLATE]], ids.card(r), r[_POSITION]) for r in live)),
    )


#: Each family's templates by their place in its note type.
_ORDINALS = {nt.kind: {t: i for i, t in enumerate(nt.templates)} for nt in NOTE_TYPES.values()}


def stream_notes(store: Store, selection: Selection, ids: CardIds | None = None,
                 progress: Progress | None = None
                 ) -> Iterator[tuple[ExportNote, dict[int, _Row]]]:
    """The selection's notes, in the store's order of cards, with their live cards' rows
    by position (``SCHEDULE_COLUMNS`` from ``ROW_SCHEDULE`` on).

    Only a chunk of notes (``CHUNK``) is held at a time, and the records they
    draw on, read a chunk at a time, a kind per query. Records and context
    lines already made are kept for the next chunks (a tenure's are shown by
    its successions and as-of years too) up to ``RECORDS_HELD`` of each, then
    let go.
    """
    ids = ids or CardIds(store, selection)
    tag_sets: dict[tuple[str, str], tuple[str, ...]] = {}
    done = 0
    chunk: list[tuple[list[_Row], list[_Row]]] = []
    reader = _Reader(store)
    contexts = Contexts(reader.records)

    def flush() -> Iterator[tuple[ExportNote, dict[int, _Row]]]:
        nonlocal done
        if reader.held() > RECORDS_HELD:
            reader.close()
        if len(contexts._lines) > RECORDS_HELD:
            contexts._lines.clear()
        reader.prefetch([(rows[0][_KIND], rows[0][_ID]) for rows, _ in chunk])
        for rows, live in chunk:
            yield (_note(selection, reader.records, reader.updated, contexts, ids, rows, live,
                         tag_sets), {r[_POSITION]: r for r in live})
            done += 1
            if progress is not None and (done % PROGRESS_STEP == 0 or done == selection.total):
                progress(done, selection.total)
        chunk.clear()

    try:
        for group in _groups(store, selection):
            chunk.append(group)
            if len(chunk) == CHUNK:
                yield from flush()
        if chunk:
            yield from flush()
    finally:
        reader.close()


def iter_notes(store: Store, selection: Selection,
               progress: Progress | None = None) -> Iterator[ExportNote]:
    """The selection's notes, one at a time (see ``stream_notes``)."""
    for note, _rows in stream_notes(store, selection, progress=progress):
        yield note


def collect_notes(store: Store, *, deck: str = "Secretariat", split_by: str | None = None,
                  tag: str | None = None, kind: str | None = None,
                  progress: Progress | None = None) -> list[ExportNote]:
    """The notes to export, in the store's order of cards, all at once: ``select_notes``
    (its arguments and errors) and ``iter_notes``.

    Args:
        progress: called as ``progress(done, total)`` as notes are built.
    """
    selection = select_notes(store, deck=deck, split_by=split_by, tag=tag, kind=kind)
    return list(iter_notes(store, selection, progress))
