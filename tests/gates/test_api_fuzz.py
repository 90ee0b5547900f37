"""Gate: schemathesis fuzzes every operation of the live OpenAPI document.

The document is fetched from the running application (``/api/openapi.json``) and every
request goes in process through the WSGI application, on the test database. Each operation
gets ``YIWANG_FUZZ_EXAMPLES`` generated requests per identity (default 20), valid and
invalid (schemathesis modes "positive" and "negative", plus its coverage phase), as

- a district admin's API token carrying every permission the admin has (writes included),
- a citizen's browser session (citizens cannot hold tokens), CSRF token in the header,
- the admin's browser session, for the writes only (sessions, not tokens, mint tokens),
- nobody, for the operations that need no authentication.

Generated ids, org unit codes, ID numbers, phones and passwords are pointed at real objects
and valid values two times in three (``World.aim``), so writes succeed and change state
that later examples meet; invalid parts of a request are left as generated.

A test fails on any 5xx, any status code, content type or body the document does not
declare, any invalid request that was accepted (2xx), and any valid request refused with a
4xx other than 401/403/404/409 — except the 422s listed in ``DOMAIN_RULES``. Reproduce a
failure with the curl command schemathesis prints, or rerun with ``YIWANG_FUZZ_SEED``.
"""

from __future__ import annotations

import datetime as dt
import os
import zlib
from dataclasses import dataclass
from importlib import import_module
from typing import Any

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.wsgi import get_wsgi_application
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.core.parameters import ParameterLocation

from yiwang.accounts import services
from yiwang.accounts.models import ApiToken, User
from yiwang.accounts.roles import Role
from yiwang.core.crypto import sm3_hex
from yiwang.core.models import Notification, OrgUnit
from yiwang.core.notifications import notify
from yiwang.core.testing.openapi import credentials_provider, fuzz_call
from yiwang.core.tests.factories import make_citizen, make_staff
from yiwang.core.validators import id_check_char

EXAMPLES = int(os.environ.get("YIWANG_FUZZ_EXAMPLES", "20"))
SEED = os.environ.get("YIWANG_FUZZ_SEED")

# Valid-looking input that a rule beyond the schema can still refuse with a field error
# (422). For these operations only, a schema-valid request answered 422 is not a failure.
DOMAIN_RULES: dict[tuple[str, str], str] = {
    ("POST", "/api/accounts/register"):
        "GB 11643 check digit and region of the ID number, phone format, password policy "
        "(common, numeric, similar to the name), user name and ID number already taken",
    ("POST", "/api/accounts/users"):
        "password policy, phone format, user name already taken",
    ("POST", "/api/accounts/users/{user_id}/deactivate"):
        "the account is your own or is already deactivated",
    ("POST", "/api/accounts/tokens"):
        "permissions the caller does not hold, expiry in the past",
    ("POST", "/api/events"):
        "a category code that is not a level-3 item of the published dispatch catalog",
    ("GET", "/api/events/figures"):
        "the end before the start, a range over three years, by=day over 92 days, a "
        "category not in the published catalog, a street outside the caller's scope",
    ("GET", "/api/calendar/deadline"):
        "start outside 1970–2099, the years the working-day calendar can count in",
}
# schemathesis builds part of its requests (the coverage phase) while pytest collects the
# tests, before any fixture ran, so the credentials are constants that fixtures make valid.
STAFF_TOKEN = "yw_fuzzfuzz_" + "staff-token-secret-" * 2
CITIZEN_SESSION = "fuzzcitizensession00000000000000"
STAFF_SESSION = "fuzzstaffsession0000000000000000"
CSRF_SECRET = "FuzzCsrfSecretFuzzCsrfSecret0000"
POSITIVE_OK = ["2xx", "3xx", "401", "403", "404", "409", "429"]

