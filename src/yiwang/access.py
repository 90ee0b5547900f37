"""The declared authorization matrix: who may call every page and API operation.

Each app declares its routes in ``<app>/access.py`` as a list ``ROUTES`` of ``page(...)``
and ``api(...)`` rules, next to its ``urls.py`` and ``api.py``; project-wide routes (the
Django admin, language switch, API documents) are declared at the end of this module.
``routes()`` walks the URL resolver and the OpenAPI document, and ``check()`` reports
every route without a rule (and every rule without a route), so a new route without a
declaration fails CI (``tests/gates/test_authorization_matrix.py``), which also calls
every route as every audience and compares the answer with the declaration.
``python manage.py access_matrix --write`` renders the table for the security review
into ``docs/authorization-matrix.md``.

A rule names the route, its methods and, per audience, what happens::

    page("GET accounts:staff_detail", staff=SUBTREE)
    api("POST /api/accounts/users/{user_id}/deactivate",
        staff=SEES_SUBTREE, district_admin=SUBTREE, citizens=NOT_FOUND)

Audiences are the anonymous visitor, citizens, enterprises, each staff role
(``accounts.roles.Role``) and the superuser; ``everyone``, ``signed_in``, ``citizens``
and ``staff`` (every role and the superuser) name groups. Keywords apply in order, so
a later, narrower keyword overrides an earlier group. An audience that is not named is
sent to sign in (anonymous; 401 on the API) or refused with 403 (everyone else).
"""

from __future__ import annotations

import fnmatch
import importlib
import importlib.util
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from types import ModuleType
from typing import Any, Literal

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern

from yiwang.accounts.roles import Role

Surface = Literal["page", "api"]


# --- audiences --------------------------------------------------------------------------

ANONYMOUS = "anonymous"
CITIZEN = "citizen"
ENTERPRISE = "enterprise"
SUPERUSER = "superuser"
ROLES: tuple[str, ...] = tuple(Role.values)
AUDIENCES: tuple[str, ...] = (ANONYMOUS, CITIZEN, ENTERPRISE, *ROLES, SUPERUSER)
GROUPS: dict[str, tuple[str, ...]] = {
    "everyone": AUDIENCES,
    "signed_in": AUDIENCES[1:],
    "citizens": (CITIZEN, ENTERPRISE),
    "staff": (*ROLES, SUPERUSER),
}


# --- what an audience gets ----------------------------------------------------------------

class Outcome(StrEnum):
    ALLOW = "allow"          # 2xx (or, for a write, a redirect after success)
    FORBIDDEN = "forbidden"  # 403
    NOT_FOUND = "not_found"  # 404
    EMPTY = "empty"          # 200 with an empty list: the list is filtered to nothing
    LOGIN = "login"          # redirect to sign in (pages) or 401 (API)
    REDIRECT = "redirect"    # sent elsewhere, e.g. a signed-in user away from sign-up


class Scope(StrEnum):
    ANY = "any"              # any object (public or district-wide reference data)
    OWN = "own"              # only the caller's own objects (others: 404)
    SUBTREE = "subtree"      # objects of the caller's org unit and below (others: 404)
    DISTRICT_ROOT = "root"   # only callers whose unit is the district itself (others: 403)


@dataclass(frozen=True)
class Access:
    """What one audience gets from one route.

    ``scope`` narrows ALLOW to the objects in scope, and for FORBIDDEN names the objects
    the caller may *see* (403 for those, 404 for the rest, so nothing leaks).
    """

    outcome: Outcome
    scope: Scope | None = None

    @property
    def label(self) -> str:
        if self.outcome is Outcome.ALLOW:
            return {Scope.ANY: "✓", Scope.OWN: "✓ own", Scope.SUBTREE: "✓ subtree",
                    Scope.DISTRICT_ROOT: "✓ root"}[self.scope or Scope.ANY]
        if self.outcome is Outcome.FORBIDDEN and self.scope is not None:
            return "403 (404 outside)"
        return {Outcome.FORBIDDEN: "403", Outcome.NOT_FOUND: "404", Outcome.EMPTY: "∅",
                Outcome.LOGIN: "login", Outcome.REDIRECT: "→"}[self.outcome]


