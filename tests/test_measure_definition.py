"""scripts/measure_definition.py measures a definition's size and repetition, and the
shipped PAKET definition keeps the issue-9 shape: format 2, repeated blocks at most 5%
of its bytes, cancellation and suspension written once (on stages), the knobs as
parameters, and small variants."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import paketflow

ROOT = Path(__file__).resolve().parent.parent
PROCESSES = ROOT / "processes"
PAKET = PROCESSES / "paket.json"

# The issue-9 size target is 60 000 bytes; the format-2 rewrite reached 84 050 bytes
# with the resolved document unchanged (same hash). This ceiling keeps that step from
# sliding back until the remaining cut lands (then it becomes MAX_BYTES).
SIZE_CEILING = 85_000


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "measure_definition", ROOT / "scripts" / "measure_definition.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write(tmp_path: Path, doc: Any) -> Path:
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_measure_counts_every_copy_of_a_repeated_block(tmp_path: Path) -> None:
    """A block of at least MIN_BLOCK compact bytes that occurs twice counts with both
    copies; a block inside it is not counted again; unique blocks do not count."""
    m = _script()
    block = {"roles": ["WALIKOTA"], "target": "DIBATALKAN", "note": "x" * m.MIN_BLOCK}
    doc = {"a": {"on": block}, "b": {"on": block}, "c": {"unique": "y" * 80}}
    result = m.measure(_write(tmp_path, doc))
    size = len(json.dumps(block, separators=(",", ":")))
    # {"on": block} is itself repeated and larger: it is what is counted
    outer = len(json.dumps({"on": block}, separators=(",", ":")))
    assert size < outer
    assert result["repeated"] == 2 * outer
    assert result["compact"] == len(json.dumps(doc, separators=(",", ":"), sort_keys=True))
    assert result["ratio"] == pytest.approx(2 * outer / result["compact"])


def test_measure_ignores_small_repeats(tmp_path: Path) -> None:
    """Blocks shorter than MIN_BLOCK (a label pair, a role list) are not repetition."""
    m = _script()
    doc = {"a": {"roles": ["X"]}, "b": {"roles": ["X"]}}
    assert m.measure(_write(tmp_path, doc))["repeated"] == 0


def test_main_prints_figures_and_checks_targets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--check`` exits 1 when a file misses a target and prints the figures."""
    m = _script()
    block = {"k": "v" * 100}
    path = _write(tmp_path, {"a": block, "b": block})
    assert m.main([str(path)]) == 0
    assert m.main(["--check", str(path)]) == 1
    r = m.measure(path)
    line = f"{r['repeated']} of {r['compact']} compact bytes in repeated blocks ({r['ratio']:.1%})"
    assert r["repeated"] == 2 * len(json.dumps(block, separators=(",", ":")))
    assert capsys.readouterr().out.count(line) == 2


def test_paket_repetition_within_target() -> None:
    """At most 5% of processes/paket.json's bytes sit in repeated blocks (issue 9)."""
    m = _script()
    assert m.measure(PAKET)["ratio"] <= m.MAX_REPEATED


def test_paket_size_within_ceiling() -> None:
    """processes/paket.json stays within its size ceiling (see SIZE_CEILING)."""
    assert PAKET.stat().st_size <= SIZE_CEILING


def test_paket_is_format_2_with_stages_and_parameters() -> None:
    """paket.json is format 2: ``batalkan`` and ``tangguhkan`` are written once, on
    stages, and the tranche split and head of region are parameters."""
    doc = json.loads(PAKET.read_text(encoding="utf-8"))
    assert doc["format"] == 2
    written: list[str] = []

    def walk(states: dict[str, Any], prefix: str) -> None:
        for sid, state in states.items():
            written.extend(f"{prefix}{sid}/{ev}" for ev in state.get("on", {}))
            walk(state.get("states", {}), f"{prefix}{sid}/")

    walk(doc["states"], "")
    assert [w for w in written if w.endswith(("/batalkan", "/tangguhkan"))] == [
        "PROSES/batalkan",
        "PROSES/PENDANAAN/tangguhkan",
    ]
    assert "batalkan" not in json.dumps(doc["$defs"])
    proses = doc["states"]["PROSES"]
    assert "batalkan" in proses["on"]
    assert "tangguhkan" in proses["states"]["PENDANAAN"]["on"]
    assert set(doc["parameters"]) >= {"pembagian_tahap", "kepala_daerah"}
    resolved = paketflow.load_definition(PAKET).document
    cancellable = [s for s, v in resolved["states"].items() if "batalkan" in v.get("on", {})]
    assert len(cancellable) == 19


@pytest.mark.parametrize("name", ["paket-kabupaten.json", "paket-empat-tahap.json"])
def test_variants_are_small_and_load(name: str) -> None:
    """The kabupaten and four-tranche variants are at most 2 KB and load on the base."""
    path = PROCESSES / name
    assert path.stat().st_size <= 2048
    paketflow.load_definition(path)


def test_four_tranche_variant_sets_the_split_everywhere() -> None:
    """One parameter line changes the split in the guard and its message parameters."""
    doc = paketflow.load_definition(PROCESSES / "paket-empat-tahap.json").document
    text = json.dumps(doc["states"]["PENANDATANGANAN_PERJANJIAN"], separators=(",", ":"))
    assert text.count("[25,25,25,25]") == 3
    assert "[40,60]" not in text


def test_kabupaten_variant_names_the_bupati() -> None:
    """The kabupaten variant replaces every WALIKOTA by BUPATI via kepala_daerah."""
    doc = paketflow.load_definition(PROCESSES / "paket-kabupaten.json").document
    text = json.dumps({k: doc[k] for k in ("roles", "states")})
    assert "WALIKOTA" not in text
    assert text.count('"BUPATI"') == 28
