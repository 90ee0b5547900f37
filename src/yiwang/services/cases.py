"""The case state machine: one service function per transition.

Every transition locks the case row, checks the current state, the actor's permission and
scope, and (when the caller passes it) the revision the actor saw, then changes the state,
writes a timeline event and an audit entry, and notifies the applicant after commit.
Two clerks acting on one case cannot both succeed: the second finds the state changed or
the revision stale and gets a clear error.

    draft ─submit→ submitted ─accept→ accepted ─start_review→ under_review ─approve→ approved
                      │  ├─accept_with_deficiency→ accepted_deficient ─start_review→ …  │
                      │  ├─refuse→ refused                                    ─reject→ rejected
                      │  └─request_supplement→ supplement ─supplement→ submitted / under_review
    under_review ─suspend→ suspended ─resume→ under_review
    approved / rejected ─deliver→ delivered ─close→ closed
    any open state before a decision ─withdraw→ withdrawn;  accepted_deficient ─terminate→ …
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.core import policies
from yiwang.core.audit import audit_log
from yiwang.core.models import Clock
from yiwang.core.models.calendar import ClockUnit
from yiwang.core.notifications import notify
from yiwang.core.sequences import next_value
from yiwang.core.workdays import (
    WorkCalendar,
    clock_pause,
    clock_remaining,
    clock_resume,
    clock_start,
    clock_stop,
)

from .documents import issue_decision_notice
from .models import (
    Case,
    CaseEvent,
    CaseKind,
    CaseStatus,
    Channel,
    Deficiency,
    Extension,
    LimitUnit,
    Material,
    MatterVersion,
    TimeState,
    VersionStatus,
)

S = CaseStatus
OPEN_BEFORE_DECISION = {S.DRAFT, S.SUBMITTED, S.SUPPLEMENT, S.ACCEPTED, S.ACCEPTED_DEFICIENT,
                        S.UNDER_REVIEW, S.SUSPENDED}


class TransitionError(ValidationError):
    """A transition that the case's state (or a stale form) does not allow."""


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[str]
    target: str | None  # None: the state stays (e.g. a deadline extension)
    label: Any


TRANSITIONS: dict[str, Transition] = {
    t.name: t for t in [
        Transition("submit", frozenset({S.DRAFT}), S.SUBMITTED, gettext_lazy("Submit")),
        Transition("accept", frozenset({S.SUBMITTED}), S.ACCEPTED, gettext_lazy("Accept")),
        Transition("accept_with_deficiency", frozenset({S.SUBMITTED}), S.ACCEPTED_DEFICIENT,
                   gettext_lazy("Accept with deficiencies")),
        Transition("refuse", frozenset({S.SUBMITTED}), S.REFUSED,
                   gettext_lazy("Do not accept")),
        Transition("request_supplement", frozenset({S.SUBMITTED, S.UNDER_REVIEW}),
                   S.SUPPLEMENT, gettext_lazy("Ask for supplements")),
        Transition("supplement", frozenset({S.SUPPLEMENT, S.ACCEPTED_DEFICIENT, S.ACCEPTED,
                                            S.UNDER_REVIEW, S.SUSPENDED}), None,
                   gettext_lazy("Supplement materials")),
        Transition("start_review", frozenset({S.ACCEPTED, S.ACCEPTED_DEFICIENT}),
                   S.UNDER_REVIEW, gettext_lazy("Start review")),
        Transition("suspend", frozenset({S.UNDER_REVIEW}), S.SUSPENDED,
                   gettext_lazy("Suspend for a special procedure")),
        Transition("resume", frozenset({S.SUSPENDED}), S.UNDER_REVIEW, gettext_lazy("Resume")),
        Transition("request_extension", frozenset({S.UNDER_REVIEW}), None,
                   gettext_lazy("Request an extension")),
        Transition("decide_extension", frozenset({S.UNDER_REVIEW, S.SUSPENDED}), None,
                   gettext_lazy("Decide on an extension")),
        Transition("approve", frozenset({S.UNDER_REVIEW}), S.APPROVED, gettext_lazy("Approve")),
        Transition("reject", frozenset({S.UNDER_REVIEW}), S.REJECTED,
                   gettext_lazy("Do not approve")),
        Transition("deliver", frozenset({S.APPROVED, S.REJECTED}), S.DELIVERED,
                   gettext_lazy("Deliver the result")),
        Transition("close", frozenset({S.DELIVERED}), S.CLOSED, gettext_lazy("Close")),
        Transition("withdraw", frozenset(OPEN_BEFORE_DECISION), S.WITHDRAWN,
                   gettext_lazy("Withdraw")),
        Transition("terminate", frozenset({S.ACCEPTED_DEFICIENT, S.SUPPLEMENT, S.ACCEPTED,
                                           S.UNDER_REVIEW, S.SUSPENDED}), S.TERMINATED,
                   gettext_lazy("Terminate")),
        Transition("claim", frozenset({S.ACCEPTED, S.ACCEPTED_DEFICIENT, S.UNDER_REVIEW,
                                       S.SUSPENDED}), None, gettext_lazy("Claim")),
        Transition("assign", frozenset({S.ACCEPTED, S.ACCEPTED_DEFICIENT, S.UNDER_REVIEW,
                                        S.SUSPENDED}), None, gettext_lazy("Assign")),
    ]
}

