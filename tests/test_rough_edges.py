"""The rough edges of issue 8: escapes, first runs, settings, consistency, messages."""

from __future__ import annotations

import io
import sqlite3
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cards.store import Store
from cards.text import json_text, visible
from tests.helpers import T0, facts_toml, run, snapshot, store_from_toml

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
        store.remake_cards(T0)
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


# -- 4. a killed first run ------------------------------------------------------

def _starter_facts(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM facts").fetchone()[0])
    finally:
        conn.close()


def test_a_zero_byte_store_counts_as_new(isolated: Path) -> None:
    db = isolated / "study.db"
    db.touch()
    result = run("list", "facts", "--json")
    assert result.exit_code == 0
    assert result.stderr.startswith("Created a new store with the starter deck at")
    assert _starter_facts(db) > 0


KILL_WHILE_SEEDING = """
import os, signal, sys
from cards.starter import load_starter
from cards.store import Store
from tests.helpers import T0

def seed(store):
    load_starter(store, T0)  # the deck is written, not yet committed
    os.kill(os.getpid(), signal.SIGKILL)

Store.open(sys.argv[1], seed=seed)
"""


@pytest.mark.slow
def test_a_first_run_killed_while_loading_the_deck_is_completed_by_the_next(
        isolated: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    db = isolated / "study.db"
    killed = subprocess.run([sys.executable, "-c", KILL_WHILE_SEEDING, str(db)],
                            cwd=Path(__file__).parent.parent, env={**os.environ},
                            capture_output=True, timeout=60)
    assert killed.returncode == -signal.SIGKILL
    assert db.exists()
    result = run("list", "facts", "--json")
    assert result.exit_code == 0
    assert result.stderr.startswith("Created a new store with the starter deck at")
    assert _starter_facts(db) > 0


def test_init_empty_is_not_taken_for_a_killed_first_run(isolated: Path) -> None:
    assert run("init", "--empty").exit_code == 0
    assert run("list", "facts", "--json").stdout.strip() == "[]"


# -- 12. an explicit store in a missing folder; the data directory ------------

def test_only_the_default_data_directory_is_created(isolated: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    missing = isolated / "nowhere" / "study.db"
    for env in ({"STUDY_DB": str(missing)}, {}):
        args = ["list", "facts"] if env else ["--db", str(missing), "list", "facts"]
        result = run(*args, env=env)
        assert result.exit_code == 1
        assert result.stderr == (f"Error: {missing}: the folder {missing.parent} does not "
                                 f"exist; create it first, or choose another path with --db\n")
    assert not missing.parent.exists()
    monkeypatch.delenv("STUDY_DB")
    result = run("list", "facts", "--json")
    assert result.exit_code == 0
    assert (isolated / "home" / ".config" / "secretariat" / "study.db").exists()


def test_a_data_directory_that_cannot_be_made_is_one_line(isolated: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STUDY_DB")
    blocker = isolated / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(blocker / "config"))
    result = run("list", "facts")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: cannot create the folder {blocker}/config/"
                                    f"secretariat for the store (Not a directory: ")
    assert len(result.stderr.splitlines()) == 1


# -- 11. a lock, a full disk, an unwritable folder: said as they are ----------

@pytest.fixture
def short_lock_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give up on a lock after 0.1 s instead of 10 s, and retry every 0.05 s."""
    import cards.store
    import study.terminal

    monkeypatch.setattr(cards.store, "BUSY_TIMEOUT_MS", 100)
    monkeypatch.setattr(study.terminal, "RETRY_SECONDS", 0.05)


def _hold_lock(db: Path, seconds: float) -> tuple[sqlite3.Connection, object]:
    import threading

    conn = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    conn.execute("BEGIN IMMEDIATE")
    timer = threading.Timer(seconds, lambda: conn.execute("COMMIT"))
    timer.start()
    return conn, timer


def test_a_lock_held_by_another_program_is_said_so(isolated: Path, short_lock_wait: None) -> None:
    assert run("init").exit_code == 0
    db = isolated / "study.db"
    before = snapshot(db)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = run("suspend", "fact:nomenklatura")
    finally:
        conn.execute("ROLLBACK")
        conn.close()
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {db}: the store is locked by another program")
    assert "Restore" not in result.stderr
    assert snapshot(db) == before


def test_a_review_waits_for_a_lock_instead_of_dying(isolated: Path,
                                                   short_lock_wait: None) -> None:
    assert run("init").exit_code == 0
    db = isolated / "study.db"
    conn, timer = _hold_lock(db, 1.0)
    try:
        result = run("review", input=" 3q")
    finally:
        timer.join()  # type: ignore[attr-defined]
        conn.close()
    assert result.exit_code == 0, result.output
    assert "The store is locked by another program; waiting for it" in result.output
    assert "Answered 1 card (0 Again)" in result.output
    check = sqlite3.connect(db)
    assert check.execute("SELECT COUNT(*) FROM reviews").fetchone()[0] == 1
    check.close()


def full_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every store opened from now on is full: SQLite's max_page_count gives SQLITE_FULL."""
    real = Store.open.__func__  # type: ignore[attr-defined]

    def opened_full(cls: type[Store], *args: object, **kwargs: object) -> Store:
        store = real(cls, *args, **kwargs)
        pages = store.db.execute("PRAGMA page_count").fetchone()[0]
        store.db.execute(f"PRAGMA max_page_count = {pages}")
        return store

    monkeypatch.setattr(Store, "open", classmethod(opened_full))


def test_a_full_disk_is_said_so_and_the_answer_was_not_saved(isolated: Path) -> None:
    assert run("init").exit_code == 0
    db = isolated / "study.db"
    before = snapshot(db)
    src = isolated / "many.toml"
    src.write_text(facts_toml(3000))  # more than the free pages a fresh store may hold
    with pytest.MonkeyPatch.context() as mp:
        full_disk(mp)
        imported = run("import", str(src))
        # One answer fits in the slack of a fresh store's pages, so a write that
        # needs new pages goes first: the review meets SQLite's own SQLITE_FULL.
        from study import scheduler

        real_answer = scheduler.answer

        def answer_on_full_disk(conn: sqlite3.Connection, *args: object, **kw: object) -> object:
            conn.execute("CREATE TABLE IF NOT EXISTS filler (x BLOB)")
            conn.execute("INSERT INTO filler VALUES (zeroblob(1000000))")
            return real_answer(conn, *args, **kw)  # type: ignore[arg-type]

        mp.setattr(scheduler, "answer", answer_on_full_disk)
        reviewed = run("review", input=" 3q")
    assert imported.exit_code == 1
    assert imported.stderr.startswith(f"Error: {db}: disk full: nothing was saved; the store "
                                      f"is as it was")
    assert reviewed.exit_code == 1
    assert f"Error: {db}: disk full: the answer was not saved" in reviewed.stderr
    assert "Restore" not in imported.stderr + reviewed.stderr
    assert snapshot(db) == before


def test_a_failed_rollback_does_not_hide_the_error(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.db")
    with pytest.raises(ValueError, match="the original"):
        with store.transaction():
            store.db.conn.close()  # ROLLBACK now fails
            raise ValueError("the original")


# -- 11 and 14. permissions: run as an unprivileged user (root ignores modes) -----

@pytest.fixture
def as_nobody() -> object:
    """A folder that user ``nobody`` can use, and a way to run ``study`` as that user."""
    import os
    import shutil
    import subprocess
    import sys
    import tempfile

    if os.geteuid() != 0:
        uid = os.geteuid()
        prefix: list[str] = []
    elif shutil.which("setpriv"):
        uid = 65534
        prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    else:
        pytest.skip("root without setpriv: file modes cannot be tested")
    top = Path(tempfile.mkdtemp(prefix="study-perm-"))
    top.chmod(0o777)
    if prefix:  # the checkout itself must be readable by that user (not in a 0700 folder)
        probe = subprocess.run([*prefix, sys.executable, "-c", "import study.cli"],
                               env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)},
                               capture_output=True, text=True, timeout=60, cwd=top)
        if "PermissionError" in probe.stderr:
            shutil.rmtree(top)
            pytest.skip("user nobody cannot read this checkout: file modes cannot be tested")

    def study(db: Path, *args: str, input: str = "") -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "STUDY_DB": str(db), "HOME": str(top),
               "STUDY_NOW": "2026-02-01T09:00:00+00:00",
               "PYTHONPATH": str(Path(__file__).parent.parent)}
        return subprocess.run([*prefix, sys.executable, "-m", "study", *args], env=env,
                              input=input, capture_output=True, text=True, timeout=60, cwd=top)

    study.top = top  # type: ignore[attr-defined]
    study.uid = uid  # type: ignore[attr-defined]
    yield study
    for p in top.rglob("*"):
        p.chmod(0o777) if p.is_dir() else p.chmod(0o666)
    shutil.rmtree(top)


