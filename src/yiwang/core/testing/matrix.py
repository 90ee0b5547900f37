"""Call every route as every audience and compare the answer with ``yiwang.access``.

The world is the test district (``build_district``) plus one user of every role in street
A (the district's admin and auditor sit at the district itself), a citizen, an enterprise,
the superuser, and a neighbouring district that is outside everyone's scope but the
superuser's. Every unit a caller sits in, street B and the neighbour's street each have
a *peer*: a staff user with a token and a message, whose user name is a marker
(``zzp<unit code>zz``); every unit's name carries ``zz<code>zz``.

A route with a path parameter is called once per *probe*: the caller's own object, a
peer's object in the caller's unit, an object outside the caller's scope, and one that
does not exist. The expected answer follows from the declared ``Access`` and where the
object lies; as the answer for an out-of-scope object must equal the answer for a
missing one, nothing leaks. Lists that answer (``✓ own``/``✓ subtree``) must not
contain the marker of any peer or unit outside the caller's scope.

Each call runs in a savepoint that is rolled back, so a write in one case (deactivating a
user, revoking a token, signing out) cannot change the next.

A later app adds its objects, the kinds of its path parameters, its probes and the bodies
of its writes in ``<app>/tests/matrix.py`` (see ``Extensions``).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import functools
import importlib
import importlib.util
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from yiwang.access import (
    ANONYMOUS,
    CITIZEN,
    ENTERPRISE,
    SUPERUSER,
    Access,
    Outcome,
    PolicyTable,
    Route,
    Rule,
    Scope,
)
from yiwang.accounts.models import ApiToken, User, UserKind
from yiwang.accounts.roles import Role
from yiwang.core.audit import audit_log
from yiwang.core.models import CalendarOverride, Notification, OrgUnit
from yiwang.core.models.org import OrgKind
from yiwang.core.tests.factories import PASSWORD, District, build_district, make_unit
from yiwang.core.validators import id_check_char

MISSING_PK = 987_654_321
MISSING_CODE = "440399999999"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def unit_marker(code: str) -> str:
    return f"zz{code}zz"


def peer_marker(code: str) -> str:
    return f"zzp{code}zz"


def unit_of(user: User) -> OrgUnit:
    """A staff user's org unit (peers always have one)."""
    if user.org_unit is None:
        raise ValueError(f"{user.username} has no org unit")
    return user.org_unit


def make_id_number(serial: int) -> str:
    first17 = f"44030319900101{serial % 1000:03d}"
    return first17 + id_check_char(first17)


# --- callers and the world --------------------------------------------------------------

@dataclass(frozen=True)
class Caller:
    label: str
    audience: str
    user: User | None

    @property
    def unit(self) -> OrgUnit | None:
        return self.user.org_unit if self.user is not None else None

    @property
    def scope_path(self) -> str | None:
        if self.user is not None and self.user.is_superuser:
            return "/"
        return self.unit.path if self.unit is not None else None

    @property
    def at_district_root(self) -> bool:
        if self.user is not None and self.user.is_superuser:
            return True
        unit = self.unit
        return bool(unit is not None and unit.kind == OrgKind.DISTRICT and unit.parent_id is None)

    def covers(self, path: str | None) -> bool:
        root = self.scope_path
        return bool(root and path and path.startswith(root))


@dataclass(frozen=True)
class Probe:
    """One value of a path parameter and what it points at."""

    label: str                    # own, peer, outside, missing, any
    value: Any
    owner_id: int | None = None   # the user the object belongs to
    unit_path: str | None = None  # its org unit's path; None: district-wide data
    exists: bool = True


