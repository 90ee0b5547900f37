"""The notification outbox: write now, deliver in the background, never twice."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.template import TemplateDoesNotExist
from django.template.loader import select_template
from django.utils import timezone, translation

from .models.notification import Channel, Notification, NotificationStatus
from .senders import DeliveryError, send_email, sms_gateway


def render_message(template: str, language: str, context: dict[str, Any]) -> tuple[str, str]:
    """Subject (first line) and body of ``notifications/<template>[.<lang>].txt``."""
    names = [f"notifications/{template}.{language}.txt", f"notifications/{template}.txt"]
    with translation.override(language):
        try:
            text = select_template(names).render(context)
        except TemplateDoesNotExist:
            raise ValueError(f"no notification template {template!r}") from None
    subject, _, body = text.strip().partition("\n")
    return subject.strip(), body.strip()


def notify(
    *,
    recipient: Any,
    template: str,
    key: str,
    context: dict[str, Any] | None = None,
    channels: Iterable[str] = (Channel.INAPP,),
    url: str = "",
) -> list[Notification]:
    """Queue a message to ``recipient`` on each channel; ``key`` makes it idempotent.

    Call inside the caller's transaction: delivery starts after commit, so a rolled-back
    change sends nothing. A repeated call with the same key returns the existing rows.
    """
    context = context or {}
    language = recipient.language or settings.LANGUAGE_CODE
    subject, body = render_message(template, language, context)
    rows = []
    for channel in channels:
        if channel == Channel.EMAIL and not recipient.email:
            continue
        if channel == Channel.SMS and not recipient.phone:
            continue
        existing = Notification.objects.filter(
            recipient=recipient, channel=channel, idempotency_key=key).first()
        if existing is not None:
            rows.append(existing)
            continue
        try:
            with transaction.atomic():
                row = Notification.objects.create(
                    recipient=recipient, channel=channel, template=template, language=language,
                    context=context, subject=subject, body=body, url=url, idempotency_key=key,
                    status=NotificationStatus.SENT if channel == Channel.INAPP
                    else NotificationStatus.PENDING,
                    sent_at=timezone.now() if channel == Channel.INAPP else None,
                )
        except IntegrityError:  # a concurrent call with the same key won
            rows.append(Notification.objects.get(
                recipient=recipient, channel=channel, idempotency_key=key))
            continue
        rows.append(row)
        if channel != Channel.INAPP:
            transaction.on_commit(functools.partial(_enqueue, row.pk))
    return rows


def _enqueue(pk: int, run_after: dt.datetime | None = None) -> None:
    from .tasks import deliver_notification

    if run_after is not None and not deliver_notification.get_backend().supports_defer:
        # The immediate backend cannot wait (it would refuse run_after); the row stays
        # in RETRY and requeue_due() picks it up once next_attempt_at has passed.
        return
    task = deliver_notification.using(run_after=run_after) if run_after else deliver_notification
    task.enqueue(pk)


SENDING_LEASE = dt.timedelta(minutes=10)


def backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(minutes=min(60, 2 ** (attempts - 1)))


def deliver(notification_id: int) -> str:
    """Send one queued notification at most once; returns its final status."""
    claimed = Notification.objects.filter(
        pk=notification_id,
        status__in=[NotificationStatus.PENDING, NotificationStatus.RETRY],
    ).update(status=NotificationStatus.SENDING, attempts=models.F("attempts") + 1,
             # A lease: a worker that dies mid-send leaves the row to requeue_due().
             next_attempt_at=timezone.now() + SENDING_LEASE)
    if not claimed:  # already sent, being sent, or failed for good
        return Notification.objects.get(pk=notification_id).status
    row = Notification.objects.select_related("recipient").get(pk=notification_id)
    try:
        if row.channel == Channel.EMAIL:
            send_email(to=row.recipient.email, subject=row.subject, body=row.body,
                       out_id=row.idempotency_key)
        elif row.channel == Channel.SMS:
            sms_gateway().send(phone=row.recipient.phone, text=f"{row.subject} {row.body}",
                               out_id=row.idempotency_key)
    except (DeliveryError, OSError) as exc:
        row.last_error = str(exc)[:2000]
        if row.attempts >= settings.YIWANG_NOTIFY_MAX_ATTEMPTS:
            row.status = NotificationStatus.FAILED
            row.next_attempt_at = None
        else:
            row.status = NotificationStatus.RETRY
            row.next_attempt_at = timezone.now() + backoff(row.attempts)
        row.save(update_fields=["status", "last_error", "next_attempt_at"])
        if row.status == NotificationStatus.RETRY:
            _enqueue(row.pk, run_after=row.next_attempt_at)
        return row.status
    row.status = NotificationStatus.SENT
    row.sent_at = timezone.now()
    row.last_error = ""
    row.save(update_fields=["status", "sent_at", "last_error"])
    return row.status


def requeue_due(now: dt.datetime | None = None) -> int:
    """Re-enqueue retries whose time has come, and sends whose worker died.

    Run periodically (``manage.py sweep``; ``yw serve`` runs it every minute). A send
    whose worker died may or may not have reached the gateway; it is retried with the
    same out_id, which the SMS gateway contract and the email header carry so the
    receiving side can drop a duplicate.
    """
    now = now or timezone.now()
    Notification.objects.filter(
        status=NotificationStatus.SENDING, next_attempt_at__lte=now
    ).update(status=NotificationStatus.RETRY, last_error="worker stopped while sending")
    due = list(
        Notification.objects.filter(
            models.Q(status=NotificationStatus.PENDING)
            | models.Q(status=NotificationStatus.RETRY, next_attempt_at__lte=now)
        ).values_list("pk", flat=True)
    )
    for pk in due:
        _enqueue(pk)
    return len(due)


def mark_read(*, actor: Any, notification_ids: Iterable[int]) -> int:
    return Notification.objects.filter(
        recipient=actor, pk__in=list(notification_ids), read_at__isnull=True
    ).update(read_at=timezone.now())
