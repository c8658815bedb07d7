"""Meta-tests: every command and option explains itself, and the README names every command."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from helpers import run

from study.cli import cli

README = Path(__file__).parents[1] / "README.md"


def walk(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[
        tuple[tuple[str, ...], click.Command]]:
    """Every command under ``command`` (itself included), with its path of names."""
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from walk(sub, (*path, name))


COMMANDS = list(walk(cli))
IDS = [" ".join(path) or "study" for path, _ in COMMANDS]


def test_the_walk_finds_the_fact_store_commands() -> None:
    paths = {path for path, _ in COMMANDS}
    for name in ("init", "import", "add", "edit", "remove", "list", "dump", "check"):
        assert (name,) in paths
    for kind in ("person", "organ", "office", "tenure", "event", "fact"):
        assert ("add", kind) in paths


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_every_command_has_help_text(path: tuple[str, ...], command: click.Command) -> None:
    assert command.help and command.help.strip(), path
    assert command.get_short_help_str().strip()
    result = run(*path, "--help")
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: study")
    summary = command.help.strip().splitlines()[0]
    assert summary in result.stdout


@pytest.mark.parametrize(("path", "command"), [c for c in COMMANDS if c[0]],
                         ids=[i for i in IDS if i != "study"])
def test_every_command_shows_an_example(path: tuple[str, ...], command: click.Command) -> None:
    assert command.help is not None
    assert re.search(r"^\s*Example", command.help, re.MULTILINE), path
    assert f"study {' '.join(path)}" in command.help


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_every_option_has_help_text(path: tuple[str, ...], command: click.Command) -> None:
    bare = [p.opts[0] for p in command.params
            if isinstance(p, click.Option) and not p.hidden and not (p.help or "").strip()]
    assert bare == [], path


def test_add_help_uses_the_right_article() -> None:
    for path, command in COMMANDS:
        if path[:1] == ("add",) and len(path) == 2:
            assert not re.search(r"\ba [aeiou]", command.help or ""), command.help
            assert not re.search(r"\ba [aeiou]", command.get_short_help_str()), path


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_is_named_in_the_readme(name: str) -> None:
    text = README.read_text(encoding="utf-8")
    assert re.search(rf"\bstudy {re.escape(name)}\b", text), (
        f"README.md does not mention `study {name}`")


def test_a_regular_install_ships_every_package() -> None:
    """The quick start installs without -e: every package with an __init__.py must be in it."""
    import fnmatch
    import tomllib

    root = Path(__file__).parents[1]
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {str(p.parent.relative_to(root)).replace("/", ".")
                for top in ("cards", "study", "exports") for p in (root / top).rglob("__init__.py")}
    assert {"cards.kinds", "cards.families"} <= packages
    assert not [p for p in packages if not any(fnmatch.fnmatch(p, pat) for pat in include)]
