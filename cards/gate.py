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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from cards.registry import CardSpec

#: Words that carry no name: an answer's other words must not all be in its question.
STOPWORDS = frozenset(
    "a an and as at by de del der des di du for from in into la le of on or the to "
    "van von with".split())

_PUNCT = re.compile(r"[\W_]+", re.UNICODE)


_ASCII_PUNCT = re.compile(r"[^a-z0-9]+")


#: Entries in each memo of normalised texts. Answers repeat near one another (a person's
#: cards come together); a larger memo saved no time at 226,000 cards and held 60 MB more.
MEMO = 16384


@functools.lru_cache(maxsize=MEMO)
def normal(text: str) -> str:
    """Casefolded, without accents or punctuation, single-spaced."""
    if text.isascii():  # most texts: no accents to strip
        return _ASCII_PUNCT.sub(" ", text.lower()).strip()
    decomposed = unicodedata.normalize("NFKD", text)
    if decomposed != text:  # accents (or compatibility forms) to strip
        text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_PUNCT.sub(" ", text.casefold()).split())


def words(text: str) -> list[str]:
    return normal(text).split()


@functools.lru_cache(maxsize=MEMO)
def name_words(text: str) -> frozenset[str]:
    """The words of a name that are not stopwords."""
    return frozenset(w for w in words(text) if w not in STOPWORDS)


def _contains(haystack: str, needle: str) -> bool:
    """True if normalised ``needle`` stands in normalised ``haystack`` as whole words."""
    if not needle:
        return False
    return f" {needle} " in f" {haystack} "


def giveaway(question: str, answer: str, shorts: Iterable[str] = (), *,
             normal_question: str | None = None) -> str | None:
    """Why the question gives its answer away, or None."""
    padded = f" {normal(question) if normal_question is None else normal_question} "
    for text in (answer, *shorts):
        a = normal(text)
        if a and f" {a} " in padded:
            return f"the answer {text!r} stands in the question"
    answer_words = name_words(answer)
    if answer_words and all(f" {w} " in padded for w in answer_words):
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
    normal_question = normal.__wrapped__  # questions do not repeat: no cache
    # the first kept card of each question, and the kept cards of questions asked again
    first_asked: dict[str, CardSpec] = {}
    asked_again: dict[str, list[CardSpec]] = {}
    for s in specs:
        q = normal_question(s.question)
        if s.options:
            why = None
        elif s.shorts:
            why = giveaway(s.question, s.answer, s.shorts, normal_question=q)
        else:
            # giveaway()'s checks inline (most cards pass; the message only for those that fail)
            padded = f" {q} "
            a = normal(s.answer)
            if (a and f" {a} " in padded) or ((answer_words := name_words(s.answer)) and all(
                    f" {w} " in padded for w in answer_words)):
                why = giveaway(s.question, s.answer, normal_question=q)
            else:
                why = None
        if why is None:
            kept.append(s)
            seen = first_asked.setdefault(q, s)
            if seen is not s:
                asked_again.setdefault(q, [seen]).append(s)
        elif s.authored:
            kept.append(s)
            seen = first_asked.setdefault(q, s)
            if seen is not s:
                asked_again.setdefault(q, [seen]).append(s)
            warnings.append(Problem(s, "giveaway", why))
        else:
            dropped.append(Problem(s, "giveaway", why))
    # ambiguous: one question, different answers
    bad: set[str] = set()
    # in the order the questions were first asked
    for q in [q for q in first_asked if q in asked_again] if asked_again else ():
        for p in ambiguous(asked_again[q]):
            if p.card.authored:
                warnings.append(p)
            else:
                bad.add(p.card.key)
                dropped.append(p)
    if bad:
        kept = [s for s in kept if s.key not in bad]
    linked, links = link(kept, text_leaks(kept))
    return GateResult(linked, dropped=dropped, warnings=warnings, links=links)


def ambiguous(askers: list[CardSpec]) -> list[Problem]:
    """The cards that ask one question, if they expect different answers: each with a
    message naming another answer (in the order asked); else none."""
    by_answer: dict[str, list[CardSpec]] = {}
    for s in askers:
        by_answer.setdefault(normal(s.answer), []).append(s)
    if len(by_answer) < 2:
        return []
    # one answer of each kind, to name in the message (made once per question)
    firsts = sorted((group[0].answer, a) for a, group in by_answer.items())
    out: list[Problem] = []
    for norm, group in by_answer.items():
        others = [text for text, a in firsts if a != norm]
        message = (f"the same question has another answer: {others[0]!r}"
                   + (f" (and {len(others) - 1} more)" if len(others) > 1 else ""))
        out.extend(Problem(s, "ambiguous", message) for s in group)
    return out


#: Above this many (question, answer) pairs for one entity, its cards share one group.
PAIRS_PER_ENTITY = 4096


