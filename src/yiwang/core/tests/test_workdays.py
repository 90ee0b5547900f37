"""Chinese working days: 2026 holidays and 调休 from chinesecalendar, local overrides,
deadline clocks, and the Asia/Shanghai day boundary."""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo

import chinese_calendar
import pytest
from django.utils import timezone

from yiwang.core import workdays
from yiwang.core.models import CalendarOverride
from yiwang.core.models.calendar import ClockUnit
from yiwang.core.workdays import (
    WorkCalendar,
    clock_pause,
    clock_remaining,
    clock_resume,
    clock_start,
    clock_stop,
)

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
UTC = dt.UTC
D = dt.date


def at(day: dt.date, hour: int = 10, minute: int = 0, second: int = 0) -> dt.datetime:
    """An instant on a Shanghai wall clock."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=SHANGHAI)


def end_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(23, 59, 59, 999999), tzinfo=SHANGHAI)


def package_workdays(after: dt.date, until: dt.date) -> list[dt.date]:
    """Working days after ``after`` up to ``until``, straight from chinesecalendar."""
    return [d for d in chinese_calendar.get_dates(after + dt.timedelta(days=1), until)
            if chinese_calendar.is_workday(d)]


calendar = WorkCalendar()  # official calendar only, no overrides


# --- the official 2026 calendar as the package has it --------------------------------------


def test_package__2026_spring_festival_and_national_day__as_published():
    spring = [D(2026, 2, 15) + dt.timedelta(days=i) for i in range(9)]
    national = [D(2026, 10, 1) + dt.timedelta(days=i) for i in range(7)]
    for day in spring:
        assert chinese_calendar.get_holiday_detail(day) == (
            True, chinese_calendar.Holiday.spring_festival.value)
    for day in national:
        assert chinese_calendar.get_holiday_detail(day) == (
            True, chinese_calendar.Holiday.national_day.value)
    # 调休: weekend days that are working days.
    for day in (D(2026, 2, 14), D(2026, 2, 28), D(2026, 9, 20), D(2026, 10, 10)):
        assert day.weekday() >= 5
        assert chinese_calendar.is_workday(day)


@pytest.mark.parametrize(("day", "is_workday"), [
    (D(2026, 2, 13), True),    # Friday before the festival
    (D(2026, 2, 14), True),    # Saturday, make-up working day
    (D(2026, 2, 15), False),   # Sunday, first holiday
    (D(2026, 2, 17), False),   # Tuesday, holiday
    (D(2026, 2, 23), False),   # Monday, last holiday
    (D(2026, 2, 24), True),    # back to work
    (D(2026, 2, 28), True),    # Saturday, make-up working day
    (D(2026, 3, 1), False),    # ordinary Sunday
    (D(2026, 9, 20), True),    # Sunday, make-up working day for National Day
    (D(2026, 10, 1), False),
    (D(2026, 10, 7), False),
    (D(2026, 10, 8), True),
    (D(2026, 10, 10), True),   # Saturday, make-up working day
])
def test_is_workday__2026_follows_the_official_calendar(day, is_workday):
    assert calendar.is_workday(day) is is_workday
    assert chinese_calendar.is_workday(day) is is_workday


def test_holiday_name__comes_from_the_package():
    assert workdays.official_holiday_name(D(2026, 2, 17)) == "Spring Festival"
    assert workdays.official_holiday_name(D(2026, 2, 14)) is None
    assert workdays.official_holiday_name(D(2026, 3, 3)) is None


# --- adding and counting working days ------------------------------------------------------


def test_add_working_days__accepted_before_spring_festival__deadline_after_it():
    accepted = at(D(2026, 2, 12), 15)
    due = calendar.add_working_days(accepted, 5)
    # 13 Feb (Fri), 14 Feb (Sat, make-up), 24, 25, 26 Feb.
    assert due == end_of(D(2026, 2, 26))
    assert package_workdays(D(2026, 2, 12), D(2026, 2, 26))[-1] == D(2026, 2, 26)
    assert len(package_workdays(D(2026, 2, 12), D(2026, 2, 26))) == 5


def test_add_working_days__accepted_on_a_holiday__counts_from_the_next_working_day():
    due = calendar.add_working_days(at(D(2026, 2, 16)), 5)
    assert due == end_of(D(2026, 2, 28))  # 24, 25, 26, 27 Feb and Saturday 28 Feb


def test_add_working_days__across_national_day__lands_on_the_make_up_saturday():
    assert calendar.add_working_days(at(D(2026, 9, 30)), 3) == end_of(D(2026, 10, 10))
    assert calendar.add_working_days(at(D(2026, 9, 18)), 1) == end_of(D(2026, 9, 20))


def test_add_working_days__zero__ends_the_same_day():
    assert calendar.add_working_days(at(D(2026, 3, 3)), 0) == end_of(D(2026, 3, 3))


def test_add_working_days__20_days_from_new_year__matches_the_package():
    start = D(2025, 12, 31)
    due = calendar.add_working_days(at(start), 20)
    expected = package_workdays(start, D(2026, 3, 31))[19]
    assert due.date() == expected


def test_working_days_between__across_spring_festival():
    assert calendar.working_days_between(at(D(2026, 2, 12)), at(D(2026, 2, 26))) == 5
    assert calendar.working_days_between(at(D(2026, 2, 14)), at(D(2026, 2, 23))) == 0
    assert calendar.working_days_between(at(D(2026, 2, 26)), at(D(2026, 2, 12))) == -5
    assert calendar.working_days_between(at(D(2026, 3, 2), 9), at(D(2026, 3, 2), 17)) == 0


def test_nth_workday_after__negative__refused():
    with pytest.raises(ValueError, match="negative"):
        calendar.nth_workday_after(D(2026, 3, 2), -1)


# --- the Shanghai day boundary -------------------------------------------------------------


def test_add_working_days__just_before_midnight_shanghai__counts_from_that_day():
    started = dt.datetime(2026, 2, 12, 15, 59, 59, tzinfo=UTC)  # 23:59:59 in Shanghai
    due = calendar.add_working_days(started, 5)
    assert due == end_of(D(2026, 2, 26))
    assert due.astimezone(UTC) == dt.datetime(2026, 2, 26, 15, 59, 59, 999999, tzinfo=UTC)


def test_add_working_days__just_after_midnight_shanghai__counts_from_the_next_day():
    started = dt.datetime(2026, 2, 12, 16, 0, 1, tzinfo=UTC)  # 13 Feb 00:00:01 in Shanghai
    assert calendar.add_working_days(started, 5) == end_of(D(2026, 2, 27))


def test_deadlines__same_whatever_time_zone_a_request_activated():
    started = dt.datetime(2026, 2, 12, 16, 30, tzinfo=UTC)  # 13 Feb 00:30 in Shanghai
    expected = calendar.add_working_days(started, 5)
    with timezone.override("UTC"):
        assert calendar.add_working_days(started, 5) == expected == end_of(D(2026, 2, 27))
        assert calendar.working_days_between(started, expected) == 5


# --- local overrides -------------------------------------------------------------------


@pytest.mark.django_db
def test_override__typhoon_day_off__pushes_the_deadline_out():
    CalendarOverride.objects.create(date=D(2026, 3, 4), is_workday=False, note="台风停工")
    local = WorkCalendar.load()
    assert not local.is_workday(D(2026, 3, 4))
    assert calendar.add_working_days(at(D(2026, 3, 2)), 5) == end_of(D(2026, 3, 9))
    assert local.add_working_days(at(D(2026, 3, 2)), 5) == end_of(D(2026, 3, 10))


@pytest.mark.django_db
def test_override__extra_working_saturday__counts():
    CalendarOverride.objects.create(date=D(2026, 3, 7), is_workday=True, note="集中办公日")
    local = WorkCalendar.load()
    assert local.add_working_days(at(D(2026, 3, 2)), 5) == end_of(D(2026, 3, 7))


@pytest.mark.django_db
def test_override__beats_the_official_make_up_day_and_holiday():
    CalendarOverride.objects.create(date=D(2026, 2, 14), is_workday=False, note="local")
    CalendarOverride.objects.create(date=D(2026, 10, 2), is_workday=True, note="local")
    local = WorkCalendar.load()
    assert not local.is_workday(D(2026, 2, 14))
    assert local.is_workday(D(2026, 10, 2))
    assert local.add_working_days(at(D(2026, 2, 12)), 5) == end_of(D(2026, 2, 27))


@pytest.mark.django_db
def test_clock_start__uses_the_overrides_in_the_database():
    CalendarOverride.objects.create(date=D(2026, 3, 4), is_workday=False, note="台风停工")
    clock = clock_start(unit=ClockUnit.WORKDAYS, limit=5, at=at(D(2026, 3, 2)))
    assert clock.due_at == end_of(D(2026, 3, 10))


# --- years the package does not cover -------------------------------------------------------


@pytest.mark.parametrize("year", [2003, 2099])
def test_uncovered_year__falls_back_to_monday_to_friday_and_warns(caplog, year):
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(D(year, 1, 6))
    workdays._warn_uncovered.cache_clear()
    monday = D(year, 3, 2) - dt.timedelta(days=D(year, 3, 2).weekday())
    with caplog.at_level(logging.WARNING, logger="yiwang.core.workdays"):
        assert calendar.is_workday(monday)
        assert not calendar.is_workday(monday + dt.timedelta(days=5))
        due = calendar.add_working_days(at(monday), 5)
    assert due == end_of(monday + dt.timedelta(days=7))
    warnings = [r for r in caplog.records if str(year) in r.getMessage()]
    assert len(warnings) == 1  # once, not once per day
    assert workdays.official_holiday_name(monday) is None


@pytest.mark.django_db
def test_uncovered_year__override_still_wins():
    CalendarOverride.objects.create(date=D(2099, 1, 1), is_workday=False, note="元旦")
    assert not WorkCalendar.load().is_workday(D(2099, 1, 1))  # a Thursday


# --- clocks ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_hour_clock__runs_in_natural_hours_through_holidays():
    start = at(D(2026, 2, 16), 9)
    clock = clock_start(unit=ClockUnit.HOURS, limit=24, at=start)
    assert clock.due_at == at(D(2026, 2, 17), 9)
    assert clock_remaining(clock, at=at(D(2026, 2, 16), 20, 30)) == 12
    assert clock_remaining(clock, at=at(D(2026, 2, 17), 9, 30)) == -1
    assert clock.is_overdue(at(D(2026, 2, 17), 9, 1))


@pytest.mark.django_db
def test_hour_clock__pause_and_resume__due_moves_by_the_paused_time():
    clock = clock_start(unit=ClockUnit.HOURS, limit=24, at=at(D(2026, 3, 2), 9))
    clock_pause(clock, at=at(D(2026, 3, 2), 12))
    assert clock_remaining(clock, at=at(D(2026, 3, 5))) == 21  # frozen while paused
    clock_resume(clock, at=at(D(2026, 3, 2), 14, 30))
    assert clock.due_at == at(D(2026, 3, 3), 11, 30)
    assert clock.paused_total == 2.5 * 3600


@pytest.mark.django_db
def test_workday_clock__pause_spanning_spring_festival__only_working_days_are_added():
    clock = clock_start(unit=ClockUnit.WORKDAYS, limit=10, at=at(D(2026, 2, 9)))
    # 10, 11, 12, 13, 14 (Sat), 24, 25, 26, 27, 28 (Sat) Feb.
    assert clock.due_at == end_of(D(2026, 2, 28))
    clock_pause(clock, at=at(D(2026, 2, 12)))
    assert clock.is_paused
    assert clock_remaining(clock, at=at(D(2026, 2, 20))) == 7  # frozen while paused
    with pytest.raises(ValueError, match="not running"):
        clock_pause(clock, at=at(D(2026, 2, 13)))

    clock_resume(clock, at=at(D(2026, 2, 25)))
    lost = package_workdays(D(2026, 2, 12), D(2026, 2, 25))  # 13, 14, 24, 25 Feb
    assert len(lost) == clock.paused_total == 4
    expected_due = package_workdays(D(2026, 2, 28), D(2026, 3, 31))[3]
    assert clock.due_at == end_of(expected_due) == end_of(D(2026, 3, 5))
    assert clock_remaining(clock, at=at(D(2026, 2, 25))) == 7  # the pause cost nothing
    with pytest.raises(ValueError, match="not paused"):
        clock_resume(clock, at=at(D(2026, 2, 26)))


@pytest.mark.django_db
def test_workday_clock__paused_and_resumed_the_same_day__due_unchanged():
    clock = clock_start(unit=ClockUnit.WORKDAYS, limit=5, at=at(D(2026, 3, 2)))
    clock_pause(clock, at=at(D(2026, 3, 3), 9))
    clock_resume(clock, at=at(D(2026, 3, 3), 17))
    assert clock.due_at == end_of(D(2026, 3, 9))


@pytest.mark.django_db
def test_clock_remaining__counts_down_and_goes_negative_when_overdue():
    clock = clock_start(unit=ClockUnit.WORKDAYS, limit=5, at=at(D(2026, 3, 2)))
    assert clock.due_at == end_of(D(2026, 3, 9))
    assert clock_remaining(clock, at=at(D(2026, 3, 2), 11)) == 5
    assert clock_remaining(clock, at=at(D(2026, 3, 9), 23, 59)) == 0   # due today
    assert not clock.is_overdue(at(D(2026, 3, 9), 23, 59))
    assert clock_remaining(clock, at=at(D(2026, 3, 10), 0, 0, 1)) == -1  # just past midnight
    assert clock.is_overdue(at(D(2026, 3, 10), 0, 0, 1))
    assert clock_remaining(clock, at=at(D(2026, 3, 14))) == -4  # Saturday after 10–13 Mar


@pytest.mark.django_db
def test_clock_remaining__overdue_across_a_holiday__counts_only_working_days():
    clock = clock_start(unit=ClockUnit.WORKDAYS, limit=1, at=at(D(2026, 9, 29)))
    assert clock.due_at == end_of(D(2026, 9, 30))
    assert clock_remaining(clock, at=at(D(2026, 10, 7))) == -1  # holiday week: still one
    assert clock_remaining(clock, at=at(D(2026, 10, 8))) == -1
    assert clock_remaining(clock, at=at(D(2026, 10, 10))) == -3


@pytest.mark.django_db
def test_clock_stop__freezes_remaining_time():
    clock = clock_start(unit=ClockUnit.WORKDAYS, limit=5, at=at(D(2026, 3, 2)))
    clock_stop(clock, at=at(D(2026, 3, 4)))
    assert clock_remaining(clock, at=at(D(2026, 4, 1))) == 3
    assert not clock.is_overdue(at(D(2026, 4, 1)))
