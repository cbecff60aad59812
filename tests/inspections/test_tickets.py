"""12345 tickets (issue 15): the sheet import (preview, row errors with row numbers, all or nothing),
re-import updates and never duplicates (identical = nothing; a triaged ticket keeps its triage),
the hotline platform's push (office token or intake key) and the reply export."""

from __future__ import annotations

import io

import pytest
from django.core.cache import cache
from django.utils import timezone
from openpyxl import load_workbook

from inspections import triage
from inspections.choices import ProblemStatus, ReportChannel, ReportStatus
from inspections.intake import REFERENCE_PATTERN
from inspections.intake_keys import intake_key_issue, intake_key_revoke
from inspections.models import Problem, PublicCategory, Report
from tests.campaign.xlsx import make_xlsx, upload

HEADER = ["工单编号", "来电时间", "办理时限", "反映人", "联系电话", "问题类别", "诉求内容", "地址", "经度", "纬度"]
ROW_1 = ["GD-001", "2026-12-01 09:30", "2026-12-08 18:00", "张先生", "13800000001", "占道经营", "菜场门口占道经营", "湖滨路88号", "120.3", "31.5"]  # fmt: skip
ROW_2 = ["GD-002", "2026-12-02", "", "", "", "zdjy", "小区门口有摊贩", "", "", ""]


@pytest.fixture
def category(campaign):
    return PublicCategory.objects.create(campaign=campaign, code="zdjy", name="占道经营")


def sheet(*rows):
    return upload("工单.xlsx", make_xlsx([HEADER, *rows]))


def run(campaign, *rows, dry_run=False):
    return triage.tickets_import(campaign=campaign, file=sheet(*rows), dry_run=dry_run)


def tickets():
    return sorted(
        Report.objects.values_list(
            "ticket_no", "status", "description", "category__code", "category_text", "called_at", "ticket_due_at"
        )
    )


def test_import_creates_pending_hotline_reports(campaign, category):
    preview = run(campaign, ROW_1, ROW_2, dry_run=True)
    assert preview.ok and preview.created == 2 and not Report.objects.exists()
    result = run(campaign, ROW_1, ROW_2)
    assert (result.ok, result.created, result.summary) == (True, 2, "已新增 2 条，更新 0 条，0 条不变。")
    first = Report.objects.get(ticket_no="GD-001")
    assert (first.channel, first.status, first.category, first.reporter_phone) == (
        ReportChannel.HOTLINE,
        ReportStatus.PENDING,
        category,
        "13800000001",
    )
    assert REFERENCE_PATTERN.match(first.reference) and first.reference.startswith("RX")
    local = timezone.localtime(first.called_at)
    assert (local.day, local.hour, local.minute) == (1, 9, 30) and first.submitted_at == first.called_at
    assert str(first.latitude) == "31.500000" and Report.objects.get(ticket_no="GD-002").category == category


def test_unknown_category_is_kept_with_a_warning(campaign, category):
    result = run(campaign, [*ROW_1[:5], "井盖缺失", *ROW_1[6:]])
    assert result.ok and len(result.warnings) == 1 and result.warnings[0].row == 2
    report = Report.objects.get()
    assert (report.category, report.category_text) == (None, "井盖缺失")


def test_reimport_identical_changes_nothing_and_changed_updates(campaign, category):
    run(campaign, ROW_1, ROW_2)
    before = list(Report.objects.values_list("pk", "reference", "version"))
    same = run(campaign, ROW_1, ROW_2)
    assert (same.created, same.updated, same.unchanged) == (0, 0, 2)
    assert list(Report.objects.values_list("pk", "reference", "version")) == before
    changed = [*ROW_1[:6], "菜场门口占道经营，已持续一周", *ROW_1[7:]]
    again = run(campaign, changed, ROW_2)
    assert (again.created, again.updated, again.unchanged) == (0, 1, 1)
    assert again.rows[0].changes == {"诉求内容": ("菜场门口占道经营", "菜场门口占道经营，已持续一周")}
    assert Report.objects.count() == 2
    assert Report.objects.get(ticket_no="GD-001").description.endswith("已持续一周")


def test_a_triaged_ticket_keeps_its_triage(campaign, category, office, city):
    run(campaign, ROW_1)
    report = Report.objects.get()
    problem = triage.report_accept(report=report, user=office, unit=city.community_jia1)
    changed = [
        "GD-001",
        "2026-12-01 10:00",
        "2026-12-10 18:00",
        "王女士",
        "13900000000",
        "其他",
        "改写的内容",
        "",
        "",
        "",
    ]
    result = run(campaign, changed)
    assert result.updated == 1 and set(result.rows[0].changes) == {"来电时间", "办理时限"}
    report.refresh_from_db()
    assert (report.status, report.problem, report.description, report.reporter_name) == (
        ReportStatus.ACCEPTED,
        problem,
        "菜场门口占道经营",
        "张先生",
    )
    assert timezone.localtime(report.ticket_due_at).day == 10
    assert run(campaign, changed).unchanged == 1


