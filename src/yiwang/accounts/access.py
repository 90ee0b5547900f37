"""Who may call the account pages and API routes (see ``yiwang.access``)."""

from yiwang.access import (
    ANY,
    EMPTY,
    NOT_FOUND,
    OWN,
    REDIRECT,
    SEES_SUBTREE,
    SUBTREE,
    api,
    page,
)

ROUTES = [
    # sign in and out, registration, my account
    page("GET|POST accounts:login", anonymous=ANY, signed_in=REDIRECT),
    page("POST accounts:logout", everyone=ANY),
    page("GET|POST accounts:register", anonymous=ANY, signed_in=REDIRECT,
         note="Signed-in users are sent to their account."),
    page("GET accounts:me", signed_in=OWN),
    # staff directory
    page("GET accounts:staff_list", staff=SUBTREE),
    page("GET accounts:staff_detail", staff=SUBTREE),
    page("POST accounts:staff_phone", staff=SEES_SUBTREE, window_clerk=SUBTREE,
         approver=SUBTREE, data_steward=SUBTREE, superuser=SUBTREE,
         note="Reveals a full phone number; audited. Roles with personal-data access."),
    page("GET|POST accounts:staff_create", district_admin=SUBTREE, superuser=SUBTREE),
    page("GET|POST accounts:staff_deactivate", staff=SEES_SUBTREE, district_admin=SUBTREE,
         superuser=SUBTREE),
    # API tokens
    page("GET|POST accounts:token_list", staff=OWN, district_admin=SUBTREE,
         superuser=SUBTREE, note="Admins also see the tokens of their subtree."),
    page("POST accounts:token_revoke", staff=OWN, district_admin=SUBTREE,
         superuser=SUBTREE),
    # API
    api("GET /api/accounts/users", staff=SUBTREE, citizens=EMPTY),
    api("POST /api/accounts/users", staff=SEES_SUBTREE, district_admin=SUBTREE,
        superuser=SUBTREE, citizens=NOT_FOUND,
        note="Scope is that of the new user's org unit."),
    api("GET /api/accounts/users/{user_id}", staff=SUBTREE, citizens=NOT_FOUND),
    api("GET /api/accounts/users/{user_id}/personal-data", staff=SEES_SUBTREE,
        window_clerk=SUBTREE, approver=SUBTREE, data_steward=SUBTREE, superuser=SUBTREE,
        citizens=NOT_FOUND, note="Unmasked phone and ID number; audited."),
    api("POST /api/accounts/users/{user_id}/deactivate", staff=SEES_SUBTREE,
        district_admin=SUBTREE, superuser=SUBTREE, citizens=NOT_FOUND),
    api("POST /api/accounts/register", everyone=ANY, note="Real-name sign-up of a citizen."),
    api("GET /api/accounts/tokens", signed_in=OWN, district_admin=SUBTREE,
        superuser=SUBTREE),
    api("POST /api/accounts/tokens", staff=OWN, citizens=NOT_FOUND,
        note="A token for the caller, for a unit in the caller's scope."),
    api("POST /api/accounts/tokens/{token_id}/revoke", signed_in=OWN,
        district_admin=SUBTREE, superuser=SUBTREE),
]
