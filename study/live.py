"""Which review sessions are live on a store: an advisory lock file beside it.

A review session holds ``STORE.session`` with a shared lock while it runs
(several sessions may run at once); a command that must not run during a
session (``study anki sync``) takes it exclusively, without waiting. The
operating system drops the lock when a process ends, so a crashed session
leaves nothing stale. Where ``fcntl`` is missing (Windows) nothing is locked.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from cards.errors import CardsError


class SessionRunning(CardsError):
    """A review session is running on the store."""


def _path(store_path: str) -> str | None:
    return None if store_path == ":memory:" else f"{store_path}.session"


@contextlib.contextmanager
def _locked(store_path: str, exclusive_lock: bool) -> Iterator[None]:
    path = _path(store_path)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    if path is None:
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        mode = fcntl.LOCK_EX | fcntl.LOCK_NB if exclusive_lock else fcntl.LOCK_SH | fcntl.LOCK_NB
        try:
            fcntl.flock(fd, mode)
        except BlockingIOError:
            if exclusive_lock:
                raise SessionRunning(
                    "a review session is running on this store; finish it (q) and run the "
                    "sync again; nothing was changed") from None
            raise SessionRunning("a sync with Anki is running on this store; wait for it to "
                                 "finish and start the review again") from None
        yield
    finally:
        os.close(fd)


def session(store_path: str) -> contextlib.AbstractContextManager[None]:
    """Held by a review session while it runs (shared: sessions may overlap).

    Raises:
        SessionRunning: a sync holds the store.
    """
    return _locked(store_path, exclusive_lock=False)


def exclusive(store_path: str) -> contextlib.AbstractContextManager[None]:
    """Held by a sync: no review session runs meanwhile.

    Raises:
        SessionRunning: a review session is running.
    """
    return _locked(store_path, exclusive_lock=True)
