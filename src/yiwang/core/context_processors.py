from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def shell(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    unread = 0
    if user is not None and user.is_authenticated:
        from .selectors import notification_list

        unread = notification_list(actor=user, unread=True).count()
    return {
        "YIWANG_LANGUAGES": settings.LANGUAGES,
        "unread_count": unread,
        "is_staff_user": bool(user is not None and user.is_authenticated
                              and getattr(user, "kind", "") == "staff"),
    }
