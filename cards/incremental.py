"""Incremental imports: make only the cards that a change of records can reach.

A card belongs to the records of its own sibling groups (``KIND:ID``: a
tenure's cards to ``tenure:ID``, a succession card to both tenures). For an
import that changes a few records, ``plan``:

1. finds the groups whose cards the change may alter (``_reach``: a renamed
   person reaches the person's card and those of the person's tenures; a
   tenure reaches every tenure of its role and of its holder; ...);
2. loads from the store only the records those cards are made from
   (``Neighbourhood``, through indexed look-ups);
3. widens the groups until no card outside them shares a term with a card
   inside: the quality gate makes cards act on one another only through
   shared terms (the question asked, for ambiguity; the entities answered and
   mentioned, for links; answers standing in hand-written questions, for text
   leaks), and the gate index (``gate_cards``, ``gate_terms``) keeps every
   card's terms (those of dropped cards too) from the last generation;
4. runs the families and the gate over those records and keeps the cards of
   those groups, in the order a full generation gives them.

Inside the groups the cards are then exactly those of a full generation, and
no card outside them can change (tests/test_incremental.py checks this on
random edits). The heads and chronology families work across every event of
a party or a tag: a change that reaches them (an event, a tenure, an office
or an organ, in a store with events) makes the cards of every event, with
the records heads cards draw on (``_every_event``); the rest stays scoped.
Past ``MAX_GROUPS`` groups ``plan`` returns None and the caller makes every
card, as before.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from cards.gate import GateResult, giveaway, is_name, name_words, normal, run, runs
from cards.generate import candidates as all_candidates
from cards.records import KINDS
from cards.registry import CardSpec, Record, Records
from cards.schema import GATE_ANSWERS, asked_term
from cards.store import CHUNK, Store, _chunked, _chunked_rows

#: Give up scoping (make every card) past this many groups.
MAX_GROUPS = 20_000
#: ... or past this many rounds of widening.
MAX_ROUNDS = 12

Ref = tuple[str, str]


class Unscoped(Exception):
    """The change reaches cards that are not scoped: make every card."""


class _EveryEvent(Exception):
    """The cards of every event must be made (with what the heads family draws on)."""


def _every_event(nb: Neighbourhood) -> set[str]:
    """Load what the cards of every event are made from; their groups.

    The heads family joins each event to the tenures of the roles of its organs
    (up the ``part_of`` chain) and to the top post of its party, chosen across
    every role of the party and every event of it; chronology pairs events
    across each tag. So: every event, organ and office, and the tenures of
    every role held in a party or in an organ that an event reaches.
    """
    nb.every_event = True
    events = nb.get("event", _all_ids(nb, "event"))
    organs = nb.get("organ", _all_ids(nb, "organ"))
    offices = nb.get("office", _all_ids(nb, "office"))
    reached: set[str] = set()
    for e in events.values():
        for oid in e.get("organs", []):
            for _ in range(3):  # heads.DEPTH
                if oid not in organs or oid in reached:
                    break
                reached.add(oid)
                oid = organs[oid].get("part_of", "")
    for oid in organs:
        seen: set[str] = set()
        current = oid
        while current in organs and current not in seen:
            if organs[current].get("kind") == "party":
                reached.add(oid)
                break
            seen.add(current)
            current = organs[current].get("part_of", "")
    held = [o for o, office in offices.items() if office.get("organ") in reached]
    role = nb.chain("office", "succeeded_by", held) if held else set()
    tenures = nb.where("tenure", "office", role)
    nb.get("person", {t["person"] for t in tenures.values()})
    return {f"event:{e}" for e in events}


def _all_ids(nb: Neighbourhood, kind: str) -> list[str]:
    ids = [r[0] for r in nb.conn.execute(f"SELECT id FROM {KINDS[kind].plural}")]
    return ids + [rid for k, rid in nb.written if k == kind]


def own_groups(spec: CardSpec) -> list[str]:
    """A card's record groups (not those that the gate's links added)."""
    return [g for g in spec.siblings if not g.startswith("link:")]


def leak_answer(spec: CardSpec) -> str | None:
    """The normalised answer that ``gate.text_leaks`` looks for in hand-written
    questions, or None (a date, a long answer, a choice between options)."""
    if spec.options:
        return None
    a = normal(spec.answer)
    return a if is_name(a, name_words(spec.answer)) else None


def terms(spec: CardSpec, asked: bool = True, answers: bool = True,
          kept: bool = False) -> list[tuple[str, str | None]]:
    """The terms through which a card acts on others, as the gate index keeps them:
    ``u:`` its groups (only for a card the gate dropped: ``card_groups`` has those of
    the cards kept, ``kept``), ``e:`` the entities it answers or mentions, ``q:`` a
    digest of its normalised question (``asked_term``; with its answer; only if
    ``asked``: it passed the giveaway check, so that it takes part in the ambiguity
    check), ``a:`` its answer as a
    text leak (only if ``answers``: some card is written by hand), ``w:`` its
    question if written by hand."""
    out: list[tuple[str, str | None]] = [] if kept else [(f"u:{g}", None)
                                                         for g in own_groups(spec)]
    if spec.entity:
        out.append((f"e:{spec.entity}", None))
    out.extend((f"e:{m}", None) for m in spec.mentions)
    question = _normal_question(spec.question)
    if asked:
        out.append((asked_term(question), spec.answer))
    answer = leak_answer(spec) if answers else None
    if answer:
        out.append((f"a:{answer}", None))
    if spec.authored:
        out.append((f"w:{question}", None))
    return out


def indexed(result: GateResult,
            answers: bool) -> Iterator[tuple[str, list[tuple[str, str | None]]]]:
    """Every card made, kept or dropped, with its terms (for ``Store.sync_cards``), made
    as they are written (not held at once). ``answers``: with their answers as text
    leaks (``answers_needed``)."""
    for s in result.cards:
        yield s.key, verdict_terms(s, None, answers)
    for p in result.dropped:
        yield p.card.key, verdict_terms(p.card, p.check, answers)


def verdict_terms(spec: CardSpec, check: str | None,
                  answers: bool) -> list[tuple[str, str | None]]:
    """A card's terms by the gate's verdict on it: ``check`` None if kept, else the check
    that dropped it (a card the giveaway check dropped asks no question)."""
    return terms(spec, check != "giveaway", answers, kept=check is None)


def answers_needed(result: GateResult) -> bool:
    """True if some card is written by hand: only then can an answer leak into a
    question, and the index keeps every answer (``a:`` terms)."""
    return any(s.authored for s in result.cards) or any(p.card.authored
                                                        for p in result.dropped)


def _asked(spec: CardSpec) -> bool:
    """True if the gate asks the card's question (no giveaway, or written by hand)."""
    return bool(spec.options or spec.authored
                or giveaway(spec.question, spec.answer, spec.shorts) is None)


