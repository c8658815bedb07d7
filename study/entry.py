"""The console script ``study``.

A shell prompt may call ``study due`` on every command, so ``main`` answers
its plain forms (``study [--db PATH] due [--json]``) on an existing, current
store with the standard library alone, before click or anything heavy is
imported; every other command line goes to ``study.cli``.
"""

from __future__ import annotations

import os
import sys


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
    import sqlite3

    from cards.db import connect_current
    from study.clock import now, quick_timezone

    conn = connect_current(db)
    if conn is None:
        return False
    try:
        from study.due import counts_for, day_settings, render

        settings = day_settings(conn)
        if not isinstance(settings.timezone, str) or not all(
                type(getattr(settings, k)) is int
                for k in ("rollover_hour", "new_per_day", "reviews_per_day")):
            return False  # a value that is not what `config set` writes: click explains
        counts = counts_for(conn, now(), quick_timezone(settings.timezone), settings)
    except sqlite3.DatabaseError:
        return False
    finally:
        conn.close()
    sys.stdout.write(render(counts, args == ["due", "--json"]) + "\n")
    return True


def main() -> None:
    """Run ``study`` with the command line in ``sys.argv``."""
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
