from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import selectors
from .health import health_report
from .workbench import todo_items


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html")


@require_GET
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    report = health_report(connection)
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)


@require_GET
@login_required
def workbench(request: HttpRequest) -> HttpResponse:
    if request.user.kind != "staff":
        return redirect("core:home")
    return render(request, "core/workbench.html", {
        "todos": todo_items(request.user),
        "notifications": selectors.notification_list(actor=request.user, unread=True)[:10],
    })
