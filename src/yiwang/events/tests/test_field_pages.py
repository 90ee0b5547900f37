"""The grid worker's phone pages: my grid, the report form (上报 / 自处置), category
suggestions, photos only, and a resend that never registers twice."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from yiwang.core.audit import AuditEntry
from yiwang.events.models import Channel, Event, EventAttachment, EventStatus
from yiwang.events.tests.factories import add_event_staff, load_catalog, new_event
from yiwang.events.tests.photos import jpeg_bytes, png_bytes

pytestmark = pytest.mark.django_db
URL = "/events/field/report/"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.LANGUAGE_CODE = "en"  # assertions on English text, whatever is compiled
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "media")}}}


@pytest.fixture
def d(district):
    load_catalog()
    add_event_staff(district)
    return district


@pytest.fixture
def worker(d, client_for):
    return client_for(d.users["grid_worker_a"])


def photo(name="p.jpg", data=None, content_type="image/jpeg"):
    return SimpleUploadedFile(name, data if data is not None else jpeg_bytes(),
                              content_type=content_type)


def report(**extra):
    data = {"key": "field-key-000001", "outcome": "report", "appeal_type": "",
            "description": "和平路井盖破损，有行人绊倒的危险", "lat": "22.51", "lon": "114.01",
            "address": "和平路1号", "photos": [photo()]}
    data.update(extra)
    return data


def test_home__my_grids_open_events_and_todays_reports(d, worker):
    inside = new_event(d, title="网格里的事", location_unit=d.grid_a)
    new_event(d, title="乙街道的事", location_unit=d.community_b, street=d.street_b)
    worker.post(URL, report())
    page = worker.get(reverse("events:field_home")).content.decode()
    assert inside.number in page and "乙街道的事" not in page
    mine = Event.objects.get(channel=Channel.GRID)
    today = page.split('id="today-h"')[1].split("</section>")[0]
    assert mine.number in today


def test_home__only_for_grid_workers(d, client_for):
    assert client_for(d.users["dispatcher"]).get("/events/field/").status_code == 403
    assert client_for(d.users["street_handler"]).get("/events/field/").status_code == 403


def test_report_page__camera_input_and_offline_map(d, worker):
    page = worker.get(URL).content.decode()
    assert 'capture="environment"' in page and 'accept="image/jpeg,image/png' in page
    assert "<svg" in page and "甲一社区第1网格" in page and "is-mine" in page
    assert 'name="key"' in page


def test_report__dispatch_with_photo_and_point(d, worker):
    response = worker.post(URL, report())
    assert response.status_code == 302 and response["Location"] == "/events/field/"
    event = Event.objects.get(channel=Channel.GRID)
    assert event.location_unit == d.grid_a and event.intake_by == d.users["grid_worker_a"]
    assert event.status != EventStatus.CLOSED and event.category is not None
    assert event.source_ref.endswith("field-key-000001")
    shot = event.attachments.get()
    assert shot.stage == EventAttachment.Stage.REPORT and shot.content_type == "image/jpeg"
    assert AuditEntry.objects.filter(action="events.attachment.attach").count() == 1


def test_report__resend_with_the_same_key_registers_nothing_new(d, worker):
    worker.post(URL, report())
    again = worker.post(URL, report(), follow=True)
    assert Event.objects.filter(channel=Channel.GRID).count() == 1
    assert EventAttachment.objects.count() == 1
    assert any("already received" in str(m) for m in again.context["messages"])


def test_report__other_text_over_a_used_key_is_not_dropped(d, worker):
    worker.post(URL, report())
    other = worker.post(URL, report(description="另一处路灯不亮"))
    assert other.status_code == 400 and other.context["form"].non_field_errors()
    new_key = other.context["form"].data["key"]
    assert new_key != "field-key-000001"
    worker.post(URL, report(description="另一处路灯不亮", key=new_key))
    assert Event.objects.filter(channel=Channel.GRID).count() == 2


def test_report__htmx_send_answers_with_hx_redirect(d, worker):
    response = worker.post(URL, report(), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response["HX-Redirect"] == "/events/field/"


def test_on_spot__needs_an_after_photo_and_the_result(d, worker):
    response = worker.post(URL, report(outcome="on_spot", result=""))
    assert response.status_code == 400
    assert not Event.objects.exists()
    form = response.context["form"]
    assert "after_photos" in form.errors and "result" in form.errors


def test_on_spot__closes_at_once_with_report_and_result_photos(d, worker):
    response = worker.post(URL, report(outcome="on_spot", result="已把井盖复位并加固",
                                       after_photos=[photo("after.png", png_bytes(),
                                                           "image/png")]))
    assert response.status_code == 302
    event = Event.objects.get(channel=Channel.GRID)
    assert event.status == EventStatus.CLOSED and event.resolution == "已把井盖复位并加固"
    stages = sorted(event.attachments.values_list("stage", flat=True))
    assert stages == ["report", "result"]


def test_report__needs_a_photo_and_a_point(d, worker):
    response = worker.post(URL, report(photos=[], lat="", lon=""))
    assert response.status_code == 400
    form = response.context["form"]
    assert "photos" in form.errors and form.non_field_errors()
    assert not Event.objects.exists()


@pytest.mark.parametrize("name,data,ctype", [
    ("scan.pdf", PDF, "application/pdf"),
    ("fake.jpg", b"not an image at all", "image/jpeg"),
])
def test_report__non_images_refused_and_nothing_stored(d, worker, name, data, ctype):
    response = worker.post(URL, report(photos=[photo(name, data, ctype)]))
    assert response.status_code == 400 and "photos" in response.context["form"].errors
    assert not Event.objects.exists() and not EventAttachment.objects.exists()


def test_report__outside_my_grid_is_allowed_with_a_warning(d, worker):
    response = worker.post(URL, report(lat="22.51", lon="114.11"), follow=True)
    event = Event.objects.get(channel=Channel.GRID)
    assert event.location_unit == d.community_b
    notes = [str(m) for m in response.context["messages"]]
    assert any("outside your grid" in n for n in notes) and event.attachments.count() == 1


def test_report__chosen_category_is_kept(d, worker):
    worker.post(URL, report(category="010101"))
    assert Event.objects.get(channel=Channel.GRID).category.code == "010101"
    bad = worker.post(URL, report(key="field-key-000002", category="999999"))
    assert bad.status_code == 400 and "category" in bad.context["form"].errors


def test_suggest__classifier_and_catalog_search(d, worker):
    page = worker.get("/events/field/suggest/", {"description": "地铁口好多走鬼推车卖东西"})
    assert "流动摊贩" in page.content.decode()
    found = worker.get("/events/field/suggest/", {"q": "摊贩"}).content.decode()
    assert 'name="category"' in found and "摊贩" in found


def test_place__words_and_inside_my_grid(d, worker):
    page = worker.get("/events/report/place/", {"lat": "22.51", "lon": "114.01"})
    text = page.content.decode()
    assert "甲街道" in text and "甲一社区第1网格" in text
    outside = worker.get("/events/report/place/", {"lat": "22.51", "lon": "114.11"})
    assert "乙一社区" in outside.content.decode()
    assert worker.get("/events/report/place/", {"lat": "x"}).status_code == 400
