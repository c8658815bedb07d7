"""Authoring: reading TOML files of records, checking them, writing them back.

A file holds arrays of tables, one per kind (``[[person]]``, ``[[tenure]]``,
...). Every problem in the input is reported with its file, line and field;
nothing is written unless the whole input is valid.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import tomli as tomllib  # the compiled tomli: tomllib's parser, 3x faster

from cards.check import Finding, card_findings, record_findings
from cards.errors import InvalidInput, Problem
from cards.files import InputFileError, read_input
from cards.gate import GateResult
from cards.generate import gate_all, no_gc
from cards.incremental import indexed, plan
from cards.records import KINDS, Kind, Record, default_tenure_id, normalise
from cards.registry import Records
from cards.store import Store
from cards.tags import has_tag
from cards.text import json_text

_HEADER = re.compile(r"^\s*\[\[\s*([A-Za-z0-9_-]+)\s*\]\]")
_KEY = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")
_TOML_ERROR = re.compile(r"^(.*) \(at line (\d+), column (\d+)\)$")
_TOML_EOF = re.compile(r"^(.*) \(at end of document\)$")


@dataclass(slots=True)
class Located:
    """A record read from a file, with where its fields stand.

    Lines are found only when a problem needs one: a valid file is never
    scanned twice.
    """

    kind: str
    record: Record
    file: str
    lines: Lines | None = None
    index: int = 0

    @property
    def line(self) -> int | None:
        return self.lines.of(self.kind, self.index)[0] if self.lines else None

    @property
    def field_lines(self) -> dict[str, int]:
        return self.lines.of(self.kind, self.index)[1] if self.lines else {}

    def problem(self, field_name: str | None, message: str) -> Problem:
        line, fields = self.lines.of(self.kind, self.index) if self.lines else (None, {})
        return Problem(self.file, fields.get(field_name or "", line), self.kind,
                       self.record.get("id"), field_name, message)


class Lines:
    """Where each ``[[kind]]`` table and its keys stand in a file's text, found on demand.

    The text is kept compressed (a fifteenth of its size for a long file of records):
    it is read again only for a problem.
    """

    def __init__(self, text: str) -> None:
        self._packed = zlib.compress(text.encode("utf-8", "surrogatepass"), 1)
        self._text: str | None = None
        self._where: dict[tuple[str, int], tuple[int, dict[str, int]]] | None = None

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = zlib.decompress(self._packed).decode("utf-8", "surrogatepass")
        return self._text

    def of(self, kind: str, index: int) -> tuple[int | None, dict[str, int]]:
        if self._where is None:
            self._where = _locate(self.text)
        found = self._where.get((kind, index))
        return found if found else (None, {})

    def top(self, key: str) -> int | None:
        """The line of the first ``[[key]]``, else of a top-level ``[key]`` or ``key =``."""
        line = self.of(key, 0)[0]
        return line if line is not None else _top_line(self.text, key)


def _open_string(line: str, state: str | None) -> str | None:
    """The multi-line string (its delimiter) still open at the end of ``line``.

    ``state`` is the one open at its start. Quotes inside other strings and
    comments do not count.
    """
    i, n = 0, len(line)
    while i < n:
        if state is not None:
            if state == '"""' and line[i] == "\\":
                i += 2
                continue
            if line.startswith(state, i):
                run = len(line[i:]) - len(line[i:].lstrip(state[0]))
                i += min(run, 5)  # up to two quotes of content before the closing three
                state = None
                continue
            i += 1
            continue
        char = line[i]
        if char == "#":
            break
        if line.startswith('"""', i) or line.startswith("'''", i):
            state = line[i:i + 3]
            i += 3
        elif char in "\"'":
            i += 1
            while i < n and line[i] != char:
                i += 2 if char == '"' and line[i] == "\\" else 1
            i += 1
        else:
            i += 1
    return state


