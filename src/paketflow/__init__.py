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
from paketflow._clock import Clock, ManualClock, SystemClock, local_time
from paketflow._definition import load_definition
from paketflow._definition.model import ProcessDefinition
from paketflow._errors import (
    ConcurrencyError,
    DefinitionError,
    DuplicateInstance,
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
from paketflow._report import compliance_report
from paketflow._runtime import (
    Actor,
    Engine,
    Event,
    Instance,
    Notice,
    Permissions,
    Signature,
    replay,
)
from paketflow._store import MemoryStore, Store, open_store, retry_on_conflict

__version__ = "0.1.0"

__all__ = [
    "Actor",
    "AuditProblem",
    "AuditReport",
    "Clock",
    "ConcurrencyError",
    "DefinitionError",
    "DuplicateInstance",
    "Engine",
    "Event",
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
    "Store",
    "StoreError",
    "SystemClock",
    "UnknownDefinition",
    "UnknownInstance",
    "__version__",
    "checkpoint",
    "compliance_report",
    "export_bundle",
    "load_definition",
    "local_time",
    "open_store",
    "replay",
    "retry_on_conflict",
    "verify",
    "verify_bundle",
]
