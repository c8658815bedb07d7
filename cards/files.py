"""Files in and out: outputs written whole or not at all, inputs read within bounds.

An output target must be a regular file or not exist yet. Anything else (a
symbolic link, a device such as /dev/null, a FIFO, a socket, a directory) is
refused, even with ``force``: replacing it with a regular file would break
the link or, run as root, the device. The error says what the target is and,
for a link, where it points, so the user can name that file instead.

An input must be a regular file (a symbolic link to one is followed), at most
``MAX_INPUT_BYTES`` long: a FIFO would wait for a writer for ever and a
device such as /dev/zero never ends.

A new output gets the mode of any new file (0666 less the umask), not the
0600 of a temporary file; an overwritten one keeps its mode.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from cards.errors import CardsError

#: The largest input file read, in bytes. The starter deck is about 100 kB.
MAX_INPUT_BYTES = 64 * 1024 * 1024


class OutputError(CardsError):
    """An output file cannot be written."""


class InputFileError(CardsError):
    """An input file cannot be read: missing, not a regular file, or too large."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


def _what(mode: int) -> str:
    """What kind of file a ``st_mode`` is, in words."""
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symbolic link")):
        if test(mode):
            return name
    return "a special file"


def file_kind(path: str | os.PathLike[str]) -> str:
    """What the file at ``path`` is, in words ("a FIFO"), following links."""
    return _what(os.stat(path).st_mode)


def _size(n: int) -> str:
    """A size in words: whole megabytes (of 2**20 bytes) as such, else bytes."""
    mb = 1024 * 1024
    return f"{n // mb} MB" if n and n % mb == 0 else f"{n:,} bytes"


def check_target(path: str | os.PathLike[str], force: bool) -> None:
    """Fail before the work, not after it, if ``path`` cannot be written.

    Raises:
        OutputError: ``path`` is not a regular file (a link, a device, a
            FIFO, a directory), or it exists and ``force`` is off.
    """
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return  # a new file; whether its folder exists is write_atomic's check
    except OSError as err:
        raise OutputError(f"{path}: cannot check the file ({err.strerror})") from None
    if stat.S_ISLNK(st.st_mode):
        raise OutputError(f"{path}: not a regular file (a symbolic link to "
                          f"{os.readlink(path)}); name the file itself to write there")
    if stat.S_ISDIR(st.st_mode):
        raise OutputError(f"{path}: is a directory, expected a file name")
    if not stat.S_ISREG(st.st_mode):
        raise OutputError(f"{path}: not a regular file ({_what(st.st_mode)}); "
                          f"Secretariat writes only regular files")
    if not force:
        raise OutputError(f"{path}: already exists; use --force to overwrite it")


def _new_file_mode() -> int:
    """0666 less the process's umask: the mode ``open()`` gives a new file."""
    mask = os.umask(0o022)  # reading the umask means setting it; put it back at once
    os.umask(mask)
    return 0o666 & ~mask


def extension_warning(path: str | os.PathLike[str], extensions: tuple[str, ...],
                      what: str) -> str | None:
    """A warning if ``path`` does not end in one of ``extensions`` (".apkg"), else None."""
    suffix = Path(path).suffix.lower()
    if suffix in extensions:
        return None
    named = " or ".join(extensions)
    return (f"{path}: {what} usually ends in {named}"
            + (f", not {suffix}" if suffix else "") + "; the program reading it may not "
            "recognise it")


def write_atomic(path: str | os.PathLike[str], data: bytes, *, force: bool = False) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    A new file gets the usual mode (0666 less the umask), a replaced file
    keeps its own.

    Raises:
        OutputError: the file exists (without ``force``), is not a regular
            file, or cannot be written; no partial file is left behind.
    """
    with atomic_file(path, force=force) as out:
        out.write(data)


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike[str], *, force: bool = False) -> Iterator[BinaryIO]:
    """A file to write ``path`` through: a temporary file in its folder, renamed to
    ``path`` when the block ends without an error, removed when it raises.

    A new file gets the usual mode (0666 less the umask), a replaced file
    keeps its own.

    Raises:
        OutputError: the file exists (without ``force``), is not a regular
            file, or cannot be written (an ``OSError`` in the block too); no
            partial file is left behind.
    """
    check_target(path, force)
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise OutputError(f"{path}: the folder {directory} does not exist")
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = _new_file_mode()
    except OSError as err:
        raise OutputError(f"{path}: cannot write ({err.strerror})") from None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as err:
        raise OutputError(f"{path}: cannot write here ({err.strerror})") from None
    try:
        with os.fdopen(fd, "w+b") as out:
            yield out
            out.flush()
            os.fchmod(out.fileno(), mode)
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"{path}: cannot write ({err.strerror})") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_input(path: str | os.PathLike[str], limit: int | None = None) -> bytes:
    """The bytes of the regular file at ``path``, at most ``limit`` of them.

    Opening does not block (a FIFO without a writer would wait for ever): the
    file is opened non-blocking and checked before anything is read.

    Args:
        path: the file; a symbolic link is followed.
        limit: the most bytes accepted; ``MAX_INPUT_BYTES`` by default.

    Raises:
        InputFileError: no such file, not a regular file, larger than
            ``limit``, or unreadable; the message names the file.
    """
    limit = MAX_INPUT_BYTES if limit is None else limit
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise InputFileError(path, "no such file") from None
    except IsADirectoryError:
        raise InputFileError(path, "is a directory, expected a TOML file") from None
    except PermissionError:
        raise InputFileError(path, "permission denied: cannot read the file") from None
    except OSError as err:
        raise InputFileError(path, f"cannot read ({err.strerror})") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise InputFileError(path, "is a directory, expected a TOML file")
        if not stat.S_ISREG(st.st_mode):
            raise InputFileError(path, f"not a regular file ({_what(st.st_mode)})")
        if st.st_size > limit:
            raise InputFileError(path, f"too large ({_size(st.st_size)}); an input file "
                                 f"may hold at most {_size(limit)}")
        os.set_blocking(fd, True)
        chunks: list[bytes] = []
        total = 0
        while chunk := os.read(fd, min(1 << 20, limit + 1 - total)):
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # it grew while being read
                raise InputFileError(path, f"too large (over {_size(limit)}); an input "
                                     f"file may hold at most {_size(limit)}")
    except OSError as err:
        raise InputFileError(path, f"cannot read ({err.strerror})") from None
    finally:
        os.close(fd)
    return b"".join(chunks)
