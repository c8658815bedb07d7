"""The fault suite: damaged, foreign, read-only, newer and older stores, and fuzzed input.

Each case must end in a clear one-line error with exit status 1, no
traceback, and nothing overwritten.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cards import schema
from cards.db import SCHEMA_VERSION
from cards.store import Store
from study.cli import cli

FIXTURES = Path(__file__).with_name("fixtures")
COMMANDS = [["list", "cards"], ["due"], ["review"], ["import", "x.toml"], ["check"], ["init"]]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def study(*args: str, db: Path, input: str = "") -> subprocess.CompletedProcess[str]:
    """The real command in a subprocess, so that a traceback would show."""
    env = {**os.environ, "STUDY_DB": str(db), "STUDY_NOW": "2026-02-01T09:00:00+00:00"}
    return subprocess.run([sys.executable, "-m", "study", *args], env=env, input=input,
                          capture_output=True, text=True, timeout=60, cwd=db.parent)


def assert_clean_failure(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: ")
    for word in words:
        assert word in last


def fixture_copy(tmp_path: Path, version: int = SCHEMA_VERSION) -> Path:
    path = tmp_path / "store.db"
    shutil.copyfile(FIXTURES / f"store-v{version}.db", path)
    return path


@pytest.mark.slow
def test_a_file_that_is_not_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 100)
    before = digest(path)
    for args in COMMANDS:
        assert_clean_failure(study(*args, db=path), "is not a Secretariat store")
    assert digest(path) == before


@pytest.mark.slow
def test_a_foreign_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.commit()
    conn.close()
    before = digest(path)
    assert_clean_failure(study("list", "cards", db=path), "not a Secretariat store")
    assert digest(path) == before


@pytest.mark.slow
@pytest.mark.parametrize("keep", [100, 4096, 40_000, 200_000])
def test_a_truncated_store(tmp_path: Path, keep: int) -> None:
    path = fixture_copy(tmp_path)
    with path.open("r+b") as f:
        f.truncate(keep)
    before = digest(path)
    for args in (["list", "cards"], ["due", "--json"], ["review"], ["dump", "-"]):
        result = study(*args, db=path, input=" 3 3q")
        if result.returncode == 0:
            continue  # the pages this command reads may have survived
        assert_clean_failure(result)
    assert digest(path) == before


@pytest.fixture
def read_only(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A store the current user cannot write: 0444, or immutable when running as root."""
    path = fixture_copy(tmp_path)
    if os.geteuid() == 0:
        if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode:
            pytest.skip("running as root on a file system without chattr +i")
    else:
        path.chmod(0o444)
    yield path
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(path)], check=True)
    path.chmod(0o644)


@pytest.mark.slow
def test_a_read_only_store(read_only: Path) -> None:
    before = digest(read_only)
    for args in (["list", "cards"], ["review"], ["init"]):
        assert_clean_failure(study(*args, db=read_only, input=" 3q"), "read-only")
    assert digest(read_only) == before


@pytest.mark.slow
def test_a_store_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = fixture_copy(tmp_path)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    before = digest(path)
    for args in (["due"], ["review"], ["list", "cards"]):
        assert_clean_failure(study(*args, db=path), f"schema version {SCHEMA_VERSION + 1}",
                             "upgrade Secretariat")
    assert digest(path) == before


def _counts(path: Path) -> tuple[int, ...]:
    conn = sqlite3.connect(path)
    try:
        return tuple(conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                     for t in ("people", "tenures", "cards", "reviews"))
    finally:
        conn.close()


def _fixture_versions() -> list[int]:
    return sorted(int(p.stem.split("-v")[1]) for p in FIXTURES.glob("store-v*.db"))


def test_there_is_a_fixture_of_the_current_schema() -> None:
    assert SCHEMA_VERSION in _fixture_versions(), "run tests/fixtures/make_store.py"


@pytest.mark.slow
@pytest.mark.parametrize("version", _fixture_versions())
def test_every_older_store_is_upgraded_with_a_backup(tmp_path: Path, version: int) -> None:
    path = fixture_copy(tmp_path, version)
    counts = _counts(path)
    assert counts[-1] > 0  # the fixture has history
    store = Store.open(path)
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store.close()
    assert _counts(path) == counts
    backup = Path(f"{path}.v{version}.bak")
    assert backup.exists() == (version < SCHEMA_VERSION)
    result = study("review", db=path, input=" 3q")
    assert result.returncode == 0, result.stderr


