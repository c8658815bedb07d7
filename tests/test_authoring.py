"""Authoring files: `study import`, its error report, upsert, --dry-run, and the TOML round trip."""

from __future__ import annotations

import json
import sqlite3
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import pytest
from helpers import T0, json_of, run, snapshot
from hypothesis import HealthCheck, given, settings
from strategies import record_sets, texts

from cards.authoring import dump_toml, import_records, read_text, validate
from cards.records import KINDS
from cards.store import Store

BASE = textwrap.dedent("""\
    [[person]]
    id = "stalin"
    name = "Joseph Stalin"

    [[person]]
    id = "malenkov"
    name = "Georgy Malenkov"

    [[organ]]
    id = "cc"
    name = "Central Committee"

    [[office]]
    id = "gensec"
    title = "General Secretary"
    organ = "cc"

    [[tenure]]
    person = "stalin"
    office = "gensec"
    start = "1922-04-03"
    end = "1952-10-16"

    [[fact]]
    id = "kolkhoz"
    question = "What is a kolkhoz?"
    answer = "A collective farm"
    reverse = true
    """)

TENURE = "stalin--gensec--1922-04-03"


@pytest.fixture
def db(isolated: Path) -> Path:
    """An empty store at $STUDY_DB."""
    result = run("init", "--empty")
    assert result.exit_code == 0, result.output
    return isolated / "study.db"


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problem_lines(output: str) -> list[str]:
    return output.strip().splitlines()


# -- errors --------------------------------------------------------------------

def test_every_problem_is_reported_with_file_line_kind_id_and_field(db: Path,
                                                                     tmp_path: Path) -> None:
    path = write(tmp_path, "bad.toml", """\
        [[person]]
        id = "stalin"
        name = "Joseph Stalin"
        colour = "red"

        [[person]]
        id = "lenin"
        name = 5
        born = "1870-02-30"

        [[office]]
        id = "gensec"

        [[tenure]]
        person = "nobody"
        office = "gensec"
        start = "1923"

        [[person]]
        id = "stalin"
        name = "Stalin again"

        [[fact]]
        id = "f"
        question = "Q?"
        answer = "A"
        reverse = "yes"
        """)
    before = snapshot(db)
    result = run("import", str(path))
    assert result.exit_code == 1
    f = str(path)
    assert problem_lines(result.stderr) == [
        f"{f}:4: person 'stalin': colour: unknown field, expected one of: "
        "aliases, born, died, id, name, note, source, summary, tags",
        f"{f}:8: person 'lenin': name: is a number, expected a string",
        f"{f}:9: person 'lenin': born: '1870-02-30': February 1870 has no day 30, "
        "expected 01 to 28",
        f"{f}:11: office 'gensec': title: missing, this field is required",
        f"{f}:15: tenure 'nobody--gensec--1923': person: unknown person 'nobody', "
        "expected the id of a person in the input or the store",
        f"{f}:20: person 'stalin': id: duplicate id, already defined at {f}:1",
        f"{f}:27: fact 'f': reverse: is a string, expected true or false",
        "Error: 7 problems in the input; nothing was written.",
    ]
    assert result.stdout == ""
    assert snapshot(db) == before


def test_a_reference_to_the_store_is_fine_and_to_nowhere_is_not(db: Path,
                                                                 tmp_path: Path) -> None:
    assert run("import", str(write(tmp_path, "base.toml", BASE))).exit_code == 0
    path = write(tmp_path, "more.toml", """\
        [[tenure]]
        person = "malenkov"
        office = "gensec"
        start = "1953-03-06"
        end = "1953-03-14"

        [[event]]
        id = "e"
        name = "E"
        date = "1953"
        people = ["stalin", "beria"]
        organs = ["cc", "presidium"]
        """)
    before = snapshot(db)
    result = run("import", str(path))
    assert result.exit_code == 1
    f = str(path)
    assert problem_lines(result.stderr) == [
        f"{f}:11: event 'e': people: unknown person 'beria', "
        "expected the id of a person in the input or the store",
        f"{f}:12: event 'e': organs: unknown organ 'presidium', "
        "expected the id of an organ in the input or the store",
        "Error: 2 problems in the input; nothing was written.",
    ]
    assert snapshot(db) == before
    # without the event, the tenure's references are all found in the store
    write(tmp_path, "more.toml", path.read_text().split("[[event]]")[0])
    assert run("import", str(path)).exit_code == 0


