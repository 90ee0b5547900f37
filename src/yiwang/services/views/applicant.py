"""Pages: applicant (citizens and enterprises file and follow their cases) and filing at a
window on an applicant's behalf (综合窗口).

Views parse and check; ``cases``, ``ratings`` and ``uploads`` change state. A filing runs
in one transaction with its uploads (``discard_on_error``), so a failure leaves
no half-created case and no stray file; bad input re-renders what was typed with the
errors next to their fields.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yiwang.accounts.models import User, UserKind
from yiwang.core import policies
from yiwang.core import selectors as core_selectors
from yiwang.core.audit import audit_log, audit_pii_read
from yiwang.core.forms import StyledForm, apply_service_errors
from yiwang.core.validators import normalize_credit_code, normalize_id_number
from yiwang.core.views import paginate, require_perm, staff_required

from .. import cases, ratings, uploads
from ..catalog import pinyin_key
from ..models import (
    FINAL_STATUSES,
    Case,
    CaseMaterial,
    CaseMaterialKind,
    CaseStatus,
    Channel,
    Deficiency,
    Material,
    MaterialSource,
    Matter,
    MatterVersion,
    OnlineDepth,
    Rating,
    RatingLevel,
    VersionStatus,
)
from ..schema_forms import SchemaForm, form_answers

S = CaseStatus
View = Callable[..., HttpResponse]
MOBILE_UA = re.compile(r"Mobi|Android|iPhone|iPad|HarmonyOS|MicroMessenger", re.I)
APPLICANT_KINDS = {UserKind.CITIZEN, UserKind.ENTERPRISE}
PER_PAGE = 10


def applicant_required(view: View) -> View:
    """Signed-in citizens and enterprises: anonymous users go to sign in, staff get 403."""

    @login_required
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if getattr(request.user, "kind", "") not in APPLICANT_KINDS:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def online_channel(request: HttpRequest) -> str:
    """指尖办 or PC, from the browser's own client hint or, failing that, its user agent."""
    if request.headers.get("Sec-CH-UA-Mobile") == "?1":
        return Channel.MOBILE
    return Channel.MOBILE if MOBILE_UA.search(request.headers.get("User-Agent", "")) \
        else Channel.PC


def form_translations(version: MatterVersion) -> dict[str, Any]:
    """The form's labels in the page's language, where the catalog gives them."""
    language = (get_language() or "zh-hans").lower()
    per_language = (version.translations or {}).get(language.split("-")[0] if language
                                                    .startswith("en") else language) or {}
    return per_language.get("form") or {}


def _published_version(matter_code: str) -> MatterVersion:
    matter = (Matter.objects.select_related("published", "published__department")
              .filter(implementation_code=matter_code,
                      published__status=VersionStatus.PUBLISHED).first())
    if matter is None or matter.published is None:
        raise Http404
    return matter.published


def serves(version: MatterVersion, user: Any) -> bool:
    """The matter's service objects include the applicant (as ``cases.case_create`` says)."""
    objects = set(version.service_objects or [])
    if not objects:
        return True
    return "person" in objects if user.kind == UserKind.CITIZEN else bool(objects - {"person"})


def online_possible(version: MatterVersion) -> bool:
    forms_ = set(version.handling_forms or [])
    return version.online_depth >= OnlineDepth.PRE_REVIEW and bool(forms_ & {"pc", "mobile"})


def _my_cases(user: Any) -> QuerySet[Case]:
    return policies.restrict(Case.objects.all(), user, "view").filter(applicant=user)


def _my_case(user: Any, number: str) -> Case:
    case = (_my_cases(user).select_related("matter", "version", "department", "intake_unit",
                                           "clock", "applicant")
            .filter(number=number).first())
    if case is None:
        raise Http404
    return case


def _revision(request: HttpRequest) -> int | None:
    try:
        return int(request.POST["revision"])
    except (KeyError, ValueError):
        return None


def _first_messages(exc: ValidationError) -> list[str]:
    return list(exc.messages)


# --- the form and its materials -----------------------------------------------------------


@dataclass
class MaterialRow:
    """One material of the matter on the filing page."""

    material: Material
    input_name: str
    upload: bool                  # the applicant uploads it (else: licence / shared data)
    required: bool                # needed before the case can be submitted
    existing: list[CaseMaterial] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def input_id(self) -> str:
        return f"id_{self.input_name}"


