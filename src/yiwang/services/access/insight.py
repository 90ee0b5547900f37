"""Who may call the insight pages (see ``yiwang.access``): the service statistics and the
rectification (整改) inbox, its detail page and one route per step."""

from yiwang.access import SEES_SUBTREE, SUBTREE, Rule, page

_VIEW_RECTIFICATIONS = {"window_clerk": SEES_SUBTREE, "approver": SEES_SUBTREE,
                        "handler": SEES_SUBTREE, "supervisor": SEES_SUBTREE,
                        "superuser": SEES_SUBTREE}
_HANDLE = {**_VIEW_RECTIFICATIONS, "approver": SUBTREE, "handler": SUBTREE,
           "superuser": SUBTREE}

ROUTES: list[list[Rule]] = [
    page("GET services:statistics", window_clerk=SUBTREE, approver=SUBTREE, handler=SUBTREE,
         supervisor=SUBTREE, district_admin=SUBTREE, superuser=SUBTREE,
         note="Figures over the cases in the caller's subtree (services.view_case); "
              "?format=csv|xlsx exports the same figures."),
    page("GET services:rectification_list", window_clerk=SUBTREE, approver=SUBTREE,
         handler=SUBTREE, supervisor=SUBTREE, superuser=SUBTREE,
         note="Roles that may view rectifications; the list holds the caller's subtree."),
    page("GET services:rectification_detail", window_clerk=SUBTREE, approver=SUBTREE,
         handler=SUBTREE, supervisor=SUBTREE, superuser=SUBTREE),
    *[page(f"POST services:rectification_action_{step}", **_HANDLE,
           note="services.handle_rectification; a step the state does not allow yet "
                "sends the user back to the page with the reason.")
      for step in ("contact", "rectify", "callback", "appeal")],
    page("POST services:rectification_action_decide_appeal",
         **{**_VIEW_RECTIFICATIONS, "supervisor": SUBTREE, "superuser": SUBTREE},
         note="services.decide_appeal: a supervisor, never the department itself."),
]
