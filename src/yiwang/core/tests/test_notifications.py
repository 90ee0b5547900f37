"""The notification outbox: queue in the caller's transaction, deliver in the background,
never twice, retry with backoff, give up after the last attempt."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import signal
import socket
import threading
import time

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from yiwang.accounts.models import User, UserKind
from yiwang.core import notifications
from yiwang.core.models.notification import Channel, Notification, NotificationStatus
from yiwang.core.notifications import deliver, mark_read, notify, render_message, requeue_due
from yiwang.core.senders import DeliveryError

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend",
                              "QUEUES": ["default", "notifications"]}}
IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
                               "QUEUES": ["default", "notifications"]}}
ALL_CHANNELS = (Channel.INAPP, Channel.EMAIL, Channel.SMS)
WELCOME = {"name": "张三", "username": "zhangsan", "site": "yiwang"}

on_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="threads need PostgreSQL")




@pytest.fixture(autouse=True)
def outbox(settings, tmp_path, monkeypatch):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.YIWANG_SMS_GATEWAY = "file"
    settings.YIWANG_SMS_DIR = tmp_path / "sms"
    settings.YIWANG_NOTIFY_MAX_ATTEMPTS = 3
    settings.TASKS = DATABASE_TASKS
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    mail.outbox = []
    return tmp_path / "sms"


@pytest.fixture
def citizen(db):
    return User.objects.create(username="zhangsan", name="张三", kind=UserKind.CITIZEN,
                               email="zhangsan@example.cn", phone="13800138000")


def sms_lines(folder) -> list[dict]:
    return [json.loads(line) for path in sorted(folder.glob("*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines()]


def queued_tasks() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path__endswith="deliver_notification"))


def notify_welcome(user, *, key="welcome:1", channels=ALL_CHANNELS):
    return {row.channel: row for row in notify(recipient=user, template="welcome", key=key,
                                               context=WELCOME, channels=channels)}


# --- queueing --------------------------------------------------------------------------


def test_notify__in_app__stored_as_sent_with_rendered_text(
        citizen, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        rows = notify_welcome(citizen, channels=(Channel.INAPP,))
    row = Notification.objects.get(pk=rows[Channel.INAPP].pk)
    assert row.status == NotificationStatus.SENT and row.sent_at is not None
    assert row.recipient == citizen and row.language == "zh-hans"
    assert "张三" in row.subject and "zhangsan" in row.body and "\n" not in row.subject
    assert callbacks == [] and queued_tasks() == []


def test_notify__email_and_sms__pending_and_enqueued_only_after_commit(
        citizen, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        rows = notify_welcome(citizen)
    assert {rows[c].status for c in (Channel.EMAIL, Channel.SMS)} == {NotificationStatus.PENDING}
    assert queued_tasks() == []  # not before the commit
    for callback in callbacks:
        callback()
    tasks = queued_tasks()
    assert sorted(t.args_kwargs["args"][0] for t in tasks) == sorted(
        [rows[Channel.EMAIL].pk, rows[Channel.SMS].pk])
    assert {t.queue_name for t in tasks} == {"notifications"}
    assert mail.outbox == []  # queued, not sent


def test_notify__same_key_twice__creates_and_enqueues_nothing_new(
        citizen, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = notify_welcome(citizen)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        second = notify_welcome(citizen)
    assert {c: r.pk for c, r in first.items()} == {c: r.pk for c, r in second.items()}
    assert Notification.objects.count() == 3
    assert callbacks == [] and len(queued_tasks()) == 2


def test_notify__no_email_address_or_phone__those_channels_skipped(db):
    user = User.objects.create(username="lisi", kind=UserKind.CITIZEN)
    rows = notify_welcome(user)
    assert set(rows) == {Channel.INAPP}


def test_notify__inside_rolled_back_transaction__never_enqueued(
        citizen, django_capture_on_commit_callbacks):
    with (django_capture_on_commit_callbacks(execute=True) as callbacks,
          pytest.raises(RuntimeError), transaction.atomic()):
        notify_welcome(citizen)
        raise RuntimeError("the service failed after notifying")
    assert callbacks == []
    assert Notification.objects.count() == 0 and queued_tasks() == []
    assert mail.outbox == []


# --- delivery ----------------------------------------------------------------------------


def test_deliver__email__sent_once_however_often_called(citizen):
    row = notify_welcome(citizen, channels=(Channel.EMAIL,))[Channel.EMAIL]
    assert deliver(row.pk) == NotificationStatus.SENT
    assert deliver(row.pk) == NotificationStatus.SENT
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["zhangsan@example.cn"]
    assert message.subject == row.subject and message.body == row.body
    assert message.extra_headers["X-Yiwang-Notification"] == "welcome:1"
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (NotificationStatus.SENT, 1, "")
    assert row.sent_at is not None


def test_deliver__sms_file_gateway__one_jsonl_line_however_often_called(citizen, outbox):
    row = notify_welcome(citizen, channels=(Channel.SMS,))[Channel.SMS]
    deliver(row.pk)
    deliver(row.pk)
    [line] = sms_lines(outbox)
    assert line["phone"] == "13800138000" and line["out_id"] == "welcome:1"
    assert row.subject in line["text"] and "张三" in line["text"]


def test_deliver__in_app_row__nothing_to_send(citizen):
    row = notify_welcome(citizen, channels=(Channel.INAPP,))[Channel.INAPP]
    assert deliver(row.pk) == NotificationStatus.SENT
    assert Notification.objects.get(pk=row.pk).attempts == 0


def test_deliver__failing_sender__retries_with_backoff_then_fails(citizen, monkeypatch):
    calls = []

    def broken_send_email(**kwargs):
        calls.append(kwargs)
        raise DeliveryError("mail relay refused")

    monkeypatch.setattr(notifications, "send_email", broken_send_email)
    row = notify_welcome(citizen, channels=(Channel.EMAIL,))[Channel.EMAIL]

    for attempt, wait in ((1, 1), (2, 2)):
        before = timezone.now()
        assert deliver(row.pk) == NotificationStatus.RETRY
        row.refresh_from_db()
        assert row.attempts == attempt and row.last_error == "mail relay refused"
        assert before + dt.timedelta(minutes=wait) <= row.next_attempt_at <= (
            timezone.now() + dt.timedelta(minutes=wait))
        retry = [t for t in queued_tasks() if t.args_kwargs["args"] == [row.pk]][-1]
        assert retry.run_after == row.next_attempt_at  # the worker waits for the backoff

    assert deliver(row.pk) == NotificationStatus.FAILED
    row.refresh_from_db()
    assert (row.status, row.attempts, row.next_attempt_at) == (NotificationStatus.FAILED, 3, None)
    assert deliver(row.pk) == NotificationStatus.FAILED  # no fourth attempt
    assert len(calls) == 3 and mail.outbox == []


def test_backoff__doubles_up_to_an_hour():
    assert [notifications.backoff(n).total_seconds() / 60 for n in (1, 2, 3, 4, 7, 8, 20)] == [
        1, 2, 4, 8, 60, 60, 60]


def test_deliver__retry_with_immediate_backend__waits_for_requeue_instead_of_crashing(
        citizen, monkeypatch, settings):
    settings.TASKS = IMMEDIATE_TASKS
    attempts = []

    def flaky_send_email(**kwargs):
        attempts.append(kwargs)
        if len(attempts) == 1:
            raise DeliveryError("mail relay busy")

    monkeypatch.setattr(notifications, "send_email", flaky_send_email)
    row = notify_welcome(citizen, channels=(Channel.EMAIL,))[Channel.EMAIL]
    assert deliver(row.pk) == NotificationStatus.RETRY
    assert requeue_due() == 0  # not due yet
    assert requeue_due(now=timezone.now() + dt.timedelta(minutes=2)) == 1
    row.refresh_from_db()
    assert row.status == NotificationStatus.SENT and len(attempts) == 2


def test_requeue_due__pending_and_due_retries_only(citizen):
    rows = notify_welcome(citizen, channels=(Channel.EMAIL, Channel.SMS))
    later = timezone.now() + dt.timedelta(minutes=30)
    Notification.objects.filter(pk=rows[Channel.SMS].pk).update(
        status=NotificationStatus.RETRY, next_attempt_at=later)
    assert requeue_due() == 1
    assert [t.args_kwargs["args"] for t in queued_tasks()] == [[rows[Channel.EMAIL].pk]]
    assert requeue_due(now=later) == 2


def test_mark_read__only_the_recipients_own_notifications(citizen):
    other = User.objects.create(username="lisi", kind=UserKind.CITIZEN)
    mine = notify_welcome(citizen, channels=(Channel.INAPP,))[Channel.INAPP]
    theirs = notify_welcome(other, key="welcome:2", channels=(Channel.INAPP,))[Channel.INAPP]
    assert mark_read(actor=citizen, notification_ids=[mine.pk, theirs.pk]) == 1
    assert mark_read(actor=citizen, notification_ids=[mine.pk]) == 0  # already read
    assert Notification.objects.get(pk=theirs.pk).read_at is None


# --- the HTTP SMS gateway ---------------------------------------------------------------------


class GatewayHandler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        self.server.requests.append({
            "path": self.path, "headers": dict(self.headers),
            "body": json.loads(self.rfile.read(length))})
        self.send_response(self.server.answer)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def sms_gateway(settings):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), GatewayHandler)
    server.requests, server.answer = [], 200
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    settings.YIWANG_SMS_GATEWAY = "http"
    settings.YIWANG_SMS_URL = f"http://127.0.0.1:{server.server_port}/sms/send"
    settings.YIWANG_SMS_TOKEN = "gateway-token-1"
    yield server
    server.shutdown()
    server.server_close()


def test_http_gateway__posts_json_with_bearer_token(citizen, sms_gateway):
    row = notify_welcome(citizen, channels=(Channel.SMS,))[Channel.SMS]
    assert deliver(row.pk) == NotificationStatus.SENT
    [request] = sms_gateway.requests
    assert request["path"] == "/sms/send"
    assert request["headers"]["Authorization"] == "Bearer gateway-token-1"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["body"] == {"phone": "13800138000", "text": f"{row.subject} {row.body}",
                               "out_id": "welcome:1"}
    deliver(row.pk)
    assert len(sms_gateway.requests) == 1


def test_http_gateway__answers_500__retry_then_failed(citizen, sms_gateway):
    sms_gateway.answer = 500
    row = notify_welcome(citizen, channels=(Channel.SMS,))[Channel.SMS]
    assert deliver(row.pk) == NotificationStatus.RETRY
    row.refresh_from_db()
    assert row.last_error == "gateway answered 500"
    assert deliver(row.pk) == NotificationStatus.RETRY
    assert deliver(row.pk) == NotificationStatus.FAILED
    assert len(sms_gateway.requests) == 3


@pytest.fixture
def closed_port():
    """A local port that refuses connections: bound, never listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_http_gateway__unreachable__retry(citizen, settings, closed_port):
    settings.YIWANG_SMS_GATEWAY = "http"
    settings.YIWANG_SMS_URL = f"http://127.0.0.1:{closed_port}/sms"
    row = notify_welcome(citizen, channels=(Channel.SMS,))[Channel.SMS]
    assert deliver(row.pk) == NotificationStatus.RETRY
    row.refresh_from_db()
    assert "unreachable" in row.last_error


