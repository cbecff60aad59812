"""Pages of the field-inspection app, persona by persona: who sees what, who is refused (and that a
refused write changes nothing), the recording page's JSON submit, photos served only to those who
may see them, and lists whose query counts do not grow with their rows."""

from __future__ import annotations

import datetime
import io
import json
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test.client import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook
from PIL import Image

from campaign import services as campaign_services
from campaign.choices import Role
from inspections import services
from inspections.importing import POINT_COLUMNS
from inspections.models import Inspection, InspectionRound, Observation, Photo, Point, PointType, Problem
from inspections.navigation import nav_items
from inspections.services import ObservationInput
from inspections.widgets import home_widgets
from tests.conftest import PASSWORD


def jpeg(colour=(200, 60, 60), size=(640, 480)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="JPEG")
    return buffer.getvalue()


def upload_photo(client, data: bytes | None = None, name="现场.jpg"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post("/inspections/photo-upload/", {"file": SimpleUploadedFile(name, data or jpeg(), "image/jpeg")})


@pytest.fixture
def inspector_other(city):
    user = campaign_services.user_create(username="inspector_wu", password=PASSWORD, full_name="吴督查")
    campaign_services.membership_create(user=user, role=Role.INSPECTOR, unit=city.dept_office)
    return user


@pytest.fixture
def open_round(campaign, office, inspector, market, market_yi):
    today = timezone.localdate()
    return services.round_create(
        user=office,
        campaign=campaign,
        name="本周督查",
        kind="routine",
        start_date=today - datetime.timedelta(days=1),
        end_date=today + datetime.timedelta(days=5),
        inspectors=[inspector],
        points=[market, market_yi],
    )


@pytest.fixture
def recorded(inspector, round_, market, ads_item, stall_item):
    """An inspection of 甲一农贸市场 with a photo on the failing item and the problem it opened."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    photo = services.photo_upload(user=inspector, file=SimpleUploadedFile("a.jpg", jpeg()))
    inspection, _ = services.inspection_submit(
        user=inspector,
        round_=round_,
        point=market,
        client_uuid=uuid.uuid4(),
        observations=[
            ObservationInput(ads_item.pk, "fail", 2, "仅1处", photos=[photo.pk]),
            ObservationInput(stall_item.pk, "pass"),
        ],
    )
    problem = Problem.objects.get(observation__inspection=inspection)
    return {"inspection": inspection, "photo": photo, "problem": problem}


def snapshot():
    """Everything a refused write could have touched."""
    return (
        list(Point.objects.order_by("pk").values_list("pk", "name", "address", "unit_id", "active", "key_point")),
        list(InspectionRound.objects.order_by("pk").values_list("pk", "name", "sample_seed", "sample_quota")),
        sorted(InspectionRound.points.through.objects.values_list("inspectionround_id", "point_id")),
        list(Inspection.objects.order_by("pk").values_list("pk", "current")),
        Observation.objects.count(),
        list(Problem.objects.order_by("pk").values_list("pk", "status")),
        Photo.objects.count(),
    )


# --- Who sees which page ------------------------------------------------------------------------

PERSONAS = ["office", "leader", "inspector", "liaison_jia", "liaison_yi"]

# url template → status per persona (office, leader, inspector, liaison_jia, liaison_yi)
PAGES = [
    ("/inspections/points/", (200, 200, 200, 200, 200)),
    ("/inspections/points/map/", (200, 200, 200, 200, 200)),
    ("/inspections/points/{market}/", (200, 200, 200, 200, 404)),
    ("/inspections/points/new/", (200, 403, 403, 403, 403)),
    ("/inspections/points/{market}/edit/", (200, 403, 403, 403, 404)),
    ("/inspections/points/import/", (200, 403, 403, 403, 403)),
    ("/inspections/check-items/", (200, 200, 200, 200, 200)),
    ("/inspections/check-items/import/", (200, 403, 403, 403, 403)),
    ("/inspections/rounds/", (200, 200, 200, 403, 403)),
    ("/inspections/rounds/new/", (200, 403, 403, 403, 403)),
    ("/inspections/rounds/{round}/", (200, 200, 200, 403, 403)),
    ("/inspections/record/", (200, 403, 200, 403, 403)),
    ("/inspections/record/?round={round}&point={market}", (200, 403, 200, 403, 403)),
    ("/inspections/{inspection}/", (200, 200, 200, 200, 404)),
    ("/inspections/{inspection}/correct/", (200, 403, 200, 403, 404)),
    ("/inspections/problems/", (200, 200, 200, 200, 200)),
    ("/inspections/problems/new/", (200, 403, 403, 403, 403)),
    ("/inspections/problems/{problem}/", (200, 200, 200, 200, 404)),
    ("/inspections/photos/{photo}/", (200, 200, 200, 200, 404)),
    ("/inspections/photos/{photo}/thumb/", (200, 200, 200, 200, 404)),
]


@pytest.mark.parametrize(("template", "statuses"), PAGES, ids=[p[0] for p in PAGES])
def test_each_page_renders_for_those_who_may_see_it_and_refuses_the_others(
    web, request, recorded, round_, market, template, statuses
):
    url = template.format(
        market=market.pk,
        round=round_.pk,
        inspection=recorded["inspection"].pk,
        problem=recorded["problem"].pk,
        photo=recorded["photo"].pk,
    )
    for persona, expected in zip(PERSONAS, statuses, strict=True):
        response = web(request.getfixturevalue(persona)).get(url)
        assert response.status_code == expected, f"{persona} {url}"
        if expected in (403, 404) and "photos" not in url:
            html = response.content.decode()
            assert "无权" in html or "权限" in html or "只有" in html or "仅对" in html, html[:500]


def test_anonymous_is_sent_to_login(client, market):
    for url in [
        "/inspections/points/",
        "/inspections/record/",
        f"/inspections/points/{market.pk}/",
        "/inspections/problems/",
        "/inspections/rounds/new/",
    ]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url


def test_an_inspector_not_in_the_round_gets_404_for_it(web, round_, inspector_other):
    assert web(inspector_other).get(f"/inspections/rounds/{round_.pk}/").status_code == 404
    assert web(inspector_other).post(f"/inspections/rounds/{round_.pk}/draw/", {"seed": "1"}).status_code == 404


def test_lists_are_scoped_to_the_liaisons_units(web, recorded, liaison_jia, liaison_yi, market, market_yi):
    names = [p.name for p in web(liaison_yi).get("/inspections/points/").context["object_list"]]
    assert names == ["乙街道农贸市场"]
    assert list(web(liaison_yi).get("/inspections/problems/").context["object_list"]) == []
    problems = web(liaison_jia).get("/inspections/problems/").context["object_list"]
    assert [p.pk for p in problems] == [recorded["problem"].pk]
    html = web(liaison_yi).get("/inspections/points/map/").content.decode()
    assert "甲一农贸市场" not in html


# --- Refused writes change nothing --------------------------------------------------------------


def test_refused_writes_change_nothing(
    web, recorded, round_, market, market_type, city, inspector, leader, liaison_jia, liaison_yi, ads_item, stall_item
):
    before = snapshot()
    point_form = {"name": "新点位", "point_type": market_type.pk, "unit": city.community_jia2.pk, "active": "on"}
    assert web(inspector).post("/inspections/points/new/", point_form).status_code == 403
    assert web(leader).post(f"/inspections/points/{market.pk}/edit/", point_form).status_code == 403
    assert web(liaison_jia).post(f"/inspections/points/{market.pk}/edit/", point_form).status_code == 403
    assert web(liaison_yi).post(f"/inspections/points/{market.pk}/edit/", point_form).status_code == 404
    round_form = {
        "campaign": round_.campaign_id,
        "name": "偷建批次",
        "kind": "routine",
        "start_date": "2026-11-23",
        "end_date": "2026-11-29",
        "mode": "hand",
        "points": [market.pk],
    }
    for user in (inspector, leader, liaison_jia):
        assert web(user).post("/inspections/rounds/new/", round_form).status_code == 403
    draw = {f"quota_{market_type.pk}": "1", "seed": "7"}
    for user in (inspector, leader, liaison_jia, liaison_yi):
        assert web(user).post(f"/inspections/rounds/{round_.pk}/draw/", draw).status_code == 403
    payload = record_payload(round_, market, ads_item, stall_item)
    for user in (leader, liaison_jia):
        response = web(user).post("/inspections/record/", json.dumps(payload), content_type="application/json")
        assert response.status_code == 403
    correction = correction_form(recorded["inspection"], ads_item, stall_item)
    assert web(leader).post(f"/inspections/{recorded['inspection'].pk}/correct/", correction).status_code == 403
    assert web(liaison_jia).post(f"/inspections/{recorded['inspection'].pk}/correct/", correction).status_code == 403
    assert web(liaison_yi).post(f"/inspections/{recorded['inspection'].pk}/correct/", correction).status_code == 404
    response = upload_photo(web(leader))
    assert response.status_code == 403 and "没有上传照片的权限" in response.json()["messages"][0]
    assert snapshot() == before


# --- Points -------------------------------------------------------------------------------------


def test_office_creates_and_edits_a_point(web, office, market_type, city):
    client = web(office)
    response = client.post(
        "/inspections/points/new/",
        {
            "name": "甲二菜场",
            "point_type": market_type.pk,
            "unit": city.community_jia2.pk,
            "address": "甲二路1号",
            "latitude": "31.510000",
            "longitude": "120.310000",
            "active": "on",
        },
    )
    point = Point.objects.get(name="甲二菜场")
    assert response.status_code == 302 and response["Location"] == f"/inspections/points/{point.pk}/"
    assert [d.name for d in point.departments.all()] == ["示范市城市管理局"]  # the type's default
    response = client.post(
        f"/inspections/points/{point.pk}/edit/",
        {
            "name": "甲二菜场",
            "point_type": market_type.pk,
            "unit": city.community_jia2.pk,
            "address": "甲二路2号",
            "latitude": "",
            "longitude": "",
            "key_point": "on",
            "active": "on",
            "departments": [city.dept_office.pk],
        },
    )
    assert response.status_code == 302
    point.refresh_from_db()
    assert (point.address, point.latitude, point.key_point) == ("甲二路2号", None, True)
    assert [d.name for d in point.departments.all()] == ["示范市文明办"]


def test_point_form_errors_are_chinese_and_nothing_is_saved(web, office, market, market_type, city):
    client = web(office)
    response = client.post(
        "/inspections/points/new/",
        {
            "name": "甲一农贸市场",
            "point_type": market_type.pk,
            "unit": city.community_jia1.pk,
            "latitude": "31.5",
            "active": "on",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "经度和纬度需同时填写" in html
    response = client.post(
        "/inspections/points/new/",
        {
            "name": "甲一农贸市场",
            "point_type": market_type.pk,
            "unit": city.dept_cg.pk,
            "active": "on",
        },
    )
    assert response.status_code == 400  # a department is no place for a point (a district is, without a street)
    assert Point.objects.count() == 1


def test_point_page_shows_details_map_history_and_problems(web, office, recorded, market):
    html = web(office).get(f"/inspections/points/{market.pk}/").content.decode()
    assert 'data-testid="point-small-map"' in html and "31.500000" in html
    assert "第47周督查" in html and "扣 1.00 分" in html and "1 项不合格" in html
    assert f"#{recorded['problem'].pk}" in html and "待交办" in html


def test_the_map_draws_points_with_coordinates_and_counts_the_others(web, office, market, market_yi, settings):
    settings.MAP_TILE_URL = ""
    response = web(office).get("/inspections/points/map/")
    data = response.context["map_data"]
    assert [p[1] for p in data["points"]] == ["甲一农贸市场"]
    assert data["tileUrl"] == "" and response.context["without_coordinates"] == 1
    html = response.content.decode()
    assert "point-map-plain" in html and "未配置底图服务" in html and "L.tileLayer" in html
    settings.MAP_TILE_URL = "https://tiles.example.test/{z}/{x}/{y}.png"
    response = web(office).get("/inspections/points/map/")
    assert response.context["map_data"]["tileUrl"] == "https://tiles.example.test/{z}/{x}/{y}.png"
    assert 'class="point-map point-map-plain' not in response.content.decode()


def test_point_export_is_the_import_layout(web, office, market, market_yi):
    response = web(office).get("/inspections/points/?export=xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == [c.header for c in POINT_COLUMNS]
    assert sorted(r[0] for r in rows[1:]) == ["乙街道农贸市场", "甲一农贸市场"]


@pytest.mark.parametrize("url", ["/inspections/problems/", "/inspections/rounds/", "/inspections/check-items/"])
def test_other_lists_export_what_they_show(web, office, recorded, url):
    response = web(office).get(f"{url}?export=xlsx")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert len(rows) == 3 if "check-items" in url else len(rows) == 2
    assert all(cell is not None for cell in rows[0])


def test_a_liaison_is_not_offered_a_round_filter(web, liaison_jia, office):
    assert "round" not in web(liaison_jia).get("/inspections/points/").context["filter"].form.fields
    assert "round" in web(office).get("/inspections/points/").context["filter"].form.fields


def test_a_thousand_points_paginate(web, office, market_type, city):
    Point.objects.bulk_create(
        Point(name=f"点位{i:04d}", point_type=market_type, unit=city.community_jia1) for i in range(1000)
    )
    client = web(office)
    response = client.get("/inspections/points/")
    assert response.status_code == 200
    assert response.context["total"] == 1000 and len(response.context["rows"]) == 50
    assert "第 1 / 20 页" in response.content.decode()
    last = client.get("/inspections/points/?page=20")
    assert last.status_code == 200 and len(last.context["rows"]) == 50
    # Past the end: the last page, not a 404 (issue #10: a deep page never fails).
    past = client.get("/inspections/points/?page=21")
    assert past.status_code == 200 and past.context["page_obj"].number == 20
    filtered = client.get(f"/inspections/points/?q=点位099&unit={city.street_jia.pk}")
    assert filtered.context["total"] == 10


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_list_query_counts_do_not_grow_with_rows(
    web, office, inspector, campaign, market_type, city, standard, ads_item, stall_item, market
):
    client = web(office)
    urls = [
        "/inspections/points/",
        "/inspections/problems/",
        "/inspections/rounds/",
        "/inspections/check-items/",
        "/inspections/points/map/",
    ]

    def grow(n: int, tag: str):
        points = [
            services.point_create(name=f"{tag}{i}", point_type=market_type, unit=city.community_jia2) for i in range(n)
        ]
        today = timezone.localdate()
        round_ = services.round_create(
            user=office,
            campaign=campaign,
            name=f"批次{tag}",
            kind="routine",
            start_date=today,
            end_date=today,
            inspectors=[inspector],
            points=points,
        )
        for point in points:
            services.inspection_submit(
                user=inspector,
                round_=round_,
                point=point,
                client_uuid=uuid.uuid4(),
                observations=[ObservationInput(ads_item.pk, "fail", 1), ObservationInput(stall_item.pk, "severe")],
            )
        services.check_item_create(
            point_type=market_type,
            indicator=standard,
            text=f"细则{tag}",
            per_occurrence=Decimal(1),
            cap=Decimal(1),
            departments=[city.dept_cg],
        )

    grow(2, "少")
    few = {url: _queries(client, url) for url in urls}
    grow(12, "多")
    many = {url: _queries(client, url) for url in urls}
    assert many == few
    assert max(few.values()) <= 20, few


# --- Check items --------------------------------------------------------------------------------


def test_check_item_list_and_import_page(web, office, ads_item, stall_item, system):
    html = web(office).get("/inspections/check-items/").content.decode()
    assert "核心价值观公益广告不少于2处" in html and "每缺一处扣0.5分" in html and "市文明办" in html
    html = web(office).get("/inspections/check-items/import/").content.decode()
    assert "测评体系2026" in html and "测评标准编码" in html


def test_check_item_import_previews_then_imports_into_the_chosen_system(web, office, system, standard, market_type):
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["点位类型", "测评标准编码", "检查内容", "每处扣分", "最高扣分"])
    workbook.active.append(["农贸市场", "Ⅲ-1", "地面干净无积水", "0.5", "2"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = web(office)
    url = f"/inspections/check-items/import/?system={system.pk}"
    preview = client.post(url, {"file": SimpleUploadedFile("细则.xlsx", buffer.getvalue())})
    assert preview.status_code == 200, preview.content.decode()[:2000]
    token = preview.context["token"]
    assert market_type.check_items.count() == 0
    confirmed = client.post(url, {"token": token})
    assert confirmed.status_code == 302 and confirmed["Location"] == "/inspections/check-items/"
    assert list(market_type.check_items.values_list("text", flat=True)) == ["地面干净无积水"]


# --- Rounds -------------------------------------------------------------------------------------


def test_office_creates_a_round_by_hand(web, office, campaign, inspector, market):
    response = web(office).post(
        "/inspections/rounds/new/",
        {
            "campaign": campaign.pk,
            "name": "第48周督查",
            "kind": "weekly",
            "start_date": "2026-11-23",
            "end_date": "2026-11-29",
            "inspectors": [inspector.pk],
            "mode": "hand",
            "points": [market.pk],
        },
    )
    round_ = InspectionRound.objects.get(name="第48周督查")
    assert response.status_code == 302 and response["Location"] == f"/inspections/rounds/{round_.pk}/"
    assert list(round_.points.all()) == [market] and list(round_.inspectors.all()) == [inspector]
    assert round_.sample_seed is None


def test_office_creates_a_round_by_draw_and_the_seed_reproduces_it(web, office, campaign, market_type, city):
    for i in range(6):
        services.point_create(name=f"甲市场{i}", point_type=market_type, unit=city.community_jia1)
        services.point_create(name=f"乙市场{i}", point_type=market_type, unit=city.street_yi)
    client = web(office)
    page = client.get("/inspections/rounds/new/").content.decode()
    assert f'name="quota_{market_type.pk}"' in page and "集贸(农贸)市场" in page
    response = client.post(
        "/inspections/rounds/new/",
        {
            "campaign": campaign.pk,
            "name": "抽查",
            "kind": "unannounced",
            "start_date": "2026-11-23",
            "end_date": "2026-11-29",
            "mode": "draw",
            f"quota_{market_type.pk}": "3",
            "seed": "2026",
        },
    )
    assert response.status_code == 302
    round_ = InspectionRound.objects.get(name="抽查")
    drawn = sorted(round_.points.values_list("pk", flat=True))
    assert len(drawn) == 6 and round_.sample_seed == 2026 and round_.sample_quota == {str(market_type.pk): 3}
    html = client.get(f"/inspections/rounds/{round_.pk}/").content.decode()
    assert "2026" in html and "每区 3 个" in html and html.count('data-testid="round-point"') == 6
    # Another draw, then the recorded seed again: the same points.
    client.post(f"/inspections/rounds/{round_.pk}/draw/", {f"quota_{market_type.pk}": "3", "seed": "99"})
    client.post(f"/inspections/rounds/{round_.pk}/draw/", {f"quota_{market_type.pk}": "3", "seed": "2026"})
    assert sorted(round_.points.values_list("pk", flat=True)) == drawn


def test_a_draw_without_quota_is_refused_in_chinese(web, office, round_, market_type, market):
    before = snapshot()
    response = web(office).post(f"/inspections/rounds/{round_.pk}/draw/", {"seed": "5"})
    assert response.status_code == 400
    assert "请至少为一类点位填写" in response.content.decode()
    response = web(office).post(
        "/inspections/rounds/new/",
        {
            "campaign": round_.campaign_id,
            "name": "x",
            "kind": "weekly",
            "start_date": "2026-11-29",
            "end_date": "2026-11-23",
            "mode": "draw",
        },
    )
    html = response.content.decode()
    assert response.status_code == 400 and "结束日期不能早于开始日期" in html and "请至少为一类点位填写" in html
    assert snapshot() == before


def test_round_page_shows_visited_and_not_visited_points(web, inspector, recorded, round_):
    html = web(inspector).get(f"/inspections/rounds/{round_.pk}/").content.decode()
    assert html.count('data-state="visited"') == 1 and html.count('data-state="pending"') == 1
    assert "1 / 2" in html and "50%" in html
    assert 'data-testid="draw-form"' not in html  # the office draws


# --- Recording ----------------------------------------------------------------------------------


def record_payload(round_, point, ads_item, stall_item, **overrides):
    payload = {
        "client_uuid": str(uuid.uuid4()),
        "round": round_.pk,
        "point": point.pk,
        "started_at": timezone.now().isoformat(),
        "latitude": 31.5003,
        "longitude": 120.3001,
        "note": "",
        "observations": [
            {"check_item": ads_item.pk, "result": "fail", "occurrences": 3, "note": "只有1处", "photos": []},
            {"check_item": stall_item.pk, "result": "severe", "occurrences": 1, "note": "", "photos": []},
        ],
    }
    payload.update(overrides)
    return payload


def post_json(client, payload):
    return client.post("/inspections/record/", json.dumps(payload), content_type="application/json")


def test_record_page_lists_open_rounds_points_and_check_items(
    web, office, inspector, open_round, campaign, market, ads_item, stall_item
):
    today = timezone.localdate()
    past = services.round_create(
        user=office,
        campaign=campaign,
        name="上月督查",
        kind="routine",
        start_date=today - datetime.timedelta(days=40),
        end_date=today - datetime.timedelta(days=34),
        inspectors=[inspector],
        points=[market],
    )
    response = web(inspector).get("/inspections/record/")
    data = response.context["record_data"]
    assert [r["name"] for r in data["rounds"]] == ["本周督查"]  # 上月督查 is over
    assert sorted(p["name"] for p in data["points"].values()) == ["乙街道农贸市场", "甲一农贸市场"]
    assert data["points"][market.pk]["lat"] == 31.5
    assert data["items"][str(market.point_type_id)] == [ads_item.pk, stall_item.pk]
    html = response.content.decode()
    assert 'capture="environment"' in html and "严重不合格" in html and "核心价值观公益广告不少于2处" in html
    # A round asked for by id is offered even when its dates are over.
    data = web(inspector).get(f"/inspections/record/?round={past.pk}&point={market.pk}").context["record_data"]
    assert data["rounds"][0]["id"] == past.pk and data["initial"] == {"round": past.pk, "point": market.pk}


def test_recording_computes_deductions_opens_problems_and_a_retry_never_duplicates(
    web, inspector, open_round, market, ads_item, stall_item
):
    client = web(inspector)
    photo = upload_photo(client).json()
    assert photo["thumb_url"] == f"/inspections/photos/{photo['id']}/thumb/"
    payload = record_payload(open_round, market, ads_item, stall_item)
    payload["observations"][0]["photos"] = [photo["id"]]
    response = post_json(client, payload)
    assert response.status_code == 201, response.content.decode()
    body = response.json()
    assert body["created"] and body["total_deduction"] == "2.50"
    assert [(o["result_label"], o["deduction"]) for o in body["observations"]] == [
        ("不合格", "1.50"),
        ("严重不合格", "1.00"),
    ]
    assert len(body["problems"]) == 2
    inspection = Inspection.objects.get()
    assert (inspection.latitude, inspection.longitude) == (Decimal("31.500300"), Decimal("120.300100"))
    assert inspection.distance_m == 35 and inspection.started_at is not None
    ads = inspection.observations.get(check_item=ads_item)
    assert (ads.occurrences, ads.note, list(ads.photos.values_list("pk", flat=True))) == (3, "只有1处", [photo["id"]])
    assert Problem.objects.get(observation=ads).photos.get().pk == photo["id"]
    before = snapshot()
    again = post_json(client, payload)
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["inspection"]["id"] == inspection.pk
    assert snapshot() == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p, items: p["observations"].pop(), "还有 1 项检查未评定：无占道经营"),
        (lambda p, items: p.update(round=None), "请选择督查批次"),
        (lambda p, items: p["observations"][0].update(result="maybe"), "结果只能是合格、不合格或严重不合格"),
        (lambda p, items: p["observations"][0].update(occurrences="很多"), "格式不正确"),
        (lambda p, items: p["observations"][0].update(photos=[987654]), "照片 987654 不存在"),
        (lambda p, items: p.update(latitude=123.0), "定位数据无效"),
        (lambda p, items: p.update(client_uuid="x"), "草稿编号无效"),
    ],
)
def test_bad_submissions_are_refused_with_chinese_errors_and_nothing_saved(
    web, inspector, open_round, market, ads_item, stall_item, change, message
):
    payload = record_payload(open_round, market, ads_item, stall_item)
    change(payload, (ads_item, stall_item))
    before = snapshot()
    response = post_json(web(inspector), payload)
    assert response.status_code == 400
    assert any(message in m for m in response.json()["messages"]), response.json()
    assert snapshot() == before


def test_a_point_outside_the_round_and_a_stranger_round_are_refused(
    web, inspector, inspector_other, open_round, market, market_type, city, ads_item, stall_item
):
    other = services.point_create(name="甲二市场", point_type=market_type, unit=city.community_jia2)
    response = post_json(web(inspector), record_payload(open_round, other, ads_item, stall_item))
    assert response.status_code == 400 and "不在批次" in "".join(response.json()["messages"])
    response = post_json(web(inspector_other), record_payload(open_round, market, ads_item, stall_item))
    assert response.status_code == 400 and "不是该批次的督查员" in "".join(response.json()["messages"])
    assert not Inspection.objects.exists()


def test_someone_elses_client_uuid_is_not_answered_with_their_record(
    web, recorded, office, inspector_other, round_, market, ads_item, stall_item
):
    payload = record_payload(round_, market, ads_item, stall_item, client_uuid=str(recorded["inspection"].client_uuid))
    response = post_json(web(office), payload)
    assert response.status_code == 400 and "已被使用" in response.json()["messages"][0]


def test_a_bad_photo_is_refused_in_chinese(web, inspector):
    response = upload_photo(web(inspector), "不是图片".encode(), "a.jpg")
    assert response.status_code == 400 and "该文件不是图片" in response.json()["messages"][0]
    assert not Photo.objects.exists()


def test_an_expired_session_gets_json_not_a_login_page(client, open_round, market, ads_item, stall_item):
    response = post_json(client, record_payload(open_round, market, ads_item, stall_item))
    assert response.status_code == 401 and "登录已过期" in response.json()["messages"][0]


# --- Inspections and corrections ----------------------------------------------------------------


def correction_form(inspection, ads_item, stall_item, **extra):
    return {
        "client_uuid": str(uuid.uuid4()),
        "correction_reason": "公益广告其实有2处，误判",
        f"item_{ads_item.pk}_result": "pass",
        f"item_{ads_item.pk}_occurrences": "0",
        f"item_{stall_item.pk}_result": "fail",
        f"item_{stall_item.pk}_occurrences": "1",
        f"item_{stall_item.pk}_note": "门口占道",
        **extra,
    }


def test_inspection_page_shows_deductions_photos_and_problem(web, office, recorded):
    html = web(office).get(f"/inspections/{recorded['inspection'].pk}/").content.decode()
    assert "1.00" in html and "不合格" in html and "仅1处" in html
    assert f"/inspections/photos/{recorded['photo'].pk}/thumb/" in html
    assert f"#{recorded['problem'].pk}" in html and "更正" in html


@pytest.mark.parametrize("persona", ["office", "inspector"])
def test_a_correction_is_a_new_record_and_the_old_stops_counting(web, request, recorded, ads_item, stall_item, persona):
    old = recorded["inspection"]
    client = web(request.getfixturevalue(persona))
    page = client.get(f"/inspections/{old.pk}/correct/")
    assert page.context["form"].initial.get(f"item_{ads_item.pk}_result") is None  # initial lives on fields
    assert page.context["form"].fields[f"item_{ads_item.pk}_result"].initial == "fail"
    from django.core.files.uploadedfile import SimpleUploadedFile

    form = correction_form(old, ads_item, stall_item)
    form[f"item_{stall_item.pk}_photos"] = SimpleUploadedFile("门口.jpg", jpeg((10, 10, 200)), "image/jpeg")
    response = client.post(f"/inspections/{old.pk}/correct/", form)
    new = Inspection.objects.get(supersedes=old)
    assert response.status_code == 302 and response["Location"] == f"/inspections/{new.pk}/"
    old.refresh_from_db()
    assert (old.current, new.current, new.correction_reason) == (False, True, "公益广告其实有2处，误判")
    recorded["problem"].refresh_from_db()
    assert recorded["problem"].status == "void"
    stall = new.observations.get(check_item=stall_item)
    assert (stall.deduction, stall.photos.count()) == (Decimal("1.00"), 1)
    assert (
        new.observations.get(check_item=ads_item).observed_at == old.observations.get(check_item=ads_item).observed_at
    )
    # The old one can no longer be corrected.
    assert client.get(f"/inspections/{old.pk}/correct/").status_code == 403
    html = client.get(f"/inspections/{old.pk}/").content.decode()
    assert "已被更正" in html and f"/inspections/{new.pk}/" in html


def test_a_correction_needs_a_reason(web, office, recorded, ads_item, stall_item):
    before = snapshot()
    form = correction_form(recorded["inspection"], ads_item, stall_item, correction_reason="")
    response = web(office).post(f"/inspections/{recorded['inspection'].pk}/correct/", form)
    assert response.status_code == 400 and "请填写更正原因" in response.content.decode()
    assert snapshot() == before


def test_another_inspector_of_the_round_may_not_correct(web, recorded, round_, inspector_other, ads_item, stall_item):
    round_.inspectors.add(inspector_other)
    before = snapshot()
    url = f"/inspections/{recorded['inspection'].pk}/correct/"
    assert web(inspector_other).get(url).status_code == 403
    assert (
        web(inspector_other).post(url, correction_form(recorded["inspection"], ads_item, stall_item)).status_code == 403
    )
    assert snapshot() == before


# --- Problems and photos ------------------------------------------------------------------------


def test_problem_page_is_read_only_with_photos(web, liaison_jia, recorded):
    html = web(liaison_jia).get(f"/inspections/problems/{recorded['problem'].pk}/").content.decode()
    assert "甲一农贸市场：核心价值观公益广告不少于2处（仅1处）" in html
    assert f"/inspections/photos/{recorded['photo'].pk}/thumb/" in html
    # No transition for a liaison that does not handle it: only the comment every reader has.
    after_title = html.split('data-testid="problem-title"')[1]
    assert after_title.count("<form") == after_title.count('data-action="comment"') == 1


def test_problem_list_filters_by_point_and_round(web, office, recorded, round_, market, market_yi):
    client = web(office)
    assert client.get(f"/inspections/problems/?point={market.pk}").context["total"] == 1
    assert client.get(f"/inspections/problems/?point={market_yi.pk}").context["total"] == 0
    assert client.get(f"/inspections/problems/?round={round_.pk}").context["total"] == 1
    html = client.get(f"/inspections/problems/?point={market.pk}").content.decode()
    assert f'type="hidden" name="point" value="{market.pk}"' in html


def test_photos_are_served_privately_to_the_uploader_and_office_only(
    web, inspector, office, liaison_yi, inspector_other, recorded, client
):
    photo = recorded["photo"]
    for user in (inspector, office):
        response = web(user).get(f"/inspections/photos/{photo.pk}/")
        assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
        assert "private" in response["Cache-Control"]
        assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
        thumb = web(user).get(f"/inspections/photos/{photo.pk}/thumb/")
        assert thumb.status_code == 200 and "private" in thumb["Cache-Control"]
    assert web(liaison_yi).get(f"/inspections/photos/{photo.pk}/").status_code == 404
    assert web(liaison_yi).get(f"/inspections/photos/{photo.pk}/thumb/").status_code == 404
    # A photo not yet attached: its uploader only.
    loose = upload_photo(web(inspector)).json()
    assert web(inspector).get(loose["thumb_url"]).status_code == 200
    assert web(inspector_other).get(loose["thumb_url"]).status_code == 404
    assert web(office).get(loose["url"]).status_code == 404
    assert web(inspector).get("/inspections/photos/999999/").status_code == 404


# --- Navigation and home widgets ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "labels"),
    [
        ("office", ["督查批次", "点位", "问题", "群众反映", "测评细则", "公众问题类别", "接口密钥"]),
        ("leader", ["督查批次", "点位", "问题", "群众反映"]),
        ("inspector", ["现场督查", "督查批次", "点位", "问题"]),
        ("liaison_jia", ["点位", "问题"]),
    ],
)
def test_navigation_items_by_role(db, request, persona, labels):
    items = nav_items(request.getfixturevalue(persona))
    assert [item[0] for item in items] == labels


def test_home_widgets(inspector, office, leader, liaison_jia, open_round, recorded):
    def widgets(user):
        request = RequestFactory().get("/")
        request.user = user
        return home_widgets(request)

    mine = widgets(inspector)
    assert set(mine) == {"inspections"}
    # 本周督查: both points to visit; 第47周督查: 甲一农贸市场 visited, 乙街道农贸市场 not.
    assert "本周督查" in mine["inspections"] and "第47周督查" in mine["inspections"]
    assert 'data-testid="to-visit">3<' in mine["inspections"]
    office_widgets = widgets(office)
    assert set(office_widgets) == {"rounds"} and "本周督查" in office_widgets["rounds"]
    assert "1 / 4（25%）" in office_widgets["rounds"]
    assert "新增批次" in office_widgets["rounds"]
    assert set(widgets(leader)) == {"rounds"} and "新增批次" not in widgets(leader)["rounds"]
    assert widgets(liaison_jia) == {}


def test_widgets_render_on_home_when_registered(web, settings, inspector, office, open_round, campaign):
    settings.CAMPAIGN_HOME_WIDGETS = ["inspections.widgets.home_widgets"]
    settings.CAMPAIGN_NAV_PROVIDERS = ["inspections.navigation.nav_items"]
    response = web(inspector).get("/")
    assert response.status_code == 200 and "inspections" in response.context["widgets"]
    assert ("现场督查", "/inspections/record/") in response.context["nav_items"]
    assert PointType.objects.exists()


def test_a_page_past_the_end_answers_the_last_page(web, office, recorded, market):
    """A bookmarked deep page after rows went away: the last page, never a 404 or 500 (issue #10)."""
    client = web(office)
    for url in ("/inspections/problems/?page=999", "/inspections/points/?page=999", "/inspections/problems/?page=x"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.context["page_obj"].number == 1, url
    assert client.get("/inspections/problems/?page=999").context["total"] == 1


def test_the_rounds_widget_costs_the_same_whatever_a_round_holds(office, open_round, market_type, city):
    """Counted in SQL (issue #10: a 20,000-point round once took 67 s): a big round costs the
    queries of a small one, and the counts stay exact."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def rounds_widget():
        request = RequestFactory().get("/")
        request.user = office
        with CaptureQueriesContext(connection) as captured:
            html = home_widgets(request)["rounds"]
        return html, len(captured.captured_queries)

    _html, small = rounds_widget()
    extra = Point.objects.bulk_create(
        Point(name=f"大批次点位{i:03d}", point_type=market_type, unit=city.community_jia1) for i in range(200)
    )
    open_round.points.add(*extra)
    html, large = rounds_widget()
    assert large == small
    total = open_round.points.count()
    assert f"0 / {total}（0%）" in html
