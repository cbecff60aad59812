"""The inspector's API round trip (photo first, then the inspection with its observations inline),
bad input refused in Chinese with nothing half-saved, the client_uuid replay, the far-from-point
flag, and the scoped reads of inspections, observations, problems and photos."""

import datetime
import io
import uuid
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import NoReverseMatch, reverse
from PIL import Image

from inspections import services
from inspections.models import Charge, CheckItem, Inspection, Observation, Photo, PointType, Problem
from inspections.services import ObservationInput as Obs

# Yesterday 10:00 in Shanghai: inside the round_ fixture, which spans today ± 3 days.
OBSERVED_AT = datetime.datetime.combine(
    datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8))).date() - datetime.timedelta(days=1),
    datetime.time(10, 0),
    tzinfo=datetime.timezone(datetime.timedelta(hours=8)),
)
WEEK = "{}-W{:02d}".format(*OBSERVED_AT.isocalendar()[:2])
NEXT_WEEK = "{}-W{:02d}".format(*(OBSERVED_AT + datetime.timedelta(days=7)).isocalendar()[:2])
OBSERVED = OBSERVED_AT.isoformat()


def jpeg(size=(640, 480)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 120, 60)).save(buffer, format="JPEG")
    return buffer.getvalue()


def upload_photo(client, data=None, name="现场.jpg"):
    file = SimpleUploadedFile(name, data if data is not None else jpeg(), content_type="image/jpeg")
    return client.post("/api/v1/photos/", {"file": file}, format="multipart")


def counts():
    return (
        Inspection.objects.count(),
        Observation.objects.count(),
        Charge.objects.count(),
        Problem.objects.count(),
        Photo.objects.filter(observation__isnull=False).count(),
    )


def fresh(user):
    return get_user_model().objects.get(pk=user.pk)


def expected_url(name, pk):
    try:
        return "http://testserver" + reverse(name, args=[pk])
    except NoReverseMatch:  # the page views are not routed yet
        return None


def body_for(round_, point, observations, **extra):
    return {
        "round": round_.pk,
        "point": point.pk,
        "observations": observations,
        "latitude": "31.501",
        "longitude": "120.3",
        "client_uuid": str(uuid.uuid4()),
        "observed_at": OBSERVED,
        **extra,
    }


def submit(user, round_, point, observations):
    inspection, _ = services.inspection_submit(
        user=user,
        round_=round_,
        point=point,
        observations=observations,
        client_uuid=uuid.uuid4(),
        observed_at=OBSERVED_AT,
    )
    return inspection


@pytest.fixture
def recorded(inspector, round_, market, market_yi, ads_item, stall_item):
    """An inspection at 甲一农贸市场 (ads fail ×3 → a problem, stall pass) and one at 乙街道农贸市场
    (ads severe → a problem), both in the week of OBSERVED_AT."""
    jia = submit(inspector, round_, market, [Obs(ads_item.pk, "fail", 3, "仅1处"), Obs(stall_item.pk, "pass")])
    yi = submit(inspector, round_, market_yi, [Obs(ads_item.pk, "severe")])
    return jia, yi


# --- Photos -----------------------------------------------------------------------------------


