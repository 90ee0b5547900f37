"""Local calendar overrides and deadline clocks (see ``core.workdays``)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CalendarOverride(models.Model):
    """A local exception to the official calendar (e.g. a typhoon day off, a local holiday)."""

    date = models.DateField(_("date"), unique=True)
    is_workday = models.BooleanField(_("working day"))
    note = models.CharField(_("note"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    scope_path_lookup = ""  # district-wide reference data

    class Meta:
        verbose_name = _("calendar override")
        verbose_name_plural = _("calendar overrides")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {'workday' if self.is_workday else 'day off'}: {self.note}"


class ClockUnit(models.TextChoices):
    WORKDAYS = "workdays", _("working days")
    HOURS = "hours", _("natural hours")


class Clock(models.Model):
    """A deadline that can be paused (特别程序, 补正, 挂起) and resumed.

    Working-day clocks end at the end of the Nth working day after the start day
    (the start day is not counted); paused working days push the end out by as many
    working days. Hour clocks run in natural hours.
    """

    unit = models.CharField(max_length=10, choices=ClockUnit.choices)
    limit = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    due_at = models.DateTimeField()
    paused_at = models.DateTimeField(null=True, blank=True)
    # Pauses so far, in the clock's unit (working days or seconds).
    paused_total = models.PositiveBigIntegerField(default=0)
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.limit} {self.unit} from {self.started_at:%Y-%m-%d %H:%M} due {self.due_at}"

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None

    def is_overdue(self, at: dt.datetime) -> bool:
        end = self.stopped_at or self.paused_at or at
        return end > self.due_at
