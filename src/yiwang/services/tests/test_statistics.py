"""Service statistics on a generated data set, checked against figures computed here
independently, case by case, in plain Python."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.utils import timezone

from yiwang.accounts.roles import Role
from yiwang.core.tests.factories import make_citizen, make_staff
from yiwang.services import demo, statistics
from yiwang.services.models import BAD_LEVELS, Case, CaseKind, Rating, Rectification
from yiwang.services.models import RectificationStatus as R

pytestmark = pytest.mark.django_db


@pytest.fixture
def dataset(district):
    from yiwang.core.models import Clock, OrgUnit

    OrgUnit.objects.filter(pk=district.department.pk).update(short_name="住建局")
    demo.load_demo_catalog(district=district.district)
    applicants = [make_citizen(username=f"c{i}", id_number=n) for i, n in enumerate(
        ["11010519491231002X", "440304199003071235"])]
    demo.generate_demo_cases(count=600, seed=7, applicants=applicants, clerks={},
                             reviewers={})
    rng = random.Random(3)
    rated = list(Case.objects.filter(status="closed").order_by("pk")[:150])
    for case in rated:
        level = rng.choice([5, 5, 4, 3, 2, 1])
        rating = Rating.objects.create(case=case, matter=case.matter,
                                       department=case.department, rater=case.applicant,
                                       channel="pc", level=level, text="x")
        if level in BAD_LEVELS:
            clock = Clock.objects.create(unit="workdays", limit=15, started_at=timezone.now(),
                                         due_at=timezone.now())
            Rectification.objects.create(rating=rating, department=case.department,
                                         clock=clock,
                                         status=rng.choice([R.OPEN, R.CLOSED, R.VOIDED]))
    return district


def expected(cases: list[Case]) -> dict:
    online = sum(c.channel in ("pc", "mobile") for c in cases)
    immediate = sum(c.version.case_kind == CaseKind.IMMEDIATE for c in cases)
    zero = sum(c.version.visits == 0 for c in cases)
    overdue = sum(c.time_state == "overdue" or bool(
        c.decided_at and c.clock and c.clock.due_at < c.decided_at) for c in cases)
    durations = [(c.decided_at - c.accepted_at).total_seconds() / 3600 for c in cases
                 if c.decided_at and c.accepted_at]
    ratings = [r for c in cases for r in c.ratings.all()
               if not (hasattr(r, "rectification") and r.rectification.status == R.VOIDED)]
    bad = [r for r in ratings if r.level in BAD_LEVELS]
    return {
        "cases": len(cases),
        "online_rate": round(online / len(cases), 4),
        "immediate_rate": round(immediate / len(cases), 4),
        "zero_visit_rate": round(zero / len(cases), 4),
        "overdue": overdue,
        "avg_handling_hours": round(sum(durations) / len(durations), 2) if durations else None,
        "ratings": len(ratings),
        "satisfaction_rate": round(sum(r.level >= 3 for r in ratings) / len(ratings), 4)
        if ratings else None,
        "rectification_rate": round(sum(r.rectification.status == R.CLOSED for r in bad)
                                    / len(bad), 4) if bad else None,
    }


def test_statistics__whole_district_matches_independent_count(dataset):
    admin = dataset.users["district_admin"]
    start, end = timezone.now() - dt.timedelta(days=400), timezone.now() + dt.timedelta(days=1)
    (figures,) = statistics.case_statistics(actor=admin, start=start, end=end, by="none")
    cases = list(Case.objects.filter(submitted_at__gte=start, submitted_at__lt=end)
                 .select_related("version", "clock"))
    got = figures.as_dict()
    assert {k: got[k] for k in expected(cases)} == expected(cases)


def test_statistics__by_channel_sums_to_total(dataset):
    admin = dataset.users["district_admin"]
    start, end = timezone.now() - dt.timedelta(days=400), timezone.now() + dt.timedelta(days=1)
    rows = statistics.case_statistics(actor=admin, start=start, end=end, by="channel")
    total = Case.objects.filter(submitted_at__isnull=False).count()
    assert sum(r.cases for r in rows) == total
    for row in rows:
        cases = list(Case.objects.filter(submitted_at__isnull=False, channel=row.key)
                     .select_related("version", "clock"))
        assert row.as_dict()["overdue"] == expected(cases)["overdue"]


def test_statistics__scoped_to_the_callers_unit(dataset):
    clerk_b = make_staff("viewer_b", dataset.street_b, Role.SUPERVISOR)
    start, end = timezone.now() - dt.timedelta(days=400), timezone.now() + dt.timedelta(days=1)
    assert statistics.case_statistics(actor=clerk_b, start=start, end=end) == []