def test_a_photo_is_uploaded_first_and_returns_its_metadata(api, inspector, leader, liaison_yi):
    client = api(inspector)
    response = upload_photo(client)
    assert response.status_code == 201, response.content
    photo = Photo.objects.get()
    assert response.json() == {
        "id": photo.pk,
        "width": 640,
        "height": 480,
        "taken_at": None,
        "exif_latitude": None,
        "exif_longitude": None,
        "url": expected_url("photo-file", photo.pk),
        "thumbnail_url": expected_url("photo-thumb", photo.pk),
        # A PNG without EXIF: flagged, not refused (inspections/photo_checks.py).
        "flags": [
            {"code": "no_exif", "message": "照片没有拍摄信息（EXIF），无法核对拍摄时间和地点。", "earlier_photo": None}
        ],
    }
    assert client.get(f"/api/v1/photos/{photo.pk}/").json()["id"] == photo.pk
    # Not attached yet: only its uploader sees it.
    for other in (leader, liaison_yi):
        assert api(other).get(f"/api/v1/photos/{photo.pk}/").status_code == 404
    assert client.get("/api/v1/photos/999999/").status_code == 404


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("假照片.jpg", "这不是图片".encode(), "该文件不是图片：只接受 JPG、PNG、WebP 格式的照片。"),
        ("a.pdf", b"%PDF-1.4\n%%EOF", "该文件不是图片：只接受 JPG、PNG、WebP 格式的照片。"),
        ("empty.jpg", b"", "该文件不是图片：只接受 JPG、PNG、WebP 格式的照片。"),
        ("a.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", None),
    ],
)
def test_what_is_not_a_photo_is_refused_in_chinese(api, inspector, name, data, message):
    response = upload_photo(api(inspector), data, name)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    if message:
        assert body == {"code": "invalid", "detail": message, "fields": {"file": [message]}}
    assert not Photo.objects.exists()


def test_a_decompression_bomb_is_refused_in_chinese(api, inspector):
    buffer = io.BytesIO()
    Image.new("1", (15000, 12000)).save(buffer, format="PNG")  # a few KB declaring 180M pixels
    response = upload_photo(api(inspector), buffer.getvalue(), "bomb.png")
    assert (response.status_code, response.json()["detail"]) == (
        400,
        "图片尺寸异常（像素过多），请用手机相机重新拍摄。",
    )
    assert not Photo.objects.exists()


def test_a_photo_upload_without_a_file(api, inspector):
    response = api(inspector).post("/api/v1/photos/", {}, format="multipart")
    assert (response.status_code, response.json()["detail"]) == (400, "请上传照片（字段 file）。")
    assert not Photo.objects.exists()


def test_a_leader_uploads_no_photo(api, leader):
    response = upload_photo(api(leader))
    assert (response.status_code, response.json()["detail"]) == (403, "您没有上传照片的权限。")
    assert not Photo.objects.exists()


# --- The round trip ---------------------------------------------------------------------------


