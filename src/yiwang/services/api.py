"""The 一网通办 JSON API: /api/matters, /api/cases, /api/ratings, /api/rectifications.

Scoped exactly like the pages: citizens and enterprises see their own cases and ratings,
staff what lies in their org unit's subtree, an API token its unit and permissions
(``core.policies``). Outside the scope is 404, visible but not allowed 403. Every case
transition is its own operation, ``POST /api/cases/{number}/actions/<transition>``, whose
body carries the transition's fields and the ``revision`` the client saw: a stale
revision is 409, a transition the state does not allow 422.
"""

# No ``from __future__ import annotations``: the transition operations are built in a
# loop, and django-ninja reads their (closure-local) annotations as objects.

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from ninja import File, Form, Path, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from yiwang.accounts.models import User, UserKind
from yiwang.core import policies
from yiwang.core.api_actions import Action, call
from yiwang.core.api_errors import ERRORS, error_body
from yiwang.core.models import OrgUnit
from yiwang.core.schemas import MAX_ID, ErrorOut, Pagination
from yiwang.core.validators import mask_name
from yiwang.core.workdays import clock_remaining

from . import cases, ratings, uploads
from .catalog import catalog_report, version_diff
from .models import (
    Case,
    CaseEvent,
    CaseMaterial,
    CaseMaterialKind,
    CaseStatus,
    Channel,
    Deficiency,
    Extension,
    Material,
    Matter,
    MatterVersion,
    Rating,
    RatingChannel,
    Rectification,
    RectificationStatus,
    ServiceObject,
    TimeState,
    VersionStatus,
)
from .schemas import (
    AppealDecisionIn,
    AppealIn,
    ApproveIn,
    AssignIn,
    CallbackIn,
    CaseDetailOut,
    CaseEventOut,
    CaseIn,
    CaseMaterialOut,
    CaseOut,
    CatalogReportOut,
    ContactIn,
    DeficiencyListIn,
    DeliverIn,
    ExtensionDecisionIn,
    ExtensionRequestIn,
    IsoDate,
    MatterDetailOut,
    MatterOut,
    MatterVersionDetailOut,
    MatterVersionOut,
    RatingIn,
    RatingOut,
    ReasonIn,
    RectificationDetailOut,
    RectificationOut,
    RectifyIn,
    RevisionIn,
    ServiceFiguresOut,
    SupplementRequestIn,
    SuspendIn,
    VersionDiffOut,
    sees_personal_data,
)
from .statistics import case_statistics

router = Router(tags=["services"])

CASE_NUMBER = Path(..., min_length=1, max_length=32, pattern=r"^[0-9]+$",
                   description="Case number, e.g. 44039920261122000123")
MATTER_CODE = Path(..., min_length=1, max_length=60, description="Implementation code")
OBJECT_ID = Path(..., ge=1, le=MAX_ID)
CODE_QUERY = Query(None, max_length=60)
DAY_FROM = Query(None, description="YYYY-MM-DD")
DAY_TO = Query(None, description="YYYY-MM-DD, inclusive")
UPLOAD_FILE = File(None, description="The file")
UPLOAD_KIND = Form(CaseMaterialKind.MATERIAL)
UPLOAD_MATERIAL = Form(None, max_length=40, description="Code of the matter's material")
TRANSITION_ERRORS = {200: CaseDetailOut, 409: ErrorOut, **ERRORS}
# Dates the statistics and filters can count in; further out changes nothing.
FIRST_DAY, LAST_DAY = dt.date(1970, 1, 1), dt.date(2099, 12, 31)


def _day_start(day: dt.date) -> dt.datetime:
    day = min(max(day, FIRST_DAY), LAST_DAY)
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _action_error(exc: ValidationError) -> Status[dict[str, Any]] | None:
    """A refused transition as the API answers it: 409 when someone else changed the
    object meanwhile, 422 when its state does not allow it; None for field errors."""
    code = getattr(exc, "code", None)
    if hasattr(exc, "error_dict") or code is None:
        return None
    message = exc.messages[0]
    if code == "stale":
        return Status(409, error_body("stale", message))
    return Status(422, error_body(str(code), message))


