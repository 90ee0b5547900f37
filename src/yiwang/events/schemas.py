"""Schemas of the 一网统管 JSON API: ``<Entity>In`` / ``<Entity>Out``, named after the glossary.

The reporter's phone leaves the API masked unless the caller reported the event; staff who
must call the citizen reveal it on the event page (audited). Citizens see the public steps
of their events' timelines only, without the names of the staff who acted.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, Any, Literal

from django.conf import settings
from ninja import Field, Schema
from pydantic import BeforeValidator

from yiwang.core.schemas import Id, IsoDateTime, OrgUnitRef, json_integer, json_number
from yiwang.core.validators import mask_name, mask_phone

from .models import AppealType, Channel, EventStatus, TimeState


def _api_enum(name: str, choices: type[enum.Enum]) -> type[enum.StrEnum]:
    """The choices under a name of their own in the OpenAPI document: ``services`` has
    its own ``Channel`` and ``TimeState``, and components are keyed by class name."""
    return enum.StrEnum(name, {member.name: member.value for member in choices})  # type: ignore[return-value]


EventChannel = _api_enum("EventChannel", Channel)
EventTimeState = _api_enum("EventTimeState", TimeState)

NOT_BLANK = r"\S"
EVENT_NUMBER_PATTERN = r"^[0-9]{1,32}$"
UNIT_CODE = Annotated[str, Field(min_length=1, max_length=18, pattern=r"^[0-9A-Za-z]+$",
                                 description="Org unit code", examples=["440399001000"])]
Text = Annotated[str, Field(min_length=1, max_length=4000, pattern=NOT_BLANK)]
Reason = Annotated[str, Field(min_length=1, max_length=2000, pattern=NOT_BLANK,
                              description="Kept in the timeline and the audit log")]
Note = Annotated[str, Field(max_length=2000)]
Lat = Annotated[float, Field(ge=-90, le=90, description="WGS 84 latitude"),
                BeforeValidator(json_number)]
Lon = Annotated[float, Field(ge=-180, le=180, description="WGS 84 longitude"),
                BeforeValidator(json_number)]


def _viewer(context: Any) -> Any:
    request = (context or {}).get("request")
    return getattr(request, "user", None)


def _is_staff(viewer: Any) -> bool:
    return getattr(viewer, "kind", "") == "staff"


# --- the dispatch catalog -------------------------------------------------------------


PHONE_PATTERN = r"^$|^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})$"


class CategoryRef(Schema):
    code: str = Field(examples=["010101"])
    name: str = Field(examples=["占道经营"])


class CategoryOut(Schema):
    """A node of the published dispatch catalog (派单目录); only level 3 is dispatched."""

    code: str = Field(examples=["010101"])
    level: int = Field(ge=1, le=3)
    parent_code: str | None
    name: str = Field(examples=["占道经营"])
    name_en: str
    handler_type: str = Field(description="territorial (属地), functional (条线), "
                                          "enterprise; empty above level 3")
    default_handler: str = Field(description="The catalog's handler name")
    handler_unit: OrgUnitRef | None = Field(description="The org unit it is mapped to "
                                                        "(functional and enterprise items)")
    urgency: str = Field(description="normal or urgent")
    appeal_types: list[str] = Field(description="Typical appeal types, most typical first")
    keywords: list[str]
    external_loop: bool = Field(description="A responsible party is asked first (内外双循环)")

    @staticmethod
    def resolve_parent_code(obj: Any) -> str | None:
        return obj.parent.code if obj.parent_id else None

    @staticmethod
    def resolve_handler_unit(obj: Any) -> Any:
        return obj.handler_unit if obj.handler_unit_id else None


class CategoryDetailOut(CategoryOut):
    ancestors: list[CategoryRef] = Field(description="Level 1 first")
    children: list[CategoryRef]

    @staticmethod
    def resolve_children(obj: Any) -> list[Any]:
        return list(getattr(obj, "children_list", []))


# --- classification -------------------------------------------------------------------


class ClassifyIn(Schema):
    text: Text = Field(description="What the citizen said or wrote",
                       examples=["小区门口有人摆摊占道，晚上很吵"])
    lat: Lat | None = None
    lon: Lon | None = None


class HandlerRef(Schema):
    code: str
    name: str


class ClassifyItemOut(Schema):
    code: str = Field(examples=["010101"])
    name: str = Field(examples=["占道经营"])
    score: float = Field(ge=0, le=1)
    handler_type: str
    handler: HandlerRef | str | None = Field(
        description="The unit the item implies: {code, name} of a department or enterprise, "
                    "or \"territorial: <street>\" (the street of the point, when given)")


class ClassifyOut(Schema):
    items: list[ClassifyItemOut] = Field(description="Best first")
    street: OrgUnitRef | None = Field(description="The street of the point, if given")
    model: str = Field(description="keywords, or the trained model's version (model v3)")


# --- events -----------------------------------------------------------------------------


class DeadlineStateOut(Schema):
    unit: str = Field(description="workdays or hours")
    limit: int
    started_at: dt.datetime
    due_at: dt.datetime
    stopped_at: dt.datetime | None


class EventOut(Schema):
    """One event (民生诉求 / 工单) in a list."""

    number: str = Field(examples=["440399202611220000123"])
    channel: EventChannel  # type: ignore[valid-type]
    appeal_type: AppealType
    urgent: bool
    title: str
    status: EventStatus
    status_label: str
    time_state: EventTimeState = Field(  # type: ignore[valid-type]
        description="normal, warning (due soon) or overdue")
    category: CategoryRef | None
    address: str
    street: OrgUnitRef | None
    handler_unit: OrgUnitRef | None = Field(description="The lead handler (主办)")
    received_at: dt.datetime
    due_at: dt.datetime | None = Field(description="Resolution deadline")
    revision: int = Field(description="Send it back with an action (optimistic locking)")

    @staticmethod
    def resolve_status_label(obj: Any) -> str:
        return str(EventStatus(obj.status).label)

    @staticmethod
    def resolve_category(obj: Any) -> Any:
        return obj.category if obj.category_id else None

    @staticmethod
    def resolve_street(obj: Any) -> Any:
        return obj.street if obj.street_id else None

    @staticmethod
    def resolve_handler_unit(obj: Any) -> Any:
        return obj.handler_unit if obj.handler_unit_id else None

    @staticmethod
    def resolve_due_at(obj: Any) -> dt.datetime | None:
        return obj.clock.due_at if obj.clock_id else None


class AssignmentOut(Schema):
    unit: OrgUnitRef
    role: str = Field(description="lead (主办) or co (协办)")
    level: str
    status: str = Field(description="pending, accepted, done, returned or withdrawn")
    note: str
    created_at: dt.datetime
    accepted_at: dt.datetime | None
    done_at: dt.datetime | None


class EventActionOut(Schema):
    name: str = Field(examples=["accept"], description="The transition")
    label: str = Field(examples=["签收"])
    path: str = Field(examples=["/api/events/440399202611220000123/accept"],
                      description="POST here with the event's revision")


class PendingRequestOut(Schema):
    kind: str = Field(description="return (退单) or extension (延期)")
    reason: str
    days: int | None = Field(description="Extensions: working days asked for")
    disputed: bool
    created_at: dt.datetime


class EventDetailOut(EventOut):
    """An event with its deadlines, assignments and what the caller may do now."""

    description: str
    lat: float | None
    lon: float | None
    location_unit: OrgUnitRef | None = Field(description="Finest unit: grid or community")
    location_missing: bool = Field(description="The dispatcher must check the location")
    dispatch_unit: OrgUnitRef = Field(description="The dispatch centre of its queue")
    dispatch_level: str
    reporter_name: str = Field(description="Masked but for the reporter")
    reporter_phone: str = Field(description="Masked but for the reporter")
    anonymous: bool
    suggestions: list[dict[str, Any]] = Field(description="Classification suggestions "
                                                          "(staff only)")
    confidence: float | None
    resolution: str
    satisfaction: int | None = Field(description="3 满意, 2 基本满意, 1 不满意")
    reopen_count: int
    return_count: int
    reassign_count: int
    escalated: bool
    supervised: bool
    merged_into: str | None = Field(description="Number of the main event (并单)")
    responded_at: dt.datetime | None
    dispatched_at: dt.datetime | None
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None
    response_deadline: DeadlineStateOut | None = Field(
        description="First contact with the citizen (24 hours by default)")
    deadline: DeadlineStateOut | None = Field(description="Resolution deadline")
    assignments: list[AssignmentOut]
    pending: list[PendingRequestOut] = Field(description="Returns and extension requests "
                                                         "waiting for a decision (staff)")
    allowed_actions: list[EventActionOut] = Field(description="What you may do now")

    @staticmethod
    def resolve_location_unit(obj: Any) -> Any:
        return obj.location_unit if obj.location_unit_id else None

    @staticmethod
    def resolve_reporter_name(obj: Any, context: Any) -> str:
        viewer = _viewer(context)
        if obj.anonymous and getattr(viewer, "pk", None) != obj.reporter_id:
            return ""
        if viewer is not None and obj.reporter_id and viewer.pk == obj.reporter_id:
            return str(obj.reporter_name)
        return mask_name(obj.reporter_name) if obj.reporter_name else ""

    @staticmethod
    def resolve_reporter_phone(obj: Any, context: Any) -> str:
        viewer = _viewer(context)
        phone = str(obj.reporter_phone or "")
        if not phone:
            return ""
        if viewer is not None and obj.reporter_id and viewer.pk == obj.reporter_id:
            return phone
        if obj.anonymous:
            return ""
        return mask_phone(phone)

    @staticmethod
    def resolve_suggestions(obj: Any, context: Any) -> list[dict[str, Any]]:
        return list(obj.suggestions or []) if _is_staff(_viewer(context)) else []

    @staticmethod
    def resolve_confidence(obj: Any, context: Any) -> float | None:
        return obj.confidence if _is_staff(_viewer(context)) else None

    @staticmethod
    def resolve_assignments(obj: Any) -> list[Any]:
        found = getattr(obj, "assignments_list", None)
        if found is None:
            found = list(obj.assignments.select_related("unit").order_by("created_at", "id"))
        return list(found)

    @staticmethod
    def resolve_pending(obj: Any) -> list[Any]:
        return list(getattr(obj, "pending", []))

    @staticmethod
    def resolve_allowed_actions(obj: Any) -> list[Any]:
        return list(getattr(obj, "allowed_actions", []))

    @staticmethod
    def resolve_merged_into(obj: Any) -> str | None:
        return obj.merged_into.number if obj.merged_into_id else None

    @staticmethod
    def resolve_response_deadline(obj: Any) -> Any:
        return obj.response_clock if obj.response_clock_id else None

    @staticmethod
    def resolve_deadline(obj: Any) -> Any:
        return obj.clock if obj.clock_id else None


class EventIn(Schema):
    """A new event. Staff register hotline (12345) or grid reports (``events.intake_event``);
    citizens report for themselves through the portal channel."""

    description: Text = Field(examples=["和平路1号餐馆把桌椅摆到人行道上，行人只能走机动车道"])
    title: str = Field("", max_length=200)
    appeal_type: AppealType | None = Field(
        None, description="Default: the item's most typical appeal type")
    category_code: str | None = Field(
        None, pattern=r"^[0-9]{6}$", description="A level-3 item of the published catalog; "
                                                 "default: classified from the text")
    urgent: bool | None = Field(None, description="Default: the item's urgency")
    address: str = Field("", max_length=300)
    lat: Lat | None = None
    lon: Lon | None = None
    channel: Literal["hotline", "grid"] | None = Field(
        None, description="Staff: hotline or grid (default: grid for grid workers); "
                          "citizens always report through the portal")
    reporter_name: str = Field("", max_length=100, description="Staff: the caller's name")
    reporter_phone: str = Field("", max_length=20, pattern=PHONE_PATTERN,
                                description="Staff: the caller's number")
    anonymous: bool = False


class EventUpdateOut(Schema):
    """One step of an event's timeline."""

    action: str = Field(examples=["dispatch"])
    from_status: str
    to_status: str
    actor: str = Field(description="Who acted (for citizens: the unit, not the person)")
    unit: OrgUnitRef | None
    note: str
    public: bool = Field(description="Shown to the citizen")
    data: dict[str, Any]
    at: dt.datetime


