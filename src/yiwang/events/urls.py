"""Pages of 一网统管. Each area keeps its routes next to its views (``views/<area>.py``)."""

from .views import admin, dispatch, eventmap, field, hotline, insight, portal

app_name = "events"
urlpatterns = [
    *hotline.urlpatterns,
    *dispatch.urlpatterns,
    *field.urlpatterns,
    *portal.urlpatterns,
    *insight.urlpatterns,
    *admin.urlpatterns,
    *eventmap.urlpatterns,
]
