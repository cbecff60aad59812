"""The weekly bulletin (周通报) of a published week: its numbers, the PDF (read back with pdftotext),
the Excel workbook, the print page for every persona, the API downloads, and a pinned query count.

The roll-up rows are written directly here: the week is 2026-W47 (11月16日—11月22日), compared with
the published 2026-W46; 2026-W48 exists only as a draft.
"""

from __future__ import annotations

import datetime
import io
import shutil
import subprocess
from decimal import Decimal
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import load_workbook
from PIL import Image
from rest_framework.authtoken.models import Token

from accountability.bulletin import bulletin_data, bulletin_pdf, bulletin_xlsx
from accountability.bulletin_store import bulletin_queue
from accountability.choices import CaseLevel, CaseRule, CaseStatus, Population, VersionStatus
from accountability.models import AccountabilityCase, RollupVersion, UnitWeekScore
from accountability.selectors import bulletin_version
from campaign import services as campaign_services
from campaign.choices import UnitKind
from inspections.choices import ProblemStatus, Severity
from inspections.models import Problem
from inspections.services import photo_upload

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEK = "2026-W47"
# Queries of bulletin_data for a version fetched with its campaign: the previous published week,
# the two citywide rows, the ranked/unranked counts per population, the printed score rows, the
# districts, the per-district counts, the first problems of each district, their first photos, the
# overdue problems per district, the longest overdue, the cases, the granted appeals.
BULLETIN_QUERIES = 12
WORKBOOK = "创建全国文明城市-2026年第47周-周通报.xlsx"


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The print page keeps its sheet in the cache: each test starts without it."""
    cache.clear()
    yield
    cache.clear()


def at(day: int, hour: int = 10, month: int = 11) -> datetime.datetime:
    return datetime.datetime(2026, month, day, hour, 0, tzinfo=SHANGHAI)


def jpeg(seed: int) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (40 + seed % 200, 120, 200 - seed % 150)).save(buffer, format="JPEG")
    return SimpleUploadedFile(f"现场{seed}.jpg", buffer.getvalue(), content_type="image/jpeg")


def score(version, unit, population, **values) -> UnitWeekScore:
    defaults = {"observations": 10, "sample_ok": True}
    return UnitWeekScore.objects.create(rollup=version, unit=unit, population=population, **{**defaults, **values})


def version_of(campaign, week: str, status=VersionStatus.PUBLISHED, number: int = 1) -> RollupVersion:
    monday = datetime.date.fromisocalendar(int(week[:4]), int(week[-2:]), 1)
    return RollupVersion.objects.create(
        campaign=campaign,
        week=week,
        week_start=monday,
        week_end=monday + datetime.timedelta(days=6),
        number=number,
        status=status,
        rules={"board_mode": "rank", "board_k": 1, "min_sample": 5},
        computed_at=timezone.now(),
        published_at=timezone.now() if status == VersionStatus.PUBLISHED else None,
    )


def problem(campaign, unit, user, found_at, description, **fields) -> Problem:
    photos = fields.pop("photos", [])
    created = Problem.objects.create(
        campaign=campaign,
        source="inspection",
        unit=unit,
        description=description,
        found_at=found_at,
        created_by=user,
        **{"status": ProblemStatus.RECTIFYING, **fields},
    )
    created.photos.set(photos)
    return created


@pytest.fixture
def week(campaign, city, office, inspector, market, market_yi):
    """W46 and W47 published, W48 a draft; problems of W47 in both districts with photos; overdue
    problems; cases."""
    w46 = version_of(campaign, "2026-W46")
    w47 = version_of(campaign, WEEK)
    version_of(campaign, "2026-W48", status=VersionStatus.DRAFT)

    score(w46, None, Population.CITY, observations=80, failing_observations=12, score_rate=Decimal("0.900000"),
          problems_opened=12, problems_due=8, closed_on_time=6, on_time_rate=Decimal("0.750000"),
          overdue_open=3, rebounds=0)  # fmt: skip
    score(w47, None, Population.CITY, observations=100, failing_observations=10, score_rate=Decimal("0.925000"),
          problems_opened=5, problems_due=10, closed_on_time=9, on_time_rate=Decimal("0.900000"),
          overdue_open=4, rebounds=1)  # fmt: skip
    score(w47, city.district_jia, Population.DISTRICT, composite=Decimal("93.50"), score_rate=Decimal("0.950000"),
          rank=1, rank_change=1, board="red", problems_opened=3)  # fmt: skip
    score(w47, city.district_yi, Population.DISTRICT, composite=Decimal("82.10"), score_rate=Decimal("0.810000"),
          rank=2, rank_change=-1, board="black", problems_opened=2, overdue_open=3)  # fmt: skip
    score(w47, city.street_jia, Population.STREET, composite=Decimal("92.00"), rank=1, rank_change=0, board="red")
    score(w47, city.street_yi, Population.STREET, composite=Decimal("80.00"), rank=2, rank_change=0, board="black")
    score(w47, city.community_jia1, Population.COMMUNITY, composite=Decimal("95.00"), rank=1, board="red")
    score(w47, city.community_jia2, Population.COMMUNITY, composite=Decimal("88.00"), rank=2, board="black")
    score(w47, city.community_yi1, Population.COMMUNITY, observations=2, sample_ok=False)
    score(w47, city.dept_cg, Population.DEPARTMENT, composite=Decimal("91.00"), rank=1, rank_change=None, board="red")
    score(w47, city.dept_office, Population.DEPARTMENT, composite=Decimal("85.00"), rank=2, board="black")

    photos = [photo_upload(user=inspector, file=jpeg(i)) for i in range(5)]
    jia = [
        problem(
            campaign,
            city.community_jia1,
            office,
            at(16),
            "农贸市场门口占道经营",
            point=market,
            severity=Severity.SEVERE,
            deduction=Decimal(2),
            photos=[photos[0], photos[1]],
        ),  # fmt: skip
        problem(
            campaign,
            city.community_jia1,
            office,
            at(17),
            "公益广告缺失",
            point=market,
            deduction=Decimal("0.5"),
            photos=[photos[2]],
        ),  # fmt: skip
        problem(
            campaign,
            city.community_jia2,
            office,
            at(22, 23),
            "楼道堆物",
            status=ProblemStatus.CLOSED,
            closed_at=at(22, 23),
        ),  # fmt: skip
    ]
    yi = problem(campaign, city.street_yi, office, at(18), "乙街道市场垃圾满溢", point=market_yi,
                 deduction=Decimal(1), photos=[photos[3]])  # fmt: skip
    problem(campaign, city.community_jia1, office, at(19), "作废的问题", status=ProblemStatus.VOID)
    problem(campaign, city.community_jia1, office, at(23, 9), "下周才发现的问题")  # W48: not this week

    # Overdue at the week's end: W46 problems whose deadline passed, still open on Sunday night.
    late = problem(campaign, city.community_yi1, office, at(10), "乙一社区井盖缺失",
                   deadline=datetime.date(2026, 11, 18), handler=city.street_yi, rework_count=1)  # fmt: skip
    closed_later = problem(campaign, city.community_jia2, office, at(9), "甲二社区绿化带垃圾",
                           deadline=datetime.date(2026, 11, 13), status=ProblemStatus.CLOSED,
                           closed_at=at(24))  # fmt: skip
    problem(campaign, city.community_jia2, office, at(9), "按期销号的问题", deadline=datetime.date(2026, 11, 13),
            status=ProblemStatus.CLOSED, closed_at=at(12))  # fmt: skip
    problem(campaign, city.community_jia2, office, at(9), "挂账的问题", deadline=datetime.date(2026, 11, 13),
            shelved=True)  # fmt: skip
    problem(campaign, city.community_jia2, office, at(9), "下周才到期的问题", deadline=datetime.date(2026, 11, 23))

    case = AccountabilityCase.objects.create(
        campaign=campaign, week=WEEK, unit=city.district_yi, rule=CaseRule.BLACK_LIST, level=CaseLevel.REMIND,
        reason="区县排名末位，上黑榜",
    )  # fmt: skip
    AccountabilityCase.objects.create(
        campaign=campaign, week=WEEK, unit=city.street_yi, rule=CaseRule.OVERDUE, level=CaseLevel.INTERVIEW,
        reason="已撤销", status=CaseStatus.WITHDRAWN,
    )  # fmt: skip
    return {
        "version": w47,
        "previous": w46,
        "jia": jia,
        "yi": yi,
        "late": late,
        "closed_later": closed_later,
        "case": case,
        "photos": photos,
    }


def fetched(version) -> RollupVersion:
    return bulletin_version(campaign_id=version.campaign_id, week=version.week)


@pytest.fixture
def rendered(week, django_capture_on_commit_callbacks):
    """The week's stored files, rendered as at publish (eager Celery runs the job on commit)."""
    with django_capture_on_commit_callbacks(execute=True):
        bulletin_queue(version=week["version"])
    return week


