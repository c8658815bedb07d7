"""Scheduler and session settings: defaults, parsing and validation.

Settings live in the store's ``config`` table; ``study config`` shows them
and ``study config set KEY VALUE`` changes one.
"""

from __future__ import annotations

from datetime import timedelta

from cards.errors import CardsError

TYPE_CHECKING = False  # `study due` imports this: typing would cost it about 3 ms
if TYPE_CHECKING:
    from typing import Any, NamedTuple
else:
    from cards.tuples import NamedTuple

#: py-fsrs 6 default parameters (FSRS-6, 21 weights), copied so that reading
#: settings does not import fsrs.
DEFAULT_PARAMETERS = (
    0.212, 1.2931, 2.3065, 8.2956, 6.4133, 0.8334, 3.0194, 0.001, 1.8722, 0.1666, 0.796,
    1.4835, 0.0614, 0.2629, 1.6483, 0.6014, 1.8729, 0.5425, 0.0912, 0.0658, 0.1542,
)

#: (re is imported where steps are read: `study due` imports this module, and re
#: costs it about 3 ms)
_STEP = r"(\d+(?:\.\d+)?)([smhd])"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
#: What versions before 2026-11 wrote for long steps ("1mo", "1.5y"): read, never written.
_LEGACY_STEP = r"(\d+(?:\.\d+)?)(mo|y)"
_LEGACY_UNITS = {"mo": 30 * 86400, "y": 365 * 86400}
#: A step lasts at least a second and at most the longest interval.
_SHORTEST, _LONGEST = 1, 36500 * 86400


class BadSetting(CardsError, ValueError):
    """A setting's name or value is not valid."""


def parse_steps(text: str, *, stored: bool = False) -> tuple[timedelta, ...]:
    """Parse learning steps such as ``1m 10m 1h``.

    Args:
        stored: also read the ``mo`` and ``y`` steps that older versions stored.

    Raises:
        BadSetting: a step is not a number followed by s, m, h or d, or is
            shorter than a second or longer than 36500 days.
    """
    import re

    steps = []
    for part in text.replace(",", " ").split():
        m = re.fullmatch(_STEP, part) or (re.fullmatch(_LEGACY_STEP, part) if stored else None)
        if not m:
            raise BadSetting(f"{part!r} is not a step, expected steps such as '1m 10m 1h' "
                             f"(a number and s, m, h or d)")
        seconds = float(m[1]) * {**_UNITS, **_LEGACY_UNITS}[m[2]]
        if not seconds <= _LONGEST or round(seconds) < _SHORTEST:
            raise BadSetting(f"{part!r} is out of range, expected steps from 1s to 36500d")
        steps.append(timedelta(seconds=round(seconds)))
    return tuple(steps)


def format_steps(steps: tuple[timedelta, ...]) -> str:
    """Steps as ``parse_steps`` reads them back exactly: each in the largest whole unit."""
    out = []
    for step in steps:
        seconds = round(step.total_seconds())
        for unit in "dhm":
            if seconds % _UNITS[unit] == 0:
                out.append(f"{seconds // _UNITS[unit]}{unit}")
                break
        else:
            out.append(f"{seconds}s")
    return " ".join(out)


def format_interval(delta: timedelta) -> str:
    """A short interval: 45s, 10m, 3h, 4d, 2.5mo, 1.2y."""
    seconds = delta.total_seconds()
    if seconds < 60:
        return f"{max(0, round(seconds))}s"
    if seconds < 3600:
        return f"{round(seconds / 60)}m"
    if seconds < 86400:
        return f"{round(seconds / 3600)}h"
    days = seconds / 86400
    if days < 30:
        return f"{round(days)}d"
    if days < 365:
        return f"{days / 30:.1f}mo".replace(".0mo", "mo")
    return f"{days / 365:.1f}y".replace(".0y", "y")


class Settings(NamedTuple):
    """Everything the scheduler and the daily queue need to know."""

    desired_retention: float = 0.90
    learning_steps: tuple[timedelta, ...] = (timedelta(minutes=1), timedelta(minutes=10))
    relearning_steps: tuple[timedelta, ...] = (timedelta(minutes=10),)
    maximum_interval: int = 36500
    fuzz: bool = True
    parameters: tuple[float, ...] = DEFAULT_PARAMETERS
    rollover_hour: int = 4
    timezone: str = "local"
    new_per_day: int = 20
    reviews_per_day: int = 200
    bury_siblings: bool = True
    leech_threshold: int = 8
    learn_ahead_minutes: int = 20

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Settings:
        """Settings from the stored config (unknown keys are ignored)."""
        return cls(**{name: _from_json(name, config[name])
                      for name in cls._fields if name in config})

    def to_config(self) -> dict[str, Any]:
        out = self._asdict()
        out["learning_steps"] = format_steps(self.learning_steps)
        out["relearning_steps"] = format_steps(self.relearning_steps)
        out["parameters"] = list(self.parameters)
        return out