# Who may perform each transition: a permission checked in the case's scope, or the
# applicant themself.
TRANSITION_PERMISSIONS: dict[str, str | None] = {
    "submit": "services.add_case",
    "accept": "services.accept_case",
    "accept_with_deficiency": "services.accept_case",
    "refuse": "services.accept_case",
    "request_supplement": "services.accept_case|services.review_case",
    "supplement": "services.add_case",
    "start_review": "services.review_case",
    "suspend": "services.review_case",
    "resume": "services.review_case",
    "request_extension": "services.review_case",
    "decide_extension": "services.approve_extension",
    "approve": "services.decide_case",
    "reject": "services.decide_case",
    "deliver": "services.accept_case|services.decide_case",
    "close": "services.accept_case|services.decide_case",
    "withdraw": None,  # the applicant only
    "terminate": "services.accept_case|services.review_case",
    "claim": "services.review_case",
    "assign": "services.assign_case",
}
APPLICANT_MAY = {"submit", "supplement", "withdraw"}
REASON_REQUIRED = {"refuse", "reject", "request_supplement", "suspend", "withdraw",
                   "terminate", "request_extension"}


def allowed_transitions(case: Case, actor: Any) -> list[Transition]:
    """The transitions the actor may perform on the case now (for buttons and the API)."""
    return [t for t in TRANSITIONS.values()
            if case.status in t.sources and _applicable(case, t.name)
            and _may(actor, case, t.name)]


def _applicable(case: Case, name: str) -> bool:
    """Transitions that the state allows but the case's details make pointless."""
    if name == "supplement":
        return case.deficiencies.filter(supplied_at__isnull=True).exists()
    if name == "terminate":
        return case.status == S.SUPPLEMENT or bool(
            case.deficiency_due_at and case.deficiency_due_at < timezone.now())
    if name == "decide_extension":
        return case.extensions.filter(status=Extension.Status.REQUESTED).exists()
    return True


def _may(actor: Any, case: Case, name: str) -> bool:
    if not policies.is_active_actor(actor):
        return False
    if name in APPLICANT_MAY and case.applicant_id == actor.pk:
        return True
    perms = TRANSITION_PERMISSIONS[name]
    if perms is None or getattr(actor, "kind", "") != "staff":
        return False
    if not any(policies.has_perm(actor, p) for p in perms.split("|")):
        return False
    paths = (case.department.path, case.intake_unit.path)
    return any(policies.in_scope(actor, p) for p in paths)


def _notify_applicant(case: Case, action: str) -> None:
    notify(recipient=case.applicant, template="case_update",
           key=f"case:{case.pk}:{case.revision}:{action}",
           context={"number": case.number, "matter": case.matter.name,
                    "status": str(CaseStatus(case.status).label), "action": action},
           url=f"/services/my/cases/{case.number}/")


