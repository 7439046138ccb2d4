"""Format 2 of the definition language, resolved into a format-1 document.

Format 2 adds, on top of format 1:

- **stages**: a state with child ``states`` groups them; its ``on`` transitions are
  inherited by every non-final state inside it unless the state defines the same event
  (or opts out with ``"event": null``), and its ``deadlines`` are armed when the stage is
  entered and stay armed in all of its states. A transition (or ``initial``) naming a
  stage enters its ``initial`` state (default: its first child). Stages nest.
- **fragments**: ``$defs`` holds named parts; ``{"$use": NAME}`` anywhere is replaced by
  the fragment (keys written next to ``$use`` replace the fragment's keys; ``null``
  removes one; in a list a list fragment is spliced in), ``defs.NAME`` in CEL text by a
  named expression.
- **parameters**: a typed ``parameters`` block with defaults; ``{"$param": NAME}``
  anywhere is replaced by the value, ``params.NAME`` in CEL text too, and
  ``{params.NAME}`` in message templates by its text. A variant sets a parameter in one
  line.
- **CEL text** in every expression slot: a string there is CEL (docs/expressions.md).

The result is an ordinary format-1 document (stages flattened, fragments, parameters
and CEL expanded) that the format-1 schema, the semantic checks and the builder take
as they are, so both formats run on one model. Every copy is recorded in an
:class:`~paketflow._definition._sourcemap.Origins` map so that a problem found in the
result is reported where the author wrote it.
"""

from __future__ import annotations

import copy
import difflib
import re
from collections.abc import Callable, Mapping
from typing import Any

from paketflow._calendar import parse_duration
from paketflow._cel import expand as expand_cel
from paketflow._cel import quote
from paketflow._definition._schema_errors import SCHEMA_ID, validate
from paketflow._definition._sourcemap import Origins
from paketflow._definition._strict_json import count_nodes, esc
from paketflow._errors import Problem, problem_value
from paketflow._expr import ExprSyntaxError

__all__ = ["MAX_NODES", "Resolution", "resolve"]

MAX_NODES = 200_000
"""The most JSON nodes fragment expansion may produce (bounds ``$use`` blow-up)."""

_EXPR_KEYS = frozenset(
    {
        "if",
        "when",
        "missing",
        "expected",
        "only",
        "present",
        "members",
        "value",
        "date",
        "params",
        "cel",
    }
)
_PARAM_TEXT = re.compile(r"\{params\.([A-Za-z][A-Za-z0-9_-]*)\}")
_TYPES = {
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "boolean": "true or false",
    "duration": "an ISO 8601 duration such as 'P30D'",
    "date": "a date YYYY-MM-DD",
    "role": "a role id",
    "list": "a list",
    "object": "an object",
}
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


class Resolution:
    """The outcome of :func:`resolve`: the format-1 ``document`` (``None`` when there
    were problems), the ``problems`` (pointers already in the source), ``map`` from a
    resolved pointer to the source pointer, and the ``stages`` (id → labels, parent,
    states inside, in order)."""

    def __init__(self) -> None:
        self.document: dict[str, Any] | None = None
        self.problems: list[Problem] = []
        self.expanded = Origins()
        self.flattened = Origins()
        self.stages: dict[str, dict[str, Any]] = {}

    def map(self, pointer: str) -> str:
        """The source pointer of a pointer into the resolved document."""
        return self.expanded.map(self.flattened.map(pointer))


def resolve(doc: Mapping[str, Any], file: str) -> Resolution:
    """Resolve a format-2 document (not a variant) into a format-1 document."""
    return _Resolver(doc, file).run()


def _close(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1) or [
        k for k in known if k.lower() == name.lower()
    ]
    return f"did you mean {close[0]!r}? " if close else ""


