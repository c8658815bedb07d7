"""The rough edges of issue 8: escapes, first runs, settings, consistency, messages."""

from __future__ import annotations

import io
import sqlite3
from datetime import timedelta
from pathlib import Path

from cards.text import json_text, visible
from tests.helpers import T0, run, store_from_toml

ATTACK = "\u001b]0;pwned\u0007\u001b[2J"


# -- 1. terminal escape injection ---------------------------------------------

def test_visible_shows_controls_as_escapes_and_keeps_newlines_and_tabs() -> None:
    assert visible(ATTACK) == "\\x1b]0;pwned\\x07\\x1b[2J"
    assert visible("a\nb\tc\x9bd\x7f") == "a\nb\tc\\x9bd\\x7f"
    assert visible("a\nb\tc\r", one_line=True) == "a\\nb\\tc\\r"
    assert json_text(["\x1b", "\x9b", "\x7f"]) == '["\\u001b", "\\u009b", "\\u007f"]'


def test_import_rejects_control_characters_with_file_and_line(tmp_path: Path) -> None:
    src = tmp_path / "bad.toml"
    src.write_text('[[fact]]\nid = "x"\nquestion = "Q?"\n'
                   'answer = "A \\u001b]0;pwned\\u0007"\ntags = ["ok", "t\\u009b"]\n')
    result = run("import", str(src))
    assert result.exit_code == 1
    assert (f"{src}:4: fact 'x': answer: contains the control character \\x1b, expected "
            f"printable text (newline and tab are allowed)") in result.stderr
    assert f"{src}:5: fact 'x': tags: contains the control character \\x9b" in result.stderr
    assert "\x1b" not in result.output


def test_newline_and_tab_are_still_accepted(tmp_path: Path) -> None:
    src = tmp_path / "ok.toml"
    src.write_text('[[fact]]\nid = "x"\nquestion = "Q?"\nanswer = "A\\tB\\nC"\n')
    assert run("import", str(src)).exit_code == 0


def _stored_attack(tmp_path: Path) -> Path:
    """A store whose fact already holds escapes (written before import refused them)."""
    db = tmp_path / "study.db"
    store = store_from_toml(db, '[[fact]]\nid = "x"\nquestion = "Q [bold]x[/bold]?"\n'
                                'answer = "A"\n')
    with store.transaction():
        store.put_many([("fact", {"id": "x", "question": f"Q{ATTACK} [bold]x[/bold]?",
                                  "answer": f"A{ATTACK}", "note": f"N{ATTACK}"})], T0)
        store.sync_cards(T0)
        store.db.execute("UPDATE cards SET leech = 1, suspended = 1")
    store.close()
    return db


def test_everything_printed_shows_stored_escapes_visibly(tmp_path: Path) -> None:
    _stored_attack(tmp_path)
    shown = "Q\\x1b]0;pwned\\x07\\x1b[2J [bold]x[/bold]?"
    for args in (["list", "facts"], ["list", "cards"], ["stats"], ["dump", "-"],
                 ["list", "facts", "--json"]):
        result = run(*args)
        assert result.exit_code == 0, (args, result.output)
        assert "\x1b" not in result.output and "\x07" not in result.output, args
    assert "\\x1b]0;pwned" in run("list", "facts").output
    assert shown in run("stats").output
    conn = sqlite3.connect(tmp_path / "study.db")
    with conn:
        conn.execute("UPDATE cards SET leech = 0, suspended = 0")
    conn.close()
    review = run("review", input=" 3q")
    assert f"Q: {shown}" in review.output
    assert "A: A\\x1b]0;pwned" in review.output
    assert "Note: N\\x1b]0;pwned" in review.output
    assert "\x1b" not in review.output


def test_the_review_screen_neither_obeys_escapes_nor_reads_markup(tmp_path: Path) -> None:
    from rich.console import Console

    from study.queue import Counts
    from study.session import Showing
    from study.terminal import RichView

    view = RichView()
    out = io.StringIO()
    view.console = Console(file=out, force_terminal=True, width=100, highlight=False)
    card = {"question": f"Q{ATTACK} [bold]x[/bold]?", "answer": f"A{ATTACK} [red]r[/red]",
            "kind": "fact", "key": "fact:x:question", "template": "question"}
    showing = Showing(card, "new", {r: timedelta(days=r) for r in (1, 2, 3, 4)}, False,
                      [f"Note: {ATTACK}"], [])
    view.card(Counts(0, 0, 1, None), 0, showing)
    view.reveal(showing, None)
    view.say(f"said {ATTACK}")
    text = out.getvalue()
    assert "\x07" not in text and "\x1b]" not in text
    assert text.count("\x1b[2J") == 1  # the screen's own clear, and no other
    assert "[bold]x[/bold]" in text and "[red]r[/red]" in text
    assert "\\x1b]0;pwned\\x07" in text


def test_error_messages_show_escapes_from_the_input(tmp_path: Path) -> None:
    src = tmp_path / "bad.toml"
    src.write_text('["\\u001b]0;pwned\\u0007"]\nx = 1\n[[fact]]\nid = "y"\nquestion = "Q"\n'
                   'answer = "A"\n"\\u001b[2J" = 1\n')
    result = run("import", str(src))
    assert result.exit_code == 1
    assert "\x1b" not in result.output
    assert "\\x1b]0;pwned\\x07: unknown table" in result.stderr
    assert "\\x1b[2J: unknown field" in result.stderr
    unknown = run("edit", "fact", f"no{ATTACK}")
    assert unknown.exit_code == 1 and "\x1b" not in unknown.output
