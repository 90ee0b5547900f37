from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "yiwang.registry"
    label = "registry"
    verbose_name = _("Data registry (数据底座)")
