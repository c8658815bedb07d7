"""`study due`: today's counts, from the store, with the standard library alone.

A shell prompt may call ``study due`` on every command, so this module and
what it imports load neither click nor json, typing, rich or sqlite-utils:
``study.entry`` answers the plain forms with it before click is imported,
and the ``due`` command of ``study.cli`` answers the rest with it too.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, tzinfo

from study.queue import Filters, Queue
from study.settings import Settings

TYPE_CHECKING = False  # typing costs `study due` about 3 ms; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

#: The settings that today's counts depend on (all JSON scalars).
DAY_SETTINGS = ("rollover_hour", "timezone", "new_per_day", "reviews_per_day")


def day_settings(conn: sqlite3.Connection) -> Settings:
    """The settings today's counts need, read from the store (the rest keep their defaults).

    SQLite decodes the stored JSON scalars, so the json module is not loaded.
    """
    keys = ", ".join("?" * len(DAY_SETTINGS))
    stored = dict(conn.execute(f"SELECT key, json_extract(value, '$') FROM config "
                               f"WHERE key IN ({keys})", DAY_SETTINGS).fetchall())
    return Settings(**stored)


def counts_for(conn: sqlite3.Connection, now: datetime, tz: tzinfo, settings: Settings,
               filters: Filters | None = None) -> dict[str, Any]:
    """Learning, review and new cards available today after the limits, and the next due."""
    return Queue(conn, settings, tz, filters).counts(now).as_dict()


def render(counts: dict[str, Any], as_json: bool) -> str:
    """The line ``study due`` prints: plain, or JSON as ``json.dumps`` writes it."""
    if as_json:
        return (f'{{"learning": {counts["learning"]}, "review": {counts["review"]}, '
                f'"new": {counts["new"]}, "next_due": {_json_string(counts["next_due"])}}}')
    return f"learning {counts['learning']}, review {counts['review']}, new {counts['new']}"


def _json_string(value: str | None) -> str:
    if value is None:
        return "null"
    if value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
        return f'"{value}"'
    import json

    return json.dumps(value)
