"""Gap-free counters for human-facing numbers (case numbers, event numbers)."""

from __future__ import annotations

from django.db import models


class Sequence(models.Model):
    name = models.CharField(max_length=40)
    period = models.CharField(max_length=10, help_text="e.g. 20261122 for a daily counter")
    value = models.PositiveBigIntegerField(default=0)

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["name", "period"], name="sequence_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name}/{self.period}={self.value}"
