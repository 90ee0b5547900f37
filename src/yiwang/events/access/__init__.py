"""Who may call the 一网统管 pages, Open311 and API routes (see ``yiwang.access``).

One module per area, next to ``views/<area>.py``; Open311 in ``open311.py``; the JSON
API's rules in ``api.py``.
"""

from yiwang.access import Rule

from . import admin, api, dispatch, eventmap, field, hotline, insight, open311, portal

ROUTES: list[list[Rule]] = [
    *hotline.ROUTES,
    *dispatch.ROUTES,
    *field.ROUTES,
    *portal.ROUTES,
    *insight.ROUTES,
    *admin.ROUTES,
    *open311.ROUTES,
    *api.ROUTES,
    *eventmap.ROUTES,
]
