"""The problem list and page: filters by indicator subtree, week and source (pages and API alike),
and the deadline facts annotated in SQL — 超期N天 (working days on the page), 按期销号, 超期销号 —
without a query per row."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from accountability.calendar import working_days_between
from indicators import services as indicator_services
from inspections import services
from inspections.models import Problem
from inspections.selectors import deadline_fact, with_deadline_facts

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


def today() -> datetime.date:
    return timezone.localdate()


def register(office, campaign, unit, *, description="问题", check_item=None, point=None, **extra) -> Problem:
    return services.problem_create(
        campaign=campaign,
        source=extra.pop("source", "hotline"),
        unit=unit,
        point=point,
        check_item=check_item,
        description=description,
        created_by=office,
        **extra,
    )


def set_state(problem, **fields) -> Problem:
    """Test set-up only: put a problem straight into a workflow state (the workflow has its own tests)."""
    Problem.objects.filter(pk=problem.pk).update(**fields)
    problem.refresh_from_db()
    return problem


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=SHANGHAI)


@pytest.fixture
def states(office, campaign, city):
    """One problem in each deadline situation."""
    t = today()
    unit = city.street_jia
    return {
        "new": register(office, campaign, unit, description="待交办"),
        "overdue": set_state(
            register(office, campaign, unit, description="超期未改"),
            status="rectifying",
            handler=unit,
            deadline=t - datetime.timedelta(days=3),
        ),
        "due_today": set_state(
            register(office, campaign, unit, description="今天到期"), status="assigned", handler=unit, deadline=t
        ),
        "shelved": set_state(
            register(office, campaign, unit, description="挂账"),
            status="rectifying",
            handler=unit,
            deadline=t - datetime.timedelta(days=9),
            shelved=True,
        ),
        "reviewing_late": set_state(
            register(office, campaign, unit, description="复查中已超期"),
            status="reviewing",
            handler=unit,
            deadline=t - datetime.timedelta(days=1),
        ),
        "on_time": set_state(
            register(office, campaign, unit, description="按期"),
            status="closed",
            handler=unit,
            deadline=t - datetime.timedelta(days=10),
            closed_at=at(t - datetime.timedelta(days=10), 23, 30),  # 15:30 UTC: the deadline's day in Shanghai
        ),
        "late": set_state(
            register(office, campaign, unit, description="超期"),
            status="closed",
            handler=unit,
            deadline=t - datetime.timedelta(days=10),
            closed_at=at(t - datetime.timedelta(days=9), 0, 30),  # the day before in UTC, after it in Shanghai
        ),
        "void": set_state(
            register(office, campaign, unit, description="作废"),
            status="void",
            deadline=t - datetime.timedelta(days=5),
        ),
    }


# --- Annotations ------------------------------------------------------------------------------------


def test_deadline_facts_are_annotated_in_sql(states):
    rows = {p.description: p for p in with_deadline_facts(Problem.objects.all())}
    facts = {
        name: (rows[p.description].is_overdue, rows[p.description].closed_on_time, deadline_fact(rows[p.description]))
        for name, p in states.items()
    }
    assert facts == {
        "new": (False, None, ""),
        "overdue": (True, None, "超期3天"),
        "due_today": (False, None, ""),
        "shelved": (False, None, ""),
        "reviewing_late": (True, None, "超期1天"),
        "on_time": (False, True, "按期销号"),
        "late": (False, False, "超期销号"),
        "void": (False, None, ""),
    }
    assert rows["超期未改"].overdue_by == datetime.timedelta(days=3)
    assert rows["按期"].overdue_by is None


def test_annotations_filter_like_the_overdue_filter(web, office, states):
    annotated = with_deadline_facts(Problem.objects.all())
    overdue = sorted(annotated.filter(is_overdue=True).values_list("pk", flat=True))
    assert overdue == sorted([states["overdue"].pk, states["reviewing_late"].pk])
    listed = web(office).get("/inspections/problems/?overdue=true").context["object_list"]
    assert sorted(p.pk for p in listed) == overdue
    assert list(annotated.filter(closed_on_time=False).values_list("pk", flat=True)) == [states["late"].pk]


# --- The list page ---------------------------------------------------------------------------------


def test_the_list_shows_the_deadline_facts(web, office, states):
    html = web(office).get("/inspections/problems/").content.decode()
    assert html.count('data-testid="deadline-fact"') == 4
    assert '<span class="badge bg-red text-red-fg" data-testid="deadline-fact">超期3天</span>' in html
    assert '<span class="badge bg-green-lt" data-testid="deadline-fact">按期销号</span>' in html
    assert '<span class="badge bg-red-lt" data-testid="deadline-fact">超期销号</span>' in html
    assert "<th>整改期限</th>" in html


def test_the_export_has_the_deadline_and_its_fact(web, office, states):
    response = web(office).get("/inspections/problems/?export=xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    assert header[-2:] == ["整改期限", "期限情况"]
    by_description = {row[0]: row for row in rows[1:]}
    assert by_description["超期未改"][-1] == "超期3天"
    assert by_description["按期"][-1] == "按期销号"
    assert by_description["超期"][-1] == "超期销号"
    assert by_description["待交办"][-2:] in ((None, None), ("", ""))


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_fifty_more_problems_add_no_query(web, office, liaison_jia, campaign, city, states, standard):
    def grow(n: int) -> None:
        t = today()
        for i in range(n):
            problem = register(office, campaign, city.community_jia1, description=f"增长{i}")
            if i % 3 == 0:
                set_state(
                    problem, status="rectifying", handler=city.street_jia, deadline=t - datetime.timedelta(days=i)
                )
            elif i % 3 == 1:
                set_state(problem, status="closed", deadline=t, closed_at=timezone.now())

    urls = [
        "/inspections/problems/",
        "/inspections/problems/?overdue=true&source=hotline&indicator=" + str(standard.pk),
    ]
    for user in (office, liaison_jia):
        client = web(user)
        few = [_queries(client, url) for url in urls]
        grow(50)
        assert [_queries(client, url) for url in urls] == few
        Problem.objects.filter(description__startswith="增长").delete()


# --- The problem page ------------------------------------------------------------------------------


def test_the_page_shows_working_days_overdue(web, office, states):
    late = working_days_between(today() - datetime.timedelta(days=3), today())
    html = web(office).get(f"/inspections/problems/{states['overdue'].pk}/").content.decode()
    expected = f"超期{late}个工作日" if late else "已超期"
    assert f'data-testid="deadline-fact">{expected}</span>' in html


def test_the_page_names_a_deadline_just_passed_on_a_weekend(web, office, campaign, city):
    # Overdue by calendar days, yet no working day has passed: still 已超期, in red.
    t = today()
    problem = register(office, campaign, city.street_jia)
    set_state(problem, status="rectifying", handler=city.street_jia, deadline=t - datetime.timedelta(days=1))
    html = web(office).get(f"/inspections/problems/{problem.pk}/").content.decode()
    late = working_days_between(t - datetime.timedelta(days=1), t)
    assert f'data-testid="deadline-fact">{f"超期{late}个工作日" if late else "已超期"}</span>' in html
    assert "bg-red text-red-fg" in html


def test_the_page_shows_how_a_closed_problem_was_closed(web, office, states):
    client = web(office)
    on_time = client.get(f"/inspections/problems/{states['on_time'].pk}/").content.decode()
    assert 'data-testid="deadline-fact">按期销号</span>' in on_time
    late = client.get(f"/inspections/problems/{states['late'].pk}/").content.decode()
    assert 'data-testid="deadline-fact">超期销号' in late
    assert "deadline-fact" not in client.get(f"/inspections/problems/{states['new'].pk}/").content.decode()
    assert "deadline-fact" not in client.get(f"/inspections/problems/{states['shelved'].pk}/").content.decode()


def test_the_working_days_tag(states):
    from accountability.templatetags.workflow import working_days_late

    assert working_days_late(states["new"]) == 0
    assert working_days_late(states["due_today"]) == 0
    assert working_days_late(states["on_time"]) == 0
    t = today()
    assert working_days_late(states["late"]) == working_days_between(
        t - datetime.timedelta(days=10), t - datetime.timedelta(days=9)
    )


# --- Filters ---------------------------------------------------------------------------------------


@pytest.fixture
def two_trees(system, standard, market_type):
    """Ⅰ-1 市场环境 → Ⅲ-1 农贸市场秩序 (the `standard` fixture) and Ⅰ-2 公共秩序 → Ⅱ-2 → Ⅲ-2 文明交通."""
    top2 = indicator_services.indicator_create(system=system, level=1, code="Ⅰ-2", title="公共秩序", rebuild=False)
    mid2 = indicator_services.indicator_create(
        system=system, level=2, code="Ⅱ-2", title="交通秩序", parent=top2, rebuild=False
    )
    leaf2 = indicator_services.indicator_create(
        system=system, level=3, code="Ⅲ-2", title="文明交通", parent=mid2, weight=Decimal(3)
    )
    standard.refresh_from_db()
    item1 = services.check_item_create(
        point_type=market_type, indicator=standard, text="市场秩序", per_occurrence=Decimal(1), cap=Decimal(1)
    )
    item2 = services.check_item_create(
        point_type=market_type, indicator=leaf2, text="交通秩序", per_occurrence=Decimal(1), cap=Decimal(1)
    )
    return {"top1": standard.parent, "leaf1": standard, "top2": top2, "mid2": mid2, "leaf2": leaf2}, item1, item2


@pytest.fixture
def indicator_problems(office, campaign, city, two_trees):
    nodes, item1, item2 = two_trees
    return nodes, {
        "market": register(office, campaign, city.street_jia, description="市场", check_item=item1),
        "traffic": register(office, campaign, city.street_yi, description="交通", check_item=item2, source="leader"),
        "none": register(office, campaign, city.street_jia, description="无指标"),
    }


def _pks(problems, *names):
    return sorted(problems[n].pk for n in names)


@pytest.mark.parametrize(
    ("node", "expected"),
    [("top1", ["market"]), ("leaf1", ["market"]), ("top2", ["traffic"]), ("mid2", ["traffic"]), ("leaf2", ["traffic"])],
)
def test_indicator_filter_takes_in_the_subtree(web, api, office, indicator_problems, node, expected):
    nodes, problems = indicator_problems
    pk = nodes[node].pk
    page = web(office).get(f"/inspections/problems/?indicator={pk}").context["object_list"]
    assert sorted(p.pk for p in page) == _pks(problems, *expected)
    body = api(office).get("/api/v1/problems/", {"indicator": pk}).json()
    assert sorted(row["id"] for row in body["results"]) == _pks(problems, *expected)


def test_an_unknown_indicator_matches_nothing(web, api, office, indicator_problems):
    assert web(office).get("/inspections/problems/?indicator=999999").context["total"] == 0
    assert api(office).get("/api/v1/problems/", {"indicator": 999999}).json()["count"] == 0


def test_the_page_offers_projects_and_indicators_and_keeps_a_deeper_choice(web, office, indicator_problems):
    nodes, _problems = indicator_problems
    html = web(office).get("/inspections/problems/").content.decode()
    select = html.split('name="indicator"')[1].split("</select>")[0]
    assert "Ⅰ-1 市场环境" in select and "Ⅰ-2 公共秩序" in select and "　Ⅱ-2 交通秩序" in select
    assert "Ⅲ-2" not in select  # 测评内容 and 测评标准: through the query string and the API
    html = web(office).get(f"/inspections/problems/?indicator={nodes['leaf2'].pk}").content.decode()
    select = html.split('name="indicator"')[1].split("</select>")[0]
    assert f'<option value="{nodes["leaf2"].pk}" selected>' in select


def test_source_and_week_filters(web, api, office, campaign, city, indicator_problems):
    _nodes, problems = indicator_problems
    old = register(
        office,
        campaign,
        city.street_jia,
        description="上月",
        source="citizen",
        found_at=timezone.now() - datetime.timedelta(days=35),
    )
    year, week, _ = timezone.localdate().isocalendar()
    this_week = f"{year}-W{week:02d}"
    old_year, old_week, _ = timezone.localtime(old.found_at).isocalendar()
    client = web(office)
    assert sorted(p.pk for p in client.get("/inspections/problems/?source=leader").context["object_list"]) == [
        problems["traffic"].pk
    ]
    assert client.get(f"/inspections/problems/?week={this_week}").context["total"] == 3
    assert [
        p.pk for p in client.get(f"/inspections/problems/?week={old_year}-W{old_week:02d}").context["object_list"]
    ] == [old.pk]
    response = client.get("/inspections/problems/?week=2026-47")
    assert "周次格式应为 2026-W47" in response.content.decode()
    assert api(office).get("/api/v1/problems/", {"source": "citizen", "week": this_week}).json()["count"] == 0
    bad = api(office).get("/api/v1/problems/", {"week": "2026-W60"})
    assert bad.status_code == 400 and "没有第 60 周" in bad.json()["detail"]


def test_every_filter_is_on_the_page(web, office):
    form = web(office).get("/inspections/problems/").context["filter"].form
    assert {"week", "status", "source", "severity", "unit", "handler", "point_type", "overdue", "indicator"} <= set(
        form.fields
    )
    assert "check_item" not in form.fields


def test_the_api_carries_the_deadline_facts(api, office, states):
    rows = {
        row["description"]: row for row in api(office).get("/api/v1/problems/", {"page_size": 50}).json()["results"]
    }
    assert (rows["超期未改"]["days_overdue"], rows["超期未改"]["closed_on_time"]) == (3, None)
    assert (rows["按期"]["days_overdue"], rows["按期"]["closed_on_time"]) == (None, True)
    assert rows["超期"]["closed_on_time"] is False and rows["挂账"]["days_overdue"] is None


def test_the_office_homes_week_count_opens_the_list_with_that_number(web, office, campaign, city, round_):
    """本周发现问题 N on the office home opens this week's list of the campaign, which says 共 N 条
    (it used to open every problem ever found)."""
    import re

    now = timezone.now()
    register(office, campaign, city.street_jia, description="本周的问题", found_at=now)
    register(office, campaign, city.street_jia, description="上周的问题", found_at=now - datetime.timedelta(days=8))
    client = web(office)
    html = client.get("/").content.decode()
    link = re.search(r'<a href="([^"]+)" data-testid="week-problems">(\d+)</a>', html)
    assert link and link.group(2) == "1"
    listed = client.get(link.group(1).replace("&amp;", "&")).content.decode()
    assert "共 1 条" in listed and "本周的问题" in listed and "上周的问题" not in listed