class _Resolver:
    def __init__(self, doc: Mapping[str, Any], file: str) -> None:
        self.doc = doc
        self.file = file
        self.out = Resolution()
        self.params: dict[str, Any] = {}
        raw_defs = doc.get("$defs", {})
        self.defs: Mapping[str, Any] = raw_defs if isinstance(raw_defs, dict) else {}
        self.nodes = 0
        self.def_exprs: dict[str, Any] = {}
        self.failed: list[str] = []  # pointers of the expanded document left null

    def add(self, code: str, pointer: str, message: str, hint: str, value: Any = None) -> None:
        self.out.problems.append(Problem(code, pointer, message, hint, self.file, value))

    # -- parameters ------------------------------------------------------------------

    def parameters(self) -> None:
        specs = self.doc.get("parameters", {})
        if not isinstance(specs, dict):
            return  # the schema reports it
        roles = self.doc.get("roles", {})
        for name, spec in specs.items():
            if not isinstance(spec, dict) or "default" not in spec:
                continue  # the schema reports it
            p = f"/parameters/{esc(name)}"
            value = spec["default"]
            if self.check_value(
                spec, value, f"{p}/default", roles if isinstance(roles, dict) else {}
            ):
                self.params[name] = value

    def check_value(
        self, spec: Mapping[str, Any], value: Any, pointer: str, roles: Mapping[str, Any]
    ) -> bool:
        kind = spec.get("type")
        if kind not in _TYPES:
            return False  # the schema reports it
        if kind == "list":
            if not isinstance(value, list):
                return self.bad_value(pointer, value, _TYPES["list"])
            item = spec.get("items")
            ok = (
                all(
                    self.check_scalar(item, v, spec, f"{pointer}/{i}", roles)
                    for i, v in enumerate(value)
                )
                if item in _TYPES
                else True
            )
            total = spec.get("sum")
            if (
                ok
                and isinstance(total, int | float)
                and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
                and sum(value) != total
            ):
                self.add(
                    "param.invalid",
                    pointer,
                    f"the items add up to {sum(value)}, not {total}",
                    f"make the parts add up to {total}",
                    value,
                )
                return False
            return ok
        return self.check_scalar(kind, value, spec, pointer, roles)

    def check_scalar(
        self, kind: str, value: Any, spec: Mapping[str, Any], pointer: str, roles: Mapping[str, Any]
    ) -> bool:
        number = isinstance(value, int | float) and not isinstance(value, bool)
        ok = {
            "integer": isinstance(value, int) and not isinstance(value, bool),
            "number": number,
            "string": isinstance(value, str),
            "boolean": isinstance(value, bool),
            "duration": isinstance(value, str),
            "date": isinstance(value, str) and bool(_DATE.match(value)),
            "role": isinstance(value, str),
            "object": isinstance(value, dict),
            "list": isinstance(value, list),
        }[kind]
        if not ok:
            return self.bad_value(pointer, value, _TYPES[kind])
        if kind == "duration":
            try:
                parse_duration(value)
            except ValueError:
                return self.bad_value(pointer, value, _TYPES[kind])
        if kind == "role" and value not in roles:
            self.add(
                "param.invalid",
                pointer,
                f"{value!r} is not a declared role",
                f"{_close(value, list(roles))}declare it in /roles or name another role",
                value,
            )
            return False
        if "enum" in spec and value not in spec["enum"]:
            return self.bad_value(pointer, value, f"one of {spec['enum']}")
        if number:
            low, high = spec.get("minimum"), spec.get("maximum")
            if isinstance(low, int | float) and value < low:
                return self.bad_value(pointer, value, f"at least {low}")
            if isinstance(high, int | float) and value > high:
                return self.bad_value(pointer, value, f"at most {high}")
        return True

    def bad_value(self, pointer: str, value: Any, want: str) -> bool:
        self.add(
            "param.invalid",
            pointer,
            f"{problem_value(value)} is not {want}",
            f"give {want}",
            value if isinstance(value, str | int | float | bool) else None,
        )
        return False

    # -- fragments and parameters ----------------------------------------------------

    def expand(self, node: Any, out: str, src: str, ctx: str, stack: tuple[str, ...]) -> Any:
        """``node`` with ``$use`` and ``$param`` replaced. ``ctx`` is ``"expr"`` inside an
        expression slot, ``"schema"`` inside a JSON Schema, else ``""``."""
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _TooLarge
        if out != src:
            self.out.expanded.add(out, src)
        if isinstance(node, dict):
            if "$use" in node:
                return self.use(node, out, src, ctx, stack)
            if "$param" in node and len(node) == 1:
                return self.param(node["$param"], out, src, ctx)
            result: dict[str, Any] = {}
            for key, value in node.items():
                sub = ctx
                if key == "data" and ctx != "expr":
                    sub = "schema"
                elif key in _EXPR_KEYS and ctx == "":
                    sub = "expr"
                result[key] = self.expand(
                    value, f"{out}/{esc(key)}", f"{src}/{esc(key)}", sub, stack
                )
            return result
        if isinstance(node, list):
            items: list[Any] = []
            for i, item in enumerate(node):
                name = item.get("$use") if isinstance(item, dict) and len(item) == 1 else None
                if (
                    ctx != "expr"
                    and isinstance(name, str)
                    and isinstance(self.defs.get(name), list)
                    and name not in stack
                ):
                    for j, sub_item in enumerate(self.defs[name]):
                        items.append(
                            self.expand(
                                sub_item,
                                f"{out}/{len(items)}",
                                f"/$defs/{esc(name)}/{j}",
                                ctx,
                                (*stack, name),
                            )
                        )
                    continue
                items.append(self.expand(item, f"{out}/{len(items)}", f"{src}/{i}", ctx, stack))
            return items
        return node

    def use(
        self, node: dict[str, Any], out: str, src: str, ctx: str, stack: tuple[str, ...]
    ) -> Any:
        name = node["$use"]
        if not isinstance(name, str) or name not in self.defs:
            shown = name if isinstance(name, str) else problem_value(name)
            self.add(
                "ref.fragment",
                f"{src}/$use",
                f"undefined fragment {shown!r}",
                f"{_close(str(name), list(self.defs))}or declare it in /$defs",
                name if isinstance(name, str) else None,
            )
            self.failed.append(out)
            return None
        if name in stack:
            self.add(
                "fragment.cycle",
                f"{src}/$use",
                f"fragment {name!r} uses itself ({' → '.join((*stack, name))})",
                "break the cycle: a fragment cannot contain itself",
                name,
            )
            self.failed.append(out)
            return None
        overrides = {k: v for k, v in node.items() if k != "$use"}
        fragment = self.defs[name]
        if overrides and isinstance(fragment, dict):  # what is replaced is not expanded
            fragment = {k: v for k, v in fragment.items() if k not in overrides}
        value = self.expand(fragment, out, f"/$defs/{esc(name)}", ctx, (*stack, name))
        if not overrides:
            return value
        if not isinstance(value, dict):
            self.add(
                "fragment.override",
                src,
                f"fragment {name!r} is not an object, so no keys can be written next to $use",
                'write {"$use": NAME} alone',
                name,
            )
            return value
        for key, sub in overrides.items():
            if sub is None:
                value.pop(key, None)
            else:
                value[key] = self.expand(sub, f"{out}/{esc(key)}", f"{src}/{esc(key)}", ctx, stack)
                self.out.expanded.add(f"{out}/{esc(key)}", f"{src}/{esc(key)}")
        return value

    def param(self, name: Any, out: str, src: str, ctx: str) -> Any:
        if not isinstance(name, str) or name not in self.params:
            declared = self.doc.get("parameters", {})
            self.failed.append(out)
            if isinstance(name, str) and isinstance(declared, dict) and name in declared:
                return None  # declared but invalid: already reported
            self.add(
                "param.unknown",
                f"{src}/$param",
                f"undefined parameter {name!r}",
                f"{_close(str(name), list(self.params))}or declare it in /parameters",
                name if isinstance(name, str) else None,
            )
            return None
        self.out.expanded.add(out, f"/parameters/{esc(name)}/default")
        value = copy.deepcopy(self.params[name])
        return quote(value) if ctx == "expr" else value

    # -- stages ----------------------------------------------------------------------

    def flatten(self, doc: dict[str, Any]) -> dict[str, Any] | None:
        leaves: dict[str, tuple[dict[str, Any], str, tuple[str, ...]]] = {}
        stages = self.out.stages

        def walk(states: Mapping[str, Any], prefix: str, ancestors: tuple[str, ...]) -> None:
            for sid, node in states.items():
                p = f"{prefix}/{esc(sid)}"
                if sid in leaves or sid in stages:
                    self.add(
                        "state.duplicate",
                        p,
                        f"the id {sid!r} is used twice (ids are unique across stages)",
                        "rename one of them",
                        sid,
                    )
                    continue
                if "states" in node:
                    stages[sid] = {
                        "labels": node["labels"],
                        "parent": ancestors[-1] if ancestors else None,
                        "pointer": p,
                        "node": node,
                        "children": list(node["states"]),
                        "states": [],
                    }
                    walk(node["states"], f"{p}/states", (*ancestors, sid))
                else:
                    leaves[sid] = (node, p, ancestors)
                    for anc in ancestors:
                        stages[anc]["states"].append(sid)

        walk(doc["states"], "/states", ())
        for sid, stage in stages.items():
            first = stage["children"][0]
            want = stage["node"].get("initial", first)
            if want not in stage["children"]:
                self.add(
                    "ref.state",
                    f"{stage['pointer']}/initial",
                    f"{want!r} is not a state of stage {sid!r}",
                    f"{_close(want, stage['children'])}name one of: "
                    + ", ".join(stage["children"]),
                    want,
                )
                want = first
            stage["initial"] = want

        def enter(name: str) -> str:
            seen: set[str] = set()
            while name in stages and name not in seen:
                seen.add(name)
                name = stages[name]["initial"]
            return name

        states: dict[str, Any] = {}
        flat = self.out.flattened
        for sid, (node, p, ancestors) in leaves.items():
            out_p = f"/states/{esc(sid)}"
            flat.add(out_p, p)
            state = {k: v for k, v in node.items() if k != "on"}
            own = node.get("on", {})
            on: dict[str, Any] = {k: v for k, v in own.items() if v is not None}
            opted = {k for k, v in own.items() if v is None}
            inherited: set[str] = set()
            for anc in reversed(ancestors):
                for ev, trans in stages[anc]["node"].get("on", {}).items():
                    inherited.add(ev)
                    if node.get("final") or ev in on or ev in opted:
                        continue
                    on[ev] = copy.deepcopy(trans)
                    flat.add(f"{out_p}/on/{esc(ev)}", f"{stages[anc]['pointer']}/on/{esc(ev)}")
            for ev in sorted(opted - inherited):
                self.add(
                    "inherit.nothing",
                    f"{p}/on/{esc(ev)}",
                    f"{ev!r} is set to null but no stage around {sid!r} defines it",
                    f"{_close(ev, sorted(inherited))}remove the null",
                    ev,
                )
            if on:
                state["on"] = on
            states[sid] = state

        def retarget(node: dict[str, Any]) -> None:
            if isinstance(node.get("target"), str):
                node["target"] = enter(node["target"])

        for state in states.values():
            for trans in state.get("on", {}).values():
                retarget(trans)
                for alt in trans.get("alternatives", []):
                    retarget(alt)
            for dl in state.get("deadlines", {}).values():
                if "timeout" in dl:
                    retarget(dl["timeout"])
                if "scope" in dl:
                    dl["scope"] = self.scope(dl["scope"], stages)
        initial = enter(doc["initial"])
        self.stage_deadlines(states, stages, initial, enter)
        result = {k: v for k, v in doc.items() if k not in ("parameters", "$defs", "states")}
        result["initial"] = initial
        result["states"] = states
        return result

    @staticmethod
    def scope(names: list[Any], stages: Mapping[str, Any]) -> list[Any]:
        out: list[Any] = []
        for name in names:
            for s in stages[name]["states"] if name in stages else [name]:
                if s not in out:
                    out.append(s)
        return out

    def stage_deadlines(
        self,
        states: dict[str, Any],
        stages: Mapping[str, Any],
        initial: str,
        enter: Callable[[str], str],
    ) -> None:
        edges: dict[str, set[str]] = {s: set() for s in states}
        for sid, state in states.items():
            for trans in state.get("on", {}).values():
                targets = [trans.get("target")] + [
                    a.get("target") for a in trans.get("alternatives", [])
                ]
                edges[sid].update(t for t in targets if isinstance(t, str))
            for dl in state.get("deadlines", {}).values():
                target = dl.get("timeout", {}).get("target")
                if isinstance(target, str):
                    edges[sid].add(target)
        for sid, stage in stages.items():
            deadlines = stage["node"].get("deadlines", {})
            if not deadlines:
                continue
            inside = set(stage["states"])
            entries = [
                s
                for s in stage["states"]
                if s == initial or any(s in edges[o] for o in states if o not in inside)
            ] or [enter(sid)]
            for did, dl in deadlines.items():
                src = f"{stage['pointer']}/deadlines/{esc(did)}"
                scope = self.scope([*stage["states"], *dl.get("scope", [])], stages)
                for leaf in entries:
                    if states[leaf].get("final"):
                        continue
                    own = states[leaf].setdefault("deadlines", {})
                    if did in own:
                        self.add(
                            "deadline.duplicate",
                            src,
                            f"deadline {did!r} of stage {sid!r} is also declared in its "
                            f"state {leaf!r}",
                            "rename one of them, or remove the state's copy",
                            did,
                        )
                        continue
                    copied = copy.deepcopy(dl)
                    copied["scope"] = scope
                    if "timeout" in copied:
                        copied["timeout"]["target"] = enter(copied["timeout"]["target"])
                    own[did] = copied
                    self.out.flattened.add(f"/states/{esc(leaf)}/deadlines/{esc(did)}", src)

    # -- CEL ---------------------------------------------------------------------------

    def def_expr(self, name: str, pointer: str, stack: tuple[str, ...] = ()) -> Any:
        if name not in self.defs:
            raise ExprSyntaxError(
                "ref.fragment",
                pointer,
                f"undefined named expression defs.{name} "
                f"({_close(name, list(self.defs))}declare it in /$defs)",
                name,
            )
        if name in stack:
            raise ExprSyntaxError(
                "fragment.cycle", pointer, f"named expression {name!r} uses itself", name
            )
        if name not in self.def_exprs:
            node = self.expand(
                self.defs[name], f"/$defs/{esc(name)}", f"/$defs/{esc(name)}", "expr", ()
            )
            self.def_exprs[name] = expand_cel(
                node,
                f"/$defs/{esc(name)}",
                text_is_cel=True,
                params=self.params,
                defs=lambda n, p: self.def_expr(n, p, (*stack, name)),
            )
        # each use copies the expression: count the copies, so that named expressions
        # using each other twice cannot grow exponentially (limits.md)
        self.nodes += count_nodes(self.def_exprs[name], MAX_NODES)
        if self.nodes > MAX_NODES:
            raise ExprSyntaxError(
                "fragment.too-large",
                pointer,
                f"expanding named expressions produces more than {MAX_NODES} JSON values",
                name,
            )
        return copy.deepcopy(self.def_exprs[name])

    def cel(self, node: dict[str, Any], key: str, pointer: str) -> None:
        if key not in node:
            return
        p = f"{pointer}/{esc(key)}"
        try:
            node[key] = expand_cel(
                node[key], p, text_is_cel=True, params=self.params, defs=self.def_expr
            )
        except ExprSyntaxError as exc:
            self.add(
                exc.code,
                self.out.map(exc.pointer) if exc.pointer.startswith("/states") else exc.pointer,
                exc.message,
                "see docs/expressions.md",
                exc.value if isinstance(exc.value, str) and len(exc.value) <= 200 else None,
            )
            node[key] = None

    def params_of(self, node: dict[str, Any], pointer: str) -> None:
        for name in list(node.get("params", {})):
            self.cel(node["params"], name, f"{pointer}/params")

    def effects(self, items: list[dict[str, Any]], pointer: str) -> None:
        for i, eff in enumerate(items):
            self.cel(eff, "value", f"{pointer}/{i}")

    def notices(self, items: list[dict[str, Any]], pointer: str) -> None:
        for i, notice in enumerate(items):
            self.cel(notice, "when", f"{pointer}/{i}")
            self.params_of(notice, f"{pointer}/{i}")

    def expressions(self, states: Mapping[str, Any]) -> None:
        for sid, state in states.items():
            base = f"/states/{esc(sid)}"
            for slot_id, slot in state.get("signatures", {}).get("slots", {}).items():
                self.cel(slot, "expected", f"{base}/signatures/slots/{esc(slot_id)}")
                self.cel(slot, "only", f"{base}/signatures/slots/{esc(slot_id)}")
            for did, dl in state.get("deadlines", {}).items():
                p = f"{base}/deadlines/{esc(did)}"
                self.cel(dl["due"], "date", f"{p}/due")
                for tid, tier in dl.get("escalations", {}).items():
                    self.cel(tier, "when", f"{p}/escalations/{esc(tid)}")
                    self.params_of(tier, f"{p}/escalations/{esc(tid)}")
                if "timeout" in dl:
                    self.effects(dl["timeout"].get("effects", []), f"{p}/timeout/effects")
            for ev, t in state.get("on", {}).items():
                p = f"{base}/on/{esc(ev)}"
                for i, g in enumerate(t.get("guards", [])):
                    for key in ("if", "missing", "expected"):
                        self.cel(g, key, f"{p}/guards/{i}")
                    self.params_of(g, f"{p}/guards/{i}")
                for i, a in enumerate(t.get("alternatives", [])):
                    self.cel(a, "when", f"{p}/alternatives/{i}")
                    self.effects(a.get("effects", []), f"{p}/alternatives/{i}/effects")
                    self.notices(a.get("notices", []), f"{p}/alternatives/{i}/notices")
                self.effects(t.get("effects", []), f"{p}/effects")
                self.notices(t.get("notices", []), f"{p}/notices")
                if "attendance" in t:
                    self.cel(t["attendance"], "present", f"{p}/attendance")
                    self.cel(t["attendance"], "members", f"{p}/attendance")
                    self.cel(t["attendance"], "expected", f"{p}/attendance")

    def messages(self, doc: dict[str, Any]) -> None:
        for code, texts in doc.get("messages", {}).items():
            for lang in ("id", "en"):
                p = f"/messages/{esc(code)}/{lang}"

                def fill(m: re.Match[str], p: str = p) -> str:
                    name = m.group(1)
                    if name not in self.params:
                        self.add(
                            "param.unknown",
                            p,
                            f"undefined parameter {name!r} in the message text",
                            f"{_close(name, list(self.params))}or declare it in /parameters",
                            name,
                        )
                        return m.group(0)
                    return _text(self.params[name])

                texts[lang] = _PARAM_TEXT.sub(fill, texts[lang])

    # -- the whole document ---------------------------------------------------------

    def run(self) -> Resolution:
        doc = self.doc
        self.parameters()
        body = {k: v for k, v in doc.items() if k not in ("parameters", "$defs")}
        try:
            expanded = self.expand(body, "", "", "", ())
        except _TooLarge:
            self.add(
                "fragment.too-large",
                "/$defs",
                f"expanding $use produces more than {MAX_NODES} JSON values",
                "use fewer nested fragments",
            )
            return self.out
        for key in ("parameters", "$defs"):
            if key in doc:
                expanded[key] = doc[key]
        for problem in validate(expanded, self.file, 2):
            if not any(_under(problem.pointer, f) for f in self.failed):
                self.out.problems.append(_moved(problem, self.out.expanded.map(problem.pointer)))
        if self.out.problems:
            return self.out
        resolved = self.flatten(expanded)
        if resolved is None or self.out.problems:
            return self.out
        # Problems from here on (CEL text, message parameters) leave a usable document:
        # the expression becomes null, so the later checks still run and report too.
        self.expressions(resolved["states"])
        self.messages(resolved)
        resolved["format"] = 1
        if "$schema" in resolved:
            resolved["$schema"] = SCHEMA_ID
        self.out.document = resolved
        return self.out


class _TooLarge(Exception):
    pass


def _under(pointer: str, prefix: str) -> bool:
    return pointer == prefix or pointer.startswith(prefix + "/")


def _moved(problem: Problem, pointer: str) -> Problem:
    if pointer == problem.pointer:
        return problem
    return Problem(
        problem.code, pointer, problem.message, problem.hint, problem.file, problem.value
    )


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "/".join(_text(v) for v in value)
    return str(value)