def test_a_reference_to_a_record_in_another_input_file(db: Path, tmp_path: Path) -> None:
    one = write(tmp_path, "one.toml", '[[person]]\nid = "stalin"\nname = "Stalin"\n')
    two = write(tmp_path, "two.toml", '[[event]]\nid = "e"\nname = "E"\ndate = "1930"\n'
                                      'people = ["stalin"]\n')
    result = run("import", str(two), str(one))
    assert result.exit_code == 0, result.output
    assert json_of("list", "events", "--json")[0]["people"] == ["stalin"]


def test_duplicate_id_across_files(db: Path, tmp_path: Path) -> None:
    one = write(tmp_path, "one.toml", '[[person]]\nid = "stalin"\nname = "Stalin"\n')
    two = write(tmp_path, "two.toml", '\n[[person]]\nid = "stalin"\nname = "Koba"\n')
    result = run("import", str(one), str(two))
    assert result.exit_code == 1
    assert problem_lines(result.stderr) == [
        f"{two}:3: person 'stalin': id: duplicate id, already defined at {one}:1",
        "Error: 1 problem in the input; nothing was written.",
    ]


def test_duplicate_default_tenure_id(db: Path, tmp_path: Path) -> None:
    tenure = '[[tenure]]\nperson = "stalin"\noffice = "gensec"\nstart = "1922"\n\n'
    path = write(tmp_path, "t.toml", BASE + "\n" + tenure + tenure)
    result = run("import", str(path))
    assert result.exit_code == 1
    lines = problem_lines(result.stderr)
    assert len(lines) == 2
    assert lines[0].endswith("tenure 'stalin--gensec--1922': id: duplicate id, already defined "
                             f"at {path}:{BASE.count(chr(10)) + 2}")


def test_same_id_in_different_kinds_is_fine(db: Path, tmp_path: Path) -> None:
    path = write(tmp_path, "t.toml", """\
        [[organ]]
        id = "pravda"
        name = "Pravda"

        [[fact]]
        id = "pravda"
        question = "What does pravda mean?"
        answer = "Truth"
        """)
    assert run("import", str(path)).exit_code == 0


def test_malformed_toml_reports_line_and_column(db: Path, tmp_path: Path) -> None:
    path = write(tmp_path, "m.toml", '[[person]]\nid = "x"\nname = "unterminated\n')
    before = snapshot(db)
    result = run("import", str(path))
    assert result.exit_code == 1
    lines = problem_lines(result.stderr)
    assert lines[0].startswith(f"{path}:3:21: malformed TOML: ")
    assert lines[1:] == ["Error: 1 problem in the input; nothing was written."]
    assert snapshot(db) == before


def test_malformed_toml_at_the_end_of_the_file(db: Path, tmp_path: Path) -> None:
    path = write(tmp_path, "m.toml", '[[person]]\nid = "x"\nname = "X"\n[[person')
    result = run("import", str(path))
    assert result.exit_code == 1
    line = problem_lines(result.stderr)[0]
    assert line.startswith(f"{path}:4: malformed TOML: ")
    assert line.endswith("(at end of file)")


def test_malformed_and_missing_files_are_all_reported(db: Path, tmp_path: Path) -> None:
    good = write(tmp_path, "good.toml", BASE)
    bad = write(tmp_path, "bad.toml", "[[person]\n")
    missing = tmp_path / "missing.toml"
    before = snapshot(db)
    result = run("import", str(good), str(bad), str(missing))
    assert result.exit_code == 1
    lines = problem_lines(result.stderr)
    assert len(lines) == 3
    assert lines[0].startswith(f"{bad}:1:")
    assert f"{missing}: no such file" in lines
    assert lines[-1] == "Error: 2 problems in the input; nothing was written."
    assert snapshot(db) == before


