"""The weekly roll-up: from a week's observations and problems to one snapshot row per unit, its
rank, its 红黑榜 mark; versions (draft → published), and the accountability cases raised when a
week is published (谁丢分、谁领责).

Every number is computed on the server: the units' rows are one INSERT … SELECT (a GROUP BY over
the charges of the week's observations, read by Observation.campaign and observed_at; the problems
concerned, the week's 退回 and 抽查复核不属实 events and the flagged photos of its reports, each
expanded to its located unit, its handler and every unit above them, and the flagged photos of the
observations per charged unit, then summed per unit), the citywide row four aggregates; the
composite is one UPDATE and the ranks and 红黑榜 one UPDATE … FROM a SELECT with window functions. Publishing raises the
cases with a fixed number of statements: the evidence of each rule for all its units in one query,
the cases written in bulk. Python never visits an observation, a problem or a unit's row. Running a
week twice gives identical rows.
"""

from __future__ import annotations

import contextlib
import datetime
import time
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import (
    Avg,
    Case,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    JSONField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, Rank, Round
from django.utils import timezone

from campaign.choices import DistrictDepartmentRanking, JobStatus, UnitKind
from campaign.jobs import job_enqueue
from campaign.models import Campaign, JobRun, Unit
from campaign.selectors import scope_for
from campaign.services import job_run_claim, job_run_create, job_run_finish
from indicators.choices import RiskStatus
from indicators.selectors import week_veto_events
from inspections.choices import ProblemStatus, Result
from inspections.models import Charge, CheckItem, Observation, Photo, Problem
from inspections.selectors import iso_week_bounds, iso_week_of, week_count_q, week_label

from .choices import (
    RANKED_POPULATIONS,
    Action,
    BoardList,
    CaseLevel,
    CaseRule,
    CaseStatus,
    NotificationKind,
    Population,
    VersionStatus,
)
from .commitments import commitments_overdue_twice
from .models import AccountabilityCase, Appeal, AppealStatus, ProblemEvent, RollupVersion, UnitWeekScore
from .notify import notify_many

JOB_NAME = "weekly_rollup"
# The metrics a snapshot row carries besides its identity and rank; compared to tell whether a
# recomputed version differs from the published one.
METRICS = (
    "observations",
    "failing_observations",
    "deduction_points",
    "score_rate",
    "problems_opened",
    "problems_due",
    "closed_on_time",
    "on_time_rate",
    "rework_count",
    "overdue_open",
    "rebounds",
    "composite",
    "sample_ok",
    "rank",
    "rank_change",
    "board",
    "vetoed",
    "veto_events",
    "evidence_flagged",
    "rechecks_failed",
)
RATE = Decimal("0.000001")
POINTS = Decimal("0.01")
# Units held to account by cases: the ones that fix things and answer for them. Communities are
# ranked but answer through their street.
CASE_POPULATIONS = (Population.DISTRICT, Population.STREET, Population.DEPARTMENT, Population.DISTRICT_DEPARTMENT)
EVIDENCE_LIMIT = 50


# --- rules ---------------------------------------------------------------------------------------


def campaign_rules(campaign: Campaign) -> dict:
    """The campaign's 评比规则 as recorded on each version (so an old week reads as computed)."""
    return {
        "weight_score": campaign.weight_score,
        "weight_process": campaign.weight_process,
        "min_sample": campaign.min_sample,
        "board_mode": campaign.board_mode,
        "board_k": campaign.board_k,
        "red_line": str(campaign.red_line),
        "black_line": str(campaign.black_line),
        "overdue_case_threshold": campaign.overdue_case_threshold,
        "district_departments": campaign.district_departments,
        "recheck_failed_raises_case": campaign.recheck_failed_raises_case,
        "commitment_overdue_raises_case": campaign.commitment_overdue_raises_case,
        "meeting_overdue_units": campaign.meeting_overdue_units,
    }


def district_departments_separate(rules: dict) -> bool:
    """Whether the version ranks the 区直部门 (departments with a district above them) as their own
    population; versions computed before the rule existed ranked them with the city's departments."""
    return rules.get("district_departments", DistrictDepartmentRanking.WITH_CITY) == DistrictDepartmentRanking.SEPARATE


# The 一票否决 rule, written on every page that shows the formula. A veto marks only the unit the
# event names: the domain notes do not say that a street's veto reaches its district, so it does not.
VETO_RULE_TEXT = (
    "一票否决：本周内存在未解决（或本周内才解决）的本活动一票否决事件的单位，不论综合分，名次记为“否决”，"
    "排在本类别最后，列入黑榜，不上红榜；只标记事件登记的单位，不延及其上级街道或区县。"
)


def formula_text(rules: dict) -> str:
    return (
        f"综合分 = {rules['weight_score']} × 得分率 + {rules['weight_process']} × 按期整改率"
        f"（本周无到期问题的，按期整改率计满分）；得分率 = 计入该单位的观测得分（1 − 扣分/该项最高扣分）的平均值；"
        f"观测少于 {rules['min_sample']} 个的单位为“样本不足”，不参与排名。"
        f"{VETO_RULE_TEXT}"
    )


def board_text(rules: dict) -> str:
    if rules["board_mode"] == "threshold":
        return f"红榜：综合分 ≥ {rules['red_line']}；黑榜：综合分 < {rules['black_line']}（仅限参与排名的单位）。"
    return f"红榜：各类别前 {rules['board_k']} 名；黑榜：后 {rules['board_k']} 名（参与排名的单位不足 {2 * rules['board_k']} 个时各取一半）。"


# --- the week's aggregates -----------------------------------------------------------------------


def _week(week: str) -> tuple[datetime.datetime, datetime.datetime, datetime.date, datetime.date]:
    try:
        start, end = iso_week_bounds(week)
    except ValueError as exc:
        raise ValidationError({"week": str(exc)}) from None
    return start, end, start.date(), (end - datetime.timedelta(days=1)).date()


def current_week() -> str:
    """The ISO week containing today (Asia/Shanghai): unfinished, so computed only as a preview."""
    return iso_week_of(timezone.localdate())


def week_in_progress(week: str) -> bool:
    return week == current_week()


def _campaign_open(campaign: Campaign, action: str) -> None:
    """A finished (归档) campaign stays readable but takes no new roll-ups or publishes."""
    if not campaign.active:
        raise ValidationError({"campaign": f"创建活动“{campaign.name}”已归档（已结束），不能{action}。"})


def _observations(campaign: Campaign, start, end) -> QuerySet[Observation]:
    """The week's counted observations — current, not struck out by a granted 申诉 — read by their
    own campaign column and time (one index)."""
    return Observation.objects.filter(
        current=True, appeal_granted=False, campaign=campaign, observed_at__gte=start, observed_at__lt=end
    )


def _problems(campaign: Campaign) -> QuerySet[Problem]:
    return Problem.objects.filter(campaign=campaign).exclude(status=ProblemStatus.VOID)


def _sql(queryset: QuerySet) -> tuple[str, tuple]:
    return queryset.query.sql_with_params()


def _ancestors(unit_table: str, deepest: int, source: str, columns: str) -> str:
    """SQL of (unit_id, columns…): each row of `source` (its `located` unit and its `handling` unit,
    the latter may be NULL, with the counts of its items) once for every unit at or above either — its
    located unit and each unit above it, then its handler and each unit above it that is not
    already one of the former (so an item located in and handled within one subtree counts once
    for it). The units above come from joins up `parent` of the real unit table, as many levels as
    the deepest unit is deep, and one row per level from a cross join with the level numbers: no
    DISTINCT or UNION over the expanded rows, whose sort spilled to disk, and no self-join of a
    CTE, whose unknown statistics made PostgreSQL estimate millions of rows and JIT-compile the
    statement with full optimisation (megacity, 104 weeks: 3.4 s of JIT in a 4.8 s statement).
    Not a recursive query: its row estimate made PostgreSQL plan for billions of rows."""
    chains, joins = {}, []
    for side, start in (("l", "x.located"), ("h", "x.handling")):
        chain = [start]
        for level in range(deepest):
            joins.append(f"LEFT JOIN {unit_table} AS {side}{level} ON {side}{level}.id = {chain[-1]}")
            chain.append(f"{side}{level}.parent_id")
        chains[side] = chain
    located = ", ".join(chains["l"])
    picks = [f"WHEN {n} THEN {unit}" for n, unit in enumerate(chains["l"])] + [
        f"WHEN {n} THEN CASE WHEN {unit} IN ({located}) THEN NULL ELSE {unit} END"
        for n, unit in enumerate(chains["h"], start=len(chains["l"]))
    ]
    levels = " UNION ALL ".join(f"SELECT {n} AS n" for n in range(len(picks)))
    return (
        f"SELECT e.* FROM (SELECT CASE k.n {' '.join(picks)} END AS unit_id{columns} "
        f"FROM {source} AS x {' '.join(joins)} CROSS JOIN ({levels}) AS k) AS e WHERE e.unit_id IS NOT NULL"
    )


def _unit_rows(version: RollupVersion, campaign: Campaign) -> tuple[str, list]:
    """One INSERT … SELECT writing every ranked unit's row of the week (the active units, and any
    inactive one that was charged), all of it computed on the server:

    - observations: one GROUP BY over the charges of the week's current observations;
    - process metrics: each problem concerned (one 0/1 column per metric, from week_count_q, the one
      definition that lives with the problems) expanded to its located unit and its handler and
      every unit above them (`_ancestors`: the chain of parents the materialised paths record),
      so that a problem located in and handled within one subtree counts once for it — then
      summed per unit; the week's 退回 events likewise;
    - the on-time rate and the sample flag; the composite, ranks and 红黑榜 follow in SQL too."""
    start, end, _monday, _sunday = _week(version.week)
    observed = _sql(
        Charge.objects.filter(
            observation__current=True,
            observation__appeal_granted=False,
            observation__campaign=campaign,
            observation__observed_at__gte=start,
            observation__observed_at__lt=end,
        )
        .values("unit_id")
        .annotate(
            observations=Count("observation_id"),
            failing_observations=Count("observation_id", filter=~Q(observation__result=Result.PASS)),
            deduction_points=Sum("observation__deduction"),
            score_rate=Avg("observation__score"),
        )
        .order_by()
    )
    sets = week_count_q(version.week)
    concerned = Q()
    for condition in sets.values():
        concerned |= condition
    # Per (located unit, handler) pair, each metric's count: every problem of a pair reaches the
    # same units, so pairs, not problems, are expanded to the units above them (megacity, 104
    # weeks: 54,600 problems concerned — mostly the overdue backlog — in 16,200 pairs).
    flags = {  # prefixed: `rebounds` is also a relation of Problem
        f"is_{name}": Sum(Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField()))
        for name, condition in sets.items()
    }
    problems = _sql(
        _problems(campaign)
        .filter(concerned)
        .values(located=F("unit_id"), handling=F("handler_id"))
        .annotate(**flags)
        .order_by()
    )
    # The week's 退回 events and its 抽查复核 recorded 不属实 (each a `recheck_fail` event), per pair.
    reworks = _sql(
        ProblemEvent.objects.filter(
            action__in=(Action.REJECT, Action.RECHECK_FAIL), at__gte=start, at__lt=end, problem__campaign=campaign
        )
        .values(located=F("problem__unit_id"), handling=F("problem__handler_id"))
        .annotate(
            events=Count("pk", filter=Q(action=Action.REJECT)),
            failed=Count("pk", filter=Q(action=Action.RECHECK_FAIL)),
        )
        .order_by()
    )
    # 证据疑点: the flagged photos of the week's counted observations, per charged unit; and those of
    # the week's rectification reports, per pair (expanded like the problems).
    flagged_observed = _sql(
        Charge.objects.filter(
            observation__current=True,
            observation__appeal_granted=False,
            observation__campaign=campaign,
            observation__observed_at__gte=start,
            observation__observed_at__lt=end,
            observation__photos__flags__isnull=False,
        )
        .values("unit_id")
        .annotate(flagged=Count("observation__photos", distinct=True))
        .order_by()
    )
    flagged_reported = _sql(
        ProblemEvent.objects.filter(
            action=Action.SUBMIT,
            at__gte=start,
            at__lt=end,
            problem__campaign=campaign,
            photos__flags__isnull=False,
        )
        .exclude(problem__status=ProblemStatus.VOID)
        .values(located=F("problem__unit_id"), handling=F("problem__handler_id"))
        .annotate(flagged=Count("photos", distinct=True))
        .order_by()
    )
    qn = connection.ops.quote_name
    unit_table, row_table = qn(Unit._meta.db_table), qn(UnitWeekScore._meta.db_table)
    summed = ", ".join(f"SUM(x.is_{name}) AS {name}" for name in sets)
    deepest = Unit.objects.aggregate(deepest=Max("depth"))["deepest"] or 0

    kinds = ", ".join(["%s"] * len(RANKED_POPULATIONS))
    # A unit's population is its kind — but a department with a district above it (its path passes
    # through a district's) is a 区直部门, its own population when the version's rules say so.
    if district_departments_separate(version.rules):
        population = (
            f"CASE WHEN u.kind = %s AND EXISTS (SELECT 1 FROM {unit_table} AS d WHERE d.kind = %s "
            f"AND u.path LIKE d.path || '%%') THEN %s ELSE u.kind END"
        )
        population_params = [UnitKind.DEPARTMENT, UnitKind.DISTRICT, Population.DISTRICT_DEPARTMENT]
    else:
        population, population_params = "u.kind", []
    process = ", ".join(sets)
    zeros = ", ".join(["0"] * len(sets))
    columns = (
        "rollup_id, unit_id, population, observations, failing_observations, deduction_points, score_rate, "
        + process
        + ", on_time_rate, rework_count, evidence_flagged, rechecks_failed, sample_ok, board"
    )
    # The parts are stacked (UNION ALL) and summed per unit rather than joined: joins of
    # aggregates whose sizes the planner cannot estimate became nested loops (city: 9 s).
    statement = f"""
        INSERT INTO {row_table} ({", ".join(qn(name) for name in columns.split(", "))})
        WITH observed AS ({observed[0]}),
        concerned AS ({problems[0]}),
        processed AS (
            SELECT x.unit_id, {summed} FROM ({_ancestors(unit_table, deepest, "concerned", "".join(f", x.{name}" for name in flags))}) AS x
            GROUP BY x.unit_id
        ),
        rejected AS ({reworks[0]}),
        reworked AS (
            SELECT x.unit_id, SUM(x.events) AS rework_count, SUM(x.failed) AS rechecks_failed
            FROM ({_ancestors(unit_table, deepest, "rejected", ", x.events, x.failed")}) AS x
            GROUP BY x.unit_id
        ),
        flagged_observed AS ({flagged_observed[0]}),
        flagged_reports AS ({flagged_reported[0]}),
        flagged_reported AS (
            SELECT x.unit_id, SUM(x.flagged) AS flagged
            FROM ({_ancestors(unit_table, deepest, "flagged_reports", ", x.flagged")}) AS x
            GROUP BY x.unit_id
        ),
        parts (unit_id, kind, path, active, charged, observations, failing_observations, deduction_points,
               score_rate, {process}, rework_count, evidence_flagged, rechecks_failed) AS (
            SELECT u.id, {population}, u.path, CASE WHEN u.active THEN 1 ELSE 0 END, 0, 0, 0, NULL, NULL, {zeros}, 0, 0, 0
            FROM {unit_table} AS u WHERE u.kind IN ({kinds})
            UNION ALL
            SELECT o.unit_id, NULL, NULL, 0, 1, o.observations, o.failing_observations, o.deduction_points,
                   o.score_rate, {zeros}, 0, 0, 0
            FROM observed AS o
            UNION ALL
            SELECT p.unit_id, NULL, NULL, 0, 0, 0, 0, NULL, NULL, {", ".join(f"p.{name}" for name in sets)}, 0, 0, 0
            FROM processed AS p
            UNION ALL
            SELECT r.unit_id, NULL, NULL, 0, 0, 0, 0, NULL, NULL, {zeros}, r.rework_count, 0, r.rechecks_failed
            FROM reworked AS r
            UNION ALL
            SELECT f.unit_id, NULL, NULL, 0, 0, 0, 0, NULL, NULL, {zeros}, 0, f.flagged, 0 FROM flagged_observed AS f
            UNION ALL
            SELECT f.unit_id, NULL, NULL, 0, 0, 0, 0, NULL, NULL, {zeros}, 0, f.flagged, 0 FROM flagged_reported AS f
        )
        SELECT %s, m.unit_id, MAX(m.kind), SUM(m.observations), SUM(m.failing_observations),
               ROUND(COALESCE(MAX(m.deduction_points), 0), 2), ROUND(MAX(m.score_rate), 6),
               {", ".join(f"SUM(m.{name})" for name in sets)},
               CASE WHEN SUM(m.problems_due) > 0
                    THEN ROUND(SUM(m.closed_on_time) * 1.0 / SUM(m.problems_due), 6) END,
               SUM(m.rework_count), SUM(m.evidence_flagged), SUM(m.rechecks_failed), SUM(m.observations) >= %s, ''
        FROM parts AS m
        GROUP BY m.unit_id
        HAVING MAX(m.kind) IS NOT NULL AND (MAX(m.active) = 1 OR MAX(m.charged) = 1)
        ORDER BY MAX(m.path)
    """
    params = [
        *observed[1],
        *problems[1],
        *reworks[1],
        *flagged_observed[1],
        *flagged_reported[1],
        *population_params,
        *RANKED_POPULATIONS,
        version.pk,
        version.rules["min_sample"],
    ]
    return statement, params


