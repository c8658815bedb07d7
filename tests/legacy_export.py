"""The Anki export as it was before it streamed (kept to check that the streamed
export writes the same bytes): every note built in memory, then the collection
in memory, then the zip."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from genanki.apkg_col import APKG_COL  # type: ignore[import-untyped]

from cards.files import check_target, write_atomic
from cards.registry import FAMILIES
from cards.store import Store
from cards.tags import has_tag
from exports.anki import (
    COMPRESS_LEVEL,
    INDEXES,
    MODEL_MOD,
    PRESET_ID,
    PRESET_NAME,
    TABLES,
    ZIP_TIME,
    _decks,
    note_model,
)
from exports.notes import (
    FORMAT_VERSION,
    NOTE_TYPES,
    PROGRESS_STEP,
    Contexts,
    Exported,
    ExportNote,
    NothingToExport,
    Progress,
    _context_fields,
    anki_tags,
    deck_name,
    kind_name,
    namespaced,
    note_guid,
    note_key,
    text_html,
)
from study.settings import Settings


def _data(records: Any, kind: str, rid: str) -> Any:
    return FAMILIES[kind].note(records, rid)


#: The store's cards, as plain tuples (a large store has hundreds of thousands).
_CARDS = ("SELECT record_kind, record_id, template, question, answer, tags, position, retired, "
          "created, updated FROM cards ORDER BY position")
_KIND, _ID, _TEMPLATE, _QUESTION, _ANSWER, _TAGS, _POSITION, _RETIRED, _CREATED, _UPDATED = (
    range(10))
_Row = tuple[Any, ...]


class _Clock:
    """Stored ISO times as Unix times, each distinct string parsed once."""

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}

    def seconds(self, stamp: str) -> float:
        value = self._seen.get(stamp)
        if value is None:
            value = self._seen[stamp] = datetime.fromisoformat(stamp).timestamp()
        return value

    def card_id(self, row: _Row) -> int:
        """A card's id: its creation time in milliseconds plus its position."""
        return int(self.seconds(row[_CREATED]) * 1000) + int(row[_POSITION])


def _unique(value: int, taken: set[int]) -> int:
    """``value``, or the next free number after it if taken (only if the clock
    went back while the store made cards); ``taken`` gets the result."""
    while value in taken:
        value += 1
    taken.add(value)
    return value


def _describe(tag: str | None, kind: str | None) -> str:
    parts = []
    if kind:
        parts.append(f"--kind {kind}")
    if tag:
        parts.append(f"--tag {tag}")
    return f"no cards match {' and '.join(parts)}" if parts else "the store has no cards"


def collect_notes(store: Store, *, deck: str = "Secretariat", split_by: str | None = None,
                  tag: str | None = None, kind: str | None = None,
                  progress: Progress | None = None) -> list[ExportNote]:
    """The notes to export, in the store's order of cards.

    Args:
        store: the fact store.
        deck: the deck name (``::`` for subdecks).
        split_by: ``"kind"`` puts each kind in a subdeck (``Secretariat::Tenures``).
        tag: only records with this tag (a succession: either tenure's).
        kind: only this card family (a name in ``NOTE_TYPES``: tenure, as-of, heads, ...).
        progress: called as ``progress(done, total)`` as notes are built.

    Raises:
        NothingToExport: no card matches.
        BadDeckName: ``deck`` is not a deck name.
    """
    if split_by not in (None, "kind"):
        raise ValueError(f"split_by must be None or 'kind', not {split_by!r}")
    root = deck_name(deck)
    only = kind_name(kind) if kind else None
    groups: dict[tuple[str, str], list[_Row]] = {}
    for row in store.db.execute(_CARDS):
        groups.setdefault((row[_KIND], row[_ID]), []).append(row)
    chosen = []
    for (rkind, rid), rows in groups.items():
        live = [r for r in rows if not r[_RETIRED]]
        if not live or (only and rkind != only):
            continue
        if tag is not None and not has_tag(json.loads(live[0][_TAGS]), tag):
            continue
        chosen.append((rkind, rid, rows, live))
    if not chosen:
        raise NothingToExport(f"nothing to export: {_describe(tag, kind)}")
    records = store.all_records()
    updated = {k: {rid: times[1] for rid, times in store.times(k).items()} for k in records}
    clock = _Clock()
    contexts = Contexts(records)
    tag_sets: dict[tuple[str, str], tuple[str, ...]] = {}
    ordinals = {nt.kind: {t: i for i, t in enumerate(nt.templates)} for nt in NOTE_TYPES.values()}
    note_ids: set[int] = set()
    card_ids: set[int] = set()
    total = len(chosen)
    out = []
    for done, (rkind, rid, rows, live) in enumerate(chosen, start=1):
        note_type = NOTE_TYPES[rkind]
        data, own, uses = _data(records, rkind, rid)
        stamps = [updated[k][i] for k, i in uses if i in updated[k]]
        stamps += [r[_UPDATED] for r in rows]
        by_template = {r[_TEMPLATE]: r for r in live}
        texts: list[str] = []
        for template in note_type.templates:
            card = by_template.get(template)
            texts += (text_html(card[_QUESTION]), text_html(card[_ANSWER])) if card else ("", "")
        tags = tag_sets.get((live[0][_TAGS], rkind))
        if tags is None:
            tags = tag_sets[live[0][_TAGS], rkind] = anki_tags(json.loads(live[0][_TAGS]), rkind)
        key = note_key(rkind, rid)
        place = ordinals[rkind]
        out.append(ExportNote(
            note_type=note_type,
            key=key,
            guid=note_guid(key),
            id=_unique(clock.card_id(rows[0]), note_ids),  # rows are in the store's order
            mod=int(clock.seconds(max(stamps))) + FORMAT_VERSION,
            fields=(text_html(key), *map(text_html, data), *texts,
                    *_context_fields(contexts, rkind, rid, own)),
            tags=tags,
            deck=f"{root}::{note_type.plural}" if split_by == "kind" else root,
            cards=tuple(sorted((place[r[_TEMPLATE]], _unique(clock.card_id(r), card_ids),
                                r[_POSITION]) for r in live)),
        ))
        if progress is not None and (done % PROGRESS_STEP == 0 or done == total):
            progress(done, total)
    return out



