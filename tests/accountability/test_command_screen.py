# ruff: noqa: F811 (the dashboard tests' fixtures, imported by name, are parameters here)
"""The 大屏 (issue 16 item 3): `GET /api/v1/command-screen/` and the page `/dashboard/screen/`.

Persona by persona; what it answers against the dashboard it reuses and against the rows it
counts; the live counters against hand-placed inspections and problems (today, this week, last
week, corrected, voided, reopened, another campaign); the query count pinned cold (not growing
with the city) and warm (the cache: no query of its own); the cache per campaign and its TTL."""

from __future__ import annotations

import datetime
import itertools
import time
import uuid
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accountability import command_screen
from accountability.command_screen import live_counters
from indicators import services as indicator_services
from inspections.choices import ProblemStatus
from inspections.models import Inspection, InspectionRound, PointType, Problem
from inspections.services import point_create
from tests.accountability.test_dashboard import (  # noqa: F401 (fixtures)
    _grow,
    approved,
    forecast_world,
    monday,
    observe,
    other_campaign,
    publish,
    ranked,
    score,
    tree,
)

API = "/api/v1/command-screen/"
PAGE = "/dashboard/screen/"
TZ = timezone.get_default_timezone()
_uuid = itertools.count(10_000)


@pytest.fixture(autouse=True)
def _empty_cache():
    """The local-memory cache outlives a test: every test starts cold."""
    cache.clear()
    yield
    cache.clear()


def at(day: datetime.date, hour: int = 10, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=TZ)


# --- access -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    [("office", 200), ("leader", 200), ("inspector", 403), ("liaison_jia", 403), ("liaison_dept", 403)],
)
def test_the_screen_is_for_the_office_and_leaders(api, web, campaign, persona, status, request):
    user = request.getfixturevalue(persona)
    response = api(user).get(API)
    assert response.status_code == status
    if status == 403:
        assert response.json() == {"code": "permission_denied", "detail": "指挥大屏仅对领导和创建办开放。"}
        assert cache.get(command_screen.cache_key(campaign.pk)) is None  # refused before anything is read
    page = web(user).get(PAGE)
    assert page.status_code == status
    if status == 403:
        assert "指挥大屏仅对领导和创建办开放" in page.content.decode()


def test_anonymous_is_refused_or_sent_to_login(api, client, campaign):
    assert api().get(API).status_code in (401, 403)
    response = client.get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_writes_are_refused_and_change_nothing(api, campaign, office):
    for method in ("post", "put", "patch", "delete"):
        response = getattr(api(office), method)(API, {}, format="json")
        assert response.status_code == 405
        assert response.json()["code"] == "method_not_allowed"
    assert cache.get(command_screen.cache_key(campaign.pk)) is None


@pytest.mark.parametrize(
    ("query", "status", "field", "message"),
    [
        ({"campaign": "甲"}, 400, "campaign", "创建活动编号应为数字。"),
        ({"week": "2026-W47"}, 400, "week", "未知的查询参数“week”"),
    ],
)
def test_bad_queries_are_chinese_400s(api, campaign, leader, query, status, field, message):
    response = api(leader).get(API, query)
    assert response.status_code == status
    assert message in response.json()["fields"][field][0]


def test_an_unknown_campaign_is_a_404(api, campaign, leader, web):
    assert api(leader).get(API, {"campaign": 999999}).status_code == 404
    assert web(leader).get(PAGE, {"campaign": 999999}).status_code == 404


# --- content ------------------------------------------------------------------------------------------


def test_an_empty_campaign_answers_every_block_empty(api, web, campaign, leader):
    body = api(leader).get(API).json()
    assert body["campaign"] == campaign.pk and body["campaign_name"] == campaign.name
    assert body["evaluation_date"] == "2027-06-30"
    assert body["days_left"] == (datetime.date(2027, 6, 30) - timezone.localdate()).days
    assert (body["week"], body["week_label"], body["trend"], body["districts"], body["boards"]) == (
        None,
        "",
        [],
        [],
        [],
    )
    assert body["counters"] == {
        "inspections_today": 0,
        "inspections_week": 0,
        "problems_found_today": 0,
        "problems_found_week": 0,
        "problems_closed_today": 0,
        "problems_closed_week": 0,
        "overdue": 0,
    }
    assert body["veto_events"] == [] and body["refresh_seconds"] == 60
    html = web(leader).get(PAGE).content.decode()
    assert "还没有发布的周评比" in html and 'id="screen-data"' in html