@pytest.mark.slow
def test_a_folder_that_cannot_be_written_is_named(as_nobody: object) -> None:
    import os

    study = as_nobody
    folder = study.top / "shut"  # type: ignore[attr-defined]
    folder.mkdir()
    folder.chmod(0o777)
    made = study(folder / "study.db", "init")  # type: ignore[operator]
    assert made.returncode == 0, made.stderr
    for p in folder.iterdir():
        p.chmod(0o666)
    folder.chmod(0o555)
    if os.geteuid() == 0:
        os.chown(folder, 0, 0)
    for args in (["list", "facts"], ["review"], ["import", "x.toml"]):
        result = study(folder / "study.db", *args, input=" 3q")  # type: ignore[operator]
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        assert result.stderr.splitlines()[-1].startswith(
            f"Error: {folder}/study.db: cannot write in {folder}"), result.stderr
        assert "Traceback" not in result.stderr and "Restore" not in result.stderr


@pytest.mark.slow
def test_a_store_of_mode_000_is_not_called_read_only(as_nobody: object) -> None:
    study = as_nobody
    db = study.top / "study.db"  # type: ignore[attr-defined]
    assert study(db, "init").returncode == 0  # type: ignore[operator]
    db.chmod(0o000)
    result = study(db, "list", "facts")  # type: ignore[operator]
    assert result.returncode == 1
    assert result.stderr == (f"Error: {db}: permission denied: the store cannot be read (its "
                             f"mode forbids it); fix it with chmod u+rw\n")
    db.chmod(0o444)
    result = study(db, "list", "facts")  # type: ignore[operator]
    assert result.returncode == 1
    assert "read-only" in result.stderr


