"""Two machine intake channels into ``intake_event``: the online-opinion feed (网络舆情) and
the video-AI webhook.

**Online opinion.** ``opinion_import`` reads a feed file (JSON or CSV; UTF-8 or GBK) of
records ``{source, url, text, time, place?}``. Each record is checked on its own: a bad
one is reported with its row, field and a clear message and skipped, the others are
registered. A record is known by its URL (normalised: case of scheme and host, default
port, fragment, tracking parameters, parameter order), so importing a file again, or a
feed that overlaps the last one, creates nothing twice: ``source_ref`` is the SHA-256 of
the normalised URL.

**Video AI.** A client system (``ClientSystem`` of kind ``video_ai``) posts detections
to ``POST /api/events/video-ai`` with its key in ``X-Yiwang-Key``, a Unix timestamp in
``X-Yiwang-Timestamp`` and ``X-Yiwang-Signature: sha256=<hex>``, the HMAC-SHA256 with the
key of ``<timestamp>.<raw body>`` (``video_ai_signature``). The timestamp is signed with
the body, so an old delivery cannot be replayed with a fresh one; deliveries older than
``YIWANG_VIDEO_AI_MAX_AGE_SECONDS`` are refused. Detections map to catalog items
(``YIWANG_VIDEO_AI_CATEGORIES``); a detection of the same camera and scene within
``YIWANG_VIDEO_AI_FOLD_MINUTES`` of the last one folds into its open event (a
``repeat_detection`` step with the count) instead of opening another; a repeated
``delivery_id`` changes nothing; below ``YIWANG_VIDEO_AI_MIN_CONFIDENCE`` a detection is
dropped with the reason.
"""

from __future__ import annotations

import base64
import binascii
import csv
import datetime as dt
import hashlib
import hmac
import io
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core import policies
from yiwang.core.audit import audit_log

from . import attachments
from .intake import intake_event
from .models import OPEN_STATUSES, Category, Channel, ClientSystem, Event, EventUpdate

# --- settings (the lead adds them to settings.py; these are the defaults) -------------------

DEFAULT_VIDEO_AI_CATEGORIES: dict[str, str] = {
    # The catalog README's video-AI scenes, by an English key and the Chinese scene name.
    "road_occupation": "010101", "占道经营": "010101",
    "street_vendor": "010102", "流动摊贩": "010102",
    "clutter": "010105", "乱堆乱放": "010105",
    "exposed_garbage": "010201", "暴露垃圾": "010201",
    "shared_bike_parking": "030301", "共享单车乱停放": "030301",
    "illegal_parking": "030302", "机动车违停": "030302",
}


def video_ai_categories() -> dict[str, str]:
    return dict(getattr(settings, "YIWANG_VIDEO_AI_CATEGORIES", DEFAULT_VIDEO_AI_CATEGORIES))


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def fold_window() -> dt.timedelta:
    return dt.timedelta(minutes=float(_setting("YIWANG_VIDEO_AI_FOLD_MINUTES", 30)))


def min_confidence() -> float:
    return float(_setting("YIWANG_VIDEO_AI_MIN_CONFIDENCE", 0.6))


def max_age_seconds() -> int:
    return int(_setting("YIWANG_VIDEO_AI_MAX_AGE_SECONDS", 300))


def opinion_max_rows() -> int:
    return int(_setting("YIWANG_OPINION_MAX_ROWS", 5000))


def opinion_max_bytes() -> int:
    return int(_setting("YIWANG_OPINION_MAX_BYTES", 20 * 1024 * 1024))


# --- online opinion -------------------------------------------------------------------------

OPINION_FIELDS = ("source", "url", "text", "time", "place")
CSV_ALIASES = {
    "source": "source", "来源": "source", "平台": "source", "媒体": "source",
    "url": "url", "链接": "url", "网址": "url", "原文链接": "url",
    "text": "text", "内容": "text", "正文": "text", "文本": "text",
    "time": "time", "时间": "time", "发布时间": "time",
    "place": "place", "地点": "place", "位置": "place", "地址": "place",
}
TRACKING_PARAMS = ("utm_", "spm", "share_", "from", "fbclid", "gclid", "wechat_redirect")
FUTURE_SLACK = dt.timedelta(minutes=10)
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    message: str


@dataclass
class ImportReport:
    total: int = 0
    created: int = 0
    duplicates: int = 0
    errors: list[RowError] = field(default_factory=list)
    events: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"total": self.total, "created": self.created, "duplicates": self.duplicates,
                "errors": [vars(e) for e in self.errors], "events": self.events}


