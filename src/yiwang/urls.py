from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog, set_language

from .api import api

admin.site.site_header = "yiwang 一网 · admin"
admin.site.site_title = "yiwang admin"

urlpatterns = [
    path("", include("yiwang.core.urls")),
    path("accounts/", include("yiwang.accounts.urls")),
    path("api/", api.urls),
    path("i18n/setlang/", set_language, name="set_language"),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("admin/", admin.site.urls),
]
