"""Benchmark of ``study anki sync`` against a local sync server.

    python bench/sync.py                   # 2,000 and 20,000 cards (10 reviews a card)
    python bench/sync.py --cards 20000     # one size

Not part of the test run. For each size: a store of about ``--cards`` cards
with ten answers a card spread over two years; a local ``python -m
anki.syncserver`` with an empty account; then, timed:

- the first sync (log in excluded): the notes, every answer as a revlog
  entry, every card's scheduling, the upload to the empty account;
- then, five rounds of: an incremental sync after 100 answers in the
  terminal; an incremental sync after 100 answers on a phone (a second
  collection on the same account) that synced them; a sync with nothing to
  do (medians quoted).

Targets: the first sync of 20,000 cards with 200,000 reviews under 60 s, an
incremental sync after 100 answers under 3 s.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import fill_history, tenures_toml  # noqa: E402

Row = Callable[[str, str, str], None]

#: Rounds of incremental syncs (each: 100 terminal answers, 100 phone answers, nothing).
ROUNDS = 5


def _server(base: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, SYNC_BASE=str(base), SYNC_HOST="127.0.0.1", SYNC_PORT=str(port),
               SYNC_USER1="bench:pw", RUST_LOG="error")
    proc = subprocess.Popen([sys.executable, "-m", "anki.syncserver"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, f"http://127.0.0.1:{port}/"
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("the sync server did not start") from None
            time.sleep(0.05)


def measure(work: Path, cards_wanted: int, row: Row) -> None:
    from anki.collection import Collection

    from cards.authoring import load_and_import
    from cards.store import Store
    from exports import sync as anki_sync
    from study.clock import local_timezone
    from study.scheduler import answer
    from study.settings import Settings

    path = work / f"tenures-{cards_wanted}.toml"
    path.write_text(tenures_toml(int(cards_wanted / 4.5) + 4))
    db = work / f"sync-{cards_wanted}.db"
    store = Store.open(db)
    load_and_import(store, [path], datetime.now(UTC))
    store.close()
    cards = fill_history(db, cards_wanted * 10)
    reviews = cards_wanted * 10
    settings = Settings(timezone="UTC", reviews_per_day=99_999)
    tz = local_timezone("UTC")
    proc, url = _server(work / f"server-{cards_wanted}")
    try:
        store = Store.open(db)
        directory = anki_sync.sync_dir(str(db))
        account = anki_sync.login(directory, anki_sync.Login("bench", "pw", url))

        def sync() -> tuple[float, anki_sync.SyncReport]:
            t0 = time.perf_counter()
            report = anki_sync.sync(store, settings, directory=directory,
                                    now=datetime.now(UTC), tz=tz, account=account)
            return time.perf_counter() - t0, report

        first, report = sync()
        assert report.uploaded, report
        row(f"first sync: {cards:,} cards, {reviews:,} reviews, to an empty account",
            f"{first:.1f} s ({report.pushed:,} answers pushed)", "target < 60 s (20,000)")
        phone = Collection(str(work / f"phone-{cards_wanted}.anki2"))
        auth = phone.sync_login("bench", "pw", url)
        phone.sync_collection(auth, False)
        phone.close_for_full_sync()
        phone.full_upload_or_download(auth=auth, server_usn=None, upload=False)
        phone.reopen(after_full_sync=True)
        phone_cards = phone.find_cards("deck:Secretariat")
        keys = [r[0] for r in store.db.execute("SELECT key FROM cards ORDER BY position")]
        times: dict[str, list[float]] = {"terminal": [], "phone": [], "nothing": []}
        for round_ in range(ROUNDS):
            for key in (keys[(round_ * 100 + i) % len(keys)] for i in range(100)):
                version = store.db.execute("SELECT version FROM cards WHERE key = ?",
                                           [key]).fetchone()[0]
                answer(store.db.conn, settings, tz, key, version, 3,
                       datetime.now(UTC), 3000)
            took, report = sync()
            assert report.pushed == 100, report
            times["terminal"].append(took)
            phone.sync_collection(auth, False)
            for cid in (phone_cards[-1 - (round_ * 100 + i) % len(phone_cards)]
                        for i in range(100)):
                card = phone.get_card(cid)
                card.start_timer()
                phone.sched.answerCard(card, 3)
            phone.sync_collection(auth, False)
            took, report = sync()
            assert report.pulled == 100, report
            times["phone"].append(took)
            took, report = sync()
            times["nothing"].append(took)
        phone.close()
        for what, label, target in (
                ("terminal", "incremental sync after 100 terminal answers", "target < 3 s"),
                ("phone", "incremental sync after 100 phone answers", "target < 3 s"),
                ("nothing", "sync with nothing to do", "")):
            row(f"  {label} (median of {ROUNDS})", f"{statistics.median(times[what]):.2f} s "
                f"(runs {', '.join(f'{t:.2f}' for t in times[what])})", target)
        store.close()
    finally:
        proc.kill()
        proc.wait()


def bench_sync(work: Path, row: Row, sizes: list[int]) -> None:
    for size in sizes:
        measure(work, size, row)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, action="append",
                        help="cards in the store (repeat for several sizes)")
    args = parser.parse_args()

    def row(what: str, figure: str, target: str = "") -> None:
        print(f"| {what} | {figure} | {target} |", flush=True)

    print("| measurement | result | target |\n|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        bench_sync(Path(tmp), row, args.cards or [2_000, 20_000])
    print(f"\nload average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
