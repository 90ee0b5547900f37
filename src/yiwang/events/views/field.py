"""Pages: field. The grid worker's phone: the open events of my grid and what I reported
today, and the report form (采集上报): photos, the point, the category, the appeal type,
the description, then either 自处置 (fixed on the spot: an after-photo and the result
close it at once) or 上报 (registered for dispatch, dispatched automatically when the
classification is confident).

The form works on a slow or broken connection (``static/events/portal/report.js``): it
keeps a draft on the phone, sends in the background, and a resend never registers twice
(the form's key becomes the event's ``source_ref``)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from yiwang.core import policies
from yiwang.core.forms import StyledForm, apply_service_errors
from yiwang.core.views import staff_required

from .. import reporting
from ..classify import classify
from ..models import (
    OPEN_STATUSES,
    AppealType,
    Category,
    Channel,
    Event,
    EventStatus,
)

FIELD_PERMS = ("events.intake_event", "events.handle_event")
PER_PAGE = 20
TODAY_LIMIT = 50
MAX_TEXT = 2000

View = Callable[..., HttpResponse]


def grid_worker_required(view: View) -> View:
    """Signed-in staff who may both register and handle events (网格员)."""

    @staff_required
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not all(policies.has_perm(user, p) for p in FIELD_PERMS):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


OUTCOME_REPORT = "report"
OUTCOME_ON_SPOT = "on_spot"


class FieldReportForm(StyledForm):
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    photos = reporting.PhotosField(
        label=gettext_lazy("Photos of the problem"), required=True, capture=True,
        help_text=gettext_lazy("Take one or more photos (JPG or PNG)."))
    lat = forms.CharField(widget=forms.HiddenInput, required=False)
    lon = forms.CharField(widget=forms.HiddenInput, required=False)
    address = forms.CharField(
        label=gettext_lazy("Landmark or door number"), max_length=300, required=False,
        help_text=gettext_lazy("Helps the handler find the exact spot."))
    description = forms.CharField(
        label=gettext_lazy("What is the problem"), max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 4}))
    category = forms.CharField(required=False, max_length=12, widget=forms.HiddenInput)
    appeal_type = forms.ChoiceField(
        label=gettext_lazy("Type"), required=False, widget=forms.RadioSelect,
        choices=[("", gettext_lazy("As the category says")), *AppealType.choices])
    outcome = forms.ChoiceField(
        label=gettext_lazy("What happens next"), widget=forms.RadioSelect,
        initial=OUTCOME_REPORT,
        choices=[(OUTCOME_REPORT, gettext_lazy("Report it for dispatch (上报)")),
                 (OUTCOME_ON_SPOT, gettext_lazy("I fixed it on the spot (自处置)"))])
    after_photos = reporting.PhotosField(
        label=gettext_lazy("Photos after fixing"), capture=True,
        help_text=gettext_lazy("Needed when you fixed it yourself."))
    result = forms.CharField(
        label=gettext_lazy("What you did"), max_length=MAX_TEXT, required=False,
        widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["description"].widget.attrs.update({"maxlength": MAX_TEXT})
        self.category_obj: Category | None = None
        self.point: tuple[float, float] | None = None

    def clean_category(self) -> str:
        code = (self.cleaned_data.get("category") or "").strip()
        if code:
            self.category_obj = reporting.category_by_code(code)
            if self.category_obj is None:
                raise ValidationError(_("Choose a category from the list."))
        return code

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        point = reporting.parse_point(data.get("lat"), data.get("lon"))
        if point is None:
            self.add_error(None, _("Mark the place: tap the map or use your location."))
        self.point = point
        if data.get("outcome") == OUTCOME_ON_SPOT:
            if not self.files.getlist("after_photos") and not self.errors.get("after_photos"):
                self.add_error("after_photos",
                               _("Add a photo showing it fixed (自处置 needs one)."))
            if not (data.get("result") or "").strip():
                self.add_error("result", _("Say what you did."))
        return data


def done_response(request: HttpRequest, url: str) -> HttpResponse:
    """Where a submitted report lands: a redirect, or for the page's background send
    (htmx) an ``HX-Redirect``, so the flash message waits for the page it belongs to."""
    if getattr(request, "htmx", False):
        return HttpResponse(status=200, headers={"HX-Redirect": url})
    return redirect(url)


def _today_start() -> dt.datetime:
    now = timezone.localtime()
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


@require_GET
@grid_worker_required
def field_home(request: HttpRequest) -> HttpResponse:
    """My grid's open events (paginated) and what I reported today."""
    user: Any = request.user
    unit = policies.scope_unit(user)
    base = policies.restrict(Event.objects.all(), user, "view").select_related(
        "category", "handler_unit", "location_unit")
    open_events = base.filter(status__in=OPEN_STATUSES)
    if unit is not None:
        open_events = open_events.filter(location_unit__path__startswith=unit.path)
    page = Paginator(open_events.order_by("-received_at", "-pk"), PER_PAGE).get_page(
        request.GET.get("page"))
    today = list(Event.objects.filter(
        intake_by=user, channel=Channel.GRID, received_at__gte=_today_start(),
    ).select_related("category", "location_unit").order_by("-received_at")[:TODAY_LIMIT])
    return render(request, "events/field/home.html", {
        "unit": unit, "page_obj": page, "today": today,
        "today_closed": sum(1 for e in today if e.status == EventStatus.CLOSED),
    })