# --- The data ---------------------------------------------------------------------------------


def test_summary_compares_with_the_previous_published_week(week):
    data = bulletin_data(version=fetched(week["version"]))

    assert data["week_label"] == "第47周（11月16日—11月22日）"
    assert data["previous"] == week["previous"]
    summary = {item.key: (item.display, item.previous_display, item.delta_display) for item in data["summary"]}
    assert summary == {
        "observations": ("100", "80", "+20"),
        "failing_observations": ("10", "12", "-2"),
        "score_rate": ("92.5%", "90.0%", "+2.5个百分点"),
        "problems_opened": ("5", "12", "-7"),
        "problems_due": ("10", "8", "+2"),
        "on_time_rate": ("90.0%", "75.0%", "+15.0个百分点"),
        "overdue_open": ("4", "3", "+1"),
        "rebounds": ("1", "0", "+1"),
    }
    trends = {item.key: item.trend for item in data["summary"]}
    assert (trends["score_rate"], trends["overdue_open"], trends["observations"]) == ("good", "bad", "")
    assert data["lead"].startswith("本周全市共督查观测100项，不合格10项，得分率92.5%（较上周+2.5个百分点）")


def test_rankings_and_boards_per_population(week, city):
    data = bulletin_data(version=fetched(week["version"]))

    rankings = {
        r.population: [(row["unit_name"], row["rank"], row["change_display"]) for row in r.rows]
        for r in data["rankings"]
    }
    assert rankings == {
        "district": [("甲区", 1, "↑1"), ("乙区", 2, "↓1")],
        "street": [("甲街道", 1, "—"), ("乙街道", 2, "—")],
        "community": [("甲一社区", 1, "新"), ("甲二社区", 2, "新"), ("乙一社区", None, "")],
        "department": [("示范市城市管理局", 1, "新"), ("示范市文明办", 2, "新")],
    }
    community = data["rankings"][2]
    assert (community.ranked_count, community.unranked_count, community.truncated) == (2, 1, False)
    assert [row["unit_name"] for row in community.print_top] == ["甲一社区", "甲二社区"]
    # A few 样本不足 units of a long table are named; where the full table is, is said.
    assert community.note == (
        f"本周观测少于5个、不参与排名的1个单位：乙一社区；完整排名见 Excel 附表“社区排名”（{WORKBOOK}）。"
    )
    boards = {
        b.population: ([r["unit_name"] for r in b.red], [r["unit_name"] for r in b.black]) for b in data["boards"]
    }
    assert boards == {
        "district": (["甲区"], ["乙区"]),
        "street": (["甲街道"], ["乙街道"]),
        "community": (["甲一社区"], ["甲二社区"]),
        "department": (["示范市城市管理局"], ["示范市文明办"]),
    }
    assert data["board_rules"] == (
        "红榜：各类别前 1 名；黑榜：各类别后 1 名。样本不足的单位不上榜；一票否决的单位不论综合分列入黑榜、不上红榜。"
    )


