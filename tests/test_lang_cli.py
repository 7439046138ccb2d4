"""The definition-language commands: show, diff, migrate-definition and validate
--base."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from paketflow._cli import main
from paketflow._definition import load_definition

PROCESSES = Path(__file__).resolve().parent.parent / "processes"
PAKET = PROCESSES / "paket.json"
KAB = PROCESSES / "paket-kabupaten.json"


def test_show_says_who_may_do_what_and_what_must_hold(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """show --state prints the state's signatures, deadlines, transitions with roles
    and the guards' messages, in the chosen language."""
    assert main(["show", str(PAKET), "--state", "VERIFIKASI"]) == 0
    out = capsys.readouterr().out
    assert "Verification and assessment (VERIFIKASI)" in out
    assert "- pokja: 2 × City PAKET working group (assessor)" in out
    assert "must hold: temuan — ERR_TEMUAN_WAJIB:" in out
    assert "- Cancelled (batalkan) by Mayor → Cancelled" in out
    assert main(["show", str(PAKET), "--state", "VERIFIKASI", "--lang", "id"]) == 0
    assert "siapa boleh apa:" in capsys.readouterr().out


def test_show_unknown_state(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown --state exits 2 and names the states."""
    assert main(["show", str(PAKET), "--state", "NOPE"]) == 2
    assert "no state 'NOPE'" in capsys.readouterr().err


def test_diff_lists_what_the_variant_changes(capsys: pytest.CaptureFixture[str]) -> None:
    """diff BASE VARIANT names each resolved change; exit 1 when there are some, 0 for
    none."""
    assert main(["diff", str(PAKET), str(KAB)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert "role WALIKOTA removed" in out
    assert "role BUPATI added" in out
    assert 'state DRAF: event batalkan: roles ["WALIKOTA"] → ["BUPATI"]' in out
    assert main(["diff", str(PAKET), str(PAKET)]) == 0
    assert capsys.readouterr().out == "no differences\n"


def test_migrate_definition_keeps_the_resolved_definition(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """migrate-definition writes format 2 that resolves to the same hash, with the
    repeated cancellation written once in $defs."""
    # paket.json is format 2 itself: migrate its resolved (format-1) document
    source = tmp_path / "paket1.json"
    source.write_text(json.dumps(load_definition(PAKET).document), encoding="utf-8")
    out = tmp_path / "paket2.json"
    assert main(["migrate-definition", str(source), "-o", str(out)]) == 0
    doc = json.loads(out.read_text("utf-8"))
    assert doc["format"] == 2
    assert doc["states"]["DRAF"]["on"]["batalkan"] == {"$use": "batalkan"}
    assert load_definition(out).hash == load_definition(PAKET).hash
    assert main(["migrate-definition", str(out)]) == 2
    assert "already format 2" in capsys.readouterr().err


def test_validate_with_a_base_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """validate --base DIR finds a variant's base in another folder; --base FILE too."""
    shutil.copy(KAB, tmp_path / KAB.name)
    assert main(["validate", str(tmp_path / KAB.name)]) == 1
    capsys.readouterr()
    assert main(["validate", "--base", str(PROCESSES), str(tmp_path / KAB.name)]) == 0
    assert main(["validate", "--base", str(PAKET), str(tmp_path / KAB.name)]) == 0
    assert "ok (paket-kabupaten@1.0.0" in capsys.readouterr().out


def test_the_variant_tutorial_runs_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """docs/write-a-variant.md: its variant validates with --base, diff prints the two
    lines it shows, and a scenario naming the variant simulates without failures."""
    import re

    doc = (PROCESSES.parent / "docs" / "write-a-variant.md").read_text("utf-8")
    variant = json.loads(re.findall(r"```json\n(.*?)```", doc, re.S)[0])
    folder = tmp_path / "kota-saya"
    folder.mkdir()
    shutil.copy(PAKET, folder / "paket.json")
    path = folder / "paket-verifikasi-21.json"
    path.write_text(json.dumps(variant), encoding="utf-8")
    assert main(["validate", "--base", str(folder), str(path)]) == 0
    capsys.readouterr()
    assert main(["diff", str(folder / "paket.json"), str(path)]) == 1
    out = capsys.readouterr().out
    assert (
        'state VERIFIKASI: deadline TM-VERIF: due {"duration": "P14D"} → {"duration": "P21D"}'
        in out
    )
    scenario = json.loads((PROCESSES / "scenarios" / "sc-2-mekar-sari-2013.json").read_text())
    scenario["definition"] = "paket-verifikasi-21"
    (folder / "sc-2.json").write_text(json.dumps(scenario), encoding="utf-8")
    assert main(["simulate", str(path), str(folder / "sc-2.json")]) == 0
    assert "0 failed expectations" in capsys.readouterr().out