def _page(request: HttpRequest, form: FieldReportForm, *, status: int = 200
          ) -> HttpResponse:
    unit = policies.scope_unit(request.user)
    description = form.data.get("description", "") if form.is_bound else ""
    chosen = form.data.get("category", "") if form.is_bound else ""
    return render(request, "events/field/report.html", {
        "form": form, "unit": unit,
        "map": reporting.offline_map(reporting.map_units_for_grid(unit), mine=unit),
        "suggestions": _suggestions(description, chosen) if description.strip() else [],
        "chosen": chosen,
        "point": reporting.parse_point(form.data.get("lat"), form.data.get("lon"))
        if form.is_bound else None,
    }, status=status)


@require_http_methods(["GET", "POST"])
@grid_worker_required
def field_report(request: HttpRequest) -> HttpResponse:
    """采集上报 / 自处置."""
    user = request.user
    if request.method != "POST":
        return _page(request, FieldReportForm(initial={"key": reporting.new_key(),
                                                       "outcome": OUTCOME_REPORT}))
    done = reporting.already_submitted(actor=user, channel=Channel.GRID,
                                       key=request.POST.get("key", ""))
    if done is not None and reporting.resent(done, request.POST):
        # The phone sent it again (the first answer was lost): the first one stands.
        messages.info(request, _("Report %(number)s was already received.")
                      % {"number": done.number})
        return done_response(request, reverse("events:field_home"))
    if done is not None:  # another report typed over a kept draft: never drop it silently
        form = FieldReportForm(reporting.with_new_key(request.POST), request.FILES)
        form.is_valid()
        form.add_error(None, _("This form was already sent as report %(number)s. Check the "
                               "details and send again to register this one as a new "
                               "report.") % {"number": done.number})
        return _page(request, form, status=400)
    form = FieldReportForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        on_spot = data["outcome"] == OUTCOME_ON_SPOT
        lat, lon = form.point  # type: ignore[misc]
        try:
            event, created = reporting.report_submit(
                actor=user, channel=Channel.GRID, key=data["key"],
                description=data["description"], appeal_type=data["appeal_type"],
                category=form.category_obj, lat=lat, lon=lon, address=data["address"],
                photos=data["photos"], after_photos=data["after_photos"] if on_spot else [],
                resolved_on_spot=data["result"].strip() if on_spot else "")
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            _tell(request, event, created=created)
            return done_response(request, reverse("events:field_home"))
    return _page(request, form, status=400)


def _tell(request: HttpRequest, event: Event, *, created: bool) -> None:
    if not created:
        messages.info(request, _("Report %(number)s was already received.")
                      % {"number": event.number})
        return
    if event.status == EventStatus.CLOSED:
        text = _("Report %(number)s registered and closed as fixed on the spot.")
    elif event.status == EventStatus.DISPATCHED and event.handler_unit is not None:
        text = _("Report %(number)s registered and dispatched to %(unit)s.")
    elif event.status == EventStatus.EXTERNAL:
        text = _("Report %(number)s registered and sent to the responsible party first.")
    else:
        text = _("Report %(number)s registered; the dispatch centre will route it.")
    messages.success(request, text % {
        "number": event.number,
        "unit": event.handler_unit.name if event.handler_unit else ""})
    unit = policies.scope_unit(request.user)
    if event.location_unit is not None and unit is not None \
            and not event.location_unit.path.startswith(unit.path):
        messages.warning(request, _("Note: the point you marked is in %(place)s, outside "
                                    "your grid.") % {"place": event.location_unit.name})


def _suggestions(text: str, chosen: str) -> list[dict[str, Any]]:
    text = text.strip()[:MAX_TEXT]
    if not text:
        return []
    return [{"code": s.code, "name": s.name, "percent": round(s.score * 100),
             "checked": s.code == chosen} for s in classify(text, limit=5)]


@require_GET
@grid_worker_required
def field_suggest(request: HttpRequest) -> HttpResponse:
    """Catalog items for the description typed so far (classifier) or a search."""
    text = request.GET.get("description", "")[:MAX_TEXT]
    query = request.GET.get("q", "")[:50]
    chosen = request.GET.get("category", "")[:12]
    found = [{"code": c.code, "name": c.name, "checked": c.code == chosen}
             for c in reporting.category_search(query)] if query.strip() else []
    return render(request, "events/field/_suggest.html", {
        "suggestions": _suggestions(text, chosen), "found": found, "query": query,
        "asked": bool(text.strip() or query.strip()), "chosen": chosen})


urlpatterns: list[URLPattern] = [
    path("events/field/", field_home, name="field_home"),
    path("events/field/report/", field_report, name="field_report"),
    path("events/field/suggest/", field_suggest, name="field_suggest"),
]
