"""Gate: the OpenAPI document tells the truth, and the checks holding the API to it work.

- the document is valid OpenAPI 3.1, uses only keywords a client understands, and every
  operation declares the shared error responses;
- ``yiwang.core.testing.openapi`` (what every app's API tests use) and the schemathesis
  fuzz (``test_api_fuzz.py``) both fail on a deliberately broken throwaway API: an
  undocumented 500, an undeclared status, a body off its schema, a wrong content type;
- ``/api/docs`` works offline under our Content-Security-Policy.
"""

from __future__ import annotations

import re
import traceback
from typing import Any

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.test import Client
from django.urls import path
from hypothesis import HealthCheck, given, settings
from ninja import NinjaAPI, Query
from schemathesis.core.failures import FailureGroup

from yiwang import urls as project_urls
from yiwang.core.api_errors import ERRORS
from yiwang.core.api_errors import install as install_error_format
from yiwang.core.schemas import CountOut
from yiwang.core.testing.openapi import (
    OpenAPIClient,
    OpenAPIMismatch,
    assert_matches_openapi,
    fuzz_call,
    openapi_document,
)

# --- a deliberately broken API, mounted only by the tests marked urls(__name__) ----------

selftest_api = NinjaAPI(title="gate self-test", version="0", urls_namespace="gate_selftest")
install_error_format(selftest_api)


@selftest_api.get("/fine", response={200: CountOut, **ERRORS})
def fine(request: HttpRequest, n: int = Query(0, ge=0, le=9)) -> dict:
    return {"count": n}


@selftest_api.get("/boom", response={200: CountOut, **ERRORS})
def boom(request: HttpRequest, n: int = Query(0, ge=0, le=9)) -> dict:
    raise RuntimeError("a bug the document does not mention")


@selftest_api.get("/teapot", response={200: CountOut, **ERRORS})
def teapot(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"code": "teapot", "message": "I'm a teapot", "fields": {}}, status=418)


@selftest_api.get("/drifted", response={200: CountOut, **ERRORS})
def drifted(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"count": "many"})


@selftest_api.get("/text", response={200: CountOut, **ERRORS})
def text(request: HttpRequest) -> HttpResponse:
    return HttpResponse("count: 1", content_type="text/plain")


urlpatterns = [path("selftest/", selftest_api.urls), *project_urls.urlpatterns]
selftest = pytest.mark.urls(__name__)


# --- the document ------------------------------------------------------------------------

def test_openapi_document__valid_openapi_3_1():
    import jsonschema_rs
    from schemathesis.specs.openapi.definitions import OPENAPI_31

    errors = [f"{'/'.join(map(str, e.instance_path))}: {e.message}"
              for e in jsonschema_rs.validator_for(OPENAPI_31).iter_errors(openapi_document())]
    assert not errors, "\n".join(errors[:20])


# JSON Schema 2020-12 plus OpenAPI's own schema keywords. Anything else (pydantic once wrote
# "ge"/"le" instead of "minimum"/"maximum") is silently ignored by clients and fuzzers.
SCHEMA_KEYWORDS = frozenset({
    "$ref", "$defs", "$id", "$schema", "$comment", "$anchor", "$dynamicRef", "$dynamicAnchor",
    "type", "enum", "const", "multipleOf", "maximum", "exclusiveMaximum", "minimum",
    "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems",
    "uniqueItems", "maxContains", "minContains", "maxProperties", "minProperties", "required",
    "dependentRequired", "properties", "patternProperties", "additionalProperties",
    "propertyNames", "items", "prefixItems", "contains", "unevaluatedItems",
    "unevaluatedProperties", "allOf", "anyOf", "oneOf", "not", "if", "then", "else",
    "dependentSchemas", "format", "contentEncoding", "contentMediaType", "contentSchema",
    "title", "description", "default", "deprecated", "readOnly", "writeOnly", "examples",
    "discriminator", "xml", "externalDocs", "example",
})