def test_the_inspector_round_trip(
    api, inspector, round_, market, ads_item, stall_item, city, standard, liaison_jia, liaison_yi
):
    client = api(inspector)
    photo_id = upload_photo(client).json()["id"]
    body = body_for(
        round_,
        market,
        [
            {
                "check_item": ads_item.pk,
                "result": "fail",
                "occurrences": 3,
                "note": "仅1处公益广告",
                "photos": [photo_id],
            },
            {"check_item": stall_item.pk, "result": "pass"},
        ],
    )
    response = client.post("/api/v1/inspections/", body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    inspection = Inspection.objects.get()
    ads, stall = inspection.observations.order_by("check_item__order")
    problem = Problem.objects.get()
    assert data == {
        "id": inspection.pk,
        "round": round_.pk,
        "point": market.pk,
        "point_name": "甲一农贸市场",
        "inspector": inspector.pk,
        "inspector_name": "inspector_zhou",
        "client_uuid": body["client_uuid"],
        "started_at": None,
        "submitted_at": data["submitted_at"],
        "latitude": "31.501000",
        "longitude": "120.300000",
        "distance_m": 111,
        "far_from_point": False,
        "note": "",
        "current": True,
        "supersedes": None,
        "correction_reason": "",
        "observations": [
            {
                "id": ads.pk,
                "check_item": ads_item.pk,
                "indicator": standard.pk,
                "result": "fail",
                "result_display": "不合格",
                "occurrences": 3,
                "note": "仅1处公益广告",
                "deduction": "1.50",
                "loss": "0.750000",
                "score": "0.250000",
                "photos": [photo_id],
                "charged_units": sorted(
                    [city.district_jia.pk, city.street_jia.pk, city.community_jia1.pk, city.dept_cg.pk]
                ),
            },
            {
                "id": stall.pk,
                "check_item": stall_item.pk,
                "indicator": standard.pk,
                "result": "pass",
                "result_display": "合格",
                "occurrences": 0,
                "note": "",
                "deduction": "0.00",
                "loss": "0.000000",
                "score": "1.000000",
                "photos": [],
                "charged_units": sorted(
                    [city.district_jia.pk, city.street_jia.pk, city.community_jia1.pk, city.dept_office.pk]
                ),
            },
        ],
        "problems": [
            {
                "id": problem.pk,
                "status": "new",
                "status_display": "待交办",
                "observation": ads.pk,
                "unit": city.community_jia1.pk,
                "severity": "normal",
                "deduction": "1.50",
                "description": "甲一农贸市场：核心价值观公益广告不少于2处（仅1处公益广告）",
            },
        ],
    }
    assert [p.pk for p in problem.photos.all()] == [photo_id]
    assert ads.observed_at == OBSERVED_AT
    # Attached: whoever reads the observation reads the photo; another street does not.
    assert api(liaison_jia).get(f"/api/v1/photos/{photo_id}/").status_code == 200
    assert api(liaison_yi).get(f"/api/v1/photos/{photo_id}/").status_code == 404
    # The same photo cannot be cited again.
    again = client.post(
        "/api/v1/inspections/",
        body_for(
            round_, market, [{"check_item": ads_item.pk, "result": "fail", "occurrences": 1, "photos": [photo_id]}]
        ),
        format="json",
    )
    assert again.status_code == 400
    assert again.json()["detail"] == f"第 1 项：照片 {photo_id} 不存在、已被使用或不是您上传的。"


def test_the_same_client_uuid_twice_returns_the_first_with_200(api, inspector, round_, market, ads_item):
    client = api(inspector)
    body = body_for(round_, market, [{"check_item": ads_item.pk, "result": "fail", "occurrences": 1}])
    first = client.post("/api/v1/inspections/", body, format="json")
    assert first.status_code == 201
    before = counts()
    # A retry, even with different lines, answers the first record and writes nothing.
    body["observations"] = [{"check_item": ads_item.pk, "result": "pass"}]
    again = client.post("/api/v1/inspections/", body, format="json")
    assert again.status_code == 200
    assert again.json() == first.json()
    assert counts() == before == (1, 1, 4, 1, 0)


def test_a_replayed_client_uuid_of_a_record_one_may_not_read_is_refused(
    api, office, inspector, round_, market, ads_item, campaign
):
    body = body_for(round_, market, [{"check_item": ads_item.pk, "result": "pass"}])
    assert api(inspector).post("/api/v1/inspections/", body, format="json").status_code == 201
    stranger = get_user_model().objects.create(username="inspector_other")
    from campaign.services import membership_create

    membership_create(user=stranger, role="inspector")
    before = counts()
    response = api(stranger).post("/api/v1/inspections/", body, format="json")
    assert (response.status_code, response.json()["detail"]) == (403, "只有本批次的督查员或创建办可以记录督查。")
    assert counts() == before


def test_a_location_more_than_1_km_away_is_accepted_and_flagged(api, inspector, round_, market, ads_item):
    body = body_for(round_, market, [{"check_item": ads_item.pk, "result": "pass"}], latitude="31.52")
    response = api(inspector).post("/api/v1/inspections/", body, format="json")
    assert response.status_code == 201
    assert (response.json()["far_from_point"], response.json()["distance_m"]) == (True, 2224)
    assert Inspection.objects.get().far_from_point is True


def test_a_point_without_coordinates_has_no_distance(api, inspector, round_, market_yi, ads_item):
    response = api(inspector).post(
        "/api/v1/inspections/",
        body_for(round_, market_yi, [{"check_item": ads_item.pk, "result": "pass"}]),
        format="json",
    )
    assert response.status_code == 201
    assert (response.json()["far_from_point"], response.json()["distance_m"]) == (False, None)


# --- Bad input --------------------------------------------------------------------------------


@pytest.fixture
def estate_item(standard):
    return services.check_item_create(
        point_type=PointType.objects.get(name="小区"),
        indicator=standard,
        text="楼道整洁",
        per_occurrence=Decimal(1),
        cap=Decimal(2),
    )


@pytest.mark.parametrize(
    ("case", "field", "message"),
    [
        ("other_type", "observations", "第 1 项：检查项“楼道整洁”不适用于集贸(农贸)市场类点位。"),
        ("negative", "observations", "第 1 项：问题处数不能小于 0。"),
        ("absurd", "observations", "第 1 项：问题处数 100000 过大（上限 100）。"),
        ("not_a_number", "observations", "第 1 项：问题处数应为整数。"),
        ("bad_result", "observations", "第 1 项：结果只能是合格、不合格或严重不合格。"),
        ("second_line_bad", "observations", "第 2 项：检查项不存在或已停用。"),
        ("outside_round", "point", "点位“甲二市场”不在批次“第47周督查”的点位清单中。"),
        ("no_lines", "observations", "请至少记录一项检查结果。"),
        ("no_uuid", "client_uuid", "请提供 client_uuid（客户端生成的 UUID，重试时不变）。"),
        ("bad_uuid", "client_uuid", "client_uuid 不是有效的 UUID。"),
        ("half_location", "latitude", "经纬度需同时提供。"),
        ("bad_latitude", "latitude", "纬度应在 -90 到 90 之间。"),
        ("no_round", "round", "督查批次 999999 不存在。"),
        ("bad_photo_id", "observations", "第 1 项：照片应为编号（整数）。"),
        ("lines_not_a_list", "observations", "observations 应为检查结果的列表。"),
        ("future", "observed_at", "检查时间不能晚于现在。"),
    ],
)
def test_bad_input_is_refused_in_chinese_and_nothing_is_saved(
    api, inspector, round_, market, ads_item, estate_item, city, market_type, case, field, message
):
    client = api(inspector)
    photo_id = upload_photo(client).json()["id"]
    line = {"check_item": ads_item.pk, "result": "fail", "occurrences": 2, "photos": [photo_id]}
    point = market
    extra = {}
    if case == "other_type":
        line["check_item"] = estate_item.pk
    elif case == "negative":
        line["occurrences"] = -1
    elif case == "absurd":
        line["occurrences"] = 100000
    elif case == "not_a_number":
        line["occurrences"] = "三处"
    elif case == "bad_result":
        line["result"] = "maybe"
    elif case == "outside_round":
        point = services.point_create(name="甲二市场", point_type=market_type, unit=city.community_jia2)
    elif case == "bad_latitude":
        extra = {"latitude": "91"}
    elif case == "future":
        extra = {"observed_at": "2099-01-01T10:00:00+08:00"}
    body = body_for(round_, point, [line], **extra)
    if case == "second_line_bad":
        body["observations"].append({"check_item": 999999, "result": "pass"})
    elif case == "no_lines":
        body["observations"] = []
    elif case == "no_uuid":
        del body["client_uuid"]
    elif case == "bad_uuid":
        body["client_uuid"] = "not-a-uuid"
    elif case == "half_location":
        body["longitude"] = None
    elif case == "no_round":
        body["round"] = 999999
    elif case == "bad_photo_id":
        body["observations"][0]["photos"] = ["照片一"]
    elif case == "lines_not_a_list":
        body["observations"] = "ads fail"
    before = counts()
    response = client.post("/api/v1/inspections/", body, format="json")
    assert response.status_code == 400, response.content
    data = response.json()
    assert data["code"] == "invalid"
    assert message in data["fields"][field]
    assert data["detail"] == message
    assert counts() == before
    assert Photo.objects.get(pk=photo_id).observation is None


@pytest.mark.parametrize("persona", ["leader", "liaison_jia", "liaison_yi", "liaison_dept"])
def test_only_inspectors_and_the_office_record(api, request, persona, round_, market, ads_item):
    before = counts()
    response = api(request.getfixturevalue(persona)).post(
        "/api/v1/inspections/", body_for(round_, market, [{"check_item": ads_item.pk, "result": "pass"}]), format="json"
    )
    assert (response.status_code, response.json()["detail"]) == (403, "只有督查员或创建办可以记录督查。")
    assert counts() == before


def test_an_inspector_of_another_round_is_refused(api, round_, market, ads_item):
    from campaign.services import membership_create

    other = get_user_model().objects.create(username="inspector_other")
    membership_create(user=other, role="inspector")
    before = counts()
    response = api(other).post(
        "/api/v1/inspections/", body_for(round_, market, [{"check_item": ads_item.pk, "result": "pass"}]), format="json"
    )
    assert (response.status_code, response.json()["detail"]) == (403, "只有本批次的督查员或创建办可以记录督查。")
    assert counts() == before


def test_the_office_records_too(api, office, round_, market, ads_item):
    response = api(office).post(
        "/api/v1/inspections/", body_for(round_, market, [{"check_item": ads_item.pk, "result": "pass"}]), format="json"
    )
    assert response.status_code == 201
    assert Inspection.objects.get().inspector == office


def test_inspections_are_never_edited(api, office, leader, recorded):
    jia, _ = recorded
    before = counts()
    for method in ("patch", "put", "delete"):
        assert getattr(api(office), method)(f"/api/v1/inspections/{jia.pk}/", {}, format="json").status_code == 405
        assert getattr(api(leader), method)(f"/api/v1/inspections/{jia.pk}/", {}, format="json").status_code == 403
    assert counts() == before


def test_a_correction_supersedes_the_first_record(api, inspector, round_, market, ads_item, recorded):
    jia, _ = recorded
    client = api(inspector)
    body = body_for(round_, market, [{"check_item": ads_item.pk, "result": "pass"}], supersedes=jia.pk)
    before = counts()
    response = client.post("/api/v1/inspections/", body, format="json")
    assert (response.status_code, response.json()["detail"]) == (400, "更正记录必须填写更正原因。")
    assert counts() == before
    body["correction_reason"] = "误判：公益广告在入口内侧"
    response = client.post("/api/v1/inspections/", body, format="json")
    assert response.status_code == 201
    jia.refresh_from_db()
    assert (jia.current, response.json()["supersedes"], response.json()["problems"]) == (False, jia.pk, [])
    assert Problem.objects.get(observation__inspection=jia).status == "void"


# --- Reading inspections ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "visible"),
    [
        ("office", {"jia", "yi"}),
        ("leader", {"jia", "yi"}),
        ("inspector", {"jia", "yi"}),
        ("liaison_jia", {"jia"}),
        ("liaison_yi", {"yi"}),
        ("liaison_dept", {"jia", "yi"}),  # the ads item is charged to 市城管局 at both
    ],
)
def test_inspections_are_scoped(api, request, persona, visible, recorded):
    records = dict(zip(("jia", "yi"), recorded, strict=True))
    client = api(request.getfixturevalue(persona))
    response = client.get("/api/v1/inspections/")
    assert sorted(row["id"] for row in response.json()["results"]) == sorted(records[n].pk for n in visible)
    for name, inspection in records.items():
        assert client.get(f"/api/v1/inspections/{inspection.pk}/").status_code == (200 if name in visible else 404)