def test_http_gateway__not_an_http_url__retry_with_reason(citizen, settings):
    settings.YIWANG_SMS_GATEWAY = "http"
    settings.YIWANG_SMS_URL = "file:///etc/passwd"
    row = notify_welcome(citizen, channels=(Channel.SMS,))[Channel.SMS]
    assert deliver(row.pk) == NotificationStatus.RETRY
    row.refresh_from_db()
    assert "http(s) URL" in row.last_error


# --- templates and languages ----------------------------------------------------------------


@pytest.fixture
def greeting_templates(settings):
    settings.TEMPLATES = [{
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "OPTIONS": {"loaders": [
            ("django.template.loaders.locmem.Loader", {
                "notifications/greet.txt":
                    "{% load i18n %}{% get_current_language as L %}[{{ L }}] Hello {{ name }}\n"
                    "Line one.\nLine two.\n",
                "notifications/greet.en.txt": "Dear {{ name }}\nAn English-only body.",
            }),
            "django.template.loaders.app_directories.Loader",
        ]},
    }]


def test_render_message__renders_in_the_recipients_language(greeting_templates):
    assert render_message("greet", "zh-hans", {"name": "张三"}) == (
        "[zh-hans] Hello 张三", "Line one.\nLine two.")
    assert render_message("greet", "zh-hant", {"name": "張三"})[0] == "[zh-hant] Hello 張三"


