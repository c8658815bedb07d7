"""Hierarchical tags: ``ussr::party`` is below ``ussr``, and ``--tag ussr`` matches both."""

from __future__ import annotations

from collections.abc import Iterable

SEPARATOR = "::"


def tag_matches(tag: str, wanted: str) -> bool:
    """True if ``tag`` is ``wanted`` or a tag below it (``ussr::party`` for ``ussr``)."""
    return tag == wanted or tag.startswith(wanted + SEPARATOR)


def has_tag(tags: Iterable[str], wanted: str) -> bool:
    """True if any of ``tags`` matches ``wanted`` (itself or a tag below it)."""
    return any(tag_matches(t, wanted) for t in tags)
