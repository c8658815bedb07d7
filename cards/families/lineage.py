"""Lineage: a missing link in a chain of three or more successor organs.

Cheka -> GPU -> OGPU -> NKVD: "Which body came between the GPU and the
NKVD?". One card per chain: its middle link, or the link nearest the middle
that gives nothing away; its id is ``FIRST@LINK``, the chain's first organ
and the organ asked. Chains follow ``succeeded_by``; a chain stops where two organs merge
into one or where it would go round.
"""

from __future__ import annotations

from collections.abc import Iterator

from cards.gate import giveaway
from cards.graph import Graph, organ_name, the
from cards.registry import CardSpec, Family, Loader, Record, Records, register_family


class Lineage(Family):
    """``missing-link``: the organ between two others in a line of successors."""

    name = "lineage"
    label, plural = "Lineage", "Lineages"
    templates = ("missing-link",)
    data_fields = ("Chain",)
    sort = "Chain"
    order = 80

    def chains(self, graph: Graph) -> Iterator[list[Record]]:
        organs, preds = graph.organs, graph.predecessors
        for oid, o in organs.items():
            if len(preds.get(oid, ())) == 1:
                continue  # not the head of a chain
            chain, seen = [o], {oid}
            nxt = o.get("succeeded_by")
            while nxt in organs and nxt not in seen and len(preds.get(nxt, ())) == 1:
                chain.append(organs[nxt])
                seen.add(nxt)
                nxt = organs[nxt].get("succeeded_by")
            if len(chain) >= 3:
                yield chain

    def cards(self, graph: Graph) -> Iterator[CardSpec]:
        for chain in self.chains(graph):
            middle = (len(chain) - 1) // 2
            order = sorted(range(1, len(chain) - 1), key=lambda i: (abs(i - middle), i))
            for i in order:  # the middle link, else the nearest one that gives nothing away
                before, link, after = chain[i - 1], chain[i], chain[i + 1]
                question = f"Which body came between {the(before)} and {the(after)}?"
                if giveaway(question, organ_name(link), [link.get("short") or ""]) is None:
                    break
            else:
                continue
            head = chain[0]
            rid = f"{head['id']}@{link['id']}"
            tags = tuple(dict.fromkeys(t for o in (before, link, after) for t in o.get("tags", ())))
            yield CardSpec(
                f"{self.name}:{rid}:missing-link", self.name, self.name, rid,
                "missing-link", question,
                organ_name(link), (f"organ:{link['id']}",), tags,
                facts=(before["id"], link["id"], after["id"]), entity=f"organ:{link['id']}",
                mentions=(f"organ:{before['id']}", f"organ:{after['id']}"),
                shorts=(link["short"],) if link.get("short") else ())

    def parts(self, rid: str) -> list[tuple[str, str]]:
        """The organ asked: its dates and note go with the answer."""
        return [("organ", rid.split("@")[1])]

    def around(self, load: Loader, rid: str) -> Records:
        return {"organ": load("organ", rid.split("@"))}

    def note(self, records: Records, rid: str) -> tuple[list[str], list[Record],
                                                        list[tuple[str, str]]]:
        head, link = rid.split("@")
        organs = records["organ"]
        names, o, seen = [], organs.get(head), set()
        while o is not None and o["id"] not in seen:
            seen.add(o["id"])
            names.append(o.get("short") or o["name"])
            o = organs.get(o.get("succeeded_by", ""))
        return [" → ".join(names)], [organs[link]], [("organ", i) for i in seen]


register_family(Lineage())
