"""One error format for the whole JSON API: ``{code, message, fields}``.

``message`` is in the request's language (Accept-Language or the language cookie);
``fields`` maps a field name to a list of messages for field errors.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import (
    BadRequest,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.signals import got_request_exception
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError

from .schemas import ErrorOut

log = logging.getLogger(__name__)

# Every operation declares these next to its success response, so the OpenAPI document
# tells clients the truth: 400 unreadable body, 401 no or bad credentials, 403 not allowed,
# 404 missing or out of scope, 413 body too large, 422 invalid fields.
ERRORS: dict[int, type[ErrorOut]] = {
    400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 413: ErrorOut, 422: ErrorOut}


def error_body(
    code: str, message: str, fields: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    return {"code": code, "message": message, "fields": fields or {}}


def _pydantic_message(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return _("This field is required.")
    if kind in {"string_too_long"}:
        return _("Enter at most %(n)s characters.") % {"n": ctx.get("max_length")}
    if kind in {"string_too_short"}:
        return _("Enter at least %(n)s characters.") % {"n": ctx.get("min_length")}
    if kind.startswith("int_") or kind.startswith("float_"):
        return _("Enter a number.")
    if kind.startswith("datetime") or kind.startswith("date"):
        return _("Enter a valid date.")
    if kind == "literal_error" or kind == "enum":
        return _("Choose one of the allowed values.")
    if kind == "json_invalid":
        return _("The request body is not valid JSON.")
    return _("Enter a valid value.")


def _field_name(loc: list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "form", "payload")]
    return ".".join(parts) or "__all__"


def install(api: NinjaAPI) -> None:
    def respond(request: HttpRequest, status: int, body: dict[str, Any]) -> HttpResponse:
        return api.create_response(request, body, status=status)

    @api.exception_handler(NinjaValidationError)
    def on_validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        fields: dict[str, list[str]] = {}
        for error in exc.errors:
            fields.setdefault(_field_name(list(error.get("loc", []))), []).append(
                _pydantic_message(error))
        if set(fields) == {"__all__"} and any(
                e.get("type") == "json_invalid" for e in exc.errors):
            return respond(request, 400, error_body(
                "malformed_json", _("The request body is not valid JSON.")))
        return respond(request, 422, error_body(
            "invalid", _("Some fields are not valid."), fields))

    @api.exception_handler(DjangoValidationError)
    def on_domain_validation(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        return respond(request, 422, error_body(
            "invalid", _("Some fields are not valid."), {k: list(v) for k, v in fields.items()}))

    @api.exception_handler(Http404)
    def on_404(request: HttpRequest, exc: Http404) -> HttpResponse:
        return respond(request, 404, error_body("not_found", _("Not found.")))

    @api.exception_handler(PermissionDenied)
    def on_403(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return respond(request, 403, error_body(
            "forbidden", _("You are not allowed to do this.")))

    @api.exception_handler(RequestDataTooBig)
    def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return respond(request, 413, error_body(
            "too_large", _("The request body is too large.")))

    @api.exception_handler(HttpError)
    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if isinstance(exc, AuthenticationError) or exc.status_code == 401:
            return respond(request, 401, error_body(
                "unauthorized",
                _("Sign in, or send a valid API token in the Authorization header.")))
        if isinstance(exc, Throttled):
            return respond(request, 429, error_body("throttled", _("Too many requests.")))
        if exc.status_code == 400:
            return respond(request, 400, error_body(
                "malformed_request", _("The request could not be read: %(detail)s")
                % {"detail": exc.message}))
        if exc.status_code == 403:
            return respond(request, 403, error_body(
                "forbidden", _("You are not allowed to do this.")))
        return respond(request, exc.status_code, error_body("error", str(exc)))

    @api.exception_handler(Exception)
    def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        if isinstance(exc, MultiPartParserError | BadRequest | SuspiciousOperation):
            # What Django itself answers with 400: a body it cannot read (a multipart
            # without its boundary…) is the client's error, not ours.
            return respond(request, 400, error_body(
                "malformed_request", _("The request could not be read: %(detail)s")
                % {"detail": str(exc)}))
        # A bug: the client still gets the one error format (never an HTML page), and
        # the traceback goes to the log and to Django's error reporting (the test client
        # re-raises it from that signal, so a test still fails loudly).
        log.error("unhandled error in %s %s", request.method, request.path, exc_info=exc)
        got_request_exception.send(sender=None, request=request)
        return respond(request, 500, error_body(
            "server_error", _("Something went wrong on our side. It was logged; please "
                              "try again later.")))
