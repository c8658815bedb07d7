"""What a fast, read-mostly caller needs without loading sqlite-utils.

``study due`` may run at every shell prompt, so it opens the store with the
standard library alone when the schema is current.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

TYPE_CHECKING = False  # typing costs `study due` about 3 ms; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

#: The number of migrations in ``cards.schema``; written to PRAGMA user_version.
SCHEMA_VERSION = 3
BUSY_TIMEOUT_MS = 10_000


def iso(now: datetime) -> str:
    """A time as stored: UTC, ISO 8601, fixed width (so text order is time order)."""
    if now.tzinfo is None:
        raise ValueError("naive datetime: pass an aware UTC time")
    return now.astimezone(UTC).isoformat(timespec="microseconds")


def from_iso(text: str) -> datetime:
    return datetime.fromisoformat(text)


def uri(path: str, mode: str) -> str:
    """An SQLite URI naming the file at ``path`` exactly, with ``?mode=MODE``.

    In a URI, ``?`` starts the parameters, ``#`` a fragment and ``%`` an
    escape, so each is escaped (a store named ``a#b.db`` is not ``a``); an
    absolute path gets an empty authority, so one starting ``//`` is no host.
    """
    quoted = path.replace("%", "%25").replace("?", "%3F").replace("#", "%23")
    return f"file:{'//' if quoted.startswith('/') else ''}{quoted}?mode={mode}"


def connect_current(path: str) -> sqlite3.Connection | None:
    """A plain connection to an existing store whose schema is current, else None."""
    try:
        conn = sqlite3.connect(uri(path, "rw"), uri=True, isolation_level=None,
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
