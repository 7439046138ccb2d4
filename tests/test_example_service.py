"""The example application (examples/paket_service): an HTTP client drives SC-1
through it on an SQLite store; refusals come back as JSON with a status from their
category; the case page carries the compliance report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from examples.paket_service.app import STATUS, create_app
from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parent.parent
ANSWERS: dict[str, Any] = {}  # the last accepted answer per event of the SC-1 run
SC1 = json.loads((ROOT / "processes" / "scenarios" / "sc-1-saigon-2012.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    url = f"sqlite:///{tmp_path_factory.mktemp('svc') / 'paket.db'}"
    return TestClient(create_app(url))


def _headers(ref: Any) -> dict[str, str]:
    if ref is None:
        return {}
    spec = SC1["actors"][ref] if isinstance(ref, str) else ref
    out = {"X-Actor-Id": spec["id"], "X-Actor-Roles": ",".join(spec.get("roles", ()))}
    if spec.get("element"):
        out["X-Actor-Element"] = spec["element"]
    if spec.get("name"):
        out["X-Actor-Name"] = spec["name"]
    return out


def _request(client: TestClient, case: str, step: dict[str, Any]) -> Any:
    body: dict[str, Any] = {"at": step["at"]}
    headers = _headers(step.get("actor"))
    cmd = step["command"]
    if cmd == "start":
        body |= {"definition": "paket-tahap-tunggal", "id": case, "data": step.get("data", {})}
        return client.post("/cases", json=body, headers=headers)
    if cmd == "tick":
        return client.post("/tick", json=body)
    if cmd == "sign":
        return client.post(
            f"/cases/{case}/signatures", json=body | {"slot": step.get("slot")}, headers=headers
        )
    body["data"] = step.get("data")
    return client.post(f"/cases/{case}/events/{step['event']}?lang=id", json=body, headers=headers)


@pytest.fixture(scope="module")
def sc1_case(client: TestClient) -> str:
    """SC-1, every step as an HTTP request; each answer agrees with the scenario's
    expectation (2xx when accepted, the refusal codes otherwise)."""
    case = SC1["instance"]
    for i, step in enumerate(SC1["steps"]):
        answer = _request(client, case, step)
        expect = step.get("expect", {})
        if expect.get("refused") or expect.get("accepted") is False:
            assert answer.status_code in (403, 409, 422), (i, answer.text)
            doc = answer.json()
            assert set(expect.get("refused", ())) <= set(doc["codes"]), (i, doc)
            assert answer.status_code == STATUS[doc["category"]]
        else:
            assert answer.status_code in (200, 201), (i, answer.text)
            if step["command"] == "fire":
                ANSWERS[step["event"]] = answer.json()
    return str(case)


def test_sc1_runs_over_http_to_evaluation(client: TestClient, sc1_case: str) -> None:
    """After SC-1 the case is in evaluation with the late and escalated flags."""
    case = client.get(f"/cases/{sc1_case}").json()
    assert case["state"] == "EVALUASI"
    assert {"terlambat", "eskalasi"} <= set(case["flags"])
    assert case["data"]["tranches"][0]["days_late"] == 92


def test_refusal_is_structured_json_with_status_from_category(
    client: TestClient, sc1_case: str
) -> None:
    """A role that may not act gets 403 and Indonesian reasons with their category."""
    answer = client.post(
        f"/cases/{sc1_case}/events/evaluasi_selesai?lang=id",
        json={"at": "2012-12-22"},
        headers={"X-Actor-Id": "warga-1", "X-Actor-Roles": "BKM_ANGGOTA"},
    )
    assert answer.status_code == 403
    doc = answer.json()
    assert doc["category"] == "permission" and doc["codes"] == ["ERR_PERAN_TIDAK_BERWENANG"]
    assert doc["reasons"][0]["message"].startswith("Peran Anggota BKM tidak berwenang")
    assert "“Evaluasi selesai”" in doc["reasons"][0]["message"]


def test_a_commands_notices_come_with_its_answer(sc1_case: str) -> None:
    """The answer to a command is the case as JSON with that command's notices, in
    the asked language (no re-reading of the history): the receipt 92 days late."""
    received = ANSWERS["dana_diterima"]
    assert received["state"] == "MUSYAWARAH_PRIORITAS"
    codes = {n["code"]: n["message"] for n in received["notices"]}
    assert codes["WARN_TERLAMBAT"] == (
        "Pencairan tahap 1 terlambat 92 hari dari jadwal 2012-06-04."
    )
    assert "ERR_DANA_KURANG_MUSYAWARAH" in codes


def test_unknown_case_and_bad_time_are_bilingual(client: TestClient) -> None:
    """An unknown case is 404 and an unreadable time 422, in the asked language."""
    answer = client.get("/cases/nope/page?lang=id")
    assert answer.status_code == 404
    assert answer.json() == {"error": "Instans proses 'nope' tidak ditemukan."}
    bad = client.post("/tick?lang=en", json={"at": "yesterday-ish"})
    assert bad.status_code == 422 and bad.json()["error"].startswith("The time ")


def test_allowed_lists_events_and_refusals(client: TestClient, sc1_case: str) -> None:
    """The allowed view answers at the case's last event, with reasons as JSON."""
    pokja = {"X-Actor-Id": "pokja-1", "X-Actor-Roles": "POKJA_PAKET"}
    doc = client.get(f"/cases/{sc1_case}/allowed", headers=pokja).json()
    assert doc["state"] == {"id": "EVALUASI", "label": "Evaluation and audit"}
    able = [e["event"] for e in doc["events"] + doc["with_payload"]]
    assert "evaluasi_selesai" in able
    assert all(r["category"] for e in doc["refused"] for r in e["reasons"])


def test_case_page_shows_the_report(client: TestClient, sc1_case: str) -> None:
    """The case page is the compliance report: the 92-day delay, the missing element,
    and the refusals the service saw."""
    page = client.get(f"/cases/{sc1_case}/page?lang=en")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "+92 days" in page.text and "care group" in page.text
    assert "ERR_BUKAN_PRIORITAS" in page.text  # a refusal the service recorded
    report = client.get(f"/cases/{sc1_case}/report").json()
    disb = next(s for s in report["stages"] if s["deadline"] == "TM-DISB")
    assert disb["days_late"] == 92
