"""Text that is safe to print: control characters shown as visible escapes.

Facts, ids and file contents come from outside. Nothing of them may reach a
terminal as a control sequence (an escape that renames the window, clears
the screen or moves the cursor), so every printer passes them through
``visible`` first.
"""

from __future__ import annotations

import re

#: C0 controls (but newline and tab), DEL, and C1 controls.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_OR_NEWLINE = re.compile("[\x00-\x1f\x7f-\x9f]")
#: ``has_control(text)``: a match (true) if ``text`` holds a control character other
#: than newline and tab (``control_character`` without a call to make and the escape)
has_control = _CONTROL.search
_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match[0]
    return _NAMED.get(char) or f"\\x{ord(char):02x}"


def visible(text: str, *, one_line: bool = False) -> str:
    """``text`` with control characters written as escapes (``\\x1b``).

    Newline and tab are kept, unless ``one_line`` (an error message, a table
    cell that must stay on one line), which writes them as ``\\n`` and ``\\t``.
    """
    pattern = _CONTROL_OR_NEWLINE if one_line else _CONTROL
    return pattern.sub(_escape, text)


def control_character(text: str) -> str | None:
    """The first control character other than newline and tab in ``text``, escaped; else None."""
    found = _CONTROL.search(text)
    return _escape(found) if found else None


_JSON_UNSAFE = re.compile("[\x7f-\x9f]")


def json_text(value: object, indent: int | None = None) -> str:
    """``value`` as JSON that is safe to print: every control character escaped as ``\\uXXXX``.

    ``json.dumps`` escapes C0 controls itself but, with ``ensure_ascii=False``,
    leaves DEL and the C1 controls raw.
    """
    import json

    text = json.dumps(value, indent=indent, ensure_ascii=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m[0]):04x}", text)