@transaction.atomic
def _transition(
    *, case: Case, actor: Any, name: str, reason: str = "", data: dict[str, Any] | None = None,
    expected_revision: int | None = None, system: bool = False,
) -> tuple[Case, str]:
    """Lock, check and move the case; returns the locked case and its previous status.

    The caller applies the transition's own effects before the case is saved.
    """
    transition = TRANSITIONS[name]
    locked = (Case.objects.select_for_update(of=("self",))
              .select_related("department", "intake_unit", "matter", "applicant", "clock")
              .get(pk=case.pk))
    if not system and not _may(actor, locked, name):
        # Out of view scope → the caller's selector already gave 404; here: no right.
        raise PermissionDenied
    if expected_revision is not None and expected_revision != locked.revision:
        raise TransitionError(
            _("Someone else changed this case meanwhile; reload it and try again."),
            code="stale")
    if locked.status not in transition.sources:
        raise TransitionError(
            _("“%(action)s” is not possible while the case is “%(status)s”.")
            % {"action": transition.label, "status": CaseStatus(locked.status).label},
            code="bad_state")
    if name in REASON_REQUIRED and not reason.strip():
        raise ValidationError({"reason": [_("Give a reason; the applicant will see it.")]})
    previous = locked.status
    if transition.target is not None:
        locked.status = transition.target
    locked.revision += 1
    return locked, previous


def _record(case: Case, *, actor: Any, name: str, previous: str, reason: str = "",
            data: dict[str, Any] | None = None, notify_applicant: bool = True) -> None:
    case.save()
    now = timezone.now()
    CaseEvent.objects.create(case=case, action=name, from_status=previous,
                             to_status=case.status, actor=actor if getattr(
                                 actor, "is_authenticated", False) else None,
                             reason=reason, data=data or {}, at=now)
    audit_log(actor=actor, action=f"services.case.{name}", obj=case,
              before={"status": previous}, after={"status": case.status, **(data or {})},
              reason=reason)
    if notify_applicant:
        _notify_applicant(case, name)


# --- filing -----------------------------------------------------------------------------


def case_number(at: dt.datetime | None = None) -> str:
    """``<district 6><yyyymmdd><6-digit daily sequence>``, e.g. 44039920261122000123."""
    day = timezone.localtime(at or timezone.now()).strftime("%Y%m%d")
    district = settings.YIWANG_DISTRICT_CODE[:6]
    return f"{district}{day}{next_value('case', day):06d}"


@transaction.atomic
def case_create(
    *, actor: Any, version: MatterVersion, applicant: Any, channel: str,
    form_data: dict[str, Any] | None = None, intake_unit: Any = None,
) -> Case:
    """Start a case (a draft) for a published matter version.

    Citizens and enterprises file for themselves online; a window clerk files on an
    applicant's behalf at the clerk's unit (综合窗口).
    """
    if version.status != VersionStatus.PUBLISHED:
        raise ValidationError({"matter": [_("This matter is not open for applications.")]})
    if not policies.is_active_actor(actor):
        raise PermissionDenied
    if actor.kind == "staff":
        if not policies.has_perm(actor, "services.add_case"):
            raise PermissionDenied
        intake_unit = intake_unit or policies.scope_unit(actor)
        if intake_unit is None or not policies.in_scope(actor, intake_unit.path):
            raise PermissionDenied
        if Channel(channel) not in {Channel.WINDOW, Channel.POST, Channel.SELF_SERVICE}:
            raise ValidationError({"channel": [_("Staff file at a window or by post.")]})
    else:
        if applicant.pk != actor.pk:
            raise PermissionDenied
        intake_unit = version.department
        if Channel(channel) not in {Channel.PC, Channel.MOBILE}:
            raise ValidationError({"channel": [_("Online applications come from PC or mobile.")]})
    objects = set(version.service_objects)
    is_person = applicant.kind == "citizen"
    serves_applicant = "person" in objects if is_person else bool(objects - {"person"})
    if objects and not serves_applicant:
        raise ValidationError({"applicant": [
            _("This matter is not for applicants of this kind.")]})
    case = Case.objects.create(
        number=case_number(), matter=version.matter, version=version,
        department=version.department, intake_unit=intake_unit, applicant=applicant,
        applicant_name=(applicant.enterprise_name or applicant.name or applicant.username),
        filed_by=actor, channel=channel, status=CaseStatus.DRAFT, form_data=form_data or {})
    CaseEvent.objects.create(case=case, action="create", to_status=case.status, actor=actor,
                             at=timezone.now())
    audit_log(actor=actor, action="services.case.create", obj=case,
              after={"matter": version.matter.implementation_code, "version": version.number,
                     "channel": channel})
    return case