def normalise_url(url: str) -> str:
    """The URL as it identifies a post: scheme and host in lower case, no default port,
    no fragment, no tracking parameters, the others sorted, no trailing slash."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    port = parts.port
    netloc = host if port is None or (scheme, port) in (("http", 80), ("https", 443)) \
        else f"{host}:{port}"
    path = parts.path or "/"
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                   if not k.lower().startswith(TRACKING_PARAMS))
    return urlunsplit((scheme, netloc, path, urlencode(query), ""))


def opinion_source_ref(url: str) -> str:
    return hashlib.sha256(normalise_url(url).encode()).hexdigest()


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without a BOM), else GBK (read as GB 18030, its superset)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise ValidationError({"file": [
            _("The file is neither UTF-8 nor GBK text. Save it as UTF-8 CSV.")]}) from None


def _file_error(message: str) -> ValidationError:
    return ValidationError({"file": [message]})


def parse_opinion_records(data: bytes, fmt: str) -> list[dict[str, Any]]:
    """The records of a feed file, in order; ValidationError({"file": …}) if the file as a
    whole cannot be read (then nothing is imported)."""
    if len(data) > opinion_max_bytes():
        raise _file_error(_("The file is too large; split it into smaller files."))
    if fmt == "json":
        try:
            parsed = json.loads(decode_text(data))
        except json.JSONDecodeError as exc:
            raise _file_error(_("The file is not valid JSON (line %(line)d).")
                              % {"line": exc.lineno}) from None
        if isinstance(parsed, dict) and isinstance(parsed.get("records"), list):
            parsed = parsed["records"]
        if not isinstance(parsed, list):
            raise _file_error(_("Give a JSON list of records, or {\"records\": […]}."))
        records = [r if isinstance(r, dict) else {"__invalid__": True} for r in parsed]
    elif fmt == "csv":
        text = decode_text(data)
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, None)
        if not header:
            raise _file_error(_("The file is empty."))
        columns = [CSV_ALIASES.get(h.strip().lower().lstrip("\ufeff"), "") for h in header]
        missing = [f for f in ("source", "url", "text", "time") if f not in columns]
        if missing:
            raise _file_error(_("The header lacks the columns: %(columns)s.")
                              % {"columns": ", ".join(missing)})
        records = []
        for values in reader:
            if not any(v.strip() for v in values):
                continue  # blank line
            records.append({name: value for name, value in zip(columns, values, strict=False)
                            if name})
    else:
        raise ValidationError({"format": [_("Choose json or csv.")]})
    if len(records) > opinion_max_rows():
        raise _file_error(_("The file has %(n)d records; import at most %(max)d at a time.")
                          % {"n": len(records), "max": opinion_max_rows()})
    return records


def _text(record: dict[str, Any], name: str) -> str:
    value = record.get(name)
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return "\x00"  # a list or object: never valid


def parse_time(value: str) -> dt.datetime | None:
    text = value.strip().replace("/", "-")
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def _check_record(record: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    if record.get("__invalid__"):
        return {}, [("__all__", _("A record must be an object with source, url, text and "
                                   "time."))]
    errors: list[tuple[str, str]] = []
    values = {name: _text(record, name) for name in OPINION_FIELDS}
    for name in ("source", "url", "text", "time", "place"):
        if "\x00" in values[name]:
            errors.append((name, _("Give text here.")))
    if errors:
        return values, errors
    if not values["source"]:
        errors.append(("source", _("Name the platform or site (e.g. 微博).")))
    elif len(values["source"]) > 50:
        errors.append(("source", _("Enter at most %(n)s characters.") % {"n": 50}))
    url = values["url"]
    parts = urlsplit(url) if url else None
    if not url:
        errors.append(("url", _("Give the link to the post.")))
    elif len(url) > 2000 or parts is None or parts.scheme.lower() not in ("http", "https") \
            or not parts.hostname:
        errors.append(("url", _("Give a full http(s) link to the post.")))
    if not values["text"]:
        errors.append(("text", _("The post's text is empty.")))
    elif len(values["text"]) > 4000:
        errors.append(("text", _("Enter at most %(n)s characters.") % {"n": 4000}))
    when = parse_time(values["time"]) if values["time"] else None
    if not values["time"]:
        errors.append(("time", _("Give when it was posted.")))
    elif when is None:
        errors.append(("time", _("Write the time as 2026-11-22 09:30 (ISO 8601).")))
    elif when > timezone.now() + FUTURE_SLACK or when < EARLIEST:
        errors.append(("time", _("The time lies in the future or before 2000.")))
    if len(values["place"]) > 300:
        errors.append(("place", _("Enter at most %(n)s characters.") % {"n": 300}))
    values["when"] = when
    return values, errors


def opinion_import(*, actor: Any, data: bytes, fmt: str, system: bool = False) -> ImportReport:
    """Register the records of an online-opinion feed file; see the module docstring.

    ``actor`` needs ``events.intake_event`` (``system=True``: the command line). A file
    that cannot be read at all raises ValidationError and imports nothing.
    """
    if not system and not policies.has_perm(actor, "events.intake_event"):
        raise PermissionDenied
    fmt = (fmt or "").lower().strip(".")
    records = parse_opinion_records(data, fmt)
    report = ImportReport(total=len(records))
    seen: set[str] = set()
    for row, record in enumerate(records, start=1):
        values, errors = _check_record(record)
        if errors:
            report.errors += [RowError(row, name, message) for name, message in errors]
            continue
        ref = opinion_source_ref(values["url"])
        if ref in seen or Event.objects.filter(channel=Channel.OPINION, source_ref=ref).exists():
            seen.add(ref)
            report.duplicates += 1
            continue
        seen.add(ref)
        text = values["text"]
        description = "\n\n".join([text, _("Source: %(source)s, %(url)s") % {
            "source": values["source"], "url": values["url"]}])
        try:
            event = intake_event(
                actor=None if system else actor, system=system, channel=Channel.OPINION,
                description=description, title=text.splitlines()[0][:80],
                address=values["place"], source_ref=ref, received_at=values["when"])
        except ValidationError as exc:
            messages = exc.message_dict if hasattr(exc, "error_dict") else {
                "__all__": exc.messages}
            report.errors += [RowError(row, name, "; ".join(texts))
                              for name, texts in messages.items()]
            continue
        report.created += 1
        report.events.append(event.number)
    audit_log(actor=actor if policies.is_active_actor(actor) else None,
              action="events.opinion.import", object_type="events.opinionfeed",
              object_label=f"{fmt} feed",
              after={"total": report.total, "created": report.created,
                     "duplicates": report.duplicates, "errors": len(report.errors)})
    return report


# --- video AI -------------------------------------------------------------------------------

SIGNATURE_PREFIX = "sha256="


class WebhookAuthError(Exception):
    """The delivery is not authentic or too old: 401, nothing stored."""


def video_ai_signature(key: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 with the client's key of ``<timestamp>.<body>``."""
    mac = hmac.new(key.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return SIGNATURE_PREFIX + mac.hexdigest()


def video_ai_authenticate(*, key: str, timestamp: str, signature: str, body: bytes,
                          now: float | None = None) -> ClientSystem:
    """The client system that signed this delivery, or WebhookAuthError."""
    from .clients import client_for_key

    try:
        sent = int((timestamp or "").strip())
    except ValueError:
        raise WebhookAuthError("timestamp") from None
    if abs((now if now is not None else time.time()) - sent) > max_age_seconds():
        raise WebhookAuthError("timestamp")
    client = client_for_key(key or "", kind="video_ai")
    if client is None:
        raise WebhookAuthError("key")
    expected = video_ai_signature(key.strip(), str(sent), body)
    if not hmac.compare_digest(expected.encode(), (signature or "").strip().lower().encode()):
        raise WebhookAuthError("signature")
    return client


@dataclass(frozen=True)
class VideoAIResult:
    status: str  # created, folded, duplicate, dropped
    event: Event | None
    detections: int
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "event": self.event.number if self.event else None,
                "detections": self.detections, "reason": self.reason}