ANY = Access(Outcome.ALLOW, Scope.ANY)
OWN = Access(Outcome.ALLOW, Scope.OWN)
SUBTREE = Access(Outcome.ALLOW, Scope.SUBTREE)
DISTRICT_ROOT = Access(Outcome.ALLOW, Scope.DISTRICT_ROOT)
FORBIDDEN = Access(Outcome.FORBIDDEN)
SEES_SUBTREE = Access(Outcome.FORBIDDEN, Scope.SUBTREE)  # may see it, may not act: 403/404
NOT_FOUND = Access(Outcome.NOT_FOUND)
EMPTY = Access(Outcome.EMPTY)
LOGIN = Access(Outcome.LOGIN)
REDIRECT = Access(Outcome.REDIRECT)


# --- rules --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    """The declared access of one method of one route.

    ``route`` is the URL name (``"core:org_detail"``), the route pattern of an unnamed
    URL, or the API path as in the OpenAPI document (``"/api/org-units/{code}"``); page
    routes may use shell wildcards (``"admin:*"``), exact rules win over wildcards.
    """

    surface: Surface
    method: str
    route: str
    access: dict[str, Access]
    note: str = ""

    @property
    def key(self) -> str:
        return f"{self.method} {self.route}"

    @property
    def is_wildcard(self) -> bool:
        return any(ch in self.route for ch in "*?[")

    def for_audience(self, audience: str) -> Access:
        return self.access[audience]


def _expand(by_audience: dict[str, Access]) -> dict[str, Access]:
    access = {a: (LOGIN if a == ANONYMOUS else FORBIDDEN) for a in AUDIENCES}
    for name, value in by_audience.items():
        if not isinstance(value, Access):
            raise TypeError(f"{name}={value!r}: use one of the Access constants")
        members = GROUPS.get(name, (name,))
        unknown = set(members) - set(AUDIENCES)
        if unknown:
            raise ValueError(f"unknown audience {name!r}; known: "
                             f"{', '.join([*GROUPS, *AUDIENCES])}")
        for member in members:
            access[member] = value
    return access


def _rules(surface: Surface, spec: str, note: str, by_audience: dict[str, Access]
           ) -> list[Rule]:
    methods, _space, route = spec.strip().rpartition(" ")
    if not methods or not route:
        raise ValueError(f"{spec!r}: write 'METHOD route', e.g. 'GET core:home'")
    access = _expand(by_audience)
    return [Rule(surface, method.upper(), route, access, note)
            for method in methods.replace("|", " ").split()]


def page(spec: str, *, note: str = "", **by_audience: Access) -> list[Rule]:
    """Rules of a page route: ``page("GET|POST core:calendar", staff=ANY)``."""
    return _rules("page", spec, note, by_audience)


def api(spec: str, *, note: str = "", **by_audience: Access) -> list[Rule]:
    """Rules of an API operation: ``api("GET /api/org-units", staff=SUBTREE)``."""
    return _rules("api", spec, note, by_audience)


@dataclass
class PolicyTable:
    rules: list[Rule] = field(default_factory=list)
    sections: dict[str, list[Rule]] = field(default_factory=dict)

    def add(self, section: str, rules: list[Rule]) -> None:
        seen = {(r.surface, r.key) for r in self.rules}
        for rule in rules:
            if (rule.surface, rule.key) in seen:
                raise ValueError(f"{rule.key} is declared twice")
            seen.add((rule.surface, rule.key))
        self.rules.extend(rules)
        self.sections.setdefault(section, []).extend(rules)

    def rules_for(self, route: Route) -> list[Rule]:
        """The rules of ``route``, one per declared method; exact rules win."""
        exact = [r for r in self.rules if r.surface == route.surface and not r.is_wildcard
                 and r.route == route.name]
        if route.surface == "api":
            return [r for r in exact if r.method in route.methods]
        if exact:
            return exact
        best: dict[str, Rule] = {}  # per method, the most specific wildcard
        for rule in self.rules:
            if rule.surface == "page" and rule.is_wildcard and \
                    fnmatch.fnmatchcase(route.name, rule.route):
                current = best.get(rule.method)
                if current is None or _literal_length(rule) > _literal_length(current):
                    best[rule.method] = rule
        return list(best.values())


def _literal_length(rule: Rule) -> int:
    return len(re.sub(r"[*?]|\[[^]]*\]", "", rule.route))


# --- routes -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Route:
    """One URL pattern (``surface="page"``) or API operation (``surface="api"``)."""

    surface: Surface
    name: str                 # what a rule matches, see ``Rule.route``
    path: str                 # "/workbench/org/<str:code>/", "/api/org-units/{code}"
    kwargs: tuple[str, ...]   # the path parameters
    methods: tuple[str, ...] = ()  # API operations only; a page's come from its rules

    def url(self, **values: Any) -> str:
        """The path with ``values`` filled in."""
        if self.surface == "api":
            return re.sub(r"{(\w+)}", lambda m: str(values[m.group(1)]), self.path)
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(values[m.group(1)]), self.path)
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), path)
        return path.replace("^", "").replace("$", "")


def _is_api_operation(pattern: URLPattern) -> bool:
    # django-ninja's operation views; the API's own routes come from the OpenAPI document.
    return getattr(pattern.callback, "__module__", "") == "ninja.operation"


def _kwargs(pattern: Any) -> list[str]:
    if isinstance(pattern, RoutePattern):
        return list(pattern.converters)
    return list(pattern.regex.groupindex)


def page_routes(urlconf: str | ModuleType | None = None) -> list[Route]:
    """Every URL pattern of the URL conf, except the API's operations."""

    def walk(patterns: list[Any], prefix: str, namespace: str, kwargs: list[str]
             ) -> Iterator[Route]:
        for p in patterns:
            text = prefix + str(p.pattern).lstrip("^")
            names = kwargs + _kwargs(p.pattern)
            if isinstance(p, URLResolver):
                ns = ":".join(x for x in (namespace, p.namespace or "") if x)
                yield from walk(p.url_patterns, text, ns, names)
            elif isinstance(p, URLPattern) and not _is_api_operation(p):
                name = (f"{namespace}:{p.name}" if namespace else p.name) if p.name else text
                yield Route("page", name, "/" + text, tuple(names))

    resolver = get_resolver(urlconf)  # type: ignore[arg-type]  # a module works as well
    return list(walk(resolver.url_patterns, "", "", []))