def material_rows(version: MatterVersion, case: Case | None) -> list[MaterialRow]:
    existing: dict[int, list[CaseMaterial]] = {}
    if case is not None:
        for item in case.materials.filter(kind=CaseMaterialKind.MATERIAL):
            existing.setdefault(item.material_id or 0, []).append(item)
    rows = []
    for material in version.materials.all():
        upload = material.source == MaterialSource.UPLOAD
        rows.append(MaterialRow(material=material, input_name=f"material-{material.code}",
                                upload=upload,
                                required=upload and material.required and not material.condition,
                                existing=existing.get(material.pk, [])))
    return rows


def _check_uploads(request: HttpRequest, rows: list[MaterialRow], *, submitting: bool
                   ) -> dict[int, Any]:
    """The valid uploads by material id; errors are put on the rows."""
    chosen = {}
    for row in rows:
        if not row.upload:
            continue
        upload = request.FILES.get(row.input_name)
        if upload is not None:
            try:
                uploads.upload_check(upload)
            except ValidationError as exc:
                row.errors += exc.message_dict.get("file", exc.messages)
            else:
                chosen[row.material.pk] = upload
        elif submitting and row.required and not row.existing:
            row.errors.append(_("Upload “%(name)s”.") % {"name": row.material.name})
    return chosen


@dataclass
class Filing:
    """What a filing page shows and what a POST brought."""

    version: MatterVersion
    schema_form: SchemaForm
    rows: list[MaterialRow]
    errors: list[str] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.schema_form.has_errors
                    or any(r.errors for r in self.rows))


def _filing(request: HttpRequest, version: MatterVersion, case: Case | None) -> Filing:
    data = request.POST if request.method == "POST" else None
    schema_form = SchemaForm(version.form_schema, data=data,
                             initial=case.form_data if case else None,
                             translations=form_translations(version))
    return Filing(version=version, schema_form=schema_form, rows=material_rows(version, case))


def _file(request: HttpRequest, filing: Filing, *, actor: Any, applicant: Any,
          channel: str, case: Case | None, submit: bool, intake_unit: Any = None
          ) -> Case | None:
    """Validate everything, then create (or update the draft), attach and submit in one
    transaction. Returns the case, or None with the errors on ``filing``."""
    filing.schema_form.is_valid(partial=not submit)
    chosen = _check_uploads(request, filing.rows, submitting=submit)
    if filing.has_errors:
        if request.FILES:
            filing.errors.append(_("Files are not kept when something needs correcting: "
                                   "choose them again before you send the form."))
        return None
    try:
        with uploads.discard_on_error(), transaction.atomic():
            if case is None:
                case = cases.case_create(actor=actor, version=filing.version,
                                         applicant=applicant, channel=channel,
                                         form_data=filing.schema_form.cleaned_data,
                                         intake_unit=intake_unit)
            else:
                case = draft_update(actor=actor, case=case,
                                    form_data=filing.schema_form.cleaned_data)
            for row in filing.rows:
                if row.material.pk in chosen:
                    uploads.material_attach(actor=actor, case=case, material=row.material,
                                            upload=chosen[row.material.pk])
            if submit:
                case = cases.case_submit(actor=actor, case=case)
    except ValidationError as exc:
        for key, texts in (exc.message_dict.items() if hasattr(exc, "error_dict")
                           else [(None, exc.messages)]):
            for text in texts:
                filing.schema_form.add_error(key, text) if key in filing.schema_form.by_name \
                    else filing.errors.append(text)
        filing.errors.append(_("Nothing was saved. Correct the above and send the form again."))
        return None
    return case


@transaction.atomic
def draft_update(*, actor: Any, case: Case, form_data: dict[str, Any]) -> Case:
    """Save new answers on a draft (the applicant or the clerk who filed it).

    Belongs in ``cases.py`` as ``case_update_draft`` (the view must not write models);
    kept here until the lead moves it.
    """
    locked = Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
    if locked.status != S.DRAFT:
        raise cases.TransitionError(_("Only a draft can be changed."), code="bad_state")
    if actor.pk not in (locked.applicant_id, locked.filed_by_id):
        raise PermissionDenied
    before = locked.form_data
    locked.form_data = form_data
    locked.revision += 1
    locked.save(update_fields=["form_data", "revision", "updated_at"])
    audit_log(actor=actor, action="services.case.update_draft", obj=locked,
              before={"fields": sorted(before)}, after={"fields": sorted(form_data)})
    return locked


