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
    response = post(api(office), round_)
    assert response.status_code == 400
    assert "第三方测评" in response.json()["fields"]["round"][0]
    response = api(office).post(URL, {"file": upload("结果.xlsx", sheet_bytes())}, format="multipart")
    assert response.json()["fields"]["round"] == ["请指定第三方测评批次（round）。"]


def test_unknown_fields_are_refused(api, office, tp_round):
    response = post(api(office), tp_round, colour="red")
    assert response.status_code == 400


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
