"""The quality gate: giveaways, ambiguous cards and leaks.

- **giveaway**: the answer, one of its other spellings (an abbreviation), or
  all of its name words stand in the question, compared without case,
  accents or punctuation. Words such as "of" and "the" do not count.
- **ambiguous**: two cards ask the same question and expect different answers.
- **leak**: a card's question names what another card answers (its entity).

Generated cards that fail the first two are dropped; a card written by hand
(a fact) is kept and reported. Leaks become links: the cards join a sibling
group ``link:ENTITY``, which the review buries together.
Every check is one pass over the cards (dictionaries, no pairwise loops).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from cards.registry import CardSpec

#: Words that carry no name: an answer's other words must not all be in its question.
STOPWORDS = frozenset(
    "a an and as at by de del der des di du for from in into la le of on or the to "
    "van von with".split())

_PUNCT = re.compile(r"[\W_]+", re.UNICODE)


@functools.lru_cache(maxsize=262144)
def normal(text: str) -> str:
    """Casefolded, without accents or punctuation, single-spaced."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(_PUNCT.sub(" ", text.casefold()).split())


def words(text: str) -> list[str]:
    return normal(text).split()


def name_words(text: str) -> frozenset[str]:
    """The words of a name that are not stopwords."""
    return frozenset(w for w in words(text) if w not in STOPWORDS)


def _contains(haystack: str, needle: str) -> bool:
    """True if normalised ``needle`` stands in normalised ``haystack`` as whole words."""
    if not needle:
        return False
    return f" {needle} " in f" {haystack} "


def giveaway(question: str, answer: str, shorts: Iterable[str] = ()) -> str | None:
    """Why the question gives its answer away, or None."""
    q = normal(question)
    for text in (answer, *shorts):
        if _contains(q, normal(text)):
            return f"the answer {text!r} stands in the question"
    answer_words = name_words(answer)
    if answer_words and answer_words <= set(q.split()):
        return f"every word of the answer {answer!r} stands in the question"
    return None


@dataclass(frozen=True)
class Problem:
    """A card that failed a check."""

    card: CardSpec
    check: str
    message: str


@dataclass
class GateResult:
    """The cards that passed, what was dropped, and what is reported on hand-written cards."""

    cards: list[CardSpec]
    dropped: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    links: dict[str, list[str]] = field(default_factory=dict)


def run(specs: Iterable[CardSpec]) -> GateResult:
    """Check cards: drop generated failures, report hand-written ones, link leaks."""
    kept: list[CardSpec] = []
    dropped: list[Problem] = []
    warnings: list[Problem] = []
    for s in specs:
        why = None if s.options else giveaway(s.question, s.answer, s.shorts)
        if why is None:
            kept.append(s)
        elif s.authored:
            kept.append(s)
            warnings.append(Problem(s, "giveaway", why))
        else:
            dropped.append(Problem(s, "giveaway", why))
    # ambiguous: one question, different answers
    answers: dict[str, dict[str, list[CardSpec]]] = defaultdict(dict)
    for s in kept:
        answers[normal(s.question)].setdefault(normal(s.answer), []).append(s)
    bad: set[str] = set()
    for by_answer in answers.values():
        if len(by_answer) < 2:
            continue
        clash = [s for group in by_answer.values() for s in group]
        for s in clash:
            others = sorted({c.answer for c in clash if normal(c.answer) != normal(s.answer)})
            message = (f"the same question has another answer: {others[0]!r}"
                       + (f" (and {len(others) - 1} more)" if len(others) > 1 else ""))
            if s.authored:
                warnings.append(Problem(s, "ambiguous", message))
            else:
                bad.add(s.key)
                dropped.append(Problem(s, "ambiguous", message))
    if bad:
        kept = [s for s in kept if s.key not in bad]
    linked, links = link(kept, text_leaks(kept))
    return GateResult(linked, dropped=dropped, warnings=warnings, links=links)


def link(specs: list[CardSpec], pairs: Iterable[tuple[CardSpec, CardSpec]] = ()
         ) -> tuple[list[CardSpec], dict[str, list[str]]]:
    """Join a card whose question names an entity to the cards that answer it.

    ``pairs`` are more leaks found by text, ``(card, card whose answer it names)``;
    each pair gets a group ``link:KEY`` of the second card.

    Returns:
        The cards (those linked with a ``link:ENTITY`` sibling group added),
        and for each linked card the keys of the cards it is linked to.
    """
    answered: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(specs):
        if s.entity:
            answered[s.entity].append(i)
    groups: dict[int, list[str]] = defaultdict(list)
    links: dict[str, set[str]] = defaultdict(set)
    for i, s in enumerate(specs):
        for entity in s.mentions:
            targets = [j for j in answered.get(entity, ())
                       if not set(specs[j].siblings) & set(s.siblings)]
            if not targets:
                continue
            group = f"link:{entity}"
            if group not in groups[i]:
                groups[i].append(group)
            for j in targets:
                if group not in groups[j]:
                    groups[j].append(group)
                links[s.key].add(specs[j].key)
                links[specs[j].key].add(s.key)
    index = {s.key: i for i, s in enumerate(specs)} if pairs else {}
    for s, other in pairs:
        group = f"link:{other.key}"
        for i in (index[s.key], index[other.key]):
            if group not in groups[i]:
                groups[i].append(group)
        links[s.key].add(other.key)
        links[other.key].add(s.key)
    out = [replace(s, siblings=(*s.siblings, *groups[i])) if i in groups else s
           for i, s in enumerate(specs)]
    return out, {k: sorted(v) for k, v in links.items()}


def _own(card: CardSpec) -> set[str]:
    """A card's own sibling groups: its records', not those of its links."""
    return {g for g in card.siblings if not g.startswith("link:")}


def text_leaks(specs: list[CardSpec]) -> list[tuple[CardSpec, CardSpec]]:
    """Hand-written cards whose question holds another card's answer as words,
    or whose answer stands in another card's question (for ``study check``).

    Only the texts of hand-written cards are searched, against an index of
    answers by their first word, so the cost grows with the number of cards.
    """
    by_first: dict[str, list[tuple[str, CardSpec]]] = defaultdict(list)
    for s in specs:
        if s.options:
            continue
        a = normal(s.answer)
        if a and not a.isdigit() and name_words(s.answer):
            by_first[a.split()[0]].append((a, s))
    found = []
    for s in specs:
        if not s.authored:
            continue
        q = normal(s.question)
        padded = f" {q} "
        mine = _own(s)
        for w in set(q.split()):
            for a, other in by_first.get(w, ()):
                if other.key != s.key and not _own(other) & mine and f" {a} " in padded:
                    found.append((s, other))
    return found