@dataclass
class World:
    district: District
    neighbour: OrgUnit
    neighbour_street: OrgUnit
    callers: list[Caller]
    peers: dict[str, User]                   # unit code → peer
    tokens: dict[int, ApiToken]              # user id → the user's token
    notifications: dict[int, Notification]   # user id → the user's message
    override: CalendarOverride
    units: list[OrgUnit] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # later apps' objects

    def home_unit(self, caller: Caller) -> OrgUnit:
        """The caller's unit; street A for callers without one (citizens, superuser)."""
        if caller.unit is not None:
            return caller.unit
        return self.district.district if caller.audience == SUPERUSER else self.district.street_a

    def outside_unit(self, caller: Caller) -> OrgUnit:
        home = self.home_unit(caller)
        if home.kind == OrgKind.DISTRICT:
            return self.neighbour_street
        return self.district.street_b

    def peer(self, caller: Caller) -> User:
        return self.peers[self.home_unit(caller).code]

    def outsider(self, caller: Caller) -> User:
        return self.peers[self.outside_unit(caller).code]

    def forbidden_markers(self, caller: Caller, scope: Scope) -> set[str]:
        """Markers that must not appear in a list the caller gets with ``scope``."""
        if scope is Scope.ANY:
            return set()
        markers = {peer_marker(code) for code, peer in self.peers.items()
                   if scope is Scope.OWN or not caller.covers(unit_of(peer).path)}
        home = caller.unit
        for unit in self.units:
            if unit == self.district.district:
                continue  # the deployment's own district: its name is the portal's brand
            related = home is not None and (home.path.startswith(unit.path)
                                            or caller.covers(unit.path))
            if caller.scope_path != "/" and not related:
                markers.add(unit_marker(unit.code))
        return markers


def _staff(username: str, unit: OrgUnit | None, role: str | None, **extra: Any) -> User:
    user = User(username=username, name=extra.pop("name", username), kind=UserKind.STAFF,
                org_unit=unit, **extra)
    user.set_password(PASSWORD)
    user.save()
    if role:
        user.groups.set(Group.objects.filter(name=role))
    return user


def _token(user: User, unit: OrgUnit, name: str) -> ApiToken:
    return ApiToken.objects.create(
        name=name, user=user, org_unit=unit, permissions=["core.view_orgunit"],
        prefix=f"m{user.pk:07d}"[-8:], secret_hash="0" * 64)


def _note(user: User, subject: str) -> Notification:
    return Notification.objects.create(
        recipient=user, channel="inapp", template="welcome", language="zh-hans",
        subject=subject, body=subject, idempotency_key=f"matrix:{user.pk}")