def test_no_campaign_says_what_to_do(web, city, leader):
    html = web(leader).get(PAGE).content.decode()
    assert 'data-testid="screen-empty"' in html and "还没有创建活动" in html


def test_the_screen_answers_what_the_dashboard_shows(api, web, campaign, ranked, leader):
    page = web(leader).get("/dashboard/").context
    body = api(leader).get(API).json()
    assert body["days_left"] == page["days_left"]
    assert body["phase"]["label"] == page["phase"].get_kind_display()
    assert body["week"] == ranked.week and body["week_label"] == page["latest_label"]
    assert body["trend"] == page["trend"]["points"]
    assert [(d["unit_name"], d["rank"], d["list"], d["composite"]) for d in body["districts"]] == [
        ("甲区", 1, "red", 92.5),
        ("乙区", 2, "black", 80.0),
        ("丙区", None, None, None),
    ]
    assert [
        (b["population_label"], [r["unit_name"] for r in b["red"]], [r["unit_name"] for r in b["black"]])
        for b in body["boards"]
    ] == [
        (b["population"], [r.unit.display_name for r in b["red"]], [r.unit.display_name for r in b["black"]])
        for b in page["boards"]
    ]
    assert body["counters"]["overdue"] == page["overdue"]


def test_a_long_board_keeps_six_names_and_its_total(api, campaign, city, ranked, leader):
    from accountability.choices import Population
    from campaign import services as campaign_services
    from campaign.choices import UnitKind

    for n in range(9):
        unit = campaign_services.unit_create(
            name=f"社区{n}", code=f"SC-{n}", kind=UnitKind.COMMUNITY, parent=city.street_jia
        )
        score(ranked, unit, Population.COMMUNITY, composite=Decimal(90 - n), rank=n + 1, board="black")
    board = next(b for b in api(leader).get(API).json()["boards"] if b["population"] == Population.COMMUNITY)
    assert len(board["black"]) == command_screen.SCREEN_BOARD_NAMES == 6 and board["black_total"] == 9


def test_open_veto_events_are_on_the_screen(api, campaign, tree, city, office, leader):
    item = indicator_services.negative_item_create(system=tree["system"], title="发生重大安全责任事故", veto=True)
    day = timezone.localdate() - datetime.timedelta(days=2)
    event = indicator_services.risk_event_create(
        user=office, item=item, unit=city.district_yi, occurred_on=day, description="x"
    )
    solved = indicator_services.risk_event_create(
        user=office, item=item, unit=city.district_jia, occurred_on=day, description="y"
    )
    indicator_services.risk_event_resolve(user=office, event=solved, resolution="已整改")
    body = api(leader).get(API).json()
    assert body["veto_events"] == [
        {
            "id": event.pk,
            "unit": city.district_yi.pk,
            "unit_name": "乙区",
            "title": "发生重大安全责任事故",
            "occurred_on": day.isoformat(),
        }
    ]


# --- live counters ------------------------------------------------------------------------------------

WEDNESDAY = datetime.date(2026, 11, 25)  # its week: Monday 23 – Sunday 29 November 2026
MONDAY = datetime.date(2026, 11, 23)


@pytest.fixture
def field(campaign, other_campaign, city, office, inspector):
    """inspect(when, current=…, in_campaign=…) and problem(found, closed=…, status=…, in_campaign=…)."""
    point = point_create(
        name="甲一农贸市场", point_type=PointType.objects.get(name="集贸(农贸)市场"), unit=city.community_jia1
    )
    rounds = {
        c.pk: InspectionRound.objects.create(
            campaign=c,
            name="周督查",
            kind="weekly",
            start_date=MONDAY - datetime.timedelta(days=30),
            end_date=WEDNESDAY,
            created_by=office,
        )
        for c in (campaign, other_campaign)
    }

    def inspect(when, *, current=True, in_campaign=None):
        return Inspection.objects.create(
            round=rounds[(in_campaign or campaign).pk],
            point=point,
            inspector=inspector,
            client_uuid=uuid.UUID(int=next(_uuid)),
            submitted_at=when,
            current=current,
        )

    def problem(found, *, closed=None, status=ProblemStatus.RECTIFYING, in_campaign=None):
        return Problem.objects.create(
            campaign=in_campaign or campaign,
            source="inspection",
            unit=city.community_jia1,
            description="占道经营",
            found_at=found,
            closed_at=closed,
            status=ProblemStatus.CLOSED if closed else status,
            created_by=office,
        )

    return {"inspect": inspect, "problem": problem, "point": point, "other": other_campaign}


