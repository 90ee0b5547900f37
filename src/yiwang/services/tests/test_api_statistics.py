"""The statistics API gives the figures of ``case_statistics`` (the statistics page's),
per department, matter, channel and month, over the caller's scope."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from yiwang.accounts.roles import Role
from yiwang.core.testing.matrix import make_id_number
from yiwang.core.testing.openapi import OpenAPIClient
from yiwang.core.tests.factories import make_citizen, make_staff
from yiwang.services import statistics
from yiwang.services.models import Case, Matter
from yiwang.services.tests.test_statistics import dataset, expected  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db
URL = "/api/statistics/services"


def period() -> tuple[dict[str, str], dt.datetime, dt.datetime]:
    """The last 400 days, as query and as the bounds case_statistics counts in."""
    today = timezone.localdate()
    first = today - dt.timedelta(days=400)
    start = timezone.make_aware(dt.datetime.combine(first, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min))
    return {"start": first.isoformat(), "end": today.isoformat()}, start, end


@pytest.mark.parametrize("by", ["department", "matter", "channel"])
def test_statistics__the_figures_of_case_statistics(dataset, by):  # noqa: F811
    admin = dataset.users["district_admin"]
    query, start, end = period()
    response = OpenAPIClient(user=admin).get(URL, {**query, "by": by})
    assert response.status_code == 200
    rows = response.json()["rows"]
    figures = statistics.case_statistics(actor=admin, start=start, end=end, by=by)
    assert len(rows) == len(figures) >= 1
    for row, figure in zip(rows, figures, strict=True):
        want = figure.as_dict()
        assert {k: v for k, v in row.items() if k != "key"} == {
            k: v for k, v in want.items() if k != "key"}
    if by == "matter":
        assert rows[0]["key"] == Matter.objects.get(pk=figures[0].key).implementation_code
    if by == "channel":
        assert {r["key"] for r in rows} <= {"pc", "mobile", "window", "post", "self_service"}


def test_statistics__by_month_adds_up_to_the_total(dataset):  # noqa: F811
    admin = dataset.users["district_admin"]
    query, start, end = period()
    rows = OpenAPIClient(user=admin).get(URL, {**query, "by": "month"}).json()["rows"]
    total = Case.objects.filter(submitted_at__gte=start, submitted_at__lt=end)
    assert sum(r["cases"] for r in rows) == total.count()
    assert [r["key"] for r in rows] == sorted(r["key"] for r in rows)
    latest = rows[-1]
    month = dt.date.fromisoformat(latest["key"] + "-01")
    in_month = [c for c in total.select_related("version", "clock")
                if timezone.localtime(c.submitted_at).date().replace(day=1) == month]
    assert {k: latest[k] for k in ("cases", "online_rate", "overdue")} == {
        k: expected(in_month)[k] for k in ("cases", "online_rate", "overdue")}


def test_statistics__filters_and_empty_periods(dataset):  # noqa: F811
    admin = OpenAPIClient(user=dataset.users["district_admin"])
    query, _start, _end = period()
    department = admin.get(URL, {**query, "department": dataset.department.code}).json()
    assert [r["key"] for r in department["rows"]] in ([dataset.department.code], [])
    assert admin.get(URL, {**query, "department": "NOPE"}).json()["rows"] == []
    by_post = admin.get(URL, {**query, "channel": "mobile", "by": "channel"}).json()["rows"]
    assert [r["key"] for r in by_post] == ["mobile"]
    backwards = admin.get(URL, {"start": "2030-01-01", "end": "2020-01-01"}).json()
    assert backwards["rows"] == []
    far = admin.get(URL, {"start": "0001-01-01", "end": "9999-12-31"})
    assert far.status_code == 200 and far.json()["start"] == "1970-01-01"
    assert admin.get(URL, {"start": "20260101"}).status_code == 422
    assert admin.get(URL, {"by": "year"}).status_code == 422


def test_statistics__scope_and_roles(dataset):  # noqa: F811
    query, _start, _end = period()
    street_b = make_staff("viewer_b", dataset.street_b, Role.SUPERVISOR)
    assert OpenAPIClient(user=street_b).get(URL, query).json()["rows"] == []
    assert OpenAPIClient(user=make_citizen(username="c9", id_number=make_id_number(9))
                         ).get(URL, query).status_code == 403
    assert OpenAPIClient(user=dataset.users["grid_worker_a"]).get(URL, query).status_code == 403
    assert OpenAPIClient().get(URL, query).status_code == 401