def test_a_file_that_is_not_utf8(db: Path, tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('[[person]]\nid = "x"\nname = "Fran\xe7ois"\n'.encode("latin-1"))
    result = run("import", str(path))
    assert result.exit_code == 1
    assert problem_lines(result.stderr)[0].startswith(f"{path}: cannot read: ")


def test_unknown_tables_are_reported(db: Path, tmp_path: Path) -> None:
    path = write(tmp_path, "t.toml", """\
        title = "my deck"

        [[dog]]
        id = "rex"

        [person]
        id = "x"
        name = "X"
        """)
    result = run("import", str(path))
    assert result.exit_code == 1
    expected = ("unknown table, expected one of [[person]], [[organ]], [[office]], [[tenure]], "
                "[[event]], [[fact]]")
    assert problem_lines(result.stderr) == [
        f"{path}:1: title: {expected}",
        f"{path}:3: dog: {expected}",
        f"{path}:6: person: {expected}",
        "Error: 3 problems in the input; nothing was written.",
    ]


def test_line_numbers_count_only_newlines(db: Path, tmp_path: Path) -> None:
    # U+2028 and U+0085 are line breaks to str.splitlines but not to TOML
    path = write(tmp_path, "t.toml", '[[fact]]\nid = "a"\nquestion = "Q\u2028Q\x85?"\n'
                                     'answer = "A"\n\n[[fact]]\nid = "b"\nquestion = 3\n'
                                     'answer = "B"\n')
    result = run("import", str(path))
    assert result.exit_code == 1
    lines = problem_lines(result.stderr)
    assert lines[0].startswith(f"{path}:3: fact 'a': question: contains the control character "
                               f"\\x85")  # U+0085 is a C1 control: refused, on its own line
    assert lines[1] == f"{path}:8: fact 'b': question: is a number, expected a string"


def test_multiline_strings_do_not_confuse_line_numbers(db: Path, tmp_path: Path) -> None:
    path = write(tmp_path, "t.toml", '''\
        [[fact]]
        id = "a"
        question = """Q
        [[fact]]
        answer = 1
        """
        answer = "A"

        [[fact]]
        id = "b"
        question = "Q"
        answer = 2
        ''')
    result = run("import", str(path))
    assert problem_lines(result.stderr)[0] == (
        f"{path}:12: fact 'b': answer: is a number, expected a string")


def test_quotes_inside_strings_and_comments_do_not_confuse_line_numbers(
        db: Path, tmp_path: Path) -> None:
    path = write(tmp_path, "t.toml", """\
        # a comment with \"\"\" in it
        [[fact]]
        id = "a"
        question = "Why ''' here?"  # and ''' here
        answer = 'a \"\"\" b'

        [[fact]]
        id = "b"
        question = '''one \"\"\"
        two'''
        answer = 2

        [[fact]]
        id = "c"
        question = \"\"\"ends with a quote\"\"\"\"
        answer = 3
        """)
    result = run("import", str(path))
    assert problem_lines(result.stderr) == [
        f"{path}:11: fact 'b': answer: is a number, expected a string",
        f"{path}:16: fact 'c': answer: is a number, expected a string",
        "Error: 2 problems in the input; nothing was written.",
    ]


def test_import_needs_a_file() -> None:
    result = run("import")
    assert result.exit_code == 2
    assert "Missing argument 'FILES...'" in result.stderr


# -- upsert ----------------------------------------------------------------------

def cards_by_key() -> dict[str, dict[str, Any]]:
    return {c["key"]: c for c in json_of("list", "cards", "--json")}


def test_import_adds_records_and_cards(db: Path, tmp_path: Path) -> None:
    result = run("import", str(write(tmp_path, "base.toml", BASE)))
    assert result.exit_code == 0
    assert result.stdout == ("Imported: added 6, changed 0, left 0 unchanged; "
                             "cards: 8 new, 0 reworded, 0 retired, 8 in all\n")
    assert [p["id"] for p in json_of("list", "people", "--json")] == ["stalin", "malenkov"]
    keys = list(cards_by_key())
    assert keys[:6] == [
        f"tenure:{TENURE}:holder", f"tenure:{TENURE}:office", f"tenure:{TENURE}:dates",
        "fact:kolkhoz:forward", "fact:kolkhoz:reverse", "person:stalin:who"]
    assert [k.split("@")[0] for k in keys[6:]] == [f"as-of:{TENURE}"] * 2


def test_reimporting_an_edited_file_updates_and_keeps_history(db: Path, tmp_path: Path) -> None:
    path = write(tmp_path, "base.toml", BASE)
    assert run("import", str(path)).exit_code == 0
    holder = f"tenure:{TENURE}:holder"
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE cards SET reps = 4, state = 'review', stability = 12.5, "
                     "due = '2026-02-01T00:00:00.000000+00:00', reviewed_hash = answer_hash "
                     "WHERE key IN (?, ?)", [holder, "fact:kolkhoz:reverse"])
        conn.execute("INSERT INTO reviews (card_key, rating, reviewed_at, duration_ms, "
                     "state_before, state_after, interval_days) VALUES "
                     "(?, 3, '2026-01-04T10:00:00.000000+00:00', 2500, '{}', '{}', 12.0)",
                     [holder])
        conn.execute("INSERT INTO reviews (card_key, rating, reviewed_at, duration_ms, "
                     "state_before, state_after, interval_days) VALUES "
                     "('fact:kolkhoz:reverse', 3, '2026-01-04T10:00:00.000000+00:00', 2500, "
                     "'{}', '{}', 12.0)")
    conn.close()
    before = cards_by_key()
    assert before[holder]["question"] == (
        "Who was General Secretary from 1922 to 1952?")

    edited = (BASE.replace('title = "General Secretary"',
                           'title = "General Secretary of the Central Committee"')
              .replace("reverse = true\n", "")
              .replace('name = "Georgy Malenkov"', 'name = "Georgy Malenkov"\nborn = "1902"'))
    write(tmp_path, "base.toml", edited)
    result = run("import", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout == ("Imported: added 0, changed 3, left 3 unchanged; "
                             "cards: 0 new, 6 reworded, 1 retired, 7 in all\n")

    after = cards_by_key()
    card = after[holder]
    assert card["question"] == ("Who was General Secretary of the Central Committee "
                                "from 1922 to 1952?")
    assert card["answer"] == "Joseph Stalin"
    assert (card["reps"], card["state"], card["stability"]) == (4, "review", 12.5)
    assert card["due"] == "2026-02-01T00:00:00.000000+00:00"  # the answer did not change
    assert "fact:kolkhoz:reverse" not in after  # retired: not listed, not shown
    conn = sqlite3.connect(db)
    try:
        reviews = conn.execute("SELECT card_key FROM reviews ORDER BY id").fetchall()
        retired = conn.execute("SELECT retired, reps FROM cards WHERE key = ?",
                               ["fact:kolkhoz:reverse"]).fetchone()
    finally:
        conn.close()
    assert reviews == [(holder,), ("fact:kolkhoz:reverse",)]
    assert retired == (1, 4)
    person = json_of("list", "people", "--json")[1]
    assert (person["id"], person["born"]) == ("malenkov", "1902")


def test_a_card_whose_answer_changed_becomes_due(db: Path, tmp_path: Path) -> None:
    path = write(tmp_path, "base.toml", BASE)
    assert run("import", str(path)).exit_code == 0
    office = f"tenure:{TENURE}:office"
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE cards SET reps = 2, state = 'review', reviewed_hash = answer_hash, "
                     "due = '2026-03-01T00:00:00.000000+00:00' WHERE key = ?", [office])
        old_hash = conn.execute("SELECT answer_hash FROM cards WHERE key = ?",
                                [office]).fetchone()[0]
    conn.close()
    write(tmp_path, "base.toml", BASE.replace('"General Secretary"', '"First Secretary"'))
    assert run("import", str(path)).exit_code == 0
    conn = sqlite3.connect(db)
    row = conn.execute("SELECT answer, answer_hash, reviewed_hash, due, reps FROM cards "
                       "WHERE key = ?", [office]).fetchone()
    conn.close()
    assert row[0] == "First Secretary"
    assert row[1] != old_hash
    assert row[2] == old_hash
    assert row[3] == "2026-01-05T12:00:00.000000+00:00"  # due now (STUDY_NOW)
    assert row[4] == 2


