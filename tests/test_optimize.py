"""`study optimize`: fitting the FSRS parameters to a simulated learner's history."""

from __future__ import annotations

import json
import random
import re
import sqlite3
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from fsrs import Scheduler

from cards.db import from_iso, iso
from cards.store import Store
from study.optimize import (
    LOWER_BOUNDS,
    UPPER_BOUNDS,
    NotEnoughHistory,
    UnusableFit,
    history_items,
    optimize,
    within_bounds,
)
from study.queue import study_day
from study.session import ReviewSession
from study.settings import DEFAULT_PARAMETERS, Settings
from tests.helpers import facts_toml, store_from_toml

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
NOW = START + timedelta(days=70)


def simulate(path: Path, cards: int, days: int, seed: int = 5) -> int:
    """A learner who studies every morning for ``days`` days; returns the answers given.

    Each card has a hidden stability (days); a review after ``t`` days is
    recalled with probability 0.9 ** (t / stability), which then triples, or
    falls after a lapse. Learning steps are Again 15% of the time.
    """
    store = store_from_toml(path, facts_toml(cards), START)
    store.set_config("timezone", "UTC")
    settings = Settings(fuzz=False, new_per_day=10, reviews_per_day=500, bury_siblings=False,
                        timezone="UTC")
    rng = random.Random(seed)
    memory: dict[str, float] = {}
    answered = 0
    for number in range(days):
        now = START + timedelta(days=number)
        day = study_day(now, UTC, settings.rollover_hour)
        session = ReviewSession(store, settings, UTC)
        while now < day.end:
            shown = session.next(now)
            if shown is None:  # wait for the next learning step today
                pending = store.db.execute(
                    "SELECT MIN(due) FROM cards WHERE state IN ('learning', 'relearning') "
                    "AND due < ?", [iso(day.end)]).fetchone()[0]
                if pending is None:
                    break
                now = max(now, from_iso(pending))
                continue
            card, key = shown.card, shown.key
            if card["state"] == "review":
                elapsed = (now - from_iso(card["last_review"])).total_seconds() / 86400
                if rng.random() < 0.9 ** (elapsed / memory[key]):
                    rating = rng.choice((3, 3, 3, 2, 4))
                    memory[key] *= 3.0
                else:
                    rating = 1
                    memory[key] = max(0.5, memory[key] * 0.4)
            else:
                rating = 1 if rng.random() < 0.15 else 3
                memory.setdefault(key, rng.uniform(1.5, 4.0))
            session.answer(shown, rating, now, 3000)
            answered += 1
            now += timedelta(seconds=15)
    store.close()
    return answered


@pytest.fixture(scope="module")
def long_history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("long") / "study.db"
    assert simulate(path, cards=120, days=60) > 1000
    return path


@pytest.fixture(scope="module")
def short_history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("short") / "study.db"
    simulate(path, cards=20, days=6)
    return path


def copy_to(source: Path, target: Path) -> Path:
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()
    return target


def study(*args: str) -> Result:
    from study.cli import cli

    return CliRunner().invoke(cli, list(args), env={"STUDY_NOW": NOW.isoformat()},
                              prog_name="study")


def stored_parameters(path: Path) -> Any:
    conn = sqlite3.connect(path)
    try:
        row = conn.execute("SELECT value FROM config WHERE key = 'parameters'").fetchone()
    finally:
        conn.close()
    return None if row is None else json.loads(row[0])


def expected_output(result: Any, last_line: str) -> str:
    return (f"Fitted to {result.items:,} answers on {result.cards:,} cards:\n"
            f"  parameters    log loss  RMSE (bins)\n"
            f"  current     {result.current.log_loss:>10.4f}{result.current.rmse:>13.4f}\n"
            f"  fitted      {result.fitted.log_loss:>10.4f}{result.fitted.rmse:>13.4f}\n"
            f"{last_line}\n")


def fit(path: Path, parameters: Any = DEFAULT_PARAMETERS) -> Any:
    store = Store.open(path)
    try:
        return optimize(store.db.conn, parameters, now=NOW, tz=UTC, rollover_hour=4)
    finally:
        store.close()


# -- the history as training items ---------------------------------------------

def _reviews(item: Any) -> list[tuple[int, int]]:
    return [(int(r), int(d)) for r, d in re.findall(r"rating: (\d+), delta_t: (\d+)", repr(item))]


def test_history_items_count_study_days_and_skip_cards_without_their_start(
        tmp_path: Path) -> None:
    store = store_from_toml(tmp_path / "s.db", facts_toml(3), START)
    a, b, c = [k for (k,) in store.db.execute("SELECT key FROM cards ORDER BY position")]

    def at(days: float, hour: float) -> str:
        return iso(START.replace(hour=0) + timedelta(days=days, hours=hour))

    rows = [  # (card, rating, time, state before)
        (a, 3, at(0, 8), "new"), (a, 3, at(0, 8.1), "learning"),  # learning steps: delta_t 0
        (a, 3, at(2, 9), "review"), (a, 1, at(5, 7), "review"),
        (a, 3, at(5, 7.2), "relearning"), (a, 3, at(6, 3.5), "review"),  # 03:30: still day 5
        (a, 4, at(6, 5), "review"),
        (b, 3, at(1, 8), "review"), (b, 3, at(3, 8), "review"),  # started before the history
        (c, 2, at(0, 23), "new"), (c, 3, at(1, 3), "learning"), (c, 3, at(1, 5), "review"),
        (c, 3, at(80, 5), "review"),  # after now
    ]
    store.db.conn.executemany(
        "INSERT INTO reviews (card_key, rating, reviewed_at, duration_ms, state_before, "
        "state_after, interval_days) VALUES (?, ?, ?, 1000, ?, '{}', 1)",
        [(k, r, t, json.dumps({"state": s})) for k, r, t, s in rows])

    items = history_items(store.db.conn, NOW, tz=UTC, rollover_hour=4)

    # ordered by the time of their last answer; card b is left out
    assert [_reviews(i) for i in items] == [
        [(2, 0), (3, 0), (3, 1)],
        [(3, 0), (3, 0), (3, 2)],
        [(3, 0), (3, 0), (3, 2), (1, 3)],
        [(3, 0), (3, 0), (3, 2), (1, 3), (3, 0), (3, 0), (4, 1)],
    ]
    # six hours behind UTC, card c is answered on one study day and a's days shift
    behind = timezone(timedelta(hours=-6))
    assert [_reviews(i) for i in history_items(store.db.conn, NOW, tz=behind)] == [
        [(3, 0), (3, 0), (3, 2)],
        [(3, 0), (3, 0), (3, 2), (1, 3)],
        [(3, 0), (3, 0), (3, 2), (1, 3), (3, 0), (3, 1)],
    ]
    store.close()


