"""`study due` reads the learner's local zone from the C library instead of zoneinfo
(``study.clock.SystemTime``): every reading, and so every study day, must agree."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from study.clock import SystemTime, quick_timezone
from study.queue import day_start, study_day

pytestmark = pytest.mark.skipif(not hasattr(time, "tzset"), reason="needs time.tzset (Unix)")

#: Daylight saving both ways, half and quarter hours, changes at midnight (a rollover
#: hour of 0 falls in the gap), a 30-minute DST, and a skipped calendar day (Apia 2011).
ZONES = [("Europe/London", 2026), ("America/New_York", 2026), ("Australia/Lord_Howe", 2026),
         ("America/Santiago", 2026), ("America/Havana", 2026), ("Asia/Kolkata", 2026),
         ("America/St_Johns", 2026), ("Asia/Kathmandu", 2026), ("Pacific/Apia", 2011),
         ("Europe/Moscow", 2011), ("UTC", 2026)]


def moments(zone: ZoneInfo, year: int) -> Iterator[datetime]:
    """Every 3 hours of ``year``, and every 10 minutes of the days around each change."""
    start = datetime(year, 1, 1, tzinfo=UTC)
    for day in range(366):
        midnight = start + timedelta(days=day)
        changes = zone.utcoffset(midnight) != zone.utcoffset(midnight + timedelta(days=1))
        step = timedelta(minutes=10) if changes else timedelta(hours=3)
        moment = midnight - timedelta(days=1) if changes else midnight
        while moment < midnight + timedelta(days=2 if changes else 1):
            yield moment
            moment += step


@pytest.fixture
def system_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield
    monkeypatch.undo()
    time.tzset()


def use(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv("TZ", name)
    time.tzset()


@pytest.mark.parametrize(("name", "year"), ZONES)
def test_every_reading_agrees_with_zoneinfo(monkeypatch: pytest.MonkeyPatch, system_zone: None,
                                            name: str, year: int) -> None:
    use(monkeypatch, name)
    ours, theirs = SystemTime(), ZoneInfo(name)
    for moment in moments(theirs, year):  # each moment, and each wall time both ways
        a, b = moment.astimezone(ours), moment.astimezone(theirs)
        assert (a.replace(tzinfo=None), a.fold) == (b.replace(tzinfo=None), b.fold), moment
        assert a.tzname() == b.tzname()
        wall = moment.replace(tzinfo=None)
        for fold in (0, 1):
            assert (wall.replace(tzinfo=ours, fold=fold).utcoffset()
                    == wall.replace(tzinfo=theirs, fold=fold).utcoffset()), (wall, fold)


@pytest.mark.parametrize(("name", "year"), ZONES)
@pytest.mark.parametrize("rollover", [0, 2, 4])
def test_every_study_day_agrees_with_zoneinfo(monkeypatch: pytest.MonkeyPatch,
                                              system_zone: None, name: str, year: int,
                                              rollover: int) -> None:
    use(monkeypatch, name)
    ours, theirs = SystemTime(), ZoneInfo(name)
    day = date(year, 1, 1)
    while day.year == year:
        assert day_start(day, ours, rollover) == day_start(day, theirs, rollover), day
        noon = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=12)
        assert study_day(noon, ours, rollover) == study_day(noon, theirs, rollover)
        day += timedelta(days=1)


def test_the_local_zone_is_the_c_librarys_only_when_it_reads_the_same_file(
        monkeypatch: pytest.MonkeyPatch, system_zone: None) -> None:
    monkeypatch.delenv("TZ", raising=False)
    time.tzset()
    local = quick_timezone("local")
    if "zoneinfo/" in os.path.realpath("/etc/localtime"):
        assert isinstance(local, SystemTime)
    use(monkeypatch, "Asia/Tokyo")
    assert quick_timezone("local") == ZoneInfo("Asia/Tokyo")
    assert quick_timezone("Europe/Paris") == ZoneInfo("Europe/Paris")
