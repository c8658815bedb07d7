"""What is running on a store: review sessions, and a sync with Anki.

A review session writes a row to ``sessions`` when it starts and removes it
when it ends; each answer refreshes its heartbeat. ``study undo`` leaves the
answers of a running session alone (the session's own ``u`` undoes them, and
its summary stays true). A sync with Anki (``study anki sync``) marks itself
in the same table, under an id that starts with ``sync:``: no review session
starts while a sync is marked, and no sync starts while a review session
runs. Each side checks for the other and writes its own row in one write
transaction, so the two never overlap.

A session or sync killed without ending must not block anything forever: its
row counts as running only while its process is alive on this host, and, on
another host or whatever the process table says, for at most
``STALE_AFTER`` since its last heartbeat.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from cards.db import from_iso, iso
from cards.errors import CardsError
from study.history import write

STALE_AFTER = timedelta(hours=12)
#: How the row of a running sync is told from a review session's.
SYNC = "sync:"

Alive = Callable[[int], bool]


class Busy(CardsError):
    """A review session and a sync with Anki would run at once."""


def _anything(pid: int) -> bool:
    return True


@dataclass(frozen=True)
class Process:
    """The process that runs a session or a sync, as the command layer sees it."""

    pid: int = 0
    host: str = ""
    alive: Alive = _anything


def _live(conn: sqlite3.Connection, now: datetime, host: str, alive: Alive) -> set[str]:
    """Ids of every running row (sessions and syncs); rows of dead ones are removed."""
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


def _insert(conn: sqlite3.Connection, row_id: str, pid: int, host: str, now: datetime) -> None:
    conn.execute("INSERT INTO sessions (id, pid, host, started, heartbeat) "
                 "VALUES (?, ?, ?, ?, ?)", [row_id, pid, host, iso(now), iso(now)])


def begin(conn: sqlite3.Connection, pid: int, host: str, now: datetime,
          alive: Alive = _anything) -> str:
    """Record a running review session; returns its id.

    Args:
        alive: whether a process id runs on this machine (a sync's mark
            counts while its process does); by default every mark counts
            until it is stale.

    Raises:
        Busy: a sync with Anki is running on this store.
    """
    with write(conn):
        if syncing(conn, now, host, alive):
            raise Busy("a sync with Anki is running on this store; wait for it to finish and "
                       "start the review again")
        session = uuid.uuid4().hex
        _insert(conn, session, pid, host, now)
    return session


def begin_sync(conn: sqlite3.Connection, pid: int, host: str, now: datetime,
               alive: Alive) -> str:
    """Mark a sync with Anki as running; returns the mark's id (``end`` removes it).

    Raises:
        Busy: a review session is running on this store.
    """
    with write(conn):
        if running(conn, now, host, alive):
            raise Busy("a review session is running on this store; finish it (q) and run "
                       "the sync again; nothing was changed")
        mark = SYNC + uuid.uuid4().hex
        _insert(conn, mark, pid, host, now)
    return mark


def end(conn: sqlite3.Connection, session: str) -> None:
    """The session (or sync) is over: its answers may be undone by ``study undo``."""
    conn.execute("DELETE FROM sessions WHERE id = ?", [session])


def running(conn: sqlite3.Connection, now: datetime, host: str, alive: Alive) -> set[str]:
    """Ids of the review sessions still running; rows of dead sessions are removed.

    Args:
        host: this machine's name: a session here runs while ``alive(pid)``.
        alive: whether a process id is running on this machine.
    """
    return {i for i in _live(conn, now, host, alive) if not i.startswith(SYNC)}


def syncing(conn: sqlite3.Connection, now: datetime, host: str, alive: Alive) -> set[str]:
    """Ids of the syncs with Anki still running (as ``running``)."""
    return {i for i in _live(conn, now, host, alive) if i.startswith(SYNC)}