@dataclass(frozen=True)
class Detection:
    camera_id: str
    detection_type: str
    confidence: float
    detected_at: dt.datetime
    delivery_id: str
    snapshot: str = ""
    lat: float | None = None
    lon: float | None = None
    address: str = ""


def _snapshot(detection: Detection) -> tuple[SimpleUploadedFile | None, Any, str]:
    """(the photo to attach, its check, the URL to keep as text); ValidationError if the
    snapshot is neither a photo nor a URL."""
    raw = detection.snapshot.strip()
    if not raw:
        return None, None, ""
    if raw.lower().startswith(("http://", "https://")):
        if len(raw) > 2000:
            raise ValidationError({"snapshot": [_("The snapshot URL is too long.")]})
        return None, None, raw  # never fetched: the server makes no requests on a sender's say
    if raw.startswith("data:"):
        raw = raw.partition(",")[2]
    try:
        content = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError({"snapshot": [
            _("Send the snapshot as base64 JPEG or PNG, or as an https URL.")]}) from None
    upload = SimpleUploadedFile(f"snapshot-{detection.delivery_id}.jpg", content,
                                content_type="image/jpeg")
    checked = attachments.image_check(upload)  # ValidationError({"file": …}) otherwise
    return upload, checked, ""


def _detections(prefix: str) -> Any:
    return EventUpdate.objects.filter(event__channel=Channel.VIDEO_AI,
                                      event__source_ref__startswith=prefix,
                                      action__in=("detection", "repeat_detection"))


