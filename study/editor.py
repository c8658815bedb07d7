"""Which text editor `study edit` and the review's `e` key run.

``$VISUAL``, then ``$EDITOR`` (an empty value counts as unset), then the
first of ``FALLBACKS`` found on the PATH: ``nano``, then ``vi``. Debian's
``editor`` and ``sensible-editor`` are never chosen: on first use they ask
the user to pick an editor (``select-editor``), a prompt that would land in
the middle of the review screen.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping

#: Tried in order when neither $VISUAL nor $EDITOR is set.
FALLBACKS = ("nano", "vi")


class NoEditor(LookupError):
    """Neither $VISUAL nor $EDITOR is set, and no fallback editor is installed."""


def choose_editor(environ: Mapping[str, str],
                  which: Callable[[str], str | None] = shutil.which) -> str:
    """The editor command to run.

    Args:
        environ: the environment (``VISUAL`` and ``EDITOR`` are read, and
            ``PATH`` by ``which``).
        which: finds a program on the PATH, as ``shutil.which``.

    Raises:
        NoEditor: none is set and none of ``FALLBACKS`` is installed.
    """
    for name in ("VISUAL", "EDITOR"):
        if environ.get(name, "").strip():
            return environ[name]
    for program in FALLBACKS:
        path = which(program)
        if path:
            return path
    raise NoEditor("no text editor: set $EDITOR (for example EDITOR=nano); "
                   f"none of {', '.join(FALLBACKS)} is installed")
