"""Checking a typed answer leniently (``study review --type``).

Case, accents, punctuation and a leading article do not matter; a person's
aliases count; a date counts at the precision stored or coarser ("1922" for
3 April 1922 is close, not wrong).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from typing import NamedTuple

from cards.dates import MONTHS, PartialDate
from cards.errors import DateError

DATE_TEMPLATES = {"dates", "founded", "date"}
_MONTH = "|".join(MONTHS + [m[:3] for m in MONTHS])
_DATE = re.compile(
    rf"(?P<iso>\b\d{{4}}(?:-\d{{1,2}}(?:-\d{{1,2}})?)?\b)"
    rf"|(?P<words>\b(?:(?P<day>\d{{1,2}})\s+)?(?:(?P<month>{_MONTH})\.?\s+)?(?P<year>\d{{4}})\b)",
    re.IGNORECASE)


class Verdict(NamedTuple):
    """How a typed answer compares: ``correct``, ``close`` or ``wrong``, and a grade to suggest."""

    result: str
    grade: int
    detail: str
    typed: str = ""


def differences(typed: str, expected: str) -> list[tuple[str, str]]:
    """``typed`` against ``expected``, letter by letter (any case), as ``(text, how)`` runs.

    ``how`` is ``same``, ``wrong`` (typed, not in the answer) or ``missing``
    (in the answer, not typed), for drawing the difference.
    """
    runs: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(None, typed.casefold(), expected.casefold(), autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            runs.append((expected[b0:b1], "same"))
            continue
        if a1 > a0:
            runs.append((typed[a0:a1], "wrong"))
        if b1 > b0:
            runs.append((expected[b0:b1], "missing"))
    return runs


def simplify(text: str) -> str:
    """Casefolded, without accents, punctuation, parentheses or a leading article."""
    text = re.sub(r"\([^)]*\)", " ", text)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[^\w\s]", " ", text.casefold())
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"^(the|a|an) ", "", text)


def find_dates(text: str) -> list[PartialDate]:
    """The dates written in ``text`` (ISO or words), in order."""
    found = []
    for m in _DATE.finditer(text):
        try:
            if m["iso"]:
                parts = m["iso"].split("-")
                padded = [parts[0], *(p.zfill(2) for p in parts[1:])]
                found.append(PartialDate.parse("-".join(padded)))
            else:
                month = None
                if m["month"]:
                    prefix = m["month"][:3].lower()
                    month = next(i for i, name in enumerate(MONTHS, 1)
                                 if name[:3].lower() == prefix)
                day = int(m["day"]) if m["day"] and month else None
                iso = f"{m['year']}" + (f"-{month:02d}" if month else "") + (
                    f"-{day:02d}" if day else "")
                found.append(PartialDate.parse(iso))
        except DateError:
            continue
    return found


def check(typed: str, expected: str, template: str, aliases: list[str] | None = None) -> Verdict:
    """Compare what the learner typed with the card's answer."""
    return _check(typed, expected, template, aliases)._replace(typed=typed)


def _check(typed: str, expected: str, template: str, aliases: list[str] | None) -> Verdict:
    if not typed.strip():
        return Verdict("wrong", 1, "no answer typed")
    if template in DATE_TEMPLATES:
        want, got = find_dates(expected), find_dates(typed)
        if want:
            return _check_dates(want, got, expected)
    answers = [expected, *(aliases or [])]
    mine = simplify(typed)
    if any(mine == simplify(a) for a in answers):
        return Verdict("correct", 3, "correct")
    best = max(difflib.SequenceMatcher(None, mine, simplify(a)).ratio() for a in answers)
    tokens = set(mine.split())
    partial = any(tokens and tokens <= set(simplify(a).split()) for a in answers)
    if best >= 0.8 or partial:
        return Verdict("close", 2, f"close: the answer is {expected}")
    return Verdict("wrong", 1, f"the answer is {expected}")


def _check_dates(want: list[PartialDate], got: list[PartialDate], expected: str) -> Verdict:
    if len(got) != len(want):
        return Verdict("wrong", 1, f"the answer is {expected}")
    if got == want:
        return Verdict("correct", 3, "correct")
    if all(w.covers(g) for g, w in zip(got, want, strict=True)):
        # graded at the precision asked: '3 April 1922' is right for '1922'
        return Verdict("correct", 3, "correct")
    if all(g.covers(w) for g, w in zip(got, want, strict=True)):
        return Verdict("close", 2, f"right, but less precise: {expected}")
    return Verdict("wrong", 1, f"the answer is {expected}")