def test_records_missing_from_the_file_are_left_alone(db: Path, tmp_path: Path) -> None:
    assert run("import", str(write(tmp_path, "base.toml", BASE))).exit_code == 0
    small = write(tmp_path, "small.toml", '[[person]]\nid = "stalin"\nname = "J. V. Stalin"\n')
    result = run("import", str(small))
    assert result.stdout.startswith("Imported: added 0, changed 1, left 0 unchanged")
    assert [p["name"] for p in json_of("list", "people", "--json")] == [
        "J. V. Stalin", "Georgy Malenkov"]
    assert len(json_of("list", "facts", "--json")) == 1


def test_reimporting_the_same_file_changes_nothing(db: Path, tmp_path: Path) -> None:
    path = write(tmp_path, "base.toml", BASE)
    assert run("import", str(path)).exit_code == 0
    before = snapshot(db)
    result = run("import", str(path), env={"STUDY_NOW": "2026-06-01T00:00:00+00:00"})
    assert result.stdout == ("Imported: added 0, changed 0, left 6 unchanged; "
                             "cards: 0 new, 0 reworded, 0 retired, 8 in all\n")
    assert snapshot(db) == before


def test_dry_run_reports_and_writes_nothing(db: Path, tmp_path: Path) -> None:
    path = write(tmp_path, "base.toml", BASE)
    assert run("import", str(path)).exit_code == 0
    write(tmp_path, "base.toml", BASE.replace("Joseph Stalin", "Iosif Stalin")
          + '\n[[fact]]\nid = "sovkhoz"\nquestion = "What is a sovkhoz?"\n'
            'answer = "A state farm"\n')
    before = snapshot(db)
    result = run("import", "--dry-run", str(path))
    assert result.exit_code == 0
    assert result.stdout == ("Dry run: would add 1, would change 1, left 5 unchanged\n"
                             "  would add fact 'sovkhoz'\n"
                             "  would change person 'stalin'\n")
    assert snapshot(db) == before