def video_ai_receive(*, client: ClientSystem, detection: Detection) -> VideoAIResult:
    """Register, fold or drop one detection of ``client`` (authenticated by the caller)."""
    scenes = video_ai_categories()
    code = scenes.get(detection.detection_type) or scenes.get(
        detection.detection_type.strip().lower())
    if code is None:
        raise ValidationError({"detection_type": [
            _("Unknown detection type; known: %(types)s.") % {"types": ", ".join(sorted(scenes))}]})
    if detection.confidence < min_confidence():
        return VideoAIResult("dropped", None, 0, _(
            "Confidence %(got).2f is below the threshold %(min).2f; nothing was registered.")
            % {"got": detection.confidence, "min": min_confidence()})
    if (detection.lat is None) != (detection.lon is None):
        raise ValidationError({"lat": [_("Give both latitude and longitude.")]})
    try:
        upload, checked, snapshot_url = _snapshot(detection)
    except ValidationError as exc:
        if hasattr(exc, "error_dict") and "file" in exc.error_dict:
            raise ValidationError({"snapshot": exc.message_dict["file"]}) from None
        raise
    now = timezone.now()
    detected_at = min(detection.detected_at, now)
    prefix = f"{client.pk}:{detection.camera_id}:{code}:"
    data = {"client": client.name, "camera_id": detection.camera_id,
            "detection_type": detection.detection_type, "delivery_id": detection.delivery_id,
            "confidence": round(detection.confidence, 4),
            "detected_at": detected_at.isoformat(), "snapshot_url": snapshot_url}
    with attachments.discard_on_error(), transaction.atomic():
        # One delivery of a client at a time: two detections of one camera arriving
        # together must not open two events.
        ClientSystem.objects.select_for_update().filter(pk=client.pk).first()
        first = Event.objects.filter(channel=Channel.VIDEO_AI,
                                     source_ref=prefix + detection.delivery_id).first()
        repeat = _detections(prefix).filter(data__delivery_id=detection.delivery_id
                                            ).select_related("event").first()
        if first is not None or repeat is not None:
            event = first or repeat.event  # type: ignore[union-attr]
            count = _detections(prefix).filter(event=event).count()
            return VideoAIResult("duplicate", event, count, _(
                "This delivery was received before; nothing changed."))
        open_event = (Event.objects.select_for_update(of=("self",))
                      .filter(channel=Channel.VIDEO_AI, source_ref__startswith=prefix,
                              status__in=OPEN_STATUSES).order_by("-received_at").first())
        if open_event is not None:
            last = _detections(prefix).filter(event=open_event).order_by("-at", "-id").first()
            last_seen = open_event.received_at
            if last is not None and last.data.get("detected_at"):
                last_seen = max(last_seen, dt.datetime.fromisoformat(last.data["detected_at"]))
            if abs(detected_at - last_seen) <= fold_window():
                count = _detections(prefix).filter(event=open_event).count() + 1
                EventUpdate.objects.create(
                    event=open_event, action="repeat_detection", data={**data, "count": count},
                    note=_("Detected again by camera %(camera)s (%(count)d detections).")
                    % {"camera": detection.camera_id, "count": count}, at=now)
                return VideoAIResult("folded", open_event, count, "")
        category = Category.objects.filter(catalog__status="published", code=code,
                                           level=3, active=True).first()
        scene = category.name if category else detection.detection_type
        lines = [_("Video AI detection: %(scene)s, camera %(camera)s, confidence %(conf)d%%.")
                 % {"scene": scene, "camera": detection.camera_id,
                    "conf": round(detection.confidence * 100)}]
        if snapshot_url:
            lines.append(_("Snapshot: %(url)s") % {"url": snapshot_url})
        event = intake_event(
            actor=None, system=True, channel=Channel.VIDEO_AI, description="\n".join(lines),
            title=_("%(scene)s (camera %(camera)s)") % {"scene": scene,
                                                         "camera": detection.camera_id},
            category=category, lat=detection.lat, lon=detection.lon,
            address=detection.address, source_ref=prefix + detection.delivery_id,
            received_at=detected_at)
        EventUpdate.objects.create(event=event, action="detection", data={**data, "count": 1},
                                   at=now)
        if upload is not None:
            # attachment_add takes actor=None only for the external loop's link; until it
            # accepts via="video_ai" too (asked of the lead), store through its writer.
            attachments._store(actor=None, event=event, upload=upload, stage="report",
                               checked=checked, via="video_ai")
    return VideoAIResult("created", event, 1, "")
