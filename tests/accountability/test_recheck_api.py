"""抽查复核 through the API and the pages, per persona: the office draws and records; leaders read;
everyone else is refused, and every refused request changes nothing."""

from __future__ import annotations

import pytest
from django.utils import timezone

from accountability.choices import Action as A
from accountability.choices import RecheckStatus
from accountability.models import ProblemEvent, Recheck, RecheckDraw
from accountability.workflow import TransitionInput, problem_transition
from inspections.choices import ProblemStatus as S
from inspections.models import Problem
from inspections.selectors import iso_week_of
from tests.accountability.test_review_pairs import after_photo

DRAWS = "/api/v1/recheck-draws/"
WEEK = iso_week_of(timezone.now())
PERSONAS = ["inspector", "leader", "liaison_jia", "liaison_dept"]


def act(user, problem, action, **kwargs):
    return problem_transition(user=user, problem=problem, data=TransitionInput(action=action, **kwargs))


@pytest.fixture
def closed(problem, office, liaison_jia, city, later):
    act(office, problem, A.ASSIGN, handler=city.street_jia, deadline=later)
    act(liaison_jia, problem, A.ACCEPT)
    act(liaison_jia, problem, A.SUBMIT, note="已整改", photos=(after_photo(liaison_jia, 81).pk,))
    return act(office, problem, A.APPROVE)


def state():
    return (
        list(RecheckDraw.objects.values_list("pk", "seed")),
        list(Recheck.objects.values_list("pk", "status", "version", "note")),
        list(Problem.objects.values_list("pk", "status", "rework_count", "version")),
        ProblemEvent.objects.count(),
    )


def test_the_office_draws_and_records_through_the_api(api, office, closed, campaign):
    client = api(office)
    response = client.post(DRAWS, {"week_from": WEEK, "week_to": WEEK, "count": 3, "seed": 99}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["seed"] == 99 and body["parameters"]["count"] == 3
    recheck = body["rechecks"][0]
    assert (recheck["problem"], recheck["status"], recheck["status_label"], recheck["outcome"]) == (
        closed.pk,
        "pending",
        "待复核",
        None,
    )
    record = f"/api/v1/rechecks/{recheck['id']}/record/"
    before = state()
    refused = client.post(record, {"outcome": False}, format="json")
    assert refused.status_code == 400 and refused.json()["fields"]["note"] == ["记录不属实时请写明情况。"]
    assert state() == before
    done = client.post(record, {"outcome": False, "note": "仍有积水", "version": 0}, format="json")
    assert done.status_code == 200, done.json()
    assert (done.json()["status"], done.json()["outcome"], done.json()["checker_name"]) == (
        "failed",
        False,
        office.get_full_name(),
    )
    closed.refresh_from_db()
    assert (closed.status, closed.rework_count) == (S.RECTIFYING, 1)
    before = state()
    again = client.post(record, {"outcome": True}, format="json")
    assert again.status_code == 409
    assert state() == before
    listed = client.get(DRAWS).json()
    assert listed["count"] == 1 and listed["results"][0]["rechecks"][0]["note"] == "仍有积水"


def test_bad_draws_answer_in_chinese(api, office, closed):
    client = api(office)
    both = client.post(DRAWS, {"week_from": WEEK, "week_to": WEEK, "count": 1, "percent": 5}, format="json")
    assert both.status_code == 400 and both.json()["fields"]["count"] == ["请填写抽取数量或抽取比例（二选一）。"]
    assert client.post(DRAWS, {"week_from": "x", "week_to": WEEK, "count": 1}, format="json").status_code == 400
    assert (
        client.post(DRAWS, {"week_from": WEEK, "week_to": WEEK, "count": 1, "extra": 1}, format="json").status_code
        == 400
    )
    assert client.get(DRAWS, {"colour": "red"}).status_code == 400
    assert RecheckDraw.objects.count() == 0


@pytest.mark.parametrize("who", PERSONAS)
def test_others_cannot_draw_or_record_and_change_nothing(api, office, closed, campaign, who, request):
    client = api(office)
    recheck = client.post(DRAWS, {"week_from": WEEK, "week_to": WEEK, "count": 1}, format="json").json()["rechecks"][0]
    before = state()
    other = api(request.getfixturevalue(who))
    assert other.post(DRAWS, {"week_from": WEEK, "week_to": WEEK, "count": 1}, format="json").status_code == 403
    record = other.post(f"/api/v1/rechecks/{recheck['id']}/record/", {"outcome": False, "note": "越权"}, format="json")
    assert record.status_code == 403
    assert other.get(DRAWS).status_code == (200 if who == "leader" else 403)
    assert state() == before


def test_anonymous_is_refused(api, office, closed):
    recheck = api(office).post(DRAWS, {"week_from": WEEK, "week_to": WEEK, "count": 1}, format="json").json()
    before = state()
    assert api().get(DRAWS).status_code == 403
    assert api().post(DRAWS, {"week_from": WEEK, "week_to": WEEK, "count": 1}, format="json").status_code == 403
    record = f"/api/v1/rechecks/{recheck['rechecks'][0]['id']}/record/"
    assert api().post(record, {"outcome": False, "note": "匿名"}, format="json").status_code == 403
    assert state() == before


def test_the_pages_draw_and_record(client, office, closed, leader):
    client.force_login(office)
    empty = client.get("/rankings/rechecks/").content.decode()
    assert "还没有抽查复核" in empty
    bad = client.post("/rankings/rechecks/", {"week_from": WEEK, "week_to": WEEK, "by": "count", "number": ""})
    assert bad.status_code == 400 and "请填写抽取数量或抽取比例" in bad.content.decode()
    response = client.post(
        "/rankings/rechecks/",
        {"week_from": WEEK, "week_to": WEEK, "by": "percent", "number": "100", "flagged_first": "on"},
    )
    assert response.status_code == 302
    draw = RecheckDraw.objects.get()
    assert draw.parameters["percent"] == 100 and draw.parameters["flagged_first"] is True
    recheck = draw.rechecks.get()
    html = client.get("/rankings/rechecks/").content.decode()
    assert f"随机种子 {draw.seed}" in html and "待复核" in html and "recheck-record-form" in html
    client.post(f"/rankings/rechecks/{recheck.pk}/record/", {"outcome": "false", "note": ""})
    assert Recheck.objects.get().status == RecheckStatus.PENDING  # refused: a note is required
    client.post(f"/rankings/rechecks/{recheck.pk}/record/", {"outcome": "false", "note": "复核仍有垃圾"})
    assert Recheck.objects.get().status == RecheckStatus.FAILED
    closed.refresh_from_db()
    assert closed.status == S.RECTIFYING
    client.force_login(leader)
    page = client.get("/rankings/rechecks/").content.decode()
    assert "不属实" in page and "recheck-draw-form" not in page and "recheck-record-form" not in page
