"""一票否决 in the numbers (issue 11 part 1), against a hand-computed fixture.

Three districts, minimum sample 2 (from week45), composite = 70 × 得分率 + 30 × 按期整改率:

2026-W44 (Mon 26 Oct – Sun 1 Nov), no problem due anywhere (full 30):
  甲区 (甲一农贸市场): 1, 1          → 100.00, rank 1
  丙区 (丙街道农贸市场): 1, 0.75     → 70 × 0.875 + 30 = 91.25, rank 2
  乙区 (乙街道农贸市场): 0.5, 0.5    → 70 × 0.5 + 30 = 65.00, rank 3
2026-W45 (Mon 2 Nov – Sun 8 Nov), week45's observations and problems plus 丙区's:
  乙区: 1, 1, 1                      → 100.00 (the best)
  丙区: 1, 0.5                       → 70 × 0.75 + 30 = 82.50
  甲区: 0.75 mean, on time 1 of 2    → 70 × 0.75 + 30 × 0.5 = 67.50
A veto event against 乙区 open in W45: 乙区 is 否决 (rank NULL, 黑榜, never 红榜), 丙区 rank 1
(change 2 − 1 = +1), 甲区 rank 2 (change 1 − 2 = −1). With the default k = 3 over three placed
districts, k = 1: 红榜 丙区, 黑榜 乙区 alone (the vetoed fill the bottom place). With lines 90 / 70:
乙区 black (vetoed), 丙区 none, 甲区 black (67.50 < 70).
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest

from accountability.choices import BoardList, CaseRule
from accountability.dashboard import forecast
from accountability.models import AccountabilityCase, UnitWeekScore
from accountability.rollup import VETO_RULE_TEXT, rollup_compute, rollup_publish
from campaign import services as campaign_services
from campaign.choices import CampaignLevel, UnitKind
from indicators import services as indicator_services
from indicators.models import RiskEvent
from inspections import services as inspection_services
from inspections.models import CheckItem
from tests.accountability.rollup_fixtures import MONDAY, WEEK, at

W44, W46 = "2026-W44", "2026-W46"
PREVIOUS_MONDAY = MONDAY - datetime.timedelta(days=7)
NEXT_MONDAY = MONDAY + datetime.timedelta(days=7)


@pytest.fixture
def bing(city, market_type):
    """A third district, 丙区, with a street and a market on it."""
    district = campaign_services.unit_create(name="丙区", code="BING", kind=UnitKind.DISTRICT)
    street = campaign_services.unit_create(name="丙街道", code="BING-1", kind=UnitKind.STREET, parent=district)
    point = inspection_services.point_create(name="丙街道农贸市场", point_type=market_type, unit=street)
    return district, street, point


@pytest.fixture
def weeks(campaign, city, week45, market, market_yi, observe, bing):
    """W44 and W45 as in the module docstring; W44 published, so W45 has rank changes."""
    _district, _street, point = bing
    day44 = PREVIOUS_MONDAY + datetime.timedelta(days=1)
    observe(market, [1, 1], day=day44)
    observe(point, [1, "0.75"], day=day44)
    observe(market_yi, ["0.5", "0.5"], day=day44)
    observe(point, [1, "0.5"])  # W45
    return campaign


@pytest.fixture
def veto_item(system):
    return indicator_services.negative_item_create(system=system, title="发生重大安全生产事故", veto=True)


def veto(item, unit, office, occurred_on=MONDAY) -> RiskEvent:
    return indicator_services.risk_event_create(
        user=office, item=item, unit=unit, occurred_on=occurred_on, description="某工地坍塌"
    )


def resolve(event: RiskEvent, office, when: datetime.datetime) -> None:
    indicator_services.risk_event_resolve(user=office, event=event, resolution="已处置并追责")
    RiskEvent.objects.filter(pk=event.pk).update(resolved_at=when)


def districts(version) -> dict[str, UnitWeekScore]:
    return {row.unit.name: row for row in version.scores.filter(population="district").select_related("unit")}


def publish_w44(campaign, office):
    rollup_compute(campaign=campaign, week=W44)
    rollup_publish(campaign=campaign, week=W44, user=office, bulletin=False)


def test_the_previous_week_as_hand_computed(weeks, office):
    publish_w44(weeks, office)
    version, _ = rollup_compute(campaign=weeks, week=W44)
    rows = districts(version)
    assert {name: (row.composite, row.rank) for name, row in rows.items()} == {
        "甲区": (Decimal("100.00"), 1),
        "丙区": (Decimal("91.25"), 2),
        "乙区": (Decimal("65.00"), 3),
    }
    assert not any(row.vetoed for row in rows.values())


def test_an_open_veto_puts_the_best_district_at_the_bottom_on_the_black_list(weeks, city, office, veto_item):
    publish_w44(weeks, office)
    event = veto(veto_item, city.district_yi, office)
    version, _ = rollup_compute(campaign=weeks, week=WEEK)
    rows = districts(version)
    yi, bing, jia = rows["乙区"], rows["丙区"], rows["甲区"]
    assert yi.composite == Decimal("100.00")  # the numbers stay; the rank goes
    assert (yi.vetoed, yi.rank, yi.rank_change, yi.board) == (True, None, None, BoardList.BLACK)
    assert yi.veto_events == [
        {"id": event.pk, "title": "发生重大安全生产事故", "occurred_on": "2026-11-02", "status": "open"}
    ]
    # The others ranked among themselves, 1..n without a gap; changes from their own last ranks.
    assert (bing.composite, bing.rank, bing.rank_change, bing.board) == (Decimal("82.50"), 1, 1, BoardList.RED)
    assert (jia.composite, jia.rank, jia.rank_change, jia.board) == (Decimal("67.50"), 2, -1, "")
    assert not bing.vetoed and bing.veto_events == [] and not jia.vetoed
    # Only the unit the event names: its street is not vetoed.
    street = version.scores.get(unit=city.street_yi)
    assert not street.vetoed and street.rank == 1


def test_the_veto_holds_in_threshold_mode_too(weeks, city, office, veto_item):
    campaign_services.campaign_update(
        campaign=weeks, board_mode="threshold", red_line=Decimal("90"), black_line=Decimal("70")
    )
    veto(veto_item, city.district_yi, office)
    rows = districts(rollup_compute(campaign=weeks, week=WEEK)[0])
    assert {name: (row.rank, row.board) for name, row in rows.items()} == {
        "乙区": (None, BoardList.BLACK),  # 100.00 ≥ 90, but vetoed: never red
        "丙区": (1, ""),
        "甲区": (2, BoardList.BLACK),
    }


def test_a_vetoed_unit_with_too_few_observations_is_still_vetoed(weeks, city, office, veto_item):
    veto(veto_item, city.community_jia2, office)  # no observation at all: 样本不足
    row = rollup_compute(campaign=weeks, week=WEEK)[0].scores.get(unit=city.community_jia2)
    assert (row.sample_ok, row.vetoed, row.rank, row.board) == (False, True, None, BoardList.BLACK)


def test_a_veto_resolved_during_the_week_vetoes_that_week_not_the_next(weeks, city, office, veto_item, observe, bing):
    _district, _street, point = bing
    event = veto(veto_item, city.district_yi, office)
    resolve(event, office, at(MONDAY + datetime.timedelta(days=3)))
    row = districts(rollup_compute(campaign=weeks, week=WEEK)[0])["乙区"]
    assert row.vetoed and row.veto_events[0]["status"] == "resolved"
    observe(point, [1, 1], day=NEXT_MONDAY + datetime.timedelta(days=1))
    assert not any(row.vetoed for row in districts(rollup_compute(campaign=weeks, week=W46)[0]).values())


def test_an_event_resolved_after_the_week_reads_open_at_the_week_end(weeks, city, office, veto_item):
    event = veto(veto_item, city.district_yi, office)
    resolve(event, office, at(NEXT_MONDAY + datetime.timedelta(days=1)))
    row = districts(rollup_compute(campaign=weeks, week=WEEK)[0])["乙区"]
    assert row.vetoed and row.veto_events[0]["status"] == "open"


def test_events_before_or_after_the_week_do_not_veto_it(weeks, city, office, veto_item):
    resolve(veto(veto_item, city.district_yi, office, PREVIOUS_MONDAY), office, at(PREVIOUS_MONDAY))
    veto(veto_item, city.district_jia, office, NEXT_MONDAY)
    not_veto = indicator_services.negative_item_create(system=veto_item.system, title="轻微事件", veto=False)
    veto(not_veto, city.district_jia, office)
    assert not any(row.vetoed for row in districts(rollup_compute(campaign=weeks, week=WEEK)[0]).values())


@pytest.fixture
def other_campaign(db):
    return campaign_services.campaign_create(
        name="国家卫生城市复审",
        level=CampaignLevel.HEALTH,
        start_date=datetime.date(2026, 3, 1),
        evaluation_date=datetime.date(2027, 9, 30),
    )


@pytest.fixture
def other_veto_item(other_campaign):
    system = indicator_services.indicator_system_create(
        campaign=other_campaign, name="卫生城市标准2026", kind="national", year=2026
    )
    return indicator_services.negative_item_create(system=system, title="发生重大食品安全事故", veto=True)


def test_an_event_of_another_campaign_does_not_veto(weeks, city, office, other_veto_item):
    veto(other_veto_item, city.district_yi, office)
    rows = districts(rollup_compute(campaign=weeks, week=WEEK)[0])
    assert not any(row.vetoed for row in rows.values())
    assert rows["乙区"].rank == 1 and rows["乙区"].board == BoardList.RED


def test_publishing_a_vetoed_week_raises_the_veto_and_black_list_cases(weeks, city, office, veto_item):
    veto(veto_item, city.district_yi, office)
    rollup_compute(campaign=weeks, week=WEEK)
    rollup_publish(campaign=weeks, week=WEEK, user=office, bulletin=False)
    cases = {case.rule: case for case in AccountabilityCase.objects.filter(unit=city.district_yi)}
    assert set(cases) == {CaseRule.VETO, CaseRule.BLACK_LIST}
    assert "发生重大安全生产事故" in cases[CaseRule.VETO].reason
    assert cases[CaseRule.BLACK_LIST].reason.startswith("一票否决（发生重大安全生产事故）")
    assert "None" not in cases[CaseRule.BLACK_LIST].reason


# --- the forecast, the banner, the pages and the API ----------------------------------------------


def test_forecast_with_a_veto_means_no_title_and_names_the_event(campaign, city, office, veto_item):
    assert forecast(campaign=campaign).title == "by_score"
    veto(veto_item, city.district_yi, office)
    result = forecast(campaign=campaign)
    assert result.title == "no"
    assert [(v["unit"], v["title"]) for v in result.vetoes] == [("乙区", "发生重大安全生产事故")]
    assert "乙区 · 发生重大安全生产事故" in result.title_text and "不能获得称号" in result.title_text


def test_forecast_ignores_another_campaigns_veto(campaign, city, office, other_veto_item):
    veto(other_veto_item, city.district_yi, office)
    assert forecast(campaign=campaign).title == "by_score"


def test_dashboard_shows_the_veto_risk_in_the_forecast(web, leader, campaign, city, office, veto_item):
    veto(veto_item, city.district_yi, office)
    page = web(leader).get("/dashboard/").content.decode()
    assert 'data-testid="forecast-veto"' in page and "无论得分多少都不能获得称号" in page


def test_the_banner_shows_only_on_its_campaign(web, office, campaign, city, veto_item, other_campaign):
    veto(veto_item, city.district_yi, office)
    client = web(office)
    assert 'data-testid="veto-banner"' in client.get("/dashboard/", {"campaign": campaign.pk}).content.decode()
    assert (
        'data-testid="veto-banner"' not in client.get("/dashboard/", {"campaign": other_campaign.pk}).content.decode()
    )


@pytest.fixture
def vetoed_week(weeks, city, office, veto_item):
    publish_w44(weeks, office)
    veto(veto_item, city.district_yi, office)
    rollup_compute(campaign=weeks, week=WEEK)
    return rollup_publish(campaign=weeks, week=WEEK, user=office, bulletin=False)


def test_ranking_page_shows_the_veto_and_the_rule(web, leader, vetoed_week):
    page = web(leader).get("/rankings/", {"week": WEEK, "population": "district"}).content.decode()
    rows = re.findall(r'<tr data-testid="ranking-row".*?</tr>', page, re.S)
    assert [re.search(r"(乙区|丙区|甲区)", row).group(1) for row in rows] == ["丙区", "甲区", "乙区"]
    assert 'data-testid="vetoed"' in rows[-1] and "一票否决：发生重大安全生产事故" in rows[-1]
    assert VETO_RULE_TEXT in page
    assert "计分细则版本：1 条" in page


def test_unit_page_names_the_event(web, leader, city, vetoed_week):
    page = web(leader).get(f"/rankings/units/{city.district_yi.pk}/", {"week": WEEK}).content.decode()
    assert 'data-testid="unit-veto"' in page and "发生重大安全生产事故（2026-11-02发生，未解决）" in page


def test_dashboard_ranking_names_the_event(web, leader, vetoed_week):
    page = web(leader).get("/dashboard/").content.decode()
    ranking = page[page.index('data-testid="district-ranking"') : page.index('data-testid="boards"')]
    assert ranking.index("丙区") < ranking.index("甲区") < ranking.index("乙区")
    assert "一票否决：发生重大安全生产事故" in ranking
    boards = page[page.index('data-testid="boards"') :]
    black = boards[boards.index("board-black") :]
    assert "乙区" in black and "否决" in black


def test_bulletin_prints_and_tabulates_the_veto(vetoed_week):
    from accountability.bulletin import bulletin_data, bulletin_html, bulletin_xlsx

    data = bulletin_data(version=vetoed_week)
    district = next(r for r in data["rankings"] if r.population == "district")
    assert [row["unit_name"] for row in district.print_top] == ["丙区", "甲区", "乙区"]
    assert "一票否决的1个单位" in district.note and "发生重大安全生产事故" in district.note
    board = next(b for b in data["boards"] if b.population == "district")
    assert [row["unit_name"] for row in board.black] == ["乙区"]
    html = bulletin_html(data=data)
    assert "一票否决：发生重大安全生产事故（2026-11-02发生，未解决）" in html and "否决. 乙区" in html

    import io

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(bulletin_xlsx(version=vetoed_week)))
    sheet = book["区县排名"]
    header = [cell.value for cell in sheet[1]]
    last = [cell.value for cell in sheet[sheet.max_row]]
    assert last[header.index("单位")] == "乙区" and last[header.index("名次")] == "否决"
    assert "发生重大安全生产事故" in last[header.index("一票否决")]


def test_api_rows_carry_the_veto(api, leader, weeks, vetoed_week):
    response = api(leader).get("/api/v1/rankings/", {"campaign": weeks.pk, "week": WEEK, "population": "district"})
    assert response.status_code == 200
    rows = {row["unit_name"]: row for row in response.json()["results"]}
    assert (rows["乙区"]["vetoed"], rows["乙区"]["rank"], rows["乙区"]["list"]) == (True, None, "black")
    assert rows["乙区"]["veto_events"][0]["title"] == "发生重大安全生产事故"
    assert (rows["丙区"]["vetoed"], rows["丙区"]["rank"], rows["丙区"]["list"]) == (False, 1, "red")
    assert rows["甲区"]["vetoed"] is False and rows["甲区"]["veto_events"] == []
    assert VETO_RULE_TEXT in response.json()["formula"]


def test_api_publish_unchanged(api, office, weeks, city, veto_item):
    veto(veto_item, city.district_yi, office)
    rollup_compute(campaign=weeks, week=WEEK)
    response = api(office).post("/api/v1/rankings/publish/", {"campaign": weeks.pk, "week": WEEK}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"campaign", "week", "version", "published", "published_at", "rows", "versions", "cases"}
    assert body["published"] is True and body["cases"] >= 2


# --- publish records the check-item versions ----------------------------------------------------


def test_publish_records_the_check_item_versions_and_replays_them(weeks, office, ads_item):
    rollup_compute(campaign=weeks, week=WEEK)
    version = rollup_publish(campaign=weeks, week=WEEK, user=office, bulletin=False)
    recorded = list(version.check_item_versions.all())
    assert [(row.id, row.cap, row.per_occurrence) for row in recorded] == [(ads_item.pk, Decimal(2), Decimal("0.5"))]
    assert recorded[0].history_id == ads_item.history.latest().history_id

    inspection_services.check_item_update(item=ads_item, cap=Decimal(3))
    assert ads_item.history.latest().cap == Decimal(3)
    replay = version.check_item_versions.get()
    assert (replay.history_id, replay.cap) == (recorded[0].history_id, Decimal(2))


def test_publish_records_a_baseline_for_items_without_history(weeks, office, ads_item):
    CheckItem.history.filter(id=ads_item.pk).delete()  # as a bulk import leaves it
    rollup_compute(campaign=weeks, week=WEEK)
    version = rollup_publish(campaign=weeks, week=WEEK, user=office, bulletin=False)
    baseline = version.check_item_versions.get()
    assert (baseline.id, baseline.cap, baseline.history_type, baseline.history_user) == (ads_item.pk, 2, "+", office)
    assert baseline.history_change_reason == "发布周评比时补记的基线版本"


def test_only_the_weeks_current_items_of_the_campaign_are_recorded(weeks, office, ads_item, stall_item):
    rollup_compute(campaign=weeks, week=WEEK)
    version = rollup_publish(campaign=weeks, week=WEEK, user=office, bulletin=False)
    assert list(version.check_item_versions.values_list("id", flat=True)) == [ads_item.pk]  # stall: not observed


# --- links only where they lead (part 7) ------------------------------------------------------


HREF = re.compile(r'<a\b[^>]*\bhref="([^"#][^"]*)"[^>]*>(.*?)</a>', re.S)


def _links(page: str) -> list[tuple[str, str]]:
    return [
        (href.replace("&amp;", "&"), re.sub(r"<[^>]+>", "", text).strip())
        for href, text in HREF.findall(page)
        if href.startswith("/")
    ]


@pytest.fixture
def rendered_week(weeks, city, office, veto_item, django_capture_on_commit_callbacks):
    """The vetoed week published with its 周通报 files rendered (its download links answer 200)."""
    publish_w44(weeks, office)
    veto(veto_item, city.district_yi, office)
    rollup_compute(campaign=weeks, week=WEEK)
    with django_capture_on_commit_callbacks(execute=True):
        return rollup_publish(campaign=weeks, week=WEEK, user=office)


@pytest.mark.parametrize("population", ["district", "street", "community", "department"])
def test_a_liaisons_rankings_page_has_no_dead_link(web, liaison_jia, rendered_week, population):
    client = web(liaison_jia)
    response = client.get("/rankings/", {"week": WEEK, "population": population})
    assert response.status_code == 200
    page = response.content.decode()
    links = _links(page)
    assert links
    for href, text in links:
        answer = client.get(href)
        assert answer.status_code == 200, (href, answer.status_code)
        if text.isdigit() and text != "0":
            body = answer.content.decode()
            assert "共 0 条" not in body, (href, text)
            total = re.search(r'data-testid="list-total">共 (\d+) 条', body)
            if total:
                assert total.group(1) == text, (href, text, total.group(1))


def test_a_liaison_sees_other_units_as_plain_text(web, liaison_jia, city, vetoed_week):
    page = web(liaison_jia).get("/rankings/", {"week": WEEK, "population": "district"}).content.decode()
    hrefs = [href for href, _text in _links(page)]
    # 甲街道's liaison covers no district: no district page, no district's counts.
    assert not any(
        f"/rankings/units/{unit.pk}/" in href for href in hrefs for unit in (city.district_jia, city.district_yi)
    )
    assert not any("charged=" in href or "responsible=" in href for href in hrefs)
    street = web(liaison_jia).get("/rankings/", {"week": WEEK, "population": "street"}).content.decode()
    street_hrefs = [href for href, _text in _links(street)]
    assert any(f"/rankings/units/{city.street_jia.pk}/" in href for href in street_hrefs)
    assert not any(f"/rankings/units/{city.street_yi.pk}/" in href for href in street_hrefs)
    assert any(f"charged={city.street_jia.pk}&" in href for href in street_hrefs)


def test_an_inspector_gets_unit_pages_but_no_count_links(web, inspector, city, vetoed_week):
    page = web(inspector).get("/rankings/", {"week": WEEK, "population": "district"}).content.decode()
    hrefs = [href for href, _text in _links(page)]
    assert any(f"/rankings/units/{city.district_jia.pk}/" in href for href in hrefs)
    assert not any("charged=" in href or "responsible=" in href for href in hrefs)


def test_office_keeps_every_link(web, office, city, vetoed_week):
    page = web(office).get("/rankings/", {"week": WEEK, "population": "district"}).content.decode()
    hrefs = [href for href, _text in _links(page)]
    for unit in (city.district_jia, city.district_yi):
        assert any(f"/rankings/units/{unit.pk}/" in href for href in hrefs)
        assert any(f"charged={unit.pk}&" in href for href in hrefs)


def test_forecast_reads_the_campaigns_current_system_not_the_newest(campaign, system):
    """An empty 2027 edition created later is not current: the forecast still reads 2026's."""
    indicator_services.indicator_system_create(campaign=campaign, name="测评体系2027", kind="national", year=2027)
    note = forecast(campaign=campaign).part("declaration").note
    assert "测评体系2026" in note and "2027" not in note


