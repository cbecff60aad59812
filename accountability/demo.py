"""Demo rectification work for 示范市: the problems the demo inspections opened, moved through the
real state machine so that every state has content — assigned, in progress, awaiting review,
closed (some after rework), shelved, a few overdue, a rebound — with after-photos by code; and
two of the problems the office registered itself, assigned."""

from __future__ import annotations

import datetime
import io
import random
import uuid

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from campaign.demo import demo_liaison, step
from inspections.choices import ProblemSource, ProblemStatus, Result
from inspections.models import Problem
from inspections.services import ObservationInput, inspection_submit, photo_upload

from .calendar import add_working_days, calendar_seed
from .choices import Action as A
from .workflow import TransitionInput, default_handler, problem_transition


def _after_photo(user, seed: int, *, problem=None, far: bool = False):
    """A distinct after-photo per seed, with the EXIF of a phone: taken now at the problem's point
    (or about 40 km away when `far`, so the demo shows a 位置偏离 flag)."""
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    image = Image.new("RGB", (640, 480), (200, 225, 200))
    draw = ImageDraw.Draw(image)
    for _ in range(8):
        x, y = rng.randint(0, 560), rng.randint(0, 400)
        box = (x, y, x + rng.randint(40, 200), y + rng.randint(30, 150))
        draw.ellipse(box, fill=(rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255)))
    exif = Image.Exif()
    exif[0x0132] = timezone.localtime().strftime("%Y:%m:%d %H:%M:%S")
    point = problem.point if problem is not None else None
    if point is not None and point.latitude is not None:
        lat, lng = float(point.latitude) + (0.36 if far else 0), float(point.longitude)
        dms = lambda v: (float(int(v)), float(int(v * 60 % 60)), round(v * 3600 % 60, 2))  # noqa: E731
        exif[0x8825] = {1: "N", 2: dms(lat), 3: "E", 4: dms(lng)}
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=70, exif=exif)
    return photo_upload(user=user, file=SimpleUploadedFile(f"整改后_{seed:04d}.jpg", buffer.getvalue())).pk


def seed(context: dict) -> None:
    _rectification(context)
    step(context, "问题整改流转（交办、签收、整改、复查）")

    # Eight published weeks of rankings and the surveys, for the leaders' pages.
    from . import demo_rankings, demo_surveys

    demo_rankings.seed(context)
    step(context, "八周排名计算、发布与问责")
    demo_surveys.seed(context)
    step(context, "满意度调查")

    # A second campaign over the same units (国家卫生城市复审) and an archived one: campaigns apart.
    from . import demo_health

    demo_health.seed(context)

    _third_party_round(context)
    _appeals(context)  # its rows reported with the next step's
    _rechecks(context)  # likewise
    from . import demo_commitments

    demo_commitments.seed(context)  # likewise (the 调度会's commitments by the 黑榜 units)
    _changes(context)
    _notifications(context)


def _notifications(context: dict) -> None:
    """通知: the workflow, the cases and the appeals above already told their people through
    accountability.notify; the morning's reminders run here (due today, overdue, escalated). Plus
    one group robot of each kind — 湖滨街道's 企业微信 and 市城管局's 钉钉 — at a local address,
    disabled, for the office to fill in its real Webhook and try 发送测试消息."""
    from campaign.models import Unit

    from .models import UnitChannel
    from .services import reminders_send

    units = {u.short_name: u for u in Unit.objects.filter(short_name__in=["湖滨街道", "市城管局"])}
    # One problem still 待交办 for each of the two demo units, due the next working day, so that
    # the morning's run reminds them (交办 and 提醒 in their lists, the robot's message if enabled).
    due = add_working_days(timezone.localdate(), 1)
    waiting = Problem.objects.filter(campaign=context["campaign"], status=ProblemStatus.NEW).order_by(
        "-found_at", "-id"
    )
    for unit in units.values():
        problem = waiting.filter(unit__path__startswith=unit.path).first() or waiting.first()
        if problem is not None:
            problem_transition(
                user=context["users"]["office"],
                problem=problem,
                data=TransitionInput(A.ASSIGN, handler=unit, deadline=due),
            )
    reminders_send()
    if "湖滨街道" in units:
        UnitChannel.objects.get_or_create(
            unit=units["湖滨街道"],
            kind="wecom",
            name="湖滨街道创城工作群",
            defaults={"webhook_url": "http://127.0.0.1:9/cgi-bin/webhook/send?key=demo", "enabled": False},
        )
    if "市城管局" in units:
        UnitChannel.objects.get_or_create(
            unit=units["市城管局"],
            kind="dingtalk",
            name="市城管局整改群",
            defaults={
                "webhook_url": "http://127.0.0.1:9/robot/send?access_token=demo",
                "secret": "SECdemo-secret",
                "enabled": False,
            },
        )
    step(context, "通知与推送渠道（提醒、群机器人）")


