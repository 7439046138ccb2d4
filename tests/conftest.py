"""Shared fixtures: a small but complete process definition used by the runtime tests."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

WIB = ZoneInfo("Asia/Pontianak")


def at(day: str, hour: int = 9) -> dt.datetime:
    """A moment on ``day`` (ISO date) at ``hour`` in Pontianak time."""
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), WIB)


def L(text: str) -> dict[str, str]:  # short: used in every fixture label
    return {"id": text + " (id)", "en": text}


MINI: dict[str, Any] = {
    "format": 1,
    "id": "mini",
    "version": "1.0.0",
    "labels": L("Mini approval"),
    "timezone": "Asia/Pontianak",
    "calendars": {"pnk": {"country": "ID", "timezone": "Asia/Pontianak"}},
    "elements": {"a": {"labels": L("Element A")}, "b": {"labels": L("Element B")}},
    "roles": {
        "MEMBER": {"labels": L("Member")},
        "HEAD": {"labels": L("Head"), "pool": 1},
        "CHECKER": {"labels": L("Checker"), "pool": 3},
        "PAYER": {"labels": L("Payer")},
    },
    "flags": {"late": {"labels": L("Late")}, "short": {"labels": L("Short of funds")}},
    "events": {
        "submit": {"labels": L("Submit")},
        "check": {"labels": L("Check")},
        "receive": {"labels": L("Receive funds")},
        "pay": {"labels": L("Pay")},
        "ack": {"labels": L("Acknowledge purpose")},
        "expire": {"labels": L("Expired")},
        "cancel": {"labels": L("Cancel")},
    },
    "messages": {
        "ERR_NOT_ACK": {"id": "Peruntukan belum dipahami.", "en": "Purpose not acknowledged."},
        "ERR_OVER": {
            "id": "Jumlah {jumlah} melebihi sisa {sisa}.",
            "en": "Amount {amount} exceeds the balance {balance}.",
        },
        "WARN_LATE": {"id": "{tahap} terlambat {hari} hari.", "en": "{stage} is {days} days late."},
        "NOTE_SHORT": {"id": "Dana kurang.", "en": "Funds are short."},
    },
    "data": {
        "type": "object",
        "properties": {"required": {"type": "integer", "minimum": 0}},
        "required": ["required"],
    },
    "initial": "DRAFT",
    "states": {
        "DRAFT": {
            "labels": L("Draft"),
            "signatures": {
                "slots": {
                    "a": {"roles": ["MEMBER"], "element": "a"},
                    "b": {"roles": ["MEMBER"], "element": "b"},
                    "head": {"roles": ["HEAD"]},
                },
                "record": "signers",
            },
            "deadlines": {
                "TM-SUBMIT": {
                    "due": {"duration": "P10D"},
                    "escalations": {
                        "h1": {
                            "after": "P1D",
                            "flag": "late",
                            "notify": ["HEAD"],
                            "message": "WARN_LATE",
                        },
                    },
                }
            },
            "on": {
                "submit": {
                    "roles": ["HEAD", "MEMBER"],
                    "requireSignatures": True,
                    "target": "CHECK",
                    "record": ["submitters"],
                },
                "cancel": {"roles": ["HEAD"], "target": "CANCELLED"},
            },
        },
        "CHECK": {
            "labels": L("Check"),
            "signatures": {
                "slots": {"checkers": {"roles": ["CHECKER"], "count": 2}},
                "excludeActors": [{"set": "signers", "rule": "SoD-2"}],
                "record": "checkers",
            },
            "deadlines": {
                "TM-CHECK": {
                    "due": {"workingDays": 5, "calendar": "pnk"},
                    "timeout": {"after": "P0D", "event": "expire", "target": "DRAFT"},
                }
            },
            "on": {
                "check": {
                    "roles": ["CHECKER"],
                    "requireSignatures": True,
                    "excludeActors": [
                        {"set": "signers", "rule": "SoD-2"},
                        {"set": "submitters", "rule": "SoD-2"},
                    ],
                    "data": {
                        "type": "object",
                        "required": ["ok"],
                        "properties": {"ok": {"type": "boolean"}},
                    },
                    "alternatives": [
                        {"when": {"var": "event.ok"}, "target": "FUNDING"},
                        {"otherwise": True, "target": "DRAFT"},
                    ],
                },
                "cancel": {"roles": ["HEAD"], "target": "CANCELLED"},
            },
        },
        "FUNDING": {
            "labels": L("Funding"),
            "on": {
                "receive": {
                    "roles": ["PAYER"],
                    "data": {
                        "type": "object",
                        "required": ["amount"],
                        "properties": {"amount": {"type": "integer", "minimum": 0}},
                    },
                    "effects": [
                        {"add": "/available", "value": {"var": "event.amount"}},
                        {"set": "/received_at", "value": {"var": "today"}},
                    ],
                    "alternatives": [
                        {
                            "when": {"<": [{"var": "data.available"}, {"var": "data.required"}]},
                            "target": "SPEND",
                            "effects": [{"flag": "short"}],
                            "notices": [{"code": "NOTE_SHORT", "notify": ["HEAD"]}],
                        },
                        {"otherwise": True, "target": "SPEND"},
                    ],
                },
                "cancel": {"roles": ["HEAD"], "target": "CANCELLED"},
            },
        },
        "SPEND": {
            "labels": L("Spending"),
            "on": {
                "ack": {
                    "roles": ["PAYER"],
                    "target": "SPEND",
                    "effects": [{"set": "/acknowledged", "value": True}],
                },
                "pay": {
                    "roles": ["PAYER"],
                    "excludeActors": [{"set": "signers", "rule": "SoD-5"}],
                    "data": {
                        "type": "object",
                        "required": ["amount"],
                        "properties": {"amount": {"type": "integer", "minimum": 1}},
                    },
                    "guards": [
                        {
                            "id": "ack",
                            "if": {"==": [{"var": "data.acknowledged"}, True]},
                            "code": "ERR_NOT_ACK",
                            "fix": ["PAYER"],
                            "rule": "R-06",
                        },
                        {
                            "id": "balance",
                            "if": {
                                "<=": [
                                    {"var": "event.amount"},
                                    {
                                        "-": [
                                            {"var": "data.available"},
                                            {"coalesce": [{"var": "data.paid"}, 0]},
                                        ]
                                    },
                                ]
                            },
                            "code": "ERR_OVER",
                            "params": {
                                "jumlah": {"var": "event.amount"},
                                "amount": {"var": "event.amount"},
                                "sisa": {
                                    "-": [
                                        {"var": "data.available"},
                                        {"coalesce": [{"var": "data.paid"}, 0]},
                                    ]
                                },
                                "balance": {
                                    "-": [
                                        {"var": "data.available"},
                                        {"coalesce": [{"var": "data.paid"}, 0]},
                                    ]
                                },
                            },
                        },
                    ],
                    "effects": [
                        {"add": "/paid", "value": {"var": "event.amount"}},
                        {
                            "append": "/payments",
                            "value": {
                                "object": {
                                    "amount": {"var": "event.amount"},
                                    "by": {"var": "actor.id"},
                                }
                            },
                        },
                    ],
                    "alternatives": [
                        {
                            "when": {">=": [{"var": "data.paid"}, {"var": "data.available"}]},
                            "target": "DONE",
                        },
                        {"otherwise": True, "target": "SPEND"},
                    ],
                },
            },
        },
        "DONE": {"labels": L("Done"), "final": True},
        "CANCELLED": {"labels": L("Cancelled"), "final": True},
    },
}


@pytest.fixture
def mini_doc() -> dict[str, Any]:
    """A fresh deep copy of the mini definition document."""
    return copy.deepcopy(MINI)


# -- durable stores ---------------------------------------------------------------------
# PostgreSQL tests use the database named by PAKETFLOW_TEST_POSTGRES_URL (.ci/run starts
# a cluster and sets it). In CI (CI set) a missing URL fails the tests instead of
# skipping them; each test gets a fresh schema, dropped afterwards.

PG_ENV = "PAKETFLOW_TEST_POSTGRES_URL"


def postgres_base_url() -> str:
    """The PostgreSQL URL for tests; fails in CI and skips elsewhere when unset."""
    import os

    url = os.environ.get(PG_ENV)
    if url:
        return url
    if os.environ.get("CI"):
        pytest.fail(f"{PG_ENV} is not set in CI: .ci/run must start PostgreSQL and set it")
    pytest.skip(f"PostgreSQL tests need {PG_ENV} (bash .ci/run sets it)")


@pytest.fixture
def pg_url(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A PostgreSQL store URL whose search_path is a fresh, empty schema. Every
    PostgresStore the test opens is closed afterwards (pools hold connections)."""
    import uuid

    import psycopg

    from paketflow._store.postgres import PostgresStore

    opened: list[Any] = []
    original = PostgresStore.__init__

    def recording(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        opened.append(self)

    monkeypatch.setattr(PostgresStore, "__init__", recording)
    base = postgres_base_url()
    schema = "t_" + uuid.uuid4().hex[:16]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options=-csearch_path%3D{schema}"
    for store in opened:
        store.close()
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """A fresh durable store URL on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("pg_url"))


def start_mini(engine: Any, iid: str, *, key: str | None = None) -> Any:
    """Start an instance of MINI (required 100) as its head, on 2012-03-05."""
    from paketflow import Actor

    return engine.start(
        definition="mini",
        instance_id=iid,
        data={"required": 100},
        actor=Actor("hadi", {"HEAD"}, None, "Hadi"),
        at=at("2012-03-05"),
        idempotency_key=key,
    )
