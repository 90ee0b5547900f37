"""Pages of the portal home and the staff workbench: parse → selector/service → render."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yiwang.accounts import selectors as account_selectors

from . import policies, selectors, services
from .audit import verify_chain
from .forms import (
    AuditFilterForm,
    CalendarOverrideForm,
    DeadlineForm,
    PortalSearchForm,
    apply_service_errors,
)
from .health import health_report
from .notifications import mark_read
from .workbench import todo_items
from .workdays import WorkCalendar, official_holiday_name

# The workbench's own to-do source; apps register theirs the same way.

View = Callable[..., HttpResponse]


def staff_required(view: View) -> View:
    """Signed-in staff only: anonymous users go to sign in, citizens get 403."""

    @login_required
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if getattr(request.user, "kind", "") != "staff":
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def require_perm(perm: str) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not policies.has_perm(request.user, perm):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def paginate(request: HttpRequest, queryset: QuerySet[Any], per_page: int = 25) -> Page:
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


# --- public portal ----------------------------------------------------------------------

def _url(name: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:  # the app offering it is not installed
        return ""


def portal_entries() -> list[dict[str, str]]:
    """What the portal offers today, in the current language (the search looks here);
    entries without a ``url`` are announced as coming soon."""
    urls = {"soon-services": _url("services:catalog"), "soon-cases": _url("services:my_cases"),
            "soon-report": _url("events:portal_report")}
    entries = [
        {"id": "soon-services", "title": _("Apply for services"), "icon": "doc",
         "desc": _("Government service matters of every department, online."),
         "soon": _("The online service catalogue opens soon. Until then, apply at the "
                   "district administrative service hall.")},
        {"id": "soon-report", "title": _("Report a problem"), "icon": "megaphone",
         "desc": _("Potholes, noise, broken street lights: tell us where."),
         "soon": _("Online reporting opens soon. Until then, call the 12345 hotline, "
                   "which is open day and night.")},
        {"id": "soon-cases", "title": _("My applications"), "icon": "folder",
         "desc": _("Follow your applications and reports."),
         "soon": _("Tracking of applications opens with the online service catalogue.")},
        {"id": "soon-policies", "title": _("Policies"), "icon": "book",
         "desc": _("Policies, notices and subsidies you may be entitled to."),
         "soon": _("Policy information will be published here soon.")},
    ]
    for entry in entries:
        entry["url"] = urls.get(entry["id"], "")
    return entries


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    form = PortalSearchForm(request.GET or None)
    entries = portal_entries()
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    results = [e for e in entries if query and (
        query.lower() in e["title"].lower() or query.lower() in e["desc"].lower())] \
        if query else []
    return render(request, "core/home.html", {
        "form": form, "entries": entries, "query": query, "results": results,
    })


@require_GET
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    report = health_report(connection)
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)


# --- workbench --------------------------------------------------------------------------

@require_GET
@login_required
def workbench(request: HttpRequest) -> HttpResponse:
    if getattr(request.user, "kind", "") != "staff":
        return redirect("core:home")
    todos = todo_items(request.user)
    return render(request, "core/workbench.html", {
        "todos": todos,
        "todo_total": sum(item.count for item in todos),
        "notifications": selectors.notification_list(actor=request.user, unread=True)[:5],
        "staff_total": account_selectors.user_list(actor=request.user).filter(
            is_active=True).count(),
        "unit_total": selectors.orgunit_list(actor=request.user).count(),
    })


@require_GET
@never_cache  # personal messages: not for shared caches (outside /workbench/)
@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    page = paginate(request, selectors.notification_list(actor=request.user,
                                                         unread=unread_only), 20)
    return render(request, "core/notifications.html", {"page_obj": page,
                                                       "unread_only": unread_only})


@require_POST
@login_required
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    note = selectors.notification_get(actor=request.user, pk=pk)
    mark_read(actor=request.user, notification_ids=[note.pk])
    if request.htmx:  # type: ignore[attr-defined]
        note.refresh_from_db()
        return render(request, "core/partials/_notification.html",
                      {"note": note, "just_read": True})
    return redirect(_safe_next(request) or reverse("core:notifications"))


def _safe_next(request: HttpRequest) -> str:
    """The posted ``next`` if it stays on this site, else "" (no open redirect)."""
    target = request.POST.get("next", "")
    allowed = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                              require_https=request.is_secure())
    return target if allowed else ""


@require_POST
@login_required
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    ids = list(selectors.notification_list(actor=request.user, unread=True)
               .values_list("pk", flat=True)[:1000])
    count = mark_read(actor=request.user, notification_ids=ids)
    messages.success(request, _("%(n)d messages marked as read.") % {"n": count})
    return redirect("core:notifications")


# --- org tree ---------------------------------------------------------------------------

@require_GET
@staff_required
def org_tree(request: HttpRequest) -> HttpResponse:
    counts = account_selectors.staff_counts_by_unit(actor=request.user)
    return render(request, "core/org_tree.html", {
        "roots": selectors.orgunit_tree(actor=request.user, staff_counts=counts),
    })


@require_GET
@staff_required
def org_detail(request: HttpRequest, code: str) -> HttpResponse:
    unit = selectors.orgunit_get(actor=request.user, code=code[:18])
    children = list(selectors.orgunit_children(actor=request.user, unit=unit))
    boundaries = selectors.orgunit_boundaries(actor=request.user, units=[unit, *children])
    outline = selectors.orgunit_outline(
        unit=unit, boundary=boundaries.get(unit.pk),
        children=[(c, boundaries.get(c.pk), reverse("core:org_detail", args=[c.code]))
                  for c in children])
    counts = account_selectors.staff_counts_by_unit(actor=request.user)
    scope_root = policies.scope_path(request.user) or "/"
    return render(request, "core/org_detail.html", {
        "unit": unit,
        "ancestors": [a for a in unit.ancestors() if a.path.startswith(scope_root)],
        "children": [(child, counts.get(child.pk, 0)) for child in children],
        "outline": outline,
        "staff_direct": counts.get(unit.pk, 0),
        "staff_subtree": account_selectors.staff_count_in_subtree(actor=request.user, unit=unit),
    })


# --- audit log --------------------------------------------------------------------------

@require_GET
@staff_required
@require_perm("core.view_auditentry")
def audit_list(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None,
                           actions=selectors.audit_action_choices(actor=request.user))
    filters = form.cleaned_data if form.is_valid() else {}
    entries = selectors.audit_entry_list(
        actor=request.user, action=filters.get("action") or None,
        object_type=filters.get("object_type") or None,
        object_id=filters.get("object_id") or None)
    return render(request, "core/audit_list.html", {"form": form,
                                                   "page_obj": paginate(request, entries, 50)})


@require_POST
@staff_required
@require_perm("core.view_auditentry")
def audit_verify(request: HttpRequest) -> HttpResponse:
    result = verify_chain()
    template = ("core/partials/_verify_result.html" if request.htmx  # type: ignore[attr-defined]
                else "core/audit_verify.html")
    return render(request, template, {"result": result, "checked_at": timezone.now()})


# --- working-day calendar ---------------------------------------------------------------

def _calendar_page(request: HttpRequest, *, form: CalendarOverrideForm | None = None,
                   deadline: DeadlineForm | None = None, result: dict[str, Any] | None = None,
                   status: int = 200) -> HttpResponse:
    can_manage = services.can_manage_calendar(request.user)
    return render(request, "core/calendar.html", {
        "overrides": selectors.calendar_override_list(actor=request.user),
        "can_view_overrides": policies.has_perm(request.user, "core.view_calendaroverride"),
        "can_manage": can_manage,
        "form": form or (CalendarOverrideForm() if can_manage else None),
        "deadline_form": deadline or DeadlineForm(
            initial={"start": timezone.localdate(), "days": 20}),
        "result": result,
    }, status=status)


@require_http_methods(["GET", "POST"])
@staff_required
def calendar(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _calendar_page(request)
    if not services.can_manage_calendar(request.user):
        raise PermissionDenied
    form = CalendarOverrideForm(request.POST)
    if form.is_valid():
        try:
            override = services.calendar_override_set(
                actor=request.user, date=form.cleaned_data["date"],
                is_workday=form.cleaned_data["is_workday"], note=form.cleaned_data["note"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Saved: %(date)s is now %(kind)s.") % {
                "date": override.date.isoformat(),
                "kind": _("a working day") if override.is_workday else _("a day off")})
            return redirect("core:calendar")
    return _calendar_page(request, form=form, status=400)


@require_POST
@staff_required
def calendar_delete(request: HttpRequest, pk: int) -> HttpResponse:
    override = selectors.calendar_override_get(actor=request.user, pk=pk)
    services.calendar_override_delete(actor=request.user, override=override)
    messages.success(request, _("Override removed: %(date)s follows the official calendar "
                                "again.") % {"date": override.date.isoformat()})
    return redirect("core:calendar")


@require_GET
@staff_required
def deadline(request: HttpRequest) -> HttpResponse:
    """Start date + N working days → due date, on the official calendar and local overrides."""
    form = DeadlineForm(request.GET)
    result = None
    if form.is_valid():
        start, days = form.cleaned_data["start"], form.cleaned_data["days"]
        due = WorkCalendar.load().nth_workday_after(start, days)
        result = {"start": start, "days": days, "due": due, "calendar_days": (due - start).days,
                  "start_holiday": official_holiday_name(start)}
    status = 200 if result else 400
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "core/partials/_deadline_result.html",
                      {"deadline_form": form, "result": result})
    return _calendar_page(request, deadline=form, result=result, status=status)


# --- admin landing ----------------------------------------------------------------------

@require_GET
@staff_required
@require_perm("accounts.manage_staff")
def admin_home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/admin_home.html", {
        "can_audit": policies.has_perm(request.user, "core.view_auditentry"),
        "can_calendar": services.can_manage_calendar(request.user),
    })