def test_a_department_liaison_reads_only_its_lines_of_an_inspection(api, liaison_dept, recorded, ads_item):
    jia, _ = recorded
    data = api(liaison_dept).get(f"/api/v1/inspections/{jia.pk}/").json()
    # The stall line is charged to 市文明办 only; the problem lies in 甲一社区, not under 市城管局.
    assert [line["check_item"] for line in data["observations"]] == [ads_item.pk]
    assert data["problems"] == []


def test_inspections_list_query_count(api, office, liaison_jia, recorded, django_assert_num_queries):
    for user in (office, liaison_jia):
        client = api(fresh(user))
        # scope + campaigns (the list reads the current campaign) + count + page + observations
        # (problems joined) + charges + photos.
        with django_assert_num_queries(7):
            response = client.get("/api/v1/inspections/")
        assert response.json()["count"] >= 1


# --- Observations -----------------------------------------------------------------------------


def test_one_observation_exactly(api, leader, recorded, market, ads_item, standard, city):
    jia, _ = recorded
    ads = jia.observations.get(check_item=ads_item)
    response = api(leader).get(f"/api/v1/observations/{ads.pk}/")
    assert response.json() == {
        "id": ads.pk,
        "inspection": jia.pk,
        "point": market.pk,
        "check_item": ads_item.pk,
        "indicator": standard.pk,
        "result": "fail",
        "occurrences": 3,
        "deduction": "1.50",
        "loss": "0.750000",
        "score": "0.250000",
        "charged_units": sorted([city.district_jia.pk, city.street_jia.pk, city.community_jia1.pk, city.dept_cg.pk]),
        "observed_at": OBSERVED,
    }


