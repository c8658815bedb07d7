"""The quality gate over every card of a record set, in two passes that hold no card.

``gate.run`` takes every card made at once. A first import of a large file
makes hundreds of thousands of cards, and holding them with the gate's maps
cost about 1.2 KB a card. ``Verdicts`` makes the cards twice instead (the
families are deterministic) and holds only numbers between the passes:

1. The first pass makes every card and keeps what the gate's checks need:
   - giveaway is decided card by card; the few cards it drops (or, written by
     hand, warns about) are kept whole;
   - ambiguity: a digest of each asked question and of its answer go to a
     scratch database, where one query finds the questions asked with two answers;
   - links: the entities each card answers and mentions, as numbers in arrays
     (each entity's name once, in a dictionary), and the hashes of its own groups
     (only compared, card with card, within one run); a digest of each
     card's answer, for text leaks into hand-written questions; the keys of the
     cards a link group may be named after, in the scratch database.
   The link groups are then worked out entity by entity, as ``gate.link`` does,
   and kept as (card, group) numbers.
2. The second pass (``Verdicts.cards``) makes the cards again and gives each with
   its verdict, the kept ones with their link groups added, in the order and
   with the groups ``gate.run`` gives them. Once it has run, ``Verdicts.result``
   holds what ``gate.run`` reports (dropped cards, warnings, text links).

The digests are 128-bit BLAKE2 (text leaks: 64-bit, matched only against the
word runs of hand-written questions; groups: Python's 64-bit string hash, only
ever compared between two cards): two different texts sharing one is not a
practical concern. tests/test_stream.py compares both passes with
``gate.run`` card by card.
"""

from __future__ import annotations

import functools
import hashlib
import sqlite3
from array import array
from collections.abc import Callable, Iterable, Iterator

from cards.gate import (
    MEMO,
    PAIRS_PER_ENTITY,
    STOPWORDS,
    GateResult,
    Problem,
    ambiguous,
    giveaway,
    is_name,
    normal,
    runs,
)
from cards.registry import CardSpec

#: Makes every card, in the same order each time it is called.
Make = Callable[[], Iterable[CardSpec]]

#: ``gate.normal`` without its memo: questions do not repeat (as in ``gate.run``), and
#: ``_answer`` keeps its own memo of answers.
_normal = normal.__wrapped__

#: The arrays' numbers (cards, entities): 32 bits, signed (link codes are
#: negative for an entity), half the memory of Python's 64-bit ints.
_INT = "i"
_SIZE = array(_INT).itemsize

#: Rows written to the scratch tables at a time.
_BATCH = 8192

_SCRATCH = ("CREATE TABLE stream_asked (q BLOB NOT NULL, a BLOB NOT NULL, "
            "n INTEGER NOT NULL)",
            "CREATE TABLE stream_keys (n INTEGER PRIMARY KEY, key TEXT NOT NULL)")


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


def _run_digest(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(),
                          signed=True)


@functools.lru_cache(maxsize=MEMO)
def _answer(answer: str) -> tuple[str, tuple[str, ...], bytes, int | None]:
    """What the first pass needs of an answer (answers repeat: a person's name): its
    normal form and name words (for the giveaway check), the digest of its normal form
    (ambiguity), and the digest ``gate.text_leaks`` looks for in hand-written questions,
    or None (an empty answer, a date, more than ``MAX_ANSWER_WORDS`` words)."""
    a = _normal(answer)  # (this memo is the one to keep: not the gate's as well)
    named = tuple(w for w in a.split() if w not in STOPWORDS)  # gate.name_words' words
    return a, named, _digest(a), _run_digest(a) if is_name(a, named) else None


def _counting_sort(keys: array[int], values: array[int], size: int,
                   skip: set[int] | None = None) -> tuple[array[int], array[int]]:
    """``values`` grouped by ``keys`` (each below ``size``), keeping their order within
    a key: (the start of each key's run, with the end last; the values). Values in
    ``skip`` are left out."""
    start = array(_INT, bytes(_SIZE * (size + 1)))
    for k, v in zip(keys, values, strict=True):
        if not skip or v not in skip:
            start[k + 1] += 1
    for k in range(size):
        start[k + 1] += start[k]
    fill = array(_INT, start)
    out = array(_INT, bytes(_SIZE * start[size]))
    for k, v in zip(keys, values, strict=True):
        if not skip or v not in skip:
            out[fill[k]] = v
            fill[k] += 1
    return start, out


class Unrepeatable(RuntimeError):
    """The families made other cards the second time (a bug: they must be deterministic)."""

    def __init__(self, n: int, key: str | None) -> None:
        super().__init__(f"card {n} ({key or 'none'}) differs from the first pass's: the card "
                         f"families must make the same cards, in the same order, each time")


