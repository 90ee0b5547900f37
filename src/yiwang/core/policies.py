"""Authorization and org scope: the one mechanism every list, detail and API uses.

An *actor* is the signed-in user, possibly acting through an API token (then
``actor.api_token`` is set by the API's auth and narrows both the permissions and the
scope). Staff see what belongs to their org unit and the units below it; citizens and
enterprises see only what they own.

Models opt in by declaring ``scope_path_lookup`` (the ORM path to an OrgUnit path,
e.g. ``"org_unit__path"``, or a tuple of them when an object belongs to several units)
and optionally ``owner_lookup`` (e.g. ``"applicant"``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404

if TYPE_CHECKING:
    from .models.org import OrgUnit

M = TypeVar("M", bound=models.Model)


def _token(actor: Any) -> Any:
    return getattr(actor, "api_token", None)


def is_active_actor(actor: Any) -> bool:
    return bool(actor is not None and actor.is_authenticated and actor.is_active)


def has_perm(actor: Any, perm: str) -> bool:
    """The actor's roles grant ``perm`` (``app_label.codename``) and its token allows it."""
    if not is_active_actor(actor):
        return False
    token = _token(actor)
    if token is not None and perm not in token.permissions:
        return False
    return bool(actor.has_perm(perm))


def scope_unit(actor: Any) -> OrgUnit | None:
    """The org unit whose subtree the actor may act on."""
    token = _token(actor)
    if token is not None:
        return token.org_unit
    return getattr(actor, "org_unit", None)


def scope_path(actor: Any) -> str | None:
    if is_active_actor(actor) and actor.is_superuser and _token(actor) is None:
        return "/"
    unit = scope_unit(actor)
    return unit.path if unit is not None else None


def in_scope(actor: Any, path: str | None) -> bool:
    root = scope_path(actor)
    return bool(root and path and path.startswith(root))


def model_perm(model: type[models.Model], action: str) -> str:
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


def restrict(
    queryset: models.QuerySet[M], actor: Any, action: str = "view", *, perm: str | None = None
) -> models.QuerySet[M]:
    """Only the rows ``actor`` may ``action``; an empty queryset when none.

    ``perm`` overrides the default ``<app>.<action>_<model>`` permission.
    """
    if not is_active_actor(actor):
        return queryset.none()
    model = queryset.model
    owner_lookup = getattr(model, "owner_lookup", None)
    kind = getattr(actor, "kind", "staff")
    if kind != "staff" and not actor.is_superuser:
        if owner_lookup:
            return queryset.filter(**{owner_lookup: actor})
        return queryset.none()
    if not has_perm(actor, perm or model_perm(model, action)):
        return queryset.none()
    root = scope_path(actor)
    if root is None:
        return queryset.none()
    lookup = getattr(model, "scope_path_lookup", None)
    if lookup is None:
        raise TypeError(f"{model.__name__} declares no scope_path_lookup")
    if root == "/" or lookup == "":  # "" marks district-wide reference data
        return queryset
    # An object may belong to several units (a case filed at a street's window and
    # handled by a department): it is in scope when any of them is.
    lookups = (lookup,) if isinstance(lookup, str) else tuple(lookup)
    condition = models.Q()
    for one in lookups:
        condition |= models.Q(**{f"{one}__startswith": root})
    return queryset.filter(condition)


def get_for_action(
    queryset: models.QuerySet[M], actor: Any, action: str = "view", *,
    perm: str | None = None, **lookup: Any,
) -> M:
    """Fetch one object for ``action``.

    Out of the actor's view scope (or nonexistent) → 404, so nothing leaks; visible but
    the action is not allowed → 403.
    """
    obj = restrict(queryset, actor, "view").filter(**lookup).first()
    if obj is None:
        raise Http404
    if action != "view":
        allowed = restrict(queryset, actor, action, perm=perm).filter(pk=obj.pk).exists()
        if not allowed:
            raise PermissionDenied
    return obj


def can_view_personal_data(actor: Any) -> bool:
    return has_perm(actor, "accounts.view_personal_data")