def test_bad_rows_are_listed_with_row_numbers_and_nothing_is_written(campaign, category):
    result = run(
        campaign,
        ROW_1,
        ["", "2026-12-01", "", "", "", "", "没有编号", "", "", ""],
        ["GD-003", "昨天", "", "", "", "", "时间不对", "", "", ""],
        ["GD-004", "", "", "", "abc", "", "", "", "200", "31"],
        ["GD-001", "", "", "", "", "", "重复编号", "", "", ""],
        ["GD-005", "2026-12-05 10:00", "2026-12-01", "", "", "", "时限早于来电", "", "120", ""],
        ["GD-006", "", "", "<b>王</b>", "", "", "网页代码", "<img src=x onerror=alert(1)>", "", ""],
    )
    assert not result.ok and not Report.objects.exists()
    found = {(error.row, error.column) for error in result.errors}
    assert found == {
        (3, "工单编号"),
        (4, "来电时间"),
        (5, "联系电话"),
        (5, "诉求内容"),
        (5, "经度"),
        (6, "工单编号"),
        (7, "办理时限"),
        (7, "纬度"),
        (8, "反映人"),
        (8, "地址"),
    }
    assert all(not error.message.isascii() for error in result.errors)


def test_import_reads_the_existing_tickets_once(campaign, category, django_assert_max_num_queries):
    rows = [[f"GD-{n:03d}", "2026-12-01 09:00", "", "", "", "占道经营", f"第{n}张工单", "", "", ""] for n in range(60)]
    with django_assert_max_num_queries(12):
        assert run(campaign, *rows).created == 60
    with django_assert_max_num_queries(8):
        assert run(campaign, *rows).unchanged == 60


# --- The API -----------------------------------------------------------------------------------

PUSH = [
    {"ticket_no": "API-1", "called_at": "2026-12-01T09:30:00+08:00", "category": "占道经营", "description": "占道"},
    {"ticket_no": "API-2", "description": "井盖缺失", "category": "市政设施", "latitude": "31.5", "longitude": "120.3"},
]


def test_the_office_pushes_tickets_and_again_updates(api, office, campaign, category):
    response = api(office).post("/api/v1/hotline-tickets/", PUSH, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["created"], body["updated"], body["unchanged"]) == (2, 0, 0) and len(body["warnings"]) == 1
    references = {t["ticket_no"]: t["reference"] for t in body["tickets"]}
    assert references == dict(Report.objects.values_list("ticket_no", "reference"))
    again = api(office).post(
        "/api/v1/hotline-tickets/", [{**PUSH[0], "description": "占道经营严重"}, PUSH[1]], format="json"
    )
    assert (again.json()["created"], again.json()["updated"], again.json()["unchanged"]) == (0, 1, 1)
    assert Report.objects.count() == 2


def test_tickets_wrapped_in_an_object_are_the_same_push(api, office, campaign, category):
    response = api(office).post("/api/v1/hotline-tickets/", {"tickets": PUSH}, format="json")
    assert response.status_code == 200 and response.json()["created"] == 2
    again = api(office).post("/api/v1/hotline-tickets/", PUSH, format="json")
    assert again.json()["unchanged"] == 2 and Report.objects.count() == 2
    misspelt = api(office).post("/api/v1/hotline-tickets/", {"ticket": PUSH}, format="json")
    assert misspelt.status_code == 400 and "ticket" in misspelt.json()["fields"]
    assert Report.objects.count() == 2


def test_an_intake_key_pushes_into_its_campaign(api, office, campaign, category):
    key, raw = intake_key_issue(campaign=campaign, name="12345平台", user=office)
    client = api()
    response = client.post("/api/v1/hotline-tickets/", PUSH[:1], format="json", HTTP_X_API_KEY=raw)
    assert response.status_code == 200 and Report.objects.get().campaign == campaign
    intake_key_revoke(key=key, user=office)
    refused = client.post("/api/v1/hotline-tickets/", PUSH[1:], format="json", HTTP_X_API_KEY=raw)
    assert refused.status_code == 403 and Report.objects.count() == 1


@pytest.mark.parametrize("persona", ["leader", "inspector", "liaison_jia"])
def test_others_may_not_push(request, persona, api, campaign, category):
    response = api(request.getfixturevalue(persona)).post("/api/v1/hotline-tickets/", PUSH, format="json")
    assert response.status_code == 403 and not Report.objects.exists()
    assert api().post("/api/v1/hotline-tickets/", PUSH, format="json").status_code == 403


def test_a_masked_phone_is_kept_and_an_ended_campaign_takes_no_tickets(campaign, category):
    assert run(campaign, ["GD-010", "", "", "", "138****0001", "", "占道", "", "", ""]).ok
    assert Report.objects.get().reporter_phone == "138****0001"
    campaign.active = False
    campaign.save(update_fields=["active"])
    result = run(campaign, ["GD-011", "", "", "", "", "", "占道", "", "", ""])
    assert not result.ok and "已结束" in result.errors[0].message and Report.objects.count() == 1


