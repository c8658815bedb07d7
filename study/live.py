"""Review sessions that are running, shared by ``study review`` and ``study undo``.

A session writes a row to ``sessions`` when it starts and removes it when it
ends; each answer refreshes its heartbeat. ``study undo`` leaves the answers
of a running session alone (the session's own ``u`` undoes them, and its
summary stays true). A session killed without ending must not block undo
forever: its row counts as running only while its process is alive on this
host, and, on another host or whatever the process table says, for at most
``STALE_AFTER`` since its last heartbeat.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from cards.db import from_iso, iso

STALE_AFTER = timedelta(hours=12)


def begin(conn: sqlite3.Connection, pid: int, host: str, now: datetime) -> str:
    """Record a running session; returns its id."""
    session = uuid.uuid4().hex
    conn.execute("INSERT INTO sessions (id, pid, host, started, heartbeat) "
                 "VALUES (?, ?, ?, ?, ?)", [session, pid, host, iso(now), iso(now)])
    return session


def end(conn: sqlite3.Connection, session: str) -> None:
    """The session is over: its answers may be undone by ``study undo``."""
    conn.execute("DELETE FROM sessions WHERE id = ?", [session])


def running(conn: sqlite3.Connection, now: datetime, host: str,
            alive: Callable[[int], bool]) -> set[str]:
    """Ids of the sessions still running; rows of dead sessions are removed.

    Args:
        host: this machine's name: a session here runs while ``alive(pid)``.
        alive: whether a process id is running on this machine.
    """
    live, dead = set(), []
    oldest = iso(now - STALE_AFTER)
    for session, pid, where, heartbeat in conn.execute(
            "SELECT id, pid, host, heartbeat FROM sessions").fetchall():
        fresh = heartbeat >= oldest and from_iso(heartbeat) <= now + STALE_AFTER
        if fresh and (where != host or alive(pid)):
            live.add(session)
        else:
            dead.append((session,))
    if dead:
        conn.executemany("DELETE FROM sessions WHERE id = ?", dead)
    return live