def ids(response):
    assert response.status_code == 200, response.content
    return sorted(row["id"] for row in response.json()["results"])


def test_observation_filters(api, office, recorded, round_, market, market_yi, ads_item, stall_item, city, campaign):
    jia, yi = recorded
    jia_ids = sorted(jia.observations.values_list("pk", flat=True))
    yi_ids = sorted(yi.observations.values_list("pk", flat=True))
    jia_ads = jia.observations.get(check_item=ads_item).pk
    client = api(office)
    assert ids(client.get("/api/v1/observations/", {"week": WEEK})) == sorted(jia_ids + yi_ids)
    assert ids(client.get("/api/v1/observations/", {"week": NEXT_WEEK})) == []
    assert ids(client.get("/api/v1/observations/", {"round": round_.pk})) == sorted(jia_ids + yi_ids)
    assert ids(client.get("/api/v1/observations/", {"point": market.pk})) == jia_ids
    # unit: charged to the unit or any unit under it.
    assert ids(client.get("/api/v1/observations/", {"unit": city.district_jia.pk})) == jia_ids
    assert ids(client.get("/api/v1/observations/", {"unit": city.community_jia1.pk})) == jia_ids
    assert ids(client.get("/api/v1/observations/", {"unit": city.community_jia2.pk})) == []
    assert ids(client.get("/api/v1/observations/", {"unit": city.district_yi.pk})) == yi_ids
    assert ids(client.get("/api/v1/observations/", {"unit": city.dept_cg.pk})) == sorted([jia_ads, *yi_ids])
    assert ids(client.get("/api/v1/observations/", {"unit": city.dept_office.pk})) == [
        jia.observations.get(check_item=stall_item).pk
    ]
    assert ids(client.get("/api/v1/observations/", {"unit": 999999})) == []
    assert (
        ids(client.get("/api/v1/observations/", {"unit": city.district_jia.pk, "week": WEEK, "point": market_yi.pk}))
        == []
    )


