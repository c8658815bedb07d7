"""Consistency checks across records (``study check``, and before ``import`` and ``add``).

Every check is linear in the records, or nearly (a sort per office), so
that an import can afford to run them over the whole store.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from cards.card_checks import card_warnings
from cards.dates import PartialDate
from cards.gate import GateResult
from cards.generate import Records

Ref = tuple[str, str]


@dataclass(frozen=True)
class Finding:
    """One inconsistency: ``error`` (exit 1) or ``warning`` (printed).

    ``field`` is the field of record ``kind``/``id`` that the finding is
    about; ``involves`` names every record it concerns (the record itself
    and, say, the tenure it overlaps), so that an import can tell which
    findings its input caused; ``mirror``, if given, says the finding from
    the side of the second record involved.
    """

    level: str
    kind: str
    id: str
    message: str
    field: str | None = None
    involves: tuple[Ref, ...] = ()
    mirror: str | None = None  # the same finding said of the second record it involves

    def __str__(self) -> str:
        return f"{self.level}: {self.kind} '{self.id}': {self.message}"


#: A date as the days it can mean: (earliest, latest).
Days = tuple[dt.date, dt.date]


@lru_cache(maxsize=1 << 16)
def _days(text: str) -> Days:
    date = PartialDate.parse(text)
    return date.earliest(), date.latest()


def _optional(text: str | None) -> Days | None:
    return _days(text) if text else None


def _overlap(a_start: Days, a_end: Days | None, b_start: Days, b_end: Days | None) -> bool:
    """True if the two ranges certainly share a day (touching ends do not count)."""
    a_last = a_end[0] if a_end else None
    b_last = b_end[0] if b_end else None
    return ((a_last is None or b_start[1] < a_last)
            and (b_last is None or a_start[1] < b_last))


def _outside(date: Days, start: Days | None, end: Days | None) -> bool:
    """True if ``date`` is certainly outside [start, end]."""
    return bool((start and date[1] < start[0]) or (end and date[0] > end[1]))


def _overlaps(records: Records) -> list[Finding]:
    """Tenures of one office that certainly share a day (acting holders aside).

    A sweep over each office's tenures in order of start: a tenure is compared
    only with earlier ones that have not certainly ended before it starts.
    """
    found = []
    by_office = defaultdict(list)
    for t in records["tenure"].values():
        if not t.get("acting"):
            by_office[t["office"]].append(t)
    for tenures in by_office.values():
        tenures.sort(key=lambda t: _days(t["start"])[0])
        active: list[tuple[dict[str, str], Days, Days | None]] = []
        for b in tenures:
            b_start, b_end = _days(b["start"]), _optional(b.get("end"))
            # an earlier tenure whose end is at or before b's earliest start cannot
            # overlap b, nor any later tenure (they start no earlier than b)
            active = [a for a in active if a[2] is None or a[2][0] > b_start[0]]
            for a, a_start, a_end in active:
                if _overlap(a_start, a_end, b_start, b_end):
                    found.append(Finding("error", "tenure", b["id"],
                                         f"overlaps tenure '{a['id']}' of the same office",
                                         "start", (("tenure", b["id"]), ("tenure", a["id"])),
                                         f"overlaps tenure '{b['id']}' of the same office"))
            active.append((b, b_start, b_end))
    return found


def _lifetimes(records: Records) -> list[Finding]:
    found = []
    for t in records["tenure"].values():
        person = records["person"].get(t["person"])
        if not person:
            continue
        born, died = _optional(person.get("born")), _optional(person.get("died"))
        start, end = _days(t["start"]), _optional(t.get("end"))
        involves = (("tenure", t["id"]), ("person", t["person"]))
        if (born and start[1] < born[0]) or (died and start[0] > died[1]) or (
                died and end and end[0] > died[1]):
            found.append(Finding("error", "tenure", t["id"],
                                 f"lies outside the lifetime of {t['person']}", "start",
                                 involves))
        elif died and end is None:
            found.append(Finding("warning", "tenure", t["id"],
                                 f"has no end, but {t['person']} died {person['died']}", "end",
                                 involves))
    return found


def _cycles(records: Records) -> list[Finding]:
    """Organs that are part of themselves, or succeeded by themselves, through a chain.

    Each organ is walked once: a walk stops at an organ an earlier walk finished.
    """
    found = []
    organs = records["organ"]
    for field in ("part_of", "succeeded_by"):
        done: set[str] = set()
        for origin in organs:
            if origin in done:
                continue
            path: list[str] = []
            on_path: dict[str, int] = {}
            current: str | None = origin
            while current and current in organs and current not in done:
                if current in on_path:
                    cycle = path[on_path[current]:]
                    first = cycle.index(min(cycle))  # name it from its first id, as before
                    cycle = cycle[first:] + cycle[:first]
                    found.append(Finding(
                        "error", "organ", cycle[0],
                        f"{field} goes round in a cycle: " + " -> ".join([*cycle, cycle[0]]),
                        field, tuple(("organ", o) for o in cycle)))
                    break
                on_path[current] = len(path)
                path.append(current)
                current = organs[current].get(field)
            done.update(path)
    return found


def check(records: Records, cards: GateResult | None = None) -> list[Finding]:
    """Every inconsistency found, errors first.

    Args:
        records: the records by kind and id.
        cards: their cards through the quality gate, if already made (else made here).
    """
    if cards is None:
        from cards.generate import generate_checked

        cards = generate_checked(records)
    found = record_findings(records) + card_findings(cards)
    found.sort(key=lambda f: f.level != "error")
    return found


def record_findings(records: Records) -> list[Finding]:
    """The inconsistencies between records (the checks that need no card)."""
    found = _overlaps(records) + _lifetimes(records)
    for o in records["organ"].values():
        founded, dissolved = _optional(o.get("founded")), _optional(o.get("dissolved"))
        if founded and dissolved and dissolved[1] < founded[0]:
            found.append(Finding("error", "organ", o["id"], "dissolved before it was founded",
                                 "dissolved", (("organ", o["id"]),)))
    found += _cycles(records)
    for e in records["event"].values():
        start = _optional(e.get("date") or e.get("start"))
        end = _optional(e.get("date") or e.get("end")) or start
        for oid in e.get("organs", []):
            organ = records["organ"].get(oid)
            if not organ or start is None:
                continue
            founded, dissolved = _optional(organ.get("founded")), _optional(organ.get("dissolved"))
            if _outside(start, founded, dissolved) and (
                    end is None or _outside(end, founded, dissolved)):
                found.append(Finding("error", "event", e["id"],
                                     f"is dated outside the life of organ '{oid}'",
                                     "date" if "date" in e else "start",
                                     (("event", e["id"]), ("organ", oid))))
    return found


def card_findings(cards: GateResult) -> list[Finding]:
    """The card checks (cards/card_checks.py): hand-written cards that fail the gate
    (warnings only)."""
    return [Finding("warning", w.kind, w.id, w.message, w.field, ((w.kind, w.id),))
            for w in card_warnings(cards)]


def touching(findings: list[Finding], refs: set[Ref]) -> list[Finding]:
    """The findings that concern any of the records ``refs`` (what an input caused or kept)."""
    return [f for f in findings if any(r in refs for r in f.involves)]
