"""Safety of the review session: SIGKILL at any moment, and two sessions at once.

Issue 3: each answer is committed in its own transaction before the next
card shows, so a SIGKILL loses no acknowledged answer and the store passes
``PRAGMA integrity_check``; two sessions on one store never fail on a lock
and never grade one showing of a card twice.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cards.store import Store
from study.scheduler import CardMoved
from study.session import ReviewSession
from study.settings import Settings
from study.terminal import Frontend, PlainView, run
from tests.helpers import facts_toml, store_from_toml

NOW = "2026-11-23T07:30:00+00:00"
T = datetime(2026, 11, 23, 7, 30, tzinfo=UTC)
MOVED = "this card was answered or changed in another session; moving on to the next card"
HEADER = re.compile("^\\[new \\d+ · learning \\d+ · due \\d+ · answered (\\d+)\\]$".encode())
SUMMARY = re.compile(rb"^Answered (\d+) cards? \(")


@pytest.fixture
def template(tmp_path: Path) -> Path:
    """A store of 400 facts, closed (checkpointed), to copy for each run."""
    path = tmp_path / "template.db"
    store_from_toml(path, facts_toml(400)).close()
    assert not Path(f"{path}-wal").exists()
    return path


def env_for(db: Path) -> dict[str, str]:
    """The environment of the autouse fixture, with this store and the fixed clock."""
    return {**os.environ, "STUDY_DB": str(db), "STUDY_NOW": NOW}


def review(db: Path, keys: bytes, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "study", "review", "--new", "1000", *args],
                          input=keys, capture_output=True, env=env_for(db), timeout=60)


def query(db: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def acknowledged(lines: list[bytes]) -> int:
    """Answers the session reported: 'answered N' in a card header, or the summary."""
    counts = [0]
    for line in lines:
        m = HEADER.match(line.rstrip(b"\n")) or SUMMARY.match(line)
        if m:
            counts.append(int(m[1]))
    return max(counts)


def check_history(db: Path) -> int:
    """The store is intact and each card agrees with its reviews; the number of reviews."""
    assert query(db, "PRAGMA integrity_check") == [("ok",)]
    assert query(db, "PRAGMA foreign_key_check") == []
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        cards = {r["key"]: dict(r) for r in conn.execute("SELECT * FROM cards")}
        reviews = [dict(r) for r in conn.execute("SELECT * FROM reviews ORDER BY id")]
    finally:
        conn.close()
    by_card: dict[str, list[dict[str, object]]] = {}
    for r in reviews:
        by_card.setdefault(str(r["card_key"]), []).append(r)
    for key, card in cards.items():
        history = by_card.get(key, [])
        assert card["reps"] == len(history), key
        if not history:
            assert card["state"] == "new", key
            continue
        # each answer starts from the state the previous one left
        assert json.loads(str(history[0]["state_before"]))["state"] == "new", key
        for before, after in zip(history, history[1:], strict=False):
            assert json.loads(str(before["state_after"])) == json.loads(
                str(after["state_before"])), key
        last = json.loads(str(history[-1]["state_after"]))
        for column in ("state", "step", "due", "last_review", "reps", "lapses"):
            assert card[column] == last[column], (key, column)
    return len(reviews)


class Reader(threading.Thread):
    """Collects a child's output lines as they come."""

    def __init__(self, stream: io.BufferedReader) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.lines: list[bytes] = []

    def run(self) -> None:
        for line in self.stream:
            self.lines.append(line)


# -- SIGKILL ------------------------------------------------------------------

@pytest.mark.slow
def test_sigkill_at_random_moments_loses_no_acknowledged_answer(tmp_path: Path,
                                                                 template: Path):
    rng = random.Random(20261123)
    answered_in_all = 0
    for run_no in range(24):
        db = tmp_path / f"run{run_no}.db"
        shutil.copyfile(template, db)
        proc = subprocess.Popen(
            [sys.executable, "-m", "study", "review", "--new", "1000"], env=env_for(db),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdin and proc.stdout
        reader = Reader(proc.stdout)  # type: ignore[arg-type]
        reader.start()
        # wait for the first card (a few runs are killed while starting up)
        during_startup = run_no % 8 == 7
        deadline = time.monotonic() + 10
        while not during_startup and not reader.lines and time.monotonic() < deadline:
            time.sleep(0.002)
        # keys all at once (the session answers flat out), or one answer at a time
        burst = run_no % 2 == 0
        kill_at = time.monotonic() + rng.uniform(0.0, 0.6 if burst else 0.3)
        sent = 0
        try:
            while time.monotonic() < kill_at and sent < 350:
                chunk = 350 if burst else 1
                proc.stdin.write(b" 3" * chunk)
                proc.stdin.flush()
                sent += chunk
                time.sleep(rng.uniform(0.0, 0.004))
            while time.monotonic() < kill_at:
                time.sleep(0.001)
        except BrokenPipeError:  # pragma: no cover - the session ended first
            pass
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        reader.join(timeout=10)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            stream.close()  # type: ignore[union-attr]
        assert proc.returncode == -signal.SIGKILL

        acked = acknowledged(reader.lines)
        rows = check_history(db)
        assert acked <= rows <= min(acked + 1, sent), (run_no, acked, rows, sent)
        answered_in_all += rows

        # and the next session carries on
        again = review(db, b" 3q")
        assert again.returncode == 0, again.stderr
        assert b"Answered 1 card (0 Again)" in again.stdout
        assert check_history(db) == rows + 1
    assert answered_in_all > 100, "the kills came too early to test much"


# -- two sessions at once -------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("ratings", [b"3", b"3311"])
def test_two_sessions_at_once_neither_locks_nor_grades_a_showing_twice(
        tmp_path: Path, template: Path, ratings: bytes):
    db = tmp_path / "shared.db"
    shutil.copyfile(template, db)
    keys = []
    for n in (0, 1):
        path = tmp_path / f"keys{n}"
        pattern = ratings[n:] + ratings[:n]
        path.write_bytes(b"".join(b" " + bytes([pattern[i % len(pattern)]])
                                  for i in range(150)))
        keys.append(path)
    procs = []
    for path in keys:
        with open(path, "rb") as stdin:
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "study", "review", "--new", "500"], env=env_for(db),
                stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    outputs = [p.communicate(timeout=60) for p in procs]
    answered = 0
    moved = 0
    for proc, (out, err) in zip(procs, outputs, strict=True):
        text = (out + err).decode()
        assert proc.returncode == 0, text[-2000:]
        assert "locked" not in text and "Traceback" not in text
        m = re.search(rb"^Answered (\d+) cards? \(", out, re.MULTILINE)
        assert m, out[-500:]
        answered += int(m[1])
        moved += text.count(MOVED)
    rows = check_history(db)
    assert rows == answered
    # every key pair either answered a card or met one the other session had moved
    assert answered + moved == 300
    duplicates = query(db, "SELECT card_key, state_before, COUNT(*) FROM reviews "
                           "GROUP BY card_key, state_before HAVING COUNT(*) > 1")
    assert duplicates == []


