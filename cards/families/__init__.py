"""Card families computed over the whole record set; importing this registers them."""

from cards.families import as_of, chronology, heads, lineage, succession  # noqa: F401

__all__: list[str] = []
