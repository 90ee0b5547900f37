"""API authentication: a bearer token for machine clients, or the browser session."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer, SessionAuth

from .middleware import client_ip


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        from yiwang.accounts.services import token_authenticate

        user = token_authenticate(token, ip=client_ip(request))
        if user is None:
            # A bad, revoked or expired token is refused outright, even when the request
            # also carries a valid session: the client must learn its token is dead.
            raise AuthenticationError
        request.user = user
        return user


class ActiveSessionAuth(SessionAuth):
    """Session auth (with CSRF checks on unsafe methods) for active users only."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        return user if user is not None and user.is_active else None


def api_auth() -> list[Any]:
    return [TokenAuth(), ActiveSessionAuth()]
