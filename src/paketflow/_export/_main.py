"""``paketflow export DEF --format bpmn|mermaid|dot [--lang id|en] [--output FILE]``."""

from __future__ import annotations

import argparse
from typing import TextIO

from paketflow._definition import load_definition
from paketflow._definition.model import ProcessDefinition
from paketflow._errors import DefinitionError, PaketflowError

__all__ = ["FORMATS", "add_parser", "export", "main"]

FORMATS = ("bpmn", "mermaid", "dot")


def export(definition: ProcessDefinition, fmt: str, lang: str = "en") -> str:
    """``definition`` as ``fmt`` (``bpmn``, ``mermaid`` or ``dot``), labels in ``lang``."""
    from paketflow._export._bpmn import to_bpmn
    from paketflow._export._diagram import to_dot, to_mermaid

    if lang not in ("id", "en"):
        raise PaketflowError(f"lang: {lang!r} is not a language of paketflow; use 'id' or 'en'")
    if fmt == "bpmn":
        return to_bpmn(definition, lang)
    if fmt == "mermaid":
        return to_mermaid(definition, lang)
    if fmt == "dot":
        return to_dot(definition, lang)
    choices = ", ".join(FORMATS)
    raise PaketflowError(f"format: {fmt!r} is not an export format; use one of {choices}")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``export`` on the CLI's subparsers."""
    p = sub.add_parser(
        "export",
        help="export a definition as BPMN 2.0 XML, Mermaid or Graphviz DOT",
        description="Write a process definition as BPMN 2.0 XML (with diagram layout), "
        "a Mermaid state diagram or a Graphviz DOT graph.",
    )
    p.add_argument("definition", metavar="DEF", help="definition file (JSON)")
    p.add_argument("--format", choices=FORMATS, required=True, help="output format")
    p.add_argument("--lang", choices=("id", "en"), default="en", help="label language")
    p.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of stdout")
    p.set_defaults(handler=main)


def main(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run ``paketflow export``: 0 on success, 2 when the definition is bad."""
    try:
        definition = load_definition(args.definition)
    except DefinitionError as exc:
        for problem in exc.errors:
            err.write(f"{problem}\n")
        return 2
    text = export(definition, args.format, args.lang)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        out.write(text)
    return 0
