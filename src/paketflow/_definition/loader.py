"""Loading process definitions: strict JSON → variants → JSON Schema → semantics → model.

:func:`load_definition` is the one entry point. Every problem it finds is reported at
once in a single :class:`~paketflow._errors.DefinitionError`, sorted by JSON Pointer;
nothing else escapes it, whatever the input.
"""

from __future__ import annotations

import contextlib
import copy
import difflib
import functools
import hashlib
import json
import os
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from paketflow._definition import _patch, _strict_json, _v2
from paketflow._definition._build import Builder
from paketflow._definition._invariants import invariant_problems
from paketflow._definition._schema_errors import SCHEMA_ID_V2, schema, validate
from paketflow._definition._semantic import Checker
from paketflow._definition._sourcemap import Origins, line_of
from paketflow._definition._strict_json import (
    MAX_NODES,
    _ReadFailed,
    count_nodes,
    esc,
    normalise,
    read_file,
    source_name,
    too_many,
)
from paketflow._definition.model import ProcessDefinition
from paketflow._errors import DefinitionError, Problem
from paketflow._fastschema import Check, schema_validator
from paketflow._json import canonical

__all__ = ["canonical_hash", "canonical_text", "definition_body", "load_definition", "text_hash"]

_MAX_EXTENDS = 16


