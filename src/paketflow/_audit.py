"""Tamper evidence: verify hash chains, write and check signed checkpoints, export
offline bundles.

Every stored event row carries ``prev_hash`` (the hash of the previous event of its
instance; 64 zeros for the first) and ``hash`` = SHA-256(``prev_hash`` ‖ ``body``),
where ``body`` is the event's RFC 8785 canonical JSON. Editing, deleting, swapping or
inserting a row breaks the chain at that row. What a chain alone cannot show —
the tail cut off, or a whole history rewritten with recomputed hashes — a
**checkpoint** shows: a signed (Ed25519) statement of every instance's last
``(seq, hash)``, linked to the previous checkpoint. The signing key belongs to the
application; an auditor needs only the public key.

:func:`verify` reads a store (or an exported bundle) and returns an
:class:`AuditReport`: ``ok`` when nothing is wrong, else ``problems`` with the first
bad ``(instance, seq)`` of each broken instance and what is wrong.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import attrs
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from paketflow._errors import StoreError
from paketflow._runtime.fold import fold
from paketflow._store import _codec
from paketflow._store._sql import GENESIS, chain_hash

__all__ = [
    "BUNDLE_FORMAT",
    "CHECKPOINT_FORMAT",
    "AuditProblem",
    "AuditReport",
    "checkpoint",
    "export_bundle",
    "load_private_key",
    "load_public_key",
    "verify",
    "verify_bundle",
]

#: Version of the signed checkpoint body.
CHECKPOINT_FORMAT = 1
#: Version of the offline bundle file.
BUNDLE_FORMAT = 1

EventRow = tuple[int, str, str, str]  # seq, body, prev_hash, hash
CheckpointRow = tuple[int, str, str, str]  # number, body, signature (hex), key id


class AuditSource(Protocol):
    """What :func:`verify` reads: a durable store or a loaded bundle."""

    @property
    def url(self) -> str: ...

    def instance_ids(self) -> list[str]: ...

    def event_rows(self, instance_id: str) -> list[EventRow]: ...

    def snapshot_row(self, instance_id: str) -> tuple[int, str] | None: ...

    def checkpoints(self) -> list[CheckpointRow]: ...


class CheckpointStore(AuditSource, Protocol):
    def heads(self) -> dict[str, tuple[int, str]]: ...

    def add_checkpoint(self, number: int, body: str, signature: str, key_id: str) -> None: ...


@attrs.frozen
class AuditProblem:
    """One thing wrong: ``instance`` and ``seq`` name the first bad event (``seq`` 0
    and ``instance`` ``""`` for a problem of the checkpoints themselves)."""

    instance: str
    seq: int
    problem: str

    def __str__(self) -> str:
        if self.instance and not self.seq:  # a kept definition
            return f"{self.instance}: {self.problem}"
        where = f"{self.instance} #{self.seq}" if self.instance else f"checkpoint #{self.seq}"
        return f"{where}: {self.problem}"


@attrs.frozen
class AuditReport:
    """The result of :func:`verify`. ``ok`` is true when ``problems`` is empty;
    ``notes`` say what was not covered (e.g. no public key given)."""

    instances: int
    events: int
    checkpoints: int
    problems: tuple[AuditProblem, ...]
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


# -- keys ---------------------------------------------------------------------------------


def load_private_key(source: str | Path | bytes | Ed25519PrivateKey) -> Ed25519PrivateKey:
    """An Ed25519 private key from a PEM (PKCS #8) file, PEM bytes, or a key object."""
    if isinstance(source, Ed25519PrivateKey):
        return source
    pem = _pem(source, "private key")
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise StoreError(f"{_name(source)}: not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise StoreError(f"{_name(source)}: checkpoints are signed with Ed25519 keys only")
    return key


def load_public_key(source: str | Path | bytes | Ed25519PublicKey) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM (SubjectPublicKeyInfo) file, PEM bytes, or a
    key object."""
    if isinstance(source, Ed25519PublicKey):
        return source
    pem = _pem(source, "public key")
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise StoreError(f"{_name(source)}: not a PEM public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise StoreError(f"{_name(source)}: checkpoints are signed with Ed25519 keys only")
    return key


def _pem(source: str | Path | bytes, what: str) -> bytes:
    if isinstance(source, bytes):
        return source
    try:
        return Path(source).read_bytes()
    except OSError as exc:
        raise StoreError(f"{source}: cannot read the {what} file ({exc.strerror})") from None


def _name(source: object) -> str:
    return "<key bytes>" if isinstance(source, bytes) else str(source)


def key_id(public: Ed25519PublicKey) -> str:
    """First 16 hex digits of SHA-256 over the raw public key."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


# -- checkpoints ------------------------------------------------------------------------


def checkpoint(store: Any, private_key: str | Path | bytes | Ed25519PrivateKey) -> int:
    """Sign and store a checkpoint of every instance's last event; return its number.

    ``store`` is a durable store (SQLite or PostgreSQL). Take one after each batch of
    work (a nightly job, or every N commands); events after the latest checkpoint are
    covered by their hash chain only.
    """
    source = _durable(store)
    key = load_private_key(private_key)
    previous = source.checkpoints()
    number = previous[-1][0] + 1 if previous else 1
    prev = hashlib.sha256(previous[-1][1].encode()).hexdigest() if previous else GENESIS
    heads = {iid: [seq, digest] for iid, (seq, digest) in sorted(source.heads().items())}
    body = _codec.canonical(
        {
            "format": CHECKPOINT_FORMAT,
            "number": number,
            "prev": prev,
            "key": key_id(key.public_key()),
            "heads": heads,
        }
    )
    signature = key.sign(body).hex()
    source.add_checkpoint(number, body.decode(), signature, key_id(key.public_key()))
    return number


def _durable(store: Any) -> CheckpointStore:
    if not all(hasattr(store, name) for name in ("heads", "event_rows", "add_checkpoint")):
        raise StoreError(
            f"{type(store).__name__} keeps no hash chain: audit needs a durable store "
            "(open_store('sqlite:///…') or 'postgresql://…')"
        )
    source: CheckpointStore = store
    return source


# -- verification -------------------------------------------------------------------------


def verify(
    store: Any, *, public_key: str | Path | bytes | Ed25519PublicKey | None = None
) -> AuditReport:
    """Check every instance's hash chain, its snapshot against the replayed history,
    and (with ``public_key``) every checkpoint's signature and the chains against the
    latest checkpoint."""
    return _verify(_durable(store), None if public_key is None else load_public_key(public_key))


def _verify(source: AuditSource, public: Ed25519PublicKey | None) -> AuditReport:
    problems: list[AuditProblem] = []
    notes: list[str] = []
    chains: dict[str, list[EventRow]] = {}
    events = 0
    for iid in source.instance_ids():
        rows = source.event_rows(iid)
        chains[iid] = rows
        events += len(rows)
        problem = _check_chain(iid, rows) or _check_snapshot(iid, rows, source.snapshot_row(iid))
        if problem is not None:
            problems.append(problem)
    problems.extend(_check_definitions(source))
    marks = source.checkpoints()
    problems.extend(_check_checkpoints(marks, chains, public, notes))
    return AuditReport(len(chains), events, len(marks), tuple(problems), tuple(notes))


def _check_definitions(source: AuditSource) -> list[AuditProblem]:
    """Every kept definition's body must hash to the hash it is kept under (the hash
    instances are pinned to), so the rules an instance ran on cannot be edited either."""
    rows: list[tuple[str, str]] = getattr(source, "definition_rows", list)()
    return [
        AuditProblem(f"definition {digest}", 0, "kept document does not hash to its key (edited?)")
        for digest, body in rows
        if "sha256:" + hashlib.sha256(body.encode("utf-8")).hexdigest() != digest
    ]


def _check_chain(iid: str, rows: Sequence[EventRow]) -> AuditProblem | None:
    prev = GENESIS
    for expected, (seq, body, prev_hash, digest) in enumerate(rows, start=1):
        if seq != expected:
            return AuditProblem(iid, expected, f"event missing (the next stored is #{seq})")
        try:
            doc = json.loads(body)
            canonical = _codec.canonical(doc).decode()
        except (ValueError, TypeError) as exc:
            return AuditProblem(iid, seq, f"body is not valid JSON ({exc})")
        if canonical != body:
            return AuditProblem(iid, seq, "body is not in canonical form (edited by hand?)")
        if not isinstance(doc, dict) or doc.get("instance") != iid or doc.get("seq") != seq:
            return AuditProblem(
                iid, seq, "body belongs to another place (instance/seq inside the body differ)"
            )
        if prev_hash != prev:
            return AuditProblem(iid, seq, "prev_hash does not match the previous event's hash")
        if chain_hash(prev_hash, body.encode()) != digest:
            return AuditProblem(iid, seq, "hash does not match the body (content changed)")
        prev = digest
    return None


def _check_snapshot(
    iid: str, rows: Sequence[EventRow], snapshot: tuple[int, str] | None
) -> AuditProblem | None:
    if not rows:
        return AuditProblem(iid, 1, "snapshot without any event")
    if snapshot is None:
        return AuditProblem(iid, len(rows), "events without a snapshot")
    version, text = snapshot
    if version != len(rows):
        return AuditProblem(
            iid,
            min(version, len(rows)) + 1,
            f"snapshot is at version {version} but "
            f"{len(rows)} events are stored (events lost or added)",
        )
    try:
        stored = _codec.snapshot_from_dict(json.loads(text))
        replayed = fold(_codec.event_from_dict(json.loads(body)) for _, body, _, _ in rows)
    except Exception as exc:  # hostile rows: any failure to decode or fold is a finding
        return AuditProblem(iid, version, f"snapshot or history cannot be read ({exc!r})")
    if stored != replayed:
        return AuditProblem(iid, version, "snapshot differs from the replayed history")
    return None


def _check_checkpoints(
    marks: Sequence[CheckpointRow],
    chains: Mapping[str, Sequence[EventRow]],
    public: Ed25519PublicKey | None,
    notes: list[str],
) -> list[AuditProblem]:
    if public is None:
        notes.append("checkpoint signatures not checked (no public key given)")
    elif not marks:
        return [
            AuditProblem("", 0, "no signed checkpoint: truncation or rewrite cannot be ruled out")
        ]
    prev = GENESIS
    heads: Mapping[str, Any] = {}
    for expected, (number, body, signature, _key) in enumerate(marks, start=1):
        if number != expected:
            return [AuditProblem("", expected, f"checkpoint missing (the next is #{number})")]
        if public is not None:
            try:
                public.verify(bytes.fromhex(signature), body.encode())
            except (InvalidSignature, ValueError):
                return [AuditProblem("", number, "signature invalid for this public key")]
        try:
            doc = json.loads(body)
            heads = doc["heads"]
            linked = doc["prev"] == prev and doc["number"] == number
        except (ValueError, KeyError, TypeError):
            return [AuditProblem("", number, "checkpoint body cannot be read")]
        if not linked:
            return [AuditProblem("", number, "not linked to the previous checkpoint")]
        prev = hashlib.sha256(body.encode()).hexdigest()
    out: list[AuditProblem] = []
    for iid, (seq, digest) in sorted(heads.items()):
        rows = chains.get(iid, ())
        if len(rows) < seq:
            out.append(
                AuditProblem(
                    iid,
                    len(rows) + 1,
                    f"history ends at #{len(rows)} but checkpoint "
                    f"#{len(marks)} recorded #{seq} (truncated)",
                )
            )
        elif rows[seq - 1][3] != digest:
            out.append(
                AuditProblem(
                    iid, seq, f"hash differs from checkpoint #{len(marks)} (history rewritten)"
                )
            )
    if marks:
        after = sum(max(0, len(rows) - heads.get(iid, (0, ""))[0]) for iid, rows in chains.items())
        if after:
            notes.append(f"{after} events after checkpoint #{len(marks)} rest on their chain only")
    return out


# -- bundles ------------------------------------------------------------------------------


def export_bundle(store: Any, path: str | Path) -> int:
    """Write every event row, snapshot and checkpoint of ``store`` to ``path`` (one
    JSON document, :data:`BUNDLE_FORMAT`); return the number of events written."""
    source = _durable(store)
    instances: dict[str, Any] = {}
    count = 0
    for iid in source.instance_ids():
        rows = source.event_rows(iid)
        snap = source.snapshot_row(iid)
        instances[iid] = {"events": [list(r) for r in rows], "snapshot": snap and list(snap)}
        count += len(rows)
    doc = {
        "format": "paketflow-audit-bundle",
        "version": BUNDLE_FORMAT,
        "store": source.url,
        "instances": instances,
        "checkpoints": [list(c) for c in source.checkpoints()],
        "definitions": [list(d) for d in getattr(source, "definition_rows", list)()],
    }
    Path(path).write_text(json.dumps(doc, ensure_ascii=False) + "\n", encoding="utf-8")
    return count


@attrs.frozen
class _Bundle:
    url: str
    instances: Mapping[str, Any]
    marks: list[CheckpointRow]
    definitions: list[tuple[str, str]] = attrs.field(factory=list)

    def instance_ids(self) -> list[str]:
        return sorted(self.instances)

    def definition_rows(self) -> list[tuple[str, str]]:
        return self.definitions

    def event_rows(self, instance_id: str) -> list[EventRow]:
        rows = self.instances[instance_id]["events"]
        return [(int(s), str(b), str(p), str(h)) for s, b, p, h in rows]

    def snapshot_row(self, instance_id: str) -> tuple[int, str] | None:
        snap = self.instances[instance_id]["snapshot"]
        return None if snap is None else (int(snap[0]), str(snap[1]))

    def checkpoints(self) -> list[CheckpointRow]:
        return self.marks


def verify_bundle(
    path: str | Path, *, public_key: str | Path | bytes | Ed25519PublicKey
) -> AuditReport:
    """Verify an exported bundle offline with the public key alone."""
    public = load_public_key(public_key)
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        if doc.get("format") != "paketflow-audit-bundle" or doc.get("version") != BUNDLE_FORMAT:
            raise ValueError(f"format {doc.get('format')!r} version {doc.get('version')!r}")
        marks = [(int(n), str(b), str(s), str(k)) for n, b, s, k in doc["checkpoints"]]
        kept = [(str(h), str(b)) for h, b in doc.get("definitions", [])]
        bundle = _Bundle(str(path), doc["instances"], marks, kept)
        return _verify(bundle, public)
    except OSError as exc:
        raise StoreError(f"{path}: cannot read the bundle ({exc.strerror})") from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise StoreError(
            f"{path}: not a paketflow audit bundle of version {BUNDLE_FORMAT} ({exc}); "
            "write one with 'paketflow verify --store URL --export-bundle FILE'"
        ) from None
