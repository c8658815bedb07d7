"""Two-way sync with Anki (exports/sync.py), against real parts.

A real sync server (``python -m anki.syncserver`` on 127.0.0.1) runs for the
module, with one account per test; a second ``anki`` Collection on the same
account is the phone: it answers cards with ``col.sched.answerCard`` and
syncs. Each scenario counts the reviews and compares the card states on both
sides.
"""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from helpers import facts_toml, store_from_toml

from exports import sync as anki_sync
from study import history
from study.due import local_timezone
from study.scheduler import answer, make_scheduler
from study.settings import Settings

anki_collection = pytest.importorskip("anki.collection")

pytestmark = pytest.mark.slow

PASSWORD = "pw"
USERS = 24


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A local Anki sync server in a subprocess."""

    def __init__(self, base: Path, users: int = USERS) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        env = dict(os.environ, SYNC_BASE=str(base), SYNC_HOST="127.0.0.1",
                   SYNC_PORT=str(self.port), RUST_LOG="error")
        for i in range(1, users + 1):
            env[f"SYNC_USER{i}"] = f"user{i}:{PASSWORD}"
        self.process = subprocess.Popen([sys.executable, "-m", "anki.syncserver"], env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("the sync server did not start") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("syncserver"))
    try:
        yield srv
    finally:
        srv.stop()


_users = itertools.count(1)


@pytest.fixture
def user(server: Server) -> str:
    """An account of its own on the module's server."""
    n = next(_users)
    assert n <= USERS, "raise USERS"
    return f"user{n}"


def now() -> datetime:
    return datetime.now(UTC)


SETTINGS = Settings(timezone="UTC")
TZ = local_timezone("UTC")


class Side:
    """Secretariat on one machine: a store, its sync directory, its account."""

    def __init__(self, path: Path, server: Server, user: str, facts: int = 4) -> None:
        self.store = store_from_toml(path, facts_toml(facts), now())
        self.store.set_config("timezone", "UTC")
        self.server = server
        self.user = user
        self.directory = anki_sync.sync_dir(str(path))

    def login(self, password: str = PASSWORD) -> anki_sync.Account:
        return anki_sync.login(self.directory,
                               anki_sync.Login(self.user, password, self.server.url))

    def sync(self, **kw: Any) -> anki_sync.SyncReport:
        account = anki_sync.load_account(self.directory) or self.login()
        return anki_sync.sync(self.store, SETTINGS, directory=self.directory, now=now(), tz=TZ,
                              account=account, **kw)

    def answer(self, key: str, rating: int) -> int:
        card = self.store.card_rows("key = ?", [key])[0]
        return answer(self.store.db.conn, make_scheduler(SETTINGS), SETTINGS, TZ, key,
                      card["version"], rating, now(), 4000).review_id

    def card(self, key: str) -> dict[str, Any]:
        return self.store.card_rows("key = ?", [key])[0]

    def reviews(self) -> dict[str, int]:
        evs = history.events(self.store.db.conn)
        cancelled = {e.cancels for e in evs if e.kind == "undo"}
        out: dict[str, int] = {}
        for e in evs:
            if e.kind == "review" and e.id not in cancelled:
                out[e.card_key] = out.get(e.card_key, 0) + 1
        return out


