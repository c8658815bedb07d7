"""Cheap, untimed complexity checks: the work per imported record does not grow with
the store. SQLite reports every statement it starts (set_trace_callback), those run by
triggers included, so a per-record query over the whole store, or one that grows with
it, shows up as a count, whatever the machine's speed."""

from __future__ import annotations

from pathlib import Path

from bench.common import tenures_toml
from cards.authoring import load_and_import
from cards.store import Store
from tests.helpers import T0


def statements_to_import(store: Store, path: Path) -> int:
    """SQL statements (trigger steps included) that importing ``path`` runs."""
    seen: list[str] = []
    store.db.conn.set_trace_callback(seen.append)
    try:
        load_and_import(store, [path], T0)
    finally:
        store.db.conn.set_trace_callback(None)
    return len(seen)


def renamed(text: str, prefix: str) -> str:
    """The same records under other ids, so that they are new to a store."""
    for kind in ("organ", "office", "person"):
        text = text.replace(f'"{kind}-', f'"{prefix}{kind}-')
    return text


def test_statements_per_imported_record_do_not_grow_with_the_store(tmp_path: Path) -> None:
    batch = tmp_path / "batch.toml"
    batch.write_text(renamed(tenures_toml(40), "new-"))
    counts = {}
    for existing in (0, 40, 400):
        store = Store.open(tmp_path / f"s{existing}.db")
        if existing:
            (tmp_path / "old.toml").write_text(tenures_toml(existing))
            load_and_import(store, [tmp_path / "old.toml"], T0)
        counts[existing] = statements_to_import(store, batch)
        store.close()
    # an empty store has no old tags or links to delete (Store.put_many skips them)
    assert counts[0] <= counts[40] == counts[400], counts


def test_statements_grow_no_faster_than_the_records_imported(tmp_path: Path) -> None:
    counts = {}
    for n in (40, 160):
        store = Store.open(tmp_path / f"s{n}.db")
        (tmp_path / f"t{n}.toml").write_text(tenures_toml(n))
        counts[n] = statements_to_import(store, tmp_path / f"t{n}.toml")
        store.close()
    per_record = {n: c / n for n, c in counts.items()}
    assert per_record[160] <= per_record[40], per_record


def test_reimporting_an_unchanged_file_runs_no_more_statements_than_the_first_import(
        tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text(tenures_toml(80))
    store = Store.open(tmp_path / "s.db")
    first = statements_to_import(store, path)
    again = statements_to_import(store, path)
    assert again <= first, (first, again)


def vm_steps_to_import(store: Store, path: Path) -> int:
    """SQLite virtual-machine instructions, in hundreds, that importing ``path`` runs."""
    ticks = [0]

    def tick() -> int:
        ticks[0] += 1
        return 0

    store.db.conn.set_progress_handler(tick, 100)
    try:
        load_and_import(store, [path], T0)
    finally:
        store.db.conn.set_progress_handler(None, 100)
    return ticks[0]


def test_work_per_imported_record_does_not_grow_with_the_store(tmp_path: Path) -> None:
    """Statements alone miss a statement that reads the whole store: count the work."""
    batch = tmp_path / "batch.toml"
    batch.write_text(renamed(tenures_toml(40), "new-"))
    steps = {}
    for existing in (0, 2000):
        store = Store.open(tmp_path / f"s{existing}.db")
        if existing:
            (tmp_path / "old.toml").write_text(tenures_toml(existing))
            load_and_import(store, [tmp_path / "old.toml"], T0)
        steps[existing] = vm_steps_to_import(store, batch)
        store.close()
    assert steps[2000] < 1.5 * steps[0], steps  # B-tree depth may add a little, not 4x
