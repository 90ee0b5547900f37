"""The citizen's appeal pages: report with a pin and photos, my appeals, the public
timeline, the callback from the portal (不满意 reopens), and photos only for their owner."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from yiwang.core.audit import AuditEntry
from yiwang.core.tests.factories import make_citizen
from yiwang.events import services
from yiwang.events.models import Callback, Channel, Event, EventAttachment, EventStatus
from yiwang.events.tests.factories import add_event_staff, load_catalog, new_event
from yiwang.events.tests.photos import jpeg_bytes

pytestmark = pytest.mark.django_db
URL = "/events/report/"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "media")}}}


@pytest.fixture
def d(district):
    load_catalog()
    add_event_staff(district)
    district.citizen = make_citizen(phone="13800138000")
    district.stranger = make_citizen(username="stranger", id_number="110105194912310037",
                                     name="李四")
    return district


@pytest.fixture
def citizen(d, client_for):
    return client_for(d.citizen)


def appeal(**extra):
    data = {"key": "portal-key-000001", "appeal_type": "complaint",
            "description": "小区门口的路灯坏了一个星期，晚上很黑", "lat": "22.51",
            "lon": "114.01", "address": "", "phone": "13800138000",
            "photos": [SimpleUploadedFile("a.jpg", jpeg_bytes(), content_type="image/jpeg")]}
    data.update(extra)
    return data


def resolved_for(d, reporter, **extra):
    event = new_event(d, reporter=reporter, channel=Channel.PORTAL, **extra)
    Event.objects.filter(pk=event.pk).update(status=EventStatus.RESOLVED,
                                             handler_unit=d.street_a,
                                             resolution="已更换灯泡，恢复照明")
    event.refresh_from_db()
    return event


def test_report_page__phone_defaults_to_the_account_and_map_is_inline(d, citizen):
    page = citizen.get(URL).content.decode()
    assert 'value="13800138000"' in page and "<svg" in page and "甲街道" in page
    assert "tile" not in page.lower()


def test_report__registers_for_the_citizen_with_photo(d, citizen):
    response = citizen.post(URL, appeal())
    event = Event.objects.get(channel=Channel.PORTAL)
    assert response.status_code == 302
    assert response["Location"] == reverse("events:portal_event", args=[event.number])
    assert event.reporter == d.citizen and event.reporter_phone == "13800138000"
    assert event.location_unit == d.grid_a and event.attachments.count() == 1


def test_report__resend_registers_nothing_new(d, citizen):
    citizen.post(URL, appeal())
    again = citizen.post(URL, appeal())
    assert again.status_code == 302
    assert Event.objects.filter(channel=Channel.PORTAL).count() == 1
    assert EventAttachment.objects.count() == 1


def test_report__same_key_of_another_user_is_another_appeal(d, citizen, client_for):
    citizen.post(URL, appeal())
    client_for(d.stranger).post(URL, appeal(phone="13900139000"))
    assert Event.objects.filter(channel=Channel.PORTAL).count() == 2


def test_report__needs_a_place_and_a_real_phone(d, citizen):
    response = citizen.post(URL, appeal(lat="", lon="", address="", phone="12345"))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "address" in errors and "phone" in errors
    assert not Event.objects.exists()


def test_report__address_alone_is_enough(d, citizen):
    citizen.post(URL, appeal(lat="", lon="", address="乙街道乙一社区幸福路3号", photos=[]))
    assert Event.objects.get(channel=Channel.PORTAL).location_unit == d.community_b


def test_report__a_pdf_is_refused(d, citizen):
    pdf = SimpleUploadedFile("a.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
    response = citizen.post(URL, appeal(photos=[pdf]))
    assert response.status_code == 400 and "photos" in response.context["form"].errors
    assert not Event.objects.exists()


def test_report__staff_are_sent_elsewhere(d, client_for):
    assert client_for(d.users["dispatcher"]).get(URL).status_code == 403


def test_mine__only_my_appeals_with_plain_status(d, citizen):
    mine = new_event(d, reporter=d.citizen, channel=Channel.PORTAL, title="我家门口的坑")
    new_event(d, reporter=d.stranger, channel=Channel.PORTAL, title="别人的事")
    page = citizen.get("/events/my/").content.decode()
    assert mine.number in page and "别人的事" not in page


def test_event__someone_elses_is_404(d, citizen):
    other = new_event(d, reporter=d.stranger, channel=Channel.PORTAL)
    assert citizen.get(f"/events/my/{other.number}/").status_code == 404
    assert citizen.post(f"/events/my/{other.number}/callback/",
                        {"satisfaction": "3"}).status_code == 404


def test_event__public_timeline_without_staff_notes(d, citizen):
    event = new_event(d, reporter=d.citizen, channel=Channel.PORTAL)
    services.event_dispatch(actor=d.users["dispatcher"], event=event, unit=d.street_a,
                            note="内部备注：先打电话给物业")
    page = citizen.get(f"/events/my/{event.number}/").content.decode()
    assert d.street_a.name in page and "内部备注" not in page


def test_callback__satisfied_closes(d, citizen):
    event = resolved_for(d, d.citizen)
    page = citizen.get(f"/events/my/{event.number}/").content.decode()
    assert "已更换灯泡" in page and 'name="satisfaction"' in page
    response = citizen.post(f"/events/my/{event.number}/callback/", {"satisfaction": "3"})
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.status == EventStatus.CLOSED
    assert Callback.objects.get(event=event).method == "portal"


def test_callback__dissatisfied_needs_a_reason_and_reopens(d, citizen):
    event = resolved_for(d, d.citizen)
    page = citizen.get(f"/events/my/{event.number}/").content.decode()
    assert "重办" in page  # said before sending
    missing = citizen.post(f"/events/my/{event.number}/callback/", {"satisfaction": "1"})
    assert missing.status_code == 400
    citizen.post(f"/events/my/{event.number}/callback/",
                 {"satisfaction": "1", "note": "灯还是不亮"})
    event.refresh_from_db()
    assert event.status == EventStatus.IN_PROGRESS and event.reopen_count == 1


def test_callback__not_waiting_is_refused_without_change(d, citizen):
    event = new_event(d, reporter=d.citizen, channel=Channel.PORTAL)
    response = citizen.post(f"/events/my/{event.number}/callback/", {"satisfaction": "3"})
    assert response.status_code == 302 and not Callback.objects.exists()


def test_photo__owner_only_and_audited(d, citizen, client_for):
    citizen.post(URL, appeal())
    shot = EventAttachment.objects.get()
    response = citizen.get(f"/events/my/photos/{shot.pk}/")
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert AuditEntry.objects.filter(action="events.attachment.read").count() == 1
    assert client_for(d.stranger).get(f"/events/my/photos/{shot.pk}/").status_code == 404


def _queries(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_lists__constant_number_of_queries(d, citizen, client_for):
    new_event(d, reporter=d.citizen, channel=Channel.PORTAL, location_unit=d.grid_a)
    worker = client_for(d.users["grid_worker_a"])
    _queries(citizen, "/events/my/"), _queries(worker, "/events/field/")  # warm caches
    few = (_queries(citizen, "/events/my/"), _queries(worker, "/events/field/"))
    for _ in range(5):
        new_event(d, reporter=d.citizen, channel=Channel.PORTAL, location_unit=d.grid_a)
    many = (_queries(citizen, "/events/my/"), _queries(worker, "/events/field/"))
    assert many == few
