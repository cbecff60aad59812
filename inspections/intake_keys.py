"""The office's API keys for outside systems (Open311 clients, the 12345 platform): issue, verify,
revoke. Only a key's SHA-256 is stored with its first characters (the prefix, shown in lists so the
office can tell keys apart); the raw key is returned once, by `intake_key_issue`, and never again."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from campaign.models import Campaign
from campaign.selectors import scope_for

from .models import IntakeKey

# Every key starts with this marker, so a leaked one is recognisable in logs and code searches.
KEY_MARKER = "ck_"
# How many characters of the raw key are kept (and shown) as its prefix.
PREFIX_LENGTH = 10
# A raw key longer than this is not one of ours: refused before hashing.
KEY_MAX_LENGTH = 100
# `last_used_at` is written at most once per this interval, not on every call.
LAST_USED_EVERY = datetime.timedelta(minutes=1)
NAME_MAX_LENGTH = 100


def intake_key_hash(raw: str) -> str:
    """The SHA-256 (hex) stored for a raw key."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _new_raw_key() -> str:
    return KEY_MARKER + secrets.token_urlsafe(32)


@transaction.atomic
def intake_key_issue(*, campaign: Campaign, name: str, user) -> tuple[IntakeKey, str]:
    """Issue a key for an outside system of the campaign (the office only). Returns the row and the
    raw key, which is shown to the office once and stored nowhere."""
    if not scope_for(user).is_office:
        raise PermissionDenied("只有创建办可以签发接口密钥。")
    name = (name or "").strip()
    errors: dict[str, str] = {}
    if campaign is None:
        errors["campaign"] = "请选择创建活动。"
    elif not campaign.active:
        errors["campaign"] = f"创建活动“{campaign.name}”已结束（归档），不能再签发接口密钥。"
    if not name:
        errors["name"] = "请填写密钥名称（如使用该密钥的系统名称）。"
    elif len(name) > NAME_MAX_LENGTH:
        errors["name"] = f"密钥名称不能超过 {NAME_MAX_LENGTH} 个字。"
    elif campaign is not None and IntakeKey.objects.filter(campaign=campaign, name=name, active=True).exists():
        errors["name"] = f"本创建活动已有名为“{name}”的有效密钥，请换一个名称以便区分。"
    if errors:
        raise ValidationError(errors)
    raw = _new_raw_key()
    key = IntakeKey.objects.create(
        campaign=campaign, name=name, prefix=raw[:PREFIX_LENGTH], key_hash=intake_key_hash(raw), created_by=user
    )
    return key, raw


def intake_key_verify(raw: str | None) -> IntakeKey | None:
    """The active key whose hash matches the raw key, else None. The look-up is by the hash (an
    index on a value the caller cannot steer), never by comparing the raw key character by
    character; `last_used_at` is written at most once a minute, not on every call."""
    if not raw or not isinstance(raw, str) or len(raw) > KEY_MAX_LENGTH:
        return None
    digest = intake_key_hash(raw.strip())
    key = IntakeKey.objects.select_related("campaign").filter(key_hash=digest).first()
    if key is None or not hmac.compare_digest(key.key_hash, digest) or not key.active:
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_EVERY:
        IntakeKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


@transaction.atomic
def intake_key_revoke(*, key: IntakeKey, user) -> IntakeKey:
    """Deactivate a key (the office only): calls with it are refused from then on. The row stays, so
    the reports it brought in still name it."""
    if not scope_for(user).is_office:
        raise PermissionDenied("只有创建办可以停用接口密钥。")
    locked = IntakeKey.objects.select_for_update().get(pk=key.pk)
    if not locked.active:
        raise ValidationError("该接口密钥已停用。")
    locked.active = False
    locked.save(update_fields=["active"])
    return locked


def intake_key_list(*, campaign: Campaign | None) -> QuerySet[IntakeKey]:
    """The campaign's keys (all campaigns' for None), newest first, with who issued them."""
    keys = IntakeKey.objects.select_related("created_by", "campaign")
    if campaign is not None:
        keys = keys.filter(campaign=campaign)
    return keys.order_by("-created_at", "-id")
