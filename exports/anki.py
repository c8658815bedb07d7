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

import io
import json
import os
import sqlite3
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

import genanki  # type: ignore[import-untyped]
from genanki.apkg_col import APKG_COL  # type: ignore[import-untyped]
from genanki.apkg_schema import APKG_SCHEMA  # type: ignore[import-untyped]

from cards.files import check_target, write_atomic
from cards.store import Store
from exports.notes import (
    NOTE_TYPES,
    Exported,
    ExportNote,
    NoteType,
    Progress,
    collect_notes,
    namespaced,
    stable_id,
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