@pytest.mark.parametrize(
    ("week", "message"),
    [
        ("2026-47", "周次格式应为 2026-W47。"),
        ("2026-W99", "2026 年没有第 99 周。"),
        ("第47周", "周次格式应为 2026-W47。"),
    ],
)
def test_a_malformed_week_is_a_chinese_400(api, office, recorded, week, message):
    for path in ("/api/v1/observations/", "/api/v1/problems/", "/api/v1/inspections/"):
        response = api(office).get(path, {"week": week})
        assert response.status_code == 400
        assert response.json() == {"code": "invalid", "detail": message, "fields": {"week": [message]}}


@pytest.mark.parametrize(
    ("persona", "visible"),
    [
        ("office", {"jia_ads", "jia_stall", "yi_ads"}),
        ("leader", {"jia_ads", "jia_stall", "yi_ads"}),
        ("inspector", {"jia_ads", "jia_stall", "yi_ads"}),
        ("liaison_jia", {"jia_ads", "jia_stall"}),
        ("liaison_yi", {"yi_ads"}),
        ("liaison_dept", {"jia_ads", "yi_ads"}),
    ],
)
def test_observations_are_scoped(api, request, persona, visible, recorded, ads_item, stall_item):
    jia, yi = recorded
    rows = {
        "jia_ads": jia.observations.get(check_item=ads_item),
        "jia_stall": jia.observations.get(check_item=stall_item),
        "yi_ads": yi.observations.get(),
    }
    client = api(request.getfixturevalue(persona))
    assert ids(client.get("/api/v1/observations/")) == sorted(rows[n].pk for n in visible)
    for name, row in rows.items():
        assert client.get(f"/api/v1/observations/{row.pk}/").status_code == (200 if name in visible else 404)