def test_the_upgrade_path_writes_a_backup_first(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A migration added after the current one: the same machinery the next schema will use."""
    path = fixture_copy(tmp_path)
    counts = _counts(path)
    original = list(sqlite3.connect(path).iterdump())

    def m999_future(db: object) -> None:
        db.execute("CREATE TABLE future (id INTEGER PRIMARY KEY)")  # type: ignore[attr-defined]

    monkeypatch.setattr(schema, "migrations", schema.Migrations("secretariat"))
    for migration in [*schema.MIGRATIONS, m999_future]:
        schema.migrations()(migration)
    monkeypatch.setattr("cards.store.SCHEMA_VERSION", SCHEMA_VERSION + 1)
    store = Store.open(path)
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
    assert store.db["future"].exists()
    store.close()
    backup = Path(f"{path}.v{SCHEMA_VERSION}.bak")
    assert list(sqlite3.connect(backup).iterdump()) == original
    assert _counts(path) == counts


def test_a_failed_migration_changes_nothing(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    path = fixture_copy(tmp_path)

    def m999_broken(db: object) -> None:
        db.execute("CREATE TABLE half (id INTEGER)")  # type: ignore[attr-defined]
        raise sqlite3.OperationalError("disk full, say")

    monkeypatch.setattr(schema, "migrations", schema.Migrations("secretariat"))
    for migration in [*schema.MIGRATIONS, m999_broken]:
        schema.migrations()(migration)
    monkeypatch.setattr("cards.store.SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with pytest.raises(Exception, match="disk full"):
        Store.open(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'half'").fetchone() is None
    conn.close()



def test_pending_migrations_commit_together(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Two pending migrations, the second fails: the first is undone too, and not recorded."""
    path = fixture_copy(tmp_path)
    original = list(sqlite3.connect(path).iterdump())

    def m998_fine(db: object) -> None:
        db.execute("CREATE TABLE fine (id INTEGER)")  # type: ignore[attr-defined]

    def m999_broken(db: object) -> None:
        raise sqlite3.OperationalError("disk full, say")

    monkeypatch.setattr(schema, "migrations", schema.Migrations("secretariat"))
    for migration in [*schema.MIGRATIONS, m998_fine, m999_broken]:
        schema.migrations()(migration)
    monkeypatch.setattr("cards.store.SCHEMA_VERSION", SCHEMA_VERSION + 2)
    with pytest.raises(Exception, match="disk full"):
        Store.open(path)
    assert list(sqlite3.connect(path).iterdump()) == original


def test_every_migration_is_recorded_by_name(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "new.db")
    assert [m.name for m in schema.migrations.applied(store.db)] == [
        m.__name__ for m in schema.MIGRATIONS]
    assert schema.migrations.pending(store.db) == []
    store.close()


# -- fuzzed authoring files -------------------------------------------------------

KINDS = ["person", "organ", "office", "tenure", "event", "fact", "persons", "note"]
KEYS = ["id", "name", "title", "person", "office", "organ", "start", "end", "date", "born",
        "died", "founded", "dissolved", "part_of", "succeeded_by", "people", "organs",
        "question", "answer", "reverse", "acting", "tags", "source", "note", "aliases",
        "summary", "colour", "Id"]
IDS = st.sampled_from(["stalin", "lenin", "cpsu", "x", "Bad Id", "-x", "", "gs", "a--b"])
DATES = st.sampled_from(["1922", "1922-04", "1922-04-03", "1934-02-30", "1922-13", "19",
                         "April 1922", "2000-02-29", "1900-02-29", ""])
SCALARS = st.one_of(IDS, DATES, st.text(max_size=12), st.integers(-5, 3000), st.booleans(),
                    st.floats(allow_nan=False, allow_infinity=False))
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=3))


def toml_value(value: object) -> str:
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value).replace("\\u007f", "")
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return repr(value)


@st.composite
def authoring_files(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(KINDS))
        header = f"[[{kind}]]" if draw(st.integers(0, 9)) else f"[{kind}]"
        fields = draw(st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=6))
        parts.append(header + "\n" + "".join(f"{k} = {toml_value(v)}\n"
                                             for k, v in fields.items()))
    text = "\n".join(parts)
    if draw(st.integers(0, 4)) == 0 and text:
        cut = draw(st.integers(0, len(text)))
        text = text[:cut] + draw(st.sampled_from(['"', "[[", "=", "\x00", "\n=\n", "}"])) \
            + text[cut:]
    return text


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=authoring_files())
def test_fuzzed_authoring_files_never_crash_nor_half_write(tmp_path: Path, text: str) -> None:
    db = tmp_path / "fuzz.db"
    if not db.exists():
        shutil.copyfile(FIXTURES / f"store-v{SCHEMA_VERSION}.db", db)
    path = tmp_path / "input.toml"
    path.write_text(text, encoding="utf-8")
    before = _counts(db)
    dump_before = CliRunner().invoke(cli, ["--db", str(db), "dump", "-"]).output
    result = CliRunner().invoke(cli, ["--db", str(db), "import", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        text, result.output)
    assert result.exit_code in (0, 1), result.output
    if result.exit_code == 1:
        assert _counts(db) == before
        assert CliRunner().invoke(cli, ["--db", str(db), "dump", "-"]).output == dump_before
        assert str(path) in result.output
