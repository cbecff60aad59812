"""A department's 条 view (issue 11, part 6): a department's liaison reads the problems charged to
its department — their observation, or any sighting of them, charged to a unit of its subtree —
besides those located in, handled or co-handled by its units; it comments on them but does not act
as the handler; its home counts them; the problem page names every unit charged, linked only where
the reader may open it. And lists and counts read only the current campaign (part 2)."""

import datetime
import re
import uuid
from decimal import Decimal

import pytest

from accountability.choices import Action as A
from accountability.models import ProblemEvent
from accountability.workflow import TransitionInput, problem_transition
from campaign import services as campaign_services
from campaign.choices import CampaignLevel, Role
from indicators import services as indicator_services
from inspections import services
from inspections.choices import ProblemStatus
from inspections.models import Charge, Problem
from inspections.services import ObservationInput as Obs
from tests.conftest import _user
from tests.inspections.test_api_inspections import OBSERVED_AT, submit


def ids(response) -> list[int]:
    return sorted(row["id"] for row in response.json()["results"])


def page_ids(client, url: str) -> list[int]:
    """Every problem id a list page shows, across its pages."""
    found, number = [], 1
    while True:
        response = client.get(f"{url}{'&' if '?' in url else '?'}page={number}")
        assert response.status_code == 200
        found += [row.pk for row in response.context["page_obj"].object_list]
        if not response.context["page_obj"].has_next():
            return sorted(found)
        number += 1


def charged_to(unit) -> set[int]:
    """Computed apart from the product's query: every problem whose observation or a sighting has
    a Charge row to exactly this unit (the departments here have no units under them)."""
    observations = set(Charge.objects.filter(unit=unit).values_list("observation_id", flat=True))
    problems = set()
    for problem in Problem.objects.prefetch_related("sightings"):
        if problem.observation_id in observations or {o.pk for o in problem.sightings.all()} & observations:
            problems.add(problem.pk)
    return problems


def snapshot(problem: Problem) -> tuple:
    problem.refresh_from_db()
    return (problem.status, problem.handler_id, problem.version, problem.deadline, problem.events.count())


@pytest.fixture
def liaison_wm(city):
    """The liaison of the other department, 市文明办 (charged for the stall item only)."""
    return _user("liaison_wm", Role.LIAISON, city.dept_office)


@pytest.fixture
def quiet_point(city, market_type):
    """A market that, at first, has no department of its own."""
    return services.point_create(name="甲二农贸市场", point_type=market_type, unit=city.community_jia2, departments=[])


@pytest.fixture
def failures(inspector, round_, market, market_yi, quiet_point, ads_item, stall_item, city):
    """Failures charged to 市城管局 (the ads item at markets of its type), to 市文明办 (the stall
    item's own department), and one problem charged to no department whose later sighting is."""
    round_.points.add(quiet_point)
    submit(inspector, round_, market, [Obs(ads_item.pk, "fail", 3), Obs(stall_item.pk, "fail", 1)])
    submit(inspector, round_, market_yi, [Obs(ads_item.pk, "severe"), Obs(stall_item.pk, "pass")])
    submit(inspector, round_, quiet_point, [Obs(ads_item.pk, "fail", 1), Obs(stall_item.pk, "pass")])
    quiet = Problem.objects.get(point=quiet_point)
    assert not Charge.objects.filter(observation=quiet.observation, unit=city.dept_cg).exists()
    services.point_update(point=quiet_point, departments=[city.dept_cg])
    submit(inspector, round_, quiet_point, [Obs(ads_item.pk, "fail", 2), Obs(stall_item.pk, "pass")])
    assert quiet.sightings.count() == 1
    return quiet