def test_problems_of_the_week_per_district_with_their_first_photo(week):
    data = bulletin_data(version=fetched(week["version"]))

    groups = {
        g.name: (
            g.total,
            g.severe,
            g.closed,
            [c.problem["description"] for c in g.cards],
            [c.thumb["pk"] if c.thumb else None for c in g.cards],
        )
        for g in data["districts"]
    }
    photos = week["photos"]
    assert groups == {
        "甲区": (3, 1, 1, ["农贸市场门口占道经营", "公益广告缺失", "楼道堆物"], [photos[0].pk, photos[2].pk, None]),
        "乙区": (1, 0, 0, ["乙街道市场垃圾满溢"], [photos[3].pk]),
    }
    assert data["problem_total"] == 4
    assert data["problems"] == []  # the printed forms read the cards only; the workbook the whole list
    full = bulletin_data(version=fetched(week["version"]), full=True)
    assert sorted(p["description"] for p in full["problems"]) == sorted(
        ["农贸市场门口占道经营", "公益广告缺失", "楼道堆物", "乙街道市场垃圾满溢"]
    )


def test_overdue_list_is_the_state_at_the_weeks_end(week):
    data = bulletin_data(version=fetched(week["version"]))

    overdue = [(p["description"], p["district_name"], p["days_overdue"]) for p in data["overdue"]]
    # Closed after the week still counts; closed within the week, shelved, or due later does not.
    assert overdue == [("甲二社区绿化带垃圾", "甲区", 9), ("乙一社区井盖缺失", "乙区", 4)]
    assert data["overdue_total"] == 2
    assert data["overdue_summary"] == [
        {"name": "甲区", "total": 1, "long": 0, "days": 9},
        {"name": "乙区", "total": 1, "long": 0, "days": 4},
    ]