def test_live_counters_count_today_and_this_week(campaign, field):
    inspect, problem, other = field["inspect"], field["problem"], field["other"]
    # Inspections: today 2 (the day's first minute counts), earlier this week 1; not counted: the
    # Sunday before, a corrected record, another campaign's, tomorrow's.
    inspect(at(WEDNESDAY, 0, 0))
    inspect(at(WEDNESDAY, 23, 59))
    inspect(at(MONDAY, 0, 0))
    inspect(at(MONDAY - datetime.timedelta(days=1), 23, 59))
    inspect(at(WEDNESDAY, 9), current=False)
    inspect(at(WEDNESDAY, 9), in_campaign=other)
    inspect(at(WEDNESDAY + datetime.timedelta(days=1), 0, 0))
    # Problems found: today 1, this week 2 more (one of them closed today); not counted as found: a
    # voided one, last week's (closed this week), another campaign's.
    problem(at(WEDNESDAY, 8))
    problem(at(MONDAY, 1))
    problem(at(MONDAY, 2), closed=at(WEDNESDAY, 11))
    problem(at(WEDNESDAY, 9), status=ProblemStatus.VOID)
    problem(at(MONDAY - datetime.timedelta(days=3)), closed=at(MONDAY, 15))
    problem(at(WEDNESDAY, 9), in_campaign=other, closed=at(WEDNESDAY, 10))
    # Closed last week: not counted; reopened (no 销号 time): not counted.
    problem(at(MONDAY - datetime.timedelta(days=9)), closed=at(MONDAY - datetime.timedelta(days=1), 20))
    problem(at(MONDAY - datetime.timedelta(days=9)), status=ProblemStatus.RECTIFYING)

    with CaptureQueriesContext(connection) as queries:
        counters = live_counters(campaign=campaign, today=WEDNESDAY)
    assert len(queries) == 2
    assert counters == {
        "inspections_today": 2,
        "inspections_week": 3,
        "problems_found_today": 1,
        "problems_found_week": 3,
        "problems_closed_today": 1,
        "problems_closed_week": 2,
    }


def test_the_counters_add_up_with_the_rows(api, campaign, field, leader):
    """Today's numbers from the API against the rows, counted one by one here."""
    inspect, problem = field["inspect"], field["problem"]
    now = timezone.localtime()
    today = now.date()
    week_start = at(today - datetime.timedelta(days=today.weekday()), 0, 0)
    for minutes in (1, 30, 60 * 24 * 3, 60 * 24 * 9):
        when = now - datetime.timedelta(minutes=minutes)
        inspect(when)
        problem(when, closed=now if minutes == 30 else None)
    counters = api(leader).get(API).json()["counters"]
    rows = list(
        Inspection.objects.filter(current=True, round__campaign=campaign).values_list("submitted_at", flat=True)
    )
    local = [timezone.localtime(r) for r in rows]
    assert counters["inspections_today"] == sum(1 for r in local if r.date() == today and r <= now)
    assert counters["inspections_week"] == sum(1 for r in local if week_start <= r <= now)
    found = [timezone.localtime(p.found_at) for p in Problem.objects.filter(campaign=campaign)]
    assert counters["problems_found_today"] == sum(1 for f in found if f.date() == today)
    assert counters["problems_found_week"] == sum(1 for f in found if f >= week_start)
    assert (
        counters["problems_closed_today"]
        == Problem.objects.filter(campaign=campaign, closed_at__isnull=False).count()
        == 1
    )
    assert counters["problems_found_week"] >= counters["problems_found_today"] >= 1


# --- query counts and the cache -------------------------------------------------------------------------

