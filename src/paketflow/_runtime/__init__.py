"""The runtime: engine, snapshots, events, replay and scenarios."""

from paketflow._runtime.engine import Engine, replay
from paketflow._runtime.model import (
    Actor,
    ArmedDeadline,
    Event,
    Instance,
    Notice,
    Permissions,
    Signature,
)

__all__ = [
    "Actor",
    "ArmedDeadline",
    "Engine",
    "Event",
    "Instance",
    "Notice",
    "Permissions",
    "Signature",
    "replay",
]