def test_a_department_liaison_reads_exactly_the_problems_charged_to_it(
    api, web, failures, liaison_dept, liaison_wm, city
):
    cg, wm = charged_to(city.dept_cg), charged_to(city.dept_office)
    assert failures.pk in cg  # through its sighting only
    assert len(cg) == 3 and len(wm) == 1 and not cg & wm
    # Nothing is located in, or handled by, a department yet: what it reads is what it is charged.
    assert ids(api(liaison_dept).get("/api/v1/problems/")) == sorted(cg)
    assert page_ids(web(liaison_dept), "/inspections/problems/") == sorted(cg)
    assert ids(api(liaison_wm).get("/api/v1/problems/")) == sorted(wm)
    assert page_ids(web(liaison_wm), "/inspections/problems/") == sorted(wm)
    for pk in cg:  # each opens for its department, none for the other
        assert web(liaison_dept).get(f"/inspections/problems/{pk}/").status_code == 200
        assert web(liaison_wm).get(f"/inspections/problems/{pk}/").status_code == 404
        assert api(liaison_wm).get(f"/api/v1/problems/{pk}/").status_code == 404


def test_the_list_filters_handled_apart_from_charged(api, web, failures, office, liaison_dept, city):
    cg = sorted(charged_to(city.dept_cg))
    handled = Problem.objects.get(pk=cg[0])
    problem_transition(
        user=office,
        problem=handled,
        data=TransitionInput(action=A.ASSIGN, handler=city.dept_cg, deadline=datetime.date.today()),
    )
    # One more, handled by the department but charged elsewhere (the stall failure, 市文明办's).
    stall = Problem.objects.get(pk=next(iter(charged_to(city.dept_office))))
    problem_transition(
        user=office,
        problem=stall,
        data=TransitionInput(action=A.ASSIGN, handler=city.dept_cg, deadline=datetime.date.today()),
    )
    client = api(liaison_dept)
    assert ids(client.get("/api/v1/problems/")) == sorted([*cg, stall.pk])
    assert ids(client.get("/api/v1/problems/", {"relation": "charged"})) == cg
    assert ids(client.get("/api/v1/problems/", {"relation": "handled"})) == sorted([handled.pk, stall.pk])
    page = web(liaison_dept)
    assert page_ids(page, "/inspections/problems/?relation=charged") == cg
    assert page_ids(page, "/inspections/problems/?relation=handled") == sorted([handled.pk, stall.pk])
    html = page.get("/inspections/problems/").content.decode()
    assert "本部门被计分" in html and "本单位主办" in html
    # The office has no units of its own: the filter is not offered, and through the API reads nothing.
    assert "本部门被计分" not in web(office).get("/inspections/problems/").content.decode()
    assert ids(api(office).get("/api/v1/problems/", {"relation": "charged"})) == []
    bad = api(liaison_dept).get("/api/v1/problems/", {"relation": "mine"})
    assert bad.status_code == 400 and "relation" in bad.json()["fields"]


@pytest.mark.parametrize(
    "action", [A.ACCEPT, A.SUBMIT, A.REQUEST_EXTENSION, A.REQUEST_REASSIGN, A.ASSIGN, A.APPROVE, A.VOID]
)
def test_a_charged_department_that_does_not_handle_it_changes_nothing(
    api, web, failures, office, liaison_dept, city, action
):
    problem = Problem.objects.get(pk=min(charged_to(city.dept_cg) - {failures.pk}))
    problem_transition(
        user=office,
        problem=problem,
        data=TransitionInput(action=A.ASSIGN, handler=city.street_jia, deadline=datetime.date.today()),
    )
    before = snapshot(problem)
    body = {"action": action, "note": "我局处理", "deadline": "2030-01-01", "version": problem.version}
    response = api(liaison_dept).post(f"/api/v1/problems/{problem.pk}/transitions/", body, format="json")
    assert response.status_code == 403
    assert response.json() == {"code": "permission_denied", "detail": "您不能处理该问题。"}
    assert web(liaison_dept).post(f"/problems/{problem.pk}/transition/", body).status_code == 403
    assert snapshot(problem) == before
    actions = api(liaison_dept).get(f"/api/v1/problems/{problem.pk}/actions/").json()
    assert (actions["allowed_actions"], actions["can_comment"]) == ([], True)


