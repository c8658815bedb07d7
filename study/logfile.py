"""Review events as JSON Lines: ``study log export`` and ``study log merge``.

One event a line, as a JSON object with the fields of ``study.history.Event``
(``at`` in ISO 8601 with its offset). Two machines share a history through
any folder sync or git: each exports its log, and merges the other's; the
merge is a union by event id, so merging a file twice changes nothing.
"""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

from cards.db import iso
from cards.errors import CardsError, InvalidInput, Problem
from cards.files import write_atomic
from study import history
from study.history import Event
from study.settings import Settings

FIELDS = ("id", "card_key", "kind", "at", "device", "origin", "rating", "duration_ms",
          "cancels", "anki_revlog_id")
_TEXT_LIMIT = 200


class LogFileError(CardsError):
    """A log file cannot be read."""


def to_json(event: Event) -> str:
    """One line of the log file (without its newline)."""
    return json.dumps({"id": event.id, "card_key": event.card_key, "kind": event.kind,
                       "at": iso(event.at), "device": event.device, "origin": event.origin,
                       "rating": event.rating, "duration_ms": event.duration_ms,
                       "cancels": event.cancels, "anki_revlog_id": event.anki_revlog_id},
                      ensure_ascii=False)


def export_log(conn: sqlite3.Connection, path: str | os.PathLike[str], force: bool = False
               ) -> int:
    """Write every stored event to ``path``, in time order; returns how many.

    Raises:
        OutputError: the file exists (without ``force``) or cannot be written.
    """
    found = history.events(conn)
    text = "".join(to_json(e) + "\n" for e in found)
    write_atomic(path, text.encode("utf-8"), force=force)
    return len(found)


def _text(obj: dict[str, Any], name: str, problems: list[str], optional: bool = False
          ) -> str | None:
    value = obj.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        problems.append(f"{name}: expected a non-empty string")
        return None
    if len(value) > _TEXT_LIMIT or not value.isprintable():
        problems.append(f"{name}: expected printable text of at most {_TEXT_LIMIT} characters")
        return None
    return value


def _integer(obj: dict[str, Any], name: str, problems: list[str], low: int, high: int | None
             ) -> int | None:
    value = obj.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (
            high is not None and value > high):
        upper = f" to {high}" if high is not None else " or more"
        problems.append(f"{name}: expected a whole number {low}{upper}")
        return None
    return value


def from_json(obj: Any) -> tuple[Event | None, list[str]]:
    """An event from one parsed line, or the problems (``field: what was expected``)."""
    if not isinstance(obj, dict):
        return None, ["expected a JSON object (one event a line)"]
    problems: list[str] = []
    unknown = sorted(set(obj) - set(FIELDS))
    if unknown:
        problems.append(f"{unknown[0]}: unknown field (expected {', '.join(FIELDS)})")
    event_id = _text(obj, "id", problems)
    card_key = _text(obj, "card_key", problems)
    device = _text(obj, "device", problems)
    origin = _text(obj, "origin", problems)
    kind = obj.get("kind")
    if kind not in history.KINDS:
        problems.append("kind: expected 'review' or 'undo'")
    at = None
    raw_at = obj.get("at")
    try:
        at = datetime.fromisoformat(raw_at) if isinstance(raw_at, str) else None
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        problems.append("at: expected an ISO 8601 time with its UTC offset")
        at = None
    rating = _integer(obj, "rating", problems, 1, 4)
    duration = _integer(obj, "duration_ms", problems, 0, None)
    revlog = _integer(obj, "anki_revlog_id", problems, 0, None)
    cancels = _text(obj, "cancels", problems, optional=True)
    if kind == "review" and obj.get("rating") is None:
        problems.append("rating: expected a whole number 1 to 4 for a review")
    if kind == "review" and obj.get("cancels") is not None:
        problems.append("cancels: expected null for a review")
    if kind == "undo" and obj.get("cancels") is None:
        problems.append("cancels: expected the id of the review an undo cancels")
    if kind == "undo" and obj.get("rating") is not None:
        problems.append("rating: expected null for an undo")
    if problems:
        return None, problems
    assert event_id and card_key and device and origin and at and isinstance(kind, str)
    return Event(id=event_id, card_key=card_key, kind=kind, at=at, device=device,
                 origin=origin, rating=rating, duration_ms=duration, cancels=cancels,
                 anki_revlog_id=revlog), []


def read_log(path: str | os.PathLike[str]) -> list[Event]:
    """The events in a log file, checked line by line.

    Raises:
        InvalidInput: lines that are not valid events (each named with its
            line and field).
        LogFileError: the file cannot be read.
    """
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except IsADirectoryError:
        raise LogFileError(f"{name}: is a directory, expected a log file") from None
    except OSError as err:
        raise LogFileError(f"{name}: cannot read ({err.strerror})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        bad_line = data[:err.start].count(b"\n") + 1
        raise InvalidInput([Problem(name, bad_line, None, None, None,
                                    "not UTF-8 text (expected JSON Lines)")]) from None
    found: list[Event] = []
    problems: list[Problem] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as err:
            problems.append(Problem(name, number, None, None, None,
                                    f"not JSON ({err.msg}); expected one event a line"))
            continue
        event, wrong = from_json(obj)
        for message in wrong:
            field, _, what = message.partition(": ") if ": " in message else ("", "", message)
            problems.append(Problem(name, number, None, None, field or None, what))
        if event is not None:
            found.append(event)
        if len(problems) >= 50:
            break
    if problems:
        raise InvalidInput(problems)
    return found


def merge_log(conn: sqlite3.Connection, path: str | os.PathLike[str], settings: Settings,
              now: datetime) -> tuple[int, int, list[str]]:
    """Merge the events of a log file into the store (a union by id, one transaction).

    Returns:
        How many events were new, how many were read, and the keys of the
        cards this store does not have (their events are left out).

    Raises:
        InvalidInput: the file has invalid lines (nothing is merged).
        LogFileError: the file cannot be read.
    """
    found = read_log(path)
    unknown = history.unknown_cards(conn, found)
    new = history.merge_events(conn, found, settings, now)
    return new, len(found), unknown
