"""Test helpers that hold the JSON API to its OpenAPI document.

Like Zulip's ``validate_api_response_openapi``: every response a test gets from the API
must have a status code the operation declares, the declared content type, and a JSON
body matching the declared schema. Three ways to use it::

    from yiwang.core.testing.openapi import OpenAPIClient, assert_matches_openapi

    client = OpenAPIClient(user=clerk)          # or token=raw, or neither (anonymous)
    client.get("/api/org-units")                # checked automatically, fails the test
    assert_matches_openapi(Client().get(...))   # one response, explicitly

or the ``api_client`` / ``api_client_for`` fixtures once this module is a pytest plugin
(``pytest_plugins = ["yiwang.core.testing.openapi"]`` in the root conftest).

The second half runs schemathesis cases in process (``fuzz_call``, ``credentials_provider``,
``keep_test_connection``) for ``tests/gates/test_api_fuzz.py``; the gate's self-test in
``tests/gates/test_api_conformance.py`` shows both halves failing on a broken API.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from django.http import StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.test import Client
from django.urls import Resolver404, resolve

if TYPE_CHECKING:
    from ninja import NinjaAPI

# ninja's own pages under the API's namespace: not operations of the document.
NON_OPERATION_URL_NAMES = frozenset({"openapi-json", "openapi-view", "api-root"})


class OpenAPIMismatch(AssertionError):
    """A response the OpenAPI document does not describe."""


def default_api() -> NinjaAPI:
    from yiwang.api import api

    return api


@dataclass
class _Route:
    template: str
    regex: re.Pattern[str]
    item: dict[str, Any]


@dataclass
class OpenAPIContract:
    """The operations of one OpenAPI 3.1 document, with compiled response validators."""

    document: dict[str, Any]
    routes: list[_Route] = field(init=False)
    _validators: dict[tuple[str, str, str, str], Any] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        routes = []
        for template, item in self.document.get("paths", {}).items():
            pattern = "".join(
                "[^/]+" if part.startswith("{") else re.escape(part)
                for part in re.split(r"(\{[^}]+\})", template))
            routes.append(_Route(template, re.compile(f"^{pattern}$"), item))
        # Literal segments win over parameters (/org-units/locate before /org-units/{code}).
        routes.sort(key=lambda r: (r.template.count("{"), -len(r.template)))
        self.routes = routes

    def find(self, method: str, path: str) -> tuple[str, dict[str, Any] | None]:
        """The path template and the operation for ``method`` (None: the path has no such
        method). Raises ``OpenAPIMismatch`` for a path the document does not have."""
        for route in self.routes:
            if route.regex.match(path):
                return route.template, route.item.get(method.lower())
        raise OpenAPIMismatch(f"{method.upper()} {path}: no path of the OpenAPI document "
                              "matches (an undocumented operation?)")

    def check(self, *, method: str, path: str, status: int, content_type: str | None,
              content: bytes) -> None:
        """Raise ``OpenAPIMismatch`` unless the response is one the operation declares."""
        method = method.upper()
        template, operation = self.find(method, path)
        label = f"{method} {path} → {status}"
        if operation is None:
            if status == 405:  # a method the path does not have, refused as it should be
                return
            raise OpenAPIMismatch(f"{label}: {template} declares no {method} operation")
        responses = operation.get("responses", {})
        key = next((k for k in (str(status), f"{status // 100}XX", "default")
                    if k in responses), None)
        if key is None:
            raise OpenAPIMismatch(
                f"{label}: status {status} is not documented; {method} {template} declares "
                f"{', '.join(sorted(responses))}. Declare it (e.g. the shared ERRORS) or stop "
                f"returning it.{_excerpt(content)}")
        declared = responses[key].get("content") or {}
        if not declared:
            if content:
                raise OpenAPIMismatch(f"{label}: documented without a body, got "
                                      f"{len(content)} bytes{_excerpt(content)}")
            return
        media_type = (content_type or "").split(";")[0].strip().lower()
        if media_type not in declared:
            raise OpenAPIMismatch(f"{label}: content type {content_type!r}, documented "
                                  f"{', '.join(declared)}{_excerpt(content)}")
        if not (media_type == "application/json" or media_type.endswith("+json")):
            return
        try:
            body = json.loads(content)
        except ValueError:
            raise OpenAPIMismatch(f"{label}: the body is not JSON{_excerpt(content)}") from None
        validator = self._validator(template, method, key, media_type)
        errors = [f"  at {_pointer(e.instance_path)}: {e.message}"
                  for e in validator.iter_errors(body)]
        if errors:
            raise OpenAPIMismatch(
                f"{label}: the body does not match the documented schema of {method} "
                f"{template} ({key}):\n" + "\n".join(errors[:20]) + _excerpt(content))

    def _validator(self, template: str, method: str, status_key: str, media_type: str) -> Any:
        import jsonschema_rs

        cache_key = (template, method, status_key, media_type)
        if cache_key not in self._validators:
            schema = (self.document["paths"][template][method.lower()]["responses"]
                      [status_key]["content"][media_type].get("schema", {}))
            # The document is the root, so "#/components/schemas/…" references resolve.
            root = {**schema, "components": self.document.get("components", {})}
            self._validators[cache_key] = jsonschema_rs.Draft202012Validator(
                root, validate_formats=True)
        return self._validators[cache_key]


def _pointer(path: Any) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path) or "(body)"


def _excerpt(content: bytes, limit: int = 600) -> str:
    if not content:
        return ""
    text = content[:limit].decode("utf-8", "replace")
    return f"\n  body: {text}{'…' if len(content) > limit else ''}"


@functools.cache
def contract_for(api: NinjaAPI) -> OpenAPIContract:
    """The API's generated document, built once per test process."""
    document = json.loads(json.dumps(api.get_openapi_schema(), default=str))
    return OpenAPIContract(document)