def test_a_charged_department_comments_and_nothing_else_moves(api, web, failures, liaison_dept, leader, city):
    problem = Problem.objects.get(pk=min(charged_to(city.dept_cg) - {failures.pk}))
    before = snapshot(problem)
    html = web(liaison_dept).get(f"/inspections/problems/{problem.pk}/").content.decode()
    assert 'data-action="comment"' in html
    assert re.findall(r'data-action="(\w+)"', html) == ["comment"]  # no transition offered
    response = web(liaison_dept).post(f"/problems/{problem.pk}/transition/", {"action": "comment", "note": "已督促"})
    assert response.status_code == 302
    status, handler, version, deadline, events = before
    assert snapshot(problem) == (status, handler, version, deadline, events + 1)  # the version too: no form goes stale
    comment = ProblemEvent.objects.get(problem=problem)
    assert (comment.action, comment.note, comment.unit, comment.role) == ("comment", "已督促", city.dept_cg, "reader")
    assert (comment.from_status, comment.to_status) == (status, status)
    html = web(liaison_dept).get(f"/inspections/problems/{problem.pk}/").content.decode()
    assert "留言" in html and "已督促" in html
    # Through the API too; an empty comment is refused in Chinese and saves nothing.
    client = api(liaison_dept)
    empty = client.post(f"/api/v1/problems/{problem.pk}/transitions/", {"action": "comment"}, format="json")
    assert empty.status_code == 400 and empty.json()["fields"] == {"note": ["请填写留言内容。"]}
    assert (
        client.post(
            f"/api/v1/problems/{problem.pk}/transitions/", {"action": "comment", "note": "第二次"}, format="json"
        ).status_code
        == 200
    )
    # A leader reads and changes nothing, comments included.
    refused = api(leader).post(
        f"/api/v1/problems/{problem.pk}/transitions/", {"action": "comment", "note": "x"}, format="json"
    )
    assert refused.status_code == 403 and refused.json()["detail"] == "领导只读，不能留言。"
    assert problem.events.count() == events + 2


def test_the_department_home_counts_what_the_list_shows(api, web, failures, office, liaison_dept, city):
    def widget_counts() -> tuple[int, int]:
        html = web(liaison_dept).get("/").content.decode()
        total = re.search(r'data-testid="charged-count">(\d+) 个', html)
        overdue = re.search(r'data-testid="charged-overdue">超期 (\d+) 个', html)
        return int(total.group(1)), int(overdue.group(1)) if overdue else 0

    def listed(query) -> int:
        return api(liaison_dept).get(f"/api/v1/problems/?{query}").json()["count"]

    assert widget_counts() == (listed("relation=charged&open=true"), listed("relation=charged&overdue=true")) == (3, 0)
    assert web(liaison_dept).get("/inspections/problems/?relation=charged&open=true").context["total"] == 3
    mine = web(liaison_dept).get("/problems/mine/").content.decode()
    assert 'href="/inspections/problems/?relation=charged&amp;open=true" data-testid="charged-link"' in mine
    # Void one and make another overdue: both the count and the list follow.
    first, second = sorted(charged_to(city.dept_cg) - {failures.pk})
    problem_transition(user=office, problem=Problem.objects.get(pk=first), data=TransitionInput(A.VOID, note="重复"))
    Problem.objects.filter(pk=second).update(deadline=datetime.date.today() - datetime.timedelta(days=2))
    assert widget_counts() == (listed("relation=charged&open=true"), listed("relation=charged&overdue=true")) == (2, 1)


