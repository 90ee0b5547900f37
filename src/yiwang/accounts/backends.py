from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend


class YiwangBackend(ModelBackend):
    """Username + password; permissions come only from the user's role groups."""

    def get_user_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        # Roles are the only source of permissions: no per-user grants to audit around.
        return set()
