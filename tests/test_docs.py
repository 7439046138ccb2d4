"""The documentation stays true to the code: the API page names every public name and
every built-in refusal code, the logging page names every log event, and the Python
examples of the API page run."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Any

import pytest
import structlog

import paketflow
from paketflow._runtime.messages import BUILTIN

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SRC = ROOT / "src" / "paketflow"

_LOG_CALL = re.compile(r"\.(?:info|debug|warning|error)\(\s*\"([a-z_]+)\"")
# A call may choose its event name with a conditional expression:
# log.info("deadline_escalated" if ... else "deadline_timed_out", ...)
_LOG_ALT = re.compile(
    r"\.(?:info|debug|warning|error)\(\s*\"[a-z_]+\"\s+if\s[^\n]*?else\s+\"([a-z_]+)\""
)
_PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def _read(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def _log_events() -> set[str]:
    names: set[str] = set()
    for path in SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        names.update(_LOG_CALL.findall(text))
        names.update(_LOG_ALT.findall(text))
    return names


def test_api_page_names_every_public_name() -> None:
    """docs/api.md mentions every name in paketflow.__all__ (in backticks)."""
    page = _read("api.md")
    missing = [name for name in paketflow.__all__ if f"`{name}" not in page]
    assert not missing, f"docs/api.md does not document {missing}"


def test_api_page_lists_every_builtin_refusal_code() -> None:
    """Every built-in refusal code of the engine appears in docs/api.md with both its
    Indonesian and English templates."""
    page = _read("api.md")
    for code, (text_id, text_en) in BUILTIN.items():
        assert f"`{code}`" in page, code
        assert text_id in page, f"{code}: Indonesian text out of date"
        assert text_en in page, f"{code}: English text out of date"


def test_logging_page_names_every_log_event() -> None:
    """Every log event name paketflow emits (found by regex over src/paketflow) is
    documented in docs/logging.md."""
    events = _log_events()
    assert {"instance_started", "command_refused", "deadline_timed_out"} <= events
    page = _read("logging.md")
    missing = sorted(name for name in events if f"`{name}`" not in page)
    assert not missing, f"docs/logging.md does not document {missing}"


def test_api_page_examples_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ```python blocks of docs/api.md that contain no `...` run without error, in
    order, in one fresh namespace, with the repository root as working directory."""
    page = _read("api.md")
    blocks = [b for b in _PYTHON_BLOCK.findall(page) if "..." not in b]
    assert len(blocks) >= 5
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {"__name__": "__docs__"}
    with structlog.testing.capture_logs():
        for index, block in enumerate(blocks):
            code = compile(block, f"docs/api.md[block {index}]", "exec")
            exec(code, namespace)  # the documentation's own examples


def test_every_docs_page_exists() -> None:
    """The pages the index promises exist and are not empty."""
    for name in (
        "index",
        "concepts",
        "api",
        "cli",
        "scenarios",
        "logging",
        "glossary",
        "expressions",
        "tutorial",
        "reference",
    ):
        path = DOCS / f"{name}.md"
        assert path.is_file() and path.stat().st_size > 500, path


