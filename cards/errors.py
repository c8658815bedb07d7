"""The domain errors of the fact store.

Every error a user can cause is one of these; the command layer turns them
into a one-line message and exit status 1. Anything else is a bug.
"""

from __future__ import annotations

TYPE_CHECKING = False  # `study due` imports this: typing would cost it about 3 ms
if TYPE_CHECKING:
    from typing import NamedTuple
else:
    from cards.tuples import NamedTuple


class CardsError(Exception):
    """Base class of the errors a user can cause."""


class DateError(CardsError, ValueError):
    """A string is not a valid partial date."""


class UnknownRecord(CardsError, LookupError):
    """No record of that kind with that id."""


class UnknownCard(CardsError, LookupError):
    """No card with that key."""


class RecordInUse(CardsError):
    """A record cannot be removed while others refer to it."""


class StoreError(CardsError):
    """The store file cannot be opened or used."""


class Problem(NamedTuple):
    """One thing wrong with the input, located as precisely as possible."""

    file: str
    line: int | None
    kind: str | None
    id: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        parts = [where]
        if self.kind:
            parts.append(f"{self.kind} '{self.id}'" if self.id else self.kind)
        if self.field:
            parts.append(self.field)
        parts.append(self.message)
        return ": ".join(parts)


class InvalidInput(CardsError):
    """The input has one or more problems; nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
