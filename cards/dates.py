"""Partial dates: a year, a year and month, or a full day (Gregorian).

>>> d = PartialDate.parse("1922-04")
>>> d.words()
'April 1922'
>>> span_words(PartialDate.parse("2012-11-15"), None)
'since 15 November 2012'
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import re
from dataclasses import dataclass

from cards.errors import DateError

_PATTERN = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", re.ASCII)  # ASCII digits only
MONTHS = list(calendar.month_name)[1:]
EXPECTED = "expected YYYY, YYYY-MM or YYYY-MM-DD"


@dataclass(frozen=True, order=True)
class PartialDate:
    """A date known to the year, the month or the day."""

    year: int
    month: int | None = None
    day: int | None = None

    @classmethod
    def parse(cls, text: object) -> PartialDate:
        """Parse ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``.

        Args:
            text: the string to parse (a ``datetime.date`` is accepted too).

        Returns:
            The partial date.

        Raises:
            DateError: the text is not a real date in one of those forms.
        """
        if type(text) is str:  # the common case first: a cached parse
            return _parse(text)
        if isinstance(text, dt.date) and not isinstance(text, dt.datetime):
            return cls(text.year, text.month, text.day)
        if not isinstance(text, str):
            raise DateError(f"{text!r} is not a date, {EXPECTED}")
        return _parse(text)

    @classmethod
    def _parse_text(cls, text: str) -> PartialDate:
        match = _PATTERN.fullmatch(text.strip())
        if not match:
            raise DateError(f"{text!r} is not a date, {EXPECTED}")
        year = int(match[1])
        month = int(match[2]) if match[2] else None
        day = int(match[3]) if match[3] else None
        if year < 1:
            raise DateError(f"{text!r}: there is no year 0000")
        if month is not None and not 1 <= month <= 12:
            raise DateError(f"{text!r}: month {month} does not exist, expected 01 to 12")
        if day is not None:
            assert month is not None
            last = calendar.monthrange(year, month)[1]
            if not 1 <= day <= last:
                raise DateError(
                    f"{text!r}: {MONTHS[month - 1]} {year} has no day {day}, expected 01 to {last}"
                )
        return cls(year, month, day)

    @property
    def precision(self) -> str:
        """``year``, ``month`` or ``day``."""
        if self.day is not None:
            return "day"
        return "month" if self.month is not None else "year"

    def iso(self) -> str:
        """The date as written in authoring files."""
        cached = self.__dict__.get("_iso")  # parsed dates are shared: see ``earliest``
        if cached is None:
            if self.month is None:
                cached = f"{self.year:04d}"
            elif self.day is None:
                cached = f"{self.year:04d}-{self.month:02d}"
            else:
                cached = f"{self.year:04d}-{self.month:02d}-{self.day:02d}"
            self.__dict__["_iso"] = cached
        return cached

    def __str__(self) -> str:
        return self.iso()

    def words(self) -> str:
        """The date in words at its own precision: '1922', 'April 1922', '3 April 1922'."""
        if self.month is None:
            return str(self.year)
        if self.day is None:
            return f"{MONTHS[self.month - 1]} {self.year}"
        return f"{self.day} {MONTHS[self.month - 1]} {self.year}"

    def earliest(self) -> dt.date:
        """The first day the date can mean."""
        # parsed dates are shared (``_parse`` caches them): work each bound out once,
        # kept in the instance's dict (not a field: equality and hashing ignore it)
        cached = self.__dict__.get("_earliest")
        if cached is None:
            cached = self.__dict__["_earliest"] = dt.date(self.year, self.month or 1,
                                                          self.day or 1)
        return cached

    def latest(self) -> dt.date:
        """The last day the date can mean."""
        cached = self.__dict__.get("_latest")
        if cached is None:
            if self.month is None:
                cached = dt.date(self.year, 12, 31)
            elif self.day is None:
                cached = dt.date(self.year, self.month,
                                 calendar.monthrange(self.year, self.month)[1])
            else:
                cached = dt.date(self.year, self.month, self.day)
            self.__dict__["_latest"] = cached
        return cached

    def covers(self, other: PartialDate) -> bool:
        """True if ``self`` is ``other`` written at the same or a coarser precision."""
        if self.year != other.year:
            return False
        if self.month is None:
            return True
        if self.month != other.month:
            return False
        return self.day is None or self.day == other.day


@functools.lru_cache(maxsize=65536)
def _parse(text: str) -> PartialDate:
    """Dates repeat a lot in a store: parse each string once (dates are immutable)."""
    return PartialDate._parse_text(text)


def parse_optional(text: object) -> PartialDate | None:
    """Parse a date that may be absent (``None`` or an empty string)."""
    if text is None or text == "":
        return None
    if type(text) is str:
        return _parse(text)
    return PartialDate.parse(text)


def span_words(start: PartialDate | None, end: PartialDate | None) -> str:
    """A range in words: '3 April 1922 – 16 October 1952', 'since 15 November 2012'."""
    if start is None and end is None:
        return "date unknown"
    if start is None:
        assert end is not None
        return f"until {end.words()}"
    if end is None:
        return f"since {start.words()}"
    if start == end:
        return start.words()
    return f"{start.words()} – {end.words()}"


def span_phrase(start: PartialDate | None, end: PartialDate | None) -> str:
    """A range for the middle of a sentence: 'from April 1922 to 1929', 'since 2012'."""
    if start is None and end is None:
        return ""
    if start is None:
        assert end is not None
        return f"until {end.words()}"
    if end is None:
        return f"since {start.words()}"
    if start == end:
        return f"in {start.words()}" if start.day is None else f"on {start.words()}"
    return f"from {start.words()} to {end.words()}"
