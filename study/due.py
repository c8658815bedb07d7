"""`study due`: today's counts, answered from the store with the standard library.

A shell prompt may call ``study due`` on every command, so ``main`` answers
its plain forms (``study [--db PATH] due [--json]``) before click or anything
heavy is imported; every other command line goes to ``study.cli``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from datetime import UTC, datetime
from typing import Any


def counts_for(conn: sqlite3.Connection, now: datetime, tag: str | None = None,
               kind: str | None = None, tz: Any = None) -> dict[str, Any]:
    """Learning, review and new cards available today after the limits, and the next due."""
    from study.queue import Filters, Queue
    from study.settings import Settings

    config = {k: json.loads(v) for k, v in conn.execute("SELECT key, value FROM config")}
    settings = Settings.from_config(config)
    zone = tz if tz is not None else local_timezone(settings.timezone)
    return Queue(conn, settings, zone, Filters(tag, kind)).counts(now).as_dict()


def render(counts: dict[str, Any], as_json: bool) -> str:
    if as_json:
        return json.dumps(counts)
    return f"learning {counts['learning']}, review {counts['review']}, new {counts['new']}"


def local_timezone(name: str) -> Any:
    """The time zone for the study day: a configured IANA name, else the system's."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    candidates = [name] if name != "local" else []
    if name == "local":
        if os.environ.get("TZ"):
            candidates.append(os.environ["TZ"].lstrip(":"))
        real = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in real:
            candidates.append(real.split("zoneinfo/", 1)[1])
    for candidate in candidates:
        try:
            return ZoneInfo(candidate)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return datetime.now().astimezone().tzinfo


def clock() -> datetime:
    """The current time (UTC). ``STUDY_NOW`` (ISO 8601) fixes it, for tests and demos."""
    fixed = os.environ.get("STUDY_NOW")
    if fixed:
        try:
            value = datetime.fromisoformat(fixed)
        except ValueError:
            sys.stderr.write(f"Error: STUDY_NOW={fixed!r} is not a time; expected ISO 8601, "
                             f"e.g. 2026-11-23T07:30:00+00:00, or leave it unset\n")
            raise SystemExit(2) from None
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        # intervals reach 100 years ahead and statistics a year back: keep clear of the
        # ends of the calendar
        if not 1900 <= value.year <= 9000:
            sys.stderr.write(f"Error: STUDY_NOW={fixed!r} is out of range, expected a time "
                             f"in the years 1900 to 9000, or leave it unset\n")
            raise SystemExit(2)
        return value.astimezone(UTC)  # the scheduler (py-fsrs) takes UTC only
    return datetime.now(UTC)


def _fast(args: list[str]) -> bool:
    """Answer ``[--db PATH] due [--json]`` directly; False to leave it to click."""
    db = None
    if args[:1] == ["--db"] and len(args) > 1:
        db, args = args[1], args[2:]
    elif args[:1] and args[0].startswith("--db="):
        db, args = args[0][5:], args[1:]
    if args not in (["due"], ["due", "--json"]):
        return False
    if db is None:
        db = os.environ.get("STUDY_DB")
    if not db or not os.path.isfile(db):
        return False  # the default path and store creation are click's business
    from cards.db import connect_current

    conn = connect_current(db)
    if conn is None:
        return False
    try:
        counts = counts_for(conn, clock())
    except sqlite3.DatabaseError:
        return False
    finally:
        conn.close()
    sys.stdout.write(render(counts, args == ["due", "--json"]) + "\n")
    return True


def main() -> None:
    """The console script ``study``."""
    for stream in (sys.stdout, sys.stderr):
        # a terminal or pipe that cannot show a character gets an escape, not a traceback
        # (PYTHONIOENCODING=ascii, LANG=C on an old system)
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and stream.errors == "strict":
            reconfigure(errors="backslashreplace")
    if _fast(sys.argv[1:]):
        return
    from study.cli import main as cli_main

    cli_main()
