"""Validation of one record on its own: normalise() for each kind (cards/records.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import dates

from cards.dates import PartialDate
from cards.records import (
    KINDS,
    PLURALS,
    _before,
    _checked,
    _valid,
    default_tenure_id,
    kind_named,
    normalise,
)

SLUG_MSG = "is not an id, expected a slug: lowercase letters, digits and '-', not starting with '-'"
DATE_TYPE_MSG = 'expected a date in quotes: "YYYY", "YYYY-MM" or "YYYY-MM-DD"'

VALID: dict[str, dict[str, Any]] = {
    "person": {"id": "stalin", "name": "Joseph Stalin", "aliases": ["Koba"],
               "born": "1878-12-18", "died": "1953-03-05"},
    "organ": {"id": "politburo", "name": "Politburo", "short": "PB", "kind": "committee",
              "part_of": "cc", "succeeded_by": "presidium", "founded": "1919-03",
              "dissolved": "1952-10"},
    "office": {"id": "gensec", "title": "General Secretary", "organ": "cc"},
    "tenure": {"id": "stalin-gensec", "person": "stalin", "office": "gensec",
               "start": "1922-04-03", "end": "1952-10-16", "acting": True},
    "event": {"id": "purge", "name": "Great Purge", "start": "1936-08", "end": "1938-11",
              "place": "USSR", "people": ["yezhov"], "organs": ["nkvd"],
              "summary": "A campaign of repression."},
    "fact": {"id": "kolkhoz", "question": "What is a kolkhoz?", "answer": "A collective farm",
             "reverse": True},
}


def norm(kind: str, raw: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    return normalise(KINDS[kind], raw)


@pytest.mark.parametrize("kind", list(KINDS))
def test_valid_record_comes_back_unchanged(kind: str) -> None:
    raw = {**VALID[kind], "tags": ["ussr"], "source": "https://example.org", "note": "n"}
    rec, problems = norm(kind, raw)
    assert problems == []
    assert rec == raw


def test_kinds_and_plurals() -> None:
    assert list(KINDS) == ["person", "organ", "office", "tenure", "event", "fact"]
    assert list(PLURALS) == ["people", "organs", "offices", "tenures", "events", "facts"]
    assert kind_named("people") is KINDS["person"]
    assert kind_named("tenure") is KINDS["tenure"]
    with pytest.raises(KeyError):
        kind_named("persons")


@pytest.mark.parametrize("kind", list(KINDS))
def test_unknown_key(kind: str) -> None:
    rec, problems = norm(kind, {**VALID[kind], "colour": "red"})
    known = ", ".join(sorted(f.name for f in KINDS[kind].all_fields))
    assert problems == [("colour", f"unknown field, expected one of: {known}")]
    assert "colour" not in rec


@pytest.mark.parametrize(("kind", "field", "value", "message"), [
    ("person", "name", 5, "is a number, expected a string"),
    ("person", "name", ["a"], "is a list, expected a string"),
    ("person", "aliases", "Koba", "is a string, expected a list of strings"),
    ("person", "aliases", ["Koba", 1], "is a list, expected a list of strings"),
    ("person", "born", 1878, f"is a number, {DATE_TYPE_MSG}"),
    ("person", "tags", "ussr", "is a string, expected a list of strings"),
    ("person", "source", True, "is true or false, expected a string"),
    ("organ", "part_of", ["cc"], "is a list, expected a string"),
    ("organ", "founded", {"y": 1}, f"is a table, {DATE_TYPE_MSG}"),
    ("office", "organ", 3.5, "is a number, expected a string"),
    ("tenure", "acting", "yes", "is a string, expected true or false"),
    ("tenure", "acting", 1, "is a number, expected true or false"),
    ("tenure", "start", True, f"is true or false, {DATE_TYPE_MSG}"),
    ("event", "people", "yezhov", "is a string, expected a list of strings"),
    ("event", "summary", ["x"], "is a list, expected a string"),
    ("fact", "reverse", "true", "is a string, expected true or false"),
    ("fact", "note", 1, "is a number, expected a string"),
])
def test_wrong_type(kind: str, field: str, value: object, message: str) -> None:
    rec, problems = norm(kind, {**VALID[kind], field: value})
    assert problems == [(field, message)]
    assert field not in rec


def test_a_toml_time_is_not_a_date() -> None:
    _, problems = norm("person", {**VALID["person"], "born": dt.time(12, 0)})
    assert problems == [("born", f"is time, {DATE_TYPE_MSG}")]


def test_a_toml_bare_date_is_accepted() -> None:
    rec, problems = norm("person", {**VALID["person"], "born": dt.date(1878, 12, 18)})
    assert problems == []
    assert rec["born"] == "1878-12-18"


def test_a_toml_datetime_is_a_bad_date() -> None:
    _, problems = norm("person", {**VALID["person"], "born": dt.datetime(1878, 12, 18, 9, 0)})
    assert [f for f, _ in problems] == ["born"]
    assert "is not a date, expected YYYY, YYYY-MM or YYYY-MM-DD" in problems[0][1]


@pytest.mark.parametrize(("kind", "field", "value", "message"), [
    ("person", "born", "1934-02-30",
     "'1934-02-30': February 1934 has no day 30, expected 01 to 28"),
    ("person", "died", "1900-02-29",
     "'1900-02-29': February 1900 has no day 29, expected 01 to 28"),
    ("organ", "founded", "1919-13", "'1919-13': month 13 does not exist, expected 01 to 12"),
    ("tenure", "start", "3 April 1922",
     "'3 April 1922' is not a date, expected YYYY, YYYY-MM or YYYY-MM-DD"),
    ("event", "end", "1938-11-31", "'1938-11-31': November 1938 has no day 31, expected 01 to 30"),
])
def test_bad_date(kind: str, field: str, value: str, message: str) -> None:
    rec, problems = norm(kind, {**VALID[kind], field: value})
    assert problems == [(field, message)]
    assert field not in rec


def test_leap_day_2000_is_fine() -> None:
    rec, problems = norm("person", {**VALID["person"], "died": "2000-02-29"})
    assert problems == []
    assert rec["died"] == "2000-02-29"


@pytest.mark.parametrize(("kind", "field"), [
    ("person", "id"), ("person", "name"),
    ("organ", "id"), ("organ", "name"),
    ("office", "id"), ("office", "title"),
    ("tenure", "person"), ("tenure", "office"), ("tenure", "start"),
    ("event", "id"), ("event", "name"),
    ("fact", "id"), ("fact", "question"), ("fact", "answer"),
])
def test_missing_required_field(kind: str, field: str) -> None:
    raw = dict(VALID[kind])
    del raw[field]
    _, problems = norm(kind, raw)
    assert (field, "missing, this field is required") in problems


@pytest.mark.parametrize("value", ["", []])
def test_empty_required_field_is_missing(value: object) -> None:
    _, problems = norm("person", {**VALID["person"], "name": value})
    assert problems == [("name", "missing, this field is required")]


def test_blank_required_text_is_empty() -> None:
    _, problems = norm("fact", {**VALID["fact"], "answer": "   "})
    assert problems == [("answer", "is empty, this field is required")]


def test_every_problem_of_a_record_is_reported() -> None:
    _, problems = norm("person", {"id": "Bad Id", "name": 3, "born": "1900-02-29", "x": 1})
    assert sorted(f for f, _ in problems) == ["born", "id", "name", "x"]


@pytest.mark.parametrize(("kind", "first", "last"), [
    ("person", "born", "died"),
    ("organ", "founded", "dissolved"),
    ("tenure", "start", "end"),
    ("event", "start", "end"),
])
def test_end_before_start(kind: str, first: str, last: str) -> None:
    raw = {**VALID[kind], first: "1930-05-02", last: "1930-05-01"}
    _, problems = norm(kind, raw)
    assert problems == [(last, f"1930-05-01 is before {first} 1930-05-02, "
                               f"expected a date on or after it")]


@pytest.mark.parametrize(("start", "end"), [
    ("1930", "1930-01-01"),      # an end within the start's year may be the same time
    ("1930-05-02", "1930-05"),   # the end's month contains the start
    ("1930-05", "1930"),
    ("1930-05-02", "1930-05-02"),
])
def test_end_at_coarser_precision_is_not_before(start: str, end: str) -> None:
    _, problems = norm("tenure", {**VALID["tenure"], "start": start, "end": end})
    assert problems == []


def test_no_order_check_when_a_date_is_bad() -> None:
    _, problems = norm("tenure", {**VALID["tenure"], "start": "1930-02-30", "end": "1920"})
    assert [f for f, _ in problems] == ["start"]


def test_event_needs_date_or_start() -> None:
    raw = {k: v for k, v in VALID["event"].items() if k not in ("start", "end")}
    _, problems = norm("event", raw)
    assert problems == [("date", "missing, expected date or start (and end)")]


def test_event_with_only_an_end_is_refused() -> None:
    raw = {k: v for k, v in VALID["event"].items() if k != "start"}
    _, problems = norm("event", raw)
    assert len(problems) == 1
    assert problems[0][0] in ("date", "start")


def test_event_date_and_start_together() -> None:
    _, problems = norm("event", {**VALID["event"], "date": "1937"})
    assert problems == [("date", "give either date or start and end, not both")]


@pytest.mark.parametrize("fields", [{"date": "1937-07-30"}, {"start": "1936"},
                                    {"start": "1936", "end": "1938"}])
def test_event_dates_ok(fields: dict[str, str]) -> None:
    raw = {k: v for k, v in VALID["event"].items() if k not in ("start", "end")}
    rec, problems = norm("event", {**raw, **fields})
    assert problems == []
    assert {k: rec.get(k) for k in fields} == fields


@pytest.mark.parametrize("rid", ["a", "0", "great-purge", "1936-moscow-trial", "a--b", "a-"])
def test_slug_ids_accepted(rid: str) -> None:
    rec, problems = norm("fact", {**VALID["fact"], "id": rid})
    assert problems == []
    assert rec["id"] == rid


@pytest.mark.parametrize("rid", ["Stalin", "-a", "great purge", "a_b", "a.b", "é", "a/b", "ａ"])
def test_non_slug_ids_refused(rid: str) -> None:
    _, problems = norm("fact", {**VALID["fact"], "id": rid})
    assert problems == [("id", f"{rid!r} {SLUG_MSG}")]


@pytest.mark.parametrize(("kind", "field", "value"), [
    ("organ", "part_of", "Central Committee"),
    ("organ", "succeeded_by", "-x"),
    ("office", "organ", "CC"),
    ("tenure", "person", "Stalin"),
    ("tenure", "office", "gen sec"),
])
def test_references_must_be_slugs(kind: str, field: str, value: str) -> None:
    _, problems = norm(kind, {**VALID[kind], field: value})
    assert problems == [(field, f"{value!r} {SLUG_MSG}")]


@pytest.mark.parametrize("field", ["people", "organs"])
def test_reference_lists_must_be_slugs(field: str) -> None:
    _, problems = norm("event", {**VALID["event"], field: ["ok", "Not OK"]})
    assert problems == [(field, f"'Not OK' {SLUG_MSG}")]


def test_default_tenure_id() -> None:
    raw = {k: v for k, v in VALID["tenure"].items() if k != "id"}
    rec, problems = norm("tenure", raw)
    assert problems == []
    assert rec["id"] == "stalin--gensec--1922-04-03"
    assert rec["id"] == default_tenure_id("stalin", "gensec", "1922-04-03")
    assert list(rec)[0] == "id"


def test_default_tenure_id_uses_the_normalised_start() -> None:
    raw = {"person": " stalin ", "office": "gensec", "start": dt.date(1922, 4, 3)}
    rec, problems = norm("tenure", raw)
    assert problems == []
    assert rec["id"] == "stalin--gensec--1922-04-03"


def test_no_default_tenure_id_without_its_parts() -> None:
    rec, problems = norm("tenure", {"person": "stalin", "office": "gensec"})
    assert problems == [("start", "missing, this field is required")]
    assert "id" not in rec


def test_explicit_tenure_id_is_kept_and_checked() -> None:
    rec, _ = norm("tenure", VALID["tenure"])
    assert rec["id"] == "stalin-gensec"
    _, problems = norm("tenure", {**VALID["tenure"], "id": "Stalin Gensec"})
    assert problems == [("id", f"'Stalin Gensec' {SLUG_MSG}")]


def test_texts_are_stripped_and_empty_optionals_left_out() -> None:
    rec, problems = norm("person", {"id": " lenin ", "name": "  Vladimir Lenin\n",
                                    "aliases": [" Ulyanov ", "  "], "note": "  ",
                                    "source": "", "tags": ["a", " a", "b", "a"], "born": None})
    assert problems == []
    assert rec == {"id": "lenin", "name": "Vladimir Lenin", "aliases": ["Ulyanov"],
                   "tags": ["a", "b"]}


def test_false_flags_are_left_out() -> None:
    rec, problems = norm("fact", {**VALID["fact"], "reverse": False})
    assert problems == []
    assert "reverse" not in rec


def test_fields_come_out_in_documented_order() -> None:
    raw = dict(reversed(list({**VALID["organ"], "tags": ["x"], "note": "n"}.items())))
    rec, _ = norm("organ", raw)
    assert list(rec) == ["id", "name", "short", "kind", "part_of", "succeeded_by", "founded",
                         "dissolved", "tags", "note"]


def test_repeated_references_are_listed_once() -> None:
    # the store keys event_people by (event, person): a repeat used to crash the import
    rec, problems = norm("event", {**VALID["event"], "people": ["yezhov", "beria", "yezhov"],
                                   "organs": ["nkvd", " nkvd"]})
    assert problems == []
    assert rec["people"] == ["yezhov", "beria"]
    assert rec["organs"] == ["nkvd"]


# -- the quick pass for valid records --------------------------------------------

ODD_VALUES = ["", " ", "  padded  ", "Bad Id", "a\x01b", "two\nlines", "x", "cc", 1, 2.5, True,
              False, [], ["a", "a"], [" a ", ""], ["b", 1], ["Bad Id"], ["x\x02"], {"a": 1},
              dt.date(2000, 1, 1), "1999", "1990-05", "2000-02-30", "0000", "1936-08-01"]


@st.composite
def raw_tables(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A kind and a table of its fields (and maybe others) in any order, valid or not."""
    kind = draw(st.sampled_from(list(KINDS)))
    raw: dict[str, Any] = {}
    for f in KINDS[kind].all_fields:
        choice = draw(st.integers(0, 3))
        if choice == 1 and f.name in VALID[kind]:
            raw[f.name] = VALID[kind][f.name]
        elif choice == 2:
            raw[f.name] = draw(st.sampled_from(ODD_VALUES))
        elif choice == 3 and f.name in VALID[kind] | {"tags": 1}:
            raw[f.name] = {"tags": ["b", "a", "b"]}.get(f.name, VALID[kind].get(f.name))
    if draw(st.booleans()):
        raw["colour"] = "red"
    names = draw(st.permutations(list(raw))) if draw(st.booleans()) else list(raw)
    return kind, {name: raw[name] for name in names}


