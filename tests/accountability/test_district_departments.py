"""区直部门 (departments under a district): charged, ranked and scoped like the city's departments.

A hand-computed week, 2026-W45, minimum sample 2 (the fixtures of rollup_fixtures.py), with three
区直部门: 甲区卫健局 and 甲区住建局 under 甲区 (and 甲区疾控中心 under 甲区卫健局: a department whose
path passes through a district), 乙区卫健局 under 乙区. The check item 病媒防制 names 甲区卫健局 as its
department (so it charges that department instead of the point's); 乙街道农贸市场 is also supervised by
乙区卫健局.

  甲一农贸市场 (甲区), 公益广告: 1, 1, 0.75, 0.25 → 甲一社区, 甲街道, 甲区, 市城管局 (the point's)
  乙街道农贸市场 (乙区), 公益广告: 1, 1, 1        → 乙街道, 乙区, 市城管局, 乙区卫健局 (the point's)
  甲一农贸市场, 病媒防制: 1, 0.5                  → 甲一社区, 甲街道, 甲区, 甲区卫健局 (the item's)
  乙街道农贸市场, 病媒防制: 0.5                   → 乙街道, 乙区, 甲区卫健局 — never 甲区

No problems: the on-time part is full (30). Composite = 70 × score rate + 30:
  乙区卫健局: 3 observations, mean 1          → 100.00
  市城管局:   7 observations, mean 6/7        → 90.00
  甲区卫健局: 3 observations, mean 2/3        → 76.67
  甲区住建局, 甲区疾控中心, 市文明办: none   → 样本不足
Separate (the default): 区直部门 乙区卫健局 1 (红榜), 甲区卫健局 2 (黑榜); 市直部门 市城管局 1 (one
ranked: no board). With the city's departments: 乙区卫健局 1 (红榜), 市城管局 2, 甲区卫健局 3 (黑榜).
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from accountability.bulletin import bulletin_data, bulletin_xlsx
from accountability.choices import CaseRule, Population
from accountability.models import AccountabilityCase, RollupVersion, UnitWeekScore
from accountability.rollup import rollup_compute, rollup_diff, rollup_publish
from campaign import services as campaign_services
from campaign.choices import DistrictDepartmentRanking, Role
from campaign.models import Campaign
from inspections import services as inspection_services
from inspections.models import Charge, Problem
from inspections.services import ObservationInput, inspection_submit
from tests.accountability.rollup_fixtures import WEEK
from tests.conftest import _user


@pytest.fixture
def district_departments(city):
    make = campaign_services.unit_create
    jia_health = make(
        name="甲区卫生健康局", short_name="甲区卫健局", code="JIA-D1", kind="department", parent=city.district_jia
    )
    return {
        "jia_health": jia_health,
        "jia_housing": make(name="甲区住房和城乡建设局", short_name="甲区住建局", code="JIA-D2", kind="department", parent=city.district_jia),
        "jia_cdc": make(name="甲区疾病预防控制中心", short_name="甲区疾控中心", code="JIA-D1-1", kind="department", parent=jia_health),
        "yi_health": make(name="乙区卫生健康局", short_name="乙区卫健局", code="YI-D1", kind="department", parent=city.district_yi),
    }  # fmt: skip


@pytest.fixture
def vector_item(market_type, standard, district_departments):
    return inspection_services.check_item_create(
        point_type=market_type,
        indicator=standard,
        text="病媒生物防制设施完好",
        per_occurrence=Decimal(1),
        cap=Decimal(1),
        departments=[district_departments["jia_health"]],
    )


@pytest.fixture
def dd_week(campaign, city, market, market_yi, observe, ads_item, vector_item, district_departments):
    campaign_services.campaign_update(campaign=campaign, min_sample=2)
    market_yi.departments.add(district_departments["yi_health"])
    observe(market, [1, 1, "0.75", "0.25"])
    observe(market_yi, [1, 1, 1])
    observe(market, [1, "0.5"], item=vector_item)
    elsewhere = observe(market_yi, ["0.5"], item=vector_item)
    return {"elsewhere": elsewhere[0], **district_departments}


def rows(version) -> dict[str, UnitWeekScore]:
    return {row.unit.short_name or row.unit.name: row for row in version.scores.select_related("unit") if row.unit}


def test_a_district_department_is_charged_exactly_not_its_district(campaign, city, dd_week):
    charged = set(Charge.objects.filter(observation=dd_week["elsewhere"]).values_list("unit__name", flat=True))
    assert charged == {"乙街道", "乙区", "甲区卫生健康局"}  # the item's department; 甲区 only through its own points

    by_name = rows(rollup_compute(campaign=campaign, week=WEEK)[0])
    assert by_name["甲区卫健局"].observations == 3
    assert by_name["甲区卫健局"].score_rate == Decimal("0.666667")
    assert by_name["甲区"].observations == 6  # its points' 4 + 2: not the department's observation in 乙区
    assert by_name["乙区"].observations == 4
    assert by_name["乙区卫健局"].observations == 3
    assert by_name["市城管局"].observations == 7


def test_separate_population_ranks_against_the_hand_computation(campaign, dd_week):
    assert campaign.district_departments == DistrictDepartmentRanking.SEPARATE  # the default
    version, _ = rollup_compute(campaign=campaign, week=WEEK)
    assert version.rules["district_departments"] == DistrictDepartmentRanking.SEPARATE
    by_name = rows(version)
    shown = {
        name: (row.population, row.composite, row.rank, row.board)
        for name, row in by_name.items()
        if row.population in (Population.DEPARTMENT, Population.DISTRICT_DEPARTMENT)
    }
    assert shown == {
        "乙区卫健局": ("district_department", Decimal("100.00"), 1, "red"),
        "甲区卫健局": ("district_department", Decimal("76.67"), 2, "black"),
        "甲区住建局": ("district_department", None, None, ""),
        "甲区疾控中心": ("district_department", None, None, ""),  # a department under one, under a district
        "市城管局": ("department", Decimal("90.00"), 1, ""),
        "市文明办": ("department", None, None, ""),
    }


def test_with_city_ranks_them_among_the_city_departments(campaign, office, dd_week):
    campaign_services.campaign_update(campaign=campaign, district_departments=DistrictDepartmentRanking.WITH_CITY)
    assert campaign.history.first().district_departments == DistrictDepartmentRanking.WITH_CITY  # recorded
    version, _ = rollup_compute(campaign=campaign, week=WEEK)
    assert version.rules["district_departments"] == DistrictDepartmentRanking.WITH_CITY
    by_name = rows(version)
    assert not version.scores.filter(population=Population.DISTRICT_DEPARTMENT).exists()
    ranked = sorted(
        (row.rank, name, row.composite, row.board)
        for name, row in by_name.items()
        if row.population == Population.DEPARTMENT and row.rank
    )
    assert ranked == [
        (1, "乙区卫健局", Decimal("100.00"), "red"),
        (2, "市城管局", Decimal("90.00"), ""),
        (3, "甲区卫健局", Decimal("76.67"), "black"),
    ]


def test_changing_the_rule_makes_a_new_version_of_a_published_week(campaign, office, dd_week):
    rollup_compute(campaign=campaign, week=WEEK)
    rollup_publish(campaign=campaign, week=WEEK, user=office, bulletin=False)
    campaign_services.campaign_update(campaign=campaign, district_departments=DistrictDepartmentRanking.WITH_CITY)
    version, outcome = rollup_compute(campaign=campaign, week=WEEK)
    assert (outcome, version.number) == ("new_version", 2)
    published = RollupVersion.objects.get(campaign=campaign, week=WEEK, number=1)
    changes = {change["unit_name"]: change["fields"] for change in rollup_diff(draft=version, published=published)}
    assert changes["甲区卫生健康局"]["population"] == ("district_department", "department")
    assert changes["甲区卫生健康局"]["rank"] == (2, 3)


def test_a_district_department_on_the_black_list_gets_a_case(campaign, office, dd_week):
    rollup_compute(campaign=campaign, week=WEEK)
    rollup_publish(campaign=campaign, week=WEEK, user=office, bulletin=False)
    case = AccountabilityCase.objects.get(unit=dd_week["jia_health"])
    assert case.rule == CaseRule.BLACK_LIST and "本周上黑榜" in case.reason
    assert case.score.population == Population.DISTRICT_DEPARTMENT


def test_ranking_api_population_district_department(api, leader, office, campaign, dd_week):
    rollup_compute(campaign=campaign, week=WEEK)
    rollup_publish(campaign=campaign, week=WEEK, user=office, bulletin=False)
    url = "/api/v1/rankings/"
    body = api(leader).get(url, {"campaign": campaign.pk, "week": WEEK, "population": "district_department"}).json()
    assert body["population"] == "district_department"
    assert [(r["unit_name"], r["rank"], r["list"]) for r in body["results"]] == [
        ("乙区卫生健康局", 1, "red"),
        ("甲区卫生健康局", 2, "black"),
        ("甲区疾病预防控制中心", None, None),  # 样本不足, by the unit tree
        ("甲区住房和城乡建设局", None, None),
    ]
    wrong = api(leader).get(url, {"campaign": campaign.pk, "week": WEEK, "population": "bureau"})
    assert wrong.status_code == 400 and "district_department" in wrong.json()["fields"]["population"][0]


def test_ranking_page_and_dashboard_show_the_population_where_it_has_rows(web, leader, office, campaign, city, dd_week):
    rollup_compute(campaign=campaign, week=WEEK)
    rollup_publish(campaign=campaign, week=WEEK, user=office, bulletin=False)
    page = web(leader).get(f"/rankings/?campaign={campaign.pk}&week={WEEK}&population=district_department")
    html = page.content.decode()
    assert page.status_code == 200
    assert "population=district_department" in html and ">区直部门</a>" in html
    assert "乙区卫生健康局" in html and "甲区卫生健康局" in html and "示范市城市管理局" not in html
    chosen = (
        web(leader)
        .get(
            f"/rankings/?campaign={campaign.pk}&week={WEEK}&population=district_department&district={city.district_yi.pk}"
        )
        .content.decode()
    )
    assert "乙区卫生健康局" in chosen and "甲区卫生健康局" not in chosen  # one district's 区直部门
    unit = web(leader).get(f"/rankings/units/{dd_week['jia_health'].pk}/?campaign={campaign.pk}&week={WEEK}")
    assert "名次（区直部门）" in unit.content.decode()
    dashboard = web(leader).get(f"/dashboard/?campaign={campaign.pk}").content.decode()
    assert "区直部门" in dashboard and "乙区卫健局" in dashboard


def test_a_city_without_district_departments_shows_no_section(web, leader, office, campaign, week45):
    version, _ = rollup_compute(campaign=campaign, week=WEEK)
    rollup_publish(campaign=campaign, week=WEEK, user=office, bulletin=False)
    html = web(leader).get(f"/rankings/?campaign={campaign.pk}&week={WEEK}").content.decode()
    assert "population=district_department" not in html and "区直部门" not in html
    data = bulletin_data(version=version)
    assert Population.DISTRICT_DEPARTMENT not in [r.population for r in data["rankings"]]
    assert Population.DISTRICT_DEPARTMENT not in [b.population for b in data["boards"]]
    assert "区直部门" not in web(leader).get(f"/dashboard/?campaign={campaign.pk}").content.decode()


def test_bulletin_has_the_section_when_rows_exist(web, leader, office, campaign, dd_week):
    import io

    from openpyxl import load_workbook

    rollup_compute(campaign=campaign, week=WEEK)
    version = rollup_publish(campaign=campaign, week=WEEK, user=office, bulletin=False)
    data = bulletin_data(version=version)
    ranking = next(r for r in data["rankings"] if r.population == Population.DISTRICT_DEPARTMENT)
    assert ranking.label == "区直部门"
    assert [(row["unit_name"], row["rank"], row["parent_name"]) for row in ranking.rows] == [
        ("乙区卫生健康局", 1, "乙区"),
        ("甲区卫生健康局", 2, "甲区"),
        ("甲区疾病预防控制中心", None, "甲区卫生健康局"),
        ("甲区住房和城乡建设局", None, "甲区"),
    ]
    board = next(b for b in data["boards"] if b.population == Population.DISTRICT_DEPARTMENT)
    assert ([r["unit_name"] for r in board.red], [r["unit_name"] for r in board.black]) == (
        ["乙区卫生健康局"],
        ["甲区卫生健康局"],
    )
    html = web(leader).get(f"/bulletins/{campaign.pk}/{WEEK}/").content.decode()
    assert 'data-testid="ranking-district_department"' in html and "（五）区直部门排名" in html
    assert 'data-testid="board-district_department"' in html
    sheet = load_workbook(io.BytesIO(bulletin_xlsx(version=version, data=bulletin_data(version=version, full=True))))[
        "区直部门排名"
    ]
    assert [cell.value for cell in sheet[1]][:4] == ["名次", "名次变化", "单位", "所属区县"]


# --- scope: who sees a 区直部门 and what is charged to it ----------------------------------------


@pytest.fixture
def personas(city, district_departments):
    return {
        "dd": _user("liaison_jia_health", Role.LIAISON, district_departments["jia_health"]),
        "district": _user("liaison_jia_district", Role.LIAISON, city.district_jia),
        "other_district": _user("liaison_yi_district", Role.LIAISON, city.district_yi),
        "other_dd": _user("liaison_yi_health", Role.LIAISON, district_departments["yi_health"]),
    }


@pytest.fixture
def charged_problems(inspector, round_, market, market_yi, vector_item):
    """Two problems charged to 甲区卫健局 by the check item: one at 甲一农贸市场 (in 甲区), one at
    乙街道农贸市场 (in 乙区)."""
    problems = {}
    for name, point in (("in_jia", market), ("in_yi", market_yi)):
        inspection_submit(
            user=inspector,
            round_=round_,
            point=point,
            client_uuid=uuid.uuid4(),
            observations=[ObservationInput(vector_item.pk, "fail", 1)],
        )
        problems[name] = Problem.objects.get(point=point)
    return problems


def test_the_district_department_liaison_reads_its_charges_and_nothing_else(
    web, api, city, personas, district_departments, charged_problems
):
    client = web(personas["dd"])
    for problem in charged_problems.values():  # its 条 view: both, wherever located
        assert client.get(f"/inspections/problems/{problem.pk}/").status_code == 200
    assert {p["id"] for p in api(personas["dd"]).get("/api/v1/problems/").json()["results"]} == {
        p.pk for p in charged_problems.values()
    }
    assert client.get(f"/units/{district_departments['jia_health'].pk}/").status_code == 200
    assert client.get(f"/units/{district_departments['jia_cdc'].pk}/").status_code == 200  # its subtree
    for other in (
        city.district_jia,
        city.street_jia,
        district_departments["jia_housing"],
        district_departments["yi_health"],
    ):
        assert client.get(f"/units/{other.pk}/").status_code == 404
        assert client.get(f"/rankings/units/{other.pk}/").status_code == 404


def test_the_district_liaison_sees_its_district_departments(web, personas, district_departments, charged_problems):
    client = web(personas["district"])
    for unit in ("jia_health", "jia_housing", "jia_cdc"):
        assert client.get(f"/units/{district_departments[unit].pk}/").status_code == 200
        assert client.get(f"/rankings/units/{district_departments[unit].pk}/").status_code == 200
    assert client.get(f"/units/{district_departments['yi_health'].pk}/").status_code == 404
    # The problem located in its district (charged to its 区直部门) is its own.
    assert client.get(f"/inspections/problems/{charged_problems['in_jia'].pk}/").status_code == 200


def test_other_districts_liaisons_get_404(web, personas, district_departments, charged_problems):
    for persona in ("other_district", "other_dd"):
        client = web(personas[persona])
        assert client.get(f"/units/{district_departments['jia_health'].pk}/").status_code == 404
        assert client.get(f"/rankings/units/{district_departments['jia_health'].pk}/").status_code == 404
        assert client.get(f"/inspections/problems/{charged_problems['in_jia'].pk}/").status_code == 404


def test_kind_label_names_a_district_department(city, district_departments, web, office):
    assert district_departments["jia_health"].kind_label == "区直部门"
    assert district_departments["jia_cdc"].kind_label == "区直部门"
    assert city.dept_cg.kind_label == "市直部门" and city.district_jia.kind_label == "区县"
    client = web(office)
    listed = client.get("/units/?kind=department").content.decode()
    assert listed.count('<td data-label="类型">区直部门</td>') == 4
    assert listed.count('<td data-label="类型">市直部门</td>') == 2
    detail = client.get(f"/units/{district_departments['jia_health'].pk}/").content.decode()
    assert 'data-testid="unit-kind">区直部门<' in detail
    district = client.get(f"/units/{city.district_jia.pk}/").content.decode()
    assert "区直部门 3" in district and "市直部门" not in district  # its subtree's counts
    tree = client.get("/units/tree/").content.decode()
    assert "区直部门" in tree


def test_the_campaign_rule_in_the_form_the_page_and_the_api(request, web, api, office, campaign):
    page = web(office).get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "区直部门排名：区直部门单独排名" in page
    body = api(office).get(f"/api/v1/campaigns/{campaign.pk}/").json()
    assert (body["district_departments"], body["district_departments_display"]) == ("separate", "区直部门单独排名")
    response = api(office).patch(
        f"/api/v1/campaigns/{campaign.pk}/", {"district_departments": "with_city"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert Campaign.objects.get(pk=campaign.pk).district_departments == "with_city"
    for persona in ("leader", "inspector", "liaison_jia", "liaison_dept", None):
        user = request.getfixturevalue(persona) if persona else None
        refused = api(user).patch(
            f"/api/v1/campaigns/{campaign.pk}/", {"district_departments": "separate"}, format="json"
        )
        assert refused.status_code in ((401, 403) if user is None else (403, 404)), persona
        assert Campaign.objects.get(pk=campaign.pk).district_departments == "with_city"  # unchanged
    assert (
        api(office).patch(f"/api/v1/campaigns/{campaign.pk}/", {"district_departments": "x"}, format="json").status_code
        == 400
    )
    form = web(office).get(f"/campaigns/{campaign.pk}/edit/").content.decode()
    assert 'name="district_departments"' in form and "与市直部门一起排名" in form


def test_the_units_api_names_a_district_department_without_a_query_per_row(
    api, office, district_departments, django_assert_num_queries
):
    with django_assert_num_queries(3):  # the user's memberships, the count, the page
        rows = api(office).get("/api/v1/units/?kind=department&page_size=100").json()["results"]
    labels = {row["code"]: row["kind_display"] for row in rows}
    assert labels["JIA-D1"] == labels["JIA-D1-1"] == labels["YI-D1"] == "区直部门"
    assert {labels[code] for code in labels if not code.startswith(("JIA-", "YI-"))} == {"市直部门"}
    response = api(office).post(
        "/api/v1/units/",
        {
            "name": "乙区政务服务办公室",
            "code": "YI-D2",
            "kind": "department",
            "parent": district_departments["yi_health"].parent_id,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["kind_display"] == "区直部门"
