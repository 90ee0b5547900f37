"""Pages: staff. The inbox, the staff case page with one form per transition, and the
overdue list (超时件). Views parse and check; ``services.cases`` changes state."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from yiwang.accounts.models import User
from yiwang.core import policies
from yiwang.core.audit import audit_pii_read
from yiwang.core.forms import apply_service_errors
from yiwang.core.validators import mask_name
from yiwang.core.views import require_perm, staff_required
from yiwang.core.workdays import WorkCalendar

from .. import cases, selectors
from ..forms_cases import (
    ACTION_FORMS,
    DELIVERY_CHOICES,
    STAFF_ACTIONS,
    ActionForm,
    InboxFilterForm,
    OverdueFilterForm,
)
from ..models import Case, CaseStatus, Extension, Material

PER_PAGE = 25
VIEW_CASE = "services.view_case"
# Shown first and as solid buttons; the rest are secondary, refusals in red.
PRIMARY_ACTIONS = ("accept", "claim", "start_review", "approve", "deliver", "close", "resume")


def action_url(action: str, number: str) -> str:
    return reverse(f"services:case_action_{action}", args=[number])


def _can(user: Any, action: str) -> bool:
    """The actor's roles allow ``action`` at all (scope and state are checked elsewhere)."""
    perms = cases.TRANSITION_PERMISSIONS[action] or ""
    return any(policies.has_perm(user, p) for p in perms.split("|") if p)


def _applicant_names(user: Any, rows: list[Case]) -> dict[int, str]:
    """Applicant names as the actor may see them: persons masked unless the role allows."""
    if policies.can_view_personal_data(user):
        return {c.pk: c.applicant_name for c in rows}
    kinds = dict(User.objects.filter(pk__in={c.applicant_id for c in rows})
                 .values_list("pk", "kind"))
    return {c.pk: (c.applicant_name if kinds.get(c.applicant_id) == "enterprise"
                   else mask_name(c.applicant_name)) for c in rows}


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    ok = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                         require_https=request.is_secure())
    return target if ok else ""


# --- inbox ------------------------------------------------------------------------------


def _row_context(user: Any, rows: list[Case], *, reviewers: list[Any] | None = None
                 ) -> list[dict[str, Any]]:
    reader = selectors.DeadlineReader()
    names = _applicant_names(user, rows)
    may_claim, may_assign = _can(user, "claim"), _can(user, "assign")
    claim_from = cases.TRANSITIONS["claim"].sources
    assign_from = cases.TRANSITIONS["assign"].sources
    return [{
        "case": case,
        "applicant": names[case.pk],
        "deadline": reader.of(case),
        "claim_url": action_url("claim", case.number),
        "assign_url": action_url("assign", case.number),
        "can_claim": may_claim and case.status in claim_from and case.assigned_to_id is None,
        "can_assign": bool(may_assign and reviewers and case.status in assign_from),
    } for case in rows]


def _default_tab(codes: list[str]) -> str:
    """The window's queue for clerks, the department's for reviewers; everything for
    those who oversee (supervisors, admins)."""
    working = [c for c in codes if c in ("intake", "unassigned", "mine")]
    return working[0] if working else "all"


@require_GET
@staff_required
@require_perm(VIEW_CASE)
def inbox(request: HttpRequest) -> HttpResponse:
    user = request.user
    tabs = selectors.inbox_tabs(actor=user)
    codes = [t.code for t in tabs]
    asked = request.GET.get("tab", "")
    tab = asked if asked in codes else _default_tab(codes)
    matters = [(m.pk, m.name) for m in selectors.inbox_matters(actor=user)]
    form = InboxFilterForm(request.GET or None, matters=matters)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = selectors.case_inbox(actor=user, tab=tab, matter_id=filters.get("matter"),
                              time_state=filters.get("time_state") or None,
                              channel=filters.get("channel") or None,
                              q=filters.get("q") or None, sort=filters.get("sort") or None)
    page = selectors.CappedPaginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    reviewers = (selectors.reviewers_for(actor=user)
                 if tab == "unassigned" and _can(user, "assign") else [])
    counts = selectors.inbox_counts(actor=user, tabs=tabs)
    return render(request, "services/staff/inbox.html", {
        "tabs": [{"code": t.code, "label": t.label, "count": counts.get(t.code),
                  "current": t.code == tab} for t in tabs],
        "tab": tab, "form": form, "page_obj": page,
        "rows": _row_context(user, list(page.object_list), reviewers=reviewers),
        "reviewers": reviewers, "count_cap": selectors.TAB_COUNT_CAP,
        "here": request.get_full_path(),
    })


