"""The editor that `study edit` and the review's `e` run (study/editor.py):
$VISUAL, $EDITOR, then nano, then vi; never a distribution's editor chooser."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pexpect
import pytest
from helpers import run

from study.editor import NoEditor, choose_editor

CHOOSER = "#!/bin/sh\necho 'Select an editor.  To change later, run select-editor.'\nread x\n"


def fake_bin(tmp_path: Path, *programs: str) -> Path:
    """A PATH folder with ``programs``: each logs its name and leaves the file as it is,
    except ``editor`` and ``sensible-editor``, which ask which editor to use (Debian's)."""
    folder = tmp_path / "bin"
    folder.mkdir(exist_ok=True)
    for name in programs:
        script = folder / name
        if name in ("editor", "sensible-editor"):
            script.write_text(CHOOSER)
        else:
            script.write_text(f"#!/bin/sh\necho {name} >> {tmp_path / 'ran'}\n")
        script.chmod(0o755)
    return folder


def which_of(*installed: str):  # type: ignore[no-untyped-def]
    return lambda program: f"/usr/bin/{program}" if program in installed else None


@pytest.mark.parametrize(("environ", "installed", "chosen"), [
    ({"VISUAL": "code -w", "EDITOR": "vim"}, ("nano",), "code -w"),
    ({"EDITOR": "vim"}, ("nano",), "vim"),
    ({"VISUAL": " ", "EDITOR": ""}, ("nano", "vi"), "/usr/bin/nano"),
    ({}, ("vi", "editor", "sensible-editor"), "/usr/bin/vi"),
])
def test_the_editor_chosen(environ: dict[str, str], installed: tuple[str, ...],
                           chosen: str) -> None:
    assert choose_editor(environ, which_of(*installed)) == chosen


def test_no_editor_at_all() -> None:
    with pytest.raises(NoEditor, match=r"set \$EDITOR"):
        choose_editor({}, which_of("editor", "sensible-editor"))


@pytest.fixture
def store(deck: Path) -> Path:
    """The shared test deck."""
    return deck


def test_study_edit_without_editor_runs_nano(store: Path, tmp_path: Path) -> None:
    folder = fake_bin(tmp_path, "editor", "sensible-editor", "nano", "vi")
    result = run("edit", "fact", "nomenklatura", env={"PATH": str(folder)})
    assert result.exit_code == 0, result.output
    assert result.output == "No changes to fact 'nomenklatura'\n"
    assert (tmp_path / "ran").read_text() == "nano\n"


def test_study_edit_with_no_editor_installed(store: Path, tmp_path: Path) -> None:
    folder = fake_bin(tmp_path, "editor", "sensible-editor")
    result = run("edit", "fact", "nomenklatura", env={"PATH": str(folder)})
    assert result.exit_code == 1
    assert result.stderr == ("Error: no text editor: set $EDITOR (for example EDITOR=nano); "
                             "none of nano, vi is installed\n")


@pytest.mark.slow
def test_review_e_without_editor_never_shows_a_chooser(store: Path, tmp_path: Path) -> None:
    folder = fake_bin(tmp_path, "editor", "sensible-editor", "vi")
    env = {k: v for k, v in os.environ.items() if k not in ("EDITOR", "VISUAL")}
    env.update(PATH=str(folder), STUDY_NOW="2026-11-23T07:30:00+00:00", TERM="xterm")
    child = pexpect.spawn(sys.executable, ["-m", "study", "review"], env=env,
                          dimensions=(40, 120), encoding="utf-8", timeout=10)
    child.logfile_read = transcript = io.StringIO()
    try:
        child.expect("founded")  # the first card: when the CPSU was founded
        child.send("e")
        child.expect("No changes to organ 'cpsu'")
        child.send("q")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert "Select an editor" not in transcript.getvalue()
    assert child.exitstatus == 0
    assert (tmp_path / "ran").read_text() == "vi\n"