def _locate(text: str) -> dict[tuple[str, int], tuple[int, dict[str, int]]]:
    """Lines of each ``[[kind]]`` table and of its keys, by (kind, index)."""
    where: dict[tuple[str, int], tuple[int, dict[str, int]]] = {}
    counts: dict[str, int] = {}
    current: tuple[str, int] | None = None
    open_string: str | None = None
    for number, line in enumerate(text.split("\n"), start=1):  # TOML breaks lines at \n only
        inside = open_string is not None
        open_string = _open_string(line, open_string)
        if inside:
            continue
        header = _HEADER.match(line)
        if header:
            kind = header[1]
            index = counts.get(kind, 0)
            counts[kind] = index + 1
            current = (kind, index)
            where[current] = (number, {})
            continue
        if line.lstrip().startswith("["):
            current = None  # some other table: its keys are not the record's
            continue
        key = _KEY.match(line)
        if key and current:
            where[current][1].setdefault(key[1], number)
    return where


def _top_line(text: str, key: str) -> int | None:
    """The line of a top-level ``[key]`` table, or of ``key = ...`` before any table."""
    table = re.compile(rf"^\s*\[\s*{re.escape(key)}\s*\]")
    assignment = re.compile(rf"^\s*{re.escape(key)}\s*=")
    top = True
    for number, line in enumerate(text.split("\n"), start=1):
        if table.match(line):
            return number
        if line.lstrip().startswith("["):
            top = False
        elif top and assignment.match(line):
            return number
    return None


#: ``known(kind, table)``: the stored record that a table read from a file equals, if any
#: (its fields already normalised: normalising it again would give it back).
Known = Callable[[str, dict[str, Any]], "Record | None"]


#: A file longer than this many characters is parsed in pieces of about this size, each
#: of whole ``[[kind]]`` tables (see ``_pieces``): the raw tables of one piece at a time
#: are held while normalised copies are made, not the whole file's.
PIECE_CHARS = 1 << 16

_TABLE_LINE = re.compile(r"^[ \t]*\[", re.M)
#: a line that opens anything but a ``[[kind]]`` table (``[table]``, ``[[a.b]]``, ...);
#: searched for after a line break (``^`` in MULTILINE mode is tried at every character,
#: four times slower)
_OTHER = r"[ \t]*\[(?!\[[ \t]*[A-Za-z0-9_-]+[ \t]*\]\])"
_OTHER_TABLE = re.compile(r"\n" + _OTHER)
_OTHER_FIRST = re.compile(_OTHER)
_BLANK_OR_COMMENTS = re.compile(r"(?:[ \t]*(?:#[^\n]*)?\n)*[ \t]*(?:#[^\n]*)?")


def _pieces(text: str) -> list[tuple[int, int]] | None:
    """Where to cut a long file into pieces whose tables, parsed piece by piece, are the
    whole file's; None to parse it whole.

    A file is cut only when every line that opens a table is a ``[[kind]]`` header and
    nothing but comments comes before the first: each table then stands on its own (no
    header can reopen or extend an earlier one), and pieces cut at such headers parse to
    the same tables, in the same order, as the whole. A cut inside a multi-line string
    or array (a line that looks like a header there) leaves the piece before it
    unterminated: parsing it fails, and the caller parses the whole file instead.
    """
    if len(text) <= PIECE_CHARS:
        return None
    first = _TABLE_LINE.search(text)
    if (first is None or not _BLANK_OR_COMMENTS.fullmatch(text, 0, first.start())
            or _OTHER_FIRST.match(text, first.start())
            or _OTHER_TABLE.search(text, first.end())):
        return None
    cuts = [first.start()]
    while (cut := _TABLE_LINE.search(text, cuts[-1] + PIECE_CHARS)) is not None:
        cuts.append(cut.start())
    cuts.append(len(text))
    return list(zip(cuts, cuts[1:], strict=False))


class _Whole(Exception):
    """A piece of a file did not parse: parse the whole file (for its error, or its
    tables if the cut fell inside a string)."""


def _parsed(text: str, pieces: list[tuple[int, int]]) -> Iterator[dict[str, Any]]:
    for start, end in pieces:
        try:
            yield tomllib.loads(text[start:end])
        except (tomllib.TOMLDecodeError, RecursionError):
            raise _Whole from None


