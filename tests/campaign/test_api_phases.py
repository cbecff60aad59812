"""`PUT /api/v1/campaigns/{id}/phases/` (issue 13, item 9): the office replaces a campaign's phases
through `campaign_set_phases`; every other persona is refused and nothing changes; validation
errors in Chinese; the phases read back on the campaign."""

from __future__ import annotations

import pytest

from campaign.models import Phase

PHASES = {
    "phases": [
        {"kind": "launch", "start_date": "2026-03-01", "end_date": "2026-04-30", "note": "动员部署"},
        {"kind": "rectify", "start_date": "2026-05-01", "end_date": "2026-12-31"},
        {"kind": "consolidate", "start_date": "2027-01-01", "end_date": "2027-06-30", "note": "查漏补缺"},
    ]
}


def phases_of(campaign) -> list[tuple]:
    return list(
        Phase.objects.filter(campaign=campaign)
        .order_by("start_date")
        .values_list("kind", "start_date", "end_date", "note")
    )


def url(campaign) -> str:
    return f"/api/v1/campaigns/{campaign.pk}/phases/"


def test_the_office_replaces_the_phases_and_reads_them_on_the_campaign(api, office, campaign):
    response = api(office).put(url(campaign), PHASES, format="json")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["id"] == campaign.pk
    assert [(p["kind"], p["kind_display"], p["start_date"], p["end_date"], p["note"]) for p in body["phases"]] == [
        ("launch", "全面启动", "2026-03-01", "2026-04-30", "动员部署"),
        ("rectify", "集中整治", "2026-05-01", "2026-12-31", ""),
        ("consolidate", "巩固提高", "2027-01-01", "2027-06-30", "查漏补缺"),
    ]
    assert [kind for kind, *_ in phases_of(campaign)] == ["launch", "rectify", "consolidate"]
    read = api(office).get(f"/api/v1/campaigns/{campaign.pk}/").json()
    assert read["phases"] == body["phases"]


def test_an_empty_list_clears_the_phases(api, office, campaign):
    response = api(office).put(url(campaign), {"phases": []}, format="json")
    assert response.status_code == 200 and response.json()["phases"] == []
    assert phases_of(campaign) == []


@pytest.mark.parametrize(
    ("phases", "message"),
    [
        (
            [
                {"kind": "launch", "start_date": "2026-03-01", "end_date": "2026-06-30"},
                {"kind": "rectify", "start_date": "2026-06-01", "end_date": "2026-12-31"},
            ],
            "全面启动与集中整治的日期重叠。",
        ),
        (
            [{"kind": "launch", "start_date": "2026-03-01", "end_date": "2026-02-01"}],
            "全面启动的结束日期早于开始日期。",
        ),
        (
            [
                {"kind": "launch", "start_date": "2026-03-01", "end_date": "2026-03-31"},
                {"kind": "launch", "start_date": "2026-05-01", "end_date": "2026-05-31"},
            ],
            "每个阶段只能出现一次。",
        ),
    ],
)
def test_invalid_phases_are_a_chinese_400_and_nothing_changes(api, office, campaign, phases, message):
    before = phases_of(campaign)
    response = api(office).put(url(campaign), {"phases": phases}, format="json")
    assert response.status_code == 400
    assert message in response.json()["fields"]["non_field_errors"]
    assert phases_of(campaign) == before


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (
            {"phases": [{"kind": "summer", "start_date": "2026-03-01", "end_date": "2026-04-01"}]},
            "phases",
            "不是合法选项",
        ),
        ({"phases": [{"kind": "launch", "start_date": "三月", "end_date": "2026-04-01"}]}, "phases", "日期格式错误"),
        ({"phases": [], "color": "red"}, "color", "未知的字段“color”"),
        ({}, "phases", "该字段是必填项"),
    ],
)
def test_malformed_bodies_are_refused_in_chinese(api, office, campaign, body, field, message):
    before = phases_of(campaign)
    response = api(office).put(url(campaign), body, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert message in str(response.json()["fields"][field])
    assert phases_of(campaign) == before


@pytest.mark.parametrize("persona", ["inspector", "leader", "liaison_jia", "liaison_dept"])
def test_other_personas_are_refused_and_nothing_changes(api, campaign, persona, request):
    before = phases_of(campaign)
    response = api(request.getfixturevalue(persona)).put(url(campaign), PHASES, format="json")
    assert response.status_code == 403
    assert set(response.json()) == {"code", "detail"}
    assert phases_of(campaign) == before


def test_anonymous_is_refused_and_nothing_changes(api, campaign, city):
    before = phases_of(campaign)
    response = api().put(url(campaign), PHASES, format="json")
    assert response.status_code in (401, 403)
    assert phases_of(campaign) == before


def test_an_unknown_campaign_is_a_404(api, office, campaign):
    response = api(office).put("/api/v1/campaigns/999999/phases/", PHASES, format="json")
    assert response.status_code == 404


def test_other_methods_are_not_allowed(api, office, campaign):
    assert api(office).get(url(campaign)).status_code == 405
    assert api(office).post(url(campaign), PHASES, format="json").status_code == 405
    assert phases_of(campaign)  # unchanged


def test_an_archived_campaigns_phases_may_be_corrected_as_on_the_page(api, office, campaign):
    campaign.active = False
    campaign.save(update_fields=["active"])
    response = api(office).put(url(campaign), PHASES, format="json")
    assert response.status_code == 200
    assert len(phases_of(campaign)) == 3
