from django.contrib import admin
from django.http import HttpRequest
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog, set_language

from .api import api

admin.site.site_header = "yiwang 一网 · admin"
admin.site.site_title = "yiwang admin"


def _superusers_only(request: HttpRequest) -> bool:
    # The Django admin applies neither the org scope nor the audit log, so `is_staff` with
    # a role's model permissions would bypass both: only the operator's superuser gets in.
    return bool(request.user.is_active and request.user.is_superuser)


admin.site.has_permission = _superusers_only  # type: ignore[method-assign]

urlpatterns = [
    path("", include("yiwang.core.urls")),
    path("accounts/", include("yiwang.accounts.urls")),
    path("", include("yiwang.services.urls")),
    path("", include("yiwang.events.urls")),
    path("open311/v2/", include("yiwang.events.open311")),
    path("api/", api.urls),
    path("i18n/setlang/", set_language, name="set_language"),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("admin/", admin.site.urls),
]