# -- 5. every value that `config set` accepts reads back -----------------------

ACCEPTED = [("learning_steps", "1m 30d"), ("learning_steps", "365d"),
            ("learning_steps", "1.5m 2h"), ("learning_steps", "36500d"),
            ("relearning_steps", "45d"), ("relearning_steps", ""),
            ("desired_retention", "0.85"), ("maximum_interval", "1"), ("fuzz", "off"),
            ("rollover_hour", "23"), ("timezone", "Asia/Shanghai"), ("new_per_day", "0"),
            ("reviews_per_day", "99999"), ("bury_siblings", "no"), ("leech_threshold", "1"),
            ("learn_ahead_minutes", "1440")]


@pytest.mark.parametrize(("key", "value"), ACCEPTED)
def test_an_accepted_setting_reads_back_and_leaves_every_command_usable(
        key: str, value: str) -> None:
    from study.settings import Settings, parse_setting

    assert run("config", "set", key, value).exit_code == 0
    for args in (["config"], ["due"], ["stats"], ["review"]):
        result = run(*args, input="q")
        assert result.exit_code == 0, (args, result.output)
    stored = parse_setting(key, value)
    settings = Settings.from_config({key: stored})
    assert settings.to_config()[key] == stored  # the same value, read back
    assert parse_setting(key, str(stored) if key.endswith("steps") else value) == stored


