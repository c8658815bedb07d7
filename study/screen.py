"""Drawing with rich: tables for listings."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

CARD_COLUMNS = ("key", "question", "answer", "state")


def columns(kind: str) -> tuple[str, ...]:
    """The columns of ``study list KIND``: each kind's module declares its own."""
    if kind == "cards":
        return CARD_COLUMNS
    from cards.registry import KIND_MODULES, KINDS

    name = next(k.name for k in KINDS.values() if kind in (k.plural, k.name))
    return KIND_MODULES[name].columns


def _cell(value: Any) -> Text:
    """A cell as plain text: record text is never read as rich markup."""
    if value is None or value is False:
        return Text("")
    if value is True:
        return Text("yes")
    if isinstance(value, list):
        return Text(", ".join(map(str, value)))
    return Text(str(value))


def print_table(kind: str, rows: list[dict[str, Any]], console: Console | None = None) -> None:
    """Print ``rows`` as a table with the columns that suit ``kind``."""
    console = console or Console()
    table = Table(title=f"{len(rows)} {kind}", title_justify="left", show_lines=False)
    shown = columns(kind)
    for col in shown:
        table.add_column(col.replace("_", " "), overflow="fold")
    for row in rows:
        table.add_row(*(_cell(row.get(c)) for c in shown))
    console.print(table)
