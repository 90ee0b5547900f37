"""Who may call the admin routes (see ``yiwang.access``)."""

from yiwang.access import Rule

ROUTES: list[Rule] = []