def test_cases_of_the_week_without_withdrawn_ones(week):
    data = bulletin_data(version=fetched(week["version"]))
    assert [(c["pk"], c["unit_name"], c["rule_display"], c["level_display"]) for c in data["cases"]] == [
        (week["case"].pk, "乙区", "上黑榜", "提醒")
    ]


def test_the_printed_community_table_keeps_the_top_and_bottom_ten(week, campaign, city):
    version = week["version"]
    UnitWeekScore.objects.filter(rollup=version, population=Population.COMMUNITY).delete()
    for i in range(25):
        unit = campaign_services.unit_create(
            name=f"社区{i + 1:02d}", code=f"C{i:02d}", kind=UnitKind.COMMUNITY, parent=city.street_jia
        )
        score(version, unit, Population.COMMUNITY, composite=Decimal(99 - i), rank=i + 1)

    community = bulletin_data(version=fetched(version))["rankings"][2]

    assert [row["unit_name"] for row in community.print_top] == [f"社区{i:02d}" for i in range(1, 11)]
    assert [row["unit_name"] for row in community.print_bottom] == [f"社区{i:02d}" for i in range(16, 26)]
    # The printed forms read only the rows they print; the workbook reads all 25.
    assert len(community.rows) == 20 and community.middle_count == 5
    assert community.note == (
        f"共25个社区村参与排名，此处列出前10名和后10名；完整排名见 Excel 附表“社区排名”（{WORKBOOK}）。"
    )
    assert len(bulletin_data(version=fetched(version), full=True)["rankings"][2].rows) == 25


def grow(version, campaign, office, inspector, n: int = 100, tied: bool = False) -> None:
    """A district of n communities, each with a score row, a problem of the week with a photo, an
    overdue problem and a case. `tied`: all of them share rank 3 and sit on the 红榜."""
    district = campaign_services.unit_create(name="丙区", code="BING", kind=UnitKind.DISTRICT)
    street = campaign_services.unit_create(name="丙街道", code="BING-1", kind=UnitKind.STREET, parent=district)
    for i in range(n):
        unit = campaign_services.unit_create(
            name=f"丙社区{i:03d}", code=f"BING-1-{i}", kind=UnitKind.COMMUNITY, parent=street
        )
        if tied:
            score(version, unit, Population.COMMUNITY, composite=Decimal(100), rank=3, board="red")
        else:
            score(version, unit, Population.COMMUNITY, composite=Decimal(50 + i % 50), rank=3 + i)
        problem(campaign, unit, office, at(19), f"丙社区{i}的问题", photos=[photo_upload(user=inspector, file=jpeg(i))])
        problem(campaign, unit, office, at(9), f"丙社区{i}的超期问题", deadline=datetime.date(2026, 11, 16))
        AccountabilityCase.objects.create(
            campaign=campaign, week=WEEK, unit=unit, rule=CaseRule.OVERDUE, level=CaseLevel.REMIND, reason="超期"
        )


