"""Drawing with rich: tables for listings."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from cards.text import visible


def _columns() -> dict[str, tuple[str, ...]]:
    """The columns of ``study list KIND``: each kind's module declares its own."""
    from cards.registry import KIND_MODULES, load

    load()
    return {**{m.kind.plural: m.columns for m in KIND_MODULES.values()},
            "cards": ("key", "status", "due", "question", "answer")}


COLUMNS = _columns()
#: Columns that are never wrapped, so that an id or key can be copied whole.
WHOLE = {"id", "key", "status", "due", "person", "office", "organ", "part_of", "born",
         "died", "start", "end", "date", "founded", "dissolved", "short", "acting"}
HEADINGS = {"status": "state"}


def _cell(value: Any) -> Text:
    """A cell as plain text: record text is never read as rich markup."""
    if value is None or value is False:
        return Text("")
    if value is True:
        return Text("yes")
    if isinstance(value, list):
        return Text(visible(", ".join(map(str, value))))
    return Text(visible(str(value)))


def due_text(card: dict[str, Any], now: datetime, tz: tzinfo) -> str:
    """When a card is due, in local time: 'now', '14:20', 'Tue 24 Nov', '3 Jan 2027'."""
    if card.get("status") == "buried" and card.get("buried_until"):
        moment = datetime.fromisoformat(card["buried_until"])
    elif card.get("due") and card.get("state") != "new":
        moment = datetime.fromisoformat(card["due"])
    else:
        return ""
    if moment <= now:
        return "now"
    local, today = moment.astimezone(tz), now.astimezone(tz)
    if local.date() == today.date():
        return local.strftime("%H:%M")
    if local.year == today.year:
        return local.strftime("%a %d %b %H:%M")
    return local.strftime("%d %b %Y")


def print_table(kind: str, rows: list[dict[str, Any]], console: Console | None = None,
                now: datetime | None = None, tz: tzinfo | None = None) -> None:
    """Print ``rows`` as a table with the columns that suit ``kind``.

    Ids, keys, dates and states are never wrapped nor cut, so that they can be
    copied whole: in a narrow terminal the text columns wrap, and the last
    ones are left out when even that leaves them too little room. Into a pipe
    or a file, lines are as long as they need to be.
    """
    console = console or Console()
    if kind == "cards" and now is not None and tz is not None:
        rows = [{**row, "due": due_text(row, now, tz)} for row in rows]
    columns = list(COLUMNS[kind])
    widths = {c: max([len(_cell(r.get(c)).plain) for r in rows] + [len(HEADINGS.get(c, c))])
              for c in columns}
    if not console.is_terminal:
        natural = sum(widths[c] if c in WHOLE else min(widths[c], 60) for c in columns)
        console = Console(file=console.file, width=max(80, natural + 3 * len(columns) + 1),
                          no_color=console.no_color)
    left_out: list[str] = []
    while any(c not in WHOLE for c in columns):
        whole = sum(widths[c] + 3 for c in columns if c in WHOLE) + 1
        folded = [c for c in columns if c not in WHOLE]
        room = console.width - whole - 3 * len(folded)
        if room >= min(12, *(widths[c] for c in folded)) * len(folded):
            break
        left_out.insert(0, folded[-1])
        columns.remove(folded[-1])
    noun = kind if len(rows) != 1 else {"people": "person", "cards": "card"}.get(
        kind, kind.removesuffix("s"))
    title = f"{len(rows)} {noun}"
    if left_out:
        title += f" (too narrow for {', '.join(left_out)}: see --json)"
    if sum(widths[c] + 3 for c in columns if c in WHOLE) + 1 > console.width:
        # not even the ids fit: plain lines, which the terminal may wrap but not cut
        console.print(Text(title, style="italic"))
        shown = [c for c in COLUMNS[kind] if c in WHOLE]
        for row in rows:
            cells = [_cell(row.get(c)).plain.ljust(widths[c]) for c in shown]
            line = Text("  ".join(cells).rstrip())
            console.print(line, soft_wrap=True)
        return
    table = Table(title=title, title_justify="left", show_lines=False)
    for col in columns:
        heading = HEADINGS.get(col, col).replace("_", " ")
        if col in WHOLE:
            table.add_column(heading, no_wrap=True, min_width=widths[col])
        else:
            table.add_column(heading, overflow="fold")
    for row in rows:
        table.add_row(*(_cell(row.get(c)) for c in columns))
    console.print(table)


def print_tags(counts: list[tuple[str, int, int]], console: Console | None = None) -> None:
    """Print the tags with their record and card counts."""
    console = console or Console()
    noun = "tag" if len(counts) == 1 else "tags"
    table = Table(title=f"{len(counts)} {noun}", title_justify="left")
    table.add_column("tag", no_wrap=True)
    table.add_column("records", justify="right")
    table.add_column("cards", justify="right")
    for tag, records, cards in counts:
        table.add_row(Text(tag), f"{records:,}", f"{cards:,}")
    console.print(table)