# --- the case page ----------------------------------------------------------------------


def _form_fields(case: Case) -> list[dict[str, Any]]:
    """The application data with the titles of the matter version's form schema."""
    schema = case.version.form_schema or {}
    props: dict[str, Any] = schema.get("properties") or {}
    data = case.form_data or {}
    keys = [k for k in props if k in data] + [k for k in data if k not in props]
    rows = []
    for key in keys:
        spec = props.get(key) or {}
        value = data[key]
        if isinstance(value, bool):
            value = _("Yes") if value else _("No")
        elif isinstance(value, list):
            value = "、".join(str(v) for v in value)
        elif isinstance(value, dict):
            value = "；".join(f"{k}: {v}" for k, v in value.items())
        rows.append({"title": spec.get("title") or key, "value": value})
    return rows


def _timeline(case: Case) -> list[dict[str, Any]]:
    """The case's events, each with its label, who, why and the few details staff need."""
    labels = {name: t.label for name, t in cases.TRANSITIONS.items()}
    labels["create"] = _("Application started")
    methods = dict(DELIVERY_CHOICES)
    rows = []
    for event in case.events.select_related("actor"):
        data = event.data or {}
        details = []
        if data.get("procedure") in cases.SPECIAL_PROCEDURES:
            details.append(str(cases.SPECIAL_PROCEDURES[data["procedure"]]))
        if isinstance(data.get("items"), list) and data["items"]:
            details.append("、".join(str(i) for i in data["items"]))
        if data.get("assignee"):
            details.append(_("Assigned to %(name)s") % {"name": data["assignee"]})
        if data.get("days") and event.action in ("request_extension", "decide_extension"):
            details.append(_("%(days)s working days") % {"days": data["days"]})
        if event.action == "decide_extension":
            details.append(_("Approved") if data.get("approved") else _("Denied"))
        if data.get("method") in methods:
            details.append(str(methods[data["method"]]))
        rows.append({"label": labels.get(event.action, event.action), "at": event.at,
                     "actor": event.actor, "reason": event.reason, "details": details})
    return rows


def _action_form(name: str, case: Case, *, data: Any = None, materials: list[Material],
                 reviewers: list[Any], pending: Extension | None) -> ActionForm:
    extra: dict[str, Any] = {}
    if name == "accept_with_deficiency":
        extra["due_at"] = WorkCalendar.load().add_working_days(
            timezone.now(), case.version.supplement_days)
    if name == "decide_extension":
        extra["extension"] = pending
    form = ACTION_FORMS[name](data, case=case, materials=materials, reviewers=reviewers,
                              **extra)
    form.url = action_url(name, case.number)  # type: ignore[attr-defined]
    form.primary = name in PRIMARY_ACTIONS  # type: ignore[attr-defined]
    return form


def _action_inputs(user: Any, case: Case, names: list[str]
                   ) -> tuple[list[Material], list[Any], Extension | None, list[Extension]]:
    """What the forms of ``names`` need: the version's materials, colleagues to assign to,
    the pending extension request (and all of them, for the page)."""
    extensions = list(case.extensions.select_related("requested_by", "decided_by"))
    pending = next((e for e in extensions if e.status == Extension.Status.REQUESTED), None)
    materials = list(Material.objects.filter(version_id=case.version_id))
    reviewers = (selectors.reviewers_for(actor=user, unit_path=case.department.path)
                 if "assign" in names else [])
    return materials, reviewers, pending, extensions


def _allowed(user: Any, case: Case) -> list[str]:
    return [t.name for t in cases.allowed_transitions(case, user) if t.name in STAFF_ACTIONS]


