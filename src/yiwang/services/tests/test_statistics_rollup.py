"""The statistics rollup (``CaseDayFigures``) gives exactly the figures of the live tables,
before and after cases close, ratings arrive and rectifications end, for every grouping,
for periods on and off day boundaries, and within every actor's scope."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yiwang.accounts.roles import Role
from yiwang.core import policies
from yiwang.core.tests.factories import make_staff
from yiwang.services import statistics
from yiwang.services.models import (
    Case,
    CaseDayFigures,
    CaseFiguresWatermark,
    CaseStatus,
    Rating,
    Rectification,
)
from yiwang.services.models import RectificationStatus as R

from .test_statistics import dataset  # noqa: F401 - the shared generated data set

pytestmark = pytest.mark.django_db

DIMENSIONS = ("department", "matter", "channel", "month", "none")


def _periods() -> list[tuple[dt.datetime, dt.datetime]]:
    tz = timezone.get_default_timezone()
    today = timezone.localdate()
    midnight = dt.datetime.combine(today, dt.time.min, tzinfo=tz)
    return [
        (midnight - dt.timedelta(days=400), midnight + dt.timedelta(days=1)),  # whole days
        (midnight - dt.timedelta(days=30, hours=-7), timezone.now()),  # ragged edges
        (midnight - dt.timedelta(days=5), midnight - dt.timedelta(days=4)),  # one day
        (midnight - dt.timedelta(hours=20), midnight - dt.timedelta(hours=3)),  # no whole day
    ]


def _figures(actor, **filters) -> dict:
    return {(by, start): [f.as_dict() for f in statistics.case_statistics(
        actor=actor, start=start, end=end, by=by, **filters)]
        for by in DIMENSIONS for start, end in _periods()}


def _live(actor, **filters) -> dict:
    """The same figures with the rollup out of the way: everything from the live tables."""
    marks = list(CaseFiguresWatermark.objects.values_list("settled_through", "refreshed_at"))
    CaseFiguresWatermark.objects.all().delete()
    try:
        return _figures(actor, **filters)
    finally:
        for settled, refreshed in marks:
            CaseFiguresWatermark.objects.create(settled_through=settled, refreshed_at=refreshed)


def _changes_after_refresh() -> None:
    """What happens between two refreshes: cases close, ratings and rectifications move."""
    now = timezone.now()
    open_cases = list(Case.objects.filter(status=CaseStatus.DELIVERED).order_by("pk")[:5])
    Case.objects.filter(pk__in=[c.pk for c in open_cases]).update(
        status=CaseStatus.CLOSED, closed_at=now)
    closed = Case.objects.filter(status=CaseStatus.CLOSED).exclude(ratings__isnull=False)
    for case, level in zip(closed.order_by("pk")[:4], (5, 1, 2, 4), strict=False):
        Rating.objects.create(case=case, matter=case.matter, department=case.department,
                              rater=case.applicant, channel="mobile", level=level, text="x")
    Rectification.objects.filter(status=R.OPEN).update(status=R.CLOSED, closed_at=now)
    first = Rectification.objects.order_by("pk").first()
    if first is not None:
        Rectification.objects.filter(pk=first.pk).update(status=R.VOIDED, closed_at=now)


def test_rollup__equals_the_live_figures(dataset):  # noqa: F811
    admin = dataset.users["district_admin"]
    result = statistics.statistics_refresh(now=timezone.now() + dt.timedelta(hours=1))
    assert result["rows"] > 0 and CaseDayFigures.objects.exists()
    assert _figures(admin) == _live(admin)


def test_rollup__is_read_for_whole_days(dataset):  # noqa: F811
    admin = dataset.users["district_admin"]
    statistics.statistics_refresh(now=timezone.now() + dt.timedelta(hours=1))
    start, end = _periods()[0]
    with CaptureQueriesContext(connection) as captured:
        statistics.case_statistics(actor=admin, start=start, end=end, by="department")
    assert any("services_casedayfigures" in q["sql"] for q in captured.captured_queries)


def test_rollup__stays_exact_as_cases_and_ratings_change(dataset):  # noqa: F811
    admin = dataset.users["district_admin"]
    statistics.statistics_refresh()  # settles what closed until five minutes ago
    _changes_after_refresh()
    # Before the next refresh the changes are found live …
    assert _figures(admin) == _live(admin)
    # … and after it they are in the rollup, which touched only the days concerned.
    later = statistics.statistics_refresh(now=timezone.now() + dt.timedelta(hours=2))
    assert 0 < later["days"] < CaseDayFigures.objects.values("day").distinct().count()
    assert _figures(admin) == _live(admin)
    # A full rebuild writes the same rows as the incremental refreshes did.
    incremental = sorted(CaseDayFigures.objects.values_list(
        "day", "department_id", "intake_unit_id", "matter_id", "channel", "cases", "overdue",
        "handling_us", "ratings", "bad", "bad_rectified"))
    statistics.statistics_refresh(now=timezone.now() + dt.timedelta(hours=2), full=True)
    assert incremental == sorted(CaseDayFigures.objects.values_list(
        "day", "department_id", "intake_unit_id", "matter_id", "channel", "cases", "overdue",
        "handling_us", "ratings", "bad", "bad_rectified"))


def test_rollup__respects_scope_and_filters(dataset):  # noqa: F811
    statistics.statistics_refresh(now=timezone.now() + dt.timedelta(hours=1))
    department = dataset.department
    approver = make_staff("approver_rollup", department, Role.APPROVER)
    supervisor_b = make_staff("supervisor_b", dataset.street_b, Role.SUPERVISOR)
    for actor in (approver, supervisor_b):
        assert _figures(actor) == _live(actor)
    admin = dataset.users["district_admin"]
    case = Case.objects.filter(status=CaseStatus.CLOSED).first()
    assert case is not None
    for filters in ({"department_id": case.department_id}, {"matter_id": case.matter_id},
                    {"channel": case.channel}):
        assert _figures(admin, **filters) == _live(admin, **filters)


def test_scoped_cases__are_policies_restrict(dataset):  # noqa: F811
    actors = [dataset.users["district_admin"],
              make_staff("approver_scope", dataset.department, Role.APPROVER),
              make_staff("supervisor_scope", dataset.street_b, Role.SUPERVISOR),
              Case.objects.first().applicant]
    for actor in actors:
        assert (set(statistics.scoped_cases(actor).values_list("pk", flat=True))
                == set(policies.restrict(Case.objects.all(), actor)
                       .values_list("pk", flat=True)))


def test_refresh__without_changes_writes_nothing(dataset):  # noqa: F811
    now = timezone.now() + dt.timedelta(hours=1)
    statistics.statistics_refresh(now=now)
    assert statistics.statistics_refresh(now=now) == {"days": 0, "rows": 0}
