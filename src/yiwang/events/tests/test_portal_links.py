"""Links that need no account: the SMS callback link (signed, expiring, one answer per
round) and the responsible party's external-loop link (内外双循环)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from yiwang.core.tests.factories import make_citizen
from yiwang.events import callbacks, services
from yiwang.events.models import (
    Callback,
    Channel,
    Event,
    EventAttachment,
    EventStatus,
    ExternalTask,
    ResponsibleParty,
)
from yiwang.events.tests.factories import add_event_staff, load_catalog, new_event
from yiwang.events.tests.photos import png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "media")}}}


@pytest.fixture
def d(district):
    load_catalog()
    add_event_staff(district)
    return district


def resolved(d, **extra):
    event = new_event(d, **extra)  # a hotline caller without an account
    Event.objects.filter(pk=event.pk).update(status=EventStatus.RESOLVED,
                                             handler_unit=d.street_a,
                                             resolution="摊位已清理")
    event.refresh_from_db()
    return event


def link_path(event):
    return callbacks.callback_link_for(event).split("://", 1)[1].split("/", 1)[1]


# --- the SMS callback link ----------------------------------------------------------------


def test_link__shows_the_result_without_personal_data_and_records_once(d, client):
    event = resolved(d)
    url = "/" + link_path(event)
    page = client.get(url).content.decode()
    assert "摊位已清理" in page and "13800138001" not in page and "王先生" not in page
    response = client.post(url, {"satisfaction": "3"})
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.status == EventStatus.CLOSED
    callback = Callback.objects.get(event=event)
    assert callback.method == "sms" and callback.by is None and callback.round == 1
    used = client.post(url, {"satisfaction": "1", "note": "不行"})
    assert used.status_code == 200 and Callback.objects.count() == 1
    assert used.context["state"] == "used"


def test_link__dissatisfied_reopens_and_the_next_round_gets_a_new_link(d, client):
    event = resolved(d)
    first = "/" + link_path(event)
    client.post(first, {"satisfaction": "1", "note": "还有人摆摊"})
    event.refresh_from_db()
    assert event.status == EventStatus.IN_PROGRESS and event.reopen_count == 1
    Event.objects.filter(pk=event.pk).update(status=EventStatus.RESOLVED)
    second = "/" + link_path(event)
    assert second != first
    assert client.get(first).status_code == 200  # a clear "already answered" page
    client.post(second, {"satisfaction": "2"})
    assert [c.round for c in Callback.objects.filter(event=event)] == [1, 2]


def test_link__tampered_or_made_up_is_404(d, client):
    event = resolved(d)
    path = link_path(event)
    token = path.rstrip("/").rsplit("/", 1)[1]
    forged = signing.dumps({"n": event.number, "r": 1}, salt="another-salt")
    for bad in (token[:-2] + "xx", forged, "made-up"):
        assert client.get(f"/events/callback/{bad}/").status_code == 404
        assert client.post(f"/events/callback/{bad}/", {"satisfaction": "3"}).status_code == 404
    assert not Callback.objects.exists()


def test_link__expired_says_so_and_changes_nothing(d, client, settings):
    event = resolved(d)
    url = "/" + link_path(event)
    later = timezone.now() + dt.timedelta(days=callbacks.MAX_AGE_DAYS + 1)
    import time

    real = time.time
    try:
        time.time = lambda: later.timestamp()  # signing reads time.time()
        response = client.post(url, {"satisfaction": "3"})
    finally:
        time.time = real
    assert response.status_code == 410 and not Callback.objects.exists()


def test_link__event_reopened_by_staff_is_not_open(d, client):
    event = resolved(d)
    url = "/" + link_path(event)
    Event.objects.filter(pk=event.pk).update(status=EventStatus.IN_PROGRESS)
    response = client.post(url, {"satisfaction": "3"})
    assert response.status_code == 200 and not Callback.objects.exists()


def test_link__reporter_with_an_account_is_recorded_as_theirs(d, client):
    citizen = make_citizen(phone="13800138000")
    event = resolved(d, reporter=citizen, channel=Channel.PORTAL)
    client.post("/" + link_path(event), {"satisfaction": "3"})
    assert Callback.objects.get(event=event).by == citizen


# --- the external loop link ---------------------------------------------------------------


@pytest.fixture
def task(d):
    event = new_event(d, code="010101")
    Event.objects.filter(pk=event.pk).update(status=EventStatus.EXTERNAL)
    party = ResponsibleParty.objects.create(name="和平物业", kind="property",
                                            phone="13800138010", unit=d.street_a)
    secret = "external-secret-for-tests"
    return ExternalTask.objects.create(event=event, party=party, token=secret,
                                       token_hash=services._token_hash(secret),
                                       due_at=timezone.now() + dt.timedelta(days=3))


def test_external__page_hides_the_reporter(d, client, task):
    Event.objects.filter(pk=task.event_id).update(
        description="门口垃圾没人清，联系我13912345678")
    page = client.get("/events/external/external-secret-for-tests/").content.decode()
    assert task.event.number in page and "和平物业" in page and "139****5678" in page
    assert "13800138001" not in page and "王先生" not in page and "13912345678" not in page


def test_external__fixed_needs_a_photo_then_resolves(d, client, task):
    url = "/events/external/external-secret-for-tests/"
    refused = client.post(url, {"fixed": "1", "response": "已清理"})
    assert refused.status_code == 400
    task.refresh_from_db()
    assert task.status == ExternalTask.Status.SENT
    shot = SimpleUploadedFile("done.png", png_bytes(), content_type="image/png")
    response = client.post(url, {"fixed": "1", "response": "已清理", "photos": [shot]})
    assert response.status_code == 302
    task.refresh_from_db()
    event = Event.objects.get(pk=task.event_id)
    assert task.status == ExternalTask.Status.FIXED and event.status == EventStatus.RESOLVED
    attachment = EventAttachment.objects.get(event=event)
    assert attachment.stage == "result" and attachment.uploaded_by is None
    again = client.get(url)
    assert again.status_code == 200 and 'name="response"' not in again.content.decode()


def test_external__not_yet_keeps_it_with_the_party(d, client, task):
    url = "/events/external/external-secret-for-tests/"
    client.post(url, {"fixed": "0", "response": "明天上午清理"})
    task.refresh_from_db()
    assert task.status == ExternalTask.Status.SENT and task.response == "明天上午清理"
    assert "明天上午清理" in client.get(url).content.decode()


def test_external__expired_and_unknown(d, client, task):
    assert client.get("/events/external/no-such-token/").status_code == 404
    ExternalTask.objects.filter(pk=task.pk).update(due_at=timezone.now() - dt.timedelta(hours=1))
    url = "/events/external/external-secret-for-tests/"
    assert client.get(url).status_code == 410
    assert client.post(url, {"fixed": "0", "response": "x"}).status_code == 410
