"""The time and the learner's time zone, read from the environment.

Only the command layer (``study.entry`` and ``study.cli``) calls these;
everything under it takes ``now`` and ``tz`` as arguments. Standard library
only: ``study due`` reads the clock before anything heavy is imported.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime, timedelta, tzinfo


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


def quick_timezone(name: str) -> tzinfo:
    """``local_timezone(name)``, without importing zoneinfo where that is sure to agree.

    ``study due`` may run at every shell prompt, and zoneinfo costs it about
    3 ms (a quarter of a bare interpreter's start). For the learner's own zone
    (``local``, ``TZ`` unset, ``/etc/localtime`` a zone of the system's
    database) the C library reads the same file that zoneinfo would: ask it.
    """
    if name == "local" and os.name == "posix" and not os.environ.get("TZ") and (
            "zoneinfo/" in os.path.realpath("/etc/localtime")):
        return SystemTime()
    return local_timezone(name)


_EPOCH = datetime(1970, 1, 1)
_DAY = 86400


def _seconds(wall: datetime) -> int:
    """Whole seconds from the epoch to ``wall`` read as UTC (its zone ignored)."""
    return (wall.replace(tzinfo=None) - _EPOCH) // timedelta(seconds=1)


def _offset(seconds: int) -> int:
    """The local clock's offset from UTC, in seconds, at ``seconds`` after the epoch."""
    return time.localtime(seconds).tm_gmtoff


class SystemTime(tzinfo):
    """The system's local time, as the C library reads it (``time.localtime``).

    Daylight saving and every other change of the zone's offset are the C
    library's; each time is read as PEP 495 says (as ``zoneinfo`` does): a
    wall time that the clocks show twice is the first reading with ``fold=0``
    and the second with ``fold=1``; one they skip takes the offset from before
    the change with ``fold=0`` and after it with ``fold=1``. A zone changes its
    offset at most once in two days.
    """

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        if dt is None:
            return None
        wall = _seconds(dt)
        before, after = _offset(wall - _DAY), _offset(wall + _DAY)
        readings = [o for o in dict.fromkeys((before, after)) if _offset(wall - o) == o]
        if len(readings) == 1:
            return timedelta(seconds=readings[0])
        return timedelta(seconds=after if dt.fold else before)  # read twice, or skipped

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        if dt is None:
            return None
        offset = self.utcoffset(dt) or timedelta()
        return time.localtime(_seconds(dt - offset)).tm_zone

    def fromutc(self, dt: datetime) -> datetime:
        moment = _seconds(dt)
        offset = _offset(moment)
        local = dt + timedelta(seconds=offset)
        earlier = _offset(moment - _DAY)
        # the clocks went back: this wall time was read first at an earlier moment
        if earlier > offset and _offset(moment + offset - earlier) == earlier:
            return local.replace(fold=1)
        return local