def _start_clock(case: Case, *, at: dt.datetime, calendar: WorkCalendar) -> None:
    version = case.version
    if version.case_kind == CaseKind.IMMEDIATE:
        limit, unit = 0, ClockUnit.WORKDAYS
    elif version.promised_unit == LimitUnit.HOURS:
        limit, unit = version.promised_limit, ClockUnit.HOURS
    elif version.promised_unit == LimitUnit.DAYS:
        limit, unit = version.promised_limit * 24, ClockUnit.HOURS
    else:
        limit, unit = version.promised_limit, ClockUnit.WORKDAYS
    case.clock = clock_start(unit=unit, limit=limit, at=at, calendar=calendar)


@transaction.atomic
def case_submit(*, actor: Any, case: Case, expected_revision: int | None = None) -> Case:
    locked, previous = _transition(case=case, actor=actor, name="submit",
                                   expected_revision=expected_revision)
    _check_required_materials(locked)
    locked.submitted_at = timezone.now()
    _record(locked, actor=actor, name="submit", previous=previous)
    return locked


def _check_required_materials(case: Case) -> None:
    required = Material.objects.filter(version=case.version, required=True,
                                       source="upload", condition="")
    supplied = set(case.materials.values_list("material_id", flat=True))
    missing = [m.name for m in required if m.pk not in supplied]
    if missing:
        raise ValidationError({"materials": [
            _("Upload the required materials: %(names)s") % {"names": "、".join(missing)}]})


# --- intake (受理) ------------------------------------------------------------------------


@transaction.atomic
def case_accept(*, actor: Any, case: Case, expected_revision: int | None = None) -> Case:
    locked, previous = _transition(case=case, actor=actor, name="accept",
                                   expected_revision=expected_revision)
    now = timezone.now()
    locked.accepted_at = now
    _start_clock(locked, at=now, calendar=WorkCalendar.load())
    _record(locked, actor=actor, name="accept", previous=previous)
    return locked


@transaction.atomic
def case_accept_with_deficiency(
    *, actor: Any, case: Case, items: Iterable[tuple[Material | None, str]],
    expected_revision: int | None = None,
) -> Case:
    """容缺受理: accept now; the listed materials are due within the matter's limit."""
    items = list(items)
    locked, previous = _transition(case=case, actor=actor, name="accept_with_deficiency",
                                   expected_revision=expected_revision)
    if not locked.version.deficiency_allowed:
        raise TransitionError(_("This matter does not accept applications with deficiencies."),
                              code="not_allowed")
    if not items:
        raise ValidationError({"items": [_("List what is missing.")]})
    for material, _description in items:
        if material is not None and not material.may_be_deficient:
            raise ValidationError({"items": [
                _("“%(name)s” cannot be supplied later.") % {"name": material.name}]})
    now = timezone.now()
    calendar = WorkCalendar.load()
    due = calendar.add_working_days(now, locked.version.supplement_days)
    locked.accepted_at = now
    locked.deficiency_due_at = due
    _start_clock(locked, at=now, calendar=calendar)
    for material, description in items:
        Deficiency.objects.create(case=locked, kind=Deficiency.Kind.DEFICIENT,
                                  material=material,
                                  description=description or (material.name if material else ""),
                                  due_at=due)
    _record(locked, actor=actor, name="accept_with_deficiency", previous=previous,
            data={"due_at": due.isoformat(), "items": [d for _m, d in items]})
    return locked


