"""Two-way sync with Anki and AnkiDroid through Anki's own sync protocol.

Secretariat keeps a mirror of the learner's Anki collection next to its
store (``study.db.anki/collection.anki2``) and syncs it with AnkiWeb or a
self-hosted server using the ``anki`` package, the same Rust core as Anki.
A sync is:

1. bring the mirror up to date (the first time: download the account);
2. pull: every answer given in Anki to a Secretariat card (matched by note
   GUID and template) whose revlog id the store does not hold becomes a
   review event; the events are merged and the touched cards replayed;
3. push: Secretariat's note types, deck, "Secretariat" deck-options preset,
   notes (fields, namespaced tags), terminal answers as revlog entries, and
   every card's scheduling (queue, due, interval, FSRS memory state,
   suspension, burying) as the store holds it;
4. sync the mirror again (on an empty account: upload it, so that a phone can
   download it).

Secretariat touches only its own notes, cards, note types, deck and preset.
Only the host key is kept (``account.json``, mode 0600), never the password.

Public ``anki`` API throughout, except ``col.db`` where the package has no
public call: reading the notes' GUIDs, fields and tags and the cards'
scheduling in bulk (it reads them one at a time only, far too slow for
20,000 cards; changed ones are then fetched and written through the public
API), reading the revlog (no reader), and adding revlog entries (Anki adds
them only when it answers a card itself).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from cards.errors import CardsError
from cards.store import Store
from exports.notes import NOTE_TYPES, TAG_ROOT, collect_notes, namespaced, note_guid, note_key
from study import history
from study.live import Process
from study.queue import study_day
from study.settings import Settings

#: The note field Secretariat never writes: the learner's own.
PERSONAL = "Personal"
RETIRED_TAG = f"{TAG_ROOT}::retired"
DECK = "Secretariat"
PRESET = "Secretariat"
ANKIWEB = ""  # the account's endpoint when it is AnkiWeb (the anki package's default)
INSTALL_HINT = ("the Anki sync needs the 'anki' package: pip install 'secretariat[anki]' "
                "(or, in a checkout, pip install '.[anki]')")

Log = Callable[[str], None]


class SyncError(CardsError):
    """A sync that could not be done; the store and the account lost nothing."""


class AnkiMissing(SyncError):
    """The optional ``anki`` package is not installed."""


@dataclass
class Account:
    """Who Secretariat syncs as: the user, the server, the host key, the last sync."""

    user: str
    endpoint: str
    hkey: str
    last_sync: str | None = None
    pending: int = 0

    @property
    def server(self) -> str:
        return self.endpoint or "AnkiWeb"


@dataclass
class SyncReport:
    """What a sync did."""

    pulled: int = 0
    pushed: int = 0
    notes_added: int = 0
    notes_updated: int = 0
    cards_scheduled: int = 0
    retired: int = 0
    suspended_in_anki: int = 0
    downloaded: bool = False
    uploaded: bool = False
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"pulled {self.pulled} answer{'s' * (self.pulled != 1)} from Anki",
                 f"pushed {self.pushed} answer{'s' * (self.pushed != 1)}",
                 f"{self.notes_added} note{'s' * (self.notes_added != 1)} added",
                 f"{self.notes_updated} updated",
                 f"{self.cards_scheduled} card{'s' * (self.cards_scheduled != 1)} rescheduled"]
        if self.retired:
            parts.append(f"{self.retired} retired")
        return ", ".join(parts)


# -- where things are kept ----------------------------------------------------

def sync_dir(store_path: str) -> Path:
    """The directory of the mirror collection and the account, next to the store."""
    return Path(f"{store_path}.anki")


def load_account(directory: Path) -> Account | None:
    path = directory / "account.json"
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
        return Account(data["user"], data["endpoint"], data["hkey"], data.get("last_sync"))
    except (ValueError, KeyError, TypeError):
        raise SyncError(f"{path}: not a Secretariat account file; remove it and log in again "
                        f"with study anki sync --user NAME") from None


def save_account(directory: Path, account: Account) -> None:
    """Write the account (host key, never the password) with mode 0600, atomically."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "account.json"
    tmp = directory / "account.json.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump({"user": account.user, "endpoint": account.endpoint, "hkey": account.hkey,
                   "last_sync": account.last_sync}, out)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _anki() -> Any:
    try:
        import anki.collection
    except ImportError:
        raise AnkiMissing(INSTALL_HINT) from None
    return anki.collection


