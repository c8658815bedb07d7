"""The store as an Anki package (.apkg), written with genanki.

The notes, their fields and identities come from ``exports.notes``. genanki
supplies the package's collection schema, the note types (``genanki.Model``)
and the decks (``genanki.Deck``). The notes and cards are inserted here, in
bulk, because genanki stamps one time on every note while each note needs
its own modification time (Anki updates a note on import only when the
incoming one is newer), and because genanki's row-by-row writing is the slow
part of a large export. The rows are the ones ``genanki.Note.write_to_db``
writes, with each note's own time, stable ids, and the store's order of new
cards as their due position. The collection is then deflated into the zip
(genanki stores it uncompressed), with fixed zip timestamps, so the same
store always gives the same bytes.

The export streams: the notes come from ``exports.notes`` a chunk at a time
and go into the collection, a temporary SQLite file beside the target, as
they come; the review history is read in time order and written the same
way; the file is deflated into the zip a piece at a time. What it holds does
not grow with the store (a batch's rows, a chunk's records, bounded caches),
except for the keys of the reviewed cards (to mark each one's first review)
and the undone reviews' ids, and, only where two ids clash (a store whose
clock went back while it made cards, two reviews in one millisecond), the ids
handed out so far.

With ``now`` (as ``study export anki`` passes it), the cards carry their
scheduling and the package the review history, and the decks use a
"Secretariat" options preset (siblings buried) under its own id: a first
import with "Import any learning progress" starts where the terminal is.

Importing a newer export into Anki updates the notes whose records changed,
in place; their cards and review history stay (Anki takes scheduling and
history only for the cards it creates: ``exports.sync`` does the rest). A card the store retired
keeps its Anki card, whose front is now empty (Anki's Tools > Empty Cards
removes such cards).
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any, BinaryIO

import genanki  # type: ignore[import-untyped]
from genanki.apkg_col import APKG_COL  # type: ignore[import-untyped]
from genanki.apkg_schema import APKG_SCHEMA  # type: ignore[import-untyped]

from cards.db import from_iso
from cards.files import atomic_file, check_target
from cards.store import Store
from exports.notes import (
    NOTE_TYPES,
    ROW_POSITION,
    ROW_RETIRED,
    ROW_SCHEDULE,
    SCHEDULE_COLUMNS,
    CardIds,
    Exported,
    ExportNote,
    NoteType,
    Progress,
    Selection,
    namespaced,
    select_notes,
    stable_id,
    stream_notes,
    template_label,
)
from study.settings import Settings

#: The note types' modification time. Anki replaces its copy of a note type
#: only by a newer one: move this forward whenever the templates or the CSS change.
MODEL_MOD = 1795392000  # 2026-11-22

#: Deflate's fastest level: the file is already about a seventh of genanki's
#: (level 6 saves another 13% of it in four times the time).
COMPRESS_LEVEL = 1

#: genanki's collection schema, split so that the indexes are built after the
#: rows are in (faster than keeping them up to date row by row).
TABLES, _, _INDEXES = APKG_SCHEMA.partition("CREATE INDEX")
INDEXES = "CREATE INDEX" + _INDEXES if _INDEXES else ""

#: A fixed time for the zip entries (the zip format's earliest), for repeatable files.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)

CSS = """\
.card {
  --text: #1f2328; --muted: #57606a; --faint: #8c959f; --rule: #d0d7de;
  --link: #0a58ca; --back: #fffdf8;
  font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 20px; line-height: 1.45; text-align: center;
  color: var(--text); background-color: var(--back);
  margin: 0; padding: 16px 12px;
  overflow-wrap: break-word;
}
.card.nightMode, .card.night_mode, .nightMode .card, .night_mode .card {
  --text: #e6e1d8; --muted: #b0aaa0; --faint: #8a857d; --rule: #4a4a4a;
  --link: #8ab4f8; --back: #1e1e1e;
}
.secretariat { max-width: 34em; margin: 0 auto; }
.kind {
  font-size: 0.65em; letter-spacing: 0.08em; text-transform: uppercase;
  color: var(--faint); margin-bottom: 0.5em;
}
.question { font-size: 1.1em; }
.answer { font-size: 1.25em; font-weight: 600; }
hr#answer { border: 0; border-top: 1px solid var(--rule); margin: 0.9em auto; max-width: 34em; }
.context, .note, .source {
  text-align: left; font-size: 0.78em; color: var(--muted);
  margin-top: 0.8em; padding-top: 0.5em; border-top: 1px dotted var(--rule);
}
.label { font-variant: small-caps; letter-spacing: 0.04em; color: var(--faint); }
.source a { color: var(--link); word-break: break-all; }
@media (max-width: 480px) {
  .card { font-size: 18px; padding: 10px 8px; }
}
"""


def front_template(note_type: NoteType, template: str) -> str:
    q = f"{template_label(template)} Question"
    return (f"{{{{#{q}}}}}\n"
            f'<div class="secretariat">\n'
            f'<div class="kind">{note_type.label}</div>\n'
            f'<div class="question">{{{{{q}}}}}</div>\n'
            f"</div>\n"
            f"{{{{/{q}}}}}")


def back_template(template: str) -> str:
    q, a = (f"{template_label(template)} {side}" for side in ("Question", "Answer"))
    return (f"{{{{#{q}}}}}\n"
            f"{{{{FrontSide}}}}\n"
            f'<hr id="answer">\n'
            f'<div class="secretariat">\n'
            f'<div class="answer">{{{{{a}}}}}</div>\n'
            f'{{{{#Context}}}}<div class="context">{{{{Context}}}}</div>{{{{/Context}}}}\n'
            f'{{{{#Note}}}}<div class="note"><span class="label">Note</span> '
            f"{{{{Note}}}}</div>{{{{/Note}}}}\n"
            f'{{{{#Source}}}}<div class="source"><span class="label">Source</span> '
            f"{{{{Source}}}}</div>{{{{/Source}}}}\n"
            f"</div>\n"
            f"{{{{/{q}}}}}")


def note_model(note_type: NoteType) -> genanki.Model:
    """The genanki note type of one kind: a card template per store template."""
    return genanki.Model(
        note_type.id,
        note_type.name,
        fields=[{"name": name} for name in note_type.fields],
        templates=[{"name": template_label(t), "qfmt": front_template(note_type, t),
                    "afmt": back_template(t)} for t in note_type.templates],
        css=CSS,
        sort_field_index=note_type.fields.index(note_type.sort),
    )


def _decks(names: list[str]) -> dict[str, genanki.Deck]:
    """The decks by name, with the parents of subdecks."""
    wanted: dict[str, None] = {}
    for name in names:
        parts = name.split("::")
        for i in range(1, len(parts) + 1):
            wanted["::".join(parts[:i])] = None
    return {name: genanki.Deck(stable_id(f"secretariat:deck:{name}"), name) for name in wanted}


#: The id of the "Secretariat" deck-options preset in a package (its own, not Anki's Default).
PRESET_ID = stable_id("secretariat:preset")
PRESET_NAME = "Secretariat"


@dataclass(frozen=True)
class Learning:
    """Where the learner stands, as of ``now``: the cards carry their scheduling and
    the package the review history. ``crt`` is the package's creation time, the
    start of the study day of ``now``: Anki's importer shifts day numbers from it."""

    now: datetime
    tz: tzinfo
    settings: Settings

    @property
    def crt(self) -> int:
        from study.queue import study_day

        return int(study_day(self.now, self.tz, self.settings.rollover_hour).start.timestamp())

    @property
    def preset(self) -> dict[str, Any]:
        return {"name": PRESET_NAME, "id": PRESET_ID, "desiredRetention":
                self.settings.desired_retention, "fsrsParams6": list(self.settings.parameters)}

    def card(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        """A live card's scheduling as Anki's columns: type, queue, due, ivl, factor,
        reps, lapses, left, data (a row of ``exports.notes``' card query)."""
        from exports.sync import anki_schedule

        state = dict(zip(SCHEDULE_COLUMNS, row[ROW_SCHEDULE:], strict=True))
        state["position"], state["retired"] = row[ROW_POSITION], row[ROW_RETIRED]
        settings = self.settings
        want = anki_schedule(state, now=self.now, today=0, tz=self.tz, settings=settings)
        data = "" if want["stability"] is None else json.dumps(
            {"s": want["stability"], "d": want["difficulty"]}, separators=(",", ":"))
        steps = settings.learning_steps if want["type"] == 1 else settings.relearning_steps
        left = 0 if want["type"] in (0, 2) else max(1, len(steps) - int(state["step"] or 0))
        return (want["type"], want["queue"], want["due"], want["ivl"],
                2500 if want["type"] == 2 else 0, want["reps"], want["lapses"], left, data)


def _revlog_id(anki_id: int | None, at: str) -> int:
    """A review's revlog id before any move: its Anki id, else its time in milliseconds."""
    return anki_id or int(from_iso(at).timestamp() * 1000)


def revlog(store: Store, selection: Selection, ids: CardIds) -> Iterator[tuple[Any, ...]]:
    """The review history of the selection's live cards as Anki's revlog rows, in time
    order: every review that no undo cancelled, its id its Anki id or its time in
    milliseconds (moved up to the next free one if taken), the first of a card a
    "learn" entry.

    Whether any two reviews' ids are the same is asked first (one query): only
    then are the ids handed out kept, to move a taken one up.
    """
    kind_test = " AND c.record_kind = :kind" if selection.kind else ""
    first_tags = ("(SELECT f.tags FROM cards AS f WHERE f.record_kind = c.record_kind AND "
                  "f.record_id = c.record_id AND f.retired = 0 ORDER BY f.position LIMIT 1)"
                  if selection.tag is not None else "''")
    chosen = (f"FROM reviews AS r JOIN cards AS c ON c.key = r.card_key "
              f"WHERE c.retired = 0{kind_test} AND r.kind = ")
    memo: dict[str, bool] = {}
    params = {"kind": selection.kind}
    cancelled = {cancels for cancels, rkind, tags in store.db.execute(
        f"SELECT r.cancels, c.record_kind, {first_tags} {chosen} 'undo'", params)
        if selection.chosen(rkind, tags, memo)}
    conn = store.db.conn
    conn.create_function("secretariat_revlog_id", 2, _revlog_id, deterministic=True)
    clash = not conn.execute(
        "SELECT count(*) = count(DISTINCT secretariat_revlog_id(anki_revlog_id, reviewed_at)) "
        "FROM reviews WHERE kind = 'review'").fetchone()[0]
    taken: set[int] = set()
    seen: set[str] = set()
    for (event_id, key, at, rating, duration, anki_id, rkind, tags, created,
         position) in store.db.execute(
            f"SELECT r.event_id, r.card_key, r.reviewed_at, r.rating, r.duration_ms, "
            f"r.anki_revlog_id, c.record_kind, {first_tags}, c.created, c.position "
            f"{chosen} 'review' ORDER BY r.reviewed_at, r.event_id", params):
        if event_id in cancelled or not selection.chosen(rkind, tags, memo):
            continue
        rid = _revlog_id(anki_id, at)
        if clash:
            while rid in taken:
                rid += 1
            taken.add(rid)
        first = key not in seen
        seen.add(key)
        yield (rid, ids.card_of(key, created, position), -1, int(rating or 1), 0, 0, 0,
               min(int(duration or 0), 60_000), 0 if first else 1)


#: Notes and their cards go into the collection this many cards at a time (the
#: notes of a batch, then its cards: this decides the collection's page layout).
BATCH = 50_000
#: Rows held in memory before they are written (to the notes or the pending cards).
ROWS_AT_ONCE = 1000


def write_collection(conn: sqlite3.Connection, selection: Selection,
                     notes: Iterable[tuple[ExportNote, dict[int, tuple[Any, ...]]]],
                     learning: Learning | None = None,
                     history: Iterable[tuple[Any, ...]] = ()) -> tuple[int, int]:
    """Fill an empty SQLite database as the package's collection (Anki schema 11, as
    genanki writes it) from a stream of notes; (notes, cards) written.

    With ``learning``, the cards carry their scheduling and the package the
    review history (``history``: revlog rows); the decks use the "Secretariat"
    preset (siblings buried).
    """
    decks = _decks(list(selection.decks))
    root = decks[selection.decks[0].split("::")[0]]
    models = {nt.id: note_model(nt) for nt in NOTE_TYPES.values() if nt.kind in selection.kinds}
    conn.executescript(TABLES)
    conn.executescript(APKG_COL)
    (decks_json, models_json, dconf_json), = conn.execute("SELECT decks, models, dconf FROM col")
    all_decks = json.loads(decks_json)
    all_decks.update({str(d.deck_id): {**d.to_json(), "conf": PRESET_ID}
                      for d in decks.values()})
    all_dconf = json.loads(dconf_json)
    default = all_dconf["1"]
    all_dconf[str(PRESET_ID)] = {
        **default, "id": PRESET_ID, "name": PRESET_NAME, "mod": MODEL_MOD,
        "new": {**default["new"], "bury": True}, "rev": {**default["rev"], "bury": True},
        "buryInterdayLearning": True,
        **(learning.preset if learning else {})}
    conn.execute("UPDATE col SET dconf = ?", (json.dumps(all_dconf),))
    if learning is not None:
        conn.execute("UPDATE col SET crt = ?", (learning.crt,))
        conn.executemany("INSERT INTO revlog VALUES (?,?,?,?,?,?,?,?,?)", history)
    all_models = json.loads(models_json)
    all_models.update({str(mid): m.to_json(MODEL_MOD, root.deck_id)
                       for mid, m in models.items()})
    conn.execute("UPDATE col SET decks = ?, models = ?",
                 (json.dumps(all_decks), json.dumps(all_models)))
    sort_index = {nt.id: nt.fields.index(nt.sort) for nt in NOTE_TYPES.values()}
    deck_ids = {name: deck.deck_id for name, deck in decks.items()}
    note_rows: list[tuple[Any, ...]] = []
    card_rows: list[tuple[Any, ...]] = []
    written = cards = pending = 0
    # A batch's notes go in as they come; its cards wait in a temporary table (a file of
    # its own) and follow them at the batch's end: the collection's pages are laid out as
    # when every row of a batch was held and written at once.
    conn.execute("CREATE TEMP TABLE pending_cards AS SELECT * FROM cards WHERE 0")

    def write_rows() -> None:
        conn.executemany("INSERT INTO notes VALUES (?,?,?,?,?,?,?,?,?,?,?)", note_rows)
        conn.executemany("INSERT INTO temp.pending_cards VALUES "
                         "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", card_rows)
        note_rows.clear()
        card_rows.clear()

    def end_batch() -> None:
        nonlocal pending
        write_rows()
        # ORDER BY: no bulk copy of the table's pages (SQLite's transfer optimisation)
        conn.execute("INSERT INTO cards SELECT * FROM temp.pending_cards ORDER BY rowid")
        conn.execute("DELETE FROM temp.pending_cards")
        pending = 0

    for n, rows in notes:
        mid = n.note_type.id
        note_rows.append((n.id, n.guid, mid, n.mod, -1, f" {' '.join(namespaced(n.tags))} ",
                          "\x1f".join(n.fields), n.fields[sort_index[mid]], 0, 0, ""))
        did = deck_ids[n.deck]
        if learning is None:
            card_rows.extend((cid, n.id, did, ordinal, n.mod, -1, 0, 0, due,
                              0, 0, 0, 0, 0, 0, 0, 0, "") for ordinal, cid, due in n.cards)
        else:
            for ordinal, cid, due in n.cards:
                ctype, queue, cdue, ivl, factor, reps, lapses, left, data = learning.card(
                    rows[due])
                card_rows.append((cid, n.id, did, ordinal, n.mod, -1, ctype, queue,
                                  due if ctype == 0 else cdue, ivl, factor, reps, lapses,
                                  left, 0, 0, 0, data))
        written += 1
        cards += len(n.cards)
        pending += len(n.cards)
        # the batches as the notes were once written (the file's pages follow them)
        if pending >= BATCH or written == selection.total:
            end_batch()
        elif len(note_rows) >= ROWS_AT_ONCE:
            write_rows()
    if pending or note_rows:
        end_batch()
    conn.execute("DROP TABLE temp.pending_cards")
    conn.executescript(INDEXES)
    conn.commit()
    return written, cards


#: The header fields of an SQLite file that say which library wrote it and how often
#: (offset, length): the file change counter, "version valid for" and the library
#: version. An in-memory database, which the packages were first written from, leaves
#: them 0; so do these, so that a package does not depend on the SQLite that wrote it.
_VOLATILE_HEADER = ((24, 4), (92, 8))

#: zipfile's size from which an entry needs zip64 (its ZIP64_LIMIT), and its rule.
_ZIP64_LIMIT = (1 << 31) - 1


def write_package(collection: str | os.PathLike[str], out: BinaryIO) -> None:
    """The .apkg into ``out`` (a seekable file): a zip of the collection file
    (deflated, read a piece at a time) and an empty media list."""
    size = os.path.getsize(collection)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED,
                         compresslevel=COMPRESS_LEVEL) as package, open(collection, "rb") as src:
        # a name, not a ZipInfo: the entry takes the package's level and ZIP_TIME (the default)
        with package.open("collection.anki2", "w",
                          force_zip64=size * 1.05 > _ZIP64_LIMIT) as dest:
            header = bytearray(src.read(100))
            for at, length in _VOLATILE_HEADER:
                header[at:at + length] = bytes(length)
            dest.write(header)
            while piece := src.read(1 << 16):
                dest.write(piece)
        package.getinfo("collection.anki2").external_attr = 0o644 << 16
        info = zipfile.ZipInfo("media", date_time=ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        package.writestr(info, b"{}", compresslevel=COMPRESS_LEVEL)


def export_apkg(store: Store, path: str | os.PathLike[str], *, deck: str = "Secretariat",
                split_by: str | None = None, tag: str | None = None, kind: str | None = None,
                force: bool = False, progress: Progress | None = None,
                now: datetime | None = None, tz: tzinfo | None = None,
                settings: Settings | None = None) -> Exported:
    """Write the store's cards (or a part) as an Anki package.

    The notes are read from the store and written as they come, a chunk at a
    time, into the collection (a temporary file beside ``path``), which is
    then deflated into the package: the memory an export holds does not grow
    with the store.

    Args:
        store: the fact store.
        path: the .apkg file to write.
        deck: the deck's name; ``::`` makes a subdeck.
        split_by: ``"kind"`` puts each kind in a subdeck (``Secretariat::Tenures``, ...).
        tag: only records with this tag.
        kind: only cards of this family (tenure, as-of, heads, ...; see ``NOTE_TYPES``).
        force: overwrite ``path`` if it exists.
        progress: called as ``progress(done, total)`` as notes are written.
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
    selection = select_notes(store, deck=deck, split_by=split_by, tag=tag, kind=kind)
    learning = None if now is None else Learning(now, tz or UTC, settings or Settings())
    with atomic_file(path, force=force) as out:
        fd, collection = tempfile.mkstemp(prefix=f".{Path(path).name}.", suffix=".anki2",
                                          dir=Path(path).parent)
        os.close(fd)
        try:
            conn = sqlite3.connect(collection)
            try:
                # a scratch file: no journal, no syncs (a failed export removes it)
                conn.execute("PRAGMA journal_mode = OFF")
                conn.execute("PRAGMA synchronous = OFF")
                ids = CardIds(store, selection)
                history = () if learning is None else revlog(store, selection, ids)
                notes, cards = write_collection(
                    conn, selection, stream_notes(store, selection, ids, progress),
                    learning, history)
            finally:
                conn.close()
            write_package(collection, out)
        finally:
            Path(collection).unlink(missing_ok=True)
    return Exported(notes, cards, selection.decks)