def test_dry_run_still_reports_problems(db: Path, tmp_path: Path) -> None:
    path = write(tmp_path, "bad.toml", '[[person]]\nid = "x"\n')
    result = run("import", "--dry-run", str(path))
    assert result.exit_code == 1
    assert problem_lines(result.stderr) == [
        f"{path}:1: person 'x': name: missing, this field is required",
        "Error: 1 problem in the input; nothing was written.",
    ]


# -- the round trip ----------------------------------------------------------------

def _import(store: Store, text: str) -> None:
    items, problems = read_text(text, "dump.toml")
    validate(store, items, problems)
    lines = text.split("\n")
    for loc in items:  # every record and field is located, whatever its strings hold
        assert loc.line is not None and lines[loc.line - 1] == f"[[{loc.kind}]]"
        for name, number in loc.field_lines.items():
            assert lines[number - 1].startswith(f"{name} = ")
        assert set(loc.field_lines) == set(loc.record) | ({"id"} if loc.kind != "tenure" else set())
    import_records(store, items, T0, consistent=False)  # fidelity, not consistency


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record_sets())
def test_dump_import_dump_round_trip(records: dict[str, dict[str, dict[str, Any]]]) -> None:
    text = dump_toml(records)
    with tempfile.TemporaryDirectory() as directory:
        with Store.open(Path(directory) / "a.db") as store:
            _import(store, text)
            assert store.all_records() == records
            assert dump_toml(store.all_records()) == text
        with Store.open(Path(directory) / "b.db") as store:  # the dump, imported again
            _import(store, text)
            assert dump_toml(store.all_records()) == text


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_any_string_survives_the_round_trip(value: str) -> None:
    records: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in KINDS}
    records["fact"]["f"] = {"id": "f", "question": value, "answer": value, "note": value,
                            "tags": [value]}
    records["person"]["p"] = {"id": "p", "name": value, "aliases": [value]}
    items, problems = read_text(dump_toml(records), "dump.toml")
    assert problems == []
    assert {loc.kind: loc.record for loc in items} == {"fact": records["fact"]["f"],
                                                       "person": records["person"]["p"]}


