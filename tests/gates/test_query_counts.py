"""Every list and detail page and API call runs a pinned number of SQL queries, the same
with more rows (``yiwang.core.testing.querycounts``; pins in ``query_counts.json``).

The core and accounts routes are pinned here; every other app pins its own in
``<app>/tests/query_cases.py`` (``querycounts.suites()``), with its data."""

from __future__ import annotations

import datetime as dt
import itertools
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from yiwang import access
from yiwang.accounts.models import ApiToken, User
from yiwang.accounts.roles import Role
from yiwang.core.audit import audit_log
from yiwang.core.models import CalendarOverride, Notification
from yiwang.core.models.org import OrgKind
from yiwang.core.testing.querycounts import PinCase as Case
from yiwang.core.testing.querycounts import (
    QueryCountError,
    Suite,
    assert_pinned_queries,
    suites,
)
from yiwang.core.tests.factories import District, make_staff, make_unit

pytestmark = pytest.mark.django_db

_serial = itertools.count(1)


def add_rows(d: District, n: int = 3) -> None:
    """``n`` more of everything the pages list, all inside the callers' scope."""
    admin, auditor = d.users["district_admin"], d.users["auditor"]
    for _ in range(n):
        i = next(_serial)
        community = make_unit(f"440399001{100 + i:03d}", f"新社区{i}", OrgKind.COMMUNITY,
                              d.street_a, (114.0 + i / 1000, 22.55, 0.001))
        make_unit(f"440399001{100 + i:03d}001", f"新网格{i}", OrgKind.GRID, community)
        staff = make_staff(f"staff_{i}", community, Role.HANDLER, Role.GRID_WORKER,
                           phone="13800138000")
        ApiToken.objects.create(name=f"token {i}", user=staff, org_unit=community,
                                permissions=["core.view_orgunit"], prefix=f"q{i:07d}",
                                secret_hash="0" * 64)
        ApiToken.objects.create(name=f"my token {i}", user=admin, org_unit=d.district,
                                permissions=["core.view_orgunit"], prefix=f"r{i:07d}",
                                secret_hash="0" * 64)
        for recipient in (admin, auditor):
            Notification.objects.create(recipient=recipient, channel="inapp",
                                        template="welcome", language="zh-hans",
                                        subject=f"message {i}", idempotency_key=f"q{i}")
        audit_log(actor=admin, action="accounts.staff.create", obj=staff)
        audit_log(actor=auditor, action="core.orgunit.view", obj=community)
        CalendarOverride.objects.create(date=dt.date(2031, 1, 1) + dt.timedelta(days=i),
                                        is_workday=True, note=f"override {i}", created_by=admin)
    d.users["clerk_a"].groups.add(*Group.objects.filter(name__in=[Role.APPROVER]))


CASES = [
    # pages
    Case("GET core:workbench", "district_admin", lambda d: "/workbench/"),
    Case("GET core:notifications", "district_admin", lambda d: "/notifications/"),
    Case("GET core:org_tree", "district_admin", lambda d: "/workbench/org/"),
    Case("GET core:org_detail", "district_admin",
         lambda d: f"/workbench/org/{d.street_a.code}/"),
    Case("GET core:audit_list", "auditor", lambda d: "/workbench/audit/"),
    Case("GET core:calendar", "district_admin", lambda d: "/workbench/calendar/"),
    Case("GET accounts:me", "district_admin", lambda d: "/accounts/me/"),
    Case("GET accounts:staff_list", "district_admin", lambda d: "/accounts/staff/"),
    Case("GET accounts:staff_detail", "district_admin",
         lambda d: f"/accounts/staff/{d.users['clerk_a'].pk}/", lists=False),
    Case("GET accounts:token_list", "district_admin", lambda d: "/accounts/tokens/"),
    Case("GET accounts:staff_create", "district_admin", lambda d: "/accounts/staff/new/"),
    Case("GET accounts:staff_deactivate", "district_admin",
         lambda d: f"/accounts/staff/{d.users['clerk_a'].pk}/deactivate", lists=False),
    Case("GET core:home", "district_admin", lambda d: "/", lists=False),
    Case("GET core:admin_home", "district_admin", lambda d: "/workbench/admin/", lists=False),
    Case("GET core:deadline", "district_admin",
         lambda d: "/workbench/calendar/deadline?start=2031-01-01&days=10"),
    # API
    Case("GET /api/me", "district_admin", lambda d: "/api/me", lists=False),
    Case("GET /api/org-units", "district_admin", lambda d: "/api/org-units"),
    Case("GET /api/org-units/{code}", "district_admin",
         lambda d: f"/api/org-units/{d.street_a.code}", lists=False),
    Case("GET /api/notifications", "district_admin", lambda d: "/api/notifications"),
    Case("GET /api/audit/entries", "auditor", lambda d: "/api/audit/entries"),
    Case("GET /api/accounts/users", "district_admin", lambda d: "/api/accounts/users"),
    Case("GET /api/accounts/users/{user_id}", "district_admin",
         lambda d: f"/api/accounts/users/{d.users['clerk_a'].pk}", lists=False),
    Case("GET /api/accounts/tokens", "district_admin", lambda d: "/api/accounts/tokens"),
    Case("GET /api/accounts/users/{user_id}/personal-data", "clerk_a",
         lambda d: f"/api/accounts/users/{d.users['handler_a'].pk}/personal-data", lists=False),
    Case("GET /api/org-units/locate", "district_admin",
         lambda d: "/api/org-units/locate?lon=114.0105&lat=22.5105", lists=False),
    Case("GET /api/calendar/deadline", "district_admin",
         lambda d: "/api/calendar/deadline?limit=10&start=2031-01-01T09:00:00%2B08:00",
         lists=False),
]

