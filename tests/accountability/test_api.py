"""The rectification loop's API, persona by persona: transitions (scope → 404, no role → 403,
refused → 400 in Chinese, stale version → 409, each changing nothing), the history, the problem
filters and scope by handler and co-handler, notifications and the holiday calendar."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.fields import DateTimeField

from accountability.choices import Action as A
from accountability.models import CalendarDay, Notification, ProblemEvent
from inspections.choices import ProblemStatus as S
from inspections.models import Problem
from tests.accountability.test_workflow import act, photo, snapshot
from tests.campaign.xlsx import make_xlsx, upload

# What the office can do while a handler works on a problem that has no pending request.
OFFICE_WHILE_WORKING = [A.REASSIGN, A.SHELVE, A.VOID]
CONFLICT = {"code": "conflict", "detail": "该问题已被他人处理，请刷新后查看最新状态。"}


def url(problem, what="transitions"):
    return f"/api/v1/problems/{problem.pk}/{what}/"


def fresh(user):
    """The same user without the scope cached on the object, so a request pays for it."""
    return get_user_model().objects.get(pk=user.pk)


def ids(response):
    assert response.status_code == 200, response.content
    return sorted(row["id"] for row in response.json()["results"])


@pytest.fixture
def assigned(problem, office, city, later):
    return act(office, problem, A.ASSIGN, handler=city.street_jia, deadline=later)


# --- Transitions ------------------------------------------------------------------------------


def test_office_assigns_with_handler_deadline_and_co_handlers(api, office, problem, city, later):
    response = api(office).post(
        url(problem),
        {
            "action": "assign",
            "handler": city.street_jia.pk,
            "deadline": later.isoformat(),
            "co_handlers": [city.dept_cg.pk],
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == problem.pk
    assert (body["status"], body["status_display"]) == ("assigned", "待签收")
    assert body["handler"] == city.street_jia.pk
    assert body["co_handlers"] == [city.dept_cg.pk]
    assert body["deadline"] == body["original_deadline"] == later.isoformat()
    assert body["version"] == 1
    assert body["overdue"] is False
    assert body["allowed_actions"] == OFFICE_WHILE_WORKING
    problem.refresh_from_db()
    assert (problem.status, problem.handler_id, problem.deadline) == (S.ASSIGNED, city.street_jia.pk, later)


def test_liaison_of_the_handler_accepts(api, liaison_jia, assigned):
    response = api(liaison_jia).post(url(assigned), {"action": "accept", "version": assigned.version}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "rectifying"
    assert A.SUBMIT in response.json()["allowed_actions"]
    assert Problem.objects.get(pk=assigned.pk).status == S.RECTIFYING


def test_liaison_of_another_street_gets_404_and_nothing_changes(api, liaison_yi, assigned):
    before = snapshot(assigned)
    response = api(liaison_yi).post(url(assigned), {"action": "accept"}, format="json")
    assert response.status_code == 404
    assert snapshot(assigned) == before
    assert api(liaison_yi).get(url(assigned, "events")).status_code == 404
    assert api(liaison_yi).get(url(assigned, "actions")).status_code == 404
    assert api(liaison_yi).get(f"/api/v1/problems/{assigned.pk}/").status_code == 404


def test_leader_reads_but_is_refused_and_nothing_changes(api, leader, assigned):
    before = snapshot(assigned)
    response = api(leader).post(url(assigned), {"action": "accept"}, format="json")
    assert response.status_code == 403
    assert response.json() == {"code": "permission_denied", "detail": "您不能处理该问题。"}
    assert snapshot(assigned) == before
    assert api(leader).get(url(assigned, "actions")).json()["allowed_actions"] == []
    assert api(leader).get(url(assigned, "events")).status_code == 200


def test_refused_action_is_400_in_chinese_and_changes_nothing(api, office, assigned):
    before = snapshot(assigned)
    response = api(office).post(url(assigned), {"action": "approve"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["detail"] == "问题当前为“待签收”，您不能执行“复查通过（销号）”。"
    assert body["fields"] == {"action": ["问题当前为“待签收”，您不能执行“复查通过（销号）”。"]}
    assert snapshot(assigned) == before


def test_unknown_action_and_bad_input_are_400(api, office, assigned):
    before = snapshot(assigned)
    response = api(office).post(url(assigned), {"action": "explode"}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"]["action"] == ["未知的操作“explode”。"]
    response = api(office).post(url(assigned), {"action": "reassign", "handler": 999999}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == "单位不存在。"
    assert snapshot(assigned) == before


def test_stale_version_is_409_and_changes_nothing(api, office, liaison_jia, assigned):
    before = snapshot(assigned)
    response = api(liaison_jia).post(url(assigned), {"action": "accept", "version": 0}, format="json")
    assert response.status_code == 409
    assert response.json() == CONFLICT
    assert snapshot(assigned) == before


def test_submit_with_an_uploaded_photo(api, liaison_jia, assigned):
    accepted = act(liaison_jia, assigned, A.ACCEPT)
    photo_id = photo(liaison_jia)
    response = api(liaison_jia).post(
        url(accepted), {"action": "submit", "note": "已清理", "photos": [photo_id]}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "reviewing"
    event = ProblemEvent.objects.filter(problem=accepted).last()
    assert (event.action, list(event.photos.values_list("pk", flat=True))) == (A.SUBMIT, [photo_id])


def test_submit_without_a_photo_is_refused(api, liaison_jia, assigned):
    accepted = act(liaison_jia, assigned, A.ACCEPT)
    before = snapshot(accepted)
    response = api(liaison_jia).post(url(accepted), {"action": "submit", "note": "已清理"}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == "请至少上传一张整改后的照片。"
    assert snapshot(accepted) == before


# --- History and next actions -----------------------------------------------------------------


def test_events_list_is_exact(api, office, problem, city, later):
    act(office, problem, A.ASSIGN, handler=city.street_jia, deadline=later)
    event = ProblemEvent.objects.get(problem=problem)
    response = api(office).get(url(problem, "events"))
    assert response.status_code == 200
    assert response.json()["results"] == [
        {
            "id": event.pk,
            "action": "assign",
            "action_display": "交办",
            "actor": office.pk,
            "actor_name": "office_clerk",
            "role": "office",
            "from_status": "new",
            "to_status": "assigned",
            "note": "",
            "photos": [],
            "changes": {
                "handler": [None, city.street_jia.pk],
                "deadline": [None, later.isoformat()],
                "original_deadline": [None, later.isoformat()],
                "status": ["new", "assigned"],
            },
            "at": DateTimeField().to_representation(event.at),
        }
    ]


def test_events_query_count_is_pinned(api, office, liaison_jia, assigned, django_assert_num_queries):
    act(liaison_jia, assigned, A.ACCEPT)
    act(liaison_jia, assigned, A.SUBMIT, note="已清理", photos=(photo(liaison_jia), photo(liaison_jia)))
    act(office, assigned, A.REJECT, note="未清理干净")
    user = fresh(liaison_jia)
    client = api(user)
    # scope, the problem, the count, the events with their actors, their photos
    with django_assert_num_queries(5):
        response = client.get(url(assigned, "events"))
    assert [row["action"] for row in response.json()["results"]] == ["assign", "accept", "submit", "reject"]
    assert len(response.json()["results"][2]["photos"]) == 2


def test_actions_for_each_persona(api, office, liaison_jia, inspector, assigned):
    assert api(office).get(url(assigned, "actions")).json()["allowed_actions"] == OFFICE_WHILE_WORKING
    body = api(liaison_jia).get(url(assigned, "actions")).json()
    assert body["allowed_actions"] == [A.ACCEPT, A.REQUEST_REASSIGN, A.REQUEST_EXTENSION]
    assert body["labels"][A.ACCEPT] == "签收"
    assert body["version"] == assigned.version
    assert api(inspector).get(url(assigned, "actions")).json()["allowed_actions"] == []


# --- Problem list: scope and filters ----------------------------------------------------------


@pytest.fixture
def yi_problem(problem, office, city):
    """A second problem, located in 乙街道 and assigned to 市城管局."""
    other = Problem.objects.create(
        campaign=problem.campaign,
        source=problem.source,
        unit=city.street_yi,
        description="乙街道占道经营",
        found_at=timezone.now(),
        created_by=office,
    )
    return act(office, other, A.ASSIGN, handler=city.dept_cg, deadline=datetime.date.today())


def test_liaison_sees_problems_handled_or_co_handled_by_its_units(
    api, office, liaison_dept, liaison_yi, problem, city, later, yi_problem
):
    # the handler of one; charged for the other (the market type's department): it reads both
    assert ids(api(liaison_dept).get("/api/v1/problems/")) == sorted([problem.pk, yi_problem.pk])
    assert ids(api(liaison_yi).get("/api/v1/problems/")) == [yi_problem.pk]  # located there
    act(office, problem, A.ASSIGN, handler=city.street_jia, deadline=later, co_handlers=(city.street_yi,))
    assert ids(api(liaison_yi).get("/api/v1/problems/")) == sorted([problem.pk, yi_problem.pk])  # co-handler
    assert api(liaison_yi).get(f"/api/v1/problems/{problem.pk}/").json()["co_handlers"] == [city.street_yi.pk]
    # a co-handler reads it but has no role in the workflow
    assert api(liaison_yi).get(url(problem, "actions")).json()["allowed_actions"] == []
    before = snapshot(problem)
    assert api(liaison_yi).post(url(problem), {"action": "accept"}, format="json").status_code == 403
    assert snapshot(problem) == before


def test_problem_filters_handler_unit_overdue(api, office, problem, city, later, yi_problem):
    act(office, problem, A.ASSIGN, handler=city.street_jia, deadline=later)
    client = api(office)
    get = lambda query: ids(client.get(f"/api/v1/problems/?{query}"))  # noqa: E731
    assert get(f"handler={city.street_jia.pk}") == [problem.pk]
    assert get(f"handler={city.dept_cg.pk}") == [yi_problem.pk]
    assert get(f"unit={city.district_jia.pk}") == [problem.pk]  # located and handled in 甲区
    assert get(f"unit={city.district_yi.pk}") == [yi_problem.pk]
    assert get(f"unit={city.dept_cg.pk}") == [yi_problem.pk]  # as the handler
    assert get("overdue=true") == []  # due today is not overdue yet
    Problem.objects.filter(pk=yi_problem.pk).update(deadline=datetime.date.today() - datetime.timedelta(days=1))
    assert get("overdue=true") == [yi_problem.pk]
    assert get("overdue=false") == [problem.pk]
    rows = {row["id"]: row["overdue"] for row in client.get("/api/v1/problems/").json()["results"]}
    assert rows == {problem.pk: False, yi_problem.pk: True}
    Problem.objects.filter(pk=yi_problem.pk).update(shelved=True)
    assert get("overdue=true") == []
    assert get(f"status=assigned&source={problem.source}") == sorted([problem.pk, yi_problem.pk])


def test_co_handler_unit_filter(api, office, problem, city, later):
    act(office, problem, A.ASSIGN, handler=city.street_jia, deadline=later, co_handlers=(city.dept_cg,))
    assert ids(api(office).get(f"/api/v1/problems/?unit={city.dept_cg.pk}")) == [problem.pk]
    assert ids(api(office).get(f"/api/v1/problems/?unit={city.district_yi.pk}")) == []


# --- Notifications ----------------------------------------------------------------------------


def test_notifications_are_the_users_own_and_can_be_marked_read(api, office, liaison_jia, problem):
    mine = [
        Notification.objects.create(user=liaison_jia, problem=problem, key=f"k{i}", message=f"问题提醒{i}")
        for i in range(3)
    ]
    Notification.objects.create(user=office, problem=problem, key="k0", message="创建办的提醒")
    client = api(liaison_jia)
    assert ids(client.get("/api/v1/notifications/")) == sorted(n.pk for n in mine)
    response = client.post("/api/v1/notifications/read/", {"ids": [mine[0].pk]}, format="json")
    assert response.json() == {"marked": 1}
    assert ids(client.get("/api/v1/notifications/?unread=true")) == sorted(n.pk for n in mine[1:])
    assert ids(client.get("/api/v1/notifications/?unread=false")) == [mine[0].pk]
    # someone else's notification cannot be marked
    other = Notification.objects.get(user=office)
    assert client.post("/api/v1/notifications/read/", {"ids": [other.pk]}, format="json").json() == {"marked": 0}
    assert client.post("/api/v1/notifications/read/", {}, format="json").json() == {"marked": 2}
    assert not Notification.objects.filter(user=liaison_jia, read_at__isnull=True).exists()
    assert Notification.objects.get(user=office).read_at is None
    row = client.get("/api/v1/notifications/").json()["results"][0]
    assert set(row) == {
        *("id", "problem", "message", "created_at", "read_at", "read"),
        *("kind", "kind_display", "url", "link", "campaign"),  # issue 15 item 5
    }


# --- Holidays ---------------------------------------------------------------------------------


def test_holidays_list_by_year(api, liaison_jia, db):
    CalendarDay.objects.create(date=datetime.date(2031, 10, 1), kind="off", name="国庆节")
    CalendarDay.objects.create(date=datetime.date(2031, 10, 11), kind="work", name="国庆节调休")
    response = api(liaison_jia).get("/api/v1/holidays/?year=2031")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(r["date"], r["kind"], r["kind_display"], r["name"]) for r in rows] == [
        ("2031-10-01", "off", "休", "国庆节"),
        ("2031-10-11", "work", "班", "国庆节调休"),
    ]


def holiday_file():
    return upload("holidays.xlsx", make_xlsx([["日期", "类型", "名称"], ["2032-01-01", "休", "元旦"]]))


def test_holiday_import_is_office_only(api, office, leader, liaison_jia):
    before = CalendarDay.objects.count()
    for user in (leader, liaison_jia):
        response = api(user).post("/api/v1/holidays/import/", {"file": holiday_file()}, format="multipart")
        assert response.status_code == 403
        assert CalendarDay.objects.count() == before
    response = api(office).post(
        "/api/v1/holidays/import/", {"file": holiday_file(), "dry_run": "1"}, format="multipart"
    )
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 1
    assert CalendarDay.objects.count() == before
    response = api(office).post("/api/v1/holidays/import/", {"file": holiday_file()}, format="multipart")
    assert response.status_code == 200, response.content
    assert CalendarDay.objects.get(date=datetime.date(2032, 1, 1)).name == "元旦"