@pytest.mark.parametrize("value", ["0.4s", "0s", "36501d", "1" + "0" * 400 + "d", "1mo", "1y"])
def test_steps_that_cannot_be_kept_are_refused_when_set(value: str) -> None:
    result = run("config", "set", "learning_steps", value)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: '{value}' is ")
    assert run("config").exit_code == 0


def test_weights_outside_fsrs_bounds_are_refused_when_set() -> None:
    result = run("config", "set", "parameters", " ".join(["1000"] * 21))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: the weights are not usable by FSRS-6")
    assert run("review", input="q").exit_code == 0


def test_steps_stored_by_older_versions_still_read(isolated: Path) -> None:
    assert run("init").exit_code == 0
    conn = sqlite3.connect(isolated / "study.db")
    with conn:  # what `config set learning_steps '1m 45d'` stored before
        conn.execute("INSERT INTO config VALUES ('learning_steps', '\"1m 1.5mo\"')")
    conn.close()
    shown = run("config")
    assert shown.exit_code == 0
    assert "learning_steps = 1m 45d" in shown.stdout


@pytest.mark.parametrize("stored", ["0s", "1m 1x"])
def test_a_broken_stored_step_says_how_to_fix_it(isolated: Path, stored: str) -> None:
    assert run("init").exit_code == 0
    conn = sqlite3.connect(isolated / "study.db")
    with conn:
        conn.execute("INSERT INTO config VALUES ('learning_steps', ?)", [f'"{stored}"'])
    conn.close()
    result = run("review", input="q")
    assert result.exit_code == 1
    assert f"the stored setting learning_steps = '{stored}' is not valid" in result.stderr
    assert "study config set learning_steps" in result.stderr
    assert run("config", "set", "learning_steps", "1m").exit_code == 0
    assert run("review", input="q").exit_code == 0


@given(st.lists(st.tuples(st.integers(1, 10**6), st.sampled_from("smhd")), min_size=1,
                max_size=4))
def test_any_accepted_steps_read_back_the_same(parts: list[tuple[int, str]]) -> None:
    from study.settings import BadSetting, Settings, parse_setting, parse_steps

    text = " ".join(f"{n}{unit}" for n, unit in parts)
    try:
        stored = parse_setting("learning_steps", text)
    except BadSetting:
        return  # refused: fine
    assert Settings.from_config({"learning_steps": stored}).learning_steps == parse_steps(text)


# -- 13. the error list is bounded ---------------------------------------------

def test_only_the_first_hundred_problems_are_printed_then_a_count(tmp_path: Path) -> None:
    src = tmp_path / "bad.toml"
    src.write_text("".join(f'[[fact]]\nid = "f{i}"\nquestion = 1\nanswer = "A"\n\n'
                           for i in range(40_000)))
    assert run("init").exit_code == 0
    result = run("import", str(src))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 102
    assert lines[0] == f"{src}:3: fact 'f0': question: is a number, expected a string"
    assert lines[99].startswith(f"{src}:498: fact 'f99': ")
    assert lines[100] == "... and 39,900 more problems (the first 100 are shown)"
    assert lines[101] == "Error: 40000 problems in the input; nothing was written."


def test_check_prints_the_first_hundred_findings_then_a_count(tmp_path: Path) -> None:
    store = store_from_toml(tmp_path / "study.db", '[[person]]\nid = "p"\nname = "P"\n'
                            '[[office]]\nid = "o"\ntitle = "O"\n')
    with store.transaction():  # written behind import's back: import refuses overlaps
        store.put_many([("tenure", {"id": f"t{i}", "person": "p", "office": "o",
                                    "start": f"{1900 + i}"}) for i in range(20)], T0)
    store.close()
    result = run("check")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 102
    assert lines[100] == "... and 90 more (the first 100 are shown)"
    assert lines[101] == "190 errors, 0 warnings"


# -- 14. other messages ----------------------------------------------------------

