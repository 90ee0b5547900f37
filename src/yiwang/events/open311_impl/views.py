"""The GeoReport v2 resources, each as ``<name>.xml`` and ``<name>.json``.

Views are stateless: a session is neither needed nor used (so no CSRF either); POST
authenticates with the client system's ``api_key``. Errors use the spec's format in the
format asked for: 400 bad or missing parameters, 403 missing or invalid ``api_key``, 404
unknown service code, request, token or jurisdiction, 405 a method the resource does
not take, 429 too many POSTs for one key (with ``Retry-After``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from ..catalog import published_catalog
from ..clients import client_for_key
from ..models import ClientSystem, Event
from . import catalog, records, submit
from .render import FORMATS, Many, errors, respond

SPEC = "http://wiki.open311.org/GeoReport_v2"
View = Callable[..., HttpResponse]


class Problem(Exception):
    def __init__(self, status: int, *problems: tuple[int, str]):
        super().__init__(problems)
        self.status = status
        self.problems = problems


def resource(*methods: str) -> Callable[[View], View]:
    """Format from the URL, the method check, the jurisdiction and the errors."""

    def decorate(view: View) -> View:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, fmt: str = "xml",
                    **kwargs: Any) -> HttpResponse:
            fmt = fmt if fmt in FORMATS else "xml"
            taken = (*methods, "HEAD") if "GET" in methods else methods
            try:
                if request.method not in taken:
                    allowed = ", ".join(taken)
                    response = errors(fmt, 405, (405, _("This resource takes %(methods)s "
                                                         "only.") % {"methods": allowed}))
                    response["Allow"] = allowed
                    return response
                _check_jurisdiction(request)
                if request.method == "HEAD":
                    request.method = "GET"  # the same answer; the server drops the body
                return view(request, *args, fmt=fmt, **kwargs)
            except Problem as exc:
                return errors(fmt, exc.status, *exc.problems)
            except submit.Rejected as exc:
                return errors(fmt, exc.status, *exc.problems)

        return wrapper

    return decorate


def jurisdiction_ids() -> set[str]:
    code = settings.YIWANG_DISTRICT_CODE
    extra = getattr(settings, "YIWANG_OPEN311_JURISDICTION_IDS", ())
    return {code, code[:6], *extra}


def _param(request: HttpRequest, name: str) -> str:
    # The spec sends POST parameters in the form body; some clients put api_key or
    # jurisdiction_id in the query string all the same.
    value = request.POST.get(name) if request.method == "POST" else None
    return (value or request.GET.get(name) or "").strip()


def _check_jurisdiction(request: HttpRequest) -> None:
    # One jurisdiction per deployment: the parameter may be left out ("Optional
    # Arguments"); a wrong one is a 404 as the spec says.
    given = _param(request, "jurisdiction_id")
    if given and given not in jurisdiction_ids():
        raise Problem(404, (404, _("jurisdiction_id %(id)s is not served here; this "
                                   "endpoint serves %(ours)s.")
                            % {"id": given, "ours": settings.YIWANG_DISTRICT_CODE}))


def _client(request: HttpRequest, *, required: bool) -> ClientSystem | None:
    key = _param(request, "api_key")
    if not key:
        if required:
            raise Problem(403, (403, _("api_key is required to create a service request; "
                                       "ask the district for a key.")))
        return None
    client = client_for_key(key, kind="open311")
    if client is None:
        raise Problem(403, (403, _("Invalid api_key: it is unknown, revoked or not an "
                                   "Open311 key.")))
    return client


# --- discovery and services ------------------------------------------------------------------

def _changeset() -> str:
    catalog_version = published_catalog()
    at = catalog_version.published_at if catalog_version else None
    return timezone.localtime(at).isoformat(timespec="seconds") if at else ""


@resource("GET")
def discovery(request: HttpRequest, *, fmt: str) -> HttpResponse:
    base = request.build_absolute_uri(reverse("open311:root")).rstrip("/")
    changeset = _changeset()
    body = {
        "changeset": changeset,
        "contact": getattr(settings, "YIWANG_OPEN311_CONTACT", "") or _(
            "The district's government services and data management bureau; citizens "
            "call 12345."),
        "key_service": _("API keys are issued to client systems by the district's "
                         "administrators (workbench: client systems)."),
        "endpoints": Many("endpoint", [{
            "specification": SPEC,
            "url": base,
            "changeset": changeset,
            "type": "test" if settings.DEBUG else "production",
            "formats": Many("format", ["text/xml", "application/json"]),
        }]),
    }
    response = respond(fmt, "discovery", body)
    response["Cache-Control"] = "public, max-age=300"
    return response


@resource("GET")
def service_list(request: HttpRequest, *, fmt: str) -> HttpResponse:
    response = respond(fmt, "services", catalog.service_list_body(catalog.services()))
    response["Cache-Control"] = "public, max-age=300"
    return response


@resource("GET")
def service_definition(request: HttpRequest, *, category_code: str, fmt: str) -> HttpResponse:
    category = catalog.service_get(category_code)
    if category is None:
        raise Problem(404, (404, _("service_code %(code)s is not a service of this "
                                   "jurisdiction.") % {"code": category_code}))
    response = respond(fmt, "service_definition", catalog.service_definition_body(category))
    response["Cache-Control"] = "public, max-age=300"
    return response


# --- requests ---------------------------------------------------------------------------------

@resource("GET", "POST")
def requests_resource(request: HttpRequest, *, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _create(request, fmt)
    return _search(request, fmt)


def _throttle(client: ClientSystem) -> None:
    limit = int(getattr(settings, "YIWANG_OPEN311_POSTS_PER_MINUTE", 120))
    now = int(timezone.now().timestamp())
    key = f"open311:posts:{client.pk}:{now // 60}"
    cache.add(key, 0, timeout=120)
    try:
        count = cache.incr(key)
    except ValueError:
        count = 1
    if count > limit:
        raise Problem(429, (429, _("Too many requests for this api_key: at most %(n)d a "
                                   "minute. Try again shortly.") % {"n": limit}))


def _create(request: HttpRequest, fmt: str) -> HttpResponse:
    client = _client(request, required=True)
    assert client is not None
    try:
        _throttle(client)
    except Problem as exc:
        response = errors(fmt, exc.status, *exc.problems)
        response["Retry-After"] = str(60 - int(timezone.now().timestamp()) % 60)
        return response
    sub = submit.parse(request.POST, client=client,
                       idempotency_key=request.headers.get("Idempotency-Key", "").strip())
    try:
        event, data, _created = submit.submit(sub)
    except ValidationError as exc:  # the spine's own checks, in its words
        raise Problem(400, *[(400, str(m)) for m in exc.messages]) from exc
    body = Many("request", [{
        "service_request_id": event.number,
        "service_notice": records.service_notice(event),
        "account_id": data.get("account_id") or None,
    }])
    return respond(fmt, "service_requests", body)


_W3_SPACE = re.compile(r" (\d{2}:?\d{2})$")


def _date(request: HttpRequest, name: str) -> dt.datetime | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    raw = _W3_SPACE.sub(r"+\1", raw)  # a '+' that came through the query string unquoted
    value: dt.datetime | None
    try:
        value = parse_datetime(raw)
        if value is None:
            day = parse_date(raw)
            value = dt.datetime.combine(day, dt.time()) if day else None
    except ValueError:
        value = None
    if value is None:
        raise Problem(400, (400, _("%(name)s must be a W3C date-time such as "
                                   "2026-01-01T00:00:00+08:00.") % {"name": name}))
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def _window(request: HttpRequest, default: dt.timedelta,
            longest: dt.timedelta | None) -> tuple[dt.datetime, dt.datetime]:
    start, end = _date(request, "start_date"), _date(request, "end_date")
    now = timezone.now()
    if start and end and start > end:
        raise Problem(400, (400, _("start_date must come before end_date.")))
    if longest and start and end and end - start > longest:
        raise Problem(400, (400, _("start_date and end_date may span at most %(n)d days.")
                            % {"n": longest.days}))
    if start is None and end is None:
        return now - default, now
    if start is None:
        assert end is not None
        return end - default, end
    if end is None:
        end = min(now, start + longest) if longest else now
    return start, end


def _list(request: HttpRequest, name: str, allowed: tuple[str, ...] | None = None) -> list[str]:
    values = [v.strip() for v in request.GET.get(name, "").split(",") if v.strip()]
    if allowed is not None:
        wrong = [v for v in values if v not in allowed]
        if wrong:
            raise Problem(400, (400, _("%(name)s takes %(allowed)s.")
                                % {"name": name, "allowed": ", ".join(allowed)}))
    return values


def _page(request: HttpRequest) -> tuple[int, int]:
    try:
        size = int(request.GET.get("page_size") or records.MAX_RESULTS)
        page = int(request.GET.get("page") or 1)
    except ValueError:
        size = page = 0
    if not (1 <= size <= records.MAX_RESULTS) or page < 1:
        raise Problem(400, (400, _("page must be 1 or more and page_size between 1 and "
                                   "%(n)d.") % {"n": records.MAX_RESULTS}))
    return page, size


def _search(request: HttpRequest, fmt: str) -> HttpResponse:
    client = _client(request, required=False)
    events = records.visible_events(client)
    ids = _list(request, "service_request_id")
    if ids:  # "This overrides all other arguments."
        events = events.filter(number__in=ids[:records.MAX_RESULTS])
        found = list(records.with_details(events).order_by("-received_at"))
        return respond(fmt, "service_requests", records.requests_body(found))
    start, end = _window(request, dt.timedelta(days=records.DEFAULT_DAYS),
                         dt.timedelta(days=records.DEFAULT_DAYS))
    events = events.filter(received_at__gte=start, received_at__lte=end)
    codes = _list(request, "service_code")
    if codes:
        events = events.filter(category__code__in=codes)
    statuses = set(_list(request, "status", ("open", "closed")))
    if statuses == {"open"}:
        events = events.exclude(status__in=records.CLOSED)
    elif statuses == {"closed"}:
        events = events.filter(status__in=records.CLOSED)
    page, size = _page(request)
    offset = (page - 1) * size
    found = list(records.with_details(events).order_by("-received_at", "-id")
                 [offset:offset + size])
    return respond(fmt, "service_requests", records.requests_body(found))


def _visible_event(request: HttpRequest, number: str) -> Event:
    client = _client(request, required=False)
    event = records.with_details(records.visible_events(client)).filter(number=number).first()
    if event is None:
        raise Problem(404, (404, _("Service request %(id)s was not found.") % {"id": number}))
    return event


@resource("GET")
def request_detail(request: HttpRequest, *, event_number: str, fmt: str) -> HttpResponse:
    event = _visible_event(request, event_number)
    return respond(fmt, "service_requests", records.requests_body([event]))


@resource("GET")
def token_detail(request: HttpRequest, *, request_token: str, fmt: str) -> HttpResponse:
    ref = submit.source_ref_of_token(request_token)
    event = None
    if ":" in ref:
        event = records.visible_events(_client(request, required=False)).filter(
            channel="open311", source_ref=ref).first()
    if event is None:
        raise Problem(404, (404, _("Token %(token)s was not found.") % {"token": request_token}))
    body = Many("request", [{"service_request_id": event.number, "token": request_token}])
    return respond(fmt, "service_requests", body)


@resource("GET")
def request_updates(request: HttpRequest, *, fmt: str) -> HttpResponse:
    client = _client(request, required=False)
    updates = records.visible_updates(client)
    start, end = _window(request, dt.timedelta(hours=records.UPDATES_DEFAULT_HOURS), None)
    updates = updates.filter(at__gte=start, at__lte=end)
    ids = _list(request, "service_request_id")
    if ids:
        updates = updates.filter(event__number__in=ids[:records.MAX_RESULTS])
    # Oldest first and at most 1000: a poller continues from the last updated_datetime.
    found = list(updates[:records.MAX_RESULTS])
    return respond(fmt, "service_request_updates", records.updates_body(found))


@csrf_exempt
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    fmt = "json" if request.path.endswith(".json") else "xml"
    return errors(fmt, 404, (404, _("No such Open311 resource. Start from discovery.xml or "
                                    "services.xml.")))