#: Questions do not repeat: normalised without the memo (as ``gate.run`` does).
_normal_question = normal.__wrapped__


#: New records sort after the stored ones (by rowid), in the order written.
_NEW = 1 << 62


class Neighbourhood:
    """Records loaded from the store on demand, with the import's new values in place.

    Records keep the order of a full generation's record set: the store's order
    (rowid), then records new to the store in the order written.
    """

    def __init__(self, store: Store, written: list[tuple[str, Record]]) -> None:
        self.store = store
        self.conn: sqlite3.Connection = store.db.conn
        self.written: dict[Ref, Record] = {(k, r["id"]): r for k, r in written}
        self.order: dict[Ref, int] = {ref: i for i, ref in enumerate(self.written)}
        self.loaded: dict[str, dict[str, tuple[int, Record]]] = {k: {} for k in KINDS}
        self.absent: set[Ref] = set()
        self.every_event = False  # every event is loaded, with what heads cards need

    def get(self, kind: str, ids: Iterable[str]) -> dict[str, Record]:
        """The records of ``kind`` with ``ids`` that exist (new values for written ones)."""
        have = self.loaded[kind]
        wanted = [i for i in dict.fromkeys(ids) if i and i not in have
                  and (kind, i) not in self.absent]
        if wanted:
            stored: dict[str, Record] = {}
            for i in range(0, len(wanted), CHUNK):
                stored.update(self.store.records(kind, wanted[i:i + CHUNK]))
            rowids = dict(_chunked_rows(
                self.conn, f"SELECT id, rowid FROM {KINDS[kind].plural} WHERE id IN ({{}})",
                list(stored)))
            for rid in wanted:
                new = self.written.get((kind, rid))
                if rid in stored:
                    have[rid] = (rowids[rid], new if new is not None else stored[rid])
                elif new is not None:
                    # after every stored record (an int: 1e18 + i would round to 1e18)
                    have[rid] = (_NEW + self.order[(kind, rid)], new)
                else:
                    self.absent.add((kind, rid))
        return {i: have[i][1] for i in ids if i in have}

    def where(self, kind: str, column: str, values: Iterable[str]) -> dict[str, Record]:
        """The records of ``kind`` whose ``column`` (now) holds one of ``values``."""
        values = sorted({v for v in values if v})
        if not values:
            return {}
        ids = _chunked(self.conn, f'SELECT id FROM {KINDS[kind].plural} WHERE "{column}" IN ({{}})',
                       values)
        ids += [rid for (k, rid), rec in self.written.items()
                if k == kind and rec.get(column) in values]
        wanted = set(values)
        return {rid: rec for rid, rec in self.get(kind, ids).items()
                if rec.get(column) in wanted}

    def chain(self, kind: str, column: str, start: Iterable[str]) -> set[str]:
        """The ids joined to ``start`` by ``column`` either way (a role's offices, an
        organ's line of successors)."""
        seen: set[str] = set()
        todo = set(start)
        while todo:
            seen |= todo
            recs = self.get(kind, todo)
            ahead = {r[column] for r in recs.values() if r.get(column)}
            behind = set(self.where(kind, column, todo))
            todo = (ahead | behind) - seen
        return {i for i in seen if i in self.loaded[kind]}

    def records(self) -> Records:
        return {kind: {rid: rec for rid, (_, rec) in sorted(have.items(),
                                                             key=lambda kv: kv[1][0])}
                for kind, have in self.loaded.items()}

    def has_events(self) -> bool:
        return any(k == "event" for k, _ in self.written) or self.conn.execute(
            "SELECT 1 FROM events LIMIT 1").fetchone() is not None


