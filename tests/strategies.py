"""Hypothesis strategies for records: valid sets with consistent references."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from cards.dates import PartialDate
from cards.records import KINDS, normalise
from cards.text import control_character

TRICKY = ['He said "no"', "C:\\Users\\koba", "two\nlines", "tab\there", "it's", '"""', "'''",
          "\\u0041 is not A", "Правда", "毛泽东", "«Großer» Säuberung — ‘1937’", "emoji 🚩",
          "x\x7fy", "nul\x00byte", "cr\r\nlf", "# not a comment", "[[person]]", "a = 1",
          "line\u2028sep", "nel\x85", "zero\u200bwidth", "\ufeffbom"]

#: Strings that a record may hold: control characters other than newline and tab are
#: refused on import (issue 8, item 1), so the valid ones leave them out. Random text
#: is drawn without control characters (TRICKY has newlines and tabs): filtering them
#: out afterwards rejected so many draws that Hypothesis's health check failed now and then.
texts = st.one_of(st.sampled_from(TRICKY), st.text(
    st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=20)).map(
    str.strip).filter(lambda s: bool(s) and control_character(s) is None)
slugs = st.from_regex(r"\A[a-z0-9][a-z0-9-]{0,10}\Z")


@st.composite
def dates(draw: st.DrawFn) -> PartialDate:
    year = draw(st.integers(1, 2100))
    month = draw(st.none() | st.integers(1, 12))
    if month is None:
        return PartialDate(year)
    day = draw(st.none() | st.integers(1, 28))
    return PartialDate(year, month, day)


def _ordered(a: PartialDate, b: PartialDate) -> tuple[str, str]:
    first, last = sorted([a, b], key=lambda d: (d.earliest(), d.latest()))
    return first.iso(), last.iso()


def _maybe(draw: st.DrawFn, raw: dict[str, Any], name: str, strategy: Any) -> None:
    if draw(st.booleans()):
        raw[name] = draw(strategy)


@st.composite
def record_sets(draw: st.DrawFn) -> dict[str, dict[str, dict[str, Any]]]:
    ids = {kind: draw(st.lists(slugs, unique=True, max_size=4)) for kind in KINDS if
           kind != "tenure"}
    raws: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}

    def common(raw: dict[str, Any]) -> dict[str, Any]:
        _maybe(draw, raw, "tags", st.lists(texts, max_size=3))
        _maybe(draw, raw, "source", texts)
        _maybe(draw, raw, "note", texts)
        return raw

    for pid in ids["person"]:
        raw = {"id": pid, "name": draw(texts)}
        _maybe(draw, raw, "aliases", st.lists(texts, min_size=1, max_size=3))
        if draw(st.booleans()):
            raw["born"], raw["died"] = _ordered(draw(dates()), draw(dates()))
        _maybe(draw, raw, "summary", texts)
        raws["person"].append(common(raw))
    organs = ids["organ"]
    for oid in organs:
        raw = {"id": oid, "name": draw(texts)}
        _maybe(draw, raw, "short", texts)
        _maybe(draw, raw, "kind", st.sampled_from(["party", "newspaper", "committee"]) | texts)
        if organs:
            _maybe(draw, raw, "part_of", st.sampled_from(organs))
            _maybe(draw, raw, "succeeded_by", st.sampled_from(organs))
        if draw(st.booleans()):
            raw["founded"], raw["dissolved"] = _ordered(draw(dates()), draw(dates()))
        elif draw(st.booleans()):
            raw["founded"] = draw(dates()).iso()
        _maybe(draw, raw, "summary", texts)
        raws["organ"].append(common(raw))
    for fid in ids["office"]:
        raw = {"id": fid, "title": draw(texts)}
        if organs:
            _maybe(draw, raw, "organ", st.sampled_from(organs))
        _maybe(draw, raw, "succeeded_by", st.sampled_from(ids["office"]))
        raws["office"].append(common(raw))
    if ids["person"] and ids["office"]:
        for _ in range(draw(st.integers(0, 5))):
            raw = {"person": draw(st.sampled_from(ids["person"])),
                   "office": draw(st.sampled_from(ids["office"]))}
            _maybe(draw, raw, "id", slugs)
            if draw(st.booleans()):
                raw["start"], raw["end"] = _ordered(draw(dates()), draw(dates()))
            else:
                raw["start"] = draw(dates()).iso()
            _maybe(draw, raw, "acting", st.booleans())
            _maybe(draw, raw, "informal", st.booleans())
            _maybe(draw, raw, "title", texts)
            raws["tenure"].append(common(raw))
    for eid in ids["event"]:
        raw = {"id": eid, "name": draw(texts)}
        if draw(st.booleans()):
            raw["date"] = draw(dates()).iso()
        else:
            raw["start"], raw["end"] = _ordered(draw(dates()), draw(dates()))
        _maybe(draw, raw, "place", texts)
        if ids["person"]:
            _maybe(draw, raw, "people", st.lists(st.sampled_from(ids["person"]), unique=True))
        if organs:
            _maybe(draw, raw, "organs", st.lists(st.sampled_from(organs), unique=True))
        _maybe(draw, raw, "summary", texts)
        _maybe(draw, raw, "question", texts)
        raws["event"].append(common(raw))
    for fid in ids["fact"]:
        raw = {"id": fid, "question": draw(texts), "answer": draw(texts)}
        _maybe(draw, raw, "reverse", st.booleans())
        _maybe(draw, raw, "reverse_question", texts)
        raws["fact"].append(common(raw))

    records: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in KINDS}
    for kind, items in raws.items():
        for raw in items:
            rec, problems = normalise(KINDS[kind], raw)
            assert problems == [], (kind, raw, problems)
            records[kind].setdefault(rec["id"], rec)
    return records
