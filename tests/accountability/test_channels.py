"""The push channels against a local fake webhook server (started here, 127.0.0.1, port 0): the
企业微信 and 钉钉 robots' JSON and the 钉钉 signature, a robot's error code, a server slower than
the timeout (retried with backoff, attempts counted, finally 放弃, never raised), the SMS file
and HTTP backends, e-mail, and the sweeper that re-sends what the broker never got."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import urllib.parse

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from accountability import channels
from accountability.choices import ChannelKind, DeliveryStatus, NotificationKind
from accountability.models import Delivery, Notification, UnitChannel
from accountability.notify import (
    backoff,
    deliveries_sweep,
    delivery_send,
    notify,
    unit_channel_create,
    unit_channel_test,
)
from campaign.models import UserProfile
from tests.accountability.fake_webhook import FakeWebhook


@pytest.fixture
def fake():
    server = FakeWebhook().start()
    yield server
    server.stop()


def robot(unit, kind, url, **extra) -> UnitChannel:
    return UnitChannel.objects.create(unit=unit, kind=kind, name=f"{kind} 机器人", webhook_url=url, **extra)


def test_wecom_robot_gets_its_markdown(fake, city, liaison_jia, django_capture_on_commit_callbacks, settings):
    settings.NOTIFY_SITE_URL = "https://cc.example.gov.cn"
    robot(city.street_jia, ChannelKind.WECOM, f"{fake.url}/cgi-bin/webhook/send?key=KEY-123")
    with django_capture_on_commit_callbacks(execute=True):
        notify(units=[city.street_jia], kind=NotificationKind.ASSIGNED, message="新交办问题 #1", url="/problems/1/")
    [request] = fake.received
    assert request.path == "/cgi-bin/webhook/send" and request.query == {"key": "KEY-123"}
    assert request.body["msgtype"] == "markdown"
    content = request.body["markdown"]["content"]
    assert "交办" in content and "新交办问题 #1" in content and "https://cc.example.gov.cn/problems/1/" in content
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.channel) == (DeliveryStatus.SENT, 1, ChannelKind.WECOM)
    assert "KEY-123" not in delivery.target  # the robot's key is never shown


def test_dingtalk_robot_is_signed(fake, city, liaison_jia, django_capture_on_commit_callbacks):
    secret = "SEC0123456789abcdef"
    robot(city.street_jia, ChannelKind.DINGTALK, f"{fake.url}/robot/send?access_token=TOKEN", secret=secret)
    with django_capture_on_commit_callbacks(execute=True):
        notify(units=[city.street_jia.pk], kind=NotificationKind.RETURNED, message="问题 #2 退回返工")
    [request] = fake.received
    assert request.body["msgtype"] == "markdown"
    assert request.body["markdown"]["title"] == "退回" and "问题 #2 退回返工" in request.body["markdown"]["text"]
    assert request.query["access_token"] == "TOKEN"
    timestamp = request.query["timestamp"]
    assert abs(int(timestamp) - int(timezone.now().timestamp() * 1000)) < 60_000
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    # parse_qs decoded the query once: the sign is the base64 of the HMAC.
    assert request.query["sign"] == base64.b64encode(digest).decode()
    assert channels.dingtalk_sign(secret, int(timestamp)) == urllib.parse.quote_plus(base64.b64encode(digest))
    assert secret not in Delivery.objects.get().target
    assert Delivery.objects.get().status == DeliveryStatus.SENT


def test_robot_errcode_is_a_failure_retried_then_given_up(fake, city, liaison_jia, settings):
    settings.NOTIFY_MAX_ATTEMPTS = 3
    fake.answer = {"errcode": 93000, "errmsg": "invalid webhook url"}
    robot(city.street_jia, ChannelKind.WECOM, f"{fake.url}/send?key=x")
    notify(units=[city.street_jia], kind=NotificationKind.CASE, message="问责事项")
    delivery = Delivery.objects.get()
    now = timezone.now()
    assert delivery_send(delivery_id=delivery.pk, now=now) == DeliveryStatus.FAILED
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and "93000" in delivery.last_error
    assert delivery.next_attempt_at == now + backoff(1)
    # Not due yet: nothing is sent.
    assert delivery_send(delivery_id=delivery.pk, now=now + backoff(1) - datetime.timedelta(seconds=5)) == ""
    assert len(fake.received) == 1
    later = now + backoff(1)
    assert delivery_send(delivery_id=delivery.pk, now=later) == DeliveryStatus.FAILED
    delivery.refresh_from_db()
    assert delivery.next_attempt_at == later + backoff(2) and backoff(2) == 2 * backoff(1)
    assert delivery_send(delivery_id=delivery.pk, now=later + backoff(2)) == DeliveryStatus.GIVEN_UP
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, len(fake.received)) == (DeliveryStatus.GIVEN_UP, 3, 3)
    # Given up: never tried again.
    assert delivery_send(delivery_id=delivery.pk, now=later + datetime.timedelta(days=1)) == ""


def test_a_server_slower_than_the_timeout_is_retried_with_backoff_and_given_up(
    fake, city, liaison_jia, settings, django_capture_on_commit_callbacks
):
    settings.NOTIFY_HTTP_TIMEOUT = 0.3
    settings.NOTIFY_MAX_ATTEMPTS = 3
    fake.sleep = 1.0
    robot(city.street_jia, ChannelKind.DINGTALK, f"{fake.url}/robot/send?access_token=t")
    with django_capture_on_commit_callbacks(execute=True):  # the eager task's first attempt: no raise
        notify(units=[city.street_jia], kind=NotificationKind.OVERDUE, message="问题超期")
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 1)
    assert "超时" in delivery.last_error
    assert delivery.next_attempt_at - timezone.now() <= backoff(1)
    # Time passes past the first backoff: the sweeper re-sends it (as the countdown'd task would).
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - datetime.timedelta(minutes=2))
    before = timezone.now()
    assert deliveries_sweep(now=timezone.now()) == {"deliveries_redispatched": 1}
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 2)
    assert delivery.next_attempt_at - before >= backoff(2)  # the wait doubled
    assert delivery_send(delivery_id=delivery.pk, now=delivery.next_attempt_at) == DeliveryStatus.GIVEN_UP
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.GIVEN_UP, 3)
    assert len(fake.received) == 3


def test_each_retry_is_queued_on_celery_with_its_backoff(fake, city, liaison_jia, settings, monkeypatch):
    """Not only recorded: a failed attempt hands the next one to the broker with a countdown of the
    backoff (30 s, then 60 s); the last attempt (放弃) queues nothing."""
    from accountability import tasks

    settings.NOTIFY_MAX_ATTEMPTS = 3
    fake.status = 503
    robot(city.street_jia, ChannelKind.WECOM, f"{fake.url}/send?key=x")
    notify(units=[city.street_jia], kind=NotificationKind.ASSIGNED, message="交办")
    delivery = Delivery.objects.get()
    queued = []
    monkeypatch.setattr(tasks.deliver_notification, "apply_async", lambda **kwargs: queued.append(kwargs))
    now = timezone.now()
    assert delivery_send(delivery_id=delivery.pk, now=now) == DeliveryStatus.FAILED
    assert queued == [{"args": [delivery.pk], "countdown": int(backoff(1).total_seconds())}]
    assert delivery_send(delivery_id=delivery.pk, now=now + backoff(1)) == DeliveryStatus.FAILED
    assert queued[-1] == {"args": [delivery.pk], "countdown": int(backoff(2).total_seconds())}
    assert backoff(2) == 2 * backoff(1) == datetime.timedelta(seconds=2 * settings.NOTIFY_RETRY_BASE_SECONDS)
    assert delivery_send(delivery_id=delivery.pk, now=now + backoff(1) + backoff(2)) == DeliveryStatus.GIVEN_UP
    assert len(queued) == 2


def test_a_5xx_is_recorded_and_retried(fake, city, liaison_jia):
    fake.status = 502
    robot(city.street_jia, ChannelKind.WECOM, f"{fake.url}/send")
    notify(units=[city.street_jia], kind=NotificationKind.ASSIGNED, message="交办")
    delivery = Delivery.objects.get()
    assert delivery_send(delivery_id=delivery.pk) == DeliveryStatus.FAILED
    delivery.refresh_from_db()
    assert delivery.last_error == "服务器返回 HTTP 502。"
    fake.status = 200
    assert delivery_send(delivery_id=delivery.pk, now=delivery.next_attempt_at) == DeliveryStatus.SENT


def test_disabled_robots_and_other_kinds_are_not_pushed(fake, city, liaison_jia):
    robot(city.street_jia, ChannelKind.WECOM, f"{fake.url}/off", enabled=False)
    robot(city.street_jia, ChannelKind.WECOM, f"{fake.url}/cases", kinds=[NotificationKind.CASE])
    notify(units=[city.street_jia], kind=NotificationKind.ASSIGNED, message="交办")
    assert not Delivery.objects.exists()
    assert Notification.objects.filter(user=liaison_jia).count() == 1  # the in-app row regardless


def test_a_robot_disabled_after_queueing_is_given_up_at_once(fake, city, monkeypatch):
    """Retrying cannot help a robot that was disabled (or deleted) meanwhile: 放弃 after one
    attempt, nothing sent, no retry queued."""
    from accountability import tasks

    queued = []
    monkeypatch.setattr(tasks.deliver_notification, "apply_async", lambda **kwargs: queued.append(kwargs))
    channel = robot(city.street_jia, ChannelKind.WECOM, f"{fake.url}/send?key=x")
    notify(units=[city.street_jia], kind=NotificationKind.ASSIGNED, message="交办")
    UnitChannel.objects.filter(pk=channel.pk).update(enabled=False)
    delivery = Delivery.objects.get()
    assert delivery_send(delivery_id=delivery.pk) == DeliveryStatus.GIVEN_UP
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.last_error) == (1, "群机器人已停用。")
    assert fake.received == [] and queued == []


def test_keyed_robot_messages_go_once(fake, city):
    robot(city.street_jia, ChannelKind.WECOM, f"{fake.url}/send")
    for _ in range(2):
        notify(units=[city.street_jia], kind=NotificationKind.CASE, message="问责", key="case:1")
    assert Delivery.objects.count() == 1  # no liaison: the group still hears of it, once


def test_office_test_message(fake, city, office):
    channel = robot(city.street_jia, ChannelKind.WECOM, f"{fake.url}/send", enabled=False)
    delivery = unit_channel_test(user=office, channel=channel)
    assert delivery.status == DeliveryStatus.SENT and "测试消息" in fake.received[0].body["markdown"]["content"]
    fake.answer = {"errcode": 310000, "errmsg": "keywords not in content"}
    delivery = unit_channel_test(user=office, channel=channel)
    assert delivery.status == DeliveryStatus.GIVEN_UP and "310000" in delivery.last_error
    assert Delivery.objects.count() == 2


def test_webhook_urls_must_be_http():
    assert channels.check_webhook_url("ftp://x/y") and channels.check_webhook_url("file:///etc/passwd")
    assert channels.check_webhook_url("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=1") is None
    with pytest.raises(channels.ChannelError):
        channels.post_json("file:///etc/passwd", {})


@pytest.mark.parametrize(
    "url",
    ["http://[::1/robot", "http://127.0.0.1:99999/robot", "https://host/robot send?key=1", "https://例子.cn/robot"],
)
def test_malformed_webhook_urls_are_refused_and_never_raise(url, office, city):
    """Addresses urllib cannot send to: refused with a reason when saved; one stored anyhow (older
    data) fails its test message with a reason instead of a server error."""
    assert channels.check_webhook_url(url)
    assert channels.mask_url("http://[::1/robot?key=SECRET") == "（无效地址）"
    with pytest.raises(ValidationError) as refused:
        unit_channel_create(
            user=office, data={"unit": city.street_jia, "kind": "wecom", "name": "群", "webhook_url": url}
        )
    assert "webhook_url" in refused.value.message_dict and not UnitChannel.objects.exists()
    with pytest.raises(channels.ChannelError):
        channels.post_json(url, {})
    delivery = unit_channel_test(user=office, channel=robot(city.street_jia, ChannelKind.WECOM, url))
    assert delivery.status == DeliveryStatus.GIVEN_UP and delivery.last_error


# --- SMS and e-mail -------------------------------------------------------------------------------


def _phone(user, phone="13800138000"):
    UserProfile.objects.update_or_create(user=user, defaults={"phone": phone})


def test_sms_file_backend_writes_a_line(settings, tmp_path, city, liaison_jia, django_capture_on_commit_callbacks):
    from accountability.notify import preference_update

    path = tmp_path / "sms.jsonl"
    settings.SMS_BACKEND = "accountability.channels.FileSmsBackend"
    settings.SMS_FILE_PATH = str(path)
    _phone(liaison_jia)
    preference_update(user=liaison_jia, email=False, sms=True, kinds=[])
    with django_capture_on_commit_callbacks(execute=True):
        notify(units=[city.street_jia], kind=NotificationKind.ASSIGNED, message="新交办问题 #7")
    [line] = path.read_text(encoding="utf-8").splitlines()
    record = json.loads(line)
    assert record["phone"] == "13800138000" and "新交办问题 #7" in record["text"] and "【交办】" in record["text"]
    delivery = Delivery.objects.get()
    assert (delivery.channel, delivery.status, delivery.target) == ("sms", DeliveryStatus.SENT, "138****8000")


def test_sms_kinds_narrow_the_push(settings, tmp_path, city, liaison_jia):
    from accountability.notify import preference_update

    _phone(liaison_jia)
    preference_update(user=liaison_jia, email=False, sms=True, kinds=[NotificationKind.OVERDUE])
    notify(units=[city.street_jia], kind=NotificationKind.ASSIGNED, message="交办")
    assert not Delivery.objects.exists()
    notify(units=[city.street_jia], kind=NotificationKind.OVERDUE, message="超期")
    assert Delivery.objects.get().kind == NotificationKind.OVERDUE


def test_sms_http_backend_posts_to_the_gateway(fake, settings, city, liaison_jia, django_capture_on_commit_callbacks):
    from accountability.notify import preference_update

    settings.SMS_BACKEND = "accountability.channels.HttpSmsBackend"
    settings.SMS_GATEWAY_URL = f"{fake.url}/sms"
    settings.SMS_GATEWAY_TOKEN = "gateway-token"
    fake.answer = {"code": 0}
    _phone(liaison_jia, "13912345678")
    preference_update(user=liaison_jia, email=False, sms=True, kinds=[])
    with django_capture_on_commit_callbacks(execute=True):
        notify(units=[city.street_jia], kind=NotificationKind.REMINDER, message="问题明天到期")
    [request] = fake.received
    assert request.path == "/sms" and request.headers["authorization"] == "Bearer gateway-token"
    assert request.body["phone"] == "13912345678" and "问题明天到期" in request.body["text"]
    assert Delivery.objects.get().status == DeliveryStatus.SENT
    fake.answer = {"code": 500, "message": "余额不足"}
    with django_capture_on_commit_callbacks(execute=True):
        notify(units=[city.street_jia], kind=NotificationKind.REMINDER, message="再次提醒")
    failed = Delivery.objects.order_by("-pk").first()
    assert failed.status == DeliveryStatus.FAILED and "500" in failed.last_error


def test_email_when_enabled(settings, city, liaison_jia, django_capture_on_commit_callbacks):
    settings.NOTIFY_EMAIL = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    liaison_jia.email = "jia@example.gov.cn"
    liaison_jia.save()
    with django_capture_on_commit_callbacks(execute=True):
        notify(units=[city.street_jia], kind=NotificationKind.ASSIGNED, message="新交办问题 #9")
    [message] = mail.outbox
    assert message.to == ["jia@example.gov.cn"] and "新交办问题 #9" in message.body and "交办" in message.subject
    assert Delivery.objects.get().target == "j***@example.gov.cn"
    # Turned off by the user: the in-app row only.
    from accountability.notify import preference_update

    preference_update(user=liaison_jia, email=False, sms=False, kinds=[])
    notify(units=[city.street_jia], kind=NotificationKind.ASSIGNED, message="又一个")
    assert Delivery.objects.count() == 1 and Notification.objects.filter(user=liaison_jia).count() == 2


def test_sweep_resends_what_the_broker_never_got(fake, city, liaison_jia, monkeypatch):
    """The broker is down when the transition commits: the delivery waits 待发送; the sweep sends it."""
    from accountability import tasks

    robot(city.street_jia, ChannelKind.WECOM, f"{fake.url}/send")

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.deliver_notification, "apply_async", broker_down)
    from accountability.notify import deliveries_dispatch

    notify(units=[city.street_jia], kind=NotificationKind.ASSIGNED, message="交办")
    delivery = Delivery.objects.get()
    assert deliveries_dispatch([delivery.pk]) == 0  # never raises
    assert Delivery.objects.get().status == DeliveryStatus.PENDING
    monkeypatch.undo()
    # Fresh deliveries are left a minute to their own task; then swept.
    assert deliveries_sweep(now=timezone.now()) == {"deliveries_redispatched": 0}
    assert deliveries_sweep(now=timezone.now() + datetime.timedelta(minutes=2)) == {"deliveries_redispatched": 1}
    assert Delivery.objects.get().status == DeliveryStatus.SENT and len(fake.received) == 1
