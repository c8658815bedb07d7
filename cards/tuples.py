"""``typing.NamedTuple``'s class syntax without importing ``typing`` at run time.

``study due`` may run at every shell prompt, and importing ``typing`` costs
it about 3 ms, a sixth of a bare interpreter's start. The modules on its path
declare their records as usual and pick the base class like this, so that
type checkers see ``typing.NamedTuple`` and the program gets the same class
built by ``collections.namedtuple``::

    TYPE_CHECKING = False
    if TYPE_CHECKING:
        from typing import NamedTuple
    else:
        from cards.tuples import NamedTuple
"""

from __future__ import annotations

import collections

_SPECIAL = frozenset({"__module__", "__qualname__", "__annotations__", "__doc__",
                      "__orig_bases__", "__static_attributes__", "__firstlineno__"})


class _Meta(type):
    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, object]) -> type:
        if bases == ():  # NamedTuple itself
            return super().__new__(mcs, name, bases, namespace)
        fields = list(namespace.get("__annotations__", {}))  # type: ignore[call-overload]
        defaults = [namespace[f] for f in fields if f in namespace]
        if any(f not in namespace for f in fields[len(fields) - len(defaults):]):
            raise TypeError(f"{name}: a field without a default follows one with a default")
        cls = collections.namedtuple(name, fields, defaults=defaults,  # type: ignore[misc]
                                     module=str(namespace["__module__"]))
        cls.__annotations__ = dict(namespace["__annotations__"])  # type: ignore[call-overload]
        for key, value in namespace.items():
            if key == "__doc__" and value:
                cls.__doc__ = value  # type: ignore[assignment]
            elif key not in _SPECIAL and key not in fields:
                setattr(cls, key, value)
        return cls


class NamedTuple(metaclass=_Meta):
    """Base class of a record: annotated fields, optional defaults, methods."""
