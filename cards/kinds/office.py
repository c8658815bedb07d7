"""Offices: posts in an organ, and the office that took over a post's role."""

from __future__ import annotations

from collections.abc import Iterator

from cards.graph import Graph, office_title, organ_label
from cards.kinds.base import card
from cards.registry import (
    CardSpec,
    Family,
    Field,
    Kind,
    KindModule,
    Loader,
    Record,
    Records,
    register_family,
    register_kind,
)


class Office(KindModule):
    kind = Kind("office", "offices", "title", (
        Field("title", required=True,
              help="e.g. General Secretary of the CPSU Central Committee"),
        Field("organ", "ref", ref="organ", help="id of the organ the office belongs to"),
        Field("succeeded_by", "ref", ref="office",
              help="id of the office that took over this office's role"),
    ))
    columns = ("id", "title", "organ")
    order = 3


class OfficeCards(Family):
    """``took-over``: "Which office took over the role of the Responsible Secretary ...?"."""

    name = "office"
    label, plural = "Office", "Offices"
    templates = ("took-over",)
    data_fields = ("Title", "Organ", "Succeeded By")
    sort = "Title"
    kind = "office"
    order = 55

    def cards(self, graph: Graph) -> Iterator[CardSpec]:
        for oid, office in graph.offices.items():
            nxt = graph.offices.get(office.get("succeeded_by", ""))
            if nxt is None or nxt is office or nxt["title"] == office["title"]:
                continue
            yield card(self.name, office, "took-over",
                       f"Which office took over the role of the {office['title']}?",
                       str(nxt["title"]), facts=(nxt["id"],), entity=f"office:{nxt['id']}",
                       mentions=(f"office:{oid}",))

    def note(self, records: Records, rid: str) -> tuple[list[str], list[Record],
                                                        list[tuple[str, str]]]:
        office = records["office"][rid]
        organ = records.get("organ", {}).get(office.get("organ", ""))
        nxt = records["office"].get(office.get("succeeded_by", ""))
        data = [str(office["title"]), organ_label(organ) if organ else office.get("organ", ""),
                office_title(nxt, office.get("succeeded_by", "")) if nxt or office.get(
                    "succeeded_by") else ""]
        uses = [("office", rid)] + ([("office", office["succeeded_by"])]
                                    if office.get("succeeded_by") else [])
        return data, [office], uses

    def around(self, load: Loader, rid: str) -> Records:
        offices = load("office", [rid])
        refs = [o["succeeded_by"] for o in offices.values() if o.get("succeeded_by")]
        organs = [o["organ"] for o in offices.values() if o.get("organ")]
        return {"office": {**offices, **(load("office", refs) if refs else {})},
                "organ": load("organ", organs) if organs else {}}


register_kind(Office())
register_family(OfficeCards())
