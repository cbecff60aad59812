"""The rankings API per persona: read, run, publish, cases; refused actions change nothing."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accountability.choices import CaseRule, CaseStatus, VersionStatus
from accountability.models import AccountabilityCase, RollupVersion, UnitWeekScore
from accountability.rollup import rollup_compute, rollup_publish
from campaign import services as campaign_services
from campaign.choices import UnitKind
from campaign.models import JobRun
from tests.accountability.rollup_fixtures import WEEK

URL = "/api/v1/rankings/"


def state() -> tuple:
    return (
        list(RollupVersion.objects.order_by("pk").values_list("pk", "status", "number", "rows")),
        UnitWeekScore.objects.count(),
        JobRun.objects.count(),
        list(AccountabilityCase.objects.order_by("pk").values_list("pk", "status", "decision_note")),
    )


@pytest.fixture
def published(campaign, week45, office):
    rollup_compute(campaign=campaign, week=WEEK)
    return rollup_publish(campaign=campaign, week=WEEK, user=office)


def test_ranking_rows_in_the_documented_shape(api, leader, campaign, published):
    response = api(leader).get(URL, {"campaign": campaign.pk, "week": WEEK, "population": "district"})
    assert response.status_code == 200
    body = response.json()
    assert (body["week"], body["version"], body["published"]) == (WEEK, 1, True)
    assert "综合分 = 70 × 得分率 + 30 × 按期整改率" in body["formula"]
    first, second = body["results"]
    assert (first["unit_name"], first["rank"], first["list"], first["composite"]) == ("乙区", 1, "red", 100.0)
    assert (second["unit_name"], second["rank"], second["list"]) == ("甲区", 2, "black")
    assert second["score_rate"] == 0.75 and second["on_time_rate"] == 0.5 and second["overdue_open"] == 1
    assert set(first) >= {
        "unit", "observations", "failing_observations", "deduction_points", "problems_opened",
        "problems_due", "closed_on_time", "rework_count", "rebounds", "rank_change",
    }  # fmt: skip


def test_latest_published_week_is_the_default(api, liaison_yi, campaign, published):
    response = api(liaison_yi).get(URL, {"population": "street"})
    assert response.status_code == 200 and response.json()["week"] == WEEK


def test_drafts_are_the_offices(api, office, leader, liaison_jia, campaign, week45):
    rollup_compute(campaign=campaign, week=WEEK)
    params = {"campaign": campaign.pk, "week": WEEK}
    assert api(office).get(URL, params).json()["published"] is False
    for user in (leader, liaison_jia):
        response = api(user).get(URL, params)
        assert response.status_code == 404 and "尚未发布" in response.json()["detail"]


def test_bad_population_and_anonymous(api, leader, campaign, published):
    response = api(leader).get(URL, {"population": "planet"})
    assert response.status_code == 400 and "类别" in response.json()["detail"]
    assert api().get(URL).status_code in (401, 403)


def test_office_runs_a_week_in_process(api, office, campaign, week45):
    response = api(office).post("/api/v1/rollups/", {"campaign": campaign.pk, "week": WEEK}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "succeeded" and body["result"]["rows"] == 10
    runs = api(office).get("/api/v1/rollups/", {"campaign": campaign.pk}).json()
    assert runs["count"] == 1 and runs["results"][0]["params"]["week"] == WEEK


@pytest.mark.parametrize("persona", ["leader", "inspector", "liaison_jia"])
def test_others_cannot_run_or_publish(api, request, campaign, week45, persona):
    user = request.getfixturevalue(persona)
    rollup_compute(campaign=campaign, week=WEEK)
    before = state()
    assert api(user).post("/api/v1/rollups/", {"campaign": campaign.pk, "week": WEEK}).status_code == 403
    assert api(user).post("/api/v1/rankings/publish/", {"campaign": campaign.pk, "week": WEEK}).status_code == 403
    assert state() == before


def test_run_with_a_bad_week_is_refused_in_chinese(api, office, campaign):
    before = state()
    response = api(office).post("/api/v1/rollups/", {"campaign": campaign.pk, "week": "2026-47"}, format="json")
    assert response.status_code == 400 and response.json()["detail"] == "周次格式应为 2026-W47。"
    response = api(office).post("/api/v1/rollups/", {"campaign": 999, "week": WEEK}, format="json")
    assert response.status_code == 400 and "创建活动不存在" in response.json()["detail"]
    assert state() == before


def test_publish_then_cases(api, office, campaign, week45):
    response = api(office).post("/api/v1/rankings/publish/", {"campaign": campaign.pk, "week": WEEK}, format="json")
    assert response.status_code == 400 and "没有待发布的草稿" in response.json()["detail"]
    rollup_compute(campaign=campaign, week=WEEK)
    response = api(office).post("/api/v1/rankings/publish/", {"campaign": campaign.pk, "week": WEEK}, format="json")
    assert response.status_code == 200
    assert response.json()["versions"] == [{"number": 1, "status": VersionStatus.PUBLISHED}]
    assert response.json()["cases"] >= 2  # 甲区 and 甲街道 on the 黑榜


def test_cases_are_scoped_and_only_the_office_decides(
    api, office, leader, liaison_jia, liaison_yi, city, campaign, published
):
    case = AccountabilityCase.objects.get(unit=city.district_jia, rule=CaseRule.BLACK_LIST)
    street_case = AccountabilityCase.objects.get(unit=city.street_jia, rule=CaseRule.BLACK_LIST)
    assert {c["id"] for c in api(liaison_jia).get("/api/v1/accountability-cases/").json()["results"]} == {
        street_case.pk
    }
    assert api(liaison_yi).get("/api/v1/accountability-cases/").json()["count"] == 0
    assert api(liaison_yi).get(f"/api/v1/accountability-cases/{street_case.pk}/").status_code == 404
    assert api(leader).get("/api/v1/accountability-cases/", {"week": WEEK}).json()["count"] >= 2

    before = state()
    url = f"/api/v1/accountability-cases/{case.pk}/decide/"
    assert api(leader).post(url, {"status": "interviewed", "note": "约谈"}).status_code == 403
    assert api(liaison_jia).post(url, {"status": "interviewed", "note": "约谈"}).status_code == 404
    response = api(office).post(url, {"status": "interviewed", "note": ""}, format="json")
    assert response.status_code == 400 and response.json()["detail"] == "请填写处理情况。"
    assert state() == before
    response = api(office).post(url, {"status": "interviewed", "note": "11月10日约谈"}, format="json")
    assert response.status_code == 200 and response.json()["status_label"] == "已约谈"
    case.refresh_from_db()
    assert case.status == CaseStatus.INTERVIEWED


def test_ranking_query_count_does_not_grow_with_units(api, leader, campaign, city, week45, office):
    rollup_compute(campaign=campaign, week=WEEK)
    rollup_publish(campaign=campaign, week=WEEK, user=office)
    client = api(leader)
    params = {"campaign": campaign.pk, "week": WEEK, "population": "community"}
    client.get(URL, params)  # warm: the user's memberships are read once per client
    with CaptureQueriesContext(connection) as small:
        assert client.get(URL, params).status_code == 200
    for index in range(60):
        campaign_services.unit_create(
            name=f"新社区{index}", code=f"N{index}", kind=UnitKind.COMMUNITY, parent=city.street_yi
        )
    rollup_compute(campaign=campaign, week=WEEK)
    rollup_publish(campaign=campaign, week=WEEK, user=office)
    with CaptureQueriesContext(connection) as large:
        response = client.get(URL, params)
    assert response.json()["count"] == 63
    assert len(large) == len(small), [q["sql"][:150] for q in large.captured_queries]
