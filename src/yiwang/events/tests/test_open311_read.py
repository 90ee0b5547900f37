"""Open311 discovery, service list and service definitions: both formats follow the
spec (JSON schemas, XML structure, same content), jurisdiction and method errors."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from yiwang.events.catalog import dispatchable
from yiwang.events.tests.factories import load_catalog
from yiwang.events.tests.open311_schemas import (
    as_text,
    spark,
    structures,
    validate_json,
    validate_xml,
)

pytestmark = pytest.mark.django_db
BASE = "/open311/v2"


@pytest.fixture
def d(district):
    load_catalog()
    return district


def both(client: Client, path: str, name: str, **query):
    """GET ``path`` as .xml and .json; check each against the spec and that they say the
    same; return the JSON body."""
    xml = client.get(f"{BASE}/{path}.xml", query)
    js = client.get(f"{BASE}/{path}.json", query)
    assert xml.status_code == js.status_code, (xml.content[:300], js.content[:300])
    assert xml["Content-Type"] == "text/xml; charset=utf-8"
    assert js["Content-Type"] == "application/json; charset=utf-8"
    root = validate_xml(name, xml.content)
    body = json.loads(js.content.decode("utf-8"))
    validate_json(name, body)
    assert spark(root, structures()[name]) == as_text(body)
    return body


def test_discovery__both_formats_point_at_this_endpoint(d, client):
    body = both(client, "discovery", "discovery")
    (endpoint,) = body["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert body["changeset"] and body["changeset"] == endpoint["changeset"]
    root = client.get(f"{BASE}/")
    assert root.status_code == 200 and b"<discovery>" in root.content


def test_services__one_per_dispatchable_item_with_its_group(d, client):
    body = both(client, "services", "services")
    items = {c.code: c for c in dispatchable()}
    assert [s["service_code"] for s in body] == sorted(items)
    stalls = next(s for s in body if s["service_code"] == "010101")
    assert stalls["service_name"] == "占道经营"
    assert stalls["group"] == "城市管理"
    assert stalls["type"] == "realtime" and stalls["metadata"] is True
    assert "出店经营" in stalls["keywords"].split(", ")
    assert "市容秩序" in stalls["description"]


def test_services__chinese_text_is_utf8_in_both_formats(d, client):
    xml = client.get(f"{BASE}/services.xml").content
    assert "<service_name>占道经营</service_name>".encode() in xml
    js = client.get(f"{BASE}/services.json").content
    assert "占道经营".encode() in js  # not \u escapes


def test_services__english_names_when_asked_in_english(d, client):
    body = json.loads(client.get(f"{BASE}/services.json", HTTP_ACCEPT_LANGUAGE="en").content)
    stalls = next(s for s in body if s["service_code"] == "010101")
    assert stalls["service_name"] == "Shopfront spill-over / street occupation"
    assert stalls["group"] == "City management"


def test_service_definition__appeal_type_is_an_optional_single_value_list(d, client):
    body = both(client, "services/010101", "service_definition")
    assert body["service_code"] == "010101"
    (attribute,) = body["attributes"]
    assert attribute["code"] == "appeal_type" and attribute["datatype"] == "singlevaluelist"
    assert attribute["required"] is False and attribute["variable"] is True
    keys = [v["key"] for v in attribute["values"]]
    assert keys[:2] == ["complaint", "report"]  # the item's typical types first
    assert sorted(keys) == ["complaint", "consult", "help", "report", "suggestion"]


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_service_definition__unknown_code_is_404_in_the_spec_format(d, client, fmt):
    response = client.get(f"{BASE}/services/999999.{fmt}")
    assert response.status_code == 404
    check_error(response, fmt, 404)
    # A level-1 or level-2 node is no service either.
    assert client.get(f"{BASE}/services/01.{fmt}").status_code == 404


def check_error(response, fmt: str, code: int) -> list[dict]:
    if fmt == "xml":
        assert response["Content-Type"] == "text/xml; charset=utf-8"
        root = validate_xml("errors", response.content)
        body = spark(root, structures()["errors"])
    else:
        body = json.loads(response.content)
        validate_json("errors", body)
    assert all(str(e["code"]) == str(code) for e in body), body
    assert all(e["description"] for e in body)
    return body


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_jurisdiction__ours_is_accepted_another_is_404(d, client, fmt):
    for ours in ("440399000000", "440399"):
        assert client.get(f"{BASE}/services.{fmt}", {"jurisdiction_id": ours}).status_code == 200
    assert client.get(f"{BASE}/services.{fmt}", {"jurisdiction_id": ""}).status_code == 200
    response = client.get(f"{BASE}/services.{fmt}", {"jurisdiction_id": "sfgov.org"})
    assert response.status_code == 404
    (error,) = check_error(response, fmt, 404)
    assert "sfgov.org" in error["description"]
    for path in ("discovery", "services/010101", "requests", "servicerequestupdates"):
        assert client.get(f"{BASE}/{path}.{fmt}",
                          {"jurisdiction_id": "x"}).status_code == 404, path


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_method_not_taken__405_in_the_spec_format(d, client, fmt):
    response = client.post(f"{BASE}/services.{fmt}", {})
    assert response.status_code == 405 and response["Allow"] == "GET, HEAD"
    check_error(response, fmt, 405)
    assert client.delete(f"{BASE}/requests.{fmt}").status_code == 405
    assert client.head(f"{BASE}/services.{fmt}").status_code == 200


def test_unknown_path__404_in_the_spec_format(d, client):
    response = client.get(f"{BASE}/reports.json")
    assert response.status_code == 404
    check_error(response, "json", 404)
    check_error(client.get(f"{BASE}/services.csv"), "xml", 404)


def test_public_reads_are_readable_by_any_site(d, client):
    response = client.get(f"{BASE}/services.json")
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert "max-age" in response["Cache-Control"]


def test_no_published_catalog__no_services(district, client):
    assert json.loads(client.get(f"{BASE}/services.json").content) == []
    assert client.get(f"{BASE}/services/010101.json").status_code == 404


def test_services__query_count_does_not_grow_with_the_catalog(d, client,
                                                              django_assert_max_num_queries):
    with django_assert_max_num_queries(3):  # the published catalog, its items
        body = json.loads(client.get(f"{BASE}/services.json").content)
    assert len(body) == len(dispatchable()) > 100
