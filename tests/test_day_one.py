"""What a learner expects on day one: listing cards by state, tags, suspending by
tag or record (issue 8, items 15 and 21)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pexpect
import pytest

from tests.helpers import json_of, run, store_from_toml

FACTS = """
[[fact]]
id = "capital"
question = "What was the capital of the USSR?"
answer = "Moscow"
tags = ["ussr::geography"]

[[fact]]
id = "gosplan"
question = "Which body drew up the Five-Year Plans?"
answer = "Gosplan"
tags = ["ussr", "economy"]

[[fact]]
id = "kolkhoz"
question = "What is a kolkhoz?"
answer = "A collective farm"
reverse = true
tags = ["economy"]

[[fact]]
id = "cheka"
question = "What did the Cheka become in 1922?"
answer = "The GPU"
tags = ["security"]

[[fact]]
id = "pravda"
question = "Which newspaper was the organ of the Central Committee?"
answer = "Pravda"

[[fact]]
id = "nep"
question = "What does NEP stand for?"
answer = "New Economic Policy"
"""
# 2026-01-05T12:00Z (the helpers' clock): the study day runs to 04:00 local (UTC) on the 6th
STATES = {
    "fact:capital:forward": "state = 'learning', due = '2026-01-05T12:10:00.000000+00:00'",
    "fact:gosplan:forward": "state = 'review', due = '2026-01-06T10:00:00.000000+00:00'",
    "fact:kolkhoz:forward": "state = 'review', due = '2026-01-09T10:00:00.000000+00:00', "
                            "suspended = 1",
    "fact:kolkhoz:reverse": "state = 'relearning', due = '2026-01-05T11:00:00.000000+00:00', "
                            "buried_until = '2026-01-06T04:00:00.000000+00:00'",
    "fact:cheka:forward": "state = 'review', due = '2026-01-05T11:00:00.000000+00:00', "
                          "suspended = 1, leech = 1, lapses = 8",
}


@pytest.fixture
def db(isolated: Path) -> Path:
    path = Path(os.environ["STUDY_DB"])
    store_from_toml(path, FACTS).close()
    with sqlite3.connect(path) as conn:
        for key, sets in STATES.items():
            conn.execute(f"UPDATE cards SET {sets}, reps = 3 WHERE key = ?", [key])
    conn.close()
    return path


def statuses(*args: str) -> dict[str, str]:
    return {c["key"]: c["status"] for c in json_of("list", "cards", "--json", *args)}


def test_list_cards_shows_each_state(db: Path) -> None:
    assert statuses() == {
        "fact:capital:forward": "learning", "fact:gosplan:forward": "review",
        "fact:kolkhoz:forward": "suspended", "fact:kolkhoz:reverse": "buried",
        "fact:cheka:forward": "leech", "fact:pravda:forward": "new", "fact:nep:forward": "new"}
    cards = {c["key"]: c for c in json_of("list", "cards", "--json")}
    # the fields other tools rely on stay as they were
    assert cards["fact:kolkhoz:reverse"]["state"] == "relearning"
    assert cards["fact:gosplan:forward"]["reps"] == 3


@pytest.mark.parametrize(("args", "keys"), [
    (["--state", "new"], ["fact:pravda:forward", "fact:nep:forward"]),
    (["--state", "learning"], ["fact:capital:forward"]),
    (["--state", "buried"], ["fact:kolkhoz:reverse"]),
    (["--state", "leech"], ["fact:cheka:forward"]),
    (["--state", "suspended"], ["fact:kolkhoz:forward"]),
    (["--due", "now"], ["fact:kolkhoz:reverse", "fact:cheka:forward"]),
    (["--due", "today"], ["fact:capital:forward", "fact:kolkhoz:reverse",
                          "fact:cheka:forward"]),
    (["--due", "tomorrow"], ["fact:capital:forward", "fact:gosplan:forward",
                             "fact:kolkhoz:reverse", "fact:cheka:forward"]),
    (["--due", "7d"], ["fact:capital:forward", "fact:gosplan:forward", "fact:kolkhoz:forward",
                       "fact:kolkhoz:reverse", "fact:cheka:forward"]),
    (["--due", "today", "--state", "learning"], ["fact:capital:forward"]),
    (["--kind", "fact", "--state", "review"], ["fact:gosplan:forward"]),
    (["--kind", "tenures"], []),
])
def test_list_cards_filters(db: Path, args: list[str], keys: list[str]) -> None:
    assert [c["key"] for c in json_of("list", "cards", "--json", *args)] == keys


def test_list_cards_filter_errors(db: Path) -> None:
    result = run("list", "cards", "--due", "soon")
    assert result.exit_code == 2
    assert "'soon' is not a period, expected now, today, tomorrow" in result.stderr
    assert run("list", "cards", "--state", "lost").exit_code == 2
    result = run("list", "people", "--state", "new")
    assert result.exit_code == 2
    assert "apply to `study list cards` only" in result.stderr


def test_list_cards_table_shows_state_and_local_due_time(db: Path) -> None:
    out = run("list", "cards", "--state", "learning").stdout
    assert out.splitlines()[0].strip() == "1 card"
    line = next(x for x in out.splitlines() if "fact:capital:forward" in x)
    assert "learning" in line and "12:10" in line
    out = run("list", "cards", "--state", "buried").stdout
    assert "Tue 06 Jan 04:00" in out


def _pty(args: list[str], columns: int) -> str:
    env = {**os.environ, "STUDY_NOW": "2026-01-05T12:00:00+00:00", "TERM": "xterm",
           "NO_COLOR": "1"}
    child = pexpect.spawn(sys.executable, ["-m", "study", *args], env=env,
                          dimensions=(50, columns), encoding="utf-8", timeout=20)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    return str(child.before)


@pytest.mark.slow
@pytest.mark.parametrize("columns", [50, 110, 140])
def test_keys_never_wrap_in_a_terminal(db: Path, columns: int) -> None:
    long = "tenure:" + "x" * 60 + ":holder"
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE cards SET key = ? WHERE key = 'fact:nep:forward'", [long])
    conn.close()
    out = _pty(["list", "cards"], columns)
    assert long in out  # whole, on one line
    for key in statuses():
        assert key in out
    if columns >= 140:
        assert "Moscow" in out and "too narrow" not in out
    elif columns == 110:
        assert "7 cards (too narrow for question, answer: see --json)" in out
    else:  # not even the key fits: a line a card, columns aligned
        lines = {line.split()[0]: line for line in out.splitlines()[1:]}
        assert lines["fact:gosplan:forward"].index("review") == len(long) + 2
        assert lines["fact:gosplan:forward"].index("Tue 06 Jan 10:00") == \
            lines["fact:capital:forward"].index("12:10") == len(long) + 2 + len("suspended") + 2


def test_list_tenures_shows_ids(isolated: Path) -> None:
    out = run("list", "tenures").stdout
    assert "stalin--cpsu-general-secretary--1922-04-03" in out
    assert out.splitlines()[1].count("┳") == 5  # id, person, office, start, end, acting


def test_tags_lists_tags_with_counts(db: Path) -> None:
    out = run("tags").stdout
    lines = {line.split("│")[1].strip(): line for line in out.splitlines() if "│" in line}
    assert set(lines) == {"economy", "security", "ussr", "ussr::geography", "leech"}
    assert [c.strip() for c in lines["economy"].split("│")[2:4]] == ["2", "3"]
    assert [c.strip() for c in lines["leech"].split("│")[2:4]] == ["0", "1"]
    assert json_of("tags", "--json")[0] == {"tag": "economy", "records": 2, "cards": 3}


@pytest.mark.parametrize("args", [
    ["list", "cards", "--tag", "econmy"], ["list", "facts", "--tag", "econmy"],
    ["review", "--tag", "econmy"], ["stats", "--tag", "econmy"],
    ["suspend", "--tag", "econmy"], ["dump", "-", "--tag", "econmy"],
    ["export", "csv", "OUT", "--tag", "econmy"], ["due", "--tag", "econmy"],
])
def test_an_unknown_tag_gets_did_you_mean(db: Path, args: list[str]) -> None:
    args = [str(db.parent / "out.csv") if a == "OUT" else a for a in args]
    result = run(*args, input="")
    assert result.exit_code == (1 if "export" in args else 0), result.output
    assert "Warning: no record has the tag 'econmy'; did you mean 'economy'?" in result.stderr


def test_a_tag_with_tags_below_it_is_known(db: Path) -> None:
    assert "Warning" not in run("list", "cards", "--tag", "ussr").stderr
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM tags WHERE tag = 'ussr'")
        conn.execute("UPDATE cards SET tags = '[\"economy\"]' WHERE key = 'fact:gosplan:forward'")
    conn.close()
    assert "Warning" not in run("list", "facts", "--tag", "ussr").stderr
    assert "`study tags` lists them" in run("list", "facts", "--tag", "zzz").stderr


def suspended(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT key FROM cards WHERE suspended = 1 ORDER BY position")
        out = [r[0] for r in rows]
    conn.close()
    return out


def test_suspend_by_tag_search_and_record(db: Path) -> None:
    assert suspended(db) == ["fact:kolkhoz:forward", "fact:cheka:forward"]
    result = run("suspend", "--tag", "economy")
    assert result.stdout == "Suspended 2 cards (1 already suspended)\n"
    assert suspended(db) == ["fact:gosplan:forward", "fact:kolkhoz:forward",
                             "fact:kolkhoz:reverse", "fact:cheka:forward"]
    assert run("unsuspend", "fact:kolkhoz").stdout == "Unsuspended 2 cards\n"
    assert run("suspend", "--search", "NEW ECONOMIC").stdout == "Suspended 1 card\n"
    assert "fact:nep:forward" in suspended(db)
    assert run("unsuspend", "--tag", "economy", "--search", "plans").stdout == \
        "Unsuspended 1 card\n"
    assert suspended(db) == ["fact:cheka:forward", "fact:nep:forward"]


def test_suspend_errors_change_nothing(db: Path) -> None:
    result = run("suspend", "fact:pravda:forward", "fact:nothing")
    assert result.exit_code == 1
    assert result.stderr == "Error: no fact with id 'nothing'\n"
    result = run("suspend", "fact:pravda:backward")
    assert result.exit_code == 1
    assert "no card with key 'fact:pravda:backward'" in result.stderr
    assert suspended(db) == ["fact:kolkhoz:forward", "fact:cheka:forward"]
    assert run("suspend").exit_code == 2


@pytest.mark.slow
def test_list_cards_json_streams_valid_json(db: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "study", "list", "cards", "--json"],
                         capture_output=True, text=True, check=True,
                         env={**os.environ, "STUDY_NOW": "2026-01-05T12:00:00+00:00"}).stdout
    lines = out.splitlines()
    assert lines[0] == "[" and lines[-1] == "]" and len(lines) == 9  # a row a line
    cards: list[dict[str, Any]] = json.loads(out)
    assert [c["key"] for c in cards][:2] == ["fact:capital:forward", "fact:gosplan:forward"]
    assert cards[2]["siblings"] == ["fact:kolkhoz:reverse"]
    assert json_of("list", "cards", "--json", "--state", "review", "--tag", "nothing") == []


# -- config (item 20) ------------------------------------------------------------

def test_config_json_get_and_set_show_what_is_stored(db: Path) -> None:
    settings = json_of("config", "--json")
    assert settings["fuzz"] is True and settings["new_per_day"] == 20
    assert settings["learning_steps"] == "1m 10m" and len(settings["parameters"]) == 21
    assert run("config", "set", "fuzz", "off").stdout == "fuzz = false\n"
    assert run("config", "get", "fuzz").stdout == "false\n"
    assert "fuzz = false\n" in run("config").stdout
    assert json_of("config", "--json")["fuzz"] is False
    assert run("config", "set", "learning_steps", "60s, 10m").stdout == \
        "learning_steps = 1m 10m\n"


def test_config_set_takes_negative_numbers_as_values(db: Path) -> None:
    result = run("config", "set", "new_per_day", "-5")
    assert result.exit_code == 1
    assert result.stderr == "Error: -5 is out of range, expected 0 to 9999\n"
    assert json_of("config", "--json")["new_per_day"] == 20


def test_config_reset_one_or_all(db: Path) -> None:
    run("config", "set", "new_per_day", "5")
    run("config", "set", "fuzz", "no")
    assert run("config", "reset", "new_per_day").stdout == "new_per_day = 20\n"
    assert json_of("config", "--json")["fuzz"] is False
    result = run("config", "reset", "--all")
    assert result.stdout.splitlines()[0] == "desired_retention = 0.9"
    assert json_of("config", "--json")["fuzz"] is True


@pytest.mark.parametrize(("args", "code", "message"), [
    (["config", "get", "speed"], 1, "Error: unknown setting 'speed', expected one of: "),
    (["config", "reset", "speed"], 1, "Error: unknown setting 'speed'"),
    (["config", "reset"], 2, "name the settings to reset, or give --all"),
    (["config", "reset", "fuzz", "--all"], 2, "name the settings to reset, or give --all"),
    (["config", "--json", "get", "fuzz"], 2, "--json goes with `study config` alone"),
])
def test_config_errors(db: Path, args: list[str], code: int, message: str) -> None:
    result = run(*args)
    assert result.exit_code == code
    assert message in result.stderr


# -- wording (item 21) -----------------------------------------------------------

def test_singular_and_plural(db: Path) -> None:
    assert run("add", "fact", "--id", "one", "--question", "Q?", "--answer", "A").stdout == \
        "Added fact 'one' (1 new card)\n"
    assert run("remove", "fact", "one").stdout == "Removed fact 'one'; 1 card retired\n"
    assert run("check").stdout.splitlines()[-1] == "0 errors, 0 warnings"
    assert run("list", "cards", "--state", "leech").stdout.splitlines()[0].strip() == "1 card"
    assert run("list", "facts", "--search", "moscow").stdout.splitlines()[0].strip() == "1 fact"
    assert run("list", "people").stdout.splitlines()[0].strip() == "0 people"


def test_undo_names_the_card_the_grade_and_the_local_time(db: Path) -> None:
    run("config", "set", "timezone", "Asia/Tokyo")  # 12:00 UTC is 21:00 in Tokyo
    result = run("review", "--new", "1", input=" 3q")
    assert result.exit_code == 0
    key = result.stdout.split("Q: ")[1].splitlines()[0]
    result = run("undo")
    assert result.exit_code == 0
    first, second = result.stdout.splitlines()
    assert first.startswith("Undid your answer 3 Good to fact:")
    assert first.endswith(", given at 21:00")
    assert second == f"  Q: {key}"
    later = run("undo", env={"STUDY_NOW": "2026-01-09T12:00:00+00:00"})
    assert later.exit_code == 1  # nothing left; and an older answer names its day:
    run("review", "--new", "1", input=" 4q")
    result = run("undo", env={"STUDY_NOW": "2026-01-09T12:00:00+00:00"})
    assert result.stdout.splitlines()[0].endswith(", given at 21:00 on Mon 05 Jan 2026")


def test_an_empty_store_says_how_to_add_facts(isolated: Path) -> None:
    run("init", "--empty")
    for args in (["review"], ["list", "cards"]):
        result = run(*args, input="")
        assert "The store has no facts yet. Add some with `study add fact`" in result.output
        assert "`study import FILE`" in result.output


def test_due_tomorrow_counts_only_the_next_study_day(db: Path) -> None:
    # today (to 04:00 on the 6th): capital (learning, 12:10) and the buried kolkhoz
    # reverse; the next study day: gosplan (10:00 on the 6th); later: the rest
    result = run("review", "--new", "0", "--limit", "0", input="q")
    assert "Due tomorrow: 1." in result.stdout


# -- stats drawing (item 19) -----------------------------------------------------

def _figures(isolated: Path, end: str, calendar: list[int] | None = None,
             due: list[int] | None = None) -> dict[str, Any]:
    """Real figures of an empty store, with a year of answers and 30 days of due cards."""
    from datetime import UTC, date, datetime, timedelta

    from cards.store import Store
    from study.queue import Filters
    from study.stats import compute

    with Store.open(isolated / "stats.db") as store:
        figures = compute(store.db.conn, datetime(2026, 1, 5, 12, tzinfo=UTC), UTC, 4, Filters())
    last = date.fromisoformat(end)
    year = calendar or [1 + i % 5 for i in range(365)]
    figures["date"] = end
    figures["calendar"] = {(last - timedelta(days=364 - i)).isoformat(): n
                           for i, n in enumerate(year)}
    figures["due"] = {(last + timedelta(days=i)).isoformat(): n
                      for i, n in enumerate(due or [0] * 30)}
    return figures


def _drawn(figures: dict[str, Any], width: int) -> list[str]:
    import io

    from rich.console import Console

    from study.stats import render

    console = Console(width=width, record=True, color_system=None, file=io.StringIO())
    render(figures, console)
    return console.export_text().splitlines()


MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
               "Dec")


@pytest.mark.parametrize("width", [40, 60, 80, 109, 110, 111, 140])
@pytest.mark.parametrize("end", ["2026-01-05", "2026-03-01", "2026-06-30", "2026-11-29",
                                 "2028-02-29"])
def test_heatmap_rows_align_and_month_labels_sit_over_their_first_day(
        isolated: Path, width: int, end: str) -> None:
    from datetime import date, timedelta

    lines = _drawn(_figures(isolated, end), width)
    at = next(i for i, line in enumerate(lines) if line.startswith("Mon "))
    months, rows = lines[at - 1], lines[at:at + 7]
    assert all(len(line) <= width for line in [months, *rows])
    # today is in sight: the last cell of its weekday row, in the last column
    last = date.fromisoformat(end)
    today_row = rows[last.weekday()].rstrip()
    columns = {len(r.rstrip()) for r in rows if r.strip()}
    assert len(today_row) == max(columns)
    # every weekday row starts at the same column and cells line up under each other
    cell = 2 if "█ " in rows[0] or "▒ " in rows[0] or "░ " in rows[0] else 1
    first_column = 4
    # each label stands over the week that holds the month's first day
    origin_week = last - timedelta(days=last.weekday())  # Monday of today's week
    labels = [(i, months[i:i + 3]) for i in range(len(months)) if months[i:i + 3] in MONTH_NAMES]
    assert len(labels) >= min(11, (width - 4) // (5 * cell))
    for position, name in labels[1:]:  # the first may name a month begun before the grid
        weeks_back = (len(today_row) - 1 - position) // cell  # columns from today's
        monday = origin_week - timedelta(weeks=weeks_back)
        assert (position - first_column) % cell == 0
        firsts = [monday + timedelta(days=d) for d in range(7)
                  if (monday + timedelta(days=d)).day == 1]
        assert firsts and MONTH_NAMES[firsts[0].month - 1] == name, (position, name, months)


def test_the_due_chart_axis_shows_the_real_maximum(isolated: Path) -> None:
    backlog = [250] + [3, 0, 7, 2] * 7 + [1]
    lines = _drawn(_figures(isolated, "2026-01-05", due=backlog), 100)
    chart = lines[next(i for i, line in enumerate(lines) if line.startswith("Due in")) + 1:]
    assert chart[0].startswith("250┆▲")  # today's bar, cut, with its real height
    assert chart[1].startswith("  7│▲")  # the scale of the other days
    even = [5, 3, 0, 7, 2, 1] * 5
    lines = _drawn(_figures(isolated, "2026-01-05", due=even), 100)
    chart = lines[next(i for i, line in enumerate(lines) if line.startswith("Due in")) + 1:]
    assert chart[0].startswith("7│") and "┆" not in "".join(lines)


# -- review --type (item 16) -----------------------------------------------------

@pytest.fixture
def typed_store(isolated: Path) -> Path:
    from tests.test_terminal import FACTS as THREE

    path = Path(os.environ["STUDY_DB"])
    store_from_toml(path, THREE).close()
    return path


def _reviews(db: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        out = conn.execute("SELECT card_key, rating FROM reviews ORDER BY id").fetchall()
    conn.close()
    return out


@pytest.mark.parametrize("key", ["\x1b", "\x04"])
def test_type_mode_esc_and_ctrl_d_quit_at_the_answer_prompt(typed_store: Path, key: str) -> None:
    from tests.test_terminal import K1, Q1, Q2, Term

    t = Term("--type")
    try:
        t.expect(Q1)
        t.expect("Esc or Ctrl-D: quit")  # the hint says so
        t.expect("Your answer: ")
        t.send("moscow\r")
        t.expect("(suggested: 3 Good)")
        t.send("\r")
        t.expect(Q2)
        t.expect("Your answer: ")
        t.send("gos" + key)
        t.expect("Answered 1 card (0 Again)")
        assert t.finish() == 0
    finally:
        t.kill()
    assert "Traceback" not in t.text()
    assert _reviews(typed_store) == [(K1, 3)]


def test_type_mode_space_does_not_take_the_suggested_grade(typed_store: Path) -> None:
    from tests.test_terminal import K1, Q1, Q2, Term

    t = Term("--type")
    try:
        t.expect(Q1)
        t.expect("Your answer: ")
        t.send("Leningrad\r")
        t.expect("(suggested: 1 Again)")
        t.expect("Enter: the suggested grade (1 Again)")
        t.send(" ")
        t.expect("Enter takes the suggested grade (1 Again); or press 1, 2, 3 or 4.")
        assert _reviews(typed_store) == []
        t.send("3")  # the learner's own grade
        t.expect(Q2)
        t.send("\x1b")
        t.expect("Answered 1 card")
        assert t.finish() == 0
    finally:
        t.kill()
    assert _reviews(typed_store) == [(K1, 3)]


def test_type_mode_shows_what_was_typed_and_the_difference_beside_it(typed_store: Path) -> None:
    from tests.test_terminal import Q1, Term

    t = Term("--type")
    try:
        t.expect(Q1)
        t.expect("Your answer: ")
        t.send("Moskx\x7f\x7fcow\r")  # Backspace erases
        t.expect("correct")
        assert "You typed: Moscow" in t.screen()
        t.send("1")
        t.expect("Your answer: ")
        t.send("Gosplen\r")
        t.expect("You typed: Gosplen   difference: Gosplean")  # e struck, a underlined
        t.send("q")
        t.expect("Answered")
        assert t.finish() == 0
    finally:
        t.kill()


def test_type_mode_without_a_terminal(typed_store: Path) -> None:
    result = run("review", "--type", input="Moskva\n\n \n3gosplan\n\x1b\n")
    assert result.exit_code == 0
    out = result.stdout
    assert "You typed: Moskva   difference: Mos[-kva-]{+cow+}\n" in out
    assert "the answer is Moscow → suggested 1 Again\n" in out
    assert "Enter takes the suggested grade (1 Again); or press 1, 2, 3 or 4." in out
    assert "Answered 1 card (0 Again)" in out


# -- study edit (item 18) --------------------------------------------------------

@pytest.mark.slow
def test_edit_given_up_keeps_the_text_in_a_named_file_and_says_each_problem_once(
        db: Path, tmp_path: Path) -> None:
    import io
    import re

    script = tmp_path / "editor.sh"
    script.write_text("#!/bin/sh\nsed -i 's/^answer = .*/answer = 5/; s/^question = .*/"
                      "question = \"Where did the Soviet government sit?\"/' \"$1\"\n")
    script.chmod(0o755)
    env = {**os.environ, "EDITOR": str(script), "TMPDIR": str(tmp_path), "NO_COLOR": "1",
           "STUDY_NOW": "2026-01-05T12:00:00+00:00"}
    child = pexpect.spawn(sys.executable, ["-m", "study", "edit", "fact", "capital"], env=env,
                          encoding="utf-8", timeout=20, dimensions=(40, 300))
    transcript = io.StringIO()
    child.logfile_read = transcript
    child.expect_exact("Edit again? [Y/n]: ")
    child.sendline("y")
    child.expect_exact("Edit again? [Y/n]: ")
    child.sendline("n")
    child.expect(pexpect.EOF)
    child.close()
    out = transcript.getvalue()
    assert child.exitstatus == 1
    problem = "fact 'capital' (edited):4: fact 'capital': answer: is a number, expected a string"
    assert out.count(problem) == 2  # once for each edit, and not again with the error
    match = re.search(r"Error: fact 'capital' was not saved\. Your edit is kept in "
                      r"(\S+\.toml): fix it, then `study import \1`\.", out)
    assert match, out
    kept = Path(match[1])
    assert kept.parent == tmp_path and kept.name.startswith("study-edit-fact-capital-")
    assert 'question = "Where did the Soviet government sit?"' in kept.read_text()
    # the kept file, fixed, imports
    kept.write_text(kept.read_text().replace("answer = 5", 'answer = "Moscow"'))
    assert run("import", str(kept)).exit_code == 0
    assert json_of("list", "facts", "--json", "--search", "government sit")[0]["id"] == "capital"


# -- interactive study add (item 17) ---------------------------------------------

@pytest.mark.slow
def test_interactive_add_checks_each_field_as_it_is_entered(isolated: Path) -> None:
    import io

    run("init")  # the starter deck: stalin, cpsu-general-secretary, ...
    env = {**os.environ, "NO_COLOR": "1", "STUDY_NOW": "2026-01-05T12:00:00+00:00"}
    child = pexpect.spawn(sys.executable, ["-m", "study", "add", "tenure"], env=env,
                          encoding="utf-8", timeout=20, dimensions=(40, 200))
    transcript = io.StringIO()
    child.logfile_read = transcript

    def answer(prompt: str, text: str) -> None:
        child.expect_exact(prompt)
        child.sendline(text)

    answer("Id (stable id (slug); Enter: PERSON--OFFICE--START): ", "")
    answer("Person (", "nobody")
    child.expect_exact("person: unknown person 'nobody', expected the id of a person")
    answer("Person (", "stalin")
    answer("Office (", "cpsu-general-secretary")
    answer("Start (", "1922-04-31")  # the date prompt shows the format, and is checked
    child.expect_exact("start: ")
    answer("Start (", "1922-04-03")
    answer("End (", "1920")
    child.expect_exact("end: 1920 is before start 1922-04-03, expected a date on or after it")
    answer("End (", "")  # optional: Enter skips
    answer("Acting (an acting holder) [y/N]: ", "")  # default: no
    answer("Informal (", "")
    answer("Title (", "")
    answer("Tags (", "ussr, party")
    answer("Source (", "")
    answer("Note (", "")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1  # the starter deck has this tenure: the id is taken
    out = transcript.getvalue()
    assert "Start (first day in office; YYYY, YYYY-MM or YYYY-MM-DD):" in out
    assert "already exists; use `study edit` to change it" in out
    child = pexpect.spawn(sys.executable, ["-m", "study", "add", "fact", "--id", "kolkhoz"],
                          env=env, encoding="utf-8", timeout=20, dimensions=(40, 200))
    answer("Question (", "Q?")
    answer("Answer (", "A")
    answer("Reverse (", "")
    answer("Reverse question (", "")
    answer("Tags (", "")
    answer("Source (", "")
    answer("Note (", "")
    child.expect_exact("id: 'kolkhoz' is taken; use `study edit fact kolkhoz` to change it")
    answer("Id (", "kolkhoz-2")  # an id given as an option is checked too, and asked again
    child.expect_exact("Added fact 'kolkhoz-2' (1 new card)")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


@pytest.mark.slow
def test_interactive_add_of_an_event_asks_for_what_the_whole_record_lacks(
        isolated: Path) -> None:
    run("init", "--empty")
    env = {**os.environ, "NO_COLOR": "1", "STUDY_NOW": "2026-01-05T12:00:00+00:00"}
    child = pexpect.spawn(sys.executable, ["-m", "study", "add", "event", "--id", "congress",
                                           "--name", "The 20th Congress"],
                          env=env, encoding="utf-8", timeout=20, dimensions=(40, 200))
    # the required fields were given: only what the record lacks is asked
    child.expect_exact("date: missing, expected date or start (and end)")
    child.expect_exact("Date (")
    child.sendline("1956-02-14")
    child.expect_exact("Added event 'congress'")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


# -- import progress (item 23) ---------------------------------------------------

def _import_in_a_terminal(path: Path, db: str | None = None) -> str:
    import io

    env = {**os.environ, "STUDY_NOW": "2026-01-05T12:00:00+00:00", "TERM": "xterm",
           "STUDY_DB": db or os.environ["STUDY_DB"]}
    env.pop("NO_COLOR", None)
    child = pexpect.spawn(sys.executable, ["-m", "study", "import", str(path)], env=env,
                          encoding="utf-8", timeout=120, dimensions=(30, 100))
    transcript = io.StringIO()
    child.logfile_read = transcript
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, transcript.getvalue()
    return transcript.getvalue()


@pytest.mark.slow
def test_a_long_import_shows_a_progress_bar_in_a_terminal(isolated: Path) -> None:
    from tests.helpers import facts_toml

    run("init", "--empty")
    big = isolated / "big.toml"
    big.write_text(facts_toml(30_000))
    out = _import_in_a_terminal(big)
    assert "Importing: " in out and "━" in out  # rich's bar, on stderr
    assert "Imported: added 30,000" in out
    small = isolated / "small.toml"
    small.write_text(facts_toml(2))
    run("--db", str(isolated / "small.db"), "init", "--empty")
    out = _import_in_a_terminal(small, str(isolated / "small.db"))
    assert "Importing" not in out and "━" not in out  # quick: no bar flickers
    assert "Imported: added 2" in out


@pytest.mark.slow
def test_no_progress_bar_when_stderr_is_not_a_terminal(isolated: Path) -> None:
    from tests.helpers import facts_toml

    run("init", "--empty")
    big = isolated / "big.toml"
    big.write_text(facts_toml(30_000))
    result = subprocess.run([sys.executable, "-m", "study", "import", str(big)],
                            capture_output=True, text=True, env={**os.environ})
    assert result.returncode == 0
    assert result.stderr == ""
    assert result.stdout.startswith("Imported: added 30,000")


# -- the README (item 22) --------------------------------------------------------

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_says_where_the_store_really_lives(isolated: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import click

    from study.cli import default_db

    text = README.read_text(encoding="utf-8")
    monkeypatch.delenv("STUDY_DB")
    monkeypatch.delenv("XDG_CONFIG_HOME")
    home = Path(os.environ["HOME"])
    linux = Path(default_db()).relative_to(home)
    assert f"`~/{linux}`" in text  # ~/.config/secretariat/study.db
    assert f"`$XDG_CONFIG_HOME/{Path(default_db()).relative_to(home / '.config')}`" in text
    monkeypatch.setattr(sys, "platform", "darwin")
    mac = Path(click.get_app_dir("secretariat")).relative_to(home)
    assert f"`~/{mac}/study.db`" in text
    assert "`%APPDATA%\\secretariat\\study.db`" in text


@pytest.mark.slow
def test_readme_documents_study_now_and_the_completion_that_works(isolated: Path) -> None:
    text = README.read_text(encoding="utf-8")
    assert "`STUDY_NOW`" in text and "`STUDY_DB`" in text
    assert '_STUDY_COMPLETE=bash_source study' in text
    assert ".venv/bin/study" in text.split("## A session")[0]
    quick = ("python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/study review",
             "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && "
             ".venv/bin/python -m pytest")
    assert all(command in text for command in quick)
    study = Path(sys.executable).parent / "study"
    if not study.exists():
        pytest.skip("the study script is not installed next to this Python")
    env = {**os.environ, "COMP_WORDS": "study list ca", "COMP_CWORD": "2",
           "_STUDY_COMPLETE": "bash_complete"}
    out = subprocess.run([str(study)], env=env, capture_output=True, text=True).stdout
    assert out.split() == ["plain,cards"]
    source = subprocess.run([str(study)], env={**os.environ, "_STUDY_COMPLETE": "bash_source"},
                            capture_output=True, text=True).stdout
    assert "complete -o nosort -F _study_completion study" in source


def test_type_mode_keeps_a_letter_split_between_two_reads(typed_store: Path) -> None:
    from tests.test_terminal import Q1, Term

    t = Term("--type")
    try:
        t.expect(Q1)
        t.expect("Your answer: ")
        word = "Mosków".encode()
        cut = word.index("ó".encode()) + 1  # between the two bytes of 'ó'
        os.write(t.child.child_fd, word[:cut])
        time.sleep(0.3)  # the rest comes in another read
        os.write(t.child.child_fd, word[cut:] + b"\r")
        t.expect("You typed: Mosków")
        t.send("q")
        t.expect("Answered")
        assert t.finish() == 0
    finally:
        t.kill()
    assert "\ufffd" not in t.text()


def test_undo_shows_a_stored_control_character_as_an_escape(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE cards SET question = 'Capital?\x1b]0;pwned\x07' "
                     "WHERE key = 'fact:pravda:forward'")
    conn.close()
    run("review", "--new", "1", "--limit", "0", input=" 3q")
    out = run("undo").stdout
    assert "\x1b" not in out and "\x07" not in out
    assert "Capital?\\x1b]0;pwned\\x07" in out


def test_a_retired_sibling_is_not_listed(db: Path) -> None:
    cards = {c["key"]: c for c in json_of("list", "cards", "--json")}
    assert cards["fact:kolkhoz:forward"]["siblings"] == ["fact:kolkhoz:reverse"]
    toml = db.parent / "kolkhoz.toml"
    toml.write_text('[[fact]]\nid = "kolkhoz"\nquestion = "What is a kolkhoz?"\n'
                    'answer = "A collective farm"\ntags = ["economy"]\n')
    assert run("import", str(toml)).exit_code == 0  # no reverse: that card retires
    cards = {c["key"]: c for c in json_of("list", "cards", "--json")}
    assert "fact:kolkhoz:reverse" not in cards
    assert cards["fact:kolkhoz:forward"]["siblings"] == []
