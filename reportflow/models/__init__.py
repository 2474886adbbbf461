"""SQLModel tables (the source of truth) and the engine/session helpers."""

from reportflow.models.db import get_engine, init_db, session_scope
from reportflow.models.tables import (
    ApprovalCode,
    ApprovalDecision,
    AuditEvent,
    Cycle,
    CycleState,
    DefinitionSnapshot,
    DispatchRecord,
    Division,
    IndicatorValue,
    Person,
    RegisterEntry,
    RegisterOpening,
    ReminderRecord,
    RenderedDocument,
    SectionAssignment,
    SectionVersion,
)

__all__ = [
    "ApprovalCode",
    "ApprovalDecision",
    "AuditEvent",
    "Cycle",
    "CycleState",
    "DefinitionSnapshot",
    "DispatchRecord",
    "Division",
    "IndicatorValue",
    "Person",
    "RegisterEntry",
    "RegisterOpening",
    "ReminderRecord",
    "RenderedDocument",
    "SectionAssignment",
    "SectionVersion",
    "get_engine",
    "init_db",
    "session_scope",
]
