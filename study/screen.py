"""Drawing with rich: tables for listings."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from cards.text import visible

COLUMNS = {
    "people": ("id", "name", "born", "died", "tags"),
    "organs": ("id", "name", "short", "part_of", "founded", "dissolved"),
    "offices": ("id", "title", "organ"),
    "tenures": ("person", "office", "start", "end", "acting"),
    "events": ("id", "name", "date", "start", "end"),
    "facts": ("id", "question", "answer"),
    "cards": ("key", "question", "answer", "state"),
}


def _cell(value: Any) -> Text:
    """A cell as plain text: record text is never read as rich markup."""
    if value is None or value is False:
        return Text("")
    if value is True:
        return Text("yes")
    if isinstance(value, list):
        return Text(visible(", ".join(map(str, value))))
    return Text(visible(str(value)))


def print_table(kind: str, rows: list[dict[str, Any]], console: Console | None = None) -> None:
    """Print ``rows`` as a table with the columns that suit ``kind``."""
    console = console or Console()
    table = Table(title=f"{len(rows)} {kind}", title_justify="left", show_lines=False)
    for col in COLUMNS[kind]:
        table.add_column(col.replace("_", " "), overflow="fold")
    for row in rows:
        table.add_row(*(_cell(row.get(c)) for c in COLUMNS[kind]))
    console.print(table)