def build_world() -> World:
    d = build_district()
    neighbour = make_unit("440398000000", "邻区", OrgKind.DISTRICT)
    neighbour_street = make_unit("440398001000", "邻区甲街道", OrgKind.STREET, neighbour)
    units = [d.district, d.street_a, d.street_b, d.community_a, d.community_b, d.grid_a,
             d.department, neighbour, neighbour_street]
    for unit in units:
        OrgUnit.objects.filter(pk=unit.pk).update(name=f"{unit.name} {unit_marker(unit.code)}")
        unit.refresh_from_db()

    u = d.users
    street_a = d.street_a
    superuser = _staff("root", None, None, is_staff=True, is_superuser=True)
    citizen = User(username="citizen", name="张三", kind=UserKind.CITIZEN,
                   id_number=make_id_number(1))
    citizen.set_password(PASSWORD)
    citizen.save()
    enterprise = User(username="enterprise", name="李四", kind=UserKind.ENTERPRISE,
                      enterprise_name="示范有限公司", credit_code="91440300MA5FXXXX0X")
    enterprise.set_password(PASSWORD)
    enterprise.save()
    callers = [
        Caller("anonymous", ANONYMOUS, None),
        Caller("citizen", CITIZEN, citizen),
        Caller("enterprise", ENTERPRISE, enterprise),
        Caller("window_clerk@street_a", Role.WINDOW_CLERK, u["clerk_a"]),
        Caller("approver@street_a", Role.APPROVER,
               _staff("approver_a", street_a, Role.APPROVER, phone="13600136000")),
        Caller("handler@community_a", Role.HANDLER, u["handler_a"]),
        Caller("dispatcher@street_a", Role.DISPATCHER,
               _staff("dispatcher_a", street_a, Role.DISPATCHER)),
        Caller("grid_worker@grid_a", Role.GRID_WORKER, u["grid_worker_a"]),
        Caller("supervisor@street_a", Role.SUPERVISOR,
               _staff("supervisor_a", street_a, Role.SUPERVISOR)),
        Caller("data_steward@street_a", Role.DATA_STEWARD,
               _staff("steward_a", street_a, Role.DATA_STEWARD)),
        Caller("auditor@street_a", Role.AUDITOR, u["auditor_a"]),
        Caller("auditor@district", Role.AUDITOR, u["auditor"]),
        Caller("district_admin@street_a", Role.DISTRICT_ADMIN, u["street_a_admin"]),
        Caller("district_admin@district", Role.DISTRICT_ADMIN, u["district_admin"]),
        # Django's `is_staff` flag must not open the admin, which knows no org scope.
        Caller("district_admin+is_staff@street_a", Role.DISTRICT_ADMIN,
               _staff("admin_staff_a", street_a, Role.DISTRICT_ADMIN, is_staff=True)),
        Caller("superuser", SUPERUSER, superuser),
        # A deactivated account's open session must be worth no more than none at all.
        Caller("deactivated@street_a", ANONYMOUS,
               _staff("gone_a", street_a, Role.DISTRICT_ADMIN, is_active=False)),
    ]
    peer_units = {c.unit.code: c.unit for c in callers if c.unit is not None}
    assert d.street_a.code in peer_units
    peer_units[d.street_b.code] = d.street_b
    peer_units[neighbour_street.code] = neighbour_street
    peers = {code: _staff(peer_marker(code), unit, Role.HANDLER, name=peer_marker(code),
                          phone="13500135000")
             for code, unit in peer_units.items()}
    tokens: dict[int, ApiToken] = {}
    notifications: dict[int, Notification] = {}
    for peer in peers.values():
        tokens[peer.pk] = _token(peer, unit_of(peer), f"token of {peer.username}")
        notifications[peer.pk] = _note(peer, f"message to {peer.username}")
        audit_log(actor=peer, action="matrix.probe", obj=peer)
    for caller in callers:
        if caller.user is None:
            continue
        notifications[caller.user.pk] = _note(caller.user, "a message to me")
        # Citizens cannot create tokens; theirs is there to show lists stay their own.
        tokens[caller.user.pk] = _token(caller.user, caller.unit or d.district, "my token")
    override = CalendarOverride.objects.create(date=dt.date(2031, 5, 6), is_workday=True,
                                               note="matrix", created_by=u["district_admin"])
    world = World(d, neighbour, neighbour_street, callers, peers, tokens, notifications,
                  override, units)
    for extend in extensions().world_extenders:
        extend(world)
    return world


# --- probes: values of path parameters ------------------------------------------------------

def _user_probes(world: World, caller: Caller) -> list[Probe]:
    probes = []
    if caller.user is not None and caller.user.kind == UserKind.STAFF and caller.unit:
        probes.append(Probe("own", caller.user.pk, caller.user.pk, caller.unit.path))
    for label, peer in (("peer", world.peer(caller)), ("outside", world.outsider(caller))):
        probes.append(Probe(label, peer.pk, peer.pk, unit_of(peer).path))
    return [*probes, Probe("missing", MISSING_PK, exists=False)]


def _owned_probes(world: World, caller: Caller, objects: dict[int, Any],
                  unit_of: Callable[[Any], OrgUnit | None]) -> list[Probe]:
    """The caller's, a colleague's and an outsider's object of one kind, and a missing one."""
    probes = []
    owners = [("own", caller.user), ("peer", world.peer(caller)),
              ("outside", world.outsider(caller))]
    for label, owner in owners:
        obj = objects.get(owner.pk) if owner is not None else None
        if obj is not None and owner is not None:
            unit = unit_of(obj)
            probes.append(Probe(label, obj.pk, owner.pk, unit.path if unit else None))
    return [*probes, Probe("missing", MISSING_PK, exists=False)]


def _token_probes(world: World, caller: Caller) -> list[Probe]:
    return _owned_probes(world, caller, world.tokens, lambda t: t.org_unit)


def _notification_probes(world: World, caller: Caller) -> list[Probe]:
    return _owned_probes(world, caller, world.notifications, lambda n: n.recipient.org_unit)


def _org_unit_probes(world: World, caller: Caller) -> list[Probe]:
    home, outside = world.home_unit(caller), world.outside_unit(caller)
    return [Probe("own", home.code, unit_path=home.path),
            Probe("outside", outside.code, unit_path=outside.path),
            Probe("missing", MISSING_CODE, exists=False)]


