"""End to end over HTTP with a real Open311 client library: ``georeport`` (PyPI) reads
services, definitions and requests in both formats; ``requests`` posts a report the way
FixMyStreet's Open311 client does (form-encoded, api_key and jurisdiction_id in the body).
"""

from __future__ import annotations

import pytest
import requests
from georeport import GeoReport

from yiwang.events.clients import client_issue
from yiwang.events.models import Event, EventStatus
from yiwang.events.tests.factories import load_catalog
from yiwang.events.tests.open311_schemas import validate_json, validate_xml

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def endpoint(transactional_db, district, live_server):
    load_catalog()
    _client, key = client_issue(actor=None, system=True, name="随手拍 App", kind="open311",
                                unit=district.district)
    return f"{live_server.url}/open311/v2", key


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_library__post_then_read_back(endpoint, fmt):
    root, key = endpoint
    api = GeoReport(root, jurisdiction="440399000000", api_key=key, output_format=fmt)
    services = api.get_service_list()
    codes = [s["service_code"] for s in services]
    assert "010102" in codes
    definition = api.get_service_definition("010102")
    assert definition["attributes"] if fmt == "json" else definition["attributes"]["attribute"]

    # The library only reads; post the way FixMyStreet's Open311.pm does.
    response = requests.post(f"{root}/requests.{fmt}", data={
        "api_key": key, "jurisdiction_id": "440399000000", "service_code": "010102",
        "lat": "22.51", "long": "114.01", "description": "天桥上有人摆地摊卖衣服",
        "first_name": "明", "last_name": "李", "email": "li@example.com",
        "attribute[appeal_type]": "complaint"}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == ("application/json; charset=utf-8"
                                                if fmt == "json" else "text/xml; charset=utf-8")
    if fmt == "json":
        validate_json("post_request", response.json())
        number = response.json()[0]["service_request_id"]
    else:
        number = validate_xml("post_request", response.content).findtext(
            "request/service_request_id")
    assert Event.objects.get(number=number).status == EventStatus.DISPATCHED

    one = api.get_service_request(number)
    assert one["service_request_id"] == number and one["status"] == "open"
    assert one["description"] == "天桥上有人摆地摊卖衣服"
    listed = api.get_service_requests(service_code="010102", status="open")
    if fmt == "xml" and isinstance(listed, dict):  # xmltodict: one element is no list
        listed = [listed]
    assert [r["service_request_id"] for r in listed] == [number]


def test_georeport_library__spec_errors_surface_as_http_errors(endpoint):
    root, _key = endpoint
    api = GeoReport(root, jurisdiction="sfgov.org")
    with pytest.raises(requests.HTTPError) as exc:
        api.get_service_list()
    answer = exc.value.response
    assert answer is not None and answer.status_code == 404
    validate_json("errors", answer.json())
    response = requests.post(f"{root}/requests.xml", data={"service_code": "010102"},
                             timeout=30)
    assert response.status_code == 403
    validate_xml("errors", response.content)
