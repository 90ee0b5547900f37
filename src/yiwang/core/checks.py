"""Deployment checks, run by ``yw check-deploy`` (``manage.py check --deploy``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def yiwang_deploy_checks(app_configs: Any, **kwargs: Any) -> list[Error]:
    errors = []
    if settings.SECRET_KEY.startswith(settings.DEV_MARKER) or len(settings.SECRET_KEY) < 50:
        errors.append(Error("SECRET_KEY is the development default or too short.",
                            hint="Set SECRET_KEY to 50+ random characters.", id="yiwang.E001"))
    if settings.DEBUG:
        errors.append(Error("DEBUG is on.", id="yiwang.E002"))
    if not settings.YIWANG_SM4_KEYS.strip():
        errors.append(Error("No SM4 keys: personal data would be encrypted with a key derived "
                            "from SECRET_KEY.", hint="Set YIWANG_SM4_KEYS=kid:<32 hex>.",
                            id="yiwang.E003"))
    if not settings.YIWANG_BLIND_INDEX_KEY.strip():
        errors.append(Error("No blind-index key.", hint="Set YIWANG_BLIND_INDEX_KEY (64 hex).",
                            id="yiwang.E004"))
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        errors.append(Error("Production runs on PostgreSQL, not SQLite.",
                            hint="Set DATABASE_URL=postgres://…", id="yiwang.E005"))
    if not settings.SESSION_COOKIE_SECURE or not settings.CSRF_COOKIE_SECURE:
        errors.append(Error("Cookies are not marked Secure.", hint="Serve over TLS and set "
                            "SECURE_COOKIES=1.", id="yiwang.E006"))
    if any(h in ("*", "") for h in settings.ALLOWED_HOSTS):
        errors.append(Error("ALLOWED_HOSTS accepts any host.", id="yiwang.E007"))
    return errors
