"""The 一网统管 JSON API: /api/events, /api/events/classify, /api/dispatch-catalog and the
machine intake channels (online-opinion feed, video-AI webhook).

Scoped exactly like the pages: staff read the events whose dispatch centre, lead handler
or location lies in their org unit's subtree, and those their unit co-handles or is
summoned to; citizens and enterprises the events they reported; an API token narrows both
to its unit and permissions (``core.policies``). Outside the scope is 404, visible but not
allowed 403. Every transition is its own operation, ``POST /api/events/{event_number}/<action>``,
whose body carries the ``revision`` the client saw: stale is 409, a transition the
event's state does not allow 422 (``{code, message, fields}`` throughout).
"""

# No ``from __future__ import annotations``: the transition operations are built in a
# loop, and django-ninja reads their (closure-local) annotations as objects.

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Header, Path, Query, Router, Status
from ninja.pagination import paginate
from ninja.security import APIKeyHeader

from yiwang.core import policies
from yiwang.core.api_actions import Action, call
from yiwang.core.api_errors import ERRORS, error_body
from yiwang.core.models import OrgUnit
from yiwang.core.schemas import ErrorOut, Pagination
from yiwang.services.schemas import IsoDate

from . import channels, selectors, services
from .catalog import published_catalog
from .classify import classify
from .intake import intake_event, place
from .learning import active_model
from .models import (
    Assignment,
    Category,
    Channel,
    Event,
    EventStatus,
    EventUpdate,
    ExtensionRequest,
    RequestStatus,
    ResponsibleParty,
    ReturnRequest,
)
from .schemas import (
    EVENT_NUMBER_PATTERN,
    CategoryDetailOut,
    CategoryOut,
    ClassifyIn,
    ClassifyOut,
    CoHandlerIn,
    DecideDisputeIn,
    DispatchIn,
    EventCallbackIn,
    EventChannel,
    EventDetailOut,
    EventExtensionDecisionIn,
    EventIn,
    EventOut,
    EventReasonIn,
    EventRevisionIn,
    EventTimeState,
    EventUpdateOut,
    ExtensionIn,
    ImportReportOut,
    MergeIn,
    NoteIn,
    ReassignIn,
    ResolveIn,
    SendExternalIn,
    SummonsIn,
    VideoAIDetectionIn,
    VideoAIOut,
)

router = Router(tags=["events"])

EVENT_NUMBER = Path(..., min_length=1, max_length=32, pattern=EVENT_NUMBER_PATTERN,
                    description="Event number, e.g. 440399202611220000123")
CATEGORY_CODE = Path(..., min_length=1, max_length=12, pattern=r"^[0-9]+$",
                     description="Catalog code, e.g. 010101")
VIEW_EVENT = "events.view_event"
INTAKE_EVENT = "events.intake_event"
TRANSITION_ERRORS = {200: EventDetailOut, 409: ErrorOut, **ERRORS}
FIRST_DAY, LAST_DAY = dt.date(1970, 1, 1), dt.date(2099, 12, 31)


def _is_staff(actor: Any) -> bool:
    return getattr(actor, "kind", "") == "staff"


def _day_start(day: dt.date) -> dt.datetime:
    day = min(max(day, FIRST_DAY), LAST_DAY)
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


# --- the dispatch catalog (public) -------------------------------------------------------


def _published_categories() -> QuerySet[Category]:
    return Category.objects.filter(catalog__status="published").select_related(
        "parent", "handler_unit")


@router.get("/dispatch-catalog", response={200: list[CategoryOut], **ERRORS}, auth=None,
            tags=["dispatch catalog"], summary="The published dispatch catalog (派单目录)")
@paginate(Pagination)
def category_list(request: HttpRequest,
                  level: int | None = Query(None, ge=1, le=3,
                                            description="Only this level (3: dispatchable)"),
                  parent: str | None = Query(None, max_length=12, pattern=r"^[0-9]+$",
                                             description="Children of this code"),
                  q: str | None = Query(None, max_length=50,
                                        description="Code prefix, name or keyword")) -> object:
    found = _published_categories().filter(active=True)
    if level:
        found = found.filter(level=level)
    if parent:
        found = found.filter(parent__code=parent)
    if q and q.strip():
        # Keywords are a JSON list (stored escaped on SQLite): match them in Python; the
        # published catalog is a few hundred rows.
        term = q.strip().lower()
        found = found.filter(pk__in=[
            pk for pk, code, name, keywords in found.values_list("pk", "code", "name",
                                                                 "keywords")
            if code.startswith(term) or term in name.lower()
            or any(term in str(k).lower() for k in keywords or [])])
    return found.order_by("code")


@router.get("/dispatch-catalog/{category_code}", response={200: CategoryDetailOut, **ERRORS},
            auth=None, tags=["dispatch catalog"],
            summary="One item of the published catalog, with its parents and children")
def category_detail(request: HttpRequest, category_code: str = CATEGORY_CODE) -> object:
    found = _published_categories().select_related("parent__parent").filter(
        code=category_code).first()
    if found is None:
        raise Http404
    ancestors = []
    parent = found.parent
    while parent is not None:
        ancestors.insert(0, parent)
        parent = parent.parent
    found.ancestors = ancestors  # type: ignore[attr-defined]
    found.children_list = list(  # type: ignore[attr-defined]
        found.children.filter(active=True).order_by("code"))
    return found


# --- classification ----------------------------------------------------------------------


@router.post("/events/classify", response={200: ClassifyOut, **ERRORS}, tags=["events"],
             summary="Suggest catalog items for an appeal text, with the handler each implies",
             description="Staff who read or register events. With a point, territorial items "
                         "name the street it lies in.")
def event_classify(request: HttpRequest, payload: ClassifyIn) -> object:
    actor = request.user
    if not _is_staff(actor) or not (policies.has_perm(actor, VIEW_EVENT)
                                    or policies.has_perm(actor, INTAKE_EVENT)):
        raise PermissionDenied
    catalog = published_catalog()
    model = active_model(catalog) if catalog is not None else None
    suggestions = classify(payload.text, catalog=catalog) if catalog is not None else []
    street = None
    if payload.lat is not None and payload.lon is not None:
        _unit, street = place(lat=payload.lat, lon=payload.lon, address="")
    categories = Category.objects.select_related("handler_unit").in_bulk(
        [s.category_id for s in suggestions])
    items = []
    for suggestion in suggestions:
        category = categories.get(suggestion.category_id)
        if category is None:
            continue
        handler: Any
        if category.handler_type == "territorial":
            handler = f"territorial: {street.name}" if street is not None else "territorial"
        elif category.handler_unit_id:
            handler = {"code": category.handler_unit.code, "name": category.handler_unit.name}
        else:
            handler = category.default_handler or None
        items.append({"code": suggestion.code, "name": suggestion.name,
                      "score": max(0.0, min(1.0, float(suggestion.score))),
                      "handler_type": category.handler_type, "handler": handler})
    return {"items": items, "street": street,
            "model": f"model v{model.version}" if model is not None else "keywords"}


# --- intake channels (before /events/{event_number}: literal paths first) -----------------

OPINION_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": {
            "type": "object", "required": ["records"],
            "properties": {"records": {
                "type": "array", "maxItems": 5000,
                "items": {"type": "object", "properties": {
                    "source": {"type": "string", "description": "Platform or site, e.g. 微博"},
                    "url": {"type": "string", "description": "Link to the post"},
                    "text": {"type": "string"},
                    "time": {"type": "string", "description": "ISO 8601; Beijing time "
                                                              "without an offset"},
                    "place": {"type": "string", "description": "Place named, if any"}}}}}}},
        "multipart/form-data": {"schema": {
            "type": "object", "required": ["file"],
            "properties": {
                "file": {"type": "string", "format": "binary",
                         "description": "A .json or .csv feed file (UTF-8 or GBK)"},
                "format": {"type": "string", "enum": ["json", "csv"],
                           "description": "Default: from the file name"}}}},
    },
}


def _format_of(name: str, given: str) -> str:
    if given in ("json", "csv"):
        return given
    lowered = name.lower()
    if lowered.endswith(".json"):
        return "json"
    if lowered.endswith(".csv"):
        return "csv"
    raise ValidationError({"format": [_("Say whether the file is json or csv.")]})


@router.post("/events/opinion-feed", response={200: ImportReportOut, **ERRORS},
             tags=["intake channels"], openapi_extra={"requestBody": OPINION_BODY},
             summary="Import online-opinion records (网络舆情): a file, or JSON records",
             description="Staff who register events. Each record is checked on its own: bad "
                         "ones are listed with row, field and message and skipped, the rest "
                         "registered, classified, located and auto-dispatched. A record is "
                         "known by its URL: sending it again creates nothing.")
def opinion_feed(request: HttpRequest) -> object:
    actor = request.user
    if not _is_staff(actor) or not policies.has_perm(actor, INTAKE_EVENT):
        raise PermissionDenied
    if request.content_type == "multipart/form-data":
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError({"file": [_("Choose a file to upload.")]})
        if upload.size is not None and upload.size > channels.opinion_max_bytes():
            raise RequestDataTooBig
        fmt = _format_of(upload.name or "", request.POST.get("format", ""))
        data = upload.read()
    else:
        try:
            parsed = json.loads(request.body or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError):
            return Status(400, error_body("malformed_json",
                                          _("The request body is not valid JSON.")))
        if not isinstance(parsed, dict) or not isinstance(parsed.get("records"), list):
            raise ValidationError({"records": [_("Send {\"records\": [ … ]}.")]})
        fmt = "json"
        data = json.dumps(parsed["records"], ensure_ascii=False).encode()
    report = channels.opinion_import(actor=actor, data=data, fmt=fmt)
    return report.as_dict()


class VideoAIKey(APIKeyHeader):
    """The client system's key, and the signature of this very delivery."""

    param_name = "X-Yiwang-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        try:
            client = channels.video_ai_authenticate(
                key=key or "", timestamp=request.headers.get("X-Yiwang-Timestamp", ""),
                signature=request.headers.get("X-Yiwang-Signature", ""), body=request.body)
        except channels.WebhookAuthError:
            return None
        request.video_ai_client = client  # type: ignore[attr-defined]
        return client


WEBHOOK_HEADERS = [
    {"in": "header", "name": "X-Yiwang-Timestamp", "required": True,
     "schema": {"type": "string", "pattern": "^[0-9]{1,12}$"},
     "description": "Unix time of sending; older than 5 minutes is refused"},
    {"in": "header", "name": "X-Yiwang-Signature", "required": True,
     "schema": {"type": "string", "maxLength": 80},
     "description": "sha256=<hex HMAC-SHA256 with the key of \"<timestamp>.<raw body>\">"},
]


@router.post("/events/video-ai", response={201: VideoAIOut, 200: VideoAIOut, 202: VideoAIOut,
                                           **ERRORS},
             auth=VideoAIKey(), tags=["intake channels"],
             openapi_extra={"parameters": WEBHOOK_HEADERS},
             summary="Video-AI webhook: one detection of a camera",
             description="For client systems of kind video_ai. 201 a new event; 200 folded "
                         "into the camera's open event of the same scene (or a repeated "
                         "delivery_id: nothing changed); 202 dropped below the confidence "
                         "threshold, with the reason. A bad key, signature or timestamp: "
                         "401, nothing stored.")
def video_ai_webhook(request: HttpRequest, payload: VideoAIDetectionIn) -> object:
    client = request.video_ai_client  # type: ignore[attr-defined]
    result = channels.video_ai_receive(client=client, detection=channels.Detection(
        camera_id=payload.camera_id, detection_type=payload.detection_type,
        confidence=payload.confidence, detected_at=payload.detected_at,
        delivery_id=payload.delivery_id, snapshot=payload.snapshot, lat=payload.lat,
        lon=payload.lon, address=payload.address))
    status = {"created": 201, "dropped": 202}.get(result.status, 200)
    return Status(status, result.as_dict())


# --- events -------------------------------------------------------------------------------

ROW_JOINS = ("category", "clock", "street", "handler_unit")


def scoped_events(actor: Any) -> QuerySet[Event]:
    """The events ``actor`` may read: reported ones for citizens; for staff those whose
    dispatch centre, lead or location unit is in scope, or that a unit in scope
    co-handles (协办)."""
    if not policies.is_active_actor(actor):
        return Event.objects.none()
    if not _is_staff(actor) and not actor.is_superuser:
        return Event.objects.filter(reporter=actor)
    if not policies.has_perm(actor, VIEW_EVENT):
        return Event.objects.none()
    ids = selectors.scope_unit_ids(actor)
    if ids is None:
        return Event.objects.all()
    if not ids:
        return Event.objects.none()
    return Event.objects.filter(Q(dispatch_unit_id__in=ids) | Q(handler_unit_id__in=ids)
                                | Q(location_unit_id__in=ids) | selectors._co_exists(ids))


DAY_FROM = Query(None, description="YYYY-MM-DD")
DAY_TO = Query(None, description="YYYY-MM-DD, inclusive")


@router.get("/events", response={200: list[EventOut], **ERRORS}, tags=["events"],
            summary="Events: those you reported, or those in your scope (staff)")
@paginate(Pagination)
def event_list(request: HttpRequest, status: EventStatus | None = None,
               channel: EventChannel | None = None,  # type: ignore[valid-type]
               category: str | None = Query(None, max_length=12, pattern=r"^[0-9]+$",
                                            description="Catalog code; a level 1 or 2 code "
                                                        "takes its items"),
               time_state: EventTimeState | None = None,  # type: ignore[valid-type]
               street: str | None = Query(None, max_length=18, description="Street code"),
               received_from: IsoDate | None = DAY_FROM,
               received_to: IsoDate | None = DAY_TO,
               q: str | None = Query(None, max_length=32,
                                     description="Event number (or its start); else title")
               ) -> object:
    found = scoped_events(request.user)
    if status:
        found = found.filter(status=status)
    if channel:
        found = found.filter(channel=channel)
    if category:
        found = found.filter(category__code__startswith=category)
    if time_state:
        found = found.filter(time_state=time_state)
    if street:
        found = found.filter(street__code=street)
    if received_from:
        found = found.filter(received_at__gte=_day_start(received_from))
    if received_to:
        found = found.filter(received_at__lt=_day_start(received_to) + dt.timedelta(days=1))
    if q and q.strip():
        term = q.strip()
        found = found.filter(number__startswith=term) if term.isdigit() else found.filter(
            title__icontains=term)
    return found.select_related(*ROW_JOINS).order_by("-received_at", "-pk")


def _event(actor: Any, number: str) -> Event:
    return selectors.event_get(actor=actor, number=number)


ACTION_PATHS = {
    "dispatch": "dispatch", "accept": "accept", "start": "start", "contact": "contact",
    "resolve": "resolve", "callback": "callback", "close": "close", "reopen": "reopen",
    "return": "return", "dispute_return": "dispute-return",
    "decide_dispute": "decide-dispute", "reassign": "reassign",
    "add_co_handler": "co-handlers", "co_done": "co-done",
    "request_extension": "extensions", "decide_extension": "decide-extension",
    "merge": "merge", "summon": "summons", "escalate": "escalate", "urge": "urge",
    "send_external": "send-external",
}
assert set(ACTION_PATHS) == set(services.TRANSITIONS), "an action has no endpoint"


def _citizen_may_call_back(actor: Any, event: Event) -> bool:
    return bool(not _is_staff(actor) and event.reporter_id == actor.pk
                and event.status == EventStatus.RESOLVED)


def _detail(actor: Any, number: str, *, registered: Event | None = None) -> Event:
    """The event with what the detail shows. ``registered``: an event the actor has just
    registered, shown to them even where it is not in their scope (a street's hotline
    clerk registers into the district centre's queue)."""
    event = _event(actor, number) if registered is None else registered
    event.assignments_list = list(  # type: ignore[attr-defined]
        Assignment.objects.filter(event=event).select_related("unit").order_by("created_at",
                                                                                "id"))
    if _is_staff(actor):
        transitions = services.allowed_transitions(event, actor)
        pending: list[Any] = [
            {"kind": "return", "reason": r.reason, "days": None, "disputed": r.disputed,
             "created_at": r.created_at}
            for r in ReturnRequest.objects.filter(event=event, status=RequestStatus.PENDING)]
        pending += [{"kind": "extension", "reason": x.reason, "days": x.days,
                     "disputed": False, "created_at": x.created_at}
                    for x in ExtensionRequest.objects.filter(event=event,
                                                             status=RequestStatus.PENDING)]
    else:
        transitions = [services.TRANSITIONS["callback"]] if _citizen_may_call_back(
            actor, event) else []
        pending = []
    event.pending = pending  # type: ignore[attr-defined]
    event.allowed_actions = [  # type: ignore[attr-defined]
        {"name": t.name, "label": str(t.label),
         "path": f"/api/events/{event.number}/{ACTION_PATHS[t.name]}"} for t in transitions]
    return event


def _answer(actor: Any, event: Event, status: int) -> Any:
    # The actor registered this event (or its retried request did): it is shown to them
    # whether or not it lies in their scope, so it is read once by its key rather than
    # through the scoped look-up first (the same answer, one query and its 14 joins less).
    fresh = Event.objects.select_related(*ANSWER_JOINS).get(pk=event.pk)
    return Status(status, _detail(actor, event.number, registered=fresh))


# Without the joins a just-registered event leaves empty (merged, external-loop origin,
# handled by, registered by): the answer reads them only when set.
ANSWER_JOINS = tuple(j for j in selectors.DETAIL_JOINS
                     if j not in ("merged_into", "external_of", "assigned_to", "intake_by"))


def _requester(actor: Any, payload: EventIn) -> dict[str, Any]:
    if _is_staff(actor):
        return {"reporter": None, "reporter_name": payload.reporter_name,
                "reporter_phone": payload.reporter_phone}
    return {"reporter": actor, "reporter_name": actor.name or "",
            "reporter_phone": str(actor.phone or "")}


def _staff_channel(actor: Any, payload: EventIn) -> str:
    if payload.channel:
        return payload.channel
    if actor.groups.filter(name="grid_worker").exists():
        return Channel.GRID
    return Channel.HOTLINE


@router.post("/events", response={201: EventDetailOut, 200: EventDetailOut, **ERRORS},
             tags=["events"], summary="Register an event (hotline, grid, or a citizen's report)",
             description="Classified, located and auto-dispatched when confident; otherwise "
                         "in the dispatch centre's queue with the suggestions. With an "
                         "`Idempotency-Key`, a retried request creates nothing new and "
                         "answers 200 with the event the first one created.")
def event_create(request: HttpRequest, payload: EventIn,
                 idempotency_key: str | None = Header(
                     None, alias="Idempotency-Key", min_length=1, max_length=100,
                     pattern=r"^[A-Za-z0-9_.:-]+$",
                     description="Your id of this request; repeat it when you retry")) -> object:
    actor = request.user
    staff = _is_staff(actor)
    if staff and not policies.has_perm(actor, INTAKE_EVENT):
        raise PermissionDenied
    channel = _staff_channel(actor, payload) if staff else Channel.PORTAL
    source_ref = f"api:{actor.pk}:{idempotency_key}" if idempotency_key else ""
    if source_ref:
        existing = Event.objects.filter(channel=channel, source_ref=source_ref).first()
        if existing is not None:
            return _answer(actor, existing, 200)
    category = None
    if payload.category_code:
        category = Category.objects.select_related("handler_unit").filter(
            catalog__status="published", code=payload.category_code, level=3,
            active=True).first()
        if category is None:
            raise ValidationError({"category_code": [
                _("Choose a level-3 item of the published dispatch catalog.")]})
    event = intake_event(
        actor=actor, channel=channel, description=payload.description, title=payload.title,
        appeal_type=payload.appeal_type or "", category=category, lat=payload.lat,
        lon=payload.lon, address=payload.address, urgent=payload.urgent if staff else None,
        anonymous=payload.anonymous, source_ref=source_ref, **_requester(actor, payload))
    return _answer(actor, event, 201)


@router.get("/events/{event_number}", response={200: EventDetailOut, **ERRORS}, tags=["events"],
            summary="One event with its deadlines, assignments and the actions you may take")
def event_detail(request: HttpRequest, event_number: str = EVENT_NUMBER) -> object:
    return _detail(request.user, event_number)


@router.get("/events/{event_number}/updates", response={200: list[EventUpdateOut], **ERRORS},
            tags=["events"], summary="The event's timeline (citizens: the public steps)")
@paginate(Pagination)
def event_update_list(request: HttpRequest, event_number: str = EVENT_NUMBER) -> object:
    actor = request.user
    event = _event(actor, event_number)
    updates = EventUpdate.objects.filter(event=event).select_related("actor", "unit")
    staff = _is_staff(actor)
    if not staff:
        updates = updates.filter(public=True)
    rows = []
    for update in updates.order_by("at", "id"):
        if update.actor_id is None:
            label = _("System")
        elif staff:
            label = update.actor.name or update.actor.username
        else:
            label = update.unit.name if update.unit_id else ""
        rows.append({"action": update.action, "from_status": update.from_status,
                     "to_status": update.to_status, "actor": label,
                     "unit": update.unit if update.unit_id else None, "note": update.note,
                     "public": update.public, "data": update.data if staff else {},
                     "at": update.at})
    return rows


# --- transitions: one operation each ------------------------------------------------------


def _action_error(exc: ValidationError) -> Any:
    """409 when someone changed the event meanwhile, 422 when its state does not allow
    the transition; None for field errors (the API's handler answers those)."""
    code = getattr(exc, "code", None)
    if hasattr(exc, "error_dict") or code is None:
        return None
    message = exc.messages[0]
    if code == "stale":
        return Status(409, error_body("stale", message))
    return Status(422, error_body(str(code), message))


def _district_path(event: Event) -> str:
    return "/" + event.dispatch_unit.path.strip("/").split("/")[0] + "/"


def _unit(event: Event, code: str, field: str) -> OrgUnit:
    unit = OrgUnit.objects.filter(code=code, is_active=True,
                                  path__startswith=_district_path(event)).first()
    if unit is None:
        raise ValidationError({field: [_("No active unit of the district has this code.")]})
    return unit


def _units(event: Event, codes: list[str], field: str) -> list[OrgUnit]:
    return [_unit(event, code, f"{field}.{i}") for i, code in enumerate(codes)]


def _into(actor: Any, number: str) -> Event:
    try:
        return _event(actor, number)
    except Http404:
        raise ValidationError({"into": [_("No event with this number in your scope.")]}
                              ) from None


def _party(event: Event, pk: int) -> ResponsibleParty:
    party = ResponsibleParty.objects.filter(pk=pk, active=True,
                                            unit__path__startswith=_district_path(event)).first()
    if party is None:
        raise ValidationError({"party": [_("No registered responsible party has this id.")]})
    return party


def _urge(actor: Any, event: Event, p: EventReasonIn) -> Any:
    if p.revision != event.revision:  # event_urge takes no revision: checked here
        return Status(409, error_body("stale", _(
            "Someone else changed this event meanwhile; reload it and try again.")))
    return services.event_urge(actor=actor, event=event, reason=p.reason)


def _callback(actor: Any, event: Event, p: EventCallbackIn) -> Any:
    if not _is_staff(actor):
        return services.event_callback(actor=actor, event=event, satisfaction=p.satisfaction,
                                       method="portal", note=p.note,
                                       expected_revision=p.revision, by_reporter=True)
    return services.event_callback(actor=actor, event=event, satisfaction=p.satisfaction,
                                   method=p.method, note=p.note, expected_revision=p.revision)


EventAction = Action[Event]


def _call(service: Callable[..., Any], *fields: str) -> Callable[[Any, Event, Any], Any]:
    return call(service, "event", *fields)


EVENT_ACTIONS = [
    EventAction("dispatch", DispatchIn, lambda actor, e, p: services.event_dispatch(
        actor=actor, event=e, unit=_unit(e, p.unit, "unit"),
        co_units=_units(e, p.co_units, "co_units"), note=p.note, expected_revision=p.revision),
        "Dispatch (分拨) to a lead handler, with co-handlers"),
    EventAction("accept", EventRevisionIn, _call(services.event_accept),
                "Sign for the event (签收): the lead unit takes it on"),
    EventAction("start", EventRevisionIn, _call(services.event_start), "Start handling"),
    EventAction("contact", NoteIn, _call(services.event_contact, "note"),
                "Record contact with the citizen (stops the 24-hour response clock)"),
    EventAction("resolve", ResolveIn, _call(services.event_resolve, "result"),
        "Resolve (办结) with the result"),
    EventAction("callback", EventCallbackIn, _callback,
                "Call back (回访): 满意 / 基本满意 close it, 不满意 reopens it once; the "
                "reporter may answer for themselves"),
    EventAction("close", EventReasonIn, _call(services.event_close, "reason"),
                "Close without a callback, with the reason"),
    EventAction("reopen", EventReasonIn, _call(services.event_reopen, "reason"), "Reopen (重办)"),
    EventAction("return", EventReasonIn, _call(services.event_return, "reason"),
                "Return to the dispatch centre (退单), with the reason"),
    EventAction("dispute_return", EventReasonIn, _call(services.event_dispute_return, "reason"),
                "Dispute a return: a supervisor reviews it"),
    EventAction("decide_dispute", DecideDisputeIn,
                _call(services.event_decide_dispute, "uphold_return", "reason"),
                "Decide a disputed return (supervisors)"),
    EventAction("reassign", ReassignIn, lambda actor, e, p: services.event_reassign(
        actor=actor, event=e, unit=_unit(e, p.unit, "unit"), reason=p.reason,
        expected_revision=p.revision), "Reassign (改派) to another lead handler"),
    EventAction("add_co_handler", CoHandlerIn, lambda actor, e, p:
                services.event_add_co_handler(actor=actor, event=e,
                                              unit=_unit(e, p.unit, "unit"), note=p.note,
                                              expected_revision=p.revision),
                "Add a co-handler (协办)"),
    EventAction("co_done", NoteIn, _call(services.event_co_done, "note"),
                "A co-handler reports its part done"),
    EventAction("request_extension", ExtensionIn,
                _call(services.event_request_extension, "days", "reason"),
                "Request an extension (延期); the dispatch centre decides"),
    EventAction("decide_extension", EventExtensionDecisionIn,
                _call(services.event_decide_extension, "approve", "note"),
                "Approve or refuse the waiting extension request"),
    EventAction("merge", MergeIn, lambda actor, e, p: services.event_merge(
        actor=actor, event=e, into=_into(actor, p.into), reason=p.reason,
        expected_revision=p.revision), "Merge into another event (并单); both are kept"),
    EventAction("summon", SummonsIn, lambda actor, e, p: services.event_summon(
        actor=actor, event=e, kind=p.kind, units=_units(e, p.units, "units"),
        subject=p.subject, hours=p.hours, expected_revision=p.revision),
        "Summon units (吹哨报到) or consult them (会商) with a deadline"),
    EventAction("escalate", EventReasonIn, _call(services.event_escalate, "reason"),
                "Escalate (提级) to the dispatch centre above"),
    EventAction("urge", EventReasonIn, _urge, "Urge (催办) the handling unit"),
    EventAction("send_external", SendExternalIn, lambda actor, e, p:
                services.event_send_external(actor=actor, event=e,
                                             party=_party(e, p.party),
                                             expected_revision=p.revision),
                "Send to the responsible party first (内外双循环)"),
]
assert {a.name for a in EVENT_ACTIONS} == set(services.TRANSITIONS), "an action is missing"


def _register_event_action(action: EventAction) -> None:
    schema = action.payload

    def perform(request: HttpRequest, payload: schema,
                event_number: str = EVENT_NUMBER) -> object:
        actor = request.user
        event = _event(actor, event_number)
        reporter_callback = action.name == "callback" and not _is_staff(actor) \
            and event.reporter_id == actor.pk
        # The role first: refused before a stale revision or the state is reported.
        if not reporter_callback and not services.may(actor, event, action.name):
            raise PermissionDenied
        try:
            answer = action.perform(actor, event, payload)
        except ValidationError as exc:
            refused = _action_error(exc)
            if refused is None:
                raise
            return refused
        if isinstance(answer, Status):
            return answer
        return _detail(actor, event_number)

    path = ACTION_PATHS[action.name]
    perform.__name__ = f"event_{action.name}"
    router.post(f"/events/{{event_number}}/{path}", response=TRANSITION_ERRORS,
                tags=["event actions"], summary=action.summary,
                operation_id=f"event_{action.name}",
                description=(
                    f"`{action.name}`: see `allowed_actions` of the event for whether you may "
                    "now. 409 when `revision` is not the event's current one; 422 when the "
                    "event's state does not allow it; 403 when your role or unit does not; "
                    "404 outside your scope."))(perform)


for _action in EVENT_ACTIONS:
    _register_event_action(_action)


# --- figures (考核指标) ---------------------------------------------------------------------

from typing import Literal  # noqa: E402

from .figures import Filters as _FigureFilters  # noqa: E402
from .figures import event_figures  # noqa: E402
from .schemas import EventFiguresOut  # noqa: E402

FIGURE_DIMENSIONS = Literal["unit", "street", "category1", "category3", "channel", "day",
                            "week", "month", "quarter", "year"]
FIGURES_MAX_DAYS = 3 * 366
FIGURES_MAX_DAY_ROWS = 92
FIGURES_FROM = Query(None, description="YYYY-MM-DD")
FIGURES_TO = Query(None, description="YYYY-MM-DD, inclusive")
FIGURES_CATEGORY = Query(None, max_length=12, pattern=r"^[0-9]+$",
                         description="Catalog code of a level-1, 2 or 3 item")
FIGURES_STREET = Query(None, max_length=18, description="Street code")


def _figures_row(row: Any, by: str) -> dict[str, Any]:
    data = row.as_dict()
    key = row.code if by in ("unit", "street", "category1", "category3", "channel") \
        else str(row.key)
    return {**data, "key": key if row.key is not None else "", "label": str(row.label)}


@router.get("/events/figures", response={200: EventFiguresOut, **ERRORS},
            tags=["figures"], operation_id="event_figures",
            summary="Event figures (考核指标) per unit, street, category, channel or period",
            description="The figures of the staff page `/events/figures/` for events received "
                        "from `start` to `end` (inclusive; default: this month so far), "
                        "counted for the units in the caller's scope. Rows are in code or "
                        "time order, never ranked by a figure.")
def event_figures_api(
    request: HttpRequest, start: IsoDate | None = FIGURES_FROM,
    end: IsoDate | None = FIGURES_TO,
    by: FIGURE_DIMENSIONS = "unit",
    channel: EventChannel | None = None,  # type: ignore[valid-type]
    category: str | None = FIGURES_CATEGORY, street: str | None = FIGURES_STREET,
) -> object:
    actor = request.user
    if not _is_staff(actor) or not policies.has_perm(actor, VIEW_EVENT):
        raise PermissionDenied
    today = timezone.localdate()
    start = start or today.replace(day=1)
    end = end or today
    errors: dict[str, list[str]] = {}
    if end < start:
        errors["end"] = [_("The end date is before the start date.")]
    elif (end - start).days >= FIGURES_MAX_DAYS:
        errors["end"] = [_("A custom range may span at most three years.")]
    elif by == "day" and (end - start).days >= FIGURES_MAX_DAY_ROWS:
        errors["by"] = [_("Group by day over at most %(days)d days; choose weeks or months "
                          "for a longer period.") % {"days": FIGURES_MAX_DAY_ROWS}]
    found_category = None
    if category:
        found_category = _published_categories().filter(code=category).first()
        if found_category is None:
            errors["category"] = [_("No such item in the published dispatch catalog.")]
    street_id = None
    if street:
        street_id = policies.restrict(OrgUnit.objects.filter(code=street, kind="street"),
                                      actor).values_list("pk", flat=True).first()
        if street_id is None:
            errors["street"] = [_("No such street in your scope.")]
    if errors:
        raise ValidationError(errors)
    filters = _FigureFilters(channel=getattr(channel, "value", None), street_id=street_id,
                             category=found_category)
    rows, total = event_figures(actor=actor, start=_day_start(start),
                                end=_day_start(end) + dt.timedelta(days=1), by=by,
                                filters=filters)
    return {"start": start, "end": end, "by": by,
            "rows": [_figures_row(r, by) for r in rows],
            "total": {**_figures_row(total, "none"), "key": "total"}}


def _before_event_numbers(*paths: str) -> None:
    """Serve fixed paths under /events/ before /events/{event_number} (Django tries the
    URL patterns in order, and ninja builds them in the order of ``path_operations``)."""
    first = {p: router.path_operations.pop(p) for p in paths}
    rest = dict(router.path_operations)
    router.path_operations.clear()
    router.path_operations.update({**first, **rest})


_before_event_numbers("/events/figures")