def _filing_context(filing: Filing, **extra: Any) -> dict[str, Any]:
    return {
        "version": filing.version, "matter": filing.version.matter,
        "schema_form": filing.schema_form, "rows": filing.rows, "filing_errors": filing.errors,
        "has_errors": filing.has_errors, "accept": uploads.accept_attribute(),
        "types_label": uploads.allowed_types_label(),
        "max_size": filesizeformat(settings.YIWANG_UPLOAD_MAX_BYTES),
        **extra,
    }


# --- filing online ------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@applicant_required
def case_apply(request: HttpRequest, matter_code: str) -> HttpResponse:
    """File a case for a published matter: the form, one upload per material."""
    version = _published_version(matter_code)
    return _apply_page(request, version, case=None)


@require_http_methods(["GET", "POST"])
@applicant_required
def my_case_edit(request: HttpRequest, number: str) -> HttpResponse:
    """Go on with a draft: the same page, with what was saved."""
    case = _my_case(request.user, number)
    if case.status != S.DRAFT:
        if request.method == "POST":
            messages.error(request, _("This case has been submitted and can no longer be "
                                      "changed."))
            return redirect("services:my_case", number=case.number)
        return render(request, "services/applicant/case_locked.html", {"case": case})
    return _apply_page(request, case.version, case=case)


def _apply_page(request: HttpRequest, version: MatterVersion, *, case: Case | None
                ) -> HttpResponse:
    user: Any = request.user
    blocked = ""
    if not serves(version, user):
        blocked = (_("This matter is for enterprises and organisations. Sign in with your "
                     "enterprise's account to apply.") if user.kind == UserKind.CITIZEN
                   else _("This matter is for individuals. The person concerned applies "
                          "with their own account."))
    elif not online_possible(version):
        blocked = _("This matter cannot be applied for online. See the service guide for "
                    "where to go.")
    filing = _filing(request, version, case)
    status = 200
    if request.method == "POST":
        if blocked:
            filing.errors.append(blocked)
            status = 400
        else:
            submit = request.POST.get("action") != "draft"
            filed = _file(request, filing, actor=user, applicant=user,
                          channel=online_channel(request), case=case, submit=submit)
            if filed is not None:
                if submit:
                    messages.success(request, _(
                        "Your application has been submitted. Case number: %(number)s. "
                        "We will tell you when it is accepted.") % {"number": filed.number})
                else:
                    messages.success(request, _(
                        "Saved as a draft. You can go on with it from “My cases”."))
                return redirect("services:my_case", number=filed.number)
            status = 400
    return render(request, "services/applicant/case_apply.html", _filing_context(
        filing, case=case, blocked=blocked,
        guide_url=_guide_url(version.matter.implementation_code)), status=status)


def _guide_url(code: str) -> str:
    try:
        return reverse("services:matter_guide", kwargs={"matter_code": code})
    except NoReverseMatch:  # the public area's guide page is not there yet
        return ""


# --- my cases -----------------------------------------------------------------------------

RATABLE = ratings.RATABLE
FILTERS = {
    "open": gettext_lazy("In progress"),
    "action": gettext_lazy("Needs me"),
    "done": gettext_lazy("Finished"),
    "draft": gettext_lazy("Drafts"),
}


def my_case_list(user: Any, show: str = "") -> QuerySet[Case]:
    """The applicant's cases with what the list shows, in a constant number of queries."""
    open_items = Deficiency.objects.filter(case=OuterRef("pk"), supplied_at__isnull=True)
    rated = Rating.objects.filter(case=OuterRef("pk"), rater=user)
    qs = (_my_cases(user).select_related("matter", "clock")
          .annotate(needs_supplement=Exists(open_items), rated=Exists(rated))
          .order_by("-created_at", "-pk"))
    if show == "open":
        qs = qs.exclude(status__in=[*FINAL_STATUSES, S.DRAFT, S.DELIVERED])
    elif show == "done":
        qs = qs.filter(status__in=[*FINAL_STATUSES, S.DELIVERED])
    elif show == "draft":
        qs = qs.filter(status=S.DRAFT)
    elif show == "action":
        qs = qs.filter(Q(status=S.DRAFT) | Q(needs_supplement=True)
                       | Q(status__in=RATABLE, rated=False))
    return qs


