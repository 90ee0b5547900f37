"""What every page's shell needs: languages, the signed-in user's unit and roles, the nav."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import get_language, get_language_info
from django.utils.translation import gettext_lazy as _

from . import policies

# BCP 47 tags for <html lang> and the language buttons (Django's codes are lower case).
HTML_LANG = {"zh-hans": "zh-Hans", "zh-hant": "zh-Hant", "en": "en"}
SHORT_NAME = {"zh-hans": "简体", "zh-hant": "繁體", "en": "EN"}


@dataclass(frozen=True)
class NavItem:
    label: Any
    url_name: str
    icon: str
    perm: str | None = None  # "a|b": any of them
    # The item is "current" for every URL name of these views.
    matches: tuple[str, ...] = ()


WORKBENCH_NAV: tuple[NavItem, ...] = (
    NavItem(_("Workbench"), "core:workbench", "home"),
    NavItem(_("Messages"), "core:notifications", "bell"),
    NavItem(_("12345 hotline"), "events:hotline", "phone", "events.intake_event"),
    NavItem(_("Dispatch queue"), "events:queue", "megaphone",
            "events.dispatch_event|events.supervise_event", ("events:queue",)),
    NavItem(_("Event inbox"), "events:inbox", "folder", "events.handle_event",
            ("events:inbox", "events:event_detail")),
    NavItem(_("Events map"), "events:map", "eye", "events.view_event"),
    NavItem(_("Event figures"), "events:figures", "eye", "events.view_event"),
    NavItem(_("Case inbox"), "services:inbox", "folder", "services.view_case",
            ("services:inbox", "services:case_detail")),
    NavItem(_("Overdue and warning"), "services:overdue", "clock", "services.view_case"),
    NavItem(_("Service statistics"), "services:statistics", "building", "services.view_case"),
    NavItem(_("Rectifications"), "services:rectification_list", "check",
            "services.view_rectification",
            ("services:rectification_list", "services:rectification_detail")),
    NavItem(_("Catalog management"), "services:matter_admin_list", "book",
            "services.change_matter",
            ("services:matter_admin_list", "services:matter_admin_create",
             "services:matter_admin_detail", "services:version_edit", "services:version_diff",
             "services:catalog_report", "services:catalog_import")),
    NavItem(_("Org tree"), "core:org_tree", "tree", "core.view_orgunit",
            ("core:org_tree", "core:org_detail")),
    NavItem(_("Staff directory"), "accounts:staff_list", "people", "accounts.view_user",
            ("accounts:staff_list", "accounts:staff_detail", "accounts:staff_deactivate",
             "accounts:staff_create")),
    NavItem(_("Audit log"), "core:audit_list", "shield", "core.view_auditentry"),
    NavItem(_("Working-day calendar"), "core:calendar", "calendar"),
    NavItem(_("API tokens"), "accounts:token_list", "key"),
    NavItem(_("Administration"), "core:admin_home", "gear", "accounts.manage_staff"),
)


def html_lang(code: str | None = None) -> str:
    code = (code or get_language() or settings.LANGUAGE_CODE).lower()
    return HTML_LANG.get(code, code)


def _languages() -> list[dict[str, str]]:
    current = (get_language() or settings.LANGUAGE_CODE).lower()
    rows = []
    for code, _name in settings.LANGUAGES:
        info = get_language_info(code)
        rows.append({"code": code, "name_local": info["name_local"],
                     "short": SHORT_NAME.get(code, code), "html_lang": html_lang(code),
                     "current": "1" if code == current else ""})
    return rows


def district_name() -> str:
    """The name of the district this deployment serves, in the current language."""
    from .models import OrgUnit

    key = f"yiwang:district-name:{settings.YIWANG_DISTRICT_CODE}"
    names = cache.get(key)
    if names is None:
        names = OrgUnit.objects.filter(code=settings.YIWANG_DISTRICT_CODE).values_list(
            "name", "name_en").first() or ("", "")
        cache.set(key, names, 300)
    name, name_en = names
    if (get_language() or "").lower() == "en":
        return str(name_en or name or _("District"))
    return str(name or _("District"))


def _nav(request: HttpRequest, user: Any) -> list[dict[str, Any]]:
    match = getattr(request, "resolver_match", None)
    here = match.view_name if match is not None else ""
    items = []
    for item in WORKBENCH_NAV:
        if item.perm and not any(policies.has_perm(user, p) for p in item.perm.split("|")):
            continue
        items.append({"label": item.label, "url": reverse(item.url_name), "icon": item.icon,
                      "current": here in (item.matches or (item.url_name,))})
    return items


def shell(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    is_signed_in = bool(user is not None and user.is_authenticated)
    is_staff_user = bool(is_signed_in and getattr(user, "kind", "") == "staff")
    context: dict[str, Any] = {
        "YIWANG_LANGUAGES": settings.LANGUAGES,
        "yw_languages": _languages(),
        "html_lang": html_lang(),
        "district_name": district_name(),
        "unread_count": 0,
        "is_staff_user": is_staff_user,
        "shell_template": "core/shell_workbench.html" if is_staff_user
        else "core/shell_portal.html",
        "workbench_nav": [],
        "user_roles": [],
        "user_unit": None,
    }
    if user is not None and is_signed_in:
        from yiwang.accounts.roles import Role

        from .selectors import notification_list

        context["unread_count"] = notification_list(actor=user, unread=True).count()
        if is_staff_user:
            labels = dict(Role.choices)
            context["workbench_nav"] = _nav(request, user)
            context["user_roles"] = [labels.get(code, code) for code in user.role_codes]
            context["user_unit"] = policies.scope_unit(user)
    return context
