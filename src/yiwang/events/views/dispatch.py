"""Pages: dispatch. The dispatch centre's queue, the handler inbox, the event page with
one form per allowed transition, the reporter's contact (audited), attachments and
summons responses. Views parse and check; ``events.services`` changes state."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, re_path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from yiwang.core import policies
from yiwang.core.audit import audit_pii_read
from yiwang.core.forms import apply_service_errors
from yiwang.core.models import OrgUnit
from yiwang.core.validators import mask_name, mask_phone
from yiwang.core.views import staff_required

from .. import selectors, services
from ..attachments import attachment_open
from ..forms import (
    ACTION_FORMS,
    STAFF_ACTIONS,
    ActionForm,
    ListFilterForm,
    SummonsResponseForm,
)
from ..models import (
    Event,
    EventAttachment,
    EventStatus,
    ExternalTask,
    RequestStatus,
    ResponsibleParty,
    ReturnRequest,
    Summons,
    SummonsResponse,
)

PER_PAGE = 25
VIEW_EVENT = "events.view_event"
QUEUE_PERMS = ("events.dispatch_event", "events.supervise_event", "events.callback_event")
INBOX_PERMS = ("events.handle_event", "events.supervise_event")
# Who must call the citizen (first contact, callback) sees the number in full, audited.
REVEAL_PERMS = ("accounts.view_personal_data", "events.handle_event", "events.callback_event")
PRIMARY_ACTIONS = ("dispatch", "accept", "start", "resolve", "callback", "decide_extension",
                   "decide_dispute")

View = Callable[..., Any]  # pages and file downloads


def event_permission_required(*perms: str) -> Callable[[View], View]:
    """Signed-in staff who may read events and hold any of ``perms``."""

    def decorator(view: View) -> View:
        @staff_required
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            user = request.user
            if not policies.has_perm(user, VIEW_EVENT) or (
                    perms and not any(policies.has_perm(user, p) for p in perms)):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def deadline_of(event: Event, reader: selectors.DeadlineReader | None = None) -> Any:
    return (reader or selectors.DeadlineReader()).of(event)  # type: ignore[arg-type]


def action_url(action: str, number: str) -> str:
    return reverse(f"events:event_action_{action}", args=[number])


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    ok = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                         require_https=request.is_secure())
    return target if ok else ""


def _may(user: Any, action: str) -> bool:
    """The actor's roles allow ``action`` at all (scope and state are checked elsewhere)."""
    perm = services.TRANSITIONS[action].perm or ""
    return any(policies.has_perm(user, p) for p in perm.split("|") if p)


# --- lists ------------------------------------------------------------------------------


class _Targets:
    """Dispatch targets per centre for a page of rows, from one query."""

    def __init__(self, actor: Any) -> None:
        root = policies.scope_path(actor) or "-"
        if root == "/":
            root = ""
        kinds = {*selectors.TARGET_KINDS_FROM_DISTRICT, *selectors.TARGET_KINDS_FROM_STREET}
        self.units = list(OrgUnit.objects.filter(
            path__startswith=root or "/", kind__in=kinds, is_active=True
        ).order_by("kind", "path")[:1000])
        self._memo: dict[int, list[OrgUnit]] = {}
        self._options: dict[int, str] = {}

    def of(self, centre: OrgUnit) -> list[OrgUnit]:
        if centre.pk not in self._memo:
            kinds = (selectors.TARGET_KINDS_FROM_STREET if centre.kind == "street"
                     else selectors.TARGET_KINDS_FROM_DISTRICT)
            self._memo[centre.pk] = [u for u in self.units if u.kind in kinds
                                     and u.path.startswith(centre.path) and u.pk != centre.pk]
        return self._memo[centre.pk]

    def options(self, centre: OrgUnit) -> str:
        """The ``<option>``s of the centre's targets, rendered once per page: a queue of
        25 rows at the district would otherwise render thousands of options through the
        template engine (most of the page's time)."""
        if centre.pk not in self._options:
            self._options[centre.pk] = format_html_join(
                "", '<option value="{}">{}</option>', ((u.pk, u.name) for u in self.of(centre)))
        return self._options[centre.pk]


def _lead_options(options: str, suggested: OrgUnit | None) -> str:
    """The centre's options with the suggested unit chosen and marked."""
    if suggested is None:
        return options
    plain = format_html('<option value="{}">{}</option>', suggested.pk, suggested.name)
    marked = format_html('<option value="{}" selected>{} ({})</option>', suggested.pk,
                         suggested.name, _("suggested"))
    return mark_safe(options.replace(plain, marked, 1))  # noqa: S308 — both sides escaped


