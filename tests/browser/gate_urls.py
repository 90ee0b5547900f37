"""Test-only pages for the gate's own tests: ``settings.ROOT_URLCONF`` points here.

Each page is the real portal shell with one deliberate fault, next to its fault-free twin.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import include, path

PAGE = """{% extends "core/shell_portal.html" %}
{% block title %}Gate self-test{% endblock %}
{% block head %}{{ extra_head|safe }}{% endblock %}
{% block content %}<div class="container">
  <h1>Gate self-test</h1>
  <form method="get">{{ field|safe }}
    <button type="submit" class="btn btn-primary">Send</button>
  </form>
</div>{% endblock %}"""

LABELED = '<label class="form-label" for="x">Name</label><input id="x" type="text" name="x">'
FAULTS = {
    "labeled": {"field": LABELED},
    "unlabeled": {"field": '<input type="text" name="x" class="form-control">'},
    "missing-css": {"field": LABELED,
                    "extra_head": '<link rel="stylesheet" href="/static/core/missing.css">'},
}


def gate_page(request: HttpRequest, fault: str) -> HttpResponse:
    template = engines["django"].from_string(PAGE)
    return HttpResponse(template.render(FAULTS[fault], request))


urlpatterns = [
    path("__gate__/<str:fault>/", gate_page),
    path("", include("yiwang.urls")),
]