def test_dump_text_is_json_compatible_strings() -> None:
    # every string is written as a TOML basic string; nothing else reaches the file
    records: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in KINDS}
    records["fact"]["f"] = {"id": "f", "question": 'a "b" \\ c', "answer": "d\ne"}
    text = dump_toml(records)
    assert 'question = "a \\"b\\" \\\\ c"' in text
    assert 'answer = "d\\ne"' in text
    assert json.loads(text.split("answer = ")[1].strip()) == "d\ne"


def test_an_import_reads_and_writes_with_the_cyclic_collector_paused(
        tmp_path: Path, monkeypatch: Any) -> None:
    """Collections would walk every record and card again and again; the collector
    runs again after the import, whether it succeeded or failed."""
    import gc

    import cards.authoring

    seen: list[bool] = []
    real = cards.authoring.read_files

    def spying(paths: Any, *rest: Any) -> Any:
        seen.append(gc.isenabled())
        return real(paths, *rest)

    monkeypatch.setattr(cards.authoring, "read_files", spying)
    good, bad = tmp_path / "good.toml", tmp_path / "bad.toml"
    good.write_text('[[person]]\nid = "a"\nname = "A"\n')
    bad.write_text('[[person]]\nid = "b"\n')
    with Store.open(tmp_path / "s.db") as store:
        assert gc.isenabled()
        cards.authoring.load_and_import(store, [good], T0)
        assert gc.isenabled()
        with pytest.raises(cards.authoring.InvalidInput):
            cards.authoring.load_and_import(store, [bad], T0)
        assert gc.isenabled()
    assert seen == [False, False]


def test_a_reimport_replaces_tags_and_event_links_in_their_order(tmp_path: Path) -> None:
    """A first import writes tags and links without looking for old ones; a later
    import takes the old ones out (both kinds of write, and the order kept)."""
    from cards.authoring import load_and_import

    def deck(tags: str, people: str) -> Path:
        path = tmp_path / "deck.toml"
        path.write_text(
            '[[person]]\nid = "b"\nname = "B"\n\n[[person]]\nid = "a"\nname = "A"\n'
            f'tags = {tags}\n\n[[person]]\nid = "c"\nname = "C"\n\n'
            f'[[event]]\nid = "e"\nname = "E"\ndate = "1917"\npeople = {people}\n')
        return path

    with Store.open(tmp_path / "s.db") as store:
        load_and_import(store, [deck('["z", "y::x", "a"]', '["c", "a", "b"]')], T0)
        assert store.get("person", "a")["tags"] == ["z", "y::x", "a"]
        assert store.get("event", "e")["people"] == ["c", "a", "b"]
        load_and_import(store, [deck('["a", "q"]', '["b"]')], T0)
        assert store.get("person", "a")["tags"] == ["a", "q"]
        assert store.get("event", "e")["people"] == ["b"]
        assert store.db.execute("SELECT COUNT(*) FROM tags").fetchone()[0] == 2
        assert store.db.execute("SELECT COUNT(*) FROM event_people").fetchone()[0] == 1


def test_an_import_summary_groups_the_thousands() -> None:
    from cards.authoring import ImportReport

    report = ImportReport(added=[("person", str(i)) for i in range(31_850)],
                          cards={"added": 105_698, "changed": 0, "retired": 0, "total": 106_362})
    assert report.summary() == ("added 31,850, changed 0, left 0 unchanged; cards: 105,698 new, "
                                "0 reworded, 0 retired, 106,362 in all")
