"""The sweep keeps case deadlines current without anyone opening a page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from yiwang.core.models import Clock, Notification
from yiwang.core.periodic import jobs
from yiwang.services import cases
from yiwang.services.models import TimeState
from yiwang.services.tests.test_cases import window_case, world  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def test_sweep__marks_a_case_past_its_deadline_overdue_and_warns(world):  # noqa: F811
    case = cases.case_accept(actor=world.users["clerk_a"], case=window_case(world))
    Clock.objects.filter(pk=case.clock_id).update(
        due_at=timezone.now() - dt.timedelta(days=1))
    for job in jobs():
        job.last_run = float("-inf")  # a fresh process: every job is due
    call_command("sweep", verbosity=0)
    case.refresh_from_db()
    assert case.time_state == TimeState.OVERDUE
    assert Notification.objects.filter(template="case_deadline",
                                       idempotency_key__contains=str(case.pk)).exists()
