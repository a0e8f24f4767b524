"""The state snapshot's format: what one mock's whole state is as one versioned JSON document.

``take(ctx)`` reads it, ``apply(ctx, doc)`` puts it back. Both go through the store's tables,
the same records ``--state`` keeps in SQLite (one serialization: the store's JSON records), plus
the two things that live outside the store: the clock's position (``now`` and ``offset``, as
:mod:`.clock_state` saves it, without its real-time ``wall``: a snapshot is put back at the mock
time it was taken) and the rate-limit buckets (kept only in memory otherwise).

Left out on purpose: the request journal, HAR exchanges and control actions (traffic, not
state: the HAR transcript carries them), and the mock's own secrets in ``meta`` (client secret,
URL-signing secret, token signing key, webhook secret): the mock that loads a snapshot keeps its
own, so the integration configured against it keeps working.

Versions: :data:`VERSION` is what this build writes. A document of another version is brought
up to it by :data:`UPGRADES` (one function per older version), or refused with both versions
named. Only the envelope is checked here; the records' shapes are checked against
``schemas/snapshot.schema.json`` by the control layer, and :func:`consistency` adds the rules a
schema cannot say. ``apply`` runs only on a document that passed all of them, so a bad snapshot
never replaces anything.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from mock_server.core.context import MockContext
from mock_server.core.errors import BadRequest, Violation
from mock_server.core.store import TABLE_NAMES

FORMAT = "askara-mock-snapshot"
VERSION = 1
TRAFFIC_TABLES = ("journal", "exchanges", "actions")
"""Not state: left out of a snapshot, and left as they are when one is loaded."""
SNAPSHOT_TABLES = tuple(name for name in TABLE_NAMES if name not in TRAFFIC_TABLES)
OWN_META_KEYS = frozenset(
    {"clock", "manual_clock", "client_secret", "url_signing_secret", "signing_key", "webhook_secret"}
)
"""``meta`` rows that belong to the running mock (its clock save and secrets), never to a snapshot."""
ID_FIELDS = {
    "patients": "uuid", "documents": "uuid", "notes": "uuid", "webhooks": "uuid", "audios": "uuid",
    "users": "uuid", "organizations": "uuid", "deliveries": "id", "events": "event_id",
    "status_reports": "id", "access_tokens": "jti", "refresh_tokens": "token",
}
"""The field each record's key repeats (a mismatch would make the record unreachable by its id)."""
SECRET_KEYED_TABLES = ("auth_codes", "device_codes", "refresh_tokens")
"""Tables whose keys are the secrets themselves: a redacted export leaves their rows out (see :func:`shareable`)."""

Snapshot = dict[str, Any]
UPGRADES: dict[int, Callable[[Snapshot], Snapshot]] = {}
"""``version -> function`` turning a document of that version into one of the next; none yet (1 is the first)."""


def take(ctx: MockContext) -> Snapshot:
    """The whole state now, JSON-ready (records are shared with the store: serialize before changing it)."""
    tables: dict[str, Any] = {}
    for name in SNAPSHOT_TABLES:
        table = ctx.store.tables[name]
        rows = [[key, record] for key, record in _items(ctx, name) if name != "meta" or key not in OWN_META_KEYS]
        tables[name] = {"rows": rows, "dropped": table.dropped}
    return {
        "format": FORMAT,
        "version": VERSION,
        "clock": {"now": ctx.clock.now(), "offset": ctx.clock.offset},
        "rate_buckets": ctx.rate_limiter.buckets(),
        "tables": tables,
    }


MAX_START_ROWS = 5_000
"""Above this many records (a ``--documents`` backlog) no copy of the start is kept: the copy is taken before
the mock answers (about 11 ms per 1 000 records) and would double the memory."""


def remember_start(ctx: MockContext) -> None:
    """Keep a copy of the state as the story starts (start-up, reset, load) for the bundle to carry."""
    rows = sum(len(table) for table in ctx.store.tables.values())
    ctx.story_start = orjson.loads(orjson.dumps(take(ctx))) if rows <= MAX_START_ROWS else None


def shareable(doc: Snapshot) -> Snapshot:
    """``doc`` without the rows keyed by a secret (codes, refresh tokens), for an export that is redacted.

    Masking them would give every row the same key, and the snapshot could not be loaded any more;
    without them it loads, and the integration signs in again, as after a mock restart."""
    tables = {name: {**table, "rows": []} if name in SECRET_KEYED_TABLES else table
              for name, table in doc["tables"].items()}
    return {**doc, "tables": tables}


