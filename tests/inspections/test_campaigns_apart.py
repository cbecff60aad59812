"""Campaigns kept apart (issue 11, part 2): a round takes only its own campaign's check items, and
a finished (inactive) campaign refuses new rounds and inspections but stays readable. Every refusal
is Chinese, names the field, and saves nothing."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from campaign import services as campaign_services
from campaign.choices import CampaignLevel
from indicators import services as indicator_services
from inspections import services
from inspections.models import Charge, Inspection, InspectionRound, Observation, Problem
from inspections.services import ObservationInput as Obs
from tests.inspections.test_api_inspections import OBSERVED_AT, body_for


def counts() -> tuple[int, int, int, int]:
    return (Inspection.objects.count(), Observation.objects.count(), Charge.objects.count(), Problem.objects.count())


@pytest.fixture
def hygiene_item(market_type):
    """A check item of another campaign's system (国家卫生城市 复审), at the same point type."""
    other = campaign_services.campaign_create(
        name="国家卫生城市复审",
        level=CampaignLevel.NATIONAL,
        start_date=datetime.date(2026, 3, 1),
        evaluation_date=datetime.date(2027, 6, 30),
    )
    system = indicator_services.indicator_system_create(campaign=other, name="卫生城市标准", kind="national", year=2026)
    indicator = indicator_services.indicator_create(system=system, level=1, code="一", title="市容环境卫生")
    return services.check_item_create(
        point_type=market_type,
        indicator=indicator,
        text="农贸市场无积存垃圾",
        per_occurrence=Decimal("0.5"),
        cap=Decimal(2),
    )


def finish(campaign):
    campaign.active = False
    campaign.save(update_fields=["active"])


def test_a_round_refuses_another_campaigns_check_item_via_the_service(
    inspector, round_, market, ads_item, hygiene_item
):
    before = counts()
    with pytest.raises(ValidationError) as refused:
        services.inspection_submit(
            user=inspector,
            round_=round_,
            point=market,
            observations=[Obs(ads_item.pk, "fail", occurrences=1), Obs(hygiene_item.pk, "fail", occurrences=2)],
            client_uuid=uuid.uuid4(),
            observed_at=OBSERVED_AT,
        )
    assert refused.value.message_dict == {
        "observations": ["第 2 项：检查项“农贸市场无积存垃圾”不属于本轮次所属的创建活动（创建全国文明城市）。"]
    }
    assert counts() == before


def test_a_round_refuses_another_campaigns_check_item_via_the_api(api, inspector, round_, market, hygiene_item):
    before = counts()
    response = api(inspector).post(
        "/api/v1/inspections/",
        body_for(round_, market, [{"check_item": hygiene_item.pk, "result": "fail", "occurrences": 1}]),
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["detail"] == "第 1 项：检查项“农贸市场无积存垃圾”不属于本轮次所属的创建活动（创建全国文明城市）。"
    assert body["fields"] == {"observations": [body["detail"]]}
    assert counts() == before


def test_a_same_campaign_submission_still_works(api, inspector, round_, market, ads_item, hygiene_item):
    response = api(inspector).post(
        "/api/v1/inspections/",
        body_for(round_, market, [{"check_item": ads_item.pk, "result": "fail", "occurrences": 1}]),
        format="json",
    )
    assert response.status_code == 201, response.json()
    inspection = Inspection.objects.get()
    assert list(inspection.observations.values_list("check_item", "campaign")) == [(ads_item.pk, round_.campaign_id)]
    assert Problem.objects.filter(check_item=ads_item, campaign=round_.campaign).count() == 1


def round_args(campaign):
    today = timezone.localdate()
    return {"campaign": campaign, "name": "第48周督查", "kind": "weekly", "start_date": today, "end_date": today}


def test_an_inactive_campaign_refuses_a_new_round_via_the_service(office, campaign):
    finish(campaign)
    with pytest.raises(ValidationError) as refused:
        services.round_create(user=office, **round_args(campaign))
    assert refused.value.message_dict == {
        "campaign": ["创建活动“创建全国文明城市”已结束（归档），不能再安排督查批次；已有批次仍可查看。"]
    }
    assert not InspectionRound.objects.exists()


def test_an_inactive_campaign_refuses_a_new_round_via_the_api(api, office, campaign):
    finish(campaign)
    data = {"campaign": campaign.pk, "name": "第48周督查", "kind": "weekly"}
    data |= {"start_date": "2026-11-23", "end_date": "2026-11-29"}
    response = api(office).post("/api/v1/rounds/", data, format="json")
    assert response.status_code == 400
    assert (
        response.json()["detail"] == "创建活动“创建全国文明城市”已结束（归档），不能再安排督查批次；已有批次仍可查看。"
    )
    assert not InspectionRound.objects.exists()


MESSAGE = "创建活动“创建全国文明城市”已结束（归档），不能再记录督查；已有记录仍可查看。"


def test_an_inactive_campaign_refuses_an_inspection_via_the_service(inspector, round_, market, ads_item):
    finish(round_.campaign)
    before = counts()
    with pytest.raises(ValidationError) as refused:
        services.inspection_submit(
            user=inspector,
            round_=round_,
            point=market,
            observations=[Obs(ads_item.pk, "fail", occurrences=1)],
            client_uuid=uuid.uuid4(),
            observed_at=OBSERVED_AT,
        )
    assert refused.value.message_dict == {"round": [MESSAGE]}
    assert counts() == before


def test_an_inactive_campaign_refuses_an_inspection_via_the_api_and_stays_readable(
    api, inspector, round_, market, ads_item
):
    client = api(inspector)
    recorded = client.post(
        "/api/v1/inspections/", body_for(round_, market, [{"check_item": ads_item.pk, "result": "pass"}]), format="json"
    )
    assert recorded.status_code == 201
    finish(round_.campaign)
    before = counts()
    response = client.post(
        "/api/v1/inspections/",
        body_for(round_, market, [{"check_item": ads_item.pk, "result": "fail", "occurrences": 1}]),
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["detail"] == MESSAGE
    assert response.json()["fields"] == {"round": [MESSAGE]}
    assert counts() == before
    # Reading stays possible: the round and the earlier inspection.
    assert client.get(f"/api/v1/rounds/{round_.pk}/").status_code == 200
    assert client.get(f"/api/v1/inspections/{recorded.json()['id']}/").status_code == 200


# --- A problem the office registers names an item of its own campaign -------------------------------

ITEM_MESSAGE = "测评细则“农贸市场无积存垃圾”不属于创建活动“创建全国文明城市”的测评体系。"


def test_a_registered_problem_refuses_another_campaigns_check_item(office, campaign, market, hygiene_item):
    with pytest.raises(ValidationError) as refused:
        services.problem_create(
            campaign=campaign,
            source="superior",
            unit=None,
            point=market,
            check_item=hygiene_item,
            description="上级通报：市场有积存垃圾",
            created_by=office,
        )
    assert refused.value.message_dict == {"check_item": [ITEM_MESSAGE]}
    assert not Problem.objects.exists()


def test_a_registered_problem_refuses_another_campaigns_check_item_via_the_api(
    api, office, campaign, market, hygiene_item, ads_item
):
    client = api(office)
    body = {"source": "superior", "description": "上级通报", "point": market.pk, "check_item": hygiene_item.pk}
    response = client.post("/api/v1/problems/", body, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == ITEM_MESSAGE
    assert not Problem.objects.exists()
    response = client.post("/api/v1/problems/", body | {"check_item": ads_item.pk}, format="json")
    assert response.status_code == 201, response.content
