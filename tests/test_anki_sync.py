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
from helpers import DECK, NOW_ENV, facts_toml, json_of, run, store_from_toml

from exports import sync as anki_sync
from study import history
from study.clock import local_timezone
from study.scheduler import answer, set_suspended, undo
from study.settings import Settings

anki_collection = pytest.importorskip("anki.collection")

PASSWORD = "pw"
USERS = 40


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A local Anki sync server in a subprocess."""

    def __init__(self, base: Path, users: int = USERS, port: int | None = None) -> None:
        self.base = base
        self.port = port or free_port()
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
        return answer(self.store.db.conn, SETTINGS, TZ, key, card["version"], rating, now(),
                      4000).review_id

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


def quiet(side: Side) -> None:
    """A sync straight after changes nothing."""
    again = side.sync()
    assert (again.pulled, again.pushed, again.notes_added, again.notes_updated,
            again.cards_scheduled, again.retired, again.suspended_in_anki) == (0,) * 7


@pytest.fixture
def side(tmp_path: Path, server: Server, user: str) -> Side:
    return Side(tmp_path / "study.db", server, user)


@pytest.fixture
def phone(tmp_path: Path, server: Server, user: str) -> Iterator[Phone]:
    (tmp_path / "phone").mkdir()
    p = Phone(tmp_path / "phone" / "collection.anki2", server, user)
    yield p
    p.close()


def _keys() -> list[str]:
    """The card keys of the four facts, in the store's order (whatever the key format)."""
    store = store_from_toml(Path(":memory:"), facts_toml(4), now())
    try:
        return [r["key"] for r in store.card_rows()]
    finally:
        store.close()


KEYS = _keys()
assert len(KEYS) == 4


# -- scenarios -----------------------------------------------------------------

@pytest.mark.slow
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


@pytest.mark.slow
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
    quiet(side)
    assert side.reviews() == {KEYS[0]: 1, KEYS[1]: 1}
    # scripts see the pulled answers: `study list cards --json` keeps key, state and reps
    listed = {c["key"]: c for c in json_of("--db", side.store.path, "list", "cards", "--json")}
    assert (listed[KEYS[0]]["state"], listed[KEYS[0]]["reps"]) == (side.card(KEYS[0])["state"], 1)
    assert (listed[KEYS[2]]["state"], listed[KEYS[2]]["reps"]) == ("new", 0)


@pytest.mark.slow
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


@pytest.mark.slow
def test_both_between_syncs_the_same_card_too(side: Side, phone: Phone) -> None:
    side.sync()
    phone.sync()
    side.answer(KEYS[0], 3)
    side.answer(KEYS[1], 3)
    phone.answer(KEYS[0], side, 1)
    phone.answer(KEYS[2], side, 4)
    phone.sync()
    report = side.sync()
    assert (report.pulled, report.pushed) == (2, 2)
    phone.sync()
    assert side.reviews() == {KEYS[0]: 2, KEYS[1]: 1, KEYS[2]: 1}
    same_state(side, phone)
    quiet(side)
    # the replay of the merged history is what the store holds
    evs = history.events(side.store.db.conn, [KEYS[0]])
    assert [e.origin for e in evs] == ["terminal", "anki"]
    replayed = history.replay(KEYS[0], evs, SETTINGS)
    card = side.card(KEYS[0])
    assert (card["state"], card["reps"], card["due"]) == (
        replayed["state"], replayed["reps"], replayed["due"])


@pytest.mark.slow
def test_pulled_answers_are_events_of_the_log_and_manual_entries_are_not(
        side: Side, phone: Phone) -> None:
    side.sync()
    phone.sync()
    mine = side.answer(KEYS[2], 3)
    phone.answer(KEYS[0], side, 3)
    # a due date set by hand is a revlog entry of type Manual with rating 0: not an answer
    phone.col.sched.set_due_date([phone.card_of(KEYS[1], side).id], "5")
    assert phone.col.db.scalar("SELECT count(*) FROM revlog WHERE ease = 0") >= 1
    phone.sync()
    report = side.sync()
    assert (report.pulled, report.pushed) == (1, 1)
    conn = side.store.db.conn
    rows = conn.execute("SELECT card_key, kind, origin, device, live, anki_revlog_id "
                        "FROM reviews ORDER BY reviewed_at, event_id").fetchall()
    pulled = [r for r in rows if r[2] == "anki"]
    assert [(r[0], r[1], r[3], r[4]) for r in pulled] == [(KEYS[0], "review", "anki", 1)]
    assert pulled[0][5] is not None
    # the terminal answer pushed to Anki carries its revlog id, so it never comes back
    pushed = conn.execute("SELECT anki_revlog_id FROM reviews WHERE id = ?", [mine]).fetchone()
    assert pushed[0] is not None
    assert phone.col.db.scalar("SELECT count(*) FROM revlog WHERE id = ?", pushed[0]) == 0
    phone.sync()
    assert phone.col.db.scalar("SELECT count(*) FROM revlog WHERE id = ?", pushed[0]) == 1
    assert side.reviews() == {KEYS[0]: 1, KEYS[2]: 1}
    quiet(side)
    assert side.reviews() == {KEYS[0]: 1, KEYS[2]: 1}