def _city_metrics(campaign: Campaign, week: str) -> dict:
    """The citywide row: every observation once (not once per charged unit), every problem."""
    start, end, _monday, _sunday = _week(week)
    observed = _observations(campaign, start, end).aggregate(
        observations=Count("pk"),
        failing_observations=Count("pk", filter=~Q(result=Result.PASS)),
        deduction_points=Coalesce(Sum("deduction"), Value(Decimal("0"))),
        score_rate=Avg("score"),
    )
    sets = week_count_q(week)
    process = _problems(campaign).aggregate(**{name: Count("pk", filter=condition) for name, condition in sets.items()})
    events = ProblemEvent.objects.filter(
        action__in=(Action.REJECT, Action.RECHECK_FAIL), at__gte=start, at__lt=end, problem__campaign=campaign
    ).aggregate(
        rework_count=Count("pk", filter=Q(action=Action.REJECT)),
        rechecks_failed=Count("pk", filter=Q(action=Action.RECHECK_FAIL)),
    )
    # 证据疑点, each flagged photo once: of the week's counted observations or its reports.
    reports = ProblemEvent.objects.filter(
        action=Action.SUBMIT, at__gte=start, at__lt=end, problem__campaign=campaign
    ).exclude(problem__status=ProblemStatus.VOID)
    flagged = (
        Photo.objects.filter(flags__isnull=False)
        .filter(Q(observation__in=_observations(campaign, start, end)) | Q(problem_events__in=reports))
        .aggregate(n=Count("pk", distinct=True))["n"]
    )
    return {**observed, **process, **events, "evidence_flagged": flagged}


