"""Reads of the field-inspection app, scoped by the user's units."""

from __future__ import annotations

import datetime
import math
import re
from decimal import Decimal

from django.core.paginator import Paginator
from django.db.models import (
    BooleanField,
    Case,
    DateField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from campaign import weeks
from campaign.choices import UnitKind
from campaign.models import Unit
from campaign.selectors import scope_for

from .choices import ChargeKind, ProblemStatus
from .models import Charge, CheckItem, Inspection, InspectionRound, Observation, Photo, Point, Problem

WEEK_PATTERN = re.compile(r"^(\d{4})-W(\d{2})$")


def iso_week_bounds(week: str) -> tuple[datetime.datetime, datetime.datetime]:
    """'2026-W47' → [Monday 00:00, next Monday 00:00) in Asia/Shanghai. ValueError when malformed."""
    match = WEEK_PATTERN.match(week or "")
    if not match:
        raise ValueError("周次格式应为 2026-W47。")
    year, number = int(match.group(1)), int(match.group(2))
    try:
        monday = datetime.date.fromisocalendar(year, number, 1)
    except ValueError:
        raise ValueError(f"{year} 年没有第 {number} 周。") from None
    tz = timezone.get_default_timezone()
    start = datetime.datetime.combine(monday, datetime.time.min, tzinfo=tz)
    return start, start + datetime.timedelta(days=7)


def iso_week_of(moment: datetime.datetime | datetime.date) -> str:
    day = timezone.localtime(moment).date() if isinstance(moment, datetime.datetime) else moment
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_label(week: str) -> str:
    """'2026-W47' → '第47周（11月16日—11月22日）' (campaign/weeks.py); ValueError when malformed."""
    iso_week_bounds(week)
    return weeks.week_label(week)


class KeyPagePaginator(Paginator):
    """A paginator for long lists: a page's primary keys are read first (the filtered, ordered
    keys with LIMIT/OFFSET, which an index in the list's order answers alone), then only those rows
    with their joins and annotations — one statement, so a deep page costs the queries of page 1.
    A plain OFFSET joins every row before the page and throws it away (city bench: problems page
    1,000 took 0.87 s of SQL against 0.04 s for page 1)."""

    def page(self, number):
        number = self.validate_number(number)
        rows = self.object_list
        if not isinstance(rows, QuerySet) or not rows.ordered:
            return super().page(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        keys = rows.prefetch_related(None).values("pk")[bottom:top]
        return self._get_page(rows.filter(pk__in=keys), number, self)


def point_list(*, user) -> QuerySet[Point]:
    """Points the user may see (a liaison: those in its subtree or supervised by its units)."""
    scope = scope_for(user)
    queryset = Point.objects.select_related("point_type", "unit", "unit__parent", "sponsor")
    if scope.sees_everything:
        return queryset
    supervised = Point.departments.through.objects.filter(point=OuterRef("pk")).filter(scope.unit_q("unit__"))
    return queryset.filter(Q(scope.unit_q("unit__")) | Exists(supervised))


def points_near(queryset: QuerySet[Point], *, latitude: float, longitude: float, limit: int = 50) -> list[Point]:
    """The nearest points first: a bounding box in SQL, then exact distances for the few inside."""
    from .services import distance_m

    for radius_km in (2, 10, 50, 500):
        dlat = radius_km / 111.0
        dlng = radius_km / (111.0 * max(math.cos(math.radians(latitude)), 0.01))
        box = queryset.filter(
            latitude__gte=Decimal(str(latitude - dlat)),
            latitude__lte=Decimal(str(latitude + dlat)),
            longitude__gte=Decimal(str(longitude - dlng)),
            longitude__lte=Decimal(str(longitude + dlng)),
        )
        candidates = list(box[:2000])
        if len(candidates) >= limit or radius_km == 500:
            break
    for point in candidates:
        point.distance = distance_m(latitude, longitude, point.latitude, point.longitude)
    return sorted(candidates, key=lambda p: p.distance)[:limit]


def check_items_for(*, point_type_id: int) -> QuerySet[CheckItem]:
    return (
        CheckItem.objects.filter(point_type_id=point_type_id, active=True)
        .select_related("indicator")
        .order_by("order", "id")
    )


def _count_of(queryset: QuerySet, field: str) -> Subquery:
    """COUNT(field) of a correlated queryset as a scalar subquery, without GROUP BY."""
    return Subquery(
        queryset.order_by().annotate(n=Func(F(field), function="COUNT")).values("n"), output_field=IntegerField()
    )


def with_round_counts(queryset: QuerySet[InspectionRound]) -> QuerySet[InspectionRound]:
    """Annotate `point_count` and `inspection_count` (current ones), each by its own scalar
    subquery: counting both through one join multiplied points by inspections (14.6 M rows for a
    20,000-point round with 732 inspections). COUNT(round_id), not COUNT(id): the partial index of
    current inspections by round answers it alone (city bench, API rounds: 0.47 s of SQL → …)."""
    points = InspectionRound.points.through.objects.filter(inspectionround_id=OuterRef("pk"))
    inspections = Inspection.objects.filter(round_id=OuterRef("pk"), current=True)
    return queryset.annotate(
        point_count=Coalesce(_count_of(points, "point_id"), 0),
        inspection_count=Coalesce(_count_of(inspections, "round_id"), 0),
    )


def round_point_ids(round_ids: list[int]) -> dict[int, list[int]]:
    """{round id: its point ids in id order}: one query of (round, point) pairs, no Point rows."""
    ids: dict[int, list[int]] = {pk: [] for pk in round_ids}
    pairs = (
        InspectionRound.points.through.objects.filter(inspectionround_id__in=round_ids)
        .order_by("inspectionround_id", "point_id")
        .values_list("inspectionround_id", "point_id")
    )
    for round_id, point_id in pairs:
        ids[round_id].append(point_id)
    return ids


def round_list(*, user, counts: bool = True, campaign=None) -> QuerySet[InspectionRound]:
    """Office and leaders see every round; an inspector its own rounds. `counts=False` for the
    callers that only pick or check a round (drop-downs, permission checks): no counting at all.
    `campaign` narrows a list to one campaign (lists and counts read the current one; a page
    opened by its id does not, so a link to another campaign's round still opens)."""
    scope = scope_for(user)
    queryset = InspectionRound.objects.select_related("campaign").order_by("-start_date", "-id")
    if campaign is not None:
        queryset = queryset.filter(campaign=campaign)
    if counts:
        queryset = with_round_counts(queryset)
    if scope.is_office or scope.is_leader:
        return queryset
    if scope.is_inspector:
        return queryset.filter(inspectors=user)
    return queryset.none()


def inspection_list(*, user, campaign=None) -> QuerySet[Inspection]:
    """Inspections the user may see (`campaign`: only that campaign's, through the round)."""
    scope = scope_for(user)
    queryset = Inspection.objects.select_related("round", "point__point_type", "point__unit", "inspector")
    if campaign is not None:
        queryset = queryset.filter(round__campaign=campaign)
    if scope.is_office or scope.is_leader:
        return queryset
    if scope.is_inspector:
        return queryset.filter(round__inspectors=user)
    charged = Charge.objects.filter(observation__inspection=OuterRef("pk")).filter(scope.unit_q("unit__"))
    return queryset.filter(Exists(charged))


def observation_list(*, user, current_only: bool = True, campaign=None) -> QuerySet[Observation]:
    """Observations the user may see; a liaison those charged to its units. Charges prefetched.
    `campaign`: only that campaign's (its own column, indexed with `observed_at`)."""
    scope = scope_for(user)
    queryset = Observation.objects.select_related(
        "inspection", "check_item", "indicator", "point__point_type"
    ).prefetch_related(Prefetch("charges", queryset=Charge.objects.order_by("unit_id")))
    if current_only:  # the counted ones: current, and not struck out by a granted 申诉
        queryset = queryset.filter(current=True, appeal_granted=False)
    if campaign is not None:
        queryset = queryset.filter(campaign=campaign)
    if scope.is_office or scope.is_leader:
        return queryset
    if scope.is_inspector:
        return queryset.filter(inspection__round__inspectors=user)
    charged = Charge.objects.filter(observation=OuterRef("pk")).filter(scope.unit_q("unit__"))
    return queryset.filter(Exists(charged))


def observations_charged_to(queryset: QuerySet[Observation], *, unit_id: int) -> QuerySet[Observation]:
    """Observations charged to the unit or any unit under it (an unknown unit: none). The
    subtree's ids are read first (one query on the path index) and matched as a list: matching the
    charges' units by path joined every charge of all history to its unit (city bench, a district's
    week: 0.14–0.16 s of SQL per statement against 0.04 s)."""
    root = Unit.objects.filter(pk=unit_id).values("path")[:1]
    subtree = list(Unit.objects.filter(path__startswith=Subquery(root)).values_list("pk", flat=True))
    if not subtree:
        return queryset.none()
    return queryset.filter(Exists(Charge.objects.filter(observation=OuterRef("pk"), unit_id__in=subtree)))


def problem_list(*, user, campaign=None) -> QuerySet[Problem]:
    """Problems the user may read. Office and leaders: all; inspectors: those of their rounds; a
    liaison: those located in its subtree, whose handler or a co-handler is in it, or charged to
    it — its observation or any sighting charged to a unit of the subtree (a department's 条 view:
    it loses points for them, so it reads them). `campaign`: only that campaign's problems (the
    lists and counts; a problem opened by its id is found whatever the campaign)."""
    scope = scope_for(user)
    queryset = Problem.objects.select_related("point__point_type", "unit", "check_item", "indicator", "handler")
    if campaign is not None:
        queryset = queryset.filter(campaign=campaign)
    if scope.is_office or scope.is_leader:
        return queryset
    if scope.is_inspector:
        return queryset.filter(observation__inspection__round__inspectors=user)
    # The liaison's units by id (from the path index), not every problem joined to its unit and
    # handler to compare paths. Uncorrelated IN lists, each hashed once: no per-problem subquery
    # (the charges read by the (unit, observation) index).
    units = Unit.objects.filter(scope.unit_q()).values("pk")
    visible = Q(unit__in=units) | _handled_by(units)
    if is_department_liaison(user):
        # Only a department needs its charges: a territorial unit is charged for the points located
        # in it, whose problems the first list already holds; reading a district's charges of all
        # history (every observation there, passes included) would only hash the same problems again.
        visible |= _charged_to(units)
    return queryset.filter(visible)


def is_department_liaison(user) -> bool:
    """Whether the user is the liaison of a department (a 条 unit; only departments sit under one)."""
    return any(unit.kind == UnitKind.DEPARTMENT for unit in scope_for(user).liaison_units)


def liaison_units(user) -> QuerySet[Unit]:
    """The ids of the units under the user's liaison memberships (their subtrees), whatever other
    roles the user holds; none for a user who is no liaison."""
    paths = scope_for(user).liaison_paths
    if not paths:
        return Unit.objects.none().values("pk")
    condition = Q()
    for path in paths:
        condition |= Q(path__startswith=path)
    return Unit.objects.filter(condition).values("pk")


def _handled_by(units: QuerySet) -> Q:
    co_handled = Problem.co_handlers.through.objects.filter(unit__in=units).values("problem_id")
    return Q(handler__in=units) | Q(pk__in=co_handled)


def _charged_to(units: QuerySet) -> Q:
    charged = Charge.objects.filter(unit__in=units).values("observation_id")
    sighted = Problem.sightings.through.objects.filter(observation_id__in=charged).values("problem_id")
    return Q(observation_id__in=charged) | Q(pk__in=sighted)


def handled_q(user) -> Q:
    """本单位主办: problems whose handler or a co-handler is one of the liaison's units or below."""
    return _handled_by(liaison_units(user))


def charged_q(user) -> Q:
    """本部门被计分: problems whose observation, or any sighting of them, is charged to one of the
    liaison's units or below (what its ranking row loses points for)."""
    return _charged_to(liaison_units(user))


def problem_sightings(*, user, problem: Problem) -> list[Observation]:
    """The later failing observations that became sightings of the problem, in the order they
    were submitted, each with its inspection and inspector, and `inspection_readable` when the
    user may open that inspection (a link only where it leads). Two queries, one when none."""
    sightings = list(
        problem.sightings.select_related("inspection__inspector", "check_item").order_by(
            "inspection__submitted_at", "id"
        )
    )
    if not sightings:
        return []
    readable = set(
        inspection_list(user=user).filter(pk__in={o.inspection_id for o in sightings}).values_list("pk", flat=True)
    )
    for observation in sightings:
        observation.inspection_readable = observation.inspection_id in readable
    return sightings


def problem_charges(*, user, problem: Problem) -> list[tuple[str, list[tuple[Unit, bool]]]]:
    """Every unit the problem's observation is charged to, by kind (属地, then 行业主管), each with
    whether the user may open that unit's page. One query; none for a problem without observation."""
    if not problem.observation_id:
        return []
    scope = scope_for(user)
    charges = Charge.objects.filter(observation_id=problem.observation_id).select_related("unit").order_by("unit__path")
    by_kind: dict[str, list[tuple[Unit, bool]]] = {}
    for charge in charges:
        by_kind.setdefault(charge.kind, []).append((charge.unit, scope.covers(charge.unit)))
    return [(label, by_kind[kind]) for kind, label in ChargeKind.choices if kind in by_kind]


# The process metrics a week's ranking counts, as filters on problems (the caller leaves out void
# ones). One definition, read by the roll-up and by the problem list a ranking number links to.
WEEK_COUNTS = {
    "problems_opened": "本周新发现",
    "problems_due": "本周到期",
    "closed_on_time": "本周到期且按期销号",
    "overdue_open": "周末超期未改",
    "rebounds": "本周反弹",
}


def week_count_q(week: str) -> dict[str, Q]:
    """Each process metric of an ISO week as a Q: found that week; due that week (not shelved);
    of those, closed on or before the deadline (the closing day in Asia/Shanghai); open at the
    week's end past a deadline on or before its Sunday (not shelved); rebounds found that week."""
    start, end = iso_week_bounds(week)
    monday, sunday = start.date(), (end - datetime.timedelta(days=1)).date()
    due = Q(deadline__gte=monday, deadline__lte=sunday, shelved=False)
    return {
        "problems_opened": Q(found_at__gte=start, found_at__lt=end),
        "problems_due": due,
        "closed_on_time": due & Q(closed_at__isnull=False, closed_at__date__lte=F("deadline")),
        "overdue_open": Q(found_at__lt=end, shelved=False, deadline__lte=sunday)
        & (Q(closed_at__isnull=True) | Q(closed_at__gte=end)),
        "rebounds": Q(found_at__gte=start, found_at__lt=end, rebound_of__isnull=False),
    }


def responsible_q(unit) -> Q:
    """Problems a unit answers for in the ranking: located in or handled by its subtree. The
    subtree's ids come from the path index, so the problems are not joined to units twice (city
    bench: a district's open problems counted in 0.05 s instead of 0.10 s)."""
    subtree = Unit.objects.filter(path__startswith=unit.path).values("pk")
    return Q(unit__in=subtree) | Q(handler__in=subtree)


def overdue_q(today: datetime.date | None = None) -> Q:
    """Open (not closed or void), not shelved, and its deadline before today (Asia/Shanghai)."""
    today = today or timezone.localdate()
    return Q(deadline__lt=today, shelved=False) & ~Q(status__in=[ProblemStatus.CLOSED, ProblemStatus.VOID])


def with_deadline_facts(queryset: QuerySet[Problem], *, today: datetime.date | None = None) -> QuerySet[Problem]:
    """Annotate the derived deadline facts of each problem, in SQL (no query per row):

    - `is_overdue`: see overdue_q;
    - `overdue_by`: how long past the deadline an overdue problem is (a timedelta of calendar
      days; None when not overdue) — working days need the calendar, which is accountability's;
    - `closed_on_time`: for a closed problem with a deadline, whether the day it was closed
      (Asia/Shanghai) is on or before the deadline; None for every other problem.
    """
    today = today or timezone.localdate()
    overdue = overdue_q(today)
    closed = Q(status=ProblemStatus.CLOSED, deadline__isnull=False, closed_at__isnull=False)
    return queryset.annotate(
        closed_day=TruncDate("closed_at"),
        is_overdue=Case(When(overdue, then=Value(True)), default=Value(False), output_field=BooleanField()),
        overdue_by=Case(
            When(
                overdue,
                then=ExpressionWrapper(Value(today, output_field=DateField()) - F("deadline"), DurationField()),
            ),
            default=None,
            output_field=DurationField(),
        ),
        closed_on_time=Case(
            When(closed & Q(closed_day__lte=F("deadline")), then=Value(True)),
            When(closed, then=Value(False)),
            default=None,
            output_field=BooleanField(null=True),
        ),
    )


def deadline_fact(problem: Problem) -> str:
    """The annotated facts in words: 超期N天, 按期销号, 超期销号, or ""."""
    if getattr(problem, "is_overdue", False):
        days = problem.overdue_by.days if problem.overdue_by is not None else 0
        return f"超期{days}天"
    on_time = getattr(problem, "closed_on_time", None)
    if on_time is None:
        return ""
    return "按期销号" if on_time else "超期销号"


def photo_visible_to(*, user, photo: Photo) -> bool:
    """A photo is visible to whoever may see its observation or a problem that cites it, and to
    its uploader before it is attached. A citizen's photo (no uploader) sent with a report is the
    office's and leaders' to see while the report awaits triage, and then — copied onto the problem
    by triage — whoever may read that problem's; anonymous readers never get a photo."""
    if user is None or not user.is_authenticated:
        return False
    if photo.uploaded_by_id is not None and photo.uploaded_by_id == user.pk:
        return True
    scope = scope_for(user)
    if (scope.is_office or scope.is_leader) and photo.reports.exists():
        return True
    if (
        photo.observation_id
        and observation_list(user=user, current_only=False).filter(pk=photo.observation_id).exists()
    ):
        return True
    return problem_list(user=user).filter(photos=photo).exists()
