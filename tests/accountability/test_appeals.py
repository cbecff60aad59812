"""申诉 (appeals) on the hand-computed week 2026-W45 (see test_rollup.py's docstring): the window,
the refusals (nothing saved), decisions and their races, the recomputed numbers, publishing."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accountability import appeals
from accountability.appeals import AppealConflict, appeal_decide, appeal_file, appeal_window
from accountability.models import Appeal, AppealEvent, AppealStatus, RollupVersion
from accountability.rollup import rollup_compute, rollup_publish
from campaign import services as campaign_services
from campaign.models import WorkGroup
from inspections.models import Observation
from tests.accountability.rollup_fixtures import MONDAY, WEEK, at

SUNDAY = MONDAY + datetime.timedelta(days=6)  # 8 Nov 2026
# Two working days after Sunday 8 Nov: Tuesday 10 Nov, 18:00.
DEADLINE = at(SUNDAY + datetime.timedelta(days=2), 18)


@pytest.fixture
def clock(monkeypatch):
    """Set the appeal window's clock; by default Monday 9 Nov 10:00, inside the window."""

    def set_to(moment):
        monkeypatch.setattr(appeals, "_now", lambda: moment)

    set_to(at(SUNDAY + datetime.timedelta(days=1)))
    return set_to


@pytest.fixture
def computed(campaign, week45, clock):
    version, _ = rollup_compute(campaign=campaign, week=WEEK)
    return version


@pytest.fixture
def worst(week45):
    """甲一农贸市场's 0.25 observation (charged to 甲一社区, 甲街道, 甲区, 市城管局)."""
    return Observation.objects.get(score=Decimal("0.25"))


def nothing_saved():
    return not Appeal.objects.exists() and not AppealEvent.objects.exists()


def test_window_is_the_rule_from_draft_to_deadline(campaign, week45, clock):
    window = appeal_window(campaign=campaign, week=WEEK)
    assert not window.computed and not window.open
    assert window.deadline == DEADLINE
    rollup_compute(campaign=campaign, week=WEEK)
    assert appeal_window(campaign=campaign, week=WEEK).open
    clock(DEADLINE)
    assert appeal_window(campaign=campaign, week=WEEK).open
    clock(DEADLINE + datetime.timedelta(minutes=1))
    assert not appeal_window(campaign=campaign, week=WEEK).open
    campaign_services.campaign_update(campaign=campaign, appeal_working_days=3, appeal_deadline_hour=12)
    campaign.refresh_from_db()
    assert appeal_window(campaign=campaign, week=WEEK).deadline == at(SUNDAY + datetime.timedelta(days=3), 12)


def test_rule_fields_validated(campaign):
    with pytest.raises(ValidationError) as caught:
        campaign_services.campaign_update(campaign=campaign, appeal_deadline_hour=24, appeal_working_days=0)
    assert set(caught.value.message_dict) == {"appeal_deadline_hour", "appeal_working_days"}


def test_file_and_events(computed, worst, liaison_jia, city):
    appeal = appeal_file(user=liaison_jia, observation=worst, reason="整改已完成，检查时广告牌正在更换")
    assert (appeal.status, appeal.week, appeal.unit, appeal.version) == (AppealStatus.FILED, WEEK, city.street_jia, 0)
    assert list(appeal.events.values_list("action", "actor")) == [("申诉", liaison_jia.pk)]


@pytest.mark.parametrize(
    "case, message",
    [
        ("no_reason", "请填写申诉理由"),
        ("not_charged", "未被计入"),
        ("before_draft", "尚未计算"),
        ("after_deadline", "已于11月10日 18:00截止"),
        ("published", "已发布"),
    ],
)
def test_refused_and_nothing_saved(case, message, campaign, week45, worst, liaison_jia, liaison_yi, clock, office):
    user, reason = liaison_jia, "理由"
    if case != "before_draft":
        rollup_compute(campaign=campaign, week=WEEK)
    if case == "no_reason":
        reason = "  "
    elif case == "not_charged":
        user = liaison_yi
    elif case == "after_deadline":
        clock(DEADLINE + datetime.timedelta(seconds=1))
    elif case == "published":
        rollup_publish(campaign=campaign, week=WEEK, user=office, bulletin=False)
    with pytest.raises(ValidationError) as caught:
        appeal_file(user=user, observation=worst, reason=reason)
    assert message in " ".join(caught.value.messages)
    assert nothing_saved()


def test_second_appeal_refused(computed, worst, liaison_jia, liaison_dept):
    appeal_file(user=liaison_jia, observation=worst, reason="理由")
    with pytest.raises(ValidationError, match="已有申诉"):
        appeal_file(user=liaison_dept, observation=worst, reason="另一理由")
    assert Appeal.objects.count() == 1 and AppealEvent.objects.count() == 1


def test_reject_needs_note_and_a_decider(computed, worst, liaison_jia, inspector, leader, office):
    appeal = appeal_file(user=liaison_jia, observation=worst, reason="理由")
    for user in (liaison_jia, inspector, leader):  # the leader leads no work group over 甲街道
        with pytest.raises(PermissionDenied):
            appeal_decide(user=user, appeal=appeal, decision="grant")
    with pytest.raises(ValidationError, match="须填写理由"):
        appeal_decide(user=office, appeal=appeal, decision="reject", note=" ")
    with pytest.raises(ValidationError):
        appeal_decide(user=office, appeal=appeal, decision="maybe")
    appeal.refresh_from_db()
    assert (appeal.status, appeal.version, appeal.events.count()) == (AppealStatus.FILED, 0, 1)
    rejected = appeal_decide(user=office, appeal=appeal, decision="reject", note="照片显示检查时确有缺失")
    assert (rejected.status, rejected.decided_by, rejected.version) == (AppealStatus.REJECTED, office, 1)
    assert not Observation.objects.get(pk=worst.pk).appeal_granted


