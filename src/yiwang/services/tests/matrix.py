"""The 一网通办 objects of the authorization matrix (see ``yiwang.core.testing.matrix``).

``extend_world`` gives every unit a caller sits in (plus street B and the neighbour's
street, the *outside* units) a published matter of its own, a submitted case, a closed
case with a bad rating and its rectification, and a material file; every citizen and
enterprise caller gets a case of their own in street A, and a citizen *peer* (another
applicant) one too, so ``✓ own`` routes can be probed with someone else's case.

Path parameters: ``number`` (a case), ``matter_code`` (a matter's implementation code),
``version_id``, ``rectification_id``, ``rating_id``, ``material_id``.

Each area adds its ``PAYLOADS``/``QUERIES``/``SKIP_PROBES``/``PK_KINDS``/``KWARG_KINDS``
in ``matrix_parts/<area>.py``; they are merged here.
"""

from __future__ import annotations

import hashlib
import importlib
from typing import Any

from django.core.files.base import ContentFile
from django.utils import timezone

from yiwang.accounts.models import User, UserKind
from yiwang.core.models import OrgUnit
from yiwang.core.testing.matrix import (
    CITIZEN,
    ENTERPRISE,
    MISSING_PK,
    Caller,
    Probe,
    World,
    make_id_number,
    peer_marker,
)
from yiwang.core.workdays import ClockUnit, clock_start
from yiwang.services.models import (
    Case,
    CaseEvent,
    CaseKind,
    CaseMaterial,
    CaseStatus,
    Channel,
    Material,
    Matter,
    MatterType,
    MatterVersion,
    Rating,
    Rectification,
    VersionStatus,
)

MISSING_NUMBER = "44039919700101999999"
MISSING_MATTER = "11440300MISSING0000000000000000"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _matter(unit: OrgUnit, index: int, name: str = "") -> MatterVersion:
    code = f"11440300MB2C92416M44403{index:08d}"
    name = name or f"测试事项 {unit.code} {peer_marker(unit.code)}"
    matter = Matter.objects.create(implementation_code=code, department=unit, name=name)
    version = MatterVersion.objects.create(
        matter=matter, number=1, status=VersionStatus.PUBLISHED, name=name,
        basic_code="000127001000", implementation_code=code, matter_type=MatterType.LICENSE,
        department=unit, service_objects=["person", "enterprise"], statutory_limit=20,
        promised_limit=5, case_kind=CaseKind.PROMISED,
        handling_forms=["window", "pc", "mobile"], visits=0,
        steps=[{"name": s} for s in ("受理", "审查", "决定", "办结", "送达")],
        deficiency_allowed=True, supplement_days=5, published_at=timezone.now(),
        form_schema={"type": "object", "properties": {
            "project": {"type": "string", "title": "项目名称", "maxLength": 100}},
            "required": ["project"]})
    matter.published = version
    matter.save(update_fields=["published"])
    Material.objects.create(version=version, code="application", name="申请表",
                            required=True, originals=1)
    return version


def _case(version: MatterVersion, unit: OrgUnit, applicant: User, status: str,
          serial: int) -> Case:
    now = timezone.now()
    case = Case.objects.create(
        number=f"44039920310506{serial:06d}", matter=version.matter, version=version,
        department=unit, intake_unit=unit, applicant=applicant,
        applicant_name=applicant.name or applicant.username, filed_by=applicant,
        channel=Channel.PC, status=status, form_data={"project": "示范项目"},
        submitted_at=now, closed_at=now if status == CaseStatus.CLOSED else None)
    CaseEvent.objects.create(case=case, action="submit", from_status=CaseStatus.DRAFT,
                             to_status=CaseStatus.SUBMITTED, actor=applicant, at=now)
    return case


def _material(case: Case, uploader: User) -> CaseMaterial:
    item = CaseMaterial(case=case, original_name="申请表.pdf", content_type="application/pdf",
                        size=len(PDF), sha256=hashlib.sha256(PDF).hexdigest(),
                        uploaded_by=uploader)
    item.file.save(f"matrix-{case.number}.pdf", ContentFile(PDF), save=False)
    item.save()
    return item


def extend_world(world: World) -> None:
    serial = iter(range(1, 10_000))
    applicant = User(username="applicant_peer", name=peer_marker("applicant"),
                     kind=UserKind.CITIZEN, id_number=make_id_number(7))
    applicant.set_unusable_password()
    applicant.save()
    units: dict[str, dict[str, Any]] = {}
    for index, code in enumerate(sorted(world.peers), start=1):
        unit = world.peers[code].org_unit
        assert unit is not None
        version = _matter(unit, index)
        open_case = _case(version, unit, applicant, CaseStatus.SUBMITTED, next(serial))
        closed = _case(version, unit, applicant, CaseStatus.CLOSED, next(serial))
        rating = Rating.objects.create(case=closed, matter=version.matter, department=unit,
                                       rater=applicant, channel="pc", level=1, text="慢")
        rectification = Rectification.objects.create(
            rating=rating, department=unit,
            clock=clock_start(unit=ClockUnit.WORKDAYS, limit=15))
        units[code] = {"version": version, "case": open_case, "closed": closed,
                       "rating": rating, "rectification": rectification,
                       "material": _material(open_case, applicant)}
    # Applicants' own objects sit at the district itself, whose name is the portal's brand
    # (no marker): their lists show the matter, department and intake unit.
    street_a = world.district.district
    own: dict[int, dict[str, Any]] = {}
    # Applicants' own cases: a matter whose name carries no marker, as their lists show it.
    own_version = _matter(street_a, 9999, name="测试事项（申请人本人）")
    for caller in world.callers:
        if caller.audience in (CITIZEN, ENTERPRISE) and caller.user is not None:
            version = own_version
            case = _case(version, street_a, caller.user, CaseStatus.SUBMITTED, next(serial))
            closed = _case(version, street_a, caller.user, CaseStatus.CLOSED, next(serial))
            own[caller.user.pk] = {"case": case, "closed": closed,
                                   "material": _material(case, caller.user),
                                   "rating": Rating.objects.create(
                                       case=closed, matter=version.matter,
                                       department=street_a, rater=caller.user,
                                       channel="pc", level=5)}
    world.extra["services"] = {"units": units, "own": own, "applicant": applicant}