class Verdicts:
    """The gate's verdict on every card ``make`` makes (the first pass runs here).

    Args:
        make: makes the cards; called once here and once by ``cards``.
        progress: told now and then how many cards the first pass has made.
    """

    def __init__(self, make: Make, progress: Callable[[int], None] | None = None) -> None:
        self.make = make
        self.progress = progress  # told now and then how many cards the first pass made
        # the scratch tables: a private temporary database (SQLite deletes its file, if
        # it spilled to one, on close), apart from the store's transaction; nothing in
        # it outlives the import, so it keeps no journal
        self.conn = sqlite3.connect("")
        self.conn.execute("PRAGMA journal_mode = OFF")
        self.conn.execute("PRAGMA synchronous = OFF")
        self.total = 0
        self.kept = 0  # cards kept (known after the first pass)
        self.authored = False  # some card is written by hand
        self.result = GateResult([])  # complete after ``cards`` has run
        self._giveaways: dict[int, Problem] = {}  # dropped, by ordinal
        self._warned: list[Problem] = []  # hand-written giveaways, kept
        self._hand: list[tuple[int, CardSpec]] = []  # hand-written cards, kept
        self._entities: dict[str, int] = {}
        try:
            for sql in _SCRATCH:
                self.conn.execute(sql)
            self._first_pass()
        except BaseException:  # (an interrupt too): the scratch goes with it
            self.conn.close()
            raise

    def close(self) -> None:
        """Drop the scratch tables."""
        self.conn.close()

    # -- the first pass ------------------------------------------------------

    def _first_pass(self) -> None:
        entities = self._entities
        own_start, own = array(_INT, [0]), array("q")
        answer_e, answer_n = array(_INT), array(_INT)
        mention_e, mention_n = array(_INT), array(_INT)
        leak_d, leak_n = array("q"), array(_INT)
        asked: list[tuple[bytes, bytes, int]] = []
        keys: list[tuple[int, str]] = []
        made = self._made = array("q")  # each card's key, hashed: the second pass checks
        n = -1
        for n, s in enumerate(self.make()):
            made.append(hash(s.key))
            q = _normal(s.question)
            a, named, answer_digest, leak = _answer(s.answer)
            why = None
            if s.options:
                leak = None  # a choice between answers: never a text leak
            elif s.shorts:
                why = giveaway(s.question, s.answer, s.shorts, normal_question=q)
            else:  # gate.giveaway's checks inline (as gate.run), the message only on failing
                padded = f" {q} "
                if (a and f" {a} " in padded) or (named and all(
                        f" {w} " in padded for w in named)):
                    why = giveaway(s.question, s.answer, normal_question=q)
            if why is not None:
                if not s.authored:
                    self._giveaways[n] = Problem(s, "giveaway", why)
                    own_start.append(len(own))
                    continue
                self._warned.append(Problem(s, "giveaway", why))
            if s.authored:
                self.authored = True
                self._hand.append((n, s))
            asked.append((_digest(q), answer_digest, n))
            own.extend(map(hash, s.siblings))
            own_start.append(len(own))
            referred = False  # a link group may be named after it
            if s.entity:
                answer_e.append(entities.setdefault(s.entity, len(entities)))
                answer_n.append(n)
                referred = True
            for m in s.mentions:
                mention_e.append(entities.setdefault(m, len(entities)))
                mention_n.append(n)
            if leak is not None:
                leak_d.append(leak)
                leak_n.append(n)
                referred = True
            if referred or s.authored:
                keys.append((n, s.key))
            if len(asked) >= _BATCH:
                self._write(asked, keys)
                if self.progress is not None:
                    self.progress(n + 1)
        self._write(asked, keys)
        self.total = n + 1
        # ambiguity: a question asked with two answers (the authored cards stay)
        members = {m for (m,) in self.conn.execute(
            "SELECT n FROM stream_asked WHERE q IN (SELECT q FROM stream_asked "
            "GROUP BY q HAVING COUNT(DISTINCT a) > 1)")}
        hand = {m for m, _ in self._hand}
        self._members = members
        self._ambiguous = members - hand
        skip = self._ambiguous
        self.kept = self.total - len(self._giveaways) - len(skip)
        self._own_start, self._own = own_start, own
        # links, as gate.link makes them: (card, group) numbers in the order added
        link_n, link_code = array(_INT), array(_INT)
        self._link_entities(answer_e, answer_n, mention_e, mention_n, skip, link_n, link_code)
        del answer_e, answer_n, mention_e, mention_n
        self._pairs: list[tuple[int, int]] = []
        if self._hand:
            self._text_pairs(leak_d, leak_n, skip, link_n, link_code)
        del leak_d, leak_n
        self._link_start, self._link_code = _counting_sort(link_n, link_code, self.total)

    def _write(self, asked: list[tuple[bytes, bytes, int]], keys: list[tuple[int, str]]) -> None:
        self.conn.executemany("INSERT INTO stream_asked (q, a, n) VALUES (?, ?, ?)", asked)
        self.conn.executemany("INSERT INTO stream_keys (n, key) VALUES (?, ?)", keys)
        asked.clear()
        keys.clear()

    def _own_of(self, n: int) -> set[int]:
        return set(self._own[self._own_start[n]:self._own_start[n + 1]])

    def _link_entities(self, answer_e: array[int], answer_n: array[int], mention_e: array[int],
                       mention_n: array[int], skip: set[int], link_n: array[int],
                       link_code: array[int]) -> None:
        """``gate.link``'s groups of entities: ``link:ENTITY`` (code ``-1 - entity``) for an
        entity named everywhere, else ``link:KEY`` of each answering card (its ordinal)."""
        size = len(self._entities)
        a_start, answerers = _counting_sort(answer_e, answer_n, size, skip)
        m_start, mentioners = _counting_sort(mention_e, mention_n, size, skip)
        done = bytearray(size)
        # in the order each entity is first named by a kept card
        for e, n in zip(mention_e, mention_n, strict=True):
            if done[e] or n in skip:
                continue
            done[e] = 1
            ans = answerers[a_start[e]:a_start[e + 1]]
            if not ans:
                continue
            named = mentioners[m_start[e]:m_start[e + 1]]
            if len(named) * len(ans) > PAIRS_PER_ENTITY:
                for i in (*ans, *named):
                    link_n.append(i)
                    link_code.append(-1 - e)
                continue
            joined: dict[int, list[int]] = {}
            own = {j: self._own_of(j) for j in ans}
            for i in named:
                mine = self._own_of(i)
                for j in ans:
                    if not mine & own[j]:
                        joined.setdefault(j, []).append(i)
            for j, names in joined.items():
                for i in (j, *names):
                    link_n.append(i)
                    link_code.append(j)

    def _text_pairs(self, leak_d: array[int], leak_n: array[int], skip: set[int],
                    link_n: array[int], link_code: array[int]) -> None:
        """``gate.text_leaks``: a hand-written question holding another card's answer."""
        hand = [(n, [_run_digest(r) for r in runs(normal(s.question))]) for n, s in self._hand]
        wanted = {d for _, digests in hand for d in digests}
        answering: dict[int, list[int]] = {}
        for d, n in zip(leak_d, leak_n, strict=True):
            if d in wanted and n not in skip:
                answering.setdefault(d, []).append(n)
        for n, digests in hand:
            mine = self._own_of(n)
            for d in digests:
                for other in answering.get(d, ()):
                    if other != n and not self._own_of(other) & mine:
                        self._pairs.append((n, other))
                        for i in (n, other):
                            link_n.append(i)
                            link_code.append(other)

    # -- the second pass -----------------------------------------------------

    def _key(self, n: int) -> str:
        row = self.conn.execute("SELECT key FROM stream_keys WHERE n = ?", [n]).fetchone()
        return str(row[0])

    def cards(self) -> Iterator[tuple[CardSpec, str | None]]:
        """Every card made again, with None if the gate keeps it (its link groups added)
        or the check that drops it; ``result`` is complete once this has run."""
        entities = list(self._entities)
        start, codes = self._link_start, self._link_code
        keys: dict[int, str] = {}
        members: list[CardSpec] = []
        made = self._made
        n = -1
        for n, s in enumerate(self.make()):
            if n >= len(made) or made[n] != hash(s.key):
                raise Unrepeatable(n, s.key)
            dropped = self._giveaways.get(n)
            if dropped is not None:
                yield dropped.card, "giveaway"
                continue
            if n in self._members:
                members.append(s)
            if n in self._ambiguous:
                yield s, "ambiguous"
                continue
            if start[n] != start[n + 1]:
                extra: list[str] = []
                for code in codes[start[n]:start[n + 1]]:
                    if code < 0:
                        group = f"link:{entities[-1 - code]}"
                    else:
                        key = s.key if code == n else keys.get(code)
                        if key is None:
                            if len(keys) > 4096:
                                keys.clear()
                            key = keys[code] = self._key(code)
                        group = f"link:{key}"
                    if group not in extra:
                        extra.append(group)
                # made by this pass and not shared yet: in place, as gate.link does
                object.__setattr__(s, "siblings", (*s.siblings, *extra))
            yield s, None
        if n + 1 != len(made):
            raise Unrepeatable(n + 1, None)
        self._finish(members)

    def _finish(self, members: list[CardSpec]) -> None:
        """What ``gate.run`` reports: giveaways, then ambiguous questions; text links."""
        dropped = list(self._giveaways.values())
        warnings = list(self._warned)
        asking: dict[str, list[CardSpec]] = {}
        for s in members:
            asking.setdefault(_normal(s.question), []).append(s)
        for specs in asking.values():
            for p in ambiguous(specs):
                (warnings if p.card.authored else dropped).append(p)
        links: dict[str, set[str]] = {}
        for n, other in self._pairs:
            a, b = self._key(n), self._key(other)
            links.setdefault(a, set()).add(b)
            links.setdefault(b, set()).add(a)
        self.result = GateResult([], dropped=dropped, warnings=warnings,
                                 links={k: sorted(v) for k, v in links.items()})