def next_step(case: Case) -> tuple[str, str]:
    """(kind, text) of what the applicant should do next, for the list and the page."""
    if case.status == S.DRAFT:
        return "draft", _("Finish and submit your application")
    if getattr(case, "needs_supplement", False) and case.status not in FINAL_STATUSES:
        return "supplement", _("Supply the missing materials")
    if case.status in RATABLE and not getattr(case, "rated", True):
        return "rate", _("Rate this service")
    return "", ""


@require_GET
@never_cache
@applicant_required
def my_cases(request: HttpRequest) -> HttpResponse:
    show = request.GET.get("show", "")
    show = show if show in FILTERS else ""
    page_obj = paginate(request, my_case_list(request.user, show), PER_PAGE)
    for case in page_obj.object_list:
        case.next_kind, case.next_text = next_step(case)
    counts = _my_counts(request.user)
    return render(request, "services/applicant/my_cases.html", {
        "page_obj": page_obj, "show": show, "filters": FILTERS, "counts": counts,
    })


def _my_counts(user: Any) -> dict[str, int]:
    open_items = Deficiency.objects.filter(case=OuterRef("pk"), supplied_at__isnull=True)
    rated = Rating.objects.filter(case=OuterRef("pk"), rater=user)
    return _my_cases(user).annotate(needs=Exists(open_items), rated=Exists(rated)).aggregate(
        all=Count("pk"),
        action=Count("pk", filter=Q(status=S.DRAFT) | Q(needs=True)
                     | Q(status__in=RATABLE, rated=False)),
    )


# --- one case -------------------------------------------------------------------------------

HIDDEN_EVENTS = {"claim", "assign", "request_extension"}


def timeline(case: Case) -> list[dict[str, Any]]:
    """The case's events in plain words for the applicant (internal steps left out)."""
    procedures = {k: str(v) for k, v in cases.SPECIAL_PROCEDURES.items()}
    steps = []
    for event in case.events.all():
        if event.action in HIDDEN_EVENTS:
            continue
        data = event.data or {}
        if event.action == "decide_extension" and not data.get("approved"):
            continue
        text = {
            "create": _("Application started") if case.channel in (Channel.PC, Channel.MOBILE)
            else _("Application taken at the window"),
            "update_draft": _("Draft saved"),
            "submit": _("Application submitted"),
            "accept": _("Accepted by %(unit)s") % {"unit": case.department.name},
            "accept_with_deficiency": _("Accepted; some materials may follow later (容缺)"),
            "refuse": _("Not accepted"),
            "request_supplement": _("More materials are needed (补正)"),
            "supplement": _("Materials supplied"),
            "start_review": _("Review started"),
            "suspend": _("Paused for a special procedure: %(procedure)s")
            % {"procedure": procedures.get(data.get("procedure", ""), "")},
            "resume": _("Review resumed"),
            "decide_extension": _("Time limit extended by %(days)s working days")
            % {"days": data.get("days", "")},
            "approve": _("Approved"),
            "reject": _("Not approved"),
            "deliver": _("Result delivered"),
            "close": _("Completed (办结)"),
            "withdraw": _("Application withdrawn"),
            "terminate": _("Case terminated"),
        }.get(event.action, event.action)
        steps.append({"at": event.at, "text": text, "reason": event.reason,
                      "items": data.get("items") or [], "action": event.action})
    return steps


