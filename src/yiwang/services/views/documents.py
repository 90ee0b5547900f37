"""Pages: documents — the decision notice of a case, as issued (ADR 0007)."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from yiwang.core import policies
from yiwang.core.audit import audit_log

from .. import documents
from ..models import Case


def attachment_header(filename: str, fallback: str) -> str:
    """``Content-Disposition`` for a download: an ASCII name for old clients and the real
    one as RFC 5987 ``filename*`` (RFC 6266 §4.3)."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@require_GET
@login_required
@never_cache
def case_notice(request: HttpRequest, decided_number: str) -> HttpResponse:
    """The decision notice of a case: its applicant, or staff whose scope holds the case."""
    case = policies.get_for_action(
        Case.objects.select_related("department"), request.user, number=decided_number)
    material = documents.notice_of(case)
    if material is None:
        raise Http404
    content = documents.notice_content(material)
    audit_log(actor=request.user, action="services.notice.download", obj=material,
              object_label=material.original_name, scope_path=case.department.path,
              after={"case": case.number, "sha256": material.sha256})
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = attachment_header(
        material.original_name, f"{documents.NOTICE_FILE_PREFIX}{case.number}.pdf")
    response["Content-Length"] = str(len(content))
    return response


urlpatterns: list[URLPattern] = [
    path("services/cases/<str:decided_number>/notice.pdf", case_notice,
         name="case_notice"),
]