def _schema_keyword_problems(schema: Any, where: str) -> list[str]:
    if not isinstance(schema, dict):
        return []
    problems = [f"{where}: {key!r}" for key in schema
                if key not in SCHEMA_KEYWORDS and not key.startswith("x-")]
    for key in ("items", "additionalProperties", "not", "if", "then", "else", "contains"):
        problems += _schema_keyword_problems(schema.get(key), f"{where}/{key}")
    for key in ("properties", "patternProperties", "$defs", "dependentSchemas"):
        for name, sub in (schema.get(key) or {}).items():
            problems += _schema_keyword_problems(sub, f"{where}/{key}/{name}")
    for key in ("allOf", "anyOf", "oneOf", "prefixItems"):
        for i, sub in enumerate(schema.get(key) or []):
            problems += _schema_keyword_problems(sub, f"{where}/{key}/{i}")
    return problems


def test_openapi_document__schemas_use_only_standard_keywords():
    document = openapi_document()
    problems = []
    for name, schema in document["components"]["schemas"].items():
        problems += _schema_keyword_problems(schema, f"components/schemas/{name}")
    for route, item in document["paths"].items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):
                problems += _schema_keyword_problems(
                    parameter.get("schema"), f"{method.upper()} {route} {parameter['name']}")
            for media in operation.get("requestBody", {}).get("content", {}).values():
                problems += _schema_keyword_problems(media.get("schema"),
                                                     f"{method.upper()} {route} body")
    assert not problems, "non-standard schema keywords:\n" + "\n".join(problems)


def test_openapi_document__every_operation_declares_the_shared_errors():
    missing = [f"{method.upper()} {route}: {sorted(set(map(str, ERRORS)) - set(op['responses']))}"
               for route, item in openapi_document()["paths"].items()
               for method, op in item.items()
               if not set(map(str, ERRORS)) <= set(op["responses"])]
    assert not missing, "declare **ERRORS in the operation's response=:\n" + "\n".join(missing)


def test_openapi_document__served_document_is_the_one_tests_check(db):
    assert Client().get("/api/openapi.json").json() == openapi_document()


# --- what the fuzzer found, pinned as plain examples --------------------------------------

LISTS = ["/api/org-units", "/api/notifications", "/api/audit/entries", "/api/accounts/users",
         "/api/accounts/tokens"]


@pytest.mark.parametrize("query", [
    "offset=920963302852035346432",  # was a 500: the database cannot hold the number
    "limit=152324902261662888956526592", "limit=501", "offset=-1", "limit=0"])
def test_found__paging_past_what_the_database_holds__422(district, query):
    client = OpenAPIClient(user=district.users["district_admin"])
    for url in LISTS:
        response = client.get(f"{url}?{query}")
        assert response.status_code == 422, url


@pytest.mark.parametrize(("ids", "status"), [
    ([True], 422), (["3"], 422),  # were accepted: pydantic's lax mode read them as 1 and 3
    ([0], 422), ([2**63], 422),   # no such row can exist; 2**63 was a 500
    ([1.0], 200), ([], 200),      # 1.0 is an integer to JSON Schema
])
def test_found__marking_read_takes_json_integers_only(district, ids, status):
    client = OpenAPIClient(user=district.users["clerk_a"])
    response = client.post("/api/notifications/read", {"ids": ids},
                           content_type="application/json")
    assert response.status_code == status


@pytest.mark.parametrize("body", [b"\xff\xfe", b"\x00", b"B%"])
def test_found__unreadable_body__400_declared(district, body):
    client = OpenAPIClient(user=district.users["district_admin"])
    response = client.post("/api/notifications/read", body, content_type="application/json")
    assert response.status_code == 400


def test_found__deadline_from_the_middle_ages__422_not_an_unparseable_offset(district):
    # Was 200 with "due_at": "1179-09-07T23:59:59.999+08:05:43" (Shanghai's local mean time),
    # which no RFC 3339 parser reads; 9999-12-31 overflowed.
    client = OpenAPIClient(user=district.users["clerk_a"])
    for start in ("1179-04-21T21:35:19+22:39", "9999-12-31T00:00:00",
                  "1.9965086058869313e-120", "7", "2026-03-02"):  # were Unix timestamps, midnight
        response = client.get("/api/calendar/deadline", {"limit": 100, "start": start})
        assert response.status_code == 422 and set(response.json()["fields"]) == {"start"}
    body = client.get("/api/calendar/deadline",
                      {"limit": 1, "start": "2026-03-02T09:00:00Z"}).json()
    assert body["start"] == "2026-03-02T17:00:00+08:00" and body["due_at"].endswith("+08:00")


