"""The demo catalog and cases: plausible, valid, in every state."""

import pytest

from yiwang.core.tests.factories import make_citizen
from yiwang.services import catalog, demo
from yiwang.services.models import Case, CaseStatus, Matter, MatterVersion

pytestmark = pytest.mark.django_db


def test_demo_matters__pass_the_catalog_quality_rules():
    """Every demo matter passes the same checks a department's matter must pass."""
    from yiwang.core.models import OrgUnit
    from yiwang.core.models.org import OrgKind

    district = OrgUnit.objects.create(code="440399000000", name="示范区", kind=OrgKind.DISTRICT)
    for index, short in enumerate(sorted({m.dept for m in demo.MATTERS})):
        unit = OrgUnit(code=f"D{index:02d}", name=f"示范区{short}", short_name=short,
                       kind=OrgKind.DEPARTMENT, parent=district)
        unit.save()
    assert demo.load_demo_catalog(district=district) == len(demo.MATTERS)
    assert demo.load_demo_catalog(district=district) == 0  # idempotent
    errors = {v.name: catalog.errors_of(v) for v in MatterVersion.objects.all()}
    assert {name: e for name, e in errors.items() if e} == {}
    assert Matter.objects.filter(published__isnull=False).count() == len(demo.MATTERS)


def test_demo_cases__every_state_present_and_timelines_consistent(district):
    from yiwang.core.models import OrgUnit

    OrgUnit.objects.filter(pk=district.department.pk).update(short_name="住建局")
    demo.load_demo_catalog(district=district.district)
    applicants = [make_citizen(username=f"c{i}", id_number=id_number)
                  for i, id_number in enumerate(["11010519491231002X", "440304199003071235"])]
    created = demo.generate_demo_cases(count=400, applicants=applicants, clerks={},
                                       reviewers={}, ratings=True)
    assert created == 400
    states = set(Case.objects.values_list("status", flat=True))
    assert states == set(CaseStatus.values)
    for case in Case.objects.filter(status=CaseStatus.CLOSED)[:20]:
        actions = list(case.events.values_list("action", flat=True))
        assert actions[0] == "create" and actions[-1] == "close"
        assert case.closed_at >= case.submitted_at
    from yiwang.services.models import Rating, Rectification

    rated = Rating.objects.select_related("case")
    assert rated.exists() and all(r.case.status == CaseStatus.CLOSED for r in rated)
    bad = rated.filter(level__lte=2)
    assert Rectification.objects.count() == bad.count() > 0
