"""Check Open311 answers against the spec: JSON against the schemas in this folder, XML
against the element structure in ``xml_structure.json`` (see README.md)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

HERE = Path(__file__).resolve().parent
BASE = "https://yiwang.example/open311/"
XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>'


def _load(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((HERE / f"{name}.json").read_text("utf-8"))
    schema.setdefault("$id", f"{BASE}{name}.json")
    return schema


@cache
def validator(name: str) -> Draft202012Validator:
    common = _load("common")
    registry: Registry = Registry().with_resource(common["$id"],
                                                  Resource.from_contents(common))
    schema = _load(name)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, registry=registry)


def validate_json(name: str, body: Any) -> None:
    """Raise with every problem when ``body`` does not follow schema ``name``."""
    problems = [f"{list(e.absolute_path)}: {e.message}"
                for e in validator(name).iter_errors(body)]
    assert not problems, f"{name}: " + "; ".join(problems[:10])


@cache
def structures() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((HERE / "xml_structure.json").read_text("utf-8"))
    return data


def _check_children(element: ET.Element, spec: dict[str, Any], where: str) -> None:
    allowed = spec.get("children")
    tags = [child.tag for child in element]
    if allowed is not None:
        unknown = [t for t in tags if t not in allowed]
        assert not unknown, f"{where}: elements not in the spec: {unknown}"
        assert len(tags) == len(set(tags)), f"{where}: repeated elements {tags}"
        assert tags == sorted(tags, key=allowed.index), \
            f"{where}: order {tags} differs from the spec's {allowed}"
    for name, inner in spec.get("nested", {}).items():
        for container in element.findall(name):
            _check_list(container, inner, f"{where}/{name}")


def _check_list(container: ET.Element, spec: dict[str, Any], where: str) -> None:
    item = spec["item"]
    wrong = [child.tag for child in container if child.tag != item]
    assert not wrong, f"{where}: only <{item}> may repeat here, found {wrong}"
    for index, child in enumerate(container):
        if "children" in spec or "nested" in spec:
            _check_children(child, spec, f"{where}/{item}[{index}]")
        else:
            assert len(child) == 0, f"{where}/{item}[{index}] holds elements"


def validate_xml(name: str, content: bytes) -> ET.Element:
    """Parse an XML answer and check it against the spec's element structure."""
    assert content.startswith(XML_DECLARATION), content[:80]
    root = ET.fromstring(content)  # noqa: S314 (our own answer, in a test)
    spec = structures()[name]
    assert root.tag == spec["root"], f"root <{root.tag}>, the spec says <{spec['root']}>"
    if "item" in spec:
        _check_list(root, spec, root.tag)
    else:
        _check_children(root, spec, root.tag)
    return root


def spark(element: ET.Element, spec: dict[str, Any]) -> Any:
    """The Spark-convention JSON of an XML element, every leaf as text (``None`` when
    empty), to compare the two formats of one answer."""
    if "item" in spec and element.tag != spec["item"]:
        return [spark(child, spec) for child in element]
    if len(element) == 0 and "children" not in spec:
        return element.text
    out: dict[str, Any] = {}
    nested = spec.get("nested", {})
    for child in element:
        if child.tag in nested:
            out[child.tag] = spark(child, nested[child.tag])
        else:
            out[child.tag] = child.text
    return out


def as_text(value: Any) -> Any:
    """JSON values as the XML carries them (``true``/``false``, numbers as text)."""
    if isinstance(value, list):
        return [as_text(v) for v in value]
    if isinstance(value, dict):
        return {k: as_text(v) for k, v in value.items()}
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None or value == "":
        return None
    return str(value)
