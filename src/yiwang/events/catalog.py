"""The dispatch catalog (派单目录): load a CSV version, map handler names to org units,
publish, export.

The CSV layout is the one of ``shared/data/dispatch_catalog.csv`` (code, level,
parent_code, name, name_en, default_handler_type, default_handler, urgency, keywords,
typical_appeal_types). Handler names use ``区`` for the district and the municipal-branch
forms (``市市场监督管理局区监管局``); ``resolve_handler`` maps them to this district's units.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core import policies
from yiwang.core.audit import audit_log
from yiwang.core.models import OrgUnit
from yiwang.core.models.org import OrgKind

from .models import (
    APPEAL_TYPE_BY_CHINESE,
    CatalogStatus,
    Category,
    DispatchCatalog,
    HandlerType,
    Urgency,
)

COLUMNS = ["code", "level", "parent_code", "name", "name_en", "default_handler_type",
           "default_handler", "urgency", "keywords", "typical_appeal_types"]
TERRITORIAL = "街道办事处"
# Items a responsible social party fixes first (内外双循环), by default: property,
# shops and construction sites. Admins change the flag per item.
EXTERNAL_LOOP_HINTS = ("物业", "电梯", "小区", "商铺", "油烟", "工地", "施工")


@dataclass
class LoadResult:
    catalog: DispatchCatalog | None
    errors: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)


def _organisations() -> list[OrgUnit]:
    return list(OrgUnit.objects.filter(
        kind__in=[OrgKind.BUREAU, OrgKind.DEPARTMENT, OrgKind.ENTERPRISE], is_active=True))


def resolve_handler(name: str, units: Iterable[OrgUnit], district: OrgUnit) -> OrgUnit | None:
    """This district's unit for a catalog handler name, or None when not unambiguous."""
    district_name = district.name
    short = district.short_name or district_name.removesuffix("区")
    candidates = {name}
    if name.startswith("区"):
        candidates.add(district_name + name[1:])
        candidates.add("深圳市" + district_name + name[1:])
    if name.startswith("市") and "区" in name:
        head, _sep, tail = name[1:].partition("区")
        candidates.add(f"深圳市{head}{short}{tail}")
    units = list(units)
    exact = [u for u in units if u.name in candidates]
    if len(exact) == 1:
        return exact[0]
    bare = name.removeprefix("区")
    by_short = [u for u in units if u.short_name == bare]
    if len(by_short) == 1:
        return by_short[0]
    contains = [u for u in units if u.kind == OrgKind.ENTERPRISE and (
        bare in u.name or (bare.removesuffix("集团") in u.name and "集团" in u.name))]
    return contains[0] if len(contains) == 1 else None


def read_rows(data: bytes) -> tuple[list[dict[str, str]], list[str]]:
    """Parse and check the CSV: unique codes, parents that exist and prefix the code,
    dispatchable rows with a handler type, keywords and appeal types."""
    errors: list[str] = []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            return [], [_("The file is neither UTF-8 nor GBK text.")]
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        return [], [_("Missing columns: %(cols)s.") % {"cols": ", ".join(missing)}]
    rows = [{k: (v or "").strip() for k, v in row.items() if k} for row in reader]
    codes: dict[str, dict[str, str]] = {}
    for line, row in enumerate(rows, start=2):
        code, level = row["code"], row["level"]
        where = _("line %(line)d (%(code)s)") % {"line": line, "code": code or "-"}
        if not code.isdigit() or level not in ("1", "2", "3") or len(code) != 2 * int(level):
            errors.append(_("%(where)s: the code must have 2, 4 or 6 digits for levels 1–3.")
                          % {"where": where})
            continue
        if code in codes:
            errors.append(_("%(where)s: the code appears twice.") % {"where": where})
        codes[code] = row
        parent = row["parent_code"]
        if level != "1" and (parent not in codes or not code.startswith(parent)):
            errors.append(_("%(where)s: the parent code must come first and prefix the code.")
                          % {"where": where})
        if not row["name"]:
            errors.append(_("%(where)s: the name is empty.") % {"where": where})
        if level == "3":
            if row["default_handler_type"] not in HandlerType.values:
                errors.append(_("%(where)s: handler type must be territorial, functional or "
                                "enterprise.") % {"where": where})
            if row["urgency"] not in Urgency.values:
                errors.append(_("%(where)s: urgency must be normal or urgent.")
                              % {"where": where})
            types = [t for t in row["typical_appeal_types"].split("|") if t]
            if not types or any(t not in APPEAL_TYPE_BY_CHINESE for t in types):
                errors.append(_("%(where)s: appeal types must be among 咨询|求助|投诉|举报|建议.")
                              % {"where": where})
            if not [k for k in row["keywords"].split("|") if k.strip()]:
                errors.append(_("%(where)s: give at least one keyword.") % {"where": where})
    return rows, errors


