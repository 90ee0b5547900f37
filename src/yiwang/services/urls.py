"""Pages of 一网通办. Each area keeps its routes next to its views (``views/<area>.py``)."""

from .views import applicant, catalog_admin, documents, insight, public, staff

app_name = "services"
urlpatterns = [
    *public.urlpatterns,
    *applicant.urlpatterns,
    *staff.urlpatterns,
    *catalog_admin.urlpatterns,
    *insight.urlpatterns,
    *documents.urlpatterns,
]