# --- probes ---------------------------------------------------------------------------------

def _objects(world: World) -> dict[str, Any]:
    return world.extra["services"]  # type: ignore[no-any-return]


def _scoped_probes(world: World, caller: Caller, key: str, value: Any,
                   missing: Any) -> list[Probe]:
    """A citizen's own object and a stranger's; for staff, the home unit's and an outside
    unit's (both owned by the peer applicant)."""
    data = _objects(world)
    probes: list[Probe] = []
    if caller.audience in (CITIZEN, ENTERPRISE) and caller.user is not None:
        mine = data["own"][caller.user.pk].get(key)
        if mine is not None:
            probes.append(Probe("own", value(mine), caller.user.pk,
                                world.district.district.path))
    home, outside = world.home_unit(caller), world.outside_unit(caller)
    applicant = data["applicant"]
    for label, unit in (("peer", home), ("outside", outside)):
        obj = data["units"][unit.code][key]
        probes.append(Probe(label, value(obj), applicant.pk, unit.path))
    return [*probes, Probe("missing", missing, exists=False)]


def _case_probes(world: World, caller: Caller) -> list[Probe]:
    return _scoped_probes(world, caller, "case", lambda c: c.number, MISSING_NUMBER)


def _closed_case_probes(world: World, caller: Caller) -> list[Probe]:
    return _scoped_probes(world, caller, "closed", lambda c: c.number, MISSING_NUMBER)


def _material_probes(world: World, caller: Caller) -> list[Probe]:
    return _scoped_probes(world, caller, "material", lambda m: m.pk, MISSING_PK)


def _rating_probes(world: World, caller: Caller) -> list[Probe]:
    return _scoped_probes(world, caller, "rating", lambda r: r.pk, MISSING_PK)


def _rectification_probes(world: World, caller: Caller) -> list[Probe]:
    data = _objects(world)
    probes = []
    for label, unit in (("peer", world.home_unit(caller)), ("outside", world.outside_unit(caller))):
        rectification = data["units"][unit.code]["rectification"]
        probes.append(Probe(label, rectification.pk, data["applicant"].pk, unit.path))
    return [*probes, Probe("missing", MISSING_PK, exists=False)]


def _matter_probes(world: World, caller: Caller) -> list[Probe]:
    """Matters belong to their department; published ones are public (``✓`` routes)."""
    data = _objects(world)
    probes = []
    for label, unit in (("peer", world.home_unit(caller)), ("outside", world.outside_unit(caller))):
        version = data["units"][unit.code]["version"]
        probes.append(Probe(label, version.implementation_code, None, unit.path))
    return [*probes, Probe("missing", MISSING_MATTER, exists=False)]


def _version_probes(world: World, caller: Caller) -> list[Probe]:
    data = _objects(world)
    probes = []
    for label, unit in (("peer", world.home_unit(caller)), ("outside", world.outside_unit(caller))):
        version = data["units"][unit.code]["version"]
        probes.append(Probe(label, version.pk, None, unit.path))
    return [*probes, Probe("missing", MISSING_PK, exists=False)]


PROBES = {
    "case": _case_probes,
    "closed_case": _closed_case_probes,
    "case_material": _material_probes,
    "rating": _rating_probes,
    "rectification": _rectification_probes,
    "matter": _matter_probes,
    "matter_version": _version_probes,
}
KWARG_KINDS: dict[str, str] = {
    "number": "case",
    "matter_code": "matter",
    "version_id": "matter_version",
    "rectification_id": "rectification",
    "rating_id": "rating",
    "material_id": "case_material",
}
PK_KINDS: dict[str, str] = {}
PAYLOADS: dict[str, Any] = {}
QUERIES: dict[str, dict[str, Any]] = {}
SKIP_PROBES: dict[tuple[str, str], str] = {}

for _area in ("public", "applicant", "staff", "catalog_admin", "insight", "documents", "api"):
    _module = importlib.import_module(f"yiwang.services.tests.matrix_parts.{_area}")
    for _name, _target in (("PROBES", PROBES), ("KWARG_KINDS", KWARG_KINDS),
                           ("PK_KINDS", PK_KINDS), ("PAYLOADS", PAYLOADS),
                           ("QUERIES", QUERIES), ("SKIP_PROBES", SKIP_PROBES)):
        _target.update(getattr(_module, _name, {}))
