"""Files in and out (cards/files.py): special files refused as outputs and inputs,
input size capped, the usual file mode on outputs."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import run

from cards import files
from cards.files import InputFileError, OutputError, read_input, write_atomic


@contextlib.contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fail, rather than hang the suite, if the block blocks (a FIFO read)."""
    def expired(signum: int, frame: object) -> None:
        raise TimeoutError(f"still blocked after {seconds}s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def store(deck: Path) -> Path:
    """The shared test deck."""
    return deck


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


def one_error(result: object) -> str:
    """The one error (a warning about the file's extension aside)."""
    lines = [line for line in result.stderr.strip().splitlines()  # type: ignore[attr-defined]
             if not line.startswith("Warning: ")]
    assert len(lines) == 1, lines
    return lines[0]


def one_problem(result: object) -> str:
    """The one problem of an import that found one (then "Error: 1 problem ...")."""
    lines = result.stderr.strip().splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 2 and lines[1].startswith("Error: 1 problem"), lines
    return lines[0]


# -- outputs (issue 8, item 3) ------------------------------------------------------

@pytest.mark.parametrize("command", [["export", "csv"], ["export", "anki"], ["dump"]])
def test_a_symlink_target_is_refused_even_with_force(store: Path, tmp_path: Path,
                                                       command: list[str]) -> None:
    real = tmp_path / "real.txt"
    real.write_text("mine\n")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    result = run(*command, str(link), "--force")
    assert result.exit_code == 1
    assert one_error(result) == (f"Error: {link}: not a regular file (a symbolic link to {real}); "
                                 f"name the file itself to write there")
    assert link.is_symlink() and real.read_text() == "mine\n"


@pytest.mark.parametrize("command", [["export", "csv"], ["export", "anki"], ["dump"]])
def test_a_fifo_target_is_refused_even_with_force(store: Path, fifo: Path,
                                                    command: list[str]) -> None:
    with deadline(20):
        result = run(*command, str(fifo), "--force")
    assert result.exit_code == 1
    assert one_error(result) == (f"Error: {fifo}: not a regular file (a FIFO); "
                                 f"Secretariat writes only regular files")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_device_target_is_named_as_such(store: Path) -> None:
    """Without --force: a regression must not replace /dev/null (tests may run as root)."""
    result = run("export", "csv", "/dev/null")
    assert result.exit_code == 1
    assert one_error(result) == ("Error: /dev/null: not a regular file (a character device); "
                                 "Secretariat writes only regular files")
    assert stat.S_ISCHR(os.lstat("/dev/null").st_mode)


def test_a_dangling_symlink_is_not_replaced(tmp_path: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "nowhere")
    with pytest.raises(OutputError, match="not a regular file"):
        write_atomic(link, b"x", force=True)
    assert link.is_symlink() and not (tmp_path / "nowhere").exists()


def test_a_regular_file_is_still_overwritten_with_force(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    out.write_text("old")
    assert run("export", "csv", str(out)).exit_code == 1
    assert run("export", "csv", str(out), "--force").exit_code == 0
    assert out.read_text().startswith("#separator:tab")


# -- inputs (issue 8, item 6) ------------------------------------------------------

def test_importing_a_fifo_does_not_wait(store: Path, fifo: Path) -> None:
    with deadline(20):
        result = run("import", str(fifo))
    assert result.exit_code == 1
    assert one_problem(result) == f"{fifo}: not a regular file (a FIFO)"


def test_importing_a_device_reads_nothing(store: Path) -> None:
    with deadline(20):
        result = run("import", "/dev/zero")
    assert result.exit_code == 1
    assert one_problem(result) == "/dev/zero: not a regular file (a character device)"


def test_an_input_over_the_cap_is_refused_unread(store: Path, tmp_path: Path) -> None:
    big = tmp_path / "big.toml"
    with big.open("wb") as f:
        f.truncate(files.MAX_INPUT_BYTES + 1)  # sparse: nothing is written, nor read
    result = run("import", str(big))
    assert result.exit_code == 1
    assert one_problem(result) == (f"{big}: too large (67,108,865 bytes); an input file may "
                                   f"hold at most 64 MB")


def test_the_cap_is_checked_before_and_while_reading(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "f.toml"
    path.write_bytes(b"x" * 10)
    assert read_input(path, limit=10) == b"x" * 10
    with pytest.raises(InputFileError, match=r"too large \(10 bytes\)"):
        read_input(path, limit=9)
    # a file that grew after its size was taken: fstat tells 1 byte
    real_fstat = os.fstat
    monkeypatch.setattr(os, "fstat", lambda fd: os.stat_result(
        (*real_fstat(fd)[:6], 1, *real_fstat(fd)[7:10])))
    with pytest.raises(InputFileError, match=r"too large \(over 9 bytes\)"):
        read_input(path, limit=9)


def test_a_symlink_to_an_input_is_followed(store: Path, tmp_path: Path) -> None:
    real = tmp_path / "real.toml"
    real.write_text('[[fact]]\nid = "linked"\nquestion = "Q?"\nanswer = "A"\n')
    link = tmp_path / "link.toml"
    link.symlink_to(real)
    result = run("import", str(link))
    assert result.exit_code == 0, result.output
    with contextlib.closing(sqlite3.connect(store)) as conn:
        assert conn.execute("SELECT question FROM facts WHERE id = 'linked'").fetchall() == [
            ("Q?",)]


@pytest.mark.slow
def test_a_fifo_as_the_store_is_refused(fifo: Path) -> None:
    """Also through the fast path of `study due`, in a real process (it must not hang)."""
    for args in (["list", "facts"], ["due"]):
        result = subprocess.run([sys.executable, "-m", "study", "--db", str(fifo), *args],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 1, result
        assert result.stderr == (f"Error: {fifo}: not a regular file (a FIFO); "
                                 f"a store is a regular file\n")
    assert sorted(p.name for p in fifo.parent.iterdir()) == ["home", "pipe"]


# -- file mode and extension (issue 8, item 24) ---------------------------------------

@contextlib.contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
@pytest.mark.parametrize("command", [["export", "csv"], ["export", "anki"], ["dump"]])
def test_a_new_output_has_the_mode_the_umask_gives(store: Path, tmp_path: Path, mask: int,
                                                   mode: int, command: list[str]) -> None:
    out = tmp_path / {"csv": "out.csv", "anki": "out.apkg"}.get(command[-1], "out.toml")
    with umask(mask):
        result = run(*command, str(out))
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == mode


def test_an_overwritten_output_keeps_its_mode(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    out.write_text("old")
    out.chmod(0o640)
    with umask(0o022):
        assert run("export", "csv", str(out), "--force").exit_code == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o640


@pytest.mark.parametrize(("command", "name", "warning"), [
    (["export", "anki"], "x.txt", "an Anki package usually ends in .apkg, not .txt"),
    (["export", "anki"], "x", "an Anki package usually ends in .apkg"),
    (["export", "csv"], "x.apkg", "a file for Anki's text import usually ends in "
                                  ".csv or .tsv or .txt, not .apkg"),
    (["export", "anki"], "x.APKG", None),
    (["export", "csv"], "x.tsv", None),
])
def test_a_wrong_extension_gets_a_warning(store: Path, tmp_path: Path, command: list[str],
                                          name: str, warning: str | None) -> None:
    out = tmp_path / name
    result = run(*command, str(out))
    assert result.exit_code == 0, result.output
    assert out.exists()
    if warning is None:
        assert result.stderr == ""
    else:
        assert result.stderr == (f"Warning: {out}: {warning}; the program reading it may not "
                                 f"recognise it\n")
