"""The JSON API at /api/ (OpenAPI document at /api/openapi.json, docs at /api/docs)."""

from ninja import NinjaAPI

from yiwang.accounts.api import router as accounts_router
from yiwang.core.api import router as core_router
from yiwang.core.api_auth import api_auth
from yiwang.core.api_errors import install as install_error_format
from yiwang.events.api import router as events_router
from yiwang.services.api import router as services_router

api = NinjaAPI(
    title="yiwang API",
    version="1",
    description=(
        "一网 yiwang: JSON API of the district platform. Authenticate with a session "
        "(browser, CSRF token required for writes) or with `Authorization: Bearer <token>`. "
        "Errors share one format: `{code, message, fields}`, the message in the request's "
        "language (Accept-Language: zh-Hans, zh-Hant, en): 400 unreadable body, 401 no or "
        "bad credentials (a bad token is refused even with a session), 403 not allowed, "
        "404 missing or outside your scope, 413 body too large, 422 invalid fields. Lists "
        "page with `limit` (1–500, default 100) and `offset`."
    ),
    auth=api_auth(),
    urls_namespace="api",
)
install_error_format(api)
api.add_router("/", core_router)
api.add_router("/accounts/", accounts_router)
api.add_router("/", services_router)
api.add_router("/", events_router)