# -- review sessions ---------------------------------------------------------

@contextlib.contextmanager
def no_review_running(store: Store, now: datetime, process: Process) -> Iterator[None]:
    """Mark the sync as running in ``sessions``: no review may start meanwhile.

    Raises:
        SyncError: a review session is running (``study.live.running``).
    """
    from study.live import Busy, begin_sync, end

    conn = store.db.conn
    try:
        mark = begin_sync(conn, process.pid, process.host, now, process.alive)
    except Busy as err:
        raise SyncError(str(err)) from None
    try:
        yield
    finally:
        end(conn, mark)


# -- the mapping between the store and Anki ------------------------------------

#: The store's card columns the sync needs (not the texts).
_COLUMNS = ("key, record_kind, record_id, template, position, retired, state, step, stability, "
            "difficulty, due, last_review, reps, lapses, suspended, buried_until, version")


@dataclass(frozen=True)
class CardMap:
    """The store's cards by Anki note GUID and template ordinal, and back."""

    by_slot: dict[tuple[str, int], str]
    rows: dict[str, dict[str, Any]]

    @classmethod
    def of(cls, store: Store) -> CardMap:
        by_slot: dict[tuple[str, int], str] = {}
        rows: dict[str, dict[str, Any]] = {}
        guids: dict[tuple[str, str], str] = {}
        cur = store.db.execute(f"SELECT {_COLUMNS} FROM cards ORDER BY position")
        names = [d[0] for d in cur.description]
        for values in cur:
            row = dict(zip(names, values, strict=True))
            nt = NOTE_TYPES.get(row["record_kind"])
            if nt is None or row["template"] not in nt.templates:
                continue
            record = (row["record_kind"], row["record_id"])
            guid = guids.get(record) or guids.setdefault(record, note_guid(note_key(*record)))
            by_slot[guid, nt.templates.index(row["template"])] = row["key"]
            rows[row["key"]] = row
        return cls(by_slot, rows)

    def refresh(self, store: Store, keys: set[str]) -> None:
        """Read the rows of ``keys`` again (after the pull changed them)."""
        cur = store.db.execute(f"SELECT {_COLUMNS} FROM cards WHERE key IN "
                               f"(SELECT value FROM json_each(?))", [json.dumps(sorted(keys))])
        names = [d[0] for d in cur.description]
        for values in cur:
            row = dict(zip(names, values, strict=True))
            if row["key"] in self.rows:
                self.rows[row["key"]] = row


def _day_number(when: datetime, now: datetime, today: int, tz: tzinfo, rollover: int) -> int:
    """Anki's day number of ``when``: today's number plus the study days between."""
    return today + (study_day(when, tz, rollover).date - study_day(now, tz, rollover).date).days


def anki_schedule(row: dict[str, Any], *, now: datetime, today: int, tz: tzinfo,
                  settings: Settings) -> dict[str, Any]:
    """The Anki scheduling that a store card's state stands for.

    Keys: ``type``, ``queue``, ``due``, ``ivl``, ``reps``, ``lapses``,
    ``stability``, ``difficulty`` (None for a new card).
    """
    state = row["state"]
    rollover = settings.rollover_hour
    out: dict[str, Any] = {"reps": row["reps"], "lapses": row["lapses"],
                           "stability": None, "difficulty": None}
    if state == "new":
        out.update(type=0, queue=0, due=int(row["position"]), ivl=0)
    else:
        due = datetime.fromisoformat(row["due"])
        last = datetime.fromisoformat(row["last_review"]) if row["last_review"] else now
        out["stability"] = round(float(row["stability"]), 3)
        out["difficulty"] = round(float(row["difficulty"]), 3)
        if state == "review":
            out.update(type=2, queue=2, due=_day_number(due, now, today, tz, rollover),
                       ivl=max(1, round((due - last).total_seconds() / 86400)))
        else:
            kind = 1 if state == "learning" else 3
            if study_day(due, tz, rollover).date > study_day(now, tz, rollover).date:
                out.update(type=kind, queue=3, due=_day_number(due, now, today, tz, rollover))
            else:
                out.update(type=kind, queue=1, due=int(due.timestamp()))
            out["ivl"] = 0
    if row["suspended"] or row["retired"]:
        out["queue"] = -1
    elif row["buried_until"] and datetime.fromisoformat(row["buried_until"]) > now:
        out["queue"] = -2
    return out


