"""The service-statistics page and its CSV/Excel exports, on a generated data set: the
figures on the page equal ``case_statistics`` and a count made here, case by case."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from yiwang.accounts.roles import Role
from yiwang.core.tests.factories import make_citizen, make_staff
from yiwang.services import statistics
from yiwang.services.forms_insight import period_of
from yiwang.services.models import Case, Channel, Rating
from yiwang.services.tests import test_statistics
from yiwang.services.tests.matrix import _case, _matter
from yiwang.services.tests.test_statistics import expected

dataset = test_statistics.dataset  # the generated data set (a fixture)

pytestmark = pytest.mark.django_db
URL = "/services/statistics/"


@pytest.fixture
def window(dataset):
    """A custom range holding every generated case, as the page's query and as datetimes."""
    today = timezone.localdate()
    start, end = today - dt.timedelta(days=130), today
    tz = timezone.get_default_timezone()
    bounds = (dt.datetime.combine(start, dt.time.min, tzinfo=tz),
              dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz))
    query = {"period": "custom", "start": start.isoformat(), "end": end.isoformat()}
    return query, bounds


def _cases(bounds, **filters) -> list[Case]:
    return list(Case.objects.filter(submitted_at__gte=bounds[0], submitted_at__lt=bounds[1],
                                    **filters).select_related("version", "clock")
                .prefetch_related("ratings__rectification"))