def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    src = tmp_path / "bom.toml"
    src.write_bytes(b"\xef\xbb\xbf" + b'[[fact]]\nid = "x"\nquestion = "Q?"\nanswer = 3\n')
    assert run("init").exit_code == 0
    result = run("import", str(src))
    assert result.exit_code == 1  # line numbers still count from the first line
    assert result.stderr.splitlines()[0] == (f"{src}:4: fact 'x': answer: is a number, "
                                             f"expected a string")
    src.write_bytes(b"\xef\xbb\xbf" + b'[[fact]]\nid = "x"\nquestion = "Q?"\nanswer = "A"\n')
    assert run("import", str(src)).exit_code == 0


def test_a_missing_file_and_a_directory_both_exit_1(tmp_path: Path) -> None:
    assert run("init").exit_code == 0
    missing = run("import", str(tmp_path / "nope.toml"))
    folder = run("import", str(tmp_path))
    assert (missing.exit_code, folder.exit_code) == (1, 1)
    assert missing.stderr.startswith(f"{tmp_path / 'nope.toml'}: no such file\n")
    assert folder.stderr.startswith(f"{tmp_path}: is a directory, expected a TOML file\n")


@pytest.mark.slow
def test_an_unreadable_input_file_says_permission_denied(as_nobody: object) -> None:
    study = as_nobody
    top = study.top  # type: ignore[attr-defined]
    src = top / "secret.toml"
    src.write_text('[[fact]]\nid = "x"\nquestion = "Q?"\nanswer = "A"\n')
    src.chmod(0o000)
    result = study(top / "study.db", "import", str(src))  # type: ignore[operator]
    assert result.returncode == 1
    assert f"\n{src}: permission denied: cannot read the file\n" in result.stderr


# -- 10. one-line errors instead of tracebacks ----------------------------------

def test_study_now_with_an_offset_reviews_in_utc(isolated: Path) -> None:
    assert run("init").exit_code == 0
    result = run("review", input=" 3q", env={"STUDY_NOW": "2026-01-05T12:00:00+01:00"})
    assert result.exit_code == 0, result.output
    conn = sqlite3.connect(isolated / "study.db")
    assert conn.execute("SELECT reviewed_at FROM reviews").fetchall() == [
        ("2026-01-05T11:00:00.000000+00:00",)]
    conn.close()


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59+00:00",
                                  "0001-01-01", "9999-12-31"])
@pytest.mark.parametrize("command", [["review"], ["due"], ["stats"]])
def test_study_now_at_the_ends_of_the_calendar_is_one_line(when: str,
                                                           command: list[str]) -> None:
    result = run(*command, input="q", env={"STUDY_NOW": when})
    assert result.exit_code == 2
    assert result.stderr == (f"Error: STUDY_NOW={when!r} is out of range, expected a time in "
                             f"the years 1900 to 9000, or leave it unset\n")


@pytest.mark.parametrize("nest", ["[", "{b="])
def test_toml_nested_too_deeply_is_an_input_problem(tmp_path: Path, nest: str) -> None:
    src = tmp_path / "deep.toml"
    close = "]" if nest == "[" else "}"
    src.write_text(f"a = {nest * 500}{'1' if nest != '[' else ''}{close * 500}\n")
    assert run("init").exit_code == 0
    result = run("import", str(src))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{src}: malformed TOML: TOML inline arrays/tables are nested more than the allowed "
        f"400 levels; expected records, each a [[kind]] table of plain fields",
        "Error: 1 problem in the input; nothing was written."]


@pytest.mark.slow
@pytest.mark.parametrize("args", [["review"], ["list", "cards"], ["stats"], ["check"],
                                  ["list", "facts", "--json"]])
