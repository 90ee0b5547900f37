"""The catalog as an Excel workbook in the layout departments keep their 实施清单 in.

Sheet 事项 has one row per matter (the version in force, or the latest draft), sheet 申请材料
one row per material. Lists are written the way staff type them (自然人、企业法人; 受理→审查;
问：…答：…), so the file round-trips: export → import → export gives the same cells.
Import is all-or-nothing: any bad row refuses the whole file with the row, column and
reason; a row identical to the matter's current content creates nothing.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from yiwang.core.models import OrgUnit

from . import catalog
from .models import (
    CaseKind,
    ExerciseLevel,
    HandlingForm,
    LimitUnit,
    MaterialSource,
    Matter,
    MatterType,
    MatterVersion,
    OnlineDepth,
    ServiceObject,
    Theme,
    VersionStatus,
)

LIST_SEP = "、"
STEP_SEP = "→"
YES, NO = "是", "否"

# Chinese labels staff use, fixed (not translated): the file is the bureau's own format.
MATTER_TYPES = {"00": "行政权力", "01": "行政许可", "02": "行政处罚", "03": "行政强制",
                "04": "行政征收", "05": "行政给付", "06": "行政检查", "07": "行政确认",
                "08": "行政奖励", "09": "行政裁决", "10": "其他行政权力", "20": "公共服务"}
LEVELS = {"1": "国家级", "2": "省级", "3": "市级", "4": "县级", "5": "镇（乡、街道）级",
          "6": "村（社区）级"}
OBJECTS = {"person": "自然人", "enterprise": "企业法人", "institution": "事业法人",
           "social_org": "社会组织法人", "unincorporated": "非法人企业", "agency": "行政机关",
           "other": "其他组织"}
UNITS = {"workdays": "工作日", "days": "自然日", "hours": "小时"}
KINDS = {"immediate": "即办件", "promised": "承诺件"}
FORMS = {"window": "窗口办理", "pc": "网上办理", "mobile": "掌上办理", "post": "邮寄办理",
         "self_service": "自助办理"}
DEPTHS = {1: "一级", 2: "二级", 3: "三级", 4: "四级（全程网办）"}
SOURCES = {"upload": "申请人提交", "license": "电子证照", "registry": "政务数据共享"}
EXPIRY = {"remind": "仅提醒", "terminate": "提醒后终止"}


@dataclass(frozen=True)
class Column:
    header: str
    field: str
    to_cell: Callable[[Any], Any]
    from_cell: Callable[[Any], Any]
    width: int = 16


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _choice(mapping: dict[Any, str]) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    reverse = {v: k for k, v in mapping.items()}

    def to_cell(value: Any) -> str:
        return mapping.get(value, _text(value))

    def from_cell(value: Any) -> Any:
        text = _text(value)
        if text in reverse:
            return reverse[text]
        for key in mapping:  # the code itself is accepted too (01, person, 4)
            if str(key) == text:
                return key
        raise ValueError(_("“%(value)s” is not one of: %(allowed)s")
                         % {"value": text, "allowed": LIST_SEP.join(mapping.values())})
    return to_cell, from_cell


def _list(mapping: dict[str, str]) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    one_to, one_from = _choice(mapping)
    return (lambda values: LIST_SEP.join(one_to(v) for v in values or []),
            lambda cell: [one_from(p) for p in _text(cell).split(LIST_SEP) if p.strip()])


def _bool() -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    def from_cell(value: Any) -> bool:
        text = _text(value)
        if text not in (YES, NO, ""):
            raise ValueError(_("Write 是 or 否."))
        return text == YES
    return (lambda v: YES if v else NO), from_cell


def _int(optional: bool = False) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    def from_cell(value: Any) -> int | None:
        text = _text(value)
        if text == "":
            if optional:
                return None
            raise ValueError(_("A number is required."))
        try:
            number = int(float(text))
        except ValueError:
            raise ValueError(_("“%(value)s” is not a whole number.") % {"value": text}) from None
        if number < 0:
            raise ValueError(_("The number cannot be negative."))
        return number
    return (lambda v: "" if v is None else v), from_cell


def _steps() -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    return (lambda steps: STEP_SEP.join(str(s.get("name", "")) for s in steps or []),
            lambda cell: [{"name": p.strip()} for p in _text(cell).split(STEP_SEP) if p.strip()])


def _faq() -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    def to_cell(items: Any) -> str:
        return "\n".join(f"问：{i.get('q', '')}\n答：{i.get('a', '')}" for i in items or [])

    def from_cell(cell: Any) -> list[dict[str, str]]:
        items: list[dict[str, str]] = []
        for line in _text(cell).splitlines():
            if line.startswith("问："):
                items.append({"q": line[2:], "a": ""})
            elif line.startswith("答：") and items:
                items[-1]["a"] = line[2:]
            elif line.strip():
                raise ValueError(_("Write each FAQ as a 问： line followed by an 答： line."))
        return items
    return to_cell, from_cell


def _locations() -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    return (lambda items: "\n".join(f"{i.get('name', '')}｜{i.get('address', '')}"
                                    for i in items or []),
            lambda cell: [dict(zip(("name", "address"), [*line.split("｜", 1), ""][:2],
                                   strict=True))
                          for line in _text(cell).splitlines() if line.strip()])


def _plain() -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    return _text, _text


def col(header: str, field: str, pair: tuple[Callable[[Any], Any], Callable[[Any], Any]],
        width: int = 16) -> Column:
    return Column(header, field, pair[0], pair[1], width)


MATTER_COLUMNS = [
    col("实施编码", "implementation_code", _plain(), 30),
    col("事项名称", "name", _plain(), 30),
    col("基本编码", "basic_code", _plain(), 16),
    col("业务办理项编码", "handling_item_code", _plain(), 30),
    col("事项类型", "matter_type", _choice(MATTER_TYPES)),
    col("设定依据", "legal_basis", _plain(), 30),
    col("行使层级", "exercise_level", _choice(LEVELS)),
    col("实施主体编码", "department", _plain(), 20),
    col("服务对象", "service_objects", _list(OBJECTS), 20),
    col("法定办结时限", "statutory_limit", _int(optional=True), 10),
    col("法定时限单位", "statutory_unit", _choice(UNITS), 10),
    col("承诺办结时限", "promised_limit", _int(), 10),
    col("承诺时限单位", "promised_unit", _choice(UNITS), 10),
    col("时限说明", "limit_note", _plain(), 20),
    col("办件类型", "case_kind", _choice(KINDS), 10),
    col("预警剩余工作日", "warning_days", _int(), 10),
    col("办理形式", "handling_forms", _list(FORMS), 24),
    col("网上办理深度", "online_depth", _choice(DEPTHS), 14),
    col("到办事现场次数", "visits", _int(), 10),
    col("必须现场办理原因", "visits_reason", _plain(), 24),
    col("是否收费", "has_fee", _bool(), 8),
    col("收费依据", "fee_basis", _plain(), 20),
    col("收费标准", "fee_standard", _plain(), 20),
    col("受理条件", "acceptance_conditions", _plain(), 30),
    col("办理流程", "steps", _steps(), 30),
    col("审批结果名称", "result_name", _plain(), 20),
    col("审批结果类型", "result_type", _plain(), 12),
    col("办理地点", "locations", _locations(), 30),
    col("办理时间", "hours", _plain(), 24),
    col("咨询电话", "consult_phone", _plain(), 16),
    col("监督投诉电话", "complaint_phone", _plain(), 16),
    col("常见问题", "faq", _faq(), 40),
    col("是否支持容缺受理", "deficiency_allowed", _bool(), 10),
    col("容缺补交期限（工作日）", "supplement_days", _int(), 10),
    col("容缺逾期处理", "deficiency_expiry_action", _choice(EXPIRY), 12),
    col("是否实行告知承诺制", "commitment_allowed", _bool(), 10),
    col("是否全市域通办", "citywide", _bool(), 10),
    col("是否跨域通办", "cross_region", _bool(), 10),
    col("是否支持预约办理", "appointment", _bool(), 10),
    col("是否支持物流快递", "postal_delivery", _bool(), 10),
    col("主题", "themes", _plain(), 20),
]
MATERIAL_COLUMNS = [
    col("实施编码", "implementation_code", _plain(), 30),
    col("材料编码", "code", _plain(), 12),
    col("材料名称", "name", _plain(), 30),
    col("是否必要", "required", _bool(), 8),
    col("适用情形", "condition", _plain(), 24),
    col("原件份数", "originals", _int(), 8),
    col("复印件份数", "copies", _int(), 8),
    col("出具单位", "issuer", _plain(), 20),
    col("材料来源", "source", _choice(SOURCES), 12),
    col("电子证照类型", "license_type", _plain(), 16),
    col("数据项", "registry_field", _plain(), 16),
    col("是否可容缺", "may_be_deficient", _bool(), 8),
]
MATTER_SHEET, MATERIAL_SHEET = "事项", "申请材料"


def _current(matter: Matter) -> MatterVersion | None:
    return matter.published or matter.versions.order_by("-number").first()


def _current_versions(matters: list[Matter]) -> dict[int, MatterVersion]:
    """Each matter's published version, else its latest: in three queries for any number."""
    found: dict[int, MatterVersion] = {}
    versions = (MatterVersion.objects.filter(matter__in=[m.pk for m in matters])
                .select_related("department").prefetch_related("themes", "materials")
                .order_by("number"))
    published = {m.published_id for m in matters if m.published_id}
    with_published = {m.pk for m in matters if m.published_id}
    for version in versions:
        if version.pk in published or version.matter_id not in with_published:
            found[version.matter_id] = version  # by number: the latest one stays
    return found


