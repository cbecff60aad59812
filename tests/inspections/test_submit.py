"""Submitting an inspection: scoring, charging, problems, idempotency and bad input."""

import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from inspections import services
from inspections.choices import ChargeKind, ProblemStatus
from inspections.models import Charge, Inspection, Observation, Problem
from inspections.services import ObservationInput as Obs


def counts():
    return (Inspection.objects.count(), Observation.objects.count(), Charge.objects.count(), Problem.objects.count())


def submit(user, round_, point, observations, **kwargs):
    kwargs.setdefault("client_uuid", uuid.uuid4())
    return services.inspection_submit(user=user, round_=round_, point=point, observations=observations, **kwargs)


def test_a_submission_scores_charges_and_opens_problems(inspector, round_, market, ads_item, stall_item, city):
    inspection, created = submit(
        inspector,
        round_,
        market,
        [
            Obs(check_item=ads_item.pk, result="fail", occurrences=3, note="仅1处公益广告"),
            Obs(check_item=stall_item.pk, result="pass"),
        ],
    )
    assert created
    ads, stall = inspection.observations.order_by("check_item__order")
    assert (ads.deduction, ads.loss, ads.score) == (Decimal("1.50"), Decimal("0.75"), Decimal("0.25"))
    assert (stall.deduction, stall.score) == (Decimal("0.00"), Decimal(1))
    # Charged to the territorial chain and to the point's departments (the check item names none).
    assert sorted((c.unit.name, c.kind) for c in ads.charges.select_related("unit")) == [
        ("甲一社区", ChargeKind.TERRITORIAL),
        ("甲区", ChargeKind.TERRITORIAL),
        ("甲街道", ChargeKind.TERRITORIAL),
        ("示范市城市管理局", ChargeKind.DEPARTMENT),
    ]
    # The check item's own departments replace the point's.
    assert sorted(c.unit.name for c in stall.charges.filter(kind=ChargeKind.DEPARTMENT)) == ["示范市文明办"]
    (problem,) = Problem.objects.all()
    assert (problem.status, problem.observation, problem.unit, problem.indicator, problem.deduction) == (
        ProblemStatus.NEW,
        ads,
        city.community_jia1,
        ads_item.indicator,
        Decimal("1.50"),
    )
    assert problem.description == "甲一农贸市场：核心价值观公益广告不少于2处（仅1处公益广告）"


def test_the_same_client_uuid_returns_the_first_inspection(inspector, round_, market, ads_item):
    key = uuid.uuid4()
    first, created = submit(inspector, round_, market, [Obs(ads_item.pk, "fail", 1)], client_uuid=key)
    before = counts()
    again, created_again = submit(inspector, round_, market, [Obs(ads_item.pk, "pass")], client_uuid=key)
    assert (again.pk, created, created_again) == (first.pk, True, False)
    assert counts() == before


@pytest.mark.parametrize(
    ("observations", "message"),
    [
        ([Obs(999999, "pass")], "检查项不存在或已停用"),
        ([Obs("ads", "maybe")], "结果只能是合格、不合格或严重不合格"),
        ([Obs("ads", "fail", -1)], "问题处数不能小于 0"),
        ([Obs("ads", "fail", 5000)], "问题处数 5000 过大"),
        ([Obs("ads", "fail", 1), Obs("ads", "pass")], "重复记录"),
        ([Obs("ads", "fail", 1, photos=[424242])], "照片 424242 不存在"),
        ([], "请至少记录一项检查结果"),
    ],
)
def test_bad_observations_are_refused_and_nothing_saved(inspector, round_, market, ads_item, observations, message):
    for obs in observations:
        if obs.check_item == "ads":
            obs.check_item = ads_item.pk
    before = counts()
    with pytest.raises(ValidationError) as info:
        submit(inspector, round_, market, observations)
    assert any(message in m for m in info.value.message_dict["observations"])
    assert counts() == before


def test_an_item_of_another_point_type_is_refused(inspector, round_, market, city, standard):
    from inspections.models import PointType

    other = services.check_item_create(
        point_type=PointType.objects.get(name="小区"),
        indicator=standard,
        text="楼道整洁",
        per_occurrence=Decimal(1),
        cap=Decimal(2),
    )
    with pytest.raises(ValidationError) as info:
        submit(inspector, round_, market, [Obs(other.pk, "pass")])
    assert "不适用于集贸(农贸)市场类点位" in info.value.message_dict["observations"][0]
    assert counts() == (0, 0, 0, 0)


def test_a_point_outside_the_round_is_refused(inspector, round_, ads_item, city, market_type):
    elsewhere = services.point_create(name="甲二农贸市场", point_type=market_type, unit=city.community_jia2)
    with pytest.raises(ValidationError) as info:
        submit(inspector, round_, elsewhere, [Obs(ads_item.pk, "pass")])
    assert info.value.message_dict["point"] == ["点位“甲二农贸市场”不在批次“第47周督查”的点位清单中。"]


