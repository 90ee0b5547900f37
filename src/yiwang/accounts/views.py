"""Account pages: sign in, registration, my account, staff directory, API tokens."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yiwang.core import policies
from yiwang.core import selectors as core_selectors
from yiwang.core.forms import apply_service_errors
from yiwang.core.views import paginate, require_perm, staff_required

from . import selectors, services
from .forms import (
    CitizenRegisterForm,
    DeactivateForm,
    LoginForm,
    StaffCreateForm,
    StaffFilterForm,
    TokenCreateForm,
    permission_label,
)
from .roles import TOKEN_PERMISSIONS, Role

SESSION_BACKEND = "yiwang.accounts.backends.YiwangBackend"


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        if getattr(self.request.user, "kind", "") == "staff":
            return reverse("core:workbench")
        return super().get_default_redirect_url()


# --- citizens ---------------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("accounts:me")
    form = CitizenRegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.citizen_register(
                username=data["username"], password=data["password"], name=data["name"],
                id_number=data["id_number"], phone=data["phone"],
                language=(get_language() or "zh-hans").lower())
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            login(request, user, backend=SESSION_BACKEND)
            messages.success(request, _("Welcome, %(name)s. Your account is ready.")
                             % {"name": user.name})
            return redirect("accounts:me")
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/register.html", {"form": form}, status=status)


@require_GET
@login_required
def me(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/me.html", {
        "notifications": core_selectors.notification_list(actor=request.user)[:5],
    })


# --- staff directory --------------------------------------------------------------------

@require_GET
@staff_required
@require_perm("accounts.view_user")
def staff_list(request: HttpRequest) -> HttpResponse:
    units = list(core_selectors.orgunit_list(actor=request.user).order_by("path"))
    form = StaffFilterForm(request.GET or None, units=units)
    filters = form.cleaned_data if form.is_valid() else {}
    users = selectors.user_list(actor=request.user, q=filters.get("q") or None,
                                org_unit_code=filters.get("unit") or None,
                                role=filters.get("role") or None)
    return render(request, "accounts/staff_list.html", {
        "form": form, "page_obj": paginate(request, users, 25),
        "role_labels": dict(Role.choices),
        "can_manage": policies.has_perm(request.user, "accounts.manage_staff"),
    })


def _staff_detail_context(request: HttpRequest, staff: Any) -> dict[str, Any]:
    labels = dict(Role.choices)
    return {
        "staff": staff,
        "roles": [labels.get(code, code) for code in staff.role_codes],
        "can_reveal": policies.can_view_personal_data(request.user),
        "can_manage": policies.has_perm(request.user, "accounts.manage_staff"),
    }


@require_GET
@staff_required
def staff_detail(request: HttpRequest, pk: int) -> HttpResponse:
    staff = selectors.user_get(actor=request.user, pk=pk)
    return render(request, "accounts/staff_detail.html", _staff_detail_context(request, staff))


@require_POST
@staff_required
def staff_phone(request: HttpRequest, pk: int) -> HttpResponse:
    """Reveal a staff member's full phone number; recorded in the audit log."""
    staff = selectors.user_get(actor=request.user, pk=pk)
    revealed = services.staff_pii_reveal(actor=request.user, user=staff, fields=("phone",))
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "accounts/partials/_phone.html",
                      {"staff": staff, "revealed": revealed["phone"]})
    return render(request, "accounts/staff_detail.html", {
        **_staff_detail_context(request, staff), "revealed": revealed["phone"]})


@require_http_methods(["GET", "POST"])
@staff_required
def staff_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    staff = selectors.user_get(actor=request.user, pk=pk, action="change",
                               perm="accounts.manage_staff")
    form = DeactivateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_deactivate(actor=request.user, user=staff,
                                      reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The account of %(name)s is deactivated and its API "
                                        "tokens are revoked.") % {"name": staff})
            return redirect("accounts:staff_detail", pk=staff.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/staff_deactivate.html", {"staff": staff, "form": form},
                  status=status)


@require_http_methods(["GET", "POST"])
@staff_required
@require_perm("accounts.manage_staff")
def staff_create(request: HttpRequest) -> HttpResponse:
    units = list(core_selectors.orgunit_list(actor=request.user).order_by("path"))
    form = StaffCreateForm(request.POST or None, units=units,
                           initial={"org_unit": getattr(policies.scope_unit(request.user),
                                                        "code", "")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        unit = core_selectors.orgunit_get(actor=request.user, code=data["org_unit"])
        try:
            staff = services.staff_create(
                actor=request.user, username=data["username"], name=data["name"],
                org_unit=unit, roles=data["roles"], password=data["password"],
                email=data["email"], phone=data["phone"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Account %(username)s created.")
                             % {"username": staff.username})
            return redirect("accounts:staff_detail", pk=staff.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/staff_create.html", {"form": form}, status=status)


# --- API tokens -------------------------------------------------------------------------

def _token_permission_choices(user: Any) -> list[tuple[str, str]]:
    """The permissions a token of ``user`` may carry, labelled in the user's language."""
    return [(p, f"{permission_label(p)} ({p})") for p in TOKEN_PERMISSIONS
            if policies.has_perm(user, p)]


@require_http_methods(["GET", "POST"])
@staff_required
def token_list(request: HttpRequest) -> HttpResponse:
    units = list(core_selectors.orgunit_list(actor=request.user).order_by("path"))
    form = TokenCreateForm(request.POST or None, units=units,
                           permissions=_token_permission_choices(request.user),
                           initial={"org_unit": getattr(policies.scope_unit(request.user),
                                                        "code", "")})
    secret = None
    created = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        unit = core_selectors.orgunit_get(actor=request.user, code=data["org_unit"])
        expires = (dt.datetime.combine(data["expires_on"], dt.time.max,
                                       tzinfo=timezone.get_current_timezone())
                   if data["expires_on"] else None)
        try:
            created, secret = services.token_create(
                actor=request.user, name=data["name"], org_unit=unit,
                permissions=data["permissions"], expires_at=expires)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            form = TokenCreateForm(units=units,
                                   permissions=_token_permission_choices(request.user),
                                   initial={"org_unit": unit.code})
    status = 400 if request.method == "POST" and secret is None else 200
    return render(request, "accounts/token_list.html", {
        "form": form, "secret": secret, "created": created,
        "tokens": selectors.token_list(actor=request.user).order_by("-created_at")[:200],
    }, status=status)


@require_POST
@staff_required
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = selectors.token_get(actor=request.user, pk=pk)
    services.token_revoke(actor=request.user, token=token,
                          reason=request.POST.get("reason", "")[:500])
    messages.success(request, _("Token %(name)s revoked.") % {"name": token.name})
    return redirect("accounts:token_list")
