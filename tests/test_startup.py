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
         "anki", "study.scheduler", "study.terminal", "study.cli",
         # each of these costs a few milliseconds of a start that a shell prompt waits for
         "json", "typing", "dataclasses")


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


@pytest.mark.parametrize("name", ["a#b.db", "a?b.db", "a%23b.db", "a?mode=ro.db"])
def test_fast_path_reads_the_named_store_whatever_its_name(tmp_path: Path, name: str) -> None:
    """A store whose name holds '#', '?' or '%' is that file, not a shorter one (issue 8 #9)."""
    folder = tmp_path / "stores"
    folder.mkdir()
    store_from_toml(folder / name, facts_toml(3)).close()
    store_from_toml(folder / "a", facts_toml(7)).close()  # what an unescaped URI would read
    before = sorted(p.name for p in folder.iterdir())
    env = {**os.environ, "STUDY_NOW": "2026-01-05T12:00:00+00:00"}
    env.pop("STUDY_DB", None)
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "study",
                             "--db", str(folder / name), "due", "--json"],
                            env=env, capture_output=True, text=True, check=True)
    assert result.stdout == '{"learning": 0, "review": 0, "new": 3, "next_due": null}\n'
    assert "study.due" in result.stderr and "click" not in result.stderr  # the fast path
    assert sorted(p.name for p in folder.iterdir()) == before  # no stray file


def test_uri_escapes_what_sqlite_would_read_as_syntax() -> None:
    from cards.db import uri

    assert uri("/x/a#b?c%d.db", "rw") == "file:///x/a%23b%3Fc%25d.db?mode=rw"
    assert uri("//host/share.db", "ro") == "file:////host/share.db?mode=ro"
    assert uri("rel/a.db", "rw") == "file:rel/a.db?mode=rw"


@pytest.mark.parametrize("next_due", [None, "2026-01-05T12:00:00.000000+00:00",
                                      'odd "quoted" \\ value', "caf\u00e9\n"])
def test_due_json_is_what_json_dumps_writes(next_due: str | None) -> None:
    import json

    from study.due import render

    counts = {"learning": 1, "review": 22, "new": 333, "next_due": next_due}
    assert render(counts, as_json=True) == json.dumps(counts)
    assert json.loads(render(counts, as_json=True)) == counts


def test_records_without_typing_behave_as_typing_named_tuples() -> None:
    from cards.tuples import NamedTuple

    class Pair(NamedTuple):
        """Two things."""

        first: int
        second: str | None = None

        def both(self) -> str:
            return f"{self.first}{self.second}"

    pair = Pair(1)
    assert pair == (1, None) and pair._fields == ("first", "second")
    assert pair._replace(second="x").both() == "1x" and Pair.__doc__ == "Two things."
    assert Pair.__module__ == __name__ and pair._asdict() == {"first": 1, "second": None}
    with pytest.raises(TypeError, match="without a default follows"):
        class Bad(NamedTuple):
            first: int = 1
            second: int  # type: ignore[misc]


def test_a_regular_install_gives_a_study_command_that_imports_no_re(tmp_path: Path) -> None:
    """pip's console-script wrapper imports re first; the shipped script does not
    (setup.py), and it is still the whole `study` command."""
    import sysconfig

    from bench.due import regular_install

    bin_dir = regular_install(tmp_path / "venv")
    db = tmp_path / "s.db"
    store_from_toml(db, facts_toml(3)).close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON") and k != "TZ"}
    env.update(STUDY_DB=str(db), STUDY_NOW="2026-01-05T12:00:00+00:00")
    # the learner's zone comes from the C library when it reads a zone file (study.clock)
    heavy = {"re", "click"} | ({"zoneinfo"} if "zoneinfo/" in os.path.realpath("/etc/localtime")
                               else set())
    result = subprocess.run([str(bin_dir / "python"), "-X", "importtime", str(bin_dir / "study"),
                             "due", "--json"], env=env, capture_output=True, text=True,
                            check=True)
    assert result.stdout == '{"learning": 0, "review": 0, "new": 3, "next_due": null}\n'
    names = {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines()
             if line.startswith("import time:") and "|" in line}
    assert "study.due" in names and not heavy & names
    # the same command with its dependencies at hand (this environment's) is click's
    env["PYTHONPATH"] = sysconfig.get_paths()["purelib"]
    result = subprocess.run([str(bin_dir / "study"), "due", "--tag", "demo"], env=env,
                            capture_output=True, text=True, check=True)
    assert result.stdout == "learning 0, review 0, new 3\n"