def _rows(user: Any, events: list[Event], *, quick_dispatch: bool) -> list[dict[str, Any]]:
    reader = selectors.DeadlineReader()
    targets = _Targets(user) if quick_dispatch and _may(user, "dispatch") else None
    returns: dict[int, ReturnRequest] = {}
    if any(e.return_count for e in events):
        for r in ReturnRequest.objects.filter(
                event__in=[e for e in events if e.return_count],
                status=RequestStatus.PENDING).order_by("created_at"):
            returns[r.event_id] = r
    rows = []
    for event in events:
        suggested = services.default_handler(event) if event.category_id else None
        pending = returns.get(event.pk)
        can_dispatch = bool(targets and event.status == EventStatus.RECEIVED
                            and not (pending and pending.disputed))
        options = targets.options(event.dispatch_unit) if targets and can_dispatch else ""
        rows.append({
            "event": event, "deadline": reader.of(event),  # type: ignore[arg-type]
            "response": _response_state(event, reader),
            "top": (event.suggestions or [None])[0],
            "suggested": suggested, "returned": pending,
            "can_dispatch": can_dispatch,
            "co_options": options,
            "lead_options": _lead_options(options, suggested) if options else "",
            "dispatch_url": action_url("dispatch", event.number),
            "accept_url": action_url("accept", event.number),
        })
    return rows


def _response_state(event: Event, reader: selectors.DeadlineReader) -> Any:
    clock = event.response_clock
    if clock is None or clock.stopped_at is not None:
        return None
    return reader.of(_ClockHolder(clock))  # type: ignore[arg-type]


class _ClockHolder:
    def __init__(self, clock: Any) -> None:
        self.clock = clock


def _list_page(request: HttpRequest, *, of: str, all_tabs: tuple[selectors.Tab, ...],
               default: str, template: str) -> HttpResponse:
    user = request.user
    tabs = selectors.tabs_for(user, all_tabs)
    codes = [t.code for t in tabs]
    asked = request.GET.get("tab", "")
    tab = asked if asked in codes else (default if default in codes else codes[0])
    form = ListFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    lister = selectors.event_queue if of == "queue" else selectors.event_inbox
    qs = lister(actor=user, tab=tab, q=filters.get("q") or None,
                channel=filters.get("channel") or None,
                time_state=filters.get("time_state") or None,
                urgent=bool(filters.get("urgent")))
    page = selectors.CappedPaginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    counts = selectors.tab_counts(actor=user, tabs=tabs, of=of)
    return render(request, template, {
        "tabs": [{"code": t.code, "label": t.label, "count": counts.get(t.code),
                  "current": t.code == tab} for t in tabs],
        "tab": tab, "form": form, "page_obj": page,
        "rows": _rows(user, list(page.object_list), quick_dispatch=of == "queue"),
        "count_cap": selectors.TAB_COUNT_CAP, "here": request.get_full_path(), "of": of,
        "can_accept": _may(user, "accept"),
    })


@require_GET
@event_permission_required(*QUEUE_PERMS)
def queue(request: HttpRequest) -> HttpResponse:
    """The dispatch centre's queue (待分拨, 退单争议, 延期申请, 待回访, 外循环, 全部)."""
    default = "received" if policies.has_perm(request.user, "events.dispatch_event") \
        else "disputed"
    return _list_page(request, of="queue", all_tabs=selectors.QUEUE_TABS, default=default,
                      template="events/dispatch/queue.html")


@require_GET
@event_permission_required(*INBOX_PERMS)
def inbox(request: HttpRequest) -> HttpResponse:
    """The handler inbox of my unit(s) (待签收, 办理中, 协办, 吹哨/会商, 待回访, 全部)."""
    return _list_page(request, of="inbox", all_tabs=selectors.INBOX_TABS, default="to_sign",
                      template="events/dispatch/inbox.html")


# --- the event page ---------------------------------------------------------------------


def _reporter(user: Any, event: Event, revealed: dict[str, str] | None) -> dict[str, Any]:
    hidden = event.anonymous and not policies.in_scope(user, event.dispatch_unit.path)
    can_reveal = (not hidden and bool(event.reporter_phone)
                  and any(policies.has_perm(user, p) for p in REVEAL_PERMS))
    return {
        "hidden": hidden,
        "name": "" if hidden else (event.reporter_name if revealed else
                                   mask_name(event.reporter_name)),
        "phone": "" if hidden else (revealed["phone"] if revealed else
                                    mask_phone(event.reporter_phone)),
        "revealed": bool(revealed), "can_reveal": can_reveal and not revealed,
        "is_citizen_account": event.reporter_id is not None,
    }