# Cold: 1 memberships (scope), 2 campaigns (the current one), 3 published versions, 4 ranking and
# 红黑榜 rows, 5 phase, 6 veto events, 7 citywide rows (trend), 8 inspections, 9 problems found and
# closed, 10 overdue count. Warm: the campaign, then the cache (the scope is kept on the user
# object, which a token client re-uses). A wall screen's own refresh (a session): 1 session, 2 user,
# 3 memberships, 4 campaign.
COLD_QUERIES = 10
WARM_QUERIES = 1
WARM_SESSION_QUERIES = 4


def test_the_query_count_is_pinned_cold_and_warm_and_does_not_grow(
    api, web, campaign, city, tree, forecast_world, ranked, observe, office, leader
):
    client = api(leader)
    with CaptureQueriesContext(connection) as cold:
        assert client.get(API).status_code == 200
    with CaptureQueriesContext(connection) as warm:
        first = client.get(API).json()
    assert len(cold) == COLD_QUERIES, [q["sql"] for q in cold.captured_queries]
    assert len(warm) == WARM_QUERIES, [q["sql"] for q in warm.captured_queries]
    wall = web(leader)
    with CaptureQueriesContext(connection) as session:
        assert wall.get(API).json() == first
    assert len(session) == WARM_SESSION_QUERIES, [q["sql"] for q in session.captured_queries]
    _grow(campaign, city, tree, observe, office, 60)
    for n in range(6, 13):
        score(publish(campaign, n), score_rate=Decimal("0.8"))
    cache.clear()
    fresh = api(type(leader).objects.get(pk=leader.pk))  # a new user object: its scope read again
    with CaptureQueriesContext(connection) as grown:
        body = fresh.get(API).json()
    assert len(grown) == COLD_QUERIES, [q["sql"] for q in grown.captured_queries]
    assert body["counters"]["overdue"] == first["counters"]["overdue"] + 60
    assert len(body["trend"]) == 12


def test_the_page_reads_the_same_cached_payload(api, web, campaign, ranked, leader):
    body = api(leader).get(API).json()
    response = web(leader).get(PAGE)
    assert response.context["screen"] == body
    html = response.content.decode()
    assert f'data-api="{API}?campaign={campaign.pk}"' in html and 'data-refresh="60"' in html
    assert "vendor/echarts/echarts.min.js" in html and "vendor/leaflet/leaflet.js" in html
    assert "js/command-screen.js" in html


def test_the_cache_holds_until_its_ttl_then_recomputes(api, campaign, field, leader, settings):
    settings.COMMAND_SCREEN_REFRESH_SECONDS = 1
    client = api(leader)
    before = client.get(API).json()
    field["problem"](timezone.now())
    assert client.get(API).json()["counters"] == before["counters"]  # cached
    time.sleep(1.1)
    after = client.get(API).json()
    assert after["counters"]["problems_found_today"] == before["counters"]["problems_found_today"] + 1
    assert after["refresh_seconds"] == 1


def test_a_zero_ttl_caches_nothing(api, campaign, field, leader, settings):
    settings.COMMAND_SCREEN_REFRESH_SECONDS = 0
    client = api(leader)
    before = client.get(API).json()["counters"]["problems_found_today"]
    field["problem"](timezone.now())
    assert client.get(API).json()["counters"]["problems_found_today"] == before + 1
    assert cache.get(command_screen.cache_key(campaign.pk)) is None


def test_the_cache_is_per_campaign(api, campaign, other_campaign, field, leader):
    field["problem"](timezone.now(), in_campaign=other_campaign)
    client = api(leader)
    mine = client.get(API, {"campaign": campaign.pk}).json()
    other = client.get(API, {"campaign": other_campaign.pk}).json()
    assert (mine["campaign"], other["campaign"]) == (campaign.pk, other_campaign.pk)
    assert (mine["counters"]["problems_found_today"], other["counters"]["problems_found_today"]) == (0, 1)


# --- the dashboard's way to the screen and its exports (item 5) ------------------------------------------


def test_the_dashboard_links_to_the_screen_and_prints(web, campaign, ranked, leader):
    html = web(leader).get("/dashboard/").content.decode()
    assert 'href="/dashboard/screen/?campaign=' in html and ">大屏<" in html
    assert 'data-testid="print-dashboard"' in html and "打印" in html
    assert 'data-save-chart="trend-chart"' in html and "保存图片" in html
    assert "size: A4" in html