def _third_party_round(context: dict) -> None:
    """A round of kind 第三方测评 covering last week and this one, still empty: where the office
    imports the evaluator's sheet (its 导入模板's example rows import into it as they are)."""
    from inspections.choices import RoundKind
    from inspections.services import round_create

    monday = timezone.localdate() - datetime.timedelta(days=timezone.localdate().weekday())
    round_create(
        user=context["users"]["office"],
        campaign=context["campaign"],
        name="第三方测评（模拟测评机构）",
        kind=RoundKind.THIRD_PARTY,
        start_date=monday - datetime.timedelta(days=7),
        end_date=monday + datetime.timedelta(days=6),
    )


def _changes(context: dict) -> None:
    """Score-relevant edits by the office, after the weeks were published, so 变更记录 shows who
    changed what with before → after (and the published weeks keep the versions they counted)."""
    from types import SimpleNamespace

    from campaign.audit import acting_for
    from inspections.models import CheckItem
    from inspections.services import check_item_update

    item = (
        CheckItem.objects.filter(indicator__system__campaign=context["campaign"], active=True)
        .order_by("point_type__order", "order", "id")
        .first()
    )
    if item is None:
        return
    with acting_for(SimpleNamespace(user=context["users"]["office"])):
        check_item_update(item=item, cap=item.cap + 1, counting_rule=(item.counting_rule + "（最高扣分上调）").strip())
    step(context, "变更记录（上调一项测评细则的最高扣分）")


def _appeals(context: dict) -> None:
    """申诉 on this week's draft (computed here as a preview; its window is open until after the
    week): two failing observations appealed by their charged units' liaisons, one granted by the
    office (the draft recomputed), one still 待裁定."""
    from campaign.choices import Role
    from campaign.models import Membership
    from inspections.models import Charge
    from inspections.selectors import iso_week_bounds

    from .appeals import appeal_decide, appeal_file
    from .rollup import current_week, rollup_compute

    campaign, office, week = context["campaign"], context["users"]["office"], current_week()
    start, end = iso_week_bounds(week)
    liaisons = dict(Membership.objects.filter(role=Role.LIAISON).values_list("unit_id", "user_id"))
    charges = (
        Charge.objects.filter(
            unit_id__in=list(liaisons),
            observation__campaign=campaign,
            observation__current=True,
            observation__observed_at__gte=start,
            observation__observed_at__lt=end,
        )
        .exclude(observation__result=Result.PASS)
        .select_related("observation")
        .order_by("observation__observed_at", "observation_id", "unit_id")
    )
    picked: dict[int, Charge] = {}
    for charge in charges:
        picked.setdefault(charge.observation_id, charge)
        if len(picked) == 2:
            break
    if len(picked) < 2:
        return
    rollup_compute(campaign=campaign, week=week)
    users = {user.pk: user for user in type(office).objects.filter(pk__in=liaisons.values())}
    reasons = ("检查时该处正在施工围挡，已于当日恢复，附现场照片。", "该问题点位不属于本单位管辖，申请撤销扣分。")
    filed = [
        appeal_file(user=users[liaisons[charge.unit_id]], observation=charge.observation, reason=reason)
        for charge, reason in zip(picked.values(), reasons, strict=True)
    ]
    with transaction.atomic():
        appeal_decide(user=office, appeal=filed[0], decision="grant", note="经核实情况属实，撤销该项扣分。")


