"""``Record``: a small value class (equality, hash, repr from ``__slots__``) without
:mod:`dataclasses`.

The CUPS raster filter is a new process for every job, and importing :mod:`dataclasses`
(with :mod:`inspect`, :mod:`typing` and :mod:`re` behind it) costs it more than the whole job;
the modules on its path (``profile``, ``cups.raster``, ``cups.options``) declare their records
with this instead. Elsewhere, use dataclasses.
"""

from __future__ import annotations

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from typing import Any


class Record:
    """Fields are the ``__slots__``, given positionally or by name, all required; subclasses
    with defaults or typed parameters write their own ``__init__`` and call this one. Read-only
    once made, as a frozen dataclass: setting a field raises AttributeError."""

    __slots__: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any):
        names = self.__slots__
        if len(args) > len(names):
            raise TypeError(f"{type(self).__name__} takes {len(names)} fields, got {len(args)}")
        given = dict(zip(names, args, strict=False))  # fewer args than fields: the rest by name
        if twice := given.keys() & kwargs.keys():
            raise TypeError(f"{type(self).__name__}: {sorted(twice)} given twice")
        given.update(kwargs)
        if given.keys() != set(names):
            missing, unknown = set(names) - given.keys(), given.keys() - set(names)
            raise TypeError(f"{type(self).__name__}: missing {sorted(missing)}, unknown {sorted(unknown)}")
        for name in names:
            object.__setattr__(self, name, given[name])

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only (cannot set {name!r})")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only (cannot delete {name!r})")

    def _values(self) -> tuple:
        return tuple(getattr(self, k) for k in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={getattr(self, k)!r}' for k in self.__slots__)})"
