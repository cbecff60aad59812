"""The one notification service: who is told what, in the app and through the push channels.

`notify(...)` (and `notify_many([...])` for a batch) writes the in-app `Notification` rows and the
`Delivery` rows of the pushes in bulk, in a savepoint of the caller's transaction — so a rolled
back workflow notifies nobody, and a failing write is logged and never rolls back or blocks the
caller — and hands the deliveries to Celery after commit (`transaction.on_commit`). Sending is the
`accountability.deliver_notification` task's (`delivery_send`): a timeout, a 5xx or a robot's
errcode ≠ 0 is recorded on the delivery and retried with exponential backoff up to
`NOTIFY_MAX_ATTEMPTS`, then 放弃 (at once when there is nothing to deliver to: a robot disabled or
deleted meanwhile, no address or phone); nothing is raised to a user. Deliveries the broker never got are
re-sent by the jobs' sweeper (`deliveries_sweep`, in `JOB_SWEEPERS`).

Channels: e-mail (when `NOTIFY_EMAIL` is on, the user has an address and has not turned it off),
SMS (when the user turned it on and has a phone), and the group robots (`UnitChannel`) of the
units a notification is about. A user's `NotificationPreference.kinds` and a robot's `kinds`
narrow the kinds pushed (empty: all); the in-app row is always written.

A fixed number of statements per call, whatever the number of recipients: the units' liaisons
(one), the recipients' addresses and preferences (one), the units' robots (one), the keys already
sent (one per table, keyed calls only), and one bulk INSERT per table."""

from __future__ import annotations

import dataclasses
import datetime
import logging
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from campaign.choices import Role
from campaign.models import Membership, Unit
from campaign.selectors import scope_for

from . import channels
from .choices import ChannelKind, DeliveryStatus, NotificationKind
from .models import Delivery, Notification, NotificationPreference, UnitChannel

logger = logging.getLogger(__name__)

RETRYABLE = (DeliveryStatus.PENDING, DeliveryStatus.FAILED)


def _pk(value) -> int | None:
    if value is None:
        return None
    return value if isinstance(value, int) else value.pk


@dataclasses.dataclass
class _Item:
    kind: str
    message: str
    user_ids: set[int]
    unit_ids: list[int]
    problem_id: int | None
    url: str
    key: str | None
    campaign_id: int | None


def notify(
    *,
    users: Iterable | None = None,
    units: Iterable | None = None,
    kind: str,
    message: str,
    problem=None,
    url: str = "",
    key: str | None = None,
    campaign=None,
) -> int:
    """Tell people about something. Stable signature — other apps and helpers call it.

    - `users`: users (instances or ids) to tell; `units`: units (instances or ids) whose active
      liaisons are told, and whose enabled group robots (UnitChannel) get the message. Either or both.
    - `kind`: a `NotificationKind` value (交办, 退回, 通过, 销号, 提醒, 超期, 升级, 问责, 申诉, …).
    - `message`: the text (cut to 300 characters); `problem`: a Problem (or id) the notification
      links to; `url`: a link of its own (else the problem's page).
    - `key`: once-only per user (and per robot): a job run twice notifies once. Without it every
      call notifies.
    - `campaign`: the campaign (or id) the notification belongs to, for the list's campaign scope;
      by default the problem's, else none (shown in every campaign).

    Returns the number of in-app notifications written. Never raises: a failure is logged and
    the caller's work goes on. Call it inside the caller's transaction: the rows commit with it,
    the pushes leave after commit."""
    return notify_many(
        [
            {
                "users": users,
                "units": units,
                "kind": kind,
                "message": message,
                "problem": problem,
                "url": url,
                "key": key,
                "campaign": campaign,
            }
        ]
    )


def notify_many(items: list[dict]) -> int:
    """Several `notify(...)` calls (each a dict of its keyword arguments) in one set of statements."""
    try:
        with transaction.atomic():
            notifications, deliveries = _write([_item(**item) for item in items])
    except Exception:  # a notification must never break the work that caused it
        logger.exception("notify: %d item(s) not written", len(items))
        return 0
    if deliveries:
        ids = [d.pk for d in deliveries]
        transaction.on_commit(lambda: deliveries_dispatch(ids), robust=True)
    return len(notifications)


