"""Photos and documents of an event (``EventAttachment``): checked on the way in with the
same content sniffing as case materials (``services.uploads.upload_check``), stored
outside the web root under a random name, served only to those who may read the event;
every write and read is audited.

Two ways in:

- ``event_attach`` — staff (handlers, dispatchers, grid workers) add photos or documents
  (PDF/OFD too) to an event they act on; the caller checked scope and state.
- ``attachment_add`` — photos only (JPEG/PNG): the grid worker's report and after-photos,
  the citizen's report photos, the responsible party's "fixed" photo (``actor=None``,
  the link's token is the credential, checked by the caller). Scope is checked here.

``attachment_open`` reads one back for an actor in scope (staff in the event's scope, or
the citizen who reported it); the read is audited. Call both writers inside
``discard_on_error()`` when a transaction may roll back: a rolled-back row cannot take
its file back with it.
"""

from __future__ import annotations

from typing import IO, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.http import Http404
from django.utils.translation import gettext as _

from yiwang.core import policies
from yiwang.core.audit import audit_log
from yiwang.core.storage import discard_on_error, stored_file
from yiwang.services.uploads import CheckedUpload, accept_attribute, upload_check

from .models import Event, EventAttachment

__all__ = [
    "IMAGE_ACCEPT", "IMAGE_TYPES", "MAX_FILES", "accept_attribute", "attachment_add",
    "attachment_get", "attachment_open", "discard_on_error", "event_attach", "image_check",
    "may_read", "upload_check",
]
ATTACH_PERMS = ("events.handle_event", "events.intake_event", "events.dispatch_event")
MAX_FILES = 9
# Photos taken on a phone (HEIC is converted to JPEG by the browser's picker on upload).
IMAGE_TYPES = ("image/jpeg", "image/png")
IMAGE_ACCEPT = "image/jpeg,image/png,.jpg,.jpeg,.png"


def may_attach(actor: Any, event: Event) -> bool:
    return any(policies.has_perm(actor, p) for p in ATTACH_PERMS)


def image_check(upload: Any) -> CheckedUpload:
    """``upload_check`` limited to photos: ValidationError({"file": […]}) otherwise."""
    checked = upload_check(upload)
    if checked.content_type not in IMAGE_TYPES:
        raise ValidationError({"file": [
            _("“%(name)s” is not a photo. Upload a JPG or PNG picture.")
            % {"name": checked.original_name}]}, code="not_image")
    return checked


def _store(*, actor: Any, event: Event, upload: Any, stage: str,
           checked: CheckedUpload, via: str = "") -> EventAttachment:
    with stored_file(folder="events", upload=upload, extension=checked.extension) as name:
        attached = EventAttachment.objects.create(
            event=event, stage=EventAttachment.Stage(stage), file=name,
            original_name=checked.original_name, content_type=checked.content_type,
            size=checked.size, sha256=checked.sha256,
            uploaded_by=actor if policies.is_active_actor(actor) else None)
        after = {"event": event.number, "stage": stage,
                 "content_type": checked.content_type, "size": checked.size,
                 "sha256": checked.sha256}
        if via:
            after["via"] = via
        audit_log(actor=actor if policies.is_active_actor(actor) else None,
                  action="events.attachment.attach", obj=attached,
                  object_label=checked.original_name, scope_path=_scope_path(event),
                  after=after)
    return attached


def event_attach(*, actor: Any, event: Event, upload: Any, stage: str,
                 checked: CheckedUpload | None = None) -> EventAttachment:
    """Check and store one file of ``event`` for staff (call it inside
    ``discard_on_error``; the caller checked scope and state)."""
    if not may_attach(actor, event):
        raise PermissionDenied
    checked = checked or upload_check(upload)
    return _store(actor=actor, event=event, upload=upload, stage=stage, checked=checked)


def _may_add_photo(actor: Any, event: Event) -> bool:
    if not policies.is_active_actor(actor):
        return False
    if getattr(actor, "kind", "staff") != "staff":
        return event.reporter_id == actor.pk
    if not may_attach(actor, event):
        return False
    # Whoever registered it adds the photos of their report, wherever it lies.
    return event.intake_by_id == actor.pk or any(
        policies.in_scope(actor, u.path) for u in _units(event))


def attachment_add(*, actor: Any, event: Event, upload: Any, stage: str,
                   checked: CheckedUpload | None = None, via: str = "") -> EventAttachment:
    """Check and store one photo (JPEG/PNG) of ``event``.

    ``actor`` is staff who may intake or handle events and registered it or has it in
    scope, or the citizen who reported it; ``None`` only for a responsible party
    answering through its signed link (``via="external"``: the caller verified the
    token). Anything but a photo
    raises ValidationError({"file": […]}); the event is not changed.
    """
    if actor is None:
        if via != "external":
            raise PermissionDenied
    elif not _may_add_photo(actor, event):
        raise PermissionDenied
    if checked is None or checked.content_type not in IMAGE_TYPES:
        checked = image_check(upload)
    return _store(actor=actor, event=event, upload=upload, stage=stage, checked=checked,
                  via=via)


def _units(event: Event) -> list[Any]:
    return [u for u in (event.dispatch_unit, event.handler_unit, event.location_unit)
            if u is not None]


def _scope_path(event: Event) -> str:
    unit = event.handler_unit or event.dispatch_unit
    return unit.path if unit is not None else ""


def may_read(actor: Any, event: Event) -> bool:
    """The actor may see the event's files: staff in its scope, or its reporter."""
    if not policies.is_active_actor(actor):
        return False
    if getattr(actor, "kind", "staff") != "staff" and not actor.is_superuser:
        return event.reporter_id == actor.pk
    if not policies.has_perm(actor, "events.view_event"):
        return False
    return actor.is_superuser or any(policies.in_scope(actor, u.path) for u in _units(event))


def attachment_get(*, actor: Any, attachment_id: Any,
                   event_number: str | None = None) -> EventAttachment:
    """One attachment the actor may read (of ``event_number`` when given), or 404."""
    try:
        pk = int(attachment_id)
    except (TypeError, ValueError):
        raise Http404 from None
    qs = EventAttachment.objects.select_related(
        "event", "event__dispatch_unit", "event__handler_unit", "event__location_unit")
    if event_number is not None:
        qs = qs.filter(event__number=event_number)
    found = qs.filter(pk=pk).first()
    if found is None or not may_read(actor, found.event):
        raise Http404
    return found


def attachment_open(*, actor: Any, attachment: EventAttachment) -> IO[bytes]:
    """Open an attachment for an actor who may read its event (404 otherwise); the read
    is audited."""
    if not may_read(actor, attachment.event):
        raise Http404
    try:
        handle = default_storage.open(attachment.file.name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    audit_log(actor=actor, action="events.attachment.read", obj=attachment,
              object_label=attachment.original_name,
              scope_path=_scope_path(attachment.event),
              after={"event": attachment.event.number, "sha256": attachment.sha256})
    return handle
