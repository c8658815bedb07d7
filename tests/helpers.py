"""Shared helpers for tests: small stores built from TOML text."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from cards.authoring import import_records, read_text, validate
from cards.store import Store

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc)


def store_from_toml(path: Path, text: str, now: datetime = T0) -> Store:
    """A fresh store at ``path`` holding the records in ``text``."""
    store = Store.open(path)
    items, problems = read_text(text, "fixture.toml")
    validate(store, items, problems)
    import_records(store, items, now)
    return store


def facts_toml(n: int, tag: str = "demo") -> str:
    """``n`` simple facts, f000 ... in order."""
    return "".join(
        f'[[fact]]\nid = "f{i:03d}"\nquestion = "Question {i}?"\nanswer = "Answer {i}"\n'
        f'tags = ["{tag}"]\n\n' for i in range(n))