def test_an_ascii_terminal_gets_escapes_not_a_traceback(isolated: Path, args: list[str]) -> None:
    import os
    import subprocess
    import sys

    assert run("init").exit_code == 0
    env = {**os.environ, "PYTHONIOENCODING": "ascii", "STUDY_NOW": "2026-01-05T12:00:00+00:00"}
    result = subprocess.run([sys.executable, "-m", "study", *args], input=" 3q", env=env,
                            capture_output=True, text=True, timeout=60)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 0, result.stderr
    if args == ["review"]:
        assert "[new 20 \\xb7 learning 0" in result.stdout


@pytest.mark.slow
def test_no_home_folder_is_one_line(as_nobody: object) -> None:
    import os
    import subprocess
    import sys

    if os.geteuid() != 0:
        pytest.skip("without HOME the real user's home would be used")
    env = {k: v for k, v in os.environ.items()
           if k not in ("HOME", "STUDY_DB", "XDG_CONFIG_HOME", "XDG_DATA_HOME")}
    env["PYTHONPATH"] = str(Path(__file__).parent.parent)
    for user in ("65534", "54321"):  # nobody (home /nonexistent), a user unknown to passwd
        result = subprocess.run(["setpriv", f"--reuid={user}", f"--regid={user}",
                                 "--clear-groups", sys.executable, "-m", "study", "list",
                                 "facts"], env=env, capture_output=True, text=True,
                                timeout=60, cwd=as_nobody.top)  # type: ignore[attr-defined]
        assert result.returncode == 1, result.stderr
        assert len(result.stderr.splitlines()) == 1, result.stderr
        assert result.stderr.startswith(("Error: cannot create the folder ",
                                         "Error: cannot find your home folder (HOME is not "
                                         "set)")), result.stderr


# -- 7. consistency: the checks of `study check` run before writing -------------

PEOPLE = ('[[person]]\nid = "a"\nname = "A"\nborn = "1900"\ndied = "1950"\n\n'
          '[[person]]\nid = "b"\nname = "B"\n\n'
          '[[office]]\nid = "chair"\ntitle = "Chair"\n\n'
          '[[tenure]]\nperson = "a"\noffice = "chair"\nstart = "1920"\nend = "1930"\n')


@pytest.fixture
def people(tmp_path: Path) -> Path:
    assert run("init", "--empty").exit_code == 0
    src = tmp_path / "people.toml"
    src.write_text(PEOPLE)
    assert run("import", str(src)).exit_code == 0
    return tmp_path / "study.db"


def test_import_refuses_what_check_calls_errors_with_file_and_line(people: Path,
                                                                  tmp_path: Path) -> None:
    before = snapshot(people)
    src = tmp_path / "bad.toml"
    src.write_text('[[tenure]]\nperson = "b"\noffice = "chair"\nstart = "1925"\n'
                   'end = "1928"\n\n'                                              # overlap
                   '[[tenure]]\nperson = "a"\noffice = "chair"\nstart = "1960"\n'
                   'end = "1961"\n\n'                                              # after death
                   '[[organ]]\nid = "o1"\nname = "O1"\npart_of = "o2"\n\n'
                   '[[organ]]\nid = "o2"\nname = "O2"\npart_of = "o1"\n\n'         # a cycle
                   '[[organ]]\nid = "o3"\nname = "O3"\npart_of = "o3"\n')          # itself
    for args in (["import", str(src)], ["import", "--dry-run", str(src)]):
        result = run(*args)
        assert result.exit_code == 1
        assert result.stderr.splitlines() == [
            f"{src}:4: tenure 'b--chair--1925': start: overlaps tenure 'a--chair--1920' of "
            f"the same office",
            f"{src}:10: tenure 'a--chair--1960': start: lies outside the lifetime of a",
            f"{src}:16: organ 'o1': part_of: part_of goes round in a cycle: o1 -> o2 -> o1",
            f"{src}:26: organ 'o3': part_of: part_of goes round in a cycle: o3 -> o3",
            "Error: 4 problems in the input; nothing was written."]
    assert snapshot(people) == before


