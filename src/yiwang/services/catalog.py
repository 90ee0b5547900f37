"""The living catalog (事项动态管理): versions, quality checks, review and publication.

A matter's content changes only through a new version: draft → reviewed → published →
retired. Publishing a version retires the one in force; cases keep the version they were
filed under. Quality checks run on every save of a version and block review and
publication while an error remains.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.forms.models import model_to_dict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pypinyin import Style, lazy_pinyin

from yiwang.core import policies
from yiwang.core.audit import audit_log

from .models import (
    CaseKind,
    Material,
    Matter,
    MatterType,
    MatterVersion,
    OnlineDepth,
    VersionStatus,
)

LICENSE_STEPS = ("受理", "审查", "决定", "办结", "送达")
# Fields that are not content: left out of diffs and copies.
NON_CONTENT = {"id", "matter", "number", "status", "created_by", "created_at", "reviewed_by",
               "published_by", "published_at", "change_note", "effective_from",
               "effective_to"}


@dataclass(frozen=True)
class Finding:
    """One catalog-quality violation of a version."""

    rule: str
    field: str
    message: str
    severity: str = "error"  # error blocks review/publication; warning does not


def quality_findings(version: MatterVersion) -> list[Finding]:
    """The catalog-quality rules of the bureau (动态管理 checks)."""
    found: list[Finding] = []

    def add(rule: str, field: str, message: Any, severity: str = "error") -> None:
        found.append(Finding(rule, field, str(message), severity))

    if version.promised_limit == 0 and version.case_kind != CaseKind.IMMEDIATE:
        add("immediate_kind", "case_kind",
            gettext_lazy("A matter decided on the spot (promised limit 0) is an immediate case."))
    if version.case_kind == CaseKind.IMMEDIATE and version.promised_limit != 0:
        add("immediate_limit", "promised_limit",
            gettext_lazy("An immediate case has a promised limit of 0."))
    if version.visits and not version.visits_reason.strip():
        add("visits_reason", "visits_reason",
            gettext_lazy("Say why the applicant must come in person."))
    if version.visits > 2:
        add("visits_max", "visits", gettext_lazy("At most two on-site visits are allowed."))
    if version.online_depth == OnlineDepth.FULL and version.visits != 0:
        add("full_online_zero_visits", "visits",
            gettext_lazy("A matter handled fully online needs no on-site visit."))
    if version.has_fee and not (version.fee_basis.strip() and version.fee_standard.strip()):
        add("fee_basis", "fee_basis",
            gettext_lazy("A matter with a fee states its legal basis and its standard."))
    if version.matter_type == MatterType.LICENSE:
        names = [str(step.get("name", "")) for step in version.steps if isinstance(step, dict)]
        missing = [s for s in LICENSE_STEPS if s not in names]
        if missing:
            add("license_steps", "steps",
                _("An administrative licence has the steps 受理, 审查, 决定, 办结, 送达; "
                  "missing: %(steps)s") % {"steps": "、".join(missing)})
    if (version.statutory_limit is not None and version.promised_limit
            and version.statutory_unit == version.promised_unit
            and version.promised_limit > version.statutory_limit):
        add("promised_within_statutory", "promised_limit",
            gettext_lazy("The promised limit cannot exceed the statutory limit."))
    if not version.service_objects:
        add("service_objects", "service_objects", gettext_lazy("Name who the matter serves."))
    if not version.legal_basis.strip() and version.matter_type != MatterType.PUBLIC_SERVICE:
        add("legal_basis", "legal_basis",
            gettext_lazy("An administrative power states its legal basis."))
    if not version.consult_phone.strip():
        add("consult_phone", "consult_phone",
            gettext_lazy("Give a consultation phone number."), "warning")
    if version.deficiency_allowed and version.pk and not any(  # uses a prefetch if any
            m.may_be_deficient for m in version.materials.all()):
        add("deficiency_materials", "materials",
            gettext_lazy("容缺 is allowed but no material is marked as one that may come "
                         "later."))
    return found


def errors_of(version: MatterVersion) -> list[Finding]:
    return [f for f in quality_findings(version) if f.severity == "error"]


def _require(actor: Any, perm: str, version_or_matter: Any) -> None:
    department = version_or_matter.department
    if not (policies.has_perm(actor, perm) and policies.in_scope(actor, department.path)):
        raise PermissionDenied


def content_of(version: MatterVersion) -> dict[str, Any]:
    """A version's content as plain data (for diffs, copies and the audit log)."""
    data = model_to_dict(version, exclude=sorted(NON_CONTENT | {"themes", "result_sample"}))
    data["department"] = version.department.code
    # .all(): a prefetched list when the caller prefetched (the catalog export does).
    data["themes"] = sorted(t.code for t in version.themes.all()) if version.pk else []
    data["materials"] = [
        {k: v for k, v in model_to_dict(m, exclude=["id", "version", "blank_form",
                                                     "sample", "sort_order"]).items()}
        for m in version.materials.all()
    ] if version.pk else []
    return data