def _override_probes(world: World, caller: Caller) -> list[Probe]:
    return [Probe("any", world.override.pk), Probe("missing", MISSING_PK, exists=False)]


ProbeMaker = Callable[[World, Caller], list[Probe]]
PROBES: dict[str, ProbeMaker] = {
    "org_unit": _org_unit_probes,
    "user": _user_probes,
    "token": _token_probes,
    "notification": _notification_probes,
    "calendar_override": _override_probes,
}

# Which kind of object a path parameter names: by parameter, then by route for ``pk``.
KWARG_KINDS = {"code": "org_unit", "user_id": "user", "token_id": "token"}
PK_KINDS = {
    "core:notification_read": "notification",
    "core:calendar_delete": "calendar_override",
    "accounts:staff_*": "user",
    "accounts:token_*": "token",
}
# Probes a business rule answers before authorization does (tested in the app's tests).
SKIP_PROBES = {
    ("accounts:staff_deactivate", "own"): "you cannot deactivate your own account",
    ("/api/accounts/users/{user_id}/deactivate", "own"): "you cannot deactivate yourself",
}


def _kind_of(route: Route, kwarg: str) -> str | None:
    ext = extensions()
    if kwarg in ext.kwarg_kinds:
        return ext.kwarg_kinds[kwarg]
    if kwarg == "pk":
        for pattern, kind in ext.pk_kinds.items():
            if fnmatch.fnmatchcase(route.name, pattern):
                return kind
    return None


def _admin_kwargs(route: Route) -> dict[str, Any]:
    """The Django admin's parameters: it does not scope objects, any real one will do."""
    values: dict[str, Any] = {}
    for kwarg in route.kwargs:
        if kwarg == "app_label":
            values[kwarg] = "accounts"
        elif kwarg == "url":
            values[kwarg] = "accounts/user"  # the slash is missing: redirected
        elif kwarg == "content_type_id":
            values[kwarg] = ContentType.objects.get_for_model(User).pk
        elif kwarg == "object_id":
            parts = route.path.strip("/").split("/")
            if route.name == "admin:view_on_site":
                values[kwarg] = User.objects.order_by("pk").values_list("pk", flat=True)[0]
            else:
                model = apps.get_model(parts[1], parts[2])
                values[kwarg] = _admin_object(model)
    return values


def _admin_object(model: Any) -> Any:
    obj = model._default_manager.order_by("pk").first()
    if obj is None:  # one row so the change pages have something to show
        obj = _admin_sample(model)
    return obj.pk


def _admin_sample(model: Any) -> Any:
    now = timezone.now()
    label = model._meta.label
    if label.startswith("axes."):
        extra = {"failures_since_start": 1, "get_data": "", "post_data": ""} \
            if label == "axes.AccessAttempt" else {}
        return model._default_manager.create(
            user_agent="matrix", http_accept="*/*", path_info="/accounts/login/",
            ip_address="127.0.0.1", username="matrix", **extra)
    if label == "django_tasks_database.DBTaskResult":
        return model._default_manager.create(
            args_kwargs={"args": [], "kwargs": {}}, task_path="yiwang.core.tasks.matrix",
            backend_name="default", run_after=now, exception_class_path="", traceback="")
    raise LookupError(f"no sample object for the admin of {label}: add one to _admin_sample")


# --- request bodies of writes ---------------------------------------------------------------

Payload = Callable[[World, Caller, Probe | None], dict[str, Any]]


def _unit_code(world: World, caller: Caller) -> str:
    return world.home_unit(caller).code