# --- transitions ------------------------------------------------------------------------

Revision = Annotated[int, Field(ge=0, le=2**31 - 1, description=(
    "The event's revision you saw; 409 when it changed meanwhile")),
    BeforeValidator(json_integer)]


class EventRevisionIn(Schema):
    revision: Revision


class EventReasonIn(EventRevisionIn):
    reason: Reason


class NoteIn(EventRevisionIn):
    note: Annotated[str, Field(min_length=1, max_length=2000, pattern=NOT_BLANK)]


class DispatchIn(EventRevisionIn):
    unit: UNIT_CODE = Field(description="The lead handler (主办)")
    co_units: list[UNIT_CODE] = Field(default_factory=list, max_length=10,
                                      description="Co-handlers (协办)")
    note: Note = ""


class ResolveIn(EventRevisionIn):
    result: Text = Field(description="What was done (办结)")


class EventCallbackIn(EventRevisionIn):
    satisfaction: Annotated[int, Field(ge=1, le=3, description="3 满意, 2 基本满意, 1 不满意"),
                            BeforeValidator(json_integer)]
    method: Literal["phone", "sms", "portal"] = Field(
        "phone", description="Staff: how the citizen was asked; citizens: always portal")
    note: Note = ""


class DecideDisputeIn(EventReasonIn):
    uphold_return: bool = Field(description="true: the return stands; false: back to the "
                                            "unit that returned it")


