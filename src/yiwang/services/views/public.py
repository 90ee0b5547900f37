"""Pages: public. The 一网通办 catalog for citizens and enterprises, anonymous welcome.

- ``services:catalog``: search the published matters (keyword, 拼音 and 拼音首字母,
  department, service object, theme, 全程网办 and 零跑动), with theme tiles to start from;
- ``services:matter_guide``: the 办事指南 of a matter's version in force, printable;
- ``services:ratings_public``: the public 好差评 figures per department and matter.

Only published content is shown. Texts come in three languages: zh-Hans as stored,
zh-Hant from ``translations['zh-hant']`` or converted with OpenCC, English from
``translations['en']`` or else the Chinese text marked ``lang="zh-Hans"``.

The translations of a version (``MatterVersion.translations``) are read in this shape,
per language (``"en"``, ``"zh-hant"``); every key is optional::

    {"name": "...", "result_name": "...", "result_type": "...", "acceptance_conditions":
     "...", "legal_basis": "...", "limit_note": "...", "visits_reason": "...",
     "fee_basis": "...", "fee_standard": "...", "hours": "...",
     "steps": [{"name": "...", "description": "..."} | "name", ...],   # by position
     "faq": [{"q": "...", "a": "..."}, ...],                           # by position
     "locations": [{"name": "...", "address": "..."}, ...],            # by position
     "materials": {"<material code>": {"name": "...", "condition": "...", "issuer": "..."}}}
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.db.models import (
    Case,
    Count,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
    prefetch_related_objects,
)
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from yiwang.core.forms import StyledForm
from yiwang.core.models import OrgUnit

from ..models import (
    BAD_LEVELS,
    CaseKind,
    HandlingForm,
    LimitUnit,
    Material,
    MaterialSource,
    Matter,
    MatterVersion,
    OnlineDepth,
    Rating,
    RectificationStatus,
    ServiceObject,
    Theme,
    VersionStatus,
)

PER_PAGE = 20
# Below this many ratings a satisfaction rate says more about chance than about service.
MIN_RATINGS = 10
ONLINE_FORMS = {HandlingForm.PC, HandlingForm.MOBILE}
SEARCH_TERMS_MAX = 5


# --- languages --------------------------------------------------------------------------

def page_language() -> str:
    return (get_language() or "zh-hans").lower()


@functools.lru_cache(maxsize=16384)
def to_hant(text: str) -> str:
    """Simplified → Traditional (Hong Kong usage), as the UI catalogue is converted.

    Cached per string: published texts do not change, and the guide converts dozens."""
    from yiwang.core.management.commands.i18n import to_hant as convert

    return convert(text)


@functools.lru_cache(maxsize=4096)
def to_hans(text: str) -> str:
    """Traditional → Simplified, so a query typed in 繁體 finds the stored 简体 names."""
    return _hans_converter().convert(text)  # type: ignore[no-any-return]


@functools.cache
def _hans_converter() -> Any:
    import opencc

    return opencc.OpenCC("hk2s")


class Text(str):
    """A text in the page's language, or in Chinese (``lang`` set) where no translation
    exists. Renders itself wrapped in ``<span lang>`` when its language differs from the
    page's (a ``str`` subclass, as templates turn anything else into a plain ``str``)."""

    lang: str

    def __new__(cls, text: str = "", lang: str = "") -> Text:
        obj = super().__new__(cls, text)
        obj.lang = lang
        return obj

    @property
    def text(self) -> str:
        return str.__str__(self)

    def __html__(self) -> SafeString:
        if self.lang:
            return format_html('<span lang="{}">{}</span>', self.lang, self.text)
        return SafeString(conditional_escape(self.text))


