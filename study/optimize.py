"""Fitting the 21 FSRS-6 parameters to the learner's own review history.

The fitting is done by ``fsrs-rs-python``, the Rust FSRS that Anki uses (no
torch). It is an optional dependency (``pip install 'secretariat[optimize]'``)
imported only inside the functions here, so the rest of the tool works
without it.

The review history becomes training items as Anki builds them
(``rslib/src/scheduler/fsrs/params.rs``): per card, from its first answer as
a new card; one item per later answer given on a later study day than the
answer before it, holding every answer up to that one as ``(rating,
delta_t)``, where ``delta_t`` is the number of study days since the answer
before (0 for learning steps on the same day). Cards whose history does not
start with an answer to the new card are left out.

Both parameter sets are measured with the library's ``FSRS.evaluate`` on all
the items: log loss (the mean binary cross-entropy of the predicted recall
against whether the answer was not Again) and RMSE (bins), fsrs-rs's root
mean square error between predicted and actual recall over bins of interval,
review count and lapse count, weighted by the answers in each bin.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from itertools import groupby
from typing import Any, NamedTuple

from cards.db import iso
from cards.errors import CardsError

INSTALL = "pip install 'secretariat[optimize]'"
#: Below this many items (after the library's outlier filter) fsrs-rs fits
#: only the four initial stabilities, below 8 nothing (fsrs-rs training.rs,
#: ``compute_parameters``; checked against fsrs-rs-python 0.9.3).
MIN_ITEMS = 64
#: The bounds py-fsrs 6 checks when a Scheduler is made
#: (``fsrs.scheduler.LOWER_BOUNDS_PARAMETERS`` and ``UPPER_BOUNDS_PARAMETERS``).
LOWER_BOUNDS = (0.001, 0.001, 0.001, 0.001, 1.0, 0.001, 0.001, 0.001, 0.0, 0.0, 0.001,
                0.001, 0.001, 0.001, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.1)
UPPER_BOUNDS = (100.0, 100.0, 100.0, 100.0, 10.0, 4.0, 4.0, 0.75, 4.5, 0.8, 3.5,
                5.0, 0.25, 0.9, 4.0, 1.0, 6.0, 2.0, 2.0, 0.8, 0.8)
#: Progress reports: what is being done, and the share of the whole job done (0 to 1).
Progress = Callable[[str, float], None]
_READ_SHARE = 0.6


class OptimizerMissing(CardsError):
    """fsrs-rs-python, which fits the parameters, is not installed."""


class NotEnoughHistory(CardsError):
    """Too few answers to fit the parameters."""

    def __init__(self, usable: int, answers: int, needed: int = MIN_ITEMS) -> None:
        self.usable = usable
        self.needed = needed
        outliers = (f" ({answers} such answers, less those it sets aside as outliers)"
                    if answers != usable else "")
        super().__init__(
            f"not enough review history to fit the parameters: fsrs-rs needs {needed} answers "
            f"given on a later day than the card's answer before (on cards learnt here from "
            f"new) and there are {usable}{outliers}. Answer at least "
            f"{max(1, needed - usable)} more and try again; the current parameters are kept.")


class UnusableFit(CardsError):
    """The fitted parameters are not ones the scheduler accepts."""


class Metrics(NamedTuple):
    """How well a parameter set predicts the answers in the history (lower is better)."""

    log_loss: float
    rmse: float


class Result(NamedTuple):
    """What ``optimize`` found; the caller saves ``parameters`` only if ``better``."""

    parameters: tuple[float, ...]
    current: Metrics
    fitted: Metrics
    items: int
    cards: int

    @property
    def better(self) -> bool:
        """The fitted parameters predict the history better: a lower log loss."""
        return self.fitted.log_loss < self.current.log_loss


def _library() -> Any:
    try:
        import fsrs_rs_python
    except ImportError:
        raise OptimizerMissing(
            f"`study optimize` needs fsrs-rs-python, which is not installed; install it "
            f"with: {INSTALL}") from None
    return fsrs_rs_python


def _study_days(tz: tzinfo, rollover_hour: int) -> Callable[[str], int]:
    """A function from a stored time to the number of its study day."""
    cache: dict[str, int] = {}
    shift = timedelta(hours=rollover_hour)

    def day(stored: str) -> int:
        # offsets and the rollover are whole minutes: one lookup per minute
        minute = stored[:16]
        number = cache.get(minute)
        if number is None:
            local = datetime.fromisoformat(stored).astimezone(tz).replace(tzinfo=None)
            number = cache[minute] = (local - shift).toordinal()
        return number

    return day


def _history(conn: sqlite3.Connection, now: datetime | None, tz: tzinfo, rollover_hour: int,
             progress: Progress | None) -> tuple[list[Any], int]:
    """The training items, oldest last answer first, and the number of cards they come from."""
    lib = _library()
    review_class, item_class = lib.FSRSReview, lib.FSRSItem
    until = iso(now) if now is not None else "9999"
    total = conn.execute("SELECT count(*) FROM reviews WHERE reviewed_at <= ? AND live = 1",
                         [until]).fetchone()[0]
    rows = conn.execute(
        "SELECT card_key, rating, reviewed_at, json_extract(state_before, '$.state') = 'new' "
        "FROM reviews WHERE reviewed_at <= ? AND live = 1 ORDER BY card_key, reviewed_at, "
        "event_id", [until])
    day = _study_days(tz, rollover_hour)
    dated: list[tuple[str, Any]] = []
    cards = done = 0
    next_report = 5000
    for _key, group in groupby(rows, key=lambda r: r[0]):
        answers = list(group)
        done += len(answers)
        if progress is not None and done >= next_report:
            progress("Reading the review history", _READ_SHARE * done / max(1, total))
            next_report = done + 5000
        # start from the last answer to the card as new (a reset starts it again)
        start = next((i for i in range(len(answers) - 1, -1, -1) if answers[i][3]), None)
        if start is None:
            continue  # its early history is missing
        reviews: list[Any] = []
        previous = None
        before = len(dated)
        for _, rating, at, _new in answers[start:]:
            number = day(at)
            delta_t = 0 if previous is None else number - previous
            if delta_t < 0:  # the clock went back: keep the order, not the gap
                delta_t = 0
            previous = number
            reviews.append(review_class(rating, delta_t))
            if delta_t > 0:
                dated.append((at, item_class(reviews)))
        cards += len(dated) > before
    dated.sort(key=lambda pair: pair[0])
    if progress is not None:
        progress("Reading the review history", _READ_SHARE)
    return [item for _, item in dated], cards


def history_items(conn: sqlite3.Connection, now: datetime | None = None, *,
                  tz: tzinfo = UTC, rollover_hour: int = 4,
                  progress: Progress | None = None) -> list[Any]:
    """The review history as fsrs-rs training items, in the order of their last answers.

    Args:
        conn: a connection to the store.
        now: leave out answers given after this time (None: all of them).
        tz: the learner's time zone, for the study day.
        rollover_hour: the local hour at which the study day starts.
        progress: called with what is being done and the share done.

    Returns:
        ``fsrs_rs_python.FSRSItem`` objects, one per answer given on a later
        study day than the answer to its card before it.

    Raises:
        OptimizerMissing: fsrs-rs-python is not installed.
    """
    return _history(conn, now, tz, rollover_hour, progress)[0]


def usable_items(items: Sequence[Any]) -> int:
    """How many of ``items`` fsrs-rs trains on, after its outlier filter (0 if it would not train).

    Raises:
        OptimizerMissing: fsrs-rs-python is not installed.
    """
    lib = _library()
    first = [item for item in items if item.long_term_review_cnt() == 1]
    later = [item for item in items if item.long_term_review_cnt() > 1]
    if not first:
        return 0
    first, later = lib.filter_outlier(first, later)
    # fsrs-rs only pretrains when no item has more than one review on a later day
    return len(first) + len(later) if later else min(len(first), MIN_ITEMS - 1)


def within_bounds(parameters: Sequence[float]) -> tuple[float, ...]:
    """Round to 4 places and clamp into the bounds py-fsrs accepts.

    fsrs-rs clips to nearly the same bounds in 32-bit floats, so a bound
    such as 0.8 can come back as 0.800000012, which py-fsrs refuses.

    Raises:
        UnusableFit: not 21 finite numbers, or py-fsrs's Scheduler still refuses them.
    """
    from math import isfinite

    from fsrs import Scheduler

    if len(parameters) != len(LOWER_BOUNDS) or not all(isfinite(p) for p in parameters):
        raise UnusableFit(f"the fit gave {len(parameters)} parameters, not 21 finite numbers; "
                          f"the current parameters are kept")
    clamped = tuple(min(high, max(low, round(float(p), 4)))
                    for p, low, high in zip(parameters, LOWER_BOUNDS, UPPER_BOUNDS, strict=True))
    try:
        Scheduler(parameters=clamped)
    except ValueError as err:
        raise UnusableFit(f"the scheduler refuses the fitted parameters ({err}); "
                          f"the current parameters are kept") from None
    return clamped


def optimize(conn: sqlite3.Connection, current_parameters: Sequence[float],
             progress: Progress | None = None, *, now: datetime | None = None,
             tz: tzinfo = UTC, rollover_hour: int = 4,
             relearning_steps: int = 1) -> Result:
    """Fit the FSRS-6 parameters to the review history and measure both sets on it.

    Nothing is saved: the caller saves ``Result.parameters`` if ``Result.better``.

    Args:
        conn: a connection to the store.
        current_parameters: the 21 parameters in use.
        progress: called with what is being done and the share done (0 to 1).
        now: leave out answers given after this time.
        tz: the learner's time zone, for the study day.
        rollover_hour: the local hour at which the study day starts.
        relearning_steps: how many relearning steps the scheduler uses (fsrs-rs
            bounds two parameters differently when there are several).

    Returns:
        The fitted parameters (rounded, within py-fsrs's bounds) and the log
        loss and RMSE of the current and the fitted parameters.

    Raises:
        OptimizerMissing: fsrs-rs-python is not installed.
        NotEnoughHistory: fewer usable answers than fsrs-rs needs to fit all 21.
        UnusableFit: the fit is not a set of parameters the scheduler accepts.
    """
    lib = _library()
    items, cards = _history(conn, now, tz, rollover_hour, progress)
    usable = usable_items(items)
    if usable < MIN_ITEMS:
        raise NotEnoughHistory(usable, len(items))

    def report(what: str, share: float) -> None:
        if progress is not None:
            progress(what, share)

    report("Measuring the current parameters", _READ_SHARE)
    current = _measure(lib, current_parameters, items)
    report("Fitting the parameters", _READ_SHARE + 0.05)
    defaults = list(lib.DEFAULT_PARAMETERS)
    try:
        raw = lib.FSRS(defaults).compute_parameters(
            items, num_relearning_steps=max(1, relearning_steps))
    except ValueError as err:
        if "NotEnoughData" in str(err):
            raise NotEnoughHistory(usable, len(items)) from None
        raise
    if list(raw)[4:] == defaults[4:]:  # it only pretrained: its filter set aside more
        raise NotEnoughHistory(usable, len(items))
    fitted_parameters = within_bounds(raw)
    report("Measuring the fitted parameters", 0.95)
    fitted = _measure(lib, fitted_parameters, items)
    report("Done", 1.0)
    return Result(fitted_parameters, current, fitted, len(items), cards)


def _measure(lib: Any, parameters: Sequence[float], items: list[Any]) -> Metrics:
    evaluation = lib.FSRS([float(p) for p in parameters]).evaluate(items)
    return Metrics(float(evaluation.log_loss), float(evaluation.rmse_bins))
