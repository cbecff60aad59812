"""Problems the office registers itself (领导交办, 12345转办, 市民随手拍, 上级通报): the service (valid
input, each invalid one refused in Chinese with nothing written), the 登记问题 page and
POST /api/v1/problems/, persona by persona."""

from __future__ import annotations

import datetime
import io
import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from accountability.choices import Action as A
from accountability.workflow import TransitionInput, problem_transition
from campaign import services as campaign_services
from campaign.models import Unit
from inspections import services
from inspections.models import Photo, PointType, Problem
from inspections.services import ObservationInput


def jpeg(colour=(20, 120, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, format="JPEG")
    return buffer.getvalue()


def photo_of(user, name="随手拍.jpg") -> Photo:
    return services.photo_upload(user=user, file=SimpleUploadedFile(name, jpeg()))


def state():
    """Everything a refused registration could have written."""
    return (
        list(Problem.objects.order_by("pk").values_list("pk", "source", "status", "description", "unit_id")),
        sorted(Problem.photos.through.objects.values_list("problem_id", "photo_id")),
        Photo.objects.count(),
    )


@pytest.fixture
def estate_item(standard):
    return services.check_item_create(
        point_type=PointType.objects.get(name="小区"),
        indicator=standard,
        text="楼道整洁无杂物",
        per_occurrence=Decimal(1),
        cap=Decimal(2),
    )


def create(**overrides):
    values = {
        "source": "hotline",
        "unit": None,
        "description": "12345转办：楼道堆放杂物",
        "severity": "normal",
    }
    values.update(overrides)
    return services.problem_create(**values)


# --- The service ----------------------------------------------------------------------------------


def test_a_problem_at_a_point_takes_the_points_unit_and_the_items_standard(
    office, campaign, market, ads_item, standard
):
    photo = photo_of(office)
    before = timezone.now()
    problem = create(
        campaign=campaign,
        source="leader",
        point=market,
        check_item=ads_item,
        photos=[photo.pk],
        created_by=office,
        description="  领导交办：市场公益广告缺失  ",
    )
    problem.refresh_from_db()
    assert (problem.source, problem.status, problem.get_status_display()) == ("leader", "new", "待交办")
    assert (problem.unit, problem.point, problem.check_item, problem.indicator) == (
        market.unit,
        market,
        ads_item,
        standard,
    )
    assert (problem.deduction, problem.description, problem.created_by) == (
        Decimal(0),
        "领导交办：市场公益广告缺失",
        office,
    )
    assert problem.observation is None and problem.found_at >= before
    assert list(problem.photos.all()) == [photo]


@pytest.mark.parametrize("source", ["leader", "hotline", "citizen", "superior"])
def test_every_source_but_inspection_may_be_registered_at_any_territorial_unit(office, campaign, city, source):
    found = timezone.now() - datetime.timedelta(days=2)
    for unit in (city.district_jia, city.street_jia, city.community_jia1):
        problem = create(campaign=campaign, source=source, unit=unit, created_by=office, found_at=found)
        assert (problem.unit, problem.point, problem.indicator, problem.found_at) == (unit, None, None, found)
    assert Problem.objects.filter(source=source).count() == 3


def test_a_unit_above_the_point_may_be_named(office, campaign, market, city):
    problem = create(campaign=campaign, point=market, unit=city.street_jia, created_by=office)
    assert (problem.unit, problem.point) == (city.street_jia, market)


def _bad_cases():
    """name → (overrides built from the fixtures, field, part of the Chinese message)."""
    return {
        "inspection source": (lambda f: {"source": "inspection"}, "source", "督查发现的问题由督查记录生成"),
        "unknown source": (lambda f: {"source": "rumour"}, "source", "未知的问题来源"),
        "no unit, no point": (lambda f: {"unit": None}, "unit", "请选择属地单位"),
        "a department": (lambda f: {"unit": f["city"].dept_cg}, "unit", "属地单位应为区县、街道(乡镇)或社区(村)"),
        "an inactive unit": (lambda f: {"unit": f["inactive"]}, "unit", "已停用"),
        "a unit beside the point": (
            lambda f: {"point": f["market"], "unit": f["city"].street_yi},
            "unit",
            "不在“乙街道”辖区内",
        ),
        "an item of another type": (
            lambda f: {"point": f["market"], "check_item": f["estate_item"]},
            "check_item",
            "不适用于集贸(农贸)市场类点位",
        ),
        "an inactive item": (lambda f: {"check_item": f["inactive_item"]}, "check_item", "已停用"),
        "a blank description": (lambda f: {"description": "  "}, "description", "请填写问题描述"),
        "an unknown severity": (lambda f: {"severity": "huge"}, "severity", "严重程度只能是一般或严重"),
        "found in the future": (
            lambda f: {"found_at": timezone.now() + datetime.timedelta(hours=2)},
            "found_at",
            "发现时间不能晚于现在",
        ),
        "someone else's photo": (lambda f: {"photos": [f["inspector_photo"].pk]}, "photos", "不是您上传的"),
        "a photo already used": (lambda f: {"photos": [f["used_photo"].pk]}, "photos", "已被使用"),
        "the same photo twice": (lambda f: {"photos": [f["own_photo"].pk] * 2}, "photos", "不能重复"),
        "no campaign": (lambda f: {"campaign": None}, "campaign", "请选择创建活动"),
    }


@pytest.mark.parametrize("case", list(_bad_cases()))
def test_bad_input_is_refused_in_chinese_and_nothing_is_written(
    case, office, inspector, campaign, city, market, ads_item, estate_item, round_
):
    inactive = campaign_services.unit_create(name="撤并社区", code="JIA-1-9", kind="community", parent=city.street_jia)
    Unit.objects.filter(pk=inactive.pk).update(active=False)
    inactive.refresh_from_db()
    inactive_item = services.check_item_update(
        item=services.check_item_create(
            point_type=ads_item.point_type,
            indicator=ads_item.indicator,
            text="已停用的细则",
            per_occurrence=Decimal(1),
            cap=Decimal(1),
        ),
        active=False,
    )
    used = photo_of(inspector, "used.jpg")
    services.inspection_submit(
        user=inspector,
        round_=round_,
        point=market,
        client_uuid=uuid.uuid4(),
        observations=[ObservationInput(ads_item.pk, "fail", 1, photos=[used.pk])],
    )
    fixtures = {
        "city": city,
        "market": market,
        "estate_item": estate_item,
        "inactive": inactive,
        "inactive_item": inactive_item,
        "inspector_photo": photo_of(inspector),
        "used_photo": used,
        "own_photo": photo_of(office),
    }
    build, field, message = _bad_cases()[case]
    values = {"campaign": campaign, "unit": city.street_jia, "created_by": office, **build(fixtures)}
    before = state()
    with pytest.raises(ValidationError) as caught:
        create(**values)
    assert message in " ".join(caught.value.message_dict[field])
    assert state() == before


@pytest.mark.parametrize("persona", ["inspector", "leader", "liaison_jia", "liaison_dept"])
def test_only_the_office_registers(request, persona, campaign, city):
    before = state()
    with pytest.raises(PermissionDenied, match="只有创建办可以登记问题"):
        create(campaign=campaign, unit=city.street_jia, created_by=request.getfixturevalue(persona))
    assert state() == before


def test_a_registered_problem_goes_through_the_workflow(office, liaison_jia, campaign, city):
    problem = create(campaign=campaign, unit=city.community_jia1, created_by=office, severity="severe")
    problem = problem_transition(user=office, problem=problem, data=TransitionInput(A.ASSIGN))
    assert (problem.status, problem.handler) == ("assigned", city.street_jia)  # a community's street
    problem = problem_transition(user=liaison_jia, problem=problem, data=TransitionInput(A.ACCEPT))
    assert problem.status == "rectifying"


# --- The 登记问题 page -----------------------------------------------------------------------------


def test_the_page_is_the_offices(web, office, inspector, leader, liaison_jia, liaison_yi, campaign, city):
    response = web(office).get("/inspections/problems/new/")
    html = response.content.decode()
    assert response.status_code == 200 and "登记问题" in html
    assert 'value="hotline"' in html and 'value="inspection"' not in html
    assert 'type="file"' in html and "multiple" in html and 'accept="image/*"' in html
    assert f'<option value="{campaign.pk}" selected>' in html
    for user in (inspector, leader, liaison_jia, liaison_yi):
        response = web(user).get("/inspections/problems/new/")
        assert response.status_code == 403 and "只有创建办" in response.content.decode()


def test_the_list_offers_the_page_to_the_office_only(web, office, leader, liaison_jia):
    assert ("登记问题", "/inspections/problems/new/") in web(office).get("/inspections/problems/").context[
        "extra_actions"
    ]
    for user in (leader, liaison_jia):
        html = web(user).get("/inspections/problems/").content.decode()
        assert "/inspections/problems/new/" not in html


def test_office_registers_a_problem_with_photos(web, office, campaign, market, ads_item, standard):
    response = web(office).post(
        "/inspections/problems/new/",
        {
            "campaign": campaign.pk,
            "source": "citizen",
            "severity": "severe",
            "description": "市民随手拍：市场门口垃圾堆积",
            "point": market.pk,
            "check_item": ads_item.pk,
            "found_at": "2026-11-20T08:30",
            "photos": [SimpleUploadedFile("一.jpg", jpeg()), SimpleUploadedFile("二.jpg", jpeg((1, 2, 3)))],
        },
    )
    problem = Problem.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/inspections/problems/{problem.pk}/"
    assert (problem.source, problem.status, problem.severity, problem.unit, problem.indicator) == (
        "citizen",
        "new",
        "severe",
        market.unit,
        standard,
    )
    assert timezone.localtime(problem.found_at).strftime("%Y-%m-%d %H:%M") == "2026-11-20 08:30"
    assert sorted(p.original_name for p in problem.photos.all()) == ["一.jpg", "二.jpg"]
    page = web(office).get(response["Location"]).content.decode()
    assert "市民随手拍：市场门口垃圾堆积" in page and "市民随手拍" in page and page.count("/thumb/") == 2


@pytest.mark.parametrize(
    ("form", "messages"),
    [
        ({}, ["请选择问题来源。", "请填写问题描述。"]),
        ({"source": "inspection", "description": "x"}, ["请选择问题来源。"]),
        ({"source": "leader", "description": "x"}, ["请选择属地单位（区县、街道或社区）。"]),
        ({"source": "leader", "description": "x", "point": "market", "unit": "yi"}, ["不在“乙街道”辖区内"]),
        ({"source": "leader", "description": "x", "point": "market", "check_item": "estate"}, ["不适用于"]),
        ({"source": "leader", "description": "x", "unit": "jia", "found_at": "昨天"}, ["发现时间格式应为"]),
        ({"source": "leader", "description": "x", "unit": "jia", "photos": "not-a-photo"}, ["该文件不是图片"]),
    ],
)
def test_form_errors_are_chinese_and_nothing_is_saved(web, office, campaign, city, market, estate_item, form, messages):
    refs = {"market": market.pk, "yi": city.street_yi.pk, "jia": city.street_jia.pk, "estate": estate_item.pk}
    data = {"campaign": campaign.pk, "severity": "normal"}
    for key, value in form.items():
        data[key] = refs.get(value, value)
    if data.get("photos") == "not-a-photo":
        data["photos"] = [SimpleUploadedFile("a.jpg", jpeg()), SimpleUploadedFile("b.jpg", b"%PDF-1.4 not an image")]
    before = state()
    response = web(office).post("/inspections/problems/new/", data)
    html = response.content.decode()
    assert response.status_code == 400
    for message in messages:
        assert message in html, message
    assert state() == before


def test_a_refused_post_writes_nothing(web, inspector, leader, liaison_jia, campaign, city):
    before = state()
    data = {"campaign": campaign.pk, "source": "leader", "description": "x", "unit": city.street_jia.pk}
    for user in (inspector, leader, liaison_jia):
        assert web(user).post("/inspections/problems/new/", data).status_code == 403
    assert state() == before


# --- The API ----------------------------------------------------------------------------------------


def test_office_registers_through_the_api(api, office, campaign, city, market, ads_item, standard):
    client = api(office)
    photo = client.post(
        "/api/v1/photos/", {"file": SimpleUploadedFile("p.jpg", jpeg(), "image/jpeg")}, format="multipart"
    ).json()
    response = client.post(
        "/api/v1/problems/",
        {
            "source": "superior",
            "description": "上级通报：市场公益广告不足",
            "point": market.pk,
            "check_item": ads_item.pk,
            "severity": "severe",
            "photos": [photo["id"]],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    problem = Problem.objects.get()
    assert body["id"] == problem.pk and problem.campaign == campaign  # the current campaign by default
    assert {k: body[k] for k in ("status", "source", "unit", "indicator", "deduction", "severity", "photos")} == {
        "status": "new",
        "source": "superior",
        "unit": market.unit_id,
        "indicator": standard.pk,
        "deduction": "0.00",
        "severity": "severe",
        "photos": [photo["id"]],
    }
    assert client.get("/api/v1/problems/", {"source": "superior"}).json()["count"] == 1


@pytest.mark.parametrize("persona", ["inspector", "leader", "liaison_jia", "liaison_yi", "liaison_dept"])
def test_only_the_office_registers_through_the_api(api, request, persona, campaign, city):
    before = Problem.objects.count()
    response = api(request.getfixturevalue(persona)).post(
        "/api/v1/problems/",
        {"source": "leader", "description": "x", "unit": city.street_jia.pk},
        format="json",
    )
    assert response.status_code == 403 and response.json()["detail"] == "只有创建办可以登记问题。"
    assert Problem.objects.count() == before


def test_anonymous_registers_nothing(api, campaign, city):
    response = api().post(
        "/api/v1/problems/", {"source": "leader", "description": "x", "unit": city.street_jia.pk}, format="json"
    )
    assert response.status_code in (401, 403) and not Problem.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"source": "inspection"}, "source", "督查发现的问题由督查记录生成，请选择其他来源。"),
        ({"source": "rumour"}, "source", "问题来源“rumour”无效：可填 leader、hotline、citizen、superior。"),
        ({"unit": "dept"}, "unit", "属地单位应为区县、街道(乡镇)或社区(村)，“示范市城市管理局”是市直部门。"),
        ({"description": ""}, "description", "请填写问题描述（description）。"),
        ({"unit": 999999}, "unit", "属地单位 999999 不存在。"),
        ({"photos": [999999]}, "photos", "照片 999999 不存在、已被使用或不是您上传的。"),
    ],
)
def test_bad_api_input_is_a_chinese_400_and_nothing_is_written(api, office, campaign, city, payload, field, message):
    data = {"source": "hotline", "description": "12345转办", "unit": city.street_jia.pk, **payload}
    if data["unit"] == "dept":
        data["unit"] = city.dept_cg.pk
    before = state()
    response = api(office).post("/api/v1/problems/", data, format="json")
    assert response.status_code == 400
    assert (response.json()["detail"], response.json()["fields"][field]) == (message, [message])
    assert state() == before


def test_the_api_needs_a_campaign_when_there_is_none(api, office, city):
    response = api(office).post(
        "/api/v1/problems/", {"source": "leader", "description": "x", "unit": city.street_jia.pk}, format="json"
    )
    assert response.status_code == 400 and response.json()["fields"]["campaign"] == ["请指定创建活动（campaign）。"]
    assert not Problem.objects.exists()
