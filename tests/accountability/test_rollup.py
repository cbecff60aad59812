"""The weekly roll-up against a hand-computed week (2026-W45, Mon 2 Nov – Sun 8 Nov).

Observations (each charged to the point's territorial chain and to 市城管局, the type's department):
  甲一农贸市场 (甲一社区 → 甲街道 → 甲区): scores 1, 1, 0.75, 0.25 → mean 0.75, 2 failing, 2 points off
  乙街道农贸市场 (乙街道 → 乙区): scores 1, 1, 1 → mean 1.0
  市城管局: all 7 → mean 6/7; 市文明办, 甲二社区, 乙一社区: none (样本不足)
Problems located in 甲一社区, handled by 甲街道, both due Fri 6 Nov: one closed Thu 5 Nov (on time),
one still open (overdue at the week's end). So 甲: on-time rate 0.5, overdue 1.

Minimum sample 2 here (the default 5 is tested on its own).
Composite = 70 × score rate + 30 × on-time rate (full 30 with nothing due):
  甲一社区 / 甲街道 / 甲区: 70 × 0.75 + 30 × 0.5 = 67.50
  乙街道 / 乙区: 70 + 30 = 100.00
  市城管局: 70 × 6/7 + 30 = 90.00
  全市: 70 × 6/7 + 30 × 0.5 = 75.00
"""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accountability.choices import CaseLevel, CaseRule, CaseStatus, VersionStatus
from accountability.models import AccountabilityCase, RollupVersion, UnitWeekScore
from accountability.rollup import (
    METRICS,
    _rank,
    case_decide,
    cases_raise,
    rollup_compute,
    rollup_diff,
    rollup_enqueue,
    rollup_publish,
)
from campaign import services as campaign_services
from campaign.choices import UnitKind
from campaign.models import JobRun
from inspections.choices import ProblemSource
from inspections.models import InspectionRound, Problem
from tests.accountability.rollup_fixtures import MONDAY, WEEK, at


def rows(version) -> dict[str, UnitWeekScore]:
    return {row.unit.name if row.unit else "全市": row for row in version.scores.select_related("unit")}


def test_week_against_hand_computed_numbers(campaign, week45):
    version, outcome = rollup_compute(campaign=campaign, week=WEEK)
    assert outcome == "created" and version.status == VersionStatus.DRAFT and version.number == 1
    by_name = rows(version)
    jia1, jia_street, jia = by_name["甲一社区"], by_name["甲街道"], by_name["甲区"]
    for row in (jia1, jia_street, jia):
        assert (row.observations, row.failing_observations) == (4, 2)
        assert row.deduction_points == Decimal("2.00")  # cap 2: 0.75 → 0.5 off, 0.25 → 1.5 off
        assert row.score_rate == Decimal("0.750000")
        assert (row.problems_opened, row.problems_due, row.closed_on_time, row.overdue_open) == (2, 2, 1, 1)
        assert row.on_time_rate == Decimal("0.500000")
        assert row.composite == Decimal("67.50")
    assert by_name["乙街道"].composite == by_name["乙区"].composite == Decimal("100.00")
    assert by_name["乙区"].on_time_rate is None  # nothing due: the process part is full
    cg = by_name["示范市城市管理局"]
    assert (cg.observations, cg.problems_due) == (7, 0)
    assert cg.score_rate == Decimal("0.857143")
    assert cg.composite == Decimal("90.00")
    city_row = by_name["全市"]
    assert (city_row.observations, city_row.failing_observations, city_row.problems_opened) == (7, 2, 2)
    assert city_row.composite == Decimal("75.00")
    # Units without observations: 样本不足, neither ranked nor on a list.
    for name in ("甲二社区", "乙一社区", "示范市文明办"):
        assert by_name[name].rank is None and not by_name[name].sample_ok and by_name[name].board == ""
        assert by_name[name].composite is None
    # Ranks per population; with two ranked units the lists take one each.
    assert (by_name["乙区"].rank, by_name["乙区"].board) == (1, "red")
    assert (jia.rank, jia.board) == (2, "black")
    assert (by_name["乙街道"].rank, jia_street.rank) == (1, 2)
    assert (jia1.rank, jia1.board) == (1, "")  # alone in its population
    assert version.rows == UnitWeekScore.objects.filter(rollup=version).count() == 10