@transaction.atomic
def case_refuse(*, actor: Any, case: Case, reason: str,
                expected_revision: int | None = None) -> Case:
    locked, previous = _transition(case=case, actor=actor, name="refuse", reason=reason,
                                   expected_revision=expected_revision)
    locked.closed_at = timezone.now()
    _record(locked, actor=actor, name="refuse", previous=previous, reason=reason)
    issue_decision_notice(case=locked, actor=actor)  # 不予受理通知书
    return locked


@transaction.atomic
def case_request_supplement(
    *, actor: Any, case: Case, items: Iterable[tuple[Material | None, str]], reason: str,
    expected_revision: int | None = None,
) -> Case:
    """补正: one complete list of what to supplement or correct; during review the clock
    pauses until the applicant answers."""
    items = list(items)
    locked, previous = _transition(case=case, actor=actor, name="request_supplement",
                                   reason=reason, expected_revision=expected_revision)
    if not items:
        raise ValidationError({"items": [_("List everything to supplement, at once.")]})
    if locked.deficiencies.filter(kind=Deficiency.Kind.SUPPLEMENT,
                                  supplied_at__isnull=True).exists():
        raise TransitionError(_("A supplement list is already open."), code="open_list")
    if locked.clock is not None and locked.clock.paused_at is None:
        clock_pause(locked.clock)
    for material, description in items:
        Deficiency.objects.create(case=locked, kind=Deficiency.Kind.SUPPLEMENT,
                                  material=material,
                                  description=description or (material.name if material else ""))
    _record(locked, actor=actor, name="request_supplement", previous=previous, reason=reason,
            data={"items": [d for _m, d in items], "during": previous})
    return locked


@transaction.atomic
def case_supplement(*, actor: Any, case: Case, expected_revision: int | None = None) -> Case:
    """The applicant (or a clerk for them) has uploaded what was asked for."""
    locked, previous = _transition(case=case, actor=actor, name="supplement",
                                   expected_revision=expected_revision)
    kind = (Deficiency.Kind.SUPPLEMENT if previous == S.SUPPLEMENT
            else Deficiency.Kind.DEFICIENT)
    open_items = list(locked.deficiencies.filter(kind=kind, supplied_at__isnull=True))
    if not open_items:
        raise TransitionError(_("Nothing is waiting to be supplied for this case."),
                              code="nothing_open")
    # A material counts only when a file for it arrived after it was asked for: a 补正 of
    # a wrong file needs a new file, not the one filed first.
    asked = (locked.events.filter(action__in=["request_supplement", "accept_with_deficiency"])
             .order_by("-at", "-id").values_list("at", flat=True).first())
    supplied = set(locked.materials.filter(
        **({"uploaded_at__gte": asked} if asked else {})).values_list("material_id", flat=True))
    missing = [d.description for d in open_items
               if d.material_id is not None and d.material_id not in supplied]
    if missing:
        raise ValidationError({"materials": [
            _("Still missing: %(names)s") % {"names": "、".join(missing)}]})
    now = timezone.now()
    for item in open_items:
        item.supplied_at = now
        item.save(update_fields=["supplied_at"])
    if previous == S.SUPPLEMENT:
        request = (locked.events.filter(action="request_supplement").order_by("-at", "-id")
                   .first())
        during = (request.data.get("during") if request else S.SUBMITTED) or S.SUBMITTED
        locked.status = during
        if locked.clock is not None and locked.clock.paused_at is not None:
            clock_resume(locked.clock)
    else:  # 容缺 items supplied: the case keeps its place in review
        locked.status = S.ACCEPTED if previous == S.ACCEPTED_DEFICIENT else previous
        locked.deficiency_due_at = None
    _record(locked, actor=actor, name="supplement", previous=previous)
    return locked


# --- review and decision ----------------------------------------------------------------


