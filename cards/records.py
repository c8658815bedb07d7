"""The validation of one record, driven by the kinds in the registry.

A record is a plain dict keyed by the authoring-file field names. Each kind
is declared once, in its module under ``cards.kinds``; ``KINDS`` holds them
(in the order person, organ, office, tenure, event, fact), and validation,
the TOML format, the store's columns, ``study add`` options and listings are
all driven from it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from cards.dates import PartialDate
from cards.errors import DateError
from cards.registry import COMMON as COMMON
from cards.registry import KINDS as KINDS
from cards.registry import Field as Field
from cards.registry import Kind as Kind
from cards.registry import Record as Record
from cards.registry import load as _load
from cards.text import control_character, has_control

_load()

SLUG = re.compile(r"[a-z0-9][a-z0-9-]*")
_CONTROL_EXPECTED = ("contains the control character {}, expected printable text "
                     "(newline and tab are allowed)")
SLUG_EXPECTED = "expected a slug: lowercase letters, digits and '-', not starting with '-'"

PLURALS = {k.plural: k for k in KINDS.values()}
#: The field names of each kind (``normalise`` runs once per record read)
_KNOWN = {name: frozenset(f.name for f in k.all_fields) for name, k in KINDS.items()}


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


def normalise(kind: Kind, raw: dict[str, Any], strings: dict[str, str] | None = None
              ) -> tuple[Record, list[tuple[str, str]]]:
    """Check the fields of one record on its own (references are checked later).

    Args:
        kind: the kind of record.
        raw: the fields as read from TOML or the command line.
        strings: ids, references and tags already read, each kept once: the
            records of a large file then share them (a reference is the very
            string of the id it names) instead of each holding a copy.

    Returns:
        The normalised record (dates as ``YYYY[-MM[-DD]]`` strings, absent
        fields left out) and a list of ``(field, message)`` problems.
    """
    if kind is KINDS.get(kind.name):
        valid = _valid(kind, raw, strings)
        if valid is not None:
            return valid, []
    return _checked(kind, raw, strings)


def _checked(kind: Kind, raw: dict[str, Any], strings: dict[str, str] | None
             ) -> tuple[Record, list[tuple[str, str]]]:
    """``normalise``, field by field in the documented order."""
    problems: list[tuple[str, str]] = []
    rec: Record = {}
    known = _KNOWN.get(kind.name)
    if known is None or kind is not KINDS.get(kind.name):  # a kind made for a test
        known = frozenset(f.name for f in kind.all_fields)
    if not known.issuperset(raw):
        for key in raw:
            if key not in known:
                problems.append((key, f"unknown field, expected one of: "
                                      f"{', '.join(sorted(known))}"))
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
            if strings is not None and (f.type == "ref" or f.name == "id"):
                value = strings.setdefault(value, value)
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
                if strings is not None:
                    value = [strings.setdefault(v, v) for v in value]
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


#: For each kind, its fields by name: their rank in the documented order, their type,
#: whether ``normalise`` keeps each value of their list once (tags and refs), and the
#: name itself (a record's keys are the registry's strings, not a copy per record)
_ORDER = {name: {f.name: (i, f.type, f.name == "tags" or f.type == "refs", f.name)
                 for i, f in enumerate(k.all_fields)} for name, k in KINDS.items()}
_REQUIRED = {name: frozenset(f.name for f in k.all_fields
                             if f.required and not (name == "tenure" and f.name == "id"))
             for name, k in KINDS.items()}


def _valid(kind: Kind, raw: dict[str, Any], strings: dict[str, str] | None) -> Record | None:
    """``normalise``'s record for a valid ``raw`` whose fields come in their documented
    order (a file written by ``study dump`` or a program): one pass over the fields it
    has. None for anything else (a problem, an empty value, another order): ``normalise``
    then checks it field by field, for its problems in their order."""
    order = _ORDER[kind.name]
    rec: Record = {}
    last = -1
    for key, value in raw.items():
        spec = order.get(key)
        if spec is None or spec[0] < last:
            return None
        last, ftype, once, name = spec
        if ftype in ("text", "ref"):
            if type(value) is not str:
                return None
            value = value.strip()
            if not value or has_control(value):
                return None
            if ftype == "ref" or name == "id":
                if ftype == "ref" and not SLUG.fullmatch(value):
                    return None
                if strings is not None:
                    value = strings.setdefault(value, value)
        elif ftype in ("texts", "refs"):
            if type(value) is not list or not value:
                return None
            items = []
            for v in value:
                if type(v) is not str:
                    return None
                v = v.strip()
                if not v or has_control(v) or (ftype == "refs" and not SLUG.fullmatch(v)):
                    return None
                items.append(strings.setdefault(v, v) if once and strings is not None else v)
            value = list(dict.fromkeys(items)) if once else items
        elif ftype == "date":
            if type(value) is not str:
                return None
            try:
                value = PartialDate.parse(value).iso()
            except DateError:
                return None
        elif ftype != "bool" or value is not True:
            return None
        rec[name] = value
    if not _REQUIRED[kind.name] <= rec.keys():
        return None
    if "id" in rec and not SLUG.fullmatch(rec["id"]):
        return None
    if _check_dates(kind, rec):
        return None
    if kind.name == "tenure" and "id" not in rec:
        rec = {"id": default_tenure_id(rec["person"], rec["office"], rec["start"]), **rec}
    return rec


def _before(a: str, b: str) -> bool:
    """True if date ``b`` is certainly before date ``a`` starts."""
    if len(a) == len(b):  # normalised dates at one precision: their text is in their order
        return b < a
    return PartialDate.parse(b).latest() < PartialDate.parse(a).earliest()


def _check_dates(kind: Kind, rec: Record) -> list[tuple[str, str]]:
    problems = []
    if kind.span:
        first, last = kind.span
        if first in rec and last in rec and _before(rec[first], rec[last]):
            problems.append((last, f"{rec[last]} is before {first} {rec[first]}, "
                                   f"expected a date on or after it"))
    if kind.check is not None:
        problems.extend(kind.check(rec))
    return problems