class ReassignIn(EventReasonIn):
    unit: UNIT_CODE = Field(description="The new lead handler")


class CoHandlerIn(EventRevisionIn):
    unit: UNIT_CODE
    note: Note = ""


class ExtensionIn(EventReasonIn):
    days: Annotated[int, Field(ge=1, le=settings.YIWANG_EVENT_MAX_EXTENSION_DAYS,
                               description="Extra working days"),
                    BeforeValidator(json_integer)]


class EventExtensionDecisionIn(EventRevisionIn):
    approve: bool
    note: Note = ""


class MergeIn(EventReasonIn):
    into: str = Field(pattern=EVENT_NUMBER_PATTERN, description="The main event's number")


class SummonsIn(EventRevisionIn):
    kind: Literal["summons", "consult"] = Field(
        "summons", description="summons (吹哨报到) or consult (会商)")
    units: list[UNIT_CODE] = Field(min_length=1, max_length=20)
    subject: Reason = Field(description="What they must answer")
    hours: Annotated[int, Field(ge=1, le=24 * 15, description="Respond within"),
                     BeforeValidator(json_integer)] = 24


class SendExternalIn(EventRevisionIn):
    party: Id = Field(description="Id of a registered responsible party")


# --- intake channels --------------------------------------------------------------------


class ImportErrorOut(Schema):
    row: int = Field(description="1 is the first record (CSV: the line after the header)")
    field: str
    message: str