def _from_json(name: str, value: Any) -> Any:
    if name.endswith("_steps"):
        try:
            return parse_steps(value, stored=True)
        except BadSetting as err:
            raise BadSetting(f"the stored setting {name} = {value!r} is not valid ({err}); "
                             f"set it again with `study config set {name} ...`") from None
    if name == "parameters":
        return tuple(float(v) for v in value)
    return value


DESCRIPTIONS = {
    "desired_retention": "share of reviews you aim to remember, 0.70 to 0.99",
    "learning_steps": "steps for new cards, e.g. '1m 10m'",
    "relearning_steps": "steps after a lapse, e.g. '10m'",
    "maximum_interval": "longest interval in days, 1 to 36500",
    "fuzz": "spread intervals a little so cards do not bunch up (true/false)",
    "parameters": "the 21 FSRS-6 weights (set by `study optimize`)",
    "rollover_hour": "local hour at which the study day starts, 0 to 23",
    "timezone": "IANA time zone for the study day, or 'local'",
    "new_per_day": "new cards per study day, 0 to 9999",
    "reviews_per_day": "reviews per study day, 0 to 99999",
    "bury_siblings": "hold a card's siblings until the next day (true/false)",
    "leech_threshold": "lapses that make a card a leech (suspended), 1 to 99",
    "learn_ahead_minutes": "show learning cards this early when nothing else is due",
}


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "yes", "on", "1"):
        return True
    if lowered in ("false", "no", "off", "0"):
        return False
    raise BadSetting(f"{text!r} is not true or false")


def _int(text: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise BadSetting(f"{text!r} is not a whole number, expected {low} to {high}") from None
    if not low <= value <= high:
        raise BadSetting(f"{value} is out of range, expected {low} to {high}")
    return value


def known_setting(key: str) -> str:
    """``key`` if it names a setting.

    Raises:
        BadSetting: it does not, with the names that do.
    """
    if key not in DESCRIPTIONS:
        raise BadSetting(f"unknown setting {key!r}, expected one of: {', '.join(DESCRIPTIONS)}")
    return key


def parse_setting(key: str, text: str) -> Any:
    """Parse and validate ``study config set KEY VALUE``; returns the JSON value to store.

    Raises:
        BadSetting: an unknown key or a value out of range, with what is expected.
    """
    known_setting(key)
    if key == "desired_retention":
        try:
            value = float(text)
        except ValueError:
            raise BadSetting(f"{text!r} is not a number, expected 0.70 to 0.99") from None
        if not 0.70 <= value <= 0.99:
            raise BadSetting(f"{value} is out of range, expected 0.70 to 0.99")
        return value
    if key in ("learning_steps", "relearning_steps"):
        steps = parse_steps(text)
        if key == "relearning_steps" and not steps:
            return ""
        if not steps and key == "learning_steps":
            raise BadSetting("expected at least one step, e.g. '1m 10m'")
        return format_steps(steps)
    if key in ("fuzz", "bury_siblings"):
        return _bool(text)
    if key == "parameters":
        parts = text.replace(",", " ").split()
        try:
            weights = [float(p) for p in parts]
        except ValueError:
            raise BadSetting("expected 21 numbers separated by spaces or commas") from None
        if len(weights) != 21:
            raise BadSetting(f"got {len(weights)} numbers, expected the 21 FSRS-6 weights")
        from fsrs import Scheduler

        try:
            Scheduler(parameters=weights)  # checks each weight against FSRS-6's bounds
        except ValueError as err:
            raise BadSetting(f"the weights are not usable by FSRS-6: {err}") from None
        return weights
    if key == "timezone":
        if text != "local":
            from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

            try:
                ZoneInfo(text)
            except (ZoneInfoNotFoundError, ValueError):
                raise BadSetting(f"unknown time zone {text!r}, expected an IANA name such as "
                                 f"'Europe/London', or 'local'") from None
        return text
    ranges = {"maximum_interval": (1, 36500), "rollover_hour": (0, 23),
              "new_per_day": (0, 9999), "reviews_per_day": (0, 99999),
              "leech_threshold": (1, 99), "learn_ahead_minutes": (0, 1440)}
    return _int(text, *ranges[key])