def read_text(text: str, name: str, known: Known | None = None,
              strings: dict[str, str] | None = None) -> tuple[list[Located], list[Problem]]:
    """Parse one authoring file's text into located, normalised records.

    Args:
        known: finds the stored record a table equals, which is then taken as it is.
        strings: the ids, references and tags read so far (``normalise``), shared by
            the records read; one for this file if not given.
    """
    strings = {} if strings is None else strings
    text = text.removeprefix("\ufeff")  # a byte order mark is not content
    lines = Lines(text)
    pieces = _pieces(text)
    if pieces is not None:
        try:
            return _read_tables(_parsed(text, pieces), name, lines, known, strings)
        except _Whole:
            pass
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        msg = str(err)
        m = _TOML_ERROR.match(msg)
        if m:
            return [], [Problem(f"{name}:{m[2]}:{m[3]}", None, None, None, None,
                                f"malformed TOML: {m[1]}")]
        m = _TOML_EOF.match(msg)
        return [], [Problem(name, len(text.rstrip("\n").split("\n")), None, None, None,
                            f"malformed TOML: {m[1] if m else msg} (at end of file)")]
    except RecursionError as err:  # tomli refuses more than 400 levels of nesting this way
        return [], [Problem(name, None, None, None, None,
                            f"malformed TOML: {err}; expected records, each a [[kind]] "
                            f"table of plain fields")]
    return _read_tables(iter([data]), name, lines, known, strings)


def _read_tables(parts: Iterator[dict[str, Any]], name: str, lines: Lines,
                 known: Known | None, strings: dict[str, str]
                 ) -> tuple[list[Located], list[Problem]]:
    """The records of a file parsed in ``parts`` (its tables in order), as if parsed
    whole: by kind, in the order the kinds first appear. Each raw table is let go once
    normalised."""
    by_key: dict[str, tuple[list[Located], list[Problem]]] = {}
    counts: dict[str, int] = {}
    for data in parts:
        for key, value in data.items():
            kind = KINDS.get(key)
            if key not in by_key:
                by_key[key] = ([], [])
                if kind is None or not isinstance(value, list):
                    expected = ", ".join(f"[[{k}]]" for k in KINDS)
                    by_key[key][1].append(Problem(name, lines.top(key), None, None, key,
                                                  f"unknown table, expected one of {expected}"))
            if kind is None or not isinstance(value, list):
                continue  # reported where it first appeared
            found, problems = by_key[key]
            start = counts.get(key, 0)
            counts[key] = start + len(value)
            for i, raw in enumerate(value):
                value[i] = None
                _read_table(kind, raw, start + i, name, lines, known, strings, found, problems)
    every: list[Located] = []
    trouble: list[Problem] = []
    for f, p in by_key.values():
        every += f
        trouble += p
    return every, trouble


def _read_table(kind: Kind, raw: Any, index: int, name: str, lines: Lines,
                known: Known | None, strings: dict[str, str], found: list[Located],
                problems: list[Problem]) -> None:
    """Normalise the ``index``-th ``[[kind]]`` table of a file into ``found`` and
    ``problems``."""
    key = kind.name
    if not isinstance(raw, dict):
        problems.append(Problem(name, lines.of(key, index)[0], key, None, None,
                                "expected a table"))
        return
    same = known(key, raw) if known is not None else None
    if same is not None:
        found.append(Located(key, same, name, lines, index))
        return
    rec, issues = normalise(kind, raw, strings)
    if "id" not in rec and isinstance(raw.get("id"), str):
        rec["id"] = raw["id"]
    loc = Located(key, rec, name, lines, index)
    problems.extend(loc.problem(f, m) for f, m in issues)
    if not issues:
        found.append(loc)
    elif "id" in rec:
        found.append(loc)  # still counts for duplicate and reference checks


def read_files(paths: Iterable[str | Path], known: Known | None = None,
               strings: dict[str, str] | None = None) -> tuple[list[Located], list[Problem]]:
    """Read several authoring files; unreadable files are problems too.

    Args:
        strings: as for ``read_text``; one for all the files if not given.
    """
    strings = {} if strings is None else strings
    found: list[Located] = []
    problems: list[Problem] = []
    for path in paths:
        name = str(path)
        try:
            text = read_input(path).decode("utf-8-sig")  # a BOM (Windows editors) is skipped
        except InputFileError as err:
            problems.append(Problem(name, None, None, None, None, err.reason))
            continue
        except UnicodeDecodeError as err:
            problems.append(Problem(name, None, None, None, None, f"cannot read: {err}"))
            continue
        f, p = read_text(text, name, known, strings)
        found.extend(f)
        problems.extend(p)
    return found, problems