config = schemathesis.Config.from_dict({
    **({"seed": int(SEED)} if SEED else {}),
    "generation": {"mode": "all", "max-examples": EXAMPLES},
    "operations": [
        # include-name, one key: several include-* keys in one entry are OR-ed.
        {"include-name": f"{method} {path}",
         "checks": {"positive_data_acceptance": {"expected-statuses": [*POSITIVE_OK, "422"]}}}
        for method, path in DOMAIN_RULES
    ],
    "checks": {"positive_data_acceptance": {"expected-statuses": POSITIVE_OK}},
})
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application(),
                                        config=config)
# exclude, not include: include filters are OR-ed with the per-operation config's.
public_schema = schema.exclude(func=lambda ctx: bool(ctx.operation.definition.raw.get("security")))
write_schema = schema.exclude(method=["GET", "HEAD", "OPTIONS"])
fuzz_settings = settings(
    max_examples=EXAMPLES, deadline=None, database=None, print_blob=False,
    # The district fixture is built once per operation and deliberately shared by its
    # examples: state piles up the way it does on a real server.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


@dataclass
class World:
    """A district rich enough that generated ids and codes hit real objects."""

    codes: list[str]
    user_ids: list[int]
    token_ids: list[int]
    notification_ids: list[int]
    permissions: list[str]

    def aim(self, case: Any) -> None:
        """Point the valid parts of a generated request at real objects, two times in
        three, so writes get past "not found". Invalid parts stay as generated."""

        def valid(location: ParameterLocation) -> bool:
            component = case.meta.components.get(location) if case.meta else None
            return component is None or component.mode.is_positive

        if valid(ParameterLocation.PATH):
            for name, options in (("user_id", self.user_ids), ("token_id", self.token_ids),
                                  ("code", self.codes)):
                if name in case.path_parameters:
                    case.path_parameters[name] = pick(case.path_parameters[name], options)
        if valid(ParameterLocation.QUERY) and isinstance(case.query, dict):
            for name, options in (("parent", self.codes), ("org_unit", self.codes),
                                  ("role", list(Role.values))):
                if isinstance(case.query.get(name), str):
                    case.query[name] = pick(case.query[name], options)
        if valid(ParameterLocation.BODY) and isinstance(case.body, dict):
            body = case.body
            if isinstance(body.get("org_unit"), str):
                body["org_unit"] = pick(body["org_unit"], self.codes)
            for name, options in (("permissions", self.permissions),
                                  ("ids", self.notification_ids)):
                if isinstance(body.get(name), list):
                    body[name] = [pick(v, options) for v in body[name]]
            # Values that pass the checks the schema cannot state (check digits, password
            # policy), so registrations and new staff get created, not only refused.
            for name, make in (("id_number", valid_id_number), ("phone", valid_phone),
                               ("password", strong_password)):
                if isinstance(body.get(name), str) and body[name]:
                    body[name] = pick(body[name], [make(body[name])])


def valid_id_number(seed: str) -> str:
    n = zlib.crc32(seed.encode())
    born = dt.date(1950, 1, 1) + dt.timedelta(days=n % 20000)
    first17 = f"440304{born:%Y%m%d}{n % 1000:03d}"
    return first17 + id_check_char(first17)


def valid_phone(seed: str) -> str:
    return f"13{zlib.crc32(seed.encode()) % 10**9:09d}"


def strong_password(seed: str) -> str:
    return f"Fz-{zlib.crc32(seed.encode()):08x}-pw"


def pick(value: Any, options: list[Any], keep: int = 3) -> Any:
    """A real option in place of ``value``, decided by ``value`` itself so that hypothesis
    replays and shrinks the same request; ``keep``: 1 in ``keep`` stays as generated."""
    if not options:
        return value
    digest = zlib.crc32(repr(value).encode())
    if keep and digest % keep == 0:
        return value
    return options[digest % len(options)]


@pytest.fixture
def world(db) -> World:
    from yiwang.core.tests.factories import build_district

    d = build_district()
    admin = d.users["district_admin"]
    make_staff("inactive_a", d.street_a, Role.WINDOW_CLERK, is_active=False)
    citizen = make_citizen("citizen")
    make_citizen("citizen_b", id_number="440304199003071235")
    for user in (admin, citizen, d.users["clerk_a"]):
        for n in range(3):
            notify(recipient=user, template="welcome", key=f"fuzz:{user.pk}:{n}",
                   context={"name": user.name, "username": user.username, "site": "yiwang"})
    for who in ("street_a_admin", "clerk_a", "clerk_b"):
        token, _ = services.token_create(actor=d.users[who], name=f"{who} sync",
                                         permissions=["core.view_orgunit"])
    services.token_revoke(actor=d.users["clerk_b"], token=token)
    return World(
        codes=list(OrgUnit.objects.values_list("code", flat=True)),
        user_ids=list(User.objects.values_list("pk", flat=True)),
        token_ids=list(ApiToken.objects.values_list("pk", flat=True)),
        notification_ids=list(Notification.objects.values_list("pk", flat=True)),
        permissions=sorted(admin.get_all_permissions()),
    )


@pytest.fixture
def as_staff_token(world: World) -> World:
    """STAFF_TOKEN becomes a real token of the district admin with all its permissions."""
    admin = User.objects.get(username="d_admin")
    token, _ = services.token_create(actor=admin, name="fuzz", permissions=world.permissions)
    _, prefix, secret = STAFF_TOKEN.split("_", 2)  # stored as token_authenticate expects
    ApiToken.objects.filter(pk=token.pk).update(prefix=prefix, secret_hash=sm3_hex(secret.encode()))
    assert services.token_authenticate(STAFF_TOKEN) == admin, "the fuzz would run signed out"
    return world


def sign_in(username: str, session_key: str) -> None:
    """``session_key`` becomes a real signed-in session of ``username``."""
    client = Client()
    client.force_login(User.objects.get(username=username))  # Django's own login steps
    session = import_module(django_settings.SESSION_ENGINE).SessionStore(session_key=session_key)
    session.save(must_create=True)  # claim the key first: loading a missing key drops it
    session.update(dict(client.session.items()))
    session.save()
    client = Client()
    client.cookies[django_settings.SESSION_COOKIE_NAME] = session_key
    me = client.get("/api/me").json()
    assert me.get("username") == username, "the fuzz would run signed out"


def session_credentials(session_key: str) -> type:
    return credentials_provider(
        headers={"X-CSRFToken": CSRF_SECRET},
        cookies={django_settings.SESSION_COOKIE_NAME: session_key,
                 django_settings.CSRF_COOKIE_NAME: CSRF_SECRET})


@pytest.fixture
def as_citizen(world: World) -> World:
    sign_in("citizen", CITIZEN_SESSION)
    return world


@pytest.fixture
def as_staff_session(world: World) -> World:
    sign_in("d_admin", STAFF_SESSION)
    return world


@schema.parametrize()
@schema.auth(credentials_provider(headers={"Authorization": f"Bearer {STAFF_TOKEN}"}),
             refresh_interval=None)
@fuzz_settings
def test_api_fuzz__staff_token(case, as_staff_token: World) -> None:
    as_staff_token.aim(case)
    fuzz_call(case)


@schema.parametrize()
@schema.auth(session_credentials(CITIZEN_SESSION), refresh_interval=None)
@fuzz_settings
def test_api_fuzz__citizen_session(case, as_citizen: World) -> None:
    as_citizen.aim(case)
    fuzz_call(case)


@write_schema.parametrize()
@schema.auth(session_credentials(STAFF_SESSION), refresh_interval=None)
@fuzz_settings
def test_api_fuzz__staff_session_writes(case, as_staff_session: World) -> None:
    """The admin in the browser: session writes pass CSRF, and a session (unlike a token)
    may mint API tokens."""
    as_staff_session.aim(case)
    fuzz_call(case)


@public_schema.parametrize()
@fuzz_settings
def test_api_fuzz__anonymous(case, world: World) -> None:
    world.aim(case)
    fuzz_call(case)
