"""Builders shared by the benchmarks: large authoring files and stores."""

from __future__ import annotations

import json
import random
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cards.db import iso

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def tenures_toml(tenures: int, per_office: int = 4) -> str:
    """An authoring file of ``tenures`` tenures with their people, offices and organs."""
    out = []
    offices = max(1, -(-tenures // per_office))  # every office's tenures follow each other
    organs = max(1, -(-offices // 10))
    for o in range(organs):
        out.append(f'[[organ]]\nid = "organ-{o}"\nname = "Committee number {o}"\n'
                   f'short = "C{o}"\nfounded = "1900"\ntags = ["bench"]\n\n')
    for o in range(offices):
        out.append(f'[[office]]\nid = "office-{o}"\ntitle = "Secretary of body {o}"\n'
                   f'organ = "organ-{o // 10}"\n\n')
    for t in range(tenures):
        office, slot = divmod(t, per_office)
        start = 1901 + slot * 10
        out.append(f'[[person]]\nid = "person-{t}"\nname = "Person Number {t}"\n'
                   f'born = "1870-01-01"\ndied = "1990-12-31"\n\n'
                   f'[[tenure]]\nperson = "person-{t}"\n'
                   f'office = "office-{office}"\n'
                   f'start = "{start}-01-01"\nend = "{start + 10}-01-01"\n'
                   f'tags = ["bench"]\nsource = "https://example.org/{t}"\n\n')
    return "".join(out)


def fill_history(path: Path, reviews: int, seed: int = 7) -> int:
    """Give every card a review state and spread ``reviews`` answers over two years."""
    from cards.aggregates import TRIGGERS, install

    rng = random.Random(seed)
    conn = sqlite3.connect(path)
    # a builder's settings: a cache that holds the indexes, and the hourly totals
    # recounted once at the end (by their triggers, each insert updated them)
    conn.execute("PRAGMA cache_size = -2000000")
    conn.execute("PRAGMA synchronous = OFF")
    for name in TRIGGERS:
        if name.startswith("reviews_"):
            conn.execute(f"DROP TRIGGER IF EXISTS {name}")
    keys = [k for (k,) in conn.execute("SELECT key FROM cards ORDER BY position")]
    start = NOW - timedelta(days=730)
    updates = []
    for i, key in enumerate(keys):
        due = NOW + timedelta(days=rng.uniform(-3, 365)) if i % 10 else NOW - timedelta(hours=1)
        updates.append(("review", rng.uniform(1, 300), rng.uniform(1, 10), iso(due),
                        iso(NOW - timedelta(days=rng.uniform(1, 30))), 5, key))
    conn.executemany("UPDATE cards SET state = ?, step = NULL, stability = ?, difficulty = ?, "
                     "due = ?, last_review = ?, reps = ?, reviewed_hash = answer_hash "
                     "WHERE key = ?", updates)
    state = json.dumps({"state": "review"})
    batch = []
    for n in range(reviews):
        at = start + timedelta(seconds=rng.uniform(0, 729 * 86400))
        batch.append((keys[n % len(keys)], rng.choice((1, 3, 3, 3, 4, 2)), iso(at),
                      rng.randint(800, 9000), state, state, rng.uniform(0.5, 60), "[]"))
        if len(batch) == 100_000:
            conn.executemany("INSERT INTO reviews (card_key, rating, reviewed_at, duration_ms, "
                             "state_before, state_after, interval_days, buried) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", batch)
            batch = []
    if batch:
        conn.executemany("INSERT INTO reviews (card_key, rating, reviewed_at, duration_ms, "
                         "state_before, state_after, interval_days, buried) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", batch)
    install(conn)  # recounts the totals and puts the triggers back
    conn.commit()
    conn.close()
    return len(keys)