def test_problems_and_reworks_count_once_for_every_unit_above_the_located_unit_or_the_handler(
    campaign, city, office, week45
):
    """A problem counts for its located unit and every unit above it, and for its handler and
    every unit above that; once for a unit that is both (甲街道 and 甲区 below). Its 退回 events
    likewise."""
    from accountability.choices import Action
    from accountability.models import ProblemEvent

    tuesday = at(MONDAY + datetime.timedelta(days=1))
    across = [
        Problem.objects.create(
            campaign=campaign,
            source=ProblemSource.INSPECTION,
            unit=located,
            handler=handler,
            description="跨辖区交办",
            found_at=tuesday,
            created_by=office,
        )
        for located, handler in ((city.community_yi1, city.street_jia), (city.community_jia2, city.dept_cg))
    ]
    events = [
        ProblemEvent.objects.create(
            problem=problem, action=Action.REJECT, actor=office, role="office", from_status="a", to_status="b"
        )
        for problem in across
    ]
    ProblemEvent.objects.filter(pk__in=[event.pk for event in events]).update(at=tuesday)
    by_name = rows(rollup_compute(campaign=campaign, week=WEEK)[0])
    expected = {  # (problems_opened, rework_count); week45's two problems are 甲一社区's, handled by 甲街道
        "甲一社区": (2, 0),
        "甲二社区": (1, 1),
        "甲街道": (4, 2),
        "甲区": (4, 2),
        "乙一社区": (1, 1),
        "乙街道": (1, 1),
        "乙区": (1, 1),
        "示范市城市管理局": (1, 1),
        "示范市文明办": (0, 0),
    }
    assert {name: (by_name[name].problems_opened, by_name[name].rework_count) for name in expected} == expected
    assert (by_name["全市"].problems_opened, by_name["全市"].rework_count) == (4, 2)


def test_minimum_sample_excludes_from_ranking(campaign, week45):
    campaign_services.campaign_update(campaign=campaign, min_sample=5)
    version, _ = rollup_compute(campaign=campaign, week=WEEK)
    by_name = rows(version)
    assert by_name["甲区"].rank is None and by_name["甲区"].composite == Decimal("67.50")
    assert by_name["乙区"].rank is None  # 3 observations
    assert by_name["示范市城市管理局"].rank == 1


def test_running_a_week_twice_gives_identical_rows(campaign, week45):
    first, _ = rollup_compute(campaign=campaign, week=WEEK)
    before = sorted(first.scores.values_list("unit_id", *METRICS), key=str)
    with CaptureQueriesContext(connection) as queries:
        second, outcome = rollup_compute(campaign=campaign, week=WEEK)
    assert outcome == "recomputed" and second.pk == first.pk and second.number == 1
    assert [q["sql"][:40] for q in queries.captured_queries if q["sql"].startswith("DELETE")] == [
        'DELETE FROM "accountability_unitweekscor'
    ]  # the draft's old rows go in one statement
    assert sorted(second.scores.values_list("unit_id", *METRICS), key=str) == before


@pytest.fixture
def version_with(campaign, db):
    """An empty draft version whose rows a test writes directly, to test ranking on its own."""

    def make(composites, mode="rank", k=3, week=WEEK):
        campaign_services.campaign_update(campaign=campaign, board_mode=mode, board_k=k)
        from accountability.rollup import campaign_rules

        version = RollupVersion.objects.create(
            campaign=campaign,
            week=week,
            week_start=MONDAY,
            week_end=MONDAY + datetime.timedelta(days=6),
            rules=campaign_rules(campaign),
            computed_at=timezone.now(),
        )
        units = []
        for index, composite in enumerate(composites):
            unit = campaign_services.unit_create(name=f"部门{index}", code=f"D{index}", kind=UnitKind.DEPARTMENT)
            units.append(unit)
            UnitWeekScore.objects.create(
                rollup=version,
                unit=unit,
                population="department",
                observations=10,
                sample_ok=composite is not None,
                composite=Decimal(composite) if composite is not None else Decimal("99"),
            )
        return version, units

    return make