def _item(*, users=None, units=None, kind, message, problem=None, url="", key=None, campaign=None) -> _Item:
    if kind not in NotificationKind.values:
        raise ValueError(f"unknown notification kind {kind!r}")
    problem_id = _pk(problem)
    campaign_id = _pk(campaign)
    if campaign_id is None and problem is not None and not isinstance(problem, int):
        campaign_id = problem.campaign_id
    return _Item(
        kind=kind,
        message=(message or "").strip()[:300],
        user_ids={_pk(u) for u in users or () if u is not None},
        unit_ids=list(dict.fromkeys(_pk(u) for u in units or () if u is not None)),
        problem_id=problem_id,
        url=(url or "")[:300],
        key=key[:120] if key else None,
        campaign_id=campaign_id,
    )


def _pushed(kinds, kind: str) -> bool:
    return not kinds or kind in kinds


def _write(items: list[_Item]) -> tuple[list[Notification], list[Delivery]]:
    all_units = {unit_id for item in items for unit_id in item.unit_ids}
    liaisons: dict[int, set[int]] = {}
    if all_units:
        for unit_id, user_id in Membership.objects.filter(
            role=Role.LIAISON, unit_id__in=all_units, user__is_active=True
        ).values_list("unit_id", "user_id"):
            liaisons.setdefault(unit_id, set()).add(user_id)
    recipients = {item_id: set(item.user_ids) for item_id, item in enumerate(items)}
    for item_id, item in enumerate(items):
        for unit_id in item.unit_ids:
            recipients[item_id] |= liaisons.get(unit_id, set())
    everyone = set().union(*recipients.values()) if recipients else set()
    facts = {}
    if everyone:
        facts = {
            row["pk"]: row
            for row in get_user_model()
            .objects.filter(pk__in=everyone, is_active=True)
            .values(
                "pk",
                "email",
                "profile__phone",
                "notification_preference__email",
                "notification_preference__sms",
                "notification_preference__kinds",
            )
        }
    robots: dict[int, list[UnitChannel]] = {}
    if all_units:
        for robot in UnitChannel.objects.filter(unit_id__in=all_units, enabled=True).order_by("pk"):
            robots.setdefault(robot.unit_id, []).append(robot)
    keys = {item.key for item in items if item.key}
    sent_keys: set[tuple[int, str]] = set()
    robot_keys: set[tuple[int, str]] = set()
    if keys and everyone:
        sent_keys = set(Notification.objects.filter(key__in=keys, user_id__in=everyone).values_list("user_id", "key"))
    if keys and robots:
        robot_keys = set(
            Delivery.objects.filter(
                key__in=keys, unit_channel_id__in=[r.pk for rs in robots.values() for r in rs]
            ).values_list("unit_channel_id", "key")
        )

    now = timezone.now()
    email_on = getattr(settings, "NOTIFY_EMAIL", False)
    notifications: list[Notification] = []
    pushes: list[tuple[Notification, dict]] = []  # (notification, delivery fields)
    robot_deliveries: list[Delivery] = []
    for item_id, item in enumerate(items):
        title = NotificationKind(item.kind).label
        key = item.key or f"once:{uuid.uuid4().hex}"
        link = _absolute(item.url or (_problem_url(item.problem_id) if item.problem_id else ""))
        for user_id in sorted(recipients[item_id]):
            row = facts.get(user_id)
            if row is None or (user_id, key) in sent_keys:
                continue
            sent_keys.add((user_id, key))
            notification = Notification(
                user_id=user_id,
                problem_id=item.problem_id,
                key=key,
                kind=item.kind,
                message=item.message,
                url=item.url,
                campaign_id=item.campaign_id,
            )
            notifications.append(notification)
            kinds = row["notification_preference__kinds"]
            common = {"user_id": user_id, "kind": item.kind, "title": title, "message": item.message, "url": link}
            wants_email = row["notification_preference__email"] is not False
            if email_on and wants_email and row["email"] and _pushed(kinds, item.kind):
                pushes.append(
                    (notification, dict(channel=ChannelKind.EMAIL, target=channels.mask_email(row["email"]), **common))
                )
            if row["notification_preference__sms"] and row["profile__phone"] and _pushed(kinds, item.kind):
                pushes.append(
                    (
                        notification,
                        dict(channel=ChannelKind.SMS, target=channels.mask_phone(row["profile__phone"]), **common),
                    )
                )
        for unit_id in item.unit_ids:
            for robot in robots.get(unit_id, []):
                if not _pushed(robot.kinds, item.kind) or (item.key and (robot.pk, item.key) in robot_keys):
                    continue
                if item.key:
                    robot_keys.add((robot.pk, item.key))
                robot_deliveries.append(
                    Delivery(
                        unit_channel=robot,
                        channel=robot.kind,
                        kind=item.kind,
                        title=title,
                        message=item.message,
                        url=link,
                        key=item.key or "",
                        target=f"{robot.name}（{channels.mask_url(robot.webhook_url)}）"[:200],
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
    Notification.objects.bulk_create(notifications, batch_size=1000)
    deliveries = [
        Delivery(notification_id=n.pk, next_attempt_at=now, created_at=now, **fields) for n, fields in pushes
    ] + robot_deliveries
    if deliveries:
        Delivery.objects.bulk_create(deliveries, batch_size=1000)
    return notifications, deliveries


def _problem_url(problem_id: int) -> str:
    from django.urls import reverse

    return reverse("problem-detail", args=[problem_id])


def _absolute(path: str) -> str:
    """A link a phone can open from a chat: the site's address (`NOTIFY_SITE_URL`) before a path."""
    base = getattr(settings, "NOTIFY_SITE_URL", "").rstrip("/")
    if not path or path.startswith(("http://", "https://")):
        return path
    return f"{base}{path}" if base else ""


def office_user_ids() -> list[int]:
    """The active office users (one query): the audience of reports awaiting review and requests."""
    return list(
        Membership.objects.filter(role=Role.OFFICE, user__is_active=True)
        .order_by()
        .values_list("user_id", flat=True)
        .distinct()
    )


# --- sending ------------------------------------------------------------------------------------


def backoff(attempts: int) -> datetime.timedelta:
    """The wait after the n-th failed attempt: base × 2^(n−1) seconds (30 s, 1 min, 2 min, …)."""
    base = getattr(settings, "NOTIFY_RETRY_BASE_SECONDS", 30)
    return datetime.timedelta(seconds=base * 2 ** max(attempts - 1, 0))


def deliveries_dispatch(ids: list[int]) -> int:
    """Hand deliveries to the broker; never raises. With eager Celery they are sent here. A broker
    that is down leaves them 待发送 for the sweeper."""
    from .tasks import deliver_notification

    handed = 0
    for pk in ids:
        try:
            deliver_notification.apply_async(args=[pk])
            handed += 1
        except Exception:  # the broker's errors vary by transport; none may fail the caller
            logger.warning("delivery %s not dispatched, left for the sweeper", pk, exc_info=True)
            break
    return handed


def _lease() -> datetime.timedelta:
    """How long a claimed delivery is left to its worker before the sweeper may try it again."""
    return datetime.timedelta(seconds=channels.timeout() * 2 + 60)


def delivery_send(*, delivery_id: int, now: datetime.datetime | None = None) -> str:
    """One attempt at one delivery, if it is due: claimed by one conditional UPDATE (so a delivery
    handed over twice is sent once), sent, and its outcome recorded. Returns the status after
    (or "" when it was not due or not found). Never raises a channel's failure."""
    now = now or timezone.now()
    claimed = Delivery.objects.filter(
        pk=delivery_id, status__in=RETRYABLE, next_attempt_at__lte=now + datetime.timedelta(seconds=1)
    ).update(next_attempt_at=now + _lease())
    if not claimed:
        return ""
    delivery = Delivery.objects.select_related("unit_channel", "user__profile").get(pk=delivery_id)
    attempts = delivery.attempts + 1
    try:
        _send(delivery)
    except Exception as exc:
        error = str(exc) if isinstance(exc, channels.ChannelError) else f"发送出错（{type(exc).__name__}）。"
        final = isinstance(exc, channels.ChannelGone) or attempts >= getattr(settings, "NOTIFY_MAX_ATTEMPTS", 5)
        status = DeliveryStatus.GIVEN_UP if final else DeliveryStatus.FAILED
        Delivery.objects.filter(pk=delivery_id).update(
            status=status,
            attempts=attempts,
            last_error=error[:500],
            next_attempt_at=now if final else now + backoff(attempts),
        )
        if not final:
            _retry_later(delivery_id, backoff(attempts))
        return status
    Delivery.objects.filter(pk=delivery_id).update(
        status=DeliveryStatus.SENT, attempts=attempts, sent_at=timezone.now(), last_error=""
    )
    return DeliveryStatus.SENT


def _retry_later(delivery_id: int, wait: datetime.timedelta) -> None:
    """Queue the next attempt with a countdown. Eager Celery runs it at once, where it is not yet
    due and does nothing: the sweeper sends it when it is."""
    from .tasks import deliver_notification

    try:
        deliver_notification.apply_async(args=[delivery_id], countdown=int(wait.total_seconds()))
    except Exception:
        logger.warning("delivery %s: retry not queued, left for the sweeper", delivery_id, exc_info=True)


def _send(delivery: Delivery) -> None:
    if delivery.channel == ChannelKind.EMAIL:
        channels.send_email(
            address=delivery.user.email if delivery.user else "",
            title=delivery.title,
            text=delivery.message,
            url=delivery.url,
        )
    elif delivery.channel == ChannelKind.SMS:
        profile = getattr(delivery.user, "profile", None) if delivery.user else None
        channels.send_sms(phone=profile.phone if profile else "", text=f"【{delivery.title}】{delivery.message}")
    else:
        robot = delivery.unit_channel
        if robot is None:
            raise channels.ChannelGone("群机器人已删除。")
        if not robot.enabled:
            raise channels.ChannelGone("群机器人已停用。")
        _robot_send(robot, title=delivery.title, text=delivery.message, url=delivery.url)


def _robot_send(robot: UnitChannel, *, title: str, text: str, url: str = "") -> None:
    if robot.kind == ChannelKind.WECOM:
        channels.send_wecom(webhook_url=robot.webhook_url, title=title, text=text, url=url)
    elif robot.kind == ChannelKind.DINGTALK:
        channels.send_dingtalk(webhook_url=robot.webhook_url, secret=robot.secret, title=title, text=text, url=url)
    else:
        raise channels.ChannelError("未知的渠道类型。")


def deliveries_sweep(*, now: datetime.datetime) -> dict:
    """The jobs sweeper's pass (JOB_SWEEPERS): deliveries due for a minute and not sent — the
    broker was down, or a worker died mid-send — are handed over again (a bounded batch)."""
    due = list(
        Delivery.objects.filter(status__in=RETRYABLE, next_attempt_at__lte=now - datetime.timedelta(minutes=1))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:200]
    )
    return {"deliveries_redispatched": deliveries_dispatch(due) if due else 0}


# --- preferences and robots ---------------------------------------------------------------------


def _kinds(values) -> list[str]:
    values = list(dict.fromkeys(values or []))
    unknown = [v for v in values if v not in NotificationKind.values]
    if unknown:
        raise ValidationError({"kinds": f"未知的通知类型：{'、'.join(map(str, unknown))}。"})
    return values


def preference_of(user) -> NotificationPreference:
    """The user's preferences, the defaults (e-mail on, SMS off, every kind) when never saved."""
    return NotificationPreference.objects.filter(user=user).first() or NotificationPreference(user=user)


@transaction.atomic
def preference_update(*, user, email: bool, sms: bool, kinds) -> NotificationPreference:
    """A user saves their own push settings. SMS needs a phone on the user's profile."""
    kinds = _kinds(kinds)
    if sms:
        from campaign.models import UserProfile

        if not UserProfile.objects.filter(user=user).exclude(phone="").exists():
            raise ValidationError({"sms": "您还没有登记手机号，不能开启短信推送；请联系创建办登记。"})
    preference, _ = NotificationPreference.objects.update_or_create(
        user=user, defaults={"email": bool(email), "sms": bool(sms), "kinds": kinds}
    )
    return preference


def _require_office(user) -> None:
    if not scope_for(user).is_office:
        raise PermissionDenied("只有创建办可以管理推送渠道。")


def _clean_channel(data: dict) -> dict:
    errors = {}
    kind = data.get("kind")
    if kind not in (ChannelKind.WECOM, ChannelKind.DINGTALK):
        errors["kind"] = "渠道须为企业微信群机器人或钉钉群机器人。"
    name = (data.get("name") or "").strip()
    if not name:
        errors["name"] = "请填写名称。"
    elif len(name) > 60:
        errors["name"] = "名称不能超过 60 个字。"
    url = (data.get("webhook_url") or "").strip()
    problem = channels.check_webhook_url(url)
    if problem:
        errors["webhook_url"] = problem
    elif len(url) > 500:
        errors["webhook_url"] = "机器人地址不能超过 500 个字符。"
    secret = (data.get("secret") or "").strip()
    if len(secret) > 200:
        errors["secret"] = "加签密钥不能超过 200 个字符。"
    unit = data.get("unit")
    if not isinstance(unit, Unit):
        errors["unit"] = "请选择单位。"
    try:
        kinds = _kinds(data.get("kinds"))
    except ValidationError as exc:
        errors.update(exc.message_dict)
        kinds = []
    if errors:
        raise ValidationError(errors)
    return {
        "unit": unit,
        "kind": kind,
        "name": name,
        "webhook_url": url,
        "secret": secret,
        "kinds": kinds,
        "enabled": bool(data.get("enabled", True)),
    }


@transaction.atomic
def unit_channel_create(*, user, data: dict) -> UnitChannel:
    """The office adds a unit's group robot."""
    _require_office(user)
    return UnitChannel.objects.create(**_clean_channel(data))


@transaction.atomic
def unit_channel_update(*, user, channel: UnitChannel, data: dict) -> UnitChannel:
    """The office edits a robot; fields not given keep their values, an empty secret keeps the
    stored one unless `clear_secret` is set (a secret is never shown back)."""
    _require_office(user)
    merged = {
        field: getattr(channel, field)
        for field in ("unit", "kind", "name", "webhook_url", "secret", "kinds", "enabled")
    }
    merged.update({k: v for k, v in data.items() if k in merged and v is not None})
    if not (data.get("secret") or "").strip() and not data.get("clear_secret"):
        merged["secret"] = channel.secret
    cleaned = _clean_channel(merged)
    for field, value in cleaned.items():
        setattr(channel, field, value)
    channel.save()
    return channel


def unit_channel_test(*, user, channel: UnitChannel) -> Delivery:
    """The office sends a test message through a robot now (enabled or not) and sees the result,
    recorded in the delivery log as one attempt."""
    _require_office(user)
    now = timezone.now()
    delivery = Delivery(
        unit_channel=channel,
        channel=channel.kind,
        kind=NotificationKind.OTHER,
        title="测试消息",
        message=f"这是创城指挥平台发往“{channel.name}”的测试消息，收到即表示推送渠道配置正确。",
        target=f"{channel.name}（{channels.mask_url(channel.webhook_url)}）"[:200],
        attempts=1,
        created_at=now,
        next_attempt_at=now,
    )
    try:
        _robot_send(channel, title=delivery.title, text=delivery.message)
    except channels.ChannelError as exc:
        delivery.status, delivery.last_error = DeliveryStatus.GIVEN_UP, str(exc)[:500]
    else:
        delivery.status, delivery.sent_at = DeliveryStatus.SENT, timezone.now()
    delivery.save()
    return delivery


# --- reads --------------------------------------------------------------------------------------


def notification_list(*, user):
    """The user's notifications of the current campaign and of none, unread first then newest."""
    from campaign.selectors import campaign_current

    campaign = campaign_current()
    scope = Q(campaign__isnull=True)
    if campaign is not None:
        scope |= Q(campaign=campaign)
    return Notification.objects.filter(scope, user=user)


def unread_count(*, user) -> int:
    """The menu badge: one COUNT of the unread rows the list shows (the partial index of unread rows)."""
    return notification_list(user=user).filter(read_at__isnull=True).count()
