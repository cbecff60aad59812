"""承诺事项 API (issue 16 item 2): per persona, the shape of answers (`status`, `is_overdue`,
`days_overdue`, `events`), refusals that change nothing, and the list's query count pinned."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from accountability.choices import CommitmentStatus
from accountability.commitments import commitment_create
from accountability.models import Commitment, CommitmentEvent
from campaign.models import WorkGroup
from inspections.services import photo_upload
from tests.accountability.test_recheck_rollup import png

URL = "/api/v1/commitments/"
SOON = (timezone.localdate() + datetime.timedelta(days=7)).isoformat()


def snapshot():
    return (
        list(Commitment.objects.order_by("pk").values_list("pk", "status", "version", "content", "due_date")),
        CommitmentEvent.objects.count(),
    )


@pytest.fixture
def made(office, campaign, city):
    return commitment_create(
        user=office,
        campaign=campaign,
        unit=city.street_jia,
        content="本周内清理占道经营",
        due_date=timezone.localdate(),
    )


def test_the_office_records_through_the_api(api, office, campaign, city):
    answer = api(office).post(
        URL,
        {
            "unit": city.street_jia.pk,
            "content": "月底前更新公益广告",
            "due_date": SOON,
            "answerer": "张主任",
            "week": "2026-W48",
        },
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["status"] == "open" and body["status_label"] == "进行中"
    assert body["is_overdue"] is False and body["days_overdue"] == 0
    assert [e["action"] for e in body["events"]] == ["登记"]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"content": "x", "due_date": SOON}, "unit", "请选择承诺单位。"),
        ({"unit": "U", "content": "", "due_date": SOON}, "content", "请填写承诺内容。"),
        ({"unit": "U", "content": "x"}, "due_date", "请填写完成时限。"),
        ({"unit": "U", "content": "x", "due_date": "2020-01-01"}, "due_date", "完成时限不能早于今天"),
        ({"unit": "U", "content": "x", "due_date": "明天"}, "due_date", "完成时限的日期格式应为 2026-12-31。"),
    ],
)
def test_bad_input_is_a_400_in_chinese_and_writes_nothing(api, office, campaign, city, data, field, message):
    data = {key: city.street_jia.pk if value == "U" else value for key, value in data.items()}
    before = snapshot()
    answer = api(office).post(URL, data, format="json")
    assert answer.status_code == 400
    assert message in str(answer.json()["fields"][field])
    assert snapshot() == before


def test_personas(api, made, campaign, city, office, leader, inspector, liaison_jia, liaison_yi):
    before = snapshot()
    for user in (liaison_jia, inspector):
        answer = api(user).post(URL, {"unit": city.street_jia.pk, "content": "越权", "due_date": SOON}, format="json")
        assert answer.status_code == 403
    assert snapshot() == before
    assert [row["id"] for row in api(liaison_jia).get(URL).json()["results"]] == [made.pk]
    assert api(liaison_yi).get(URL).json()["results"] == []
    assert api(inspector).get(URL).json()["results"] == []
    assert api(leader).get(URL).json()["count"] == 1
    assert api(liaison_yi).get(f"{URL}{made.pk}/").status_code == 404
    assert api(liaison_yi).post(f"{URL}{made.pk}/report-done/", {"note": "x"}, format="json").status_code == 404
    assert api(leader).patch(f"{URL}{made.pk}/", {"content": "改"}, format="json").status_code == 403
    assert snapshot() == before


def test_the_workflow_through_the_api(api, made, office, leader, liaison_jia, campaign, city):
    photo = photo_upload(user=liaison_jia, file=png(91))
    answer = api(liaison_jia).post(
        f"{URL}{made.pk}/report-done/", {"note": "已清理", "photos": [photo.pk], "version": 0}, format="json"
    )
    assert answer.status_code == 200, answer.json()
    assert answer.json()["status"] == "reported" and answer.json()["events"][-1]["photos"] == [photo.pk]
    before = snapshot()
    refused = api(liaison_jia).post(f"{URL}{made.pk}/confirm/", {}, format="json")
    assert refused.status_code == 403 and "联络员不能确认" in refused.json()["detail"]
    stale = api(office).post(f"{URL}{made.pk}/confirm/", {"version": 0}, format="json")
    assert stale.status_code == 409
    assert api(office).post(f"{URL}{made.pk}/return/", {"note": ""}, format="json").status_code == 400
    assert snapshot() == before
    group = WorkGroup.objects.create(campaign=campaign, name="甲区工作组")
    group.units.add(city.district_jia)
    group.leaders.add(leader)
    done = api(leader).post(f"{URL}{made.pk}/confirm/", {"version": 1}, format="json")
    assert done.status_code == 200 and done.json()["status_label"] == "已完成"
    assert api(office).post(f"{URL}{made.pk}/cancel/", {"note": "合并"}, format="json").status_code == 400


def test_patch_and_overdue_filter(api, made, office):
    answer = api(office).patch(f"{URL}{made.pk}/", {"answerer": "王主任"}, format="json")
    assert answer.status_code == 200 and answer.json()["answerer"] == "王主任"
    assert answer.json()["events"][-1]["changes"] == {"answerer": ["", "王主任"]}
    Commitment.objects.filter(pk=made.pk).update(due_date=datetime.date(2026, 1, 5))
    rows = api(office).get(URL, {"status": "overdue"}).json()["results"]
    assert [row["id"] for row in rows] == [made.pk]
    assert rows[0]["is_overdue"] is True and rows[0]["status_label"] == "逾期" and rows[0]["days_overdue"] > 100
    assert api(office).get(URL, {"status": "open"}).json()["results"] == []
    assert api(office).get(URL, {"due_from": "明天"}).status_code == 400
    misspelt = api(office).get(URL, {"status": "overdu"})
    assert misspelt.status_code == 400 and misspelt.json()["fields"]["status"][0].startswith("状态应为")


def test_the_lists_query_count_does_not_grow(api, office, campaign, city, django_assert_max_num_queries):
    for index in range(12):
        commitment = commitment_create(
            user=office,
            campaign=campaign,
            unit=city.street_jia if index % 2 else city.street_yi,
            content=f"承诺 {index}",
            due_date=timezone.localdate() + datetime.timedelta(days=index),
        )
        CommitmentEvent.objects.create(commitment=commitment, action="修改", actor=office)
    Commitment.objects.update(due_date=datetime.date(2026, 1, 5))
    client = api(office)
    with django_assert_max_num_queries(9):
        answer = client.get(URL)
    assert answer.json()["count"] == 12 and all(row["days_overdue"] > 0 for row in answer.json()["results"])


def test_pages_list_detail_and_export(web, office, made, liaison_yi, client):
    page = web(office).get("/commitments/")
    assert page.status_code == 200 and "本周内清理占道经营" in page.content.decode()
    assert web(office).get(f"/commitments/{made.pk}/").status_code == 200
    export = web(office).get("/commitments/?export=xlsx")
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    empty = web(office).get("/commitments/?status=done").content.decode()
    assert "没有承诺事项" in empty
    client.logout()
    assert web(liaison_yi).get(f"/commitments/{made.pk}/").status_code == 404


def test_the_form_refuses_in_chinese_and_records(web, office, city, campaign):
    client = web(office)
    answer = client.post("/commitments/new/", {"unit": "", "content": "", "due_date": ""})
    assert answer.status_code == 400
    text = answer.content.decode()
    assert "请选择承诺单位。" in text and "请填写承诺内容。" in text and "请填写完成时限。" in text
    assert not Commitment.objects.exists()
    answer = client.post(
        "/commitments/new/", {"unit": city.street_jia.pk, "content": "两周内完成", "due_date": SOON, "problems": "x"}
    )
    assert answer.status_code == 400 and "问题编号应为整数" in answer.content.decode()
    answer = client.post("/commitments/new/", {"unit": city.street_jia.pk, "content": "两周内完成", "due_date": SOON})
    assert answer.status_code == 302
    assert Commitment.objects.get().status == CommitmentStatus.OPEN


def test_the_unit_page_and_the_case_show_the_commitments(web, office, made, city, campaign):
    from accountability.models import AccountabilityCase

    page = web(office).get(f"/rankings/units/{city.street_jia.pk}/").content.decode()
    assert "承诺事项" in page and "本周内清理占道经营" in page
    case = AccountabilityCase.objects.create(
        campaign=campaign,
        week="2026-W45",
        unit=city.street_jia,
        rule="commitment_overdue",
        level="interview",
        reason="承诺事项连续两周逾期未完成 1 项",
        evidence={"commitments": [made.pk]},
    )
    detail = web(office).get(f"/rankings/cases/{case.pk}/").content.decode()
    assert "逾期的承诺事项" in detail and f"/commitments/{made.pk}/" in detail


def test_the_list_pages_query_count_does_not_grow(web, office, campaign, city, django_assert_max_num_queries):
    client = web(office)

    def record(count):
        for index in range(count):
            commitment_create(
                user=office,
                campaign=campaign,
                unit=city.street_jia,
                content=f"承诺 {index}",
                due_date=timezone.localdate(),
            )
        Commitment.objects.update(due_date=datetime.date(2026, 1, 5))

    record(2)
    with django_assert_max_num_queries(30) as few:
        assert client.get("/commitments/").status_code == 200
    record(20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get("/commitments/")
    assert page.content.decode().count('data-testid="commitment-row"') == 22
