"""The 第三方测评结果导入 through the API (per persona), the page and its template download."""

from __future__ import annotations

import datetime
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from inspections import services
from inspections.models import Charge, Inspection, Observation, Problem
from tests.campaign.xlsx import make_xlsx, upload

URL = "/api/v1/third-party-results/import/"
PAGE = "/inspections/third-party-results/import/"
HEADER = ["点位", "点位类别", "所属单位", "测评标准", "扣分值", "责任部门", "测评时间", "备注"]


@pytest.fixture
def tp_round(campaign, office, ads_item, market):
    today = timezone.localdate()
    return services.round_create(
        user=office,
        campaign=campaign,
        name="第三方测评（十一月）",
        kind="third_party",
        start_date=today - datetime.timedelta(days=3),
        end_date=today + datetime.timedelta(days=3),
    )


def sheet_bytes(deduction="0.5"):
    return make_xlsx(
        [HEADER, ["甲一农贸市场", "集贸(农贸)市场", "甲一社区", "Ⅲ-1", deduction, "市城管局 市文明办", "", "摊位外溢"]]
    )


def snapshot():
    return (Inspection.objects.count(), Observation.objects.count(), Charge.objects.count(), Problem.objects.count())


def post(client, round_, *, dry_run=None, data=None, **extra):
    body = {"file": upload("结果.xlsx", data or sheet_bytes()), "round": round_.pk, **extra}
    if dry_run is not None:
        body["dry_run"] = dry_run
    return client.post(URL, body, format="multipart")


def test_the_office_previews_then_imports_through_the_api(api, office, tp_round, city):
    client = api(office)
    today = f"{timezone.localdate():%Y-%m-%d}"
    preview = post(client, tp_round, dry_run="1", observed_on=today)
    assert preview.status_code == 200, preview.json()
    body = preview.json()
    assert (body["created"], body["new_inspections"], body["dry_run"]) == (1, 1, True)
    assert snapshot() == (0, 0, 0, 0)
    done = post(client, tp_round, observed_on=today)
    assert done.status_code == 200, done.json()
    observation = Observation.objects.get()
    assert (str(observation.deduction), observation.deduction_given, str(observation.score)) == (
        "0.50",
        True,
        "0.750000",
    )
    # The row's departments, not the item's or the point's (市城管局 by the type's default).
    departments = set(observation.charges.filter(kind="department").values_list("unit__short_name", flat=True))
    assert departments == {"市城管局", "市文明办"}
    assert Problem.objects.count() == 0
    again = post(client, tp_round, observed_on=today)
    assert (again.json()["created"], again.json()["unchanged"]) == (0, 1)
    assert snapshot() == (1, 1, 3 + 2, 0)  # 甲区, 甲街道, 甲一社区 and the two departments


def test_problems_open_when_asked_through_the_api(api, office, tp_round):
    response = post(api(office), tp_round, observed_on=f"{timezone.localdate():%Y-%m-%d}", open_problems="1")
    assert response.status_code == 200, response.json()
    assert Problem.objects.count() == 1


def test_row_errors_answer_400_with_rows_and_columns(api, office, tp_round):
    response = post(api(office), tp_round, data=sheet_bytes("3"), observed_on=f"{timezone.localdate():%Y-%m-%d}")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "import_invalid"
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(2, "扣分")]
    assert snapshot() == (0, 0, 0, 0)


def test_a_round_that_is_not_third_party_is_a_field_error(api, office, round_):
    before, points = snapshot(), sorted(round_.points.values_list("pk", flat=True))
    response = post(api(office), round_)
    assert response.status_code == 400
    assert "第三方测评" in response.json()["fields"]["round"][0]
    response = api(office).post(URL, {"file": upload("结果.xlsx", sheet_bytes())}, format="multipart")
    assert response.json()["fields"]["round"] == ["请指定第三方测评批次（round）。"]
    assert snapshot() == before
    assert sorted(round_.points.values_list("pk", flat=True)) == points


def test_unknown_fields_are_refused(api, office, tp_round):
    before = snapshot()
    response = post(api(office), tp_round, colour="red")
    assert response.status_code == 400
    assert snapshot() == before
    assert tp_round.points.count() == 0


@pytest.mark.parametrize("persona", ["inspector", "leader", "liaison_jia", "liaison_yi", "liaison_dept", None])
def test_only_the_office_imports(api, request, persona, tp_round):
    client = api(request.getfixturevalue(persona) if persona else None)
    before = snapshot()
    for dry_run in ("1", None):
        response = post(client, tp_round, dry_run=dry_run, observed_on=f"{timezone.localdate():%Y-%m-%d}")
        assert response.status_code == 403
        assert "detail" in response.json() and "code" in response.json()
    assert snapshot() == before
    assert tp_round.points.count() == 0


def test_the_page_previews_and_confirms(web, office, tp_round):
    client = web(office)
    page = client.get(PAGE)
    assert page.status_code == 200
    assert tp_round.name in page.content.decode()
    query = f"?round={tp_round.pk}&date={timezone.localdate():%Y-%m-%d}"
    preview = client.post(PAGE + query, {"file": upload("结果.xlsx", sheet_bytes())})
    assert preview.status_code == 200
    token = preview.context["token"]
    assert token and snapshot() == (0, 0, 0, 0)
    done = client.post(PAGE + query, {"token": token})
    assert done.status_code == 302 and done["Location"] == tp_round.get_absolute_url()
    assert snapshot()[:2] == (1, 1)


