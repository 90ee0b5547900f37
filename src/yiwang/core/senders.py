"""Delivery channels for the notification outbox.

SMS goes through a gateway adapter: ``http`` posts JSON to the operator's gateway;
``file`` (the development default) and ``console`` only record the message. Each call
passes the notification's idempotency key so a gateway can drop a duplicate as well.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone

log = logging.getLogger(__name__)


class DeliveryError(Exception):
    pass


class SmsGateway(Protocol):
    def send(self, *, phone: str, text: str, out_id: str) -> None: ...


class FileSmsGateway:
    def send(self, *, phone: str, text: str, out_id: str) -> None:
        folder = Path(settings.YIWANG_SMS_DIR)
        folder.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"time": timezone.now().isoformat(), "phone": phone, "text": text,
                           "out_id": out_id}, ensure_ascii=False)
        with open(folder / f"{timezone.localdate():%Y-%m-%d}.jsonl", "a", encoding="utf-8") as f:
            f.write(line + "\n")


class ConsoleSmsGateway:
    def send(self, *, phone: str, text: str, out_id: str) -> None:
        log.info("SMS to %s [%s]: %s", phone, out_id, text)


class HttpSmsGateway:
    """POST {"phone", "text", "out_id"} with a bearer token; any 2xx means accepted."""

    def __init__(self, url: str, token: str, timeout: float = 10.0):
        if not url.startswith(("https://", "http://")):
            raise DeliveryError("YIWANG_SMS_URL must be an http(s) URL")
        self.url, self.token, self.timeout = url, token, timeout

    def send(self, *, phone: str, text: str, out_id: str) -> None:
        body = json.dumps({"phone": phone, "text": text, "out_id": out_id}).encode()
        request = urllib.request.Request(  # noqa: S310 (scheme checked above)
            self.url, data=body, method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                if not 200 <= response.status < 300:
                    raise DeliveryError(f"gateway answered {response.status}")
        except urllib.error.HTTPError as exc:  # before OSError: it is one, but was answered
            raise DeliveryError(f"gateway answered {exc.code}") from exc
        except OSError as exc:
            raise DeliveryError(f"gateway unreachable: {exc}") from exc


def sms_gateway() -> SmsGateway:
    kind = settings.YIWANG_SMS_GATEWAY
    if kind == "http":
        return HttpSmsGateway(settings.YIWANG_SMS_URL, settings.YIWANG_SMS_TOKEN)
    if kind == "console":
        return ConsoleSmsGateway()
    return FileSmsGateway()


def send_email(*, to: str, subject: str, body: str, out_id: str) -> None:
    message = EmailMessage(subject=subject, body=body, to=[to],
                           headers={"X-Yiwang-Notification": out_id})
    message.send(fail_silently=False)
