"""The authorization gate: every route is declared in an ``access.py`` and answers every
audience as declared (``yiwang.access``, ``yiwang.core.testing.matrix``)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.test import override_settings
from django.urls import include, path

from yiwang import access
from yiwang.core.models import OrgUnit
from yiwang.core.testing.matrix import (
    Sessions,
    World,
    build_world,
    run_route,
    run_undeclared_methods,
)

ROUTES = access.routes()
TABLE = access.policy_table()
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module", autouse=True)
def _openapi_schema_built_once() -> Iterator[None]:
    """The OpenAPI document is the same for every caller, and django-ninja builds it anew
    for each request (a third of this module's time): build it once here."""
    from yiwang.api import api as ninja_api

    built: dict[str, Any] = {}
    original = ninja_api.get_openapi_schema

    def cached(**kwargs: Any) -> Any:
        key = repr(sorted(kwargs.items()))
        if key not in built:
            built[key] = original(**kwargs)
        return built[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ninja_api, "get_openapi_schema", cached)
        yield


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[World]:
    """One world for the module, rolled back at its end; each test adds a savepoint."""
    with django_db_blocker.unblock(), transaction.atomic():
        with override_settings(PASSWORD_HASHERS=FAST_HASHERS):
            built = build_world()
        yield built
        transaction.set_rollback(True)


@pytest.fixture(scope="module")
def sessions(world, django_db_blocker) -> Sessions:
    """Every caller signed in once, in the module's transaction."""
    with django_db_blocker.unblock():
        return Sessions.signed_in(world.callers)


def test_every_route_has_a_declared_policy():
    assert access.check(table=TABLE) == []


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.surface}:{r.name}")
def test_route__answers_every_audience_as_declared(route, world, sessions):
    rules = TABLE.rules_for(route)
    if not rules:
        pytest.skip("undeclared: reported by test_every_route_has_a_declared_policy")
    problems = run_route(world, route, rules, sessions)
    problems += run_undeclared_methods(world, route, rules, sessions)
    assert not problems, "\n".join(map(str, problems))


def test_doc__authorization_matrix_md_matches_the_declarations():
    doc = Path(settings.PROJECT_DIR) / "docs" / "authorization-matrix.md"
    assert doc.read_text(encoding="utf-8") == access.render_markdown(TABLE), (
        "docs/authorization-matrix.md is stale: run `python manage.py access_matrix --write`")


# --- the gate's self-test: it fails on an unprotected view -----------------------------------

def _open_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("what staff should see")  # no login_required, no scope


def _unscoped_list(request: HttpRequest) -> HttpResponse:
    if getattr(request.user, "kind", "") != "staff":
        raise PermissionDenied
    return HttpResponse(", ".join(OrgUnit.objects.values_list("name", flat=True)))


@pytest.fixture
def urls_with_unprotected_views(settings, monkeypatch) -> ModuleType:
    """The project's URLs plus two careless views, as the root URL conf."""
    module = ModuleType("yiwang_gate_selftest_urls")
    module.urlpatterns = [  # type: ignore[attr-defined]
        path("", include("yiwang.urls")),
        path("selftest/open/", _open_view, name="selftest_open"),
        path("selftest/units/", login_required(_unscoped_list), name="selftest_units"),
    ]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    settings.ROOT_URLCONF = module.__name__
    return module


def test_gate__names_a_new_route_without_a_declared_policy(urls_with_unprotected_views):
    problems = access.check(urlconf=urls_with_unprotected_views, table=TABLE)
    assert problems == [
        "no access rule for page route selftest_open (/selftest/open/): declare it in "
        "the app's access.py",
        "no access rule for page route selftest_units (/selftest/units/): declare it in "
        "the app's access.py",
    ]


def test_gate__names_a_declared_rule_whose_route_is_gone():
    table = access.policy_table()
    table.add("Self-test", access.page("GET core:retired_page", staff=access.ANY))
    assert access.check(table=table) == [
        "access rule GET core:retired_page (page) matches no route"]


def test_gate__fails_a_staff_only_view_that_answers_anyone(
        urls_with_unprotected_views, world, sessions):
    table = access.policy_table()
    table.add("Self-test", access.page("GET selftest_open", staff=access.ANY))
    route = _route_named(urls_with_unprotected_views, "selftest_open")
    problems = [str(p) for p in run_route(world, route, table.rules_for(route), sessions)]
    assert "GET selftest_open as anonymous (-) /selftest/open/: declared login, got allow" \
        in problems
    assert "GET selftest_open as citizen (-) /selftest/open/: declared forbidden, got allow" \
        in problems
    assert len(problems) == 4  # anonymous, deactivated, citizen, enterprise


def test_gate__fails_a_list_that_shows_other_streets(urls_with_unprotected_views, world,
                                                     sessions):
    table = access.policy_table()
    table.add("Self-test", access.page("GET selftest_units", staff=access.SUBTREE))
    route = _route_named(urls_with_unprotected_views, "selftest_units")
    problems = [str(p) for p in run_route(world, route, table.rules_for(route), sessions)]
    assert any(p.startswith("GET selftest_units as window_clerk@street_a (-) /selftest/units/: "
                            "declared ✓ subtree only, got out-of-scope objects listed: ")
               and "zz440399002000zz" in p for p in problems)
    assert not any("as superuser" in p for p in problems)


def _route_named(urlconf: ModuleType, name: str) -> access.Route:
    return next(r for r in access.page_routes(urlconf) if r.name == name)