@pytest.mark.slow
def test_a_log_merged_before_the_sync_is_not_counted_twice(tmp_path: Path, server: Server,
                                                          user: str, phone: Phone) -> None:
    from study.logfile import export_log, read_log

    laptop = Side(tmp_path / "laptop.db", server, user)
    desktop = Side(tmp_path / "desktop.db", server, user)
    laptop.sync()
    desktop.sync()
    laptop.answer(KEYS[0], 3)
    # the laptop's log reaches the desktop before the laptop syncs with Anki
    export_log(laptop.store.db.conn, tmp_path / "laptop.jsonl")
    history.merge_events(desktop.store.db.conn, read_log(tmp_path / "laptop.jsonl"),
                         SETTINGS, now())
    assert laptop.sync().pushed == 1
    report = desktop.sync()
    assert (report.pulled, report.pushed) == (0, 0)
    assert desktop.reviews() == {KEYS[0]: 1}
    phone.sync()
    assert phone.reviews(desktop) == {KEYS[0]: 1}
    quiet(desktop)
    quiet(laptop)


@pytest.mark.slow
def test_undo_on_either_side_before_the_sync(side: Side, phone: Phone) -> None:
    side.sync()
    phone.sync()
    review = side.answer(KEYS[0], 1)
    side.answer(KEYS[1], 3)
    undo(side.store.db.conn, review)
    phone.answer(KEYS[2], side, 3)
    phone.col.undo()  # the phone takes its answer back
    phone.answer(KEYS[3], side, 3)
    phone.sync()
    report = side.sync()
    assert (report.pulled, report.pushed) == (1, 1)
    phone.sync()
    assert side.reviews() == {KEYS[1]: 1, KEYS[3]: 1}
    assert side.card(KEYS[0])["state"] == "new"
    same_state(side, phone)
    quiet(side)


@pytest.mark.slow
def test_an_answer_undone_after_the_sync_is_not_pulled_back(side: Side, phone: Phone) -> None:
    side.sync()
    phone.sync()
    review = side.answer(KEYS[0], 4)
    assert side.sync().pushed == 1
    undo(side.store.db.conn, review)  # a tombstone; the answer keeps its revlog id
    report = side.sync()
    assert (report.pulled, report.pushed) == (0, 0)
    assert side.card(KEYS[0])["state"] == "new" and side.reviews() == {}
    phone.sync()
    # Anki's history keeps the entry (a sync never removes one); the scheduling follows
    assert phone.reviews(side) == {KEYS[0]: 1}
    assert phone.card_of(KEYS[0], side).type == 0
    quiet(side)
    assert side.reviews() == {}


@pytest.mark.slow
def test_an_edited_fact_is_due_again_on_both_sides(side: Side, phone: Phone,
                                                   tmp_path: Path) -> None:
    side.sync()
    phone.sync()
    side.answer(KEYS[0], 4)
    side.sync()
    phone.sync()
    assert side.card(KEYS[0])["due"] > now().isoformat()
    from cards.authoring import import_records, read_text, validate

    text = facts_toml(4).replace('answer = "Answer 0"', 'answer = "Answer zero"')
    items, problems = read_text(text, "edit.toml")
    validate(side.store, items, problems)
    import_records(side.store, items, now())
    assert side.card(KEYS[0])["due"] <= now().isoformat()
    report = side.sync()
    assert report.notes_updated == 1
    phone.sync()
    card = phone.card_of(KEYS[0], side)
    assert "Answer zero" in card.note()["Forward Answer"]
    assert card.due <= phone.col.sched.today  # due again on the phone
    same_state(side, phone)
    quiet(side)


