"""What the SQLite and PostgreSQL stores share: the schema, its migrations, and every
statement of the store protocol, written once in the SQL both engines understand.

A backend supplies a connection policy (:meth:`SQLStore._write` / :meth:`SQLStore._read`
yielding a cursor-like ``execute``), the SQL for the database's own clock, the row
lock clause used when claiming timers, and which driver exceptions mean "a unique
constraint was hit". Statements use ``?`` placeholders; PostgreSQL rewrites them.

Layout (schema version :data:`SCHEMA_VERSION`; see docs/storage.md):

- ``paketflow_schema(version, applied)``: one row per applied migration.
- ``instances(id, version, definition_hash, state, snapshot)``: the latest snapshot
  (JSON, :data:`~paketflow._store._codec.SNAPSHOT_FORMAT`).
- ``events(instance, seq, type, at_us, body, prev_hash, hash)``: unique on
  ``(instance, seq)``; ``body`` is the RFC 8785 canonical JSON of the event;
  ``hash`` = SHA-256(``prev_hash`` ‖ ``body``), hex.
- ``idempotency(key, instance, fingerprint, version)``.
- ``timers(instance, deadline, step, due_us, claimed_until_us)``: the next step of
  each armed deadline, indexed by ``due_us``.
- ``checkpoints(number, body, signature, key_id)``: signed checkpoints.
- ``definitions(hash, body)`` (schema 2): the resolved document of every definition an
  engine ran on the store, keyed by its hash; ``body`` is the JSON the hash is taken
  over, so ``paketflow report`` and ``verify`` need no file beside the store.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import threading
from collections.abc import Sequence
from typing import Any, Protocol

from paketflow._errors import ConcurrencyError, DuplicateInstance, StoreError, UnknownInstance
from paketflow._store import _codec
from paketflow._store._codec import Event, Instance

__all__ = ["GENESIS", "MIGRATIONS", "SCHEMA_VERSION", "Cursor", "SQLStore", "chain_hash"]

#: ``prev_hash`` of the first event of every instance.
GENESIS = "0" * 64

#: Migrations by schema version: the statements that bring version ``n - 1`` to ``n``.
#: Append only; never edit a released entry.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """CREATE TABLE instances (
            id TEXT PRIMARY KEY,
            version BIGINT NOT NULL,
            definition_hash TEXT NOT NULL,
            state TEXT NOT NULL,
            snapshot TEXT NOT NULL)""",
        """CREATE TABLE events (
            instance TEXT NOT NULL,
            seq BIGINT NOT NULL,
            type TEXT NOT NULL,
            at_us BIGINT NOT NULL,
            body TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL,
            PRIMARY KEY (instance, seq))""",
        """CREATE TABLE idempotency (
            key TEXT PRIMARY KEY,
            instance TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            version BIGINT NOT NULL)""",
        """CREATE TABLE timers (
            instance TEXT NOT NULL,
            deadline TEXT NOT NULL,
            step INTEGER NOT NULL,
            due_us BIGINT NOT NULL,
            claimed_until_us BIGINT,
            PRIMARY KEY (instance, deadline))""",
        "CREATE INDEX timers_due ON timers (due_us, instance)",
        """CREATE TABLE checkpoints (
            number BIGINT PRIMARY KEY,
            body TEXT NOT NULL,
            signature TEXT NOT NULL,
            key_id TEXT NOT NULL)""",
    ),
    2: ("CREATE TABLE definitions (hash TEXT PRIMARY KEY, body TEXT NOT NULL)",),
}
SCHEMA_VERSION = max(MIGRATIONS)


def chain_hash(prev_hash: str, body: bytes) -> str:
    """The hash of an event: SHA-256 over the previous event's hash (64 ASCII hex
    digits) followed by the event's canonical JSON, as hex."""
    return hashlib.sha256(prev_hash.encode("ascii") + body).hexdigest()


