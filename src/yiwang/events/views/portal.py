"""Pages: portal. Citizens and enterprises report a problem (a pin on the offline map,
photos, text, the appeal type), follow their appeals in plain language and rate the
result (回访); reporters without an account rate from the SMS link; a responsible party
answers the external loop (内外双循环) from its link. The two link pages need no sign-in:
the token in the address is the credential, and an unknown token is a plain 404."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yiwang.core import policies
from yiwang.core.forms import StyledForm, apply_service_errors
from yiwang.core.validators import mask_phone, normalize_phone
from yiwang.services.views.applicant import applicant_required

from .. import callbacks, reporting, services
from ..attachments import attachment_add, attachment_get, attachment_open, discard_on_error
from ..models import (
    AppealType,
    Callback,
    Channel,
    Event,
    EventAttachment,
    EventStatus,
    EventUpdate,
    ExternalTask,
    Satisfaction,
)
from .field import done_response

PER_PAGE = 10
# A mobile number written into the report's text: masked for the responsible party.
PHONE_IN_TEXT = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
MAX_TEXT = 2000

# What each appeal type means, in a citizen's words (shown under the choice).
APPEAL_HINTS = {
    AppealType.COMPLAINT: gettext_lazy("Something is wrong and someone is responsible."),
    AppealType.HELP: gettext_lazy("You need help with a problem."),
    AppealType.REPORT: gettext_lazy("Someone is breaking the rules."),
    AppealType.CONSULT: gettext_lazy("You have a question."),
    AppealType.SUGGESTION: gettext_lazy("An idea to make things better."),
}
APPEAL_ORDER = (AppealType.COMPLAINT, AppealType.HELP, AppealType.REPORT,
                AppealType.CONSULT, AppealType.SUGGESTION)


# --- report -----------------------------------------------------------------------------


class PortalReportForm(StyledForm):
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    appeal_type = forms.ChoiceField(
        label=gettext_lazy("What kind of appeal is it"), widget=forms.RadioSelect,
        choices=[(t.value, t.label) for t in APPEAL_ORDER])
    description = forms.CharField(
        label=gettext_lazy("What is the problem"), max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy("What happened, since when, and what you would like done."))
    lat = forms.CharField(widget=forms.HiddenInput, required=False)
    lon = forms.CharField(widget=forms.HiddenInput, required=False)
    address = forms.CharField(
        label=gettext_lazy("Address or landmark"), max_length=300, required=False,
        help_text=gettext_lazy("For example: 和平路1号 the north gate of the market."))
    photos = reporting.PhotosField(
        label=gettext_lazy("Photos"),
        help_text=gettext_lazy("Up to 9 photos (JPG or PNG). They help the handler a lot."))
    phone = forms.CharField(
        label=gettext_lazy("Phone number for the handler to call you"), max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["description"].widget.attrs.update({"maxlength": MAX_TEXT})
        self.point: tuple[float, float] | None = None

    def clean_phone(self) -> str:
        try:
            return normalize_phone(self.cleaned_data["phone"].strip(), personal=True)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        raw_lat, raw_lon = data.get("lat"), data.get("lon")
        self.point = reporting.parse_point(raw_lat, raw_lon) if raw_lat or raw_lon else None
        if (raw_lat or raw_lon) and self.point is None:
            self.add_error(None, _("The marked place could not be read; mark it again."))
        if self.point is None and not (data.get("address") or "").strip():
            self.add_error("address", _("Mark the place on the map, use your location, or "
                                        "write the address."))
        return data


def _report_page(request: HttpRequest, form: PortalReportForm, *, status: int = 200
                 ) -> HttpResponse:
    return render(request, "events/portal/report.html", {
        "form": form, "map": reporting.offline_map(reporting.map_units_for_portal()),
        "appeal_hints": {str(k): v for k, v in APPEAL_HINTS.items()},
        "point": reporting.parse_point(form.data.get("lat"), form.data.get("lon"))
        if form.is_bound else None,
    }, status=status)


@require_http_methods(["GET", "POST"])
@applicant_required
def portal_report(request: HttpRequest) -> HttpResponse:
    """Report a problem (民生诉求) from the portal."""
    user: Any = request.user
    if request.method != "POST":
        return _report_page(request, PortalReportForm(initial={
            "key": reporting.new_key(), "phone": user.phone or "",
            "appeal_type": AppealType.COMPLAINT}))
    done = reporting.already_submitted(actor=user, channel=Channel.PORTAL,
                                       key=request.POST.get("key", ""))
    if done is not None and reporting.resent(done, request.POST):
        messages.info(request, _("Your appeal %(number)s was already received.")
                      % {"number": done.number})
        return done_response(request, reverse("events:portal_event", args=[done.number]))
    if done is not None:  # another appeal typed over a kept draft: never drop it silently
        form = PortalReportForm(reporting.with_new_key(request.POST), request.FILES)
        form.is_valid()
        form.add_error(None, _("This form was already sent as appeal %(number)s. Check the "
                               "details and send again to register this one as a new "
                               "appeal.") % {"number": done.number})
        return _report_page(request, form, status=400)
    form = PortalReportForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        lat, lon = form.point if form.point else (None, None)
        try:
            event, created = reporting.report_submit(
                actor=user, channel=Channel.PORTAL, key=data["key"],
                description=data["description"], appeal_type=data["appeal_type"],
                lat=lat, lon=lon, address=data["address"], photos=data["photos"],
                reporter=user, reporter_name=user.name, reporter_phone=data["phone"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            if created:
                messages.success(request, _(
                    "Thank you. Your appeal is registered as %(number)s; we will keep you "
                    "informed here and by SMS.") % {"number": event.number})
            else:
                messages.info(request, _("Your appeal %(number)s was already received.")
                              % {"number": event.number})
            return done_response(request, reverse("events:portal_event", args=[event.number]))
    return _report_page(request, form, status=400)


@require_GET
@never_cache
@login_required
def report_place(request: HttpRequest) -> HttpResponse:
    """Where a point lies, in words (for the point picker of both report forms)."""
    point = reporting.parse_point(request.GET.get("lat"), request.GET.get("lon"))
    if point is None:
        return render(request, "events/portal/_place.html", {"error": True}, status=400)
    place = reporting.place_of(lat=point[0], lon=point[1])
    mine = None
    if getattr(request.user, "kind", "") == "staff":
        unit = policies.scope_unit(request.user)
        if unit is not None and unit.kind == "grid":
            mine = {"unit": unit, "inside": place.inside(unit)}
    return render(request, "events/portal/_place.html", {"place": place, "mine": mine})


# --- my appeals -------------------------------------------------------------------------


def _my_events(user: Any) -> Any:
    return policies.restrict(Event.objects.all(), user, "view")


def _my_event(user: Any, number: str) -> Event:
    event = (_my_events(user).select_related("category", "handler_unit", "location_unit")
             .filter(number=number).first())
    if event is None:
        raise Http404
    return event


# What a citizen reads for each status: where it is, in plain words.
STATUS_WORDS: dict[str, Any] = {
    EventStatus.RECEIVED: gettext_lazy("Received — being routed to the right department"),
    EventStatus.EXTERNAL: gettext_lazy("Passed to the party responsible for the place"),
    EventStatus.DISPATCHED: gettext_lazy("Sent to the department that handles it"),
    EventStatus.ACCEPTED: gettext_lazy("The department has taken it on"),
    EventStatus.IN_PROGRESS: gettext_lazy("Being handled"),
    EventStatus.RESOLVED: gettext_lazy("Done — please tell us if you are satisfied"),
    EventStatus.CLOSED: gettext_lazy("Closed"),
    EventStatus.MERGED: gettext_lazy("Handled together with a report of the same problem"),
}
STATUS_TONE: dict[str, str] = {EventStatus.RESOLVED: "warn", EventStatus.CLOSED: "good",
               EventStatus.MERGED: "muted"}


@require_GET
@applicant_required
def portal_mine(request: HttpRequest) -> HttpResponse:
    """My appeals with their status, newest first."""
    events = _my_events(request.user).select_related("category").order_by(
        "-received_at", "-pk")
    page = Paginator(events, PER_PAGE).get_page(request.GET.get("page"))
    rows = [{"event": e, "words": STATUS_WORDS.get(e.status, e.get_status_display()),
             "tone": STATUS_TONE.get(e.status, "")} for e in page.object_list]
    return render(request, "events/portal/mine.html", {
        "page_obj": page, "rows": rows,
        "to_rate": _my_events(request.user).filter(status=EventStatus.RESOLVED).count()})


def _public_timeline(event: Event) -> list[dict[str, Any]]:
    """The public steps, each in a sentence a citizen understands; staff notes stay
    inside (only the result texts are the citizen's to read)."""
    rows = []
    for update in EventUpdate.objects.filter(event=event, public=True).select_related(
            "unit").order_by("at", "pk"):
        data = update.data or {}
        unit = update.unit.name if update.unit else ""
        text, detail = "", ""
        if update.action == "create":
            text = _("We received your appeal.")
        elif update.action == "dispatch":
            text = (_("Sent to %(unit)s to handle.") % {"unit": unit} if unit
                    else _("Sent to the department that handles it."))
        elif update.action == "accept":
            text = _("The department has taken it on.")
        elif update.action in ("resolve", "external_fixed"):
            text = _("The department reports it is done.") if update.action == "resolve" \
                else _("The party responsible for the place reports it is fixed.")
            detail = update.note
        elif update.action == "callback":
            label = Satisfaction(data["satisfaction"]).label if data.get(
                "satisfaction") in Satisfaction.values else ""
            text = _("Your verdict: %(verdict)s.") % {"verdict": label}
            if data.get("reopened"):
                text += " " + _("It is being handled again.")
            elif data.get("supervised"):
                text += " " + _("The district supervises it now.")
        elif update.action == "close":
            text = _("Closed.")
        elif update.action == "reopen":
            text = _("It is being handled again.")
        elif update.action == "merge":
            text = _("Handled together with a report of the same problem.")
        elif update.action == "internal":
            text = _("The responsible party did not fix it in time; the enforcement "
                     "department takes it on.")
        else:
            continue
        rows.append({"at": update.at, "text": text, "detail": detail})
    return rows


class CallbackForm(StyledForm):
    satisfaction = forms.TypedChoiceField(
        label=gettext_lazy("Are you satisfied with the result"), coerce=int,
        widget=forms.RadioSelect,
        choices=[(s.value, s.label) for s in (Satisfaction.SATISFIED, Satisfaction.BASICALLY,
                                              Satisfaction.DISSATISFIED)])
    note = forms.CharField(label=gettext_lazy("Anything to add"), max_length=1000,
                           required=False, widget=forms.Textarea(attrs={"rows": 3}),
                           help_text=gettext_lazy("If you are dissatisfied, tell us what "
                                                  "is still wrong."))
    revision = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("satisfaction") == Satisfaction.DISSATISFIED and \
                not (data.get("note") or "").strip():
            self.add_error("note", _("Tell us what is still wrong, so it can be put right."))
        return data


def _event_page(request: HttpRequest, event: Event, *, form: CallbackForm | None = None,
                status: int = 200) -> HttpResponse:
    can_rate = event.status == EventStatus.RESOLVED
    photos = list(event.attachments.order_by("uploaded_at", "pk"))
    return render(request, "events/portal/event.html", {
        "event": event, "words": STATUS_WORDS.get(event.status, ""),
        "tone": STATUS_TONE.get(event.status, ""),
        "timeline": _public_timeline(event),
        "report_photos": [p for p in photos if p.stage == EventAttachment.Stage.REPORT],
        "result_photos": [p for p in photos if p.stage != EventAttachment.Stage.REPORT],
        "can_rate": can_rate,
        "form": form or (CallbackForm(initial={"revision": event.revision})
                         if can_rate else None),
        "callbacks": list(event.callbacks.order_by("round")),
        "phone": mask_phone(event.reporter_phone),
    }, status=status)


@require_GET
@applicant_required
def portal_event(request: HttpRequest, event_number: str) -> HttpResponse:
    """One of my appeals: where it is, the public timeline, the result, the callback."""
    return _event_page(request, _my_event(request.user, event_number))


@require_POST
@applicant_required
def portal_callback(request: HttpRequest, event_number: str) -> HttpResponse:
    """回访 from the portal: 满意 / 基本满意 close it, 不满意 reopens it."""
    event = _my_event(request.user, event_number)
    if event.status != EventStatus.RESOLVED:
        messages.error(request, _("This appeal is not waiting for your verdict."))
        return redirect(reverse("events:portal_event", args=[event.number]))
    form = CallbackForm(request.POST)
    if not form.is_valid():
        return _event_page(request, event, form=form, status=400)
    data = form.cleaned_data
    try:
        event = services.event_callback(
            actor=request.user, event=event, satisfaction=data["satisfaction"],
            method=Callback.Method.PORTAL, note=data["note"].strip(), by_reporter=True,
            expected_revision=data.get("revision"))
    except services.TransitionError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(reverse("events:portal_event", args=[event.number]))
    except ValidationError as exc:
        apply_service_errors(form, exc)
        return _event_page(request, event, form=form, status=400)
    messages.success(request, _verdict_message(event))
    return redirect(reverse("events:portal_event", args=[event.number]))


def _verdict_message(event: Event) -> str:
    if event.status == EventStatus.CLOSED:
        return _("Thank you for your verdict. The appeal is closed.")
    if event.supervised:
        return _("Thank you. The district supervision office now follows it up.")
    return _("Thank you. The appeal is handled again, and the department will contact you.")


@require_GET
@never_cache
@applicant_required
def portal_photo(request: HttpRequest, photo_id: int) -> Any:
    """A photo of one of my appeals (404 for anyone else's)."""
    item = attachment_get(actor=request.user, attachment_id=photo_id)
    handle = attachment_open(actor=request.user, attachment=item)
    response = FileResponse(handle, filename=item.original_name,
                            content_type=item.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- the SMS callback link --------------------------------------------------------------


class LinkCallbackForm(CallbackForm):
    pass


@require_http_methods(["GET", "POST"])
@never_cache
def callback_link(request: HttpRequest, callback_token: str) -> HttpResponse:
    """回访 from the SMS link, for reporters without an account."""
    link = callbacks.read_link(callback_token)
    if link is None or link.event is None:
        raise Http404
    if link.state != "open":
        return _link_closed(request, link.state, link.event)
    form = LinkCallbackForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            event = callbacks.callback_by_link(token=callback_token,
                                               satisfaction=data["satisfaction"],
                                               note=data["note"].strip())
        except services.TransitionError:
            return _link_closed(request, "used", link.event)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _verdict_message(event))
            return redirect(reverse("events:callback_link", args=[callback_token]))
    return render(request, "events/portal/callback_link.html", {
        "event": link.event, "form": form,
    }, status=400 if form.is_bound and form.errors else 200)


def _link_closed(request: HttpRequest, state: str, event: Event | None) -> HttpResponse:
    status = {"expired": 410, "used": 200, "closed": 200, "fixed": 200}.get(state, 200)
    return render(request, "events/portal/link_closed.html", {
        "state": state, "event": event}, status=status)


# --- the external loop link -------------------------------------------------------------


class ExternalForm(StyledForm):
    fixed = forms.TypedChoiceField(
        label=gettext_lazy("Is it fixed"), widget=forms.RadioSelect,
        coerce=lambda v: v == "1",
        choices=[("1", gettext_lazy("Yes, it is fixed")),
                 ("0", gettext_lazy("Not yet"))])
    response = forms.CharField(
        label=gettext_lazy("What you did, or when it will be done"), max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 4}))
    photos = reporting.PhotosField(
        label=gettext_lazy("Photo of the fixed place"), capture=True,
        help_text=gettext_lazy("Needed when it is fixed (JPG or PNG)."))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("fixed") and not self.files.getlist("photos") \
                and not self.errors.get("photos"):
            self.add_error("photos", _("Add a photo that shows it is fixed."))
        return data