class Localizer:
    """Turns stored zh-Hans content into the page's language."""

    def __init__(self, language: str | None = None) -> None:
        self.language = (language or page_language()).lower()
        self.untranslated = False  # some text fell back to Chinese (English pages)

    @property
    def is_english(self) -> bool:
        return self.language == "en"

    def text(self, chinese: Any, translated: Any = None) -> Text:
        chinese = "" if chinese is None else str(chinese).strip()
        if isinstance(translated, str) and translated.strip():
            return Text(translated.strip())
        if self.language == "zh-hant":
            return Text(to_hant(chinese))
        if self.is_english and chinese:
            self.untranslated = True
            return Text(chinese, lang="zh-Hans")
        return Text(chinese)

    def table(self, translations: Any) -> dict[str, Any]:
        """The version's translations into the page's language (``{}`` when none)."""
        if not isinstance(translations, dict):
            return {}
        table = translations.get(self.language)
        return table if isinstance(table, dict) else {}

    def unit(self, unit: OrgUnit) -> Text:
        return self.text(unit.name, unit.name_en if self.is_english else None)

    def theme(self, theme: Theme) -> Text:
        return self.text(theme.name, theme.name_en if self.is_english else None)


def _at(items: Any, index: int) -> Any:
    return items[index] if isinstance(items, list) and index < len(items) else None


def _key(item: Any, key: str) -> Any:
    return item.get(key) if isinstance(item, dict) else None


def _choice_label(choices: Any, code: Any) -> str:
    try:
        return str(choices(code).label)
    except ValueError:
        return str(code)


# --- catalog: search ----------------------------------------------------------------------

def published_matters() -> QuerySet[Matter]:
    """Matters with a version in force: the public catalog."""
    return Matter.objects.filter(published__isnull=False,
                                 published__status=VersionStatus.PUBLISHED)


def _is_ascii(text: str) -> bool:
    return all(ord(ch) < 128 for ch in text)


def _term_condition(term: str) -> Q:
    """One search word: the name (简体 or typed in 繁體), the department, the code, and
    for Latin letters the 拼音 (full or initials, ``sgxk`` → 施工许可) and English name."""
    simplified = to_hans(term)
    condition = (Q(name__icontains=term) | Q(name__icontains=simplified)
                 | Q(published__department__name__icontains=simplified))
    if _is_ascii(term):
        letters = term.lower().replace("'", "")
        condition |= (Q(name_pinyin__icontains=letters)
                      | Q(implementation_code__iexact=term)
                      | Q(published__translations__en__name__icontains=term))
    return condition


def matter_search(*, q: str = "", department: str = "", service_object: str = "",
                  theme: str = "", online: bool = False, zero_visit: bool = False
                  ) -> QuerySet[Matter]:
    """The published matters that match, best first (name hits before other hits)."""
    matters = published_matters().select_related("published", "published__department")
    terms = q.split()[:SEARCH_TERMS_MAX]
    for term in terms:
        matters = matters.filter(_term_condition(term))
    if department:
        matters = matters.filter(published__department__code=department)
    if service_object:
        # A JSON list of codes; the quotes keep "person" from matching inside another code.
        matters = matters.filter(published__service_objects__icontains=f'"{service_object}"')
    if theme:
        matters = matters.filter(published__themes__code=theme)
    if online:
        matters = matters.filter(published__online_depth=OnlineDepth.FULL)
    if zero_visit:
        matters = matters.filter(published__visits=0)
    if terms:
        first = to_hans(terms[0])
        matters = matters.annotate(rank=Case(
            When(name__istartswith=first, then=Value(0)),
            When(name__icontains=first, then=Value(1)),
            default=Value(2), output_field=IntegerField()))
        return matters.order_by("rank", "name", "implementation_code")
    return matters.order_by("published__department__sort_order",
                            "published__department__code", "implementation_code")


def catalog_departments() -> list[OrgUnit]:
    """Departments with at least one published matter (the department filter)."""
    ids = published_matters().values("published__department_id")
    return list(OrgUnit.objects.filter(pk__in=ids).order_by("sort_order", "code"))