class Cursor(Protocol):
    """The part of a DB-API cursor the stores use."""

    @property
    def rowcount(self) -> int: ...

    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> Any: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class SQLStore:
    """The store protocol over SQL; subclasses supply connections and dialect."""

    #: Seconds a claimed timer stays hidden from other workers' claims.
    claim_lease: float = 60.0
    #: Decoded snapshots kept by :meth:`load`, most recently written or read: a load
    #: whose stored text equals the kept one's returns the kept (frozen) snapshot
    #: instead of decoding it again. Histories are never kept.
    snapshot_cache: int = 1024
    #: SQL appended to the claim's inner SELECT (``FOR UPDATE SKIP LOCKED`` on
    #: PostgreSQL; SQLite holds the database write lock instead).
    _lock_clause = ""
    #: SQL expression for the database clock in integer microseconds since the epoch.
    _now_us_sql = ""
    _integrity_errors: tuple[type[BaseException], ...] = ()
    url = ""

    # -- connection policy (backends) --------------------------------------------------

    def _write(self) -> contextlib.AbstractContextManager[Cursor]:
        raise NotImplementedError

    def _read(self) -> contextlib.AbstractContextManager[Cursor]:
        raise NotImplementedError

    def _sql(self, sql: str) -> str:
        return sql

    def _x(self, cur: Cursor, sql: str, params: Sequence[Any] = ()) -> Cursor:
        cur.execute(self._sql(sql), params)
        return cur

    # -- schema ---------------------------------------------------------------------------

    def _lock_schema(self, cur: Cursor) -> None:
        """Serialise concurrent migrations (PostgreSQL: an advisory lock)."""

    def _migrate(self) -> list[int]:
        """Apply every missing migration in one transaction; return the versions
        applied. A schema newer than this paketflow raises :class:`StoreError`."""
        with self._write() as cur:
            self._lock_schema(cur)
            self._x(
                cur,
                "CREATE TABLE IF NOT EXISTS paketflow_schema (version INTEGER PRIMARY KEY, "
                "applied TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)",
            )
            current = self._x(cur, "SELECT MAX(version) FROM paketflow_schema").fetchone()[0] or 0
            if current > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.url}: store schema version {current} is newer than this paketflow "
                    f"understands ({SCHEMA_VERSION}); upgrade paketflow"
                )
            applied = []
            for version in range(current + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[version]:
                    self._x(cur, statement)
                self._x(cur, "INSERT INTO paketflow_schema (version) VALUES (?)", (version,))
                applied.append(version)
            return applied

    def schema_version(self) -> int:
        """The schema version of the database."""
        with self._read() as cur:
            return int(self._x(cur, "SELECT MAX(version) FROM paketflow_schema").fetchone()[0])

    def migrate(self) -> list[int]:
        """Apply missing migrations (already done on open); return those applied."""
        return self._migrate()

    # -- the store protocol ----------------------------------------------------------------

    def load(self, instance_id: str) -> Instance:
        with self._read() as cur:
            row = self._x(cur, "SELECT snapshot FROM instances WHERE id = ?", (instance_id,))
            found = row.fetchone()
        if found is None:
            raise UnknownInstance(instance_id)
        text = str(found[0])
        kept = self._cache.get(instance_id)
        if kept is not None and kept[0] == text:  # the very text: the same snapshot
            return kept[1]
        instance = _codec.snapshot_from_dict(json.loads(text))
        self._keep(instance_id, text, instance)
        return instance

    def _init_cache(self) -> None:
        """Backends call this first in ``__init__``."""
        self._cache: dict[str, tuple[str, Instance]] = {}
        self._cache_lock = threading.Lock()

    def _keep(self, instance_id: str, text: str, instance: Instance) -> None:
        cache = self._cache
        with self._cache_lock:
            cache.pop(instance_id, None)
            cache[instance_id] = (text, instance)
            while len(cache) > self.snapshot_cache:
                del cache[next(iter(cache))]

    def append(
        self,
        instance: Instance,
        events: Sequence[Event],
        *,
        expected_version: int,
        idempotency: tuple[str, str] | None = None,
    ) -> None:
        _check_batch(instance, events, expected_version)
        snapshot = _codec.snapshot_text(instance)
        try:
            with self._write() as cur:
                prev = self._advance(cur, instance, snapshot, expected_version, idempotency)
                for event in events:
                    body = _codec.canonical(_codec.event_to_dict(event))
                    digest = chain_hash(prev, body)
                    self._x(
                        cur,
                        "INSERT INTO events (instance, seq, type, at_us, body, prev_hash, hash) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (
                            event.instance_id,
                            event.seq,
                            event.type,
                            _codec.due_us(event.at),
                            body.decode(),
                            prev,
                            digest,
                        ),
                    )
                    prev = digest
                if idempotency is not None:
                    self._x(
                        cur,
                        "INSERT INTO idempotency (key, instance, fingerprint, version) "
                        "VALUES (?, ?, ?, ?)",
                        (idempotency[0], instance.id, idempotency[1], instance.version),
                    )
                self._x(cur, "DELETE FROM timers WHERE instance = ?", (instance.id,))
                for deadline, step, due in _codec.timer_rows(instance):
                    self._x(
                        cur,
                        "INSERT INTO timers (instance, deadline, step, due_us) VALUES (?, ?, ?, ?)",
                        (instance.id, deadline, step, due),
                    )
            # Kept once written: a later load compares it with the stored text, so a
            # write a surrounding batch rolls back is never returned.
            self._keep(instance.id, snapshot, instance)
        except self._integrity_errors:
            raise ConcurrencyError(
                f"instance {instance.id!r}: another writer recorded version "
                f"{expected_version + 1} (or the same idempotency key) first; reload the "
                "instance and retry the command (a retry with the same idempotency key "
                "returns the first result)"
            ) from None

    def _advance(
        self,
        cur: Cursor,
        instance: Instance,
        snapshot: str,
        expected: int,
        idempotency: tuple[str, str] | None,
    ) -> str:
        """Write the snapshot if the stored version is ``expected``; return the hash of
        the instance's last stored event (the chain continues from it)."""
        if expected == 0:
            self._x(
                cur,
                "INSERT INTO instances (id, version, definition_hash, state, snapshot) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                (instance.id, instance.version, instance.definition_hash, instance.state, snapshot),
            )
            if cur.rowcount == 0:
                if (
                    idempotency is not None
                    and self._x(
                        cur, "SELECT 1 FROM idempotency WHERE key = ?", (idempotency[0],)
                    ).fetchone()
                ):
                    # A concurrent start with the same key won: its retry finds the key.
                    raise ConcurrencyError(
                        f"instance {instance.id!r} was started concurrently under the same "
                        "idempotency key; retry the command to get the first result"
                    )
                raise DuplicateInstance(
                    f"instance {instance.id!r} already exists; choose another instance_id"
                )
            return GENESIS
        self._x(
            cur,
            "UPDATE instances SET version = ?, state = ?, snapshot = ? "
            "WHERE id = ? AND version = ?",
            (instance.version, instance.state, snapshot, instance.id, expected),
        )
        if cur.rowcount == 0:
            row = self._x(cur, "SELECT version FROM instances WHERE id = ?", (instance.id,))
            found = row.fetchone()
            if found is None:
                raise UnknownInstance(instance.id)
            raise ConcurrencyError(
                f"instance {instance.id!r} is at version {found[0]}, expected {expected}; "
                "reload it and retry the command"
            )
        row = self._x(
            cur, "SELECT hash FROM events WHERE instance = ? AND seq = ?", (instance.id, expected)
        ).fetchone()
        if row is None:
            raise StoreError(
                f"{self.url}: instance {instance.id!r} has no event #{expected}; run "
                "'paketflow verify' on this store"
            )
        return str(row[0])

    def history(self, instance_id: str) -> list[Event]:
        with self._read() as cur:
            rows = self._x(
                cur, "SELECT body FROM events WHERE instance = ? ORDER BY seq", (instance_id,)
            ).fetchall()
        if not rows:
            raise UnknownInstance(instance_id)
        return [_codec.event_from_dict(json.loads(body)) for (body,) in rows]

    def idempotent(self, key: str) -> tuple[str, str, int] | None:
        with self._read() as cur:
            row = self._x(
                cur, "SELECT instance, fingerprint, version FROM idempotency WHERE key = ?", (key,)
            ).fetchone()
        return None if row is None else (str(row[0]), str(row[1]), int(row[2]))

    def due(self, now: dt.datetime) -> list[str]:
        with self._read() as cur:
            rows = self._x(
                cur,
                "SELECT instance, due_us FROM timers WHERE due_us <= ? ORDER BY due_us, instance",
                (_codec.due_us(now),),
            ).fetchall()
        return _earliest_first(rows)

    def claim_due(self, now: dt.datetime, limit: int = 1000) -> list[str]:
        """Claim up to ``limit`` instances with a step due at or before ``now`` that no
        other worker holds, earliest first. A claim hides the instance from other
        claims for :attr:`claim_lease` seconds (database clock) or until the instance's
        next command rewrites its timers, whichever comes first. Firing stays
        exactly-once through the version check of :meth:`append`."""
        lease_us = int(self.claim_lease * 1_000_000)
        with self._write() as cur:
            rows = self._x(
                cur,
                f"UPDATE timers SET claimed_until_us = {self._now_us_sql} + ? "
                "WHERE (instance, deadline) IN (SELECT instance, deadline FROM timers "
                "WHERE due_us <= ? AND (claimed_until_us IS NULL OR claimed_until_us <= "
                f"{self._now_us_sql}) ORDER BY due_us, instance LIMIT ? {self._lock_clause}) "
                "RETURNING instance, due_us",
                (lease_us, _codec.due_us(now), limit),
            ).fetchall()
        return _earliest_first(rows)

    def __len__(self) -> int:
        with self._read() as cur:
            return int(self._x(cur, "SELECT COUNT(*) FROM instances").fetchone()[0])

    # -- audit access (used by paketflow verify) --------------------------------------------

    def instance_ids(self) -> list[str]:
        """Every instance id with a snapshot or an event, sorted."""
        with self._read() as cur:
            rows = self._x(
                cur, "SELECT id FROM instances UNION SELECT DISTINCT instance FROM events"
            ).fetchall()
        return sorted(str(r[0]) for r in rows)

    def event_rows(self, instance_id: str) -> list[tuple[int, str, str, str]]:
        """``(seq, body, prev_hash, hash)`` of every stored event of the instance, in
        sequence order, exactly as stored."""
        with self._read() as cur:
            rows = self._x(
                cur,
                "SELECT seq, body, prev_hash, hash FROM events WHERE instance = ? ORDER BY seq",
                (instance_id,),
            ).fetchall()
        return [(int(s), str(b), str(p), str(h)) for s, b, p, h in rows]

    def snapshot_row(self, instance_id: str) -> tuple[int, str] | None:
        """``(version, snapshot JSON)`` as stored, or ``None``."""
        with self._read() as cur:
            row = self._x(
                cur, "SELECT version, snapshot FROM instances WHERE id = ?", (instance_id,)
            ).fetchone()
        return None if row is None else (int(row[0]), str(row[1]))

    def heads(self) -> dict[str, tuple[int, str]]:
        """``{instance: (seq, hash)}`` of each instance's last stored event."""
        with self._read() as cur:
            rows = self._x(
                cur,
                "SELECT e.instance, e.seq, e.hash FROM events e JOIN "
                "(SELECT instance, MAX(seq) AS seq FROM events GROUP BY instance) m "
                "ON e.instance = m.instance AND e.seq = m.seq",
            ).fetchall()
        return {str(i): (int(s), str(h)) for i, s, h in rows}

    def checkpoints(self) -> list[tuple[int, str, str, str]]:
        """``(number, body, signature, key_id)`` of every stored checkpoint, oldest
        first."""
        with self._read() as cur:
            rows = self._x(
                cur, "SELECT number, body, signature, key_id FROM checkpoints ORDER BY number"
            ).fetchall()
        return [(int(n), str(b), str(s), str(k)) for n, b, s, k in rows]

    def save_definition(self, definition_hash: str, body: str) -> None:
        """Keep the resolved document ``body`` of the definition ``definition_hash``
        (once: a hash already kept is left as it is)."""
        with self._write() as cur:
            self._x(
                cur,
                "INSERT INTO definitions (hash, body) VALUES (?, ?) ON CONFLICT (hash) DO NOTHING",
                (definition_hash, body),
            )

    def definition_body(self, definition_hash: str) -> str | None:
        """The resolved document kept for ``definition_hash``, as stored, or ``None``."""
        with self._read() as cur:
            row = self._x(
                cur, "SELECT body FROM definitions WHERE hash = ?", (definition_hash,)
            ).fetchone()
        return None if row is None else str(row[0])

    def definition_rows(self) -> list[tuple[str, str]]:
        """``(hash, body)`` of every kept definition, by hash."""
        with self._read() as cur:
            rows = self._x(cur, "SELECT hash, body FROM definitions ORDER BY hash").fetchall()
        return [(str(h), str(b)) for h, b in rows]

    def add_checkpoint(self, number: int, body: str, signature: str, key_id: str) -> None:
        """Store a signed checkpoint; a concurrent checkpoint with the same number
        raises :class:`ConcurrencyError`."""
        try:
            with self._write() as cur:
                self._x(
                    cur,
                    "INSERT INTO checkpoints (number, body, signature, key_id) VALUES (?, ?, ?, ?)",
                    (number, body, signature, key_id),
                )
        except self._integrity_errors:
            raise ConcurrencyError(
                f"{self.url}: checkpoint {number} was written concurrently; retry"
            ) from None


def _earliest_first(rows: list[Any]) -> list[str]:
    """Distinct instance ids of ``(instance, due_us)`` rows, by earliest due time."""
    first: dict[str, int] = {}
    for iid, due in rows:
        first[str(iid)] = min(int(due), first.get(str(iid), int(due)))
    return sorted(first, key=lambda i: (first[i], i))


def _check_batch(instance: Instance, events: Sequence[Event], expected: int) -> None:
    seqs = [e.seq for e in events]
    wrong = [e.instance_id for e in events if e.instance_id != instance.id]
    if (
        wrong
        or seqs != list(range(expected + 1, expected + 1 + len(events)))
        or (instance.version != expected + len(events))
    ):
        raise StoreError(
            f"append of {instance.id!r}: events {seqs} of {sorted(set(wrong)) or [instance.id]} "
            f"do not continue version {expected} to {instance.version}; the engine builds "
            "batches with consecutive sequence numbers"
        )