# -- the command ---------------------------------------------------------------

def test_too_little_history_says_how_many_more_and_keeps_the_parameters(
        isolated: Path, short_history: Path) -> None:
    db = copy_to(short_history, isolated / "study.db")
    with pytest.raises(NotEnoughHistory) as caught:
        fit(db)
    more = caught.value.needed - caught.value.usable

    result = study("optimize")

    assert result.exit_code == 1
    assert result.output.startswith("Error: not enough review history to fit the parameters: "
                                    "fsrs-rs needs 64 answers given on a later day")
    assert f"Answer at least {more} more and try again; the current parameters are kept.\n" \
        in result.output
    assert "Traceback" not in result.output
    assert stored_parameters(db) is None


def test_better_parameters_are_saved(isolated: Path, long_history: Path) -> None:
    db = copy_to(long_history, isolated / "study.db")
    expected = fit(db)
    assert expected.better

    result = study("optimize")

    assert result.exit_code == 0, result.output
    assert result.output == expected_output(
        expected, "The fitted parameters are better; saved them (see `study config`).")
    saved = stored_parameters(db)
    assert saved == list(expected.parameters)
    assert len(saved) == 21 and all(isinstance(p, float) for p in saved)
    Scheduler(parameters=saved)  # py-fsrs accepts them
    assert expected.fitted.log_loss < expected.current.log_loss


def test_dry_run_saves_nothing(isolated: Path, long_history: Path) -> None:
    db = copy_to(long_history, isolated / "study.db")
    expected = fit(db)

    result = study("optimize", "--dry-run")

    assert result.exit_code == 0, result.output
    assert result.output == expected_output(
        expected, "The fitted parameters are better; dry run, nothing saved.")
    assert stored_parameters(db) is None


def test_parameters_that_are_no_better_are_not_saved(isolated: Path, long_history: Path) -> None:
    db = copy_to(long_history, isolated / "study.db")
    assert study("optimize").exit_code == 0
    saved = stored_parameters(db)

    # fitting again gives the same parameters: the same log loss, not a lower one
    again = fit(db, saved)
    assert not again.better
    result = study("optimize")

    assert result.exit_code == 0, result.output
    assert result.output == expected_output(
        again, "The fitted parameters are not better (no lower log loss); kept the current ones.")
    assert stored_parameters(db) == saved


def test_without_the_library_the_command_says_how_to_install_it(
        isolated: Path, long_history: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = copy_to(long_history, isolated / "study.db")
    monkeypatch.setitem(sys.modules, "fsrs_rs_python", None)  # import fails

    result = study("optimize")

    assert result.exit_code == 1
    assert result.output == ("Error: `study optimize` needs fsrs-rs-python, which is not "
                             "installed; install it with: pip install 'secretariat[optimize]'\n")
    assert stored_parameters(db) is None


def test_progress_is_reported_up_to_the_end(long_history: Path, tmp_path: Path) -> None:
    db = copy_to(long_history, tmp_path / "s.db")
    seen: list[tuple[str, float]] = []
    store = Store.open(db)
    optimize(store.db.conn, DEFAULT_PARAMETERS, lambda what, share: seen.append((what, share)),
             now=NOW, tz=UTC)
    store.close()
    shares = [share for _, share in seen]
    assert shares == sorted(shares) and shares[-1] == 1.0
    assert {what for what, _ in seen} >= {"Reading the review history", "Fitting the parameters"}


def test_help_has_an_example() -> None:
    result = study("optimize", "--help")
    assert result.exit_code == 0
    assert "  Example:\n    study optimize --dry-run\n    study optimize\n" in result.output


# -- the bounds py-fsrs checks -------------------------------------------------

def test_fitted_parameters_are_brought_within_the_scheduler_bounds() -> None:
    # fsrs-rs clips in 32-bit floats: its 0.8 is 0.800000011920929, which py-fsrs refuses
    raw = [*DEFAULT_PARAMETERS[:19], 0.800000011920929, 0.10000000149011612]
    with pytest.raises(ValueError):
        Scheduler(parameters=raw)
    fitted = within_bounds(raw)
    assert fitted[19] == 0.8 and fitted[20] == 0.1
    Scheduler(parameters=fitted)
    assert within_bounds([-5.0] * 21) == LOWER_BOUNDS
    assert within_bounds([500.0] * 21) == UPPER_BOUNDS
    with pytest.raises(UnusableFit):
        within_bounds(DEFAULT_PARAMETERS[:19])
    with pytest.raises(UnusableFit):
        within_bounds([float("nan")] * 21)
