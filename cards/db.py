"""What a fast, read-mostly caller needs without loading sqlite-utils.

``study due`` may run at every shell prompt, so it opens the store with the
standard library alone when the schema is current.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

#: The number of migrations in ``cards.schema``; written to PRAGMA user_version.
SCHEMA_VERSION = 2
BUSY_TIMEOUT_MS = 10_000


def iso(now: datetime) -> str:
    """A time as stored: UTC, ISO 8601, fixed width (so text order is time order)."""
    if now.tzinfo is None:
        raise ValueError("naive datetime: pass an aware UTC time")
    return now.astimezone(UTC).isoformat(timespec="microseconds")


def from_iso(text: str) -> datetime:
    return datetime.fromisoformat(text)


def connect_current(path: str) -> sqlite3.Connection | None:
    """A plain connection to an existing store whose schema is current, else None."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, isolation_level=None,
                               timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.OperationalError:
        return None
    try:
        if conn.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
            conn.close()
            return None
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.DatabaseError:
        conn.close()
        return None
    return conn


def row_dict(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    """A fetched row as a dict keyed by the cursor's column names."""
    return dict(zip([d[0] for d in cursor.description], row, strict=True))