PAYLOADS: dict[str, Payload] = {
    "POST core:calendar": lambda w, c, p: {
        "date": "2031-05-07", "is_workday": "1", "note": "typhoon drill"},
    "POST accounts:login": lambda w, c, p: {"username": "citizen", "password": PASSWORD},
    "POST accounts:register": lambda w, c, p: {
        "name": "王五", "id_number": make_id_number(2), "phone": "13312345678",
        "username": "wangwu", "password": PASSWORD, "password_again": PASSWORD},
    "POST accounts:staff_create": lambda w, c, p: {
        "name": "新同事", "username": "new_colleague", "org_unit": _unit_code(w, c),
        "roles": ["handler"], "password": PASSWORD},
    "POST accounts:staff_deactivate": lambda w, c, p: {"reason": "left the bureau"},
    "POST accounts:token_list": lambda w, c, p: {
        "name": "hotline gateway", "org_unit": _unit_code(w, c),
        "permissions": ["core.view_orgunit"]},
    "POST set_language": lambda w, c, p: {"language": "en", "next": "/"},
    "POST /api/notifications/read": lambda w, c, p: {
        "ids": [n.pk for n in w.notifications.values()]},
    "POST /api/accounts/users": lambda w, c, p: {
        "username": "new_colleague", "name": "新同事", "org_unit": _unit_code(w, c),
        "roles": ["handler"], "password": PASSWORD},
    "POST /api/accounts/users/{user_id}/deactivate": lambda w, c, p: {
        "reason": "left the bureau"},
    "POST /api/accounts/register": lambda w, c, p: {
        "username": "wangwu", "password": PASSWORD, "name": "王五",
        "id_number": make_id_number(2)},
    "POST /api/accounts/tokens": lambda w, c, p: {
        "name": "hotline gateway", "org_unit": _unit_code(w, c),
        "permissions": ["core.view_orgunit"]},
}


# Required query parameters of GET routes.
QUERIES: dict[str, dict[str, Any]] = {
    "/api/org-units/locate": {"lon": 114.01, "lat": 22.51},
    "/api/calendar/deadline": {"limit": 5},
    "core:deadline": {"start": "2031-05-06", "days": 3},
}


# --- what later apps add ----------------------------------------------------------------------

@dataclass
class Extensions:
    """The tables above plus those of each app's ``<app>/tests/matrix.py``.

    Such a module may define ``KWARG_KINDS``, ``PK_KINDS``, ``PROBES``, ``PAYLOADS``,
    ``QUERIES`` and ``SKIP_PROBES`` (merged into these) and ``extend_world(world)``,
    which adds the app's objects (in ``world.extra``) after the core world is built.
    """

    kwarg_kinds: dict[str, str]
    pk_kinds: dict[str, str]
    probes: dict[str, ProbeMaker]
    payloads: dict[str, Payload]
    queries: dict[str, dict[str, Any]]
    skip_probes: dict[tuple[str, str], str]
    world_extenders: list[Callable[[World], None]] = field(default_factory=list)


@functools.cache
def extensions() -> Extensions:
    ext = Extensions(dict(KWARG_KINDS), dict(PK_KINDS), dict(PROBES), dict(PAYLOADS),
                     dict(QUERIES), dict(SKIP_PROBES))
    for config in apps.get_app_configs():
        name = f"{config.name}.tests.matrix"
        if not config.name.startswith("yiwang.") or importlib.util.find_spec(
                f"{config.name}.tests") is None or importlib.util.find_spec(name) is None:
            continue
        module = importlib.import_module(name)
        for attr, target in (("KWARG_KINDS", ext.kwarg_kinds), ("PK_KINDS", ext.pk_kinds),
                             ("PROBES", ext.probes), ("PAYLOADS", ext.payloads),
                             ("QUERIES", ext.queries), ("SKIP_PROBES", ext.skip_probes)):
            target.update(getattr(module, attr, {}))
        if hasattr(module, "extend_world"):
            ext.world_extenders.append(module.extend_world)
    return ext


# --- expectations ---------------------------------------------------------------------------

def _covers(access: Access, caller: Caller, probe: Probe) -> bool:
    if access.scope in (None, Scope.ANY, Scope.DISTRICT_ROOT):
        return True
    if access.scope is Scope.OWN:
        return caller.user is not None and probe.owner_id == caller.user.pk
    return probe.unit_path is None or caller.covers(probe.unit_path)


