"""Who may call the 一网通办 pages and API routes (see ``yiwang.access``).

One module per area, next to ``views/<area>.py``; the API's rules are in ``api.py``.
"""

from yiwang.access import Rule

from . import api, applicant, catalog_admin, documents, insight, public, staff

ROUTES: list[list[Rule]] = [
    *public.ROUTES,
    *applicant.ROUTES,
    *staff.ROUTES,
    *catalog_admin.ROUTES,
    *insight.ROUTES,
    *documents.ROUTES,
    *api.ROUTES,
]