def openapi_document(api: NinjaAPI | None = None) -> dict[str, Any]:
    return contract_for(api or default_api()).document


def validate_api_response(*, method: str, path: str, status: int, content_type: str | None,
                          content: bytes, api: NinjaAPI | None = None) -> None:
    """Check one response given as parts; raises ``OpenAPIMismatch``."""
    contract_for(api or default_api()).check(
        method=method, path=path, status=status, content_type=content_type, content=content)


def assert_matches_openapi(response: HttpResponseBase, *, method: str | None = None,
                           path: str | None = None, api: NinjaAPI | None = None) -> None:
    """Check a Django test client's response against the operation that produced it."""
    request = getattr(response, "request", None) or {}
    method = method or request.get("REQUEST_METHOD")
    path = path or request.get("PATH_INFO")
    if not method or not path:
        raise TypeError("pass method= and path= for a response that did not come from "
                        "django.test.Client")
    if isinstance(response, StreamingHttpResponse):
        content = b"".join(response.streaming_content)  # type: ignore[arg-type]
    else:
        content = getattr(response, "content", b"")
    validate_api_response(method=method, path=path, status=response.status_code,
                          content_type=response.get("Content-Type"), content=content, api=api)


def serves_operation(path: str, api: NinjaAPI | None = None) -> bool:
    """``path`` is routed to one of the API's operations (not its docs, not another API)."""
    api = api or default_api()
    try:
        match = resolve(path)
    except Resolver404:
        return False
    return match.namespace == api.urls_namespace and match.url_name not in (
        NON_OPERATION_URL_NAMES)


class OpenAPIClient(Client):
    """``django.test.Client`` that checks every response of the JSON API against the
    OpenAPI document; other pages pass through unchecked.

    ``OpenAPIClient(user=u)`` is logged in as ``u`` (CSRF not enforced, like the plain test
    client); ``OpenAPIClient(token=raw)`` sends ``Authorization: Bearer raw``.
    """

    def __init__(self, *args: Any, user: Any = None, token: str | None = None,
                 api: NinjaAPI | None = None, **defaults: Any) -> None:
        if token is not None:
            defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        super().__init__(*args, **defaults)
        self.api = api
        if user is not None:
            self.force_login(user)

    def request(self, **request: Any) -> Any:
        response = super().request(**request)
        if serves_operation(request["PATH_INFO"], self.api):
            assert_matches_openapi(response, api=self.api)
        return response


