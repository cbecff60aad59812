"""群众反映 triage (issue 15 items 1–3): duplicate candidates, accept / merge / reject, refusals that
change nothing, a race of two triagers, and the reply recorded when the problem closes."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from campaign import services as campaign_services
from campaign.choices import Role
from inspections import services, triage
from inspections.choices import ProblemSource, ProblemStatus, ReportChannel, ReportStatus
from inspections.intake import reference_new
from inspections.models import Problem, PublicCategory, Report
from tests.access.conftest import png

LAT, LNG = Decimal("31.500000"), Decimal("120.300000")  # the market's coordinates


def another_campaign():
    return campaign_services.campaign_create(
        name="创建省级文明城市",
        level="provincial",
        start_date=datetime.date(2026, 3, 1),
        evaluation_date=datetime.date(2027, 6, 30),
    )


def metres_north(metres: float) -> Decimal:
    return (LAT + Decimal(metres / 111_195)).quantize(Decimal("0.000001"))


@pytest.fixture
def category(campaign, stall_item, market_type):
    found = PublicCategory.objects.create(campaign=campaign, code="zdjy", name="占道经营")
    found.check_items.set([stall_item])
    return found


@pytest.fixture
def other_category(campaign):
    return PublicCategory.objects.create(campaign=campaign, code="qt", name="其他")


def make_report(campaign, category, *, lat=LAT, lng=LNG, point=None, channel=ReportChannel.CITIZEN, photos=(), **extra):
    report = Report.objects.create(
        campaign=campaign,
        channel=channel,
        reference=reference_new(channel=channel, day=timezone.localdate()),
        category=category,
        description=extra.pop("description", "菜场门口有摊贩占道经营"),
        latitude=lat,
        longitude=lng,
        point=point,
        submitted_at=extra.pop("submitted_at", timezone.now()),
        reporter_phone="13800000001",
        **extra,
    )
    if photos:
        report.photos.set(photos)
    return report


def make_problem(campaign, office, unit, *, point=None, item=None, lat=None, lng=None, found_at=None, text="占道经营"):
    return services.problem_create(
        campaign=campaign,
        source=ProblemSource.LEADER,
        unit=unit,
        point=point,
        check_item=item,
        description=text,
        found_at=found_at,
        created_by=office,
        latitude=lat,
        longitude=lng,
    )


def snapshot(report):
    report.refresh_from_db()
    return (report.status, report.version, report.problem_id, report.triaged_at, report.reject_reason)


# --- Duplicates ----------------------------------------------------------------------------------


def test_same_point_and_item_is_a_duplicate(campaign, office, category, market, stall_item, ads_item):
    same = make_problem(campaign, office, None, point=market, item=stall_item)
    make_problem(campaign, office, None, point=market, item=ads_item, text="公益广告")  # another item
    report = make_report(campaign, category, lat=None, lng=None, point=market)
    assert [p.pk for p in triage.report_duplicates(report)] == [same.pk]


def test_within_distance_and_category_by_own_or_point_location(
    campaign, office, city, category, market, stall_item, ads_item
):
    # Its own location 20 m north of the market (90 m from the report), of an item of the category.
    own = make_problem(
        campaign, office, city.community_jia1, item=stall_item, lat=metres_north(20), lng=LNG, text="二十米"
    )
    # No own location: its point's (the market, 70 m from the report), of the category's item.
    at_point = make_problem(campaign, office, None, point=market, item=stall_item, text="点位")
    # Near but of another category (an item the category does not map).
    make_problem(campaign, office, None, point=market, item=ads_item, text="别的类别")
    # Of the category, but 250 m away.
    make_problem(campaign, office, city.community_jia1, item=stall_item, lat=metres_north(250), lng=LNG, text="远")
    report = make_report(campaign, category, lat=metres_north(-70), lng=LNG)  # 70 m south of the market
    found = triage.report_duplicates(report)
    assert [p.pk for p in found] == [at_point.pk, own.pk]
    assert 65 <= found[0].distance_m <= 75 and 85 <= found[1].distance_m <= 95
    assert all(p.distance_m <= 100 for p in found)


def test_a_problem_from_a_report_of_the_category_is_of_the_category(campaign, office, city, category):
    earlier = make_report(campaign, category)
    problem = triage.report_accept(report=earlier, user=office, unit=city.community_jia1)
    later = make_report(campaign, category, lat=metres_north(30), lng=LNG)
    assert [p.pk for p in triage.report_duplicates(later)] == [problem.pk]


def test_other_campaign_closed_void_and_old_problems_are_excluded(campaign, office, city, category, stall_item):
    other = another_campaign()
    make_problem(other, office, city.community_jia1, lat=LAT, lng=LNG, text="别的活动")
    closed = make_problem(campaign, office, city.community_jia1, item=stall_item, lat=LAT, lng=LNG, text="已销号")
    void = make_problem(campaign, office, city.community_jia1, item=stall_item, lat=LAT, lng=LNG, text="作废")
    Problem.objects.filter(pk=closed.pk).update(status=ProblemStatus.CLOSED, closed_at=timezone.now())
    Problem.objects.filter(pk=void.pk).update(status=ProblemStatus.VOID)
    old = timezone.now() - datetime.timedelta(days=31)
    make_problem(campaign, office, city.community_jia1, item=stall_item, lat=LAT, lng=LNG, found_at=old, text="旧")
    recent = make_problem(
        campaign,
        office,
        city.community_jia1,
        item=stall_item,
        lat=LAT,
        lng=LNG,
        found_at=timezone.now() - datetime.timedelta(days=29),
        text="近",
    )
    report = make_report(campaign, category)
    assert [p.pk for p in triage.report_duplicates(report)] == [recent.pk]


def test_duplicates_cost_a_fixed_number_of_queries(
    campaign, office, city, category, stall_item, django_assert_max_num_queries
):
    for n in range(15):
        make_problem(
            campaign, office, city.community_jia1, item=stall_item, lat=metres_north(n * 5), lng=LNG, text=f"第{n}"
        )
    report = make_report(campaign, category)
    with django_assert_max_num_queries(2):
        found = triage.report_duplicates(report, limit=10)
    assert len(found) == 10 and [p.distance_m for p in found] == sorted(p.distance_m for p in found)


def test_pending_reports_nearby_are_listed_as_repeats(campaign, category, other_category):
    report = make_report(campaign, category)
    near = make_report(campaign, category, lat=metres_north(50), lng=LNG)
    make_report(campaign, category, lat=metres_north(500), lng=LNG)  # far
    make_report(campaign, other_category, lat=LAT, lng=LNG)  # another category
    assert [r.pk for r in triage.report_repeats(report)] == [near.pk]


# --- Accept ------------------------------------------------------------------------------------


def test_accept_at_the_nearest_points_unit(campaign, office, city, category, market, stall_item):
    photo = services.photo_upload(user=None, file=png())
    report = make_report(campaign, category, lat=metres_north(120), lng=LNG, photos=[photo], address="湖滨路88号")
    problem = triage.report_accept(report=report, user=office, check_item=stall_item, description="  摊贩占道  ")
    assert problem.unit == city.community_jia1  # the market's, 120 m away
    assert (problem.status, problem.source, problem.deduction) == (ProblemStatus.NEW, ProblemSource.CITIZEN, 0)
    assert (problem.latitude, problem.longitude, problem.address) == (metres_north(120), LNG, "湖滨路88号")
    assert problem.description == "摊贩占道" and problem.check_item == stall_item and problem.point is None
    assert list(problem.photos.all()) == [photo]
    report.refresh_from_db()
    assert (report.status, report.problem, report.unit, report.triaged_by, report.version) == (
        ReportStatus.ACCEPTED,
        problem,
        city.community_jia1,
        office,
        1,
    )
    assert report.triaged_at is not None


def test_accept_at_the_chosen_unit_and_a_hotline_ticket_is_12345(campaign, office, city, category):
    report = make_report(campaign, category, lat=None, lng=None, channel=ReportChannel.HOTLINE, ticket_no="T-1")
    problem = triage.report_accept(report=report, user=office, unit=city.street_yi)
    assert (problem.unit, problem.source, problem.description) == (
        city.street_yi,
        ProblemSource.HOTLINE,
        report.description,
    )


def test_accept_without_unit_and_no_point_near_is_refused_and_changes_nothing(campaign, office, category, market):
    report = make_report(campaign, category, lat=metres_north(1000), lng=LNG)
    before = snapshot(report)
    with pytest.raises(ValidationError) as caught:
        triage.report_accept(report=report, user=office)
    assert "请选择属地单位" in str(caught.value)
    assert snapshot(report) == before and not Problem.objects.exists()


def test_accept_refuses_a_check_item_of_another_category(campaign, office, city, category, ads_item):
    report = make_report(campaign, category)
    with pytest.raises(ValidationError, match="不属于问题类别"):
        triage.report_accept(report=report, user=office, unit=city.community_jia1, check_item=ads_item)
    assert not Problem.objects.exists() and Report.objects.get().status == ReportStatus.PENDING


@pytest.mark.parametrize("persona", ["leader", "inspector", "liaison_jia"])
def test_only_the_office_triages(request, persona, campaign, city, category, stall_item, office):
    user = request.getfixturevalue(persona)
    problem = make_problem(campaign, office, city.community_jia1, item=stall_item, lat=LAT, lng=LNG)
    report = make_report(campaign, category)
    before = snapshot(report)
    for call in (
        lambda: triage.report_accept(report=report, user=user, unit=city.community_jia1),
        lambda: triage.report_merge(report=report, problem=problem, user=user),
        lambda: triage.report_reject(report=report, user=user, reason="重复"),
    ):
        with pytest.raises(PermissionDenied):
            call()
    assert snapshot(report) == before and Problem.objects.count() == 1


def test_a_triaged_report_or_a_stale_version_is_a_conflict(campaign, office, city, category):
    report = make_report(campaign, category)
    with pytest.raises(triage.ReportConflict):
        triage.report_accept(report=report, user=office, unit=city.community_jia1, version=5)
    assert Report.objects.get().status == ReportStatus.PENDING and not Problem.objects.exists()
    triage.report_reject(report=report, user=office, reason="不属于创建范围", version=0)
    before = snapshot(report)
    with pytest.raises(triage.ReportConflict):
        triage.report_accept(report=report, user=office, unit=city.community_jia1)
    assert snapshot(report) == before and not Problem.objects.exists()


# --- Merge and reject --------------------------------------------------------------------------


def test_merge_makes_the_report_a_sighting_and_adds_its_photos(campaign, office, city, category, stall_item):
    problem = make_problem(campaign, office, city.community_jia1, item=stall_item, lat=LAT, lng=LNG)
    photo = services.photo_upload(user=None, file=png())
    report = make_report(campaign, category, photos=[photo])
    triage.report_merge(report=report, problem=problem, user=office, version=0)
    report.refresh_from_db()
    assert (report.status, report.problem, report.unit_id, report.version) == (
        ReportStatus.MERGED,
        problem,
        problem.unit_id,
        1,
    )
    assert list(problem.photos.all()) == [photo] and list(problem.reports.all()) == [report]
    assert Problem.objects.get(pk=problem.pk).status == ProblemStatus.NEW  # the workflow's field untouched


def test_merge_into_a_closed_or_another_campaigns_problem_is_refused(campaign, office, city, category):
    closed = make_problem(campaign, office, city.community_jia1, lat=LAT, lng=LNG)
    Problem.objects.filter(pk=closed.pk).update(status=ProblemStatus.CLOSED)
    other = make_problem(another_campaign(), office, city.community_jia1)
    report = make_report(campaign, category)
    before = snapshot(report)
    with pytest.raises(ValidationError, match="未办结"):
        triage.report_merge(report=report, problem=closed, user=office)
    with pytest.raises(ValidationError, match="创建活动"):
        triage.report_merge(report=report, problem=other, user=office)
    assert snapshot(report) == before


def test_reject_needs_a_reason_of_at_most_300_characters(campaign, office, category):
    report = make_report(campaign, category)
    before = snapshot(report)
    with pytest.raises(ValidationError, match="请填写不予受理的理由"):
        triage.report_reject(report=report, user=office, reason="  ")
    with pytest.raises(ValidationError, match="300"):
        triage.report_reject(report=report, user=office, reason="长" * 301)
    assert snapshot(report) == before
    triage.report_reject(report=report, user=office, reason="属于物业管理范围，请联系物业。")
    report.refresh_from_db()
    assert (report.status, report.reject_reason, report.triaged_by) == (
        ReportStatus.REJECTED,
        "属于物业管理范围，请联系物业。",
        office,
    )


# --- The reply when the problem closes -----------------------------------------------------------


def test_reports_problem_closed_records_the_reply_once(campaign, office, city, category):
    first = make_report(campaign, category)
    problem = triage.report_accept(report=first, user=office, unit=city.community_jia1)
    second = make_report(campaign, category)
    triage.report_merge(report=second, problem=problem, user=office)
    rejected = make_report(campaign, category)
    triage.report_reject(report=rejected, user=office, reason="重复")
    at = timezone.now()
    assert triage.reports_problem_closed(problem=problem, note="已清理摊位", at=at) == 2
    replies = dict(Report.objects.values_list("pk", "reply"))
    assert replies == {first.pk: "已清理摊位", second.pk: "已清理摊位", rejected.pk: ""}
    # A reply is recorded once: closing again (a rebound closed later) keeps the first.
    assert triage.reports_problem_closed(problem=problem, note="", at=at) == 0
    third = make_report(campaign, category)
    triage.report_merge(report=third, problem=problem, user=office)
    triage.reports_problem_closed(problem=problem, note="", at=at)
    third.refresh_from_db()
    assert third.reply == triage.default_reply(at) and "办结" in third.reply and third.replied_at == at


def test_the_office_edits_a_reply(campaign, office, leader, city, category):
    report = make_report(campaign, category)
    triage.report_accept(report=report, user=office, unit=city.community_jia1)
    with pytest.raises(PermissionDenied):
        triage.report_set_reply(report=report, user=leader, reply="越权")
    with pytest.raises(ValidationError):
        triage.report_set_reply(report=report, user=office, reply=" ")
    triage.report_set_reply(report=report, user=office, reply="已处理完毕")
    report.refresh_from_db()
    assert report.reply == "已处理完毕" and report.replied_at is not None


# --- Public categories ---------------------------------------------------------------------------


def test_public_category_save_checks_code_name_and_items(campaign, category, ads_item):
    with pytest.raises(ValidationError) as caught:
        triage.public_category_save(campaign=campaign, code="zdjy", name="占道经营")
    assert set(caught.value.message_dict) == {"code", "name"}
    with pytest.raises(ValidationError, match="编码只能"):
        triage.public_category_save(campaign=campaign, code="占道", name="新类别")
    saved = triage.public_category_save(
        campaign=campaign, code="gg", name="公益广告", check_items=[ads_item], order=3, group="宣传"
    )
    assert list(saved.check_items.all()) == [ads_item] and saved.group == "宣传"
    updated = triage.public_category_save(category=saved, campaign=campaign, code="gg", name="公益广告缺失")
    assert updated.pk == saved.pk and updated.name == "公益广告缺失"


# --- A race on PostgreSQL ----------------------------------------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_racing_triagers_exactly_one_wins(transactional_db, campaign, office, city, category):
    report = make_report(campaign, category)
    second = campaign_services.user_create(username="office2", password="long-pass-2026")
    campaign_services.membership_create(user=second, role=Role.OFFICE, unit=city.dept_office)
    barrier = threading.Barrier(2)
    outcomes = [None, None]

    def run(index, user, accept):
        try:
            barrier.wait()
            if accept:
                triage.report_accept(report=report, user=user, unit=city.community_jia1, version=0)
                outcomes[index] = "accepted"
            else:
                triage.report_reject(report=report, user=user, reason="重复", version=0)
                outcomes[index] = "rejected"
        except triage.ReportConflict:
            outcomes[index] = "conflict"
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(0, office, True)),
        threading.Thread(target=run, args=(1, second, False)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert "conflict" in outcomes and len(set(outcomes)) == 2, outcomes
    winner = next(outcome for outcome in outcomes if outcome != "conflict")
    decided = Report.objects.get()
    assert (decided.status, decided.version) == (winner, 1)
    assert Problem.objects.count() == (1 if winner == "accepted" else 0)
