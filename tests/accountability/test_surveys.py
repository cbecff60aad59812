"""Survey results: the import (happy path, every bad input, idempotency), the page and the API
per persona.

Districts of the test city: 甲区 (code JIA) and 乙区 (code YI). 甲街道's liaison sees 甲区's
results only, 乙街道's liaison 乙区's only, 市城管局's liaison none (a department is in no district).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from accountability.models import SurveyResult
from accountability.surveys import RateError, parse_percent, survey_import, survey_trend
from campaign.importing import RowError
from tests.campaign.xlsx import make_xlsx, upload

HEADER = ["区县", "调查日期", "知晓率", "支持率", "参与率", "满意率", "样本量"]
D1 = datetime.date(2026, 9, 15)
D2 = datetime.date(2026, 10, 15)


def sheet(*rows, header=HEADER) -> bytes:
    return make_xlsx([header, *rows])


def results() -> list[tuple]:
    """Every stored field that matters, to assert exact values and that refusals changed nothing."""
    return list(
        SurveyResult.objects.order_by("unit__code", "date").values_list(
            "unit__code", "date", "awareness", "support", "participation", "satisfaction", "sample_size"
        )
    )


GOOD = [
    ["甲区", "2026-09-15", "92.5", "93%", 0.781, "86.5", 600],
    ["YI", D1, "90", "91.25%", "70.5", "84.2%", "1,200"],
]


# ---------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    "text, expected",
    [
        ("86.5", Decimal("86.50")),
        ("86.5%", Decimal("86.50")),
        ("0.865", Decimal("86.50")),
        ("0.8653", Decimal("86.53")),
        ("100", Decimal("100.00")),
        ("1", Decimal("100.00")),
        ("0.5%", Decimal("0.50")),
        ("0", Decimal("0.00")),
        (" 72.125 ", Decimal("72.13")),
        ("", None),
    ],
)
def test_rates_are_read_as_offices_write_them(text, expected):
    assert parse_percent(text) == expected


@pytest.mark.parametrize("text", ["高", "86,5", "101", "-3", "120%", "八十"])
def test_a_rate_that_is_not_a_percent_is_refused(text):
    with pytest.raises(RateError):
        parse_percent(text)


# ---------------------------------------------------------------- import


def test_import_writes_every_row_with_exact_values(city, campaign, office):
    result = survey_import(campaign=campaign, user=office, file=upload("调查.xlsx", sheet(*GOOD)))
    assert result.ok, result.errors
    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    assert results() == [
        ("JIA", D1, Decimal("92.50"), Decimal("93.00"), Decimal("78.10"), Decimal("86.50"), 600),
        ("YI", D1, Decimal("90.00"), Decimal("91.25"), Decimal("70.50"), Decimal("84.20"), 1200),
    ]
    assert {r.label for r in result.rows} == {"甲区 2026-09-15", "乙区 2026-09-15"}


def test_preview_writes_nothing(city, campaign, office):
    result = survey_import(campaign=campaign, user=office, file=upload("调查.xlsx", sheet(*GOOD)), dry_run=True)
    assert result.ok and result.created == 2
    assert result.summary == "预览：将新增 2 条，更新 0 条，0 条不变。"
    assert SurveyResult.objects.count() == 0


def test_blank_rates_are_not_measured_and_the_sample_size_is_optional(city, campaign, office):
    result = survey_import(
        campaign=campaign, user=office, file=upload("调查.csv", "区县,调查日期,满意率\n乙区,2026/9/15,83\n".encode())
    )
    assert result.ok, result.errors
    assert results() == [("YI", D1, None, None, None, Decimal("83.00"), None)]


def test_a_district_left_blank_in_the_template_is_skipped_with_a_warning(city, campaign, office):
    """The template lists every district to fill in; the ones not surveyed stay blank."""
    content = "区县,调查日期,满意率\n甲区,,\n乙区,2026/9/15,83\n".encode()
    result = survey_import(campaign=campaign, user=office, file=upload("调查.csv", content))
    assert result.ok, result.errors
    assert [(w.row, w.value, w.message) for w in result.warnings] == [(2, "甲区", "未填写调查结果，已跳过。")]
    assert results() == [("YI", D1, None, None, None, Decimal("83.00"), None)]


def test_reimporting_the_same_file_changes_nothing(city, campaign, office):
    data = sheet(*GOOD)
    survey_import(campaign=campaign, user=office, file=upload("调查.xlsx", data))
    before = list(SurveyResult.objects.order_by("pk").values_list("pk", "imported_at", "satisfaction"))
    again = survey_import(campaign=campaign, user=office, file=upload("调查.xlsx", data))
    assert again.ok
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert list(SurveyResult.objects.order_by("pk").values_list("pk", "imported_at", "satisfaction")) == before


def test_a_corrected_rate_updates_the_same_district_and_date(city, campaign, office):
    survey_import(campaign=campaign, user=office, file=upload("调查.xlsx", sheet(*GOOD)))
    corrected = [["甲区", "2026-09-15", "92.5", "93%", 0.781, "87", 600], ["乙区", "2026-10-15", "", "", "", "85", ""]]
    result = survey_import(campaign=campaign, user=office, file=upload("调查.xlsx", sheet(*corrected)))
    assert (result.created, result.updated, result.unchanged) == (1, 1, 0)
    update = next(r for r in result.rows if r.action == "update")
    assert update.row == 2 and update.changes == {"满意率": ("86.5%", "87%")}
    assert results() == [
        ("JIA", D1, Decimal("92.50"), Decimal("93.00"), Decimal("78.10"), Decimal("87.00"), 600),
        ("YI", D1, Decimal("90.00"), Decimal("91.25"), Decimal("70.50"), Decimal("84.20"), 1200),
        ("YI", D2, None, None, None, Decimal("85.00"), None),
    ]


def test_results_of_another_campaign_are_separate(city, campaign, office):
    from campaign import services

    other = services.campaign_create(
        name="创建国家卫生城市", level="national", start_date=D1, evaluation_date=datetime.date(2027, 9, 1)
    )
    survey_import(campaign=campaign, user=office, file=upload("调查.xlsx", sheet(*GOOD)))
    result = survey_import(campaign=other, user=office, file=upload("调查.xlsx", sheet(*GOOD)))
    assert result.created == 2
    assert SurveyResult.objects.filter(campaign=other).count() == 2


def _future() -> str:
    return (timezone.localdate() + datetime.timedelta(days=1)).isoformat()


BAD_ROWS = [
    (["丙区", "2026-09-15", "", "", "", "85", ""], "区县", "丙区", "找不到单位“丙区”。相近的单位：甲区、乙区。"),
    (["甲街道", "2026-09-15", "", "", "", "85", ""], "区县", "甲街道", "“甲街道”是街道乡镇，此处应填写区县。"),
    (["", "2026-09-15", "", "", "", "85", ""], "区县", "", "区县不能为空。"),
    (
        ["乙区", "九月中旬", "", "", "", "85", ""],
        "调查日期",
        "九月中旬",
        "无法识别的日期“九月中旬”，请按 2026-10-01 的格式填写。",
    ),
    (["乙区", "", "", "", "", "85", ""], "调查日期", "", "调查日期不能为空。"),
    (
        ["乙区", "2026-02-30", "", "", "", "85", ""],
        "调查日期",
        "2026-02-30",
        "无法识别的日期“2026-02-30”，请按 2026-10-01 的格式填写。",
    ),
    (["乙区", "2026-09-15", "", "", "", "120", ""], "满意率", "120", "满意率：“120”超出范围，比率应在 0–100% 之间。"),
    (
        ["乙区", "2026-09-15", "高", "", "", "85", ""],
        "知晓率",
        "高",
        "知晓率：“高”不是有效的百分比，请填写如 86.5 或 86.5%。",
    ),
    (
        ["乙区", "2026-09-15", "", "-5%", "", "85", ""],
        "支持率",
        "-5%",
        "支持率：“-5%”超出范围，比率应在 0–100% 之间。",
    ),
    (["乙区", "2026-09-15", "", "", "", "", ""], "满意率", "", "知晓率、支持率、参与率、满意率至少填写一项。"),
    (["乙区", "2026-09-15", "", "", "", "85", "约600"], "样本量", "约600", "样本量“约600”应为不小于 0 的整数。"),
    (["甲区", "2026-09-15", "", "", "", "85", ""], "调查日期", "2026-09-15", "甲区 2026-09-15 的结果与第 2 行重复。"),
]


@pytest.mark.parametrize("bad, column, value, message", BAD_ROWS)
def test_each_bad_row_is_reported_with_its_row_number_and_nothing_is_written(
    city, campaign, office, bad, column, value, message
):
    data = sheet(["甲区", "2026-09-15", "", "", "", "85", ""], bad)
    for dry_run in (True, False):
        result = survey_import(campaign=campaign, user=office, file=upload("调查.xlsx", data), dry_run=dry_run)
        assert result.errors == [RowError(3, column, value, message)]
        assert result.summary == "文件有 1 处错误，未写入任何数据。请修改后重新上传。"
    assert SurveyResult.objects.count() == 0


def test_a_survey_dated_in_the_future_is_refused(city, campaign, office):
    data = sheet(["乙区", _future(), "", "", "", "85", ""])
    result = survey_import(campaign=campaign, user=office, file=upload("调查.xlsx", data))
    assert result.errors == [RowError(2, "调查日期", _future(), "调查日期不能晚于今天。")]
    assert SurveyResult.objects.count() == 0


def test_every_error_of_a_file_is_listed_in_row_order(city, campaign, office):
    data = sheet(["丙区", "昨天", "", "", "", "85", ""], ["乙区", "2026-09-15", "", "", "", "101", ""])
    result = survey_import(campaign=campaign, user=office, file=upload("调查.xlsx", data))
    assert [(e.row, e.column) for e in result.errors] == [(2, "区县"), (2, "调查日期"), (3, "满意率")]


def test_a_file_without_the_required_headers_is_refused(city, campaign, office):
    data = make_xlsx([["地方", "满意率"], ["乙区", "85"]])
    result = survey_import(campaign=campaign, user=office, file=upload("调查.xlsx", data))
    assert [e.message for e in result.errors] == [
        "未找到必需的表头：区县、调查日期。请确认第一张工作表的表头行包含这些列。"
    ]
    assert SurveyResult.objects.count() == 0


@pytest.mark.parametrize("persona", ["leader", "inspector", "liaison_jia"])
def test_only_the_office_may_import(city, campaign, persona, request):
    with pytest.raises(PermissionDenied):
        survey_import(campaign=campaign, user=request.getfixturevalue(persona), file=upload("a.xlsx", sheet(*GOOD)))
    assert SurveyResult.objects.count() == 0


# ---------------------------------------------------------------- reads


@pytest.fixture
def surveys(city, campaign, office):
    rows = [
        ["甲区", "2026-09-15", "", "", "", "80", 500],
        ["甲区", "2026-10-15", "", "", "", "90", 500],
        ["乙区", "2026-09-15", "", "", "", "84", 400],
        ["乙区", "2026-10-15", "88", "", "", "", 400],
    ]
    result = survey_import(campaign=campaign, user=office, file=upload("调查.xlsx", sheet(*rows)))
    assert result.ok, result.errors
    return rows


def test_trend_is_per_district_in_date_order_in_one_query(surveys, campaign, city, django_assert_num_queries):
    with django_assert_num_queries(1):
        trend = survey_trend(campaign=campaign)
    assert [(s.name, [(p.date, p.satisfaction) for p in s.points]) for s in trend] == [
        ("甲区", [(D1, Decimal("80.00")), (D2, Decimal("90.00"))]),
        ("乙区", [(D1, Decimal("84.00")), (D2, None)]),
    ]


@pytest.mark.parametrize(
    "persona, districts",
    [
        ("office", ["甲区", "乙区"]),
        ("leader", ["甲区", "乙区"]),
        ("inspector", ["甲区", "乙区"]),
        ("liaison_jia", ["甲区"]),
        ("liaison_yi", ["乙区"]),
        ("liaison_dept", []),
    ],
)
def test_the_page_shows_each_persona_its_districts(web, surveys, persona, districts, request):
    response = web(request.getfixturevalue(persona)).get("/surveys/")
    assert response.status_code == 200
    assert [row["name"] for row in response.context["rows"]] == districts
    shown = {h["entry"].name for h in response.context["history"]}
    assert shown == set(districts)
    html = response.content.decode()
    for name in {"甲区", "乙区"} - set(districts):
        assert f">{name}<" not in html


def test_the_page_marks_districts_below_the_target_and_charts_satisfaction(web, surveys, office):
    response = web(office).get("/surveys/")
    rows = {row["name"]: row for row in response.context["rows"]}
    # 甲区's latest 满意率 is 90 (up 10); 乙区's latest survey did not measure it.
    assert rows["甲区"]["below"] is False and rows["甲区"]["change"] == Decimal("10.00")
    assert rows["甲区"]["gap"] == Decimal("5.00")
    assert rows["乙区"]["below"] is False and rows["乙区"]["gap"] is None
    chart = response.context["chart"]
    assert chart["target"] == 85.0
    assert chart["series"] == [
        {"name": "甲区", "data": [["2026-09-15", 80.0], ["2026-10-15", 90.0]]},
        {"name": "乙区", "data": [["2026-09-15", 84.0]]},
    ]
    html = response.content.decode()
    assert "vendor/echarts/echarts.min.js" in html and 'data-testid="survey-chart"' in html
    assert "满意率目标" in html


def test_a_district_below_target_is_flagged(web, city, campaign, office):
    survey_import(
        campaign=campaign, user=office, file=upload("a.xlsx", sheet(["乙区", "2026-09-15", "", "", "", "81.5", ""]))
    )
    response = web(office).get("/surveys/")
    assert response.context["rows"][0]["below"] is True
    assert 'data-testid="below-target"' in response.content.decode()


def test_a_liaison_asking_for_another_district_gets_404(web, surveys, city, liaison_jia):
    client = web(liaison_jia)
    assert client.get(f"/surveys/?unit={city.district_jia.pk}").status_code == 200
    assert client.get(f"/surveys/?unit={city.district_yi.pk}").status_code == 404
    assert client.get("/surveys/?unit=999999").status_code == 404


def test_the_empty_page_says_what_to_do(web, city, campaign, office, leader):
    assert "点击“导入调查结果”" in web(office).get("/surveys/").content.decode()
    assert "创建办导入调查机构的结果后" in web(leader).get("/surveys/").content.decode()


def test_the_page_loads_no_chart_library_without_data(web, city, campaign, office):
    assert "echarts" not in web(office).get("/surveys/").content.decode()


# ---------------------------------------------------------------- import page


def test_office_previews_then_confirms_an_import(web, city, campaign, office):
    client = web(office)
    assert client.get("/surveys/import/").status_code == 200
    preview = client.post("/surveys/import/", {"file": upload("调查.xlsx", sheet(*GOOD))})
    assert preview.status_code == 200
    assert preview.context["result"].created == 2 and SurveyResult.objects.count() == 0
    confirmed = client.post("/surveys/import/", {"token": preview.context["token"]})
    assert confirmed.status_code == 302 and confirmed["Location"] == "/surveys/"
    assert results()[0][0] == "JIA" and SurveyResult.objects.count() == 2


def test_the_import_page_lists_row_errors(web, city, campaign, office):
    response = web(office).post(
        "/surveys/import/", {"file": upload("a.xlsx", sheet(["丙区", "2026-09-15", "", "", "", "85", ""]))}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "第 2 行" in html and "找不到单位“丙区”" in html
    assert SurveyResult.objects.count() == 0


@pytest.mark.parametrize("persona", ["leader", "inspector", "liaison_jia"])
def test_others_are_refused_the_import_page_and_template(web, surveys, persona, request):
    before = results()
    client = web(request.getfixturevalue(persona))
    assert client.get("/surveys/import/").status_code == 403
    assert (
        client.post(
            "/surveys/import/", {"file": upload("a.xlsx", sheet(["乙区", "2026-11-01", "", "", "", "50", ""]))}
        ).status_code
        == 403
    )
    assert client.get("/surveys/template/").status_code == 403
    assert results() == before


def test_the_template_lists_the_districts_under_the_headers(web, city, office):
    import io

    from openpyxl import load_workbook

    response = web(office).get("/surveys/template/")
    assert response.status_code == 200
    sheet_ = load_workbook(io.BytesIO(response.content)).active
    rows = [list(r) for r in sheet_.iter_rows(values_only=True)]
    assert rows[0] == HEADER
    assert [r[0] for r in rows[1:]] == ["甲区", "乙区"]


# ---------------------------------------------------------------- API


@pytest.mark.parametrize(
    "persona, districts",
    [
        ("office", {"甲区", "乙区"}),
        ("leader", {"甲区", "乙区"}),
        ("inspector", {"甲区", "乙区"}),
        ("liaison_jia", {"甲区"}),
        ("liaison_yi", {"乙区"}),
        ("liaison_dept", set()),
    ],
)
def test_api_lists_each_persona_its_districts(api, surveys, campaign, persona, districts, request):
    response = api(request.getfixturevalue(persona)).get(f"/api/v1/surveys/?campaign={campaign.pk}")
    assert response.status_code == 200
    assert {row["unit_name"] for row in response.data["results"]} == districts
    assert response.data["count"] == 2 * len(districts)


def test_api_row_fields(api, surveys, city, campaign, office):
    response = api(office).get(f"/api/v1/surveys/?unit={city.district_jia.pk}&ordering=date")
    assert response.status_code == 200
    first = response.data["results"][0]
    assert {k: first[k] for k in ("unit", "unit_name", "date", "satisfaction", "awareness", "sample_size")} == {
        "unit": city.district_jia.pk,
        "unit_name": "甲区",
        "date": "2026-09-15",
        "satisfaction": "80.00",
        "awareness": None,
        "sample_size": 500,
    }


def test_api_another_district_is_404_for_a_liaison(api, surveys, city, liaison_jia):
    response = api(liaison_jia).get(f"/api/v1/surveys/?unit={city.district_yi.pk}")
    assert response.status_code == 404
    assert response.data == {"code": "not_found", "detail": "未找到该对象，或您无权查看。"}
    assert api(liaison_jia).get(f"/api/v1/surveys/?unit={city.district_jia.pk}").data["count"] == 2


def test_api_import_by_the_office(api, city, campaign, office):
    client = api(office)
    preview = client.post(
        "/api/v1/surveys/import/", {"file": upload("a.xlsx", sheet(*GOOD)), "dry_run": "1"}, format="multipart"
    )
    assert preview.status_code == 200
    assert (preview.data["created"], preview.data["dry_run"]) == (2, True)
    assert SurveyResult.objects.count() == 0
    done = client.post(
        "/api/v1/surveys/import/", {"file": upload("a.xlsx", sheet(*GOOD)), "campaign": campaign.pk}, format="multipart"
    )
    assert done.status_code == 200 and done.data["created"] == 2
    assert done.data["detail"] == "已新增 2 条，更新 0 条，0 条不变。"
    again = client.post("/api/v1/surveys/import/", {"file": upload("a.xlsx", sheet(*GOOD))}, format="multipart")
    assert (again.data["created"], again.data["updated"], again.data["unchanged"]) == (0, 0, 2)


def test_api_import_errors_in_the_common_shape(api, city, campaign, office):
    data = sheet(["乙区", "2026-09-15", "", "", "", "120", ""])
    response = api(office).post("/api/v1/surveys/import/", {"file": upload("a.xlsx", data)}, format="multipart")
    assert response.status_code == 400
    assert response.data["code"] == "import_invalid"
    assert response.data["detail"] == "文件有 1 处错误，未写入任何数据。请修改后重新上传。"
    assert response.data["errors"] == [
        {"row": 2, "column": "满意率", "value": "120", "message": "满意率：“120”超出范围，比率应在 0–100% 之间。"}
    ]
    assert SurveyResult.objects.count() == 0


def test_api_import_of_an_unknown_campaign_is_refused(api, city, campaign, office):
    response = api(office).post(
        "/api/v1/surveys/import/", {"file": upload("a.xlsx", sheet(*GOOD)), "campaign": 999999}, format="multipart"
    )
    assert response.status_code == 400
    assert response.data["fields"] == {"campaign": ["创建活动不存在。"]}
    assert SurveyResult.objects.count() == 0


@pytest.mark.parametrize(
    "persona, status",
    [(None, 403), ("leader", 403), ("inspector", 403), ("liaison_jia", 403), ("liaison_dept", 403)],
)
def test_api_import_is_refused_to_others_and_changes_nothing(api, surveys, persona, status, request):
    before = results()
    user = request.getfixturevalue(persona) if persona else None
    data = sheet(["乙区", "2026-09-15", "", "", "", "50", ""], ["甲区", "2026-11-01", "", "", "", "50", ""])
    response = api(user).post("/api/v1/surveys/import/", {"file": upload("a.xlsx", data)}, format="multipart")
    assert response.status_code == status
    assert set(response.data) == {"code", "detail"}
    assert results() == before
