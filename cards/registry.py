"""The registry of kinds of record and of card families.

A *kind* (person, organ, office, tenure, event, fact) is a kind of record:
its fields and their checks. A *family* makes cards: each kind's module
registers the family of cards drawn from one record of that kind, and each
module under ``cards.families`` registers a family computed over the whole
record set (succession, as-of, heads, lineage, chronology). The store, the
review, the exporter, the listings and the statistics ask the registry and
never name a kind or a family.

A card's key is ``FAMILY:ID:TEMPLATE``; template names are unique across
families, so a template names its family.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

Record = dict[str, Any]
Records = dict[str, dict[str, Record]]
#: ``load(kind, ids)``: the records of ``kind`` with those ids, by id.
Loader = Callable[[str, list[str]], dict[str, Record]]


@dataclass(frozen=True)
class Field:
    """One field of a kind of record.

    ``type`` is one of ``text``, ``texts`` (list of text), ``date``, ``bool``,
    ``ref`` (the id of a record of kind ``ref``) or ``refs`` (a list of them).
    """

    name: str
    type: str = "text"
    required: bool = False
    ref: str | None = None
    help: str = ""


COMMON = (
    Field("tags", "texts", help="labels for filtering, e.g. ussr or ussr::party"),
    Field("source", help="a URL or citation"),
    Field("note", help="context shown with the answer"),
)


@dataclass(frozen=True)
class Kind:
    """A kind of record: its name, plural (the table), label field and fields.

    ``span`` names the pair of date fields that must be in order (born and
    died, start and end); ``check`` adds the kind's own checks of one record.
    """

    name: str
    plural: str
    label: str
    fields: tuple[Field, ...]
    span: tuple[str, str] | None = None
    check: Callable[[Record], list[tuple[str, str]]] | None = None
    all_fields: tuple[Field, ...] = dataclass_field(init=False, repr=False, compare=False)
    _by_name: dict[str, Field] = dataclass_field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        every = (Field("id", required=self.name != "tenure", help="stable id (slug)"),
                 *self.fields, *COMMON)
        object.__setattr__(self, "all_fields", every)
        object.__setattr__(self, "_by_name", {f.name: f for f in every})

    def field(self, name: str) -> Field:
        return self._by_name[name]


@dataclass(frozen=True, slots=True)
class CardSpec:
    """A card as generated: its identity, its texts, and what the quality gate needs.

    ``facts`` are the normalised values the answer derives from, at the
    precision asked: the answer hash is made from them, so rewording an
    answer (or refining a date below the precision asked) does not make a
    reviewed card "changed". ``entity`` is what the answer names (such as
    ``person:stalin``), ``mentions`` what the question names: a card whose
    question names another card's answer entity leaks it, and the two are
    linked. ``authored`` marks text written by hand (a fact), which the gate
    warns about instead of dropping. ``options`` are answers the question
    offers to choose from (a chronology card), which may stand in it.
    ``shorts`` are other spellings of the answer (an abbreviation).
    """

    key: str
    kind: str
    record_kind: str
    record_id: str
    template: str
    question: str
    answer: str
    siblings: tuple[str, ...]
    tags: tuple[str, ...]
    facts: tuple[Any, ...] = ()
    entity: str | None = None
    mentions: tuple[str, ...] = ()
    authored: bool = False
    options: tuple[str, ...] = ()
    shorts: tuple[str, ...] = ()

    @property
    def answer_hash(self) -> str:
        return facts_hash(self.facts) if self.facts else answer_hash(self.answer)


def answer_hash(answer: str) -> str:
    """A short hash of an answer's text (for cards with no facts declared)."""
    return hashlib.sha1(answer.encode()).hexdigest()[:16]


#: ``json.dumps(facts, ensure_ascii=False, separators=(",", ":"))`` made once: dumps with
#: options builds an encoder at every call (a third of the hash's time)
_FACTS_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def facts_hash(facts: tuple[Any, ...]) -> str:
    """A short hash of the facts an answer derives from."""
    return hashlib.sha1(_FACTS_JSON(facts).encode()).hexdigest()[:16]