def _reach(nb: Neighbourhood, kind: str, new: Record | None,
           old: Record | None) -> set[str]:
    """The groups whose cards a change of one record may alter (``new`` None: removed)."""
    versions = [v for v in (new, old) if v is not None]
    rid = versions[0]["id"]
    groups = {f"{kind}:{rid}"}
    if kind == "person":
        groups |= {f"tenure:{t}" for t in nb.where("tenure", "person", [rid])}
        groups |= {f"tenure:{t}" for t in _stored_ids(nb, "tenures", "person", [rid])}
    elif kind == "tenure":
        people = {v["person"] for v in versions}
        offices = {v["office"] for v in versions}
        groups |= _people_groups(nb, people)
        groups |= _role_groups(nb, offices)
    elif kind == "office":
        offices = {rid} | {v["succeeded_by"] for v in versions if v.get("succeeded_by")}
        before = set(nb.where("office", "succeeded_by", [rid]))
        before |= set(_stored_ids(nb, "offices", "succeeded_by", [rid]))
        groups |= {f"office:{o}" for o in before}
        groups |= _role_groups(nb, offices | before)
    elif kind == "organ":
        near = {rid} | {v[f] for v in versions for f in ("succeeded_by", "part_of") if v.get(f)}
        for column in ("part_of", "succeeded_by"):
            near |= set(nb.where("organ", column, [rid]))
            near |= set(_stored_ids(nb, "organs", column, [rid]))
        line = nb.chain("organ", "succeeded_by", near)
        groups |= {f"organ:{o}" for o in near | line}
    return groups


