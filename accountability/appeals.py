"""申诉 (appeals) before the freeze: a charged unit contests one observation of a computed week
before it is published; the office (or a leader of a work group over the unit) upholds the
deduction (维持) or strikes the observation out (撤销: `Observation.appeal_granted`, written only
here, and the week recomputed). Every step is an `AppealEvent`.

The window of a week opens when its first version is computed and closes at the campaign's rule
(`appeal_working_days` working days after the week's Sunday, at `appeal_deadline_hour`:00) or when
the week is published, whichever comes first. Publishing refuses undecided appeals unless the office
gives an override reason (`rollup_publish`)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from campaign.choices import Role
from campaign.models import Campaign, Membership, Unit, WorkGroup
from campaign.selectors import scope_for
from campaign.weeks import week_label
from inspections.models import Charge, Observation
from inspections.selectors import iso_week_of
from inspections.services import photos_for_evidence

from .calendar import add_working_days
from .choices import NotificationKind, VersionStatus
from .models import Appeal, AppealEvent, AppealStatus, RollupVersion
from .notify import notify, office_user_ids
from .rollup import rollup_refresh

DECISIONS = {"grant": AppealStatus.GRANTED, "reject": AppealStatus.REJECTED}
ACTION_FILE, ACTION_GRANT, ACTION_REJECT, ACTION_OVERRIDE = "申诉", "撤销", "维持", "强制发布"


class AppealConflict(Exception):
    """Someone decided the appeal since the user saw it; nothing changed."""

    message = "该申诉已被他人裁定，请刷新后查看最新结果。"


# --- the window ----------------------------------------------------------------------------------


def _now() -> datetime.datetime:
    """The clock the window is read against (a seam for tests)."""
    return timezone.now()


@dataclass(frozen=True)
class AppealWindow:
    week: str
    computed: bool
    published: bool
    deadline: datetime.datetime

    @property
    def open(self) -> bool:
        return self.computed and not self.published and _now() <= self.deadline

    def refusal(self) -> str:
        label = week_label(self.week)
        if self.published:
            return f"{label}的周评比已发布，申诉已关闭。"
        if not self.computed:
            return f"{label}的周评比草稿尚未计算，申诉期尚未开始。"
        deadline = timezone.localtime(self.deadline)
        return f"{label}的申诉期已于{deadline:%m月%d日 %H:%M}截止。"


def appeal_deadline(*, campaign: Campaign, week: str) -> datetime.datetime:
    """The n-th working day after the week's Sunday at the rule's hour (local time)."""
    from .rollup import _week

    _start, _end, _monday, sunday = _week(week)
    day = add_working_days(sunday, campaign.appeal_working_days)
    return datetime.datetime.combine(
        day, datetime.time(campaign.appeal_deadline_hour), tzinfo=timezone.get_default_timezone()
    )


def appeal_window(*, campaign: Campaign, week: str) -> AppealWindow:
    """The week's window: computed (any version), published (a published or superseded one). Two queries."""
    statuses = set(RollupVersion.objects.filter(campaign=campaign, week=week).values_list("status", flat=True))
    return AppealWindow(
        week=week,
        computed=bool(statuses),
        published=bool(statuses & {VersionStatus.PUBLISHED, VersionStatus.SUPERSEDED}),
        deadline=appeal_deadline(campaign=campaign, week=week),
    )


def observation_week(observation: Observation) -> str:
    return iso_week_of(timezone.localtime(observation.observed_at))


# --- who ----------------------------------------------------------------------------------------


def appellant_units(*, user, observation: Observation) -> list[Unit]:
    """The units charged for the observation of which the user is a liaison (one query)."""
    if not user.is_authenticated:
        return []
    mine = Membership.objects.filter(user=user, role=Role.LIAISON).values("unit_id")
    return list(
        Unit.objects.filter(
            pk__in=Charge.objects.filter(observation=observation, unit_id__in=mine).values("unit_id")
        ).order_by("path")
    )


def can_decide_appeal(*, user, appeal: Appeal) -> bool:
    """The materials' reviewer rule (indicators.permissions.can_review_material) for an appeal: the
    office; or a leading official of a work group of the appeal's campaign whose member units
    include the appellant unit or a unit above it."""
    if scope_for(user).is_office:
        return True
    if not user.is_authenticated:
        return False
    return WorkGroup.objects.filter(
        campaign_id=appeal.campaign_id,
        leaders=user,
        units__pk__in=[*appeal.unit.ancestor_ids, appeal.unit.pk],
    ).exists()