def test_a_liaisons_unit_page_has_no_dead_link(web, liaison_jia, city, rendered_week):
    client = web(liaison_jia)
    page = client.get(f"/rankings/units/{city.street_jia.pk}/", {"week": WEEK}).content.decode()
    links = _links(page)
    assert any("charged=" in href for href, _text in links)
    for href, text in links:
        answer = client.get(href)
        assert answer.status_code == 200, (href, answer.status_code)
        total = re.search(r'data-testid="list-total">共 (\d+) 条', answer.content.decode())
        if text.isdigit() and total and ("charged=" in href or "counted=" in href):
            assert total.group(1) == text, (href, text, total.group(1))


def test_registering_a_veto_recomputes_the_weeks_already_published(
    weeks, city, office, veto_item, django_capture_on_commit_callbacks
):
    """A veto registered after its week was published makes the next version of that week (a draft
    to publish again), through the same refresh as a late inspection; an ordinary risk event does not."""
    from accountability.models import RollupVersion

    publish_w44(weeks, office)
    rollup_compute(campaign=weeks, week=WEEK)
    rollup_publish(campaign=weeks, week=WEEK, user=office, bulletin=False)
    plain = indicator_services.negative_item_create(system=veto_item.system, title="发生一般违规事件", veto=False)
    with django_capture_on_commit_callbacks(execute=True):
        veto(plain, city.district_yi, office)
    assert not RollupVersion.objects.filter(campaign=weeks, week=WEEK, status="draft").exists()

    with django_capture_on_commit_callbacks(execute=True):
        event = veto(veto_item, city.district_yi, office)
    draft = RollupVersion.objects.get(campaign=weeks, week=WEEK, status="draft")
    yi = districts(draft)["乙区"]
    assert (yi.vetoed, yi.rank, yi.board) == (True, None, BoardList.BLACK)
    assert [e["id"] for e in yi.veto_events] == [event.pk]
    # The week before the event is untouched.
    assert not RollupVersion.objects.filter(campaign=weeks, week=W44, status="draft").exists()


def test_the_case_tabs_count_what_they_open(weeks, city, office, veto_item, web):
    """The 问责事项 tabs count the campaign's cases of the chosen week, as their links list them."""
    import re

    publish_w44(weeks, office)
    veto(veto_item, city.district_yi, office)
    rollup_compute(campaign=weeks, week=WEEK)
    rollup_publish(campaign=weeks, week=WEEK, user=office, bulletin=False)
    client = web(office)
    html = client.get("/rankings/cases/", {"week": WEEK}).content.decode()
    tabs = re.findall(r'href="(\?status=[^"]*)">([^<]+)<span class="badge ms-1">(\d+)</span>', html)
    assert tabs
    for href, _label, count in tabs:
        listed = client.get("/rankings/cases/" + href.replace("&amp;", "&")).context["page_obj"].paginator.count
        assert listed == int(count)
    assert AccountabilityCase.objects.filter(campaign=weeks).exclude(week=WEEK).exists()  # other weeks not counted
