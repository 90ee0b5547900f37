"""Who may call the documents pages (see ``yiwang.access``)."""

from yiwang.access import NOT_FOUND, OWN, SUBTREE, Rule, page

ROUTES: list[list[Rule]] = [
    page("GET services:case_notice", citizens=OWN, staff=NOT_FOUND,
         window_clerk=SUBTREE, approver=SUBTREE, handler=SUBTREE, supervisor=SUBTREE,
         district_admin=SUBTREE, superuser=SUBTREE,
         note="The decision notice (决定书/通知书) as issued; audited. Staff roles that do "
              "not see cases (`services.view_case`) get 404, and so does a case without a "
              "notice."),
]
