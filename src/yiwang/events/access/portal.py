"""Who may call the portal routes (see ``yiwang.access``).

Citizens and enterprises report problems and follow their own appeals (others' are 404);
staff get 403 there (they register appeals at ``events:hotline``). The two link pages
need no sign-in: the token in the address is the credential (a signed callback link, or
the external loop's secret), so everyone gets the page for a real token and 404 for any
other.
"""

from yiwang.access import ANY, OWN, Rule, page

ROUTES: list[list[Rule]] = [
    page("GET|POST events:portal_report", citizens=ANY,
         note="Report a problem; a resend with the same form key registers nothing new."),
    page("GET events:report_place", signed_in=ANY,
         note="htmx: where a point lies (street, community, grid) in words; public "
              "geography."),
    page("GET events:portal_mine", citizens=OWN),
    page("GET events:portal_event", citizens=OWN,
         note="The public timeline, the result and the callback form."),
    page("POST events:portal_callback", citizens=OWN,
         note="回访 by the reporter: 满意/基本满意 close, 不满意 reopens."),
    page("GET events:portal_photo", citizens=OWN, note="Photos of my appeal; audited."),
    page("GET|POST events:callback_link", everyone=ANY,
         note="回访 from the SMS link (signed, expires, one answer per round); any other "
              "token: 404."),
    page("GET|POST events:external_task", everyone=ANY,
         note="The responsible party's link (内外双循环), no reporter data; any other "
              "token: 404."),
]