def _stored_ids(nb: Neighbourhood, table: str, column: str, values: list[str]) -> list[str]:
    """Ids whose stored (old) ``column`` holds one of ``values``."""
    return _chunked(nb.conn, f'SELECT id FROM {table} WHERE "{column}" IN ({{}})', values)


def _people_groups(nb: Neighbourhood, people: set[str]) -> set[str]:
    """The people's groups and those of all their tenures (the "who" card lists them; a
    tenure's office card depends on its holder's other tenures)."""
    groups = {f"person:{p}" for p in people}
    groups |= {f"tenure:{t}" for t in nb.where("tenure", "person", people)}
    groups |= {f"tenure:{t}" for t in _stored_ids(nb, "tenures", "person", sorted(people))}
    return groups


def _role_groups(nb: Neighbourhood, offices: set[str]) -> set[str]:
    """The groups of every tenure of the roles of ``offices`` (succession and as-of work
    over a whole role), and of their holders."""
    role = nb.chain("office", "succeeded_by", offices) | offices
    tenures = set(nb.where("tenure", "office", role))
    tenures |= set(_stored_ids(nb, "tenures", "office", sorted(role)))
    people = {t["person"] for t in nb.get("tenure", tenures).values()}
    return {f"tenure:{t}" for t in tenures} | {f"person:{p}" for p in people}


def _context(nb: Neighbourhood, groups: Iterable[str]) -> None:
    """Load every record the cards of ``groups`` are made from."""
    for group in groups:
        kind, rid = group.split(":", 1)
        if kind == "person":
            tenures = nb.where("tenure", "person", [rid])
            nb.get("person", [rid])
            nb.get("office", {t["office"] for t in tenures.values()})
        elif kind == "tenure":
            tenure = nb.get("tenure", [rid]).get(rid)
            if tenure is None:
                continue
            for t in [tenure, *nb.where("tenure", "person", [tenure["person"]]).values()]:
                nb.get("person", [t["person"]])
                nb.get("office", [t["office"]])
            role = nb.chain("office", "succeeded_by", [tenure["office"]])
            mates = nb.where("tenure", "office", role)
            nb.get("person", {t["person"] for t in mates.values()})
        elif kind == "office":
            office = nb.get("office", [rid]).get(rid)
            if office is not None and office.get("succeeded_by"):
                nb.get("office", [office["succeeded_by"]])
        elif kind == "organ":
            organ = nb.get("organ", [rid]).get(rid)
            if organ is None:
                continue
            line = nb.chain("organ", "succeeded_by", [rid])
            parents = {o["part_of"] for o in nb.get("organ", line).values() if o.get("part_of")}
            while parents:  # up the part_of chain: a cycle through it is checked
                parents -= set(nb.loaded["organ"])
                found = nb.get("organ", parents)
                parents = {o["part_of"] for o in found.values() if o.get("part_of")}
            if not nb.every_event and nb.conn.execute(
                    "SELECT 1 FROM event_organs WHERE organ = ? LIMIT 1", [rid]).fetchone():
                raise _EveryEvent  # the events it names are checked against its dates
        elif kind == "fact":
            nb.get("fact", [rid])
        elif kind == "event":
            if not nb.every_event:  # (then an event not loaded is gone)
                raise _EveryEvent
        else:
            raise Unscoped(f"cards of {kind} records")


