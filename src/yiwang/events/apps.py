from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "yiwang.events"
    label = "events"
    verbose_name = _("Event center (一网统管)")

    def ready(self) -> None:
        from yiwang.core.periodic import register_periodic
        from yiwang.core.workbench import register_todo_provider

        from . import checks  # noqa: F401 (registers the deployment checks)
        from .figures import figures_refresh
        from .supervision import events_supervise
        from .todo import event_todos

        register_todo_provider(event_todos)

        # Time states, warnings, urging and escalation rules, the external loop's deadlines.
        register_periodic("events.supervise", events_supervise, interval=300)
        # The figures' rollup: settled days move out of the live part.
        register_periodic("events.figures_refresh", figures_refresh, interval=600)