def version_diff(old: MatterVersion | None, new: MatterVersion) -> dict[str, tuple[Any, Any]]:
    """Changed fields between two versions: ``{field: (old, new)}``."""
    before = content_of(old) if old is not None else {}
    after = content_of(new)
    return {key: (before.get(key), after[key]) for key in after
            if before.get(key) != after[key]}


def pinyin_key(name: str) -> str:
    """Initials and full pinyin, for search by 拼音首字母 (e.g. "jzgc jianzhugongcheng")."""
    initials = "".join(lazy_pinyin(name, style=Style.FIRST_LETTER))
    full = "".join(lazy_pinyin(name))
    return f"{initials} {full}".lower()[:200]


@transaction.atomic
def matter_create(*, actor: Any, implementation_code: str, department: Any,
                  content: dict[str, Any]) -> MatterVersion:
    """A new matter with its first (draft) version."""
    if not (policies.has_perm(actor, "services.add_matter")
            and policies.in_scope(actor, department.path)):
        raise PermissionDenied
    if Matter.objects.filter(implementation_code=implementation_code).exists():
        raise ValidationError({"implementation_code": [
            _("A matter with this implementation code exists.")]})
    matter = Matter.objects.create(implementation_code=implementation_code,
                                   department=department,
                                   name=content.get("name", ""),
                                   name_pinyin=pinyin_key(content.get("name", "")))
    version = _new_version(matter=matter, actor=actor, number=1, content=content)
    audit_log(actor=actor, action="services.matter.create", obj=matter,
              after={"implementation_code": implementation_code, "version": 1})
    return version


def _new_version(*, matter: Matter, actor: Any, number: int,
                 content: dict[str, Any]) -> MatterVersion:
    content = dict(content)
    themes = content.pop("themes", [])
    materials = content.pop("materials", [])
    content.setdefault("department", matter.department)
    content.setdefault("implementation_code", matter.implementation_code)
    version = MatterVersion(matter=matter, number=number, status=VersionStatus.DRAFT,
                            created_by=actor, **content)
    version.full_clean(exclude=["matter", "themes"])
    version.save()
    if themes:
        version.themes.set(themes)
    for order, material in enumerate(materials):
        Material.objects.create(version=version, **{**material, "sort_order": order})
    return version


@transaction.atomic
def version_draft(*, actor: Any, matter: Matter, changes: dict[str, Any],
                  change_note: str) -> MatterVersion:
    """A new draft that copies the latest version and applies ``changes``."""
    _require(actor, "services.change_matter", matter)
    if matter.versions.filter(status__in=[VersionStatus.DRAFT, VersionStatus.REVIEWED]).exists():
        raise ValidationError({"matter": [
            _("Finish or discard the open draft of this matter first.")]})
    latest = matter.versions.order_by("-number").first()
    base = content_of(latest) if latest else {}
    base.pop("department", None)
    base["department"] = matter.department
    base["themes"] = list(latest.themes.all()) if latest else []
    base.update(changes)
    version = _new_version(matter=matter, actor=actor,
                           number=(latest.number + 1) if latest else 1, content=base)
    version.change_note = change_note
    version.save(update_fields=["change_note"])
    audit_log(actor=actor, action="services.matter.draft", obj=matter, reason=change_note,
              after={"version": version.number,
                     "changed": sorted(version_diff(latest, version))})
    return version


