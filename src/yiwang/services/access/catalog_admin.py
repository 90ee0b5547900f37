"""Who may call the catalog_admin pages (see ``yiwang.access``).

Catalog management is for staff holding the catalog permissions (today the district
admin's role): everyone else gets 403 before any lookup; a matter outside the caller's
subtree is 404. The catalog services check permission and scope again.
"""

from yiwang.access import SUBTREE, Rule, page

ROUTES: list[list[Rule]] = [
    page("GET services:matter_admin_list", district_admin=SUBTREE, superuser=SUBTREE),
    page("GET|POST services:matter_admin_create", district_admin=SUBTREE, superuser=SUBTREE,
         note="The new matter's department must be in the caller's subtree."),
    page("GET services:matter_admin_detail", district_admin=SUBTREE, superuser=SUBTREE),
    page("GET|POST services:version_edit", district_admin=SUBTREE, superuser=SUBTREE,
         note="A version that is not a draft is shown read-only; a save is refused."),
    page("POST services:version_draft", district_admin=SUBTREE, superuser=SUBTREE),
    page("POST services:version_review", district_admin=SUBTREE, superuser=SUBTREE,
         note="Not by the draft's author (four-eyes rule, in services.catalog)."),
    page("POST services:version_publish", district_admin=SUBTREE, superuser=SUBTREE),
    page("POST services:matter_retire", district_admin=SUBTREE, superuser=SUBTREE),
    page("GET services:version_diff", district_admin=SUBTREE, superuser=SUBTREE),
    page("GET services:catalog_report", district_admin=SUBTREE, superuser=SUBTREE),
    page("GET services:catalog_export", district_admin=SUBTREE, superuser=SUBTREE),
    page("GET|POST services:catalog_import", district_admin=SUBTREE, superuser=SUBTREE,
         note="Every row's department must be in the caller's subtree."),
]
