"""Partial dates: parsing, words, ranges, bounds (cards/dates.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cards.dates import PartialDate, parse_optional, span_phrase, span_words
from cards.errors import DateError

D = PartialDate.parse


@pytest.mark.parametrize(("text", "expected"), [
    ("1922", PartialDate(1922)),
    ("1922-04", PartialDate(1922, 4)),
    ("1922-04-03", PartialDate(1922, 4, 3)),
    ("0001-01-01", PartialDate(1, 1, 1)),
    ("9999-12-31", PartialDate(9999, 12, 31)),
    ("2000-02-29", PartialDate(2000, 2, 29)),
    ("1904-02-29", PartialDate(1904, 2, 29)),
    (" 1922-04 ", PartialDate(1922, 4)),
])
def test_parse_valid(text: str, expected: PartialDate) -> None:
    assert D(text) == expected


def test_parse_accepts_a_date_object() -> None:
    # TOML's bare dates (1922-04-03 without quotes) arrive as datetime.date
    assert D(dt.date(1922, 4, 3)) == PartialDate(1922, 4, 3)


@pytest.mark.parametrize(("text", "message"), [
    ("1934-02-30", "'1934-02-30': February 1934 has no day 30, expected 01 to 28"),
    ("1900-02-29", "'1900-02-29': February 1900 has no day 29, expected 01 to 28"),
    ("1922-04-31", "'1922-04-31': April 1922 has no day 31, expected 01 to 30"),
    ("1922-04-00", "'1922-04-00': April 1922 has no day 0, expected 01 to 30"),
    ("1922-13", "'1922-13': month 13 does not exist, expected 01 to 12"),
    ("1922-00", "'1922-00': month 0 does not exist, expected 01 to 12"),
    ("0000", "'0000': there is no year 0000"),
    ("922", "'922' is not a date, expected YYYY, YYYY-MM or YYYY-MM-DD"),
    ("1922-4-3", "'1922-4-3' is not a date, expected YYYY, YYYY-MM or YYYY-MM-DD"),
    ("3 April 1922", "'3 April 1922' is not a date, expected YYYY, YYYY-MM or YYYY-MM-DD"),
    ("1922/04/03", "'1922/04/03' is not a date, expected YYYY, YYYY-MM or YYYY-MM-DD"),
    ("", "'' is not a date, expected YYYY, YYYY-MM or YYYY-MM-DD"),
    ("19220", "'19220' is not a date, expected YYYY, YYYY-MM or YYYY-MM-DD"),
    ("1922-04-03T00:00", "'1922-04-03T00:00' is not a date, expected YYYY, YYYY-MM or YYYY-MM-DD"),
])
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(DateError) as err:
        D(text)
    assert str(err.value) == message


@pytest.mark.parametrize("text", ["１９２２", "١٩٢٢", "1922-0٤"])
def test_only_ascii_digits(text: str) -> None:
    with pytest.raises(DateError):
        D(text)


@pytest.mark.parametrize("value", [1922, 1922.0, None, True, ["1922"],
                                   dt.datetime(1922, 4, 3, 12, 0), dt.time(12, 0)])
def test_parse_refuses_other_types(value: object) -> None:
    with pytest.raises(DateError, match="is not a date"):
        D(value)


def test_date_error_is_a_value_error() -> None:
    assert issubclass(DateError, ValueError)


def test_parse_optional() -> None:
    assert parse_optional(None) is None
    assert parse_optional("") is None
    assert parse_optional("1991") == PartialDate(1991)
    with pytest.raises(DateError):
        parse_optional("1991-02-29")


@pytest.mark.parametrize(("text", "precision", "iso", "words"), [
    ("1922", "year", "1922", "1922"),
    ("1922-04", "month", "1922-04", "April 1922"),
    ("1922-04-03", "day", "1922-04-03", "3 April 1922"),
    ("0987-12-01", "day", "0987-12-01", "1 December 987"),
])
def test_precision_iso_words(text: str, precision: str, iso: str, words: str) -> None:
    d = D(text)
    assert d.precision == precision
    assert d.iso() == iso
    assert str(d) == iso
    assert d.words() == words


@pytest.mark.parametrize(("text", "earliest", "latest"), [
    ("1922", dt.date(1922, 1, 1), dt.date(1922, 12, 31)),
    ("1922-04", dt.date(1922, 4, 1), dt.date(1922, 4, 30)),
    ("1900-02", dt.date(1900, 2, 1), dt.date(1900, 2, 28)),
    ("2000-02", dt.date(2000, 2, 1), dt.date(2000, 2, 29)),
    ("1922-04-03", dt.date(1922, 4, 3), dt.date(1922, 4, 3)),
])
def test_earliest_latest(text: str, earliest: dt.date, latest: dt.date) -> None:
    assert D(text).earliest() == earliest
    assert D(text).latest() == latest


@pytest.mark.parametrize(("coarse", "fine", "expected"), [
    ("1922", "1922", True),
    ("1922", "1922-04", True),
    ("1922", "1922-04-03", True),
    ("1922-04", "1922-04-03", True),
    ("1922-04-03", "1922-04-03", True),
    ("1922-04", "1922-04", True),
    ("1922", "1923-04-03", False),
    ("1922-04", "1922-05-03", False),
    ("1922-04-03", "1922-04-04", False),
    ("1922-04", "1922", False),
    ("1922-04-03", "1922-04", False),
    ("1922-04-03", "1922", False),
])
def test_covers(coarse: str, fine: str, expected: bool) -> None:
    assert D(coarse).covers(D(fine)) is expected


@pytest.mark.parametrize(("start", "end", "words", "phrase"), [
    ("1922-04-03", "1952-10-16", "3 April 1922 – 16 October 1952",
     "from 3 April 1922 to 16 October 1952"),
    ("2012-11-15", None, "since 15 November 2012", "since 15 November 2012"),
    ("1922-04", "1929", "April 1922 – 1929", "from April 1922 to 1929"),
    (None, "1991-12-26", "until 26 December 1991", "until 26 December 1991"),
    (None, None, "date unknown", ""),
    ("1956-02-25", "1956-02-25", "25 February 1956", "on 25 February 1956"),
    ("1932", "1932", "1932", "in 1932"),
    ("1929-04", "1929-04", "April 1929", "in April 1929"),
])
def test_spans(start: str | None, end: str | None, words: str, phrase: str) -> None:
    s, e = parse_optional(start), parse_optional(end)
    assert span_words(s, e) == words
    assert span_phrase(s, e) == phrase


# -- properties ----------------------------------------------------------------

@given(st.text())
def test_any_text_parses_or_raises_date_error(text: str) -> None:
    try:
        d = D(text)
    except DateError:
        return
    assert isinstance(d, PartialDate)
    assert D(d.iso()) == d


@given(st.from_regex(r"\A[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?\Z"))
def test_date_shaped_text_parses_or_raises_date_error(text: str) -> None:
    try:
        d = D(text)
    except DateError:
        return
    assert d.iso() == text


@given(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.binary(),
                 st.lists(st.text()), st.dictionaries(st.text(), st.text()), st.datetimes(),
                 st.times()))
def test_any_other_value_raises_date_error(value: object) -> None:
    with pytest.raises(DateError):
        D(value)


@st.composite
def partial_dates(draw: st.DrawFn) -> PartialDate:
    day = draw(st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)))
    precision = draw(st.sampled_from(["year", "month", "day"]))
    if precision == "year":
        return PartialDate(day.year)
    if precision == "month":
        return PartialDate(day.year, day.month)
    return PartialDate(day.year, day.month, day.day)


@given(partial_dates())
def test_iso_round_trip(d: PartialDate) -> None:
    assert D(d.iso()) == d
    assert d.precision in ("year", "month", "day")
    assert d.earliest() <= d.latest()
    assert d.covers(d)


@given(st.dates(min_value=dt.date(1, 1, 1)))
def test_real_days_parse_and_bounds_contain_them(day: dt.date) -> None:
    d = D(day.isoformat())
    assert (d.earliest(), d.latest()) == (day, day)
    for coarse in (PartialDate(day.year), PartialDate(day.year, day.month)):
        assert coarse.covers(d)
        assert coarse.earliest() <= day <= coarse.latest()


def test_a_shared_parsed_date_keeps_its_text_without_changing_equality() -> None:
    """Parsed dates are shared and cache their text (``iso``) as they cache their bounds."""
    for text, fresh in (("1922", PartialDate(1922)), ("1922-04", PartialDate(1922, 4)),
                        ("1922-04-03", PartialDate(1922, 4, 3))):
        parsed = PartialDate.parse(text)
        assert parsed.iso() == parsed.iso() == text == str(parsed)
        assert parsed == fresh and hash(parsed) == hash(fresh) and fresh.iso() == text
