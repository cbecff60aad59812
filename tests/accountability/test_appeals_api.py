"""申诉 through the API and the pages, per persona: who files, who decides, who reads; every refused
request changes nothing (week 2026-W45 of rollup_fixtures, the window's clock set inside it)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from accountability import appeals
from accountability.models import Appeal, AppealEvent, AppealStatus, RollupVersion
from accountability.rollup import rollup_compute
from inspections.models import Observation
from tests.accountability.rollup_fixtures import MONDAY, WEEK, at

LIST = "/api/v1/appeals/"


@pytest.fixture
def computed(campaign, week45, monkeypatch):
    monkeypatch.setattr(appeals, "_now", lambda: at(MONDAY + datetime.timedelta(days=7)))
    version, _ = rollup_compute(campaign=campaign, week=WEEK)
    return version


@pytest.fixture
def worst(week45):
    return Observation.objects.get(score=Decimal("0.25"))


def state():
    return (
        list(Appeal.objects.values_list("pk", "status", "version", "decision_note")),
        AppealEvent.objects.count(),
        list(Observation.objects.filter(appeal_granted=True).values_list("pk", flat=True)),
    )


def test_liaison_files_office_grants(api, computed, worst, liaison_jia, office, django_capture_on_commit_callbacks):
    response = api(liaison_jia).post(LIST, {"observation": worst.pk, "reason": "广告牌检查时正在更换"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["status_label"], body["unit_name"], body["week"]) == (
        "filed",
        "待裁定",
        "甲街道",
        WEEK,
    )
    assert [event["action"] for event in body["events"]] == ["申诉"]
    with django_capture_on_commit_callbacks(execute=True):
        decided = api(office).post(f"{LIST}{body['id']}/decide/", {"decision": "grant", "note": "属实"}, format="json")
    assert decided.status_code == 200, decided.content
    assert (decided.json()["decision"], decided.json()["status_label"]) == ("grant", "撤销")
    assert Observation.objects.get(pk=worst.pk).appeal_granted
    row = RollupVersion.objects.get(week=WEEK).scores.get(unit__name="甲街道")
    assert (row.observations, row.composite) == (3, Decimal("79.17"))
    again = api(office).post(f"{LIST}{body['id']}/decide/", {"decision": "reject", "note": "x"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "conflict"


@pytest.mark.parametrize("persona", ["anonymous", "office", "inspector", "leader", "liaison_yi", "liaison_dept_other"])
def test_filing_refused_changes_nothing(
    persona, api, computed, worst, office, inspector, leader, liaison_yi, liaison_dept, liaison_jia
):
    users = {"anonymous": None, "office": office, "inspector": inspector, "leader": leader, "liaison_yi": liaison_yi}
    target = worst
    if persona == "liaison_dept_other":  # 市城管局 is charged: it may file, but not twice
        api(liaison_jia).post(LIST, {"observation": worst.pk, "reason": "理由"}, format="json")
        users[persona] = liaison_dept
    before = state()
    response = api(users[persona]).post(LIST, {"observation": target.pk, "reason": "理由"}, format="json")
    assert response.status_code == (403 if persona == "anonymous" else 400), response.content
    if persona != "anonymous":
        body = response.json()
        assert body["code"] and body["detail"] and "fields" in body
        assert any("\u4e00" <= ch <= "\u9fff" for ch in body["detail"])
    assert state() == before


@pytest.mark.parametrize(
    "body, field",
    [
        ({"reason": "理由"}, "observation"),
        ({"observation": "x", "reason": "理由"}, "observation"),
        ({"observation": 999999, "reason": "理由"}, "observation"),
        ({"reason": ""}, "observation"),
        ("reason_blank", "reason"),
        ("extra", "unknown"),
        ("photo_not_mine", "photos"),
    ],
)
def test_bad_input_refused(body, field, api, computed, worst, liaison_jia, office):
    if body == "reason_blank":
        body = {"observation": worst.pk, "reason": "  "}
    elif body == "extra":
        body = {"observation": worst.pk, "reason": "理由", "status": "granted"}
    elif body == "photo_not_mine":
        photo = worst.photos.first()
        body = {"observation": worst.pk, "reason": "理由", "photos": [photo.pk if photo else 999999]}
    response = api(liaison_jia).post(LIST, body, format="json")
    assert response.status_code == 400, response.content
    if field != "unknown":
        assert field in response.json()["fields"], response.json()
    assert not Appeal.objects.exists()


def test_reads_are_scoped(api, computed, worst, liaison_jia, liaison_yi, liaison_dept, leader, inspector, office):
    appeal_id = api(liaison_jia).post(LIST, {"observation": worst.pk, "reason": "理由"}, format="json").json()["id"]
    for user in (office, leader, inspector, liaison_jia):
        assert api(user).get(f"{LIST}{appeal_id}/").status_code == 200
        assert [row["id"] for row in api(user).get(LIST).json()["results"]] == [appeal_id]
    for user in (liaison_yi, liaison_dept):  # 市城管局 is charged, but the appeal is 甲街道's
        assert api(user).get(f"{LIST}{appeal_id}/").status_code == 404
        assert api(user).get(LIST).json()["results"] == []
    assert api().get(f"{LIST}{appeal_id}/").status_code == 403
    assert api(office).get(f"{LIST}?week={WEEK}&status=filed").json()["count"] == 1
    assert api(office).get(f"{LIST}?colour=red").status_code == 400


@pytest.mark.parametrize("persona", ["anonymous", "inspector", "leader", "liaison_jia", "liaison_yi", "office_no_note"])
def test_deciding_refused_changes_nothing(
    persona, api, computed, worst, office, inspector, leader, liaison_jia, liaison_yi
):
    appeal_id = api(liaison_jia).post(LIST, {"observation": worst.pk, "reason": "理由"}, format="json").json()["id"]
    users = {
        "anonymous": None,
        "inspector": inspector,
        "leader": leader,
        "liaison_jia": liaison_jia,
        "liaison_yi": liaison_yi,
        "office_no_note": office,
    }
    body = {"decision": "reject", "note": ""} if persona == "office_no_note" else {"decision": "grant"}
    expected = {"anonymous": 403, "liaison_yi": 404, "office_no_note": 400}.get(persona, 403)
    before = state()
    response = api(users[persona]).post(f"{LIST}{appeal_id}/decide/", body, format="json")
    assert response.status_code == expected, response.content
    assert state() == before


def test_publish_api_needs_override_reason(api, campaign, computed, worst, liaison_jia, office):
    api(liaison_jia).post(LIST, {"observation": worst.pk, "reason": "理由"}, format="json")
    url = "/api/v1/rankings/publish/"
    refused = api(office).post(url, {"campaign": campaign.pk, "week": WEEK}, format="json")
    assert refused.status_code == 400 and "override_reason" in refused.json()["fields"]
    assert RollupVersion.objects.get(week=WEEK).status == "draft"
    published = api(office).post(
        url, {"campaign": campaign.pk, "week": WEEK, "override_reason": "领导同意先行发布"}, format="json"
    )
    assert published.status_code == 200, published.content
    assert AppealEvent.objects.filter(appeal=None, action="强制发布").count() == 1


def test_pages_file_list_and_decide(web, client, computed, worst, liaison_jia, office, campaign):
    page = web(liaison_jia).get(f"/rankings/appeals/new/{worst.pk}/")
    assert page.status_code == 200 and "提交申诉" in page.content.decode()
    refused = client.post(f"/rankings/appeals/new/{worst.pk}/", {"reason": " "})
    assert refused.status_code == 200 and "请填写申诉理由" in refused.content.decode()
    assert not Appeal.objects.exists()
    filed = client.post(f"/rankings/appeals/new/{worst.pk}/", {"reason": "已整改"})
    assert filed.status_code == 302
    appeal = Appeal.objects.get()
    listing = web(office).get(f"/rankings/appeals/?week={WEEK}")
    text = listing.content.decode()
    assert "已整改" in text and 'data-testid="appeal-decide-form"' in text
    before = state()
    client.post(f"/rankings/appeals/{appeal.pk}/decide/", {"decision": "reject", "note": "", "version": "0"})
    assert Appeal.objects.get().status == AppealStatus.FILED  # a note is required
    assert state() == before
    client.post(f"/rankings/appeals/{appeal.pk}/decide/", {"decision": "reject", "note": "照片不清", "version": "0"})
    assert Appeal.objects.get().status == AppealStatus.REJECTED
    ranking = client.get(f"/rankings/?campaign={campaign.pk}&week={WEEK}&population=street").content.decode()
    assert 'data-testid="unit-appeals"' in ranking and "维持 1" in ranking
