"""Staff roles. Each role is an auth group holding a declared set of permissions.

A role's scope is the user's org unit and everything below it (see ``core.policies``).
Later apps extend ``ROLE_PERMISSIONS`` with their own permissions; ``sync_roles`` runs
after every migrate and makes the groups match this table exactly.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    WINDOW_CLERK = "window_clerk", _("Window clerk")
    APPROVER = "approver", _("Approver")
    HANDLER = "handler", _("Department handler")
    DISPATCHER = "dispatcher", _("Dispatcher")
    GRID_WORKER = "grid_worker", _("Grid worker")
    SUPERVISOR = "supervisor", _("Supervisor")
    DATA_STEWARD = "data_steward", _("Data steward")
    AUDITOR = "auditor", _("Auditor")
    DISTRICT_ADMIN = "district_admin", _("District admin")


_STAFF_BASE = {"core.view_orgunit", "accounts.view_user", "core.view_notification"}

_CASES_READ = {"services.view_case", "services.view_matter", "services.view_matterversion",
               "services.view_rating", "services.view_rectification"}

_EVENTS_READ = {"events.view_event", "events.view_category", "events.view_dispatchcatalog"}

ROLE_PERMISSIONS: dict[str, set[str]] = {
    Role.WINDOW_CLERK: _STAFF_BASE | _CASES_READ | {
        "accounts.view_personal_data", "services.add_case", "services.accept_case"},
    Role.APPROVER: _STAFF_BASE | _CASES_READ | {
        "accounts.view_personal_data", "services.review_case", "services.decide_case",
        "services.assign_case", "services.approve_extension",
        "services.handle_rectification"},
    Role.HANDLER: _STAFF_BASE | _CASES_READ | _EVENTS_READ | {
        "services.review_case", "services.handle_rectification", "events.handle_event"},
    Role.DISPATCHER: _STAFF_BASE | _EVENTS_READ | {
        "events.intake_event", "events.dispatch_event", "events.callback_event"},
    Role.GRID_WORKER: _STAFF_BASE | _EVENTS_READ | {"events.intake_event",
                                                   "events.handle_event"},
    Role.SUPERVISOR: _STAFF_BASE | _CASES_READ | _EVENTS_READ | {
        "services.approve_extension", "services.decide_appeal", "events.supervise_event",
        "events.callback_event"},
    Role.DATA_STEWARD: _STAFF_BASE | {"accounts.view_personal_data"},
    Role.AUDITOR: _STAFF_BASE | {"core.view_auditentry"},
    Role.DISTRICT_ADMIN: _STAFF_BASE | {
        "core.change_orgunit",
        "accounts.manage_staff",
        "core.view_calendaroverride",
        "core.add_calendaroverride",
        "core.change_calendaroverride",
        "core.delete_calendaroverride",
        "accounts.view_apitoken",
        "services.view_matter", "services.add_matter", "services.change_matter",
        "services.view_matterversion", "services.review_matter", "services.publish_matter",
        "services.view_case",
        "events.view_event", "events.view_category", "events.view_dispatchcatalog",
        "events.manage_catalog", "events.view_clientsystem", "events.add_clientsystem",
        "events.change_clientsystem", "events.view_responsibleparty",
        "events.add_responsibleparty", "events.change_responsibleparty",
    },
}

# Permissions an API token may carry (subset of what its owner has).
TOKEN_PERMISSIONS = sorted(set().union(*ROLE_PERMISSIONS.values()))


def sync_roles() -> None:
    from django.contrib.auth.models import Group, Permission

    for role in Role:
        group, _created = Group.objects.get_or_create(name=role.value)
        wanted = ROLE_PERMISSIONS[role]
        perms = []
        for dotted in sorted(wanted):
            app_label, codename = dotted.split(".")
            perm = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if perm is None:  # the app defining it is not migrated yet
                continue
            perms.append(perm)
        group.permissions.set(perms)


def sync_roles_after_migrate(sender: Any, **kwargs: Any) -> None:
    # Runs after each app's migrate so permissions of apps migrated later are picked up;
    # the app's own permissions first, as this receiver may run before auth's.
    from django.contrib.auth.management import create_permissions

    app_config = kwargs.get("app_config")
    if app_config is not None and app_config.models_module is not None:
        create_permissions(app_config, verbosity=0, using=kwargs.get("using", "default"))
    sync_roles()