def test_competition_ranks_with_ties(version_with):
    version, units = version_with(["96", "90", "90", "80", "70", "60", None])
    _rank(version)
    ranks = {row.unit_id: (row.rank, row.board) for row in version.scores.all()}
    assert [ranks[u.pk][0] for u in units] == [1, 2, 2, 4, 5, 6, None]
    # Six ranked, k = 3: ranks 1–3 red (the tie at 2 included), bottom three black.
    assert [ranks[u.pk][1] for u in units] == ["red", "red", "red", "black", "black", "black", ""]


def test_small_population_splits_the_lists(version_with):
    version, units = version_with(["96", "90", "80"])
    _rank(version)
    boards = [UnitWeekScore.objects.get(rollup=version, unit=u).board for u in units]
    assert boards == ["red", "", "black"]  # three ranked: one each


def test_threshold_mode(version_with):
    version, units = version_with(["95", "90", "89.99", "85", "84.99"], mode="threshold")
    _rank(version)
    boards = [UnitWeekScore.objects.get(rollup=version, unit=u).board for u in units]
    assert boards == ["red", "red", "", "", "black"]


def test_publish_freezes_and_recompute_makes_a_new_draft(campaign, week45, office, market, observe):
    draft, _ = rollup_compute(campaign=campaign, week=WEEK)
    published = rollup_publish(campaign=campaign, week=WEEK, user=office)
    assert published.pk == draft.pk and published.status == VersionStatus.PUBLISHED
    frozen = sorted(published.scores.values_list("unit_id", *METRICS), key=str)

    # Nothing changed: no new version.
    same, outcome = rollup_compute(campaign=campaign, week=WEEK)
    assert outcome == "unchanged" and same.pk == published.pk
    assert RollupVersion.objects.filter(campaign=campaign, week=WEEK).count() == 1

    # A late observation: a second version as a draft, the published one untouched.
    observe(market, ["0.5"])
    second, outcome = rollup_compute(campaign=campaign, week=WEEK)
    assert outcome == "new_version" and second.number == 2 and second.status == VersionStatus.DRAFT
    assert sorted(published.scores.values_list("unit_id", *METRICS), key=str) == frozen
    changes = rollup_diff(draft=second, published=published)
    changed = {change["unit_name"] for change in changes}
    assert {"甲区", "甲街道", "甲一社区", "示范市城市管理局", "全市"} <= changed
    assert "乙区" not in changed
    assert rows(second)["甲区"].observations == 5

    republished = rollup_publish(campaign=campaign, week=WEEK, user=office)
    published.refresh_from_db()
    assert republished.status == VersionStatus.PUBLISHED and published.status == VersionStatus.SUPERSEDED


def test_only_the_office_publishes_and_a_draft_is_needed(campaign, week45, office, leader, liaison_jia):
    with pytest.raises(ValidationError):
        rollup_publish(campaign=campaign, week=WEEK, user=office)
    rollup_compute(campaign=campaign, week=WEEK)
    for user in (leader, liaison_jia):
        with pytest.raises(PermissionDenied):
            rollup_publish(campaign=campaign, week=WEEK, user=user)
    assert not RollupVersion.objects.filter(status=VersionStatus.PUBLISHED).exists()


def test_malformed_week_is_refused(campaign):
    with pytest.raises(ValidationError):
        rollup_compute(campaign=campaign, week="2026-47")
    assert not RollupVersion.objects.exists()


