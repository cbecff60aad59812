"""The inspections API's reference data, persona by persona: point types, points (scope, filters,
nearest first), check items, rounds and their draw, and the two imports. Refused writes change
nothing."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from inspections import services
from inspections.models import CheckItem, InspectionRound, Point, PointType
from tests.campaign.xlsx import make_xlsx, upload

PERSONAS = ["office", "inspector", "leader", "liaison_jia", "liaison_yi", "liaison_dept"]


def ids(response):
    assert response.status_code == 200, response.content
    return sorted(row["id"] for row in response.json()["results"])


def fresh(user):
    """The same user without the scope cached on the object, so a request pays for it."""
    return get_user_model().objects.get(pk=user.pk)


def point_snapshot():
    rows = list(
        Point.objects.order_by("pk").values_list(
            "pk",
            "name",
            "point_type_id",
            "address",
            "latitude",
            "longitude",
            "unit_id",
            "sponsor_id",
            "contact_name",
            "contact_phone",
            "key_point",
            "active",
        )
    )
    return rows, sorted(Point.departments.through.objects.values_list("point_id", "unit_id"))


def check_item_snapshot():
    rows = list(
        CheckItem.objects.order_by("pk").values_list(
            "pk",
            "point_type_id",
            "indicator_id",
            "text",
            "counting_rule",
            "per_occurrence",
            "cap",
            "severity",
            "exemption_note",
            "order",
            "active",
        )
    )
    return rows, sorted(CheckItem.departments.through.objects.values_list("checkitem_id", "unit_id"))


def point_type_snapshot():
    rows = list(PointType.objects.order_by("pk").values_list("pk", "name", "order", "national", "active"))
    return rows, sorted(PointType.departments.through.objects.values_list("pointtype_id", "unit_id"))


def round_snapshot():
    rows = list(
        InspectionRound.objects.order_by("pk").values_list(
            "pk", "name", "kind", "start_date", "end_date", "sample_seed", "sample_quota"
        )
    )
    return rows, sorted(InspectionRound.points.through.objects.values_list("inspectionround_id", "point_id"))


@pytest.fixture
def personas(request):
    return {name: request.getfixturevalue(name) for name in PERSONAS}


# --- Point types ------------------------------------------------------------------------------


def test_point_types_are_read_by_everyone(api, personas, market_type, city):
    for name, user in personas.items():
        response = api(user).get(f"/api/v1/point-types/{market_type.pk}/")
        assert response.status_code == 200, name
        assert response.json() == {
            "id": market_type.pk,
            "name": "集贸(农贸)市场",
            "category": "",
            "order": market_type.order,
            "national": True,
            "active": True,
            "departments": [city.dept_cg.pk],
        }
    assert api(personas["leader"]).get("/api/v1/point-types/", {"page_size": 100}).json()["count"] == 26


def test_office_edits_point_types(api, office, market_type, city):
    client = api(office)
    response = client.patch(
        f"/api/v1/point-types/{market_type.pk}/",
        {"order": 1, "departments": [city.dept_cg.pk, city.dept_office.pk]},
        format="json",
    )
    assert response.status_code == 200
    assert sorted(response.json()["departments"]) == sorted([city.dept_cg.pk, city.dept_office.pk])
    created = client.post("/api/v1/point-types/", {"name": "夜市", "order": 30}, format="json")
    assert created.status_code == 201
    assert (created.json()["national"], PointType.objects.get(name="夜市").national) == (False, False)
    duplicate = client.post("/api/v1/point-types/", {"name": "夜市"}, format="json")
    assert (duplicate.status_code, duplicate.json()["detail"]) == (400, "已有同名的点位类别。")
    assert client.delete(f"/api/v1/point-types/{market_type.pk}/").status_code == 405


@pytest.mark.parametrize("persona", ["inspector", "leader", "liaison_jia", "liaison_yi", "liaison_dept"])
def test_only_the_office_writes_point_types(api, request, persona, market_type):
    client = api(request.getfixturevalue(persona))
    before = point_type_snapshot()
    assert client.post("/api/v1/point-types/", {"name": "夜市"}, format="json").status_code == 403
    response = client.patch(f"/api/v1/point-types/{market_type.pk}/", {"active": False}, format="json")
    assert (response.status_code, response.json()["detail"]) == (403, "只有创建办可以修改。")
    assert point_type_snapshot() == before


# --- Points -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "visible"),
    [
        ("office", {"market", "market_yi"}),
        ("inspector", {"market", "market_yi"}),
        ("leader", {"market", "market_yi"}),
        ("liaison_jia", {"market"}),
        ("liaison_yi", {"market_yi"}),
        ("liaison_dept", {"market", "market_yi"}),  # supervised by 市城管局 (the type's department)
    ],
)
def test_points_are_scoped(api, request, persona, visible, market, market_yi):
    points = {"market": market, "market_yi": market_yi}
    client = api(request.getfixturevalue(persona))
    assert ids(client.get("/api/v1/points/")) == sorted(points[name].pk for name in visible)
    for name, point in points.items():
        assert client.get(f"/api/v1/points/{point.pk}/").status_code == (200 if name in visible else 404)


def test_a_liaison_of_another_street_is_refused_the_detail(api, liaison_yi, market):
    response = api(liaison_yi).get(f"/api/v1/points/{market.pk}/")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "未找到该对象，或您无权查看。"}


def test_point_payload(api, office, market, city, market_type):
    response = api(office).get(f"/api/v1/points/{market.pk}/")
    assert response.json() == {
        "id": market.pk,
        "name": "甲一农贸市场",
        "point_type": market_type.pk,
        "point_type_name": "集贸(农贸)市场",
        "address": "",
        "latitude": "31.500000",
        "longitude": "120.300000",
        "unit": city.community_jia1.pk,
        "unit_name": "甲一社区",
        "departments": [city.dept_cg.pk],
        "sponsor": None,
        "contact_name": "",
        "contact_phone": "",
        "key_point": False,
        "active": True,
        "distance_m": None,
    }


def test_point_filters_type_and_unit_subtree(api, office, city, market, market_yi, market_type):
    lane_type = PointType.objects.get(name="背街小巷")
    lane = services.point_create(name="甲二背街", point_type=lane_type, unit=city.community_jia2)
    client = api(office)
    assert ids(client.get("/api/v1/points/", {"type": market_type.pk})) == sorted([market.pk, market_yi.pk])
    assert ids(client.get("/api/v1/points/", {"type": lane_type.pk})) == [lane.pk]
    assert ids(client.get("/api/v1/points/", {"unit": city.district_jia.pk})) == sorted([market.pk, lane.pk])
    assert ids(client.get("/api/v1/points/", {"unit": city.street_jia.pk})) == sorted([market.pk, lane.pk])
    assert ids(client.get("/api/v1/points/", {"unit": city.community_jia2.pk})) == [lane.pk]
    assert ids(client.get("/api/v1/points/", {"unit": city.district_yi.pk})) == [market_yi.pk]
    assert ids(client.get("/api/v1/points/", {"unit": 999999})) == []
    response = client.get("/api/v1/points/", {"unit": "甲区"})
    assert (response.status_code, response.json()["detail"]) == (400, "输入一个数字。")


def test_points_in_a_round(api, inspector, round_, market, market_yi, city, market_type):
    services.point_create(name="不在批次", point_type=market_type, unit=city.community_jia2)
    assert ids(api(inspector).get("/api/v1/points/", {"round": round_.pk})) == sorted([market.pk, market_yi.pk])


def test_points_near_nearest_first_with_distance(api, inspector, city, market_type):
    made = {}
    for name, lat in (("市场0", "31.50"), ("市场1", "31.51"), ("市场2", "31.60")):
        made[name] = services.point_create(
            name=name, point_type=market_type, unit=city.street_jia, latitude=Decimal(lat), longitude=Decimal("120.30")
        )
    services.point_create(name="无坐标", point_type=market_type, unit=city.street_jia)
    response = api(inspector).get("/api/v1/points/", {"near": "31.509,120.30"})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert [(row["name"], row["distance_m"]) for row in body["results"]] == [
        ("市场1", 111),
        ("市场0", 1001),
        ("市场2", 10119),
    ]


def test_points_near_respects_scope(api, liaison_yi, market):
    response = api(liaison_yi).get("/api/v1/points/", {"near": "31.5,120.3"})
    assert (response.status_code, response.json()["count"]) == (200, 0)


@pytest.mark.parametrize(
    ("near", "message"),
    [
        ("31.5", "near 的格式应为“纬度,经度”，例如 31.5,120.3。"),
        ("abc,def", "near 的格式应为“纬度,经度”，例如 31.5,120.3。"),
        ("120.3,31.5", "near 的纬度应在 -90 到 90 之间。"),
        ("31.5,200", "near 的经度应在 -180 到 180 之间。"),
    ],
)
def test_a_malformed_near_is_a_chinese_400(api, inspector, market, near, message):
    response = api(inspector).get("/api/v1/points/", {"near": near})
    assert response.status_code == 400
    assert response.json() == {"code": "invalid", "detail": message, "fields": {"near": [message]}}


def test_office_creates_and_updates_points_through_the_service(api, office, city, market_type):
    client = api(office)
    response = client.post(
        "/api/v1/points/",
        {
            "name": "甲二农贸市场",
            "point_type": market_type.pk,
            "unit": city.community_jia2.pk,
            "latitude": "31.123456789",
            "longitude": "120.1",
            "key_point": True,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    point = Point.objects.get(pk=body["id"])
    # Phones send many decimals: rounded, not refused. Departments default to the type's.
    assert (point.latitude, body["latitude"], body["departments"]) == (
        Decimal("31.123457"),
        "31.123457",
        [city.dept_cg.pk],
    )
    response = client.patch(
        f"/api/v1/points/{point.pk}/", {"contact_name": "李四", "departments": [city.dept_office.pk]}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["departments"] == [city.dept_office.pk]
    point.refresh_from_db()
    assert (point.contact_name, [d.pk for d in point.departments.all()]) == ("李四", [city.dept_office.pk])


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"unit": "dept_cg"}, "unit", "点位的所属单位必须是社区(村)、街道(乡镇)，或没有街道时的区县。"),
        ({"name": "甲一农贸市场"}, "name", "“甲一社区”下已有同名同类点位“甲一农贸市场”。"),
        ({"latitude": "95", "longitude": "120"}, "latitude", "纬度应在 -90 到 90 之间。"),
        ({"latitude": "31.5"}, "latitude", "经度和纬度需同时填写。"),
        ({"point_type": 999999}, "point_type", "点位类别 999999 不存在。"),
    ],
)
def test_bad_points_are_refused_in_chinese(api, office, city, market, market_type, payload, field, message):
    data = {"name": "新点位", "point_type": market_type.pk, "unit": city.community_jia1.pk, **payload}
    if data["unit"] == "dept_cg":  # a department: a point sits in a community, a street or a district
        data["unit"] = city.dept_cg.pk
    before = point_snapshot()
    response = api(office).post("/api/v1/points/", data, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == message
    assert response.json()["fields"][field] == [message]
    assert point_snapshot() == before


@pytest.mark.parametrize("persona", ["inspector", "leader", "liaison_jia", "liaison_yi", "liaison_dept"])
def test_only_the_office_writes_points(api, request, persona, market, city, market_type):
    client = api(request.getfixturevalue(persona))
    before = point_snapshot()
    response = client.post(
        "/api/v1/points/", {"name": "x", "point_type": market_type.pk, "unit": city.community_jia1.pk}, format="json"
    )
    assert (response.status_code, response.json()["detail"]) == (403, "只有创建办可以修改。")
    assert client.patch(f"/api/v1/points/{market.pk}/", {"contact_name": "x"}, format="json").status_code == 403
    assert client.put(f"/api/v1/points/{market.pk}/", {"name": "x"}, format="json").status_code == 403
    assert client.delete(f"/api/v1/points/{market.pk}/").status_code == 403
    assert point_snapshot() == before


def test_points_are_never_deleted_only_deactivated(api, office, market):
    before = point_snapshot()
    assert api(office).delete(f"/api/v1/points/{market.pk}/").status_code == 405
    assert point_snapshot() == before


def test_points_list_query_count_does_not_grow(api, office, city, market_type, django_assert_num_queries):
    for i in range(6):
        services.point_create(
            name=f"市场{i}",
            point_type=market_type,
            unit=city.community_jia1,
            departments=[city.dept_cg, city.dept_office],
        )
    client = api(fresh(office))
    # 1 memberships (scope) + 1 count + 1 page (types, units joined) + 1 departments.
    with django_assert_num_queries(4):
        response = client.get("/api/v1/points/")
    assert response.json()["count"] == 6


def test_points_list_query_count_for_a_liaison(api, liaison_dept, city, market_type, django_assert_num_queries):
    for i in range(4):
        services.point_create(name=f"市场{i}", point_type=market_type, unit=city.community_yi1)
    client = api(fresh(liaison_dept))
    with django_assert_num_queries(4):
        response = client.get("/api/v1/points/")
    assert response.json()["count"] == 4


# --- Check items ------------------------------------------------------------------------------


def test_check_items_filter_by_point_type_and_system(
    api, inspector, ads_item, stall_item, market_type, system, campaign, standard
):
    from indicators import services as indicator_services

    other_system = indicator_services.indicator_system_create(
        campaign=campaign, name="省级体系", kind="national", year=2025
    )
    other = indicator_services.indicator_create(system=other_system, level=1, code="A", title="其他", rebuild=False)
    estate = PointType.objects.get(name="小区")
    estate_item = services.check_item_create(
        point_type=estate, indicator=other, text="楼道整洁", per_occurrence=Decimal(1), cap=Decimal(2)
    )
    client = api(inspector)
    assert ids(client.get("/api/v1/check-items/", {"point_type": market_type.pk})) == sorted(
        [ads_item.pk, stall_item.pk]
    )
    assert ids(client.get("/api/v1/check-items/", {"point_type": estate.pk})) == [estate_item.pk]
    assert ids(client.get("/api/v1/check-items/", {"system": system.pk})) == sorted([ads_item.pk, stall_item.pk])
    assert ids(client.get("/api/v1/check-items/", {"system": other_system.pk})) == [estate_item.pk]
    body = client.get(f"/api/v1/check-items/{ads_item.pk}/").json()
    assert body == {
        "id": ads_item.pk,
        "point_type": market_type.pk,
        "indicator": standard.pk,
        "indicator_code": "Ⅲ-1",
        "text": "核心价值观公益广告不少于2处",
        "counting_rule": "每缺一处扣0.5分",
        "per_occurrence": "0.50",
        "cap": "2.00",
        "severity": "normal",
        "severity_display": "一般",
        "exemption_note": "",
        "departments": [],
        "order": 1,
        "active": True,
        "deadline_days": None,
    }


def test_office_creates_and_updates_check_items(api, office, market_type, standard, city, ads_item):
    client = api(office)
    response = client.post(
        "/api/v1/check-items/",
        {
            "point_type": market_type.pk,
            "indicator": standard.pk,
            "text": "无乱扔垃圾",
            "per_occurrence": "0.2",
            "cap": "1",
            "departments": [city.dept_cg.pk],
            "active": False,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    item = CheckItem.objects.get(text="无乱扔垃圾")
    assert (item.order, item.active, response.json()["departments"]) == (2, False, [city.dept_cg.pk])
    response = client.patch(f"/api/v1/check-items/{item.pk}/", {"cap": "0.6", "active": True}, format="json")
    assert response.status_code == 200
    item.refresh_from_db()
    assert (item.cap, item.active) == (Decimal("0.60"), True)
    response = client.patch(f"/api/v1/check-items/{item.pk}/", {"deadline_days": 3}, format="json")
    assert (response.status_code, response.json()["deadline_days"]) == (200, 3)
    assert (
        client.patch(f"/api/v1/check-items/{item.pk}/", {"deadline_days": None}, format="json").json()["deadline_days"]
        is None
    )


@pytest.mark.parametrize(
    ("method", "payload", "field", "message"),
    [
        ("post", {"per_occurrence": "0", "cap": "1"}, "per_occurrence", "每处扣分必须大于 0。"),
        ("post", {"per_occurrence": "2", "cap": "1"}, "cap", "最高扣分不能小于每处扣分。"),
        ("post", {"text": "核心价值观公益广告不少于2处"}, "text", "该点位类别下已有相同的检查内容。"),
        ("patch", {"cap": "0.1"}, "cap", "最高扣分不能小于每处扣分。"),
        ("patch", {"text": "无占道经营"}, "text", "该点位类别下已有相同的检查内容。"),
        ("patch", {"point_type": "estate"}, "point_type", "测评细则创建后不能修改点位类别，请新建一条。"),
        ("post", {"deadline_days": 0}, "deadline_days", "整改时限应为 1 到 60 之间的整数（工作日）。"),
        ("patch", {"deadline_days": 61}, "deadline_days", "整改时限应为 1 到 60 之间的整数（工作日）。"),
        ("patch", {"deadline_days": "三天"}, "deadline_days", "整改时限应为整数（工作日）。"),
    ],
)
def test_bad_check_items_are_refused_in_chinese(
    api, office, market_type, standard, ads_item, stall_item, method, payload, field, message
):
    if payload.get("point_type") == "estate":
        payload = {"point_type": PointType.objects.get(name="小区").pk}
    before = check_item_snapshot()
    client = api(office)
    if method == "post":
        data = {
            "point_type": market_type.pk,
            "indicator": standard.pk,
            "text": "新细则",
            "per_occurrence": "1",
            "cap": "1",
            **payload,
        }
        response = client.post("/api/v1/check-items/", data, format="json")
    else:
        response = client.patch(f"/api/v1/check-items/{ads_item.pk}/", payload, format="json")
    assert response.status_code == 400
    assert (response.json()["detail"], response.json()["fields"][field]) == (message, [message])
    assert check_item_snapshot() == before


@pytest.mark.parametrize("persona", ["inspector", "leader", "liaison_jia", "liaison_yi", "liaison_dept"])
def test_only_the_office_writes_check_items(api, request, persona, ads_item, market_type, standard):
    client = api(request.getfixturevalue(persona))
    before = check_item_snapshot()
    assert client.get(f"/api/v1/check-items/{ads_item.pk}/").status_code == 200
    response = client.post(
        "/api/v1/check-items/",
        {"point_type": market_type.pk, "indicator": standard.pk, "text": "x", "per_occurrence": "1", "cap": "1"},
        format="json",
    )
    assert response.status_code == 403
    assert client.patch(f"/api/v1/check-items/{ads_item.pk}/", {"cap": "5"}, format="json").status_code == 403
    assert client.delete(f"/api/v1/check-items/{ads_item.pk}/").status_code == 403
    assert check_item_snapshot() == before


# --- Rounds -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "sees"),
    [
        ("office", True),
        ("leader", True),
        ("inspector", True),
        ("liaison_jia", False),
        ("liaison_yi", False),
        ("liaison_dept", False),
    ],
)
def test_rounds_are_scoped(api, request, persona, sees, round_):
    client = api(request.getfixturevalue(persona))
    assert ids(client.get("/api/v1/rounds/")) == ([round_.pk] if sees else [])
    assert client.get(f"/api/v1/rounds/{round_.pk}/").status_code == (200 if sees else 404)


def test_an_inspector_sees_only_the_rounds_they_inspect(api, office, inspector, round_, campaign):
    other = services.round_create(
        user=office,
        campaign=campaign,
        name="暗访",
        kind="unannounced",
        start_date=datetime.date(2026, 11, 1),
        end_date=datetime.date(2026, 11, 2),
    )
    assert ids(api(inspector).get("/api/v1/rounds/")) == [round_.pk]
    assert ids(api(office).get("/api/v1/rounds/")) == sorted([round_.pk, other.pk])


def test_round_payload(api, leader, round_, campaign, inspector, market, market_yi):
    body = api(leader).get(f"/api/v1/rounds/{round_.pk}/").json()
    assert sorted(body.pop("points")) == sorted([market.pk, market_yi.pk])
    assert body == {
        "id": round_.pk,
        "campaign": campaign.pk,
        "name": "第47周督查",
        "kind": "weekly",
        "kind_display": "周评比",
        "start_date": round_.start_date.isoformat(),
        "end_date": round_.end_date.isoformat(),
        "inspectors": [inspector.pk],
        "sample_seed": None,
        "sample_quota": {},
        "point_count": 2,
        "inspection_count": 0,
        "created_at": body["created_at"],
    }


def test_office_creates_a_round(api, office, campaign, inspector, market):
    response = api(office).post(
        "/api/v1/rounds/",
        {
            "campaign": campaign.pk,
            "name": "第48周督查",
            "kind": "weekly",
            "start_date": "2026-11-23",
            "end_date": "2026-11-29",
            "inspectors": [inspector.pk],
            "points": [market.pk],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["point_count"], body["inspectors"], body["points"]) == (1, [inspector.pk], [market.pk])
    assert InspectionRound.objects.get(pk=body["id"]).created_by == office


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"end_date": "2026-11-01"}, "end_date", "结束日期不能早于开始日期。"),
        ({"inspectors": ["leader"]}, "inspectors", "用户 {leader} 不存在或不是督查员。"),
        ({"kind": "casual"}, "kind", "未知的批次类型“casual”。"),
    ],
)
def test_bad_rounds_are_refused_in_chinese(api, office, campaign, leader, payload, field, message):
    data = {
        "campaign": campaign.pk,
        "name": "批次",
        "kind": "weekly",
        "start_date": "2026-11-23",
        "end_date": "2026-11-29",
        **payload,
    }
    if data.get("inspectors") == ["leader"]:
        data["inspectors"] = [leader.pk]
    message = message.replace("{leader}", str(leader.pk))
    response = api(office).post("/api/v1/rounds/", data, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == message
    assert not InspectionRound.objects.exists()


@pytest.mark.parametrize("persona", ["inspector", "leader", "liaison_jia", "liaison_yi", "liaison_dept"])
def test_only_the_office_creates_rounds_and_draws(api, request, persona, round_, campaign, market_type):
    client = api(request.getfixturevalue(persona))
    before = round_snapshot()
    response = client.post(
        "/api/v1/rounds/",
        {"campaign": campaign.pk, "name": "x", "kind": "weekly", "start_date": "2026-11-23", "end_date": "2026-11-29"},
        format="json",
    )
    assert response.status_code == 403
    response = client.post(f"/api/v1/rounds/{round_.pk}/draw/", {"quota": {str(market_type.pk): 1}}, format="json")
    assert (response.status_code, response.json()["detail"]) == (403, "只有创建办可以执行该操作。")
    assert client.patch(f"/api/v1/rounds/{round_.pk}/", {"name": "x"}, format="json").status_code == 403
    assert round_snapshot() == before


def test_office_draws_points_reproducibly(api, office, round_, market, market_yi, market_type, city):
    for i in range(3):
        services.point_create(name=f"甲市场{i}", point_type=market_type, unit=city.community_jia2)
    client = api(office)
    response = client.post(
        f"/api/v1/rounds/{round_.pk}/draw/", {"quota": {str(market_type.pk): 2}, "seed": 47}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    # Two of the four in 甲区, the only one in 乙区.
    assert (body["sample_seed"], body["sample_quota"], body["point_count"]) == (47, {str(market_type.pk): 2}, 3)
    assert market_yi.pk in body["points"]
    again = client.post(
        f"/api/v1/rounds/{round_.pk}/draw/", {"quota": {str(market_type.pk): 2}, "seed": 47}, format="json"
    ).json()
    assert sorted(again["points"]) == sorted(body["points"])
    unseeded = client.post(f"/api/v1/rounds/{round_.pk}/draw/", {"quota": {str(market_type.pk): 1}}, format="json")
    assert unseeded.status_code == 200 and unseeded.json()["sample_seed"] is not None


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"quota": {"999999": 1}}, "点位类别 999999 不存在。"),
        ({"quota": {"abc": 1}}, "“abc”不是点位类别编号。"),
        ({"quota": {}}, "请填写抽样配额 quota。"),
        ({}, "请填写抽样配额 quota。"),
        ({"quota": {"market": 5000}}, "每类点位的抽取数量应在 0 到 1000 之间。"),
        ({"quota": {"market": "many"}}, "抽取数量应为整数。"),
    ],
)
def test_a_bad_draw_is_refused_in_chinese(api, office, round_, market_type, payload, message):
    if "quota" in payload and "market" in payload["quota"]:
        payload = {"quota": {str(market_type.pk): payload["quota"]["market"]}}
    before = round_snapshot()
    response = api(office).post(f"/api/v1/rounds/{round_.pk}/draw/", payload, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == message
    assert round_snapshot() == before


# --- Imports ----------------------------------------------------------------------------------

POINT_HEADER = [
    "名称",
    "类型",
    "地址",
    "经度",
    "纬度",
    "所属社区或街道",
    "主管部门",
    "包保单位",
    "负责人",
    "联系电话",
    "重点点位",
]
CHECK_HEADER = [
    "点位类型",
    "测评标准编码",
    "检查内容",
    "计分规则",
    "每处扣分",
    "最高扣分",
    "严重程度",
    "责任部门",
    "说明",
]


def points_file():
    return upload(
        "points.xlsx",
        make_xlsx(
            [
                POINT_HEADER,
                [
                    "甲一农贸市场",
                    "农贸市场",
                    "湖滨路1号",
                    "120.3",
                    "31.5",
                    "甲一社区",
                    "",
                    "市文明办",
                    "张三",
                    "138",
                    "是",
                ],
                ["乙街道背街", "背街小巷", "", "", "", "乙街道", "市城管局", "", "", "", ""],
            ]
        ),
    )


def check_items_file():
    return upload(
        "items.xlsx",
        make_xlsx(
            [
                CHECK_HEADER,
                ["农贸市场", "Ⅲ-1", "公益广告不少于2处", "每缺一处扣0.5分", "0.5", "2", "一般", "", ""],
                ["农贸市场", "Ⅰ-1/Ⅲ-1", "无占道经营", "", "1", "", "严重", "市城管局", ""],
            ]
        ),
    )


def test_points_import_preview_then_write(api, office, city, market_type):
    client = api(office)
    preview = client.post("/api/v1/points/import/", {"file": points_file(), "dry_run": "1"}, format="multipart")
    assert preview.status_code == 200, preview.content
    assert (preview.json()["detail"], preview.json()["created"]) == ("预览：将新增 2 条，更新 0 条，0 条不变。", 2)
    assert not Point.objects.exists()
    response = client.post("/api/v1/points/import/", {"file": points_file()}, format="multipart")
    assert (response.status_code, response.json()["detail"]) == (200, "已新增 2 条，更新 0 条，0 条不变。")
    assert sorted(Point.objects.values_list("name", flat=True)) == ["乙街道背街", "甲一农贸市场"]


def test_points_import_with_row_errors_writes_nothing(api, office, city, market_type):
    bad = upload("p.xlsx", make_xlsx([POINT_HEADER, ["x", "菜场摊", "", "", "", "甲一社区", "", "", "", "", ""]]))
    response = api(office).post("/api/v1/points/import/", {"file": bad}, format="multipart")
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["errors"][0]["row"], body["errors"][0]["message"]) == (
        "import_invalid",
        2,
        "未知的点位类型“菜场摊”。",
    )
    assert not Point.objects.exists()


def test_check_items_import_preview_then_write(api, office, system, standard, market_type, city):
    client = api(office)
    preview = client.post(
        "/api/v1/check-items/import/",
        {"file": check_items_file(), "system": system.pk, "dry_run": "1"},
        format="multipart",
    )
    assert preview.status_code == 200, preview.content
    assert preview.json()["created"] == 2
    assert not CheckItem.objects.exists()
    response = client.post(
        "/api/v1/check-items/import/", {"file": check_items_file(), "system": system.pk}, format="multipart"
    )
    assert (response.status_code, response.json()["created"]) == (200, 2)
    stall = CheckItem.objects.get(text="无占道经营")
    assert (stall.cap, stall.severity, [d.pk for d in stall.departments.all()]) == (
        Decimal("1.00"),
        "severe",
        [city.dept_cg.pk],
    )


def test_check_items_import_needs_a_system(api, office, system, standard, market_type):
    response = api(office).post("/api/v1/check-items/import/", {"file": check_items_file()}, format="multipart")
    assert (response.status_code, response.json()["detail"]) == (400, "请指定测评体系（system）。")
    response = api(office).post(
        "/api/v1/check-items/import/", {"file": check_items_file(), "system": 999999}, format="multipart"
    )
    assert (response.status_code, response.json()["detail"]) == (400, "测评体系 999999 不存在。")
    assert not CheckItem.objects.exists()


@pytest.mark.parametrize("persona", ["inspector", "leader", "liaison_jia", "liaison_yi", "liaison_dept"])
def test_only_the_office_imports(api, request, persona, system, standard, market_type, city):
    client = api(request.getfixturevalue(persona))
    response = client.post("/api/v1/points/import/", {"file": points_file()}, format="multipart")
    assert (response.status_code, response.json()["detail"]) == (403, "只有创建办可以执行该操作。")
    response = client.post(
        "/api/v1/check-items/import/", {"file": check_items_file(), "system": system.pk}, format="multipart"
    )
    assert response.status_code == 403
    assert not Point.objects.exists()
    assert not CheckItem.objects.exists()


def test_anonymous_is_refused_everything(api, market, round_):
    for path in (
        "/api/v1/points/",
        "/api/v1/point-types/",
        "/api/v1/check-items/",
        "/api/v1/rounds/",
        "/api/v1/inspections/",
        "/api/v1/observations/",
        "/api/v1/problems/",
    ):
        assert api().get(path).status_code in (401, 403), path