def test_the_query_count_does_not_grow_with_the_city(
    week, campaign, city, office, inspector, django_assert_num_queries
):
    version = week["version"]
    before = fetched(version)
    with django_assert_num_queries(BULLETIN_QUERIES):
        bulletin_data(version=before)

    grow(version, campaign, office, inspector)

    after = fetched(version)
    with django_assert_num_queries(BULLETIN_QUERIES):
        data = bulletin_data(version=after)
    bing = next(group for group in data["districts"] if group.name == "丙区")
    assert (bing.name, bing.total, len(bing.cards), bing.hidden) == ("丙区", 100, 6, 94)
    assert all(card.thumb is not None for card in bing.cards)
    assert len(data["cases"]) == 101
    # Every overdue problem is counted; the longest overdue are listed, all of them in the workbook.
    assert data["overdue_total"] == 102 and len(data["overdue"]) == 30
    assert len(bulletin_data(version=fetched(version), full=True)["overdue"]) == 102


def test_ties_boards_and_cases_print_a_bounded_selection(week, campaign, office, inspector):
    """1,306 communities at full marks share rank 1 at city scale: the printed table lists ten
    rows at each end by place, a long 红榜 prints 20 names and its count, many cases print as the
    units of each rule and level; the workbook has every row."""
    version = week["version"]
    grow(version, campaign, office, inspector, n=40, tied=True)

    data = bulletin_data(version=fetched(version))
    community = data["rankings"][2]
    assert (len(community.print_top), len(community.print_bottom), community.middle_count) == (10, 10, 22)
    assert [row["unit_name"] for row in community.print_top] == ["甲一社区", "甲二社区"] + [
        f"丙社区{i:03d}" for i in range(8)
    ]
    assert community.note.startswith("共42个社区村参与排名，此处列出前10名和后10名（第3名并列40个，未全部列出）")
    board = data["boards"][2]
    assert (len(board.red), board.red_count, board.red_hidden) == (20, 41, 21)
    assert board.red[0]["unit_name"] == "甲一社区"
    groups = sorted((group.rule_display, group.level_display, len(group.units)) for group in data["case_groups"])
    assert groups == [("上黑榜", "提醒", 1), ("超期问题过多", "提醒", 40)]

    full = bulletin_data(version=fetched(version), full=True)
    assert len(full["rankings"][2].rows) == 43 and len(full["boards"][2].red) == 41


def test_few_cases_print_one_row_each(week):
    data = bulletin_data(version=fetched(week["version"]))
    assert data["case_groups"] == [] and len(data["cases"]) == 1


# --- PDF and Excel -----------------------------------------------------------------------------


def pdf_text(content: bytes, tmp_path) -> str:
    path = tmp_path / "bulletin.pdf"
    path.write_bytes(content)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True).stdout


needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) not installed")


@needs_poppler
def test_the_pdf_prints_in_chinese_with_the_weeks_content(week, tmp_path):
    content = bulletin_pdf(version=fetched(week["version"]))

    assert content.startswith(b"%PDF")
    text = pdf_text(content, tmp_path)
    for expected in (
        "创建全国文明城市周通报",
        "第47周（11月16日—11月22日）",
        "甲区",
        "乙区",
        "甲一社区",  # on the 红榜
        "示范市城市管理局",
        "农贸市场门口占道经营",
        "乙一社区井盖缺失",
        "区县排名末位，上黑榜",
    ):
        assert expected in text, expected
    assert "第1页/共" in text.replace(" ", "")
    # Where the complete tables are.
    flat = "".join(text.split())
    assert "各类别的完整排名、本周问题完整清单和超期问题完整清单见同期Excel附表" in flat
    assert "《创建全国文明城市-2026年第47周-周通报.xlsx》" in flat
    assert "作废的问题" not in text and "已撤销" not in text


