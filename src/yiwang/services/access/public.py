"""Who may call the public pages (see ``yiwang.access``).

The catalog, the 办事指南 of published matters and the 好差评 figures are public: anyone,
signed in or not, gets the same page. Unpublished matters answer 404 for everyone."""

from yiwang.access import ANY, page

ROUTES = [
    page("GET services:catalog", everyone=ANY, note="Published matters only."),
    page("GET services:matter_guide", everyone=ANY,
         note="The version in force; a retired matter answers 410 with a notice."),
    page("GET services:ratings_public", everyone=ANY,
         note="Aggregate figures only; no rater, case or comment."),
]