def _pct(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def test_statistics__by_department__page_equals_case_statistics_and_a_count_here(
        dataset, window, client_for):
    admin = dataset.users["district_admin"]
    query, bounds = window
    response = client_for(admin).get(URL, {**query, "by": "department"})
    assert response.status_code == 200
    report = response.context["report"]
    spine = statistics.case_statistics(actor=admin, start=bounds[0], end=bounds[1],
                                       by="department")
    assert [r.as_dict() for r in report.rows] == [r.as_dict() for r in spine]
    (row,) = report.rows  # the demo catalog here is one department's
    mine = expected(_cases(bounds, department=dataset.department))
    assert {k: row.as_dict()[k] for k in mine} == mine
    assert report.total.cases == mine["cases"] == Case.objects.filter(
        submitted_at__isnull=False).count()
    html = response.content.decode()
    assert _pct(mine["online_rate"]) in html and _pct(mine["satisfaction_rate"]) in html
    assert f"n={mine['ratings']}" in html  # the rate says what it is counted over
    assert 'role="img"' in html and "<title id=\"chart-cases-title\">" in html


def test_statistics__by_channel__rows_add_up_and_each_equals_a_count_here(
        dataset, window, client_for):
    query, bounds = window
    response = client_for(dataset.users["district_admin"]).get(URL, {**query, "by": "channel"})
    rows = response.context["report"].rows
    assert sum(r.cases for r in rows) == response.context["report"].total.cases
    for row in rows:
        mine = expected(_cases(bounds, channel=row.key))
        assert {k: row.as_dict()[k] for k in mine} == mine
        assert row.label == str(Channel(row.key).label)
        assert row.limit_reduction is None  # a catalog figure, not split by channel


def test_statistics__by_month__one_row_per_month_each_counted_here(dataset, client_for):
    today = timezone.localdate()
    year = str(today.year)
    response = client_for(dataset.users["district_admin"]).get(URL, {"period": year,
                                                                      "by": "month"})
    report = response.context["report"]
    # Months still to come have no figures yet: the rows stop at this month.
    assert [r.key for r in report.rows] == [f"{year}-{m:02d}-01"
                                            for m in range(1, today.month + 1)]
    tz = timezone.get_default_timezone()
    for row in report.rows:
        first = dt.date.fromisoformat(row.key)
        following = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
        cases = _cases((dt.datetime.combine(first, dt.time.min, tzinfo=tz),
                        dt.datetime.combine(following, dt.time.min, tzinfo=tz)))
        assert row.cases == len(cases)
        if cases:
            mine = expected(cases)
            assert {k: row.as_dict()[k] for k in mine} == mine
    assert sum(r.cases for r in report.rows) == report.total.cases
    assert 'class="yw-chart yw-chart--line"' in response.content.decode()


def test_statistics__quarter_period__counts_only_that_quarter(dataset, client_for):
    today = timezone.localdate()
    value = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    period = period_of(value)
    assert period is not None and period.start.month in (1, 4, 7, 10)
    response = client_for(dataset.users["district_admin"]).get(URL, {"period": value})
    start, end = period.bounds()
    assert response.context["report"].total.cases == Case.objects.filter(
        submitted_at__gte=start, submitted_at__lt=end).count()


def test_statistics__filters__matter_and_channel(dataset, window, client_for):
    query, bounds = window
    case = Case.objects.filter(submitted_at__isnull=False, channel="window").first()
    response = client_for(dataset.users["district_admin"]).get(URL, {
        **query, "by": "matter", "matter": case.matter.implementation_code,
        "channel": "window"})
    (row,) = response.context["report"].rows
    mine = expected(_cases(bounds, matter=case.matter, channel="window"))
    assert {k: row.as_dict()[k] for k in mine} == mine
    assert response.context["report"].total.cases == mine["cases"]


@pytest.mark.parametrize("query, field", [
    ({"period": "2026-13"}, "period"),
    ({"period": "custom", "start": "2026-05-01"}, "end"),
    ({"period": "custom", "start": "2026-05-01", "end": "2026-04-01"}, "end"),
    ({"period": "custom", "start": "2020-01-01", "end": "2026-01-01"}, "end"),
    ({"by": "weekday"}, "by"),
    ({"department": "440399002000"}, "department"),  # not a unit with matters in scope
])
def test_statistics__bad_filter__400_with_the_reason_and_no_figures(dataset, client_for,
                                                                     query, field):
    response = client_for(dataset.users["district_admin"]).get(URL, query)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert response.context["report"] is None
    assert "yw-error-summary" in response.content.decode()


def test_statistics__street_admin_sees_only_their_streets_units(district, client_for):
    """A street's admin: their street's department figures, never the other street's."""
    version_a = _matter(district.street_a, 1)
    version_b = _matter(district.street_b, 2)
    applicant = make_citizen()
    for serial, version in enumerate([version_a, version_a, version_b], start=1):
        _case(version, version.department, applicant, "submitted", serial)
    response = client_for(district.users["street_a_admin"]).get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert [r.label for r in response.context["report"].rows] == [district.street_a.name]
    assert response.context["report"].total.cases == 2
    assert district.street_b.name not in html and version_b.name not in html
    refused = client_for(district.users["street_a_admin"]).get(
        URL, {"department": district.street_b.code})
    assert refused.status_code == 400
    overall = client_for(district.users["district_admin"]).get(URL)
    assert overall.context["report"].total.cases == 3


@pytest.mark.parametrize("who, status", [
    ("grid_worker_a", 403), ("auditor", 403), ("citizen", 403), ("clerk_a", 200)])
def test_statistics__who_may_open_it(district, client_for, who, status):
    user = make_citizen() if who == "citizen" else district.users[who]
    assert client_for(user).get(URL).status_code == status


def test_statistics__supervisor_of_a_street__sees_nothing_of_the_department(dataset,
                                                                           client_for):
    viewer = make_staff("viewer_b", dataset.street_b, Role.SUPERVISOR)
    response = client_for(viewer).get(URL)
    assert response.status_code == 200
    assert response.context["report"].rows == [] and response.context["report"].total.cases == 0
    assert dataset.department.name not in response.content.decode()


# --- exports --------------------------------------------------------------------------------

def test_statistics__csv__utf8_bom_and_the_page_figures(dataset, window, client_for):
    query, _bounds = window
    client = client_for(dataset.users["district_admin"])
    page = client.get(URL, {**query, "by": "channel"}).context["report"]
    response = client.get(URL, {**query, "by": "channel", "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for Chinese
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert header[:3] == [_("By channel"), _("Cases"), f"{_('Online rate')} (%)"]
    assert len(body) == len(page.rows) + 1 and body[-1][0] == _("Total")
    for line, figures in zip(body, [*page.rows, page.total], strict=True):
        assert line[0] == figures.label and int(line[1]) == figures.cases
        assert float(line[2]) == pytest.approx(figures.online_rate * 100, abs=0.005)
        satisfaction = header.index(f"{_('Satisfaction rate')} (%)")
        assert line[satisfaction] == ("" if figures.satisfaction_rate is None
                                      else f"{figures.satisfaction_rate * 100:.2f}")
        assert int(line[satisfaction + 1]) == figures.ratings


def test_statistics__xlsx__header_number_formats_and_the_page_figures(dataset, window,
                                                                      client_for):
    query, _bounds = window
    client = client_for(dataset.users["district_admin"])
    page = client.get(URL, {**query, "by": "department"}).context["report"]
    response = client.get(URL, {**query, "by": "department", "format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header[:2] == [_("By department"), _("Cases")] and sheet["A1"].font.bold
    row = [c for c in sheet[2]]
    figures = page.rows[0]
    assert row[0].value == figures.label and row[1].value == figures.cases
    online = header.index(f"{_('Online rate')} (%)")
    assert row[online].value == figures.online_rate and row[online].number_format == "0.0%"
    assert row[1].number_format == "#,##0"
    total = [c.value for c in sheet[sheet.max_row]]
    assert total[0] == _("Total") and total[1] == page.total.cases
    notes = book.worksheets[1]
    assert any(_("Online rate") == (r[0].value or "") for r in notes.iter_rows())


def test_statistics__export_ignores_nothing__a_bad_format_is_refused(dataset, client_for):
    response = client_for(dataset.users["district_admin"]).get(URL, {"format": "pdf"})
    assert response.status_code == 400 and response["Content-Type"].startswith("text/html")


def test_statistics__voided_rating_left_out_of_satisfaction(dataset, window, client_for):
    query, _bounds = window
    client = client_for(dataset.users["district_admin"])
    total = client.get(URL, query).context["report"].total
    voided = Rating.objects.filter(rectification__status="voided").count()
    assert total.ratings == Rating.objects.count() - voided


def test_case_statistics__by_none_with_a_department__reduction_of_that_department_only(
        district):
    version_a = _matter(district.street_a, 1)  # (20 − 5) / 20 = 0.75
    version_b = _matter(district.street_b, 2)
    type(version_b).objects.filter(pk=version_b.pk).update(promised_limit=10)  # 0.5
    applicant = make_citizen()
    _case(version_a, district.street_a, applicant, "submitted", 1)
    _case(version_b, district.street_b, applicant, "submitted", 2)
    now = timezone.now()
    (figures,) = statistics.case_statistics(
        actor=district.users["district_admin"], start=now - dt.timedelta(days=1),
        end=now + dt.timedelta(days=1), by="none", department_id=district.street_a.pk)
    assert figures.cases == 1
    assert figures.limit_reduction == 0.75


def test_statistics__total_with_a_department_filter__reduction_of_that_department(
        district, client_for):
    version_a = _matter(district.street_a, 1)
    version_b = _matter(district.street_b, 2)
    type(version_b).objects.filter(pk=version_b.pk).update(promised_limit=10)
    applicant = make_citizen()
    _case(version_a, district.street_a, applicant, "submitted", 1)
    _case(version_b, district.street_b, applicant, "submitted", 2)
    client = client_for(district.users["district_admin"])
    report = client.get(URL, {"department": district.street_a.code}).context["report"]
    assert report.total.cases == 1 and report.total.limit_reduction == 0.75
    overall = client.get(URL).context["report"]
    assert overall.total.limit_reduction == 0.625
