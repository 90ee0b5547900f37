from .audit import AuditChainHead, AuditEntry
from .calendar import CalendarOverride, Clock
from .notification import Notification
from .org import OrgUnit
from .sequence import Sequence

__all__ = [
    "AuditChainHead",
    "AuditEntry",
    "CalendarOverride",
    "Clock",
    "Notification",
    "OrgUnit",
    "Sequence",
]