@needs_poppler
def test_the_pdf_embeds_the_thumbnails_from_storage(week, tmp_path):
    path = tmp_path / "bulletin.pdf"
    path.write_bytes(bulletin_pdf(version=fetched(week["version"])))
    listing = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, check=True, text=True).stdout
    images = [line for line in listing.splitlines()[2:] if line.strip()]
    # The first photos of the three problems that have one (photos[1] is a second photo: not shown).
    assert len(images) == 3


def test_the_workbook_has_every_sheet_and_the_full_rankings(week):
    workbook = load_workbook(io.BytesIO(bulletin_xlsx(version=fetched(week["version"]))))

    assert workbook.sheetnames == [
        "概况", "区县排名", "街道排名", "社区排名", "部门排名", "红黑榜", "问题清单", "超期问题", "问责事项",
    ]  # fmt: skip
    districts = workbook["区县排名"]
    assert [c.value for c in districts[1]][:6] == ["名次", "名次变化", "单位", "综合分", "得分率", "观测数"]
    assert [[c.value for c in row][:5] for row in districts.iter_rows(min_row=2)] == [
        [1, "↑1", "甲区", 93.5, 0.95],
        [2, "↓1", "乙区", 82.1, 0.81],
    ]
    assert districts["E2"].number_format == "0.0%"
    assert districts["A1"].font.bold and districts.freeze_panes == "A2"
    assert districts.column_dimensions["C"].width == 24
    communities = workbook["社区排名"]
    assert [[c.value for c in row][:5] for row in communities.iter_rows(min_row=2)] == [
        [1, "新", "甲一社区", "甲区", "甲街道"],
        [2, "新", "甲二社区", "甲区", "甲街道"],
        ["样本不足", None, "乙一社区", "乙区", "乙街道"],
    ]
    summary = workbook["概况"]
    assert [c.value for c in summary[4]] == ["得分率", 0.925, 0.9, pytest.approx(0.025)]
    assert summary["B4"].number_format == "0.0%"
    boards = [[c.value for c in row][:4] for row in workbook["红黑榜"].iter_rows(min_row=2)]
    assert boards[:2] == [["区县", "红榜", 1, "甲区"], ["区县", "黑榜", 2, "乙区"]]
    assert workbook["问题清单"].max_row == 5
    assert [row[4].value for row in workbook["超期问题"].iter_rows(min_row=2)] == [
        "甲二社区绿化带垃圾",
        "乙一社区井盖缺失",
    ]
    assert [[c.value for c in row][:3] for row in workbook["问责事项"].iter_rows(min_row=2)] == [
        ["乙区", "上黑榜", "提醒"]
    ]


# --- Pages -------------------------------------------------------------------------------------