def _timeline(event: Event) -> list[dict[str, Any]]:
    labels: dict[str, Any] = {name: t.label for name, t in services.TRANSITIONS.items()}
    labels.update({"create": _("Registered"), "merged_in": _("Another event merged in"),
                   "summons_response": _("Summons response"),
                   "external_fixed": _("Responsible party reported it fixed"),
                   "external_reply": _("Responsible party replied"),
                   "internal": _("Passed to enforcement (external loop)")})
    rows = []
    for update in event.updates.select_related("actor", "unit"):
        data = update.data or {}
        details = []
        if update.unit is not None:
            details.append(update.unit.name)
        if data.get("co"):
            details.append(_("Co-handlers: %(units)s") % {"units": "、".join(data["co"])})
        if data.get("days"):
            details.append(_("%(days)s working days") % {"days": data["days"]})
        if "approved" in data:
            details.append(_("Approved") if data["approved"] else _("Refused"))
        if data.get("auto"):
            details.append(_("Automatic"))
        if data.get("on_spot"):
            details.append(_("Closed on the spot"))
        if data.get("into"):
            details.append(_("Into %(number)s") % {"number": data["into"]})
        if data.get("party"):
            details.append(str(data["party"]))
        rows.append({"label": labels.get(update.action, update.action), "at": update.at,
                     "actor": update.actor, "note": update.note, "details": details,
                     "public": update.public})
    return rows


def _find_event(user: Any) -> Callable[[str], Event | None]:
    def find(number: str) -> Event | None:
        try:
            return selectors.event_get(actor=user, number=number)
        except Http404:
            return None
    return find


def _form_context(user: Any, event: Event, names: list[str]) -> dict[str, Any]:
    """What the forms of ``names`` need (queried only for those shown)."""
    context: dict[str, Any] = {"find_event": _find_event(user)}
    if {"dispatch", "reassign", "add_co_handler"} & set(names):
        centre = event.dispatch_unit
        if event.status == EventStatus.ACCEPTED and event.handler_unit is not None \
                and "dispatch" in names and event.handler_unit.kind == "street":
            centre = event.handler_unit  # the street passes it down
        context["targets"] = selectors.dispatch_targets(centre)
        context["suggested_unit"] = services.default_handler(event)
    if "summon" in names:
        context["summons_targets"] = selectors.summons_targets(user, event)
    if "send_external" in names and event.location_unit is not None:
        units = [event.location_unit, *event.location_unit.ancestors()]
        context["parties"] = list(ResponsibleParty.objects.filter(
            active=True, unit__in=units).select_related("unit").order_by("name")[:100])
    if "decide_extension" in names:
        context["pending_extension"] = event.extensions.filter(
            status=RequestStatus.PENDING).select_related("requested_by").first()
    return context


def _action_form(name: str, event: Event, context: dict[str, Any], data: Any = None,
                 files: Any = None) -> ActionForm:
    form = ACTION_FORMS[name](data, files, event=event, context=context)
    form.url = action_url(name, event.number)  # type: ignore[attr-defined]
    form.primary = name in PRIMARY_ACTIONS  # type: ignore[attr-defined]
    return form


def _allowed(user: Any, event: Event) -> list[str]:
    names = [t.name for t in services.allowed_transitions(event, user)
             if t.name in STAFF_ACTIONS]
    if "decide_extension" in names and event.extensions.filter(
            status=RequestStatus.PENDING, requested_by_id=user.pk).exists():
        names.remove("decide_extension")  # someone else decides
    return names