@dataclass
class Learnt:
    """Where the learner stands: the cards' scheduling by store position, and the answers."""

    crt: int
    cards: dict[int, tuple[Any, ...]]
    revlog: list[tuple[Any, ...]]
    preset: dict[str, Any]


def scheduling(store: Store, notes: list[ExportNote], now: datetime, tz: tzinfo,
               settings: Settings) -> Learnt:
    """The cards' scheduling (as Anki's card columns) and review history of ``notes``.

    Day numbers count from the package's creation time, the start of the
    study day of ``now``; Anki's importer shifts them to its own day count.
    """
    from exports.sync import anki_schedule
    from study import history
    from study.queue import study_day

    day = study_day(now, tz, settings.rollover_hour)
    positions = {pos: cid for n in notes for _o, cid, pos in n.cards}
    rows = {r["key"]: r for r in store.card_rows() if r["position"] in positions}
    cards: dict[int, tuple[Any, ...]] = {}
    for row in rows.values():
        want = anki_schedule(row, now=now, today=0, tz=tz, settings=settings)
        data = "" if want["stability"] is None else json.dumps(
            {"s": want["stability"], "d": want["difficulty"]}, separators=(",", ":"))
        steps = settings.learning_steps if want["type"] == 1 else settings.relearning_steps
        left = 0 if want["type"] in (0, 2) else max(1, len(steps) - int(row["step"] or 0))
        cards[int(row["position"])] = (want["type"], want["queue"], want["due"], want["ivl"],
                                       2500 if want["type"] == 2 else 0, want["reps"],
                                       want["lapses"], left, data)
    cid_of = {key: positions[int(r["position"])] for key, r in rows.items()}
    revlog: list[tuple[Any, ...]] = []
    taken: set[int] = set()
    seen: dict[str, int] = {}
    evs = history.events(store.db.conn, list(cid_of))
    cancelled = {e.cancels for e in evs if e.kind == "undo"}
    for e in evs:
        if e.kind != "review" or e.id in cancelled or e.card_key not in cid_of:
            continue
        rid = e.anki_revlog_id or int(e.at.timestamp() * 1000)
        while rid in taken:
            rid += 1
        taken.add(rid)
        seen[e.card_key] = seen.get(e.card_key, 0) + 1
        revlog.append((rid, cid_of[e.card_key], -1, int(e.rating or 1), 0, 0, 0,
                       min(int(e.duration_ms or 0), 60_000), 0 if seen[e.card_key] == 1 else 1))
    preset = {"name": PRESET_NAME, "id": PRESET_ID, "desiredRetention":
              settings.desired_retention, "fsrsParams6": list(settings.parameters)}
    return Learnt(int(day.start.timestamp()), cards, revlog, preset)


