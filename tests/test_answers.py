"""Typed answers (`study review --type`): lenient checking and the difference shown."""

from __future__ import annotations

import pytest

from cards.dates import PartialDate
from study.answers import check, differences, find_dates


@pytest.mark.parametrize("typed,expected,template,aliases,result", [
    ("joseph stalin", "Joseph Stalin", "holder", [], "correct"),
    ("Koba", "Joseph Stalin", "holder", ["Joseph Stalin", "Koba"], "correct"),
    ("stalin", "Joseph Stalin", "holder", [], "close"),
    ("Joseph Stalim", "Joseph Stalin", "holder", [], "close"),
    ("Trotsky", "Joseph Stalin", "holder", [], "wrong"),
    ("", "Joseph Stalin", "holder", [], "wrong"),
    ("Antonio Guterres", "António Guterres", "holder", [], "correct"),
    ("the Cheka!", "Cheka", "successor", [], "correct"),
    ("Yuri Andropov", "Yuri Andropov (1982)", "successor", [], "correct"),
    ("3 April 1922", "3 April 1922", "founded", [], "correct"),
    ("1922-04-03", "3 April 1922", "founded", [], "correct"),
    ("apr 1922", "3 April 1922", "founded", [], "close"),
    ("1922", "3 April 1922", "founded", [], "close"),
    ("1923", "3 April 1922", "founded", [], "wrong"),
    ("4 April 1922", "3 April 1922", "founded", [], "wrong"),
    ("1922 to 1952", "3 April 1922 – 16 October 1952", "dates", [], "close"),
    ("3 Apr 1922 - 16 Oct 1952", "3 April 1922 – 16 October 1952", "dates", [], "correct"),
    ("1922", "3 April 1922 – 16 October 1952", "dates", [], "wrong"),
    ("since 2012", "since 15 November 2012", "dates", [], "close"),
])
def test_check(typed: str, expected: str, template: str, aliases: list[str],
               result: str) -> None:
    verdict = check(typed, expected, template, aliases)
    assert verdict.result == result
    assert verdict.grade == {"correct": 3, "close": 2, "wrong": 1}[result]
    assert verdict.typed == typed


def test_find_dates_reads_iso_and_words() -> None:
    assert find_dates("from 3 April 1922 to 1952-10") == [
        PartialDate(1922, 4, 3), PartialDate(1952, 10)]
    assert find_dates("no date here") == []


def test_differences_mark_wrong_and_missing_letters() -> None:
    assert differences("stalim", "Joseph Stalin") == [
        ("Joseph ", "missing"), ("Stali", "same"), ("m", "wrong"), ("n", "missing")]
    assert differences("Moscow", "Moscow") == [("Moscow", "same")]
    runs = differences("Leningrad", "Moscow")
    assert "".join(t for t, how in runs if how != "wrong") == "Moscow"
    assert "".join(t for t, how in runs if how != "missing") == "Leningrad"


def test_dates_are_graded_at_the_precision_asked() -> None:
    # the card asks for years; the exact days are right too, another year is not
    assert check("3 April 1922 - 16 October 1952", "1922–1952", "dates").result == "correct"
    assert check("1922-1952", "1922–1952", "dates").result == "correct"
    assert check("March 1953", "1953", "date").result == "correct"
    assert check("1923-1952", "1922–1952", "dates").result == "wrong"
    assert check("1922", "1922–1952", "dates").result == "wrong"