def test_observations_are_read_only(api, office, recorded):
    jia, _ = recorded
    row = jia.observations.first()
    before = counts()
    assert api(office).post("/api/v1/observations/", {}, format="json").status_code == 405
    assert api(office).patch(f"/api/v1/observations/{row.pk}/", {"occurrences": 0}, format="json").status_code == 405
    assert api(office).delete(f"/api/v1/observations/{row.pk}/").status_code == 405
    assert counts() == before


def test_observations_list_query_count(
    api, office, liaison_jia, recorded, inspector, round_, market, ads_item, django_assert_num_queries
):
    for _ in range(3):
        submit(inspector, round_, market, [Obs(ads_item.pk, "fail", 1)])
    for user in (office, liaison_jia):
        client = api(fresh(user))
        # scope + campaigns (the current one) + count + page (inspection, item, indicator, point
        # joined) + charges.
        with django_assert_num_queries(5):
            response = client.get("/api/v1/observations/")
        assert response.json()["count"] >= 5


# --- Problems ---------------------------------------------------------------------------------


def test_one_problem_exactly(api, office, recorded, market, ads_item, standard, city):
    jia, _ = recorded
    problem = Problem.objects.get(point=market)
    assert api(office).get(f"/api/v1/problems/{problem.pk}/").json() == {
        "id": problem.pk,
        "status": "new",
        "status_display": "待交办",
        "source": "inspection",
        "point": market.pk,
        "check_item": ads_item.pk,
        "indicator": standard.pk,
        "unit": city.community_jia1.pk,
        "description": "甲一农贸市场：核心价值观公益广告不少于2处（仅1处）",
        "severity": "normal",
        "deduction": "1.50",
        "photos": [],
        "found_at": OBSERVED,
        # The rectification workflow's state, before anyone has acted on it.
        "handler": None,
        "co_handlers": [],
        "deadline": None,
        "original_deadline": None,
        "rework_count": 0,
        "shelved": False,
        "shelved_until": None,
        "pending_request": "",
        "requested_deadline": None,
        "closed_at": None,
        "rebound_of": None,
        "sightings": [],
        "reports": [],
        "version": 0,
        "overdue": False,
        "days_overdue": None,
        "closed_on_time": None,
    }


@pytest.mark.parametrize(
    ("persona", "visible"),
    [
        ("office", {"jia", "yi"}),
        ("leader", {"jia", "yi"}),
        ("inspector", {"jia", "yi"}),
        ("liaison_jia", {"jia"}),
        ("liaison_yi", {"yi"}),
        ("liaison_dept", None),  # located in the territorial tree, but read where charged to it
    ],
)
def test_problems_are_scoped(api, request, persona, visible, recorded, market, market_yi, city):
    rows = {"jia": Problem.objects.get(point=market), "yi": Problem.objects.get(point=market_yi)}
    if visible is None:  # a department's 条 view: the problems whose observation is charged to it
        visible = {n for n, p in rows.items() if Charge.objects.filter(observation=p.observation, unit=city.dept_cg)}
        assert visible  # the market type's department is charged
    client = api(request.getfixturevalue(persona))
    assert ids(client.get("/api/v1/problems/")) == sorted(rows[n].pk for n in visible)
    for name, row in rows.items():
        assert client.get(f"/api/v1/problems/{row.pk}/").status_code == (200 if name in visible else 404)


