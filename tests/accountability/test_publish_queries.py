"""Publishing a week costs the same statements for a small city and a larger one: the accountability
rules gather their evidence for all units at once and write the cases in bulk (a first publish and a
republish alike). The evidence is the one `responsible_q` defines: problems located in or handled by
the unit's subtree, earliest deadline first, at most EVIDENCE_LIMIT of them.

The base is the hand-computed week (2026-W45, see test_rollup.py) with an overdue threshold of 0, a
rebound and an open veto event; "larger" adds districts, each with a street, a community, a market
observed that week, two overdue problems (one handled by a department) and a rebound.
"""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accountability import rollup
from accountability.choices import CaseRule, CaseStatus
from accountability.models import AccountabilityCase, RollupVersion
from accountability.rollup import cases_raise, rollup_compute, rollup_publish
from campaign import services as campaign_services
from campaign.choices import UnitKind
from inspections import services as inspection_services
from inspections.choices import ProblemSource, ProblemStatus
from inspections.models import Problem
from inspections.selectors import responsible_q, week_count_q
from tests.accountability.rollup_fixtures import MONDAY, WEEK, at

# Statements of a publish, whatever the number of units and cases (SAVEPOINTs included): 20 since
# publishing records the check-item versions the week counted (two more: the items lacking a
# history row, and one INSERT … SELECT of their latest versions); 27 since the new cases notify their
# units (accountability.notify: a savepoint's two, the liaisons, their addresses, the robots, the
# keys already sent, one INSERT — seven more, whatever the number of cases). On PostgreSQL the cases'
# evidence statement (overdue, rebound) runs with the JIT off in a savepoint: three more each.
FIRST_PUBLISH_MAX = 27 + (6 if connection.vendor == "postgresql" else 0)


@pytest.fixture
def base(campaign, city, office, week45, market, observe, system):
    """The hand-computed week with every rule raising something."""
    from indicators.models import NegativeListItem, RiskEvent

    closed, _open = week45
    campaign_services.campaign_update(campaign=campaign, overdue_case_threshold=0)
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
    item = NegativeListItem.objects.create(system=system, title="发生重大安全生产事故", veto=True)
    RiskEvent.objects.create(
        item=item, unit=city.district_yi, occurred_on=MONDAY, description="事故", created_by=office
    )
    return campaign


@pytest.fixture
def grow(base, city, office, market_type, observe):
    """grow(n): n more districts, each with a street, a community and a failing market, two overdue
    problems (one handled by 市城管局) and a rebound of a closed one."""

    def make(count: int) -> None:
        for index in range(count):
            district = campaign_services.unit_create(name=f"新区{index}", code=f"X{index}", kind=UnitKind.DISTRICT)
            street = campaign_services.unit_create(
                name=f"新街道{index}", code=f"X{index}-1", kind=UnitKind.STREET, parent=district
            )
            community = campaign_services.unit_create(
                name=f"新社区{index}", code=f"X{index}-1-1", kind=UnitKind.COMMUNITY, parent=street
            )
            point = inspection_services.point_create(name=f"新市场{index}", point_type=market_type, unit=community)
            observe(point, ["0.5", "0.25"])
            common = {
                "campaign": base,
                "source": ProblemSource.INSPECTION,
                "point": point,
                "unit": community,
                "created_by": office,
                "found_at": at(MONDAY),
                "status": ProblemStatus.RECTIFYING,
            }
            for day, handler in ((3, street), (1, city.dept_cg)):
                Problem.objects.create(
                    description="超期", handler=handler, deadline=MONDAY + datetime.timedelta(days=day), **common
                )
            earlier = Problem.objects.create(
                description="已销号",
                handler=street,
                deadline=MONDAY - datetime.timedelta(days=10),
                **{**common, "status": ProblemStatus.CLOSED, "found_at": at(MONDAY - datetime.timedelta(days=14))},
                closed_at=at(MONDAY - datetime.timedelta(days=11)),
            )
            Problem.objects.create(
                description="反弹",
                handler=street,
                rebound_of=earlier,
                **{**common, "found_at": at(MONDAY + datetime.timedelta(days=2))},
            )

    return make


def publish_counted(campaign, office) -> tuple[int, int]:
    """(statements of rollup_publish, cases of the week) for a freshly computed draft."""
    rollup_compute(campaign=campaign, week=WEEK)
    office = type(office).objects.get(pk=office.pk)  # its roles not yet read, as in a request
    with CaptureQueriesContext(connection) as queries:
        rollup_publish(campaign=campaign, week=WEEK, user=office, bulletin=False)
    return len(queries), AccountabilityCase.objects.filter(week=WEEK).count()


