"""Who may call the portal, workbench and core API routes (see ``yiwang.access``)."""

from yiwang.access import (
    ANY,
    DISTRICT_ROOT,
    EMPTY,
    NOT_FOUND,
    OWN,
    REDIRECT,
    SUBTREE,
    api,
    page,
)

ROUTES = [
    # portal
    page("GET core:home", everyone=ANY, note="Portal home and its search."),
    page("GET core:healthz", everyone=ANY, note="Load-balancer probe: status, no data."),
    page("GET core:notifications", signed_in=OWN),
    page("POST core:notification_read", signed_in=OWN),
    page("POST core:notifications_read_all", signed_in=OWN),
    # workbench
    page("GET core:workbench", staff=SUBTREE, citizens=REDIRECT,
         note="Citizens are sent to the portal."),
    page("GET core:org_tree", staff=SUBTREE),
    page("GET core:org_detail", staff=SUBTREE),
    page("GET core:audit_list", auditor=SUBTREE, superuser=SUBTREE),
    page("POST core:audit_verify", auditor=ANY, superuser=ANY,
         note="Verifies the whole chain; shows counts, no entries."),
    page("GET core:calendar", staff=ANY, note="Overrides are listed for district admins."),
    page("POST core:calendar", district_admin=DISTRICT_ROOT, superuser=ANY,
         note="Overrides are district-wide, so only the district's own admins set them."),
    page("POST core:calendar_delete", staff=NOT_FOUND, district_admin=DISTRICT_ROOT,
         superuser=ANY, note="Staff who cannot see overrides get 404."),
    page("GET core:deadline", staff=ANY),
    page("GET core:admin_home", district_admin=SUBTREE, superuser=ANY),
    # API
    api("GET /api/me", signed_in=OWN),
    api("GET /api/org-units", staff=SUBTREE, citizens=EMPTY),
    api("GET /api/org-units/locate", staff=ANY,
        note="Division names at a point; the district's divisions are public."),
    api("GET /api/org-units/{code}", staff=SUBTREE, citizens=NOT_FOUND),
    api("GET /api/notifications", signed_in=OWN),
    api("POST /api/notifications/read", signed_in=OWN,
        note="Others' message ids are ignored."),
    api("GET /api/calendar/deadline", signed_in=ANY),
    api("GET /api/audit/entries", signed_in=EMPTY, auditor=SUBTREE, superuser=SUBTREE),
]