# GET routes that list or show nothing from the database, or that are not ours.
NOT_PINNED = {
    "core:healthz": "a probe: one SELECT 1 and the task backlog",
    "accounts:login": "a form",
    "accounts:register": "a form",
    "set_language": "a redirect",
    "javascript-catalog": "translations",
    "api:openapi-json": "generated from code",
    "api:openapi-view": "generated from code",
    "api:api-root": "404",
    **{f"open311:{name}": "public Open311 API; constant counts asserted in "
       "events/tests/test_open311_*.py"
       for name in ["root", "unknown", *[f"{r}_{f}" for r in (
           "discovery", "services", "service", "requests", "request", "token", "updates")
           for f in ("xml", "json")]]},
}


CORE = Suite("core", CASES, setup=lambda d: add_rows(d, 1), grow=add_rows,
             not_pinned=NOT_PINNED)
SUITES = [CORE, *suites()]


def _ok(response) -> None:
    assert response.status_code == 200, response.content[:500]


def _get(client: Client, url: str):
    """The response, with a streamed body (files, CSV) read inside the measurement.

    The test client closes a streamed response once its content is read, with Django's
    close_old_connections detached; closing it again here would close the test's database
    connection (PostgreSQL: it is inside the test's transaction)."""
    response = client.get(url)
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
        return SimpleNamespace(status_code=response.status_code, content=content)
    return response


@pytest.mark.parametrize(("suite", "case"), [
    pytest.param(suite, case, id=case.name) for suite in SUITES for case in suite.cases])
def test_query_count__pinned_and_independent_of_data_size(suite, case, district, client_for):
    suite.setup(district)
    client: Client = Client() if case.caller is None else client_for(
        district.users[case.caller])
    url = case.url(district)
    assert_pinned_queries(case.name, lambda: _get(client, url),
                          grow=lambda: suite.grow(district, 3), check=_ok, lists=case.lists)


def test_every_get_route_has_a_pinned_query_count_or_a_reason():
    pinned = {case.name for suite in SUITES for case in suite.cases}
    reasons = {name: why for suite in SUITES for name, why in suite.not_pinned.items()}
    missing = []
    for route in access.routes():
        if route.path.startswith("/admin/") or route.name in reasons:
            continue  # Django's admin is the superuser's tool, not a page of ours
        rules = access.policy_table().rules_for(route)
        if any(r.method == "GET" for r in rules) and f"GET {route.name}" not in pinned:
            missing.append(f"GET {route.name}")
    assert not missing, ("add a PinCase to <app>/tests/query_cases.py (or a reason to its "
                         f"NOT_PINNED) for: {', '.join(missing)}")


def test_case_names_are_unique():
    names = [case.name for suite in SUITES for case in suite.cases]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


def test_gate__an_n_plus_one_fails_with_the_new_queries(district, tmp_path):
    def staff_units() -> list[str]:  # no select_related: one query per user
        return [u.org_unit.name for u in User.objects.filter(kind="staff")]

    with pytest.raises(QueryCountError, match=r"depends on the data \(an N\+1") as failure:
        assert_pinned_queries("self-test", staff_units, grow=lambda: add_rows(district),
                              path=tmp_path / "pins.json")
    assert 'FROM "core_orgunit"' in str(failure.value)


def test_gate__a_count_above_its_pin_fails_and_says_how_to_re_pin(district, tmp_path,
                                                                   monkeypatch):
    monkeypatch.delenv("YW_PIN_QUERIES", raising=False)
    pins = tmp_path / "pins.json"
    pins.write_text('{"self-test": 0}')
    with pytest.raises(QueryCountError, match=r"more than pinned.*YW_PIN_QUERIES=1"):
        assert_pinned_queries("self-test", lambda: list(User.objects.all()), path=pins)