def test_control_characters_are_dropped_from_a_ticket(campaign, category):
    ticket = triage.TicketInput(row=1, ticket_no="GD-009", description="井盖\x00缺失\u200b", address="湖滨路\x07")
    result, _references = triage.tickets_upsert(campaign=campaign, tickets=[ticket], dry_run=False)
    assert result.ok
    assert Report.objects.values_list("description", "address").get() == ("井盖缺失", "湖滨路")


def test_bad_pushes_are_400_and_write_nothing(api, office, campaign, category):
    client = api(office)
    for body in ([], [{"ticket_no": "X"}], [{**PUSH[0], "latitude": "91"}], [PUSH[0], PUSH[0]], {"ticket_no": "X"}):
        response = client.post("/api/v1/hotline-tickets/", body, format="json")
        assert response.status_code == 400, (body, response.json())
        assert not response.json()["detail"].isascii()
    assert not Report.objects.exists()


def test_a_push_is_bounded(api, office, campaign, category, monkeypatch):
    from inspections.api import reports

    monkeypatch.setattr(reports, "TICKETS_PER_PUSH", 2)
    body = [{"ticket_no": f"B-{n}", "description": "占道"} for n in range(3)]
    response = api(office).post("/api/v1/hotline-tickets/", body, format="json")
    assert response.status_code == 400 and "一次最多推送 2 张工单" in response.json()["detail"]
    assert not Report.objects.exists()
    assert api(office).post("/api/v1/hotline-tickets/", body[:2], format="json").status_code == 200


def test_import_api_previews_and_imports(api, office, campaign, category):
    client = api(office)
    preview = client.post("/api/v1/reports/import/?dry_run=1", {"file": sheet(ROW_1)}, format="multipart")
    assert preview.status_code == 200 and preview.json()["created"] == 1 and not Report.objects.exists()
    done = client.post("/api/v1/reports/import/", {"file": sheet(ROW_1)}, format="multipart")
    assert done.status_code == 200 and Report.objects.count() == 1


# --- The reply export --------------------------------------------------------------------------


def test_reply_export_lists_closed_and_rejected_tickets(web, office, leader, campaign, category, city):
    run(campaign, ROW_1, ROW_2, ["GD-003", "", "", "", "", "", "还在办", "", "", ""])
    first, second, third = Report.objects.order_by("ticket_no")
    problem = triage.report_accept(report=first, user=office, unit=city.community_jia1)
    triage.report_accept(report=third, user=office, unit=city.community_jia1)
    triage.report_reject(report=second, user=office, reason="不属于创建工作范围")
    closed_at = timezone.now()
    Problem.objects.filter(pk=problem.pk).update(status=ProblemStatus.CLOSED, closed_at=closed_at)
    triage.reports_problem_closed(problem=problem, note="摊贩已劝离", at=closed_at)
    response = web(office).get("/inspections/reports/replies.xlsx")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0] == tuple(triage.REPLY_HEADERS)
    assert sorted((r[0], r[2], r[3]) for r in rows[1:]) == [
        ("GD-001", "已办结", "摊贩已劝离"),
        ("GD-002", "不予受理", "不属于创建工作范围"),
    ]
    assert web(leader).get("/inspections/reports/replies.xlsx").status_code == 403


def test_a_big_ticket_sheet_is_imported_as_a_job_into_the_current_campaign(
    web, office, campaign, category, settings, django_capture_on_commit_callbacks
):
    from campaign.models import JobRun

    settings.IMPORT_JOB_ROWS = 2
    rows = [[f"JOB-{n}", "", "", "", "", "占道经营", f"工单{n}", "", "", ""] for n in range(4)]
    client = web(office)
    with django_capture_on_commit_callbacks(execute=True):
        preview = client.post("/inspections/reports/import/", {"file": sheet(*rows)})
    assert preview.status_code == 200 and not Report.objects.exists()
    preview_run = JobRun.objects.get(name="import")
    assert f"campaign={campaign.pk}" in preview_run.params["query"]  # the job knows the campaign
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/inspections/reports/import/?{preview_run.params['query']}", {"token": preview_run.params["token"]}
        )
    assert Report.objects.filter(campaign=campaign).count() == 4


def test_an_intake_key_has_an_hourly_push_limit_and_the_refused_push_writes_nothing(
    api, office, campaign, category, settings
):
    settings.HOTLINE_PUSHES_PER_KEY = 2
    cache.clear()  # the hourly counters live in the cache, keyed by the key's id
    _key, raw = intake_key_issue(campaign=campaign, name="12345平台", user=office)
    client = api()
    for _ in range(2):
        assert client.post("/api/v1/hotline-tickets/", PUSH[:1], format="json", HTTP_X_API_KEY=raw).status_code == 200
    refused = client.post("/api/v1/hotline-tickets/", PUSH[1:], format="json", HTTP_X_API_KEY=raw)
    assert refused.status_code == 429
    assert refused.json()["detail"] == "该接口密钥本小时推送次数已达上限（2 次），请稍后再试。"
    assert Report.objects.count() == 1
    # The office's own pushes are not the key's: not counted, not limited.
    assert api(office).post("/api/v1/hotline-tickets/", PUSH[1:], format="json").status_code == 200