@pytest.fixture
def api_client() -> OpenAPIClient:
    """An anonymous client whose API responses are checked against the OpenAPI document."""
    return OpenAPIClient()


@pytest.fixture
def api_client_for() -> Any:
    """``api_client_for(user)`` or ``api_client_for(token=raw)``: a checked client."""

    def make(user: Any = None, *, token: str | None = None, **defaults: Any) -> OpenAPIClient:
        return OpenAPIClient(user=user, token=token, **defaults)

    return make


# --- fuzzing with schemathesis, in process -------------------------------------------------

@contextlib.contextmanager
def keep_test_connection() -> Iterator[None]:
    """Serve WSGI requests on the test's own database connection.

    Django closes "old" connections at the start and end of every request; inside a test's
    transaction that would drop it (and the fixture data). django.test.Client does the same.
    """
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@contextlib.contextmanager
def captured_server_errors() -> Iterator[list[str]]:
    """Tracebacks of exceptions the application turned into 500s while the block ran."""
    from django.core.signals import got_request_exception

    seen: list[str] = []

    def record(sender: Any, request: Any = None, **kwargs: Any) -> None:
        seen.append(traceback.format_exc())

    got_request_exception.connect(record, weak=False)
    try:
        yield seen
    finally:
        got_request_exception.disconnect(record)


def credentials_provider(*, headers: dict[str, str] | None = None,
                         cookies: dict[str, str] | None = None) -> type:
    """A schemathesis auth provider class that sends these credentials:
    ``@schema.auth(credentials_provider(headers=...))`` under ``@schema.parametrize()``.

    Going through a provider tells schemathesis the credentials are real, so its
    ``ignored_auth`` check strips or spoils exactly them and expects a 401. Its coverage
    phase builds requests when tests are collected, before any fixture ran: the
    credentials must be constants that a fixture then makes valid.
    """
    data = {"headers": dict(headers or {}), "cookies": dict(cookies or {})}

    class Credentials:
        def get(self, case: Any, context: Any) -> dict[str, dict[str, str]]:
            return data

        def set(self, case: Any, value: dict[str, dict[str, str]], context: Any) -> None:
            from requests.structures import CaseInsensitiveDict

            case.headers = CaseInsensitiveDict({**(case.headers or {}), **value["headers"]})
            case.cookies = {**(case.cookies or {}), **value["cookies"]}

    return Credentials


# (operation, credentials sent) whose auth schemathesis has seen enforced: like its own
# engine, probe each once instead of after every 2xx (that tripled the requests).
_AUTH_ENFORCED: set[tuple[Any, ...]] = set()


def fuzz_call(case: Any) -> Any:
    """Send a schemathesis ``case`` to the application in process and run all checks;
    a failure carries the traceback of any exception the server turned into a 500."""
    from schemathesis.core.parameters import ParameterLocation
    from schemathesis.specs.openapi.checks import ignored_auth

    auth_key = (case.operation.label, "authorization" in {h.lower() for h in case.headers or {}},
                tuple(sorted(case.cookies or {})))
    excluded = [ignored_auth] if auth_key in _AUTH_ENFORCED else []
    with keep_test_connection(), captured_server_errors() as errors:
        try:
            response = case.call_and_validate(excluded_checks=excluded)
        except (Exception, BaseExceptionGroup) as exc:  # schemathesis' FailureGroup is Base…
            for trace in errors:
                exc.add_note(f"Server traceback:\n{trace}")
            raise
    # A request with a mangled path is not probed (it may miss the route), so it proves nothing.
    if 200 <= response.status_code < 300 and not (
            case.meta is not None and case.meta.is_negative_at(ParameterLocation.PATH)):
        _AUTH_ENFORCED.add(auth_key)
    return response