# One commit, not one per transition (SQLite syncs the disk on each). It must commit before the
# weeks are computed: the transitions' after-commit refreshes then find no computed week, as before.
@transaction.atomic
def _rectification(context: dict) -> None:
    calendar_seed()
    office = context["users"]["office"]
    rng = random.Random(48)
    today = timezone.localdate()
    problems = list(
        Problem.objects.filter(status=ProblemStatus.NEW, source=ProblemSource.INSPECTION)
        .select_related("unit", "check_item")
        .order_by("found_at")
    )
    closed = []
    flagged: list[int] = []
    for index, problem in enumerate(problems):
        age_days = (today - timezone.localtime(problem.found_at).date()).days
        roll = rng.random()
        if age_days < 3 and roll < 0.6:
            continue  # found this week: still waiting to be assigned (待交办)
        handler = default_handler(problem)
        problem = problem_transition(
            user=office,
            problem=problem,
            data=TransitionInput(
                A.ASSIGN, handler=handler, deadline=today + datetime.timedelta(days=rng.randint(2, 10))
            ),
        )
        if roll < 0.12:
            continue  # 待签收
        liaison = demo_liaison(handler, context)
        problem = problem_transition(user=liaison, problem=problem, data=TransitionInput(A.ACCEPT))
        if roll < 0.22:
            # Overdue: as if assigned weeks ago (a real office cannot set a past deadline).
            Problem.objects.filter(pk=problem.pk).update(deadline=today - datetime.timedelta(days=rng.randint(1, 4)))
            continue
        if roll < 0.27:
            problem_transition(
                user=office,
                problem=problem,
                data=TransitionInput(
                    A.SHELVE, note="涉及管网改造，纳入明年计划。", deadline=today + datetime.timedelta(days=120)
                ),
            )
            continue
        if roll < 0.32:
            problem_transition(
                user=liaison,
                problem=problem,
                data=TransitionInput(
                    A.REQUEST_EXTENSION,
                    note="需协调产权单位，申请延期。",
                    deadline=problem.deadline + datetime.timedelta(days=7),
                ),
            )
            continue
        # Two reports awaiting review cite doubtful photos, so the 复查 queue shows flags: one taken
        # about 40 km away, one the same file as the report before it (疑似重复).
        waits = roll < 0.45
        doubtful = waits and len(flagged) < 2
        photo_seed = flagged[0] if doubtful and len(flagged) == 1 else index
        problem = problem_transition(
            user=liaison,
            problem=problem,
            data=TransitionInput(
                A.SUBMIT,
                note="已按要求整改完毕，附整改后照片。",
                photos=(_after_photo(liaison, photo_seed, problem=problem, far=doubtful and not flagged),),
            ),
        )
        if doubtful:
            flagged.append(index)
        if waits:
            continue  # 待复查
        if roll < 0.55:
            problem = problem_transition(
                user=office,
                problem=problem,
                data=TransitionInput(A.REJECT, note="复查发现仍有一处未整改到位，请返工。"),
            )
            if roll < 0.5:
                continue  # 返工中
            problem = problem_transition(
                user=liaison,
                problem=problem,
                data=TransitionInput(
                    A.SUBMIT, note="已返工整改。", photos=(_after_photo(liaison, index + 1000, problem=problem),)
                ),
            )
        problem = problem_transition(
            user=office, problem=problem, data=TransitionInput(A.APPROVE, note="现场复查通过。")
        )
        closed.append(problem)

    # The office's own registrations (inspections.demo): the leader's and the superior's are
    # assigned at once (the leader's already accepted); the 12345 and 随手拍 ones wait in 待交办.
    for problem in Problem.objects.filter(
        status=ProblemStatus.NEW, source__in=[ProblemSource.LEADER, ProblemSource.SUPERIOR]
    ).order_by("found_at", "pk"):
        handler = default_handler(problem)
        problem = problem_transition(user=office, problem=problem, data=TransitionInput(A.ASSIGN, handler=handler))
        if problem.source == ProblemSource.LEADER:
            problem_transition(user=demo_liaison(handler, context), problem=problem, data=TransitionInput(A.ACCEPT))

    # A rebound: this week's round finds one closed problem's item failing again at its point.
    inspector = context["users"]["inspector"]
    this_round = inspector.inspection_rounds.order_by("-start_date").first()
    for problem in closed[:2]:
        if this_round is None or not problem.point_id:
            break
        this_round.points.add(problem.point)
        inspection_submit(
            user=inspector,
            round_=this_round,
            point=problem.point,
            client_uuid=uuid.uuid4(),
            observations=[ObservationInput(problem.check_item_id, Result.FAIL, 1, note="整改后再次出现")],
        )


def _rechecks(context: dict) -> None:
    """抽查复核: one draw (seeded) of the campaign's closed problems, evidence with doubts first; the
    first recorded 不属实 (back to 整改中 as 返工), the second 属实, the rest 待复核."""
    from django.db.models import Max, Min

    from inspections.selectors import iso_week_of

    from .recheck import recheck_draw, recheck_record

    campaign, office = context["campaign"], context["users"]["office"]
    span = Problem.objects.filter(campaign=campaign, status=ProblemStatus.CLOSED).aggregate(
        first=Min("closed_at"), last=Max("closed_at")
    )
    if span["first"] is None:
        return
    draw = recheck_draw(
        user=office,
        campaign=campaign,
        week_from=iso_week_of(span["first"]),
        week_to=iso_week_of(span["last"]),
        count=5,
        flagged_first=True,
        seed=20261,
    )
    rechecks = list(draw.rechecks.order_by("pk"))
    if rechecks:
        recheck_record(
            user=office, recheck=rechecks[0], outcome=False, note="复核发现现场仍未整改到位，整改照片与现场不符。"
        )
    if len(rechecks) > 1:
        recheck_record(user=office, recheck=rechecks[1], outcome=True, note="现场复核属实。")
