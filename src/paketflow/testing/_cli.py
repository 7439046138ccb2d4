"""``paketflow check DEF [--depth N] [--from SCENARIO --steps K] [--counterexample FILE]``.

Exit 0 when no invariant is violated, 1 when one is, 2 on a usage error (a bad file,
a bad option). The report goes to ``out``; problems with the input to ``err``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TextIO

from paketflow import DefinitionError, ScenarioError, load_definition
from paketflow.testing._check import DEFAULT_BUDGET, CheckResult, check, counterexample

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``check`` on the ``paketflow`` command line."""
    parser = sub.add_parser(
        "check",
        help="prove a definition keeps its invariants (bounded exhaustive search)",
        description=(
            "Explore every distinct state reachable within N commands and check every "
            "built-in and declared invariant. Exit 0 clean, 1 violation, 2 usage."
        ),
    )
    parser.add_argument("definition", metavar="DEF", help="definition file (JSON)")
    parser.add_argument(
        "--depth",
        type=int,
        default=6,
        metavar="N",
        help="commands explored from the start state (default 6)",
    )
    parser.add_argument(
        "--from",
        dest="scenario",
        metavar="SCENARIO",
        help="start from the state a scenario's first steps reach",
    )
    parser.add_argument(
        "--steps", type=int, metavar="K", help="how many steps of --from to run (default: all)"
    )
    parser.add_argument(
        "--counterexample",
        metavar="FILE",
        help="write the shortest counterexample as a scenario file",
    )
    parser.add_argument(
        "--budget",
        type=int,
        default=DEFAULT_BUDGET,
        metavar="STATES",
        help=f"stop after this many states (default {DEFAULT_BUDGET})",
    )
    parser.set_defaults(handler=run)


def _extra_name(path: Path, vid: str) -> Path:
    return path.with_name(f"{path.stem}-{vid}{path.suffix or '.json'}")


def report(result: CheckResult, out: TextIO) -> None:
    """The text report of one check."""
    where = ""
    if result.prefix is not None:
        where = f" from {result.prefix.source} ({len(result.prefix.steps)} steps)"
    out.write(f"paketflow check {result.definition}{where}, depth {result.depth}\n")
    rate = result.states_per_second
    out.write(
        f"  {result.states} states visited, {result.commands} commands, "
        f"{result.seconds:.2f} s ({rate:.0f} states/s)\n"
    )
    if result.stopped:
        out.write(
            f"  stopped at the state budget ({result.budget} states): the search is not "
            "complete to this depth (raise --budget or lower --depth)\n"
        )
    if result.ok:
        out.write("  no invariant violated\n")
        return
    for finding in result.findings:
        out.write(f"  VIOLATED {finding.violation}\n")
        out.write(f"    shortest counterexample: {len(finding.path)} command(s)\n")
        for i, (command, outcome) in enumerate(finding.path, 1):
            verdict = "accepted" if outcome.accepted else f"refused {list(outcome.codes)}"
            state = outcome.after.state if outcome.after is not None else "-"
            out.write(
                f"      {i:>2}. {command.at.isoformat()} {command.describe()}: "
                f"{verdict} [{state}]\n"
            )


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run ``paketflow check`` with parsed ``args``."""
    if args.depth < 0 or args.budget < 1 or (args.steps is not None and args.steps < 1):
        err.write("paketflow check: --depth must be >= 0, --budget and --steps >= 1\n")
        return 2
    if args.steps is not None and args.scenario is None:
        err.write("paketflow check: --steps needs --from SCENARIO\n")
        return 2
    try:
        definition = load_definition(args.definition)
        result = check(
            definition,
            depth=args.depth,
            from_scenario=args.scenario,
            steps=args.steps,
            budget=args.budget,
        )
    except DefinitionError as exc:
        for problem in exc.errors:
            err.write(f"{problem}\n")
        return 2
    except ScenarioError as exc:
        err.write(f"{exc}\n")
        return 2
    report(result, out)
    if args.counterexample and result.findings:
        path = Path(args.counterexample)
        for i, finding in enumerate(result.findings):
            target = path if i == 0 else _extra_name(path, finding.violation.id)
            doc = counterexample(result, finding, definition)
            target.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", "utf-8")
            out.write(f"  counterexample for {finding.violation.id} written to {target}\n")
    return 1 if result.findings else 0