@transaction.atomic
def version_update(
    *, actor: Any, version: MatterVersion, changes: dict[str, Any]
) -> list[Finding]:
    """Edit a draft; returns the quality findings after the save."""
    version = MatterVersion.objects.select_for_update().get(pk=version.pk)
    _require(actor, "services.change_matter", version)
    if version.status != VersionStatus.DRAFT:
        raise ValidationError({"status": [_("Only a draft can be edited.")]})
    before = content_of(version)
    for field, value in changes.items():
        setattr(version, field, value)
    version.full_clean(exclude=["matter", "themes"])
    version.save()
    after = content_of(version)
    audit_log(actor=actor, action="services.matter.edit", obj=version.matter,
              before={k: before[k] for k in changes if k in before},
              after={k: after[k] for k in changes if k in after})
    return quality_findings(version)


@transaction.atomic
def version_review(*, actor: Any, version: MatterVersion) -> MatterVersion:
    version = MatterVersion.objects.select_for_update().get(pk=version.pk)
    _require(actor, "services.review_matter", version)
    if version.status != VersionStatus.DRAFT:
        raise ValidationError({"status": [_("Only a draft can be reviewed.")]})
    if version.created_by_id == actor.pk:
        raise ValidationError({"status": [_("Someone other than the author reviews a draft.")]})
    blocking = errors_of(version)
    if blocking:
        raise ValidationError({f.field: [f.message] for f in blocking})
    version.status = VersionStatus.REVIEWED
    version.reviewed_by = actor
    version.save(update_fields=["status", "reviewed_by"])
    audit_log(actor=actor, action="services.matter.review", obj=version.matter,
              after={"version": version.number})
    return version


@transaction.atomic
def version_publish(*, actor: Any, version: MatterVersion,
                    effective_from: dt.date | None = None) -> MatterVersion:
    """Publish a reviewed version; the version in force is retired the day before."""
    version = MatterVersion.objects.select_for_update().get(pk=version.pk)
    _require(actor, "services.publish_matter", version)
    if version.status != VersionStatus.REVIEWED:
        raise ValidationError({"status": [_("Only a reviewed version can be published.")]})
    blocking = errors_of(version)
    if blocking:
        raise ValidationError({f.field: [f.message] for f in blocking})
    today = timezone.localdate()
    effective_from = effective_from or today
    matter = Matter.objects.select_for_update().get(pk=version.matter_id)
    previous = matter.published
    if previous is not None:
        previous.status = VersionStatus.RETIRED
        previous.effective_to = effective_from - dt.timedelta(days=1)
        previous.save(update_fields=["status", "effective_to"])
    version.status = VersionStatus.PUBLISHED
    version.effective_from = effective_from
    version.published_by = actor
    version.published_at = timezone.now()
    version.save(update_fields=["status", "effective_from", "published_by", "published_at"])
    matter.published = version
    matter.name = version.name
    matter.name_pinyin = pinyin_key(version.name)
    matter.save(update_fields=["published", "name", "name_pinyin", "updated_at"])
    audit_log(actor=actor, action="services.matter.publish", obj=matter,
              before={"version": previous.number if previous else None},
              after={"version": version.number,
                     "changed": sorted(version_diff(previous, version))})
    return version


@transaction.atomic
def matter_retire(*, actor: Any, matter: Matter, reason: str) -> Matter:
    """Take a matter out of the catalog: its version in force is retired."""
    matter = Matter.objects.select_for_update().get(pk=matter.pk)
    _require(actor, "services.publish_matter", matter)
    if not reason.strip():
        raise ValidationError({"reason": [_("Give a reason for retiring the matter.")]})
    version = matter.published
    if version is None:
        raise ValidationError({"matter": [_("The matter has no version in force.")]})
    version.status = VersionStatus.RETIRED
    version.effective_to = timezone.localdate()
    version.save(update_fields=["status", "effective_to"])
    matter.published = None
    matter.save(update_fields=["published", "updated_at"])
    audit_log(actor=actor, action="services.matter.retire", obj=matter, reason=reason,
              after={"version": version.number})
    return matter


def catalog_report(versions: Any) -> dict[str, list[tuple[MatterVersion, list[Finding]]]]:
    """Every violation per department: ``{department name: [(version, findings)]}``."""
    report: dict[str, list[tuple[MatterVersion, list[Finding]]]] = {}
    for version in versions.select_related("department").prefetch_related("materials"):
        findings = quality_findings(version)
        if findings:
            report.setdefault(version.department.name, []).append((version, findings))
    return report