def test_first_publish_costs_the_same_for_few_and_many_units(base, grow, office):
    small, small_cases = publish_counted(base, office)
    rules = set(AccountabilityCase.objects.values_list("rule", flat=True))
    assert rules == {CaseRule.BLACK_LIST, CaseRule.OVERDUE, CaseRule.REBOUND, CaseRule.VETO}
    AccountabilityCase.objects.all().delete()
    RollupVersion.objects.all().delete()

    grow(8)
    large, large_cases = publish_counted(base, office)
    assert large_cases >= 8 * 4 > small_cases  # overdue and rebound for each new district and its street
    assert large == small <= FIRST_PUBLISH_MAX


def test_republish_costs_the_same_for_few_and_many_units(base, grow, office, market, observe):
    def republish_counted() -> int:
        publish_counted(base, office)
        observe(market, ["0.5"])  # a late observation: a new draft to publish
        count, _cases = publish_counted(base, office)
        assert (
            AccountabilityCase.objects.filter(week=WEEK)
            .exclude(score__rollup__status="published")
            .filter(score__isnull=False)
            .count()
            == 0
        ), "every case now points at the republished rows"
        return count

    small = republish_counted()
    AccountabilityCase.objects.all().delete()
    RollupVersion.objects.all().delete()
    grow(8)
    assert republish_counted() == small <= FIRST_PUBLISH_MAX


def test_evidence_is_what_the_unit_answers_for(base, grow, office, city, monkeypatch):
    """Per case, the problems of `responsible_q` meeting the rule, earliest deadline first, capped;
    a problem located in one subtree and handled by another is evidence for both."""
    grow(3)
    monkeypatch.setattr(rollup, "EVIDENCE_LIMIT", 2)
    rollup_compute(campaign=base, week=WEEK)
    rollup_publish(campaign=base, week=WEEK, user=office, bulletin=False)
    sets = week_count_q(WEEK)
    condition = {CaseRule.OVERDUE: sets["overdue_open"], CaseRule.REBOUND: sets["rebounds"]}
    cases = AccountabilityCase.objects.filter(rule__in=condition).select_related("unit")
    assert {case.unit for case in cases} >= {city.dept_cg, city.district_jia, city.street_jia}
    for case in cases:
        expected = list(
            Problem.objects.filter(campaign=base)
            .exclude(status=ProblemStatus.VOID)
            .filter(responsible_q(case.unit))
            .filter(condition[case.rule])
            .order_by("deadline", "pk")
            .values_list("pk", flat=True)[:2]
        )
        assert case.evidence["problems"] == expected, (case.unit.name, case.rule)
    # 市城管局 handles one overdue problem of each new district: capped at 2, earliest first.
    department = cases.get(unit=city.dept_cg, rule=CaseRule.OVERDUE)
    assert len(department.evidence["problems"]) == 2


def test_republish_reopens_undecided_withdrawals_and_keeps_decisions(base, office, city):
    rollup_compute(campaign=base, week=WEEK)
    version = rollup_publish(campaign=base, week=WEEK, user=office, bulletin=False)
    overdue = AccountabilityCase.objects.get(unit=city.street_jia, rule=CaseRule.OVERDUE)
    rebound = AccountabilityCase.objects.get(unit=city.street_jia, rule=CaseRule.REBOUND)
    stale = AccountabilityCase.objects.create(
        campaign=base, week=WEEK, unit=city.street_yi, rule=CaseRule.OVERDUE, level="interview", reason="旧"
    )
    decided_stale = AccountabilityCase.objects.create(
        campaign=base,
        week=WEEK,
        unit=city.district_yi,
        rule=CaseRule.REBOUND,
        level="remind",
        reason="旧",
        status=CaseStatus.HELD,
        decided_by=office,
    )
    AccountabilityCase.objects.filter(pk=overdue.pk).update(status=CaseStatus.WITHDRAWN, reason="x", evidence={})
    AccountabilityCase.objects.filter(pk=rebound.pk).update(status=CaseStatus.WITHDRAWN, decided_by=office)
    before = AccountabilityCase.objects.get(pk=overdue.pk).updated_at

    cases_raise(version=version)
    overdue.refresh_from_db()
    rebound.refresh_from_db()
    stale.refresh_from_db()
    decided_stale.refresh_from_db()
    assert overdue.status == CaseStatus.PENDING and overdue.reason.startswith("周末超期未整改问题")
    assert overdue.evidence["problems"] and overdue.score.rollup_id == version.pk and overdue.updated_at > before
    assert rebound.status == CaseStatus.WITHDRAWN  # withdrawn by a decision: stays so
    assert stale.status == CaseStatus.WITHDRAWN and "自动撤销" in stale.decision_note
    assert decided_stale.status == CaseStatus.HELD