def collection_bytes(notes: list[ExportNote], progress: Progress | None = None,
                     learnt: Learnt | None = None) -> bytes:
    """The package's SQLite collection (Anki schema 11, as genanki writes it).

    With ``learnt``, the cards carry their scheduling and the package the
    review history; the decks use the "Secretariat" preset (siblings buried).
    """
    decks = _decks(list(dict.fromkeys(n.deck for n in notes)))
    root = decks[notes[0].deck.split("::")[0]]
    models = {nt.id: note_model(nt) for nt in NOTE_TYPES.values()
              if any(n.note_type is nt for n in notes)}
    conn = sqlite3.connect(":memory:")
    try:
        conn.executescript(TABLES)
        conn.executescript(APKG_COL)
        (decks_json, models_json, dconf_json), = conn.execute(
            "SELECT decks, models, dconf FROM col")
        all_decks = json.loads(decks_json)
        all_decks.update({str(d.deck_id): {**d.to_json(), "conf": PRESET_ID}
                          for d in decks.values()})
        all_dconf = json.loads(dconf_json)
        default = all_dconf["1"]
        all_dconf[str(PRESET_ID)] = {
            **default, "id": PRESET_ID, "name": PRESET_NAME, "mod": MODEL_MOD,
            "new": {**default["new"], "bury": True}, "rev": {**default["rev"], "bury": True},
            "buryInterdayLearning": True,
            **(learnt.preset if learnt else {})}
        conn.execute("UPDATE col SET dconf = ?", (json.dumps(all_dconf),))
        if learnt is not None:
            conn.execute("UPDATE col SET crt = ?", (learnt.crt,))
            conn.executemany("INSERT INTO revlog VALUES (?,?,?,?,?,?,?,?,?)", learnt.revlog)
        all_models = json.loads(models_json)
        all_models.update({str(mid): m.to_json(MODEL_MOD, root.deck_id)
                           for mid, m in models.items()})
        conn.execute("UPDATE col SET decks = ?, models = ?",
                     (json.dumps(all_decks), json.dumps(all_models)))
        sort_index = {nt.id: nt.fields.index(nt.sort) for nt in NOTE_TYPES.values()}
        note_rows: list[tuple[Any, ...]] = []
        card_rows: list[tuple[Any, ...]] = []
        total = len(notes)
        for done, n in enumerate(notes, start=1):
            mid = n.note_type.id
            note_rows.append((n.id, n.guid, mid, n.mod, -1, f" {' '.join(namespaced(n.tags))} ",
                              "\x1f".join(n.fields), n.fields[sort_index[mid]], 0, 0, ""))
            did = decks[n.deck].deck_id
            if learnt is None:
                card_rows.extend((cid, n.id, did, ordinal, n.mod, -1, 0, 0, due,
                                  0, 0, 0, 0, 0, 0, 0, 0, "") for ordinal, cid, due in n.cards)
            else:
                for ordinal, cid, due in n.cards:
                    ctype, queue, cdue, ivl, factor, reps, lapses, left, data = learnt.cards.get(
                        due, (0, 0, due, 0, 0, 0, 0, 0, ""))
                    card_rows.append((cid, n.id, did, ordinal, n.mod, -1, ctype, queue,
                                      due if ctype == 0 else cdue, ivl, factor, reps, lapses,
                                      left, 0, 0, 0, data))
            if len(card_rows) >= 50_000 or done == total:
                conn.executemany("INSERT INTO notes VALUES (?,?,?,?,?,?,?,?,?,?,?)", note_rows)
                conn.executemany("INSERT INTO cards VALUES "
                                 "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", card_rows)
                note_rows.clear()
                card_rows.clear()
                if progress is not None:
                    progress(done, total)
        conn.executescript(INDEXES)
        conn.commit()
        return conn.serialize()
    finally:
        conn.close()


def package_bytes(collection: bytes) -> bytes:
    """The .apkg: a zip of the collection (deflated) and an empty media list."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        for name, data in (("collection.anki2", collection), ("media", b"{}")):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            package.writestr(info, data, compresslevel=COMPRESS_LEVEL)
    return out.getvalue()


def export_apkg(store: Store, path: str | os.PathLike[str], *, deck: str = "Secretariat",
                split_by: str | None = None, tag: str | None = None, kind: str | None = None,
                force: bool = False, progress: Progress | None = None,
                now: datetime | None = None, tz: tzinfo | None = None,
                settings: Settings | None = None) -> Exported:
    """Write the store's cards (or a part) as an Anki package.

    Args:
        store: the fact store.
        path: the .apkg file to write.
        deck: the deck's name; ``::`` makes a subdeck.
        split_by: ``"kind"`` puts each kind in a subdeck (``Secretariat::Tenures``, ...).
        tag: only records with this tag.
        kind: only cards of this family (tenure, as-of, heads, ...; see ``NOTE_TYPES``).
        force: overwrite ``path`` if it exists.
        progress: called as ``progress(done, total)``; the notes are counted
            twice, once built and once written (``total`` is twice the notes).
        now: with ``tz`` and ``settings``, the cards carry their scheduling as
            of ``now`` and the package the review history, so that a first
            import with "Import any learning progress" starts where the
            terminal is.

    Returns:
        How many notes and cards were written, and the decks.

    Raises:
        OutputError: ``path`` exists (without ``force``) or cannot be written;
            no partial file is left.
        NothingToExport: no card matches the selection.
        BadDeckName: ``deck`` is not a deck name.
    """
    check_target(path, force)
    twice = None if progress is None else _Doubled(progress)
    notes = collect_notes(store, deck=deck, split_by=split_by, tag=tag, kind=kind,
                          progress=twice.first if twice else None)
    learnt = None
    if now is not None:
        learnt = scheduling(store, notes, now, tz or UTC, settings or Settings())
    collection = collection_bytes(notes, twice.second if twice else None, learnt)
    write_atomic(path, package_bytes(collection), force=force)
    return Exported(len(notes), sum(len(n.cards) for n in notes),
                    tuple(dict.fromkeys(n.deck for n in notes)))


class _Doubled:
    """One progress over two passes of the same notes."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    def first(self, done: int, total: int) -> None:
        self.progress(done, 2 * total)

    def second(self, done: int, total: int) -> None:
        self.progress(total + done, 2 * total)
