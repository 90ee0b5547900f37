"""Schemas of the 一网通办 JSON API: ``<Entity>In`` / ``<Entity>Out``, named after the glossary.

Personal data leaves the API masked (applicant names, phone and ID numbers in form data)
unless the caller is the applicant or a role allowed to see it; the resolvers below take
the request from the serialisation ``context`` to decide.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from yiwang.core import policies
from yiwang.core.schemas import OrgUnitRef, json_integer
from yiwang.core.validators import mask_id_number, mask_name, mask_phone

from .models import (
    CaseMaterialKind,
    CaseStatus,
    Channel,
    RatingChannel,
    RectificationStatus,
    TimeState,
    VersionStatus,
)

NOT_BLANK = r"\S"
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
MatterCode = Annotated[str, Field(min_length=1, max_length=60,
                                  examples=["11440300MB2C92416M4440300001000"])]
Reason = Annotated[str, Field(min_length=1, max_length=2000, pattern=NOT_BLANK,
                              description="Shown to the applicant and kept in the audit log")]


def json_date(value: Any) -> Any:
    """A calendar date written ``YYYY-MM-DD``: pydantic's lax mode would also read a number
    as a Unix timestamp."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str) or not ISO_DATE.match(value):
        raise PydanticCustomError("date_type", "Input should be a valid date")
    return value


IsoDate = Annotated[dt.date, BeforeValidator(json_date)]
# JSON integers only (lax mode would take "3" and true); Field first, see core.schemas.Id.
Level = Annotated[int, Field(ge=1, le=5, description="5 非常满意 … 1 非常不满意",
                             examples=[5]), BeforeValidator(json_integer)]


# --- who is looking ---------------------------------------------------------------------


def _viewer(context: Any) -> Any:
    request = (context or {}).get("request")
    return getattr(request, "user", None)


def sees_personal_data(viewer: Any, applicant_id: int | None) -> bool:
    """The applicant sees their own data; staff only with the personal-data permission."""
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return False
    if applicant_id is not None and viewer.pk == applicant_id:
        return True
    return policies.can_view_personal_data(viewer)


PHONE_KEYS = ("phone", "mobile", "tel")
ID_KEYS = ("id_number", "id_card", "idcard", "credit_code")


def mask_form_data(data: Any) -> Any:
    """Phone and ID numbers in application data, masked by their field names."""
    if not isinstance(data, dict):
        return data
    masked: dict[str, Any] = {}
    for key, value in data.items():
        lowered = str(key).lower()
        if isinstance(value, dict):
            masked[key] = mask_form_data(value)
        elif isinstance(value, str) and any(k in lowered for k in PHONE_KEYS):
            masked[key] = mask_phone(value)
        elif isinstance(value, str) and any(k in lowered for k in ID_KEYS):
            masked[key] = mask_id_number(value)
        else:
            masked[key] = value
    return masked


# --- catalog ----------------------------------------------------------------------------


class ThemeOut(Schema):
    code: str = Field(examples=["birth"])
    name: str = Field(examples=["生育"])
    audience: str = Field(description="person or enterprise")


class MaterialOut(Schema):
    """申请材料: one document or data item the matter requires."""

    code: str = Field(examples=["application"])
    name: str = Field(examples=["申请表"])
    required: bool
    condition: str = Field(description="When it is required, if conditional")
    originals: int
    copies: int
    issuer: str
    source: str = Field(description="upload, license (electronic license) or registry")
    license_type: str
    may_be_deficient: bool = Field(description="May be supplied after acceptance (容缺)")


class MatterOut(Schema):
    """A published matter in the catalog list."""

    code: str = Field(description="Implementation code (实施编码)",
                      examples=["11440300MB2C92416M4440300001000"])
    name: str = Field(examples=["建筑工程施工许可证核发"])
    department: OrgUnitRef
    version: int = Field(description="Number of the version in force")
    matter_type: str = Field(description="事项类型 code, e.g. 01 administrative licence")
    service_objects: list[str] = Field(examples=[["person", "enterprise"]])
    themes: list[ThemeOut]
    case_kind: str = Field(description="immediate (即办件) or promised (承诺件)")
    statutory_limit: int | None
    statutory_unit: str
    promised_limit: int
    promised_unit: str
    handling_forms: list[str] = Field(examples=[["window", "pc", "mobile"]])
    online_depth: int = Field(description="1–4; 4 is 全程网办")
    visits: int = Field(description="On-site visits needed (0, 1 or 2)")

    @staticmethod
    def resolve_code(obj: Any) -> str:
        return str(obj.implementation_code)

    @staticmethod
    def resolve_version(obj: Any) -> int:
        return int(obj.number)

    @staticmethod
    def resolve_themes(obj: Any) -> list[Any]:
        return list(obj.themes.all())


