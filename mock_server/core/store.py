"""All of the mock's state: tables of JSON-ready records, in memory, optionally kept in SQLite.

Records are plain dicts shaped like what the API serves, so most endpoints answer straight from
the store. Every ``put``/``delete`` goes through the backend: the memory backend does nothing,
the SQLite backend (``--state FILE``) writes the record at once (autocommit, WAL), so a mock
killed with SIGKILL comes back with everything it had answered for.

Bounded tables (the journal, the delivery log) drop their oldest records past ``max_entries``,
skipping records the ``keep`` predicate protects, and count what they dropped.

Every write (``put``, ``save``, ``delete``, ``clear``, ``load``) bumps the table's ``version`` and
stamps the written record with it, so a reader can cache what it derives from a record (the
served form of a document, a whole list page) and know when that is stale. The rule that makes
this sound is the one persistence already needs: a record changed in place is followed by
``save(key)`` or ``put(key, record)``.

The same writes keep a table's sorted views (:mod:`mock_server.core.indexes`): a collection asks
``table.view(name, keyer)`` for the grouping and order a query needs, built once from the table
(O(n log n)) and then maintained by every write (O(log n) each), so a page never scans the table.
At most :data:`MAX_VIEWS` per table are kept, the least recently used dropped first.

``Store.batch()`` groups many writes (seeding 100 000 records): one SQLite transaction, and the
sorted views rebuilt once at the end (one sort of n keys costs a fraction of n insertions).
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from pathlib import Path
from typing import Any

import orjson

from mock_server.core.errors import NotFound
from mock_server.core.indexes import Keyer, View

Record = dict[str, Any]
MAX_VIEWS = 12

TABLE_NAMES = (
    "meta",
    "clients",
    "users",
    "organizations",
    "patients",
    "audios",
    "documents",
    "notes",
    "webhooks",
    "auth_codes",
    "device_codes",
    "access_tokens",
    "refresh_tokens",
    "status_reports",
    "events",
    "deliveries",
    "journal",
    "exchanges",
    "actions",
)


class Backend:
    """Where records go when they change; the default keeps nothing."""

    def save(self, table: str, key: str, record: Record) -> None:  # noqa: B027 - intentionally empty
        pass

    def delete(self, table: str, key: str) -> None:  # noqa: B027
        pass

    def clear(self, table: str) -> None:  # noqa: B027
        pass

    def load(self) -> dict[str, list[tuple[str, Record]]]:
        return {}

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Writes inside are committed together (nothing to do in memory)."""
        yield

    def close(self) -> None:  # noqa: B027
        pass


class SqliteBackend(Backend):
    """One table ``records(tbl, key, body)``; insertion order kept by rowid."""

    def __init__(self, path: str | Path) -> None:
        import sqlite3  # here, not at the top: only ``--state`` needs it (~2 ms of every start-up)

        self.path = str(path)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS records (tbl TEXT NOT NULL, key TEXT NOT NULL, body BLOB NOT NULL,"
            " PRIMARY KEY (tbl, key))"
        )

    def save(self, table: str, key: str, record: Record) -> None:
        self._db.execute(
            "INSERT INTO records (tbl, key, body) VALUES (?, ?, ?)"
            " ON CONFLICT (tbl, key) DO UPDATE SET body = excluded.body",
            (table, key, orjson.dumps(record)),
        )

    def delete(self, table: str, key: str) -> None:
        self._db.execute("DELETE FROM records WHERE tbl = ? AND key = ?", (table, key))

    def clear(self, table: str) -> None:
        self._db.execute("DELETE FROM records WHERE tbl = ?", (table,))

    def load(self) -> dict[str, list[tuple[str, Record]]]:
        loaded: dict[str, list[tuple[str, Record]]] = {}
        for table, key, body in self._db.execute("SELECT tbl, key, body FROM records ORDER BY rowid"):
            loaded.setdefault(table, []).append((key, orjson.loads(body)))
        return loaded

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        if self._db.in_transaction:
            yield
            return
        self._db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def close(self) -> None:
        self._db.close()