def test_a_territorial_liaison_sees_what_it_saw_and_no_department_count(api, web, failures, liaison_jia, city):
    """A street is charged for the points located in it: its list is its located and handled
    problems, as before; the department's count and filter are not offered to it."""
    located = sorted(Problem.objects.filter(unit__path__startswith=city.street_jia.path).values_list("pk", flat=True))
    assert ids(api(liaison_jia).get("/api/v1/problems/")) == located
    assert page_ids(web(liaison_jia), "/inspections/problems/") == located
    assert 'data-testid="charged-problems"' not in web(liaison_jia).get("/").content.decode()
    html = web(liaison_jia).get("/inspections/problems/").content.decode()
    assert "本单位主办" in html and "本部门被计分" not in html


def test_the_problem_page_names_every_unit_charged_linking_only_what_the_reader_opens(
    web, failures, liaison_jia, office, market, city
):
    problem = Problem.objects.get(point=market, check_item__text="核心价值观公益广告不少于2处")
    html = web(liaison_jia).get(f"/inspections/problems/{problem.pk}/").content.decode()
    block = html.split('data-testid="charged-units"')[1].split("</dd>")[0]
    assert "属地：" in block and "行业主管：" in block
    for unit in (city.community_jia1, city.street_jia):  # inside the liaison's street: links
        assert f'<a href="/units/{unit.pk}/" data-testid="charged-unit">{unit.name}</a>' in block
    for unit in (city.district_jia, city.dept_cg):  # above it, or another branch: plain text
        assert f'<span data-testid="charged-unit">{unit.name}</span>' in block
        assert f"/units/{unit.pk}/" not in block
    block = (
        web(office).get(f"/inspections/problems/{problem.pk}/").content.decode().split('data-testid="charged-units"')[1]
    )
    assert all(f'<a href="/units/{u.pk}/"' in block for u in (city.district_jia, city.dept_cg))


# --- Campaigns kept apart in lists and counts (part 2) ------------------------------------------


@pytest.fixture
def hygiene(office, inspector, market, market_type, city):
    """A second campaign (国家卫生城市复审, evaluated later: not the default) with its own item, round
    and a failure at the same market: a problem, an inspection and an observation of campaign B."""
    other = campaign_services.campaign_create(
        name="国家卫生城市复审",
        level=CampaignLevel.HEALTH,
        start_date=datetime.date(2026, 3, 1),
        evaluation_date=datetime.date(2027, 12, 31),
    )
    system = indicator_services.indicator_system_create(campaign=other, name="卫生城市标准", kind="national", year=2026)
    indicator = indicator_services.indicator_create(system=system, level=1, code="一", title="市容环境卫生")
    item = services.check_item_create(
        point_type=market_type,
        indicator=indicator,
        text="农贸市场无积存垃圾",
        per_occurrence=Decimal(1),
        cap=Decimal(2),
    )
    today = datetime.date.today()
    round_b = services.round_create(
        user=office,
        campaign=other,
        name="卫生复审第1轮",
        kind="weekly",
        start_date=today - datetime.timedelta(days=3),
        end_date=today + datetime.timedelta(days=3),
        inspectors=[inspector],
        points=[market],
    )
    inspection, _ = services.inspection_submit(
        user=inspector,
        round_=round_b,
        point=market,
        observations=[Obs(item.pk, "fail", 2)],
        client_uuid=uuid.uuid4(),
        observed_at=OBSERVED_AT,
    )
    return other, round_b, inspection, Problem.objects.get(campaign=other)


