"""Per-request facts (IP, request id, actor) that audit entries record."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    ip: str | None = None
    request_id: str = ""


current: contextvars.ContextVar[RequestContext] = contextvars.ContextVar(
    "yiwang_request_context", default=RequestContext()  # noqa: B039 (frozen dataclass)
)