class CatalogFilterForm(StyledForm):
    q = forms.CharField(label=gettext_lazy("Service name, keyword or pinyin"),
                        max_length=100, required=False,
                        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off",
                                                      "enterkeyhint": "search"}))
    department = forms.ChoiceField(label=gettext_lazy("Department"), required=False)
    object = forms.ChoiceField(label=gettext_lazy("Who applies"), required=False)
    theme = forms.ChoiceField(label=gettext_lazy("Theme"), required=False)
    online = forms.BooleanField(label=gettext_lazy("Fully online (全程网办)"), required=False)
    zero_visit = forms.BooleanField(label=gettext_lazy("No visit needed (零跑动)"),
                                    required=False)

    def __init__(self, *args: Any, departments: list[tuple[str, str]],
                 themes: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [  # type: ignore[attr-defined]
            ("", _("All departments")), *departments]
        self.fields["object"].choices = [  # type: ignore[attr-defined]
            ("", _("Everyone")), *ServiceObject.choices]
        self.fields["theme"].choices = [  # type: ignore[attr-defined]
            ("", _("All themes")), *themes]


@dataclass
class Badge:
    label: str
    kind: str = ""  # "", "good", "muted": the yw-badge modifier


@dataclass
class CatalogItem:
    code: str
    name: Text
    department: Text
    badges: list[Badge]


def limit_text(limit: int | None, unit: str) -> str:
    """"5 working days", "1 working day", "30 calendar days" in the page's language."""
    if limit is None:
        return ""
    if unit == LimitUnit.DAYS:
        return (_("1 calendar day") if limit == 1
                else _("%(n)s calendar days") % {"n": limit})
    if unit == LimitUnit.HOURS:
        return _("1 hour") if limit == 1 else _("%(n)s hours") % {"n": limit}
    return _("1 working day") if limit == 1 else _("%(n)s working days") % {"n": limit}


def version_badges(version: MatterVersion) -> list[Badge]:
    """The facts a citizen scans for first, in the order the bureau reports them."""
    badges = []
    if version.case_kind == CaseKind.IMMEDIATE:
        badges.append(Badge(_("Decided on the spot (即办件)"), "good"))
    else:
        badges.append(Badge(_("Promised: %(limit)s") % {
            "limit": limit_text(version.promised_limit, version.promised_unit)}))
    if version.visits == 0:
        badges.append(Badge(_("No visit (零跑动)"), "good"))
    elif version.visits == 1:
        badges.append(Badge(_("At most one visit (最多跑一次)")))
    if version.online_depth == OnlineDepth.FULL:
        badges.append(Badge(_("Fully online (全程网办)"), "good"))
    if version.deficiency_allowed:
        badges.append(Badge(_("Accepted with deficiencies (容缺受理)")))
    if version.commitment_allowed:
        badges.append(Badge(_("Approval on commitment (告知承诺)")))
    if version.cross_region:
        badges.append(Badge(_("Cross-region (跨域通办)")))
    elif version.citywide:
        badges.append(Badge(_("Anywhere in the city (全市域通办)")))
    return badges


def catalog_item(matter: Matter, local: Localizer) -> CatalogItem:
    version = matter.published
    assert version is not None
    table = local.table(version.translations)
    return CatalogItem(code=matter.implementation_code,
                       name=local.text(version.name, table.get("name")),
                       department=local.unit(version.department),
                       badges=version_badges(version))


def _filter_labels(form: CatalogFilterForm) -> list[str]:
    """The filters in force, in words (for the results heading and the empty state)."""
    data = form.cleaned_data
    labels = []
    for name in ("department", "object", "theme"):
        if data.get(name):
            choices = dict(form.fields[name].choices)  # type: ignore[attr-defined]
            labels.append(str(choices.get(data[name], data[name])))
    for name in ("online", "zero_visit"):
        if data.get(name):
            labels.append(str(form.fields[name].label))
    return labels


@require_GET
def catalog(request: HttpRequest) -> HttpResponse:
    local = Localizer()
    themes = list(Theme.objects.all())
    departments = catalog_departments()
    form = CatalogFilterForm(
        request.GET or None,
        departments=[(d.code, str(local.unit(d))) for d in departments],
        themes=[(t.code, str(local.theme(t))) for t in themes])
    audience = request.GET.get("audience")
    audience = audience if audience in Theme.Audience.values else Theme.Audience.PERSON
    context: dict[str, Any] = {
        "form": form, "audience": audience,
        "audiences": Theme.Audience.choices,
        "theme_tiles": [{"code": t.code, "name": local.theme(t)}
                        for t in themes if t.audience == audience],
        "page_obj": None, "items": [], "searching": False, "filters": [],
        "english": local.is_english,
    }
    if form.is_bound and not form.is_valid():
        return render(request, "services/public/catalog.html", context, status=400)
    data = form.cleaned_data if form.is_bound else {}
    matters = matter_search(q=(data.get("q") or "").strip(),
                            department=data.get("department") or "",
                            service_object=data.get("object") or "",
                            theme=data.get("theme") or "", online=bool(data.get("online")),
                            zero_visit=bool(data.get("zero_visit")))
    page_obj = Paginator(matters, PER_PAGE).get_page(request.GET.get("page"))
    query = (data.get("q") or "").strip()
    filters = _filter_labels(form) if form.is_bound else []
    context.update({
        "page_obj": page_obj,
        "items": [catalog_item(m, local) for m in page_obj.object_list],
        "query": query, "filters": filters, "searching": bool(query or filters),
        "untranslated": local.untranslated,
    })
    return render(request, "services/public/catalog.html", context)


# --- the 办事指南 ------------------------------------------------------------------------------

@dataclass
class GuideMaterial:
    name: Text
    required: bool
    condition: Text
    may_be_deficient: bool
    originals: int
    copies: int
    issuer: Text
    source: str
    source_label: str
    license_type: Text
    blank_form_url: str
    sample_url: str


@dataclass
class Guide:
    """A version's 办事指南 in the page's language."""

    version: MatterVersion
    name: Text
    department: Text
    legal_basis: Text
    service_objects: list[str]
    themes: list[Text]
    statutory: str
    promised: str
    limit_note: Text
    handling_forms: list[str]
    visits_reason: Text
    fee_basis: Text
    fee_standard: Text
    acceptance_conditions: Text
    materials: list[GuideMaterial]
    steps: list[tuple[Text, Text]]
    result_name: Text
    result_type: Text
    locations: list[tuple[Text, Text]]
    hours: Text
    faq: list[tuple[Text, Text]]
    badges: list[Badge]
    applies_online: bool
    untranslated: bool = False
    flags: list[str] = field(default_factory=list)


def _material(material: Material, table: dict[str, Any], local: Localizer) -> GuideMaterial:
    own = table.get("materials", {})
    own = own.get(material.code, {}) if isinstance(own, dict) else {}
    return GuideMaterial(
        name=local.text(material.name, _key(own, "name")),
        required=material.required,
        condition=local.text(material.condition, _key(own, "condition")),
        may_be_deficient=material.may_be_deficient,
        originals=material.originals, copies=material.copies,
        issuer=local.text(material.issuer, _key(own, "issuer")),
        source=material.source,
        source_label=_choice_label(MaterialSource, material.source),
        license_type=local.text(material.license_type),
        blank_form_url=material.blank_form.url if material.blank_form else "",
        sample_url=material.sample.url if material.sample else "")


def _flags(version: MatterVersion) -> list[str]:
    flags = []
    if version.deficiency_allowed:
        flags.append(_("Accepted with deficiencies (容缺受理): some materials may be supplied "
                       "within %(days)s working days after acceptance.")
                     % {"days": version.supplement_days})
    if version.commitment_allowed:
        flags.append(_("Approval on commitment (告知承诺): approved on your written commitment "
                       "that you meet the conditions; checked afterwards."))
    if version.cross_region:
        flags.append(_("Cross-region (跨域通办): can be applied for in other regions too."))
    if version.citywide:
        flags.append(_("Anywhere in the city (全市域通办): any service hall in the city "
                       "accepts the application."))
    if version.appointment:
        flags.append(_("Appointments for the service hall are available."))
    if version.postal_delivery:
        flags.append(_("The result can be sent by post free of charge."))
    return flags


def matter_guide_of(version: MatterVersion, local: Localizer) -> Guide:
    table = local.table(version.translations)

    def text(name: str) -> Text:
        return local.text(getattr(version, name), table.get(name))

    steps = []
    for index, step in enumerate(version.steps if isinstance(version.steps, list) else []):
        own = _at(table.get("steps"), index)
        own_name = own if isinstance(own, str) else _key(own, "name")
        if isinstance(step, dict):
            steps.append((local.text(step.get("name", ""), own_name),
                          local.text(step.get("description", ""), _key(own, "description"))))
        else:
            steps.append((local.text(step, own_name), Text("")))
    locations = [(local.text(_key(place, "name") or "", _key(_at(table.get("locations"), i),
                                                              "name")),
                  local.text(_key(place, "address") or "",
                             _key(_at(table.get("locations"), i), "address")))
                 for i, place in enumerate(version.locations
                                           if isinstance(version.locations, list) else [])]
    faq = [(local.text(_key(item, "q") or "", _key(_at(table.get("faq"), i), "q")),
            local.text(_key(item, "a") or "", _key(_at(table.get("faq"), i), "a")))
           for i, item in enumerate(version.faq if isinstance(version.faq, list) else [])]
    guide = Guide(
        version=version, name=text("name"), department=local.unit(version.department),
        legal_basis=text("legal_basis"),
        service_objects=[_choice_label(ServiceObject, c) for c in version.service_objects],
        themes=[local.theme(t) for t in version.themes.all()],
        statutory=limit_text(version.statutory_limit, version.statutory_unit),
        promised=limit_text(version.promised_limit, version.promised_unit),
        limit_note=text("limit_note"),
        handling_forms=[_choice_label(HandlingForm, c) for c in version.handling_forms],
        visits_reason=text("visits_reason"), fee_basis=text("fee_basis"),
        fee_standard=text("fee_standard"), acceptance_conditions=text("acceptance_conditions"),
        materials=[_material(m, table, local) for m in version.materials.all()],
        steps=steps, result_name=text("result_name"), result_type=text("result_type"),
        locations=locations, hours=text("hours"), faq=faq, badges=version_badges(version),
        applies_online=bool(ONLINE_FORMS & set(version.handling_forms)),
        flags=_flags(version))
    guide.untranslated = local.untranslated
    return guide


def matter_get_public(code: str) -> Matter:
    """The matter with its version in force; 404 when there is no such matter or it was
    never published (drafts are not public)."""
    matter = (Matter.objects.select_related("published", "published__department",
                                            "department")
              .filter(implementation_code=code).first())
    if matter is None:
        raise Http404
    return matter


@require_GET
def matter_guide(request: HttpRequest, matter_code: str) -> HttpResponse:
    matter = matter_get_public(matter_code)
    local = Localizer()
    version = matter.published
    if version is None or version.status != VersionStatus.PUBLISHED:
        # Taken out of the catalog: old links and printed QR codes still lead somewhere
        # useful. 410, and no content: an outdated guide must not be followed.
        retired = (matter.versions.filter(status=VersionStatus.RETIRED)
                   .select_related("department").order_by("-number").first())
        if retired is None:
            raise Http404
        table = local.table(retired.translations)
        return render(request, "services/public/matter_retired.html", {
            "matter": matter, "version": retired,
            "name": local.text(retired.name, table.get("name")),
            "department": local.unit(retired.department),
        }, status=410)
    prefetch_related_objects([version], "materials", "themes")
    guide = matter_guide_of(version, local)
    printing = request.GET.get("print") == "1"
    return render(request, "services/public/matter_guide.html", {
        "matter": matter, "guide": guide, "version": guide.version, "printing": printing,
        # Printed on paper, the guide says where to find it online.
        "guide_url": request.build_absolute_uri(request.path),
    })


# --- 好差评: public figures ---------------------------------------------------------------------

class RatingPeriodForm(StyledForm):
    year = forms.TypedChoiceField(label=gettext_lazy("Year"), coerce=int, required=False)
    month = forms.TypedChoiceField(label=gettext_lazy("Month"), coerce=int, required=False,
                                   empty_value=None)

    def __init__(self, *args: Any, years: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [(y, str(y)) for y in years]  # type: ignore[attr-defined]
        self.fields["month"].choices = [  # type: ignore[attr-defined]
            ("", _("Whole year")),
            *((m, _("Month %(month)s") % {"month": m}) for m in range(1, 13))]


@dataclass
class RatingFigures:
    label: Text
    ratings: int
    satisfied: int
    bad: int
    rectified: int
    code: str = ""

    @property
    def enough(self) -> bool:
        return self.ratings >= MIN_RATINGS

    @property
    def satisfaction_rate(self) -> float | None:
        return self.satisfied / self.ratings if self.ratings else None

    @property
    def rectification_rate(self) -> float | None:
        return self.rectified / self.bad if self.bad else None

    @property
    def satisfaction_percent(self) -> float | None:
        rate = self.satisfaction_rate
        return None if rate is None else round(rate * 100, 1)

    @property
    def rectification_percent(self) -> float | None:
        rate = self.rectification_rate
        return None if rate is None else round(rate * 100, 1)


RATING_MEASURES = {
    "n": Count("id"),
    "good": Count("id", filter=Q(level__gte=3)),
    "bad": Count("id", filter=Q(level__in=sorted(BAD_LEVELS))),
    "fixed": Count("id", filter=Q(level__in=sorted(BAD_LEVELS),
                                  rectification__status=RectificationStatus.CLOSED)),
}


def public_ratings(*, start: dt.datetime, end: dt.datetime) -> QuerySet[Rating]:
    """Ratings given in [start, end); a rating voided on appeal (申诉复核) does not count,
    as in the bureau's own statistics."""
    return (Rating.objects.filter(created_at__gte=start, created_at__lt=end)
            .exclude(rectification__status=RectificationStatus.VOIDED))


def _figures(row: dict[str, Any], label: Text, code: str = "") -> RatingFigures:
    return RatingFigures(label=label, ratings=row["n"] or 0, satisfied=row["good"] or 0,
                         bad=row["bad"] or 0, rectified=row["fixed"] or 0, code=code)


def _period(year: int, month: int | None) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    if month:
        start = dt.datetime(year, month, 1, tzinfo=tz)
        end = dt.datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
    else:
        start, end = dt.datetime(year, 1, 1, tzinfo=tz), dt.datetime(year + 1, 1, 1, tzinfo=tz)
    return start, end


@require_GET
def ratings_public(request: HttpRequest) -> HttpResponse:
    local = Localizer()
    this_year = timezone.localdate().year
    years = list(range(this_year, this_year - 5, -1))
    form = RatingPeriodForm(request.GET or None, years=years, initial={"year": this_year})
    context: dict[str, Any] = {"form": form, "min_ratings": MIN_RATINGS}
    if form.is_bound and not form.is_valid():
        return render(request, "services/public/ratings.html", context, status=400)
    data = form.cleaned_data if form.is_bound else {}
    year = data.get("year") or this_year
    month = data.get("month")
    start, end = _period(year, month)
    ratings = public_ratings(start=start, end=end)
    total = _figures(ratings.aggregate(**RATING_MEASURES), Text(_("Whole district")))
    by_department = list(ratings.values("department_id").annotate(**RATING_MEASURES)
                         .order_by())
    units = OrgUnit.objects.in_bulk([row["department_id"] for row in by_department])
    departments = sorted(
        (_figures(row, local.unit(units[row["department_id"]]))
         for row in by_department),
        key=lambda f: (-f.ratings, str(f.label)))
    # Per matter: the matters of the public catalog only.
    by_matter = (ratings.filter(matter__published__status=VersionStatus.PUBLISHED)
                 .values("matter_id").annotate(**RATING_MEASURES).order_by("-n", "matter_id"))
    page_obj = Paginator(by_matter, 25).get_page(request.GET.get("page"))
    rows = list(page_obj.object_list)
    matters = Matter.objects.select_related("published", "published__department").in_bulk(
        [row["matter_id"] for row in rows])
    matter_rows = []
    for row in rows:
        matter = matters[row["matter_id"]]
        assert matter.published is not None
        table = local.table(matter.published.translations)
        figures = _figures(row, local.text(matter.published.name, table.get("name")),
                           code=matter.implementation_code)
        matter_rows.append((figures, local.unit(matter.published.department)))
    context.update({
        "year": year, "month": month, "start": start,
        "end_inclusive": (end - dt.timedelta(days=1)).date(),
        "total": total, "departments": departments, "matter_rows": matter_rows,
        "page_obj": page_obj, "untranslated": local.untranslated,
    })
    return render(request, "services/public/ratings.html", context)


urlpatterns = [
    path("services/", catalog, name="catalog"),
    path("services/matters/<str:matter_code>/", matter_guide, name="matter_guide"),
    path("services/ratings/", ratings_public, name="ratings_public"),
]
