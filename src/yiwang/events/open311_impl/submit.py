"""POST requests: check what an Open311 client sent, then hand it to ``intake_event``.

The service code names the catalog item, so the text is not classified for the
category (``intake_event`` keeps the suggestions for the dispatcher); the event is
located from ``lat``/``long`` or the address text and dispatched when the item and the
place allow it.

Retries never make a second event. The client's own key for the delivery is the
``Idempotency-Key`` header (letters, digits, ``-`` and ``_``, at most 64): the same key
again returns the first answer, and the same key with a different request is refused
(422). Without the header, the same request again (same service code, description,
location, device_id / account_id / e-mail / phone) from the same client within
``YIWANG_OPEN311_DEDUP_SECONDS`` (600 by default) returns the first answer as well. Both
land in ``Event.source_ref`` (``<client id>:<key>``), unique per channel, so two copies
racing each other still make one event.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core import crypto
from yiwang.core.audit import audit_log
from yiwang.core.validators import normalize_phone

from ..intake import intake_event
from ..models import (
    APPEAL_TYPE_BY_CHINESE,
    AppealType,
    Category,
    Channel,
    ClientSystem,
    Event,
    EventUpdate,
)
from .catalog import APPEAL_TYPE_ATTRIBUTE, service_get
from .records import SUBMITTED

MAX_DESCRIPTION = 4000
IDEMPOTENCY_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_ATTRIBUTE_RE = re.compile(r"^attribute\[([^\]]+)\](\[\])?$")

Problem = tuple[int, str]


class Rejected(Exception):
    """The request cannot be taken: the HTTP status and the spec's error list."""

    def __init__(self, status: int, problems: list[Problem]):
        super().__init__(problems)
        self.status = status
        self.problems = problems


@dataclass
class Submission:
    client: ClientSystem
    category: Category
    description: str
    lat: float | None = None
    lon: float | None = None
    address: str = ""
    address_id: str = ""
    email: str = ""
    device_id: str = ""
    account_id: str = ""
    name: str = ""
    phone: str = ""
    media_url: str = ""
    appeal_type: str = ""
    attributes: dict[str, list[str]] = field(default_factory=dict)
    idempotency_key: str = ""

    def fingerprint(self) -> str:
        parts = [self.category.code, " ".join(self.description.split()),
                 "" if self.lat is None else f"{self.lat:.6f}",
                 "" if self.lon is None else f"{self.lon:.6f}", self.address,
                 self.address_id, self.device_id, self.account_id, self.email.lower(),
                 self.phone, self.media_url, self.appeal_type]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _text(post: QueryDict, name: str, limit: int = 200) -> str:
    return (post.get(name) or "").strip()[:limit]


def _coordinate(raw: str, name: str, bound: float, problems: list[Problem]) -> float | None:
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or abs(value) > bound:
        problems.append((400, _("%(name)s must be a WGS84 coordinate between -%(b)d and "
                                "%(b)d.") % {"name": name, "b": bound}))
        return None
    return value


def _reporter_name(first: str, last: str) -> str:
    if not first or not last:
        return (last or first)[:100]
    if (first + last).isascii():
        return f"{first} {last}"[:100]
    return f"{last}{first}"[:100]  # 姓在前


