"""The built-in starter deck: the CPSU and CCP leadership, organs and events."""

from __future__ import annotations

from datetime import datetime
from importlib import resources

from cards.authoring import ImportReport, import_records, read_text, validate
from cards.records import KINDS
from cards.store import Store

NAME = "starter.toml"


def starter_text() -> str:
    """The starter deck's authoring file, as shipped with the package."""
    return resources.files("cards").joinpath("data", NAME).read_text(encoding="utf-8")


#: Config key: the records the starter deck wrote, as [kind, id] pairs.
OWNED = "starter_records"


def load_starter(store: Store, now: datetime) -> ImportReport:
    """Add or update the starter records; the user's own records are left alone.

    A record the user made under an id the starter deck also uses stays the
    user's (``kept``); a starter record that a newer deck no longer has is
    removed, unless the user's records refer to it (``removed``).
    """
    items, problems = read_text(starter_text(), f"<starter>/{NAME}")
    validate(store, items, problems)
    with store.transaction():
        config = store.config()
        owned = {(k, i) for k, i in config.get(OWNED, [])}
        kept = [loc for loc in items if (loc.kind, loc.record["id"]) not in owned
                and store.exists(loc.kind, loc.record["id"])]
        mine = {(loc.kind, loc.record["id"]) for loc in kept}
        ours = [loc for loc in items if (loc.kind, loc.record["id"]) not in mine]
        report = import_records(store, ours, now, consistent=False)  # the deck is checked
        report.kept = sorted(mine)
        deck = {(loc.kind, loc.record["id"]) for loc in ours}
        order = list(KINDS)
        leftover = []
        # what uses others goes first: facts, events, tenures before people and organs
        for kind, rid in sorted(owned - deck, key=lambda r: -order.index(r[0])):
            if not store.exists(kind, rid):
                continue
            if store.referrers(kind, rid):
                leftover.append((kind, rid))
                continue
            store.remove(kind, rid, now)
            report.removed.append((kind, rid))
        store.set_config(OWNED, sorted(deck | set(leftover)))
    return report