def api_routes() -> list[Route]:
    """Every operation of the OpenAPI document of ``yiwang.api``."""
    from yiwang.api import api as ninja_api

    schema = ninja_api.get_openapi_schema()
    return [Route("api", path, path, tuple(re.findall(r"{(\w+)}", path)),
                  tuple(method.upper() for method in operations))
            for path, operations in schema["paths"].items()]


def routes(urlconf: str | ModuleType | None = None) -> list[Route]:
    return [*page_routes(urlconf), *api_routes()]


# --- the table ----------------------------------------------------------------------------

def _app_modules() -> Iterator[tuple[str, Any]]:
    from django.apps import apps
    from django.utils import translation

    for config in apps.get_app_configs():
        if not config.name.startswith("yiwang."):
            continue
        name = f"{config.name}.access"
        if importlib.util.find_spec(name) is not None:
            with translation.override("en"):
                title = f"{config.verbose_name} (`{config.name}`)"
            yield title, importlib.import_module(name)


def policy_table() -> PolicyTable:
    table = PolicyTable()
    for section, module in _app_modules():
        table.add(str(section), [rule for rules in module.ROUTES for rule in rules])
    table.add("Project (`yiwang.urls`)", [rule for rules in PROJECT_ROUTES for rule in rules])
    return table


def check(urlconf: str | ModuleType | None = None, table: PolicyTable | None = None) -> list[str]:
    """Problems of the policy table: routes without a rule, rules without a route."""
    table = table or policy_table()
    problems = []
    found = routes(urlconf)
    for route in found:
        declared = {rule.method for rule in table.rules_for(route)}
        if route.surface == "page" and not declared:
            problems.append(f"no access rule for page route {route.name} ({route.path}): "
                            f"declare it in the app's access.py")
        problems += [f"no access rule for api route {method} {route.path}: declare it in "
                     f"the app's access.py" for method in route.methods if method not in declared]
    for rule in table.rules:
        matched = any(rule in table.rules_for(route) for route in found)
        if not matched:
            problems.append(f"access rule {rule.key} ({rule.surface}) matches no route")
    return problems


# --- rendering ----------------------------------------------------------------------------

COLUMN_TITLES = {ANONYMOUS: "anon", CITIZEN: "citizen", ENTERPRISE: "enterprise",
                 SUPERUSER: "superuser"}


