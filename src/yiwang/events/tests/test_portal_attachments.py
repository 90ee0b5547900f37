"""``events.attachments``: photos only through ``attachment_add``, who may add them, and
reads scoped to the event and audited."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404

from yiwang.core.audit import AuditEntry
from yiwang.core.tests.factories import make_citizen
from yiwang.events.attachments import attachment_add, attachment_get, attachment_open
from yiwang.events.models import Channel, EventAttachment
from yiwang.events.tests.factories import add_event_staff, load_catalog, new_event
from yiwang.events.tests.photos import jpeg_bytes, png_bytes

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
    district.citizen = make_citizen(phone="13800138000")
    district.stranger = make_citizen(username="stranger", id_number="110105194912310037")
    return district


def png(name="p.png"):
    return SimpleUploadedFile(name, png_bytes(), content_type="image/png")


def test_add__reporter_and_staff_in_scope(d):
    event = new_event(d, reporter=d.citizen, channel=Channel.PORTAL)
    mine = attachment_add(actor=d.citizen, event=event, upload=png(), stage="report")
    assert mine.content_type == "image/png" and mine.uploaded_by == d.citizen
    staff = attachment_add(actor=d.users["street_handler"], event=event,
                           upload=SimpleUploadedFile("x.jpg", jpeg_bytes()), stage="result")
    assert staff.content_type == "image/jpeg"
    assert AuditEntry.objects.filter(action="events.attachment.attach").count() == 2


@pytest.mark.parametrize("who", ["stranger", "street_b_handler", "clerk_a"])
def test_add__refused_to_others(d, who):
    event = new_event(d, reporter=d.citizen, channel=Channel.PORTAL)
    actor = d.stranger if who == "stranger" else d.users[who]
    with pytest.raises(PermissionDenied):
        attachment_add(actor=actor, event=event, upload=png(), stage="report")
    with pytest.raises(PermissionDenied):
        attachment_add(actor=None, event=event, upload=png(), stage="result")
    assert not EventAttachment.objects.exists()


def test_add__a_pdf_named_like_a_photo_is_refused(d):
    event = new_event(d, reporter=d.citizen, channel=Channel.PORTAL)
    pdf = SimpleUploadedFile("scan.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
    with pytest.raises(ValidationError) as refused:
        attachment_add(actor=d.citizen, event=event, upload=pdf, stage="report")
    assert "JPG" in str(refused.value) and not EventAttachment.objects.exists()


def test_open__scoped_and_audited(d):
    event = new_event(d, reporter=d.citizen, channel=Channel.PORTAL)
    shot = attachment_add(actor=d.citizen, event=event, upload=png(), stage="report")
    found = attachment_get(actor=d.users["street_handler"], attachment_id=shot.pk)
    attachment_open(actor=d.users["street_handler"], attachment=found).close()
    assert AuditEntry.objects.filter(action="events.attachment.read").count() == 1
    for outsider in (d.stranger, d.users["street_b_handler"]):
        with pytest.raises(Http404):
            attachment_get(actor=outsider, attachment_id=shot.pk)
        with pytest.raises(Http404):
            attachment_open(actor=outsider, attachment=shot)