def test_the_round_page_links_to_the_import(web, office, tp_round):
    html = web(office).get(tp_round.get_absolute_url()).content.decode()
    assert f"{PAGE}?round={tp_round.pk}" in html


def test_the_template_imports_into_the_city_as_it_is(web, office, tp_round, stall_item):
    """The template's example rows name this city's points, types, standards and departments."""
    client = web(office)
    response = client.get(f"{PAGE}?round={tp_round.pk}&template=1")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0][:4] == ("点位名称", "点位类型", "所在单位", "测评标准")
    preview = client.post(f"{PAGE}?round={tp_round.pk}", {"file": upload("模板.xlsx", response.content)})
    assert preview.status_code == 200, [e.message for e in preview.context["result"].errors]
    assert preview.context["result"].created == len(rows) - 1 >= 1


def test_a_point_under_a_district_is_charged_to_it_and_its_pages_open(web, api, office, city, market_type, ads_item):
    """A point with no street sits under its district: the chain charged is the district alone, and
    the points list, map, point page, problem list and problem page all show it."""
    point = services.point_create(name="无街道农贸市场", point_type=market_type, unit=city.district_jia)
    today = timezone.localdate()
    round_ = services.round_create(
        user=office,
        campaign=ads_item.indicator.system.campaign,
        name="区直查",
        kind="third_party",
        start_date=today,
        end_date=today,
        points=[point],
    )
    inspection, _ = services.inspection_submit(
        user=office,
        round_=round_,
        point=point,
        observations=[services.ObservationInput(ads_item.pk, "fail", deduction="0.75")],
        client_uuid="6b2f3a54-0d0e-4a55-9d57-2a1c7c9e2d11",
    )
    observation = inspection.observations.get()
    assert (str(observation.deduction), str(observation.score)) == ("0.75", "0.625000")
    territorial = observation.charges.filter(kind="territorial").values_list("unit_id", flat=True)
    assert list(territorial) == [city.district_jia.pk]
    problem = Problem.objects.get()
    assert problem.unit == city.district_jia
    client = web(office)
    for url in (
        "/inspections/points/",
        "/inspections/points/map/",
        point.get_absolute_url(),
        "/inspections/problems/",
        problem.get_absolute_url(),
        inspection.get_absolute_url(),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    assert "无街道农贸市场" in client.get("/inspections/points/").content.decode()


@pytest.mark.parametrize(
    ("given", "message"),
    [("1.5", "应在 0 到最高扣分 2 之间"), ("-1", "应在 0 到最高扣分 2 之间"), ("0.125", "最多保留两位小数")],
)
def test_inspection_submit_refuses_a_deduction_outside_the_cap_naming_the_item(
    office, round_, market, ads_item, given, message
):
    from django.core.exceptions import ValidationError

    bad = given if given != "1.5" else "2.5"
    with pytest.raises(ValidationError) as caught:
        services.inspection_submit(
            user=office,
            round_=round_,
            point=market,
            observations=[services.ObservationInput(ads_item.pk, "fail", deduction=bad)],
            client_uuid="0d6b9b0e-8f1c-4a37-8d0c-0c4b3f1f6e21",
        )
    assert f"检查项“{ads_item.text}”" in caught.value.messages[0] and message in caught.value.messages[0]
    assert snapshot() == (0, 0, 0, 0)


def test_row_departments_replace_the_items_and_open_problems_false_opens_none(office, round_, market, stall_item, city):
    inspection, _ = services.inspection_submit(
        user=office,
        round_=round_,
        point=market,
        observations=[services.ObservationInput(stall_item.pk, "fail", occurrences=1, departments=[city.dept_cg])],
        client_uuid="3f0c7f7c-3b6f-4d0b-9a53-5b0f4f3a9b10",
        open_problems=False,
    )
    observation = inspection.observations.get()
    assert list(observation.charges.filter(kind="department").values_list("unit_id", flat=True)) == [city.dept_cg.pk]
    assert (observation.deduction_given, Problem.objects.count()) == (False, 0)


def test_the_template_imports_into_the_demo_city_as_it_is(db, client):
    """The demo city (its units, indicators, check items and points) with a 第三方测评 round as the
    accountability demo adds one: the downloaded template's example rows preview without an error."""
    from django.contrib.auth import get_user_model

    from campaign.demo import seed_all

    context = seed_all(only=("campaign", "indicators", "inspections"))
    office = get_user_model().objects.get(username="office")
    today = timezone.localdate()
    round_ = services.round_create(
        user=office,
        campaign=context["campaign"],
        name="第三方测评（模拟测评机构）",
        kind="third_party",
        start_date=today - datetime.timedelta(days=7),
        end_date=today + datetime.timedelta(days=6),
    )
    client.force_login(office)
    template = client.get(f"{PAGE}?round={round_.pk}&template=1")
    rows = list(load_workbook(io.BytesIO(template.content)).active.iter_rows(values_only=True))
    assert len(rows) == 3
    assert " " in rows[1][8]  # two departments separated by a space, as evaluators write them
    preview = client.post(f"{PAGE}?round={round_.pk}", {"file": upload("模板.xlsx", template.content)})
    result = preview.context["result"]
    assert result.ok, [(e.row, e.column, e.message) for e in result.errors]
    assert (result.created, result.new_inspections) == (2, 2)
