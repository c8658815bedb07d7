"""The kinds of record, their fields, and the validation of one record.

A record is a plain dict keyed by the authoring-file field names. ``KINDS``
describes each kind once; validation, the TOML format, the store's columns,
``study add`` options and listings are all driven from it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from cards.dates import PartialDate
from cards.errors import DateError
from cards.text import control_character

SLUG = re.compile(r"[a-z0-9][a-z0-9-]*")
_CONTROL_EXPECTED = ("contains the control character {}, expected printable text "
                     "(newline and tab are allowed)")
SLUG_EXPECTED = "expected a slug: lowercase letters, digits and '-', not starting with '-'"

Record = dict[str, Any]


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
    Field("tags", "texts", help="labels for filtering, e.g. ussr"),
    Field("source", help="a URL or citation"),
    Field("note", help="context shown with the answer"),
)


@dataclass(frozen=True)
class Kind:
    """A kind of record: its name, plural (the table) and fields."""

    name: str
    plural: str
    label: str
    fields: tuple[Field, ...]
    all_fields: tuple[Field, ...] = dataclass_field(init=False, repr=False, compare=False)
    _by_name: dict[str, Field] = dataclass_field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        every = (Field("id", required=self.name != "tenure", help="stable id (slug)"),
                 *self.fields, *COMMON)
        object.__setattr__(self, "all_fields", every)
        object.__setattr__(self, "_by_name", {f.name: f for f in every})

    def field(self, name: str) -> Field:
        return self._by_name[name]


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("person", "people", "name", (
            Field("name", required=True, help="full name"),
            Field("aliases", "texts", help="other names accepted as answers"),
            Field("born", "date", help="date of birth"),
            Field("died", "date", help="date of death; omit while living"),
            Field("summary", help="who they were, in a few words, without the name"),
        )),
        Kind("organ", "organs", "name", (
            Field("name", required=True, help="full name"),
            Field("short", help="abbreviation, e.g. KGB"),
            Field("kind", help="party, committee, security service, newspaper, ..."),
            Field("part_of", "ref", ref="organ", help="id of the organ it belongs to"),
            Field("succeeded_by", "ref", ref="organ", help="id of the organ that replaced it"),
            Field("founded", "date", help="date it was set up"),
            Field("dissolved", "date", help="date it ended; omit while it exists"),
            Field("summary", help="what the body did, without its name or abbreviation"),
        )),
        Kind("office", "offices", "title", (
            Field("title", required=True,
                  help="e.g. General Secretary of the CPSU Central Committee"),
            Field("organ", "ref", ref="organ", help="id of the organ the office belongs to"),
            Field("succeeded_by", "ref", ref="office",
                  help="id of the office that took over its role"),
        )),
        Kind("tenure", "tenures", "id", (
            Field("person", "ref", required=True, ref="person", help="id of the holder"),
            Field("office", "ref", required=True, ref="office", help="id of the office"),
            Field("start", "date", required=True, help="first day in office"),
            Field("end", "date", help="last day in office; omit while still in office"),
            Field("acting", "bool", help="an acting holder"),
            Field("informal", "bool", help="a de facto or informal holder, never confirmed"),
            Field("title", help="the title borne in this tenure, if not the office's title"),
        )),
        Kind("event", "events", "name", (
            Field("name", required=True, help="what the event is called"),
            Field("date", "date", help="a single date (or give start and end)"),
            Field("start", "date", help="first day of an event that lasted"),
            Field("end", "date", help="last day of an event that lasted"),
            Field("place", help="where it took place"),
            Field("people", "refs", ref="person", help="ids of people involved"),
            Field("organs", "refs", ref="organ", help="ids of organs involved"),
            Field("summary", help="a description without the name, for 'which event?' cards"),
            Field("question", help="the author's wording of the 'when' question"),
        )),
        Kind("fact", "facts", "question", (
            Field("question", required=True, help="the question, as it is asked"),
            Field("answer", required=True, help="the expected answer"),
            Field("reverse", "bool", help="also ask the answer, expecting the question"),
            Field("reverse_question", help="the author's wording of the reverse card"),
        )),
    )
}

PLURALS = {k.plural: k for k in KINDS.values()}


def kind_named(name: str) -> Kind:
    """The kind called ``name`` (singular or plural)."""
    if name in KINDS:
        return KINDS[name]
    return PLURALS[name]


def default_tenure_id(person: str, office: str, start: str) -> str:
    """The id a tenure gets when the author gives none."""
    return f"{person}--{office}--{start}"


def _describe(value: object) -> str:
    names = {str: "a string", bool: "true or false", int: "a number", float: "a number",
             list: "a list", dict: "a table"}
    return names.get(type(value), type(value).__name__)


def normalise(kind: Kind, raw: dict[str, Any]) -> tuple[Record, list[tuple[str, str]]]:
    """Check the fields of one record on its own (references are checked later).

    Args:
        kind: the kind of record.
        raw: the fields as read from TOML or the command line.

    Returns:
        The normalised record (dates as ``YYYY[-MM[-DD]]`` strings, absent
        fields left out) and a list of ``(field, message)`` problems.
    """
    problems: list[tuple[str, str]] = []
    rec: Record = {}
    known = {f.name for f in kind.all_fields}
    for key in raw:
        if key not in known:
            problems.append((key, f"unknown field, expected one of: {', '.join(sorted(known))}"))
    for f in kind.all_fields:
        value = raw.get(f.name)
        if value is None or value == "" or value == []:
            if f.required and not (kind.name == "tenure" and f.name == "id"):
                problems.append((f.name, "missing, this field is required"))
            continue
        if f.type in ("text", "ref"):
            if not isinstance(value, str):
                problems.append((f.name, f"is {_describe(value)}, expected a string"))
                continue
            value = value.strip()
            bad_char = control_character(value)
            if bad_char:
                problems.append((f.name, _CONTROL_EXPECTED.format(bad_char)))
                continue
            if f.type == "ref" and not SLUG.fullmatch(value):
                problems.append((f.name, f"{value!r} is not an id, {SLUG_EXPECTED}"))
                continue
            if not value:
                if f.required:
                    problems.append((f.name, "is empty, this field is required"))
                continue
        elif f.type in ("texts", "refs"):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                problems.append((f.name, f"is {_describe(value)}, expected a list of strings"))
                continue
            value = [v.strip() for v in value if v.strip()]
            bad_char = next(filter(None, map(control_character, value)), None)
            if bad_char:
                problems.append((f.name, _CONTROL_EXPECTED.format(bad_char)))
                continue
            if f.type == "refs":
                bad = [v for v in value if not SLUG.fullmatch(v)]
                if bad:
                    problems.append((f.name, f"{bad[0]!r} is not an id, {SLUG_EXPECTED}"))
                    continue
            if f.name == "tags" or f.type == "refs":
                value = list(dict.fromkeys(value))  # each tag, person or organ once
            if not value:
                continue
        elif f.type == "date":
            if not isinstance(value, str | dt.date):
                problems.append((f.name, f"is {_describe(value)}, expected a date in quotes: "
                                         f'"YYYY", "YYYY-MM" or "YYYY-MM-DD"'))
                continue
            try:
                value = PartialDate.parse(value).iso()
            except DateError as err:
                problems.append((f.name, str(err)))
                continue
        elif f.type == "bool":
            if not isinstance(value, bool):
                problems.append((f.name, f"is {_describe(value)}, expected true or false"))
                continue
            if not value:
                continue
        rec[f.name] = value
    if "id" in rec and not SLUG.fullmatch(rec["id"]):
        problems.append(("id", f"{rec['id']!r} is not an id, {SLUG_EXPECTED}"))
    if not any(kind.field(name).type == "date" for name, _ in problems if name in known):
        problems.extend(_check_dates(kind, rec))
    if kind.name == "tenure" and "id" not in rec and {"person", "office", "start"} <= rec.keys():
        rec = {"id": default_tenure_id(rec["person"], rec["office"], rec["start"]), **rec}
    return rec, problems


def _before(a: str, b: str) -> bool:
    """True if date ``b`` is certainly before date ``a`` starts."""
    return PartialDate.parse(b).latest() < PartialDate.parse(a).earliest()


def _check_dates(kind: Kind, rec: Record) -> list[tuple[str, str]]:
    pairs = {"person": ("born", "died"), "organ": ("founded", "dissolved"),
             "tenure": ("start", "end"), "event": ("start", "end")}
    problems = []
    if kind.name in pairs:
        first, last = pairs[kind.name]
        if first in rec and last in rec and _before(rec[first], rec[last]):
            problems.append((last, f"{rec[last]} is before {first} {rec[first]}, "
                                   f"expected a date on or after it"))
    if kind.name == "event":
        if "date" in rec and ("start" in rec or "end" in rec):
            problems.append(("date", "give either date or start and end, not both"))
        elif "date" not in rec and "start" not in rec:
            problems.append(("date", "missing, expected date or start (and end)"))
        elif "end" in rec and "start" not in rec:
            problems.append(("start", "missing, an event with an end needs a start"))
    return problems