class Family:
    """A family of cards: how to make them, and what to show and export with them.

    Subclasses set the class attributes and override ``cards``; the rest has
    defaults that suit a family whose cards come from one record of kind
    ``kind`` (its id is the card's id).
    """

    #: the key prefix, also the card's ``kind`` and ``record_kind``
    name: str = ""
    #: the Anki note type's label and plural (the deck of ``--split-by kind``)
    label: str = ""
    plural: str = ""
    #: the card templates, in the order the note type lists them
    templates: tuple[str, ...] = ()
    #: the names of a note's data fields, and the one Anki sorts by
    data_fields: tuple[str, ...] = ()
    sort: str = ""
    #: the kind of record a card's id names, when it names one record
    kind: str | None = None
    #: where the family's cards come in the order of new cards
    order: int = 100

    def cards(self, graph: Any) -> Iterable[CardSpec]:
        """The family's cards for the whole record set (a ``cards.graph.Graph``)."""
        raise NotImplementedError

    def parts(self, rid: str) -> list[tuple[str, str]]:
        """The records a card id is made of, as ``(kind, id)``, the main one first."""
        assert self.kind is not None
        return [(self.kind, rid)]

    def around(self, load: Loader, rid: str) -> Records:
        """The records a card's texts and context draw on, loaded with ``load``."""
        out: Records = {}
        for kind, ident in self.parts(rid):
            out.setdefault(kind, {}).update(load(kind, [ident]))
        return out

    def context(self, records: Records, rid: str) -> list[str]:
        """Lines shown with an answer: dates, notes, sources."""
        lines: list[str] = []
        for kind, ident in self.parts(rid):
            rec = records.get(kind, {}).get(ident)
            if rec is not None:
                lines.extend(KIND_MODULES[kind].context_lines(records, rec))
        return list(dict.fromkeys(lines))

    def note(self, records: Records, rid: str) -> tuple[list[str], list[Record],
                                                        list[tuple[str, str]]]:
        """A note's readable data, the records it belongs to (their notes and
        sources are shown) and every record its texts draw on, as (kind, id)."""
        own = [records[k][i] for k, i in self.parts(rid) if i in records.get(k, {})]
        return [], own, self.parts(rid)

    def aliases(self, records: Records, card: dict[str, Any]) -> list[str]:
        """Other answers a typed answer may give (a person's aliases)."""
        return []

    def edit_target(self, rid: str, template: str) -> tuple[str, str]:
        """The record ``study review``'s edit key opens for a card."""
        return self.parts(rid)[0]


class KindModule:
    """What a kind's module provides beyond its family: context lines and list columns."""

    kind: Kind
    #: the columns ``study list KIND`` shows
    columns: tuple[str, ...] = ()
    #: the kind's place in listings, dumps and ``KINDS``
    order: int = 100

    def context_lines(self, records: Records, rec: Record) -> list[str]:
        lines = []
        if rec.get("note"):
            lines.append(f"Note: {rec['note']}")
        if rec.get("source"):
            lines.append(f"Source: {rec['source']}")
        return lines


KINDS: dict[str, Kind] = {}
KIND_MODULES: dict[str, KindModule] = {}
FAMILIES: dict[str, Family] = {}


def register_kind(module: KindModule) -> KindModule:
    KINDS[module.kind.name] = module.kind
    KIND_MODULES[module.kind.name] = module
    return module


def register_family(family: Family) -> Family:
    taken = {t: f.name for f in FAMILIES.values() for t in f.templates}
    for template in family.templates:
        if template in taken and taken[template] != family.name:
            raise ValueError(f"template {template!r} of family {family.name!r} is already "
                             f"used by family {taken[template]!r}")
    FAMILIES[family.name] = family
    return family


def family_of(name: str) -> Family:
    """The family called ``name`` (singular, plural or its note type's plural)."""
    load()
    if name in FAMILIES:
        return FAMILIES[name]
    for family in FAMILIES.values():
        if name in (family.plural.lower(), f"{family.name}s"):
            return family
    raise KeyError(name)


def family_names() -> list[str]:
    load()
    return list(FAMILIES)


_loaded = False


def load() -> None:
    """Import every kind's and family's module (they register themselves)."""
    global _loaded
    if not _loaded:
        _loaded = True
        import cards.families  # noqa: F401
        import cards.kinds  # noqa: F401

        for registry, key in ((KINDS, lambda n: KIND_MODULES[n].order),
                              (FAMILIES, lambda n: FAMILIES[n].order)):
            ordered = sorted(registry, key=key)
            items = [(n, registry[n]) for n in ordered]
            registry.clear()
            registry.update(items)  # type: ignore[arg-type]