class ImportReportOut(Schema):
    """What an online-opinion feed import did; rows with errors are skipped, the rest kept."""

    total: int
    created: int
    duplicates: int = Field(description="Already imported (same URL): left unchanged")
    errors: list[ImportErrorOut]
    events: list[str] = Field(description="Numbers of the events created")


class VideoAIDetectionIn(Schema):
    camera_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    detection_type: str = Field(min_length=1, max_length=40,
                                description="A scene of YIWANG_VIDEO_AI_CATEGORIES, e.g. "
                                            "illegal_parking or 机动车违停")
    confidence: Annotated[float, Field(ge=0, le=1), BeforeValidator(json_number)]
    snapshot: str = Field("", max_length=2_000_000,
                          description="A base64 JPEG/PNG (kept as the event's photo), or an "
                                      "https URL (kept as text, never fetched)")
    detected_at: IsoDateTime = Field(description="When the camera saw it (ISO 8601)")
    lat: Lat | None = None
    lon: Lon | None = None
    address: str = Field("", max_length=300)
    delivery_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$",
                             description="Unique per delivery; a repeat changes nothing")


class VideoAIOut(Schema):
    status: Literal["created", "folded", "duplicate", "dropped"]
    event: str | None = Field(description="The event's number")
    detections: int = Field(description="Detections folded into the event so far")
    reason: str



# --- figures (考核指标) ---------------------------------------------------------------------


class EventFiguresRowOut(Schema):
    """One row of the figures; rates are fractions (0.9731), null when nothing to divide."""

    key: str = Field(description="Unit / street / category code, channel, or the first day "
                                 "of the period; '' for events without one")
    label: str
    received: int = Field(description="Received in the period, merged duplicates left out")
    on_spot: int = Field(description="直接办结: resolved at intake, left out of the rates")
    handled: int = Field(description="received − on_spot")
    response_due: int
    responded_on_time: int
    response_rate: float | None = Field(description="responded_on_time ÷ response_due")
    resolved: int
    resolution_rate: float | None = Field(description="resolved ÷ handled")
    resolved_on_time: int
    on_time_rate: float | None = Field(description="resolved_on_time ÷ resolved")
    avg_handling_hours: float | None = Field(
        description="Natural hours from receipt to resolution, averaged over the resolved")
    callbacks: int
    satisfied: int = Field(description="满意 + 基本满意 callbacks")
    satisfaction_rate: float | None = Field(description="satisfied ÷ callbacks")
    returns: int = Field(description="退单, counted for the returning unit")
    reassigns: int = Field(description="改派, counted for the unit the lead was taken from")
    extensions: int
    reopened: int
    overdue_open: int
    merged: int


class EventFiguresOut(Schema):
    start: dt.date
    end: dt.date = Field(description="Inclusive")
    by: str
    rows: list[EventFiguresRowOut] = Field(description="In code (or time) order; never "
                                                       "ranked by a figure")
    total: EventFiguresRowOut
