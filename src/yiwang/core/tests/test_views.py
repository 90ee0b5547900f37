"""Pages of the portal and the workbench: who may open them, what they show, what they change."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from yiwang.core.audit import audit_log
from yiwang.core.models import AuditEntry, CalendarOverride, Notification
from yiwang.core.notifications import notify
from yiwang.core.tests.factories import make_citizen

pytestmark = pytest.mark.django_db

WORKBENCH_PAGES = ["/workbench/", "/workbench/org/", "/workbench/calendar/", "/notifications/"]


def _notify(user, key: str = "n1") -> Notification:
    return notify(recipient=user, template="welcome", key=key,
                  context={"name": user.name, "username": user.username, "site": "yiwang"})[0]


# --- portal -----------------------------------------------------------------------------

def test_home__anonymous__shows_tiles_search_and_sign_in():
    response = Client().get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'role="search"' in html and 'action="/services/"' in html  # the catalog search
    assert 'href="/services/"' in html and 'href="/services/my/cases/"' in html
    # A tile for what is not online yet points at its notice, which exists on the page.
    assert 'href="#soon-policies"' in html and 'id="soon-policies"' in html
    assert "/accounts/login/" in html and "/accounts/register/" in html


def test_home__search__lists_matching_entries():
    response = Client().get("/", {"q": "我要反映"})
    assert response.status_code == 200
    assert "search-results" in response.content.decode()


def test_home__every_page_has_skip_link_lang_and_no_inline_script(district):
    html = Client().get("/").content.decode()
    assert 'href="#main"' in html
    assert '<html lang="zh-Hans"' in html
    assert "<script>" not in html and " style=" not in html


def test_base__csp_header_forbids_inline_scripts():
    response = Client().get("/")
    assert "script-src 'self'" in response["Content-Security-Policy"]


# --- anonymous and citizens -------------------------------------------------------------

@pytest.mark.parametrize("url", [*WORKBENCH_PAGES, "/workbench/audit/", "/workbench/admin/",
                                 "/workbench/org/440399000000/"])
def test_workbench_pages__anonymous__redirect_to_login(url):
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_workbench__citizen__goes_to_portal(district, client_for):
    response = client_for(make_citizen()).get("/workbench/")
    assert response.status_code == 302
    assert response["Location"] == "/"


@pytest.mark.parametrize("url", ["/workbench/org/", "/workbench/calendar/",
                                 "/workbench/org/440399000000/"])
def test_staff_pages__citizen__403(district, client_for, url):
    assert client_for(make_citizen()).get(url).status_code == 403


# --- workbench and notifications --------------------------------------------------------

def test_workbench__shows_user_unit_role_and_unread_todo(district, client_for):
    clerk = district.users["clerk_a"]
    _notify(clerk)
    response = client_for(clerk).get("/workbench/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "甲街道" in html and "窗口受理人员" in html
    assert "1 条未读消息" in html  # the notification to-do provider
    assert "/notifications/?unread=1" in html


def test_workbench__nothing_unread__empty_todo(district, client_for):
    response = client_for(district.users["clerk_a"]).get("/workbench/")
    assert "暂无待办事项" in response.content.decode()


def test_workbench_nav__auditor_sees_audit_log_clerk_does_not(district, client_for):
    assert "/workbench/audit/" in client_for(district.users["auditor"]).get(
        "/workbench/").content.decode()
    assert "/workbench/audit/" not in client_for(district.users["clerk_a"]).get(
        "/workbench/").content.decode()


def test_notification_read__htmx__marks_own_message_read(district, client_for):
    clerk = district.users["clerk_a"]
    note = _notify(clerk)
    response = client_for(clerk).post(f"/notifications/{note.pk}/read", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "yw-msg--read" in response.content.decode()
    note.refresh_from_db()
    assert note.read_at is not None


def test_notification_read__someone_elses__404_and_unchanged(district, client_for):
    note = _notify(district.users["clerk_b"])
    response = client_for(district.users["clerk_a"]).post(f"/notifications/{note.pk}/read")
    assert response.status_code == 404
    note.refresh_from_db()
    assert note.read_at is None


def test_notification_read__get__405(district, client_for):
    clerk = district.users["clerk_a"]
    note = _notify(clerk)
    assert client_for(clerk).get(f"/notifications/{note.pk}/read").status_code == 405


def test_notification_read__without_csrf_token__403(district):
    clerk = district.users["clerk_a"]
    note = _notify(clerk)
    client = Client(enforce_csrf_checks=True)
    client.force_login(clerk)
    assert client.post(f"/notifications/{note.pk}/read").status_code == 403
    note.refresh_from_db()
    assert note.read_at is None


def test_notifications_read_all__marks_all_read(district, client_for):
    clerk = district.users["clerk_a"]
    _notify(clerk, "a")
    _notify(clerk, "b")
    response = client_for(clerk).post("/notifications/read-all")
    assert response.status_code == 302
    assert not Notification.objects.filter(recipient=clerk, read_at__isnull=True).exists()


def test_notifications__citizen__sees_own_messages_in_portal_shell(district, client_for):
    citizen = make_citizen()
    _notify(citizen)
    html = client_for(citizen).get("/notifications/").content.decode()
    assert "欢迎使用一网政务服务平台" in html
    assert "yw-portal" in html


# --- org tree ---------------------------------------------------------------------------

def test_org_tree__street_clerk__sees_own_subtree_only(district, client_for):
    html = client_for(district.users["clerk_a"]).get("/workbench/org/").content.decode()
    assert "甲一社区第1网格" in html
    assert "乙街道" not in html and "示范区住房和建设局" not in html


def test_org_tree__district_admin__sees_streets_and_departments(district, client_for):
    html = client_for(district.users["district_admin"]).get("/workbench/org/").content.decode()
    for name in ("示范区", "甲街道", "乙街道", "乙一社区", "示范区住房和建设局"):
        assert name in html


def test_org_detail__own_street__children_staff_count_and_boundary(district, client_for):
    response = client_for(district.users["clerk_a"]).get("/workbench/org/440399001000/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "甲一社区" in html
    assert "<svg" in html and "yw-map__child" in html
    assert response.context["staff_direct"] == 3  # a_admin, clerk_a, auditor_a
    assert response.context["staff_subtree"] == 5  # + handler_a, grid_a


def test_org_detail__other_street__404(district, client_for):
    response = client_for(district.users["clerk_a"]).get("/workbench/org/440399002000/")
    assert response.status_code == 404
    assert "乙街道" not in response.content.decode()


def test_org_detail__parent_of_own_unit__404(district, client_for):
    assert client_for(district.users["clerk_a"]).get(
        "/workbench/org/440399000000/").status_code == 404


def test_org_detail__breadcrumbs_stop_at_own_scope(district, client_for):
    response = client_for(district.users["clerk_a"]).get("/workbench/org/440399001001001/")
    assert [u.code for u in response.context["ancestors"]] == ["440399001000", "440399001001"]


# --- audit log --------------------------------------------------------------------------

def test_audit_list__auditor__sees_entries_in_scope(district, client_for):
    admin = district.users["district_admin"]
    audit_log(actor=admin, action="test.a", obj=district.users["clerk_a"])
    audit_log(actor=admin, action="test.b", obj=district.users["clerk_b"])
    response = client_for(district.users["auditor_a"]).get("/workbench/audit/")
    assert response.status_code == 200
    actions = {e.action for e in response.context["page_obj"]}
    assert actions == {"test.a"}


def test_audit_list__filter_by_action(district, client_for):
    admin = district.users["district_admin"]
    audit_log(actor=admin, action="test.a", obj=district.users["clerk_a"])
    audit_log(actor=admin, action="test.b", obj=district.users["clerk_a"])
    response = client_for(district.users["auditor"]).get("/workbench/audit/",
                                                         {"action": "test.b"})
    assert [e.action for e in response.context["page_obj"]] == ["test.b"]


def test_audit_list__clerk__403(district, client_for):
    assert client_for(district.users["clerk_a"]).get("/workbench/audit/").status_code == 403


def test_audit_verify__intact_chain__reports_ok(district, client_for):
    audit_log(actor=district.users["district_admin"], action="test.a")
    response = client_for(district.users["auditor"]).post("/workbench/audit/verify",
                                                          HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response.context["result"].ok
    assert "审计日志链完整" in response.content.decode()


def test_audit_verify__clerk__403(district, client_for):
    assert client_for(district.users["clerk_a"]).post(
        "/workbench/audit/verify").status_code == 403


# --- working-day calendar ---------------------------------------------------------------

def test_calendar__district_admin__adds_override_and_audits(district, client_for):
    admin = district.users["district_admin"]
    response = client_for(admin).post("/workbench/calendar/", {
        "date": "2025-09-16", "is_workday": "0", "note": "台风红色预警"})
    assert response.status_code == 302
    override = CalendarOverride.objects.get(date=dt.date(2025, 9, 16))
    assert override.is_workday is False
    entry = AuditEntry.objects.get(action="core.calendar_override.set")
    assert entry.scope_path == district.district.path


def test_calendar__missing_note__error_shown_nothing_saved(district, client_for):
    response = client_for(district.users["district_admin"]).post("/workbench/calendar/", {
        "date": "2025-09-16", "is_workday": "0", "note": ""})
    assert response.status_code == 400
    assert "此项为必填项" in response.content.decode()
    assert not CalendarOverride.objects.exists()


def test_calendar__street_admin__cannot_add(district, client_for):
    response = client_for(district.users["street_a_admin"]).post("/workbench/calendar/", {
        "date": "2025-09-16", "is_workday": "0", "note": "x"})
    assert response.status_code == 403
    assert not CalendarOverride.objects.exists()


def test_calendar__clerk__sees_calculator_but_no_form(district, client_for):
    response = client_for(district.users["clerk_a"]).get("/workbench/calendar/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="days"' in html and 'name="note"' not in html


def test_calendar_delete__district_admin__removes_and_audits(district, client_for):
    admin = district.users["district_admin"]
    client = client_for(admin)
    client.post("/workbench/calendar/", {"date": "2025-09-16", "is_workday": "0",
                                         "note": "台风"})
    override = CalendarOverride.objects.get()
    assert client.post(f"/workbench/calendar/{override.pk}/delete").status_code == 302
    assert not CalendarOverride.objects.exists()
    assert AuditEntry.objects.filter(action="core.calendar_override.delete").exists()


def test_calendar_delete__street_admin__403_and_kept(district, client_for):
    override = CalendarOverride.objects.create(date=dt.date(2025, 9, 16), is_workday=False,
                                               note="x")
    response = client_for(district.users["street_a_admin"]).post(
        f"/workbench/calendar/{override.pk}/delete")
    assert response.status_code == 403
    assert CalendarOverride.objects.filter(pk=override.pk).exists()


def test_deadline__skips_national_day_holiday(district, client_for):
    # 2024-09-30 (Mon) + 1 working day: 1–7 October are the National Day holiday.
    response = client_for(district.users["clerk_a"]).get(
        "/workbench/calendar/deadline", {"start": "2024-09-30", "days": "1"},
        HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response.context["result"]["due"] == dt.date(2024, 10, 8)


def test_deadline__local_day_off_moves_due_date(district, client_for):
    CalendarOverride.objects.create(date=dt.date(2025, 9, 16), is_workday=False, note="台风")
    response = client_for(district.users["clerk_a"]).get(
        "/workbench/calendar/deadline", {"start": "2025-09-15", "days": "1"})
    assert response.context["result"]["due"] == dt.date(2025, 9, 17)


def test_deadline__bad_input__error_no_result(district, client_for):
    response = client_for(district.users["clerk_a"]).get(
        "/workbench/calendar/deadline", {"start": "not-a-date", "days": "-3"})
    assert response.status_code == 400
    assert response.context["result"] is None


# --- admin landing ----------------------------------------------------------------------

def test_admin_home__district_admin__links_to_admin_tasks(district, client_for):
    html = client_for(district.users["district_admin"]).get("/workbench/admin/").content.decode()
    for url in ("/accounts/staff/new/", "/accounts/tokens/", "/workbench/calendar/"):
        assert url in html


def test_admin_home__clerk__403(district, client_for):
    assert client_for(district.users["clerk_a"]).get("/workbench/admin/").status_code == 403


def test_error_pages__404_and_403_use_the_shell_in_the_users_language(district, client_for):
    client = client_for(district.users["clerk_a"])
    not_found = client.get("/workbench/org/440399002000/")
    assert "页面不存在" in not_found.content.decode()
    assert "yw-workbench" in not_found.content.decode()
    forbidden = client.get("/workbench/audit/")
    assert "无权访问" in forbidden.content.decode()
