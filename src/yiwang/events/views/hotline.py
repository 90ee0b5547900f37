"""Pages: hotline. The 12345 operator's screen, built for speed during a call: the
caller's number shows earlier appeals, the text gets live category suggestions, the
address gets place suggestions, and one submit registers the event (``intake_event``)
and shows the number to read back, with a fresh form for the next call.

The three look-ups are htmx partials; without JavaScript the page still works: the
classifier and the locator run on submit."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from yiwang.core.forms import apply_service_errors
from yiwang.core.validators import mask_phone, normalize_phone

from .. import selectors
from ..classify import classify
from ..forms import APPEAL_TYPE_ORDER, HotlineForm, published_item
from ..models import Category, Event, EventStatus, HandlerType
from .dispatch import deadline_of, event_permission_required

INTAKE = "events.intake_event"
SESSION_LAST = "events_hotline_last"
MAX_SUGGEST_TEXT = 2000


def _implied_handler(category: Category) -> str:
    if category.handler_type == HandlerType.TERRITORIAL:
        return _("The street where it happens")
    if category.handler_unit is not None:
        return category.handler_unit.name
    return category.default_handler or "—"


def suggestions_for(text: str, *, chosen: str = "") -> list[dict[str, Any]]:
    """The classifier's top 5 for ``text``, each with its score and the handler it implies
    (one query for the items, whatever the model)."""
    text = text.strip()[:MAX_SUGGEST_TEXT]
    if not text:
        return []
    ranked = classify(text, limit=5)
    items = {c.pk: c for c in Category.objects.select_related("handler_unit").filter(
        pk__in=[s.category_id for s in ranked])}
    rows = []
    for s in ranked:
        category = items.get(s.category_id)
        if category is None:
            continue
        rows.append({"code": s.code, "name": s.name, "score": s.score,
                     "percent": round(s.score * 100), "handler": _implied_handler(category),
                     "urgent": category.urgency == "urgent",
                     "external": category.external_loop,
                     "checked": s.code == chosen})
    return rows


def _last_call(request: HttpRequest) -> dict[str, Any] | None:
    """The event of the call just registered (once, after the redirect)."""
    number = request.session.pop(SESSION_LAST, None)
    if not number:
        return None
    event = (Event.objects.select_related("handler_unit", "category", "clock")
             .filter(number=number, intake_by_id=request.user.pk).first())
    if event is None:
        return None
    if event.status == EventStatus.CLOSED:
        outcome = _("Answered and closed on the spot.")
    elif event.status == EventStatus.DISPATCHED and event.handler_unit is not None:
        outcome = _("Dispatched automatically to %(unit)s.") % {"unit": event.handler_unit.name}
    elif event.status == EventStatus.EXTERNAL:
        outcome = _("Sent to the responsible party first (external loop).")
    else:
        outcome = _("In the dispatch queue.")
    return {"event": event, "outcome": outcome, "deadline": deadline_of(event),
            "spoken": " ".join(event.number[i:i + 4] for i in range(0, len(event.number), 4))}


def _page(request: HttpRequest, form: HotlineForm, *, status: int = 200,
          phone: str = "") -> HttpResponse:
    chosen = form.data.get("category", "") if form.is_bound else ""
    description = form.data.get("description", "") if form.is_bound else ""
    phone = form.data.get("phone", "") if form.is_bound else phone
    return render(request, "events/hotline/hotline.html", {
        "form": form, "last": None if form.is_bound else _last_call(request),
        "suggestions": suggestions_for(description, chosen=chosen) if description else [],
        "chosen": chosen,
        "history": _history(request, phone) if phone else None,
        "appeal_keys": [(i + 1, t.value) for i, t in enumerate(APPEAL_TYPE_ORDER)],
    }, status=status)


@require_http_methods(["GET", "POST"])
@event_permission_required(INTAKE)
def hotline(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        # The telephony system may open the screen with the caller's number (?phone=).
        phone = request.GET.get("phone", "")[:30].strip()
        form = HotlineForm(initial={"call_id": uuid.uuid4().hex, "phone": phone})
        return _page(request, form, phone=phone)
    form = HotlineForm(request.POST)
    if form.is_valid():
        try:
            event = form.submit(actor=request.user)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            request.session[SESSION_LAST] = event.number
            return redirect(reverse("events:hotline"))
    return _page(request, form, status=400)


def _history(request: HttpRequest, raw: str) -> dict[str, Any]:
    try:
        phone = normalize_phone(raw.strip(), personal=True)
    except ValidationError as exc:
        return {"error": " ".join(exc.messages), "rows": [], "phone": ""}
    rows = selectors.caller_history(actor=request.user, phone=phone)
    return {"error": "", "phone": mask_phone(phone), "rows": [
        {"event": e, "deadline": None} for e in rows],
        "limit": selectors.HISTORY_LIMIT}


@require_GET
@event_permission_required(INTAKE)
def hotline_history(request: HttpRequest) -> HttpResponse:
    """The caller's earlier appeals in the operator's scope (masked number, newest first)."""
    raw = request.GET.get("phone", "")[:40]
    history = _history(request, raw) if raw.strip() else None
    return render(request, "events/hotline/_history.html", {"history": history})


@require_GET
@event_permission_required(INTAKE)
def hotline_suggest(request: HttpRequest) -> HttpResponse:
    """Top-5 catalog items for the text typed so far, with scores and implied handlers."""
    text = request.GET.get("text") or request.GET.get("description") or ""
    chosen = request.GET.get("category", "")
    if chosen and published_item(chosen) is None:
        chosen = ""
    return render(request, "events/hotline/_suggest.html", {
        "suggestions": suggestions_for(text, chosen=chosen), "chosen": chosen,
        "asked": bool(text.strip())})


@require_GET
@event_permission_required(INTAKE)
def hotline_places(request: HttpRequest) -> HttpResponse:
    """Streets, communities and grids matching the address typed so far."""
    text = (request.GET.get("address") or request.GET.get("q") or "")[:100]
    units = selectors.place_suggestions(text=text)
    return render(request, "events/hotline/_places.html", {
        "places": [{"unit": u, "label": _place_label(u)} for u in units],
        "asked": bool(text.strip())})


def _place_label(unit: Any) -> str:
    parent = unit.parent
    if parent is not None and parent.kind != "district":
        return f"{parent.name}{unit.name}"
    return str(unit.name)


urlpatterns: list[URLPattern] = [
    path("events/hotline/", hotline, name="hotline"),
    path("events/hotline/history/", hotline_history, name="hotline_history"),
    path("events/hotline/suggest/", hotline_suggest, name="hotline_suggest"),
    path("events/hotline/places/", hotline_places, name="hotline_places"),
]