def expected_outcome(access: Access, caller: Caller, probe: Probe | None) -> Outcome:
    """What ``caller`` must get from a route declared ``access`` for ``probe``'s object."""
    outcome = access.outcome
    if outcome in (Outcome.LOGIN, Outcome.REDIRECT, Outcome.EMPTY, Outcome.NOT_FOUND):
        return outcome
    if outcome is Outcome.FORBIDDEN and access.scope is None:
        return outcome
    if probe is not None and not probe.exists:
        return Outcome.NOT_FOUND
    if probe is not None and not _covers(access, caller, probe):
        return Outcome.NOT_FOUND
    if outcome is Outcome.ALLOW and access.scope is Scope.DISTRICT_ROOT \
            and not caller.at_district_root:
        return Outcome.FORBIDDEN
    return outcome


def _is_login_redirect(response: HttpResponse) -> bool:
    location = response.get("Location", "")
    return location.startswith((reverse(settings.LOGIN_URL), reverse("admin:login")))


def observed_outcome(response: HttpResponse, method: str) -> Outcome | str:
    status = response.status_code
    if status == 401 or (300 <= status < 400 and _is_login_redirect(response)):
        return Outcome.LOGIN
    if 300 <= status < 400:
        return Outcome.REDIRECT
    if status == 403:
        return Outcome.FORBIDDEN
    if status == 404:
        return Outcome.NOT_FOUND
    if 200 <= status < 300:
        if response.get("Content-Type", "").startswith("application/json"):
            body = json.loads(response.content or b"null")
            if body == [] or (isinstance(body, dict) and body.get("items") == []
                              and body.get("count") == 0):
                return Outcome.EMPTY
        return Outcome.ALLOW
    return f"HTTP {status}"


def matches(expected: Outcome, observed: Outcome | str, method: str) -> bool:
    if expected is observed:
        return True
    if expected is Outcome.ALLOW:
        # An allowed write may redirect after success. An allowed list is never empty:
        # the world gives every caller something of its own and in its scope.
        return observed is Outcome.REDIRECT and method not in SAFE_METHODS
    return False


# --- running one route ----------------------------------------------------------------------

@dataclass(frozen=True)
class Mismatch:
    route: str
    method: str
    caller: str
    probe: str
    url: str
    expected: str
    observed: str

    def __str__(self) -> str:
        return (f"{self.method} {self.route} as {self.caller} ({self.probe}) {self.url}: "
                f"declared {self.expected}, got {self.observed}")


class Sessions:
    """A signed-in session per caller and one client for all calls.

    A test client loads the middleware when it is made (WhiteNoise scans the static files
    then), so one client serves every call; its cookies are reset to the caller's
    session before each call, as a call may sign out or switch the language.
    """

    def __init__(self) -> None:
        self._keys: dict[int, str] = {}
        self._client = Client()

    @classmethod
    def signed_in(cls, callers: list[Caller]) -> Sessions:
        sessions = cls()
        for caller in callers:
            sessions.client(caller)
        return sessions

    def client(self, caller: Caller) -> Client:
        client = self._client
        client.cookies = SimpleCookie()
        if caller.user is None:
            return client
        key = self._keys.get(caller.user.pk)
        if key is None:
            client.force_login(caller.user)
            key = self._keys[caller.user.pk] = client.cookies[settings.SESSION_COOKIE_NAME].value
            client.cookies = SimpleCookie()
        client.cookies[settings.SESSION_COOKIE_NAME] = key
        return client


# Every page call also asks to be sent to another site afterwards; none may comply.
FOREIGN_NEXT = "https://evil.example/phish"


def _send(client: Client, route: Route, method: str, url: str, body: dict[str, Any] | None
          ) -> HttpResponse:
    call = getattr(client, method.lower())
    if route.surface == "api":
        if method in SAFE_METHODS:
            return call(url, data=_query_of(route))
        return call(url, data=json.dumps(body or {}), content_type="application/json")
    # (Not the admin's: its lists take unknown parameters for filters and refuse them.)
    bait = {} if route.path.startswith("/admin/") else {"next": FOREIGN_NEXT}
    if method in SAFE_METHODS:
        return call(url, data={**bait, **_query_of(route)})
    return call(url, data={**bait, **(body or {})})


def _is_open_redirect(response: HttpResponse) -> bool:
    location = response.get("Location", "")
    return bool(300 <= response.status_code < 400 and location
                and not url_has_allowed_host_and_scheme(location, allowed_hosts={"testserver"}))


def _query_of(route: Route) -> dict[str, Any]:
    return extensions().queries.get(route.name, {})