# -- the same showing in two sessions, step by step --------------------------------

@pytest.fixture
def two_sessions(tmp_path: Path) -> Iterator[tuple[ReviewSession, ReviewSession]]:
    path = tmp_path / "shared.db"
    store_from_toml(path, facts_toml(3)).close()
    stores = [Store.open(path), Store.open(path)]
    settings = Settings.from_config(stores[0].config())
    yield ReviewSession(stores[0], settings, UTC), ReviewSession(
        stores[1], settings, UTC)
    for s in stores:
        s.close()


def reviews_of(session: ReviewSession) -> list[tuple[object, ...]]:
    return session.conn.execute("SELECT card_key, rating FROM reviews ORDER BY id").fetchall()


def test_an_answer_to_a_card_the_other_session_answered_is_refused(two_sessions):
    a, b = two_sessions
    shown_a, shown_b = a.next(T), b.next(T)
    assert shown_a and shown_b and shown_a.key == shown_b.key == "fact:f000:forward"
    a.answer(shown_a, 3, T, 1200)
    with pytest.raises(CardMoved, match="answered or changed in another session"):
        b.answer(shown_b, 1, T, 900)
    assert reviews_of(b) == [("fact:f000:forward", 3)]
    assert (a.tally.answered, b.tally.answered) == (1, 0)
    following = b.next(T)
    assert following and following.key == "fact:f001:forward"
    b.answer(following, 3, T, 800)
    assert reviews_of(a) == [("fact:f000:forward", 3), ("fact:f001:forward", 3)]


def test_an_answer_to_a_card_the_other_session_suspended_is_refused(two_sessions):
    a, b = two_sessions
    shown_a, shown_b = a.next(T), b.next(T)
    assert shown_a and shown_b
    a.suspend(shown_a)
    with pytest.raises(CardMoved):
        b.answer(shown_b, 3, T, 900)
    assert reviews_of(b) == []


def test_an_answer_undone_elsewhere_makes_the_old_showing_stale(two_sessions):
    """Undo restores the state but not the version: the showing from before is stale."""
    a, b = two_sessions
    shown_a = a.next(T)
    assert shown_a
    a.answer(shown_a, 3, T, 1000)
    a.undo()
    shown_b = b.next(T)
    assert shown_b and shown_b.key == shown_a.key
    with pytest.raises(CardMoved):
        a.answer(shown_a, 3, T, 1000)
    b.answer(shown_b, 4, T, 1000)
    assert reviews_of(a) == [("fact:f000:forward", 4)]


class ScriptedKeys:
    """Keys from a list; a callable in the list runs (e.g. the other session acts)."""

    def __init__(self, script: list[str | Callable[[], None]]) -> None:
        self.script = script

    def get(self) -> str:
        while self.script:
            item = self.script.pop(0)
            if callable(item):
                item()
                continue
            return item
        raise EOFError

    def session(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()

    def cooked(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()

    def line(self, prompt: str) -> str:
        raise AssertionError("not in --type mode")


def test_the_session_says_the_card_moved_and_shows_the_next(two_sessions):
    a, b = two_sessions
    out = io.StringIO()

    def other_session_answers() -> None:
        shown = b.next(T)
        assert shown and shown.key == "fact:f000:forward"
        b.answer(shown, 1, T, 500)

    keys = ScriptedKeys([" ", other_session_answers, "3", " ", "3", "q"])
    ui = Frontend(keys, PlainView(out), lambda: T, time.monotonic, lambda s, sh: None,
                  UTC)
    summary = run(a, ui)
    lines = out.getvalue().splitlines()
    assert lines[lines.index(MOVED) + 2] == "Q: Question 1?", lines
    assert summary.answered == 1
    assert reviews_of(a) == [("fact:f000:forward", 1), ("fact:f001:forward", 3)]
    assert "Answered 1 card (0 Again)" in out.getvalue()

