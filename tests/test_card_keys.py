"""The card-key migration: renamed keys keep their history, and hashes of facts
replace hashes of texts without making reviewed cards "changed"."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import timedelta
from pathlib import Path

from helpers import T0

from cards.schema import RENAMED_TEMPLATES, STALE_CARDS
from cards.store import Store

FIXTURES = Path(__file__).parent / "fixtures"
LATER = T0 + timedelta(days=3)


def v1_store(tmp_path: Path) -> Path:
    """The schema-1 fixture, with an answered card whose key the migration renames."""
    path = tmp_path / "old.db"
    shutil.copy(FIXTURES / "store-v1.db", path)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE cards SET reps = 1, state = 'review', stability = 4.0, "
                     "due = '2026-02-01T00:00:00.000000+00:00', reviewed_hash = answer_hash "
                     "WHERE key = 'organ:cheka:successor'")
        conn.execute("INSERT INTO reviews (card_key, rating, reviewed_at, duration_ms, "
                     "state_before, state_after, interval_days) VALUES "
                     "('organ:cheka:successor', 3, '2026-01-06T12:00:00.000000+00:00', 900, "
                     "'{\"state\": \"new\"}', '{\"state\": \"review\"}', 26.0)")
    conn.close()
    return path


def rows(path: Path, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def test_renamed_keys_keep_their_reviews_and_groups(tmp_path: Path) -> None:
    path = v1_store(tmp_path)
    reviews_before = rows(path, "SELECT COUNT(*) FROM reviews")[0][0]
    assert ("organ", "successor", "replaced-by") in RENAMED_TEMPLATES
    with Store.open(path) as store:
        store.regenerate_if_stale(LATER)
    assert rows(path, "SELECT COUNT(*) FROM cards WHERE key LIKE 'organ:%:successor'") == [(0,)]
    [(key, template, reps, due, retired)] = rows(
        path, "SELECT key, template, reps, due, retired FROM cards "
              "WHERE key = 'organ:cheka:replaced-by'")
    assert (template, reps, due, retired) == ("replaced-by", 1, "2026-02-01T00:00:00.000000+00:00",
                                              0)
    assert rows(path, "SELECT COUNT(*) FROM reviews WHERE card_key = ?", (key,)) == [(1,)]
    assert rows(path, "SELECT COUNT(*) FROM reviews")[0][0] == reviews_before
    assert rows(path, "SELECT COUNT(*) FROM reviews WHERE card_key NOT IN "
                      "(SELECT key FROM cards)") == [(0,)]
    assert ("organ:cheka",) in rows(path, "SELECT grp FROM card_groups WHERE key = ?", (key,))
    assert rows(path, "PRAGMA foreign_key_check") == []


def test_the_new_hashes_do_not_make_reviewed_cards_due(tmp_path: Path) -> None:
    path = v1_store(tmp_path)
    reviewed = dict(rows(path, "SELECT key, due FROM cards WHERE reps > 0"))
    assert len(reviewed) > 10
    with Store.open(path) as store:
        # before the cards are regenerated: no hash, and nothing shows as changed
        assert rows(path, "SELECT COUNT(*) FROM cards WHERE answer_hash != ''") == [(0,)]
        assert store.config()[STALE_CARDS] is True
        assert store.regenerate_if_stale(LATER)
        assert not store.regenerate_if_stale(LATER)  # once
        assert STALE_CARDS not in store.config()
    after = {k: (d, h, r) for k, d, h, r in rows(
        path, "SELECT key, due, answer_hash, reviewed_hash FROM cards WHERE retired = 0")}
    for key, due in reviewed.items():
        key = key.replace(":successor", ":replaced-by") if key.startswith("organ:") else key
        if key not in after:
            continue  # a card the new families no longer make: retired, history kept
        new_due, answer_hash, reviewed_hash = after[key]
        assert answer_hash and reviewed_hash == answer_hash, key
        assert new_due == due, key  # not made due by the change of hash
    assert rows(path, "SELECT COUNT(*) FROM cards WHERE answer_hash = '' AND retired = 0") == [
        (0,)]


def test_a_card_already_changed_before_the_upgrade_stays_changed(tmp_path: Path) -> None:
    path = v1_store(tmp_path)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE cards SET reviewed_hash = 'old-answer' WHERE key = "
                     "'organ:cpsu:founded'")
    conn.close()
    with Store.open(path) as store:
        store.regenerate_if_stale(LATER)
    [(reviewed_hash, answer_hash, due)] = rows(
        path, "SELECT reviewed_hash, answer_hash, due FROM cards WHERE key = 'organ:cpsu:founded'")
    assert reviewed_hash == "old-answer" != answer_hash
    assert due == LATER.isoformat(timespec="microseconds")  # due now, marked changed


def test_the_command_layer_regenerates_after_an_upgrade(tmp_path: Path) -> None:
    from helpers import run

    path = v1_store(tmp_path)
    result = run("--db", str(path), "due", "--json")
    assert result.exit_code == 0, result.output
    assert rows(path, "SELECT COUNT(*) FROM cards WHERE answer_hash = '' AND retired = 0") == [
        (0,)]
    assert rows(path, "SELECT COUNT(*) FROM config WHERE key = ?", (STALE_CARDS,)) == [(0,)]