class MatterDetailOut(MatterOut):
    """The 办事指南 of a matter: its version in force with materials, flags and limits."""

    basic_code: str
    handling_item_code: str
    legal_basis: str
    exercise_level: str
    effective_from: dt.date | None
    limit_note: str
    visits_reason: str
    has_fee: bool
    fee_basis: str
    fee_standard: str
    acceptance_conditions: str
    steps: list[Any] = Field(description="[{name, description}] in order")
    result_name: str
    result_type: str
    locations: list[Any]
    hours: str
    consult_phone: str
    complaint_phone: str
    faq: list[Any] = Field(description="[{q, a}]")
    deficiency_allowed: bool = Field(description="容缺受理 possible")
    supplement_days: int = Field(description="Working days to supply deficient materials")
    commitment_allowed: bool = Field(description="告知承诺制")
    cross_region: bool = Field(description="跨域通办")
    citywide: bool = Field(description="全市域通办")
    appointment: bool
    postal_delivery: bool
    translations: dict[str, Any] = Field(description="Texts per language ('en', 'zh-hant')")
    form_schema: dict[str, Any] = Field(description="The application form as JSON Schema")
    materials: list[MaterialOut]

    @staticmethod
    def resolve_materials(obj: Any) -> list[Any]:
        return list(obj.materials.all())


class MatterVersionOut(Schema):
    """One version of a matter's implementation list (staff)."""

    id: int
    matter_code: str
    number: int
    status: VersionStatus
    name: str
    department: OrgUnitRef
    effective_from: dt.date | None
    effective_to: dt.date | None
    change_note: str
    created_at: dt.datetime
    published_at: dt.datetime | None

    @staticmethod
    def resolve_matter_code(obj: Any) -> str:
        return str(obj.matter.implementation_code)


class MatterVersionDetailOut(MatterDetailOut):
    id: int
    matter_code: str
    status: VersionStatus
    number: int
    effective_to: dt.date | None
    change_note: str
    findings: list[QualityFindingOut] = Field(
        description="Catalog-quality findings of this version")

    @staticmethod
    def resolve_matter_code(obj: Any) -> str:
        return str(obj.matter.implementation_code)

    @staticmethod
    def resolve_findings(obj: Any) -> list[Any]:
        from .catalog import quality_findings

        return [vars(f) for f in quality_findings(obj)]


class QualityFindingOut(Schema):
    rule: str = Field(examples=["visits_reason"])
    field: str = Field(examples=["visits_reason"])
    message: str
    severity: Literal["error", "warning"] = Field(
        description="An error blocks review and publication")


MatterVersionDetailOut.model_rebuild()


class VersionChangeOut(Schema):
    field: str = Field(examples=["promised_limit"])
    old: Any = Field(examples=[10])
    new: Any = Field(examples=[5])


class VersionDiffOut(Schema):
    """What changed from the previous version (none: the first version)."""

    matter_code: str
    from_version: int | None
    to_version: int
    changes: list[VersionChangeOut]


class VersionFindingsOut(Schema):
    version_id: int
    matter_code: str
    name: str
    number: int
    status: VersionStatus
    findings: list[QualityFindingOut]


class CatalogReportOut(Schema):
    """The catalog-quality report of one department."""

    department: OrgUnitRef
    errors: int
    warnings: int
    versions: list[VersionFindingsOut]


# --- cases ------------------------------------------------------------------------------


class MatterRef(Schema):
    code: str
    name: str


class AssigneeRef(Schema):
    username: str
    name: str


class CaseOut(Schema):
    """A case (办件) in a list."""

    number: str = Field(description="<district 6><yyyymmdd><6-digit sequence>",
                        examples=["44039920261122000123"])
    matter: MatterRef
    version: int = Field(description="Version of the matter the case was filed under")
    department: OrgUnitRef = Field(description="Handling department")
    intake_unit: OrgUnitRef = Field(description="Unit whose window took it in (综合窗口)")
    applicant_name: str = Field(description="Masked unless you are the applicant or may "
                                            "see personal data")
    channel: Channel
    status: CaseStatus
    status_label: str
    time_state: TimeState = Field(description="正常 / 预警 / 逾期")
    assigned_to: AssigneeRef | None
    due_at: dt.datetime | None = Field(description="Deadline of the promised limit")
    submitted_at: dt.datetime | None
    closed_at: dt.datetime | None
    created_at: dt.datetime
    revision: int = Field(description="Send it back with an action (optimistic locking)")

    @staticmethod
    def resolve_matter(obj: Any) -> dict[str, str]:
        return {"code": obj.matter.implementation_code, "name": obj.matter.name}

    @staticmethod
    def resolve_version(obj: Any) -> int:
        return int(obj.version.number)

    @staticmethod
    def resolve_applicant_name(obj: Any, context: Any) -> str:
        if sees_personal_data(_viewer(context), obj.applicant_id):
            return str(obj.applicant_name)
        return mask_name(obj.applicant_name)

    @staticmethod
    def resolve_status_label(obj: Any) -> str:
        return str(CaseStatus(obj.status).label)

    @staticmethod
    def resolve_assigned_to(obj: Any) -> Any:
        return obj.assigned_to if obj.assigned_to_id else None

    @staticmethod
    def resolve_due_at(obj: Any) -> dt.datetime | None:
        return obj.clock.due_at if obj.clock_id else None


