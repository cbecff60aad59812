"""The office's API keys (issue 15 item 4): issue (the raw key once, only its hash stored), verify
(active keys only, last use recorded at most once a minute), revoke; the pages and the API."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from inspections.intake_keys import (
    KEY_MARKER,
    PREFIX_LENGTH,
    intake_key_hash,
    intake_key_issue,
    intake_key_revoke,
    intake_key_verify,
)
from inspections.models import IntakeKey


def test_issue_returns_the_raw_key_once_and_stores_only_its_hash(office, campaign):
    key, raw = intake_key_issue(campaign=campaign, name="市民通小程序", user=office)
    assert raw.startswith(KEY_MARKER) and len(raw) >= 40
    key.refresh_from_db()
    assert key.key_hash == intake_key_hash(raw) and len(key.key_hash) == 64
    assert key.prefix == raw[:PREFIX_LENGTH]
    assert key.active and key.created_by == office and key.campaign == campaign and key.last_used_at is None
    # The raw key is stored nowhere: no field of the row holds it.
    assert raw not in repr(list(IntakeKey.objects.values_list()))
    other, raw2 = intake_key_issue(campaign=campaign, name="12345 平台", user=office)
    assert raw2 != raw and other.key_hash != key.key_hash


@pytest.mark.parametrize(
    ("name", "field", "message"),
    [
        ("", "name", "请填写密钥名称"),
        ("   ", "name", "请填写密钥名称"),
        ("名" * 101, "name", "不能超过 100 个字"),
    ],
)
def test_issue_validates_and_writes_nothing(office, campaign, name, field, message):
    with pytest.raises(ValidationError) as caught:
        intake_key_issue(campaign=campaign, name=name, user=office)
    assert message in caught.value.message_dict[field][0]
    assert not IntakeKey.objects.exists()


def test_issue_refuses_a_duplicate_active_name_and_an_archived_campaign(office, campaign):
    intake_key_issue(campaign=campaign, name="市民通", user=office)
    with pytest.raises(ValidationError) as caught:
        intake_key_issue(campaign=campaign, name="市民通", user=office)
    assert "已有名为“市民通”的有效密钥" in caught.value.message_dict["name"][0]
    campaign.active = False
    campaign.save(update_fields=["active"])
    with pytest.raises(ValidationError) as caught:
        intake_key_issue(campaign=campaign, name="另一个", user=office)
    assert "已结束（归档）" in caught.value.message_dict["campaign"][0]
    assert IntakeKey.objects.count() == 1


def test_only_the_office_issues_and_revokes(office, inspector, leader, liaison_jia, campaign):
    key, _raw = intake_key_issue(campaign=campaign, name="市民通", user=office)
    for user in (inspector, leader, liaison_jia):
        with pytest.raises(PermissionDenied):
            intake_key_issue(campaign=campaign, name=f"越权{user.pk}", user=user)
        with pytest.raises(PermissionDenied):
            intake_key_revoke(key=key, user=user)
    assert IntakeKey.objects.count() == 1
    key.refresh_from_db()
    assert key.active


def test_verify_accepts_the_active_key_only(office, campaign):
    key, raw = intake_key_issue(campaign=campaign, name="市民通", user=office)
    assert intake_key_verify(raw) == key
    assert intake_key_verify(f"  {raw} ") == key  # pasted with spaces
    for wrong in (None, "", raw[:-1], raw + "x", raw.upper(), key.prefix, key.key_hash, "x" * 1000, 12345):
        assert intake_key_verify(wrong) is None, wrong
    intake_key_revoke(key=key, user=office)
    assert intake_key_verify(raw) is None
    key.refresh_from_db()
    assert not key.active


def test_revoking_twice_is_refused(office, campaign):
    key, _raw = intake_key_issue(campaign=campaign, name="市民通", user=office)
    intake_key_revoke(key=key, user=office)
    with pytest.raises(ValidationError, match="已停用"):
        intake_key_revoke(key=key, user=office)


def test_last_use_is_written_at_most_once_a_minute(office, campaign, django_assert_num_queries):
    key, raw = intake_key_issue(campaign=campaign, name="市民通", user=office)
    with django_assert_num_queries(2):  # the look-up, the first use
        intake_key_verify(raw)
    key.refresh_from_db()
    first = key.last_used_at
    assert first is not None
    with django_assert_num_queries(1):  # within the minute: the look-up only
        assert intake_key_verify(raw) == key
    key.refresh_from_db()
    assert key.last_used_at == first
    earlier = timezone.now() - datetime.timedelta(minutes=2)
    IntakeKey.objects.filter(pk=key.pk).update(last_used_at=earlier)
    with django_assert_num_queries(2):
        intake_key_verify(raw)
    key.refresh_from_db()
    assert key.last_used_at > earlier


def test_the_raw_key_looks_like_a_token(office, campaign):
    _key, raw = intake_key_issue(campaign=campaign, name="市民通", user=office)
    assert re.fullmatch(r"ck_[A-Za-z0-9_-]{43}", raw)
