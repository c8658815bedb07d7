"""The real terminal: `study review` in a pseudo-terminal, driven with pexpect.

Each test starts ``python -m study review`` on a fresh store of three facts
(in tmp_path, with a fixed clock), presses keys as a learner would, and
checks both the screen and the store afterwards.
"""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pexpect
import pytest

from tests.helpers import store_from_toml

pytestmark = pytest.mark.slow  # every test runs `study review` in a pseudo-terminal

NOW = "2026-11-23T07:30:00+00:00"
FACTS = """
[[fact]]
id = "capital"
question = "What was the capital of the USSR?"
answer = "Moscow"

[[fact]]
id = "gosplan"
question = "Which body drew up the Five-Year Plans?"
answer = "Gosplan"

[[fact]]
id = "kolkhoz"
question = "What is a kolkhoz?"
answer = "A collective farm"
"""
Q1, Q2, Q3 = ("What was the capital of the USSR?", "Which body drew up the Five-Year Plans?",
              "What is a kolkhoz?")
K1, K2, K3 = "fact:capital:forward", "fact:gosplan:forward", "fact:kolkhoz:forward"
# fresh cards, default settings, previews unfuzzed: the same labels every time
BUTTONS = "1 Again 1m   2 Hard 6m   3 Good 10m   4 Easy 8d"
ANSI = re.compile(r"\x1b(\[[0-9;?<>=]*[ -/]*[@-~]|[@-Z\\-_])")
CLEAR = "\x1b[2J"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """The store the autouse fixture points STUDY_DB at, holding FACTS."""
    path = Path(os.environ["STUDY_DB"])
    store_from_toml(path, FACTS).close()
    return path


class Term:
    """One `study review` in a pty, with the transcript of everything it printed."""

    def __init__(self, *args: str, editor: str | None = None) -> None:
        env = {**os.environ, "STUDY_NOW": NOW, "TZ": "UTC", "TERM": "xterm",
               "COLUMNS": "120", "LINES": "40"}
        env.pop("NO_COLOR", None)
        if editor:
            env["EDITOR"] = editor
        self.transcript = io.StringIO()
        self.child = pexpect.spawn(sys.executable, ["-m", "study", "review", *args], env=env,
                                   dimensions=(40, 120), encoding="utf-8", timeout=10)
        self.child.logfile_read = self.transcript
        self.child.delaybeforesend = None

    def expect(self, text: str) -> None:
        """Wait for ``text`` as it shows on screen: colour codes may stand between letters."""
        codes = f"(?:{ANSI.pattern})*"
        self.child.expect(codes.join(re.escape(ch) for ch in text))

    def send(self, keys: str) -> None:
        self.child.send(keys)

    def text(self) -> str:
        """All output so far, without escape sequences."""
        return ANSI.sub("", self.transcript.getvalue())

    def screen(self) -> str:
        """What is on the screen now: the output since it was last cleared."""
        raw = self.transcript.getvalue()
        return ANSI.sub("", raw[raw.rfind(CLEAR):] if CLEAR in raw else raw)

    def finish(self) -> int:
        """Wait for the end; the exit status (a signal fails the test)."""
        self.child.expect(pexpect.EOF)
        self.child.close()
        assert self.child.signalstatus is None
        return int(self.child.exitstatus)

    def kill(self) -> None:
        if self.child.isalive():
            self.child.terminate(force=True)


@pytest.fixture
def term() -> Iterator[Callable[..., Term]]:
    started: list[Term] = []

    def start(*args: str, editor: str | None = None) -> Term:
        t = Term(*args, editor=editor)
        started.append(t)
        return t

    yield start
    for t in started:
        t.kill()