def render_markdown(table: PolicyTable | None = None) -> str:
    table = table or policy_table()
    head = ["Method", "Route", *[COLUMN_TITLES.get(a, a) for a in AUDIENCES], "Note"]
    lines = [
        "# Authorization matrix",
        "",
        "Generated from the `access.py` declarations by `python manage.py access_matrix "
        "--write`; do not edit by hand. `tests/gates/test_authorization_matrix.py` calls "
        "every route as every audience and fails when the answer differs from this table.",
        "",
        "| cell | meaning |",
        "|---|---|",
        "| ✓ | allowed |",
        "| ✓ own | allowed for the caller's own objects (lists show only them); others 404 |",
        "| ✓ subtree | allowed for objects of the caller's org unit and the units below it "
        "(lists show only them); others 404 |",
        "| ✓ root | allowed only when the caller's unit is the district itself; others 403 |",
        "| 403 | refused |",
        "| 403 (404 outside) | refused; 404 for objects outside the caller's subtree, "
        "so their existence does not leak |",
        "| 404 | not found, whatever the object |",
        "| ∅ | 200 with an empty list |",
        "| login | sent to sign in (pages) or 401 (API) |",
        "| → | redirected elsewhere (e.g. a signed-in user away from sign-up) |",
        "",
        "Staff roles act for their org unit and the units below it (ADR 0002); the "
        "superuser is the operator's account and sees the whole database. The test calls "
        "each route as a user of every role in a street (the auditor and the district "
        "admin also at the district itself), a citizen, an enterprise, the superuser, "
        "anonymously and with the session of a deactivated account (which must count as "
        "anonymous); with objects of the caller, of a colleague, outside the caller's "
        "scope and missing. It also checks that GET and POST answer 405 where a route "
        "does not declare them, that lists show nothing outside the caller's scope, and "
        "that no page redirects to another site when asked to with `next`.",
    ]
    for section, rules in table.sections.items():
        lines += ["", f"## {section}", "", "| " + " | ".join(head) + " |",
                  "|" + "---|" * len(head)]
        rows: list[tuple[list[str], Rule]] = []  # one row per declaration: GET, POST
        for rule in rules:
            last = rows[-1][1] if rows else None
            if last is not None and (last.surface, last.route, last.access, last.note) == (
                    rule.surface, rule.route, rule.access, rule.note):
                rows[-1][0].append(rule.method)
            else:
                rows.append(([rule.method], rule))
        for methods, rule in rows:
            route = rule.route.replace("|", "\\|")
            cells = [", ".join(methods), f"`{route}`",
                     *[rule.for_audience(a).label for a in AUDIENCES],
                     rule.note.replace("|", "\\|")]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


# --- project-wide routes ------------------------------------------------------------------

PROJECT_ROUTES = [
    page("POST set_language", everyone=ANY, note="Language switch (a cookie)."),
    page("GET set_language", everyone=REDIRECT, note="Changes nothing without POST."),
    page("GET javascript-catalog", everyone=ANY, note="Translations for scripts."),
    # django-ninja's own views answer any method; they only read.
    page("GET|POST api:openapi-json", everyone=ANY, note="The API's OpenAPI document."),
    page("GET|POST api:openapi-view", everyone=ANY, note="The API's documentation page."),
    page("GET|POST api:api-root", everyone=NOT_FOUND, note="Nothing at /api/ itself."),
    page("GET admin:*", everyone=LOGIN, superuser=ANY,
         note="Django admin: the operator's superuser only (`yiwang/urls.py`), as it "
              "applies neither the org scope nor the audit log; `is_staff` is not enough."),
    page("GET admin/*", everyone=LOGIN, superuser=REDIRECT,
         note="Admin short links (object → its change page, a missing slash)."),
    page("GET admin:login", everyone=ANY, superuser=REDIRECT),
    page("POST admin:logout", everyone=REDIRECT, superuser=ANY,
         note="Others are sent to the admin's front door, still signed in."),
    page("GET admin:autocomplete", everyone=LOGIN, superuser=FORBIDDEN,
         note="Only with a model's autocomplete field; none is configured."),
    page("GET admin:view_on_site", everyone=LOGIN, superuser=NOT_FOUND,
         note="No model has a public page."),
    page("GET admin:core_auditentry_add", everyone=LOGIN, superuser=FORBIDDEN,
         note="The audit log is append-only, also in the admin."),
    page("GET admin:core_auditentry_delete", everyone=LOGIN, superuser=FORBIDDEN,
         note="The audit log is append-only, also in the admin."),
    page("GET admin:axes_access*_add", everyone=LOGIN, superuser=FORBIDDEN,
         note="Sign-in records are written by django-axes only."),
    page("GET admin:django_tasks_database_dbtaskresult_add", everyone=LOGIN,
         superuser=FORBIDDEN, note="Task results are written by the task queue only."),
    page("GET admin:django_tasks_database_dbtaskresult_delete", everyone=LOGIN,
         superuser=FORBIDDEN, note="Task results are written by the task queue only."),
]