def test_far_from_the_point_is_accepted_and_flagged(inspector, round_, market, ads_item):
    near, _ = submit(
        inspector,
        round_,
        market,
        [Obs(ads_item.pk, "pass")],
        latitude=Decimal("31.501000"),
        longitude=Decimal("120.300000"),
    )
    far, _ = submit(
        inspector,
        round_,
        market,
        [Obs(ads_item.pk, "pass")],
        latitude=Decimal("31.520000"),
        longitude=Decimal("120.300000"),
    )
    assert (near.distance_m, near.far_from_point) == (111, False)
    assert (far.distance_m, far.far_from_point) == (2224, True)


@pytest.mark.parametrize("persona", ["liaison_jia", "leader"])
def test_only_the_rounds_inspectors_and_the_office_record(persona, request, round_, market, ads_item):
    with pytest.raises(PermissionDenied):
        submit(request.getfixturevalue(persona), round_, market, [Obs(ads_item.pk, "pass")])
    assert counts() == (0, 0, 0, 0)


def test_an_inspector_not_on_the_round_is_refused(round_, market, ads_item, django_user_model, city):
    from campaign import services as campaign_services

    other = campaign_services.user_create(username="inspector2", password="long-pass-2026")
    campaign_services.membership_create(user=other, role="inspector", unit=city.dept_office)
    with pytest.raises(PermissionDenied):
        submit(other, round_, market, [Obs(ads_item.pk, "pass")])


def test_a_correction_supersedes_and_voids_unassigned_problems(inspector, round_, market, ads_item):
    old, _ = submit(inspector, round_, market, [Obs(ads_item.pk, "fail", 2)])
    with pytest.raises(ValidationError):
        submit(inspector, round_, market, [Obs(ads_item.pk, "pass")], supersedes=old)
    new, _ = submit(
        inspector,
        round_,
        market,
        [Obs(ads_item.pk, "pass")],
        supersedes=old,
        correction_reason="误判：公益广告在入口内侧",
    )
    old.refresh_from_db()
    assert (old.current, new.current, new.supersedes) == (False, True, old)
    assert list(Observation.objects.filter(current=True).values_list("inspection", flat=True)) == [new.pk]
    assert Problem.objects.get().status == ProblemStatus.VOID


def test_an_inspection_synced_later_keeps_its_time_within_the_round(inspector, round_, market, ads_item):
    import datetime

    from django.utils import timezone

    at = timezone.make_aware(datetime.datetime.combine(round_.start_date, datetime.time(10, 0)))
    inspection, _ = submit(inspector, round_, market, [Obs(ads_item.pk, "fail", 1)], observed_at=at)
    assert inspection.observations.get().observed_at == at
    assert Problem.objects.get().found_at == at
    before_round = at - datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as info:
        submit(inspector, round_, market, [Obs(ads_item.pk, "pass")], observed_at=before_round)
    assert info.value.message_dict["observed_at"] == [
        f"检查时间应在批次日期 {round_.start_date:%Y-%m-%d} 至 {round_.end_date:%Y-%m-%d} 之内。"
    ]
    with pytest.raises(ValidationError):
        submit(
            inspector,
            round_,
            market,
            [Obs(ads_item.pk, "pass")],
            observed_at=timezone.now() + datetime.timedelta(hours=1),
        )


def test_a_round_that_has_ended_takes_no_new_inspection_without_its_time(inspector, round_, market, ads_item):
    import datetime

    round_.start_date -= datetime.timedelta(days=10)
    round_.end_date -= datetime.timedelta(days=10)
    round_.save()
    with pytest.raises(ValidationError) as info:
        submit(inspector, round_, market, [Obs(ads_item.pk, "pass")])
    assert "observed_at" in info.value.message_dict
    assert counts() == (0, 0, 0, 0)


def test_a_replayed_uuid_is_not_handed_to_another_user(inspector, office, round_, market, ads_item, leader):
    key = uuid.uuid4()
    submit(inspector, round_, market, [Obs(ads_item.pk, "pass")], client_uuid=key)
    with pytest.raises(PermissionDenied):
        submit(leader, round_, market, [], client_uuid=key)
    again, created = submit(office, round_, market, [], client_uuid=key)
    assert not created


def test_point_coordinates_out_of_range_are_a_chinese_error(city, market_type):
    with pytest.raises(ValidationError) as info:
        services.point_create(
            name="x", point_type=market_type, unit=city.street_jia, latitude=Decimal("95"), longitude=Decimal("120")
        )
    assert info.value.message_dict["latitude"] == ["纬度应在 -90 到 90 之间。"]


def test_check_item_update_refuses_a_duplicate_text(ads_item, stall_item):
    with pytest.raises(ValidationError):
        services.check_item_update(item=ads_item, text="无占道经营")
