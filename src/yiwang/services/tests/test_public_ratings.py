"""Public 好差评 figures, checked against a computation of their own."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yiwang.core.models.org import OrgKind
from yiwang.core.tests.factories import make_unit
from yiwang.core.workdays import ClockUnit, clock_start
from yiwang.services.models import (
    Matter,
    Rating,
    Rectification,
    RectificationStatus,
    VersionStatus,
)
from yiwang.services.tests.factories import make_matter

pytestmark = pytest.mark.django_db
URL = "/services/ratings/"
TZ = dt.timezone(dt.timedelta(hours=8))


def rate(matter, level, at, rectification=None):
    rating = Rating.objects.create(matter=matter, department=matter.department, channel="pc",
                                   level=level, text="")
    Rating.objects.filter(pk=rating.pk).update(created_at=at)
    if rectification:
        Rectification.objects.create(rating=rating, department=matter.department,
                                     status=rectification,
                                     clock=clock_start(unit=ClockUnit.WORKDAYS, limit=15))
    return rating


@pytest.fixture
def world(district):
    """Two departments, three matters (one retired), ratings in and out of the period."""
    second = make_unit("11440300MB2C92417Q", "示范区市场监督管理局", OrgKind.DEPARTMENT,
                       district.district)
    a = make_matter(district, code="M-A", name="甲事项").matter
    b = make_matter(district, code="M-B", name="乙事项").matter
    c = make_matter(district, code="M-C", name="丙事项").matter
    Matter.objects.filter(pk=c.pk).update(department=second)
    c.refresh_from_db()
    old = make_matter(district, code="M-OLD", name="已停办事项")
    Matter.objects.filter(pk=old.matter_id).update(published=None)
    old.status = VersionStatus.RETIRED
    old.save(update_fields=["status"])
    rng = random.Random(4)
    records = []
    statuses = [None, RectificationStatus.OPEN, RectificationStatus.CLOSED,
                RectificationStatus.VOIDED, RectificationStatus.RECTIFIED]
    year = timezone.localdate().year
    for matter in (a, b, c, old.matter):
        for _ in range(rng.randint(8, 30)):
            level = rng.choice([5, 5, 5, 4, 4, 3, 2, 1])
            month = rng.randint(1, 12)
            at = dt.datetime(rng.choice([year, year, year - 1]), month, rng.randint(1, 28),
                             12, tzinfo=TZ)
            status = rng.choice(statuses[1:]) if level <= 2 else None
            records.append((matter, level, at, status))
            rate(matter, level, at, status)
    return {"a": a, "b": b, "c": c, "old": old.matter, "second": second,
            "records": records, "year": year}


def expected(records, *, keep) -> dict:
    """The figures computed here, from the list of what was created."""
    rows = [r for r in records if keep(r) and r[3] != RectificationStatus.VOIDED]
    bad = [r for r in rows if r[1] <= 2]
    return {"ratings": len(rows), "satisfied": sum(1 for r in rows if r[1] >= 3),
            "bad": len(bad),
            "rectified": sum(1 for r in bad if r[3] == RectificationStatus.CLOSED)}


def figures(f) -> dict:
    return {"ratings": f.ratings, "satisfied": f.satisfied, "bad": f.bad,
            "rectified": f.rectified}


def test_figures__match_an_independent_computation_for_this_year(world, district):
    response = Client().get(URL)  # anonymous; default period: this year
    assert response.status_code == 200
    year, records = world["year"], world["records"]
    in_year = lambda r: r[2].year == year  # noqa: E731
    assert figures(response.context["total"]) == expected(records, keep=in_year)
    departments = {str(f.label): figures(f) for f in response.context["departments"]}
    assert departments == {
        district.department.name: expected(
            records, keep=lambda r: in_year(r) and r[0].department_id == district.department.pk),
        "示范区市场监督管理局": expected(
            records, keep=lambda r: in_year(r) and r[0].pk == world["c"].pk),
    }
    by_matter = {f.code: figures(f) for f, _dept in response.context["matter_rows"]}
    assert set(by_matter) == {"M-A", "M-B", "M-C"}  # the retired matter is not listed
    for key in ("a", "b", "c"):
        matter = world[key]
        assert by_matter[matter.implementation_code] == expected(
            records, keep=lambda r, m=matter: in_year(r) and r[0].pk == m.pk)


def test_figures__rates_and_month_filter(world):
    year, records = world["year"], world["records"]
    response = Client().get(URL, {"year": year - 1, "month": 3})
    assert response.status_code == 200
    want = expected(records, keep=lambda r: r[2].year == year - 1 and r[2].month == 3)
    total = response.context["total"]
    assert figures(total) == want
    if want["ratings"]:
        assert total.satisfaction_rate == pytest.approx(want["satisfied"] / want["ratings"])
    if want["bad"]:
        assert total.rectification_rate == pytest.approx(want["rectified"] / want["bad"])


def test_small_numbers__no_rate_and_an_honest_note(district):
    matter = make_matter(district).matter
    now = timezone.now()
    for level in (5, 5, 1):
        rate(matter, level, now, RectificationStatus.OPEN if level == 1 else None)
    response = Client().get(URL)
    total = response.context["total"]
    assert (total.ratings, total.enough) == (3, False)
    html = response.content.decode()
    assert "66.7%" not in html and "66.6%" not in html
    assert "0.0%" in html  # the one bad rating is not rectified yet: 0/1


def test_rate_is_shown_from_ten_ratings(district):
    matter = make_matter(district).matter
    now = timezone.now()
    for level in (5,) * 8 + (3, 2):
        rate(matter, level, now, RectificationStatus.CLOSED if level == 2 else None)
    html = Client().get(URL).content.decode()
    assert "90.0%" in html and "100.0%" in html


def test_bad_period__clear_error(district):
    response = Client().get(URL, {"year": "1999"})
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert Client().get(URL, {"month": "13"}).status_code == 400


def test_queries__constant_in_the_number_of_departments_and_matters(world, district):
    client = Client()
    client.get(URL)
    with CaptureQueriesContext(connection) as before:
        client.get(URL)
    for index in range(6):
        matter = make_matter(district, code=f"M-X{index}", name=f"新事项{index}").matter
        rate(matter, 4, timezone.now())
    with CaptureQueriesContext(connection) as after:
        client.get(URL)
    assert len(after) == len(before)
