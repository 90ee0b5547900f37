"""回访 by SMS link: a reporter without an account rates the result from a signed link.

The link carries the event number and the callback round, signed with
``django.core.signing`` (a salt of its own and a maximum age), so no token table is
needed: a tampered link fails the signature (404), an old one is expired, and a round
that was already answered is used up (``Callback`` allows one answer per round). The
staff or SMS side calls ``callback_link_for(event)`` once the event is resolved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from . import services
from .models import Callback, Event, EventStatus, Satisfaction

SALT = "yiwang.events.callback-link"
# How long a callback link stays open (days); the SMS says so.
MAX_AGE_DAYS = int(getattr(settings, "YIWANG_CALLBACK_LINK_DAYS", 7))


def callback_token(event: Event) -> str:
    """The signed token of the next callback round of ``event``."""
    round_ = event.callbacks.count() + 1
    return signing.dumps({"n": event.number, "r": round_}, salt=SALT, compress=True)


def callback_link_for(event: Event) -> str:
    """The absolute link to send the reporter (SMS) for the next callback round."""
    path = reverse("events:callback_link", args=[callback_token(event)])
    return f"{settings.YIWANG_PUBLIC_URL.rstrip('/')}{path}"


@dataclass(frozen=True)
class LinkState:
    """What a callback link points at. ``state`` is one of ``open`` (answer it now),
    ``used`` (this round was answered), ``closed`` (the event is not waiting for a
    callback: reopened, closed by staff) or ``expired``; an invalid token has no state
    (``read_link`` returns None)."""

    state: str
    event: Event | None
    round: int


def read_link(token: str) -> LinkState | None:
    """The state of a callback link, or None when the token is not one of ours."""
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE_DAYS * 86400)
    except signing.SignatureExpired:
        payload = _unsigned_payload(token)
        if payload is None:
            return None
        event = _event(payload["n"])
        return LinkState("expired", event, payload["r"]) if event else None
    except signing.BadSignature:
        return None
    if not _valid_payload(data):
        return None
    event = _event(data["n"])
    if event is None:
        return None
    round_ = data["r"]
    if event.callbacks.filter(round__gte=round_).exists():
        return LinkState("used", event, round_)
    if event.status != EventStatus.RESOLVED or event.callbacks.count() + 1 != round_:
        return LinkState("closed", event, round_)
    return LinkState("open", event, round_)


def _valid_payload(data: Any) -> bool:
    return (isinstance(data, dict) and isinstance(data.get("n"), str)
            and isinstance(data.get("r"), int) and data["r"] >= 1)


def _unsigned_payload(token: str) -> dict[str, Any] | None:
    """The payload of a token whose signature is right but too old (checked again
    without the age limit, so a forged token never gets here)."""
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    return data if _valid_payload(data) else None


def _event(number: str) -> Event | None:
    return (Event.objects.select_related("category", "handler_unit", "location_unit")
            .filter(number=number).first())


def callback_by_link(*, token: str, satisfaction: int, note: str = "") -> Event:
    """Record the reporter's verdict from a callback link (method ``sms``).

    Raises ``services.TransitionError`` when the link is not open (used, expired,
    closed), ValidationError for a bad answer, LookupError for a token that is not ours.
    """
    link = read_link(token)
    if link is None or link.event is None:
        raise LookupError("not a callback link")
    if link.state != "open":
        raise services.TransitionError(_("This link is no longer open."), code="bad_state")
    event = link.event
    if event.reporter_id is not None and event.reporter is not None \
            and event.reporter.is_active:
        # The reporter has an account: record it as theirs, through the one write path.
        return services.event_callback(actor=event.reporter, event=event,
                                       satisfaction=satisfaction,
                                       method=Callback.Method.SMS, note=note,
                                       by_reporter=True)
    return _callback_without_account(event=event, satisfaction=satisfaction, note=note,
                                     round_=link.round)


def _callback_without_account(*, event: Event, satisfaction: int, note: str,
                              round_: int) -> Event:
    """The same steps as ``services.event_callback``, for a reporter who has no account
    (a hotline caller): the signed link is the credential, so there is no actor.

    LEAD: replace this body with ``services.event_callback(actor=None, ..., by_link=True)``
    once ``event_callback`` accepts ``by_link`` (``_begin(..., system=by_reporter or
    by_link)``); until then it must stay step for step the same as that function.
    """
    from django.core.exceptions import ValidationError

    if satisfaction not in Satisfaction.values:
        raise ValidationError({"satisfaction": [_("Choose 满意, 基本满意 or 不满意.")]})
    with transaction.atomic():
        locked, previous = services._begin(event=event, actor=None, name="callback",
                                           system=True)
        if locked.callbacks.count() + 1 != round_:  # answered meanwhile
            raise services.TransitionError(_("This link is no longer open."),
                                           code="bad_state")
        Callback.objects.create(event=locked, round=round_, method=Callback.Method.SMS,
                                satisfaction=satisfaction, note=note, by=None,
                                at=timezone.now())
        locked.satisfaction = satisfaction
        data: dict[str, Any] = {"satisfaction": satisfaction, "round": round_, "link": True}
        if satisfaction != Satisfaction.DISSATISFIED:
            locked.status = EventStatus.CLOSED
            locked.closed_at = timezone.now()
        elif locked.reopen_count == 0:
            services._reopen(locked)
            data["reopened"] = True
        else:
            locked.supervised = True
            services.supervise_dissatisfied(locked, note)
            data["supervised"] = True
            services._notify_unit(services.district_unit(), "events.supervise_event",
                                  event=locked, template="event_supervised",
                                  key=f"event:{locked.pk}:supervised:{round_}")
        return services._finish(locked, actor=None, name="callback", previous=previous,
                                note=note, data=data)
