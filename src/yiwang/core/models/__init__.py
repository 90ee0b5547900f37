from .audit import AuditChainHead, AuditEntry
from .calendar import CalendarOverride, Clock
from .notification import Notification
from .org import OrgUnit

__all__ = [
    "AuditChainHead",
    "AuditEntry",
    "CalendarOverride",
    "Clock",
    "Notification",
    "OrgUnit",
]