def _detail_context(request: HttpRequest, event: Event, *, failed: ActionForm | None = None,
                    revealed: dict[str, str] | None = None) -> dict[str, Any]:
    user = request.user
    allowed = _allowed(user, event)
    context = _form_context(user, event, allowed)
    forms = [failed if failed is not None and failed.action == name else
             _action_form(name, event, context) for name in allowed]
    forms.sort(key=lambda f: (f.action not in PRIMARY_ACTIONS, f.danger))
    summonses = list(event.summonses.select_related("caller_unit", "created_by")
                     .prefetch_related(Prefetch("responses", queryset=SummonsResponse.objects
                                                .select_related("unit", "responded_by"))))
    owed = [r for s in summonses for r in s.responses.all()
            if r.responded_at is None and policies.has_perm(user, "events.handle_event")
            and policies.in_scope(user, r.unit.path)]
    reader = selectors.DeadlineReader()
    chain = [*event.location_unit.ancestors(), event.location_unit] \
        if event.location_unit is not None else []
    return {
        "event": event, "status_label": EventStatus(event.status).label,
        "deadline": reader.of(event),  # type: ignore[arg-type]
        "response": _response_state(event, reader),
        "reporter": _reporter(user, event, revealed),
        "chain": [u for u in chain if u.kind != "district"],
        "suggestions": event.suggestions or [],
        "assignments": list(event.assignments.select_related("unit", "assigned_by")),
        "summonses": summonses,
        "owed": [{"response": r, "form": SummonsResponseForm(prefix=f"s{r.pk}"),
                  "url": reverse("events:summons_respond", args=[r.pk])} for r in owed],
        "supervisions": list(event.supervisions.select_related("unit", "by")),
        "returns": list(event.returns.select_related("unit", "requested_by", "decided_by")),
        "extensions": list(event.extensions.select_related("requested_by", "decided_by")),
        "callbacks": list(event.callbacks.select_related("by")),
        "attachments": list(event.attachments.all()),
        "external": ExternalTask.objects.select_related("party").filter(event=event).first(),
        "merged": list(Event.objects.filter(merged_into=event).only("number", "title")[:20]),
        "timeline": _timeline(event), "forms": forms, "failed": failed, "now": timezone.now(),
    }


@require_GET
@event_permission_required()
def event_detail(request: HttpRequest, event_number: str) -> HttpResponse:
    event = selectors.event_get(actor=request.user, number=event_number)
    return render(request, "events/dispatch/event_detail.html",
                  _detail_context(request, event))


@require_POST
@event_permission_required()
def event_reporter_reveal(request: HttpRequest, event_number: str) -> HttpResponse:
    """The reporter's name and phone in full, for those who must call them; audited."""
    event = selectors.event_get(actor=request.user, number=event_number)
    if not _reporter(request.user, event, None)["can_reveal"]:
        raise PermissionDenied
    revealed = {"phone": event.reporter_phone or ""}
    audit_pii_read(actor=request.user, obj=event, fields=("reporter_name", "reporter_phone"),
                   reason=f"event {event.number}")
    context = _detail_context(request, event, revealed=revealed)
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "events/dispatch/_reporter.html", context)
    return render(request, "events/dispatch/event_detail.html", context)


