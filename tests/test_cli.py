"""Tests of the paketflow command line (validate, schema, simulate wiring)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from paketflow import _cli as cli
from paketflow._cli import main

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "processes" / "invalid" / "base" / "mini.json"
BROKEN = ROOT / "processes" / "invalid" / "15-dangling-target.json"


def test_validate_valid_file_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    """A valid definition exits 0 and prints an ok line with its key and hash."""
    assert main(["validate", str(BASE)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{BASE}: ok (mini@1.0.0 sha256:")


def test_validate_invalid_file_exits_1_with_one_line_per_problem(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each problem is one line FILE:POINTER: CODE message (hint)."""
    assert main(["validate", str(BROKEN)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"{BROKEN}:/states/DIAJUKAN/on/setujui/target: ref.state undefined state "
        "'DISETUJUI' (or declare 'DISETUJUI' in /states)"
    ]


def test_validate_mixed_files(capsys: pytest.CaptureFixture[str]) -> None:
    """One bad file among good ones makes the exit status 1."""
    assert main(["validate", str(BASE), str(BROKEN)]) == 1
    out = capsys.readouterr().out
    assert "ok (mini@1.0.0" in out and "ref.state" in out


def test_validate_json_format(capsys: pytest.CaptureFixture[str]) -> None:
    """--format json prints a JSON list of problem dicts."""
    assert main(["validate", "--format", "json", str(BROKEN)]) == 1
    problems = json.loads(capsys.readouterr().out)
    assert problems == [
        {
            "file": str(BROKEN),
            "pointer": "/states/DIAJUKAN/on/setujui/target",
            "code": "ref.state",
            "message": "undefined state 'DISETUJUI'",
            "hint": "or declare 'DISETUJUI' in /states",
            "value": "DISETUJUI",
        }
    ]
    assert main(["validate", "--format", "json", str(BASE)]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_validate_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A missing file is a problem line, not a crash."""
    missing = tmp_path / "none.json"
    assert main(["validate", str(missing)]) == 1
    assert capsys.readouterr().out == f"{missing}:/: file.not-found no such file (check the path)\n"


@pytest.mark.parametrize(
    "argv",
    [[], ["validate"], ["bogus"], ["validate", "--format", "xml", "x.json"], ["simulate", "a"]],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """argparse usage errors exit with status 2."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "usage: paketflow" in capsys.readouterr().err


def test_simulate_is_wired_to_the_runtime(monkeypatch: pytest.MonkeyPatch) -> None:
    """simulate calls paketflow._runtime.simulate.main and returns its exit status."""
    from paketflow._runtime import simulate

    calls: list[tuple[Any, ...]] = []

    def fake(definition: str, scenario: str, *, lang: str, fmt: str, out: Any, **_: Any) -> int:
        calls.append((definition, scenario, lang, fmt, out))
        return 3

    monkeypatch.setattr(simulate, "main", fake)
    assert main(["simulate", "d.json", "s.json", "--lang", "id", "--format", "json"]) == 3
    assert calls == [("d.json", "s.json", "id", "json", sys.stdout)]


def test_python_dash_m_validate() -> None:
    """`python -m paketflow validate` works as a subprocess."""
    done = subprocess.run(
        [sys.executable, "-m", "paketflow", "validate", str(BASE), str(BROKEN)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 1
    assert "ref.state" in done.stdout


def test_only_cli_module_is_public() -> None:
    """The CLI module declares main as its only public name."""
    assert cli.__all__ == ["main"]