PERSONAS = ["office", "inspector", "leader", "liaison_jia", "liaison_yi", "liaison_dept"]


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_member_reads_the_print_page(week, web, persona, request):
    client = web(request.getfixturevalue(persona))
    version = week["version"]

    response = client.get(f"/bulletins/{version.campaign_id}/{WEEK}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "创建全国文明城市周通报" in html and "第47周（11月16日—11月22日）" in html
    assert "@page" in html and "size: A4" in html and "@media print" in html
    assert 'data-testid="print"' in html and "window.print()" in html
    assert f"/bulletins/{version.campaign_id}/{WEEK}/photos/{week['photos'][0].pk}/" in html


def test_the_print_page_query_count(rendered, week, web, leader, django_assert_num_queries):
    client = web(leader)
    # The session, the user, the memberships (scope), the version with its campaign, then
    # bulletin_data's fixed queries and the stored files' state.
    with django_assert_num_queries(4 + BULLETIN_QUERIES + 1):
        client.get(f"/bulletins/{week['version'].campaign_id}/{WEEK}/")


def test_the_print_page_query_count_does_not_grow(
    rendered, week, campaign, office, inspector, web, leader, django_assert_num_queries
):
    client = web(leader)
    page = f"/bulletins/{week['version'].campaign_id}/{WEEK}/"
    grow(week["version"], campaign, office, inspector, n=60)

    with django_assert_num_queries(4 + BULLETIN_QUERIES + 1):
        html = client.get(page).content.decode()
    assert "…… 中间 42 个单位略，见 Excel 附表“社区排名” ……" in html
    assert 'data-testid="case-groups"' in html and "丙社区059" in html


def test_the_print_page_keeps_its_sheet_and_renders_the_toolbar_per_reader(
    rendered, week, web, leader, office, django_assert_num_queries
):
    page = f"/bulletins/{week['version'].campaign_id}/{WEEK}/"
    first = web(leader).get(page).content.decode()
    # Then: the session, the user, the memberships, the version, the files' state.
    client = web(office)
    with django_assert_num_queries(5):
        again = client.get(page).content.decode()
    assert first.count('data-testid="bulletin-toolbar"') == again.count('data-testid="bulletin-toolbar"') == 1
    assert 'data-testid="regenerate"' in again and 'data-testid="regenerate"' not in first
    assert 'data-testid="download-pdf"' in first and "<!-- bulletin-toolbar -->" not in first


def test_a_liaison_sees_the_thumbnails_of_another_district_in_the_bulletin(week, web, liaison_jia):
    client = web(liaison_jia)
    version = week["version"]
    shown = week["photos"][3]  # 乙街道's problem

    response = client.get(f"/bulletins/{version.campaign_id}/{WEEK}/photos/{shown.pk}/")
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"

    not_in_bulletin = week["photos"][4]
    assert client.get(f"/bulletins/{version.campaign_id}/{WEEK}/photos/{not_in_bulletin.pk}/").status_code == 404


@pytest.mark.parametrize("week_code", ["2026-W48", "2026-W45", "2026-W53"])
def test_an_unpublished_week_is_404_in_chinese(week, web, office, week_code):
    client = web(office)
    campaign_id = week["version"].campaign_id
    for suffix in ("/", ".pdf", ".xlsx"):
        response = client.get(f"/bulletins/{campaign_id}/{week_code}{suffix}")
        assert response.status_code == 404
        assert "没有已发布的周通报（周评比发布后才有周通报）" in response.content.decode()


def test_a_superseded_version_is_not_the_bulletin(week, web, office):
    version = week["version"]
    RollupVersion.objects.filter(pk=version.pk).update(status=VersionStatus.SUPERSEDED)
    assert web(office).get(f"/bulletins/{version.campaign_id}/{WEEK}/").status_code == 404


def test_anonymous_is_sent_to_the_login(week, client):
    for url in ("/bulletins/", f"/bulletins/{week['version'].campaign_id}/{WEEK}/", f"/bulletins/1/{WEEK}.pdf"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_a_user_without_a_role_is_refused(week, web):
    user = campaign_services.user_create(username="nobody", password="test-pass-2026", full_name="无角色")
    response = web(user).get(f"/bulletins/{week['version'].campaign_id}/{WEEK}/")
    assert response.status_code == 403


def test_the_page_downloads_carry_chinese_file_names(rendered, week, web, leader):
    client = web(leader)
    version = week["version"]

    pdf = client.get(f"/bulletins/{version.campaign_id}/{WEEK}.pdf")
    xlsx = client.get(f"/bulletins/{version.campaign_id}/{WEEK}.xlsx")

    # Stored files, streamed (FileResponse).
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.getvalue().startswith(b"%PDF")
    assert pdf["Content-Disposition"] == (
        f"attachment; filename=\"bulletin-{WEEK}.pdf\"; filename*=UTF-8''{quote('创建全国文明城市-2026年第47周-周通报.pdf')}"
    )
    assert xlsx.status_code == 200
    assert xlsx["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert load_workbook(io.BytesIO(xlsx.getvalue())).sheetnames[0] == "概况"


def test_the_list_shows_published_weeks_only(week, web, liaison_yi, django_assert_num_queries):
    client = web(liaison_yi)
    response = client.get("/bulletins/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "第47周（11月16日—11月22日）" in html and "2026-W46" in html  # the code in links only
    assert "2026-W48" not in html
    assert "92.5%" in html

    # The session, the user, the memberships (scope), the versions with their citywide numbers
    # (one query however many weeks); then the layout's current campaign and unread notifications.
    with django_assert_num_queries(6):
        client.get("/bulletins/")


def test_the_list_has_an_empty_state(web, office):
    response = web(office).get("/bulletins/")
    assert response.status_code == 200
    assert "还没有发布的周评比" in response.content.decode()


# --- API ---------------------------------------------------------------------------------------


def test_the_api_serves_the_pdf_and_the_workbook_with_a_token(rendered, week, office, client):
    token = Token.objects.create(user=office)
    version = week["version"]
    headers = {"HTTP_AUTHORIZATION": f"Token {token.key}"}

    pdf = client.get(f"/api/v1/bulletins/{version.campaign_id}/{WEEK}.pdf", HTTP_ACCEPT="application/pdf", **headers)
    xlsx = client.get(f"/api/v1/bulletins/{version.campaign_id}/{WEEK}.xlsx", **headers)

    assert (
        pdf.status_code == 200
        and pdf["Content-Type"] == "application/pdf"
        and b"".join(pdf.streaming_content).startswith(b"%PDF")
    )
    assert "filename*=UTF-8''" in pdf["Content-Disposition"]
    assert xlsx.status_code == 200
    assert xlsx["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "问题清单" in load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).sheetnames


@pytest.mark.parametrize("persona", ["liaison_yi", "leader"])
def test_every_member_gets_the_api_files(rendered, week, api, persona, request):
    version = week["version"]
    response = api(request.getfixturevalue(persona)).get(f"/api/v1/bulletins/{version.campaign_id}/{WEEK}.xlsx")
    assert response.status_code == 200


@pytest.mark.parametrize("suffix", ["pdf", "xlsx"])
def test_the_api_answers_404_for_an_unpublished_week(week, api, office, suffix):
    response = api(office).get(f"/api/v1/bulletins/{week['version'].campaign_id}/2026-W48.{suffix}")
    assert response.status_code == 404
    assert response.json() == {
        "code": "not_found",
        "detail": "2026-W48：没有已发布的周通报（周评比发布后才有周通报）。",
    }


@pytest.mark.parametrize("suffix", ["pdf", "xlsx"])
def test_the_api_refuses_anonymous(week, api, suffix):
    response = api().get(f"/api/v1/bulletins/{week['version'].campaign_id}/{WEEK}.{suffix}")
    assert response.status_code in (401, 403)
    assert response.json()["code"] == "not_authenticated"


def test_a_server_without_pdf_support_says_so_in_chinese(
    week, web, api, office, monkeypatch, django_capture_on_commit_callbacks
):
    import sys

    monkeypatch.setitem(sys.modules, "weasyprint", None)  # as if WeasyPrint or pango were missing
    with django_capture_on_commit_callbacks(execute=True):
        bulletin_queue(version=week["version"])  # the PDF fails alone; the workbook is made
    campaign_id = week["version"].campaign_id
    page = web(office).get(f"/bulletins/{campaign_id}/{WEEK}.pdf")
    assert page.status_code == 503 and "pango" in page.content.decode()
    response = api(office).get(f"/api/v1/bulletins/{campaign_id}/{WEEK}.pdf", HTTP_ACCEPT="application/pdf")
    assert response.status_code == 503 and "打印页或 Excel" in response.json()["detail"]
    assert web(office).get(f"/bulletins/{campaign_id}/{WEEK}.xlsx").status_code == 200
    assert api(office).get(f"/api/v1/bulletins/{campaign_id}/{WEEK}.xlsx").status_code == 200


def test_the_api_answers_503_while_the_files_are_being_made(week, api, office, monkeypatch):
    from accountability import bulletin as bulletin_module

    def must_not_render(**kwargs):
        raise AssertionError("an API request must not render the bulletin")

    monkeypatch.setattr(bulletin_module, "bulletin_pdf", must_not_render)
    campaign_id = week["version"].campaign_id
    response = api(office).get(f"/api/v1/bulletins/{campaign_id}/{WEEK}.pdf", HTTP_ACCEPT="application/pdf")
    assert response.status_code == 503
    assert response.json()["code"] == "bulletin_rendering"
    assert "生成" in response.json()["detail"]