def test_rank_change_against_last_weeks_published_ranking(campaign, week45, office, market, market_yi, observe):
    # Week 44: 甲 perfect, 乙 poor → 甲区 first.
    previous_monday = MONDAY - datetime.timedelta(days=7)
    observe(market, [1, 1], day=previous_monday)
    observe(market_yi, ["0.5", "0.5"], day=previous_monday)
    rollup_compute(campaign=campaign, week="2026-W44")
    rollup_publish(campaign=campaign, week="2026-W44", user=office)
    version, _ = rollup_compute(campaign=campaign, week=WEEK)
    by_name = rows(version)
    assert (by_name["甲区"].rank, by_name["甲区"].rank_change) == (2, -1)
    assert (by_name["乙区"].rank, by_name["乙区"].rank_change) == (1, 1)


def test_accountability_ladder_over_three_weeks(campaign, city, office, market, market_yi, observe, week_round):
    campaign_services.campaign_update(campaign=campaign, min_sample=2)
    for back, week in ((2, "2026-W43"), (1, "2026-W44"), (0, "2026-W45")):
        monday = MONDAY - datetime.timedelta(days=7 * back)
        observe(market, ["0.5", "0.5"], day=monday)
        observe(market_yi, [1, 1], day=monday)
        rollup_compute(campaign=campaign, week=week)
        rollup_publish(campaign=campaign, week=week, user=office)
    cases = {
        (case.week, case.unit.name): case
        for case in AccountabilityCase.objects.filter(rule=CaseRule.BLACK_LIST).select_related("unit")
    }
    assert (cases[("2026-W43", "甲区")].level, cases[("2026-W43", "甲区")].streak) == (CaseLevel.REMIND, 1)
    assert (cases[("2026-W44", "甲区")].level, cases[("2026-W44", "甲区")].streak) == (CaseLevel.INTERVIEW, 2)
    assert (cases[("2026-W45", "甲区")].level, cases[("2026-W45", "甲区")].streak) == (CaseLevel.ACCOUNT, 3)
    assert ("2026-W45", "甲街道") in cases
    # Communities answer through their street; the top of the list raises nothing.
    assert not any(name in ("甲一社区", "乙区", "乙街道") for _week, name in cases)
    assert cases[("2026-W45", "甲区")].evidence["scores"] == [cases[("2026-W45", "甲区")].score_id]


def test_overdue_rebound_and_veto_cases(campaign, city, office, week45, system):
    from indicators.models import NegativeListItem, RiskEvent

    closed, _open = week45
    Problem.objects.create(
        campaign=campaign,
        source=ProblemSource.INSPECTION,
        unit=city.community_jia1,
        handler=city.street_jia,
        description="反弹",
        found_at=at(MONDAY + datetime.timedelta(days=2)),
        created_by=office,
        rebound_of=closed,
    )
    campaign_services.campaign_update(campaign=campaign, overdue_case_threshold=0)
    item = NegativeListItem.objects.create(system=system, title="发生重大安全生产事故", veto=True)
    RiskEvent.objects.create(
        item=item, unit=city.district_yi, occurred_on=MONDAY, description="事故", created_by=office
    )
    rollup_compute(campaign=campaign, week=WEEK)
    rollup_publish(campaign=campaign, week=WEEK, user=office)
    found = set(AccountabilityCase.objects.values_list("unit__name", "rule"))
    assert {("甲街道", CaseRule.OVERDUE), ("甲区", CaseRule.OVERDUE)} <= found
    assert {("甲街道", CaseRule.REBOUND), ("甲区", CaseRule.REBOUND)} <= found
    assert ("乙区", CaseRule.VETO) in found
    overdue = AccountabilityCase.objects.get(unit=city.street_jia, rule=CaseRule.OVERDUE)
    assert overdue.evidence["problems"] == [_open.pk]


def test_republish_updates_cases_and_withdraws_stale_ones(campaign, city, office, week45, market_yi, observe):
    rollup_compute(campaign=campaign, week=WEEK)
    rollup_publish(campaign=campaign, week=WEEK, user=office)
    case = AccountabilityCase.objects.get(unit=city.district_jia, rule=CaseRule.BLACK_LIST)
    # 乙 falls far behind: 甲 leaves the 黑榜 on the recomputed week.
    observe(market_yi, [0, 0, 0, 0])
    rollup_compute(campaign=campaign, week=WEEK)
    rollup_publish(campaign=campaign, week=WEEK, user=office)
    case.refresh_from_db()
    assert case.status == CaseStatus.WITHDRAWN
    assert AccountabilityCase.objects.get(unit=city.district_yi, rule=CaseRule.BLACK_LIST).status == CaseStatus.PENDING
    assert AccountabilityCase.objects.filter(unit=city.district_jia, rule=CaseRule.BLACK_LIST).count() == 1


def test_case_decision(campaign, city, office, leader, week45):
    rollup_compute(campaign=campaign, week=WEEK)
    rollup_publish(campaign=campaign, week=WEEK, user=office)
    case = AccountabilityCase.objects.get(unit=city.district_jia, rule=CaseRule.BLACK_LIST)
    with pytest.raises(PermissionDenied):
        case_decide(case=case, status=CaseStatus.INTERVIEWED, note="已约谈", user=leader)
    with pytest.raises(ValidationError):
        case_decide(case=case, status=CaseStatus.INTERVIEWED, note="  ", user=office)
    with pytest.raises(ValidationError):
        case_decide(case=case, status=CaseStatus.PENDING, note="x", user=office)
    case.refresh_from_db()
    assert case.status == CaseStatus.PENDING and case.decided_by is None
    decided = case_decide(case=case, status=CaseStatus.INTERVIEWED, note="11月10日分管领导约谈", user=office)
    assert decided.status == CaseStatus.INTERVIEWED and decided.decided_by == office
    with pytest.raises(ValidationError):
        case_decide(case=case, status=CaseStatus.HELD, note="再处理", user=office)
    # A republish keeps the decision.
    cases_raise(version=RollupVersion.objects.get(status=VersionStatus.PUBLISHED))
    case.refresh_from_db()
    assert case.status == CaseStatus.INTERVIEWED


def test_enqueue_runs_in_process_without_a_broker_and_records_the_run(campaign, week45, office):
    run = rollup_enqueue(campaign=campaign, week=WEEK, user=office)
    assert run.status == "succeeded" and run.result["rows"] == 10 and run.result["outcome"] == "created"
    assert run.params == {"campaign": campaign.pk, "week": WEEK, "reason": ""}


def test_data_change_of_a_computed_week_queues_a_recompute(
    campaign, week45, office, inspector, market, ads_item, django_capture_on_commit_callbacks
):
    # The inspection is recorded today; compute today's week first.
    from inspections.selectors import iso_week_of
    from inspections.services import ObservationInput, inspection_submit

    this_week = iso_week_of(timezone.localdate())
    round_ = InspectionRound.objects.create(
        campaign=campaign,
        name="本周",
        kind="weekly",
        start_date=timezone.localdate() - datetime.timedelta(days=7),
        end_date=timezone.localdate() + datetime.timedelta(days=7),
        created_by=office,
    )
    round_.points.add(market)
    round_.inspectors.add(inspector)
    rollup_compute(campaign=campaign, week=this_week)
    before = JobRun.objects.filter(name="weekly_rollup").count()
    with django_capture_on_commit_callbacks(execute=True):
        inspection_submit(
            user=inspector,
            round_=round_,
            point=market,
            client_uuid=uuid.uuid4(),
            observations=[ObservationInput(ads_item.pk, "fail", 1)],
        )
    assert JobRun.objects.filter(name="weekly_rollup").count() == before + 1
    draft = RollupVersion.objects.get(campaign=campaign, week=this_week)
    assert rows(draft)["甲区"].observations == 1


def test_query_count_does_not_grow_with_units(campaign, city, week45):
    """The aggregates, the composite and the ranks are a fixed number of statements; only the
    batched INSERT of the snapshot rows grows, by one statement per batch (SQLite batches are small)."""

    def split(queries):
        batched = [q["sql"] for q in queries if q["sql"].startswith("INSERT")]
        return len(queries) - len(batched), len(batched)

    rollup_compute(campaign=campaign, week=WEEK)
    with CaptureQueriesContext(connection) as small:
        rollup_compute(campaign=campaign, week=WEEK)
    for index in range(100):
        campaign_services.unit_create(
            name=f"新社区{index}", code=f"N{index}", kind=UnitKind.COMMUNITY, parent=city.street_yi
        )
    with CaptureQueriesContext(connection) as large:
        rollup_compute(campaign=campaign, week=WEEK)
    (fixed_small, _), (fixed_large, batched_large) = split(small.captured_queries), split(large.captured_queries)
    assert fixed_large == fixed_small
    assert batched_large <= 110 // 50 + 1
    assert UnitWeekScore.objects.filter(rollup__week=WEEK, population="community").count() == 103


def test_ranking_rules_are_validated_and_recorded_on_the_version(campaign, week45):
    for bad in ({"weight_score": 60}, {"black_line": Decimal("95")}, {"survey_target": Decimal("120")}):
        with pytest.raises(ValidationError):
            campaign_services.campaign_update(campaign=campaign, **bad)
    campaign.refresh_from_db()
    assert (campaign.weight_score, campaign.black_line) == (70, Decimal("85"))
    campaign_services.campaign_update(campaign=campaign, weight_score=60, weight_process=40)
    version, _ = rollup_compute(campaign=campaign, week=WEEK)
    assert version.rules["weight_score"] == 60
    assert rows(version)["甲区"].composite == Decimal("65.00")  # 60 × 0.75 + 40 × 0.5


def test_a_week_already_waiting_for_a_worker_is_not_queued_again(campaign, week45, settings):
    from accountability.rollup import rollup_refresh
    from campaign.celery import app

    rollup_compute(campaign=campaign, week=WEEK)
    moment = [at(MONDAY)]
    app.conf.task_always_eager = False  # a broker: runs wait in the queue (nothing commits in this test)
    try:
        first = rollup_refresh(campaign_id=campaign.pk, moments=moment, reason="督查记录 #1")
        second = rollup_refresh(campaign_id=campaign.pk, moments=moment, reason="督查记录 #2")
    finally:
        app.conf.task_always_eager = True
    assert len(first) == 1 and first[0].status == "queued" and second == []
    assert JobRun.objects.filter(name="weekly_rollup").count() == 1


def test_mondays_beat_computes_last_week_for_every_active_campaign(campaign):
    from accountability.tasks import rollup_last_week_task
    from inspections.selectors import iso_week_of

    last_week = iso_week_of(timezone.localdate() - datetime.timedelta(days=7))
    run_ids = rollup_last_week_task()
    run = JobRun.objects.get(pk__in=run_ids)
    assert run.params["week"] == last_week and run.status == "succeeded" and run.params["reason"] == "每周一自动计算"
    assert RollupVersion.objects.get(campaign=campaign, week=last_week).status == VersionStatus.DRAFT


def test_selectors_of_the_unit_page(campaign, city, week45, office, leader, liaison_yi):
    from decimal import Decimal as D

    from accountability.selectors import unit_trend, unit_week_losses, week_choices

    rollup_compute(campaign=campaign, week=WEEK)
    assert [w for w, _label, _status in week_choices(campaign=campaign, office=True)] == [WEEK]
    assert week_choices(campaign=campaign, office=False) == []  # a draft is the office's
    rollup_publish(campaign=campaign, week=WEEK, user=office)
    assert week_choices(campaign=campaign, office=False)[0][2] == VersionStatus.PUBLISHED
    assert [row.composite for row in unit_trend(unit=city.district_jia, campaign=campaign)] == [D("67.50")]

    losses = unit_week_losses(user=leader, unit=city.district_jia, campaign=campaign, week=WEEK)
    (standard,) = losses["by_indicator"]
    assert (standard["n"], standard["failing"], standard["points"]) == (4, 2, D("2.00"))
    assert [(t["n"], t["failing"]) for t in losses["by_type"]] == [(4, 2)]
    assert [(i["failing"], i["points"]) for i in losses["items"]] == [(2, D("2.00"))]
    # Within what the user may see: 乙街道's liaison sees none of 甲区's observations.
    assert unit_week_losses(user=liaison_yi, unit=city.district_jia, campaign=campaign, week=WEEK)["by_type"] == []
