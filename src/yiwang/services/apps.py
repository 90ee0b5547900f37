from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServicesConfig(AppConfig):
    name = "yiwang.services"
    label = "services"
    verbose_name = _("Government services (一网通办)")

    def ready(self) -> None:
        from yiwang.core.periodic import register_periodic
        from yiwang.core.workbench import register_todo_provider

        from .cases import cases_refresh_deadlines
        from .statistics import statistics_refresh
        from .todo import case_todos
        from .views.catalog_admin import catalog_todos

        register_todo_provider(case_todos)
        register_todo_provider(catalog_todos)

        # Time states, deadline warnings and 容缺 expiry; every 5 minutes is enough for
        # limits counted in working days or hours.
        register_periodic("services.cases_refresh_deadlines", cases_refresh_deadlines,
                          interval=300)
        # Settled days move into the statistics rollup (figures stay exact without it).
        register_periodic("services.statistics_refresh", statistics_refresh, interval=600)
