"""The test suite itself: every test that starts the real command is marked slow,
so that `pytest -m "not slow"` is a fast loop that still runs everything else."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

TESTS = Path(__file__).parent

#: Starting a Python process (the `study` command) or a pseudo-terminal.
SPAWNS = re.compile(r"\bsys\.executable\b|\bpexpect\.spawn\b")


def _marked_slow(decorators: list[ast.expr]) -> bool:
    return any(ast.unparse(d) == "pytest.mark.slow" for d in decorators)


def unmarked_spawning_tests(source: str) -> list[str]:
    """The test functions of a module that start a process, directly or through a helper,
    class or fixture of the same module, and are not marked slow."""
    tree = ast.parse(source)
    if any(isinstance(node, ast.Assign) and ast.unparse(node) == "pytestmark = pytest.mark.slow"
           for node in tree.body):
        return []
    defs = {node.name: node for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.ClassDef)}
    spawners = {name for name, node in defs.items() if SPAWNS.search(ast.unparse(node))}
    while True:  # helpers calling helpers, fixtures using fixtures
        more = set()
        for name, node in defs.items():
            used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
            if isinstance(node, ast.FunctionDef):
                used |= {a.arg for a in node.args.args}
            if name not in spawners and used & spawners:
                more.add(name)
        if not more:
            break
        spawners |= more
    return [name for name in sorted(spawners) if name.startswith("test_")
            and not _marked_slow(defs[name].decorator_list)]


def test_every_test_that_starts_a_process_is_marked_slow() -> None:
    found = {path.name: unmarked for path in sorted(TESTS.glob("test_*.py"))
             if path.name != Path(__file__).name  # its example below spawns nothing
             and (unmarked := unmarked_spawning_tests(path.read_text(encoding="utf-8")))}
    assert found == {}, "mark these @pytest.mark.slow"


def test_the_check_finds_a_process_started_through_a_fixture() -> None:
    source = '''
import pytest
@pytest.fixture
def child():
    return pexpect.spawn("study")
def helper(child):
    return child
def test_direct():
    subprocess.run([sys.executable, "-m", "study"])
def test_through_a_fixture(child):
    pass
@pytest.mark.slow
def test_marked(child):
    pass
def test_in_process():
    run("due")
'''
    assert unmarked_spawning_tests(source) == ["test_direct", "test_through_a_fixture"]


@pytest.mark.slow
def test_mypy_strict_passes_on_every_package() -> None:
    """pyproject's [tool.mypy]: strict, on cards, study and exports."""
    pytest.importorskip("mypy", reason="mypy is a development tool: pip install mypy")
    root = TESTS.parent
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert config["strict"] is True
    assert set(config["packages"]) == {"cards", "study", "exports"}
    result = subprocess.run([sys.executable, "-m", "mypy"], cwd=root, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout
