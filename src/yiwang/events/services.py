"""The event lifecycle: one service function per transition (DESIGN.md).

received → dispatched → accepted (签收) → in_progress → resolved (办结) → callback → closed,
or reopened (重办) once on a 不满意 callback; a second 不满意 goes to district supervision.
Side paths: return (退单, with a dispute reviewed by a supervisor), reassign (改派), co-handlers
(主办 + 协办), extension (延期, decided by the dispatcher), merge (并单, both records kept),
summons / consultation (吹哨报到 / 会商), escalation (提级), urging (催办), and the external
loop (内外双循环): a responsible party first, an internal enforcement event if not fixed.

Every transition locks the event row, checks the state, the actor's permission in the
event's scope and the expected revision (two dispatchers cannot both win), moves the
state, writes a timeline entry and an audit entry, and tells whom it concerns.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.accounts.models import phone_index
from yiwang.core import policies
from yiwang.core.audit import audit_log
from yiwang.core.models import OrgUnit
from yiwang.core.models.calendar import ClockUnit
from yiwang.core.models.org import OrgKind
from yiwang.core.notifications import notify
from yiwang.core.sequences import next_value
from yiwang.core.workdays import WorkCalendar, clock_start, clock_stop

from .models import (
    AppealType,
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    Callback,
    Category,
    DispatchLevel,
    Event,
    EventStatus,
    EventUpdate,
    ExtensionRequest,
    ExternalTask,
    HandlerType,
    RequestStatus,
    ResponsibleParty,
    ReturnRequest,
    Satisfaction,
    Summons,
    SummonsResponse,
    Supervision,
    Urgency,
)

S = EventStatus
OPEN = frozenset({S.RECEIVED, S.EXTERNAL, S.DISPATCHED, S.ACCEPTED, S.IN_PROGRESS})
HANDLING = frozenset({S.DISPATCHED, S.ACCEPTED, S.IN_PROGRESS})


class TransitionError(ValidationError):
    """A transition the event's state (or a stale form) does not allow."""


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[str]
    target: str | None  # None: the state stays
    label: Any
    perm: str | None  # "a|b": any of them; None: system or the reporter only
    unit: str  # whose scope decides: "dispatch", "handler", "any", "co"


TRANSITIONS: dict[str, Transition] = {t.name: t for t in [
    Transition("dispatch", frozenset({S.RECEIVED, S.ACCEPTED}), S.DISPATCHED,
               gettext_lazy("Dispatch"), "events.dispatch_event", "dispatch"),
    Transition("accept", frozenset({S.DISPATCHED}), S.ACCEPTED,
               gettext_lazy("Sign for"), "events.handle_event", "handler"),
    Transition("start", frozenset({S.ACCEPTED}), S.IN_PROGRESS,
               gettext_lazy("Start handling"), "events.handle_event", "handler"),
    Transition("contact", HANDLING, None, gettext_lazy("Record contact with the citizen"),
               "events.handle_event", "handler"),
    Transition("resolve", frozenset({S.ACCEPTED, S.IN_PROGRESS}), S.RESOLVED,
               gettext_lazy("Resolve"), "events.handle_event", "handler"),
    Transition("callback", frozenset({S.RESOLVED}), None, gettext_lazy("Call back"),
               "events.callback_event", "dispatch"),
    Transition("close", frozenset({S.RESOLVED}), S.CLOSED, gettext_lazy("Close"),
               "events.dispatch_event|events.supervise_event", "dispatch"),
    Transition("reopen", frozenset({S.RESOLVED, S.CLOSED}), S.IN_PROGRESS,
               gettext_lazy("Reopen"), "events.supervise_event", "dispatch"),
    Transition("return", frozenset({S.DISPATCHED, S.ACCEPTED}), S.RECEIVED,
               gettext_lazy("Return to the dispatcher"), "events.handle_event", "handler"),
    Transition("dispute_return", frozenset({S.RECEIVED}), None,
               gettext_lazy("Dispute the return"), "events.dispatch_event", "dispatch"),
    Transition("decide_dispute", frozenset({S.RECEIVED}), None,
               gettext_lazy("Decide the disputed return"), "events.supervise_event",
               "dispatch"),
    Transition("reassign", HANDLING, S.DISPATCHED, gettext_lazy("Reassign"),
               "events.dispatch_event", "dispatch"),
    Transition("add_co_handler", HANDLING, None, gettext_lazy("Add a co-handler"),
               "events.dispatch_event", "dispatch"),
    Transition("co_done", HANDLING, None, gettext_lazy("Report our part done"),
               "events.handle_event", "co"),
    Transition("request_extension", frozenset({S.ACCEPTED, S.IN_PROGRESS}), None,
               gettext_lazy("Request an extension"), "events.handle_event", "handler"),
    Transition("decide_extension", frozenset({S.ACCEPTED, S.IN_PROGRESS}), None,
               gettext_lazy("Decide on an extension"), "events.dispatch_event", "dispatch"),
    Transition("merge", OPEN, S.MERGED, gettext_lazy("Merge into another event"),
               "events.dispatch_event", "dispatch"),
    Transition("summon", frozenset({S.RECEIVED, S.ACCEPTED, S.IN_PROGRESS}), None,
               gettext_lazy("Summon units (吹哨报到)"),
               "events.dispatch_event|events.handle_event", "any"),
    Transition("escalate", frozenset({S.RECEIVED, S.DISPATCHED, S.ACCEPTED, S.IN_PROGRESS}),
               S.RECEIVED, gettext_lazy("Escalate to the level above"),
               "events.dispatch_event|events.supervise_event", "any"),
    Transition("urge", OPEN, None, gettext_lazy("Urge"), "events.supervise_event", "any"),
    Transition("send_external", frozenset({S.RECEIVED}), S.EXTERNAL,
               gettext_lazy("Send to the responsible party"), "events.dispatch_event",
               "dispatch"),
]}
REASON_REQUIRED = {"return", "dispute_return", "decide_dispute", "reassign", "merge",
                   "request_extension", "escalate", "urge", "reopen", "summon"}
PUBLIC_ACTIONS = {"create", "dispatch", "accept", "resolve", "close", "reopen", "merge",
                  "callback", "external_fixed", "internal"}


# --- who may --------------------------------------------------------------------------------

def _unit_paths(event: Event, which: str) -> list[str]:
    if which == "dispatch" and event.status == S.ACCEPTED and event.handler_unit_id \
            and event.handler_unit.kind == OrgKind.STREET:
        return [event.dispatch_unit.path, event.handler_unit.path]  # passing it down
    if which == "dispatch":
        return [event.dispatch_unit.path]
    if which == "handler":
        return [event.handler_unit.path] if event.handler_unit_id else []
    if which == "co":
        return [a.unit.path for a in event.assignments.filter(
            role=AssignmentRole.CO, status__in=[AssignmentStatus.PENDING,
                                                AssignmentStatus.ACCEPTED]
        ).select_related("unit")]
    paths = [event.dispatch_unit.path]
    if event.handler_unit_id:
        paths.append(event.handler_unit.path)
    return paths


def may(actor: Any, event: Event, name: str) -> bool:
    """The actor's roles allow ``name`` in the scope of the unit the transition concerns."""
    transition = TRANSITIONS[name]
    if not policies.is_active_actor(actor) or getattr(actor, "kind", "") != "staff":
        return False
    if transition.perm is None or not any(
            policies.has_perm(actor, p) for p in transition.perm.split("|")):
        return False
    return any(policies.in_scope(actor, p) for p in _unit_paths(event, transition.unit))


def allowed_transitions(event: Event, actor: Any) -> list[Transition]:
    """What the actor may do to the event now (for buttons and the API)."""
    return [t for t in TRANSITIONS.values()
            if event.status in t.sources and _applicable(event, t.name)
            and may(actor, event, t.name)]


def _applicable(event: Event, name: str) -> bool:
    if name in ("dispute_return", "decide_dispute"):
        pending = event.returns.filter(status=RequestStatus.PENDING)
        return pending.filter(disputed=(name == "decide_dispute")).exists()
    if name == "decide_extension":
        return event.extensions.filter(status=RequestStatus.PENDING).exists()
    if name == "co_done":
        return event.assignments.filter(role=AssignmentRole.CO,
                                         status=AssignmentStatus.ACCEPTED).exists() or \
            event.assignments.filter(role=AssignmentRole.CO,
                                     status=AssignmentStatus.PENDING).exists()
    if name == "dispatch" and event.status == S.ACCEPTED:
        # A street centre that signed for an event may pass it down to a community.
        return bool(event.handler_unit_id and event.handler_unit.kind == OrgKind.STREET)
    if name == "send_external":
        return bool(event.category_id and event.category.external_loop)
    if name == "escalate":
        return event.dispatch_unit.parent_id is not None
    return True


# --- the transition frame ------------------------------------------------------------------

@transaction.atomic
def _begin(*, event: Event, actor: Any, name: str, reason: str = "",
           expected_revision: int | None = None, system: bool = False) -> tuple[Event, str]:
    """Lock and check; returns the locked event and its previous status."""
    transition = TRANSITIONS[name]
    locked = (Event.objects.select_for_update(of=("self",))
              .select_related("dispatch_unit", "handler_unit", "category", "clock",
                              "response_clock", "reporter")
              .get(pk=event.pk))
    if not system and not may(actor, locked, name):
        raise PermissionDenied
    if expected_revision is not None and expected_revision != locked.revision:
        raise TransitionError(
            _("Someone else changed this event meanwhile; reload it and try again."),
            code="stale")
    if locked.status not in transition.sources or not _applicable(locked, name):
        raise TransitionError(
            _("“%(action)s” is not possible while the event is “%(status)s”.")
            % {"action": transition.label, "status": EventStatus(locked.status).label},
            code="bad_state")
    if name in REASON_REQUIRED and not reason.strip():
        raise ValidationError({"reason": [_("Give a reason.")]})
    previous = locked.status
    if transition.target is not None:
        locked.status = transition.target
    locked.revision += 1
    return locked, previous


def _finish(event: Event, *, actor: Any, name: str, previous: str, note: str = "",
            unit: OrgUnit | None = None, data: dict[str, Any] | None = None) -> Event:
    event.save()
    EventUpdate.objects.create(
        event=event, action=name, from_status=previous, to_status=event.status,
        actor=actor if getattr(actor, "is_authenticated", False) else None, unit=unit,
        note=note, public=name in PUBLIC_ACTIONS, data=data or {}, at=timezone.now())
    audit_log(actor=actor, action=f"events.event.{name}", obj=event,
              before={"status": previous}, after={"status": event.status, **(data or {})},
              reason=note)
    if event.reporter_id and name in PUBLIC_ACTIONS:
        notify(recipient=event.reporter, template="event_update",
               key=f"event:{event.pk}:{event.revision}:{name}",
               context={"number": event.number, "status": str(EventStatus(event.status).label)},
               url=f"/events/my/{event.number}/")
    return event


def _notify_unit(unit: OrgUnit, perm: str, *, event: Event, template: str, key: str,
                 context: dict[str, Any] | None = None) -> None:
    from yiwang.accounts.models import User

    app_label, codename = perm.split(".")
    users = User.objects.filter(is_active=True, org_unit=unit,
                                groups__permissions__codename=codename,
                                groups__permissions__content_type__app_label=app_label
                                ).distinct()
    for user in users:
        notify(recipient=user, template=template, key=f"{key}:{user.pk}",
               context={"number": event.number, "title": event.title, **(context or {})},
               url=f"/events/{event.number}/")


# --- intake ---------------------------------------------------------------------------------

def event_number(at: dt.datetime | None = None) -> str:
    """``<district 6><yyyymmdd><7-digit daily sequence>``, e.g. 440399202611220000123."""
    day = timezone.localtime(at or timezone.now()).strftime("%Y%m%d")
    return f"{settings.YIWANG_DISTRICT_CODE[:6]}{day}{next_value('event', day):07d}"


def limits_for(appeal_type: str, urgent: bool) -> tuple[str, int]:
    """(clock unit, limit) of the resolution deadline; from settings, Guangdong's 12345
    rules by default: 咨询 2, 求助/建议 10, 投诉/举报 15 working days; urgent in hours."""
    if urgent:
        return ClockUnit.HOURS, settings.YIWANG_URGENT_HOURS
    return ClockUnit.WORKDAYS, settings.YIWANG_EVENT_LIMITS[appeal_type]


def district_unit() -> OrgUnit:
    return OrgUnit.objects.get(code=settings.YIWANG_DISTRICT_CODE)


@transaction.atomic
def event_create(
    *, actor: Any, channel: str, appeal_type: str, title: str, description: str,
    category: Category | None = None, suggestions: list[dict[str, Any]] | None = None,
    confidence: float | None = None, urgent: bool | None = None, address: str = "",
    lat: float | None = None, lon: float | None = None,
    location_unit: OrgUnit | None = None, street: OrgUnit | None = None,
    reporter: Any = None, reporter_name: str = "", reporter_phone: str = "",
    anonymous: bool = False, source_ref: str = "", received_at: dt.datetime | None = None,
    resolved_on_spot: str = "", system: bool = False,
) -> Event:
    """Register an event from any channel into the district dispatch centre's queue.

    ``resolved_on_spot`` (a result text) closes it at once: a 咨询 answered from the
    knowledge base (直接办结) or a grid worker's 自处置. A repeated ``source_ref`` from the
    same channel returns the event already registered and changes nothing.
    """
    if not system and not policies.has_perm(actor, "events.intake_event") and (
            getattr(actor, "kind", "") == "staff" or channel != "portal"):
        raise PermissionDenied
    errors: dict[str, list[str]] = {}
    if appeal_type not in AppealType.values:
        errors["appeal_type"] = [_("Choose one of 咨询, 求助, 投诉, 举报, 建议.")]
    if not description.strip():
        errors["description"] = [_("Describe the problem.")]
    if category is not None and not category.is_dispatchable:
        errors["category"] = [_("Choose a level-3 item of the dispatch catalog.")]
    if (lat is None) != (lon is None):
        errors["lat"] = [_("Give both latitude and longitude.")]
    if errors:
        raise ValidationError(errors)
    if source_ref:
        existing = Event.objects.filter(channel=channel, source_ref=source_ref).first()
        if existing is not None:
            return existing
    now = timezone.now()
    received_at = received_at or now
    if urgent is None:
        urgent = bool(category and category.urgency == Urgency.URGENT)
    calendar = WorkCalendar.load()
    unit, limit = limits_for(appeal_type, urgent)
    phone = reporter_phone.strip()
    response_clock = clock_start(unit=ClockUnit.HOURS,
                                 limit=settings.YIWANG_EVENT_RESPONSE_HOURS,
                                 at=received_at, calendar=calendar)
    clock = clock_start(unit=unit, limit=limit, at=received_at, calendar=calendar)
    dispatch_unit = district_unit()
    # The gap-free daily number locks its counter until the transaction commits, so it
    # is taken last: concurrent intakes wait for each other as briefly as possible.
    event = Event(
        number=event_number(received_at), channel=channel, source_ref=source_ref,
        appeal_type=appeal_type, urgent=urgent, title=(title or description)[:200].strip(),
        description=description.strip(), category=category, suggestions=suggestions or [],
        confidence=confidence, address=address.strip(), lat=lat, lon=lon,
        location_unit=location_unit, street=street,
        location_missing=location_unit is None, reporter=reporter,
        reporter_name=reporter_name.strip()[:100], reporter_phone=phone,
        reporter_phone_index=phone_index(phone) if phone else "", anonymous=anonymous,
        intake_by=actor if getattr(actor, "is_authenticated", False) else None,
        dispatch_unit=dispatch_unit, received_at=received_at,
        response_clock=response_clock, clock=clock)
    try:
        with transaction.atomic():
            event.save()
    except IntegrityError:  # the same delivery raced us: the first one stands
        return Event.objects.get(channel=channel, source_ref=source_ref)
    EventUpdate.objects.create(event=event, action="create", to_status=event.status,
                               actor=event.intake_by, public=True, at=now,
                               data={"channel": channel})
    audit_log(actor=actor if event.intake_by else None, action="events.event.create",
              obj=event, after={"channel": channel, "appeal_type": appeal_type,
                                "category": category.code if category else ""})
    if resolved_on_spot.strip():
        _close_on_spot(event, actor=actor, result=resolved_on_spot.strip())
    return event


def _close_on_spot(event: Event, *, actor: Any, result: str) -> None:
    now = timezone.now()
    event.status = S.CLOSED
    event.on_spot = True
    event.resolution = result
    event.responded_at = event.resolved_at = event.closed_at = now
    if event.intake_by and event.intake_by.org_unit_id:
        event.handler_unit = event.intake_by.org_unit
    for clock in (event.clock, event.response_clock):
        if clock is not None:
            clock_stop(clock, at=now)
    event.revision += 1
    _finish(event, actor=actor, name="close", previous=S.RECEIVED, note=result,
            data={"on_spot": True})


# --- dispatch -------------------------------------------------------------------------------

def level_of(unit: OrgUnit) -> str:
    return {OrgKind.DISTRICT: DispatchLevel.DISTRICT, OrgKind.STREET: DispatchLevel.STREET,
            OrgKind.COMMUNITY: DispatchLevel.COMMUNITY, OrgKind.GRID: DispatchLevel.COMMUNITY,
            }.get(unit.kind, DispatchLevel.DEPARTMENT)


def default_handler(event: Event) -> OrgUnit | None:
    """The unit the catalog implies: the street where it happens (territorial) or the
    department / enterprise mapped to the item."""
    category = event.category
    if category is None:
        return None
    if category.handler_type == HandlerType.TERRITORIAL:
        return event.street
    return category.handler_unit


def _check_target(dispatcher_unit: OrgUnit, unit: OrgUnit) -> None:
    if not unit.is_active:
        raise ValidationError({"unit": [_("This unit is no longer active.")]})
    if unit.pk == dispatcher_unit.pk:
        raise ValidationError({"unit": [_("Dispatch to another unit than your own centre.")]})


def event_dispatch(*, actor: Any, event: Event, unit: OrgUnit, note: str = "",
                   co_units: list[OrgUnit] | None = None,
                   expected_revision: int | None = None, system: bool = False) -> Event:
    """分拨: to a street, community, department or enterprise (the lead), with co-handlers.

    From the district centre's queue, or — once a street has signed for an event — from
    that street down to one of its communities.
    """
    with transaction.atomic():
        locked, previous = _begin(event=event, actor=actor, name="dispatch",
                                  expected_revision=expected_revision, system=system)
        centre = locked.dispatch_unit
        if previous == S.ACCEPTED:  # a street passes it down
            centre = locked.handler_unit
            if not unit.path.startswith(centre.path):
                raise ValidationError({"unit": [_("Pass it to a unit of your street.")]})
            Assignment.objects.filter(event=locked, unit=centre, role=AssignmentRole.LEAD,
                                      status=AssignmentStatus.ACCEPTED).update(
                status=AssignmentStatus.DONE, done_at=timezone.now())
            locked.dispatch_unit = centre
        _check_target(centre, unit)
        if locked.returns.filter(status=RequestStatus.PENDING, disputed=True).exists():
            raise ValidationError(_("A supervisor is reviewing the disputed return; "
                                    "dispatch it after the decision."))
        # Dispatching a returned event again is the dispatcher agreeing with the return.
        locked.returns.filter(status=RequestStatus.PENDING).update(
            status=RequestStatus.APPROVED, decided_by=None if system else actor,
            decided_at=timezone.now())
        locked.handler_unit = unit
        locked.dispatch_level = level_of(unit)
        locked.assigned_to = None
        locked.dispatched_at = locked.dispatched_at or timezone.now()
        Assignment.objects.create(event=locked, unit=unit, role=AssignmentRole.LEAD,
                                  level=level_of(unit), note=note,
                                  assigned_by=actor if not system else None)
        for co in co_units or []:
            _check_target(centre, co)
            Assignment.objects.create(event=locked, unit=co, role=AssignmentRole.CO,
                                      level=level_of(co), assigned_by=actor if not system
                                      else None)
        _finish(locked, actor=actor, name="dispatch", previous=previous, note=note, unit=unit,
                data={"unit": unit.code, "co": [c.code for c in co_units or []],
                      "auto": system})
        _notify_unit(unit, "events.handle_event", event=locked, template="event_dispatched",
                     key=f"event:{locked.pk}:{locked.revision}:dispatched")
    return locked


def event_accept(*, actor: Any, event: Event, expected_revision: int | None = None) -> Event:
    """签收: the lead unit takes the event on."""
    with transaction.atomic():
        locked, previous = _begin(event=event, actor=actor, name="accept",
                                  expected_revision=expected_revision)
        Assignment.objects.filter(event=locked, unit=locked.handler_unit,
                                  role=AssignmentRole.LEAD,
                                  status=AssignmentStatus.PENDING).update(
            status=AssignmentStatus.ACCEPTED, accepted_at=timezone.now())
        locked.assigned_to = actor
        return _finish(locked, actor=actor, name="accept", previous=previous,
                       unit=locked.handler_unit)


def event_start(*, actor: Any, event: Event, expected_revision: int | None = None) -> Event:
    with transaction.atomic():
        locked, previous = _begin(event=event, actor=actor, name="start",
                                  expected_revision=expected_revision)
        return _finish(locked, actor=actor, name="start", previous=previous,
                       unit=locked.handler_unit)


def event_contact(*, actor: Any, event: Event, note: str,
                  expected_revision: int | None = None) -> Event:
    """The first contact with the citizen stops the 24-hour response clock."""
    if not note.strip():
        raise ValidationError({"note": [_("Say how and what was agreed with the citizen.")]})
    with transaction.atomic():
        locked, previous = _begin(event=event, actor=actor, name="contact",
                                  expected_revision=expected_revision)
        if locked.responded_at is None:
            locked.responded_at = timezone.now()
            if locked.response_clock is not None:
                clock_stop(locked.response_clock, at=locked.responded_at)
        return _finish(locked, actor=actor, name="contact", previous=previous, note=note,
                       unit=locked.handler_unit)


def event_resolve(*, actor: Any, event: Event, result: str,
                  expected_revision: int | None = None) -> Event:
    """办结: the lead reports the result; the callback decides whether it is closed."""
    if not result.strip():
        raise ValidationError({"result": [_("Describe what was done.")]})
    with transaction.atomic():
        locked, previous = _begin(event=event, actor=actor, name="resolve",
                                  expected_revision=expected_revision)
        now = timezone.now()
        locked.resolution = result.strip()
        locked.resolved_at = now
        if locked.responded_at is None:
            locked.responded_at = now
            if locked.response_clock is not None:
                clock_stop(locked.response_clock, at=now)
        if locked.clock is not None:
            clock_stop(locked.clock, at=now)
        Assignment.objects.filter(event=locked, unit=locked.handler_unit,
                                  role=AssignmentRole.LEAD,
                                  status=AssignmentStatus.ACCEPTED).update(
            status=AssignmentStatus.DONE, done_at=now)
        return _finish(locked, actor=actor, name="resolve", previous=previous, note=result,
                       unit=locked.handler_unit)


# --- callback, close, reopen -----------------------------------------------------------------

def event_callback(*, actor: Any, event: Event, satisfaction: int, method: str,
                   note: str = "", expected_revision: int | None = None,
                   by_reporter: bool = False) -> Event:
    """回访: 满意 / 基本满意 close the event; the first 不满意 reopens it (重办); a second
    不满意 sends it to district supervision."""
    if satisfaction not in Satisfaction.values:
        raise ValidationError({"satisfaction": [_("Choose 满意, 基本满意 or 不满意.")]})
    with transaction.atomic():
        if by_reporter and (not policies.is_active_actor(actor)
                            or event.reporter_id != actor.pk):
            raise PermissionDenied
        locked, previous = _begin(event=event, actor=actor, name="callback",
                                  expected_revision=expected_revision, system=by_reporter)
        round_ = locked.callbacks.count() + 1
        Callback.objects.create(event=locked, round=round_, method=method,
                                satisfaction=satisfaction, note=note,
                                by=actor if getattr(actor, "is_authenticated", False) else None,
                                at=timezone.now())
        locked.satisfaction = satisfaction
        data = {"satisfaction": satisfaction, "round": round_}
        if satisfaction != Satisfaction.DISSATISFIED:
            locked.status = S.CLOSED
            locked.closed_at = timezone.now()
        elif locked.reopen_count == 0:
            _reopen(locked)
            data["reopened"] = True
        else:
            locked.supervised = True
            supervise_dissatisfied(locked, note)
            data["supervised"] = True
            _notify_unit(district_unit(), "events.supervise_event", event=locked,
                         template="event_supervised",
                         key=f"event:{locked.pk}:supervised:{round_}")
        return _finish(locked, actor=actor, name="callback", previous=previous, note=note,
                       data=data)


def supervise_dissatisfied(event: Event, note: str) -> None:
    """District supervision after a 不满意 that follows the 重办; once per event (a later
    不满意 adds to the timeline, not a second supervision)."""
    Supervision.objects.get_or_create(
        event=event, rule="second_dissatisfied",
        defaults={"kind": Supervision.Kind.SUPERVISE, "unit": district_unit(), "note": note,
                  "at": timezone.now()})


def _reopen(event: Event) -> None:
    """重办: back to the same lead unit with a fresh clock."""
    event.status = S.IN_PROGRESS
    event.reopen_count += 1
    event.resolved_at = None
    event.closed_at = None
    unit, limit = limits_for(event.appeal_type, event.urgent)
    event.clock = clock_start(unit=unit, limit=limit)
    event.time_state = "normal"
    if event.handler_unit_id:
        Assignment.objects.create(event=event, unit=event.handler_unit,
                                  role=AssignmentRole.LEAD, level=level_of(event.handler_unit),
                                  status=AssignmentStatus.ACCEPTED,
                                  accepted_at=timezone.now(), note="重办")


def event_close(*, actor: Any, event: Event, reason: str = "",
                expected_revision: int | None = None) -> Event:
    """Close without a callback (anonymous reporter, unreachable after attempts, or
    after supervision)."""
    if not reason.strip():
        raise ValidationError({"reason": [_("Say why it is closed without a callback.")]})
    with transaction.atomic():
        locked, previous = _begin(event=event, actor=actor, name="close",
                                  expected_revision=expected_revision)
        locked.closed_at = timezone.now()
        return _finish(locked, actor=actor, name="close", previous=previous, note=reason)


def event_reopen(*, actor: Any, event: Event, reason: str,
                 expected_revision: int | None = None) -> Event:
    with transaction.atomic():
        locked, previous = _begin(event=event, actor=actor, name="reopen", reason=reason,
                                  expected_revision=expected_revision)
        _reopen(locked)
        return _finish(locked, actor=actor, name="reopen", previous=previous, note=reason)


# --- returns, reassignment, co-handlers ------------------------------------------------------

def event_return(*, actor: Any, event: Event, reason: str,
                 expected_revision: int | None = None) -> Event:
    """退单: the handler sends it back to the dispatch centre's queue, with a reason."""
    with transaction.atomic():
        locked, previous = _begin(event=event, actor=actor, name="return", reason=reason,
                                  expected_revision=expected_revision)
        unit = locked.handler_unit
        ReturnRequest.objects.create(event=locked, unit=unit, reason=reason,
                                     requested_by=actor)
        Assignment.objects.filter(event=locked, unit=unit, role=AssignmentRole.LEAD,
                                  status__in=[AssignmentStatus.PENDING,
                                              AssignmentStatus.ACCEPTED]).update(
            status=AssignmentStatus.RETURNED, done_at=timezone.now())
        locked.handler_unit = None
        locked.assigned_to = None
        locked.return_count += 1
        _finish(locked, actor=actor, name="return", previous=previous, note=reason, unit=unit)
        _notify_unit(locked.dispatch_unit, "events.dispatch_event", event=locked,
                     template="event_returned",
                     key=f"event:{locked.pk}:{locked.revision}:returned")
    return locked


def event_dispute_return(*, actor: Any, event: Event, reason: str,
                         expected_revision: int | None = None) -> Event:
    """The dispatcher disagrees with a return: a supervisor reviews it."""
    with transaction.atomic():
        locked, previous = _begin(event=event, actor=actor, name="dispute_return",
                                  reason=reason, expected_revision=expected_revision)
        request = locked.returns.filter(status=RequestStatus.PENDING).latest("created_at")
        request.disputed = True
        request.decision = reason
        request.save(update_fields=["disputed", "decision"])
        return _finish(locked, actor=actor, name="dispute_return", previous=previous,
                       note=reason, data={"return": request.pk})


def event_decide_dispute(*, actor: Any, event: Event, uphold_return: bool, reason: str,
                         expected_revision: int | None = None) -> Event:
    """A supervisor decides: the return stands (the dispatcher re-dispatches), or it was
    wrong and the event goes straight back to the unit that returned it."""
    with transaction.atomic():
        locked, previous = _begin(event=event, actor=actor, name="decide_dispute",
                                  reason=reason, expected_revision=expected_revision)
        request = locked.returns.filter(status=RequestStatus.PENDING,
                                        disputed=True).latest("created_at")
        request.status = RequestStatus.APPROVED if uphold_return else RequestStatus.REFUSED
        request.decided_by = actor
        request.decided_at = timezone.now()
        request.decision = f"{request.decision}\n{reason}".strip()
        request.save()
        if not uphold_return:
            locked.status = S.DISPATCHED
            locked.handler_unit = request.unit
            locked.dispatch_level = level_of(request.unit)
            Assignment.objects.create(event=locked, unit=request.unit,
                                      role=AssignmentRole.LEAD, level=level_of(request.unit),
                                      assigned_by=actor, note=reason)
        return _finish(locked, actor=actor, name="decide_dispute", previous=previous,
                       note=reason, data={"return_upheld": uphold_return})


def event_reassign(*, actor: Any, event: Event, unit: OrgUnit, reason: str,
                   expected_revision: int | None = None) -> Event:
    """改派: the dispatch centre moves the lead to another unit."""
    with transaction.atomic():
        locked, previous = _begin(event=event, actor=actor, name="reassign", reason=reason,
                                  expected_revision=expected_revision)
        _check_target(locked.dispatch_unit, unit)
        if unit.pk == locked.handler_unit_id:
            raise ValidationError({"unit": [_("The event is already with this unit.")]})
        Assignment.objects.filter(event=locked, role=AssignmentRole.LEAD,
                                  status__in=[AssignmentStatus.PENDING,
                                              AssignmentStatus.ACCEPTED]).update(
            status=AssignmentStatus.WITHDRAWN, done_at=timezone.now())
        Assignment.objects.create(event=locked, unit=unit, role=AssignmentRole.LEAD,
                                  level=level_of(unit), assigned_by=actor, note=reason)
        locked.handler_unit = unit
        locked.dispatch_level = level_of(unit)
        locked.assigned_to = None
        locked.reassign_count += 1
        _finish(locked, actor=actor, name="reassign", previous=previous, note=reason,
                unit=unit, data={"unit": unit.code})
        _notify_unit(unit, "events.handle_event", event=locked, template="event_dispatched",
                     key=f"event:{locked.pk}:{locked.revision}:dispatched")
    return locked


def event_add_co_handler(*, actor: Any, event: Event, unit: OrgUnit, note: str = "",
                         expected_revision: int | None = None) -> Event:
    with transaction.atomic():
        locked, previous = _begin(event=event, actor=actor, name="add_co_handler",
                                  expected_revision=expected_revision)
        _check_target(locked.dispatch_unit, unit)
        if locked.assignments.filter(unit=unit).exclude(
                status__in=[AssignmentStatus.RETURNED, AssignmentStatus.WITHDRAWN]).exists():
            raise ValidationError({"unit": [_("This unit already works on the event.")]})
        Assignment.objects.create(event=locked, unit=unit, role=AssignmentRole.CO,
                                  level=level_of(unit), assigned_by=actor, note=note)
        _finish(locked, actor=actor, name="add_co_handler", previous=previous, note=note,
                unit=unit, data={"unit": unit.code})
        _notify_unit(unit, "events.handle_event", event=locked, template="event_dispatched",
                     key=f"event:{locked.pk}:{locked.revision}:co")
    return locked


def event_co_done(*, actor: Any, event: Event, note: str,
                  expected_revision: int | None = None) -> Event:
    """A co-handler reports its part done (the lead still resolves the event)."""
    if not note.strip():
        raise ValidationError({"note": [_("Describe what your unit did.")]})
    with transaction.atomic():
        locked, previous = _begin(event=event, actor=actor, name="co_done",
                                  expected_revision=expected_revision)
        mine = [a for a in locked.assignments.filter(
            role=AssignmentRole.CO, status__in=[AssignmentStatus.PENDING,
                                                AssignmentStatus.ACCEPTED]
        ).select_related("unit") if policies.in_scope(actor, a.unit.path)]
        for assignment in mine:
            assignment.status = AssignmentStatus.DONE
            assignment.done_at = timezone.now()
            assignment.note = note
            assignment.save(update_fields=["status", "done_at", "note"])
        return _finish(locked, actor=actor, name="co_done", previous=previous, note=note,
                       unit=mine[0].unit if mine else None)


# --- extension --------------------------------------------------------------------------------

def event_request_extension(*, actor: Any, event: Event, days: int, reason: str,
                            expected_revision: int | None = None) -> Event:
    if not 1 <= days <= settings.YIWANG_EVENT_MAX_EXTENSION_DAYS:
        raise ValidationError({"days": [
            _("Ask for 1 to %(max)d working days.")
            % {"max": settings.YIWANG_EVENT_MAX_EXTENSION_DAYS}]})
    with transaction.atomic():
        locked, previous = _begin(event=event, actor=actor, name="request_extension",
                                  reason=reason, expected_revision=expected_revision)
        if locked.extensions.filter(status=RequestStatus.PENDING).exists():
            raise TransitionError(_("An extension request is already waiting."),
                                  code="bad_state")
        ExtensionRequest.objects.create(event=locked, days=days, reason=reason,
                                        requested_by=actor)
        _finish(locked, actor=actor, name="request_extension", previous=previous,
                note=reason, data={"days": days})
        _notify_unit(locked.dispatch_unit, "events.dispatch_event", event=locked,
                     template="event_extension_requested",
                     key=f"event:{locked.pk}:{locked.revision}:extension")
    return locked


def event_decide_extension(*, actor: Any, event: Event, approve: bool, note: str = "",
                           expected_revision: int | None = None) -> Event:
    with transaction.atomic():
        locked, previous = _begin(event=event, actor=actor, name="decide_extension",
                                  expected_revision=expected_revision)
        request = locked.extensions.get(status=RequestStatus.PENDING)
        if request.requested_by_id == actor.pk:
            raise PermissionDenied
        request.status = RequestStatus.APPROVED if approve else RequestStatus.REFUSED
        request.decided_by, request.decided_at, request.decision = actor, timezone.now(), note
        request.save()
        if approve and locked.clock is not None:
            clock = locked.clock
            calendar = WorkCalendar.load()
            clock.limit += request.days
            clock.due_at = calendar.add_working_days(clock.due_at, request.days)
            clock.save(update_fields=["limit", "due_at"])
            locked.time_state = "normal"
            locked.extension_count += 1
        return _finish(locked, actor=actor, name="decide_extension", previous=previous,
                       note=note, data={"approved": approve, "days": request.days})


# --- merge, summons, escalation, urging ------------------------------------------------------

def event_merge(*, actor: Any, event: Event, into: Event, reason: str,
                expected_revision: int | None = None) -> Event:
    """并单: the duplicate follows the main event; both records are kept."""
    if into.pk == event.pk or into.status in (S.MERGED,):
        raise ValidationError({"into": [_("Merge into another open event.")]})
    if not may(actor, into, "merge"):
        raise PermissionDenied
    with transaction.atomic():
        locked, previous = _begin(event=event, actor=actor, name="merge", reason=reason,
                                  expected_revision=expected_revision)
        locked.merged_into = into
        locked.closed_at = timezone.now()
        for clock in (locked.clock, locked.response_clock):
            if clock is not None and clock.stopped_at is None:
                clock_stop(clock)
        _finish(locked, actor=actor, name="merge", previous=previous, note=reason,
                data={"into": into.number})
        EventUpdate.objects.create(event=into, action="merged_in", actor=actor,
                                   note=reason, data={"from": locked.number},
                                   at=timezone.now())
    return locked


def event_summon(*, actor: Any, event: Event, kind: str, units: list[OrgUnit],
                 subject: str, hours: int, expected_revision: int | None = None) -> Summons:
    """吹哨报到 / 会商: each called unit must respond by the deadline."""
    if not units:
        raise ValidationError({"units": [_("Choose the units to call.")]})
    if not 1 <= hours <= 24 * 15:
        raise ValidationError({"hours": [_("Give a deadline between 1 hour and 15 days.")]})
    with transaction.atomic():
        locked, previous = _begin(event=event, actor=actor, name="summon", reason=subject,
                                  expected_revision=expected_revision)
        caller_unit = policies.scope_unit(actor)
        summons = Summons.objects.create(
            event=locked, kind=kind, caller_unit=caller_unit, subject=subject,
            due_at=timezone.now() + dt.timedelta(hours=hours), created_by=actor)
        SummonsResponse.objects.bulk_create(
            [SummonsResponse(summons=summons, unit=u) for u in units])
        _finish(locked, actor=actor, name="summon", previous=previous, note=subject,
                data={"kind": kind, "units": [u.code for u in units], "hours": hours})
        for unit in units:
            _notify_unit(unit, "events.handle_event", event=locked, template="event_summoned",
                         key=f"summons:{summons.pk}:{unit.pk}",
                         context={"subject": subject})
    return summons


@transaction.atomic
def summons_respond(*, actor: Any, response: SummonsResponse, text: str) -> SummonsResponse:
    locked = SummonsResponse.objects.select_for_update().select_related(
        "unit", "summons__event").get(pk=response.pk)
    if not (policies.has_perm(actor, "events.handle_event")
            and policies.in_scope(actor, locked.unit.path)):
        raise PermissionDenied
    if locked.responded_at is not None:
        raise TransitionError(_("Your unit has already responded."), code="bad_state")
    if not text.strip():
        raise ValidationError({"response": [_("Write your unit's response.")]})
    locked.response, locked.responded_by, locked.responded_at = text, actor, timezone.now()
    locked.save()
    event = locked.summons.event
    EventUpdate.objects.create(event=event, action="summons_response", actor=actor,
                               unit=locked.unit, note=text, at=locked.responded_at)
    audit_log(actor=actor, action="events.summons.respond", obj=locked,
              after={"event": event.number})
    return locked


def event_escalate(*, actor: Any, event: Event, reason: str,
                   expected_revision: int | None = None, system: bool = False) -> Event:
    """提级: to the dispatch centre one level up, back in its queue."""
    with transaction.atomic():
        locked, previous = _begin(event=event, actor=actor, name="escalate", reason=reason,
                                  expected_revision=expected_revision, system=system)
        parent = locked.dispatch_unit.parent
        Assignment.objects.filter(event=locked, status__in=[
            AssignmentStatus.PENDING, AssignmentStatus.ACCEPTED]).update(
            status=AssignmentStatus.WITHDRAWN, done_at=timezone.now())
        locked.dispatch_unit = parent
        locked.handler_unit = None
        locked.assigned_to = None
        locked.escalated = True
        Supervision.objects.create(event=locked, kind=Supervision.Kind.ESCALATE, unit=parent,
                                   note=reason, by=actor if not system else None,
                                   at=timezone.now())
        _finish(locked, actor=actor, name="escalate", previous=previous, note=reason,
                unit=parent, data={"to": parent.code})
        _notify_unit(parent, "events.dispatch_event", event=locked,
                     template="event_escalated",
                     key=f"event:{locked.pk}:{locked.revision}:escalated")
    return locked


def event_urge(*, actor: Any, event: Event, reason: str, rule: str = "",
               system: bool = False) -> Supervision | None:
    """催办: a notice to the handling unit; automatic ones once per rule."""
    with transaction.atomic():
        locked, previous = _begin(event=event, actor=actor, name="urge", reason=reason,
                                  system=system)
        target = locked.handler_unit or locked.dispatch_unit
        try:
            with transaction.atomic():
                supervision = Supervision.objects.create(
                    event=locked, kind=Supervision.Kind.URGE, unit=target, rule=rule,
                    note=reason, by=actor if not system else None, at=timezone.now())
        except IntegrityError:
            return None  # this rule has urged this event already
        locked.supervised = True
        _finish(locked, actor=actor, name="urge", previous=previous, note=reason,
                unit=target, data={"rule": rule})
        perm = "events.handle_event" if locked.handler_unit_id else "events.dispatch_event"
        _notify_unit(target, perm, event=locked, template="event_urged",
                     key=f"supervision:{supervision.pk}")
    return supervision


# --- 内外双循环 --------------------------------------------------------------------------------

def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def event_send_external(*, actor: Any, event: Event, party: ResponsibleParty,
                        expected_revision: int | None = None,
                        system: bool = False) -> tuple[Event, str]:
    """The external loop: the responsible party gets an SMS link and a deadline; returns
    the event and the link's secret token (only its hash is stored)."""
    if not party.active:
        raise ValidationError({"party": [_("This party is no longer registered.")]})
    with transaction.atomic():
        locked, previous = _begin(event=event, actor=actor, name="send_external",
                                  expected_revision=expected_revision, system=system)
        token = secrets.token_urlsafe(24)
        calendar = WorkCalendar.load()
        due = calendar.add_working_days(timezone.now(), settings.YIWANG_EXTERNAL_LOOP_DAYS)
        task = ExternalTask.objects.create(event=locked, party=party, token=token,
                                           token_hash=_token_hash(token), due_at=due)
        _finish(locked, actor=actor, name="send_external", previous=previous,
                data={"party": party.name, "due_at": due.isoformat()})
        transaction.on_commit(lambda: external_notify(task_ids=[task.pk]))
    return locked, token


def external_notify(*, task_ids: list[int] | None = None) -> int:
    """Send the SMS link to parties not told yet (after commit, and from the sweep, so a
    gateway outage delays the message but never loses it)."""
    from yiwang.core.senders import DeliveryError, sms_gateway

    tasks = ExternalTask.objects.filter(status=ExternalTask.Status.SENT, notified_at=None)
    if task_ids is not None:
        tasks = tasks.filter(pk__in=task_ids)
    sent = 0
    for task in tasks.select_related("event", "party"):
        text = _("Event %(number)s at %(address)s needs your action by %(due)s: %(url)s") % {
            "number": task.event.number, "address": task.event.address or "-",
            "due": timezone.localtime(task.due_at).strftime("%m-%d %H:%M"),
            "url": f"{settings.YIWANG_PUBLIC_URL}/events/external/{task.token}/"}
        try:
            sms_gateway().send(phone=task.party.phone, text=text, out_id=f"external:{task.pk}")
        except DeliveryError:
            continue  # the sweep tries again
        ExternalTask.objects.filter(pk=task.pk).update(notified_at=timezone.now())
        sent += 1
    return sent


def external_task_for(token: str) -> ExternalTask | None:
    return ExternalTask.objects.select_related("event", "party").filter(
        token_hash=_token_hash(token)).first()


@transaction.atomic
def external_respond(*, token: str, fixed: bool, response: str) -> Event:
    """The party reports through its link; fixed → resolved, waiting for the callback."""
    task = external_task_for(token)
    if task is None:
        raise PermissionDenied
    task = ExternalTask.objects.select_for_update().get(pk=task.pk)
    if task.status != ExternalTask.Status.SENT or task.due_at < timezone.now():
        raise TransitionError(_("This link is no longer open."), code="bad_state")
    if not response.strip():
        raise ValidationError({"response": [_("Describe what you did.")]})
    event = Event.objects.select_for_update(of=("self",)).get(pk=task.event_id)
    task.response, task.responded_at = response.strip(), timezone.now()
    if not fixed:
        task.save(update_fields=["response", "responded_at"])
        EventUpdate.objects.create(event=event, action="external_reply", note=response,
                                   at=task.responded_at)
        return event
    task.status = ExternalTask.Status.FIXED
    task.save(update_fields=["response", "responded_at", "status"])
    previous = event.status
    event.status = S.RESOLVED
    event.resolution = response.strip()
    event.resolved_at = event.responded_at = task.responded_at
    event.revision += 1
    for clock in (event.clock, event.response_clock):
        if clock is not None and clock.stopped_at is None:
            clock_stop(clock, at=task.responded_at)
    return _finish(event, actor=None, name="external_fixed", previous=previous,
                   note=response, data={"party": task.party.name})


def external_expire(*, at: dt.datetime | None = None) -> int:
    """Periodic: a party that did not fix it in time → an internal enforcement event for
    the department (linked; the first event follows it as merged)."""
    at = at or timezone.now()
    count = 0
    for task in ExternalTask.objects.filter(status=ExternalTask.Status.SENT, due_at__lt=at
                                            ).select_related("event__category", "party"):
        with transaction.atomic():
            task = ExternalTask.objects.select_for_update().get(pk=task.pk)
            if task.status != ExternalTask.Status.SENT:
                continue
            first = Event.objects.select_for_update(of=("self",)).select_related(
                "category").get(pk=task.event_id)
            internal = event_create(
                actor=None, system=True, channel=first.channel, appeal_type=first.appeal_type,
                title=first.title, description=_(
                    "Not fixed by %(party)s within the deadline (内外双循环). Original report: "
                    "%(text)s") % {"party": task.party.name, "text": first.description},
                category=first.category, confidence=first.confidence, address=first.address,
                lat=first.lat, lon=first.lon, location_unit=first.location_unit,
                street=first.street, reporter=first.reporter,
                reporter_name=first.reporter_name, reporter_phone=first.reporter_phone,
                anonymous=first.anonymous)
            internal.external_of = first
            internal.save(update_fields=["external_of"])
            task.status = ExternalTask.Status.EXPIRED
            task.internal_event = internal
            task.save(update_fields=["status", "internal_event"])
            previous = first.status
            first.status = S.MERGED
            first.merged_into = internal
            first.revision += 1
            _finish(first, actor=None, name="internal", previous=previous,
                    note=_("Passed to enforcement as %(number)s.") % {"number": internal.number},
                    data={"internal": internal.number})
            unit = default_handler(internal)
            if unit is not None and category_ready(internal.category):
                event_dispatch(actor=None, event=internal, unit=unit, system=True,
                               note=_("Enforcement after the external loop."))
            count += 1
    return count


def category_ready(category: Category | None) -> bool:
    return bool(category is not None and category.is_dispatchable)