def _ambiguity(index: _Index, made: list[CardSpec], before: set[str],
               questions: list[str]) -> tuple[list[CardSpec], set[str]]:
    """The cards outside the groups that ask a question the groups' cards ask (before or
    after the change): those whose fate (dropped as ambiguous or not) the change alters
    must be made again (their keys, second); the others stand in the gate's run as
    phantoms (first) that only carry their answer, asking the question of the card
    made that asks it (the index keeps a digest of it). A question that no card made
    asks needs no phantom: the phantoms would be checked only against one another,
    and are taken out of the result."""
    phantoms: list[CardSpec] = []
    joined: set[str] = set()
    new: dict[str, set[str]] = {}
    text: dict[str, str] = {}  # q: term -> the normalised question
    for s in made:
        if _asked(s):
            question = normal(s.question)
            term = asked_term(question)
            new.setdefault(term, set()).add(normal(s.answer))
            text[term] = question
    for q, askers in index.askers(questions).items():
        outside = [(k, a) for k, a in askers if k not in before]
        if not outside:
            continue
        theirs = {normal(a) for _, a in outside}
        old = {normal(a) for k, a in askers if k in before}
        if (len(theirs | old) > 1) != (len(theirs | new.get(q, set())) > 1):
            joined.update(k for k, _ in outside)
            continue
        if q in text:
            phantoms.extend(CardSpec(f"~{k}", "", "", "", "", text[q], a, (), (),
                                     options=("~",)) for k, a in outside)
    return phantoms, joined


def _run(made: list[CardSpec], phantoms: list[CardSpec]) -> GateResult:
    """The gate over the groups' cards, with phantoms of the cards outside that ask the
    same questions (taken out of the result again)."""
    result = run([*made, *phantoms])
    if phantoms:
        result.cards = [s for s in result.cards if not s.key.startswith("~")]
        result.dropped = [p for p in result.dropped if not p.card.key.startswith("~")]
        result.warnings = [p for p in result.warnings if not p.card.key.startswith("~")]
    return result


@dataclass
class Plan:
    """The cards of ``groups``, made from ``records`` (the part of the store they need)."""

    groups: set[str]
    records: Records
    result: GateResult
    answers: bool  # the index keeps answers (``a:`` terms)


class _Index:
    """Look-ups in the gate index (``gate_cards``, ``gate_terms``), each key's terms read
    once."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.terms_of: dict[str, list[str]] = {}
        self.with_term: dict[str, list[str]] = {}
        self.authored: dict[str, set[str]] | None = None
        self.asked: dict[str, list[tuple[str, str]]] = {}

    def _read(self, memo: dict[str, list[Any]], wanted: set[str], sql: str) -> None:
        """Fill ``memo`` for the ``wanted`` values it lacks: each row of ``sql`` (its
        ``IN ({})`` takes them) is a value and what it maps to (one column, or a tuple
        of several)."""
        missing = sorted(w for w in wanted if w not in memo)
        for w in missing:
            memo[w] = []
        for row in _chunked_rows(self.conn, sql, missing):
            memo[row[0]].append(row[1] if len(row) == 2 else tuple(row[1:]))

    def keys(self, terms: Iterable[str]) -> set[str]:
        terms = set(terms)
        self._read(self.with_term, terms, "SELECT t.term, c.key FROM gate_terms t "
                   "JOIN gate_cards c ON c.id = t.card WHERE t.term IN ({})")
        return {k for t in terms for k in self.with_term[t]}

    def askers(self, questions: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
        """``q:`` term -> the cards that ask it, as (key, answer)."""
        questions = set(questions)
        self._read(self.asked, questions, "SELECT t.term, c.key, c.answer FROM gate_terms t "
                   "JOIN gate_cards c ON c.id = t.card WHERE t.term IN ({})")
        return {q: self.asked[q] for q in questions}

    def members(self, groups: Iterable[str]) -> set[str]:
        """The keys of the cards of ``groups``: kept ones (``card_groups``; retired cards
        too, which have no terms) and dropped ones (``u:`` terms)."""
        groups = sorted(set(groups))
        found = set(_chunked(self.conn, "SELECT key FROM card_groups WHERE grp IN ({})",
                             groups))
        return found | self.keys(f"u:{g}" for g in groups)

    def groups(self, keys: Iterable[str]) -> set[str]:
        """The record groups of the cards ``keys`` (kept or dropped)."""
        keys = sorted(set(keys))
        found = {g for g in _chunked(self.conn, "SELECT g.value FROM cards c, "
                                     "json_each(c.siblings) g WHERE c.key IN ({})", keys)
                 if not g.startswith("link:")}
        return found | {t[2:] for ts in self.terms(keys).values() for t in ts
                        if t.startswith("u:")}

    def terms(self, keys: Iterable[str]) -> dict[str, list[str]]:
        keys = set(keys)
        missing = sorted(k for k in keys if k not in self.terms_of)
        for k in missing:
            self.terms_of[k] = []
        for key, terms in _chunked_rows(self.conn, "SELECT key, terms FROM gate_cards "
                                        "WHERE key IN ({})", missing):
            self.terms_of[key].extend(json.loads(terms))
        return {k: self.terms_of[k] for k in keys}

    def questions(self) -> dict[str, set[str]]:
        """Every hand-written card's key, with the word runs of its question."""
        if self.authored is None:
            self.authored = {}
            for term, key in self.conn.execute(
                    "SELECT t.term, c.key FROM gate_terms t JOIN gate_cards c ON c.id = t.card "
                    "WHERE t.term >= 'w:' AND t.term < 'w;'"):
                self.authored[key] = set(runs(term[2:]))
        return self.authored