@pytest.mark.slow
def test_a_removed_record_is_tagged_retired_and_suspended(side: Side, phone: Phone) -> None:
    side.sync()
    phone.sync()
    phone.answer(KEYS[3], side, 3)
    phone.sync()
    side.sync()
    side.store.remove("fact", "f003", now())
    report = side.sync()
    assert report.retired == 1
    phone.sync()
    card = phone.card_of(KEYS[3], side)
    assert anki_sync.RETIRED_TAG in card.note().tags
    assert card.queue == -1
    assert side.reviews() == phone.reviews(side) == {KEYS[3]: 1}
    same_state(side, phone)
    assert side.sync().retired == 0  # tagged once


@pytest.mark.slow
def test_the_learners_own_things_stay_as_they_were(side: Side, phone: Phone) -> None:
    # the learner's account already holds a deck of their own, with reviews and a preset
    col = phone.col
    basic = col.models.by_name("Basic")
    own = col.new_note(basic)
    own["Front"], own["Back"] = "Capital of Peru?", "Lima"
    own.tags = ["geography"]
    col.add_note(own, col.decks.id("Geography"))
    conf = col.decks.add_config("Mine")
    conf["new"]["perDay"] = 7
    col.decks.update_config(conf)
    col.decks.set_config_id_for_deck_dict(col.decks.by_name("Geography"), conf["id"])
    mine = col.get_card(own.cards()[0].id)
    mine.start_timer()
    col.sched.answerCard(mine, 3)
    phone.sync()
    before = _theirs(col)
    side.sync()
    side.answer(KEYS[0], 3)
    side.sync()
    phone.sync()
    # the learner's tag and Personal field on a Secretariat note
    note = phone.card_of(KEYS[1], side).note()
    note.tags = [*note.tags, "mine"]
    note["Personal"] = "learnt this at school"
    col.update_note(note)
    phone.sync()
    side.answer(KEYS[1], 3)
    side.sync()
    phone.sync()
    assert _theirs(col) == before
    note = phone.card_of(KEYS[1], side).note()
    assert "mine" in note.tags and note["Personal"] == "learnt this at school"
    assert sorted(t for t in note.tags if t != "mine") == ["Secretariat::demo",
                                                            "Secretariat::fact"]
    preset = next(c for c in col.decks.all_config() if c["name"] == "Secretariat")
    assert preset["new"]["bury"] and preset["rev"]["bury"]
    assert preset["desiredRetention"] == pytest.approx(SETTINGS.desired_retention)
    assert col.decks.config_dict_for_deck_id(col.decks.id_for_name("Secretariat"))["id"] == (
        preset["id"])
    same_state(side, phone)


def _theirs(col: Any) -> Any:
    """Everything of the learner's own deck: notes, cards, reviews, preset, other settings."""
    return (col.db.all("SELECT id, guid, mid, mod, tags, flds FROM notes WHERE mid IN "
                       "(SELECT id FROM notetypes WHERE name NOT LIKE 'Secretariat %')"),
            col.db.all("SELECT c.* FROM cards c JOIN notes n ON n.id = c.nid JOIN notetypes m "
                       "ON m.id = n.mid WHERE m.name NOT LIKE 'Secretariat %'"),
            col.db.all("SELECT r.* FROM revlog r JOIN cards c ON c.id = r.cid JOIN notes n ON "
                       "n.id = c.nid JOIN notetypes m ON m.id = n.mid "
                       "WHERE m.name NOT LIKE 'Secretariat %'"),
            [c for c in col.decks.all_config() if c["name"] != "Secretariat"],
            col.db.all("SELECT id, name FROM decks WHERE name NOT LIKE 'Secretariat%'"),
            col.get_config("fsrs", None))


@pytest.mark.slow
def test_the_first_sync_downloads_a_non_empty_account_and_never_uploads_over_it(
        side: Side, phone: Phone) -> None:
    col = phone.col
    own = col.new_note(col.models.by_name("Basic"))
    own["Front"], own["Back"] = "a", "b"
    col.add_note(own, col.decks.id("Default"))
    phone.sync()  # the phone uploads to the empty account
    report = side.sync()
    assert report.downloaded and not report.uploaded and report.notes_added == 4
    phone.sync()
    assert phone.col.note_count() == 5
    same_state(side, phone)