def test_render_message__language_specific_template_wins(greeting_templates):
    assert render_message("greet", "en", {"name": "Ada"}) == ("Dear Ada", "An English-only body.")


def test_render_message__unknown_template__clear_error():
    with pytest.raises(ValueError, match="no notification template 'nope'"):
        render_message("nope", "en", {})


def test_notify__uses_and_records_the_recipients_language(db, greeting_templates):
    english = User.objects.create(username="ada", kind=UserKind.CITIZEN, language="en")
    chinese = User.objects.create(username="zhang", kind=UserKind.CITIZEN, language="zh-hans")
    [en_row] = notify(recipient=english, template="greet", key="g:1", context={"name": "Ada"})
    [zh_row] = notify(recipient=chinese, template="greet", key="g:2", context={"name": "张三"})
    assert (en_row.language, en_row.subject) == ("en", "Dear Ada")
    assert (zh_row.language, zh_row.subject) == ("zh-hans", "[zh-hans] Hello 张三")


@pytest.mark.parametrize("language", ["zh-hans", "zh-hant", "en"])
def test_welcome_template__every_language__subject_line_and_body_with_the_facts(language):
    subject, body = render_message("welcome", language, WELCOME)
    assert subject and body and "\n" not in subject
    assert "张三" in subject
    assert "zhangsan" in body and "yiwang" in body