def test_problem_filters(api, office, recorded, market, market_yi, city):
    jia, yi = Problem.objects.get(point=market), Problem.objects.get(point=market_yi)
    client = api(office)
    assert ids(client.get("/api/v1/problems/", {"unit": city.district_jia.pk})) == [jia.pk]
    assert ids(client.get("/api/v1/problems/", {"severity": "severe"})) == [yi.pk]
    assert ids(client.get("/api/v1/problems/", {"week": WEEK, "status": "new"})) == sorted([jia.pk, yi.pk])
    assert ids(client.get("/api/v1/problems/", {"point": market_yi.pk})) == [yi.pk]


@pytest.mark.parametrize("persona", ["office", "inspector", "leader", "liaison_jia", "liaison_yi", "liaison_dept"])
def test_problems_are_never_edited_here(api, request, persona, recorded, market, city):
    """Only the workflow moves a problem; the office registers new ones (tests/inspections/test_problem_create.py)."""
    problem = Problem.objects.get(point=market)
    before = list(Problem.objects.order_by("pk").values_list("pk", "status", "description", "unit_id"))
    client = api(request.getfixturevalue(persona))
    assert client.post(
        "/api/v1/problems/", {"description": "x", "unit": city.community_jia1.pk}, format="json"
    ).status_code == (400 if persona == "office" else 403)  # no source: refused before anything is written
    assert client.patch(f"/api/v1/problems/{problem.pk}/", {"status": "closed"}, format="json").status_code == 405
    assert client.put(f"/api/v1/problems/{problem.pk}/", {"status": "closed"}, format="json").status_code == 405
    assert client.delete(f"/api/v1/problems/{problem.pk}/").status_code == 405
    assert list(Problem.objects.order_by("pk").values_list("pk", "status", "description", "unit_id")) == before


def test_problems_list_query_count(
    api, office, liaison_jia, recorded, inspector, round_, market, ads_item, stall_item, django_assert_num_queries
):
    # A repeated failure of an open problem is a sighting, not a new problem: fail other items.
    Problem.objects.update(status="void")
    submit(inspector, round_, market, [Obs(ads_item.pk, "fail", 1), Obs(stall_item.pk, "fail", 1)])
    submit(inspector, round_, market, [Obs(ads_item.pk, "severe", 1)])
    for user in (office, liaison_jia):
        client = api(fresh(user))
        # scope + campaigns (the current one) + count + page + photos + co-handlers + sightings
        # (with their inspection and inspector joined) + the public's reports.
        with django_assert_num_queries(8):
            response = client.get("/api/v1/problems/")
        assert response.json()["count"] >= 3


def test_check_items_of_a_point_type_for_the_phone(api, inspector, ads_item, stall_item, market_type):
    CheckItem.objects.filter(pk=stall_item.pk).update(active=False)
    response = api(inspector).get("/api/v1/check-items/", {"point_type": market_type.pk, "active": "true"})
    assert ids(response) == [ads_item.pk]


def test_problems_filter_by_point_type(api, office, recorded, market_type):
    from inspections.models import PointType

    other = PointType.objects.exclude(pk=market_type.pk).first()
    assert (
        api(office).get("/api/v1/problems/", {"point_type": market_type.pk}).json()["count"] == Problem.objects.count()
    )
    assert api(office).get("/api/v1/problems/", {"point_type": other.pk}).json()["count"] == 0


def test_an_api_page_past_the_end_answers_the_last_page(api, office, recorded):
    """DRF answers 404 for a page past the end; ours answers the last page (issue #10)."""
    for url in ("/api/v1/problems/?page=999", "/api/v1/points/?page=999", "/api/v1/problems/?page=0"):
        response = api(office).get(url)
        assert response.status_code == 200, url
        assert response.json()["previous"] is None, url
    assert api(office).get("/api/v1/problems/?page=999").json()["count"] == 2