@pytest.mark.slow
def test_a_wrong_password_says_so_and_keeps_nothing(tmp_path: Path, server: Server,
                                                    user: str) -> None:
    store_from_toml(tmp_path / "study.db", facts_toml(2), now()).close()
    result = run("anki", "sync", "--server", server.url, "--user", user,
                 env={"STUDY_ANKI_PASSWORD": "wrong", "STUDY_NOW": ""})
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        f"Error: login to {server.url} as {user!r} failed (Email or password was incorrect; "
        f"please try again); check the user name and password")
    assert not (tmp_path / "study.db.anki" / "account.json").exists()


@pytest.mark.slow
def test_the_command_keeps_only_the_host_key(tmp_path: Path, server: Server, user: str) -> None:
    store_from_toml(tmp_path / "study.db", facts_toml(2), now()).close()
    env = {"STUDY_ANKI_PASSWORD": PASSWORD, "STUDY_NOW": ""}
    result = run("anki", "sync", "--server", server.url, "--user", user, env=env)
    assert result.exit_code == 0, result.output
    assert "Synced: pulled 0 answers from Anki, pushed 0 answers, 2 notes added" in result.output
    account = tmp_path / "study.db.anki" / "account.json"
    assert account.stat().st_mode & 0o777 == 0o600
    assert PASSWORD not in account.read_text().replace(f'"{user}"', "")
    again = run("anki", "sync", env={"STUDY_NOW": ""})  # no user, no password: the host key
    assert again.exit_code == 0, again.output
    assert "0 notes added, 0 updated, 0 cards rescheduled" in again.output
    status = run("anki", "status")
    assert status.exit_code == 0
    assert f"Account: {user} on {server.url}" in status.output
    assert "Waiting to be pushed: 0 answers, 0 cards changed\n" in status.output
    answered = run("review", input=" 3q", env={"STUDY_NOW": ""})
    assert answered.exit_code == 0, answered.output
    status = run("anki", "status")
    assert "Waiting to be pushed: 1 answer, 1 card changed\n" in status.output


@pytest.mark.slow
def test_not_logged_in(tmp_path: Path) -> None:
    store_from_toml(tmp_path / "study.db", facts_toml(2), now()).close()
    result = run("anki", "sync")
    assert result.exit_code == 1
    assert "Error: not logged in: run study anki sync --user NAME" in result.output


@pytest.mark.slow
def test_the_server_stopped_mid_way(tmp_path: Path, server: Server, user: str,
                                    tmp_path_factory: pytest.TempPathFactory) -> None:
    own = Server(tmp_path_factory.mktemp("own-server"))
    try:
        s = Side(tmp_path / "study.db", own, "user1")
        s.sync()
        s.answer(KEYS[0], 3)
        s.answer(KEYS[1], 2)

        def stop_at_push(line: str) -> None:
            if line.startswith("pushing answers"):
                own.stop()

        with pytest.raises(anki_sync.SyncError, match="cannot reach the sync server"):
            s.sync(log=stop_at_push)
        with pytest.raises(anki_sync.SyncError, match="cannot reach the sync server"):
            s.sync()  # stopped before anything
        assert s.reviews() == {KEYS[0]: 1, KEYS[1]: 1}
        own = Server(own.base, port=own.port)
        report = s.sync()
        assert report.pushed == 0  # pushed into the mirror last time; sent now
        phone = Phone(tmp_path / "phone.anki2", own, "user1")
        try:
            phone.sync()
            assert phone.reviews(s) == {KEYS[0]: 1, KEYS[1]: 1}
            same_state(s, phone)
        finally:
            phone.close()
    finally:
        own.stop()


@pytest.mark.slow
def test_a_full_sync_demanded_is_refused_then_download_recovers(side: Side,
                                                                phone: Phone) -> None:
    side.sync()
    phone.sync()
    side.answer(KEYS[0], 3)
    side.sync()
    # another device changes a note type's schema and forces a one-way upload
    phone.col.mod_schema(check=False)
    phone.answer(KEYS[1], side, 3)
    phone.col.close_for_full_sync()
    phone.col.full_upload_or_download(auth=phone.auth, server_usn=None, upload=True)
    phone.col.reopen(after_full_sync=True)
    side.answer(KEYS[2], 3)
    before = history.events(side.store.db.conn)
    with pytest.raises(anki_sync.SyncError, match="Anki asks for a full sync"):
        side.sync()
    assert history.events(side.store.db.conn) == before
    report = side.sync(download=True)
    assert report.downloaded and report.pulled == 1
    phone.sync()
    assert side.reviews() == phone.reviews(side) == {KEYS[0]: 1, KEYS[1]: 1, KEYS[2]: 1}
    same_state(side, phone)