def check_references(items: list[Located], store: Store | None,
                     problems: list[Problem]) -> list[Problem]:
    """Duplicate ids in the input, and references to ids found nowhere."""
    out: list[Problem] = []
    seen: dict[tuple[str, str], Located] = {}
    for loc in items:
        rid = loc.record.get("id")
        if rid is None:
            continue
        first = seen.get((loc.kind, rid))
        if first is not None:
            where = f"{first.file}:{first.line}" if first.line else first.file
            out.append(loc.problem("id", f"duplicate id, already defined at {where}"))
        else:
            seen[(loc.kind, rid)] = loc
    ids = {(k, i) for (k, i) in seen}

    def known(kind: str, rid: str) -> bool:
        return (kind, rid) in ids or (store is not None and store.exists(kind, rid))

    for loc in items:
        k = KINDS[loc.kind]
        for f in k.fields:
            if f.ref is None or f.name not in loc.record:
                continue
            values = loc.record[f.name]
            for value in [values] if isinstance(values, str) else values:
                if not known(f.ref, value):
                    article = "an" if f.ref[0] in "aeiou" else "a"
                    out.append(loc.problem(
                        f.name, f"unknown {f.ref} '{value}', expected the id of {article} "
                                f"{f.ref} in the input or the store"))
    return out


@dataclass
class ImportReport:
    """What an import added, changed and left alone, and what it did to cards."""

    added: list[tuple[str, str]] = field(default_factory=list)
    changed: list[tuple[str, str]] = field(default_factory=list)
    unchanged: list[tuple[str, str]] = field(default_factory=list)
    cards: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False
    kept: list[tuple[str, str]] = field(default_factory=list)
    removed: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    edited: list[tuple[str, str]] = field(default_factory=list)
    #: what the quality gate dropped and warned about, when every card was made
    gate: GateResult | None = field(default=None, repr=False)

    def summary(self) -> str:
        verb = "would add" if self.dry_run else "added"
        text = (f"{verb} {len(self.added):,}, "
                f"{'would change' if self.dry_run else 'changed'} {len(self.changed):,}, "
                f"left {len(self.unchanged):,} unchanged")
        if self.removed:
            text += f", removed {len(self.removed):,}"
        if self.cards:
            text += (f"; cards: {self.cards['added']:,} new, {self.cards['changed']:,} reworded, "
                     f"{self.cards['retired']:,} retired, {self.cards['total']:,} in all")
        if self.kept:
            named = ", ".join(f"{k} '{i}'" for k, i in self.kept)
            text += f"; kept your own {named} (same id as a starter record)"
        if self.edited:
            named = ", ".join(f"{k} '{i}'" for k, i in self.edited)
            text += (f"; changed in the starter deck but kept as you edited them: {named} "
                     f"(`study init --reset KIND ID` takes the starter's version)")
        return text


def validate(store: Store | None, items: list[Located], problems: list[Problem]) -> None:
    """Raise ``InvalidInput`` with every problem, if there are any."""
    problems = problems + check_references(items, store, problems)
    if problems:
        problems.sort(key=lambda p: (p.file, p.line or 0))
        raise InvalidInput(problems)