def card_schedule(card: Any) -> dict[str, Any]:
    """An Anki card's scheduling, in the keys of ``anki_schedule``."""
    memory = card.memory_state
    return {"type": int(card.type), "queue": int(card.queue), "due": int(card.due),
            "ivl": int(card.ivl), "reps": int(card.reps), "lapses": int(card.lapses),
            "stability": round(memory.stability, 3) if memory else None,
            "difficulty": round(memory.difficulty, 3) if memory else None}


def _schedule_of_row(row: list[Any]) -> dict[str, Any]:
    """``card_schedule`` from a row of Anki's cards table (``data`` holds the memory state)."""
    _cid, ctype, queue, due, ivl, reps, lapses, data = row
    try:
        extra = json.loads(data) if data else {}
    except ValueError:
        extra = {}
    s, d = extra.get("s"), extra.get("d")
    return {"type": ctype, "queue": queue, "due": due, "ivl": ivl, "reps": reps,
            "lapses": lapses, "stability": round(float(s), 3) if s is not None else None,
            "difficulty": round(float(d), 3) if d is not None else None}


def same_schedule(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Equal schedules (Anki keeps the memory state to about three decimals)."""
    for k in a.keys() | b.keys():
        x, y = a.get(k), b.get(k)
        if isinstance(x, float) and isinstance(y, float):
            if abs(x - y) > 0.0015 * max(1.0, abs(x)):
                return False
        elif x != y:
            return False
    return True


# -- the sync ----------------------------------------------------------------

@dataclass
class Login:
    """A first login: the user and password, and the server (None: AnkiWeb)."""

    user: str
    password: str
    server: str | None = None


def _message(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return text[0].rstrip(".") if text else type(err).__name__


def _connect(col: Any, auth: Any, what: str) -> Any:
    from anki.errors import NetworkError
    from anki.errors import SyncError as AnkiSyncError

    try:
        return col.sync_collection(auth, False)
    except NetworkError as err:
        raise SyncError(f"cannot reach the sync server ({_message(err)}) while {what}; "
                        f"nothing was lost, run study anki sync again later") from None
    except AnkiSyncError as err:
        from anki.errors import SyncErrorKind

        if getattr(err, "kind", None) == SyncErrorKind.AUTH:
            raise SyncError(f"the sync server no longer accepts the saved login "
                            f"({_message(err)}); log in again with study anki sync --user "
                            f"NAME; nothing was lost") from None
        raise SyncError(f"the sync server refused the sync ({_message(err)}) while {what}; "
                        f"nothing was lost") from None


def _full(col: Any, auth: Any, upload: bool) -> None:
    from anki.errors import NetworkError
    from anki.errors import SyncError as AnkiSyncError

    col.close_for_full_sync()
    try:
        col.full_upload_or_download(auth=auth, server_usn=None, upload=upload)
    except (NetworkError, AnkiSyncError) as err:
        raise SyncError(f"the full {'upload' if upload else 'download'} failed "
                        f"({_message(err)}); nothing was lost, run study anki sync again "
                        f"later") from None
    finally:
        col.reopen(after_full_sync=True)


def _forget_mirror(directory: Path) -> None:
    """Remove the mirror collection and the sync state (a copy of the account: no loss)."""
    for name in ("collection.anki2", "collection.anki2-wal", "collection.anki2-shm",
                 "collection.media.db2", "state.json"):
        with contextlib.suppress(FileNotFoundError):
            (directory / name).unlink()


def login(directory: Path, creds: Login) -> Account:
    """Log in, keep the host key (mode 0600), and return the account.

    Raises:
        SyncError: wrong user or password, or the server cannot be reached.
    """
    module = _anki()
    import tempfile

    from anki.errors import NetworkError
    from anki.errors import SyncError as AnkiSyncError

    directory.mkdir(parents=True, exist_ok=True)
    endpoint = creds.server or None
    scratch = tempfile.TemporaryDirectory()  # logging in needs a collection, not the mirror
    col = module.Collection(str(Path(scratch.name) / "login.anki2"))
    try:
        auth = col.sync_login(creds.user, creds.password, endpoint)
    except NetworkError as err:
        raise SyncError(f"cannot reach {creds.server or 'AnkiWeb'} ({_message(err)}); "
                        f"check the address and the network") from None
    except AnkiSyncError as err:
        raise SyncError(f"login to {creds.server or 'AnkiWeb'} as {creds.user!r} failed "
                        f"({_message(err)}); check the user name and password") from None
    finally:
        col.close()
        scratch.cleanup()
    old = load_account(directory)
    if old is not None and (old.user, old.endpoint) != (creds.user, creds.server or ANKIWEB):
        _forget_mirror(directory)  # another account: the old mirror must not sync with it
    account = Account(creds.user, creds.server or ANKIWEB, auth.hkey,
                      old.last_sync if old and old.user == creds.user else None)
    save_account(directory, account)
    return account


def sync(store: Store, settings: Settings, *, directory: Path, now: datetime, tz: tzinfo,
         account: Account | None = None, collection: str | None = None,
         download: bool = False, log: Log | None = None,
         process: Process | None = None) -> SyncReport:
    """Sync the store with the learner's Anki account (or a local collection file).

    Args:
        store: the fact store.
        settings: the scheduler settings (for the replay and the preset).
        directory: where the mirror collection and the account are kept.
        now: the current time (aware, UTC).
        tz: the study day's time zone.
        account: the account to sync with (from ``login`` or ``load_account``).
        collection: a local Anki collection file to sync with instead of an account.
        download: replace the mirror by the account's collection first (when
            Anki asks for a full sync; Secretariat's answers are pushed again).
        log: called with a line of progress now and then.
        process: this process (id, host, how to tell a live process), for the
            mark that keeps review sessions out while the sync runs.

    Raises:
        SyncError: the server cannot be reached, refuses, or demands a full
            sync; the collection is open in Anki; a review session is running;
            Anki reports any other error (nothing in the store is lost: the
            answers pulled are merged in one transaction, the mirror is a copy).
    """
    _anki()
    from anki.errors import AnkiException

    try:
        return _sync(store, settings, directory=directory, now=now, tz=tz, account=account,
                     collection=collection, download=download, log=log,
                     process=process or Process())
    except AnkiException as err:
        raise SyncError(f"Anki reported an error ({_message(err)}); nothing was lost. If it "
                        f"happens again, study anki sync --download starts again from the "
                        f"account's collection") from None


def _sync(store: Store, settings: Settings, *, directory: Path, now: datetime, tz: tzinfo,
         account: Account | None = None, collection: str | None = None,
         download: bool = False, log: Log | None = None,
         process: Process | None = None) -> SyncReport:
    """``sync`` without the translation of Anki's own errors."""
    module = _anki()
    report = SyncReport()
    say = log or (lambda _line: None)
    with no_review_running(store, now, process or Process()):
        if collection is not None:
            col = _open_local(module, collection)
            try:
                _exchange(store, settings, col, now, tz, report, say, {})
            finally:
                col.close()
            return report
        if account is None:
            raise SyncError("not logged in: run study anki sync --user NAME (and --server URL "
                            "for a self-hosted server) first")
        from anki.sync import SyncAuth

        auth = SyncAuth(hkey=account.hkey, endpoint=account.endpoint or None)
        directory.mkdir(parents=True, exist_ok=True)
        if download:
            _forget_mirror(directory)  # even a damaged one: it is replaced
        col = module.Collection(str(directory / "collection.anki2"))
        try:
            if download:
                say("downloading the account's collection")
                _full(col, auth, upload=False)
                report.downloaded = True
            say("syncing with " + account.server)
            out = _connect(col, auth, "fetching the account's changes")
            if out.required == out.FULL_DOWNLOAD:
                say("downloading the account's collection")
                _full(col, auth, upload=False)
                report.downloaded = True
            elif out.required == out.FULL_SYNC:
                raise SyncError(
                    "Anki asks for a full sync: the account's collection changed in a way a "
                    "normal sync cannot merge (a note type changed on another device, or a "
                    "one-way sync). Nothing was changed. Run study anki sync --download to take "
                    "the account's collection; Secretariat's answers are then pushed again")
            if out.new_endpoint:
                auth = SyncAuth(hkey=account.hkey, endpoint=out.new_endpoint)
                account.endpoint = out.new_endpoint
            state = {} if report.downloaded else _load_state(directory)
            state = _exchange(store, settings, col, now, tz, report, say, state)
            out = _connect(col, auth, "sending Secretariat's changes")
            if out.required == out.FULL_UPLOAD:
                # the server holds no cards: an empty account, nothing to overwrite
                say("uploading to the empty account")
                _full(col, auth, upload=True)
                report.uploaded = True
                # nothing came from the account: every entry now is Secretariat's own
                state["revlog_usn"] = col.db.scalar("SELECT max(usn) FROM revlog")
            elif out.required in (out.FULL_SYNC, out.FULL_DOWNLOAD):
                raise SyncError(
                    "Anki asks for a full sync after Secretariat's changes; the answers pulled "
                    "so far are saved, nothing else was sent. Run study anki sync --download "
                    "to start again from the account's collection")
            _save_state(directory, state)
        finally:
            col.close()
        account.last_sync = now.isoformat(timespec="seconds")
        save_account(directory, account)
    return report


def _open_local(module: Any, path: str) -> Any:
    from anki.errors import DBError

    if not Path(path).is_file():
        raise SyncError(f"{path}: no such Anki collection file")
    try:
        return module.Collection(path)
    except DBError as err:
        if "already open" in str(err).lower() or "locked" in str(err).lower():
            raise SyncError(f"{path}: Anki has this collection open; close Anki (or its "
                            f"profile) and run the sync again") from None
        raise SyncError(f"{path}: cannot open the Anki collection ({_message(err)})") from None


def _load_state(directory: Path | None) -> dict[str, Any]:
    """What the last successful sync pushed: lets the next one look only at changes."""
    if directory is None:
        return {}
    try:
        data = json.loads((directory / "state.json").read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _save_state(directory: Path | None, state: dict[str, Any]) -> None:
    if directory is None:
        return
    tmp = directory / "state.json.tmp"
    tmp.write_text(json.dumps(state))
    os.replace(tmp, directory / "state.json")


def _signature(store: Store) -> list[Any]:
    """Changes whenever a note's text can have changed: the records' and cards' times."""
    from cards.records import KINDS

    parts: list[Any] = list(store.db.execute(
        "SELECT count(*), max(updated), sum(retired) FROM cards").fetchone())
    for kind in KINDS.values():
        parts.extend(store.db.execute(
            f"SELECT count(*), max(updated) FROM [{kind.plural}]").fetchone())
    return parts


def _exchange(store: Store, settings: Settings, col: Any, now: datetime, tz: tzinfo,
              report: SyncReport, say: Log, state: dict[str, Any]) -> dict[str, Any]:
    """Pull Anki's answers into the store, then push the store into the collection.

    ``state`` is what the last successful sync pushed ({} to look at
    everything); returns the state to keep once this sync has succeeded.
    """
    cards = CardMap.of(store)
    slots = _anki_slots(col)
    anki_ids = {cid: key for (guid, ordinal), cid in slots.items()
                if (key := cards.by_slot.get((guid, ordinal))) is not None}
    say("pulling answers given in Anki")
    usn = state.get("revlog_usn")
    # the entries that came with this sync carry the server's usn; later ones a higher one
    seen_usn = col.db.scalar("SELECT max(usn) FROM revlog")
    report.pulled, touched = _pull(store, settings, col, anki_ids, now, usn)
    suspended = _pull_suspensions(store, col, anki_ids, cards, state.get("versions", {}))
    report.suspended_in_anki = len(suspended)
    if touched or suspended:
        cards.refresh(store, touched | set(suspended))
    signature = _signature(store)
    models_there = all(col.models.by_name(nt.name) for nt in NOTE_TYPES.values())
    if signature != state.get("signature") or not models_there:
        say("pushing notes")
        _push_notes(store, settings, col, report)
        slots = _anki_slots(col)
        anki_ids = {cid: key for (guid, ordinal), cid in slots.items()
                    if (key := cards.by_slot.get((guid, ordinal))) is not None}
    else:
        _preset(col, settings, col.decks.id(DECK))
    pushed: dict[str, int] = state.get("versions", {})
    versions = {key: int(row["version"]) for key, row in cards.rows.items()}
    changed = {cid: key for cid, key in anki_ids.items() if pushed.get(key) != versions[key]}
    say("pushing answers and scheduling")
    report.pushed = _push_answers(store, col, changed)
    report.cards_scheduled = _push_schedule(col, changed, cards, settings, now, tz)
    return {"revlog_usn": seen_usn if seen_usn is not None and seen_usn >= 0 else usn,
            "signature": signature, "versions": versions}


def _anki_slots(col: Any) -> dict[tuple[str, int], int]:
    """The collection's cards by (note GUID, template ordinal) (``col.db``: no public lookup)."""
    return {(guid, ordinal): cid for cid, guid, ordinal in col.db.all(
        "SELECT c.id, n.guid, c.ord FROM cards c JOIN notes n ON n.id = c.nid")}


def _pull(store: Store, settings: Settings, col: Any, anki_ids: dict[int, str],
          now: datetime, usn: int | None) -> tuple[int, set[str]]:
    """Answers given in Anki to Secretariat's cards, as review events, merged.

    Only revlog entries not yet synced (usn -1) or that came with a sync
    since the last one (usn above ``usn``: the server numbers each sync
    higher) are looked at; all when None.

    Returns:
        How many answers were new, and the cards they were given to.
    """
    conn = store.db.conn
    where = "" if usn is None else " WHERE usn = -1 OR usn > ?"
    rows = col.db.all("SELECT id, cid, ease, time, type FROM revlog" + where,
                      *([] if usn is None else [usn]))
    rows = [r for r in rows if r[1] in anki_ids and 1 <= r[2] <= 4 and r[4] in (0, 1, 2, 3)]
    if not rows:
        return 0, set()
    keys = {anki_ids[r[1]] for r in rows}
    stored = history.events(conn, keys)
    known = {e.anki_revlog_id for e in stored if e.anki_revlog_id is not None}
    # terminal answers not linked to a revlog entry here, but perhaps pushed by another
    # store whose log was merged into this one: the entry is then that answer, not a new one
    unlinked: dict[tuple[str, int], list[history.Event]] = {}
    for e in stored:
        if e.kind == "review" and e.origin != "anki" and e.anki_revlog_id is None:
            unlinked.setdefault((e.card_key, int(e.rating or 0)), []).append(e)
    links: list[tuple[str, int]] = []
    fresh = []
    for rid, cid, ease, duration, _kind in sorted(rows):
        if rid in known:
            continue
        key = anki_ids[cid]
        same = unlinked.get((key, int(ease)), [])
        # _push_answers gives an answer the revlog id of its time in ms, moved up if taken
        match = next((e for e in same if 0 <= rid - _millis(e.at) < PUSH_SLACK_MS), None)
        if match is not None:
            same.remove(match)
            links.append((match.id, int(rid)))
            continue
        fresh.append(history.Event(
            id=f"anki-{rid}-{cid}", card_key=key, kind="review",
            at=datetime.fromtimestamp(rid / 1000, UTC), device="anki", origin="anki",
            rating=int(ease), duration_ms=int(duration), anki_revlog_id=int(rid)))
    if not fresh and not links:
        return 0, set()
    with history.write(conn):
        for event_id, rid in links:
            history.set_anki_revlog_id(conn, event_id, rid)
        new = history.merge_events(conn, fresh, settings, now) if fresh else 0
    return new, {e.card_key for e in fresh}


def _pull_suspensions(store: Store, col: Any, anki_ids: dict[int, str], cards: CardMap,
                      pushed: dict[str, int]) -> list[str]:
    """Suspensions made in Anki: a card suspended there is suspended in the store; one
    unsuspended there is unsuspended if the store has not changed it since the last
    sync (``pushed``: each card's version then). Returns the keys changed."""
    from study.scheduler import set_suspended

    there = set(col.find_cards("is:suspended"))
    suspend, unsuspend = [], []
    for cid, key in anki_ids.items():
        row = cards.rows[key]
        if row["retired"]:
            continue
        if cid in there and not row["suspended"]:
            suspend.append(key)
        elif cid not in there and row["suspended"] and pushed.get(key) == row["version"]:
            unsuspend.append(key)
    changed = set_suspended(store.db.conn, suspend, True) if suspend else []
    if unsuspend:
        changed += set_suspended(store.db.conn, unsuspend, False)
    return changed


def _note_type(col: Any, nt: Any) -> dict[str, Any]:
    """The collection's note type of a kind, made the first time."""
    from exports.anki import CSS, back_template, front_template

    existing = col.models.by_name(nt.name)
    if existing is not None:
        return dict(existing)
    model = col.models.new(nt.name)
    for name in (*nt.fields, PERSONAL):
        col.models.add_field(model, col.models.new_field(name))
    for template in nt.templates:
        t = col.models.new_template(template.capitalize())
        t["qfmt"] = front_template(nt, template)
        t["afmt"] = back_template(template)
        col.models.add_template(model, t)
    model["css"] = CSS
    model["sortf"] = nt.fields.index(nt.sort)
    col.models.add(model)
    return dict(col.models.by_name(nt.name))


def _preset(col: Any, settings: Settings, deck_id: int) -> None:
    """The "Secretariat" deck-options preset: siblings buried, retention, FSRS weights."""
    conf = next((c for c in col.decks.all_config() if c["name"] == PRESET), None)
    if conf is None:
        conf = col.decks.add_config(PRESET)
    wanted = dict(conf)
    wanted["new"] = {**conf["new"], "bury": True}
    wanted["rev"] = {**conf["rev"], "bury": True}
    wanted["buryInterdayLearning"] = True
    wanted["desiredRetention"] = settings.desired_retention
    wanted["fsrsParams6"] = list(settings.parameters)
    if json.dumps(wanted, sort_keys=True) != json.dumps(conf, sort_keys=True):
        col.decks.update_config(wanted)
    deck = col.decks.get(deck_id)
    if deck.get("conf") != conf["id"]:
        col.decks.set_config_id_for_deck_dict(deck, conf["id"])


def _tags(ours: tuple[str, ...]) -> list[str]:
    return namespaced(ours)


def _is_ours(tag: str) -> bool:
    return tag.casefold().startswith(f"{TAG_ROOT.casefold()}::")


def _push_notes(store: Store, settings: Settings, col: Any, report: SyncReport) -> None:
    from anki.collection import AddNoteRequest

    from exports.notes import NothingToExport

    deck_id = col.decks.id(DECK)
    _preset(col, settings, deck_id)
    try:
        notes = collect_notes(store, deck=DECK)
    except NothingToExport:
        notes = []
    models = {nt.kind: _note_type(col, nt) for nt in NOTE_TYPES.values()}
    mine = {m["id"] for m in models.values()}
    # read in bulk (col.db: the package reads notes one by one only); fetch the changed ones
    in_anki = {guid: (nid, mid, flds.split("\x1f"), tags.split())
               for nid, guid, mid, flds, tags in col.db.all(
                   "SELECT id, guid, mid, flds, tags FROM notes")}
    adds, updates = [], []
    current = set()
    for n in notes:
        current.add(n.guid)
        model = models[n.note_type.kind]
        names = [f["name"] for f in model["flds"]]
        found = in_anki.get(n.guid)
        if found is None:
            note = col.new_note(model)
            note.guid = n.guid
            for name, value in zip(n.note_type.fields, n.fields, strict=True):
                if name in names:
                    note[name] = value
            note.tags = _tags(n.tags)
            adds.append(AddNoteRequest(note, deck_id))
            continue
        nid, mid, values, tags_now = found
        fields = {}
        if mid == model["id"]:
            where = {name: i for i, name in enumerate(names)}
            fields = {name: value for name, value in zip(n.note_type.fields, n.fields,
                                                         strict=True)
                      if name in where and values[where[name]] != value}
        tags = [t for t in tags_now if not _is_ours(t)] + _tags(n.tags)
        if not fields and sorted(tags) == sorted(tags_now):
            continue
        note = col.get_note(nid)
        for name, value in fields.items():
            note[name] = value
        note.tags = tags
        updates.append(note)
    # notes of removed records: tagged retired (their cards are suspended by the push)
    for guid, (nid, mid, _values, tags_now) in in_anki.items():
        if mid in mine and guid not in current and RETIRED_TAG not in tags_now:
            note = col.get_note(nid)
            note.tags = [*note.tags, RETIRED_TAG]
            updates.append(note)
            report.retired += 1
    if adds:
        col.add_notes(adds)
    if updates:
        col.update_notes(updates)
    report.notes_added = len(adds)
    report.notes_updated = len(updates) - report.retired


#: How far above an answer's time in ms ``_push_answers`` may move its revlog id (when
#: the id is taken); a pulled entry this close to an unlinked answer of the same card and
#: rating is that answer.
PUSH_SLACK_MS = 1000


def _millis(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _push_answers(store: Store, col: Any, anki_ids: dict[int, str]) -> int:
    """Terminal answers to the cards ``anki_ids`` as revlog entries; the store
    remembers each entry's id."""
    conn = store.db.conn
    by_key = {key: cid for cid, key in anki_ids.items()}
    if not by_key:
        return 0
    evs = history.events(conn, by_key)
    cancelled = {e.cancels for e in evs if e.kind == "undo"}
    wanted = [e.anki_revlog_id or int(e.at.timestamp() * 1000) for e in evs]
    if not wanted:
        return 0
    taken = set(col.db.list("SELECT id FROM revlog WHERE id BETWEEN ? AND ?",
                            min(wanted), max(wanted) + len(wanted) + 1000))
    rows = []
    seen: dict[str, int] = {}
    remember = []
    for e in evs:
        if e.kind != "review" or e.card_key not in by_key:
            continue
        seen[e.card_key] = seen.get(e.card_key, 0) + 1
        if e.origin == "anki" or e.id in cancelled:
            continue
        if e.anki_revlog_id is not None:
            if e.anki_revlog_id in taken:
                continue
            rid = e.anki_revlog_id  # pushed before, but the mirror was replaced since
        else:
            rid = _millis(e.at)
            while rid in taken:
                rid += 1
            remember.append((e.id, rid))
        taken.add(rid)
        kind = 0 if seen[e.card_key] == 1 else 1
        rows.append((rid, by_key[e.card_key], -1, int(e.rating or 1), 0, 0, 0,
                     min(int(e.duration_ms or 0), 60_000), kind))
    if not rows:
        return 0
    # no public API adds a revlog entry: usn -1 marks it for the next sync
    col.db.transact(lambda: col.db.executemany(
        "INSERT INTO revlog (id, cid, usn, ease, ivl, lastIvl, factor, time, type) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows))
    with store.transaction():
        for event_id, rid in remember:
            history.set_anki_revlog_id(conn, event_id, rid)
    return len(rows)


def _push_schedule(col: Any, anki_ids: dict[int, str], cards: CardMap, settings: Settings,
                   now: datetime, tz: tzinfo) -> int:
    """Set every Secretariat card in the collection to the store's state."""
    from anki.cards import FSRSMemoryState

    today = col.sched.today
    # read in bulk (col.db: the package reads cards one by one only); fetch the changed ones
    if not anki_ids:
        return 0
    current = {row[0]: row for row in col.db.all(
        "SELECT id, type, queue, due, ivl, reps, lapses, data FROM cards WHERE id IN "
        "(SELECT value FROM json_each(?))", json.dumps(list(anki_ids)))}
    changed = []
    for cid, key in anki_ids.items():
        row = cards.rows[key]
        want = anki_schedule(row, now=now, today=today, tz=tz, settings=settings)
        have = _schedule_of_row(current[cid])
        if want["type"] == 0 and have["type"] == 0:
            want["due"] = have["due"]  # a new card keeps its place in Anki's new queue
        if same_schedule(want, have):
            continue
        card = col.get_card(cid)
        card.type, card.queue, card.due, card.ivl = (want["type"], want["queue"], want["due"],
                                                     want["ivl"])
        card.reps, card.lapses = want["reps"], want["lapses"]
        if want["stability"] is None:
            card.memory_state = None
            card.last_review_time = None
        else:
            card.memory_state = FSRSMemoryState(stability=want["stability"],
                                                difficulty=want["difficulty"])
            card.last_review_time = int(datetime.fromisoformat(
                row["last_review"]).timestamp()) if row["last_review"] else None
        card.left = 0 if want["type"] in (0, 2) else max(1, len(
            settings.learning_steps if want["type"] == 1 else settings.relearning_steps)
            - int(row["step"] or 0))
        changed.append(card)
    if changed:
        col.update_cards(changed)
    return len(changed)


# -- status ------------------------------------------------------------------

def status(store: Store, directory: Path) -> dict[str, Any]:
    """The account, the last sync, and what waits to be pushed: terminal answers,
    cards whose state changed, and whether any note's text changed."""
    account = load_account(directory)
    evs = history.events(store.db.conn)
    cancelled = {e.cancels for e in evs if e.kind == "undo"}
    pending = sum(1 for e in evs if e.kind == "review" and e.origin != "anki"
                  and e.anki_revlog_id is None and e.id not in cancelled)
    state = _load_state(directory)
    pushed = state.get("versions", {})
    changed = sum(1 for key, version in store.db.execute("SELECT key, version FROM cards")
                  if pushed.get(key) != version)
    return {"user": account.user if account else None,
            "server": account.server if account else None,
            "last_sync": account.last_sync if account else None,
            "pending_answers": pending,
            "changed_cards": changed,
            "notes_changed": state.get("signature") != _signature(store),
            "mirror": str(directory / "collection.anki2")}
