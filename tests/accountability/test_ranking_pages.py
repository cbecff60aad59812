"""The ranking pages per persona: the week's table, running and publishing (office only), the
unit page drilling down to observations, cases and runs."""

from __future__ import annotations

import pytest

from accountability.choices import CaseRule, CaseStatus, VersionStatus
from accountability.models import AccountabilityCase, RollupVersion
from accountability.rollup import rollup_compute, rollup_publish
from campaign.weeks import week_label
from tests.accountability.rollup_fixtures import WEEK


@pytest.fixture
def published(campaign, week45, office):
    rollup_compute(campaign=campaign, week=WEEK)
    return rollup_publish(campaign=campaign, week=WEEK, user=office)


def test_ranking_page_shows_the_week_with_formula_and_lists(web, leader, published):
    page = web(leader).get("/rankings/", {"population": "district"}).content.decode()
    assert "乙区" in page and "甲区" in page and "红榜" in page and "黑榜" in page
    assert "综合分 = 70 × 得分率 + 30 × 按期整改率" in page
    assert "计算周次" not in page  # no office actions for a leader


def test_empty_states(web, office, leader, campaign):
    assert "还没有计算过周评比" in web(office).get("/rankings/").content.decode()
    assert "还没有发布的周评比" in web(leader).get("/rankings/").content.decode()


def test_office_runs_and_publishes_from_the_page(web, office, campaign, week45):
    client = web(office)
    response = client.post("/rankings/run/", {"campaign": campaign.pk, "week": WEEK}, follow=True)
    assert "计算完成" in response.content.decode()
    assert RollupVersion.objects.get().status == VersionStatus.DRAFT
    assert "草稿 · 第1版" in client.get("/rankings/", {"week": WEEK}).content.decode()
    response = client.post("/rankings/publish/", {"campaign": campaign.pk, "week": WEEK}, follow=True)
    assert "已发布" in response.content.decode()
    assert RollupVersion.objects.get().status == VersionStatus.PUBLISHED


def test_bad_week_on_the_run_form(web, office, campaign):
    response = web(office).post("/rankings/run/", {"campaign": campaign.pk, "week": "47"}, follow=True)
    assert "周次格式应为 2026-W47。" in response.content.decode()
    assert not RollupVersion.objects.exists()


@pytest.mark.parametrize("persona", ["leader", "liaison_jia", "inspector"])
def test_others_cannot_run_or_publish_from_pages(web, request, campaign, week45, persona):
    client = web(request.getfixturevalue(persona))
    rollup_compute(campaign=campaign, week=WEEK)
    assert client.post("/rankings/run/", {"campaign": campaign.pk, "week": WEEK}).status_code == 403
    client.post("/rankings/publish/", {"campaign": campaign.pk, "week": WEEK})
    assert RollupVersion.objects.get().status == VersionStatus.DRAFT and RollupVersion.objects.count() == 1


def test_unit_page_drills_down_to_observations(web, leader, city, published):
    client = web(leader)
    page = client.get(f"/rankings/units/{city.district_jia.pk}/", {"week": WEEK}).content.decode()
    assert "67.50" in page and "按测评标准失分" in page
    campaign = published.campaign_id  # the links name the campaign, so the list reads the same one
    assert (
        f"/inspections/observations/?campaign={campaign}&charged={city.district_jia.pk}&week={WEEK}&failing=true"
        in page
    )
    listing = client.get(
        "/inspections/observations/", {"charged": city.district_jia.pk, "week": WEEK, "failing": "true"}
    ).content.decode()
    assert "共 2 条" in listing


def test_unit_page_is_scoped_for_liaisons(web, liaison_yi, liaison_jia, city, published):
    assert web(liaison_yi).get(f"/rankings/units/{city.street_jia.pk}/").status_code == 404
    assert web(liaison_jia).get(f"/rankings/units/{city.street_jia.pk}/").status_code == 200