@transaction.atomic
def catalog_load(*, actor: Any, data: bytes, note: str = "", publish: bool = False,
                 system: bool = False) -> LoadResult:
    """A new catalog version from a CSV file (all or nothing); the same file twice is
    recognised and changes nothing."""
    if not system and not policies.has_perm(actor, "events.manage_catalog"):
        raise PermissionDenied
    digest = hashlib.sha256(data).hexdigest()
    same = DispatchCatalog.objects.filter(source_sha256=digest).first()
    if same is not None:
        return LoadResult(same)
    rows, errors = read_rows(data)
    if errors:
        return LoadResult(None, errors)
    district = OrgUnit.objects.get(code=settings.YIWANG_DISTRICT_CODE)
    units = _organisations()
    number = (DispatchCatalog.objects.aggregate(n=Max("number"))["n"] or 0) + 1
    catalog = DispatchCatalog.objects.create(
        number=number, note=note, source_sha256=digest,
        created_by=actor if getattr(actor, "is_authenticated", False) else None)
    by_code: dict[str, Category] = {}
    unmapped: list[str] = []
    for row in rows:
        level = int(row["level"])
        handler_unit = None
        if level == 3 and row["default_handler_type"] != HandlerType.TERRITORIAL:
            handler_unit = resolve_handler(row["default_handler"], units, district)
            if handler_unit is None:
                unmapped.append(f"{row['code']} {row['name']}: {row['default_handler']}")
        name = row["name"]
        category = Category.objects.create(
            catalog=catalog, code=row["code"], level=level,
            parent=by_code.get(row["parent_code"]), name=name, name_en=row["name_en"],
            handler_type=row["default_handler_type"] if level == 3 else "",
            default_handler=row["default_handler"], handler_unit=handler_unit,
            urgency=row["urgency"] or Urgency.NORMAL,
            keywords=[k.strip() for k in row["keywords"].split("|") if k.strip()],
            appeal_types=[str(APPEAL_TYPE_BY_CHINESE[t])
                          for t in row["typical_appeal_types"].split("|") if t],
            external_loop=level == 3 and any(h in name for h in EXTERNAL_LOOP_HINTS)
            and row["default_handler_type"] == HandlerType.TERRITORIAL)
        by_code[row["code"]] = category
    audit_log(actor=actor if catalog.created_by else None, action="events.catalog.load",
              obj=catalog, after={"rows": len(rows), "sha256": digest,
                                  "unmapped": len(unmapped)})
    if publish:
        catalog_publish(actor=actor, catalog=catalog, system=system)
    return LoadResult(catalog, [], unmapped)


@transaction.atomic
def catalog_publish(*, actor: Any, catalog: DispatchCatalog, system: bool = False
                    ) -> DispatchCatalog:
    if not system and not policies.has_perm(actor, "events.manage_catalog"):
        raise PermissionDenied
    if catalog.status != CatalogStatus.DRAFT:
        raise ValidationError(_("Only a draft catalog can be published."))
    DispatchCatalog.objects.filter(status=CatalogStatus.PUBLISHED).update(
        status=CatalogStatus.RETIRED)
    catalog.status = CatalogStatus.PUBLISHED
    catalog.published_at = timezone.now()
    catalog.save(update_fields=["status", "published_at"])
    audit_log(actor=actor if not system else None, action="events.catalog.publish",
              obj=catalog)
    return catalog


def published_catalog() -> DispatchCatalog | None:
    return DispatchCatalog.objects.filter(status=CatalogStatus.PUBLISHED).first()


def dispatchable(catalog: DispatchCatalog | None = None) -> list[Category]:
    catalog = catalog or published_catalog()
    if catalog is None:
        return []
    return list(catalog.categories.filter(level=3, active=True).select_related(
        "handler_unit", "parent__parent"))


def export_rows(catalog: DispatchCatalog) -> list[dict[str, str]]:
    chinese = {v: k for k, v in APPEAL_TYPE_BY_CHINESE.items()}
    rows = []
    for c in catalog.categories.select_related("parent").order_by("code"):
        rows.append({
            "code": c.code, "level": str(c.level),
            "parent_code": c.parent.code if c.parent else "", "name": c.name,
            "name_en": c.name_en, "default_handler_type": c.handler_type,
            "default_handler": c.default_handler if c.level == 3 else "",
            "urgency": c.urgency if c.level == 3 else "",
            "keywords": "|".join(c.keywords),
            "typical_appeal_types": "|".join(chinese[t] for t in c.appeal_types)})
    return rows


def export_csv(catalog: DispatchCatalog) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(export_rows(catalog))
    return out.getvalue().encode("utf-8")


def shared_catalog_path() -> Path:
    """The catalog shipped with the demo district (``data/dispatch_catalog.csv``)."""
    return Path(__file__).resolve().parent / "data" / "dispatch_catalog.csv"