def test_readme_example_runs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The Python example in README.md (at most 20 lines) runs as written in a fresh
    directory beside processes/ and prints what it promises."""
    (block,) = _PYTHON_BLOCK.findall((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(block.strip().splitlines()) <= 20
    (tmp_path / "processes").symlink_to(ROOT / "processes")
    monkeypatch.chdir(tmp_path)
    with structlog.testing.capture_logs():
        exec(compile(block, "README.md", "exec"), {"__name__": "__readme__"})
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("403 Peran Ketua PAKEM tidak berwenang melakukan “Menjadwalkan")
    assert out[1:] == ["SOSIALISASI True"]
    assert (tmp_path / "paket.db").exists()


def test_tutorial_examples_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The ```python blocks of docs/tutorial.md run in order in a fresh directory with
    a copy of processes/, and print what their comments promise."""
    import shutil

    blocks = _PYTHON_BLOCK.findall(_read("tutorial.md"))
    assert len(blocks) >= 10
    shutil.copytree(ROOT / "processes", tmp_path / "processes")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__tutorial__"}
    with structlog.testing.capture_logs():
        for index, block in enumerate(blocks):
            exec(compile(block, f"docs/tutorial.md[block {index}]", "exec"), namespace)
    out = capsys.readouterr().out.splitlines()
    promised = [
        "paket-tahap-tunggal@1.0.0 Asia/Pontianak",
        "2012-02-13T08:00:00+07:00",
        "SOSIALISASI",
        "403 ['ERR_PERAN_TIDAK_BERWENANG']",
        "SOSIALISASI () lurah",
        "[]",
        "paket-kota-cepat@1.0.0 paket@1.0.0",
        "P21D",
        "variant.test-failed",
    ]
    assert [line for line in out if line in promised] == promised
    assert any(line.startswith("Compliance report — PAKET — single tranche") for line in out)


class _Recorder:
    """A logger that records each event name with the exact set of its keys."""

    def __init__(self) -> None:
        self.events: list[tuple[str, frozenset[str]]] = []

    def info(self, event: str, **keys: Any) -> None:
        self.events.append((event, frozenset(keys)))


def _logging_table() -> dict[str, frozenset[str]]:
    rows = {}
    section = _read("logging.md").split("## Events", 1)[1].split("\n## ", 1)[0]
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`") and cells[0] != "event":
            rows[cells[0].strip("`")] = frozenset(re.findall(r"`([a-z_]+)`", cells[2]))
    return rows


def test_logging_page_lists_every_event_with_its_exact_keys(mini_doc: dict[str, Any]) -> None:
    """docs/logging.md lists every log event the engine emits with exactly the keys it
    carries: the engine is driven through every kind of outcome and each emitted event
    is compared with the table (both ways)."""
    from conftest import at

    rec = _Recorder()
    clock = paketflow.ManualClock(at("2012-03-01"))
    engine = paketflow.Engine([paketflow.load_definition(mini_doc)], clock=clock, logger=rec)
    head = paketflow.Actor("hadi", "HEAD")
    a = paketflow.Actor("ani", "MEMBER", "a")
    b = paketflow.Actor("budi", "MEMBER", "b")
    checkers = [paketflow.Actor(f"c{i}", "CHECKER") for i in range(2)]
    payer = paketflow.Actor("putu", "PAYER")
    engine.start(definition="mini", instance_id="i1", data={"required": 100}, actor=head)
    with contextlib.suppress(paketflow.Refused):
        engine.fire("i1", "submit", actor=head)
    engine.tick(at("2012-03-12"))  # the late tier
    for signer in (a, b, head):
        engine.sign("i1", actor=signer)
    engine.fire("i1", "submit", actor=head)
    engine.tick(at("2012-03-31"))  # TM-CHECK times out back to DRAFT
    for signer in (a, b, head):
        engine.sign("i1", actor=signer, at=at("2012-04-02"))
    engine.fire("i1", "submit", actor=head, at=at("2012-04-02"))
    for c in checkers:
        engine.sign("i1", actor=c, at=at("2012-04-02"))
    engine.fire("i1", "check", actor=checkers[0], data={"ok": True}, at=at("2012-04-02"))
    engine.fire("i1", "receive", actor=payer, data={"amount": 50}, at=at("2012-04-03"))
    engine.fire("i1", "ack", actor=payer, at=at("2012-04-03"))
    table = _logging_table()
    emitted: dict[str, set[frozenset[str]]] = {}
    for event, keys in rec.events:
        emitted.setdefault(event, set()).add(keys)
    assert set(emitted) == set(table)
    for event, key_sets in emitted.items():
        assert key_sets == {table[event]}, event


