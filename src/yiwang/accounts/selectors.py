from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from yiwang.core import policies
from yiwang.core.models import OrgUnit

from .models import ApiToken, User, UserKind


def user_list(*, actor: Any, q: str | None = None, org_unit_code: str | None = None,
              role: str | None = None) -> QuerySet[User]:
    """Staff directory: staff of the actor's unit and the units below it."""
    qs = policies.restrict(
        User.objects.filter(kind=UserKind.STAFF).select_related("org_unit")
        .prefetch_related("groups"), actor)
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(name__icontains=q))
    if org_unit_code:
        qs = qs.filter(org_unit__code=org_unit_code)
    if role:
        qs = qs.filter(groups__name=role)
    return qs.order_by("org_unit__path", "username")


def user_get(*, actor: Any, pk: int, action: str = "view", perm: str | None = None) -> User:
    return policies.get_for_action(
        User.objects.filter(kind=UserKind.STAFF).select_related("org_unit"), actor, action,
        perm=perm, pk=pk)


def token_list(*, actor: Any) -> QuerySet[ApiToken]:
    """The actor's own tokens, plus those in scope for an admin."""
    if not policies.is_active_actor(actor):
        return ApiToken.objects.none()
    own = Q(user=actor)
    if policies.has_perm(actor, "accounts.manage_staff"):
        root = policies.scope_path(actor)
        if root:
            own |= Q(org_unit__path__startswith=root)
    return ApiToken.objects.filter(own).select_related("user", "org_unit")


# --- pages: org tree counts, token look-up ----------------------------------------------

def staff_counts_by_unit(*, actor: Any) -> dict[int, int]:
    """Active staff per org unit id, for the units in the actor's scope."""
    rows = (user_list(actor=actor).filter(is_active=True).order_by()
            .values("org_unit_id").annotate(n=Count("id")).values_list("org_unit_id", "n"))
    return {unit_id: n for unit_id, n in rows if unit_id is not None}


def staff_count_in_subtree(*, actor: Any, unit: OrgUnit) -> int:
    return user_list(actor=actor).filter(is_active=True,
                                         org_unit__path__startswith=unit.path).count()


def token_get(*, actor: Any, pk: int) -> ApiToken:
    """One token the actor may see (own, or in scope for an admin); 404 otherwise."""
    token = token_list(actor=actor).filter(pk=pk).first()
    if token is None:
        raise Http404
    return token
