"""The ``paketflow`` command line: ``validate``, ``schema``, ``simulate`` and ``check``.

This is the only module of paketflow that prints.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from paketflow import _cli_store, _lang_cli
from paketflow._definition import load_definition, schema
from paketflow._errors import DefinitionError, Problem

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="paketflow",
        description="Validate and simulate paketflow process definitions.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    validate = sub.add_parser(
        "validate",
        help="check process definitions (and variants) for problems",
        description="Check process definitions. Exit 0 when all are valid, 1 otherwise.",
    )
    validate.add_argument("files", nargs="+", metavar="FILE", help="definition files (JSON)")
    validate.add_argument(
        "--base",
        metavar="FILE|DIR",
        help="the base of the variants: a definition file, or a folder of them",
    )
    validate.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text: one line per problem (default); json: a JSON list of problems",
    )

    sub.add_parser(
        "schema",
        help="print the JSON Schema of the definition language",
        description="Print the JSON Schema (draft 2020-12) of the definition language.",
    ).add_argument(
        "--format", type=int, choices=(1, 2), default=1, help="language format (default 1)"
    )

    simulate = sub.add_parser(
        "simulate",
        help="run a scenario against a definition",
        description="Run a scenario file against a process definition and report.",
    )
    simulate.add_argument("definition", metavar="DEF", help="definition file (JSON)")
    simulate.add_argument("scenario", metavar="SCENARIO", help="scenario file (JSON)")
    simulate.add_argument("--lang", choices=("id", "en"), default="en", help="message language")
    simulate.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format"
    )
    simulate.add_argument(
        "--report",
        metavar="FILE",
        help="also write the compliance report to FILE (.html, .json, else text; in --lang)",
    )
    simulate.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also write the engine's log events (info level) to standard error",
    )
    from paketflow._export import _main as export_cli
    from paketflow._report import _main as report_cli

    export_cli.add_parser(sub)
    report_cli.add_parser(sub)
    simulate.add_argument(
        "--store", metavar="URL", help="record the run in this store (default memory://)"
    )
    _cli_store.register(sub)

    from paketflow.testing._cli import add_parser as add_check

    add_check(sub)
    _lang_cli.register(sub)
    return parser


def _validate(files: Sequence[str], fmt: str, out: TextIO, base: str | None = None) -> int:
    problems: list[Problem] = []
    valid: list[str] = []
    bases: Any = None
    if base is not None:
        try:
            bases = _bases(base)
        except DefinitionError as exc:
            problems.extend(exc.errors)
            files = []
    for name in files:
        try:
            definition = load_definition(name, base=bases)
        except DefinitionError as exc:
            problems.extend(exc.errors)
        else:
            valid.append(f"{name}: ok ({definition.key} {definition.hash})")
    if fmt == "json":
        out.write(json.dumps([p.as_dict() for p in problems], ensure_ascii=False, indent=2))
        out.write("\n")
    else:
        for line in valid:
            out.write(line + "\n")
        for problem in problems:
            out.write(f"{problem}\n")
    return 1 if problems else 0


def _bases(path: str) -> dict[str, Any]:
    """The definitions a ``--base`` names: one file, or every ``*.json`` of a folder
    that is not a variant, keyed by ``id@version``."""
    import os

    if not os.path.isdir(path):
        d = load_definition(path)
        return {d.key: d}
    out: dict[str, Any] = {}
    for name in sorted(os.listdir(path)):
        full = os.path.join(path, name)
        if not name.endswith(".json") or not os.path.isfile(full):
            continue
        try:
            with open(full, encoding="utf-8") as handle:
                if '"extends"' in handle.read():
                    continue
            d = load_definition(full)
        except (OSError, UnicodeError, DefinitionError):
            continue
        out[d.key] = d
    return out


def _simulate(args: argparse.Namespace, out: TextIO) -> int:
    from paketflow._runtime import simulate  # lazily: validate must not need the runtime

    result: Any = simulate.main(
        args.definition,
        args.scenario,
        lang=args.lang,
        fmt=args.format,
        out=out,
        err=sys.stderr,
        verbose=args.verbose,
        on_result=_report_writer(args.report, args.lang) if args.report else None,
        store=args.store,
    )
    return int(result)


def _report_writer(path: str, lang: str) -> Any:
    from paketflow._report._main import format_for, render, scenario_report

    def write(definition: Any, result: Any, engine: Any) -> None:
        if result.instance is None:
            return
        report = scenario_report(definition, result, engine.history(result.instance.id), lang)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(render(report, format_for(path)))

    return write


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (argparse exits 2 on usage errors)."""
    args = _parser().parse_args(argv)
    out = sys.stdout
    if hasattr(args, "run"):  # verify, checkpoint, history, store migrate
        return _cli_store.run(args, out)
    if args.command == "validate":
        return _validate(args.files, args.format, out, args.base)
    if hasattr(args, "handler"):
        return int(args.handler(args, out, sys.stderr))
    if args.command == "schema":
        out.write(json.dumps(schema(args.format), indent=2, ensure_ascii=False) + "\n")
        return 0
    return _simulate(args, out)
