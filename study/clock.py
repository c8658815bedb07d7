"""The time and the learner's time zone, read from the environment.

Only the command layer (``study.entry`` and ``study.cli``) calls these;
everything under it takes ``now`` and ``tz`` as arguments. Standard library
only: ``study due`` reads the clock before anything heavy is imported.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, tzinfo


def now() -> datetime:
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


def local_timezone(name: str) -> tzinfo:
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
    return datetime.now().astimezone().tzinfo or UTC
