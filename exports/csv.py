"""The store as Anki-ready text: Anki's CSV import format with its header lines.

Each row is one note of ``exports.notes``, the same notes the .apkg holds:
note type, deck, GUID, tags, then the note's fields in order.

Note types: the rows use Secretariat's own note types ("Secretariat Tenure",
"Secretariat Organ", ...), named in a ``#notetype column``, because only
they make exactly the store's cards from one note per record; a stock type
such as "Basic" would need a note per card, lose the sibling links that let
Anki bury related cards, and is named differently in every language of
Anki. A text file cannot define note types, so they must already be in the
collection: import a Secretariat .apkg once (``study export anki``; a package
brings the note types of the kinds it holds). After that this file adds new
notes and, matched by GUID, updates existing ones in place with their cards
and history; Anki makes the cards from the same templates as the package.
Rows whose note type is missing are reported by Anki as such and skipped.

The deck is a column rather than a ``#deck:`` line, so that one layout
serves a single deck and the subdecks of ``split_by="kind"`` alike; Anki
creates a deck named there if it is missing. All rows have the same number of
columns (the widest note type's), since Anki counts the columns from the first
row; a note ignores the extra empty columns.
"""

from __future__ import annotations

import csv
import io
import os

from cards.files import check_target, write_atomic
from cards.store import Store
from exports.notes import Exported, Progress, collect_notes, namespaced

SEPARATORS = {"tab": "\t", "comma": ","}

#: The columns before the note's fields, 1-based as Anki counts them.
NOTETYPE_COLUMN, DECK_COLUMN, GUID_COLUMN, TAGS_COLUMN = 1, 2, 3, 4


def header(separator: str = "tab") -> str:
    """The header lines that tell Anki how to read the file."""
    return (f"#separator:{separator}\n"
            f"#html:true\n"
            f"#notetype column:{NOTETYPE_COLUMN}\n"
            f"#deck column:{DECK_COLUMN}\n"
            f"#guid column:{GUID_COLUMN}\n"
            f"#tags column:{TAGS_COLUMN}\n")


def export_csv(store: Store, path: str | os.PathLike[str], *, deck: str = "Secretariat",
               split_by: str | None = None, tag: str | None = None, kind: str | None = None,
               separator: str = "tab", force: bool = False,
               progress: Progress | None = None) -> Exported:
    """Write the store's cards (or a part) as a file for Anki's text import.

    Args:
        store: the fact store.
        path: the file to write.
        deck: the deck's name; ``::`` makes a subdeck.
        split_by: ``"kind"`` puts each kind in a subdeck (``Secretariat::Tenures``, ...).
        tag: only records with this tag.
        kind: only cards of this family (tenure, as-of, heads, ...; see ``NOTE_TYPES``).
        separator: ``"tab"`` or ``"comma"``.
        force: overwrite ``path`` if it exists.
        progress: called as ``progress(done, total)`` as notes are built.

    Returns:
        How many notes (rows) and cards were written, and the decks.

    Raises:
        OutputError: ``path`` exists (without ``force``) or cannot be written;
            no partial file is left.
        NothingToExport: no card matches the selection.
        BadDeckName: ``deck`` is not a deck name.
    """
    if separator not in SEPARATORS:
        raise ValueError(f"separator must be one of {', '.join(SEPARATORS)}, not {separator!r}")
    check_target(path, force)
    notes = collect_notes(store, deck=deck, split_by=split_by, tag=tag, kind=kind,
                          progress=progress)
    width = max(len(n.fields) for n in notes)
    out = io.StringIO()
    out.write(header(separator))
    writer = csv.writer(out, delimiter=SEPARATORS[separator], lineterminator="\n")
    for n in notes:
        writer.writerow([n.note_type.name, n.deck, n.guid, " ".join(namespaced(n.tags)), *n.fields,
                         *[""] * (width - len(n.fields))])
    write_atomic(path, out.getvalue().encode("utf-8"), force=force)
    return Exported(len(notes), sum(len(n.cards) for n in notes),
                    tuple(dict.fromkeys(n.deck for n in notes)))