@require_GET
@event_permission_required()
def attachment(request: HttpRequest, attachment_id: int) -> FileResponse:
    """A photo or document of an event, for those who may read the event (else 404)."""
    found = EventAttachment.objects.filter(pk=attachment_id).values_list(
        "event__number", flat=True).first()
    if found is None:
        raise Http404
    event = selectors.event_get(actor=request.user, number=found)
    item = EventAttachment.objects.get(pk=attachment_id, event=event)
    item.event = event
    handle = attachment_open(actor=request.user, attachment=item)
    inline = item.content_type.startswith("image/") or item.content_type == "application/pdf"
    response = FileResponse(handle, as_attachment=not inline, filename=item.original_name,
                            content_type=item.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def _after(request: HttpRequest, event: Event, *, ok: bool, text: str) -> HttpResponse:
    """Where a transition lands: the list row (htmx), the list it came from, or the event."""
    (messages.success if ok else messages.error)(request, text)
    origin = request.POST.get("from", "")
    if request.htmx and origin in ("queue", "inbox"):  # type: ignore[attr-defined]
        fresh = selectors.event_get(actor=request.user, number=event.number)
        notes = list(messages.get_messages(request))  # shown in the row, not again later
        return render(request, "events/dispatch/_event_row.html", {
            "row": _rows(request.user, [fresh], quick_dispatch=origin == "queue")[0],
            "of": origin, "notes": notes, "ok": ok, "can_accept": _may(request.user, "accept"),
            "here": _safe_next(request) or reverse(f"events:{origin}")})
    target = _safe_next(request) if origin in ("queue", "inbox") else ""
    return redirect(target or reverse("events:event_detail", args=[event.number]))


@require_POST
@event_permission_required()
def event_action(request: HttpRequest, event_number: str, action: str) -> HttpResponse:
    """One transition. Checked in order: scope (404), role (403), the revision the person
    saw (someone else was faster → reload), the state, the input (400); the service
    checks all of it again under a row lock."""
    event = selectors.event_get(actor=request.user, number=event_number)
    if action not in ACTION_FORMS:
        raise Http404
    if not _may(request.user, action):
        raise PermissionDenied
    try:
        seen = int(request.POST.get(f"{action}-revision", ""))
    except ValueError:
        seen = -1
    if seen != event.revision:
        return _after(request, event, ok=False, text=str(
            _("Someone else changed this event meanwhile; reload it and try again.")))
    if action not in _allowed(request.user, event):
        if action == "decide_extension" and event.extensions.filter(
                status=RequestStatus.PENDING, requested_by_id=request.user.pk).exists():
            raise PermissionDenied  # not by the person who asked
        return _after(request, event, ok=False, text=str(
            _("“%(action)s” is not possible while the event is “%(status)s”.")
            % {"action": services.TRANSITIONS[action].label,
               "status": EventStatus(event.status).label}))
    context = _form_context(request.user, event, [action])
    form = _action_form(action, event, context, data=request.POST, files=request.FILES)
    if form.is_valid():
        try:
            text = form.perform(actor=request.user)
        except services.TransitionError as exc:
            return _after(request, event, ok=False, text=" ".join(exc.messages))
        except PermissionDenied:
            raise
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            return _after(request, event, ok=True, text=text)
    if request.htmx and request.POST.get("from") in ("queue", "inbox"):  # type: ignore[attr-defined]
        errors = "; ".join(str(e) for errs in form.errors.values() for e in errs)
        return _after(request, event, ok=False, text=errors)
    return render(request, "events/dispatch/event_detail.html",
                  _detail_context(request, event, failed=form), status=400)


@require_POST
@event_permission_required("events.handle_event")
def summons_respond(request: HttpRequest, summons_id: int) -> HttpResponse:
    """A called unit answers a summons (吹哨报到) or consultation (会商)."""
    found = SummonsResponse.objects.select_related("unit", "summons__event").filter(
        summons_id=summons_id, responded_at__isnull=True).order_by("pk")
    mine = next((r for r in found if policies.in_scope(request.user, r.unit.path)), None)
    if mine is None:
        event_number = Summons.objects.filter(pk=summons_id).values_list(
            "event__number", flat=True).first()
        if event_number is None:
            raise Http404
        event = selectors.event_get(actor=request.user, number=event_number)  # 404 outside
        messages.error(request, _("Your unit has already responded or was not called."))
        return redirect(reverse("events:event_detail", args=[event.number]))
    event = mine.summons.event
    form = SummonsResponseForm(request.POST, prefix=f"s{mine.pk}")
    if form.is_valid():
        try:
            services.summons_respond(actor=request.user, response=mine,
                                     text=form.cleaned_data["response"])
        except services.TransitionError as exc:
            messages.error(request, " ".join(exc.messages))
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Your unit's response is recorded."))
            return redirect(reverse("events:event_detail", args=[event.number]))
    if not form.errors:
        return redirect(reverse("events:event_detail", args=[event.number]))
    event = selectors.event_get(actor=request.user, number=event.number)
    context = _detail_context(request, event)
    for row in context["owed"]:
        if row["response"].pk == mine.pk:
            row["form"] = form
    return render(request, "events/dispatch/event_detail.html", context, status=400)


# Event numbers are digits, so these never shadow the other areas' ``events/<word>/``.
NUMBER = r"[0-9]{6,32}"
urlpatterns: list[URLPattern] = [
    path("events/queue/", queue, name="queue"),
    path("events/inbox/", inbox, name="inbox"),
    path("events/attachments/<int:attachment_id>/", attachment, name="attachment"),
    path("events/summons/<int:summons_id>/respond/", summons_respond, name="summons_respond"),
    re_path(rf"^events/(?P<event_number>{NUMBER})/$", event_detail, name="event_detail"),
    re_path(rf"^events/(?P<event_number>{NUMBER})/reporter/$", event_reporter_reveal,
            name="event_reporter_reveal"),
    # One route per transition (a name each, so the authorization matrix declares who may
    # do what); an unknown action matches no route: 404.
    *(re_path(rf"^events/(?P<event_number>{NUMBER})/actions/{name}/$", event_action,
              {"action": name}, name=f"event_action_{name}") for name in STAFF_ACTIONS),
]