def test_every_card_family_reaches_anki(tmp_path: Path) -> None:
    store = store_from_toml(tmp_path / "study.db", DECK, now())
    path = tmp_path / "desktop" / "collection.anki2"
    path.parent.mkdir()
    anki_collection.Collection(str(path)).close()
    anki_sync.sync(store, SETTINGS, directory=anki_sync.sync_dir(str(tmp_path / "study.db")),
                   now=now(), tz=TZ, collection=str(path))
    col = anki_collection.Collection(str(path))
    try:
        slots = set(_slots(col))
    finally:
        col.close()
    cards = anki_sync.CardMap.of(store)
    live = {r["key"] for r in store.card_rows() if not r["retired"]}
    families = {r["record_kind"] for r in store.card_rows()}
    assert len(families) > 4  # the shared deck has more families than the four kinds
    assert {k for s, k in cards.by_slot.items() if s in slots} == live
    store.close()


def _slots(col: Any) -> list[tuple[str, int]]:
    return [(guid, ordinal) for guid, ordinal in col.db.all(
        "SELECT n.guid, c.ord FROM cards c JOIN notes n ON n.id = c.nid")]


@pytest.mark.slow
def test_a_local_collection_file_and_anki_holding_it_open(side: Side, tmp_path: Path) -> None:
    path = tmp_path / "desktop" / "collection.anki2"
    path.parent.mkdir()
    desktop = anki_collection.Collection(str(path))
    with pytest.raises(anki_sync.SyncError, match="Anki has this collection open"):
        anki_sync.sync(side.store, SETTINGS, directory=side.directory, now=now(), tz=TZ,
                       collection=str(path))
    desktop.close()
    side.answer(KEYS[0], 3)
    report = anki_sync.sync(side.store, SETTINGS, directory=side.directory, now=now(), tz=TZ,
                            collection=str(path))
    assert (report.notes_added, report.pushed) == (4, 1)
    desktop = anki_collection.Collection(str(path))
    try:
        card = desktop.get_card(desktop.find_cards("Key:fact:f000 card:1")[0])
        assert card.type == 1 or card.type == 2
        assert desktop.db.scalar("SELECT count(*) FROM revlog WHERE cid = ?", card.id) == 1
    finally:
        desktop.close()