def test_found__org_unit_code_too_long__422_not_a_truncated_match(district):
    # Was 200: the code was cut to 18 characters and matched the department.
    client = OpenAPIClient(user=district.users["district_admin"])
    assert client.get(f"/api/org-units/{district.department.code}").status_code == 200
    assert client.get(f"/api/org-units/{district.department.code}XYZ").status_code == 422


# --- the response checker every app's tests use -----------------------------------------

@selftest
def test_assert_matches_openapi__declared_response__passes(db):
    assert_matches_openapi(Client().get("/selftest/fine?n=3"), api=selftest_api)
    assert_matches_openapi(Client().get("/selftest/fine?n=99"), api=selftest_api)  # its 422


@selftest
@pytest.mark.parametrize(("url", "complaint"), [
    ("/selftest/teapot", "status 418 is not documented"),
    ("/selftest/drifted", "does not match the documented schema"),
    ("/selftest/text", "content type 'text/plain'"),
    ("/selftest/nowhere", "no path of the OpenAPI document matches"),
])
def test_assert_matches_openapi__off_contract__fails(db, url, complaint):
    with pytest.raises(OpenAPIMismatch, match=re.escape(complaint)):
        assert_matches_openapi(Client().get(url), api=selftest_api)


@selftest
def test_assert_matches_openapi__undocumented_500__fails(db):
    response = Client(raise_request_exception=False).get("/selftest/boom")
    with pytest.raises(OpenAPIMismatch, match="status 500 is not documented"):
        assert_matches_openapi(response, api=selftest_api)


