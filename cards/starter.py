"""The built-in starter deck: the CPSU and CCP leadership, organs and events."""

from __future__ import annotations

from datetime import datetime
from importlib import resources

from cards.authoring import ImportReport, import_records, read_text, validate
from cards.store import Store

NAME = "starter.toml"


def starter_text() -> str:
    """The starter deck's authoring file, as shipped with the package."""
    return resources.files("cards").joinpath("data", NAME).read_text(encoding="utf-8")


def load_starter(store: Store, now: datetime) -> ImportReport:
    """Add or update the starter records; the user's own records are left alone."""
    items, problems = read_text(starter_text(), f"<starter>/{NAME}")
    validate(store, items, problems)
    return import_records(store, items, now)
