"""Reading authoring files: a long file is parsed in pieces, with the same records,
locations and problems as when parsed whole, and without holding every raw table."""

from __future__ import annotations

import tracemalloc
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from strategies import record_sets

import cards.authoring
from bench.common import tenures_toml
from cards.authoring import Located, _pieces, dump_toml, read_text
from cards.errors import Problem

DECK = (Path(__file__).parent / "fixtures" / "deck.toml").read_text(encoding="utf-8")


def seen(items: list[Located], problems: list[Problem]) -> tuple[list[Any], list[Problem]]:
    """Everything a reader of the records can ask: the record, where it and its fields are."""
    return ([(loc.kind, loc.record, loc.file, loc.line, loc.field_lines) for loc in items],
            problems)


def read_both(text: str) -> tuple[Any, Any]:
    """What reading ``text`` gives cut before every table, and parsed whole."""
    with mock.patch.object(cards.authoring, "PIECE_CHARS", 1):
        pieces = seen(*read_text(text, "f.toml"))
    with mock.patch.object(cards.authoring, "PIECE_CHARS", 10**9):
        whole = seen(*read_text(text, "f.toml"))
    return pieces, whole


def cut(text: str) -> bool:
    with mock.patch.object(cards.authoring, "PIECE_CHARS", 1):
        return _pieces(text.removeprefix("\ufeff")) is not None


MIXED = """\
# kinds interleaved, problems late, an unknown table twice
[[person]]
id = "a"
name = "A"

[[thing]]
x = 1

[[tenure]]
person = "a"
office = "o"
start = "1990"

[[person]]
id = "b"

[[thing]]
x = 2

[[person]]
id = "a"
name = "A again"
born = "2000"
died = "1990"

[[organ]]
id = "Bad Id"
name = "O"
"""

READ_IN_PIECES = {
    "the test deck": DECK,
    "kinds interleaved, with problems": MIXED,
    "a byte order mark and CRLF": "\ufeff" + MIXED.replace("\n", "\r\n"),
    "a header inside a multi-line string": MIXED.replace(
        'name = "A again"', 'name = "A again"\nnote = """\n[[person]]\nid = "c"\n"""'),
    "a header-like line inside an array": MIXED.replace('name = "A again"',
                                                        'name = "A"\ntags = [\n[[1]]]'),
    "malformed TOML late in the file": MIXED + '\n[[person]]\nid = \n',
    "malformed TOML at its end": MIXED + '\n[[person]]\nid = "',
}

READ_WHOLE = {
    "a subtable of a record": MIXED.replace('[[thing]]\nx = 2', '[person.extra]\nx = 2'),
    "a top-level key": 'person = "x"\n' + MIXED,
    "a plain table": MIXED + '\n[thing]\ny = 1\n',
    "a dotted header": MIXED + '\n[[person.alias]]\nname = "Z"\n',
    "a short file": '[[person]]\nid = "a"\nname = "A"\n',
}


@pytest.mark.parametrize("name", READ_IN_PIECES)
def test_a_file_read_in_pieces_reads_as_the_whole_file(name: str) -> None:
    text = READ_IN_PIECES[name]
    assert cut(text)
    pieces, whole = read_both(text)
    assert pieces == whole
    assert whole[0] or whole[1]


@pytest.mark.parametrize("name", READ_WHOLE)
def test_a_file_whose_tables_are_not_all_records_is_read_whole(name: str) -> None:
    text = READ_WHOLE[name]
    with mock.patch.object(cards.authoring, "PIECE_CHARS", 1 if name != "a short file" else 100):
        assert _pieces(text) is None
    pieces, whole = read_both(text)
    assert pieces == whole


def test_the_problems_of_a_file_read_in_pieces_are_the_whole_files() -> None:
    pieces, whole = read_both(MIXED)
    assert [(p.line, p.kind, p.field, p.message) for p in whole[1]] == [
        (14, "person", "name", "missing, this field is required"),
        (24, "person", "died", "1990 is before born 2000, expected a date on or after it"),
        (6, None, "thing", "unknown table, expected one of [[person]], [[organ]], "
                           "[[office]], [[tenure]], [[event]], [[fact]]"),
        (27, "organ", "id", "'Bad Id' is not an id, expected a slug: lowercase letters, "
                            "digits and '-', not starting with '-'"),
    ]
    late = read_both(MIXED + '\n[[person]]\nid = \n')
    assert late[0] == late[1] == ([], [Problem("f.toml:31:6", None, None, None, None,
                                               "malformed TOML: Invalid value")])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record_sets())
def test_a_dump_reads_the_same_in_pieces(records: dict[str, dict[str, dict[str, Any]]]) -> None:
    pieces, whole = read_both(dump_toml(records))
    assert pieces == whole


def test_reading_holds_the_raw_tables_of_one_piece_at_a_time() -> None:
    """The parser's raw tables are let go as they are normalised: reading in pieces peaks
    at little more than what it keeps (before pieces, at 1.8 times as much)."""
    text = tenures_toml(1000)
    peaks = {}
    for size in (8192, 10**9):
        with mock.patch.object(cards.authoring, "PIECE_CHARS", size):
            tracemalloc.start()
            items, problems = read_text(text, "t.toml")
            kept, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        assert len(items) == 2275 and problems == []
        peaks[size] = peak / kept
        del items
    assert peaks[8192] < 1.1 < 1.2 < peaks[10**9]  # whole, the parser's tables peak at once


def test_an_import_that_makes_every_card_reads_each_stored_kind_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The stored records read while reading a large file (StoredTables) are the ones the
    cards are made from, not a second copy read again."""
    from cards.authoring import load_and_import
    from cards.store import Store
    from tests.helpers import T0

    text = tenures_toml(200)  # 200 people and tenures: more than StoredTables.LOOK_UPS
    path = tmp_path / "t.toml"
    path.write_text(text)
    store = Store.open(tmp_path / "s.db")
    load_and_import(store, [path], T0)
    path.write_text(text.replace('name = "Person Number', 'name = "Person No.'))
    monkeypatch.setattr(cards.authoring, "MAX_SCOPED", 10)  # 200 changes: every card made
    whole: list[str] = []
    real = Store.records

    def spying(self: Store, kind: str, ids: Any = None) -> Any:
        if ids is None:
            whole.append(kind)
        return real(self, kind, ids)

    monkeypatch.setattr(Store, "records", spying)
    report = load_and_import(store, [path], T0)
    monkeypatch.undo()
    assert len(report.changed) == 200 and report.cards["changed"] > 0
    assert sorted(whole) == sorted(set(whole)) and {"person", "tenure"} <= set(whole)
    assert store.records("person")["person-7"]["name"] == "Person No. 7"


def test_the_stored_records_read_share_their_tags_and_references(tmp_path: Path) -> None:
    from cards.authoring import load_and_import
    from cards.store import Store
    from tests.helpers import T0

    path = tmp_path / "t.toml"
    path.write_text(tenures_toml(8))  # two offices, four tenures each, every one tagged
    store = Store.open(tmp_path / "s.db")
    load_and_import(store, [path], T0)
    tenures = list(store.records("tenure").values())
    assert len({id(t["office"]) for t in tenures}) == 2
    assert len({id(t["tags"][0]) for t in tenures}) == 1
    assert [t["office"] for t in tenures] == ["office-0"] * 4 + ["office-1"] * 4
