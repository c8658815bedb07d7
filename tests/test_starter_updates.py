"""`study init` again: the starter records are updated, the user's own are not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cards import starter
from cards.authoring import load_and_import
from cards.store import Store

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
OWN = """
[[person]]
id = "stalin"
name = "Iosif Dzhugashvili"
tags = ["mine"]

[[fact]]
id = "mine"
question = "Whose record is this?"
answer = "Mine"
"""


def test_a_record_of_mine_under_a_starter_id_is_kept(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.db")  # as after `study init --empty`
    own = tmp_path / "own.toml"
    own.write_text(OWN)
    load_and_import(store, [own], T0)
    report = starter.load_starter(store, T0)
    assert report.kept == [("person", "stalin")]
    assert store.get("person", "stalin")["name"] == "Iosif Dzhugashvili"
    assert store.exists("fact", "mine")
    # the starter's tenures of Stalin now point at the user's record: still consistent
    assert store.exists("tenure", "stalin--cpsu-general-secretary--1922-04-03")
    again = starter.load_starter(store, T0 + timedelta(days=1))
    assert again.kept == [("person", "stalin")] and not again.changed


def test_a_starter_record_is_updated_and_a_dropped_one_removed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store.open(tmp_path / "s.db")
    starter.load_starter(store, T0)
    text = starter.starter_text()
    edited = text.replace('name = "Vladimir Lenin"', 'name = "V. I. Lenin"')
    start = edited.index('[[fact]]\nid = "kulak"')
    edited = edited[:start] + edited[edited.index("[[fact]]", start + 5):]
    assert edited != text and 'id = "kulak"' not in edited
    monkeypatch.setattr(starter, "starter_text", lambda: edited)
    report = starter.load_starter(store, T0 + timedelta(days=1))
    assert report.changed == [("person", "lenin")]
    assert report.removed == [("fact", "kulak")]
    assert not store.exists("fact", "kulak")
    retired = store.card_rows("key = 'fact:kulak:forward'")[0]
    assert retired["retired"] == 1
    assert store.get("person", "lenin")["name"] == "V. I. Lenin"


def test_a_dropped_starter_record_that_i_use_stays(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store.open(tmp_path / "s.db")
    starter.load_starter(store, T0)
    own = tmp_path / "own.toml"
    own.write_text('[[event]]\nid = "my-event"\nname = "Something"\ndate = "1925"\n'
                   'people = ["zinoviev"]\n')
    load_and_import(store, [own], T0)
    text = starter.starter_text()
    start = text.index('[[person]]\nid = "zinoviev"')
    edited = text[:start] + text[text.index("[[person]]", start + 5):]
    edited = edited.replace('"zinoviev", ', "").replace(', "zinoviev"', "")
    monkeypatch.setattr(starter, "starter_text", lambda: edited)
    report = starter.load_starter(store, T0)
    assert ("person", "zinoviev") not in report.removed
    assert store.exists("person", "zinoviev")