def consistency(written: dict[tuple[str, str], Located],
                records: dict[str, dict[str, Record]],
                cards: GateResult | None = None, *,
                findings: list[Finding] | None = None) -> tuple[list[Problem], list[Problem]]:
    """The errors and warnings of ``study check`` that concern the records ``written``.

    Args:
        written: the records being written, by (kind, id), where they were read.
        records: every record, the store's with the written ones in place.
        cards: the cards of ``records`` through the quality gate, if already made.
        findings: these findings instead of ``study check``'s (a part of its checks).

    Returns:
        Errors and warnings, each located at the input record it concerns.
    """
    from cards.check import check, touching

    errors: list[Problem] = []
    warnings: list[Problem] = []
    every = check(records, cards) if findings is None else findings
    for f in touching(every, set(written)):
        own = written.get((f.kind, f.id))
        if own is not None:
            problem = own.problem(f.field, f.message)
        elif f.mirror and len(f.involves) > 1 and f.involves[1] in written:
            problem = written[f.involves[1]].problem(f.field, f.mirror)
        else:  # about a stored record, because of an input one: say so at the input's line
            loc = next(written[r] for r in f.involves if r in written)
            problem = loc.problem(None, f"{f.kind} '{f.id}' {f.message}")
        if f.level == "error":
            errors.append(problem)
        else:
            warnings.append(problem._replace(message=f"warning: {problem.message}"))
    return errors, warnings


def import_records(store: Store, items: list[Located], now: datetime,
                   dry_run: bool = False, progress: Progress | None = None, *,
                   consistent: bool = True, known: StoredTables | None = None) -> ImportReport:
    """Write validated records in one transaction (upsert by id) and regenerate cards.

    Args:
        consistent: refuse records that ``study check`` would call errors
            (overlapping tenures, lifetimes, cycles, ...), counting the store's
            records too; its warnings go to ``report.warnings``.
        known: the stored records already read while reading ``items``.

    Raises:
        InvalidInput: a reference that the store cannot satisfy, or (with
            ``consistent``) an inconsistency that the input causes.
    """
    say = progress or _silent
    report = ImportReport(dry_run=dry_run)
    say("Comparing with the store", 0.25)
    with store.transaction():
        validate(store, items, [])
        rank = {kind: i for i, kind in enumerate(KINDS)}
        ordered = sorted(items, key=lambda loc: rank[loc.kind])
        stored = _stored(store, ordered, known.by_kind if known is not None else {})
        writes: list[tuple[str, Record]] = []
        olds: dict[tuple[str, str], Record] = {}
        for loc in ordered:
            ref = (loc.kind, loc.record["id"])
            old = stored[loc.kind].get(loc.record["id"])
            if old is None:
                report.added.append(ref)
                writes.append((loc.kind, loc.record))
            elif old != loc.record:
                report.changed.append(ref)
                writes.append((loc.kind, loc.record))
                olds[ref] = old
            else:
                report.unchanged.append(ref)
        del stored
        if not writes and store.cards_current():
            # Nothing changed and the cards were made from these very records by this
            # code: a full regeneration would give the stored cards again; skip it.
            if not dry_run:
                report.cards = store.card_counts()
            say("Done", 1.0)
            return report
        say("Making the cards", 0.3)
        # only the cards the change can reach, if the store's index of cards allows it
        scoped = (plan(store, writes, olds) if writes and len(writes) <= MAX_SCOPED
                  and store.index_current() else None)
        if scoped is None:
            # the stored records read while reading the files are not read again (a
            # second copy of the whole store, with its own strings)
            read = known.by_kind if known is not None else {}
            records = {kind: dict(read[kind]) if kind in read else store.records(kind)
                       for kind in KINDS}
            for kind, rec in writes:
                records[kind][rec["id"]] = rec
            written = _written(ordered, report) if consistent and writes else {}
            found = record_findings(records) if written else []
            if written:  # the checks of records first: an error costs no card made
                _refuse(consistency(written, records, findings=found)[0])
            _make_all(store, records, writes, now, dry_run, report, say)
            if written and report.gate is not None:  # then those of the cards (warnings)
                report.warnings = consistency(
                    written, records, findings=found + card_findings(report.gate))[1]
        elif consistent and writes:
            errors, report.warnings = consistency(_written(ordered, report), scoped.records,
                                                  scoped.result)
            _refuse(errors)
        if dry_run or scoped is None:
            say("Done", 1.0)
            return report
        if writes:
            say("Writing the records", 0.5)
            store.put_many(writes, now)
        say("Saving the cards", 0.55)
        report.cards = store.sync_cards(now, scoped.result.cards,
                                        candidates=indexed(scoped.result, scoped.answers),
                                        scope=scoped.groups, answers=scoped.answers)
        # still every card of the records, made by this code, with its terms (in a new
        # store, the groups were every record's)
        store.mark_indexed()
        say("Saving", 0.95)
    say("Done", 1.0)
    return report