def _quantize(value, step: Decimal) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(step, rounding=ROUND_HALF_UP)


def _row(version: RollupVersion, unit_id, population: str, metrics: dict, min_sample: int) -> UnitWeekScore:
    due, on_time = metrics["problems_due"], metrics["closed_on_time"]
    return UnitWeekScore(
        rollup=version,
        unit_id=unit_id,
        population=population,
        observations=metrics["observations"],
        failing_observations=metrics["failing_observations"],
        deduction_points=_quantize(metrics["deduction_points"], POINTS),
        score_rate=_quantize(metrics["score_rate"], RATE),
        problems_opened=metrics["problems_opened"],
        problems_due=due,
        closed_on_time=on_time,
        on_time_rate=_quantize(Decimal(on_time) / Decimal(due), RATE) if due else None,
        rework_count=metrics["rework_count"],
        evidence_flagged=metrics["evidence_flagged"],
        rechecks_failed=metrics["rechecks_failed"],
        overdue_open=metrics["overdue_open"],
        rebounds=metrics["rebounds"],
        sample_ok=metrics["observations"] >= min_sample,
    )


def _write_rows(version: RollupVersion, campaign: Campaign) -> int:
    rules = version.rules
    statement, params = _unit_rows(version, campaign)
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        count = cursor.rowcount
    _row(version, None, Population.CITY, _city_metrics(campaign, version.week), 0).save()
    # The composite, in SQL: weights × rates, the process part full when nothing fell due.
    UnitWeekScore.objects.filter(rollup=version, score_rate__isnull=False).update(
        composite=Round(
            ExpressionWrapper(
                Value(Decimal(rules["weight_score"])) * F("score_rate")
                + Value(Decimal(rules["weight_process"])) * Coalesce(F("on_time_rate"), Value(Decimal("1"))),
                output_field=DecimalField(max_digits=12, decimal_places=6),
            ),
            2,
        )
    )
    _veto(version, campaign)
    _rank(version)
    return count + 1


