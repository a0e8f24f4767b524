"""Sorted views of a table, kept up to date by its writes, so a list page costs O(log n + page).

A :class:`View` files every record of a table under a *group* (a hashable: the organization
and the values of the filters a query names) and orders each group by a *sort key* (a tuple whose
last element is the record's key, so entries are unique). The keyer computes both from a record,
or None for a record the view leaves out (a draft document). The table calls :meth:`View.update`
on every ``put``/``save``, :meth:`View.remove` on ``delete``; the entry filed last is kept per
record, so a record changed in place and saved moves from its old place to its new one.

:func:`ascending` and :func:`descending` build sort-key parts that order as the collections'
full sort does: None first ascending and last descending, values compared as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Any

from sortedcontainers import SortedList

Record = dict[str, Any]
SortKey = tuple[Any, ...]
Keyer = Callable[[Record], tuple[Hashable, SortKey] | None]


class View:
    """Records grouped by a hashable and sorted by a key within each group."""

    def __init__(self, keyer: Keyer, rows: Iterable[tuple[str, Record]] = ()) -> None:
        self.keyer = keyer
        self._entries: dict[str, tuple[Hashable, SortKey]] = {}
        self._groups: dict[Hashable, SortedList] = {}
        self.rebuild(rows)

    def rebuild(self, rows: Iterable[tuple[str, Record]]) -> None:
        """File ``rows`` afresh (what was filed before is forgotten): one sort per group, O(n log n)."""
        keyer = self.keyer
        entries: dict[str, tuple[Hashable, SortKey]] = {}
        grouped: dict[Hashable, list[SortKey]] = {}
        for key, record in rows:
            entry = keyer(record)
            if entry is not None:
                entries[key] = entry
                grouped.setdefault(entry[0], []).append(entry[1])
        self._entries = entries
        self._groups = {group: SortedList(keys) for group, keys in grouped.items()}

    def group(self, name: Hashable) -> SortedList:
        """The sort keys of one group, in order (empty when no record is filed there)."""
        return self._groups.get(name) or _EMPTY

    def update(self, key: str, record: Record) -> None:
        entry = self.keyer(record)
        old = self._entries.get(key)
        if old == entry:
            return
        if old is not None:
            self._discard(old)
        if entry is None:
            self._entries.pop(key, None)
            return
        self._entries[key] = entry
        group = self._groups.get(entry[0])
        if group is None:
            self._groups[entry[0]] = group = SortedList()
        group.add(entry[1])

    def remove(self, key: str) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self._discard(old)

    def clear(self) -> None:
        self._entries.clear()
        self._groups.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def _discard(self, entry: tuple[Hashable, SortKey]) -> None:
        group = self._groups[entry[0]]
        group.remove(entry[1])
        if not group:
            del self._groups[entry[0]]


_EMPTY = SortedList()


class _Reversed:
    """Orders the other way round (descending sort keys of values that cannot be negated, e.g. strings)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reversed) and self.value == other.value

    def __hash__(self) -> int:
        return hash(self.value)

    def __lt__(self, other: _Reversed) -> bool:
        return bool(other.value < self.value)

    def __gt__(self, other: _Reversed) -> bool:
        return bool(other.value > self.value)


class _Top:
    """Greater than anything it meets in a sort key: a bound just after every key with a given prefix."""

    __slots__ = ()

    def __lt__(self, other: object) -> bool:
        return False

    def __gt__(self, other: object) -> bool:
        return True


TOP = _Top()


def ascending(value: Any) -> tuple[bool, Any]:
    """None first, then the values in order."""
    return (value is not None, 0 if value is None else value)


def descending(value: Any) -> tuple[bool, Any]:
    """The values from the largest, None last."""
    if value is None:
        return (True, 0)
    if isinstance(value, (int, float)):
        return (False, -value)
    return (False, _Reversed(value))