def test_work_group_leader_decides(campaign, computed, worst, liaison_jia, leader, city):
    group = WorkGroup.objects.create(campaign=campaign, name="市场环境组")
    group.leaders.add(leader)
    group.units.add(city.district_jia)  # a unit above the appellant 甲街道
    appeal = appeal_file(user=liaison_jia, observation=worst, reason="理由")
    assert appeal_decide(user=leader, appeal=appeal, decision="reject", note="维持").status == AppealStatus.REJECTED


def test_racing_decisions_one_wins(computed, worst, liaison_jia, office):
    appeal = appeal_file(user=liaison_jia, observation=worst, reason="理由")
    stale = Appeal.objects.get(pk=appeal.pk)
    appeal_decide(user=office, appeal=appeal, decision="reject", note="维持")
    with pytest.raises(AppealConflict):
        appeal_decide(user=office, appeal=stale, decision="grant")
    with pytest.raises(AppealConflict):
        appeal_decide(
            user=office, appeal=Appeal.objects.get(pk=appeal.pk), decision="reject", note="x", expected_version=0
        )
    appeal.refresh_from_db()
    assert (appeal.status, appeal.version, appeal.events.count()) == (AppealStatus.REJECTED, 1, 2)
    assert not Observation.objects.get(pk=worst.pk).appeal_granted


def test_granted_appeal_recomputes_the_row_as_by_hand(
    campaign, computed, worst, liaison_jia, office, django_capture_on_commit_callbacks
):
    """Without the 0.25 observation: 甲一农贸市场 scores 1, 1, 0.75 → rate 11/12, 1 failing, 0.5 off;
    composite 70 × 11/12 + 30 × 0.5 = 79.17. 市城管局: 5.75/6 → 70 × 23/24 + 30 = 97.08;
    全市: 70 × 23/24 + 30 × 0.5 = 82.08."""
    appeal = appeal_file(user=liaison_jia, observation=worst, reason="理由")
    with django_capture_on_commit_callbacks(execute=True):
        appeal_decide(user=office, appeal=appeal, decision="grant", note="照片证明已整改")
    assert Observation.objects.get(pk=worst.pk).appeal_granted
    version = RollupVersion.objects.get(campaign=campaign, week=WEEK)
    assert version.pk == computed.pk and version.computed_at > computed.computed_at  # the draft recomputed
    by_name = {row.unit.name if row.unit else "全市": row for row in version.scores.select_related("unit")}
    for name in ("甲一社区", "甲街道", "甲区"):
        row = by_name[name]
        assert (row.observations, row.failing_observations, row.deduction_points) == (3, 1, Decimal("0.50"))
        assert row.score_rate == Decimal("0.916667")
        assert row.composite == Decimal("79.17")
    assert by_name["示范市城市管理局"].score_rate == Decimal("0.958333")
    assert by_name["示范市城市管理局"].composite == Decimal("97.08")
    assert (by_name["全市"].observations, by_name["全市"].composite) == (6, Decimal("82.08"))
    assert list(appeal.events.values_list("action", flat=True)) == ["申诉", "撤销"]


def test_publish_refused_with_undecided_unless_override(campaign, computed, worst, liaison_jia, office):
    appeal_file(user=liaison_jia, observation=worst, reason="理由")
    with pytest.raises(ValidationError, match="1 件申诉待裁定"):
        rollup_publish(campaign=campaign, week=WEEK, user=office, bulletin=False)
    assert RollupVersion.objects.get(campaign=campaign, week=WEEK).status == "draft"
    assert not AppealEvent.objects.filter(appeal=None).exists()
    version = rollup_publish(campaign=campaign, week=WEEK, user=office, bulletin=False, override_reason="领导已同意")
    assert version.status == "published"
    override = AppealEvent.objects.get(appeal=None)
    assert (override.action, override.actor, override.week) == ("强制发布", office, WEEK)
    assert "领导已同意" in override.note
    # Closed after publish: no deciding, no filing.
    with pytest.raises(ValidationError, match="已发布"):
        appeal_decide(user=office, appeal=Appeal.objects.get(), decision="grant")
    assert Appeal.objects.get().status == AppealStatus.FILED


def test_counts_per_unit(campaign, computed, worst, liaison_jia, liaison_dept, office, city):
    other = Observation.objects.get(score=Decimal("0.75"))
    appeal_decide(
        user=office,
        appeal=appeal_file(user=liaison_jia, observation=worst, reason="理由"),
        decision="reject",
        note="维持",
    )
    appeal_file(user=liaison_dept, observation=other, reason="理由")
    counts = appeals.appeal_counts(campaign_id=campaign.pk, week=WEEK)
    assert counts[city.street_jia.pk] == {"filed": 1, "upheld": 1, "granted": 0, "pending": 0}
    assert counts[city.dept_cg.pk] == {"filed": 1, "upheld": 0, "granted": 0, "pending": 1}


def test_scope_of_reads(computed, worst, liaison_jia, liaison_yi, leader, office):
    appeal = appeal_file(user=liaison_jia, observation=worst, reason="理由")
    for user in (liaison_jia, leader, office):
        assert list(appeals.appeal_list(user=user)) == [appeal]
    assert not appeals.appeal_list(user=liaison_yi).exists()