def _task(token: str) -> ExternalTask:
    if not token or len(token) > 100:
        raise Http404
    task = services.external_task_for(token)
    if task is None:
        raise Http404
    return task


@require_http_methods(["GET", "POST"])
@never_cache
def external_task(request: HttpRequest, external_token: str) -> HttpResponse:
    """The responsible party's page of the external loop (no reporter data)."""
    task = _task(external_token)
    if task.status == ExternalTask.Status.FIXED:
        return _link_closed(request, "fixed", task.event)
    if task.status != ExternalTask.Status.SENT or task.due_at < timezone.now():
        return _link_closed(request, "expired", task.event)
    form = ExternalForm(request.POST if request.method == "POST" else None,
                        request.FILES if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with discard_on_error(), transaction.atomic():
                event = services.external_respond(token=external_token, fixed=data["fixed"],
                                                  response=data["response"])
                for upload, checked in data["photos"]:
                    attachment_add(actor=None, event=event, upload=upload, checked=checked,
                                   stage=EventAttachment.Stage.RESULT, via="external")
        except services.TransitionError:
            return _link_closed(request, "expired", task.event)
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Thank you. The district has your answer.")
                             if not data["fixed"] else
                             _("Thank you. The reporter will be asked to confirm."))
            return redirect(reverse("events:external_task", args=[external_token]))
    event = task.event
    description = PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group()), event.description)
    replies = list(EventUpdate.objects.filter(event=event, action="external_reply")
                   .order_by("at")) if task.responded_at else []
    return render(request, "events/portal/external_task.html", {
        "task": task, "event": event, "form": form, "replies": replies,
        "description": description,
    }, status=400 if form.is_bound and form.errors else 200)


urlpatterns: list[URLPattern] = [
    path("events/report/", portal_report, name="portal_report"),
    path("events/report/place/", report_place, name="report_place"),
    path("events/my/", portal_mine, name="portal_mine"),
    path("events/my/photos/<int:photo_id>/", portal_photo, name="portal_photo"),
    path("events/my/<str:event_number>/", portal_event, name="portal_event"),
    path("events/my/<str:event_number>/callback/", portal_callback, name="portal_callback"),
    path("events/callback/<str:callback_token>/", callback_link, name="callback_link"),
    path("events/external/<str:external_token>/", external_task, name="external_task"),
]
