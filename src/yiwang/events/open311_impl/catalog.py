"""Services: one per dispatchable (level-3, active) item of the published catalog."""

from __future__ import annotations

from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from ..catalog import dispatchable, published_catalog
from ..models import AppealType, Category, HandlerType
from .render import Many

APPEAL_TYPE_ATTRIBUTE = "appeal_type"


def _english() -> bool:
    return (get_language() or "").startswith("en")


def service_name(category: Category | None) -> str:
    if category is None:
        return ""
    return category.name_en if _english() and category.name_en else category.name


def _group(category: Category) -> str:
    top = category.parent.parent if category.parent and category.parent.parent else None
    return service_name(top) if top else ""


def _description(category: Category) -> str:
    parents = [p for p in (category.parent.parent if category.parent else None,
                           category.parent) if p is not None]
    path = " / ".join([*(service_name(p) for p in parents), service_name(category)])
    if category.handler_type == HandlerType.TERRITORIAL:
        handler = _("the street office where it happens")
    else:
        handler = (category.handler_unit.name if category.handler_unit
                   else category.default_handler)
    return _("%(path)s. Handled by %(handler)s.") % {"path": path, "handler": handler}


def services() -> list[Category]:
    return sorted(dispatchable(), key=lambda c: c.code)


def service_get(code: str) -> Category | None:
    catalog = published_catalog()
    if catalog is None:
        return None
    return (Category.objects.select_related("handler_unit", "parent__parent")
            .filter(catalog=catalog, code=code, level=3, active=True).first())


def service_list_body(categories: list[Category]) -> Many:
    return Many("service", [{
        "service_code": c.code,
        "service_name": service_name(c),
        "description": _description(c),
        "metadata": True,  # every service takes the optional appeal-type attribute
        "type": "realtime",
        "keywords": ", ".join(c.keywords),
        "group": _group(c),
    } for c in categories])


def appeal_type_values(category: Category) -> list[tuple[str, str]]:
    """(key, name) of the appeal types, the item's typical ones first."""
    typical = [t for t in category.appeal_types if t in AppealType.values]
    ordered = typical + [t for t in AppealType.values if t not in typical]
    return [(t, str(AppealType(t).label)) for t in ordered]


def service_definition_body(category: Category) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "attributes": Many("attribute", [{
            "variable": True,
            "code": APPEAL_TYPE_ATTRIBUTE,
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": _("Choose one; without it the item's usual type "
                                      "applies."),
            "order": 1,
            "description": _("Kind of appeal: consultation, request for help, complaint, "
                             "report or suggestion. It sets the deadline."),
            "values": Many("value", [{"key": key, "name": name}
                                     for key, name in appeal_type_values(category)]),
        }]),
    }
