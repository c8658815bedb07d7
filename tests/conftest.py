"""Every test gets its own store and data directory under tmp_path."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import DECK, store_from_toml


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the store, HOME and the data directory at tmp_path; never the user's files."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("STUDY_DB", str(tmp_path / "study.db"))
    monkeypatch.delenv("STUDY_NOW", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    monkeypatch.delenv("VISUAL", raising=False)
    return tmp_path


@pytest.fixture(scope="session")
def deck_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shared deck imported once (at helpers.T0), closed, for ``deck`` to copy."""
    path = tmp_path_factory.mktemp("deck") / "deck.db"
    store_from_toml(path, DECK).close()
    return path


@pytest.fixture
def deck(isolated: Path, deck_template: Path) -> Path:
    """A fresh store at $STUDY_DB holding the shared test deck (tests/fixtures/deck.toml)."""
    path = isolated / "study.db"
    shutil.copyfile(deck_template, path)
    return path