@selftest
def test_unhandled_error__answers_the_error_format_in_the_callers_language(db, caplog):
    response = Client(raise_request_exception=False).get(
        "/selftest/boom", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == "server_error" and body["fields"] == {}
    assert "went wrong on our side" in body["message"]
    assert "a bug the document does not mention" not in response.content.decode()
    assert any("a bug the document does not mention" in str(r.exc_info[1])
               for r in caplog.records if r.exc_info)


@selftest
def test_unhandled_error__still_raised_in_tests(db):
    with pytest.raises(RuntimeError, match="a bug the document does not mention"):
        Client().get("/selftest/boom")


@selftest
def test_assert_matches_openapi__undeclared_method__must_be_405(db):
    assert_matches_openapi(Client().post("/selftest/fine"), api=selftest_api)


@selftest
def test_openapi_client__checks_every_api_response(db):
    client = OpenAPIClient(api=selftest_api)
    assert client.get("/selftest/fine?n=1").json() == {"count": 1}
    with pytest.raises(OpenAPIMismatch, match="does not match the documented schema"):
        client.get("/selftest/drifted")


def test_openapi_client__leaves_pages_and_other_apis_alone(db):
    client = OpenAPIClient()
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/openapi.json").status_code == 200
    assert client.get("/api/me").status_code == 401  # checked: 401 is declared


# --- the fuzz gate catches what it must --------------------------------------------------

@selftest
@pytest.mark.parametrize(("route", "failure"), [
    ("/selftest/boom", "Server error"),
    ("/selftest/teapot", "Undocumented status code"),
    ("/selftest/drifted", "Response violates schema"),
])
def test_fuzz_gate__broken_operation__fails(db, route, failure):
    schema = schemathesis.openapi.from_wsgi("/selftest/openapi.json", get_wsgi_application())
    operation = schema[route]["GET"]

    @given(case=operation.as_strategy())
    @settings(max_examples=5, database=None, deadline=None, print_blob=False,
              suppress_health_check=list(HealthCheck))
    def fuzz(case: Any) -> None:
        fuzz_call(case)

    with pytest.raises(FailureGroup) as caught:
        fuzz()
    report = "".join(traceback.format_exception(caught.value))
    assert failure in report
    if route.endswith("boom"):  # the server's traceback rides along with the failure
        assert "RuntimeError: a bug the document does not mention" in report


@selftest
def test_fuzz_gate__sound_operation__passes(db):
    schema = schemathesis.openapi.from_wsgi("/selftest/openapi.json", get_wsgi_application())

    @given(case=schema["/selftest/fine"]["GET"].as_strategy())
    @settings(max_examples=10, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    def fuzz(case: Any) -> None:
        fuzz_call(case)

    fuzz()


# --- /api/docs ----------------------------------------------------------------------------

def require_ninja_app() -> None:
    # Without the app, ninja renders its CDN template (swagger-ui from jsdelivr), which our
    # CSP blocks and closed government networks cannot reach.
    assert "ninja" in django_settings.INSTALLED_APPS, (
        "add 'ninja' to INSTALLED_APPS: its templates and static files serve /api/docs")


def _asset_urls(html: str) -> list[str]:
    return re.findall(r'<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"', html)


def test_api_docs__served_from_our_own_static_files(db):
    require_ninja_app()
    client = Client()
    response = client.get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assets = _asset_urls(html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets), html[:500]
    assert all(a.startswith(django_settings.STATIC_URL) for a in assets), (
        f"assets from elsewhere (a CDN?): {assets}")
    for asset in assets:
        asset_response = client.get(asset)
        assert asset_response.status_code == 200, asset
    # No inline script for the CSP to block: JSON data blocks only.
    for attributes in re.findall(r"<script\b([^>]*)>", html):
        assert "src=" in attributes or 'type="application/json"' in attributes, attributes
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy


@pytest.mark.browser
def test_api_docs__renders_offline_in_chromium_under_csp(live_server):
    """Swagger UI draws every operation with no request leaving the server and nothing in
    the console (a CSP violation shows there)."""
    import os

    from tests.browser.harness import CHROMIUM, CHROMIUM_ARGS, chromium_problem

    require_ninja_app()
    problem = chromium_problem()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(f"BROWSER TESTS SKIPPED: {problem}")
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    outside: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))

            def only_ours(route: Any) -> None:
                if route.request.url.startswith(live_server.url):
                    route.continue_()
                else:
                    outside.append(route.request.url)
                    route.abort()

            page.route("**/*", only_ours)
            page.goto(f"{live_server.url}/api/docs")
            page.wait_for_selector(".opblock", timeout=20_000)
            shown = page.locator(".opblock").count()
        finally:
            browser.close()
    operations = sum(len(item) for item in openapi_document()["paths"].values())
    assert shown == operations
    assert not outside, f"requests left the server: {outside}"
    assert not errors, "\n".join(errors)


# --- component names are unique ------------------------------------------------------------


def _api_types() -> dict[str, set[type]]:
    """Every Schema and enum the API's operations use, by the name the document gives it."""
    import enum
    import typing

    from ninja import Schema

    from yiwang.api import api

    found: dict[str, set[type]] = {}
    seen: set[int] = set()

    def visit(annotation: Any) -> None:
        if id(annotation) in seen:
            return
        seen.add(id(annotation))
        for argument in typing.get_args(annotation):
            visit(argument)
        if isinstance(annotation, type) and issubclass(annotation, Schema):
            found.setdefault(annotation.__name__, set()).add(annotation)
            for field in annotation.model_fields.values():
                visit(field.annotation)
        elif isinstance(annotation, type) and issubclass(annotation, enum.Enum):
            found.setdefault(annotation.__name__, set()).add(annotation)

    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                for model in operation.models:
                    for field in model.model_fields.values():
                        visit(field.annotation)
                for response in operation.response_models.values():
                    if response is not None:
                        for field in response.model_fields.values():
                            visit(field.annotation)
    return found


def test_document__no_two_types_share_a_component_name():
    """Components are keyed by class name: two apps' ``Channel`` or ``CallbackIn`` would
    silently document one app's type for the other's operations (this happened)."""
    clashes = {name: sorted(f"{t.__module__}.{t.__qualname__}" for t in types)
               for name, types in _api_types().items() if len(types) > 1}
    assert not clashes, f"rename one of each: {clashes}"
