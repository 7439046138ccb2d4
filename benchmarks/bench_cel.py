"""CEL text expressions: what a guard costs to evaluate three ways, and what loading
(parsing and translating) costs.

Run: ``python benchmarks/bench_cel.py``. Prints a Markdown table; the figures in
docs/expressions.md come from this script. The other CEL runtimes (``cel-python``'s own
evaluator, ``common-expression-language``) are measured only when installed: paketflow
needs neither (it uses the ``cel-python`` parser and its own closures).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

from paketflow._cel import translate
from paketflow._expr import compile_expr

TEXT = (
    "size(data.tranches) == 2 && data.rab.total >= 10000000 "
    "&& data.terpakai * 100 / data.rab.total <= 100 && !('swasta' in event.tidak_hadir)"
)
DATA = {
    "data": {"tranches": [1, 2], "rab": {"total": 25_000_000}, "terpakai": 5_000_000},
    "event": {"tidak_hadir": ["masyarakat"]},
}


def per_call(fn: Callable[[], Any], n: int = 20000) -> float:
    """Microseconds per call of ``fn``, best of three runs."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, time.perf_counter() - start)
    return best / n * 1e6


def main() -> None:
    rows: list[tuple[str, float]] = []
    translate(TEXT, "/x")  # warm the parser (built once per process)
    rows.append(
        (
            "load: parse + translate + compile (paketflow)",
            per_call(lambda: compile_expr(translate(TEXT, "/x"), "/x"), 500),
        )
    )
    expr = compile_expr(translate(TEXT, "/x"), "/x")
    assert expr(DATA) is True
    rows.append(("evaluate: paketflow closures", per_call(lambda: expr(DATA))))
    with contextlib.suppress(ImportError):
        import celpy

        env = celpy.Environment()
        prog = env.program(env.compile(TEXT))
        activation = {k: celpy.json_to_cel(v) for k, v in DATA.items()}
        rows.append(
            ("evaluate: cel-python evaluator", per_call(lambda: prog.evaluate(activation), 2000))
        )
    with contextlib.suppress(ImportError):
        import cel

        program = cel.compile(TEXT)
        ctx = cel.Context(variables=DATA)
        program.execute(ctx)
        rows.append(
            ("evaluate: common-expression-language", per_call(lambda: program.execute(ctx), 5000))
        )
    print("| what | µs per call |\n|---|---:|")
    for name, us in rows:
        print(f"| {name} | {us:.1f} |")


if __name__ == "__main__":
    main()