class CaseActionOut(Schema):
    name: str = Field(examples=["accept"],
                      description="POST /api/cases/{number}/actions/<name>")
    label: str = Field(examples=["受理"])


class CaseDeficiencyOut(Schema):
    kind: str = Field(description="deficient (容缺) or supplement (补正)")
    material: str | None = Field(description="Material code, if it is one of the matter's")
    description: str
    due_at: dt.datetime | None
    supplied_at: dt.datetime | None

    @staticmethod
    def resolve_material(obj: Any) -> str | None:
        return obj.material.code if obj.material_id else None


class CaseExtensionOut(Schema):
    days: int
    reason: str
    status: str
    requested_at: dt.datetime
    decided_at: dt.datetime | None


class CaseDeadlineOut(Schema):
    unit: str = Field(description="workdays or hours")
    limit: int
    started_at: dt.datetime
    due_at: dt.datetime
    paused: bool = Field(description="Stopped for a special procedure or a supplement")
    stopped_at: dt.datetime | None
    remaining: int = Field(description="Working days (or hours) left; negative: overdue")


class CaseDetailOut(CaseOut):
    """A case with what the caller may do next."""

    form_data: dict[str, Any] = Field(description="Application data; personal numbers "
                                                  "masked as for applicant_name")
    delivery_method: str
    accepted_at: dt.datetime | None
    decided_at: dt.datetime | None
    deficiency_due_at: dt.datetime | None = Field(description="容缺 supplement deadline")
    deadline: CaseDeadlineOut | None
    deficiencies: list[CaseDeficiencyOut]
    extensions: list[CaseExtensionOut]
    allowed_actions: list[CaseActionOut] = Field(description="Transitions you may perform now")

    @staticmethod
    def resolve_form_data(obj: Any, context: Any) -> Any:
        if sees_personal_data(_viewer(context), obj.applicant_id):
            return obj.form_data
        return mask_form_data(obj.form_data)

    @staticmethod
    def resolve_deficiencies(obj: Any) -> list[Any]:
        return list(obj.deficiencies.all())

    @staticmethod
    def resolve_extensions(obj: Any) -> list[Any]:
        return list(obj.extensions.all())


class CaseIn(Schema):
    """A new case (a draft). Citizens and enterprises file for themselves (channel pc or
    mobile); a window clerk files for a registered applicant named by ID number or
    unified social credit code (channel window, post or self_service)."""

    matter_code: MatterCode
    form_data: dict[str, Any] = Field(default_factory=dict, max_length=200,
                                      description="Checked against the matter version's "
                                                  "form_schema",
                                      examples=[{"project": "示范小学扩建工程"}])
    channel: Channel | None = Field(None, description="Default: pc online, window for staff")
    applicant_id_number: str | None = Field(None, min_length=15, max_length=18,
                                            description="Clerks: the citizen's ID number")
    applicant_credit_code: str | None = Field(None, min_length=18, max_length=18,
                                              description="Clerks: the enterprise's code")


class CaseEventOut(Schema):
    """One step of a case's timeline."""

    action: str = Field(examples=["accept"])
    from_status: str
    to_status: str
    actor: str = Field(description="Who acted (applicants masked as applicant_name)")
    reason: str
    data: dict[str, Any]
    at: dt.datetime


class CaseMaterialOut(Schema):
    """A file supplied for a case; download it from /api/materials/{id}."""

    id: int
    kind: CaseMaterialKind
    material: str | None = Field(description="The matter's material code it answers")
    original_name: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: dt.datetime

    @staticmethod
    def resolve_material(obj: Any) -> str | None:
        return obj.material.code if obj.material_id else None


# --- transitions ------------------------------------------------------------------------


class RevisionIn(Schema):
    revision: Annotated[int, Field(ge=0, le=2**31 - 1, description=(
        "The revision you saw (of the case or rectification); 409 when it changed")),
        BeforeValidator(json_integer)]


class ReasonIn(RevisionIn):
    reason: Reason


class DeficiencyItemIn(Schema):
    material: str | None = Field(None, max_length=40,
                                 description="Code of one of the matter's materials")
    description: str = Field("", max_length=300)


