"""Who may call the insight routes (see ``yiwang.access``)."""

from yiwang.access import Rule

ROUTES: list[Rule] = []