@settings(max_examples=500, deadline=None)
@given(raw_tables())
def test_the_quick_pass_gives_what_checking_each_field_gives(table: tuple[str, Any]) -> None:
    """normalise takes a valid table in the documented order in one pass over its fields;
    its record (with its keys in order) and problems are those of the field-by-field check."""
    kind, raw = table
    quick, slow = normalise(KINDS[kind], raw, {}), _checked(KINDS[kind], raw, {})
    assert (list(quick[0].items()), quick[1]) == (list(slow[0].items()), slow[1])


def test_the_quick_pass_takes_the_valid_tables_in_order() -> None:
    """(Else the test above would compare the field-by-field check with itself.)"""
    for kind, raw in VALID.items():
        assert _valid(KINDS[kind], raw, None) == normalise(KINDS[kind], raw)[0]
    assert _valid(KINDS["office"], {"title": "T", "id": "x"}, None) is None  # out of order


def test_ids_references_and_tags_read_are_kept_once() -> None:
    strings: dict[str, str] = {}
    office, _ = normalise(KINDS["office"], {"id": "".join(["gen", "sec"]), "title": "T",
                                            "tags": ["".join(["us", "sr"])]}, strings)
    for raw in ({"person": "stalin", "office": "".join(["gen", "sec"]), "start": "1922",
                 "tags": ["".join(["us", "sr"])]},
                {"person": "stalin", "office": " gensec ", "start": "1922", "source": "s",
                 "tags": ["x", "".join(["us", "sr"])], "note": ""}):  # the slow pass too
        tenure, problems = normalise(KINDS["tenure"], raw, strings)
        assert problems == []
        assert tenure["office"] is office["id"]
        assert tenure["tags"][-1] is office["tags"][0]


@settings(max_examples=300, deadline=None)
@given(st.tuples(dates(), dates()))
def test_dates_in_order_by_their_text_or_by_their_days(pair: tuple[Any, Any]) -> None:
    """_before compares dates of one precision as text: the same answer as their days."""
    a, b = (d.iso() for d in pair)
    assert _before(a, b) == (PartialDate.parse(b).latest() < PartialDate.parse(a).earliest())