def _veto(version: RollupVersion, campaign: Campaign) -> None:
    """Mark the rows of the units with a 一票否决 event of the campaign open during the week (see
    `indicators.selectors.week_veto_events`), naming the events: one read of the (few) events, one
    UPDATE. Each event's status is the one it had at the week's end, so a week reads the same when
    it is recomputed after the event is resolved."""
    _start, end, monday, sunday = _week(version.week)
    named: dict[int, list[dict]] = {}
    for event in week_veto_events(campaign=campaign, monday=monday, sunday=sunday):
        resolved = event.resolved_at is not None and event.resolved_at < end and event.status != RiskStatus.OPEN
        named.setdefault(event.unit_id, []).append(
            {
                "id": event.pk,
                "title": event.item.title,
                "occurred_on": event.occurred_on.isoformat(),
                "status": RiskStatus.RESOLVED.value if resolved else RiskStatus.OPEN.value,
            }
        )
    if not named:
        return
    UnitWeekScore.objects.filter(rollup=version, unit_id__in=list(named)).update(
        vetoed=True,
        veto_events=Case(
            *[When(unit_id=unit_id, then=Value(events, output_field=JSONField())) for unit_id, events in named.items()],
            output_field=JSONField(),
        ),
    )


def _previous_version(version: RollupVersion) -> RollupVersion | None:
    """The version the rank change is measured against: last week's published one."""
    previous_week = iso_week_of(version.week_start - datetime.timedelta(days=7))
    return RollupVersion.objects.filter(
        campaign_id=version.campaign_id, week=previous_week, status=VersionStatus.PUBLISHED
    ).first()