def _written(ordered: list[Located], report: ImportReport) -> dict[tuple[str, str], Located]:
    """The records an import adds or changes, by (kind, id), where they were read."""
    at = {(loc.kind, loc.record["id"]): loc for loc in ordered}
    return {ref: at[ref] for ref in report.added + report.changed}


def _refuse(errors: list[Problem]) -> None:
    if errors:
        raise InvalidInput(sorted(errors, key=lambda p: (p.file, p.line or 0)))


def _make_all(store: Store, records: Records, writes: list[tuple[str, Record]], now: datetime,
              dry_run: bool, report: ImportReport, say: Progress) -> None:
    """Write ``writes`` and make every card of ``records`` (``dry_run``: only make them),
    streamed through the gate (``cards.stream``): no card is held. What the gate
    reports goes to ``report.gate``."""
    if dry_run:
        report.gate = gate_all(records)
        return
    if writes:
        say("Writing the records", 0.3)
        store.put_many(writes, now)
    # the bar: making the cards from 32% to 55%, saving them from 55% to 95%
    report.cards, report.gate = store.remake_cards(now, records, lambda what, share: say(
        what, (0.55 + 0.4 * share) if what == "Saving the cards" else 0.32 + 0.23 * share))


class StoredTables:
    """``Known`` for a large input: after ``LOOK_UPS`` tables of a kind, every stored
    record of that kind is read once, and a table equal to its stored record is taken
    as stored (not normalised again). Small inputs read nothing here."""

    LOOK_UPS = 100

    def __init__(self, store: Store) -> None:
        self.store = store
        self.asked: dict[str, int] = {}
        self.by_kind: dict[str, dict[str, Record]] = {}

    def __call__(self, kind: str, raw: dict[str, Any]) -> Record | None:
        have = self.by_kind.get(kind)
        if have is None:
            self.asked[kind] = self.asked.get(kind, 0) + 1
            if self.asked[kind] <= self.LOOK_UPS:
                return None
            have = self.by_kind[kind] = self.store.records(kind)
        if not have:
            return None  # none stored (a first import)
        rid = raw.get("id")
        if rid is None and kind == "tenure":
            person, office, start = raw.get("person"), raw.get("office"), raw.get("start")
            if isinstance(person, str) and isinstance(office, str) and isinstance(start, str):
                rid = default_tenure_id(person, office, start)
                rec = have.get(rid)
                return rec if rec is not None and {"id": rid, **raw} == rec else None
        rec = have.get(rid) if isinstance(rid, str) else None
        return rec if rec is not None and raw == rec else None


#: Above this many records written, an import makes every card (one pass over all the
#: records is then cheaper than finding, record by record, what each change reaches).
MAX_SCOPED = 2000


def _stored(store: Store, items: list[Located],
            read: dict[str, dict[str, Record]]) -> dict[str, dict[str, Record]]:
    """The stored records with the ids of ``items``, by kind (a large input: every
    record of its kinds, one pass being cheaper than a look-up for each; ``read``: those
    of kinds read already)."""
    ids: dict[str, list[str]] = {kind: [] for kind in KINDS}
    for loc in items:
        ids[loc.kind].append(loc.record["id"])
    out: dict[str, dict[str, Record]] = {}
    for kind, wanted in ids.items():
        if kind in read:
            out[kind] = read[kind]
        elif len(wanted) > StoredTables.LOOK_UPS:
            out[kind] = store.records(kind)
        else:
            out[kind] = store.records(kind, wanted) if wanted else {}
    return out


Progress = Callable[[str, float], None]


