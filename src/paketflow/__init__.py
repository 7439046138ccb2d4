"""paketflow: an embeddable workflow engine for approval procedures with signatures
and deadlines.

The public surface is exactly ``__all__``; everything else is private. Importing
paketflow does nothing else (no logging configuration, no I/O).
"""

from paketflow._audit import (
    AuditProblem,
    AuditReport,
    checkpoint,
    export_bundle,
    verify,
    verify_bundle,
)
from paketflow._calendar import WorkingCalendar
from paketflow._clock import Clock, ManualClock, SystemClock, local_time
from paketflow._definition import load_definition
from paketflow._definition.model import ProcessDefinition
from paketflow._errors import (
    ArgumentTypeError,
    ArgumentValueError,
    ConcurrencyError,
    DefinitionError,
    DuplicateInstance,
    FormatError,
    HistoryError,
    ImmutableError,
    InvalidTime,
    PaketflowError,
    Problem,
    Reason,
    Refused,
    ScenarioError,
    StoreError,
    UnknownDefinition,
    UnknownInstance,
)
from paketflow._events import (
    EVENT_FORMAT,
    SNAPSHOT_FORMAT,
    Actor,
    ArmedDeadline,
    DataOp,
    DefinitionRef,
    Escalated,
    Event,
    Fired,
    Instance,
    Notice,
    Signature,
    Signed,
    Started,
    TimedOut,
)
from paketflow._json import FrozenDict, FrozenList, canonical, thaw
from paketflow._report import compliance_report
from paketflow._runtime import Engine, Permissions, replay
from paketflow._store import MemoryStore, Store, open_store, retry_on_conflict

__version__ = "0.1.0"

__all__ = [
    "EVENT_FORMAT",
    "SNAPSHOT_FORMAT",
    "Actor",
    "ArgumentTypeError",
    "ArgumentValueError",
    "ArmedDeadline",
    "AuditProblem",
    "AuditReport",
    "Clock",
    "ConcurrencyError",
    "DataOp",
    "DefinitionError",
    "DefinitionRef",
    "DuplicateInstance",
    "Engine",
    "Escalated",
    "Event",
    "Fired",
    "FormatError",
    "FrozenDict",
    "FrozenList",
    "HistoryError",
    "ImmutableError",
    "Instance",
    "InvalidTime",
    "ManualClock",
    "MemoryStore",
    "Notice",
    "PaketflowError",
    "Permissions",
    "Problem",
    "ProcessDefinition",
    "Reason",
    "Refused",
    "ScenarioError",
    "Signature",
    "Signed",
    "Started",
    "Store",
    "StoreError",
    "SystemClock",
    "TimedOut",
    "UnknownDefinition",
    "UnknownInstance",
    "WorkingCalendar",
    "__version__",
    "canonical",
    "checkpoint",
    "compliance_report",
    "export_bundle",
    "load_definition",
    "local_time",
    "open_store",
    "replay",
    "retry_on_conflict",
    "thaw",
    "verify",
    "verify_bundle",
]