def test_cases_pages_and_decision(web, office, leader, liaison_jia, liaison_yi, city, published):
    case = AccountabilityCase.objects.get(unit=city.street_jia, rule=CaseRule.BLACK_LIST)
    assert "甲街道" in web(liaison_jia).get("/rankings/cases/").content.decode()
    assert web(liaison_yi).get(f"/rankings/cases/{case.pk}/").status_code == 404
    assert "记录处理结果" not in web(leader).get(f"/rankings/cases/{case.pk}/").content.decode()
    assert web(leader).post(f"/rankings/cases/{case.pk}/", {"status": "held", "note": "x"}).status_code == 403
    case.refresh_from_db()
    assert case.status == CaseStatus.PENDING
    client = web(office)
    response = client.post(f"/rankings/cases/{case.pk}/", {"status": "interviewed", "note": ""}, follow=True)
    assert "请填写处理情况。" in response.content.decode()
    client.post(f"/rankings/cases/{case.pk}/", {"status": "interviewed", "note": "已约谈"})
    case.refresh_from_db()
    assert case.status == CaseStatus.INTERVIEWED


def test_runs_page(web, office, liaison_jia, campaign, week45):
    web(office).post("/rankings/run/", {"campaign": campaign.pk, "week": WEEK})
    assert WEEK in web(office).get("/rankings/runs/").content.decode()
    assert web(liaison_jia).get("/rankings/runs/").status_code == 403


def test_every_ranking_number_is_the_count_of_the_list_it_opens(api, leader, city, campaign, published):
    """Observations through the charged-unit filter, problems through responsible + counted: the
    list a number links to has exactly that many rows."""
    client = api(leader)
    for row in published.scores.exclude(unit=None).select_related("unit"):
        observations = client.get("/api/v1/observations/", {"week": WEEK, "unit": row.unit_id}).json()
        if row.population != "department":  # a department's own charges only; the API's unit is the subtree
            assert observations["count"] == row.observations, row.unit.name
        for metric in ("problems_opened", "problems_due", "closed_on_time", "overdue_open", "rebounds"):
            listed = client.get(
                "/api/v1/problems/", {"responsible": row.unit_id, "counted": metric, "counted_week": WEEK}
            ).json()["count"]
            assert listed == getattr(row, metric), (row.unit.name, metric)


def test_the_problem_list_says_which_ranking_count_it_is(web, leader, city, published):
    page = (
        web(leader)
        .get(
            "/inspections/problems/",
            {"responsible": city.district_jia.pk, "counted": "overdue_open", "counted_week": WEEK},
        )
        .content.decode()
    )
    assert f"评比口径：甲区 · {week_label(WEEK)} · 周末超期未改" in page and "共 1 条" in page


def test_ranking_and_unit_pages_cost_the_same_queries_with_more_units(web, leader, city, campaign, week45, office):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from campaign import services as campaign_services
    from campaign.choices import UnitKind

    def publish():
        rollup_compute(campaign=campaign, week=WEEK)
        rollup_publish(campaign=campaign, week=WEEK, user=office)

    def count(client, url, params):
        client.get(url, params)  # warm
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, params).status_code == 200
        return len(queries)

    publish()
    client = web(leader)
    pages = [
        ("/rankings/", {"week": WEEK, "population": "community"}),
        (f"/rankings/units/{city.street_yi.pk}/", {"week": WEEK}),
        ("/rankings/cases/", {}),
    ]
    before = [count(client, url, params) for url, params in pages]
    for index in range(60):
        campaign_services.unit_create(
            name=f"新社区{index}", code=f"N{index}", kind=UnitKind.COMMUNITY, parent=city.street_yi
        )
    publish()
    assert [count(client, url, params) for url, params in pages] == before


def test_office_home_names_a_published_week_with_a_new_draft(web, office, campaign, published, market, observe):
    observe(market, ["0.5"])
    rollup_compute(campaign=campaign, week=WEEK)  # a late observation: version 2 as a draft
    page = web(office).get("/").content.decode()
    assert 'data-testid="redrafted"' in page and f"{week_label(WEEK)}的数据有变化" in page


def test_a_long_ranking_finds_a_unit_by_name_or_district(web, leader, city, published):
    client = web(leader)
    page = client.get("/rankings/", {"week": WEEK, "population": "street", "q": "乙"}).content.decode()
    assert "乙街道" in page and "甲街道" not in page
    page = client.get("/rankings/", {"week": WEEK, "population": "street", "district": city.district_jia.pk})
    assert "甲街道" in page.content.decode() and "乙街道" not in page.content.decode()
    page = client.get("/rankings/", {"week": WEEK, "population": "street", "q": "丙"}).content.decode()
    assert "没有符合条件的单位" in page