class _Failed(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


def canonical_text(document: Any) -> str:
    """The RFC 8785 (JCS) canonical JSON a definition hash is taken over.

    For a document without floats and without keys outside the Basic Multilingual
    Plane (every shipped definition), ``json.dumps`` with sorted keys writes exactly
    the RFC 8785 bytes, four times faster than the ``rfc8785`` package; anything else
    goes through the package (tests/test_loader.py checks the two agree)."""
    if _plain(document):
        return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return canonical(document).decode("utf-8")


def _plain(document: Any) -> bool:
    """No float anywhere and every key in the BMP (where sorting by code point, as
    ``json.dumps`` does, equals RFC 8785's sorting by UTF-16 code unit)."""
    stack = [document]
    while stack:
        value = stack.pop()
        kind = type(value)
        if kind is dict:
            for key in value:
                if not key.isascii() and max(map(ord, key)) > 0xFFFF:
                    return False
            stack.extend(value.values())
        elif kind is list:
            stack.extend(value)
        elif kind is float or (
            kind is not str and kind is not int and kind is not bool and value is not None
        ):
            return False
    return True


def canonical_hash(document: Any) -> str:
    """``"sha256:<hex>"`` of the canonical JSON of ``document`` (sorted keys, no
    whitespace, UTF-8)."""
    return text_hash(canonical_text(document))


def text_hash(text: str) -> str:
    """``"sha256:<hex>"`` of ``text`` as UTF-8 (a stored definition body's hash)."""
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def definition_body(definition: ProcessDefinition) -> str:
    """The resolved document of ``definition`` as the text its hash is taken over
    (what durable stores keep; :func:`load_definition` of it gives the same hash)."""
    return canonical_text(definition.document)


BaseArg = ProcessDefinition | Mapping[str, Any] | None


@functools.cache
def _fast_schema(fmt: int) -> Check | None:
    """The language schema of format ``fmt`` compiled into a validity predicate (built
    once per process): jsonschema's validation of paket.json costs about 90 ms, the
    predicate a few."""
    return schema_validator(schema(fmt))


def _schema_problems(doc: Any, file: str, fmt: int = 1) -> list[Problem]:
    """The language-schema problems of ``doc``: none when the compiled predicate
    accepts it (it accepts only what jsonschema accepts); otherwise jsonschema's own
    errors, with their places and messages."""
    fast = _fast_schema(fmt)
    if fast is not None and fast(doc):
        return []
    return validate(doc, file, fmt)


def load_definition(source: Any, *, base: BaseArg = None) -> ProcessDefinition:
    """Load, validate and resolve a process definition.

    ``source`` is a path (``str`` or path-like) to a JSON file, or a mapping holding the
    document. A variant (a document with ``extends``) finds its base in ``base`` (a
    :class:`ProcessDefinition`, a base document, or a mapping of either keyed by id or
    ``id@version``) or else as ``<base id>.json`` next to the variant file.

    Raises :class:`DefinitionError` listing every problem, sorted by pointer.
    """
    file = _safe_name(source)
    try:
        return _load(source, base, ())
    except _Failed as exc:
        raise DefinitionError(_sorted(exc.problems)) from None
    except _ReadFailed as exc:
        raise DefinitionError(_sorted(exc.problems)) from None
    except DefinitionError:
        raise
    except RecursionError:
        raise DefinitionError(
            [Problem("json.too-deep", "", "the document is nested too deeply", "flatten it", file)]
        ) from None
    except Exception as exc:  # a bug: still report it as a problem, never crash the host
        raise DefinitionError(
            [
                Problem(
                    "internal",
                    "",
                    f"internal error while loading: {type(exc).__name__}: {exc}"[:300],
                    "please report this with the definition that caused it",
                    file,
                )
            ]
        ) from None


def _safe_name(source: Any) -> str:
    try:
        return source_name(source)
    except Exception:
        return "<source>"


def _sorted(problems: list[Problem]) -> list[Problem]:
    """Sort by pointer and fold repeated dangling references: one undefined name
    referenced in many places is one root problem, reported at its first place with
    a count of the others."""
    unique: dict[tuple[str, str, str, str], Problem] = {}
    for p in problems:  # one place written once, copied into many (stages, fragments)
        unique.setdefault((p.code, p.file, p.pointer, repr(p.value)), p)
    ordered = sorted(unique.values(), key=lambda p: (p.file, p.pointer))
    groups: dict[tuple[str, str, str], list[Problem]] = {}
    for p in ordered:
        if p.code.startswith("ref.") and isinstance(p.value, str):
            groups.setdefault((p.code, p.file, p.value), []).append(p)
    out: list[Problem] = []
    for p in ordered:
        group = groups.get((p.code, p.file, p.value)) if isinstance(p.value, str) else None
        if group is None or len(group) == 1:
            out.append(p)
        elif group[0] is p:
            more = len(group) - 1
            shown = ", ".join(q.pointer for q in group[1:4]) + (", …" if more > 3 else "")
            msg = f"{p.message}; referenced at {more} more place{'s' if more > 1 else ''}: {shown}"
            out.append(attrs.evolve(p, message=msg))
    return out


def _load(source: Any, base: BaseArg, chain: tuple[str, ...]) -> ProcessDefinition:
    if isinstance(source, ProcessDefinition):
        return source
    directory: str | None = None
    if isinstance(source, str | bytes | os.PathLike):
        try:
            path = os.fsdecode(source)
        except Exception as exc:
            raise _Failed(
                [Problem("file.unreadable", "", f"bad path: {exc}"[:200], "give a file path")]
            ) from None
        file = path
        doc = read_file(path)
        directory = os.path.dirname(os.path.abspath(path)) if "\0" not in path else None
    elif isinstance(source, Mapping):
        file = "<mapping>"
        doc = normalise(source, file)
    else:
        raise _Failed(
            [
                Problem(
                    "file.not-object",
                    "",
                    f"expected a path or a mapping, got {type(source).__name__}",
                    "pass a file path or a dict holding the definition",
                )
            ]
        )
    if not isinstance(doc, dict):
        kind = "an array" if isinstance(doc, list) else f"a {type(doc).__name__}"
        raise _Failed(
            [
                Problem(
                    "file.not-object",
                    "",
                    f"the document is {kind}, not a JSON object",
                    'a definition is a JSON object: {"format": 1, "id": …}',
                    file,
                )
            ]
        )
    extends: str | None = None
    resolved = doc
    place: _Place = _same
    early: list[Problem] = []
    written = doc
    fmt = 2 if doc.get("format") == 2 else 1
    if "extends" in doc:
        problems = _schema_problems(doc, file, fmt)
        if problems:
            raise _Failed(problems)
        base_def = _find_base(doc, base, directory, file, chain)
        resolved, written, place, fmt, early = _resolve(doc, base_def, file)
        extends = base_def.key
    elif fmt == 2:
        resolved, place, early = _resolve_v2(doc, file, _located(file))
    problems = _schema_problems(resolved, file)
    if problems:
        raise _Failed(early + [place(p) for p in problems])
    checker = Checker(resolved, file)
    problems = [*checker.run(), *invariant_problems(resolved, file)]
    if problems or early:
        raise _Failed(early + [place(p) for p in problems])
    definition = Builder(checker).build(
        resolved, digest=canonical_hash(resolved), source=file, extends=extends
    )
    return attrs.evolve(definition, format=fmt, source_document=written)


_Place = Callable[[Problem], Problem]


def _same(problem: Problem) -> Problem:
    return problem


class _Text:
    """The text of a definition file, read once when a problem needs a line number."""

    def __init__(self, file: str) -> None:
        self.file = file
        self._text: str | None = None

    def line(self, pointer: str) -> int | None:
        if self.file.startswith("<"):
            return None
        if self._text is None:
            try:
                with open(self.file, encoding="utf-8") as handle:
                    self._text = handle.read(_strict_json.MAX_BYTES + 1)
            except (OSError, UnicodeError):
                self._text = ""
        return line_of(self._text, pointer) if self._text else None


def _located(file: str) -> _Text:
    return _Text(file)


def _resolve_v2(
    doc: dict[str, Any], file: str, text: _Text
) -> tuple[dict[str, Any], _Place, list[Problem]]:
    """A format-2 document (no extends) resolved; ``place`` moves a problem found in
    the result to where it was written; the problems found while resolving that still
    left a document to check."""
    resolution = _v2.resolve(doc, file)
    early = [attrs.evolve(p, line=text.line(p.pointer)) for p in resolution.problems]
    if resolution.document is None:
        raise _Failed(early)

    def place(problem: Problem) -> Problem:
        written = resolution.map(problem.pointer)
        return attrs.evolve(
            problem,
            pointer=written,
            line=text.line(written),
            resolved=problem.pointer if written != problem.pointer else None,
        )

    resolved: dict[str, Any] = normalise(resolution.document, file)
    return resolved, place, early


def _candidates(base: BaseArg) -> list[Any]:
    if base is None:
        return []
    if isinstance(base, ProcessDefinition):
        return [base]
    if isinstance(base, Mapping):
        if "states" in base or "extends" in base or "format" in base:
            return [base]
        return list(base.values())
    return []


def _find_base(
    doc: dict[str, Any],
    base: BaseArg,
    directory: str | None,
    file: str,
    chain: tuple[str, ...],
) -> ProcessDefinition:
    want_id, want_version = doc["extends"]["id"], doc["extends"]["version"]
    want = f"{want_id}@{want_version}"
    if len(chain) >= _MAX_EXTENDS:
        raise _Failed([_not_found(file, want, f"more than {_MAX_EXTENDS} levels of extends")])
    found: ProcessDefinition | None = None
    for candidate in _candidates(base):
        if isinstance(candidate, ProcessDefinition):
            if candidate.key == want:
                found = candidate
                break
        elif (
            isinstance(candidate, Mapping)
            and candidate.get("id") == want_id
            and candidate.get("version") == want_version
        ):
            found = _load(candidate, base, (*chain, want))
            break
    if found is None and directory is not None:
        path = os.path.join(directory, f"{want_id}.json")
        real = os.path.realpath(path)
        if real in chain or os.path.realpath(file) == real:
            raise _Failed([_not_found(file, want, f"{path} extends itself")])
        if os.path.isfile(path):
            loaded = _load(path, base, (*chain, os.path.realpath(file)))
            if loaded.key != want:
                raise _Failed([_not_found(file, want, f"{path} holds {loaded.key}, not {want}")])
            found = loaded
    if found is None:
        where = f" (looked for {want_id}.json in {directory})" if directory else ""
        raise _Failed([_not_found(file, want, f"no base definition {want}{where}")])
    pinned = doc["extends"].get("hash")
    if pinned is not None and pinned != found.hash:
        raise _Failed(
            [
                Problem(
                    "variant.hash-mismatch",
                    "/extends/hash",
                    f"the base {want} has hash {found.hash}, not the pinned one",
                    "review the changes to the base, then update extends.hash",
                    file,
                    pinned,
                )
            ]
        )
    return found


def _not_found(file: str, want: str, detail: str) -> Problem:
    return Problem(
        "variant.base-not-found",
        "/extends",
        f"cannot find the base definition {want}: {detail}",
        "put the base next to the variant as <id>.json, or pass base=",
        file,
        want,
    )


def _resolve(
    doc: dict[str, Any], base: ProcessDefinition, file: str
) -> tuple[dict[str, Any], dict[str, Any], _Place, int, list[Problem]]:
    """A variant applied to its base: (resolved document, the document as written after
    the variant, where problems go, format).

    A format-1 variant patches the base's resolved document (format 1); a format-2
    variant patches the base as written (stages, ``$defs``, ``parameters``) and sets
    parameters, and the result is resolved like any format-2 document. Each part the
    variant writes is recorded, so a problem in it points into the variant file."""
    v2 = doc.get("format") == 2
    written_base = base.source_document if v2 and base.source_document else base.document
    resolved: Any = copy.deepcopy(dict(written_base))
    overlay = Origins()
    for key in ("id", "version", "labels", "description"):
        if key in doc:
            resolved[key] = copy.deepcopy(doc[key])
            overlay.add(f"/{key}", f"/{key}")
    if v2:
        _set_parameters(resolved, doc, file, overlay)
    if "patch" in doc:
        _record_patch(doc["patch"], resolved, "", overlay)
        resolved = _patch.merge_patch(resolved, doc["patch"])
    room = MAX_NODES - count_nodes(resolved)
    for i, op in enumerate(doc.get("jsonPatch", [])):
        if op["op"] == "copy" and isinstance(op.get("from"), str):  # may double the document
            with contextlib.suppress(_patch.PatchError):  # apply_op reports it
                room -= count_nodes(_patch.get(resolved, op["from"]), max(room, 0))
            if room < 0:
                raise _Failed([attrs.evolve(too_many(file), pointer=f"/jsonPatch/{i}")])
        if op["op"] in ("add", "replace", "copy", "move"):
            overlay.add(op["path"], f"/jsonPatch/{i}/value" if "value" in op else f"/jsonPatch/{i}")
        try:
            resolved = _patch.apply_op(resolved, op)
        except _patch.PatchError as exc:
            raise _Failed(
                [
                    Problem(
                        exc.code,
                        f"/jsonPatch/{i}",
                        exc.message,
                        _patch_hint(resolved, op)
                        + (
                            "fix the operation, or check that the base is the one you meant"
                            if exc.code == "variant.patch-failed"
                            else "the base is not what this variant expects; review the base"
                        ),
                        file,
                        op.get("path"),
                    )
                ]
            ) from None
    if not isinstance(resolved, dict):
        raise _Failed(
            [
                Problem(
                    "variant.patch-failed",
                    "/jsonPatch",
                    "the patches replace the whole document with a non-object",
                    "patch parts of the document, not its root",
                    file,
                )
            ]
        )
    resolved["id"], resolved["version"] = doc["id"], doc["version"]
    variant_text = _located(file)
    base_text = _located(base.source)

    def place_in(problem: Problem, written: str, resolved_at: str | None) -> Problem:
        mine = overlay.find(written)
        if mine is not None:
            return attrs.evolve(
                problem, pointer=mine, line=variant_text.line(mine), resolved=resolved_at
            )
        return attrs.evolve(
            problem,
            file=base.source,
            pointer=written,
            line=base_text.line(written),
            resolved=resolved_at,
            message=f"{problem.message} (in the base, as changed by {file})",
        )

    if not v2 or resolved.get("format") != 2:
        if v2:
            resolved["format"] = 1
        result: dict[str, Any] = normalise(resolved, file)

        def place_v1(problem: Problem) -> Problem:
            mine = overlay.find(problem.pointer)
            if mine is None:
                return problem
            return attrs.evolve(
                problem, pointer=mine, line=variant_text.line(mine), resolved=problem.pointer
            )

        return result, result, place_v1, 2 if v2 else 1, []
    written_doc: dict[str, Any] = normalise(resolved, file)
    if "$schema" in written_doc:
        written_doc["$schema"] = SCHEMA_ID_V2
    resolution = _v2.resolve(written_doc, file)
    early = [place_in(p, p.pointer, None) for p in resolution.problems]
    if resolution.document is None:
        raise _Failed(early)

    def place(problem: Problem) -> Problem:
        written = resolution.map(problem.pointer)
        return place_in(problem, written, problem.pointer)

    return normalise(resolution.document, file), written_doc, place, 2, early


def _set_parameters(
    resolved: dict[str, Any], doc: dict[str, Any], file: str, overlay: Origins
) -> None:
    declared = resolved.get("parameters", {})
    problems: list[Problem] = []
    for name, value in doc.get("parameters", {}).items():
        if not isinstance(declared, dict) or name not in declared:
            known = list(declared) if isinstance(declared, dict) else []
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            problems.append(
                Problem(
                    "param.unknown",
                    f"/parameters/{esc(name)}",
                    f"the base declares no parameter {name!r}",
                    hint
                    + (
                        "the base's parameters: " + ", ".join(known)
                        if known
                        else "the base has no parameters: use patch or jsonPatch"
                    ),
                    file,
                    name,
                )
            )
            continue
        declared[name] = {**declared[name], "default": copy.deepcopy(value)}
        overlay.add(f"/parameters/{esc(name)}/default", f"/parameters/{esc(name)}")
    if problems:
        text = _located(file)
        raise _Failed([attrs.evolve(p, line=text.line(p.pointer)) for p in problems])


def _patch_hint(doc: Any, op: Mapping[str, Any]) -> str:
    """A did-you-mean for the first member of the operation's path that does not exist."""
    for key in ("path", "from"):
        pointer = op.get(key)
        if not isinstance(pointer, str) or not pointer.startswith("/"):
            continue
        node, done = doc, ""
        for token in pointer[1:].split("/"):
            token = token.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict):
                if token not in node:
                    close = [k for k in node if k.lower() == token.lower()] or (
                        difflib.get_close_matches(token, list(node), n=1)
                    )
                    if close:
                        return f"did you mean {done}/{esc(close[0])}? "
                    return ""
                node = node[token]
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                return ""
            done += "/" + esc(token)
    return ""


def _record_patch(patch: Any, target: Any, pointer: str, overlay: Origins) -> None:
    """Record every member a merge patch writes (its own pointer under /patch): a value
    that replaces, or an object that is new; an object merged into one of the target is
    followed member by member."""
    for key, value in patch.items():
        p = f"{pointer}/{esc(key)}"
        if value is None:
            continue
        old = target.get(key) if isinstance(target, dict) else None
        if isinstance(value, dict) and isinstance(old, dict):
            _record_patch(value, old, p, overlay)
        else:
            overlay.add(p, f"/patch{p}")
