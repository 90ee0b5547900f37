"""The spec's two formats from one structure.

A response is a root element name and a value: a ``dict`` (child elements in order), a
``Many`` (a repeated child element: a JSON array under the Spark convention, so a list
response is a bare JSON array), or a scalar. ``None`` is an empty element in XML and
``null`` in JSON; booleans are ``true``/``false`` in both.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpResponse

XML_TYPE = "text/xml; charset=utf-8"
JSON_TYPE = "application/json; charset=utf-8"
FORMATS = ("xml", "json")
# Characters XML 1.0 cannot carry (a pasted description may hold them).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass
class Many:
    item: str
    items: list[Any] = field(default_factory=list)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Many):
        return [_jsonable(v) for v in value.items]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, Many):
        for item in value.items:
            _fill(ET.SubElement(element, value.item), item)
    elif isinstance(value, dict):
        for name, child in value.items():
            _fill(ET.SubElement(element, name), child)
    elif value is not None:
        element.text = _text(value)


def to_xml(root: str, value: Any) -> bytes:
    element = ET.Element(root)
    _fill(element, value)
    body = ET.tostring(element, encoding="unicode", short_empty_elements=True)
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body).encode("utf-8")


def to_json(value: Any) -> bytes:
    return json.dumps(_jsonable(value), ensure_ascii=False).encode("utf-8")


def respond(fmt: str, root: str, value: Any, *, status: int = 200) -> HttpResponse:
    if fmt == "json":
        response = HttpResponse(to_json(value), content_type=JSON_TYPE, status=status)
    else:
        response = HttpResponse(to_xml(root, value), content_type=XML_TYPE, status=status)
    # Public, read-mostly data: any site's script may read it (no credentials).
    response["Access-Control-Allow-Origin"] = "*"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def errors(fmt: str, status: int, *problems: tuple[Any, str]) -> HttpResponse:
    """The spec's error list: ``(code, description)`` pairs, ``code`` usually the status."""
    body = Many("error", [{"code": code, "description": str(text)} for code, text in problems])
    return respond(fmt, "errors", body, status=status)