# --- the task worker and concurrency ------------------------------------------------------------


@pytest.fixture
def keep_signal_handlers():
    """db_worker installs SIGINT/SIGTERM handlers; put pytest's back afterwards."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


@pytest.mark.django_db(transaction=True)
def test_db_worker__delivers_what_a_committed_transaction_queued(citizen, outbox,
                                                                keep_signal_handlers):
    with transaction.atomic():
        rows = notify_welcome(citizen)
        assert queued_tasks() == []
    assert len(queued_tasks()) == 2

    call_command("db_worker", "--batch", "--queue-name", "*", "--interval", "0",
                 "--no-startup-delay", "--no-reload", verbosity=0)

    assert [m.to for m in mail.outbox] == [["zhangsan@example.cn"]]
    assert len(sms_lines(outbox)) == 1
    statuses = Notification.objects.filter(pk__in=[r.pk for r in rows.values()]).values_list(
        "status", flat=True)
    assert set(statuses) == {NotificationStatus.SENT}
    assert {t.status for t in queued_tasks()} == {"SUCCESSFUL"}


@pytest.mark.django_db(transaction=True)
@on_postgres
def test_deliver__two_workers_at_once__sent_once(citizen, monkeypatch):
    sent = []

    def slow_send_email(**kwargs):
        sent.append(kwargs)
        time.sleep(0.3)

    monkeypatch.setattr(notifications, "send_email", slow_send_email)
    row = notify_welcome(citizen, channels=(Channel.EMAIL,))[Channel.EMAIL]
    start = threading.Barrier(4)
    results = []

    def worker():
        try:
            start.wait()
            results.append(deliver(row.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(sent) == 1
    assert len(results) == 4
    # The others see it being sent, or already sent; none sends it again.
    assert set(results) <= {NotificationStatus.SENDING, NotificationStatus.SENT}
    row.refresh_from_db()
    assert (row.status, row.attempts) == (NotificationStatus.SENT, 1)


@pytest.mark.django_db
def test_notify__same_key_for_two_recipients__each_gets_one(district):
    a, b = district.users["clerk_a"], district.users["clerk_b"]
    notify(recipient=a, template="welcome", key="broadcast-1", context=WELCOME)
    notify(recipient=b, template="welcome", key="broadcast-1", context=WELCOME)
    notify(recipient=b, template="welcome", key="broadcast-1", context=WELCOME)
    assert Notification.objects.filter(idempotency_key="broadcast-1").count() == 2


@pytest.mark.django_db
def test_requeue_due__send_whose_worker_died__retried_after_lease(district, settings, tmp_path):
    settings.YIWANG_SMS_DIR = tmp_path
    settings.TASKS = IMMEDIATE_TASKS
    user = district.users["clerk_a"]
    (row,) = notify(recipient=user, template="welcome", key="lease-1", context=WELCOME,
                    channels=[Channel.SMS])
    # A worker claimed the row and died before finishing.
    Notification.objects.filter(pk=row.pk).update(
        status=NotificationStatus.SENDING, next_attempt_at=timezone.now() - dt.timedelta(seconds=1))
    requeue_due()
    row.refresh_from_db()
    assert row.status == NotificationStatus.SENT
