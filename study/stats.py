"""`study stats`: the learner's progress, as figures and drawn in the terminal.

``compute`` gathers every figure with a few SQL queries (a store may hold a
million answers) and returns plain data, the same that ``--json`` prints;
``render`` draws that data with rich. The caller passes the time, the time
zone and the console.

Answers are counted by study day. A study day runs from the rollover hour in
the learner's time zone to the next one, so a daylight-saving change gives a
23- or 25-hour day and no fixed UTC offset is right all year: the bounds of
each day are computed here in Python, and SQL compares each answer's stored
UTC time (fixed width, so text order is time order) with them.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from cards.db import iso
from study.queue import Filters, day_start, study_day


def _families() -> tuple[tuple[str, ...], dict[str, str]]:
    """Card kinds (the registry's families) in the order they are shown, and their plurals."""
    from cards.registry import FAMILIES, load

    load()
    return tuple(FAMILIES), {f.name: f.plural for f in FAMILIES.values()}


#: Card kinds in the order they are shown.
KINDS, PLURALS = _families()
#: Bits of a cell that hold the kind code (codes 1..len(KINDS); 0: a retired family).
KIND_BITS = max(3, len(KINDS).bit_length())
#: True retention is given for these periods: study days ending with today.
PERIODS = {"day": 1, "week": 7, "month": 30, "year": 365}
CALENDAR_DAYS = 365
DUE_DAYS = 30

#: The card was a review card before the answer. The scheduler writes the
#: snapshot with "state" first, so a prefix test settles most rows without
#: parsing JSON (about four times faster on real snapshots); any other row is
#: parsed. Eight characters ``"review"`` are the whole string value.
WAS_REVIEW = ("(CASE WHEN substr(r.state_before, 1, 10) = '{\"state\": ' "
              "THEN substr(r.state_before, 11, 8) = '\"review\"' "
              "ELSE json_extract(r.state_before, '$.state') = 'review' END)")
#: Bounds of days as a table: ``json_each`` over ``[[start, end], ...]``.
BOUNDS = ("WITH b(i, lo, hi) AS (SELECT key, json_extract(value, '$[0]'), "
          "json_extract(value, '$[1]') FROM json_each(:bounds))")


def _bucket(column: str, edges: list[str], labels: list[int], params: dict[str, Any],
            name: str) -> str:
    """SQL for the label of the span a value falls in: a binary search of nested CASEs.

    Span ``i`` is ``[edges[i], edges[i + 1])`` and is labelled ``labels[i]``
    (the first and last spans are open-ended); a value is compared with about
    log2(spans) edges, which are passed as parameters ``name0``, ``name1``...
    """
    for i, edge in enumerate(edges):
        params[f"{name}{i}"] = edge

    def search(lo: int, hi: int) -> str:
        if hi - lo == 1:
            return str(labels[lo])
        mid = (lo + hi) // 2
        return (f"CASE WHEN {column} < :{name}{mid} THEN {search(lo, mid)} "
                f"ELSE {search(mid, hi)} END")

    return search(0, len(labels))


def _kind_code(params: dict[str, Any]) -> str:
    """SQL for a card's kind from its key ``KIND:ID:TEMPLATE``: 1 + its place in KINDS, else 0.

    Keys of a kind lie between ``kind:`` and ``kind;`` (';' follows ':').
    """
    edges, labels = [""], [0]
    for kind in sorted(KINDS):
        edges += [kind + ":", kind + ";"]
        labels += [KINDS.index(kind) + 1, 0]
    return _bucket("r.card_key", [*edges, "\U0010ffff"], labels, params, "k")


def _retention(answers: int, passed: int) -> dict[str, Any]:
    return {"answers": answers, "passed": passed,
            "retention": passed / answers if answers else None}


def compute(conn: sqlite3.Connection, now: datetime, tz: tzinfo, rollover_hour: int,
            filters: Filters) -> dict[str, Any]:
    """Every figure of ``study stats`` as plain data (what ``--json`` prints).

    Args:
        now: the current time (aware); today is the study day it falls in.
        tz: the learner's time zone, for the bounds of study days.
        rollover_hour: the local hour at which a study day begins.
        filters: narrow the cards, and the answers to those cards.

    Returns:
        A dict with ``date`` (today's study day) and ``filters``;
        ``calendar``: answers on each of the last 365 study days, oldest first;
        ``today``: answered, again, seconds;
        ``retention``: for the last day, week (7 days), month (30) and year
        (365): answers on cards that were review cards, those not Again, and
        the share not Again (None without such answers);
        ``cards``: new, learning (with relearning), review (unsuspended cards
        in each state), suspended, leech (cards marked leech, most of them
        also suspended) and total, retired cards left out;
        ``due``: cards due on each of the next 30 study days, with overdue
        cards on the first;
        ``kinds``: retention by card kind over the year;
        ``leeches``: key and question of each leech, by key.
    """
    today = study_day(now, tz, rollover_hour)
    days = [today.date - timedelta(days=ago) for ago in range(CALENDAR_DAYS - 1, -1, -1)]
    starts = [iso(day_start(d, tz, rollover_hour)) for d in days] + [iso(today.end)]
    where = filters.sql()
    narrowed = bool(filters.tag or filters.kind)
    narrow = ""  # answers to the cards the filters keep ('+': not by the card_key index)
    if filters.kind:  # keys of a kind lie between 'kind:' and 'kind;': no lookup needed
        narrow += "AND +r.card_key >= :kind || ':' AND +r.card_key < :kind || ';' "
    if filters.tag:
        narrow += f"AND +r.card_key IN (SELECT c.key FROM cards c WHERE {where})"
    params: dict[str, Any] = {**filters.params(), "start": starts[0], "end": starts[-1],
                              "today": starts[-2]}

    # Each answer of the year becomes one small integer, its cell: how many
    # days ago, the card's kind, whether the card was a review card, whether
    # the answer was not Again; SQL counts the answers in each cell. The cell
    # is made in a subquery that LIMIT keeps apart, so the grouping sorts
    # integers (grouping on the expressions would sort the rows' text).
    # NOT INDEXED: a scan in table order, as walking the time index reads the
    # rows in random order when the history was not written in time order.
    if narrowed:  # by day, for the calendar too
        edges, labels = starts, list(range(CALENDAR_DAYS - 1, -1, -1))
    else:  # by period only: the calendar comes from the time index alone, below
        lengths = sorted(PERIODS.values(), reverse=True)
        edges, labels = [starts[-1 - n] for n in lengths] + [starts[-1]], [*lengths[1:], 0]
    ago = _bucket("r.reviewed_at", edges, labels, params, "e")
    cells = conn.execute(
        f"SELECT cell, COUNT(*) FROM (SELECT ((({ago}) * {1 << KIND_BITS} + "
        f"{_kind_code(params)}) * 2 "
        f"+ {WAS_REVIEW}) * 2 + (r.rating > 1) AS cell FROM reviews r NOT INDEXED "
        f"WHERE r.reviewed_at >= :start AND r.reviewed_at < :end {narrow} "
        f"LIMIT -1 OFFSET 0) GROUP BY cell", params).fetchall()
    calendar = [0] * CALENDAR_DAYS  # by days ago
    periods = {name: [0, 0] for name in PERIODS}
    kinds = [[0, 0] for _ in range(len(KINDS) + 1)]  # by kind code
    for cell, n in cells:
        days_ago, kind = cell >> (KIND_BITS + 2), cell >> 2 & ((1 << KIND_BITS) - 1)
        was_review, passed = cell >> 1 & 1, cell & 1
        if narrowed:
            calendar[days_ago] += n
        if was_review:
            for name, length in PERIODS.items():
                if days_ago < length:
                    periods[name][0] += n
                    periods[name][1] += passed * n
            kinds[kind][0] += n
            kinds[kind][1] += passed * n
    if not narrowed:  # answers a day, from the time index alone
        bounds = json.dumps(list(zip(starts, starts[1:], strict=False)))
        for i, n in conn.execute(
                f"{BOUNDS} SELECT b.i, COUNT(*) FROM b CROSS JOIN reviews r "
                f"WHERE r.reviewed_at >= b.lo AND r.reviewed_at < b.hi GROUP BY b.i",
                {"bounds": bounds}):
            calendar[CALENDAR_DAYS - 1 - i] = n
    answered, again, milliseconds = conn.execute(
        f"SELECT COUNT(*), COALESCE(SUM(r.rating = 1), 0), COALESCE(SUM(r.duration_ms), 0) "
        f"FROM reviews r WHERE r.reviewed_at >= :today AND r.reviewed_at < :end {narrow}",
        params).fetchone()

    cards = {"new": 0, "learning": 0, "review": 0, "suspended": 0}
    for suspended, state, n in conn.execute(
            f"SELECT c.suspended, c.state, COUNT(*) FROM cards c "
            f"WHERE c.retired = 0 AND {where} GROUP BY c.suspended, c.state", params):
        name = "suspended" if suspended else "learning" if state == "relearning" else state
        cards[name] = cards.get(name, 0) + n
    leeches = [{"key": key, "question": question} for key, question in conn.execute(
        f"SELECT c.key, c.question FROM cards c WHERE c.retired = 0 AND c.leech = 1 "
        f"AND {where} ORDER BY c.key", params)]

    due_days = [today.date + timedelta(days=n) for n in range(DUE_DAYS + 1)]
    due_starts = [iso(day_start(d, tz, rollover_hour)) for d in due_days]
    due_starts[0] = ""  # overdue cards count today
    due = [0] * DUE_DAYS
    for i, n in conn.execute(
            f"{BOUNDS} SELECT b.i, COUNT(*) FROM b CROSS JOIN cards c "
            f"WHERE c.retired = 0 AND c.suspended = 0 "
            f"AND c.state IN ('learning', 'relearning', 'review') "
            f"AND c.due >= b.lo AND c.due < b.hi AND {where} GROUP BY b.i",
            {**params, "bounds": json.dumps(list(zip(due_starts, due_starts[1:],
                                                     strict=False)))}):
        due[i] = n

    kind_filter = filters.params()["kind"]
    return {
        "date": today.date.isoformat(),
        "filters": {"tag": filters.tag, "kind": kind_filter},
        "calendar": {d.isoformat(): calendar[CALENDAR_DAYS - 1 - i] for i, d in enumerate(days)},
        "today": {"answered": answered, "again": again, "seconds": milliseconds / 1000},
        "retention": {name: _retention(*figures) for name, figures in periods.items()},
        "cards": {**cards, "leech": len(leeches), "total": sum(cards.values())},
        "due": {d.isoformat(): n for d, n in zip(due_days, due, strict=False)},
        "kinds": {kind: _retention(*kinds[code + 1]) for code, kind in enumerate(KINDS)
                  if not kind_filter or kind == kind_filter},
        "leeches": leeches,
    }


# -- drawing -----------------------------------------------------------------

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WEEKDAYS = ("Mon", "", "Wed", "", "Fri", "", "")
#: Calendar shades from no answers to the busiest days: colours, or characters without colour.
SHADE_STYLES = ("grey30", "#0e4429", "#006d32", "#26a641", "#39d353")
SHADE_CHARS = "·░▒▓█"
EIGHTHS = " ▁▂▃▄▅▆▇█"
LEECHES_SHOWN = 20


def render(stats: dict[str, Any], console: Any = None) -> None:
    """Draw the figures of ``compute`` with rich, fitted to the console's width.

    Args:
        stats: what ``compute`` returned.
        console: a ``rich.console.Console``; by default one on the terminal.
    """
    from rich.columns import Columns
    from rich.console import Console
    from rich.padding import Padding
    from rich.text import Text

    console = console or Console()
    day = date.fromisoformat(stats["date"])
    title = Text(f"Statistics for {day.strftime('%A')} {day.day} {MONTHS[day.month - 1]} "
                 f"{day.year}", style="bold")
    narrowed = [f"{name} {value}" for name, value in stats["filters"].items() if value]
    if narrowed:
        title.append(f" · {', '.join(narrowed)}", style="dim")
    console.print(title)
    console.print()
    summary, *grid = _calendar(stats["calendar"], console.width,
                               console.color_system is not None)
    console.print(summary)
    for line in grid:
        console.print(line, no_wrap=True, overflow="crop")
    console.print()
    console.print(_today(stats["today"]))
    console.print()
    tables = [_retention_table(stats["retention"]), _cards_table(stats["cards"]),
              _kinds_table(stats["kinds"])]
    console.print(Columns([Padding(t, (0, 0, 1, 0)) for t in tables], padding=(0, 4)))
    for line in _due_chart(stats["due"], console.width):
        console.print(line, no_wrap=True, overflow="crop")
    console.print()
    for line in _leeches(stats["leeches"]):
        console.print(line, no_wrap=True, overflow="ellipsis")


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _duration(seconds: float) -> str:
    """45 s, 6 min 12 s, 1 h 05 min."""
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def _shade_levels(counts: list[int]) -> list[int]:
    """Shade 0 for no answers, else 1 to 4 by the quartiles of the days with answers."""
    import statistics

    busy = sorted(n for n in counts if n)
    cuts = statistics.quantiles(busy, n=4, method="inclusive") if len(busy) > 1 else []
    return [0 if n == 0 else 1 + sum(n > c for c in cuts) for n in counts]


def _calendar(calendar: dict[str, int], width: int, color: bool) -> list[Any]:
    """A year of answers: weeks as columns, weekdays as rows, months above."""
    from rich.text import Text

    days = [date.fromisoformat(d) for d in calendar]
    counts = list(calendar.values())
    levels = _shade_levels(counts)  # of the whole year, also when fewer weeks are shown
    total = sum(counts)
    studied = sum(1 for n in counts if n)
    streak = 0
    for n in reversed(counts[:-1] if counts and not counts[-1] else counts):
        if not n:
            break
        streak += 1
    summary = Text(f"{_plural(total, 'answer')} in the last {len(days)} days", style="bold")
    summary.append(f" · studied on {_plural(studied, 'day')} · streak {_plural(streak, 'day')}",
                   style="default")
    margin = 4
    origin = days[0] - timedelta(days=days[0].weekday())
    weeks = (days[-1] - origin).days // 7 + 1
    # two columns a week if they fit, a label at the last week included (3 letters);
    # else one, and the oldest weeks give way, so that today is always in sight
    cell = 2 if width >= margin + 2 * (weeks - 1) + 3 else 1
    if cell == 1 and margin + weeks - 1 + 3 > width:
        weeks = max(1, width - margin - 2)
        origin = days[-1] - timedelta(days=days[-1].weekday(), weeks=weeks - 1)
        kept = [i for i, d in enumerate(days) if d >= origin]
        days = [days[i] for i in kept]
        counts = [counts[i] for i in kept]

    months = [" "] * (margin + weeks * cell + 3)
    # a month is labelled over the first column that holds its first day
    starts = [((d - origin).days // 7, d.month) for d in days if d.day == 1]
    if days[0].day != 1:
        starts.insert(0, (0, days[0].month))
    placed_end = -1
    for i, (week, month) in enumerate(starts):
        at = margin + week * cell
        following = starts[i + 1][0] * cell + margin if i + 1 < len(starts) else len(months)
        if at > placed_end and at + 3 < following:  # a space before the next one
            months[at:at + 3] = MONTHS[month - 1]
            placed_end = at + 3
    lines = [summary, Text("".join(months).rstrip(), style="dim")]

    levels = levels[len(levels) - len(days):]
    grid: list[list[int | None]] = [[None] * weeks for _ in range(7)]
    for d, level in zip(days, levels, strict=True):
        grid[d.weekday()][(d - origin).days // 7] = level
    for weekday, row in enumerate(grid):
        line = Text(f"{WEEKDAYS[weekday]:<{margin}}", style="dim")
        for shade in row:
            if shade is None:
                line.append(" " * cell)
            else:
                line.append(_shade(shade, color) + " " * (cell - 1),
                            style=SHADE_STYLES[shade] if color else "")
        lines.append(line)
    legend = Text(" " * margin + "Less ", style="dim")
    for level in range(len(SHADE_STYLES)):
        legend.append(_shade(level, color), style=SHADE_STYLES[level] if color else "")
    legend.append(" More", style="dim")
    lines.append(legend)
    return lines


def _shade(level: int, color: bool) -> str:
    return "■" if color else SHADE_CHARS[level]


def _today(today: dict[str, Any]) -> Any:
    from rich.text import Text

    line = Text("Today: ", style="bold")
    if not today["answered"]:
        line.append("no answers yet")
        return line
    right = today["answered"] - today["again"]
    line.append(f"{_plural(today['answered'], 'answer')}, {today['again']:,} Again "
                f"({right / today['answered'] * 100:.0f}% right), "
                f"{_duration(today['seconds'])}")
    return line


def _table(title: str, *columns: str) -> Any:
    from rich import box
    from rich.table import Table

    table = Table(title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD,
                  show_edge=False, padding=(0, 1), pad_edge=False)
    for i, column in enumerate(columns):
        table.add_column(column, justify="left" if i == 0 else "right", no_wrap=True)
    return table


def _retention_table(retention: dict[str, Any]) -> Any:
    table = _table("True retention", "", "Reviews", "Right", "Rate")
    names = {"day": "Today", "week": "7 days", "month": "30 days", "year": "365 days"}
    for period, figures in retention.items():
        table.add_row(names.get(period, period), f"{figures['answers']:,}",
                      f"{figures['passed']:,}", _percent(figures["retention"]))
    return table


def _cards_table(cards: dict[str, int]) -> Any:
    table = _table("Cards by state", "", "Cards")
    for state in ("new", "learning", "review", "suspended"):
        table.add_row(state.capitalize(), f"{cards[state]:,}",
                      end_section=state == "suspended")
    table.add_row("Total", f"{cards['total']:,}", style="bold")
    table.add_row("Leeches", f"{cards['leech']:,}")
    return table


def _kinds_table(kinds: dict[str, Any]) -> Any:
    table = _table("By kind, 365 days", "", "Reviews", "Rate")
    for kind, figures in kinds.items():
        table.add_row(PLURALS.get(kind, kind).capitalize(), f"{figures['answers']:,}",
                      _percent(figures["retention"]))
    return table


def _due_chart(due: dict[str, int], width: int) -> list[Any]:
    """Cards due on each coming day as vertical bars, in eighths of a row."""
    from rich.text import Text

    counts = list(due.values())
    days = [date.fromisoformat(d) for d in due]
    title = Text(f"Due in the next {len(counts)} days: ", style="bold")
    title.append(f"{_plural(sum(counts), 'card')}, {counts[0]:,} of them today "
                 f"with overdue cards" if counts else "0 cards")
    if not any(counts):
        return [title]
    # a backlog today would flatten the other days: then its bar is cut off (▲)
    later = max(counts[1:], default=0)
    top = later if counts[0] > 2 * later > 0 else max(counts)
    # the axis shows the real maximum: above a break (┆) when today's bar is cut
    highest = max(counts)
    axis = len(f"{highest:,}") + 1
    bar = max(1, min(3, (width - axis - 1) // len(counts) - 1))
    height = 8
    eighths = [0 if n == 0 else min(height * 8, max(1, round(n / top * height * 8)))
               for n in counts]
    lines = [title]
    if highest > top:
        line = Text(f"{highest:,}".rjust(axis - 1) + "┆", style="dim")
        line.append("▲" * bar, style="yellow")
        lines.append(line)
    for row in range(height, 0, -1):
        label = f"{top:,}" if row == height else ""
        line = Text(f"{label:>{axis - 1}}│", style="dim")
        for i, (n, e) in enumerate(zip(counts, eighths, strict=True)):
            filled = max(0, min(8, e - (row - 1) * 8))
            cut = row == height and n > top
            line.append(("▲" if cut else EIGHTHS[filled]) * bar,
                        style="yellow" if i == 0 else "cyan")
            line.append(" ")
        lines.append(line)
    lines.append(Text(" " * (axis - 1) + "└" + "─" * (len(counts) * (bar + 1)), style="dim"))
    labels = [" "] * (axis + len(counts) * (bar + 1) + 6)
    placed_end = -1
    for i, d in enumerate(days):
        if i % 7:
            continue
        text = "today" if i == 0 else f"{d.day} {MONTHS[d.month - 1]}"
        at = axis + i * (bar + 1)
        if at > placed_end:
            labels[at:at + len(text)] = text
            placed_end = at + len(text)
    lines.append(Text("".join(labels).rstrip(), style="dim"))
    return lines


def _leeches(leeches: list[dict[str, str]]) -> list[Any]:
    from rich.text import Text

    from cards.text import visible

    if not leeches:
        return [Text("Leeches: none", style="bold")]
    lines = [Text(f"Leeches: {len(leeches):,}", style="bold")]
    shown = leeches[:LEECHES_SHOWN]
    width = min(40, max(len(leech["key"]) for leech in shown))
    for leech in shown:
        key = leech["key"] if len(leech["key"]) <= width else leech["key"][:width - 1] + "…"
        lines.append(Text.assemble("  ", (f"{visible(key):<{width}}", "dim"), "  ",
                                   visible(leech["question"])))
    if len(leeches) > LEECHES_SHOWN:
        lines.append(Text(f"  … and {len(leeches) - LEECHES_SHOWN:,} more: "
                          f"study list cards --tag leech", style="dim"))
    return lines