def test_lists_and_counts_read_only_the_current_campaign(
    api, web, failures, hygiene, campaign, office, liaison_dept, liaison_jia
):
    other, round_b, inspection_b, problem_b = hygiene
    observation_b = problem_b.observation
    mine = Problem.objects.filter(campaign=campaign)
    client, page = api(office), web(office)
    # The default (current) campaign: B's rows are in no list and no count.
    assert ids(client.get("/api/v1/problems/")) == sorted(mine.values_list("pk", flat=True))
    assert inspection_b.pk not in [r["id"] for r in client.get("/api/v1/inspections/").json()["results"]]
    assert round_b.pk not in [r["id"] for r in client.get("/api/v1/rounds/").json()["results"]]
    assert observation_b.pk not in [r["id"] for r in client.get("/api/v1/observations/").json()["results"]]
    assert problem_b.pk not in page_ids(page, "/inspections/problems/")
    assert round_b.pk not in [r.pk for r in page.get("/inspections/rounds/").context["page_obj"].object_list]
    assert observation_b.pk not in [r.pk for r in page.get("/inspections/observations/").context["page_obj"]]
    assert problem_b.pk not in [p.pk for p in page.get("/problems/assign/").context["page_obj"]]
    new_in_a = mine.filter(status=ProblemStatus.NEW).count()
    assert re.search(r'data-testid="count-new">(\d+)<', page.get("/").content.decode()).group(1) == str(new_in_a)
    # ?campaign=B reads B (page and API); the record itself opens whatever the campaign.
    assert ids(client.get("/api/v1/problems/", {"campaign": other.pk})) == [problem_b.pk]
    assert [r["id"] for r in client.get("/api/v1/inspections/", {"campaign": other.pk}).json()["results"]] == [
        inspection_b.pk
    ]
    assert [r["id"] for r in client.get("/api/v1/rounds/", {"campaign": other.pk}).json()["results"]] == [round_b.pk]
    assert [r["id"] for r in client.get("/api/v1/observations/", {"campaign": other.pk}).json()["results"]] == [
        observation_b.pk
    ]
    assert page_ids(page, f"/inspections/problems/?campaign={other.pk}") == [problem_b.pk]
    assert [p.pk for p in page.get(f"/problems/assign/?campaign={other.pk}").context["page_obj"]] == [problem_b.pk]
    home = page.get(f"/?campaign={other.pk}").content.decode()
    assert re.search(r'data-testid="count-new">(\d+)<', home).group(1) == "1"
    assert client.get(f"/api/v1/problems/{problem_b.pk}/").status_code == 200
    assert page.get(f"/inspections/problems/{problem_b.pk}/").status_code == 200
    # Every campaign at once, and an unknown one refused in Chinese (never another's numbers).
    assert ids(client.get("/api/v1/problems/", {"campaign": "all"})) == sorted(
        Problem.objects.values_list("pk", flat=True)
    )
    unknown = client.get("/api/v1/problems/", {"campaign": 99999})
    assert unknown.status_code == 400 and unknown.json()["fields"] == {
        "campaign": ["创建活动（campaign）“99999”不存在。"]
    }
    # A department's count and list of campaign B: the market's department is charged for B's failure.
    dept = web(liaison_dept)
    assert page_ids(dept, "/inspections/problems/?relation=charged") == sorted(charged_to_in(campaign, liaison_dept))
    assert page_ids(dept, f"/inspections/problems/?relation=charged&campaign={other.pk}") == [problem_b.pk]
    dept_home = dept.get(f"/?campaign={other.pk}").content.decode()
    assert re.search(r'data-testid="charged-count">(\d+) 个', dept_home).group(1) == "1"
    # The liaison's 我的问题 and its counts: B's problem handled by 甲街道 is not in A's.
    problem_transition(
        user=office,
        problem=problem_b,
        data=TransitionInput(action=A.ASSIGN, handler=problem_b.unit.parent, deadline=datetime.date.today()),
    )
    street = web(liaison_jia)
    assert problem_b.pk not in [p.pk for p in street.get("/problems/mine/").context["page_obj"]]
    assert [p.pk for p in street.get(f"/problems/mine/?campaign={other.pk}").context["page_obj"]] == [problem_b.pk]


def charged_to_in(campaign, liaison) -> set[int]:
    unit = liaison.memberships.get().unit
    return {pk for pk in charged_to(unit) if Problem.objects.get(pk=pk).campaign_id == campaign.pk}
