"""The store commands of the ``paketflow`` command line: ``verify``, ``checkpoint``,
``history`` and ``store migrate`` (registered by :mod:`paketflow._cli`)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from paketflow._errors import PaketflowError, StoreError

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add the store subcommands to the ``paketflow`` subparsers ``sub``."""
    verify = sub.add_parser(
        "verify",
        help="check a store's hash chains and signed checkpoints (or an offline bundle)",
        description="Verify a store (or a bundle). Exit 0 when intact, 1 when something is "
        "wrong (the first bad instance and event of each broken history is named), 2 when "
        "the store or a file cannot be read.",
    )
    src = verify.add_mutually_exclusive_group(required=True)
    src.add_argument("--store", metavar="URL", help="store URL, e.g. sqlite:///paket.db")
    src.add_argument("--bundle", metavar="FILE", help="a bundle written by --export-bundle")
    verify.add_argument(
        "--public-key", metavar="FILE", help="Ed25519 public key (PEM) that signs checkpoints"
    )
    verify.add_argument(
        "--export-bundle", metavar="FILE", help="also write an offline bundle for auditors"
    )
    verify.set_defaults(run=_verify)

    checkpoint = _store_command(
        sub,
        "checkpoint",
        "sign a checkpoint of every instance's last event",
        "Sign (Ed25519) and store a checkpoint of every instance's last event.",
    )
    checkpoint.add_argument(
        "--private-key", metavar="FILE", required=True, help="Ed25519 private key (PEM, PKCS #8)"
    )
    checkpoint.set_defaults(run=_checkpoint)

    history = _store_command(
        sub,
        "history",
        "print a stored instance's timeline",
        "Print the events of one stored instance, oldest first.",
    )
    history.add_argument("instance", metavar="INSTANCE", help="instance id")
    history.add_argument("--format", choices=("text", "json"), default="text")
    history.set_defaults(run=_history)

    store = sub.add_parser("store", help="store maintenance", description="Store maintenance.")
    store_sub = store.add_subparsers(dest="store_command", required=True, metavar="COMMAND")
    migrate = store_sub.add_parser(
        "migrate",
        help="bring a store's schema to this paketflow's version",
        description="Apply the missing schema migrations (opening a store does this too).",
    )
    migrate.add_argument("url", metavar="URL", help="store URL")
    migrate.set_defaults(run=_migrate)


def _store_command(sub: Any, name: str, help_: str, description: str) -> Any:
    parser = sub.add_parser(name, help=help_, description=description)
    parser.add_argument("--store", metavar="URL", required=True, help="store URL")
    return parser


def _guarded(run: Any, args: argparse.Namespace, out: TextIO) -> int:
    try:
        return int(run(args, out))
    except PaketflowError as exc:
        sys.stderr.write(f"paketflow {args.command}: {exc}\n")
        return 2


def _open(url: str) -> Any:
    from paketflow._store import open_store

    return open_store(url)


def _verify(args: argparse.Namespace, out: TextIO) -> int:
    from paketflow import _audit

    if args.bundle is not None:
        if args.public_key is None:
            raise StoreError("--bundle needs --public-key FILE (the key that signs checkpoints)")
        report = _audit.verify_bundle(args.bundle, public_key=args.public_key)
        where = args.bundle
    else:
        store = _open(args.store)
        report = _audit.verify(store, public_key=args.public_key)
        where = store.url
        if args.export_bundle is not None:
            count = _audit.export_bundle(store, args.export_bundle)
            out.write(f"wrote {count} events to {args.export_bundle}\n")
    for problem in report.problems:
        out.write(f"{problem}\n")
    for note in report.notes:
        out.write(f"note: {note}\n")
    counts = (
        f"{report.instances} instances, {report.events} events, {report.checkpoints} checkpoints"
    )
    if report.ok:
        out.write(f"{where}: intact ({counts})\n")
        return 0
    out.write(f"{where}: NOT intact: {len(report.problems)} problems ({counts})\n")
    return 1


def _checkpoint(args: argparse.Namespace, out: TextIO) -> int:
    from paketflow import _audit

    store = _open(args.store)
    number = _audit.checkpoint(store, args.private_key)
    out.write(f"{store.url}: checkpoint #{number} of {len(store)} instances written\n")
    return 0


def _history(args: argparse.Namespace, out: TextIO) -> int:
    from paketflow._store import _codec

    store = _open(args.store)
    inst = store.load(args.instance)
    events = store.history(args.instance)
    if args.format == "json":
        doc = [_codec.event_to_dict(e) for e in events]
        out.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
        return 0
    out.write(
        f"{inst.id}: {inst.definition}@{inst.definition_version} ({inst.definition_hash}), "
        f"state {inst.state}, version {inst.version}\n"
    )
    for e in events:
        source = getattr(e, "source", None)
        target = getattr(e, "target", None) or getattr(e, "state", None)
        move = f"{source or ''} -> {target or ''}" if source != target else target
        actor = e.actor.id if e.actor is not None else "-"
        name = getattr(e, "name", None)
        out.write(
            f"{e.seq:>4}  {e.at.isoformat()}  {e.type:<10} {name or '':<28} "
            f"{move or '':<40} {actor}\n"
        )
    return 0


def _migrate(args: argparse.Namespace, out: TextIO) -> int:
    store = _open(args.url)
    if not hasattr(store, "migrate"):
        raise StoreError(f"{args.url}: a memory store has no schema to migrate")
    applied = store.migrate()
    done = ", ".join(map(str, applied)) if applied else "none, up to date"
    out.write(f"{store.url}: schema version {store.schema_version()} (applied now: {done})\n")
    return 0


def run(args: argparse.Namespace, out: TextIO) -> int:
    """Run the store subcommand chosen in ``args`` (errors: message, exit 2)."""
    return _guarded(args.run, args, out)