class DeficiencyListIn(RevisionIn):
    items: list[DeficiencyItemIn] = Field(min_length=1, max_length=50)


class SupplementRequestIn(DeficiencyListIn):
    reason: Reason


class AssignIn(RevisionIn):
    assignee: str = Field(min_length=1, max_length=150,
                          description="User name of a reviewer of the handling department")


class SuspendIn(RevisionIn):
    procedure: Literal["hearing", "inspection", "expert_review", "testing", "public_notice"]
    reason: Reason


class ExtensionRequestIn(RevisionIn):
    days: Annotated[int, Field(ge=1, le=60, description="Working days"),
                    BeforeValidator(json_integer)]
    reason: Reason


class ExtensionDecisionIn(RevisionIn):
    approve: bool
    reason: str = Field("", max_length=2000)


class ApproveIn(RevisionIn):
    opinion: str = Field("", max_length=2000)


class DeliverIn(RevisionIn):
    method: Literal["download", "post", "window"]


# --- 好差评 -------------------------------------------------------------------------------


class RatingIn(Schema):
    level: Level
    channel: RatingChannel = Field(RatingChannel.PC, description="One rating per channel")
    tags: list[Annotated[str, Field(max_length=20)]] = Field(default_factory=list,
                                                             max_length=10)
    text: str = Field("", max_length=2000,
                      description="Required for 不满意 and 非常不满意 (or tags)")


class RatingOut(Schema):
    id: int
    case: str | None = Field(description="Case number")
    matter: MatterRef | None
    department: OrgUnitRef
    channel: RatingChannel
    level: int
    level_label: str
    tags: list[str]
    text: str
    created_at: dt.datetime
    rectification_id: int | None = Field(description="The 整改 a bad rating opened")

    @staticmethod
    def resolve_case(obj: Any) -> str | None:
        return obj.case.number if obj.case_id else None

    @staticmethod
    def resolve_matter(obj: Any) -> dict[str, str] | None:
        if not obj.matter_id:
            return None
        return {"code": obj.matter.implementation_code, "name": obj.matter.name}

    @staticmethod
    def resolve_level_label(obj: Any) -> str:
        return str(obj.get_level_display())

    @staticmethod
    def resolve_rectification_id(obj: Any) -> int | None:
        rectification = getattr(obj, "rectification", None)
        return rectification.pk if rectification is not None else None


class RectificationOut(Schema):
    """整改 of a bad rating."""

    id: int
    rating: RatingOut
    department: OrgUnitRef
    status: RectificationStatus
    status_label: str
    due_at: dt.datetime
    verification: str
    contact_note: str
    result: str
    callback_level: int | None
    callback_note: str
    appeal_reason: str
    appeal_decision: str
    created_at: dt.datetime
    closed_at: dt.datetime | None
    revision: int

    @staticmethod
    def resolve_status_label(obj: Any) -> str:
        return str(RectificationStatus(obj.status).label)

    @staticmethod
    def resolve_due_at(obj: Any) -> dt.datetime:
        return obj.clock.due_at


class RectificationDetailOut(RectificationOut):
    allowed_actions: list[str] = Field(
        description="POST /api/rectifications/{id}/actions/<name> you may perform now")


class ContactIn(RevisionIn):
    verification: str = Field(min_length=1, max_length=2000, pattern=NOT_BLANK,
                              description="What was verified")
    contact_note: str = Field(min_length=1, max_length=2000, pattern=NOT_BLANK,
                              description="How the applicant was contacted")


class RectifyIn(RevisionIn):
    result: str = Field(min_length=1, max_length=2000, pattern=NOT_BLANK)


class CallbackIn(RevisionIn):
    level: Level = Field(description="The applicant's view after rectification")
    note: str = Field("", max_length=2000)


class AppealIn(RevisionIn):
    reason: Reason


class AppealDecisionIn(RevisionIn):
    uphold: bool = Field(description="true: the rating is voided; false: rectify it")
    decision: Reason


# --- statistics -------------------------------------------------------------------------


class ServiceFiguresOut(Schema):
    """The figures of one department, matter, channel or month (as on the statistics
    page). Rates are fractions 0–1; null when there is nothing to divide by."""

    key: str = Field(description="Department or matter code, channel, or YYYY-MM")
    label: str
    cases: int
    online_rate: float | None = Field(description="网办率")
    immediate_rate: float | None = Field(description="即办率")
    zero_visit_rate: float | None = Field(description="零跑动率")
    limit_reduction: float | None = Field(description="(statutory − promised) / statutory")
    avg_handling_hours: float | None
    decided: int
    overdue: int
    ratings: int
    satisfaction_rate: float | None
    bad_ratings: int
    rectification_rate: float | None = Field(description="Bad ratings rectified")