@transaction.atomic
def case_claim(*, actor: Any, case: Case, expected_revision: int | None = None) -> Case:
    locked, previous = _transition(case=case, actor=actor, name="claim",
                                   expected_revision=expected_revision)
    if locked.assigned_to_id not in (None, actor.pk):
        raise TransitionError(_("This case is already assigned to %(name)s.")
                              % {"name": locked.assigned_to}, code="taken")
    locked.assigned_to = actor
    _record(locked, actor=actor, name="claim", previous=previous, notify_applicant=False)
    return locked


@transaction.atomic
def case_assign(*, actor: Any, case: Case, assignee: Any,
                expected_revision: int | None = None) -> Case:
    locked, previous = _transition(case=case, actor=actor, name="assign",
                                   expected_revision=expected_revision)
    if not (assignee.is_active and policies.has_perm(assignee, "services.review_case")
            and assignee.org_unit is not None and locked.department.contains(assignee.org_unit)):
        raise ValidationError({"assignee": [
            _("Assign to a reviewer of the handling department.")]})
    locked.assigned_to = assignee
    _record(locked, actor=actor, name="assign", previous=previous,
            data={"assignee": assignee.username}, notify_applicant=False)
    return locked


@transaction.atomic
def case_start_review(*, actor: Any, case: Case, expected_revision: int | None = None) -> Case:
    locked, previous = _transition(case=case, actor=actor, name="start_review",
                                   expected_revision=expected_revision)
    if locked.assigned_to_id is None:
        locked.assigned_to = actor
    _record(locked, actor=actor, name="start_review", previous=previous)
    return locked


@transaction.atomic
def case_suspend(*, actor: Any, case: Case, procedure: str, reason: str,
                 expected_revision: int | None = None) -> Case:
    """特别程序 (hearing, inspection, expert review…): the clock stops meanwhile."""
    if procedure not in SPECIAL_PROCEDURES:
        raise ValidationError({"procedure": [_("Choose a special procedure.")]})
    locked, previous = _transition(case=case, actor=actor, name="suspend", reason=reason,
                                   expected_revision=expected_revision)
    if locked.clock is not None:
        clock_pause(locked.clock)
    _record(locked, actor=actor, name="suspend", previous=previous, reason=reason,
            data={"procedure": procedure})
    return locked


SPECIAL_PROCEDURES = {
    "hearing": gettext_lazy("Hearing"),
    "inspection": gettext_lazy("On-site inspection"),
    "expert_review": gettext_lazy("Expert review"),
    "testing": gettext_lazy("Testing or quarantine"),
    "public_notice": gettext_lazy("Public notice"),
}


@transaction.atomic
def case_resume(*, actor: Any, case: Case, expected_revision: int | None = None) -> Case:
    locked, previous = _transition(case=case, actor=actor, name="resume",
                                   expected_revision=expected_revision)
    if locked.clock is not None and locked.clock.paused_at is not None:
        clock_resume(locked.clock)
    _record(locked, actor=actor, name="resume", previous=previous)
    return locked


@transaction.atomic
def case_request_extension(*, actor: Any, case: Case, days: int, reason: str,
                           expected_revision: int | None = None) -> Extension:
    locked, previous = _transition(case=case, actor=actor, name="request_extension",
                                   reason=reason, expected_revision=expected_revision)
    if not 1 <= days <= 60:
        raise ValidationError({"days": [_("Extend by 1 to 60 working days.")]})
    if locked.extensions.filter(status=Extension.Status.REQUESTED).exists():
        raise TransitionError(_("An extension request is already waiting."), code="pending")
    extension = Extension.objects.create(case=locked, days=days, reason=reason,
                                         requested_by=actor)
    _record(locked, actor=actor, name="request_extension", previous=previous, reason=reason,
            data={"days": days}, notify_applicant=False)
    return extension


