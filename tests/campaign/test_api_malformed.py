"""Malformed requests the schema fuzzer found answering 500 (issue 12): a JSON list where an
object is expected, and deleting a campaign that data still refers to."""

from __future__ import annotations

import pytest

from campaign.models import Campaign, Unit

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("body", [["name"], [{"name": "x"}], "名称", 5])
@pytest.mark.parametrize("method", ["patch", "put"])
def test_a_unit_body_that_is_not_an_object_is_a_400(api, office, city, method, body):
    response = getattr(api(office), method)(f"/api/v1/units/{city.street_jia.pk}/", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    assert Unit.objects.get(pk=city.street_jia.pk).name == "甲街道"


@pytest.mark.parametrize("body", [["leader_name"], [{"leader_name": "x"}], "x"])
def test_a_liaison_s_contacts_body_that_is_not_an_object_is_a_400(api, liaison_jia, city, body):
    response = api(liaison_jia).patch(f"/api/v1/units/{city.street_jia.pk}/", body, format="json")
    assert response.status_code == 400, response.content


def test_deleting_a_campaign_that_data_refers_to_is_a_409_naming_it(api, office, campaign, city):
    from campaign import services

    services.work_group_create(campaign=campaign, name="宣传组", leaders=[], units=[city.street_jia])
    response = api(office).delete(f"/api/v1/campaigns/{campaign.pk}/")
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["code"] == "protected"
    assert body["detail"] == "该创建活动还有工作组 1 条，不能删除；可改为停用（归档）。"
    assert Campaign.objects.filter(pk=campaign.pk).exists()


def test_an_unused_campaign_is_deleted(api, office, campaign):
    assert api(office).delete(f"/api/v1/campaigns/{campaign.pk}/").status_code == 204
    assert not Campaign.objects.filter(pk=campaign.pk).exists()
