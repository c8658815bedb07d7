"""Writing files whole or not at all."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from cards.errors import CardsError


class OutputError(CardsError):
    """An output file cannot be written."""


def check_target(path: str | os.PathLike[str], force: bool) -> None:
    """Fail before the work, not after it, if ``path`` exists and ``force`` is off.

    Raises:
        OutputError: the file exists.
    """
    if Path(path).exists() and not force:
        raise OutputError(f"{path}: already exists; use --force to overwrite it")


def write_atomic(path: str | os.PathLike[str], data: bytes, *, force: bool = False) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    Raises:
        OutputError: the file exists (without ``force``) or cannot be written;
            no partial file is left behind.
    """
    target = Path(path)
    if target.exists() and not force:
        raise OutputError(f"{path}: already exists; use --force to overwrite it")
    if target.is_dir():
        raise OutputError(f"{path}: is a directory, expected a file name")
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise OutputError(f"{path}: the folder {directory} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as err:
        raise OutputError(f"{path}: cannot write here ({err.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"{path}: cannot write ({err.strerror})") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
