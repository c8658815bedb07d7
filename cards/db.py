"""What a fast, read-mostly caller needs without loading sqlite-utils.

``study due`` may run at every shell prompt, so it opens the store with the
standard library alone when the schema is current.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime

TYPE_CHECKING = False  # typing costs `study due` about 3 ms; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

#: The number of migrations in ``cards.schema``; written to PRAGMA user_version.
SCHEMA_VERSION = 8
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


LOCKED = "the store is locked by another program (it held the lock too long)"


def busy(err: sqlite3.Error) -> bool:
    """True if ``err`` says another connection holds the lock (SQLITE_BUSY, SQLITE_LOCKED)."""
    code = getattr(err, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(err)


def store_failure(path: str, err: sqlite3.Error, saved: str | None = None) -> str:
    """What an SQLite error means for the learner, in one line, without wrong advice.

    A lock, a full disk and a folder that cannot be written are not damage:
    the store is fine and must not be "restored from a copy".
    """
    code = (getattr(err, "sqlite_errorcode", None) or 0) & 0xFF
    folder = os.path.dirname(os.path.abspath(path))
    if busy(err):
        return f"{path}: {LOCKED}; nothing was changed. Try again when it is done"
    if code == sqlite3.SQLITE_FULL or "disk is full" in str(err):
        return (f"{path}: disk full: {saved or 'nothing was saved'}; the store is as it was. "
                f"Free some space and try again")
    if code in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM, sqlite3.SQLITE_CANTOPEN) or (
            "readonly" in str(err)):
        return (f"{path}: cannot write in {folder} ({err}); nothing was changed. Check the "
                f"permissions of the store and its folder")
    if code == sqlite3.SQLITE_IOERR:
        return f"{path}: the disk reported an error ({err}); nothing was changed"
    return (f"{path}: the store cannot be read ({err}); nothing was changed. Restore it "
            f"from a copy, or start another with --db")


def rollback(conn: sqlite3.Connection) -> None:
    """Roll back if a transaction is open; a failed rollback never hides the error being handled.

    (SQLite may already have rolled back by itself, after SQLITE_FULL or an I/O error.)
    """
    try:  # (not contextlib.suppress: `study due` imports this module, and not contextlib)
        if conn.in_transaction:
            conn.execute("ROLLBACK")
    except sqlite3.Error:
        pass