class Phone:
    """AnkiDroid: a second collection on the same account."""

    def __init__(self, path: Path, server: Server, user: str) -> None:
        self.col = anki_collection.Collection(str(path))
        self.auth = self.col.sync_login(user, PASSWORD, server.url)

    def sync(self) -> None:
        out = self.col.sync_collection(self.auth, False)
        if out.required in (out.FULL_DOWNLOAD, out.FULL_SYNC):
            self.col.close_for_full_sync()
            self.col.full_upload_or_download(auth=self.auth, server_usn=None, upload=False)
            self.col.reopen(after_full_sync=True)
        elif out.required == out.FULL_UPLOAD:
            self.col.close_for_full_sync()
            self.col.full_upload_or_download(auth=self.auth, server_usn=None, upload=True)
            self.col.reopen(after_full_sync=True)

    def card_of(self, key: str, side: Side) -> Any:
        cards = anki_sync.CardMap.of(side.store)
        slot = next(s for s, k in cards.by_slot.items() if k == key)
        cid = self.col.db.scalar("SELECT c.id FROM cards c JOIN notes n ON n.id = c.nid "
                                 "WHERE n.guid = ? AND c.ord = ?", slot[0], slot[1])
        assert cid, f"no Anki card for {key}"
        return self.col.get_card(cid)

    def answer(self, key: str, side: Side, ease: int) -> None:
        card = self.card_of(key, side)
        card.start_timer()
        self.col.sched.answerCard(card, ease)

    def reviews(self, side: Side) -> dict[str, int]:
        cards = anki_sync.CardMap.of(side.store)
        out: dict[str, int] = {}
        for guid, ordinal, n in self.col.db.all(
                "SELECT n.guid, c.ord, count(*) FROM revlog r JOIN cards c ON c.id = r.cid "
                "JOIN notes n ON n.id = c.nid WHERE r.ease BETWEEN 1 AND 4 "
                "GROUP BY n.guid, c.ord"):
            key = cards.by_slot.get((guid, ordinal))
            if key:
                out[key] = n
        return out

    def close(self) -> None:
        self.col.close()


def same_state(side: Side, phone: Phone) -> None:
    """Every Secretariat card has the same history and scheduling on both sides."""
    assert side.reviews() == phone.reviews(side)
    today = phone.col.sched.today
    for key, row in anki_sync.CardMap.of(side.store).rows.items():
        if row["retired"]:
            continue
        want = anki_sync.anki_schedule(row, now=now(), today=today, tz=TZ, settings=SETTINGS)
        have = anki_sync.card_schedule(phone.card_of(key, side))
        if want["type"] == 0:
            want["due"] = have["due"]
        assert anki_sync.same_schedule(have, want), (key, have, want)


@pytest.fixture
def side(tmp_path: Path, server: Server, user: str) -> Side:
    return Side(tmp_path / "study.db", server, user)


@pytest.fixture
def phone(tmp_path: Path, server: Server, user: str) -> Iterator[Phone]:
    p = Phone(tmp_path / "phone" / "collection.anki2", server, user) if (
        (tmp_path / "phone").mkdir() or True) else None
    assert p is not None
    yield p
    p.close()


KEYS = [f"fact:f00{i}:forward" for i in range(4)]


# -- scenarios -----------------------------------------------------------------

def test_a_fresh_account_gets_the_notes_and_the_phone_downloads_them(side: Side,
                                                                      phone: Phone) -> None:
    report = side.sync()
    assert report.uploaded and report.notes_added == 4
    phone.sync()
    assert phone.col.note_count() == 4
    assert phone.col.decks.by_name("Secretariat") is not None
    same_state(side, phone)
    # a second sync straight after changes nothing
    again = side.sync()
    assert (again.pulled, again.pushed, again.notes_added, again.notes_updated,
            again.cards_scheduled) == (0, 0, 0, 0, 0)


def test_the_phone_first(side: Side, phone: Phone) -> None:
    side.sync()
    phone.sync()
    phone.answer(KEYS[0], side, 3)
    phone.answer(KEYS[1], side, 1)
    phone.sync()
    report = side.sync()
    assert report.pulled == 2
    assert side.card(KEYS[0])["reps"] == 1 and side.card(KEYS[0])["state"] != "new"
    phone.sync()
    same_state(side, phone)
    assert side.reviews() == {KEYS[0]: 1, KEYS[1]: 1}


def test_the_terminal_first(side: Side, phone: Phone) -> None:
    side.sync()
    phone.sync()
    side.answer(KEYS[0], 3)
    side.answer(KEYS[2], 4)
    report = side.sync()
    assert report.pushed == 2
    phone.sync()
    same_state(side, phone)
    assert phone.reviews(side) == {KEYS[0]: 1, KEYS[2]: 1}
    assert side.sync().pulled == 0  # its own answers do not come back as new ones
