"""Cards generated from records: no card is written by hand.

Every family in the registry (``cards.registry``) makes its cards from the
indexed record set (``cards.graph.Graph``); the quality gate
(``cards.gate``) then drops generated cards that give their answer away or
that share a question with a different answer, and links cards that leak
each other's answers. Each card has a stable key ``FAMILY:ID:TEMPLATE`` and
sibling groups (``KIND:ID`` of the records it comes from, ``link:ENTITY``
for a leak) that the review buries together.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path

from cards.gate import GateResult, run
from cards.graph import Graph
from cards.registry import FAMILIES, load
from cards.registry import CardSpec as CardSpec
from cards.registry import Records as Records
from cards.registry import answer_hash as answer_hash
from cards.registry import facts_hash as facts_hash
from cards.stream import Verdicts

load()


def candidates(records: Records) -> list[CardSpec]:
    """Every card the families make, before the quality gate."""
    return list(_each(Graph(records)))


def _each(graph: Graph) -> Iterator[CardSpec]:
    for family in FAMILIES.values():
        yield from family.cards(graph)


def verdicts(records: Records, progress: Callable[[int], None] | None = None) -> Verdicts:
    """The gate's verdicts on every card of ``records``, made in two passes that do not
    hold them (``cards.stream``; ``progress``: told how many cards the first has made)."""
    graph = Graph(records)
    return Verdicts(lambda: _each(graph), progress)


def gate_all(records: Records) -> GateResult:
    """What the gate drops and warns about among every card of ``records`` (its
    ``cards`` left empty), made as ``verdicts`` makes them."""
    made = verdicts(records)
    try:
        for _ in made.cards():
            pass
    finally:
        made.close()
    return made.result


@contextlib.contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: generation makes hundreds of thousands of
    small objects and no cycles, and each full collection would walk them all again
    (time that grows faster than the record set)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def generate_checked(records: Records) -> GateResult:
    """The cards that pass the gate, with what it dropped, warned about and linked."""
    with no_gc():
        return run(candidates(records))


def generate(records: Records) -> list[CardSpec]:
    """All cards the records make, each key once, in the families' order.

    Args:
        records: records by kind, then by id, each kind in the order added.
    """
    return generate_checked(records).cards


@functools.cache
def maker() -> str:
    """A fingerprint of the code that makes cards (every module of the ``cards`` package):
    cards made by another version may read otherwise, so an import that changes no
    record still makes them again when the store's cards were made by other code."""
    digest = hashlib.sha1()
    package = Path(__file__).parent
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def context(records: Records, family: str, record_id: str) -> list[str]:
    """Lines shown with an answer: the records' dates, notes and sources."""
    return FAMILIES[family].context(records, record_id) if family in FAMILIES else []
