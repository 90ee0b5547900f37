"""Who may call the field routes (see ``yiwang.access``).

The grid worker's phone pages need both ``events.intake_event`` and
``events.handle_event`` (网格员); the superuser has every permission. Other staff get
403 (dispatchers register calls at ``events:hotline``); citizens get 403.
"""

from yiwang.access import ANY, Rule, page

ROUTES: list[list[Rule]] = [
    page("GET events:field_home", grid_worker=ANY, superuser=ANY,
         note="My grid's open events (paginated) and what I reported today."),
    page("GET|POST events:field_report", grid_worker=ANY, superuser=ANY,
         note="采集上报 / 自处置; a resend with the same form key registers nothing new."),
    page("GET events:field_suggest", grid_worker=ANY, superuser=ANY,
         note="htmx: catalog items for the text (classifier) or a search."),
]
