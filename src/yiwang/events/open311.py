"""Open311 GeoReport v2 at /open311/v2/ (XML and JSON), with mySociety's
``servicerequestupdates``; the views live in ``open311_impl``.

Every resource is ``<name>.xml`` and ``<name>.json`` (two URL names: ``<name>_xml`` and
``<name>_json``); the root answers the discovery document in XML, and any other path
under /open311/v2/ answers the spec's 404 error.
"""

from collections.abc import Callable

from django.http import HttpResponse
from django.urls import URLPattern, path, re_path

from .open311_impl import views

app_name = "open311"


def _both(route: str, view: Callable[..., HttpResponse], name: str) -> list[URLPattern]:
    return [path(f"{route}.{fmt}", view, {"fmt": fmt}, name=f"{name}_{fmt}")
            for fmt in ("xml", "json")]


urlpatterns: list[URLPattern] = [
    path("", views.discovery, {"fmt": "xml"}, name="root"),
    *_both("discovery", views.discovery, "discovery"),
    *_both("services", views.service_list, "services"),
    *_both("services/<str:category_code>", views.service_definition, "service"),
    *_both("requests", views.requests_resource, "requests"),
    *_both("requests/<str:event_number>", views.request_detail, "request"),
    *_both("tokens/<str:request_token>", views.token_detail, "token"),
    *_both("servicerequestupdates", views.request_updates, "updates"),
    re_path(r"^.+$", views.not_found, name="unknown"),
]