class WithdrawForm(StyledForm):
    reason = forms.CharField(label=gettext_lazy("Why do you withdraw the application?"),
                             max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


RATING_TAGS_GOOD = [gettext_lazy("Fast"), gettext_lazy("Friendly staff"),
                    gettext_lazy("Clear requirements"), gettext_lazy("Done in one go")]
RATING_TAGS_BAD = [gettext_lazy("Too slow"), gettext_lazy("Asked for materials again"),
                   gettext_lazy("Unfriendly staff"), gettext_lazy("Unclear requirements"),
                   gettext_lazy("The website is hard to use")]


class RatingForm(StyledForm):
    level = forms.TypedChoiceField(
        label=gettext_lazy("How satisfied are you with this service?"), coerce=int,
        choices=RatingLevel.choices, widget=forms.RadioSelect)
    tags = forms.MultipleChoiceField(
        label=gettext_lazy("What stood out?"), required=False,
        widget=forms.CheckboxSelectMultiple)
    text = forms.CharField(
        label=gettext_lazy("Your comments"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Required when you are dissatisfied: tell us what went wrong "
                               "so that it can be put right."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tags = [str(t) for t in [*RATING_TAGS_GOOD, *RATING_TAGS_BAD]]
        tags_field = self.fields["tags"]
        assert isinstance(tags_field, forms.MultipleChoiceField)
        tags_field.choices = [(t, t) for t in tags]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("level") in {int(v) for v in ratings.BAD_LEVELS} \
                and not (data.get("text") or "").strip():
            self.add_error("text", _("Tell us what went wrong, so it can be put right."))
        return data


def _open_items(case: Case) -> list[Deficiency]:
    """What the applicant is to supply now: the 补正 list while the case waits for it,
    else the 容缺 items (as ``cases.case_supplement`` closes them)."""
    kind = Deficiency.Kind.SUPPLEMENT if case.status == S.SUPPLEMENT else Deficiency.Kind.DEFICIENT
    return list(case.deficiencies.filter(kind=kind, supplied_at__isnull=True)
                .select_related("material"))


def _case_page(request: HttpRequest, case: Case, *, status: int = 200,
               rating_form: RatingForm | None = None, withdraw_form: WithdrawForm | None = None,
               supplement_errors: dict[int, list[str]] | None = None,
               errors: list[str] | None = None) -> HttpResponse:
    user: Any = request.user
    allowed = {t.name for t in cases.allowed_transitions(case, user)}
    my_rating = Rating.objects.filter(case=case, rater=user).order_by("created_at").first()
    open_items = _open_items(case)
    for item in open_items:
        item.errors = (supplement_errors or {}).get(item.pk, [])  # type: ignore[attr-defined]
    materials = list(case.materials.select_related("material"))
    notice_ready = case.decided_at is not None and case.status in (
        S.APPROVED, S.REJECTED, S.DELIVERED, S.CLOSED)
    return render(request, "services/applicant/my_case.html", {
        "case": case,
        "status_label": CaseStatus(case.status).label,
        "steps": timeline(case),
        "answers": form_answers(case.version.form_schema, case.form_data,
                                translations=form_translations(case.version)),
        "open_items": open_items,
        "materials": [m for m in materials if m.kind != CaseMaterialKind.RESULT],
        "results": [m for m in materials if m.kind == CaseMaterialKind.RESULT],
        "notes": core_selectors.notification_list(actor=user).filter(
            url=reverse("services:my_case", kwargs={"number": case.number}))
        .order_by("-created_at")[:10],
        "can_submit": "submit" in allowed and case.status == S.DRAFT,
        "can_withdraw": "withdraw" in allowed,
        "can_supplement": "supplement" in allowed and bool(open_items),
        "can_rate": case.status in RATABLE and my_rating is None,
        "my_rating": my_rating,
        "notice_ready": notice_ready,
        "rating_form": rating_form or RatingForm(),
        "withdraw_form": withdraw_form or WithdrawForm(),
        "page_errors": errors or [],
        "due_at": case.clock.due_at if case.clock and not case.clock.stopped_at else None,
        "accept": uploads.accept_attribute(),
        "types_label": uploads.allowed_types_label(),
        "max_size": filesizeformat(settings.YIWANG_UPLOAD_MAX_BYTES),
        "now": timezone.now(),
    }, status=status)


@require_GET
@never_cache
@applicant_required
def my_case(request: HttpRequest, number: str) -> HttpResponse:
    return _case_page(request, _my_case(request.user, number))


def _state_error(request: HttpRequest, case: Case, exc: ValidationError) -> HttpResponse:
    for text in exc.messages:
        messages.error(request, text)
    return redirect("services:my_case", number=case.number)


@require_POST
@applicant_required
def my_case_submit(request: HttpRequest, number: str) -> HttpResponse:
    case = _my_case(request.user, number)
    try:
        cases.case_submit(actor=request.user, case=case, expected_revision=_revision(request))
    except PermissionDenied:
        messages.error(request, _("This case cannot be submitted now."))
        return redirect("services:my_case", number=case.number)
    except ValidationError as exc:
        return _state_error(request, case, exc)
    messages.success(request, _("Your application has been submitted. Case number: "
                                "%(number)s. We will tell you when it is accepted.")
                     % {"number": case.number})
    return redirect("services:my_case", number=case.number)


@require_POST
@applicant_required
def my_case_withdraw(request: HttpRequest, number: str) -> HttpResponse:
    case = _my_case(request.user, number)
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        return _case_page(request, case, status=400, withdraw_form=form)
    try:
        cases.case_withdraw(actor=request.user, case=case, reason=form.cleaned_data["reason"],
                            expected_revision=_revision(request))
    except PermissionDenied:
        messages.error(request, _("This application can no longer be withdrawn."))
        return redirect("services:my_case", number=case.number)
    except cases.TransitionError as exc:
        return _state_error(request, case, exc)
    except ValidationError as exc:
        apply_service_errors(form, exc)
        return _case_page(request, case, status=400, withdraw_form=form)
    messages.success(request, _("Your application has been withdrawn."))
    return redirect("services:my_case", number=case.number)


@require_POST
@applicant_required
def my_case_supplement(request: HttpRequest, number: str) -> HttpResponse:
    """Upload what was asked for (补正 / 容缺), then hand the case back: the clock resumes."""
    case = _my_case(request.user, number)
    open_items = _open_items(case)
    if not open_items or case.status in FINAL_STATUSES:
        messages.error(request, _("Nothing is waiting to be supplied for this case."))
        return redirect("services:my_case", number=case.number)
    errors: dict[int, list[str]] = {}
    chosen = {}
    for item in open_items:
        upload = request.FILES.get(f"deficiency-{item.pk}")
        if upload is None:
            if item.material_id is not None:
                errors[item.pk] = [_("Upload “%(name)s”.") % {"name": item.description}]
            continue
        try:
            uploads.upload_check(upload)
        except ValidationError as exc:
            errors[item.pk] = exc.message_dict.get("file", exc.messages)
        else:
            chosen[item.pk] = upload
    if errors:
        return _case_page(request, case, status=400, supplement_errors=errors, errors=[
            _("Nothing was sent. Choose the files again and correct what is marked.")])
    try:
        with uploads.discard_on_error(), transaction.atomic():
            for item in open_items:
                if item.pk in chosen:
                    uploads.material_attach(actor=request.user, case=case,
                                            material=item.material, upload=chosen[item.pk],
                                            kind=CaseMaterialKind.SUPPLEMENT)
            cases.case_supplement(actor=request.user, case=case,
                                  expected_revision=_revision(request))
    except PermissionDenied:
        messages.error(request, _("Nothing is waiting to be supplied for this case."))
        return redirect("services:my_case", number=case.number)
    except cases.TransitionError as exc:
        return _state_error(request, case, exc)
    except ValidationError as exc:
        return _case_page(request, case, status=400, errors=_first_messages(exc))
    messages.success(request, _("Thank you. The materials were sent and your case goes on."))
    return redirect("services:my_case", number=case.number)


@require_POST
@applicant_required
def my_case_rate(request: HttpRequest, number: str) -> HttpResponse:
    """好差评: one rating per case online (一次一评)."""
    case = _my_case(request.user, number)
    if Rating.objects.filter(case=case, rater_id=request.user.pk).exists():
        messages.error(request, _("You have already rated this case. Thank you."))
        return redirect("services:my_case", number=case.number)
    if case.status not in RATABLE:
        messages.error(request, _("A case can be rated once it is decided."))
        return redirect("services:my_case", number=case.number)
    form = RatingForm(request.POST)
    if not form.is_valid():
        return _case_page(request, case, status=400, rating_form=form)
    data = form.cleaned_data
    try:
        rating = ratings.rating_create(actor=request.user, case=case, level=data["level"],
                                       channel=online_channel(request), tags=data["tags"],
                                       text=data["text"])
    except ValidationError as exc:
        if "case" in getattr(exc, "message_dict", {}):
            return _state_error(request, case, exc)
        apply_service_errors(form, exc)
        return _case_page(request, case, status=400, rating_form=form)
    if rating.is_bad:
        messages.success(request, _("Thank you. The department must look into this and will "
                                    "contact you."))
    else:
        messages.success(request, _("Thank you for your rating."))
    return redirect("services:my_case", number=case.number)


# --- files ----------------------------------------------------------------------------------


@require_GET
@never_cache
@login_required
def material_download(request: HttpRequest, material_id: int) -> FileResponse:
    """A case material for its applicant or staff in scope (404 for anyone else)."""
    material = uploads.material_get(actor=request.user, material_id=material_id)
    handle, material = uploads.material_open(actor=request.user, material=material)
    response = FileResponse(handle, as_attachment=True, filename=material.original_name,
                            content_type=material.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- at the window (综合窗口) ----------------------------------------------------------------


class ApplicantLookupForm(StyledForm):
    applicant_id = forms.CharField(
        label=gettext_lazy("ID number or unified social credit code"), max_length=30,
        help_text=gettext_lazy("18 characters, from the applicant's ID card or business "
                               "licence."))

    def clean_applicant_id(self) -> str:
        value = self.cleaned_data["applicant_id"].strip().upper()
        try:
            return normalize_id_number(value)
        except ValidationError:
            pass
        try:
            return normalize_credit_code(value)
        except ValidationError:
            raise ValidationError(_("This is neither a valid ID number nor a valid unified "
                                    "social credit code; check every character.")) from None


class NewCitizenForm(StyledForm):
    new_name = forms.CharField(label=gettext_lazy("Name as on the ID card"), max_length=100)
    new_phone = forms.CharField(label=gettext_lazy("Mobile phone number"), max_length=30,
                                required=False)


def find_applicant(identifier: str) -> User | None:
    """The citizen (through the ID number's blind index) or the enterprise (credit code)."""
    if _looks_like_id(identifier):
        return (User.objects.by_id_number(identifier)
                .filter(kind=UserKind.CITIZEN, is_active=True).first())
    return User.objects.filter(kind=UserKind.ENTERPRISE, credit_code=identifier,
                               is_active=True).first()


def _window_matters(q: str) -> QuerySet[Matter]:
    qs = (Matter.objects.select_related("published", "department")
          .filter(published__status=VersionStatus.PUBLISHED).order_by("name"))
    if q:
        key = pinyin_key(q) if q.isascii() else ""
        condition = Q(name__icontains=q) | Q(implementation_code__iexact=q)
        if key:
            condition |= Q(name_pinyin__icontains=q.lower())
        qs = qs.filter(condition)
    return qs


@require_http_methods(["GET", "POST"])
@staff_required
@require_perm("services.add_case")
def window_apply(request: HttpRequest) -> HttpResponse:
    """File for an applicant at the clerk's window: matter → applicant → form and files."""
    unit = policies.scope_unit(request.user)
    if unit is None:
        raise PermissionDenied  # a window belongs to a unit; an account without one has none
    source = request.POST if request.method == "POST" else request.GET
    q = source.get("q", "").strip()[:50]
    version = None
    code = source.get("matter", "")
    if code:
        matter = _window_matters("").filter(implementation_code=code).first()
        version = matter.published if matter else None
    context: dict[str, Any] = {"q": q, "unit": unit, "version": version, "matter_code": code}
    if version is None:
        context["matters"] = paginate(request, _window_matters(q), 10) if q or not code else None
        context["unknown_matter"] = bool(code)
        return render(request, "services/applicant/window_apply.html", context,
                      status=400 if request.method == "POST" else 200)
    # The ID number travels in POST bodies only: never in a URL, a log line or history.
    looking_up = request.method == "POST" and request.POST.get("step") == "lookup"
    lookup = ApplicantLookupForm(request.POST if request.method == "POST" else None)
    applicant = None
    if lookup.is_bound and lookup.is_valid():
        applicant = find_applicant(lookup.cleaned_data["applicant_id"])
        if applicant is not None:
            audit_pii_read(actor=request.user, obj=applicant, fields=("name", "id_number"),
                           reason="window filing")
    context.update({"lookup": lookup, "applicant": applicant})
    new_citizen = None
    if lookup.is_bound and lookup.is_valid() and applicant is None:
        is_id = _looks_like_id(lookup.cleaned_data["applicant_id"])
        context["offer_new"] = is_id
        if is_id:
            new_citizen = NewCitizenForm(None if looking_up else request.POST)
            context["new_citizen"] = new_citizen
    filing = _filing(request, version, None) if not looking_up else Filing(
        version=version, schema_form=SchemaForm(version.form_schema,
                                                translations=form_translations(version)),
        rows=material_rows(version, None))
    context.update(_filing_context(filing))
    if applicant is not None and not serves(version, applicant):
        context["blocked"] = _("This matter is not for applicants of this kind.")
    page = "services/applicant/window_apply.html"
    if request.method != "POST" or looking_up:
        return render(request, page, context, status=400 if lookup.errors else 200)
    if context.get("blocked") or not lookup.is_valid() or (applicant is None
                                                          and new_citizen is None):
        if applicant is None and lookup.is_valid() and new_citizen is None:
            filing.errors.append(_("No account has this credit code. The enterprise registers "
                                   "online first."))
        context.update(_filing_context(filing))
        return render(request, page, context, status=400)
    with transaction.atomic():
        if applicant is None:
            assert new_citizen is not None
            filing.schema_form.is_valid(partial=False)
            _check_uploads(request, filing.rows, submitting=True)
            if not new_citizen.is_valid() or filing.has_errors:
                if request.FILES:
                    filing.errors.append(_("Files are not kept when something needs "
                                           "correcting: choose them again before you send "
                                           "the form."))
                context.update(_filing_context(filing))
                return render(request, page, context, status=400)
            try:
                applicant = citizen_record_create(
                    actor=request.user, id_number=lookup.cleaned_data["applicant_id"],
                    name=new_citizen.cleaned_data["new_name"],
                    phone=new_citizen.cleaned_data["new_phone"])
            except ValidationError as exc:
                for key, texts in exc.message_dict.items():
                    target = {"name": "new_name", "phone": "new_phone"}.get(key)
                    for text in texts:
                        if target:
                            new_citizen.add_error(target, text)
                        else:
                            filing.errors.append(text)
                context.update(_filing_context(filing))
                transaction.set_rollback(True)
                return render(request, page, context, status=400)
        case = _file(request, filing, actor=request.user, applicant=applicant,
                     channel=Channel.WINDOW, case=None, submit=True, intake_unit=unit)
        if case is None:
            transaction.set_rollback(True)  # nor the new citizen record
            context.update(_filing_context(filing))
            return render(request, page, context, status=400)
    messages.success(request, _("Case %(number)s was filed and submitted for %(name)s.")
                     % {"number": case.number, "name": case.applicant_name})
    return redirect(f"/services/cases/{case.number}/")


def _looks_like_id(identifier: str) -> bool:
    try:
        normalize_id_number(identifier)
    except ValidationError:
        return False
    return True


def citizen_record_create(*, actor: Any, id_number: str, name: str, phone: str = "") -> User:
    """A citizen without an account, recorded at the window so a case can be filed.

    Uses ``accounts.services.citizen_register`` (the only citizen-creating service) with a
    random user name and an unusable password: the person signs up later with their ID
    number. The lead should add ``accounts.services.citizen_record_create(actor=…)`` so
    that the audit names the clerk as the actor of the creation too.
    """
    import secrets

    from yiwang.accounts import services as account_services

    user = account_services.citizen_register(
        username=f"w{secrets.token_hex(7)}", password=secrets.token_urlsafe(24),
        name=name, id_number=id_number, phone=phone)
    user.set_unusable_password()
    user.save(update_fields=["password"])
    audit_log(actor=actor, action="services.window.citizen_record", obj=user,
              after={"username": user.username}, reason="filed at the window")
    return user


urlpatterns: list[URLPattern] = [
    path("services/matters/<str:matter_code>/apply/", case_apply, name="case_apply"),
    path("services/my/cases/", my_cases, name="my_cases"),
    path("services/my/cases/<str:number>/", my_case, name="my_case"),
    path("services/my/cases/<str:number>/edit/", my_case_edit, name="my_case_edit"),
    path("services/my/cases/<str:number>/submit/", my_case_submit, name="my_case_submit"),
    path("services/my/cases/<str:number>/withdraw/", my_case_withdraw, name="my_case_withdraw"),
    path("services/my/cases/<str:number>/supplement/", my_case_supplement,
         name="my_case_supplement"),
    path("services/my/cases/<str:number>/rate/", my_case_rate, name="my_case_rate"),
    path("services/materials/<int:material_id>/", material_download, name="material_download"),
    path("services/window/apply/", window_apply, name="window_apply"),
]