def _rank(version: RollupVersion) -> None:
    """Competition ranks (1, 2, 2, 4) per population among units with enough sample, the change
    from last week's published rank, and the 红黑榜 mark: one UPDATE … FROM a SELECT with window
    functions (PostgreSQL, and SQLite from 3.33).

    A vetoed row (一票否决) is placed below every ranked unit of its population: it gets no rank and
    no change, is on the 黑榜 whatever its composite and never on the 红榜; the others are ranked
    among themselves (1..n without a gap). With the top/bottom-k rule the vetoed rows fill the
    bottom places first: k is taken over the ranked and the vetoed units, and a ranked unit is on
    the 黑榜 when its place from the bottom, the vetoed counted below it, is within k."""
    rules = version.rules
    previous = _previous_version(version)
    by_population = {"partition_by": [F("population")]}
    is_vetoed = Case(When(vetoed=True, then=Value(1)), default=Value(0), output_field=IntegerField())
    ranked = (
        UnitWeekScore.objects.filter(rollup=version, population__in=RANKED_POPULATIONS)
        .filter(Q(sample_ok=True, composite__isnull=False) | Q(vetoed=True))
        .annotate(
            row_id=F("pk"),
            is_vetoed=is_vetoed,
            new_rank=Window(Rank(), order_by=[is_vetoed.asc(), F("composite").desc()], **by_population),
            bottom_rank=Window(Rank(), order_by=[is_vetoed.desc(), F("composite").asc()], **by_population),
            ranked_count=Window(Count("pk"), **by_population),
            previous_rank=Subquery(
                UnitWeekScore.objects.filter(rollup=previous, unit=OuterRef("unit")).values("rank")[:1]
            )
            if previous
            else Value(None, output_field=IntegerField()),
        )
        .values("row_id", "is_vetoed", "composite", "new_rank", "bottom_rank", "ranked_count", "previous_rank")
    )
    select, select_params = ranked.query.sql_with_params()
    if rules["board_mode"] == "threshold":
        board = "CASE WHEN r.composite >= CAST(%s AS NUMERIC) THEN %s WHEN r.composite < CAST(%s AS NUMERIC) THEN %s ELSE '' END"
        board_params = [rules["red_line"], BoardList.RED, rules["black_line"], BoardList.BLACK]
    else:
        # k per population: the campaign's k, but at most half of the units placed.
        k = "(CASE WHEN %s < r.ranked_count / 2 THEN %s ELSE r.ranked_count / 2 END)"
        board = f"CASE WHEN r.new_rank <= {k} THEN %s WHEN r.bottom_rank <= {k} THEN %s ELSE '' END"
        board_k = rules["board_k"]
        board_params = [board_k, board_k, BoardList.RED, board_k, board_k, BoardList.BLACK]
    table = connection.ops.quote_name(UnitWeekScore._meta.db_table)
    rank, change, mark = (connection.ops.quote_name(name) for name in ("rank", "rank_change", "board"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {rank} = CASE WHEN r.is_vetoed = 1 THEN NULL ELSE r.new_rank END, "
            f"{change} = CASE WHEN r.is_vetoed = 1 THEN NULL ELSE CAST(r.previous_rank AS INTEGER) - r.new_rank END, "
            f"{mark} = CASE WHEN r.is_vetoed = 1 THEN %s ELSE {board} END "
            f"FROM ({select}) AS r WHERE {table}.id = r.row_id",
            [BoardList.BLACK, *board_params, *select_params],
        )


# --- versions ------------------------------------------------------------------------------------


def _snapshot(version: RollupVersion) -> dict:
    """Each unit's row; its population too (a changed 区直部门 rule is a change of the week)."""
    return {row.pop("unit_id"): row for row in version.scores.values("unit_id", "population", *METRICS)}


@transaction.atomic
def rollup_compute(*, campaign: Campaign, week: str, run: JobRun | None = None) -> tuple[RollupVersion, str]:
    """Compute a week. A draft is recomputed in place; a published week gets a new draft version,
    dropped again when it would change nothing. Returns the version and what happened:
    "created", "recomputed", "new_version" or "unchanged"."""
    _start, _end, monday, sunday = _week(week)
    # One roll-up per campaign at a time; and the rules as they are now, not as the caller loaded them.
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    _campaign_open(campaign, "计算周评比")
    now = timezone.now()
    rules = campaign_rules(campaign)
    draft = RollupVersion.objects.filter(campaign=campaign, week=week, status=VersionStatus.DRAFT).first()
    published = RollupVersion.objects.filter(campaign=campaign, week=week, status=VersionStatus.PUBLISHED).first()
    if draft:
        draft.scores.all().delete()
        draft.rules, draft.computed_at, draft.run = rules, now, run
        version, outcome = draft, "recomputed"
    else:
        latest = RollupVersion.objects.filter(campaign=campaign, week=week).order_by("-number").first()
        version = RollupVersion(
            campaign=campaign,
            week=week,
            week_start=monday,
            week_end=sunday,
            number=(latest.number + 1) if latest else 1,
            rules=rules,
            computed_at=now,
            run=run,
        )
        outcome = "new_version" if published else "created"
    version.save()
    version.rows = _write_rows(version, campaign)
    version.save(update_fields=["rows", "rules", "computed_at", "run"])
    if published and _snapshot(version) == _snapshot(published):
        version.delete()
        return published, "unchanged"
    return version, outcome


def rollup_publish(
    *, campaign: Campaign, week: str, user, bulletin: bool = True, override_reason: str = ""
) -> RollupVersion:
    """Publish a week's draft: it replaces the published version (if any), which is kept as
    superseded; then the accountability rules run on it. Once committed, the 周通报's files are
    queued for rendering (`bulletin=False`: left to their first request). Refused while appeals of
    the week are undecided, unless the office gives `override_reason` (recorded as an appeal
    event); publishing closes the week's appeals."""
    if not scope_for(user).is_office:
        raise PermissionDenied("只有创建办可以发布周评比。")
    _week(week)
    if week_in_progress(week):
        raise ValidationError({"week": f"本周尚未结束（{week_label(week)}），不能发布；下周一起可发布。"})
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().filter(pk=campaign.pk).first()
        _campaign_open(locked or campaign, "发布周评比")
        # The draft with the week's undecided appeals counted beside it (one query).
        undecided_appeals = (
            Appeal.objects.filter(campaign=OuterRef("campaign"), week=OuterRef("week"), status=AppealStatus.FILED)
            .order_by()
            .values("week")
            .annotate(n=Count("pk"))
            .values("n")[:1]
        )
        draft = (
            RollupVersion.objects.filter(campaign=campaign, week=week, status=VersionStatus.DRAFT)
            .annotate(undecided_appeals=Coalesce(Subquery(undecided_appeals), 0))
            .first()
        )
        if draft is None:
            raise ValidationError({"week": f"{week_label(week)}没有待发布的草稿：请先计算该周。"})
        undecided = draft.undecided_appeals
        if undecided and not (override_reason or "").strip():
            raise ValidationError(
                {
                    "override_reason": f"{week_label(week)}尚有 {undecided} 件申诉待裁定，不能发布："
                    "请先裁定，或填写强制发布的理由。"
                }
            )
        if undecided:
            from .appeals import appeals_override

            appeals_override(
                user=user, campaign=campaign, week=week, reason=override_reason.strip(), undecided=undecided
            )
        RollupVersion.objects.filter(campaign=campaign, week=week, status=VersionStatus.PUBLISHED).update(
            status=VersionStatus.SUPERSEDED
        )
        draft.status, draft.published_at, draft.published_by = VersionStatus.PUBLISHED, timezone.now(), user
        draft.save(update_fields=["status", "published_at", "published_by"])
        _record_check_item_versions(draft, user)
        cases_raise(version=draft)
        if bulletin:
            from .bulletin_store import bulletin_queue

            transaction.on_commit(lambda: bulletin_queue(version=draft, user=user), robust=True)
    return draft


def _record_check_item_versions(version: RollupVersion, user) -> None:
    """Record on a version being published the check-item versions its week counted — for every
    check item of the week's current observations, its latest history row now — so a contested
    number can be replayed against the rules that produced it. Items without any history row yet
    (written by a bulk path that records none) first get a baseline row, in bulk. Two statements
    (three when baselines are due), whatever the number of items: the items lacking history, and
    one INSERT … SELECT of the latest history id per item into the version's M2M table."""
    start, end, _monday, _sunday = _week(version.week)
    history = CheckItem.history.model
    observed = _observations(version.campaign, start, end).values("check_item_id")
    missing = list(CheckItem.objects.filter(pk__in=observed).exclude(Exists(history.objects.filter(id=OuterRef("pk")))))
    if missing:
        CheckItem.history.bulk_history_create(
            missing, default_user=user, default_change_reason="发布周评比时补记的基线版本"
        )
    latest = history.objects.filter(id__in=observed).values("id").annotate(latest=Max("history_id")).values("latest")
    select, params = latest.query.sql_with_params()
    through = RollupVersion.check_item_versions.through
    qn = connection.ops.quote_name
    version_column = qn(through._meta.get_field("rollupversion").column)
    item_column = qn(through._meta.get_field("historicalcheckitem").column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {qn(through._meta.db_table)} ({version_column}, {item_column}) "
            f"SELECT %s, x.latest FROM ({select}) AS x",
            [version.pk, *params],
        )


def rollup_diff(*, draft: RollupVersion, published: RollupVersion) -> list[dict]:
    """What publishing the draft would change: per unit, the metrics that differ (two queries)."""
    before, after = _snapshot(published), _snapshot(draft)
    names = dict(Unit.objects.filter(pk__in=[pk for pk in after if pk]).values_list("pk", "name"))
    changes = []
    for unit_id, row in after.items():
        old = before.get(unit_id)
        # The population too: a changed 区直部门 rule moves a department from one ranking to another.
        fields = [name for name in ("population", *METRICS) if old is None or old[name] != row[name]]
        if fields:
            changes.append(
                {
                    "unit_id": unit_id,
                    "unit_name": names.get(unit_id, "全市"),
                    "population": row.get("population"),
                    "fields": {name: (old[name] if old else None, row[name]) for name in fields},
                }
            )
    return sorted(changes, key=lambda change: (change["unit_id"] is not None, change["unit_name"]))


# --- runs: on demand, weekly, and when data of a computed week changes --------------------------


def rollup_run(*, run_id: int) -> dict:
    """Execute a queued roll-up run (in a worker, or in-process without a broker)."""
    run = job_run_claim(run_id=run_id)
    if run is None:  # delivered twice (a re-dispatch, a redelivery): the first delivery runs it
        return JobRun.objects.filter(pk=run_id).values_list("result", flat=True).first() or {}
    try:
        campaign = Campaign.objects.get(pk=run.params["campaign"])
        with transaction.atomic():
            version, outcome = rollup_compute(campaign=campaign, week=run.params["week"], run=run)
            if settings.ROLLUP_TEST_DELAY_SECONDS:  # test-only: a worker killed here loses nothing
                time.sleep(settings.ROLLUP_TEST_DELAY_SECONDS)
    except Exception as exc:
        job_run_finish(run=run, error=_error_text(exc))
        raise
    result = {"version": version.pk, "number": version.number, "rows": version.rows, "outcome": outcome}
    job_run_finish(run=run, result=result)
    return result


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "；".join(exc.messages)
    return repr(exc)


def rollup_enqueue(*, campaign: Campaign, week: str, user=None, reason: str = "") -> JobRun:
    """Record a run and hand it to a worker once the transaction commits, through the jobs' outbox
    (campaign.jobs): a broker that is down never fails the caller, the run waits queued and the
    sweeper sends it. Without a broker (eager Celery) it runs in-process before returning, so the
    returned run is finished."""
    from campaign.celery import app

    _week(week)
    current = Campaign.objects.filter(pk=campaign.pk).first()
    if current is None:
        raise ValidationError({"campaign": "创建活动不存在。"})
    _campaign_open(current, "计算周评比")
    run = job_run_create(name=JOB_NAME, params={"campaign": campaign.pk, "week": week, "reason": reason}, user=user)
    if app.conf.task_always_eager:
        with contextlib.suppress(Exception):  # recorded on the run; the caller reads its status
            rollup_run(run_id=run.pk)
        run.refresh_from_db()
    else:
        job_enqueue(run)
    return run


def rollup_pending(*, version: RollupVersion) -> bool:
    """待重算: the week's data changed after this version was computed — a run of its campaign and
    week was queued after the version's computed_at and has not finished (queued, waiting for a
    worker or the sweeper, or running). The page and the API say so until that run completes.
    One query."""
    return JobRun.objects.filter(
        name=JOB_NAME,
        status__in=(JobStatus.QUEUED, JobStatus.RUNNING),
        params__campaign=version.campaign_id,
        params__week=version.week,
        queued_at__gt=version.computed_at,
    ).exists()


def rollup_weeks_touched(*, campaign_id: int, moments) -> list[str]:
    """Of the weeks these moments fall in, those already computed (a draft or a published version)."""
    weeks = {iso_week_of(moment) for moment in moments if moment}
    if not weeks:
        return []
    return sorted(
        set(RollupVersion.objects.filter(campaign_id=campaign_id, week__in=weeks).values_list("week", flat=True))
    )


def rollup_refresh(*, campaign_id: int, moments, reason: str) -> list[JobRun]:
    """Queue a recompute of every computed week these moments fall in (called when observations or
    problems change). A published week gets a new draft only if its numbers actually change. A week
    whose recompute is already queued and not yet started is left alone: that run will read the
    change too, so a busy morning of inspections queues one run, not one per inspection."""
    weeks = rollup_weeks_touched(campaign_id=campaign_id, moments=moments)
    if not weeks:  # the usual case of a submission: its week is not computed yet (one query)
        return []
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None or not campaign.active:  # an archived campaign's weeks stay as published
        return []
    waiting = set(
        JobRun.objects.filter(name=JOB_NAME, status=JobStatus.QUEUED, params__campaign=campaign_id).values_list(
            "params__week", flat=True
        )
    )
    return [rollup_enqueue(campaign=campaign, week=week, reason=reason) for week in weeks if week not in waiting]


# --- accountability cases ------------------------------------------------------------------------


LEVEL_BY_STREAK = {1: CaseLevel.REMIND, 2: CaseLevel.INTERVIEW}


def _black_streaks(version: RollupVersion, unit_ids: list[int]) -> dict[int, int]:
    """Weeks running on the 黑榜, this one included, from the published versions before it."""
    weeks = [iso_week_of(version.week_start - datetime.timedelta(days=7 * back)) for back in (1, 2)]
    previous = dict(
        RollupVersion.objects.filter(
            campaign_id=version.campaign_id, week__in=weeks, status=VersionStatus.PUBLISHED
        ).values_list("week", "pk")
    )
    black = set(
        UnitWeekScore.objects.filter(
            rollup_id__in=previous.values(), unit_id__in=unit_ids, board=BoardList.BLACK
        ).values_list("rollup_id", "unit_id")
    )
    streaks = {}
    for unit_id in unit_ids:
        streak = 1
        for week in weeks:
            if (previous.get(week), unit_id) in black:
                streak += 1
            else:
                break
        streaks[unit_id] = streak
    return streaks


def _evidence(version: RollupVersion, owners: Q, condition: Q) -> dict[int, list[int]]:
    """For every case unit of the version whose row matches `owners`: the first EVIDENCE_LIMIT
    problems (by deadline, then id) of the campaign meeting `condition` that the unit answers for
    (`problems_answered_by`)."""
    units = UnitWeekScore.objects.filter(owners, rollup=version, population__in=CASE_POPULATIONS).values("unit_id")
    return problems_answered_by(units=units, campaign=version.campaign, condition=condition)


def problems_answered_by(
    *, units: QuerySet, campaign: Campaign, condition: Q, limit: int | None = None, totals: dict | None = None
) -> dict[int, list[int]]:
    """Per unit of `units` (a queryset of one column, the units' ids): the first `limit` problems
    (by deadline, then id) of the campaign meeting `condition` that the unit answers for — located
    in or handled by its subtree (as inspections.selectors.responsible_q). One statement for all the
    units: the units' subtrees through a recursive walk down `parent` (the chain the materialised
    paths record), joined to the problems concerned on the located and the handling unit, numbered
    per unit with ROW_NUMBER(). `limit`: default EVIDENCE_LIMIT; `totals`, when given, is filled
    with each unit's number of such problems (all of them, not only the first `limit`)."""
    limit = EVIDENCE_LIMIT if limit is None else limit
    units, units_params = units.order_by().query.sql_with_params()
    problems, problems_params = (
        _problems(campaign)
        .filter(condition)
        .order_by()
        .values("pk", "unit_id", "handler_id", "deadline")
        .query.sql_with_params()
    )
    unit_table = connection.ops.quote_name(Unit._meta.db_table)
    statement = f"""
        WITH RECURSIVE subtree (owner, member) AS (
            SELECT o.unit_id, o.unit_id FROM ({units}) AS o
            UNION
            SELECT s.owner, u.id FROM subtree AS s JOIN {unit_table} AS u ON u.parent_id = s.member
        ),
        concerned (id, unit_id, handler_id, deadline) AS ({problems})
        SELECT e.owner, e.id, e.total FROM (
            SELECT c.owner, c.id, ROW_NUMBER() OVER (PARTITION BY c.owner ORDER BY c.deadline, c.id) AS n,
                   COUNT(*) OVER (PARTITION BY c.owner) AS total
            FROM (
                SELECT s.owner, p.id, p.deadline FROM subtree AS s JOIN concerned AS p ON p.unit_id = s.member
                UNION
                SELECT s.owner, p.id, p.deadline FROM subtree AS s JOIN concerned AS p ON p.handler_id = s.member
            ) AS c
        ) AS e
        WHERE e.n <= %s
        ORDER BY e.owner, e.n
    """
    evidence: dict[int, list[int]] = {}
    postgresql = connection.vendor == "postgresql"
    with transaction.atomic() if postgresql else contextlib.nullcontext(), connection.cursor() as cursor:
        if postgresql:
            # The planner's estimate of the recursive join is wild (millions of rows for thousands),
            # which makes PostgreSQL's JIT compile it: 350 ms of a 550 ms statement at megacity size.
            cursor.execute("SET LOCAL jit = off")
        cursor.execute(statement, [*units_params, *problems_params, limit])
        for owner, problem_id, total in cursor.fetchall():
            evidence.setdefault(owner, []).append(problem_id)
            if totals is not None:
                totals[owner] = total
    return evidence


CASE_FIELDS = ("level", "streak", "score", "reason", "evidence")


@transaction.atomic
def cases_raise(*, version: RollupVersion) -> list[AccountabilityCase]:
    """Apply the accountability rules to a published week: on the 黑榜 (提醒, two weeks running
    约谈, three 问责), too many overdue problems, a rebound, an open veto event, a 抽查复核 recorded
    不属实 that week (约谈; when the version's rule `recheck_failed_raises_case` is on), a 承诺事项
    open past its deadline at this week's end and the week before's (约谈; the rule
    `commitment_overdue_raises_case`, accountability.commitments). Each makes or
    updates the unit's case for that week and rule; a still-pending case whose rule no longer
    holds after a republish is withdrawn. Decided cases keep their decision.

    A fixed number of statements whatever the number of units and cases: the rows concerned, the
    black-list streaks (two), the evidence of each problem rule (one each, for all its units), the
    open veto events, the week's existing cases (locked), one UPDATE withdrawing the stale ones,
    then the new cases in one bulk INSERT and the existing ones in one bulk UPDATE."""
    campaign = version.campaign
    rules = version.rules
    threshold = rules["overdue_case_threshold"]
    _start, _end, monday, sunday = _week(version.week)
    sets = week_count_q(version.week)
    overdue, rebound = Q(overdue_open__gt=threshold), Q(rebounds__gt=0)
    # 抽查复核不属实: when the version's rules say so (older versions, recorded before the rule, do).
    recheck_rule = rules.get("recheck_failed_raises_case", True)
    failed = Q(rechecks_failed__gt=0) if recheck_rule else Q(pk__in=[])
    rows = list(
        UnitWeekScore.objects.filter(rollup=version, population__in=CASE_POPULATIONS).filter(
            Q(board=BoardList.BLACK) | overdue | rebound | failed
        )
    )
    streaks = _black_streaks(version, [row.unit_id for row in rows if row.board == BoardList.BLACK])
    overdue_problems = (
        _evidence(version, overdue, sets["overdue_open"]) if any(row.overdue_open > threshold for row in rows) else {}
    )
    rebound_problems = _evidence(version, rebound, sets["rebounds"]) if any(row.rebounds for row in rows) else {}
    failed_rows = [row for row in rows if recheck_rule and row.rechecks_failed]
    failed_problems = (
        _evidence(
            version,
            failed,
            Q(
                pk__in=ProblemEvent.objects.filter(action=Action.RECHECK_FAIL, at__gte=_start, at__lt=_end).values(
                    "problem_id"
                )
            ),
        )
        if failed_rows
        else {}
    )
    wanted: dict[tuple[int, str], dict] = {}
    for row in rows:
        if row.board == BoardList.BLACK:
            streak = streaks[row.unit_id]
            level = LEVEL_BY_STREAK.get(streak, CaseLevel.ACCOUNT)
            wanted[(row.unit_id, CaseRule.BLACK_LIST)] = {
                "level": level,
                "streak": streak,
                "score": row,
                "reason": _black_reason(row) + (f"连续 {streak} 周上黑榜" if streak > 1 else "本周上黑榜"),
                "evidence": {"scores": [row.pk]},
            }
        if row.overdue_open > threshold:
            wanted[(row.unit_id, CaseRule.OVERDUE)] = {
                "level": CaseLevel.INTERVIEW,
                "streak": 1,
                "score": row,
                "reason": f"周末超期未整改问题 {row.overdue_open} 个，超过 {threshold} 个",
                "evidence": {"scores": [row.pk], "problems": overdue_problems.get(row.unit_id, [])},
            }
        if row.rebounds:
            wanted[(row.unit_id, CaseRule.REBOUND)] = {
                "level": CaseLevel.REMIND,
                "streak": 1,
                "score": row,
                "reason": f"本周问题反弹 {row.rebounds} 个",
                "evidence": {"scores": [row.pk], "problems": rebound_problems.get(row.unit_id, [])},
            }
        if recheck_rule and row.rechecks_failed:
            wanted[(row.unit_id, CaseRule.RECHECK_FAILED)] = {
                "level": CaseLevel.INTERVIEW,
                "streak": 1,
                "score": row,
                "reason": f"本周抽查复核不属实 {row.rechecks_failed} 个（已销号问题经复核仍未整改到位）",
                "evidence": {"scores": [row.pk], "problems": failed_problems.get(row.unit_id, [])},
            }
    vetoes = week_veto_events(campaign=campaign, monday=monday, sunday=sunday).filter(unit__kind__in=CASE_POPULATIONS)
    for event in vetoes:
        key = (event.unit_id, CaseRule.VETO)
        case = wanted.setdefault(
            key,
            {
                "level": CaseLevel.ACCOUNT,
                "streak": 1,
                "score": None,
                "reason": "本周存在一票否决事项：",
                "evidence": {"risk_events": []},
            },
        )
        case["reason"] += ("" if case["evidence"]["risk_events"] == [] else "、") + event.item.title[:40]
        case["evidence"]["risk_events"].append(event.pk)
    # 承诺事项: open past its deadline at this week's end and the week before's (the version's rule).
    if rules.get("commitment_overdue_raises_case", True):
        late = commitments_overdue_twice(campaign=campaign, week=version.week)
        scores = (
            {score.unit_id: score for score in UnitWeekScore.objects.filter(rollup=version, unit_id__in=list(late))}
            if late
            else {}
        )
        for unit_id, ids in late.items():
            score = scores.get(unit_id)
            wanted[(unit_id, CaseRule.COMMITMENT_OVERDUE)] = {
                "level": CaseLevel.INTERVIEW,
                "streak": 2,
                "score": score,
                "reason": f"承诺事项连续两周逾期未完成 {len(ids)} 项",
                "evidence": {"scores": [score.pk] if score else [], "commitments": ids},
            }

    existing = {
        (case.unit_id, case.rule): case
        for case in AccountabilityCase.objects.select_for_update().filter(campaign=campaign, week=version.week)
    }
    kept = [case.pk for key, case in existing.items() if key in wanted]
    AccountabilityCase.objects.filter(campaign=campaign, week=version.week, status=CaseStatus.PENDING).exclude(
        pk__in=kept
    ).update(status=CaseStatus.WITHDRAWN, decision_note="重新发布后不再满足立案条件，自动撤销。")
    now = timezone.now()
    cases, new, changed = [], [], []
    for (unit_id, rule), values in wanted.items():
        values["reason"] = values["reason"][:300]
        case = existing.get((unit_id, rule))
        if case is None:
            case = AccountabilityCase(campaign=campaign, week=version.week, unit_id=unit_id, rule=rule, **values)
            new.append(case)
        else:
            for name, value in values.items():
                setattr(case, name, value)
            if case.status == CaseStatus.WITHDRAWN and not case.decided_by_id:
                case.status = CaseStatus.PENDING
            case.updated_at = now
            changed.append(case)
        cases.append(case)
    AccountabilityCase.objects.bulk_create(new, batch_size=1000)
    _cases_update(changed, now)
    _cases_notify(version, new)
    return cases


def _cases_notify(version: RollupVersion, cases: list[AccountabilityCase]) -> None:
    """Tell each new case's unit (its liaisons and group robots), once per case: one notify call
    for all of them (a fixed number of statements, accountability.notify)."""
    if not cases:
        return
    from django.urls import reverse

    label = week_label(version.week)
    notify_many(
        [
            {
                "units": [case.unit_id],
                "kind": NotificationKind.CASE,
                "message": f"{label}问责事项：{CaseRule(case.rule).label}，建议{CaseLevel(case.level).label}。{case.reason}",
                "url": reverse("case-detail", args=[case.pk]),
                "key": f"case:{case.pk}",
                "campaign": version.campaign_id,
            }
            for case in cases
        ]
    )


def _black_reason(row: UnitWeekScore) -> str:
    if row.vetoed:
        titles = "、".join(event["title"][:40] for event in row.veto_events)
        return f"一票否决（{titles}），名次记为否决，"
    return f"综合分 {row.composite}，第 {row.rank} 名，"


def _cases_update(cases: list[AccountabilityCase], now: datetime.datetime) -> None:
    """The existing cases' new values in one UPDATE … FROM (VALUES …) per 1,000 cases: bulk_update's
    CASE per field and row cost 2 s of Python for the 390 cases of a city's week."""
    meta = AccountabilityCase._meta
    fields = [meta.get_field(name) for name in (*CASE_FIELDS, "status")]
    table = connection.ops.quote_name(meta.db_table)
    assignments = ", ".join(
        f"{connection.ops.quote_name(field.column)} = CAST(v.column{index} AS {field.cast_db_type(connection)})"
        for index, field in enumerate(fields, start=2)
    )
    updated_at = meta.get_field("updated_at")
    row = "(" + ", ".join(["%s"] * (len(fields) + 1)) + ")"
    for start in range(0, len(cases), 1000):
        batch = cases[start : start + 1000]
        params = [updated_at.get_db_prep_save(now, connection)]
        for case in batch:
            params.append(case.pk)
            params += [field.get_db_prep_save(getattr(case, field.attname), connection) for field in fields]
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {assignments}, {connection.ops.quote_name(updated_at.column)} = %s "
                f"FROM (VALUES {', '.join([row] * len(batch))}) AS v WHERE {table}.id = v.column1",
                params,
            )