@pytest.mark.slow
def test_a_sync_during_a_review_session_is_refused(tmp_path: Path, server: Server,
                                                   user: str) -> None:
    import pexpect

    store_from_toml(tmp_path / "study.db", facts_toml(2), now()).close()
    env = {**os.environ, "STUDY_DB": str(tmp_path / "study.db"), "STUDY_ANKI_PASSWORD": PASSWORD}
    env.pop("STUDY_NOW", None)
    study = str(Path(sys.executable).parent / "study")
    child = pexpect.spawn(study, ["review"], env=env, encoding="utf-8", timeout=20,
                          dimensions=(30, 100))
    try:
        child.expect("Question 0")
        sync = subprocess.run([study, "anki", "sync", "--server", server.url, "--user", user],
                              env=env, capture_output=True, text=True, timeout=60)
        assert sync.returncode == 1
        assert sync.stderr.strip().splitlines()[-1] == (
            "Error: a review session is running on this store; finish it (q) and run the "
            "sync again; nothing was changed")
        child.send(" ")
        child.send("3")
        child.send("q")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    sync = subprocess.run([study, "anki", "sync"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert sync.returncode == 0, sync.stderr
    assert "pushed 1 answer," in sync.stdout


def test_without_the_anki_package_the_command_says_how_to_install_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store_from_toml(tmp_path / "study.db", facts_toml(2), now()).close()
    monkeypatch.setitem(sys.modules, "anki.collection", None)
    result = run("anki", "sync")
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {anki_sync.INSTALL_HINT}"
    assert run("due").exit_code == 0


@pytest.mark.slow
def test_a_damaged_mirror_is_an_error_not_a_traceback(side: Side) -> None:
    side.sync()
    side.answer(KEYS[0], 3)
    (side.directory / "collection.anki2").write_bytes(b"not a collection" * 100)
    with pytest.raises(anki_sync.SyncError, match="Anki reported an error"):
        side.sync()
    assert side.reviews() == {KEYS[0]: 1}
    report = side.sync(download=True)  # the way out: the account's collection again
    assert report.downloaded and report.pushed == 1


@pytest.mark.slow
def test_suspensions_go_both_ways(side: Side, phone: Phone) -> None:
    side.sync()
    phone.sync()
    phone.col.sched.suspend_cards([phone.card_of(KEYS[0], side).id])
    phone.sync()
    set_suspended(side.store.db.conn, [KEYS[1]], True)
    report = side.sync()
    assert report.suspended_in_anki == 1
    assert side.card(KEYS[0])["suspended"] == 1
    phone.sync()
    assert phone.card_of(KEYS[1], side).queue == -1
    same_state(side, phone)
    # unsuspended on the phone, untouched in the terminal since: unsuspended here too
    phone.col.sched.unsuspend_cards([phone.card_of(KEYS[1], side).id])
    phone.sync()
    assert side.sync().suspended_in_anki == 1
    assert side.card(KEYS[1])["suspended"] == 0
    assert side.card(KEYS[0])["suspended"] == 1
    assert side.sync().suspended_in_anki == 0
    phone.sync()
    same_state(side, phone)


def test_a_review_does_not_start_while_a_sync_runs(tmp_path: Path) -> None:
    import socket

    from study import live

    store = store_from_toml(tmp_path / "study.db", facts_toml(2), now())
    conn = store.db.conn
    # this process stands for the sync: alive on this host while the review starts
    at = datetime.fromisoformat(NOW_ENV["STUDY_NOW"])  # the clock `run` gives the review
    mark = live.begin_sync(conn, os.getpid(), socket.gethostname(), at, lambda pid: True)
    result = run("review", input=" 3q")
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        "Error: a sync with Anki is running on this store; wait for it to finish and start "
        "the review again")
    assert history.events(conn) == []
    live.end(conn, mark)
    assert run("review", input=" 3q").exit_code == 0  # the mark went with the sync
    store.close()


@pytest.mark.slow
def test_a_dead_sync_does_not_block_a_review(tmp_path: Path) -> None:
    import socket

    from study import live

    store = store_from_toml(tmp_path / "study.db", facts_toml(2), now())
    conn = store.db.conn
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    at = datetime.fromisoformat(NOW_ENV["STUDY_NOW"])
    live.begin_sync(conn, int(dead.stdout), socket.gethostname(), at, lambda pid: True)
    store.close()
    assert run("review", input=" 3q").exit_code == 0


@pytest.mark.slow
def test_the_password_is_asked_for_in_a_terminal(tmp_path: Path, server: Server,
                                                 user: str) -> None:
    import pexpect

    store_from_toml(tmp_path / "study.db", facts_toml(2), now()).close()
    env = {**os.environ, "STUDY_DB": str(tmp_path / "study.db")}
    env.pop("STUDY_NOW", None)
    env.pop("STUDY_ANKI_PASSWORD", None)
    study = str(Path(sys.executable).parent / "study")
    child = pexpect.spawn(study, ["anki", "sync", "--server", server.url, "--user", user],
                          env=env, encoding="utf-8", timeout=60)
    try:
        child.expect(f"Password for {user}: ")
        child.sendline(PASSWORD)
        child.expect("Synced: pulled 0 answers from Anki, pushed 0 answers, 2 notes added")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    assert PASSWORD not in child.before


def test_without_a_terminal_or_the_variable_there_is_no_password(tmp_path: Path) -> None:
    store_from_toml(tmp_path / "study.db", facts_toml(2), now()).close()
    result = run("anki", "sync", "--user", "me", input="")
    assert result.exit_code == 1
    assert result.output.strip() == ("Error: no password: set STUDY_ANKI_PASSWORD, or run the "
                                     "command in a terminal to be asked for it")
    usage = run("anki", "sync", "--server", "http://127.0.0.1:9/")
    assert usage.exit_code == 2
    assert "--server needs --user NAME" in usage.output


@pytest.mark.slow
def test_a_host_key_the_server_refuses_asks_for_a_new_login(side: Side) -> None:
    account = side.login()
    account.hkey = "0" * 40
    anki_sync.save_account(side.directory, account)
    with pytest.raises(anki_sync.SyncError, match="log in again with study anki sync --user"):
        side.sync()
    assert side.login().hkey != "0" * 40
    assert side.sync().uploaded
