"""The map of problems (issue 16 item 4): GET /api/v1/problem-map/ — positions coalesced in SQL (the
problem's own, else its point's), the unlocated counted, scoped like the problem list, every filter,
Chinese 400s, the bound, and a query count that does not grow with the problems."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inspections import services
from inspections.models import PointType, Problem, PublicCategory
from inspections.problem_map import PROBLEM_MAP_LIMIT, STATUS_COLOURS, problem_map_data

URL = "/api/v1/problem-map/"
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


def register(office, campaign, unit, **extra) -> Problem:
    return services.problem_create(
        campaign=campaign,
        source=extra.pop("source", "hotline"),
        unit=unit,
        description=extra.pop("description", "问题"),
        created_by=office,
        **extra,
    )


def set_state(problem, **fields) -> Problem:
    """Test set-up only: put a problem straight into a workflow state (the workflow has its own tests)."""
    Problem.objects.filter(pk=problem.pk).update(**fields)
    problem.refresh_from_db()
    return problem


def rows(response) -> dict[int, list]:
    assert response.status_code == 200, response.content.decode()
    return {row[0]: row for row in response.json()["problems"]}


@pytest.fixture
def world(office, campaign, city, market, market_yi):
    """甲: at the market (the point's position), at the market with its own position, one overdue, one
    closed, one void; 乙: at a point without coordinates (unlocated); one with neither point nor position."""
    today = timezone.localdate()
    at_point = register(office, campaign, city.community_jia1, point=market, description="市场门口垃圾")
    own = register(
        office,
        campaign,
        city.community_jia1,
        point=market,
        latitude=Decimal("31.510000"),
        longitude=Decimal("120.310000"),
        description="市民随手拍的位置",
    )
    overdue = set_state(
        register(office, campaign, city.community_jia1, point=market, description="超期未改"),
        status="rectifying",
        handler=city.street_jia,
        deadline=today - datetime.timedelta(days=2),
    )
    closed = set_state(
        register(office, campaign, city.community_jia1, point=market, description="已销号"),
        status="closed",
        closed_at=timezone.now(),
    )
    void = set_state(register(office, campaign, city.community_jia1, point=market, description="作废"), status="void")
    yi = register(office, campaign, city.street_yi, point=market_yi, description="乙街道问题")
    nowhere = register(office, campaign, city.street_jia, description="没有位置")
    return {
        "at_point": at_point,
        "own": own,
        "overdue": overdue,
        "closed": closed,
        "void": void,
        "yi": yi,
        "nowhere": nowhere,
    }


def test_positions_are_the_problems_own_else_the_points(world, office, api):
    data = api(office).get(URL).json()
    found = {row[0]: row for row in data["problems"]}
    assert data["fields"] == ["id", "lat", "lng", "status", "overdue"]
    assert found[world["at_point"].pk] == [world["at_point"].pk, 31.5, 120.3, "new", 0]
    assert found[world["own"].pk][1:3] == [31.51, 120.31]
    assert found[world["overdue"].pk][3:] == ["rectifying", 1]
    assert found[world["closed"].pk][3:] == ["closed", 0]
    # Void problems are left out; problems with no position anywhere are counted, not listed.
    assert set(found) == {world[k].pk for k in ("at_point", "own", "overdue", "closed")}
    assert (data["count"], data["located"], data["unlocated"], data["truncated"]) == (4, 4, 2, False)
    assert data["limit"] == PROBLEM_MAP_LIMIT
    # Newest first, the statuses' colours defined once.
    assert [row[0] for row in data["problems"]] == sorted(found, reverse=True)
    legend = {s["code"]: s for s in data["statuses"]}
    assert legend["rectifying"] == {"code": "rectifying", "label": "整改中", "colour": STATUS_COLOURS["rectifying"]}
    assert legend["overdue"]["label"] == "超期"


def test_a_liaison_sees_only_its_problems_on_the_map(world, liaison_jia, liaison_yi, leader, inspector, api):
    jia = api(liaison_jia).get(URL).json()
    assert {row[0] for row in jia["problems"]} == {world[k].pk for k in ("at_point", "own", "overdue", "closed")}
    assert jia["unlocated"] == 1  # 甲街道's problem without a position, not 乙's
    yi = api(liaison_yi).get(URL).json()
    assert (yi["problems"], yi["located"], yi["unlocated"]) == ([], 0, 1)
    assert api(leader).get(URL).json()["located"] == 4
    # An inspector reads the problems of its rounds: none were found in a round here.
    assert api(inspector).get(URL).json()["located"] == 0
    assert api().get(URL).status_code == 403


def test_status_and_overdue_filters(world, office, api):
    client = api(office)
    pks = {k: world[k].pk for k in world}
    assert set(rows(client.get(URL, {"status": "open"}))) == {pks["at_point"], pks["own"], pks["overdue"]}
    assert set(rows(client.get(URL, {"status": "closed"}))) == {pks["closed"]}
    assert set(rows(client.get(URL, {"status": "overdue"}))) == {pks["overdue"]}
    assert set(rows(client.get(URL, {"overdue": "1"}))) == {pks["overdue"]}
    assert set(rows(client.get(URL, {"status": "closed", "overdue": "1"}))) == set()
    assert len(rows(client.get(URL, {"overdue": "0"}))) == 4


def test_period_filters(world, office, api):
    client = api(office)
    old = set_state(world["at_point"], found_at=datetime.datetime(2026, 11, 18, 10, 0, tzinfo=SHANGHAI))
    assert set(rows(client.get(URL, {"week": "2026-W47"}))) == {old.pk}
    assert set(rows(client.get(URL, {"since": "2026-11-18", "until": "2026-11-18"}))) == {old.pk}
    assert old.pk not in rows(client.get(URL, {"since": "2026-11-19"}))
    assert set(rows(client.get(URL, {"until": "2026-11-17"}))) == set()


def test_district_category_and_point_type_filters(world, office, api, city, campaign, market_type, ads_item):
    client = api(office)
    assert len(rows(client.get(URL, {"district": city.district_jia.pk}))) == 4
    assert rows(client.get(URL, {"district": city.district_yi.pk})) == {}
    assert client.get(URL, {"district": city.district_yi.pk}).json()["unlocated"] == 1
    assert len(rows(client.get(URL, {"point_type": market_type.pk}))) == 4
    other_type = PointType.objects.exclude(pk=market_type.pk).first()
    assert rows(client.get(URL, {"point_type": other_type.pk})) == {}
    # A public category stands for its check items or point types.
    by_item = PublicCategory.objects.create(campaign=campaign, code="ads", name="公益广告")
    by_item.check_items.set([ads_item])
    tagged = set_state(world["own"], check_item=ads_item)
    assert set(rows(client.get(URL, {"category": by_item.pk}))) == {tagged.pk}
    by_type = PublicCategory.objects.create(campaign=campaign, code="market", name="农贸市场")
    by_type.point_types.set([market_type])
    assert len(rows(client.get(URL, {"category": by_type.pk}))) == 4
    # Another campaign's problems are another map.
    assert client.get(URL, {"campaign": "all"}).json()["campaign"] is None


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"week": "2026-W99"}, "week", "2026 年没有第 99 周。"),
        ({"since": "昨天"}, "since", "开始日期格式应为 2026-11-23。"),
        ({"since": "2026-12-01", "until": "2026-11-01"}, "until", "结束日期不能早于开始日期。"),
        ({"week": "2026-W47", "since": "2026-11-18"}, "week", "周次与起止日期只能选一种。"),
        ({"district": "999999"}, "district", "单位“999999”不存在。"),
        ({"district": "甲区"}, "district", "区域应为单位编号。"),
        ({"category": "999999"}, "category", "问题类别“999999”不存在。"),
        ({"point_type": "999999"}, "point_type", "点位类别“999999”不存在。"),
        ({"status": "lost"}, "status", "状态应为 open（未办结）、closed（已销号）或 overdue（超期）。"),
        ({"overdue": "yes"}, "overdue", "overdue 应为 1 或 0。"),
        ({"campaign": "999999"}, "campaign", "创建活动（campaign）“999999”不存在。"),
        ({"near": "31.5,120.3"}, "near", None),
    ],
)
def test_bad_filters_are_refused_in_chinese(world, office, api, query, field, message):
    response = api(office).get(URL, query)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    if message:
        assert body["fields"][field] == [message]
    else:
        assert "未知的查询参数" in body["fields"][field][0]


def test_a_category_of_another_campaign_is_refused(world, office, api):
    other = services_campaign()
    category = PublicCategory.objects.create(campaign=other, code="x", name="别的活动的类别")
    response = api(office).get(URL, {"category": category.pk})
    assert response.status_code == 400
    assert response.json()["fields"]["category"] == [f"问题类别“{category.pk}”不存在。"]


def services_campaign():
    from campaign import services as campaign_services
    from campaign.choices import CampaignLevel

    return campaign_services.campaign_create(
        name="国家卫生城市复审",
        level=CampaignLevel.NATIONAL,
        start_date=datetime.date(2026, 3, 1),
        evaluation_date=datetime.date(2028, 3, 1),  # later: not the current campaign
    )


def test_beyond_the_bound_the_answer_is_truncated_newest_first(world, office, campaign):
    filters = {"campaign": campaign}
    data = problem_map_data(user=office, filters=filters, limit=2)
    newest = sorted((world[k].pk for k in ("at_point", "own", "overdue", "closed")), reverse=True)[:2]
    assert ([row[0] for row in data["problems"]], data["count"], data["located"]) == (newest, 2, 4)
    assert data["truncated"] is True
    assert problem_map_data(user=office, filters=filters, limit=4)["truncated"] is False


def _many(office, campaign, unit, point, count: int) -> None:
    """Test set-up only: `count` problems at once (their opening has its own tests)."""
    now = timezone.now()
    Problem.objects.bulk_create(
        Problem(
            campaign=campaign,
            source="hotline",
            status=("new", "rectifying", "closed")[i % 3],
            unit=unit,
            point=point if i % 4 else None,
            latitude=None if i % 4 else Decimal("31.4"),
            longitude=None if i % 4 else Decimal("120.2"),
            description=f"批量问题{i}",
            found_at=now - datetime.timedelta(minutes=i),
            created_by=office,
            deadline=timezone.localdate() - datetime.timedelta(days=1) if i % 5 == 0 else None,
        )
        for i in range(count)
    )


@pytest.mark.parametrize("user_name", ["office", "liaison_jia"])
def test_query_count_does_not_grow_with_the_problems(
    request, office, campaign, city, market, api, django_assert_max_num_queries, user_name
):
    user = request.getfixturevalue(user_name)
    client = api(user)
    client.get(URL)  # warm the per-process caches (content types, the campaign list)
    counts = []
    for total in (10, 200):
        Problem.objects.all().delete()
        _many(office, campaign, city.community_jia1, market, total)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL)
        assert response.json()["located"] == total
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    with django_assert_max_num_queries(4):  # every filter at once: still the counts and the rows
        client.get(URL, {"status": "open", "overdue": "1", "district": city.district_jia.pk})


def test_the_points_map_offers_the_problem_layer(web, office, campaign, market):
    PublicCategory.objects.create(campaign=campaign, code="litter", name="乱扔垃圾")
    html = web(office).get("/inspections/points/map/").content.decode()
    assert 'data-testid="problem-layer-form"' in html
    assert 'data-url="/api/v1/problem-map/"' in html
    assert "乱扔垃圾" in html and "只看超期" in html
    assert "vendor/leaflet.markercluster/leaflet.markercluster.js" in html
    assert "vendor/leaflet.heat/leaflet-heat-global.js" in html
    assert "js/problem-map.js" in html