DECISIONS = (CaseStatus.INTERVIEWED, CaseStatus.NOTIFIED, CaseStatus.HELD, CaseStatus.WITHDRAWN)


@transaction.atomic
def case_decide(*, case: AccountabilityCase, status: str, note: str, user) -> AccountabilityCase:
    """The office records the outcome of a pending case: 已约谈 / 已通报 / 已问责 / 撤销."""
    if not scope_for(user).is_office:
        raise PermissionDenied("只有创建办可以处理问责事项。")
    case = AccountabilityCase.objects.select_for_update().get(pk=case.pk)
    if status not in DECISIONS:
        raise ValidationError({"status": "处理结果应为已约谈、已通报、已问责或撤销。"})
    if case.status != CaseStatus.PENDING:
        raise ValidationError({"status": f"该事项已处理（{case.get_status_display()}），不能再次处理。"})
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": "请填写处理情况。"})
    case.status, case.decision_note, case.decided_by, case.decided_at = status, note, user, timezone.now()
    case.save(update_fields=["status", "decision_note", "decided_by", "decided_at", "updated_at"])
    return case


def observations_changed_receiver(sender, *, campaign_id: int, moments, reason: str = "", **kwargs) -> None:
    """inspections.signals.observations_changed → recompute the computed weeks concerned."""
    rollup_refresh(campaign_id=campaign_id, moments=moments, reason=reason)