class Table:
    """Records of one kind by key, in insertion order."""

    def __init__(
        self,
        name: str,
        backend: Backend,
        *,
        max_entries: int | None = None,
        keep: Callable[[Record], bool] | None = None,
    ) -> None:
        self.name = name
        self._backend = backend
        # A bounded table evicts from the front on every put once full: an OrderedDict finds its oldest
        # record in O(1), where a dict skips every slot deleted since its last resize (~5 us per put
        # for the 10 000-entry journal, i.e. per request).
        self._rows: dict[str, Record] = OrderedDict() if max_entries is not None else {}
        self.max_entries = max_entries
        self.keep = keep
        """Records this predicate protects are never evicted; owners may set it after construction."""
        self.dropped = 0
        self.version = 0
        """Bumped by every write; a cache keyed on it is stale as soon as anything in the table changed."""
        self._stamps: dict[str, int] = {}
        self.inserted = 0
        """Records ever inserted (never goes back, not even on ``clear``): the listings' cursor."""
        self._order: dict[str, int] = {}
        self._views: OrderedDict[Hashable, View] = OrderedDict()
        self._deferred = 0
        """Inside ``deferred_views()``: writes leave the views alone, rebuilt when the block ends."""
        self.on_write: Callable[[str], None] | None = None
        """Told the table's name after every write (:meth:`Store.watch`: the change feed)."""

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, key: object) -> bool:
        return key in self._rows

    def __iter__(self) -> Iterator[Record]:
        return iter(list(self._rows.values()))

    def get(self, key: str) -> Record | None:
        return self._rows.get(key)

    def require(self, key: str, what: str | None = None) -> Record:
        """The record, or a 404 problem naming what was looked for."""
        record = self._rows.get(key)
        if record is None:
            raise NotFound(f'{what or self.name.rstrip("s").capitalize()} "{key}" not found.')
        return record

    def order(self, key: str) -> int:
        """The insertion number of ``key`` (0 if absent): a new key gets the next one, a rewrite keeps its own."""
        return self._order.get(key, 0)

    def _number(self, key: str) -> None:
        if key not in self._order:
            self.inserted += 1
            self._order[key] = self.inserted

    def stamp(self, key: str) -> int:
        """The table version of the last write of ``key`` (0 if absent): changes whenever the record did."""
        return self._stamps.get(key, 0)

    def _touch(self, key: str) -> None:
        self.version += 1
        self._stamps[key] = self.version
        if self.on_write is not None:
            self.on_write(self.name)

    def view(self, name: Hashable, keyer: Keyer) -> View:
        """The sorted view called ``name`` (built from the table on first use, then kept by every write).

        ``name`` must identify ``keyer``'s behaviour: a later call with the same name gets the view
        the first call built, whatever keyer it passes."""
        view = self._views.get(name)
        if view is None:
            view = self._views[name] = View(keyer, self._rows.items())
            while len(self._views) > MAX_VIEWS:
                self._views.popitem(last=False)
        else:
            self._views.move_to_end(name)
        return view

    @contextlib.contextmanager
    def deferred_views(self) -> Iterator[None]:
        """Writes inside leave the sorted views alone; each is rebuilt from the table once at the end."""
        self._deferred += 1
        try:
            yield
        finally:
            self._deferred -= 1
            if not self._deferred:
                for view in self._views.values():
                    view.rebuild(self._rows.items())

    def _update_views(self, key: str, record: Record) -> None:
        if not self._deferred:
            for view in self._views.values():
                view.update(key, record)

    def put(self, key: str, record: Record) -> Record:
        self._rows[key] = record
        self._number(key)
        self._touch(key)
        self._update_views(key, record)
        self._backend.save(self.name, key, record)
        if self.max_entries is not None and len(self._rows) > self.max_entries:
            self._evict()
        return record

    def save(self, key: str) -> None:
        """Persist a record changed in place (and mark it changed for readers' caches)."""
        record = self._rows[key]
        self._backend.save(self.name, key, record)
        self._touch(key)
        self._update_views(key, record)

    def delete(self, key: str) -> Record | None:
        record = self._rows.pop(key, None)
        if record is not None:
            self.version += 1
            if self.on_write is not None:
                self.on_write(self.name)
            self._stamps.pop(key, None)
            self._order.pop(key, None)
            if not self._deferred:
                for view in self._views.values():
                    view.remove(key)
            self._backend.delete(self.name, key)
        return record

    def clear(self) -> None:
        self._rows.clear()
        self._stamps.clear()
        self._order.clear()
        for view in self._views.values():
            view.clear()
        self.version += 1
        if self.on_write is not None:
            self.on_write(self.name)
        self._backend.clear(self.name)

    def values(self) -> list[Record]:
        return list(self._rows.values())

    def items(self) -> list[tuple[str, Record]]:
        """(key, record) pairs in insertion order (a snapshot keeps the keys)."""
        return list(self._rows.items())

    def load(self, rows: list[tuple[str, Record]]) -> None:
        for key, record in rows:
            self._rows[key] = record
            self._number(key)
            self._touch(key)
            self._update_views(key, record)

    def _evict(self) -> None:
        assert self.max_entries is not None
        excess = len(self._rows) - self.max_entries
        # Walk from the oldest and stop at the last victim: copying every key (10k journal entries)
        # on each put cost more than the rest of a request once the table was full.
        victims: list[str] = []
        for key, record in self._rows.items():
            if len(victims) >= excess:
                break
            if self.keep is None or not self.keep(record):
                victims.append(key)
        for key in victims:
            self.delete(key)
            self.dropped += 1


class Store:
    """Every table the mock has, sharing one backend."""

    meta: Table
    clients: Table
    users: Table
    organizations: Table
    patients: Table
    audios: Table
    documents: Table
    notes: Table
    webhooks: Table
    auth_codes: Table
    device_codes: Table
    access_tokens: Table
    refresh_tokens: Table
    status_reports: Table
    events: Table
    deliveries: Table
    journal: Table
    exchanges: Table
    """Headers and bodies of journal entries, by the same id (the HAR transcript's raw material)."""
    actions: Table
    """The control actions taken (``/_mock`` calls that change something), for ``askara-mock record``."""

    def __init__(self, backend: Backend | None = None, *, limits: dict[str, int] | None = None) -> None:
        self.backend = backend or Backend()
        limits = limits or {}
        self.tables: dict[str, Table] = {}
        for name in TABLE_NAMES:
            table = Table(name, self.backend, max_entries=limits.get(name))
            self.tables[name] = table
            setattr(self, name, table)
        loaded = self.backend.load()
        self.restored = any(rows for rows in loaded.values())
        for name, rows in loaded.items():
            if name in self.tables:
                self.tables[name].load(rows)

    def watch(self, on_write: Callable[[str], None]) -> None:
        """Call ``on_write(table name)`` after every write to any table (one watcher: the change feed)."""
        for table in self.tables.values():
            table.on_write = on_write

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """``with store.batch():`` many writes, one transaction of the state DB, views rebuilt once."""
        with contextlib.ExitStack() as stack:
            stack.enter_context(self.backend.batch())
            for table in self.tables.values():
                stack.enter_context(table.deferred_views())
            yield

    def close(self) -> None:
        self.backend.close()
