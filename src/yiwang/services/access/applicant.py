"""Who may call the applicant pages (see ``yiwang.access``).

Citizens and enterprises file and follow their own cases; staff get 403 there (a clerk
files for someone at ``services:window_apply``). Case materials are served to their
applicant and to staff who see the case (``services.view_case`` in scope); to anyone
else they do not exist.
"""

from yiwang.access import ANY, NOT_FOUND, OWN, SUBTREE, Rule, page
from yiwang.accounts.roles import Role

# Staff roles that see cases (``services.view_case``), and so their files.
CASE_READERS = {role: SUBTREE for role in (Role.WINDOW_CLERK, Role.APPROVER, Role.HANDLER,
                                           Role.SUPERVISOR, Role.DISTRICT_ADMIN)}

ROUTES: list[list[Rule]] = [
    page("GET|POST services:case_apply", citizens=ANY,
         note="Any published matter; the page explains when it is not for this applicant."),
    page("GET services:my_cases", citizens=OWN),
    page("GET services:my_case", citizens=OWN),
    page("GET|POST services:my_case_edit", citizens=OWN, note="Drafts only."),
    page("POST services:my_case_submit", citizens=OWN),
    page("POST services:my_case_withdraw", citizens=OWN),
    page("POST services:my_case_supplement", citizens=OWN),
    page("POST services:my_case_rate", citizens=OWN),
    page("GET services:material_download", citizens=OWN, staff=NOT_FOUND, superuser=SUBTREE,
         **CASE_READERS, note="Attachment download; audited."),
    page("GET|POST services:window_apply", window_clerk=ANY,
         note="Filing on an applicant's behalf at the clerk's unit (综合窗口)."),
]