@transaction.atomic
def case_decide_extension(*, actor: Any, extension: Extension, approve: bool,
                          reason: str = "") -> Extension:
    """延长审批: another person than the requester approves; the limit moves out."""
    extension = Extension.objects.select_for_update().get(pk=extension.pk)
    if extension.status != Extension.Status.REQUESTED:
        raise TransitionError(_("This extension request was already decided."), code="decided")
    if extension.requested_by_id == actor.pk:
        raise PermissionDenied
    locked, previous = _transition(case=extension.case, actor=actor, name="decide_extension",
                                   reason=reason)
    extension.status = Extension.Status.APPROVED if approve else Extension.Status.DENIED
    extension.decided_by = actor
    extension.decided_at = timezone.now()
    extension.save()
    if approve and locked.clock is not None:
        calendar = WorkCalendar.load()
        clock = locked.clock
        clock.limit += extension.days
        if clock.unit == ClockUnit.WORKDAYS:
            clock.due_at = calendar.add_working_days(clock.due_at, extension.days)
        else:
            clock.due_at += dt.timedelta(hours=extension.days * 24)
        clock.save(update_fields=["limit", "due_at"])
    _record(locked, actor=actor, name="decide_extension", previous=previous, reason=reason,
            data={"days": extension.days, "approved": approve})
    return extension


@transaction.atomic
def case_approve(*, actor: Any, case: Case, opinion: str = "",
                 expected_revision: int | None = None) -> Case:
    locked, previous = _transition(case=case, actor=actor, name="approve",
                                   expected_revision=expected_revision)
    if locked.deficiencies.filter(kind=Deficiency.Kind.DEFICIENT,
                                  supplied_at__isnull=True).exists():
        raise TransitionError(
            _("Deficient materials are still missing; they are needed before a decision."),
            code="deficient")
    locked.decided_at = timezone.now()
    _record(locked, actor=actor, name="approve", previous=previous, reason=opinion)
    issue_decision_notice(case=locked, actor=actor)
    return locked


@transaction.atomic
def case_reject(*, actor: Any, case: Case, reason: str,
                expected_revision: int | None = None) -> Case:
    locked, previous = _transition(case=case, actor=actor, name="reject", reason=reason,
                                   expected_revision=expected_revision)
    locked.decided_at = timezone.now()
    _record(locked, actor=actor, name="reject", previous=previous, reason=reason)
    issue_decision_notice(case=locked, actor=actor)
    return locked


@transaction.atomic
def case_deliver(*, actor: Any, case: Case, method: str,
                 expected_revision: int | None = None) -> Case:
    if method not in {"download", "post", "window"}:
        raise ValidationError({"method": [_("Choose download, post or window pickup.")]})
    locked, previous = _transition(case=case, actor=actor, name="deliver",
                                   expected_revision=expected_revision)
    if method == "post" and not locked.version.postal_delivery:
        raise ValidationError({"method": [_("This matter does not offer postal delivery.")]})
    locked.delivery_method = method
    if locked.clock is not None and locked.clock.stopped_at is None:
        clock_stop(locked.clock)
    _record(locked, actor=actor, name="deliver", previous=previous, data={"method": method})
    return locked


@transaction.atomic
def case_close(*, actor: Any, case: Case, expected_revision: int | None = None) -> Case:
    locked, previous = _transition(case=case, actor=actor, name="close",
                                   expected_revision=expected_revision)
    locked.closed_at = timezone.now()
    _record(locked, actor=actor, name="close", previous=previous)
    return locked


@transaction.atomic
def case_withdraw(*, actor: Any, case: Case, reason: str,
                  expected_revision: int | None = None) -> Case:
    locked, previous = _transition(case=case, actor=actor, name="withdraw", reason=reason,
                                   expected_revision=expected_revision)
    locked.closed_at = timezone.now()
    if locked.clock is not None and locked.clock.stopped_at is None:
        clock_stop(locked.clock)
    _record(locked, actor=actor, name="withdraw", previous=previous, reason=reason)
    return locked


@transaction.atomic
def case_terminate(*, actor: Any, case: Case, reason: str, system: bool = False) -> Case:
    locked, previous = _transition(case=case, actor=actor, name="terminate", reason=reason,
                                   system=system)
    locked.closed_at = timezone.now()
    if locked.clock is not None and locked.clock.stopped_at is None:
        clock_stop(locked.clock)
    _record(locked, actor=actor, name="terminate", previous=previous, reason=reason)
    return locked


# --- deadlines --------------------------------------------------------------------------


