"""The fact-store commands through click's CliRunner: every command and its error paths."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import T0, json_of, run, snapshot

from cards import schema
from cards.authoring import import_records, read_text
from cards.editing import edit_record
from cards.errors import InvalidInput
from cards.files import OutputError, write_atomic
from cards.store import Store

STARTER_MSG = "Created a new store with the starter deck at {}\n"

OWN = textwrap.dedent("""\
    [[person]]
    id = "molotov"
    name = "Vyacheslav Molotov"
    born = "1890-03-09"
    died = "1986-11-08"
    tags = ["mine"]

    [[organ]]
    id = "sovcom"
    name = "Council of People's Commissars"
    short = "Sovnarkom"
    tags = ["mine"]

    [[office]]
    id = "sovcom-chair"
    title = "Chairman of the Council of People's Commissars"
    organ = "sovcom"
    tags = ["mine"]

    [[tenure]]
    person = "molotov"
    office = "sovcom-chair"
    start = "1930-12-19"
    end = "1941-05-06"
    tags = ["mine"]

    [[event]]
    id = "pact"
    name = "Molotov–Ribbentrop Pact"
    date = "1939-08-23"
    people = ["molotov"]
    summary = "A non-aggression treaty with a secret protocol."

    [[fact]]
    id = "state-farm"
    question = "What is a sovkhoz?"
    answer = "A state farm"
    tags = ["mine"]
    """)

MOLOTOV_TENURE = "molotov--sovcom-chair--1930-12-19"


@pytest.fixture
def db(isolated: Path) -> Path:
    """An empty store at $STUDY_DB."""
    assert run("init", "--empty").exit_code == 0
    return isolated / "study.db"


@pytest.fixture
def own(db: Path, tmp_path: Path) -> Path:
    """The empty store with the records of OWN imported."""
    path = tmp_path / "own.toml"
    path.write_text(OWN, encoding="utf-8")
    assert run("import", str(path)).exit_code == 0
    return db


def sql(db: Path, query: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        with conn:
            return conn.execute(query, params or []).fetchall()
    finally:
        conn.close()


def add_review(db: Path, key: str) -> None:
    """A review of card ``key``, as the review session would leave it."""
    sql(db, "UPDATE cards SET reps = reps + 1, state = 'review', stability = 5.0 WHERE key = ?",
        [key])
    sql(db, "INSERT INTO reviews (card_key, rating, reviewed_at, duration_ms, state_before, "
            "state_after, interval_days) VALUES (?, 3, '2026-01-04T09:00:00.000000+00:00', "
            "1500, '{}', '{}', 5.0)", [key])


def error_lines(result: Any) -> list[str]:
    return result.stderr.strip().splitlines()


# -- init --------------------------------------------------------------------------

def test_init_loads_the_starter_deck(isolated: Path) -> None:
    result = run("init")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Starter deck: added ")
    assert ", changed 0, left 0 unchanged; cards: " in lines[0]
    assert lines[1] == f"Store ready at {isolated / 'study.db'}"
    assert result.stderr == ""
    assert len(json_of("list", "people", "--json")) > 10
    assert len(json_of("list", "cards", "--json")) > 100


def test_init_empty(isolated: Path) -> None:
    result = run("init", "--empty")
    assert result.exit_code == 0
    assert result.stdout == f"Store ready at {isolated / 'study.db'}\n"
    for kind in ("people", "organs", "offices", "tenures", "events", "facts", "cards"):
        assert json_of("list", kind, "--json") == []


def test_init_with_db_option(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "history.db"
    missing = run("--db", str(path), "init", "--empty")  # only the data directory is made
    assert missing.exit_code == 1
    assert missing.stderr == (f"Error: {path}: the folder {path.parent} does not exist; create "
                              f"it first, or choose another path with --db\n")
    assert not (tmp_path / "deep").exists()
    path.parent.mkdir(parents=True)
    result = run("--db", str(path), "init", "--empty")
    assert result.exit_code == 0
    assert result.stdout == f"Store ready at {path}\n"
    assert path.exists()
    assert not (tmp_path / "study.db").exists()


def test_a_missing_store_is_created_with_the_starter_deck_said_once(isolated: Path) -> None:
    first = run("list", "facts", "--json")
    assert first.exit_code == 0
    assert first.stderr == STARTER_MSG.format(isolated / "study.db")
    assert json.loads(first.stdout)
    second = run("list", "facts", "--json")
    assert second.stderr == ""
    assert second.stdout == first.stdout


def test_init_again_updates_the_starter_and_leaves_the_user_alone(own: Path,
                                                                  tmp_path: Path) -> None:
    db = own
    assert run("init").exit_code == 0
    starter_key = next(c["key"] for c in json_of("list", "cards", "--json")
                       if "mine" not in c["tags"])
    add_review(db, starter_key)
    add_review(db, f"tenure:{MOLOTOV_TENURE}:holder")
    # the user changed a starter record, and added and removed one of their own
    sql(db, "UPDATE people SET name = 'Koba' WHERE id = 'stalin'")
    assert run("remove", "fact", "state-farm").exit_code == 0
    run("add", "fact", "--id", "troika", "--question", "Q?", "--answer", "A")
    own_before = {kind: json_of("list", kind, "--json", "--tag", "mine")
                  for kind in ("people", "organs", "offices", "tenures", "facts")}
    reviews_before = sql(db, "SELECT * FROM reviews ORDER BY id")

    result = run("init", env={"STUDY_NOW": "2026-02-01T00:00:00+00:00"})
    assert result.exit_code == 0
    assert result.stdout.startswith("Starter deck: added 0, changed 0, left ")
    assert "; cards: 0 new, " in result.stdout and " reworded, 0 retired, " in result.stdout
    assert [p["name"] for p in json_of("list", "people", "--json") if p["id"] == "stalin"] == [
        "Koba"]  # the learner's edit of a starter record is kept (issue 8, item 8)
    assert {kind: json_of("list", kind, "--json", "--tag", "mine") for kind in own_before} == (
        own_before)
    assert [f["id"] for f in json_of("list", "facts", "--json") if f["id"] in
            ("state-farm", "troika")] == ["troika"]
    assert sql(db, "SELECT * FROM reviews ORDER BY id") == reviews_before
    cards = {c["key"]: c for c in json_of("list", "cards", "--json")}
    assert cards[starter_key]["reps"] == 1
    assert cards[f"tenure:{MOLOTOV_TENURE}:holder"]["reps"] == 1
    # and a third time, nothing changes at all
    before = snapshot(db)
    third = run("init")
    assert third.stdout.startswith("Starter deck: added 0, changed 0, left ")
    assert snapshot(db) == before


def test_init_empty_on_an_existing_store_changes_nothing(own: Path) -> None:
    before = snapshot(own)
    assert run("init", "--empty").exit_code == 0
    assert snapshot(own) == before


# -- import (details in test_authoring.py) -------------------------------------------------

def test_import_into_a_missing_store_adds_the_starter_first(isolated: Path,
                                                            tmp_path: Path) -> None:
    path = tmp_path / "own.toml"
    path.write_text(OWN, encoding="utf-8")
    result = run("import", str(path))
    assert result.exit_code == 0
    first, *rest = result.stderr.splitlines(keepends=True)
    assert first == STARTER_MSG.format(isolated / "study.db")
    # and the quality gate's warnings on the file's own facts, if any (with FILE:LINE)
    assert all(line.startswith(f"{path}:") and ": warning: " in line for line in rest)
    # the starter deck has a Molotov too: the import updates him
    assert result.stdout.startswith("Imported: added 5, changed 1, left 0 unchanged")
    assert len(json_of("list", "people", "--json")) > 1


def test_import_dry_run_on_a_missing_store_writes_nothing(isolated: Path,
                                                         tmp_path: Path) -> None:
    path = tmp_path / "own.toml"
    path.write_text(OWN, encoding="utf-8")
    result = run("import", "--dry-run", str(path))
    assert result.exit_code == 0
    assert not (isolated / "study.db").exists()


# -- add ---------------------------------------------------------------------------------

ADD_CASES: list[tuple[str, list[str], dict[str, Any]]] = [
    ("person", ["--id", "kaganovich", "--name", "Lazar Kaganovich", "--alias", "Iron Lazar",
                "--alias", "Kaganovich", "--born", "1893-11-22", "--died", "1991-07-25",
                "--tag", "ussr", "--tag", "mine", "--source", "https://example.org/lk",
                "--note", "Last of the old guard.", "--summary", "Stalin's transport chief"],
     {"id": "kaganovich", "name": "Lazar Kaganovich", "aliases": ["Iron Lazar", "Kaganovich"],
      "born": "1893-11-22", "died": "1991-07-25", "summary": "Stalin's transport chief",
      "tags": ["ussr", "mine"],
      "source": "https://example.org/lk", "note": "Last of the old guard."}),
    ("organ", ["--id", "mgb", "--name", "Ministry of State Security", "--short", "MGB",
               "--kind", "security service", "--part-of", "sovcom", "--succeeded-by",
               "sovcom", "--founded", "1946-03", "--dissolved", "1953-03"],
     {"id": "mgb", "name": "Ministry of State Security", "short": "MGB",
      "kind": "security service", "part_of": "sovcom", "succeeded_by": "sovcom",
      "founded": "1946-03", "dissolved": "1953-03", "summary": None, "tags": [],
      "source": None, "note": None}),
    ("office", ["--id", "mgb-minister", "--title", "Minister of State Security",
                "--organ", "sovcom", "--succeeded-by", "sovcom-chair"],
     {"id": "mgb-minister", "title": "Minister of State Security", "organ": "sovcom",
      "succeeded_by": "sovcom-chair", "tags": [], "source": None, "note": None}),
    ("tenure", ["--person", "molotov", "--office", "sovcom-chair", "--start", "1941-05",
                "--end", "1941-06", "--acting", "--title", "Deputy Chairman"],
     {"id": "molotov--sovcom-chair--1941-05", "person": "molotov",
      "office": "sovcom-chair", "start": "1941-05", "end": "1941-06", "acting": True,
      "informal": False, "title": "Deputy Chairman", "tags": [], "source": None,
      "note": None}),
    ("event", ["--id", "purge", "--name", "Great Purge", "--start", "1936-08", "--end",
               "1938-11", "--place", "USSR", "--person", "molotov", "--organ", "sovcom",
               "--summary", "Mass repression.", "--question", "When was the Great Purge?"],
     {"id": "purge", "name": "Great Purge", "date": None, "start": "1936-08",
      "end": "1938-11", "place": "USSR", "people": ["molotov"], "organs": ["sovcom"],
      "summary": "Mass repression.", "question": "When was the Great Purge?", "tags": [],
      "source": None, "note": None}),
    ("fact", ["--id", "collective-farm", "--question", "What is a kolkhoz?", "--answer",
              "A collective farm", "--reverse", "--reverse-question",
              "Which term means a collective farm?"],
     {"id": "collective-farm", "question": "What is a kolkhoz?", "answer": "A collective farm",
      "reverse": True, "reverse_question": "Which term means a collective farm?", "tags": [],
      "source": None, "note": None}),
]


@pytest.mark.parametrize(("kind", "args", "expected"), ADD_CASES, ids=[c[0] for c in ADD_CASES])
def test_add_each_kind(own: Path, kind: str, args: list[str], expected: dict[str, Any]) -> None:
    result = run("add", kind, *args)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Added {kind} '{expected['id']}' (")
    assert re.search(r" new cards?\)\n\Z", result.stdout)
    plural = {"person": "people"}.get(kind, kind + "s")
    listed = {r["id"]: r for r in json_of("list", plural, "--json")}
    assert listed[expected["id"]] == expected


def test_add_makes_cards(own: Path) -> None:
    result = run("add", "fact", "--id", "collective-farm", "--question", "What is a kolkhoz?",
                 "--answer", "A collective farm", "--reverse")
    assert result.stdout == "Added fact 'collective-farm' (2 new cards)\n"
    keys = {c["key"] for c in json_of("list", "cards", "--json", "--search", "kolkhoz")}
    assert keys == {"fact:collective-farm:forward", "fact:collective-farm:reverse"}


def test_add_no_flag(own: Path) -> None:
    assert run("add", "fact", "--id", "f", "--question", "Q", "--answer", "A",
               "--no-reverse").exit_code == 0
    assert json_of("list", "facts", "--json", "--search", "Q")[0]["reverse"] is False


@pytest.mark.parametrize(("args", "lines"), [
    (["person", "--id", "molotov", "--name", "Another Molotov"],
     ["study add: person 'molotov': id: already exists; use `study edit` to change it"]),
    (["person", "--id", "zhdanov", "--name", "Andrei Zhdanov", "--born", "1897-02-30"],
     ["study add: person 'zhdanov': born: '1897-02-30': February 1897 has no day 30, "
      "expected 01 to 28"]),
    (["person", "--id", "zhdanov", "--name", "Andrei Zhdanov", "--born", "1948",
      "--died", "1896"],
     ["study add: person 'zhdanov': died: 1896 is before born 1948, "
      "expected a date on or after it"]),
    (["person", "--name", "Nobody"],
     ["study add: person: id: missing, this field is required"]),
    (["person", "--id", "Zhdanov", "--name", "Andrei Zhdanov"],
     ["study add: person 'Zhdanov': id: 'Zhdanov' is not an id, expected a slug: "
      "lowercase letters, digits and '-', not starting with '-'"]),
    (["tenure", "--person", "zhdanov", "--office", "nowhere", "--start", "1934"],
     ["study add: tenure 'zhdanov--nowhere--1934': person: unknown person 'zhdanov', "
      "expected the id of a person in the input or the store",
      "study add: tenure 'zhdanov--nowhere--1934': office: unknown office 'nowhere', "
      "expected the id of an office in the input or the store"]),
    (["event", "--id", "e", "--name", "E", "--date", "1939", "--person", "molotov",
      "--person", "ribbentrop"],
     ["study add: event 'e': people: unknown person 'ribbentrop', "
      "expected the id of a person in the input or the store"]),
    (["event", "--id", "e", "--name", "E"],
     ["study add: event 'e': date: missing, expected date or start (and end)"]),
    (["fact", "--id", "f", "--question", "Q"],
     ["study add: fact 'f': answer: missing, this field is required"]),
])
def test_add_errors_write_nothing(own: Path, args: list[str], lines: list[str]) -> None:
    before = snapshot(own)
    result = run("add", *args)
    assert result.exit_code == 1
    n = len(lines)
    assert error_lines(result) == [
        *lines, f"Error: {n} problem{'s' if n > 1 else ''} in the input; nothing was written."]
    assert result.stdout == ""
    assert snapshot(own) == before


def test_add_usage_errors(own: Path) -> None:
    for args in (["add"], ["add", "dog"], ["add", "person", "--colour", "red"],
                 ["add", "person", "--id"], ["add", "fact", "--reverse=maybe"]):
        result = run(*args)
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output


@pytest.mark.slow
def test_add_prompts_for_missing_required_fields_in_a_terminal(tmp_path: Path) -> None:
    pexpect = pytest.importorskip("pexpect")
    env = {**os.environ, "STUDY_DB": str(tmp_path / "study.db"), "NO_COLOR": "1",
           "STUDY_NOW": "2026-01-05T12:00:00+00:00"}
    subprocess.run([sys.executable, "-m", "study", "init", "--empty"], env=env, check=True,
                   capture_output=True)
    child = pexpect.spawn(sys.executable, ["-m", "study", "add", "fact", "--reverse"], env=env,
                          encoding="utf-8", timeout=20)
    child.expect_exact("Id (stable id (slug)): ")
    child.sendline("kolkhoz")
    child.expect_exact("Question (")
    child.sendline("What is a kolkhoz?")
    child.expect_exact("Answer (")
    child.sendline("A collective farm")
    for optional in ("Reverse question (", "Tags (", "Source (", "Note ("):  # Enter skips
        child.expect_exact(optional)
        child.sendline("")
    child.expect_exact("Added fact 'kolkhoz' (2 new cards)")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


# -- edit --------------------------------------------------------------------------------

def editor(tmp_path: Path, sed: str, name: str = "editor.sh") -> dict[str, str]:
    """An $EDITOR that applies one sed expression to the file it is given."""
    script = tmp_path / name
    script.write_text(f"#!/bin/sh\nsed -i '{sed}' \"$1\"\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return {"EDITOR": str(script)}


def test_edit_saves_a_valid_edit(own: Path, tmp_path: Path) -> None:
    key = f"tenure:{MOLOTOV_TENURE}:holder"
    add_review(own, key)
    result = run("edit", "person", "molotov",
                 env=editor(tmp_path, "s/Vyacheslav Molotov/V. M. Molotov/"))
    assert result.exit_code == 0, result.output
    # the tenure's three cards, "Who was ...?" and the tenure's two as-of cards
    assert result.stdout == "Saved person 'molotov' (6 cards reworded, 0 new, 0 retired)\n"
    assert json_of("list", "people", "--json")[0]["name"] == "V. M. Molotov"
    card = {c["key"]: c for c in json_of("list", "cards", "--json")}[key]
    assert (card["answer"], card["reps"]) == ("V. M. Molotov", 1)
    assert sql(own, "SELECT card_key FROM reviews") == [(key,)]


def test_edit_adding_a_field(own: Path, tmp_path: Path) -> None:
    result = run("edit", "fact", "state-farm", env=editor(tmp_path, "$a reverse = true"))
    assert result.stdout == "Saved fact 'state-farm' (0 cards reworded, 1 new, 0 retired)\n"


def test_edit_without_changes(own: Path, tmp_path: Path) -> None:
    before = snapshot(own)
    result = run("edit", "fact", "state-farm", env=editor(tmp_path, "s/nothing/matches/"))
    assert result.exit_code == 0
    assert result.stdout == "No changes to fact 'state-farm'\n"
    assert snapshot(own) == before


@pytest.mark.parametrize(("kind", "rid", "sed", "problem"), [
    ("person", "molotov", 's/^born = .*/born = "1890-02-30"/',
     "person 'molotov' (edited):4: person 'molotov': born: '1890-02-30': "
     "February 1890 has no day 30, expected 01 to 28"),
    ("tenure", MOLOTOV_TENURE, 's/^person = .*/person = "nobody"/',
     f"tenure '{MOLOTOV_TENURE}' (edited):3: tenure '{MOLOTOV_TENURE}': person: "
     "unknown person 'nobody', expected the id of a person in the input or the store"),
    ("person", "molotov", 's/^id = .*/id = "skryabin"/',
     "person 'molotov' (edited):2: person 'skryabin': id: cannot change the id "
     "(was 'molotov'); add a new record instead"),
    ("fact", "state-farm", 's/^\\[\\[fact\\]\\]/[[person]]/',
     "fact 'state-farm' (edited):3: person 'state-farm': question: unknown field"),
    ("fact", "state-farm", 's/^question = .*/question = "unterminated/',
     "fact 'state-farm' (edited):3:"),
])
def test_edit_refuses_a_bad_edit(own: Path, tmp_path: Path, kind: str, rid: str, sed: str,
                                 problem: str) -> None:
    before = snapshot(own)
    result = run("edit", kind, rid, env=editor(tmp_path, sed))
    assert result.exit_code == 1
    lines = error_lines(result)
    assert lines[0].startswith(problem)
    assert lines[-1].startswith("Error: ")
    assert lines[-1].endswith("nothing was written.")
    assert snapshot(own) == before


def test_edit_lists_each_problem_once(own: Path, tmp_path: Path) -> None:
    result = run("edit", "person", "molotov",
                 env=editor(tmp_path, 's/^born = .*/born = "1890-02-30"/'))
    assert len(error_lines(result)) == 2


def test_edit_an_unknown_record(own: Path, tmp_path: Path) -> None:
    result = run("edit", "person", "stalin", env=editor(tmp_path, "s/a/b/"))
    assert result.exit_code == 1
    assert result.stderr == "Error: no person with id 'stalin'\n"


def test_edit_when_the_editor_fails(own: Path, tmp_path: Path) -> None:
    script = tmp_path / "fail.sh"
    script.write_text("#!/bin/sh\nexit 3\n")
    script.chmod(0o755)
    before = snapshot(own)
    result = run("edit", "person", "molotov", env={"EDITOR": str(script)})
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert snapshot(own) == before


def test_edit_usage_errors(own: Path) -> None:
    assert run("edit", "person").exit_code == 2
    assert run("edit", "people", "molotov").exit_code == 2


# -- remove ------------------------------------------------------------------------------

def test_remove_retires_cards_and_keeps_reviews(own: Path) -> None:
    add_review(own, "fact:state-farm:forward")
    result = run("remove", "fact", "state-farm")
    assert result.exit_code == 0
    assert result.stdout == "Removed fact 'state-farm'; 1 card retired\n"
    assert json_of("list", "facts", "--json") == []
    assert "fact:state-farm:forward" not in {c["key"] for c in json_of("list", "cards", "--json")}
    assert sql(own, "SELECT retired, reps FROM cards WHERE key = 'fact:state-farm:forward'") == [
        (1, 1)]
    assert sql(own, "SELECT card_key FROM reviews") == [("fact:state-farm:forward",)]


def test_remove_refuses_while_referenced(own: Path) -> None:
    before = snapshot(own)
    result = run("remove", "person", "molotov")
    assert result.exit_code == 1
    assert result.stderr == (f"Error: person 'molotov' is used by tenure '{MOLOTOV_TENURE}', "
                             "event 'pact'; remove or change those first\n")
    result = run("remove", "organ", "sovcom")
    assert result.stderr == ("Error: organ 'sovcom' is used by office 'sovcom-chair'; "
                             "remove or change those first\n")
    assert snapshot(own) == before


def test_remove_names_each_referrer_once(own: Path) -> None:
    run("add", "organ", "--id", "sovmin", "--name", "Council of Ministers",
        "--part-of", "sovcom", "--succeeded-by", "sovcom")
    result = run("remove", "organ", "sovcom")
    assert result.stderr == ("Error: organ 'sovcom' is used by organ 'sovmin', "
                             "office 'sovcom-chair'; remove or change those first\n")


def test_remove_in_dependency_order(own: Path) -> None:
    for kind, rid in (("event", "pact"), ("tenure", MOLOTOV_TENURE), ("person", "molotov"),
                      ("office", "sovcom-chair"), ("organ", "sovcom")):
        result = run("remove", kind, rid)
        assert result.exit_code == 0, result.output
    assert [c["key"] for c in json_of("list", "cards", "--json")] == ["fact:state-farm:forward"]


def test_remove_unknown(own: Path) -> None:
    before = snapshot(own)
    result = run("remove", "fact", "nope")
    assert result.exit_code == 1
    assert result.stderr == "Error: no fact with id 'nope'\n"
    assert snapshot(own) == before


def test_remove_usage_errors(own: Path) -> None:
    assert run("remove", "dog", "x").exit_code == 2
    assert run("remove", "fact").exit_code == 2


# -- list --------------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "first"), [
    ("people", {"id": "molotov", "name": "Vyacheslav Molotov", "aliases": [],
                "born": "1890-03-09", "died": "1986-11-08", "summary": None, "tags": ["mine"],
                "source": None, "note": None}),
    ("organs", {"id": "sovcom", "name": "Council of People's Commissars",
                "short": "Sovnarkom", "kind": None, "part_of": None, "succeeded_by": None,
                "founded": None, "dissolved": None, "summary": None, "tags": ["mine"],
                "source": None, "note": None}),
    ("offices", {"id": "sovcom-chair",
                 "title": "Chairman of the Council of People's Commissars",
                 "organ": "sovcom", "succeeded_by": None, "tags": ["mine"], "source": None,
                 "note": None}),
    ("tenures", {"id": MOLOTOV_TENURE, "person": "molotov", "office": "sovcom-chair",
                 "start": "1930-12-19", "end": "1941-05-06", "acting": False, "informal": False,
                 "title": None, "tags": ["mine"], "source": None, "note": None}),
    ("events", {"id": "pact", "name": "Molotov–Ribbentrop Pact", "date": "1939-08-23",
                "start": None, "end": None, "place": None, "people": ["molotov"],
                "organs": [], "summary": "A non-aggression treaty with a secret protocol.",
                "question": None, "tags": [], "source": None, "note": None}),
    ("facts", {"id": "state-farm", "question": "What is a sovkhoz?", "answer": "A state farm",
               "reverse": False, "reverse_question": None, "tags": ["mine"], "source": None,
               "note": None}),
])
def test_list_json_uses_the_toml_field_names(own: Path, kind: str,
                                             first: dict[str, Any]) -> None:
    assert json_of("list", kind, "--json") == [first]


def test_list_cards_json(own: Path) -> None:
    cards = json_of("list", "cards", "--json")
    keys = [c["key"] for c in cards]
    as_of = [k for k in keys if k.startswith("as-of:")]
    assert keys == [
        "organ:sovcom:expansion",
        f"tenure:{MOLOTOV_TENURE}:holder", f"tenure:{MOLOTOV_TENURE}:office",
        f"tenure:{MOLOTOV_TENURE}:dates",
        "event:pact:date", "event:pact:identify", "fact:state-farm:forward",
        "person:molotov:who", *as_of]
    assert len(as_of) == 2
    holder = cards[1]
    assert holder["record"] == {"kind": "tenure", "id": MOLOTOV_TENURE}
    assert holder["question"] == ("Who was Chairman of the Council of People's Commissars "
                                  "from 1930 to 1941?")
    assert holder["answer"] == "Vyacheslav Molotov"
    # the tenure's cards, and "Who was Vyacheslav Molotov?", linked: it names the answer
    assert holder["siblings"] == sorted([f"tenure:{MOLOTOV_TENURE}:dates",
                                         f"tenure:{MOLOTOV_TENURE}:office",
                                         "person:molotov:who", *as_of])
    # links: the cards that share a leak's group with it (buried together)
    assert holder["links"] == ["person:molotov:who"]  # not the as-of cards: same answer
    assert holder["tags"] == ["mine"]
    assert holder["state"] == "new"
    assert cards[6]["siblings"] == [] and cards[6]["links"] == []
    for card in cards:
        assert {"key", "state", "reps", "record", "question", "answer", "siblings",
                "links"} <= card.keys()


def test_list_search_and_tag(own: Path) -> None:
    assert [p["id"] for p in json_of("list", "people", "--json", "--search", "MOLOTOV")] == [
        "molotov"]
    assert json_of("list", "people", "--json", "--search", "stalin") == []
    assert [e["id"] for e in json_of("list", "events", "--json", "-s", "secret")] == ["pact"]
    assert [f["id"] for f in json_of("list", "facts", "--json", "--tag", "mine")] == ["state-farm"]
    assert json_of("list", "events", "--json", "--tag", "mine") == []
    keys = [c["key"] for c in json_of("list", "cards", "--json", "--search", "state farm")]
    assert keys == ["fact:state-farm:forward"]
    keys = [c["key"] for c in json_of("list", "cards", "--json", "-t", "mine", "-s", "1930")]
    assert keys == [f"tenure:{MOLOTOV_TENURE}:holder", f"tenure:{MOLOTOV_TENURE}:office",
                    f"tenure:{MOLOTOV_TENURE}:dates", "person:molotov:who",
                    *(k for k in keys if k.startswith("as-of:"))]  # the tenure's id in the key
    assert len(keys) == 6


@pytest.mark.parametrize("kind", ["people", "organs", "offices", "tenures", "events", "facts",
                                  "cards"])
def test_list_table(own: Path, kind: str) -> None:
    result = run("list", kind)
    assert result.exit_code == 0
    count = len(json_of("list", kind, "--json"))
    singular = {"people": "person"}.get(kind, kind.removesuffix("s"))
    assert result.stdout.splitlines()[0].strip() == f"{count} {kind if count != 1 else singular}"
    assert "┃" in result.stdout


def test_list_table_shows_the_records(own: Path) -> None:
    out = run("list", "people").stdout
    assert "molotov" in out
    assert "1890-03-09" in out


def test_list_table_shows_brackets_as_text(own: Path) -> None:
    run("add", "fact", "--id", "markup", "--question", "What does [/b] close?",
        "--answer", "[bold]tag[/bold]")
    result = run("list", "facts")
    assert "[/b]" in result.stdout
    assert "[bold]tag[/bold]" in result.stdout


def test_list_usage_errors(own: Path) -> None:
    for args in (["list"], ["list", "person"], ["list", "dogs"], ["list", "people", "--tag"]):
        result = run(*args)
        assert result.exit_code == 2, args
        assert "Error: " in result.stderr


# -- dump --------------------------------------------------------------------------------

def test_dump_to_a_file_and_to_stdout(own: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.toml"
    result = run("dump", str(out))
    assert result.exit_code == 0
    assert result.stdout == f"Wrote {out}\n"
    text = out.read_text(encoding="utf-8")
    assert run("dump", "-").stdout == text
    assert text.startswith("# Secretariat records, written by `study dump`.\n")
    assert '[[tenure]]\nid = "molotov--sovcom-chair--1930-12-19"\nperson = "molotov"\n' in text


def test_dump_import_dump_gives_the_same_file(own: Path, tmp_path: Path) -> None:
    assert run("init").exit_code == 0  # the starter deck with the user's records
    first = tmp_path / "first.toml"
    assert run("dump", str(first)).exit_code == 0
    other = tmp_path / "other.db"
    assert run("--db", str(other), "init", "--empty").exit_code == 0
    assert run("--db", str(other), "import", str(first)).exit_code == 0
    second = tmp_path / "second.toml"
    assert run("--db", str(other), "dump", str(second)).exit_code == 0
    assert second.read_bytes() == first.read_bytes()
    def by_key(cards: list[dict[str, Any]]) -> dict[str, Any]:
        return {c["key"]: c for c in cards}
    assert (by_key(json_of("--db", str(other), "list", "cards", "--json"))
            == by_key(json_of("list", "cards", "--json")))


def test_dump_tag_imports_on_its_own(own: Path, tmp_path: Path) -> None:
    result = run("dump", "-", "--tag", "mine")
    text = result.stdout
    # the tagged records, and what they refer to; not the untagged event
    assert 'id = "molotov"' in text
    assert 'id = "sovcom-chair"' in text
    assert 'id = "pact"' not in text
    part = tmp_path / "part.toml"
    part.write_text(text, encoding="utf-8")
    other = tmp_path / "other.db"
    assert run("--db", str(other), "init", "--empty").exit_code == 0
    imported = run("--db", str(other), "import", str(part))
    assert imported.exit_code == 0, imported.output
    assert imported.stdout.startswith("Imported: added 5, changed 0, left 0 unchanged")


def test_dump_tag_pulls_in_what_untagged_records_refer_to(own: Path) -> None:
    run("add", "event", "--id", "e", "--name", "E", "--date", "1940", "--person", "molotov",
        "--organ", "sovcom", "--tag", "only")
    text = run("dump", "-", "--tag", "only").stdout
    ids = [line.split('"')[1] for line in text.splitlines() if line.startswith("id = ")]
    assert ids == ["molotov", "sovcom", "e"]


def test_dump_refuses_to_overwrite_without_force(own: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.toml"
    out.write_text("precious\n")
    result = run("dump", str(out))
    assert result.exit_code == 1
    assert result.stderr == f"Error: {out}: already exists; use --force to overwrite it\n"
    assert out.read_text() == "precious\n"
    result = run("dump", "--force", str(out))
    assert result.exit_code == 0
    assert out.read_text().startswith("# Secretariat records")


def test_dump_errors(own: Path, tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir" / "out.toml"
    result = run("dump", str(missing))
    assert result.exit_code == 1
    assert result.stderr == f"Error: {missing}: the folder {missing.parent} does not exist\n"
    assert run("dump", str(tmp_path)).exit_code == 2  # a directory
    assert run("dump").exit_code == 2


def test_dump_of_an_empty_store(db: Path) -> None:
    assert run("dump", "-").stdout == "# Secretariat records, written by `study dump`.\n"


# -- check -------------------------------------------------------------------------------

def test_check_the_starter_deck(isolated: Path) -> None:
    assert run("init").exit_code == 0
    result = run("check")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == "0 errors, 0 warnings"


INCONSISTENT = textwrap.dedent("""\
    [[person]]
    id = "a"
    name = "A"
    born = "1900"
    died = "1950"

    [[person]]
    id = "b"
    name = "B"

    [[organ]]
    id = "o1"
    name = "O1"
    founded = "1930"
    dissolved = "1940"
    part_of = "o2"

    [[organ]]
    id = "o2"
    name = "O2"
    part_of = "o3"
    succeeded_by = "o2"

    [[organ]]
    id = "o3"
    name = "O3"
    part_of = "o1"

    [[office]]
    id = "chair"
    title = "Chair"

    [[tenure]]
    person = "a"
    office = "chair"
    start = "1920"
    end = "1930"

    [[tenure]]
    person = "b"
    office = "chair"
    start = "1925"
    end = "1935"

    [[tenure]]
    person = "b"
    office = "chair"
    start = "1929"
    end = "1931"
    acting = true

    [[office]]
    id = "vice"
    title = "Vice-chair"

    [[tenure]]
    person = "a"
    office = "vice"
    start = "1945"

    [[tenure]]
    person = "a"
    office = "chair"
    start = "1960"
    end = "1961"

    [[event]]
    id = "ev"
    name = "Ev"
    date = "1950"
    organs = ["o1", "o2"]

    [[event]]
    id = "ev2"
    name = "Ev2"
    start = "1920"
    end = "1935"
    organs = ["o1"]
    """)


def test_check_reports_every_inconsistency(db: Path, tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(INCONSISTENT, encoding="utf-8")
    assert run("import", str(path)).exit_code == 1  # each record is fine on its own: not all
    with Store.open(db) as store:  # through the back door, as an older version allowed
        items, problems = read_text(INCONSISTENT, "bad.toml")
        import_records(store, items, T0, consistent=False)
    result = run("check")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "error: tenure 'b--chair--1925': overlaps tenure 'a--chair--1920' of the same office",
        "error: tenure 'a--chair--1960': lies outside the lifetime of a",
        "error: organ 'o1': part_of goes round in a cycle: o1 -> o2 -> o3 -> o1",
        "error: organ 'o2': succeeded_by goes round in a cycle: o2 -> o2",
        "error: event 'ev': is dated outside the life of organ 'o1'",
        "warning: tenure 'a--vice--1945': has no end, but a died 1950",
        "5 errors, 1 warning",
    ]


@pytest.mark.parametrize(("a", "b", "overlap"), [
    (("1920", "1930"), ("1930", "1935"), False),           # same year: may just touch
    (("1920-01-01", "1930-05-01"), ("1930-05-01", None), False),  # touching days
    (("1920-01-01", "1930-05-02"), ("1930-05-01", None), True),
    (("1920", None), ("1925", "1926"), True),              # the first never ended
])
def test_check_overlap(db: Path, tmp_path: Path, a: tuple[str, str | None],
                       b: tuple[str, str | None], overlap: bool) -> None:
    def tenure(pid: str, span: tuple[str, str | None]) -> str:
        end = f'end = "{span[1]}"\n' if span[1] else ""
        return f'[[tenure]]\nperson = "{pid}"\noffice = "o"\nstart = "{span[0]}"\n{end}\n'
    path = tmp_path / "t.toml"
    path.write_text('[[person]]\nid = "a"\nname = "A"\n[[person]]\nid = "b"\nname = "B"\n'
                    '[[office]]\nid = "o"\ntitle = "O"\n' + tenure("a", a) + tenure("b", b))
    assert run("import", str(path)).exit_code == (1 if overlap else 0)
    with Store.open(db) as store:  # through the back door, as an older version allowed
        items, problems = read_text(path.read_text(), "t.toml")
        import_records(store, items, T0, consistent=False)
    result = run("check")
    assert result.exit_code == (1 if overlap else 0)
    assert ("overlaps" in result.stdout) is overlap


def test_check_organ_dissolved_before_founded_and_tenure_before_birth(db: Path) -> None:
    # records that normalise() refuses can still meet in the store through the back door
    sql(db, "INSERT INTO organs (id, name, founded, dissolved, created, updated) VALUES "
            "('o', 'O', '1950', '1940', 'x', 'x')")
    sql(db, "INSERT INTO people (id, name, born, created, updated) VALUES "
            "('p', 'P', '1950', 'x', 'x')")
    sql(db, "INSERT INTO offices (id, title, created, updated) VALUES ('f', 'F', 'x', 'x')")
    sql(db, "INSERT INTO tenures (id, person, office, start, created, updated) VALUES "
            "('t', 'p', 'f', '1940', 'x', 'x')")
    result = run("check")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "error: tenure 't': lies outside the lifetime of p",
        "error: organ 'o': dissolved before it was founded",
        "2 errors, 0 warnings",
    ]


def test_check_an_empty_store(db: Path) -> None:
    result = run("check")
    assert (result.exit_code, result.stdout) == (0, "0 errors, 0 warnings\n")


# -- usage -------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [["frobnicate"], ["--no-such-option"], ["init", "--full"],
                                  ["import"], ["check", "extra"], ["--db"]])
def test_usage_errors_exit_2(db: Path, args: list[str]) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert "Error: " in result.stderr


def test_help_and_version() -> None:
    result = run("--help")
    assert result.exit_code == 0
    assert "Secretariat" in result.stdout
    assert run("-h").stdout == result.stdout
    version = run("--version")
    assert version.exit_code == 0
    assert "version" in version.stdout


# -- bad store files ---------------------------------------------------------------------

STORE_COMMANDS = [["list", "people"], ["list", "cards", "--json"], ["init"], ["check"],
                  ["dump", "-"], ["remove", "fact", "state-farm"],
                  ["add", "fact", "--id", "x", "--question", "Q", "--answer", "A"],
                  ["import", "own.toml"], ["edit", "fact", "state-farm"]]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_refused(path: Path, tmp_path: Path, message: str) -> None:
    (tmp_path / "own.toml").write_text(OWN, encoding="utf-8")
    before = digest(path)
    for args in STORE_COMMANDS:
        args = [str(tmp_path / a) if a == "own.toml" else a for a in args]
        result = run("--db", str(path), *args, env={"EDITOR": "true"})
        assert result.exit_code == 1, (args, result.output)
        assert result.stdout == ""
        assert result.stderr.startswith("Error: "), (args, result.stderr)
        assert message in result.stderr, (args, result.stderr)
        assert len(result.stderr.splitlines()) == 1
    assert digest(path) == before
    assert sorted(p.name for p in path.parent.iterdir() if p.name.startswith(path.name)) == [
        path.name]  # no journal, WAL or backup left beside it


def test_a_file_that_is_not_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("my notes, not a database\n" * 200)
    assert_refused(path, tmp_path, f"{path}: ")
    assert_refused(path, tmp_path, "not a Secretariat store")


def test_a_foreign_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    conn.commit()
    conn.close()
    assert_refused(path, tmp_path, "not a Secretariat store")


def test_a_store_from_a_newer_version(own: Path, tmp_path: Path) -> None:
    newer = schema.SCHEMA_VERSION + 1
    conn = sqlite3.connect(own)
    conn.execute(f"PRAGMA user_version = {newer}")
    conn.commit()
    conn.close()
    assert_refused(own, tmp_path, f"{own}: the store has schema version {newer}, this version "
                                  f"of Secretariat knows up to {schema.SCHEMA_VERSION}; "
                                  "upgrade Secretariat to use it")


@pytest.fixture
def read_only(own: Path) -> Iterator[Path]:
    """The store, read-only: mode 0444, or immutable when running as root."""
    if os.geteuid() == 0:
        if subprocess.run(["chattr", "+i", str(own)], capture_output=True).returncode:
            pytest.skip("running as root on a file system without chattr +i")
    else:
        own.chmod(0o444)
    yield own
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(own)], check=True)
    own.chmod(0o644)


def test_a_read_only_store(read_only: Path, tmp_path: Path) -> None:
    assert_refused(read_only, tmp_path, f"{read_only}: the store is read-only")


def test_a_directory_as_store(tmp_path: Path) -> None:
    result = run("--db", str(tmp_path), "list", "people")
    assert result.exit_code == 2


# -- edit_record and write_atomic, below the commands ----------------------------------------

def test_edit_again_after_a_problem(own: Path) -> None:
    texts = iter(['[[fact]]\nid = "state-farm"\nquestion = 5\nanswer = "A"\n',
                  '[[fact]]\nid = "state-farm"\nquestion = "What is a sovkhoz?"\n'
                  'answer = "A state farm (sovkhoz)"\n'])
    told: list[list[str]] = []

    def again(problems: list[Any]) -> bool:
        told.append([str(p) for p in problems])
        return True

    with Store.open(own) as store:
        result = edit_record(store, "fact", "state-farm", T0, edit=lambda text: next(texts),
                             again=again)
        assert result == "Saved fact 'state-farm' (1 card reworded, 0 new, 0 retired)"
        assert store.get("fact", "state-farm")["answer"] == "A state farm (sovkhoz)"
    assert told == [["fact 'state-farm' (edited):3: fact 'state-farm': question: "
                     "is a number, expected a string"]]


def test_edit_with_a_second_table_is_refused(own: Path) -> None:
    text = ('[[fact]]\nid = "state-farm"\nquestion = "Q"\nanswer = "A"\n'
            '[[fact]]\nid = "other"\nquestion = "Q"\nanswer = "A"\n')
    with Store.open(own) as store:
        with pytest.raises(InvalidInput) as err:
            edit_record(store, "fact", "state-farm", T0, edit=lambda _: text,
                        again=lambda _: False)
        assert [str(p) for p in err.value.problems] == [
            "fact 'state-farm' (edited): fact 'state-farm': expected exactly one [[fact]] table"]
        assert not store.exists("fact", "other")


def test_an_edit_that_only_reformats_changes_nothing(own: Path) -> None:
    text = ('# my comment\n[[fact]]\nanswer = "A state farm"\n'
            'question   =   "What is a sovkhoz?"  \nid = "state-farm"\ntags = ["mine", "mine"]\n')
    before = snapshot(own)
    with Store.open(own) as store:
        assert edit_record(store, "fact", "state-farm", T0, edit=lambda _: text,
                           again=lambda _: False) == "No changes to fact 'state-farm'"
    assert snapshot(own) == before


def test_write_atomic(tmp_path: Path) -> None:
    target = tmp_path / "out.toml"
    write_atomic(target, b"one")
    assert target.read_bytes() == b"one"
    with pytest.raises(OutputError, match="already exists; use --force"):
        write_atomic(target, b"two")
    write_atomic(target, b"two", force=True)
    assert target.read_bytes() == b"two"
    with pytest.raises(OutputError, match="is a directory, expected a file name"):
        write_atomic(tmp_path, b"x", force=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "out.toml"]