def _probe_sets(world: World, route: Route, caller: Caller
                ) -> list[tuple[Probe | None, dict[str, Any]]]:
    if not route.kwargs:
        return [(None, {})]
    if route.name.startswith("admin") or route.path.startswith("/admin/"):
        return [(None, _admin_kwargs(route))]
    kinds = {kwarg: _kind_of(route, kwarg) for kwarg in route.kwargs}
    unknown = [k for k, v in kinds.items() if v is None]
    if unknown or len(kinds) != 1:
        raise LookupError(f"{route.name}: no probe for path parameter(s) {unknown or kinds}; "
                          f"add them to KWARG_KINDS or PK_KINDS in {__name__}")
    (kwarg, kind), = kinds.items()
    ext = extensions()
    return [(probe, {kwarg: probe.value}) for probe in ext.probes[str(kind)](world, caller)
            if (route.name, probe.label) not in ext.skip_probes]


def run_route(world: World, route: Route, rules: list[Rule], sessions: Sessions
              ) -> list[Mismatch]:
    """Call ``route`` with each declared method as every caller; return the differences."""
    problems = []
    for rule in rules:
        payload = extensions().payloads.get(f"{rule.method} {route.name}")
        for caller in world.callers:
            access = rule.for_audience(caller.audience)
            for probe, kwargs in _probe_sets(world, route, caller):
                url = route.url(**kwargs)
                expected = expected_outcome(access, caller, probe)
                body = payload(world, caller, probe) if payload else None
                observed: Outcome | str
                leaked: list[str] = []
                client = sessions.client(caller)  # outside the savepoint: sessions stay
                with transaction.atomic():
                    try:
                        response = _send(client, route, rule.method, url, body)
                    except Exception as exc:  # a 500: report it with the route
                        observed = f"{type(exc).__name__}: {exc}"
                    else:
                        observed = observed_outcome(response, rule.method)
                        if _is_open_redirect(response):
                            observed = f"an open redirect to {response.get('Location')}"
                        if (observed is Outcome.ALLOW and probe is None
                                and rule.method in SAFE_METHODS and access.scope is not None):
                            text = response.content.decode(errors="replace")
                            leaked = sorted(m for m in world.forbidden_markers(
                                caller, access.scope) if m in text)
                    transaction.set_rollback(True)
                probe_label = probe.label if probe else "-"
                if not matches(expected, observed, rule.method):
                    problems.append(Mismatch(route.name, rule.method, caller.label,
                                             probe_label, url, expected.value, str(observed)))
                elif leaked:
                    problems.append(Mismatch(route.name, rule.method, caller.label,
                                             probe_label, url, f"{access.label} only",
                                             "out-of-scope objects listed: "
                                             + ", ".join(leaked)))
    return problems


def run_undeclared_methods(world: World, route: Route, rules: list[Rule], sessions: Sessions
                           ) -> list[Mismatch]:
    """GET and POST, where not declared, answer 405 to everyone: a view cannot quietly
    accept a write (or a read) that the table, and so the review, never saw."""
    if route.path.startswith("/admin/"):
        return []  # Django's admin: GET is declared; its forms POST to the same pages
    declared = {rule.method for rule in rules}
    problems = []
    for method in sorted({"GET", "POST"} - declared):
        for caller in world.callers:
            (probe, kwargs), *_rest = _probe_sets(world, route, caller)
            url = route.url(**kwargs)
            client = sessions.client(caller)
            with transaction.atomic():
                try:
                    status: int | str = _send(client, route, method, url, {}).status_code
                except Exception as exc:
                    status = f"{type(exc).__name__}: {exc}"
                transaction.set_rollback(True)
            if status != 405:
                problems.append(Mismatch(route.name, method, caller.label,
                                         probe.label if probe else "-", url,
                                         "405 (method not declared)", str(status)))
    return problems


def run_matrix(world: World, table: PolicyTable, routes: list[Route]) -> list[Mismatch]:
    sessions = Sessions()
    problems: list[Mismatch] = []
    for route in routes:
        rules = table.rules_for(route)
        problems += run_route(world, route, rules, sessions)
        problems += run_undeclared_methods(world, route, rules, sessions)
    return problems