def rows(db: Path, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def card(db: Path, key: str) -> dict[str, object]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return dict(conn.execute("SELECT * FROM cards WHERE key = ?", [key]).fetchone())
    finally:
        conn.close()


def listed(key: str) -> dict[str, object]:
    """The card as `study list cards --json` reports it."""
    out = subprocess.run([sys.executable, "-m", "study", "list", "cards", "--json"],
                         env={**os.environ, "STUDY_NOW": NOW}, capture_output=True, text=True,
                         check=True).stdout
    return next(c for c in json.loads(out) if c["key"] == key)


def test_question_then_answer_with_the_four_intervals_then_the_next_card(db: Path, term):
    t = term()
    t.expect(Q1)
    screen = t.screen()
    assert "new 3   learning 0   due 0   answered 0" in screen
    assert "Moscow" not in screen
    t.send(" ")
    t.expect(BUTTONS)
    assert "Moscow" in t.screen()
    t.send("3")
    t.expect(Q2)
    screen = t.screen()
    assert "new 2   learning 1   due 0   answered 1" in screen
    assert Q1 not in screen and "Moscow" not in screen
    t.send("q")
    t.expect("session over")
    assert t.finish() == 0
    assert rows(db, "SELECT card_key, rating, reviewed_at FROM reviews") == [
        (K1, 3, "2026-11-23T07:30:00.000000+00:00")]
    first = card(db, K1)
    assert (first["state"], first["reps"], first["due"]) == (
        "learning", 1, "2026-11-23T07:40:00.000000+00:00")
    assert card(db, K2)["state"] == "new"


def test_enter_also_shows_the_answer_and_grades_need_the_answer_shown(db: Path, term):
    t = term()
    t.expect(Q1)
    t.send("3")  # not yet: the answer is not shown
    t.send("\r")
    t.expect(BUTTONS)
    t.send("1")
    t.expect(Q2)
    t.send("q")
    assert t.finish() == 0
    assert rows(db, "SELECT card_key, rating FROM reviews") == [(K1, 1)]


def test_undo_removes_the_last_answer_and_shows_that_card_again(db: Path, term):
    t = term()
    t.expect(Q1)
    t.send(" ")
    t.expect(BUTTONS)
    t.send("3")
    t.expect(Q2)
    assert rows(db, "SELECT COUNT(*) FROM reviews") == [(1,)]
    t.send("u")
    t.expect(f"Undid your answer to {K1}.")
    t.expect(Q1)
    screen = t.screen()
    assert f"Undid your answer to {K1}." in screen, "the message is wiped by the next card"
    assert "answered 0" in screen
    assert rows(db, "SELECT COUNT(*) FROM reviews") == [(0,)]
    assert (card(db, K1)["state"], card(db, K1)["reps"]) == ("new", 0)
    t.send("u")
    t.expect("nothing to undo")
    t.send("q")
    t.expect("Answered 0 cards")
    assert t.finish() == 0


def test_suspend_takes_the_card_out_and_moves_on(db: Path, term):
    t = term()
    t.expect(Q1)
    t.send("s")
    t.expect(Q2)
    assert f"Suspended {K1}." in t.screen()
    assert card(db, K1)["suspended"] == 1
    assert listed(K1)["suspended"] is True
    t.send("q")
    assert t.finish() == 0
    assert rows(db, "SELECT COUNT(*) FROM reviews") == [(0,)]


def test_bury_holds_the_card_until_the_next_study_day(db: Path, term):
    t = term()
    t.expect(Q1)
    t.send(" ")
    t.expect(BUTTONS)
    t.send("b")
    t.expect(Q2)
    assert f"Buried {K1} until tomorrow." in t.screen()
    t.send("q")
    assert t.finish() == 0
    # the next study day starts at 04:00 (TZ=UTC)
    assert card(db, K1)["buried_until"] == "2026-11-24T04:00:00.000000+00:00"
    assert card(db, K1)["state"] == "new"


def write_editor(tmp_path: Path, old: str, new: str) -> str:
    """An $EDITOR that replaces ``old`` by ``new`` in the file it is given."""
    script = tmp_path / "editor.py"
    script.write_text(
        "import pathlib, sys\n"
        "p = pathlib.Path(sys.argv[1])\n"
        f"p.write_text(p.read_text().replace({old!r}, {new!r}))\n")
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}"


def test_edit_saves_the_record_and_shows_the_card_again_with_the_new_text(
        db: Path, term, tmp_path: Path):
    t = term(editor=write_editor(tmp_path, '"Moscow"', '"Moscow, from March 1918"'))
    t.expect(Q1)
    t.send(" ")
    t.expect(BUTTONS)
    t.send("e")
    t.expect("Saved fact 'capital'")
    t.expect(Q1)
    screen = t.screen()
    assert "Saved fact 'capital' (1 card reworded" in screen
    assert "Moscow" not in screen.replace("Saved fact", ""), "shown again, answer hidden"
    t.send(" ")
    t.expect("Moscow, from March 1918")
    t.expect(BUTTONS)
    t.send("3")
    t.expect(Q2)
    t.send("q")
    assert t.finish() == 0
    assert rows(db, "SELECT answer FROM facts WHERE id = 'capital'") == [
        ("Moscow, from March 1918",)]
    assert card(db, K1)["answer"] == "Moscow, from March 1918"
    assert rows(db, "SELECT card_key, rating FROM reviews") == [(K1, 3)]


def test_an_edit_left_unchanged_says_so(db: Path, term, tmp_path: Path):
    t = term(editor=write_editor(tmp_path, "no such text", "x"))
    t.expect(Q1)
    t.send("e")
    t.expect("No changes to fact 'capital'")
    t.expect(Q1)
    t.send("q")
    assert t.finish() == 0


def test_help_then_quit_with_the_summary(db: Path, term):
    t = term()
    t.expect(Q1)
    t.send("?")
    t.expect("q / Esc      quit (answers given are saved)")
    for line in ("Space/Enter  show the answer", "u            undo the last answer",
                 "s            suspend this card", "e            edit this card's record"):
        assert line in t.text()
    t.send(" ")
    t.expect(BUTTONS)
    t.send("4")
    t.expect(Q2)
    t.send(" ")
    t.expect(BUTTONS)
    t.send("1")
    t.expect(Q3)
    t.send("q")
    t.expect("Due tomorrow")
    assert t.finish() == 0
    text = t.text()
    assert "Answered 2 cards (1 Again) in" in text
    assert "Next card due: in 1m" in text
    assert "Traceback" not in text
    assert rows(db, "SELECT card_key, rating FROM reviews ORDER BY id") == [(K1, 4), (K2, 1)]
    assert card(db, K1)["state"] == "review"
    assert card(db, K3)["state"] == "new"