def parse(post: QueryDict, *, client: ClientSystem, idempotency_key: str = "") -> Submission:
    """A checked submission, or ``Rejected`` with every problem found."""
    problems: list[Problem] = []
    code = _text(post, "service_code", 50)
    if not code:
        raise Rejected(400, [(400, _("service_code is required: take one from "
                                     "services.xml."))])
    category = service_get(code)
    if category is None:
        raise Rejected(404, [(404, _("service_code %(code)s is not a service of this "
                                     "jurisdiction.") % {"code": code})])
    if idempotency_key and not IDEMPOTENCY_RE.match(idempotency_key):
        problems.append((400, _("The Idempotency-Key header takes at most 64 letters, "
                                "digits, '-' or '_'.")))
    lat_raw, lon_raw = _text(post, "lat", 40), _text(post, "long", 40)
    lat = lon = None
    if lat_raw or lon_raw:
        if not (lat_raw and lon_raw):
            problems.append((400, _("Send both lat and long.")))
        else:
            lat = _coordinate(lat_raw, "lat", 90, problems)
            lon = _coordinate(lon_raw, "long", 180, problems)
    address = _text(post, "address_string", 300)
    address_id = _text(post, "address_id", 100)
    if not (lat_raw or lon_raw or address or address_id):
        problems.append((400, _("A location is required: lat and long, address_string or "
                                "address_id.")))
    description = (post.get("description") or "").strip()
    if len(description) > MAX_DESCRIPTION:
        problems.append((400, _("description is limited to %(n)d characters.")
                         % {"n": MAX_DESCRIPTION}))
    email = _text(post, "email", 254)
    if email:
        try:
            validate_email(email)
        except ValidationError:
            problems.append((400, _("email is not a valid e-mail address.")))
    phone = _text(post, "phone", 40)
    if phone:
        try:
            phone = normalize_phone(phone, personal=True)
        except ValidationError:
            problems.append((400, _("phone: enter an 11-digit mobile number or a landline "
                                    "number with its area code.")))
    media_url = _text(post, "media_url", 500)
    if media_url:
        parts = urlsplit(media_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            problems.append((400, _("media_url must be an http or https URL.")))
    attributes: dict[str, list[str]] = {}
    for key in post:
        match = _ATTRIBUTE_RE.match(key)
        if match:
            attributes[match.group(1)] = [v.strip()[:200] for v in post.getlist(key)]
    appeal_type = ""
    chosen = [v for v in attributes.get(APPEAL_TYPE_ATTRIBUTE, []) if v]
    if chosen:
        value = chosen[0]
        appeal_type = str(APPEAL_TYPE_BY_CHINESE.get(value, value))
        if len(chosen) > 1 or appeal_type not in AppealType.values:
            problems.append((400, _("attribute[appeal_type] takes one of: %(keys)s.")
                             % {"keys": ", ".join(AppealType.values)}))
    if problems:
        raise Rejected(400, problems)
    return Submission(
        client=client, category=category,
        description=description or category.name, lat=lat, lon=lon, address=address,
        address_id=address_id, email=email, device_id=_text(post, "device_id", 200),
        account_id=_text(post, "account_id", 200),
        name=_reporter_name(_text(post, "first_name", 50), _text(post, "last_name", 50)),
        phone=phone, media_url=media_url, appeal_type=appeal_type, attributes=attributes,
        idempotency_key=idempotency_key)


def _window() -> int:
    return int(getattr(settings, "YIWANG_OPEN311_DEDUP_SECONDS", 600))


def _earlier(sub: Submission) -> tuple[Event | None, str]:
    """The event of an earlier delivery of the same request, and this one's source_ref."""
    prefix = f"{sub.client.pk}:"
    if sub.idempotency_key:
        ref = prefix + sub.idempotency_key
        return Event.objects.filter(channel=Channel.OPEN311, source_ref=ref).first(), ref
    fingerprint = sub.fingerprint()[:32]
    now = timezone.now()
    bucket = int(now.timestamp()) // _window()
    refs = [f"{prefix}fp-{fingerprint}-{b}" for b in (bucket, bucket - 1)]
    earlier = Event.objects.filter(
        channel=Channel.OPEN311, source_ref__in=refs,
        received_at__gte=now - dt.timedelta(seconds=_window())).first()
    return earlier, refs[0]


def token_of(event: Event) -> str:
    """The public token of an Open311 delivery: ``<client id>-<key>``."""
    return event.source_ref.replace(":", "-", 1)


def source_ref_of_token(token: str) -> str:
    return token.replace("-", ":", 1)


def submit(sub: Submission) -> tuple[Event, dict[str, Any], bool]:
    """Register the request (once): the event, what the client sent, and whether it is
    new."""
    earlier, ref = _earlier(sub)
    fingerprint = sub.fingerprint()
    if earlier is not None:
        data = _submitted(earlier)
        if sub.idempotency_key and data.get("fingerprint") not in (None, fingerprint):
            raise Rejected(422, [(422, _("This Idempotency-Key was used for a different "
                                         "request."))])
        return earlier, data, False
    with transaction.atomic():
        event = intake_event(
            actor=None, system=True, channel=Channel.OPEN311, description=sub.description,
            appeal_type=sub.appeal_type, category=sub.category, lat=sub.lat, lon=sub.lon,
            address=sub.address or sub.address_id, reporter_name=sub.name,
            reporter_phone=sub.phone, anonymous=not (sub.name or sub.phone or sub.email),
            source_ref=ref)
        data = _submitted(event)
        if data:  # a copy racing this one registered it first
            return event, data, False
        data = {"client": sub.client.pk, "fingerprint": fingerprint,
                "media_url": sub.media_url, "address_id": sub.address_id,
                "account_id": sub.account_id,
                "attributes": {k: v for k, v in sub.attributes.items()}}
        if sub.email:
            data["email_sm4"] = crypto.encrypt(sub.email, associated_data=b"open311-email")
        EventUpdate.objects.create(event=event, action=SUBMITTED, public=False, data=data,
                                   at=timezone.now())
        audit_log(actor=None, action="events.open311.submit", obj=event,
                  after={"client": sub.client.name, "service_code": sub.category.code,
                         "idempotency_key": bool(sub.idempotency_key)})
    return event, data, True


def _submitted(event: Event) -> dict[str, Any]:
    row = event.updates.filter(action=SUBMITTED).first()
    return row.data if row else {}


def submitted_by(event: Event) -> ClientSystem | None:
    """The client system that sent an Open311 event (for staff pages)."""
    if event.channel != Channel.OPEN311 or ":" not in event.source_ref:
        return None
    client_id = event.source_ref.split(":", 1)[0]
    return ClientSystem.objects.filter(pk=int(client_id)).first() if client_id.isdigit() \
        else None


def reporter_email(event: Event) -> str:
    """The e-mail address the client sent, decrypted; a staff page that shows it must
    check ``can_view_personal_data`` and call ``audit_pii_read`` like for phones."""
    encrypted = _submitted(event).get("email_sm4", "")
    return crypto.decrypt(encrypted, associated_data=b"open311-email") if encrypted else ""
