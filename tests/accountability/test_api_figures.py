# ruff: noqa: F811 (the dashboard tests' fixtures, imported by name, are parameters here)
"""Read-only figures API (issue 13, item 9): `GET /api/v1/dashboard/` answers what the 领导驾驶舱
shows, through its own selectors and in no more queries than the page; `GET
/api/v1/rankings/units/{id}/trend/` a unit's published weeks as its ranking page shows them.
Persona by persona; strict query parameters; Chinese errors."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accountability.choices import Population, VersionStatus
from accountability.dashboard import forecast
from accountability.ranking_views import _unit_in_scope
from accountability.selectors import unit_trend
from tests.accountability.test_dashboard import (  # noqa: F401 (fixtures)
    _grow,
    approved,
    forecast_world,
    monday,
    observe,
    other_campaign,
    publish,
    ranked,
    score,
    tree,
)

DASHBOARD = "/api/v1/dashboard/"


def trend_url(unit) -> str:
    return f"/api/v1/rankings/units/{unit.pk}/trend/"


# --- The dashboard ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    [("office", 200), ("leader", 200), ("inspector", 403), ("liaison_jia", 403), ("liaison_dept", 403)],
)
def test_the_dashboard_is_for_the_office_and_leaders_as_the_page(api, campaign, persona, status, request):
    response = api(request.getfixturevalue(persona)).get(DASHBOARD)
    assert response.status_code == status
    if status == 403:
        assert response.json() == {"code": "permission_denied", "detail": "领导驾驶舱仅对领导和创建办开放。"}


def test_anonymous_is_refused(api, campaign):
    assert api().get(DASHBOARD).status_code in (401, 403)


def test_an_empty_campaign_answers_every_block_empty(api, campaign, leader):
    body = api(leader).get(DASHBOARD).json()
    assert body["campaign"] == campaign.pk and body["campaign_name"] == campaign.name
    assert (body["week"], body["week_label"], body["trend"], body["districts"], body["boards"]) == (
        None,
        "",
        [],
        [],
        [],
    )
    assert (body["losses"], body["overdue"], body["veto_events"]) == ([], 0, [])
    assert body["forecast"]["total"] is None
    assert body["forecast"]["missing"] == ["网上申报", "实地考察", "问卷调查"]
    assert body["phase"] is None or body["phase"]["kind"] in {"launch", "rectify"}


def test_the_dashboard_answers_what_the_page_shows(web, api, campaign, forecast_world, ranked, leader):
    page = web(leader).get("/dashboard/").context
    body = api(leader).get(DASHBOARD, {"campaign": campaign.pk}).json()

    assert body["days_left"] == page["days_left"]
    assert body["week"] == page["latest"].week == ranked.week
    assert body["week_label"] == page["latest_label"]
    assert body["trend"] == page["trend"]["points"]
    assert [(d["unit_name"], d["rank"], d["rank_change"], d["list"]) for d in body["districts"]] == [
        ("甲区", 1, 1, "red"),
        ("乙区", 2, -1, "black"),
        ("丙区", None, None, None),
    ]
    assert [(d["composite"]) for d in body["districts"]] == [92.5, 80.0, None]
    assert [
        (b["population"], [r["unit_name"] for r in b["red"]], [r["unit_name"] for r in b["black"]])
        for b in body["boards"]
    ] == [
        (Population.DISTRICT, ["甲区"], ["乙区"]),
        (Population.STREET, ["甲街道"], []),
        (Population.DEPARTMENT, [], ["示范市城市管理局"]),
    ]
    assert [(row["indicator"], row["lost"]) for row in body["losses"]] == [
        (row["indicator"], float(row["lost"])) for row in page["losses"]
    ]
    assert body["overdue"] == page["overdue"]
    expected = forecast(campaign=campaign)
    assert body["forecast"]["total"] == pytest.approx(float(expected.total))
    assert [(p["key"], p["note"]) for p in body["forecast"]["parts"]] == [(p.key, p.note) for p in expected.parts]
    assert body["forecast"]["title"] == "by_score"


def test_a_week_reads_the_dashboard_as_of_that_published_week(api, campaign, ranked, leader):
    older = publish(campaign, 2)
    body = api(leader).get(DASHBOARD, {"week": older.week}).json()
    assert body["week"] == older.week
    assert [p["week"] for p in body["trend"]] == [older.week]
    assert body["districts"] == []  # that week has no district rows


@pytest.mark.parametrize(
    ("query", "status", "field", "message"),
    [
        ({"week": "2026-47"}, 400, "week", "周次格式应为 2026-W47。"),
        ({"week": "2026-W60"}, 400, "week", "2026 年没有第 60 周。"),
        ({"campaign": "甲"}, 400, "campaign", "创建活动编号应为数字。"),
        ({"zzz": "1"}, 400, "zzz", "未知的查询参数“zzz”"),
    ],
)
def test_bad_queries_are_chinese_400s(api, campaign, leader, query, status, field, message):
    response = api(leader).get(DASHBOARD, query)
    assert response.status_code == status
    assert message in response.json()["fields"][field][0]


def test_an_unpublished_week_or_unknown_campaign_is_a_404(api, campaign, ranked, leader):
    publish(campaign, 0, status=VersionStatus.DRAFT)
    this_week = ranked.week  # published; the draft's week is not
    draft_week = api(leader).get(DASHBOARD, {"week": "2020-W01"})
    assert draft_week.status_code == 404 and "尚未发布" in draft_week.json()["detail"]
    assert api(leader).get(DASHBOARD, {"week": this_week}).status_code == 200
    assert api(leader).get(DASHBOARD, {"campaign": 999999}).status_code == 404


def test_writes_are_refused_and_change_nothing(api, campaign, ranked, office):
    from accountability.models import RollupVersion

    before = list(RollupVersion.objects.values_list("pk", "status"))
    for method in ("post", "put", "patch", "delete"):
        assert getattr(api(office), method)(DASHBOARD, {}, format="json").status_code == 405
    assert list(RollupVersion.objects.values_list("pk", "status")) == before


def test_the_api_needs_no_more_queries_than_the_page_and_does_not_grow(
    web, api, campaign, city, tree, approved, forecast_world, ranked, observe, office, leader
):
    from django.contrib.auth import get_user_model

    def fresh():  # each request reads its user anew (a token request does)
        return api(get_user_model().objects.get(pk=leader.pk))

    browser = web(leader)
    with CaptureQueriesContext(connection) as page:
        assert browser.get("/dashboard/").status_code == 200
    client = fresh()
    with CaptureQueriesContext(connection) as first:
        assert client.get(DASHBOARD).status_code == 200
    _grow(campaign, city, tree, observe, office, 30)
    for n in range(6, 13):
        score(publish(campaign, n), score_rate=Decimal("0.8"))
    client = fresh()
    with CaptureQueriesContext(connection) as second:
        response = client.get(DASHBOARD)
    assert response.status_code == 200 and response.json()["overdue"] == 30
    # 1 memberships (scope), 2 campaigns, 3 published versions, 4 ranking and 红黑榜 rows, 5 veto
    # events, 6–7 top losses, 8 indicator system, 9 completeness, 10–11 the field part, 12 surveys,
    # 13 phase, 14 citywide trend rows, 15 overdue count: the page's own reads, without its
    # session, user, notifications and banner.
    assert len(first) == len(second) == 15, [q["sql"][:120] for q in second.captured_queries]
    assert len(second) <= len(page)


# --- A unit's trend -----------------------------------------------------------------------------------


def test_a_units_trend_is_its_published_weeks_oldest_first(api, campaign, city, ranked, leader):
    older = publish(campaign, 2)
    score(older, city.district_jia, Population.DISTRICT, composite=Decimal("88.5"), rank=2, board="")
    publish(campaign, 0, status=VersionStatus.DRAFT)  # drafts never count

    body = api(leader).get(trend_url(city.district_jia), {"campaign": campaign.pk}).json()

    assert (body["unit"], body["unit_name"], body["campaign"]) == (city.district_jia.pk, "甲区", campaign.pk)
    assert [(w["week"], w["composite"], w["rank"], w["list"]) for w in body["weeks"]] == [
        (older.week, 88.5, 2, None),
        (ranked.week, 92.5, 1, "red"),
    ]
    assert body["weeks"][1]["week_label"].startswith(f"第{int(ranked.week[-2:])}周（")
    assert body["weeks"][1]["vetoed"] is False
    only_last = api(leader).get(trend_url(city.district_jia), {"weeks": 1}).json()
    assert [w["week"] for w in only_last["weeks"]] == [ranked.week]


def test_the_trend_is_what_the_unit_page_reads(api, campaign, city, ranked, office):
    rows = unit_trend(unit=city.district_jia, campaign=campaign)
    body = api(office).get(trend_url(city.district_jia)).json()
    assert [w["week"] for w in body["weeks"]] == [row.rollup.week for row in rows]
    assert [w["composite"] for w in body["weeks"]] == [float(row.composite) for row in rows]


@pytest.mark.parametrize(
    ("persona", "unit_key", "status"),
    [
        ("office", "district_yi", 200),
        ("leader", "district_yi", 200),
        ("inspector", "district_yi", 200),
        ("liaison_jia", "street_jia", 200),
        ("liaison_jia", "community_jia1", 200),
        ("liaison_jia", "street_yi", 404),
        ("liaison_jia", "district_jia", 404),  # above its street: out of scope, as on the page
        ("liaison_dept", "dept_cg", 200),
        ("liaison_dept", "street_jia", 404),
    ],
)
def test_the_trend_is_scoped_like_the_unit_page(api, campaign, city, ranked, persona, unit_key, status, request):
    user = request.getfixturevalue(persona)
    unit = getattr(city, unit_key)
    response = api(user).get(trend_url(unit))
    assert response.status_code == status
    assert _unit_in_scope(user, unit) == (status == 200)  # the unit page's own rule
    if status == 404:
        assert response.json()["detail"] == "未找到该单位，或您无权查看。"


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"weeks": "0"}, "weeks", "周数应为 1 到 52 之间的整数。"),
        ({"weeks": "53"}, "weeks", "周数应为 1 到 52 之间的整数。"),
        ({"weeks": "十二"}, "weeks", "周数应为 1 到 52 之间的整数。"),
        ({"week": "2026-W47"}, "week", "未知的查询参数“week”"),
    ],
)
def test_trend_queries_are_strict(api, campaign, city, leader, query, field, message):
    response = api(leader).get(trend_url(city.district_jia), query)
    assert response.status_code == 400
    assert message in response.json()["fields"][field][0]


def test_trend_of_an_unknown_unit_or_anonymous(api, campaign, city, leader):
    assert api(leader).get("/api/v1/rankings/units/999999/trend/").status_code == 404
    assert api(leader).get(f"/api/v1/rankings/units/{2**70}/trend/").status_code == 404
    assert api().get(trend_url(city.district_jia)).status_code in (401, 403)


def test_trend_without_published_weeks_is_empty(api, campaign, city, leader):
    publish(campaign, 1, status=VersionStatus.DRAFT)
    assert api(leader).get(trend_url(city.district_jia)).json()["weeks"] == []


def test_trend_writes_are_refused(api, campaign, city, office):
    assert api(office).post(trend_url(city.district_jia), {}, format="json").status_code == 405


def test_the_dashboard_for_a_week_before_the_loss_window(api, campaign, leader):
    """`week` moves the published figures; the losses stay those of the last four weeks."""
    old = publish(campaign, 10)
    body = api(leader).get(DASHBOARD, {"week": old.week}).json()
    assert body["week"] == old.week
    assert body["loss_since"] == (monday(3)).isoformat()
    assert datetime.date.fromisoformat(body["loss_since"]).weekday() == 0
