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


# --- Pages --------------------------------------------------------------------------------------


def test_the_office_lists_issues_and_revokes_keys_on_pages(web, office, campaign, django_assert_max_num_queries):
    client = web(office)
    empty = client.get("/inspections/intake-keys/")
    assert empty.status_code == 200 and "还没有接口密钥" in empty.content.decode()
    assert client.get("/inspections/intake-keys/new/").status_code == 200
    response = client.post("/inspections/intake-keys/new/", {"name": "市民通小程序"})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    raw = response.context["raw"]
    page = response.content.decode()
    assert raw in page and "只在本页显示这一次" in page
    key = IntakeKey.objects.get()
    assert key.key_hash == intake_key_hash(raw) and key.campaign == campaign
    for i in range(5):
        intake_key_issue(campaign=campaign, name=f"系统{i}", user=office)
    with django_assert_max_num_queries(12):
        listing = client.get("/inspections/intake-keys/")
    text = listing.content.decode()
    assert "市民通小程序" in text and f"{key.prefix}…" in text and raw not in text
    # 停用
    revoked = client.post(f"/inspections/intake-keys/{key.pk}/revoke/", follow=True)
    assert "已停用接口密钥“市民通小程序”" in revoked.content.decode()
    key.refresh_from_db()
    assert not key.active
    again = client.post(f"/inspections/intake-keys/{key.pk}/revoke/", follow=True)
    assert "该接口密钥已停用" in again.content.decode()


def test_the_issue_form_shows_errors_and_writes_nothing(web, office, campaign):
    response = web(office).post("/inspections/intake-keys/new/", {"name": "  "})
    assert response.status_code == 400 and "请填写密钥名称" in response.content.decode()
    assert not IntakeKey.objects.exists()


@pytest.mark.parametrize("persona", ["inspector", "leader", "liaison_jia"])
def test_others_are_refused_the_pages(request, web, office, campaign, persona):
    key, _raw = intake_key_issue(campaign=campaign, name="市民通", user=office)
    client = web(request.getfixturevalue(persona))
    assert client.get("/inspections/intake-keys/").status_code == 403
    assert client.get("/inspections/intake-keys/new/").status_code == 403
    assert client.post("/inspections/intake-keys/new/", {"name": "越权"}).status_code == 403
    assert client.post(f"/inspections/intake-keys/{key.pk}/revoke/").status_code == 403
    assert list(IntakeKey.objects.values_list("name", "active")) == [("市民通", True)]


# --- API ----------------------------------------------------------------------------------------


def test_the_api_issues_lists_and_revokes(api, office, campaign, django_assert_max_num_queries):
    client = api(office)
    response = client.post("/api/v1/intake-keys/", {"name": "区网格化平台"}, format="json")
    assert response.status_code == 201 and response["Cache-Control"] == "no-store"
    raw = response.json()["key"]
    assert raw.startswith(KEY_MARKER) and response.json()["prefix"] == raw[:PREFIX_LENGTH]
    assert intake_key_verify(raw).pk == response.json()["id"]
    for i in range(4):
        intake_key_issue(campaign=campaign, name=f"系统{i}", user=office)
    with django_assert_max_num_queries(6):
        listing = client.get("/api/v1/intake-keys/")
    assert listing.status_code == 200
    results = listing.json()["results"]
    assert len(results) == 5 and all("key" not in row and "key_hash" not in row for row in results)
    assert raw not in listing.content.decode()
    key_id = response.json()["id"]
    revoked = client.post(f"/api/v1/intake-keys/{key_id}/revoke/")
    assert revoked.status_code == 200 and revoked.json()["active"] is False
    again = client.post(f"/api/v1/intake-keys/{key_id}/revoke/")
    assert again.status_code == 400 and "已停用" in again.json()["detail"]
    bad = client.post("/api/v1/intake-keys/", {"name": ""}, format="json")
    assert bad.status_code == 400 and "请填写密钥名称" in bad.json()["detail"]
    assert client.get("/api/v1/intake-keys/?campaign=999999").status_code == 400
    assert client.post("/api/v1/intake-keys/999999/revoke/").status_code == 404


@pytest.mark.parametrize("persona", ["inspector", "leader", "liaison_jia", None])
def test_the_api_is_the_office_s(request, api, office, campaign, persona):
    key, _raw = intake_key_issue(campaign=campaign, name="市民通", user=office)
    client = api(request.getfixturevalue(persona) if persona else None)
    assert client.get("/api/v1/intake-keys/").status_code == 403
    assert client.post("/api/v1/intake-keys/", {"name": "越权"}, format="json").status_code == 403
    assert client.post(f"/api/v1/intake-keys/{key.pk}/revoke/").status_code == 403
    assert list(IntakeKey.objects.values_list("name", "active")) == [("市民通", True)]