def load_and_import(store: Store, paths: Iterable[str | Path], now: datetime,
                    dry_run: bool = False, progress: Progress | None = None) -> ImportReport:
    """Read, check and import authoring files: all of them or nothing.

    Args:
        progress: told what is being done and the share done so far (0 to 1).
    """
    say = progress or _silent
    paths = list(paths)
    known = StoredTables(store)
    strings: dict[str, str] = {}  # shared by the records of every file, let go once read
    items: list[Located] = []
    problems: list[Problem] = []
    # Reading and importing make millions of objects that live to the end and no
    # cycles: each full collection would walk them all again (a fifth of the time).
    with no_gc():
        for i, path in enumerate(paths):
            say(f"Reading {Path(path).name}", 0.2 * i / len(paths))
            found, trouble = read_files([path], known, strings)
            items += found
            problems += trouble
        del strings
        say("Checking the records", 0.2)
        if problems:
            validate(store, items, problems)  # else import_records checks the references
        return import_records(store, items, now, dry_run, progress=say, known=known)


def _silent(what: str, share: float) -> None:
    """A progress callback that shows nothing."""


def record_from_fields(kind: Kind, raw: dict[str, Any], name: str = "input") -> Located:
    """Check a record given field by field (``study add``, ``study edit``)."""
    rec, issues = normalise(kind, raw)
    loc = Located(kind.name, rec, name, None)
    if issues:
        raise InvalidInput([loc.problem(f, m) for f, m in issues])
    return loc


def field_problems(kind: Kind, raw: dict[str, Any], name: str,
                   store: Store | None = None) -> list[str]:
    """What is wrong with field ``name`` of a record entered so far (``study add``).

    Checks the field on its own, against the fields before it (a death before
    the birth), and against the store: a new record's id must be free, a
    reference must name a record that exists. Fields not entered yet are not
    reported.
    """
    rec, issues = normalise(kind, {k: v for k, v in raw.items() if v not in (None, "", [])})
    messages = [m for f, m in issues if f == name and not m.startswith("missing")]
    if messages or store is None or name not in rec:
        return messages
    if name == "id" and store.exists(kind.name, rec["id"]):
        return [f"'{rec['id']}' is taken; use `study edit {kind.name} {rec['id']}` to change it"]
    f = kind.field(name)
    if f.ref is not None:
        values = rec[name] if isinstance(rec[name], list) else [rec[name]]
        for value in values:
            if not store.exists(f.ref, value):
                article = "an" if f.ref[0] in "aeiou" else "a"
                return [f"unknown {f.ref} '{value}', expected the id of {article} {f.ref} in "
                        f"the store (`study list {KINDS[f.ref].plural}`)"]
    return []


# -- writing TOML ------------------------------------------------------------

def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        # a JSON string is a TOML basic string, except that TOML wants DEL escaped too
        # (and C1 controls are escaped so that a dump printed to a terminal is inert)
        return json_text(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def record_toml(kind: str, rec: Record) -> str:
    """One record as a ``[[kind]]`` table, fields in their documented order."""
    lines = [f"[[{kind}]]"]
    for f in KINDS[kind].all_fields:
        if f.name in rec:
            lines.append(f"{f.name} = {_toml_value(rec[f.name])}")
    return "\n".join(lines) + "\n"


def dump_toml(records: dict[str, dict[str, Record]], tag: str | None = None) -> str:
    """The records as one authoring file that ``study import`` reads back.

    Args:
        records: records by kind and id.
        tag: keep only records with this tag, and the records they refer to
            (so that the file imports on its own).
    """
    chosen = {kind: {rid for rid, r in records[kind].items()
                     if tag is None or has_tag(r.get("tags", []), tag)} for kind in KINDS}
    todo = [(kind, rid) for kind, ids in chosen.items() for rid in ids]
    while todo:
        kind, rid = todo.pop()
        for f in KINDS[kind].fields:
            if f.ref is None or f.name not in records[kind][rid]:
                continue
            values = records[kind][rid][f.name]
            for ref in [values] if isinstance(values, str) else values:
                if ref in records[f.ref] and ref not in chosen[f.ref]:
                    chosen[f.ref].add(ref)
                    todo.append((f.ref, ref))
    parts = ["# Secretariat records, written by `study dump`.\n"]
    for kind in KINDS:
        kept = [r for rid, r in records[kind].items() if rid in chosen[kind]]
        if kept:
            parts.append(f"\n# {KINDS[kind].plural}\n")
            parts.extend("\n" + record_toml(kind, r) for r in kept)
    return "".join(parts)
