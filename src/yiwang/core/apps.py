from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "yiwang.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers deploy checks)
        from .selectors import notification_todos
        from .workbench import register_todo_provider

        register_todo_provider(notification_todos)
