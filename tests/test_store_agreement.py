"""One Hypothesis state machine runs the same commands against the memory, SQLite and
PostgreSQL stores and asserts they agree: the same outcome for every command (the
snapshot, or the refusal codes, or the error type), the same snapshots and
histories, and replay equal to the snapshot on every backend."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

import psycopg
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

import paketflow
from conftest import MINI, at, postgres_base_url
from paketflow import Actor, Engine

ACTORS = [
    Actor("ani", {"MEMBER"}, "a", "Ani"),
    Actor("budi", {"MEMBER"}, "b", "Budi"),
    Actor("hadi", {"HEAD"}, None, "Hadi"),
    Actor("citra", {"CHECKER"}),
    Actor("cahyo", {"CHECKER"}),
    Actor("putu", {"PAYER"}),
]
IDS = ["i1", "i2", "i3"]
EVENTS = ["submit", "check", "receive", "pay", "ack", "cancel"]
PAYLOADS = st.sampled_from([{}, {"ok": True}, {"ok": False}, {"amount": 50}, {"amount": 200}])


class Quiet:
    def info(self, *args: Any, **kwargs: Any) -> None:
        pass


class StoresAgree(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        definition = paketflow.load_definition(json.loads(json.dumps(MINI)))
        self.folder = Path(tempfile.mkdtemp())
        base = postgres_base_url()
        self.schema = "sm_" + uuid.uuid4().hex[:16]
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {self.schema}")
        sep = "&" if "?" in base else "?"
        self.urls = [
            "memory://",
            f"sqlite:///{self.folder / 's.db'}",
            f"{base}{sep}options=-csearch_path%3D{self.schema}",
        ]
        self.stores = [paketflow.open_store(u) for u in self.urls]
        self.engines = [Engine([definition], store=s, logger=Quiet()) for s in self.stores]
        self.definition = definition
        self.now = at("2012-03-05")
        self.started: set[str] = set()

    def run(self, command: Any) -> None:
        outcomes = []
        for engine in self.engines:
            try:
                outcomes.append(("ok", command(engine)))
            except paketflow.Refused as refusal:
                outcomes.append(("refused", refusal.codes))
            except paketflow.PaketflowError as exc:
                outcomes.append(("error", type(exc).__name__))
        assert outcomes[1] == outcomes[0], (outcomes[0], outcomes[1])
        assert outcomes[2] == outcomes[0], (outcomes[0], outcomes[2])
        event(f"outcome: {outcomes[0][0]}")

    @rule(iid=st.sampled_from(IDS), required=st.integers(0, 300))
    def start(self, iid: str, required: int) -> None:
        self.run(
            lambda e: e.start(
                definition="mini",
                instance_id=iid,
                data={"required": required},
                actor=ACTORS[2],
                at=self.now,
            )
        )
        self.started.add(iid)

    @rule(iid=st.sampled_from(IDS), who=st.sampled_from(ACTORS))
    def sign(self, iid: str, who: Actor) -> None:
        self.run(lambda e: e.sign(iid, actor=who, at=self.now))

    @rule(
        iid=st.sampled_from(IDS),
        event=st.sampled_from(EVENTS),
        who=st.sampled_from(ACTORS),
        payload=PAYLOADS,
    )
    def fire(self, iid: str, event: str, who: Actor, payload: dict[str, Any]) -> None:
        self.run(lambda e: e.fire(iid, event, actor=who, data=payload, at=self.now))

    @rule(hours=st.integers(1, 24 * 12))
    def tick(self, hours: int) -> None:
        self.now += dt.timedelta(hours=hours)
        self.run(lambda e: e.tick(self.now))

    @invariant()
    def same_everywhere(self) -> None:
        for iid in sorted(self.started):
            first = self.stores[0].load(iid)
            history = self.stores[0].history(iid)
            for store in self.stores[1:]:
                assert store.load(iid) == first
                assert store.history(iid) == history
            assert paketflow.replay(self.definition, history) == first

    def teardown(self) -> None:
        for store in self.stores[1:]:
            store.close()  # type: ignore[attr-defined]
        shutil.rmtree(self.folder, ignore_errors=True)
        with psycopg.connect(postgres_base_url(), autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {self.schema} CASCADE")


StoresAgree.TestCase.settings = settings(
    max_examples=20, stateful_step_count=30, deadline=None, database=None
)
test_memory_sqlite_postgres_agree = StoresAgree.TestCase
