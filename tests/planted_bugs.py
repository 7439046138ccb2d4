"""Planted-bug variants of the shipped PAKET definitions, shared by the tests of
``paketflow.testing`` (the checker and the state machine must find each one).

Each entry: the variant document (RFC 6902 patches on a shipped definition), the
scenario whose first steps lead close to the bug, how many steps, and the invariant
that must be reported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from paketflow import ProcessDefinition, load_definition

ROOT = Path(__file__).resolve().parent.parent
PROCESSES = ROOT / "processes"
SCENARIOS = PROCESSES / "scenarios"
SC1 = SCENARIOS / "sc-1-saigon-2012.json"
SC2 = SCENARIOS / "sc-2-mekar-sari-2013.json"


@attrs.frozen
class Planted:
    name: str
    base: str
    patch: tuple[dict[str, Any], ...]
    scenario: Path
    steps: int
    depth: int
    invariant: str

    def document(self) -> dict[str, Any]:
        return {
            "format": 1,
            "id": f"bug-{self.name}",
            "version": "1.0.0",
            "extends": {"id": self.base, "version": "1.0.0"},
            "jsonPatch": list(self.patch),
        }

    def definition(self) -> ProcessDefinition:
        bases = {"paket": load_definition(PROCESSES / "paket.json")}
        if self.base != "paket":
            bases[self.base] = load_definition(PROCESSES / f"{self.base}.json", base=bases)
        return load_definition(self.document(), base=bases)


PU = "/states/PENYUSUNAN_USULAN"
PLANTED = (
    Planted(
        "drops-element-signature",
        "paket",
        ({"op": "remove", "path": f"{PU}/signatures/slots/kelompok_peduli"},),
        SC2,
        14,
        3,
        "INV-USULAN-TIGA-UNSUR",
    ),
    Planted(
        "escalation-never-fires",
        "paket",
        (
            {
                "op": "add",
                "path": f"{PU}/deadlines/TM-PROP/timeout",
                "value": {"after": "P10D", "event": "batalkan", "target": "DIBATALKAN"},
            },
        ),
        SC2,
        8,
        2,
        "deadlines-reachable",
    ),
    Planted(
        "proposer-verifies",
        "paket",
        ({"op": "remove", "path": "/states/VERIFIKASI/on/verifikasi_dicatat/excludeActors"},),
        SC2,
        19,
        1,
        "INV-VERIFIKATOR-BUKAN-PENGUSUL",
    ),
    Planted(
        "pays-deferred-line",
        "paket-tahap-tunggal",
        (
            {
                "op": "test",
                "path": "/states/PELAKSANAAN/on/dana_disalurkan/guards/3/id",
                "value": "prioritas",
            },
            {"op": "remove", "path": "/states/PELAKSANAAN/on/dana_disalurkan/guards/3"},
        ),
        SC1,
        45,
        1,
        "INV-BUKAN-POS-DITUNDA",
    ),
)