def _items(ctx: MockContext, name: str) -> list[tuple[str, Any]]:
    return ctx.store.tables[name].items()


def upgraded(doc: Any) -> Snapshot:
    """``doc`` brought to :data:`VERSION`, or a 400 naming the field, both versions and the rule."""
    if not isinstance(doc, dict):
        raise _refused("", "A snapshot is a JSON object.", "type")
    if doc.get("format") != FORMAT:
        raise _refused("format", f"This is not an askara-mock snapshot: format must be {FORMAT!r}; "
                       f"got {doc.get('format')!r:.60}.", "format")
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise _refused("version", f"The snapshot's version must be an integer; got {version!r:.60}.", "type")
    if version > VERSION:
        raise _refused("version", f"This snapshot is format version {version}, newer than this build of askara-mock "
                       f"reads (version {VERSION}): load it with a newer askara-mock.", "version")
    while version < VERSION:
        upgrade = UPGRADES.get(version)
        if upgrade is None:
            raise _refused("version", f"This snapshot is format version {version}; this build reads version {VERSION} "
                           f"and has no upgrade from version {version}.", "version")
        doc = upgrade(doc)
        version = doc["version"]
    result: Snapshot = doc
    return result


def consistency(doc: Snapshot) -> list[Violation]:
    """The rules the schema cannot say: unique keys, each key repeating its record's id, no foreign meta rows,
    integers the mock can write back (64 bits)."""
    violations = _wide_integers(doc, "")
    for name, table in doc["tables"].items():
        seen: set[str] = set()
        id_field = ID_FIELDS.get(name)
        for index, (key, record) in enumerate(table["rows"]):
            path = f"tables.{name}.rows.{index}"
            if key in seen:
                violations.append(Violation(path, f"The key {key!r:.60} appears twice in {name}.", "unique"))
            seen.add(key)
            if id_field is not None and record.get(id_field) != key:
                message = f"The key {key!r:.60} must equal the record's {id_field} ({record.get(id_field)!r:.60})."
                violations.append(Violation(f"{path}.1.{id_field}", message, "key"))
            if name == "meta" and key in OWN_META_KEYS:
                message = f"The meta row {key!r} belongs to the running mock (its clock or a secret), not a snapshot."
                violations.append(Violation(f"{path}.0", message, "own_meta"))
    return violations


def _wide_integers(data: Any, path: str) -> list[Violation]:
    if isinstance(data, dict):
        return [v for key, value in data.items() for v in _wide_integers(value, f"{path}.{key}" if path else str(key))]
    if isinstance(data, list):
        return [v for index, value in enumerate(data) for v in _wide_integers(value, f"{path}.{index}")]
    if isinstance(data, int) and not isinstance(data, bool) and not -(2**63) <= data < 2**64:
        message = f"This integer does not fit in 64 bits (orjson writes no larger): {data!r:.40}."
        return [Violation(path, message, "integer_range")]
    return []


def apply(ctx: MockContext, doc: Snapshot) -> None:
    """Replace the state with ``doc`` (checked already): tables, clock, buckets; memos dropped.

    The webhook sender's timers are not this layer's: the caller cancels them before and re-arms
    the pending deliveries after (:mod:`mock_server.control.snapshot`)."""
    store = ctx.store
    with store.batch():
        for name in SNAPSHOT_TABLES:
            table, given = store.tables[name], doc["tables"][name]
            kept = [(k, r) for k, r in _items(ctx, name) if k in OWN_META_KEYS] if name == "meta" else []
            table.clear()
            for key, record in [*kept, *((str(k), r) for k, r in given["rows"])]:
                table.put(key, record)
            table.dropped = int(given["dropped"])
    ctx.rate_limiter.load_buckets(doc["rate_buckets"])
    ctx.caches.clear()
    ctx.tokens.forget_verified()
    ctx.clock.restore(float(doc["clock"]["now"]), float(doc["clock"]["offset"]))


def _refused(field: str, message: str, rule: str) -> BadRequest:
    return BadRequest(f"{field or 'snapshot'}: {message}", violations=[Violation(field, message, rule)])
