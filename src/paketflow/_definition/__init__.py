"""Process definitions: load JSON strictly, validate it against the published JSON
Schema and the semantic rules, and resolve it into the frozen model.

>>> from paketflow._definition import load_definition
>>> definition = load_definition("processes/paket.json")  # doctest: +SKIP
"""

from __future__ import annotations

from paketflow._definition._schema_errors import SCHEMA_ID, schema
from paketflow._definition._semantic import BUILTIN_MESSAGES
from paketflow._definition.loader import canonical_hash, load_definition
from paketflow._definition.model import (
    Alternative,
    CalendarSpec,
    Deadline,
    Due,
    Effect,
    Element,
    Escalation,
    EventDecl,
    Exclusion,
    Guard,
    Labels,
    MessageDecl,
    Notice,
    Offset,
    ProcessDefinition,
    Role,
    SignatureRule,
    Slot,
    State,
    Timeout,
    Transition,
)

__all__ = [
    "BUILTIN_MESSAGES",
    "SCHEMA_ID",
    "Alternative",
    "CalendarSpec",
    "Deadline",
    "Due",
    "Effect",
    "Element",
    "Escalation",
    "EventDecl",
    "Exclusion",
    "Guard",
    "Labels",
    "MessageDecl",
    "Notice",
    "Offset",
    "ProcessDefinition",
    "Role",
    "SignatureRule",
    "Slot",
    "State",
    "Timeout",
    "Transition",
    "canonical_hash",
    "load_definition",
    "schema",
]