def can_file_appeal(*, user, observation: Observation) -> bool:
    """For the 申诉 button: a charged unit's liaison, within the window, no appeal yet."""
    if not observation.current or observation.appeal_granted or not observation.campaign.active:
        return False
    if Appeal.objects.filter(observation=observation).exists():
        return False
    if not appellant_units(user=user, observation=observation):
        return False
    return appeal_window(campaign=observation.campaign, week=observation_week(observation)).open


# --- reads --------------------------------------------------------------------------------------


def appeal_list(*, user, campaign: Campaign | None = None) -> QuerySet[Appeal]:
    """Appeals the user may read: office and leaders all; an inspector those of its rounds; a liaison
    those of units in its subtrees."""
    scope = scope_for(user)
    queryset = Appeal.objects.select_related(
        "campaign", "unit", "filed_by", "decided_by", "observation__check_item", "observation__point"
    )
    if campaign is not None:
        queryset = queryset.filter(campaign=campaign)
    if scope.is_office or scope.is_leader:
        return queryset
    if scope.is_inspector and not scope.is_liaison:
        return queryset.filter(observation__inspection__round__inspectors=user)
    if not scope.is_liaison:
        return queryset.none()
    return queryset.filter(scope.unit_q("unit__"))


def appeal_counts(*, campaign_id: int, week: str, unit_ids=None) -> dict[int, dict[str, int]]:
    """Per unit, the week's appeals filed / upheld (维持) / granted (撤销) / undecided: one query."""
    queryset = Appeal.objects.filter(campaign_id=campaign_id, week=week)
    if unit_ids is not None:
        queryset = queryset.filter(unit_id__in=list(unit_ids))
    rows = queryset.values("unit_id").annotate(
        filed=Count("pk"),
        upheld=Count("pk", filter=Q(status=AppealStatus.REJECTED)),
        granted=Count("pk", filter=Q(status=AppealStatus.GRANTED)),
        pending=Count("pk", filter=Q(status=AppealStatus.FILED)),
    )
    return {row.pop("unit_id"): row for row in rows}


def appeals_undecided(*, campaign: Campaign, week: str) -> int:
    return Appeal.objects.filter(campaign=campaign, week=week, status=AppealStatus.FILED).count()


def mark_decidable(*, user, appeals: list[Appeal]) -> None:
    """Mark each appeal `may_decide` (undecided, its week not published, the user a decider): the
    published weeks and the leader's work groups read once, not per row (`can_decide_appeal` for a
    page of rows)."""
    scope = scope_for(user)
    pending = [a for a in appeals if a.status == AppealStatus.FILED]
    for appeal in appeals:
        appeal.may_decide = False
    if not pending or not (scope.is_office or scope.is_leader):
        return
    published = set(
        RollupVersion.objects.filter(
            campaign_id__in={a.campaign_id for a in pending},
            week__in={a.week for a in pending},
            status__in=(VersionStatus.PUBLISHED, VersionStatus.SUPERSEDED),
        ).values_list("campaign_id", "week")
    )
    groups = (
        []
        if scope.is_office
        else list(WorkGroup.objects.filter(leaders=user).values_list("campaign_id", "units__path").distinct())
    )
    for appeal in pending:
        if (appeal.campaign_id, appeal.week) in published:
            continue
        appeal.may_decide = scope.is_office or any(
            campaign_id == appeal.campaign_id and path and appeal.unit.path.startswith(path)
            for campaign_id, path in groups
        )


# --- writes -------------------------------------------------------------------------------------