def _detail_context(request: HttpRequest, case: Case, *, failed: ActionForm | None = None,
                    revealed: dict[str, str] | None = None) -> dict[str, Any]:
    user = request.user
    allowed = _allowed(user, case)
    materials, reviewers, pending, extensions = _action_inputs(user, case, allowed)
    if pending is not None and pending.requested_by_id == user.pk and "decide_extension" in allowed:
        allowed.remove("decide_extension")  # someone else decides (延长审批)
    if case.assigned_to_id == user.pk and "claim" in allowed:
        allowed.remove("claim")  # already mine
    forms = [failed if failed is not None and failed.action == name else
             _action_form(name, case, materials=materials, reviewers=reviewers, pending=pending)
             for name in allowed]
    forms.sort(key=lambda f: (f.action not in PRIMARY_ACTIONS, f.danger))
    can_reveal = policies.can_view_personal_data(user)
    applicant = case.applicant
    return {
        "case": case,
        "status_label": CaseStatus(case.status).label,
        "deadline": selectors.DeadlineReader().of(case),
        "applicant_name": (case.applicant_name if can_reveal or applicant.kind == "enterprise"
                           else mask_name(case.applicant_name)),
        "applicant": applicant,
        "can_reveal": can_reveal and bool(applicant.id_number or applicant.phone),
        "revealed": revealed,
        "form_fields": _form_fields(case),
        "case_materials": list(case.materials.select_related("material", "uploaded_by")),
        "deficiencies": list(case.deficiencies.select_related("material")),
        "extensions": extensions,
        "timeline": _timeline(case),
        "forms": forms,
        "failed": failed,
    }


@require_GET
@staff_required
@require_perm(VIEW_CASE)
def case_detail(request: HttpRequest, number: str) -> HttpResponse:
    case = selectors.case_get(actor=request.user, number=number)
    return render(request, "services/staff/case_detail.html", _detail_context(request, case))


@require_POST
@staff_required
@require_perm(VIEW_CASE)
def case_applicant_reveal(request: HttpRequest, number: str) -> HttpResponse:
    """The applicant's full ID and phone number, for roles allowed; recorded in the audit."""
    case = selectors.case_get(actor=request.user, number=number)
    if not policies.can_view_personal_data(request.user):
        raise PermissionDenied
    applicant = case.applicant
    revealed = {"id_number": applicant.id_number or "", "phone": applicant.phone or ""}
    audit_pii_read(actor=request.user, obj=applicant, fields=("id_number", "phone"),
                   reason=f"case {case.number}")
    context = _detail_context(request, case, revealed=revealed)
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "services/staff/_applicant_pii.html", context)
    return render(request, "services/staff/case_detail.html", context)


def _after(request: HttpRequest, case: Case, *, ok: bool, text: str) -> HttpResponse:
    """Where a transition lands: the inbox row (htmx), the page it came from, or the case."""
    (messages.success if ok else messages.error)(request, text)
    if request.htmx and request.POST.get("from") == "inbox":  # type: ignore[attr-defined]
        fresh = selectors.case_get(actor=request.user, number=case.number)
        storage = messages.get_messages(request)
        notes = list(storage)  # shown in the row, not again on the next page
        reviewers = selectors.reviewers_for(actor=request.user) if _can(
            request.user, "assign") else []
        return render(request, "services/staff/_case_row.html", {
            "row": _row_context(request.user, [fresh], reviewers=reviewers)[0],
            "reviewers": reviewers, "notes": notes, "ok": ok,
            "here": _safe_next(request) or reverse("services:inbox")})
    target = _safe_next(request) if request.POST.get("from") == "inbox" else ""
    return redirect(target or reverse("services:case_detail", args=[case.number]))


@require_POST
@staff_required
@require_perm(VIEW_CASE)
def case_action(request: HttpRequest, number: str, action: str) -> HttpResponse:
    """One transition. Checked in order: scope (404), role (403), the revision the person
    saw (someone else was faster → reload), the state, the input (400); the service
    checks all of it again under a row lock."""
    case = selectors.case_get(actor=request.user, number=number)
    if action not in ACTION_FORMS:
        raise Http404
    if not _can(request.user, action):
        raise PermissionDenied
    try:
        seen = int(request.POST.get(f"{action}-revision", ""))
    except ValueError:
        seen = -1
    if seen != case.revision:
        return _after(request, case, ok=False, text=str(
            _("Someone else changed this case meanwhile; reload it and try again.")))
    if action not in {t.name for t in cases.allowed_transitions(case, request.user)}:
        return _after(request, case, ok=False, text=str(
            _("“%(action)s” is not possible while the case is “%(status)s”.")
            % {"action": cases.TRANSITIONS[action].label,
               "status": CaseStatus(case.status).label}))
    materials, reviewers, pending, _all = _action_inputs(request.user, case, [action])
    if action == "decide_extension" and pending is not None \
            and pending.requested_by_id == request.user.pk:
        raise PermissionDenied  # 延长审批: not by the person who asked
    form = _action_form(action, case, data=request.POST, materials=materials,
                        reviewers=reviewers, pending=pending)
    if form.is_valid():
        try:
            text = form.perform(actor=request.user)
        except cases.TransitionError as exc:
            return _after(request, case, ok=False, text=" ".join(exc.messages))
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            return _after(request, case, ok=True, text=text)
    return render(request, "services/staff/case_detail.html",
                  _detail_context(request, case, failed=form), status=400)


