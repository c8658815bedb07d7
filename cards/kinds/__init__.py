"""One module per kind of record; importing this package registers them in order."""

from cards.kinds import event, fact, office, organ, person, tenure  # noqa: F401

__all__: list[str] = []
