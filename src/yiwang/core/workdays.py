"""Chinese working days: statutory holidays, 调休 make-up days and local overrides.

The official calendar comes from the maintained ``chinesecalendar`` package; a local
``CalendarOverride`` (typhoon day off, a district holiday) wins over it. For a year the
package does not know yet, Monday–Friday are working days until an update or an
override says otherwise, and a warning is logged once.

Deadline convention (《行政许可法》第八十二条: the start day is not counted): a limit of
N working days started at any moment ends at the end of the Nth working day after the
start day. Hour limits (urgent events) run in natural hours. Days are the bureau's days
(settings.TIME_ZONE, Asia/Shanghai), whatever time zone a request has activated.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Iterable

import chinese_calendar
from django.utils import timezone

from .models.calendar import CalendarOverride, Clock, ClockUnit

log = logging.getLogger(__name__)


@functools.cache
def _warn_uncovered(year: int) -> None:
    log.warning("chinesecalendar has no data for %s; using Mon–Fri plus local overrides", year)


def official_is_workday(day: dt.date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        _warn_uncovered(day.year)
        return day.weekday() < 5


def official_holiday_name(day: dt.date) -> str | None:
    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return None
    return name if on_holiday and name else None


class WorkCalendar:
    """The working-day calendar with a snapshot of the local overrides."""

    def __init__(self, overrides: dict[dt.date, bool] | None = None):
        self.overrides = overrides or {}

    @classmethod
    def load(cls) -> WorkCalendar:
        return cls(dict(CalendarOverride.objects.values_list("date", "is_workday")))

    def is_workday(self, day: dt.date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        return official_is_workday(day)

    def workdays(self, start: dt.date, end: dt.date) -> Iterable[dt.date]:
        """Working days d with start <= d <= end."""
        day = start
        while day <= end:
            if self.is_workday(day):
                yield day
            day += dt.timedelta(days=1)

    def nth_workday_after(self, day: dt.date, n: int) -> dt.date:
        """The nth working day after ``day`` (``day`` itself not counted); n=0 → day."""
        if n < 0:
            raise ValueError("n must not be negative")
        while n > 0:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                n -= 1
        return day

    def add_working_days(self, start: dt.datetime, n: int) -> dt.datetime:
        """End of the nth working day after the start day, as an aware datetime."""
        end_day = self.nth_workday_after(local_date(start), n)
        return end_of_day(end_day)

    def working_days_between(self, start: dt.datetime, end: dt.datetime) -> int:
        """Working days after the start day up to and including the end day (negative if
        ``end`` is earlier)."""
        a = local_date(start)
        b = local_date(end)
        if b < a:
            return -self.working_days_between(end, start)
        return sum(1 for _ in self.workdays(a + dt.timedelta(days=1), b))

    def due_at(self, start: dt.datetime, limit: int, unit: str) -> dt.datetime:
        if unit == ClockUnit.HOURS:
            return start + dt.timedelta(hours=limit)
        return self.add_working_days(start, limit)


def local_date(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment, timezone.get_default_timezone()).date()


def end_of_day(day: dt.date) -> dt.datetime:
    tz = timezone.get_default_timezone()
    return dt.datetime.combine(day, dt.time(23, 59, 59, 999999), tzinfo=tz)


# Clocks: start, pause, resume, stop. The owning service saves and audits.

def clock_start(*, unit: str, limit: int, at: dt.datetime | None = None,
                calendar: WorkCalendar | None = None) -> Clock:
    at = at or timezone.now()
    calendar = calendar or WorkCalendar.load()
    clock = Clock(unit=unit, limit=limit, started_at=at, due_at=calendar.due_at(at, limit, unit))
    clock.save()
    return clock


def clock_pause(clock: Clock, *, at: dt.datetime | None = None) -> Clock:
    if clock.paused_at is not None or clock.stopped_at is not None:
        raise ValueError("clock is not running")
    clock.paused_at = at or timezone.now()
    clock.save(update_fields=["paused_at"])
    return clock


def clock_resume(clock: Clock, *, at: dt.datetime | None = None,
                 calendar: WorkCalendar | None = None) -> Clock:
    """Resume; the due time moves out by the working days (or seconds) spent paused."""
    if clock.paused_at is None:
        raise ValueError("clock is not paused")
    at = at or timezone.now()
    calendar = calendar or WorkCalendar.load()
    if clock.unit == ClockUnit.HOURS:
        lost = int((at - clock.paused_at).total_seconds())
        clock.due_at = clock.due_at + dt.timedelta(seconds=lost)
    else:
        lost = max(0, calendar.working_days_between(clock.paused_at, at))
        due_day = calendar.nth_workday_after(local_date(clock.due_at), lost)
        clock.due_at = end_of_day(due_day)
    clock.paused_total += lost
    clock.paused_at = None
    clock.save(update_fields=["due_at", "paused_total", "paused_at"])
    return clock


def clock_stop(clock: Clock, *, at: dt.datetime | None = None) -> Clock:
    clock.stopped_at = at or timezone.now()
    clock.save(update_fields=["stopped_at"])
    return clock


def clock_remaining(clock: Clock, *, at: dt.datetime | None = None,
                    calendar: WorkCalendar | None = None) -> int:
    """Working days (or whole hours) left; negative when overdue."""
    at = clock.stopped_at or clock.paused_at or at or timezone.now()
    if clock.unit == ClockUnit.HOURS:
        return int((clock.due_at - at).total_seconds() // 3600)
    calendar = calendar or WorkCalendar.load()
    if at > clock.due_at:
        return -max(1, calendar.working_days_between(clock.due_at, at))
    return calendar.working_days_between(at, clock.due_at)
