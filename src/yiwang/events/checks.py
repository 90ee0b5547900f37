"""Deployment checks of the event center (``yw check-deploy``)."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, Tags, register
from django.db import DatabaseError


@register(Tags.security, deploy=True)
def demo_client_keys(app_configs: Any, **kwargs: Any) -> list[Error]:
    """The demo Open311 key is published in the README: it must not work in production."""
    from .clients import DEMO_KEY_PREFIX
    from .models import ClientSystem

    prefix = DEMO_KEY_PREFIX
    try:
        active = ClientSystem.objects.filter(key_prefix=prefix, active=True).exists()
    except DatabaseError:  # not migrated yet: nothing to check
        return []
    if active:
        return [Error("The demo Open311 client key is active.",
                      hint="Revoke it: ./yw manage open311_client revoke --name <demo client>",
                      id="yiwang.E101")]
    return []