def plan(store: Store, written: list[tuple[str, Record]],
         old: dict[Ref, Record], removed: list[tuple[str, Record]] | None = None) -> Plan | None:
    """The cards that writing ``written`` (records with their ``old`` stored values, if
    any) can change, made as a full generation would make them; None if the change
    is not scoped (the caller then makes every card).

    Args:
        removed: records just removed from the store, as they were.
    """
    nb = Neighbourhood(store, written)
    index = _Index(store.db.conn)
    keeps_answers = bool(store.config().get(GATE_ANSWERS))
    try:
        groups: set[str] = set()
        for kind, rec in written:
            groups |= _reach(nb, kind, rec, old.get((kind, rec["id"])))
        removed = removed or []
        for kind, rec in removed:
            groups |= _reach(nb, kind, None, rec)
        for _ in range(MAX_ROUNDS):
            if len(groups) > MAX_GROUPS:
                return None
            if not nb.every_event and nb.has_events() and (
                    any(g.startswith(("tenure:", "event:")) for g in groups)
                    or any(k in ("office", "organ") for k, _ in [*written, *removed])):
                # heads cards join events to tenures across a whole party
                groups |= _every_event(nb)
            try:
                _context(nb, groups)
            except _EveryEvent:
                groups |= _every_event(nb)
                _context(nb, groups)
            records = nb.records()
            made = [s for s in all_candidates(records) if any(g in groups for g in s.siblings)]
            before = index.members(groups)
            reached = {t for s in made for t, _ in terms(s)}
            reached.update(t for ts in index.terms(before).values() for t in ts)
            others = index.keys(t for t in reached if t.startswith("e:"))
            # text leaks: answers standing in hand-written questions, either way
            answers = {t[2:] for t in reached if t.startswith("a:")}
            for key, asks in index.questions().items():
                if asks & answers:
                    others.add(key)
            for t in [t for t in reached if t.startswith("w:")]:
                others |= index.keys(f"a:{r}" for r in runs(t[2:]))
            # ambiguity: a question asked outside the groups too
            phantoms, joined = _ambiguity(index, made, before,
                                          [t for t in reached if t.startswith("q:")])
            others |= joined
            more = index.groups(others - before) - groups
            if not more:
                if not keeps_answers and any(s.authored for s in made):
                    return None  # the first card written by hand: answers are not indexed
                return Plan(groups, records, _run(made, phantoms), keeps_answers)
            groups |= more
        return None
    except Unscoped:
        return None
