"""Default logging (paketflow._logging): quiet unless the host asks. With nothing
configured, events go to the standard-library logger ``paketflow`` (NullHandler);
once structlog is configured they go to structlog."""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator

import pytest
import structlog
from structlog.testing import capture_logs

import paketflow
from conftest import MINI, at
from paketflow import Actor, Engine
from paketflow._logging import STDLIB_LOGGER, DefaultLogger


@pytest.fixture(autouse=True)
def unconfigured_structlog() -> Iterator[None]:
    """Each test starts and ends with structlog in its default, unconfigured state."""
    structlog.reset_defaults()
    yield
    structlog.reset_defaults()


def engine() -> Engine:
    return Engine([paketflow.load_definition(copy.deepcopy(MINI))])


def start(eng: Engine) -> None:
    eng.start(
        definition="mini",
        instance_id="i1",
        data={"required": 100},
        actor=Actor("hadi", {"HEAD"}),
        at=at("2012-03-05"),
    )


def test_the_paketflow_logger_has_a_null_handler() -> None:
    """Importing paketflow gives logging.getLogger('paketflow') a NullHandler and
    nothing else; it is the logger DefaultLogger writes to."""
    logger = logging.getLogger("paketflow")
    assert logger is STDLIB_LOGGER
    assert [type(h) for h in logger.handlers] == [logging.NullHandler]


def test_nothing_configured_prints_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    """With no logging or structlog configuration, a log event writes nothing to
    stdout or stderr (structlog's default would print)."""
    assert not structlog.is_configured()
    DefaultLogger().info("instance_started", instance_id="i1", state="DRAFT")
    assert capfd.readouterr() == ("", "")


def test_engine_commands_print_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    """An engine created without a logger runs a command without printing; the log
    records are silent unless enabled."""
    eng = engine()
    start(eng)
    with pytest.raises(paketflow.Refused):
        eng.fire("i1", "pay", actor=Actor("putu", {"PAYER"}), at=at("2012-03-06"))
    assert capfd.readouterr() == ("", "")


def test_enabled_stdlib_logger_gets_structured_records(caplog: pytest.LogCaptureFixture) -> None:
    """When the host enables the 'paketflow' logger at INFO, each event is one INFO
    record with the message '<event> key=value ...' and the event and its fields as
    record attributes."""
    with caplog.at_level(logging.INFO, logger="paketflow"):
        DefaultLogger().info("instance_started", instance_id="i1", state="DRAFT", n=3)
    (record,) = caplog.records
    assert (record.name, record.levelno) == ("paketflow", logging.INFO)
    assert record.getMessage() == "instance_started instance_id='i1' state='DRAFT' n=3"
    assert record.paketflow_event == "instance_started"  # type: ignore[attr-defined]
    assert record.paketflow_fields == {  # type: ignore[attr-defined]
        "instance_id": "i1",
        "state": "DRAFT",
        "n": 3,
    }


def test_engine_events_reach_the_enabled_stdlib_logger(caplog: pytest.LogCaptureFixture) -> None:
    """The engine's default logger routes its events to the 'paketflow' logger."""
    eng = engine()
    with caplog.at_level(logging.INFO, logger="paketflow"):
        start(eng)
    events = [r.paketflow_event for r in caplog.records if r.name == "paketflow"]  # type: ignore[attr-defined]
    assert events == ["instance_started"]
    (record,) = (r for r in caplog.records if r.name == "paketflow")
    assert record.paketflow_fields["instance_id"] == "i1"  # type: ignore[attr-defined]


def test_disabled_stdlib_logger_gets_no_records(caplog: pytest.LogCaptureFixture) -> None:
    """Below the logger's level nothing is recorded (nor formatted)."""
    with caplog.at_level(logging.WARNING, logger="paketflow"):
        DefaultLogger().info("instance_started", instance_id="i1")
    assert caplog.records == []


def test_configured_structlog_receives_the_events(caplog: pytest.LogCaptureFixture) -> None:
    """Once the host has configured structlog, events go to structlog with their
    keys, and not to the stdlib logger."""
    with caplog.at_level(logging.INFO, logger="paketflow"), capture_logs() as logs:
        assert structlog.is_configured()
        DefaultLogger().info("instance_started", instance_id="i1", state="DRAFT")
    assert logs == [
        {"event": "instance_started", "instance_id": "i1", "state": "DRAFT", "log_level": "info"}
    ]
    assert [r for r in caplog.records if r.name == "paketflow"] == []


def test_structlog_configured_after_the_engine_is_created() -> None:
    """The choice is made per event: configuring structlog after creating the engine
    still routes the engine's events to structlog."""
    eng = engine()
    with capture_logs() as logs:
        start(eng)
    assert [e["event"] for e in logs] == ["instance_started"]
    assert logs[0]["instance_id"] == "i1"


def test_a_logger_passed_to_the_engine_wins(caplog: pytest.LogCaptureFixture) -> None:
    """Engine(logger=...) receives the events; the default routes get nothing."""

    class Collect:
        def __init__(self) -> None:
            self.events: list[tuple[str, dict[str, object]]] = []

        def info(self, event: str, **fields: object) -> None:
            self.events.append((event, fields))

    mine = Collect()
    eng = Engine([paketflow.load_definition(copy.deepcopy(MINI))], logger=mine)
    with caplog.at_level(logging.INFO, logger="paketflow"):
        start(eng)
    assert [e for e, _ in mine.events] == ["instance_started"]
    assert [r for r in caplog.records if r.name == "paketflow"] == []


def test_transitions_info_lines_stay_out_of_the_host_logs(caplog: pytest.LogCaptureFixture) -> None:
    """With the host's root logger at INFO, a command logs paketflow's own event and
    none of transitions' INFO lines."""
    eng = engine()
    with caplog.at_level(logging.INFO):
        start(eng)
        eng.sign("i1", actor=Actor("ani", {"MEMBER"}, "a"), at=at("2012-03-06"))
    assert {r.name for r in caplog.records} <= {"paketflow"}
    assert logging.getLogger("transitions").getEffectiveLevel() >= logging.WARNING
