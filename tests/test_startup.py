"""`study due` is called from shell prompts: it must not load the heavy modules."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import facts_toml, store_from_toml

pytestmark = pytest.mark.slow  # every test starts the real command in a subprocess

HEAVY = ("genanki", "rich", "fsrs", "fsrs_rs_python", "exports", "sqlite_utils", "click",
         "anki", "study.scheduler", "study.terminal")


def imported(args: list[str], db: Path) -> set[str]:
    env = {**os.environ, "STUDY_DB": str(db), "STUDY_NOW": "2026-01-05T12:00:00+00:00"}
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "study", *args],
                            env=env, capture_output=True, text=True, check=True)
    names = set()
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    return names


@pytest.mark.parametrize("args", [["due"], ["due", "--json"]])
def test_due_loads_no_heavy_module(tmp_path: Path, args: list[str]) -> None:
    db = tmp_path / "s.db"
    store_from_toml(db, facts_toml(3)).close()
    names = imported(args, db)
    heavy = {n for n in names if n.split(".")[0] in HEAVY or n in HEAVY}
    assert heavy == set()
    assert "study.queue" in names  # the answer did come from the fast path


def test_other_commands_still_go_through_click(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    store_from_toml(db, facts_toml(3)).close()
    assert "click" in imported(["due", "--tag", "demo"], db)


def test_a_bad_study_now_is_a_usage_error_not_a_traceback(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    store_from_toml(db, facts_toml(1)).close()
    env = {**os.environ, "STUDY_DB": str(db), "STUDY_NOW": "yesterday"}
    for args in (["due"], ["review"]):
        result = subprocess.run([sys.executable, "-m", "study", *args], env=env,
                                capture_output=True, text=True, input="q")
        assert result.returncode == 2
        assert result.stderr.startswith("Error: STUDY_NOW='yesterday' is not a time")
        assert "Traceback" not in result.stderr


def test_review_with_standard_input_closed_ends_cleanly(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    store_from_toml(db, facts_toml(1)).close()
    env = {**os.environ, "STUDY_DB": str(db), "STUDY_NOW": "2026-01-05T12:00:00+00:00"}
    for args in (["review"], ["add", "person"]):
        result = subprocess.run([sys.executable, "-m", "study", *args], env=env,
                                capture_output=True, text=True, preexec_fn=lambda: os.close(0))
        assert "Traceback" not in result.stderr, result.stderr
        assert result.returncode in (0, 1)