def export_catalog(matters: Any) -> bytes:
    """The workbook for the given matters (a queryset already scoped to the caller)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = MATTER_SHEET
    materials_sheet = workbook.create_sheet(MATERIAL_SHEET)
    for target, columns in ((sheet, MATTER_COLUMNS), (materials_sheet, MATERIAL_COLUMNS)):
        target.append([c.header for c in columns])
        for index, column in enumerate(columns, start=1):
            cell = target.cell(row=1, column=index)
            cell.font = Font(bold=True, color="FFFFFF")
            cell.fill = PatternFill("solid", fgColor="0B4F9C")
            cell.alignment = Alignment(wrap_text=True, vertical="center")
            target.column_dimensions[get_column_letter(index)].width = column.width
        target.freeze_panes = "B2"
    matters = list(matters.select_related("department").order_by("implementation_code"))
    current = _current_versions(matters)
    for matter in matters:
        version = current.get(matter.pk)
        if version is None:
            continue
        values = catalog.content_of(version)
        values["implementation_code"] = matter.implementation_code
        values["department"] = matter.department.code
        values["themes"] = LIST_SEP.join(sorted(values["themes"]))
        sheet.append([c.to_cell(values.get(c.field)) for c in MATTER_COLUMNS])
        for material in values["materials"]:
            material["implementation_code"] = matter.implementation_code
            materials_sheet.append([c.to_cell(material.get(c.field)) for c in MATERIAL_COLUMNS])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@dataclass
class ImportResult:
    created: int = 0
    drafted: int = 0
    unchanged: int = 0


def _read(sheet: Any, columns: list[Column], errors: list[str]) -> list[dict[str, Any]]:
    rows = list(sheet.iter_rows(values_only=True))
    if not rows:
        return []
    headers = [_text(h) for h in rows[0]]
    missing = [c.header for c in columns if c.header not in headers]
    if missing:
        errors.append(_("Sheet “%(sheet)s” lacks the columns: %(cols)s")
                      % {"sheet": sheet.title, "cols": LIST_SEP.join(missing)})
        return []
    position = {h: i for i, h in enumerate(headers)}
    records = []
    for number, row in enumerate(rows[1:], start=2):
        if all(_text(v) == "" for v in row):
            continue
        record: dict[str, Any] = {"_row": number}
        for column in columns:
            raw = row[position[column.header]] if position[column.header] < len(row) else None
            try:
                record[column.field] = column.from_cell(raw)
            except ValueError as exc:
                errors.append(_("Sheet “%(sheet)s” row %(row)d, column “%(col)s”: %(msg)s")
                              % {"sheet": sheet.title, "row": number, "col": column.header,
                                 "msg": exc})
        records.append(record)
    return records


def import_catalog(*, actor: Any, data: bytes) -> ImportResult:
    """Create matters and draft versions from a workbook; refuse it whole on any error."""
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        raise ValidationError({"file": [_("This is not an Excel workbook (.xlsx).")]}) from None
    if MATTER_SHEET not in workbook.sheetnames or MATERIAL_SHEET not in workbook.sheetnames:
        raise ValidationError({"file": [_("The workbook needs the sheets 事项 and 申请材料.")]})
    errors: list[str] = []
    matters = _read(workbook[MATTER_SHEET], MATTER_COLUMNS, errors)
    materials = _read(workbook[MATERIAL_SHEET], MATERIAL_COLUMNS, errors)
    by_code: dict[str, list[dict[str, Any]]] = {}
    for material in materials:
        by_code.setdefault(material.pop("implementation_code"), []).append(material)
    departments = {u.code: u for u in OrgUnit.objects.filter(
        code__in={m.get("department") for m in matters})}
    themes = {t.code: t for t in Theme.objects.all()}
    for record in matters:
        if record.get("department") not in departments:
            errors.append(_("Sheet “事项” row %(row)d: unknown department code “%(code)s”.")
                          % {"row": record["_row"], "code": record.get("department")})
        unknown = [t for t in _text(record.get("themes")).split(LIST_SEP)
                   if t and t not in themes]
        if unknown:
            errors.append(_("Sheet “事项” row %(row)d: unknown themes %(themes)s.")
                          % {"row": record["_row"], "themes": LIST_SEP.join(unknown)})
    if errors:
        raise ValidationError({"file": errors})
    result = ImportResult()
    with transaction.atomic():
        for record in matters:
            _import_one(actor=actor, record=record, materials=by_code.get(
                record["implementation_code"], []), department=departments[
                record["department"]], themes=themes, result=result)
    return result


def _import_one(*, actor: Any, record: dict[str, Any], materials: list[dict[str, Any]],
                department: OrgUnit, themes: dict[str, Theme], result: ImportResult) -> None:
    row = record.pop("_row")
    code = record["implementation_code"]
    theme_codes = [t for t in _text(record.pop("themes")).split(LIST_SEP) if t]
    record.pop("department")
    for material in materials:
        material.pop("_row", None)
    content = {**record, "department": department,
               "themes": [themes[t] for t in theme_codes], "materials": materials}
    matter = Matter.objects.filter(implementation_code=code).first()
    try:
        if matter is None:
            catalog.matter_create(actor=actor, implementation_code=code,
                                  department=department, content=content)
            result.created += 1
            return
        current = _current(matter)
        wanted = {**record, "department": department.code, "themes": sorted(theme_codes),
                  "materials": materials}
        have = catalog.content_of(current) if current else {}
        have["materials"] = [{k: v for k, v in m.items() if k != "sort_order"}
                             for m in have.get("materials", [])]
        if current is not None and all(have.get(k) == v for k, v in wanted.items()):
            result.unchanged += 1
            return
        if current is not None and current.status in (VersionStatus.DRAFT,
                                                      VersionStatus.REVIEWED):
            raise ValidationError({"matter": [
                _("Row %(row)d: %(code)s has an open draft; finish it first.")
                % {"row": row, "code": code}]})
        content.pop("department")
        catalog.version_draft(actor=actor, matter=matter, changes=content,
                              change_note=_("Imported from Excel"))
        result.drafted += 1
    except ValidationError as exc:
        messages = exc.messages
        raise ValidationError({"file": [_("Row %(row)d (%(code)s): %(msg)s")
                                        % {"row": row, "code": code, "msg": m}
                                        for m in messages]}) from None


# Keep the enum imports referenced: the mappings above mirror them exactly.
assert set(MATTER_TYPES) == set(MatterType.values)
assert set(LEVELS) == set(ExerciseLevel.values)
assert set(OBJECTS) == set(ServiceObject.values)
assert set(UNITS) == set(LimitUnit.values)
assert set(KINDS) == set(CaseKind.values)
assert set(FORMS) == set(HandlingForm.values)
assert set(DEPTHS) == set(OnlineDepth.values)
assert set(SOURCES) == set(MaterialSource.values)