def _perform(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except ValidationError as exc:
        answer = _action_error(exc)
        if answer is None:
            raise
        return answer


def _stale(expected: int, current: int) -> Status[dict[str, Any]] | None:
    if expected != current:
        return Status(409, error_body(
            "stale", _("Someone else changed this case meanwhile; reload it and try again.")))
    return None


# --- catalog ----------------------------------------------------------------------------


def _published() -> QuerySet[MatterVersion]:
    """Versions in force (publishing retires the previous one)."""
    return (MatterVersion.objects.filter(status=VersionStatus.PUBLISHED)
            .select_related("department", "matter").prefetch_related("themes"))


@router.get("/matters", response={200: list[MatterOut], **ERRORS}, auth=None,
            tags=["catalog"], summary="The published catalog of service matters")
@paginate(Pagination)
def matter_list(request: HttpRequest,
                q: str | None = Query(None, max_length=50,
                                      description="Name, pinyin or initials (jzgc), or code"),
                department: str | None = Query(None, max_length=18,
                                               description="Department org unit code"),
                service_object: ServiceObject | None = None,
                theme: str | None = Query(None, max_length=40,
                                          description="Life-event or enterprise theme code")
                ) -> object:
    versions = _published()
    if q and q.strip():
        term = q.strip()
        versions = versions.filter(Q(name__icontains=term)
                                   | Q(matter__name_pinyin__icontains=term.lower())
                                   | Q(implementation_code__icontains=term))
    if department:
        versions = versions.filter(department__code=department)
    if service_object:
        # The JSON list's text; works on SQLite and PostgreSQL alike.
        versions = versions.filter(service_objects__icontains=f'"{service_object.value}"')
    if theme:
        versions = versions.filter(themes__code=theme)
    return versions.order_by("implementation_code")


@router.get("/matters/{matter_code}", response={200: MatterDetailOut, **ERRORS}, auth=None,
            tags=["catalog"], summary="The 办事指南 of a matter: its version in force")
def matter_detail(request: HttpRequest, matter_code: str = MATTER_CODE) -> object:
    version = (_published().prefetch_related("materials")
               .filter(matter__implementation_code=matter_code).first())
    if version is None:
        raise Http404
    return version


def _versions_in_scope(actor: Any) -> QuerySet[MatterVersion]:
    return policies.restrict(MatterVersion.objects.select_related("department", "matter"),
                             actor)


@router.get("/matters/{matter_code}/versions", response={200: list[MatterVersionOut], **ERRORS},
            tags=["catalog"], summary="Every version of a matter (staff in scope)")
@paginate(Pagination)
def matter_version_list(request: HttpRequest, matter_code: str = MATTER_CODE) -> object:
    versions = _versions_in_scope(request.user).filter(
        matter__implementation_code=matter_code).order_by("-number")
    if not versions.exists():  # every matter has a version: none means out of scope
        raise Http404
    return versions


def _version_get(actor: Any, version_id: int) -> MatterVersion:
    return policies.get_for_action(
        MatterVersion.objects.select_related("department", "matter")
        .prefetch_related("themes", "materials"), actor, pk=version_id)


@router.get("/matter-versions/{version_id}", response={200: MatterVersionDetailOut, **ERRORS},
            tags=["catalog"], summary="One version with its quality findings (staff)")
def matter_version_detail(request: HttpRequest, version_id: int = OBJECT_ID) -> object:
    return _version_get(request.user, version_id)


@router.get("/matter-versions/{version_id}/diff", response={200: VersionDiffOut, **ERRORS},
            tags=["catalog"], summary="What changed from the previous version (staff)")
def matter_version_diff(request: HttpRequest, version_id: int = OBJECT_ID) -> object:
    version = _version_get(request.user, version_id)
    previous = (MatterVersion.objects.filter(matter=version.matter_id,
                                             number__lt=version.number)
                .select_related("department").prefetch_related("themes", "materials")
                .order_by("-number").first())
    changes = version_diff(previous, version)
    return {"matter_code": version.matter.implementation_code,
            "from_version": previous.number if previous else None,
            "to_version": version.number,
            "changes": [{"field": name, "old": old, "new": new}
                        for name, (old, new) in sorted(changes.items())]}


@router.get("/catalog/report", response={200: list[CatalogReportOut], **ERRORS},
            tags=["catalog"], summary="Catalog-quality findings per department (staff)")
@paginate(Pagination)
def catalog_quality_report(request: HttpRequest, department: str | None = Query(
        None, max_length=18, description="Department org unit code")) -> object:
    versions = _versions_in_scope(request.user).exclude(status=VersionStatus.RETIRED)
    if department:
        versions = versions.filter(department__code=department)
    rows = []
    for entries in catalog_report(versions.order_by("department__path",
                                                    "implementation_code")).values():
        findings = [f for _version, found in entries for f in found]
        rows.append({
            "department": entries[0][0].department,
            "errors": sum(f.severity == "error" for f in findings),
            "warnings": sum(f.severity == "warning" for f in findings),
            "versions": [{"version_id": v.pk, "matter_code": v.implementation_code,
                          "name": v.name, "number": v.number, "status": v.status,
                          "findings": [vars(f) for f in found]} for v, found in entries],
        })
    return rows


# --- cases ------------------------------------------------------------------------------

CASE_RELATED = ("matter", "version", "department", "intake_unit", "assigned_to", "clock")


def _cases(actor: Any) -> QuerySet[Case]:
    return policies.restrict(Case.objects.select_related(*CASE_RELATED), actor)


def _case_get(actor: Any, number: str) -> Case:
    return policies.get_for_action(Case.objects.select_related(*CASE_RELATED), actor,
                                   number=number)


def _case_detail(actor: Any, number: str) -> Case:
    """The case with what the detail shows: deficiencies, extensions, the deadline and the
    transitions the actor may perform now."""
    case = policies.get_for_action(
        Case.objects.select_related(*CASE_RELATED).prefetch_related(
            Prefetch("deficiencies", Deficiency.objects.select_related("material")),
            "extensions"), actor, number=number)
    case.allowed_actions = [{"name": t.name, "label": str(t.label)}  # type: ignore[attr-defined]
                            for t in cases.allowed_transitions(case, actor)]
    clock = case.clock
    case.deadline = None if clock is None else {  # type: ignore[attr-defined]
        "unit": clock.unit, "limit": clock.limit, "started_at": clock.started_at,
        "due_at": clock.due_at, "paused": clock.is_paused, "stopped_at": clock.stopped_at,
        "remaining": clock_remaining(clock)}
    return case


@router.get("/cases", response={200: list[CaseOut], **ERRORS}, tags=["cases"],
            summary="Cases: your own, or those in your scope (staff)")
@paginate(Pagination)
def case_list(request: HttpRequest, status: CaseStatus | None = None,
              time_state: TimeState | None = None,
              matter: str | None = Query(None, max_length=60,
                                         description="Matter implementation code"),
              department: str | None = Query(None, max_length=18,
                                             description="Handling department code"),
              assigned_to: Literal["me"] | None = Query(None, description="Assigned to me"),
              submitted_from: IsoDate | None = DAY_FROM,
              submitted_to: IsoDate | None = DAY_TO) -> object:
    found = _cases(request.user)
    if status:
        found = found.filter(status=status)
    if time_state:
        found = found.filter(time_state=time_state)
    if matter:
        found = found.filter(matter__implementation_code=matter)
    if department:
        found = found.filter(department__code=department)
    if assigned_to == "me":
        found = found.filter(assigned_to=request.user.pk)
    if submitted_from:
        found = found.filter(submitted_at__gte=_day_start(submitted_from))
    if submitted_to:
        found = found.filter(submitted_at__lt=_day_start(submitted_to) + dt.timedelta(days=1))
    return found.order_by("-created_at", "-id")


def form_data_errors(schema: dict[str, Any], data: dict[str, Any]) -> dict[str, list[str]]:
    """The application data's errors against the version's JSON Schema, by field path
    (``form_data.project``), in the request's language."""
    if not schema:
        return {}
    try:
        validator = Draft202012Validator(schema)
    except SchemaError:  # a broken form is the catalog's fault, not the applicant's
        return {}
    fields: dict[str, list[str]] = {}
    for error in validator.iter_errors(data):
        path = ["form_data", *map(str, error.absolute_path)]
        if error.validator == "required":
            missing = [name for name in error.validator_value
                       if isinstance(error.instance, dict) and name not in error.instance]
            for name in missing:  # one error per missing name, each listing them all
                fields[".".join([*path, name])] = [_("This field is required.")]
            continue
        fields.setdefault(".".join(path), []).append(_form_message(error))
    return fields


def _form_message(error: Any) -> str:
    kind, value = error.validator, error.validator_value
    if kind == "maxLength":
        return _("Enter at most %(n)s characters.") % {"n": value}
    if kind == "minLength":
        return _("Enter at least %(n)s characters.") % {"n": value}
    if kind in ("minimum", "exclusiveMinimum"):
        return _("Enter a number of at least %(n)s.") % {"n": value}
    if kind in ("maximum", "exclusiveMaximum"):
        return _("Enter a number of at most %(n)s.") % {"n": value}
    if kind in ("enum", "const"):
        return _("Choose one of the allowed values.")
    if kind == "additionalProperties":
        return _("This form has no such field.")
    return _("Enter a valid value.")


def _applicant_for(actor: Any, payload: CaseIn) -> Any:
    """Citizens and enterprises file for themselves; clerks name the applicant."""
    named = payload.applicant_id_number or payload.applicant_credit_code
    if getattr(actor, "kind", "") != UserKind.STAFF:
        if named:
            raise ValidationError({"applicant_id_number": [
                _("Only window staff file on someone else's behalf.")]})
        return actor
    applicants = User.objects.filter(is_active=True)
    if payload.applicant_id_number:
        applicant = applicants.filter(kind=UserKind.CITIZEN).filter(
            pk__in=User.objects.by_id_number(payload.applicant_id_number).values("pk")).first()
        field = "applicant_id_number"
    elif payload.applicant_credit_code:
        applicant = applicants.filter(kind=UserKind.ENTERPRISE,
                                      credit_code=payload.applicant_credit_code.upper()).first()
        field = "applicant_credit_code"
    else:
        raise ValidationError({"applicant_id_number": [
            _("Name the applicant by ID number or unified social credit code.")]})
    if applicant is None:
        raise ValidationError({field: [
            _("No registered applicant has this number; they register first.")]})
    return applicant


@router.post("/cases", response={201: CaseDetailOut, **ERRORS}, tags=["cases"],
             summary="Start a case (a draft) for a published matter")
def case_create(request: HttpRequest, payload: CaseIn) -> object:
    actor = request.user
    version = (MatterVersion.objects.filter(status=VersionStatus.PUBLISHED,
                                            matter__implementation_code=payload.matter_code)
               .select_related("matter", "department").first())
    if version is None:
        raise Http404
    is_staff = getattr(actor, "kind", "") == UserKind.STAFF
    if is_staff and not policies.has_perm(actor, "services.add_case"):
        raise PermissionDenied
    applicant = _applicant_for(actor, payload)
    errors = form_data_errors(version.form_schema, payload.form_data)
    if errors:
        raise ValidationError(errors)
    channel = payload.channel or (Channel.WINDOW if is_staff else Channel.PC)
    case = cases.case_create(actor=actor, version=version, applicant=applicant,
                             channel=channel, form_data=payload.form_data)
    return Status(201, _case_detail(actor, case.number))


@router.get("/cases/{number}", response={200: CaseDetailOut, **ERRORS}, tags=["cases"],
            summary="One case with its deadline and the actions you may take")
def case_detail(request: HttpRequest, number: str = CASE_NUMBER) -> object:
    return _case_detail(request.user, number)


@router.get("/cases/{number}/events", response={200: list[CaseEventOut], **ERRORS},
            tags=["cases"], summary="The case's timeline")
@paginate(Pagination)
def case_event_list(request: HttpRequest, number: str = CASE_NUMBER) -> object:
    case = _case_get(request.user, number)
    shows_applicant = sees_personal_data(request.user, case.applicant_id)
    events = list(CaseEvent.objects.filter(case=case).select_related("actor")
                  .order_by("at", "id"))
    return [_event_row(event, case, shows_applicant) for event in events]


def _event_row(event: CaseEvent, case: Case, shows_applicant: bool) -> dict[str, Any]:
    actor = event.actor
    if actor is None:
        label = _("System")
    elif actor.pk == case.applicant_id and not shows_applicant:
        label = mask_name(actor.name or actor.username)
    else:
        label = actor.name or actor.username
    return {"action": event.action, "from_status": event.from_status,
            "to_status": event.to_status, "actor": label, "reason": event.reason,
            "data": event.data, "at": event.at}


# --- transitions: one operation each ------------------------------------------------------


def _items(case: Case, payload: DeficiencyListIn) -> list[tuple[Material | None, str]]:
    """Deficiency items with the matter's materials looked up by code."""
    codes = {item.material for item in payload.items if item.material}
    known = {m.code: m for m in Material.objects.filter(version=case.version_id,
                                                        code__in=codes)}
    items, errors = [], {}
    for index, item in enumerate(payload.items):
        material = known.get(item.material) if item.material else None
        if item.material and material is None:
            errors[f"items.{index}.material"] = [
                _("The matter has no material with this code.")]
        elif material is None and not item.description.strip():
            errors[f"items.{index}.description"] = [_("Describe what is missing.")]
        items.append((material, item.description.strip()))
    if errors:
        raise ValidationError(errors)
    return items


def _assignee(username: str) -> User:
    user = User.objects.filter(username=username, kind=UserKind.STAFF).first()
    if user is None:
        raise ValidationError({"assignee": [
            _("Assign to a reviewer of the handling department.")]})
    return user


def _require_role(actor: Any, name: str) -> None:
    """For the services that take no revision: the role is refused before a stale
    revision is reported, as the other transitions do."""
    perms = (cases.TRANSITION_PERMISSIONS[name] or "").split("|")
    if getattr(actor, "kind", "") != UserKind.STAFF or not any(
            policies.has_perm(actor, perm) for perm in perms if perm):
        raise PermissionDenied


def _decide_extension(actor: Any, case: Case, p: ExtensionDecisionIn) -> Any:
    _require_role(actor, "decide_extension")
    stale = _stale(p.revision, case.revision)
    if stale is not None:
        return stale
    extension = case.extensions.filter(status=Extension.Status.REQUESTED).first()
    if extension is None:
        return Status(422, error_body("nothing_pending",
                                      _("No extension request is waiting for a decision.")))
    return cases.case_decide_extension(actor=actor, extension=extension, approve=p.approve,
                                       reason=p.reason)


def _terminate(actor: Any, case: Case, p: ReasonIn) -> Any:
    _require_role(actor, "terminate")
    stale = _stale(p.revision, case.revision)
    if stale is not None:
        return stale
    return cases.case_terminate(actor=actor, case=case, reason=p.reason)


CaseAction = Action[Case]


def _call(service: Callable[..., Any], *fields: str) -> Callable[[Any, Case, Any], Any]:
    return call(service, "case", *fields)


CASE_ACTIONS = [
    CaseAction("submit", RevisionIn, _call(cases.case_submit),
               "Submit a draft (the applicant, or the clerk who filed it)"),
    CaseAction("accept", RevisionIn, _call(cases.case_accept), "Accept (受理)"),
    CaseAction("accept_with_deficiency", DeficiencyListIn,
               lambda actor, case, p: cases.case_accept_with_deficiency(
                   actor=actor, case=case, items=_items(case, p),
                   expected_revision=p.revision),
               "Accept with deficiencies (容缺受理): list what comes later"),
    CaseAction("refuse", ReasonIn, _call(cases.case_refuse, "reason"),
               "Do not accept (不予受理), with reasons"),
    CaseAction("request_supplement", SupplementRequestIn,
               lambda actor, case, p: cases.case_request_supplement(
                   actor=actor, case=case, items=_items(case, p), reason=p.reason,
                   expected_revision=p.revision),
               "Ask for supplements (补正): one complete list"),
    CaseAction("supplement", RevisionIn, _call(cases.case_supplement),
               "Report the asked-for materials as supplied"),
    CaseAction("claim", RevisionIn, _call(cases.case_claim), "Claim from the inbox"),
    CaseAction("assign", AssignIn,
               lambda actor, case, p: cases.case_assign(
                   actor=actor, case=case, assignee=_assignee(p.assignee),
                   expected_revision=p.revision),
               "Assign to a reviewer of the department"),
    CaseAction("start_review", RevisionIn, _call(cases.case_start_review), "Start review"),
    CaseAction("suspend", SuspendIn,
               _call(cases.case_suspend, "procedure", "reason"),
               "Suspend for a special procedure (the clock pauses)"),
    CaseAction("resume", RevisionIn, _call(cases.case_resume), "Resume review"),
    CaseAction("request_extension", ExtensionRequestIn,
               _call(cases.case_request_extension, "days", "reason"),
               "Request an extension of the limit (延长审批)"),
    CaseAction("decide_extension", ExtensionDecisionIn, _decide_extension,
               "Approve or deny the waiting extension request"),
    CaseAction("approve", ApproveIn,
               _call(cases.case_approve, "opinion"),
               "Approve"),
    CaseAction("reject", ReasonIn, _call(cases.case_reject, "reason"),
               "Do not approve, with reasons"),
    CaseAction("deliver", DeliverIn,
               _call(cases.case_deliver, "method"),
               "Deliver the result (送达): download, post or window pickup"),
    CaseAction("close", RevisionIn, _call(cases.case_close), "Close (办结)"),
    CaseAction("withdraw", ReasonIn, _call(cases.case_withdraw, "reason"),
               "Withdraw (the applicant)"),
    CaseAction("terminate", ReasonIn, _terminate,
               "Terminate (补正 or 容缺 materials never came)"),
]
assert {a.name for a in CASE_ACTIONS} == set(cases.TRANSITIONS), "an action has no endpoint"


def _register_case_action(action: CaseAction) -> None:
    schema = action.payload

    def perform(request: HttpRequest, payload: schema, number: str = CASE_NUMBER) -> object:
        actor = request.user
        case = _case_get(actor, number)
        answer = _perform(lambda: action.perform(actor, case, payload))
        if isinstance(answer, Status):
            return answer
        return _case_detail(actor, number)

    perform.__name__ = f"case_{action.name}"
    router.post(f"/cases/{{number}}/actions/{action.name}", response=TRANSITION_ERRORS,
                tags=["cases"], summary=action.summary, operation_id=f"case_{action.name}",
                description=(
                    f"`{action.name}`: see `allowed_actions` of the case for whether you may "
                    "now. 409 when `revision` is not the case's current one; 422 when the "
                    "case's state does not allow it; 403 when your role does not."))(perform)


for _action in CASE_ACTIONS:
    _register_case_action(_action)


# --- materials --------------------------------------------------------------------------


@router.get("/cases/{number}/materials", response={200: list[CaseMaterialOut], **ERRORS},
            tags=["cases"], summary="The files supplied for a case")
@paginate(Pagination)
def case_material_list(request: HttpRequest, number: str = CASE_NUMBER) -> object:
    case = _case_get(request.user, number)
    return (uploads.material_queryset_for(request.user).filter(case=case)
            .select_related("material").order_by("uploaded_at", "id"))


@router.post("/cases/{number}/materials", response={201: CaseMaterialOut, **ERRORS},
             tags=["cases"], summary="Upload a file for a case (multipart)",
             description="The type is sniffed from the content (PDF, JPEG, PNG, OFD); the "
                         "size is limited. Applicants attach to their drafts and "
                         "supplement open items; staff in scope attach materials and "
                         "results.")
def case_material_upload(
    request: HttpRequest, number: str = CASE_NUMBER,
    file: UploadedFile | None = UPLOAD_FILE, kind: CaseMaterialKind = UPLOAD_KIND,
    material: str | None = UPLOAD_MATERIAL,
) -> object:
    actor = request.user
    case = _case_get(actor, number)
    if not uploads.may_attach(actor, case, kind):
        raise PermissionDenied
    if file is None:
        raise ValidationError({"file": [_("Choose a file to upload.")]})
    required = None
    if material:
        required = Material.objects.filter(version=case.version_id, code=material).first()
        if required is None:
            raise ValidationError({"material": [
                _("The matter has no material with this code.")]})
    with uploads.discard_on_error():
        attached = uploads.material_attach(actor=actor, case=case, upload=file,
                                           material=required, kind=kind)
    return Status(201, CaseMaterial.objects.select_related("material").get(pk=attached.pk))


DOWNLOAD_CONTENT = {media: {"schema": {"type": "string", "format": "binary"}}
                    for media in settings.YIWANG_UPLOAD_TYPES}


@router.get("/materials/{material_id}", response=ERRORS, tags=["cases"],
            summary="Download a case material (in scope; audited)",
            openapi_extra={"responses": {"200": {"description": "The file",
                                                 "content": DOWNLOAD_CONTENT}}})
def material_download(request: HttpRequest, material_id: int = OBJECT_ID) -> object:
    found = uploads.material_get(actor=request.user, material_id=material_id)
    handle, found = uploads.material_open(actor=request.user, material=found)
    response = FileResponse(handle, as_attachment=True, filename=found.original_name,
                            content_type=found.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- 好差评 -------------------------------------------------------------------------------


@router.post("/cases/{number}/ratings", response={201: RatingOut, **ERRORS}, tags=["ratings"],
             summary="Rate your own decided case (once per channel)")
def case_rate(request: HttpRequest, payload: RatingIn, number: str = CASE_NUMBER) -> object:
    case = _case_get(request.user, number)
    rating = ratings.rating_create(actor=request.user, case=case, level=payload.level,
                                   channel=payload.channel, tags=payload.tags,
                                   text=payload.text)
    return Status(201, _ratings().get(pk=rating.pk))


def _ratings() -> QuerySet[Rating]:
    return Rating.objects.select_related("case", "matter", "department", "rectification")


@router.get("/ratings", response={200: list[RatingOut], **ERRORS}, tags=["ratings"],
            summary="Ratings: your own, or those of your scope's departments (staff)")
@paginate(Pagination)
def rating_list(request: HttpRequest, level: int | None = Query(None, ge=1, le=5),
                channel: RatingChannel | None = None,
                department: str | None = Query(None, max_length=18),
                matter: str | None = CODE_QUERY, bad: bool | None = Query(
                    None, description="Only 不满意 and 非常不满意")) -> object:
    found = policies.restrict(_ratings(), request.user)
    if level:
        found = found.filter(level=level)
    if channel:
        found = found.filter(channel=channel)
    if department:
        found = found.filter(department__code=department)
    if matter:
        found = found.filter(matter__implementation_code=matter)
    if bad is not None:
        found = found.filter(level__lte=2) if bad else found.filter(level__gte=3)
    return found.order_by("-created_at", "-id")


def _rectifications() -> QuerySet[Rectification]:
    return Rectification.objects.select_related(
        "department", "clock", "rating", "rating__case", "rating__matter",
        "rating__department", "rating__rectification")


@router.get("/rectifications", response={200: list[RectificationOut], **ERRORS},
            tags=["ratings"], summary="整改 of bad ratings in your scope (staff)")
@paginate(Pagination)
def rectification_list(request: HttpRequest, status: RectificationStatus | None = None,
                       department: str | None = Query(None, max_length=18)) -> object:
    found = policies.restrict(_rectifications(), request.user)
    if status:
        found = found.filter(status=status)
    if department:
        found = found.filter(department__code=department)
    return found.order_by("-created_at", "-id")


@dataclass(frozen=True)
class RectificationAction:
    name: str
    payload: type[Schema]
    sources: frozenset[str]
    perm: str
    perform: Callable[[Any, Rectification, Any], Any]
    summary: str


R = RectificationStatus
HANDLE = "services.handle_rectification"
RECTIFICATION_ACTIONS = [
    RectificationAction(
        "contact", ContactIn, frozenset({R.OPEN}), HANDLE,
        lambda actor, r, p: ratings.rectification_contact(
            actor=actor, rectification=r, verification=p.verification,
            contact_note=p.contact_note, expected_revision=p.revision),
        "Record the verification and the contact with the applicant"),
    RectificationAction(
        "rectify", RectifyIn, frozenset({R.CONTACTED}), HANDLE,
        lambda actor, r, p: ratings.rectification_rectify(
            actor=actor, rectification=r, result=p.result, expected_revision=p.revision),
        "Record what was rectified"),
    RectificationAction(
        "callback", CallbackIn, frozenset({R.RECTIFIED}), HANDLE,
        lambda actor, r, p: ratings.rectification_callback(
            actor=actor, rectification=r, level=p.level, note=p.note,
            expected_revision=p.revision),
        "Record the callback (回访); closes the rectification"),
    RectificationAction(
        "appeal", AppealIn, frozenset({R.OPEN, R.CONTACTED}), HANDLE,
        lambda actor, r, p: ratings.rectification_appeal(
            actor=actor, rectification=r, reason=p.reason, expected_revision=p.revision),
        "Appeal a mistaken or malicious rating (申诉复核)"),
    RectificationAction(
        "decide_appeal", AppealDecisionIn, frozenset({R.APPEALED}), "services.decide_appeal",
        lambda actor, r, p: ratings.rectification_decide_appeal(
            actor=actor, rectification=r, uphold=p.uphold, decision=p.decision,
            expected_revision=p.revision),
        "Decide an appeal (supervisors)"),
]


def _rectification_detail(actor: Any, rectification_id: int) -> Rectification:
    found = policies.get_for_action(_rectifications(), actor, pk=rectification_id)
    may_act = {perm: policies.has_perm(actor, perm) and policies.in_scope(
        actor, found.department.path) for perm in {a.perm for a in RECTIFICATION_ACTIONS}}
    found.allowed_actions = [  # type: ignore[attr-defined]
        a.name for a in RECTIFICATION_ACTIONS if found.status in a.sources and may_act[a.perm]]
    return found


@router.get("/rectifications/{rectification_id}", response={200: RectificationDetailOut,
                                                           **ERRORS},
            tags=["ratings"], summary="One rectification with the actions you may take")
def rectification_detail(request: HttpRequest, rectification_id: int = OBJECT_ID) -> object:
    return _rectification_detail(request.user, rectification_id)


def _register_rectification_action(action: RectificationAction) -> None:
    schema = action.payload

    def perform(request: HttpRequest, payload: schema,
                rectification_id: int = OBJECT_ID) -> object:
        actor = request.user
        found = policies.get_for_action(Rectification.objects.all(), actor,
                                        pk=rectification_id)
        answer = _perform(lambda: action.perform(actor, found, payload))
        if isinstance(answer, Status):
            return answer
        return _rectification_detail(actor, rectification_id)

    perform.__name__ = f"rectification_{action.name}"
    router.post(f"/rectifications/{{rectification_id}}/actions/{action.name}",
                response={200: RectificationDetailOut, 409: ErrorOut, **ERRORS},
                tags=["ratings"], summary=action.summary,
                operation_id=f"rectification_{action.name}",
                description="409 when `revision` is stale; 422 when the rectification's "
                            "state does not allow it.")(perform)


for _rectification_action in RECTIFICATION_ACTIONS:
    _register_rectification_action(_rectification_action)


# --- statistics -------------------------------------------------------------------------


class ServiceStatisticsOut(Schema):
    start: dt.date
    end: dt.date
    by: str
    rows: list[ServiceFiguresOut]


@router.get("/statistics/services", response={200: ServiceStatisticsOut, **ERRORS},
            tags=["statistics"],
            summary="Service figures per department, matter, channel or month (staff)",
            description="The figures of the statistics page, for cases submitted from "
                        "`start` to `end` (inclusive; default: this year so far).")
def service_statistics(
    request: HttpRequest, start: IsoDate | None = DAY_FROM, end: IsoDate | None = DAY_TO,
    by: Literal["department", "matter", "channel", "month"] = "department",
    department: str | None = Query(None, max_length=18, description="Department code"),
    matter: str | None = CODE_QUERY, channel: Channel | None = None,
) -> object:
    actor = request.user
    if not policies.has_perm(actor, "services.view_case") or actor.kind != UserKind.STAFF:
        raise PermissionDenied
    today = timezone.localdate()
    start = min(max(start or today.replace(month=1, day=1), FIRST_DAY), LAST_DAY)
    end = min(max(end or today, FIRST_DAY), LAST_DAY)
    filters: dict[str, Any] = {"channel": channel.value if channel else None}
    if department:
        filters["department_id"] = _pk_or_none(OrgUnit.objects.filter(code=department))
    if matter:
        filters["matter_id"] = _pk_or_none(Matter.objects.filter(implementation_code=matter))
    answer = {"start": start, "end": end, "by": by, "rows": []}
    if end < start or any(filters.get(k) == 0 for k in ("department_id", "matter_id")):
        return answer
    period = (_day_start(start), _day_start(end) + dt.timedelta(days=1))
    if by == "month":
        answer["rows"] = _monthly(actor, period, filters)
        return answer
    figures = case_statistics(actor=actor, start=period[0], end=period[1], by=by, **filters)
    codes = _codes(by, [f.key for f in figures])
    answer["rows"] = [{**f.as_dict(), "key": codes.get(f.key, str(f.key))} for f in figures]
    return answer


def _pk_or_none(queryset: QuerySet[Any]) -> int:
    """The one object's pk, 0 for none (the figures are then empty)."""
    return queryset.values_list("pk", flat=True).first() or 0


def _codes(by: str, keys: list[Any]) -> dict[Any, str]:
    if by == "department":
        return dict(OrgUnit.objects.filter(pk__in=keys).values_list("pk", "code"))
    if by == "matter":
        return dict(Matter.objects.filter(pk__in=keys).values_list("pk", "implementation_code"))
    return {}


def _monthly(actor: Any, period: tuple[dt.datetime, dt.datetime],
             filters: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per month that has cases: the statistics of that month alone."""
    figures = case_statistics(actor=actor, start=period[0], end=period[1], by="month",
                              **filters)
    return [{**f.as_dict(), "key": f.label, "label": f.label} for f in figures if f.cases]
