"""The event lifecycle: every transition, who may do it, deadlines, 重办, returns,
内外双循环 and two dispatchers at once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from yiwang.core.models import AuditEntry, Notification
from yiwang.core.tests.factories import make_citizen
from yiwang.core.workdays import clock_remaining
from yiwang.events import services
from yiwang.events.models import (
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    Channel,
    Event,
    EventStatus,
    ExternalTask,
    ResponsibleParty,
    Satisfaction,
    Supervision,
)
from yiwang.events.tests.factories import add_event_staff, item, load_catalog, new_event

pytestmark = pytest.mark.django_db
S = EventStatus
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def d(district):
    load_catalog()
    add_event_staff(district)
    return district


def dispatched_to_street(d) -> Event:
    return services.event_dispatch(actor=d.users["dispatcher"], event=new_event(d),
                                   unit=d.street_a)


def in_progress(d) -> Event:
    event = services.event_accept(actor=d.users["street_handler"], event=dispatched_to_street(d))
    return services.event_start(actor=d.users["street_handler"], event=event)


def test_full_path__hotline_to_closed_with_timeline_audit_and_notices(d):
    citizen = make_citizen(phone="13800138001")
    event = new_event(d, reporter=citizen)
    assert event.number.startswith("440399") and len(event.number) == 21
    assert event.status == S.RECEIVED and event.dispatch_unit == d.district
    event = services.event_dispatch(actor=d.users["dispatcher"], event=event, unit=d.street_a)
    assert Notification.objects.filter(recipient=d.users["street_handler"],
                                       template="event_dispatched").exists()
    event = services.event_accept(actor=d.users["street_handler"], event=event)
    event = services.event_start(actor=d.users["street_handler"], event=event)
    event = services.event_contact(actor=d.users["street_handler"], event=event,
                                   note="电话联系王先生，约定今天下午到场")
    assert event.responded_at is not None and event.response_clock.stopped_at is not None
    event = services.event_resolve(actor=d.users["street_handler"], event=event,
                                   result="执法队到场，桌椅已清理，商户签订承诺书")
    event = services.event_callback(actor=d.users["dispatcher"], event=event,
                                    satisfaction=Satisfaction.SATISFIED, method="phone")
    assert event.status == S.CLOSED and event.closed_at
    actions = list(event.updates.values_list("action", flat=True))
    assert actions == ["create", "dispatch", "accept", "start", "contact", "resolve",
                       "callback"]
    assert AuditEntry.objects.filter(action__startswith="events.event.",
                                     object_id=str(event.pk)).count() == 7
    assert Notification.objects.filter(recipient=citizen, template="event_update").exists()


def test_same_source_ref_twice__one_event(d):
    first = new_event(d, channel=Channel.OPEN311, source_ref="client-1:abc")
    again = new_event(d, channel=Channel.OPEN311, source_ref="client-1:abc")
    assert first.pk == again.pk and Event.objects.count() == 1


def test_intake__bad_input__clear_errors_and_nothing_saved(d):
    with pytest.raises(ValidationError) as error:
        services.event_create(actor=d.users["dispatcher"], channel=Channel.HOTLINE,
                              appeal_type="rant", title="", description=" ",
                              category=item("01"), lat=22.5)
    assert {"appeal_type", "description", "category", "lat"} <= set(error.value.message_dict)
    assert not Event.objects.exists()


def test_consultation_answered_on_the_call__closed_at_once(d):
    event = new_event(d, appeal_type="consult", resolved_on_spot="已告知办理地点和所需材料")
    assert event.status == S.CLOSED and event.resolution.startswith("已告知")
    assert event.clock.stopped_at is not None


@pytest.mark.parametrize("appeal_type,workdays", [("consult", 2), ("help", 10),
                                                  ("suggestion", 10), ("complaint", 15),
                                                  ("report", 15)])
def test_deadline__by_appeal_type_in_working_days(d, appeal_type, workdays):
    event = new_event(d, appeal_type=appeal_type)
    assert event.clock.unit == "workdays" and event.clock.limit == workdays


def test_deadline__consultation_before_national_day_skips_the_holiday(d):
    # Received Tuesday 2026-09-29: two working days, counted by the official calendar
    # (the National Day week is not counted), end at the end of the second one.
    import chinese_calendar

    received = dt.datetime(2026, 9, 29, 10, 0, tzinfo=SHANGHAI)
    event = new_event(d, appeal_type="consult", received_at=received)
    day, counted = dt.date(2026, 9, 29), 0
    while counted < 2:
        day += dt.timedelta(days=1)
        counted += chinese_calendar.is_workday(day)
    assert timezone.localtime(event.clock.due_at).date() == day
    assert day > dt.date(2026, 10, 7)  # nothing counted inside the holiday
    assert event.response_clock.due_at == received + dt.timedelta(hours=24)


def test_urgent_item__deadline_in_hours(d, settings):
    settings.YIWANG_URGENT_HOURS = 4
    event = new_event(d, code=_urgent_code())
    assert event.urgent and event.clock.unit == "hours" and event.clock.limit == 4


def _urgent_code() -> str:
    from yiwang.events.models import Category

    return Category.objects.filter(catalog__status="published", urgency="urgent",
                                   level=3).values_list("code", flat=True).first()


# --- who may ----------------------------------------------------------------------------

@pytest.mark.parametrize("user,allowed", [
    ("dispatcher", True), ("street_dispatcher", False), ("street_handler", False),
    ("event_supervisor", False), ("clerk_a", False), ("grid_worker_a", False)])
def test_dispatch__only_the_centre_holding_the_event(d, user, allowed):
    event = new_event(d)
    if allowed:
        services.event_dispatch(actor=d.users[user], event=event, unit=d.street_a)
    else:
        with pytest.raises(PermissionDenied):
            services.event_dispatch(actor=d.users[user], event=event, unit=d.street_a)
        event.refresh_from_db()
        assert event.status == S.RECEIVED


@pytest.mark.parametrize("user,allowed", [
    ("street_handler", True), ("street_b_handler", False), ("dispatcher", False),
    ("handler_a", False), ("event_supervisor", False)])
def test_accept__only_the_lead_unit(d, user, allowed):
    event = dispatched_to_street(d)
    if allowed:
        assert services.event_accept(actor=d.users[user], event=event).status == S.ACCEPTED
    else:
        with pytest.raises(PermissionDenied):
            services.event_accept(actor=d.users[user], event=event)


def test_street_passes_it_down_to_a_community(d):
    event = services.event_accept(actor=d.users["street_handler"],
                                  event=dispatched_to_street(d))
    event = services.event_dispatch(actor=d.users["street_dispatcher"], event=event,
                                    unit=d.community_a)
    assert event.status == S.DISPATCHED and event.handler_unit == d.community_a
    assert event.dispatch_unit == d.street_a and event.dispatch_level == "community"
    with pytest.raises(ValidationError):  # not a unit of the street
        other = services.event_accept(actor=d.users["street_handler"],
                                      event=dispatched_to_street(d))
        services.event_dispatch(actor=d.users["street_dispatcher"], event=other,
                                unit=d.community_b)


def test_allowed_transitions__buttons_follow_role_and_state(d):
    event = new_event(d)
    names = {t.name for t in services.allowed_transitions(event, d.users["dispatcher"])}
    assert {"dispatch", "merge"} <= names and "escalate" not in names  # top centre
    assert services.allowed_transitions(event, d.users["street_handler"]) == []
    event = dispatched_to_street(d)
    names = {t.name for t in services.allowed_transitions(event, d.users["street_handler"])}
    assert {"accept", "return"} <= names and "dispatch" not in names


def test_wrong_state__clear_error_and_state_kept(d):
    event = in_progress(d)
    with pytest.raises(ValidationError) as error:
        services.event_accept(actor=d.users["street_handler"], event=event)
    event.refresh_from_db()
    assert event.status == S.IN_PROGRESS
    assert error.value.code == "bad_state" and "签收" in error.value.messages[0]


def test_two_dispatchers__same_revision__second_refused(d):
    event = new_event(d)
    services.event_dispatch(actor=d.users["dispatcher"], event=event, unit=d.street_a,
                            expected_revision=event.revision)
    with pytest.raises(ValidationError) as error:
        services.event_dispatch(actor=d.users["dispatcher2"], event=event, unit=d.street_b,
                                expected_revision=event.revision)
    assert error.value.code == "stale"
    event.refresh_from_db()
    assert event.handler_unit == d.street_a
    assert Assignment.objects.filter(event=event).count() == 1


# --- callback and 重办 --------------------------------------------------------------------

def resolved(d) -> Event:
    return services.event_resolve(actor=d.users["street_handler"], event=in_progress(d),
                                  result="已处理")


def test_callback__dissatisfied_reopens_once_then_goes_to_supervision(d):
    event = services.event_callback(actor=d.users["dispatcher"], event=resolved(d),
                                    satisfaction=Satisfaction.DISSATISFIED, method="phone",
                                    note="桌椅又摆出来了")
    assert event.status == S.IN_PROGRESS and event.reopen_count == 1
    assert clock_remaining(event.clock) > 0  # a fresh clock for 重办
    event = services.event_resolve(actor=d.users["street_handler"], event=event,
                                   result="再次整治，安排每日巡查")
    event = services.event_callback(actor=d.users["dispatcher"], event=event,
                                    satisfaction=Satisfaction.DISSATISFIED, method="sms")
    assert event.status == S.RESOLVED and event.supervised
    assert Supervision.objects.filter(event=event, kind="supervise",
                                      unit=d.district).exists()
    # Still dissatisfied when called again: recorded, and still one supervision.
    event = services.event_callback(actor=d.users["dispatcher"], event=event,
                                    satisfaction=Satisfaction.DISSATISFIED, method="phone")
    assert event.status == S.RESOLVED
    assert Supervision.objects.filter(event=event, rule="second_dissatisfied").count() == 1
    event = services.event_close(actor=d.users["event_supervisor"], event=event,
                                 reason="督办核实：已整改到位，群众诉求超出职责范围部分已解释")
    assert event.status == S.CLOSED


def test_callback__by_the_reporter_themself_only(d):
    citizen = make_citizen(phone="13800138001")
    stranger = make_citizen(username="other", id_number="110105194912310029")
    event = services.event_resolve(
        actor=d.users["street_handler"],
        event=services.event_start(actor=d.users["street_handler"], event=services.event_accept(
            actor=d.users["street_handler"], event=services.event_dispatch(
                actor=d.users["dispatcher"], event=new_event(d, reporter=citizen),
                unit=d.street_a))), result="已处理")
    with pytest.raises(PermissionDenied):
        services.event_callback(actor=stranger, event=event, satisfaction=3, method="portal",
                                by_reporter=True)
    event = services.event_callback(actor=citizen, event=event, satisfaction=3,
                                    method="portal", by_reporter=True)
    assert event.status == S.CLOSED


# --- returns, reassignment, co-handlers, extension ----------------------------------------

def test_return__back_in_the_queue__dispute__supervisor_sends_it_back(d):
    event = services.event_return(actor=d.users["street_handler"], event=dispatched_to_street(d),
                                  reason="该路段属乙街道管辖")
    assert event.status == S.RECEIVED and event.handler_unit is None
    assert event.return_count == 1
    names = {t.name for t in services.allowed_transitions(event, d.users["dispatcher"])}
    assert "dispute_return" in names
    event = services.event_dispute_return(actor=d.users["dispatcher"], event=event,
                                          reason="地图定位在甲街道辖区内")
    with pytest.raises(PermissionDenied):
        services.event_decide_dispute(actor=d.users["dispatcher"], event=event,
                                      uphold_return=False, reason="x")
    event = services.event_decide_dispute(actor=d.users["event_supervisor"], event=event,
                                          uphold_return=False, reason="核实属甲街道")
    assert event.status == S.DISPATCHED and event.handler_unit == d.street_a


def test_return__dispatching_again_agrees_with_it__a_disputed_one_waits(d):
    event = services.event_return(actor=d.users["street_handler"], event=dispatched_to_street(d),
                                  reason="该路段属乙街道管辖")
    event = services.event_dispatch(actor=d.users["dispatcher"], event=event, unit=d.street_b)
    request = event.returns.get()
    assert request.status == "approved" and request.decided_by == d.users["dispatcher"]
    assert event.handler_unit == d.street_b

    event = services.event_return(actor=d.users["street_b_handler"], event=event,
                                  reason="不属本街道")
    event = services.event_dispute_return(actor=d.users["dispatcher"], event=event,
                                          reason="地图定位在乙街道辖区内")
    with translation.override("en"), pytest.raises(ValidationError, match="disputed return"):
        services.event_dispatch(actor=d.users["dispatcher"], event=event, unit=d.street_a)
    event.refresh_from_db()
    assert event.status == S.RECEIVED and event.returns.filter(status="pending").count() == 1


def test_return__without_reason__refused(d):
    event = dispatched_to_street(d)
    with pytest.raises(ValidationError):
        services.event_return(actor=d.users["street_handler"], event=event, reason=" ")
    event.refresh_from_db()
    assert event.status == S.DISPATCHED


def test_reassign__old_lead_withdrawn_new_one_notified(d):
    event = services.event_reassign(actor=d.users["dispatcher"], event=dispatched_to_street(d),
                                    unit=d.street_b, reason="位于乙街道")
    assert event.handler_unit == d.street_b and event.reassign_count == 1
    assert Assignment.objects.get(event=event, unit=d.street_a).status == \
        AssignmentStatus.WITHDRAWN
    assert Notification.objects.filter(recipient=d.users["street_b_handler"]).exists()


def test_co_handler__reports_its_part(d):
    event = services.event_add_co_handler(actor=d.users["dispatcher"], event=in_progress(d),
                                          unit=d.department, note="协助认定违建")
    event = services.event_co_done(actor=d.users["dept_handler"], event=event,
                                   note="已出具认定意见")
    co = Assignment.objects.get(event=event, role=AssignmentRole.CO)
    assert co.status == AssignmentStatus.DONE
    with pytest.raises(PermissionDenied):
        services.event_co_done(actor=d.users["street_b_handler"], event=event, note="x")


def test_extension__dispatcher_approves_deadline_moves(d):
    event = in_progress(d)
    before = event.clock.due_at
    event = services.event_request_extension(actor=d.users["street_handler"], event=event,
                                             days=5, reason="需协调产权单位")
    with pytest.raises(PermissionDenied):
        services.event_decide_extension(actor=d.users["street_handler"], event=event,
                                        approve=True)
    event = services.event_decide_extension(actor=d.users["dispatcher"], event=event,
                                            approve=True)
    event.clock.refresh_from_db()
    assert event.clock.due_at > before and event.clock.limit == 20


# --- merge, summons, escalation, urging -----------------------------------------------------

def test_merge__both_records_kept(d):
    main, duplicate = new_event(d), new_event(d, reporter_phone="13900139001")
    duplicate = services.event_merge(actor=d.users["dispatcher"], event=duplicate, into=main,
                                     reason="同一地点同一问题")
    assert duplicate.status == S.MERGED and duplicate.merged_into == main
    assert main.updates.filter(action="merged_in").exists()
    assert Event.objects.count() == 2


def test_summons__each_unit_responds_once(d):
    event = in_progress(d)
    summons = services.event_summon(actor=d.users["street_handler"], event=event,
                                    kind="summons", units=[d.department],
                                    subject="天台违建需住建部门到场认定", hours=48)
    response = summons.responses.get()
    with pytest.raises(PermissionDenied):
        services.summons_respond(actor=d.users["street_b_handler"], response=response, text="x")
    services.summons_respond(actor=d.users["dept_handler"], response=response,
                             text="明日上午到场")
    with pytest.raises(ValidationError):
        services.summons_respond(actor=d.users["dept_handler"], response=response, text="再报")


def test_escalate__to_the_centre_above(d):
    event = services.event_accept(actor=d.users["street_handler"], event=dispatched_to_street(d))
    event = services.event_dispatch(actor=d.users["street_dispatcher"], event=event,
                                    unit=d.community_a)
    event = services.event_escalate(actor=d.users["street_dispatcher"], event=event,
                                    reason="涉及多个部门，街道无法协调")
    assert event.status == S.RECEIVED and event.dispatch_unit == d.district and event.escalated


def test_urge__automatic_rule_once(d):
    event = in_progress(d)
    assert services.event_urge(actor=None, event=event, reason="超期", rule="overdue:1",
                               system=True) is not None
    assert services.event_urge(actor=None, event=event, reason="超期", rule="overdue:1",
                               system=True) is None
    assert Supervision.objects.filter(event=event, kind="urge").count() == 1


# --- 内外双循环 ----------------------------------------------------------------------------

@pytest.fixture
def party(d):
    return ResponsibleParty.objects.create(name="示范物业管理有限公司", kind="property",
                                           phone="13600136001", unit=d.community_a)


def external_item() -> str:
    from yiwang.events.models import Category

    code = Category.objects.filter(catalog__status="published", external_loop=True
                                   ).values_list("code", flat=True).first()
    assert code, "the shipped catalog has external-loop items"
    return code


def test_external_loop__party_fixes_it(d, party, settings, tmp_path):
    settings.YIWANG_SMS_DIR = tmp_path
    event = new_event(d, code=external_item())
    event, token = services.event_send_external(actor=d.users["dispatcher"], event=event,
                                                party=party)
    assert event.status == S.EXTERNAL
    assert token not in ExternalTask.objects.get().token_hash
    event = services.external_respond(token=token, fixed=True, response="已安排保洁清理")
    assert event.status == S.RESOLVED
    with pytest.raises(ValidationError):
        services.external_respond(token=token, fixed=True, response="again")
    with pytest.raises(PermissionDenied):
        services.external_respond(token="wrong", fixed=True, response="x")


def test_external_loop__not_fixed_in_time__internal_event_linked(d, party, settings, tmp_path):
    settings.YIWANG_SMS_DIR = tmp_path
    event, _token = services.event_send_external(
        actor=d.users["dispatcher"], event=new_event(d, code=external_item()), party=party)
    count = services.external_expire(at=timezone.now() + dt.timedelta(days=30))
    assert count == 1
    event.refresh_from_db()
    internal = event.merged_into
    assert event.status == S.MERGED and internal.external_of == event
    assert internal.status == S.DISPATCHED and internal.handler_unit == d.street_a
    assert services.external_expire(at=timezone.now() + dt.timedelta(days=30)) == 0
