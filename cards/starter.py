"""The built-in starter deck: the CPSU and CCP leadership, organs and events."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from importlib import resources

from cards.authoring import ImportReport, import_records, read_text, validate
from cards.errors import UnknownRecord
from cards.records import KINDS, Record
from cards.store import Store

NAME = "starter.toml"


def starter_text() -> str:
    """The starter deck's authoring file, as shipped with the package."""
    return resources.files("cards").joinpath("data", NAME).read_text(encoding="utf-8")


#: Config key: the records the starter deck wrote, as [kind, id] pairs.
OWNED = "starter_records"
#: Config key: ``"KIND:ID" -> digest`` of each starter record as the deck last wrote it,
#: so that a record the learner edited since is recognised (and kept).
VERSIONS = "starter_versions"

Ref = tuple[str, str]


def digest(record: Record) -> str:
    """A short fingerprint of a record's content."""
    text = json.dumps(record, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _key(ref: Ref) -> str:
    return f"{ref[0]}:{ref[1]}"


def load_starter(store: Store, now: datetime, reset: list[Ref] | None = None) -> ImportReport:
    """Add or update the starter records; the learner's own records and edits are left alone.

    A record the learner made under an id the starter deck also uses stays
    theirs (``kept``). A starter record the learner edited stays as they left
    it; if the deck changed it too, it is named in ``edited``. A starter record
    that a newer deck no longer has is removed, unless the learner's records
    refer to it or the learner edited it (``removed`` names those removed).
    Stores from before the deck's versions were kept cannot tell an edit from
    an older deck: their records are updated, as then.

    Args:
        reset: records that take the starter's version whatever was done to them.

    Raises:
        UnknownRecord: a record to reset is not in the starter deck.
    """
    items, problems = read_text(starter_text(), f"<starter>/{NAME}")
    validate(store, items, problems)
    shipped = {(loc.kind, loc.record["id"]): loc for loc in items}
    forced = set(reset or [])
    for kind, rid in sorted(forced - set(shipped)):
        raise UnknownRecord(f"the starter deck has no {kind} '{rid}'")
    with store.transaction():
        config = store.config()
        owned = {(k, i) for k, i in config.get(OWNED, [])} | forced
        versions: dict[str, str] = dict(config.get(VERSIONS, {}))
        current = {kind: store.records(kind, [i for k, i in shipped if k == kind])
                   for kind in KINDS}

        def edited_by_learner(ref: Ref) -> bool:
            stored = current.get(ref[0], {}).get(ref[1])
            last = versions.get(_key(ref))
            return (ref not in forced and stored is not None and last is not None
                    and digest(stored) != last and stored != shipped[ref].record)

        mine = {ref for ref in shipped if ref not in owned and store.exists(*ref)}
        edited = {ref for ref in shipped if ref in owned and edited_by_learner(ref)}
        ours = [loc for ref, loc in shipped.items() if ref not in mine | edited]
        report = import_records(store, ours, now, consistent=False)  # the deck is checked
        report.kept = sorted(mine)
        report.edited = sorted(ref for ref in edited
                               if digest(shipped[ref].record) != versions.get(_key(ref)))
        for ref, loc in shipped.items():
            if ref not in mine | edited:
                versions[_key(ref)] = digest(loc.record)
        order = list(KINDS)
        leftover = []
        # what uses others goes first: facts, events, tenures before people and organs
        for kind, rid in sorted(owned - set(shipped), key=lambda r: -order.index(r[0])):
            last = versions.pop(_key((kind, rid)), None)
            if not store.exists(kind, rid):
                continue
            if last is not None and digest(store.get(kind, rid)) != last:
                report.edited.append((kind, rid))  # dropped, but edited: theirs now
                continue
            if store.referrers(kind, rid):
                leftover.append((kind, rid))
                if last is not None:
                    versions[_key((kind, rid))] = last
                continue
            store.remove(kind, rid, now)
            report.removed.append((kind, rid))
        deck = set(shipped) - mine
        store.set_config(OWNED, sorted(deck | set(leftover)))
        store.set_config(VERSIONS, {k: versions[k] for k in sorted(versions)})
    return report