def test_api_page_table_is_exactly_the_public_surface() -> None:
    """The table at the top of docs/api.md names exactly ``paketflow.__all__``: nothing
    public is undocumented and nothing documented is missing from ``__all__``."""
    table = _read("api.md").split("\n\n| name |", 1)[1].split("\n\n", 1)[0]
    documented: set[str] = set()
    for line in table.splitlines()[2:]:
        first = line.strip().strip("|").split("|")[0]
        documented.update(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", first))
    assert documented == set(paketflow.__all__)


_LIMIT_ROW = re.compile(
    r"^\| [^|]+ \| ([\d,]+) \| `(paketflow\.[\w.]+)\.(\w+)` \| ([^|]+) \|$", re.M
)


def _limit_rows() -> list[tuple[int, str, str, str]]:
    return [
        (int(value.replace(",", "")), module, name, outcome.strip())
        for value, module, name, outcome in _LIMIT_ROW.findall(_read("limits.md"))
    ]


def test_limits_page_gives_the_values_in_code() -> None:
    """Every row of docs/limits.md gives the value of the constant it names."""
    import importlib

    rows = _limit_rows()
    assert len(rows) >= 15
    for value, module, name, _ in rows:
        assert getattr(importlib.import_module(module), name) == value, (module, name)


def test_limits_page_lists_every_limit() -> None:
    """Every limit constant defined by the modules that enforce limits has a row."""
    import importlib
    import inspect

    named = {(module, name) for _, module, name, _ in _limit_rows()}
    defined = re.compile(r"^(_?MAX_\w+|TEXT_PER_OPERATION|DAY_OPERATIONS|_LISTED) = ", re.M)
    for module in (
        "paketflow._expr",
        "paketflow._definition._strict_json",
        "paketflow._definition._semantic",
        "paketflow._definition.loader",
        "paketflow._definition._v2",
        "paketflow._definition._payload",
        "paketflow._json",
        "paketflow._runtime._boundary",
    ):
        for name in defined.findall(inspect.getsource(importlib.import_module(module))):
            assert (module, name) in named, f"docs/limits.md lacks {module}.{name}"


def test_limits_page_codes_exist() -> None:
    """Each refusal code of docs/limits.md is a built-in code; each load problem code
    is documented in docs/errors.md."""
    page = _read("limits.md")
    errors = _read("errors.md")
    codes = set(re.findall(r"`((?:json|data|expr|variant|deadline|fragment)\.[a-z-]+)`", page))
    assert {"json.too-many-nodes", "data.remote-ref", "data.pattern"} <= codes
    for code in codes:
        assert f"## {code}" in errors, code
    for code in re.findall(r"`(ERR_[A-Z_]+)`", page):
        assert code in BUILTIN, code


def test_testing_page_examples_run_and_name_every_builtin_invariant() -> None:
    """docs/testing.md: its Python blocks run in order (from the repository root),
    it lists every built-in invariant and every public name of paketflow.testing."""
    import os

    import paketflow.testing as testing

    page = _read("testing.md")
    for vid in testing.BUILTIN_INVARIANTS:
        assert f"`{vid}`" in page, vid
    for name in testing.__all__:
        assert name in page, name
    namespace: dict[str, object] = {}
    here = os.getcwd()
    os.chdir(ROOT)
    try:
        for block in _PYTHON_BLOCK.findall(page):
            exec(compile(block, "docs/testing.md", "exec"), namespace)
    finally:
        os.chdir(here)


def test_tick_claim_batch_is_documented() -> None:
    """docs/api.md (tick) and docs/storage.md (timers) give the batch size tick claims
    with on stores that offer claim_due."""
    from paketflow._runtime.engine import _CLAIM_BATCH

    assert f"in batches of {_CLAIM_BATCH}," in _read("api.md")
    assert f"claims due instances {_CLAIM_BATCH} at a" in _read("storage.md")