@pytest.mark.parametrize("key", ["q", "Q", "\x1b", "\x04"], ids=["q", "Q", "Esc", "Ctrl-D"])
def test_quit_keys(db: Path, term, key: str):
    t = term()
    t.expect(Q1)
    if key == "\x04":
        # between keys the terminal is in cooked mode, where a Ctrl-D typed ahead is
        # taken as end-of-line by the line discipline and never read: wait for raw mode
        time.sleep(0.3)
    t.send(key)
    t.expect("Answered 0 cards")
    assert t.finish() == 0


@pytest.mark.parametrize("revealed", [False, True])
def test_ctrl_c_quits_cleanly_and_keeps_the_answers(db: Path, term, revealed: bool):
    t = term()
    t.expect(Q1)
    t.send(" ")
    t.expect(BUTTONS)
    t.send("3")
    t.expect(Q2)
    if revealed:
        t.send(" ")
        t.expect(BUTTONS)
    t.child.sendintr()
    t.expect("Answered 1 card (0 Again)")
    assert t.finish() == 0
    assert "Traceback" not in t.text() and "Aborted" not in t.text()
    assert rows(db, "SELECT card_key, rating FROM reviews") == [(K1, 3)]


def test_nothing_to_review_says_when_the_next_card_is_due(db: Path, term):
    t = term("--new", "0")
    t.expect("Nothing to review now.")
    assert t.finish() == 0


def test_typed_answers_are_checked_and_a_grade_suggested(db: Path, term):
    t = term("--type")
    t.expect(Q1)
    t.expect("Your answer: ")
    t.send("moscow\r")
    t.expect("correct  (suggested: 3 Good)")
    t.expect(BUTTONS)
    assert "Moscow" in t.screen()
    t.send("\r")  # Enter accepts the suggestion
    t.expect(Q2)
    t.expect("Your answer: ")
    t.send("Gosplann\r")
    t.expect("close: the answer is Gosplan  (suggested: 2 Hard)")
    t.expect(BUTTONS)
    t.send("4")  # or the learner picks another grade
    t.expect(Q3)
    t.expect("Your answer: ")
    t.send("a state farm\r")
    t.expect("(suggested: 1 Again)")
    t.expect(BUTTONS)
    t.send("\r")
    t.expect("Your answer: ")  # the kolkhoz again, or the next card
    t.child.sendintr()  # Ctrl-C at the prompt
    t.expect("Answered 3 cards (1 Again)")
    assert t.finish() == 0
    assert "Traceback" not in t.text()
    assert rows(db, "SELECT card_key, rating FROM reviews ORDER BY id") == [
        (K1, 3), (K2, 4), (K3, 1)]


def test_keys_typed_ahead_are_not_lost(db: Path, term):
    """A burst of keys (fast typing, a paste) arrives in one read, and keys typed
    while a card is drawn come before the next read: each counts once."""
    t = term()
    t.expect(Q1)
    t.send(" 3 4")
    t.expect(Q3)
    assert "answered 2" in t.screen()
    t.send(" 1q")
    t.expect("Answered 3 cards (1 Again)")
    assert t.finish() == 0
    assert rows(db, "SELECT card_key, rating FROM reviews ORDER BY id") == [
        (K1, 3), (K2, 4), (K3, 1)]


def test_a_failing_editor_does_not_end_the_session(db: Path, term):
    """An editor that exits non-zero (vim's :cq) leaves the record alone; the session goes on."""
    t = term(editor="false")
    t.expect(Q1)
    t.send(" ")
    t.expect(BUTTONS)
    t.send("e")
    t.expect("Not saved: ")
    t.expect(Q1)
    assert "Editing failed" in t.screen()
    t.send(" ")
    t.expect(BUTTONS)
    t.send("3")
    t.expect(Q2)
    t.send("q")
    t.expect("Answered 1 card")
    assert t.finish() == 0
    assert "Traceback" not in t.text()
    assert card(db, K1)["answer"] == "Moscow"


def test_an_invalid_edit_given_up_is_not_saved(db: Path, term, tmp_path: Path):
    t = term(editor=write_editor(tmp_path, 'answer = "Moscow"', 'answer = '))
    t.expect(Q1)
    t.send("e")
    t.expect("Edit again? [Y/n]: ")
    t.send("n\r")
    t.expect(Q1)
    kept = re.search(r"Not saved: fact 'capital'\. Your edit is kept in (\S+\.toml): fix it, "
                     r"then `study import \1`\.", t.screen().replace("\r\n", ""))
    assert kept, t.screen()
    assert 'answer = \n' in Path(kept[1]).read_text()
    Path(kept[1]).unlink()
    t.send("q")
    assert t.finish() == 0
    assert card(db, K1)["answer"] == "Moscow"
