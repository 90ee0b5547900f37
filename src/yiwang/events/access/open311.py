"""Who may call Open311 GeoReport v2 at /open311/v2/ (see ``yiwang.access``).

Open311 is a public, sessionless API: every GET is open to anyone (what it lists is
limited by the channels the district publishes, never by who asks; the reporter's
contact details are never returned). Creating a request takes a client system's
``api_key``, issued by a district admin: a signed-in session, even the superuser's, opens
nothing, so without a key every audience gets the spec's 403 error.
"""

from yiwang.access import ANY, FORBIDDEN, NOT_FOUND, Rule, page

_READS = ("discovery", "services", "service", "requests", "request", "token", "updates")

ROUTES: list[list[Rule]] = [
    page("GET open311:root", everyone=ANY, note="The discovery document (XML)."),
    *[page(f"GET open311:{name}_{fmt}", everyone=ANY)
      for name in _READS for fmt in ("xml", "json")],
    *[page(f"POST open311:requests_{fmt}", everyone=FORBIDDEN,
           note="Only with a client system's api_key (tested in test_open311_post.py); "
                "a session grants nothing.")
      for fmt in ("xml", "json")],
    page("GET|POST open311:unknown", everyone=NOT_FOUND,
         note="Any other path: the spec's 404 error."),
]