def test_a_stored_record_that_the_input_now_contradicts_is_named(people: Path,
                                                                 tmp_path: Path) -> None:
    src = tmp_path / "died.toml"  # a's new death date leaves the stored tenure outside it
    src.write_text('[[person]]\nid = "a"\nname = "A"\nborn = "1900"\ndied = "1925"\n')
    result = run("import", str(src))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        f"{src}:1: person 'a': tenure 'a--chair--1920' lies outside the lifetime of a")


def test_warnings_print_and_the_import_goes_ahead(people: Path, tmp_path: Path) -> None:
    src = tmp_path / "open.toml"
    src.write_text('[[tenure]]\nperson = "a"\noffice = "chair"\nstart = "1940"\n')
    result = run("import", str(src))
    assert result.exit_code == 0
    assert result.stderr == (f"{src}:1: tenure 'a--chair--1940': end: warning: has no end, "
                             f"but a died 1950\n")
    assert result.stdout.startswith("Imported: added 1,")


def test_an_inconsistency_already_stored_does_not_block_other_records(people: Path,
                                                                      tmp_path: Path) -> None:
    with Store.open(people) as store, store.transaction():  # written by an older version
        store.put_many([("tenure", {"id": "old", "person": "b", "office": "chair",
                                    "start": "1921"})], T0)
    src = tmp_path / "fact.toml"
    src.write_text('[[fact]]\nid = "f"\nquestion = "Q?"\nanswer = "A"\n')
    assert run("import", str(src)).exit_code == 0
    assert run("check").exit_code == 1


def test_add_refuses_an_overlap_and_prints_warnings(people: Path) -> None:
    before = snapshot(people)
    result = run("add", "tenure", "--person", "b", "--office", "chair", "--start", "1929")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        "study add: tenure 'b--chair--1929': start: overlaps tenure 'a--chair--1920' of the "
        "same office")
    assert snapshot(people) == before
    result = run("add", "tenure", "--person", "b", "--office", "chair", "--start", "1915",
                 "--end", "1925")  # before the stored one: said from the new tenure's side
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        "study add: tenure 'b--chair--1915': start: overlaps tenure 'a--chair--1920' of the "
        "same office")
    result = run("add", "organ", "--id", "self", "--name", "S", "--part-of", "self")
    assert result.exit_code == 1
    assert "part_of goes round in a cycle: self -> self" in result.stderr
    result = run("add", "tenure", "--person", "a", "--office", "chair", "--start", "1940")
    assert result.exit_code == 0
    assert "warning: has no end, but a died 1950" in result.stderr


def test_edit_refuses_an_overlap(people: Path) -> None:
    from cards.editing import edit_record
    from cards.errors import InvalidInput

    assert run("add", "tenure", "--person", "b", "--office", "chair", "--start",
               "1930").exit_code == 0
    with Store.open(people) as store, pytest.raises(InvalidInput, match="overlaps"):
        edit_record(store, "tenure", "b--chair--1930", T0,
                    edit=lambda text: text.replace('"1930"', '"1930"\nend = "1931"').replace(
                        'start = "1930"', 'start = "1929"').replace(
                        'id = "b--chair--1930"', 'id = "b--chair--1930"'),
                    again=lambda problems: False)


def test_the_checks_stay_linear(monkeypatch: pytest.MonkeyPatch) -> None:
    """Four times the records cost four times the steps, not sixteen (counted, not timed)."""
    import cards.check

    steps = {"overlap": 0, "organ": 0}
    real_overlap = cards.check._overlap

    def counted_overlap(*args: object) -> bool:
        steps["overlap"] += 1
        return real_overlap(*args)  # type: ignore[arg-type]

    class Organs(dict):  # type: ignore[type-arg]
        def __getitem__(self, key: object) -> object:
            steps["organ"] += 1
            return super().__getitem__(key)

    monkeypatch.setattr(cards.check, "_overlap", counted_overlap)

    def counted(n: int) -> dict[str, int]:
        out: dict[str, dict[str, dict[str, object]]] = {
            k: {} for k in ("person", "organ", "office", "tenure", "event", "fact")}
        out["person"]["p"] = {"id": "p", "name": "P"}
        for i in range(n):  # one office, back to back; and one long chain of successors
            out["tenure"][f"t{i}"] = {"id": f"t{i}", "person": "p", "office": "o",
                                      "start": f"{1000 + i // 12}-{i % 12 + 1:02d}",
                                      "end": f"{1000 + (i + 1) // 12}-{(i + 1) % 12 + 1:02d}"}
            out["organ"][f"o{i}"] = {"id": f"o{i}", "name": "O", "succeeded_by": f"o{i + 1}",
                                     "part_of": f"o{i + 1}"}
        out["organ"] = Organs(out["organ"])
        steps.update(overlap=0, organ=0)
        assert cards.check.check(out) == []
        return dict(steps)

    small, large = counted(1000), counted(4000)
    for what in steps:
        assert large[what] <= 4 * small[what] + 10, (what, small, large)