def time_state_of(case: Case, *, at: dt.datetime, calendar: WorkCalendar) -> str:
    """正常 / 预警 / 逾期 from the case's clock and its matter's warning threshold."""
    clock: Clock | None = case.clock
    if clock is None:
        return TimeState.NORMAL
    if clock.is_overdue(at):
        return TimeState.OVERDUE
    remaining = clock_remaining(clock, at=at, calendar=calendar)
    threshold = case.version.warning_days
    if clock.unit == ClockUnit.HOURS:
        threshold *= 24
    return TimeState.WARNING if remaining <= threshold else TimeState.NORMAL


OPEN_WITH_CLOCK = [S.ACCEPTED, S.ACCEPTED_DEFICIENT, S.UNDER_REVIEW, S.SUSPENDED, S.SUPPLEMENT]


def cases_refresh_deadlines(
    *, at: dt.datetime | None = None, batch_size: int = 2000
) -> dict[str, int]:
    """Periodic: recompute time states, warn handlers and supervisors, and apply the
    matter's rule to 容缺 cases whose supplement deadline has passed.

    Time states are stored so inbox filters and overdue lists stay one indexed query.
    """
    at = at or timezone.now()
    calendar = WorkCalendar.load()
    counts = {"warning": 0, "overdue": 0, "reminded": 0, "terminated": 0}
    last = 0
    while True:
        batch = list(Case.objects.filter(status__in=OPEN_WITH_CLOCK, clock__isnull=False,
                                         pk__gt=last)
                     .select_related("clock", "version", "assigned_to", "department", "matter",
                                     "applicant")
                     .order_by("pk")[:batch_size])
        if not batch:
            break
        last = batch[-1].pk
        for case in batch:
            state = time_state_of(case, at=at, calendar=calendar)
            if state != case.time_state:
                with transaction.atomic():
                    Case.objects.filter(pk=case.pk).update(time_state=state)
                    if state in (TimeState.WARNING, TimeState.OVERDUE):
                        counts[state] += 1
                        _warn_staff(case, state)
            if case.deficiency_due_at:  # 容缺 items still open, whatever the review stage
                _handle_deficiency_expiry(case, at=at, calendar=calendar, counts=counts)
    return counts


def _warn_staff(case: Case, state: str) -> None:
    from yiwang.accounts.models import User

    recipients = {case.assigned_to} if case.assigned_to else set()
    recipients |= set(User.objects.filter(
        is_active=True, groups__name="supervisor",
        org_unit__in=[case.department, *case.department.ancestors()]))
    for user in recipients:
        if user is None:
            continue
        notify(recipient=user, template="case_deadline", key=f"case:{case.pk}:{state}",
               context={"number": case.number, "matter": case.matter.name,
                        "state": str(TimeState(state).label),
                        "due_at": (timezone.localtime(case.clock.due_at).strftime("%Y-%m-%d")
                                   if case.clock else "")},
               url=f"/services/cases/{case.number}/")


def _handle_deficiency_expiry(case: Case, *, at: dt.datetime, calendar: WorkCalendar,
                              counts: dict[str, int]) -> None:
    due = case.deficiency_due_at
    if due is None or at <= due:
        return
    if case.deficiency_reminded_at is None:
        Case.objects.filter(pk=case.pk).update(deficiency_reminded_at=at)
        notify(recipient=case.applicant, template="case_deficiency_overdue",
               key=f"case:{case.pk}:deficiency-reminder",
               context={"number": case.number, "matter": case.matter.name,
                        "grace_days": settings.YIWANG_DEFICIENCY_GRACE_DAYS},
               url=f"/services/my/cases/{case.number}/")
        counts["reminded"] += 1
        return
    if case.version.deficiency_expiry_action != "terminate":
        return
    grace_end = calendar.add_working_days(case.deficiency_reminded_at,
                                          settings.YIWANG_DEFICIENCY_GRACE_DAYS)
    if at > grace_end:
        case_terminate(actor=None, case=case, system=True,
                       reason=_("The deficient materials were not supplied in time."))
        counts["terminated"] += 1