def link(specs: list[CardSpec], pairs: Iterable[tuple[CardSpec, CardSpec]] = ()
         ) -> tuple[list[CardSpec], dict[str, list[str]]]:
    """Join a card whose question names an entity to the cards that answer it.

    Each card of another record that answers entity E gets a sibling group
    ``link:KEY`` (its key), which the cards whose question names E join; an
    entity with more than ``PAIRS_PER_ENTITY`` such pairs gets one group
    ``link:E`` for all its cards. ``pairs`` are more leaks found by text,
    ``(card, card whose answer it names)``; each pair joins a group ``link:KEY``
    of the second card.

    Returns:
        The cards (those linked with their link groups added, in place), and
        the text pairs' links by key.
    """
    answered: dict[str, list[int]] = defaultdict(list)
    mentioned: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(specs):
        if s.entity:
            answered[s.entity].append(i)
        for entity in s.mentions:
            mentioned[entity].append(i)
    groups: dict[int, list[str]] = defaultdict(list)
    for entity, mentioners in mentioned.items():
        answerers = answered.get(entity)
        if not answerers:
            continue
        if len(mentioners) * len(answerers) > PAIRS_PER_ENTITY:
            # an entity named everywhere: one group for all, so the work stays linear
            group = f"link:{entity}"
            for i in (*answerers, *mentioners):
                if group not in groups[i]:
                    groups[i].append(group)
            continue
        # one group per answering card: it and the questions that name its answer (two
        # cards that answer the same entity leak nothing to each other: not grouped)
        joined: dict[int, list[int]] = defaultdict(list)
        for i in mentioners:
            mine = specs[i].siblings
            for j in answerers:
                if not any(g in mine for g in specs[j].siblings):
                    joined[j].append(i)
        for j, names in joined.items():
            group = f"link:{specs[j].key}"
            for i in (j, *names):
                if group not in groups[i]:
                    groups[i].append(group)
    links: dict[str, set[str]] = defaultdict(set)
    index = {s.key: i for i, s in enumerate(specs)} if pairs else {}
    for s, other in pairs:
        group = f"link:{other.key}"
        for i in (index[s.key], index[other.key]):
            if group not in groups[i]:
                groups[i].append(group)
        links[s.key].add(other.key)
        links[other.key].add(s.key)
    for i, extra in groups.items():
        # the cards were made by this generation and are not shared yet: add in place
        # (dataclasses.replace costs more than all the rest of linking)
        object.__setattr__(specs[i], "siblings", (*specs[i].siblings, *extra))
    return specs, {k: sorted(v) for k, v in links.items()}


def _own(card: CardSpec) -> set[str]:
    """A card's own sibling groups: its records', not those of its links."""
    return {g for g in card.siblings if not g.startswith("link:")}


#: The longest answer, in words, that a hand-written question is searched for.
MAX_ANSWER_WORDS = 8


def is_name(normal_answer: str, words: Iterable[str]) -> bool:
    """True if an answer (its normal form and its name words) is one that ``text_leaks``
    looks for in hand-written questions: at most ``MAX_ANSWER_WORDS`` words, and a
    name, not a date (some name word is not all digits)."""
    return (bool(normal_answer) and len(normal_answer.split()) <= MAX_ANSWER_WORDS
            and not all(w.isdigit() for w in words))


def runs(question: str) -> Iterator[str]:
    """The runs of up to ``MAX_ANSWER_WORDS`` words of a normalised question, in order
    (by first word, then length), each once: where ``text_leaks`` looks for answers."""
    q = question.split()
    seen: set[str] = set()
    for i in range(len(q)):
        for j in range(i + 1, min(len(q), i + MAX_ANSWER_WORDS) + 1):
            run = " ".join(q[i:j])
            if run not in seen:
                seen.add(run)
                yield run


def text_leaks(specs: list[CardSpec]) -> list[tuple[CardSpec, CardSpec]]:
    """Hand-written cards whose question holds another card's answer as words
    (for ``study check``, and linked by the gate).

    Answers are indexed by their normalised text; each hand-written question
    looks up its runs of up to ``MAX_ANSWER_WORDS`` words, so the cost grows
    with the number of cards, not with its square.
    """
    answers: dict[str, list[CardSpec]] = defaultdict(list)
    indexed: dict[str, str] = {}  # answer text -> its normal form if indexed, else ""
    for s in specs:
        if s.options:
            continue
        a = indexed.get(s.answer)
        if a is None:  # answers repeat (a person's name): judge each text once
            a = normal(s.answer)
            if not is_name(a, name_words(s.answer)):
                a = ""
            indexed[s.answer] = a
        if a:
            answers[a].append(s)
    found = []
    for s in specs:
        if not s.authored:
            continue
        mine = _own(s)
        for run in runs(normal(s.question)):
            for other in answers.get(run, ()):
                if other.key != s.key and not _own(other) & mine:
                    found.append((s, other))
    return found