@pytest.mark.slow
def test_a_real_terminal_review_shows_stored_escapes_inert(tmp_path: Path) -> None:
    from tests.test_terminal import Term

    db = _stored_attack(tmp_path)
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE cards SET leech = 0, suspended = 0")
    conn.close()
    t = Term()
    try:
        t.expect("[bold]x[/bold]?")
        t.send(" ")
        t.expect("3 Good")
        t.send("q")
        assert t.finish() == 0
    finally:
        t.kill()
    raw = t.transcript.getvalue()
    assert "\x1b]" not in raw and "\x07" not in raw  # no window title, no bell
    assert "Q\\x1b]0;pwned\\x07\\x1b[2J [bold]x[/bold]?" in t.text()
    assert "A\\x1b]0;pwned" in t.text()


def test_what_config_shows_sets_the_same_value() -> None:
    assert run("config", "set", "learning_steps", "1.5m 2h").stdout == (
        "learning_steps = 90s 2h\n")
    weights = "0.2120000001 1.2931 2.3065 8.2956 6.4133 0.8334 3.0194 0.001 1.8722 0.1666 " \
              "0.796 1.4835 0.0614 0.2629 1.6483 0.6014 1.8729 0.5425 0.0912 0.0658 0.1542"
    assert run("config", "set", "parameters", weights).exit_code == 0
    shown = dict(line.split(" = ", 1) for line in run("config").stdout.splitlines()
                 if " = " in line and not line.startswith(" "))
    assert shown["learning_steps"] == "90s 2h"
    assert [float(w) for w in shown["parameters"].split()] == [float(w) for w in weights.split()]
    for key, value in shown.items():  # each shown value, set again, changes nothing
        assert run("config", "set", key, value).stdout == f"{key} = {value}\n"


@pytest.mark.slow
def test_an_edit_during_a_lock_is_not_saved_and_the_session_goes_on(
        tmp_path: Path, short_lock_wait: None) -> None:
    db = tmp_path / "study.db"
    store_from_toml(db, facts_toml(2)).close()
    # The editor leaves behind another program that holds the lock for 3 s: the
    # session has started (and recorded itself), the edit meets the lock.
    ready = tmp_path / "locked"
    holder = (f"import sqlite3, time; c = sqlite3.connect({str(db)!r}, isolation_level=None); "
              f"c.execute('BEGIN IMMEDIATE'); open({str(ready)!r}, 'w').close(); time.sleep(3)")
    editor = tmp_path / "editor.sh"
    editor.write_text(f"#!/bin/sh\nsed -i 's/Answer 0/Answer zero/' \"$1\"\n"
                      f"{sys.executable} -c \"{holder}\" &\n"
                      f"while [ ! -e {ready} ]; do sleep 0.05; done\n")
    editor.chmod(0o755)
    result = run("review", input=" eq", env={"EDITOR": str(editor)})
    assert result.exit_code == 0, result.output
    assert ("Not saved: the store is locked by another program; edit again when it is done"
            in result.output)
    assert "Answered 0 cards" in result.output
    with Store.open(db) as store:
        assert store.get("fact", "f000")["answer"] == "Answer 0"