def appeal_file(*, user, observation: Observation, reason: str, photos=()) -> Appeal:
    """File an appeal on an observation charged to the user's unit, within the week's window.
    Refused — nothing saved — without a reason, outside the window, for a unit not charged, or
    when the observation already has an appeal."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写申诉理由。"})
    if not user.is_authenticated:
        raise PermissionDenied("请先登录。")
    units = appellant_units(user=user, observation=observation)
    if not units:
        raise ValidationError({"observation": "您的单位未被计入该观测记录的扣分，不能申诉。"})
    if not observation.current:
        raise ValidationError({"observation": "该观测记录已被更正，不再计分，不能申诉。"})
    campaign = observation.campaign
    if not campaign.active:
        raise ValidationError({"observation": f"创建活动“{campaign.name}”已归档（已结束），不能申诉。"})
    if Appeal.objects.filter(observation=observation).exists():
        raise ValidationError({"observation": "该观测记录已有申诉，不能重复申诉。"})
    week = observation_week(observation)
    window = appeal_window(campaign=campaign, week=week)
    if not window.open:
        raise ValidationError({"observation": window.refusal()})
    evidence = photos_for_evidence(user=user, photos=photos)
    try:
        with transaction.atomic():
            appeal = Appeal.objects.create(
                campaign=campaign, week=week, observation=observation, unit=units[0], reason=reason, filed_by=user
            )
            if evidence:
                appeal.photos.set(evidence)
            AppealEvent.objects.create(
                appeal=appeal, campaign=campaign, week=week, action=ACTION_FILE, actor=user, note=reason
            )
            _notify_filed(appeal)
    except IntegrityError:  # a racing appeal on the same observation won
        raise ValidationError({"observation": "该观测记录已有申诉，不能重复申诉。"}) from None
    return appeal


@transaction.atomic
def appeal_decide(
    *, user, appeal: Appeal, decision: str, note: str = "", expected_version: int | None = None
) -> Appeal:
    """维持 (`reject`, a note required) or 撤销 (`grant`: the observation stops counting and its
    week is recomputed). Of two racing decisions exactly one wins: the row is locked and updated
    on its version; the other gets AppealConflict and nothing changes."""
    status = DECISIONS.get(decision)
    if status is None:
        raise ValidationError({"decision": "裁定结果须为“撤销”（grant）或“维持”（reject）。"})
    if not can_decide_appeal(user=user, appeal=appeal):
        raise PermissionDenied("只有创建办或该单位所在工作组的牵头领导可以裁定申诉。")
    note = (note or "").strip()
    if status == AppealStatus.REJECTED and not note:
        raise ValidationError({"note": "维持原扣分须填写理由。"})
    locked = Appeal.objects.select_for_update(of=("self",)).select_related("campaign", "observation").get(pk=appeal.pk)
    if locked.status != AppealStatus.FILED:
        raise AppealConflict(AppealConflict.message)
    if expected_version is not None and locked.version != expected_version:
        raise AppealConflict(AppealConflict.message)
    if appeal_window(campaign=locked.campaign, week=locked.week).published:
        raise ValidationError({"decision": f"{week_label(locked.week)}的周评比已发布，申诉已关闭。"})
    now = timezone.now()
    updated = Appeal.objects.filter(pk=locked.pk, version=locked.version, status=AppealStatus.FILED).update(
        status=status, decided_by=user, decided_at=now, decision_note=note, version=F("version") + 1
    )
    if not updated:
        raise AppealConflict(AppealConflict.message)
    AppealEvent.objects.create(
        appeal=locked,
        campaign_id=locked.campaign_id,
        week=locked.week,
        action=ACTION_GRANT if status == AppealStatus.GRANTED else ACTION_REJECT,
        actor=user,
        note=note,
        at=now,
    )
    verdict = "撤销扣分" if status == AppealStatus.GRANTED else "维持原扣分"
    notify(
        users=[locked.filed_by_id],
        kind=NotificationKind.APPEAL,
        message=f"您的申诉 #{locked.pk}（{week_label(locked.week)}）已裁定：{verdict}。{note[:80]}",
        url=reverse("appeal-list"),
        key=f"appeal:{locked.pk}:decided",
        campaign=locked.campaign_id,
    )
    if status == AppealStatus.GRANTED:
        Observation.objects.filter(pk=locked.observation_id).update(appeal_granted=True)
        moment = locked.observation.observed_at
        campaign_id, pk = locked.campaign_id, locked.pk
        transaction.on_commit(
            lambda: rollup_refresh(campaign_id=campaign_id, moments=[moment], reason=f"申诉 #{pk} 撤销扣分"),
            robust=True,
        )
    locked.refresh_from_db()
    return locked


def _notify_filed(appeal: Appeal) -> None:
    """A new appeal: the office and the leaders who may decide it (two statements besides notify's)."""
    deciders = WorkGroup.objects.filter(
        campaign_id=appeal.campaign_id, units__pk__in=[*appeal.unit.ancestor_ids, appeal.unit.pk]
    ).values_list("leaders", flat=True)
    users = {*office_user_ids(), *(pk for pk in deciders if pk)}
    notify(
        users=users,
        kind=NotificationKind.APPEAL,
        message=f"{appeal.unit.name}对{week_label(appeal.week)}的一项扣分提出申诉，请裁定：{appeal.reason[:80]}",
        url=reverse("appeal-list"),
        key=f"appeal:{appeal.pk}:filed",
        campaign=appeal.campaign_id,
    )


def appeals_override(*, user, campaign: Campaign, week: str, reason: str, undecided: int) -> AppealEvent:
    """Record the office's reason for publishing a week with undecided appeals (called by
    rollup_publish inside its transaction)."""
    return AppealEvent.objects.create(
        campaign=campaign, week=week, action=ACTION_OVERRIDE, actor=user, note=f"{undecided} 件申诉待裁定：{reason}"
    )
