"""Shared helpers for tests: small stores built from TOML text."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from cards.authoring import import_records, read_text, validate
from cards.records import KINDS
from cards.registry import Records
from cards.store import Store

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)

#: The shared test deck (tests/fixtures/deck.toml); the ``deck`` fixture puts it in a store.
DECK = (Path(__file__).parent / "fixtures" / "deck.toml").read_text(encoding="utf-8")


def store_from_toml(path: Path, text: str, now: datetime = T0) -> Store:
    """A fresh store at ``path`` holding the records in ``text``."""
    store = Store.open(path)
    items, problems = read_text(text, "fixture.toml")
    validate(store, items, problems)
    import_records(store, items, now)
    return store


def records_of(text: str) -> Records:
    """The records of an authoring text (with no problem), by kind and id."""
    items, problems = read_text(text, "deck.toml")
    assert problems == []
    out: Records = {kind: {} for kind in KINDS}
    for loc in items:
        out[loc.kind][loc.record["id"]] = loc.record
    return out


def facts_toml(n: int, tag: str = "demo") -> str:
    """``n`` simple facts, f000 ... in order."""
    return "".join(
        f'[[fact]]\nid = "f{i:03d}"\nquestion = "Question {i}?"\nanswer = "Answer {i}"\n'
        f'tags = ["{tag}"]\n\n' for i in range(n))


# -- the command line --------------------------------------------------------

NOW_ENV = {"STUDY_NOW": "2026-01-05T12:00:00+00:00"}


def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
    """Run ``study ARGS`` in-process with a fixed clock; no traceback may escape.

    The store is the one the autouse fixture points ``STUDY_DB`` at, unless
    ``--db`` is given.
    """
    from study.cli import cli

    result = CliRunner().invoke(cli, list(args), input=input, env={**NOW_ENV, **(env or {})},
                                prog_name="study")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"study {' '.join(args)} raised "
                             f"{type(result.exception).__name__}") from result.exception
    assert "Traceback" not in result.output
    return result


def snapshot(path: str | Path) -> list[str]:
    """Everything in an SQLite store, as SQL text, to tell whether anything was written."""
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def json_of(*args: str) -> Any:
    """The JSON printed by ``study ARGS`` (which must succeed)."""
    result = run(*args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)