# --- overdue (超时件) --------------------------------------------------------------------


def _overdue_rows(user: Any, rows: list[Case], reader: selectors.DeadlineReader
                  ) -> list[dict[str, Any]]:
    names = _applicant_names(user, rows)
    return [{"case": c, "applicant": names[c.pk], "deadline": reader.of(c)} for c in rows]


@require_GET
@staff_required
@require_perm(VIEW_CASE)
def overdue(request: HttpRequest) -> HttpResponse:
    user = request.user
    by_department = selectors.case_overdue_by_department(actor=user)
    form = OverdueFilterForm(request.GET or None, departments=[
        (r["department_id"], r["department__name"]) for r in by_department])
    filters = form.cleaned_data if form.is_valid() else {}
    qs = selectors.case_overdue_list(actor=user, time_state=filters.get("time_state") or None,
                                     department_id=filters.get("department"))
    if request.GET.get("format") == "csv":
        return cast(HttpResponse, _overdue_csv(user, qs))  # streamed: same role for callers
    page = selectors.CappedPaginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    reader = selectors.DeadlineReader()
    return render(request, "services/staff/overdue.html", {
        "form": form, "page_obj": page, "by_department": by_department,
        "total_overdue": sum(r["overdue"] for r in by_department),
        "total_warning": sum(r["warning"] for r in by_department),
        "rows": _overdue_rows(user, list(page.object_list), reader),
        "csv_query": _with_format(request),
    })


def _with_format(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    query["format"] = "csv"
    return query.urlencode()


class _Echo:
    def write(self, value: str) -> str:
        return value


def _overdue_csv(user: Any, qs: Any) -> StreamingHttpResponse:
    reader = selectors.DeadlineReader()
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield "\ufeff"  # Excel opens UTF-8 CSV as such only with a BOM
        yield writer.writerow([
            _("Case number"), _("Matter"), _("Department"), _("Applicant"), _("Status"),
            _("Time state"), _("Deadline"), _("Working days overdue"),
            _("Working days left"), _("Handler")])
        batch: list[Case] = []
        for case in qs.iterator(chunk_size=2000):
            batch.append(case)
            if len(batch) == 2000:
                yield from _csv_rows(user, batch, reader, writer)
                batch = []
        yield from _csv_rows(user, batch, reader, writer)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="overdue-cases-{stamp}.csv"'
    return response


def _csv_rows(user: Any, batch: list[Case], reader: selectors.DeadlineReader,
              writer: Any) -> Iterator[str]:
    if not batch:
        return
    for row in _overdue_rows(user, batch, reader):
        case, deadline = row["case"], row["deadline"]
        due = timezone.localtime(deadline.due_at).strftime("%Y-%m-%d") if deadline.due_at else ""
        left = deadline.remaining if deadline.remaining is not None and \
            deadline.remaining >= 0 else ""
        yield writer.writerow([
            case.number, case.matter.name, case.department.name, row["applicant"],
            CaseStatus(case.status).label, case.get_time_state_display(), due,
            deadline.overdue_by or "", left,
            str(case.assigned_to) if case.assigned_to else ""])


urlpatterns: list[URLPattern] = [
    path("services/inbox/", inbox, name="inbox"),
    path("services/overdue/", overdue, name="overdue"),
    path("services/cases/<str:number>/", case_detail, name="case_detail"),
    path("services/cases/<str:number>/applicant/", case_applicant_reveal,
         name="case_applicant_reveal"),
    # One route per transition (a name each, so the authorization matrix declares who may
    # do what); an unknown action matches no route: 404.
    *(path(f"services/cases/<str:number>/actions/{name}/", case_action, {"action": name},
           name=f"case_action_{name}") for name in STAFF_ACTIONS),
]
