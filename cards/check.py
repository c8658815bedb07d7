"""Consistency checks across records (``study check``)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from cards.card_checks import check_cards
from cards.dates import PartialDate, parse_optional
from cards.generate import Records


@dataclass(frozen=True)
class Finding:
    """One inconsistency: ``error`` (exit 1) or ``warning`` (printed)."""

    level: str
    kind: str
    id: str
    message: str

    def __str__(self) -> str:
        return f"{self.level}: {self.kind} '{self.id}': {self.message}"


def _span(start: str | None, end: str | None) -> tuple[PartialDate | None, PartialDate | None]:
    return parse_optional(start), parse_optional(end)


def _overlap(a_start: PartialDate, a_end: PartialDate | None,
             b_start: PartialDate, b_end: PartialDate | None) -> bool:
    """True if the two ranges certainly share a day (touching ends do not count)."""
    a_last = a_end.earliest() if a_end else None
    b_last = b_end.earliest() if b_end else None
    return ((a_last is None or b_start.latest() < a_last)
            and (b_last is None or a_start.latest() < b_last))


def _outside(date: PartialDate, start: PartialDate | None, end: PartialDate | None) -> bool:
    """True if ``date`` is certainly outside [start, end]."""
    return bool((start and date.latest() < start.earliest())
                or (end and date.earliest() > end.latest()))


def check(records: Records) -> list[Finding]:
    """Every inconsistency found, errors first."""
    found: list[Finding] = []
    by_office = defaultdict(list)
    for t in records["tenure"].values():
        by_office[t["office"]].append(t)
    for tenures in by_office.values():
        tenures.sort(key=lambda t: PartialDate.parse(t["start"]).earliest())
        for i, a in enumerate(tenures):
            for b in tenures[i + 1:]:
                if a.get("acting") or b.get("acting"):
                    continue
                if _overlap(*_span(a["start"], a.get("end")), *_span(b["start"], b.get("end"))):  # type: ignore[arg-type]
                    found.append(Finding("error", "tenure", b["id"],
                                         f"overlaps tenure '{a['id']}' of the same office"))
        for t in tenures:
            person = records["person"].get(t["person"])
            if not person:
                continue
            born, died = _span(person.get("born"), person.get("died"))
            start, end = _span(t["start"], t.get("end"))
            assert start is not None
            if (born and start.latest() < born.earliest()) or (
                    died and start.earliest() > died.latest()) or (
                    died and end and end.earliest() > died.latest()):
                found.append(Finding("error", "tenure", t["id"],
                                     f"lies outside the lifetime of {t['person']}"))
            elif died and end is None:
                found.append(Finding("warning", "tenure", t["id"],
                                     f"has no end, but {t['person']} died {died}"))
    for o in records["organ"].values():
        founded, dissolved = _span(o.get("founded"), o.get("dissolved"))
        if founded and dissolved and dissolved.latest() < founded.earliest():
            found.append(Finding("error", "organ", o["id"], "dissolved before it was founded"))
    for field in ("part_of", "succeeded_by"):
        reported: set[str] = set()
        for origin in records["organ"]:
            seen = [origin]
            current = records["organ"][origin].get(field)
            while current and current in records["organ"]:
                if current == origin:
                    cycle = sorted(seen)
                    if cycle[0] not in reported:
                        reported.add(cycle[0])
                        found.append(Finding("error", "organ", origin,
                                             f"{field} goes round in a cycle: "
                                             + " -> ".join([*seen, origin])))
                    break
                if current in seen:
                    break
                seen.append(current)
                current = records["organ"][current].get(field)
    for e in records["event"].values():
        start = parse_optional(e.get("date") or e.get("start"))
        end = parse_optional(e.get("date") or e.get("end")) or start
        for oid in e.get("organs", []):
            organ = records["organ"].get(oid)
            if not organ or start is None:
                continue
            founded, dissolved = _span(organ.get("founded"), organ.get("dissolved"))
            if _outside(start, founded, dissolved) and (
                    end is None or _outside(end, founded, dissolved)):
                found.append(Finding("error", "event", e["id"],
                                     f"is dated outside the life of organ '{oid}'"))
    found.extend(Finding("warning", w.kind, w.id, w.message) for w in check_cards(records))
    found.sort(key=lambda f: f.level != "error")
    return found
