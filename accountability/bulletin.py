"""The weekly bulletin (周通报) of a published week: the data, read with a fixed number of queries
whatever the size of the city, and its three renderings — the A4 page (shared by the print page
and the PDF), the PDF (WeasyPrint) and the Excel workbook. The PDF and the workbook are rendered
once per published version by a background job and stored (`bulletin_store.py`); the printed
forms keep to what a reader reads (the long street and community tables, the week's problem list
and a long overdue list are complete in the workbook only).

The bulletin reads the published snapshot rows as they were published; the problem lists (found
that week, overdue at the week's end) read the problems themselves, as of the week's end where the
rows keep their history (closing time), and as they are now where they do not (shelving)."""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import quote, unquote

from django.core.files.storage import default_storage
from django.db.models import Case, Count, F, IntegerField, Min, Q, Sum, Value, When, Window
from django.db.models.functions import RowNumber
from django.template.loader import render_to_string
from django.utils import timezone

from campaign.choices import UnitKind
from campaign.exporting import append_row
from campaign.models import Unit
from campaign.selectors import scope_for
from inspections.choices import ProblemStatus, Severity
from inspections.models import Photo, Problem
from inspections.selectors import iso_week_bounds, week_label

from .choices import RANKED_POPULATIONS, BoardList, CaseLevel, CaseRule, CaseStatus, Population, VersionStatus
from .models import AccountabilityCase, Appeal, AppealStatus, RollupVersion, UnitWeekScore

# How much the printed bulletin (print page and PDF) shows of the long lists; the workbook always
# has everything. Districts, departments, the 红黑榜 and the cases print in full.
LONG_POPULATIONS = (Population.STREET, Population.COMMUNITY)
PRINT_EDGE_ROWS = 10  # the street and community tables: the first and the last ten ranked
# A 红榜 or 黑榜 longer than this (ties: a thousand communities at full marks share rank 1) prints
# this many names and the count; the workbook's “红黑榜” sheet has every one.
PRINT_BOARD_ROWS = 20
# More cases than this print as names grouped by rule and level (every unit named), not one row each.
PRINT_CASE_ROWS = 30
PRINT_UNRANKED_NAMES = 20  # name the 样本不足 units of a long table up to this many, else count them
PRINT_PROBLEMS_PER_DISTRICT = 6
# A city of many districts: one row of three photo cards each (16 districts: 3 pages, not 8).
MANY_DISTRICTS, PRINT_PROBLEMS_PER_DISTRICT_MANY = 4, 3
# The overdue problems: every one is counted in the per-district table; listed one by one in full up
# to this many, else the longest overdue this many (a city can have ten thousand: 300 pages).
PRINT_OVERDUE_ROWS = 30
LONG_OVERDUE_DAYS = 30

SHEET_NAMES = {
    Population.DISTRICT: "区县排名",
    Population.STREET: "街道排名",
    Population.COMMUNITY: "社区排名",
    Population.DEPARTMENT: "部门排名",
    Population.DISTRICT_DEPARTMENT: "区直部门排名",
}

PDF_MEDIA_SCHEME = "bulletin-media"


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NOT_PUBLISHED = "没有已发布的周通报（周评比发布后才有周通报）。"


def may_read_bulletins(user) -> bool:
    """A bulletin is a 通报 within the government: every member, whatever the role, reads it."""
    scope = scope_for(user)
    return bool(scope.roles) or scope.is_superuser


# --- The data ---------------------------------------------------------------------------------


@dataclass
class SummaryItem:
    """One citywide number of the week beside last published week's."""

    key: str
    label: str
    kind: str  # "count" or "rate"
    value: Decimal | int | None
    previous: Decimal | int | None
    # +1 when a rise is good news, -1 when it is bad news, 0 when it is neither.
    good_when_up: int = 0

    @property
    def delta(self) -> Decimal | int | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def display(self) -> str:
        return fmt_rate(self.value) if self.kind == "rate" else fmt_count(self.value)

    @property
    def previous_display(self) -> str:
        return fmt_rate(self.previous) if self.kind == "rate" else fmt_count(self.previous)

    @property
    def delta_display(self) -> str:
        delta = self.delta
        if delta is None:
            return "—"
        if delta == 0:
            return "持平"
        if self.kind == "rate":
            return f"{delta * 100:+.1f}个百分点"
        return f"{delta:+d}"

    @property
    def trend(self) -> str:
        """ "good", "bad" or "" — for the colour of the change."""
        delta = self.delta
        if not delta or not self.good_when_up:
            return ""
        return "good" if (delta > 0) == (self.good_when_up > 0) else "bad"


@dataclass
class Ranking:
    """A population's table. Rows are dicts read with `.values()` (see `_RANK_FIELDS`)."""

    population: str
    label: str
    rows: list[dict]  # what was read, ranked by rank, then 样本不足 (all of them in the workbook)
    print_top: list[dict]
    print_bottom: list[dict]  # empty unless the printed table is cut in the middle
    ranked_count: int
    unranked_count: int
    note: str = ""
    vetoed_count: int = 0

    @property
    def sheet(self) -> str:
        return SHEET_NAMES[self.population]

    @property
    def truncated(self) -> bool:
        return bool(self.print_bottom)

    @property
    def middle_count(self) -> int:
        """Ranked units the printed table leaves out between its top and its bottom."""
        return self.ranked_count - len(self.print_top) - len(self.print_bottom) if self.truncated else 0


@dataclass
class Board:
    population: str
    label: str
    red: list[dict]  # printed: at most PRINT_BOARD_ROWS; the workbook: all
    black: list[dict]
    red_count: int = 0
    black_count: int = 0

    @property
    def red_hidden(self) -> int:
        return self.red_count - len(self.red)

    @property
    def black_hidden(self) -> int:
        return self.black_count - len(self.black)


@dataclass
class CaseGroup:
    """The cases of one rule and level, for a printed bulletin with many cases."""

    rule_display: str
    level: str
    level_display: str
    units: list[str]


@dataclass
class ProblemCard:
    problem: dict  # see `_CARD_FIELDS`
    thumb: dict | None  # {"pk", "thumbnail"} of the problem's first photo
    src: str = ""  # set by the renderer: a page URL or the PDF's storage URL


@dataclass
class DistrictProblems:
    district_id: int | None  # None: problems located outside every district
    name: str
    total: int = 0
    severe: int = 0
    rebounds: int = 0
    closed: int = 0
    deduction: Decimal = Decimal(0)
    cards: list[ProblemCard] = field(default_factory=list)

    @property
    def hidden(self) -> int:
        return self.total - len(self.cards)


def fmt_rate(value) -> str:
    return "—" if value is None else f"{Decimal(value) * 100:.1f}%"


def fmt_count(value) -> str:
    return "—" if value is None else str(value)


def rank_change_display(change: int | None, rank: int | None) -> str:
    if rank is None:
        return ""
    if change is None:
        return "新"
    if change == 0:
        return "—"
    return f"↑{change}" if change > 0 else f"↓{-change}"


SUMMARY_FIELDS = [
    ("observations", "督查观测", "count", 0),
    ("failing_observations", "不合格", "count", -1),
    ("score_rate", "得分率", "rate", 1),
    ("problems_opened", "新发现问题", "count", -1),
    ("problems_due", "本周到期", "count", 0),
    ("on_time_rate", "按期整改率", "rate", 1),
    ("overdue_open", "周末超期未改", "count", -1),
    ("rebounds", "问题反弹", "count", -1),
]


def _previous_version(version: RollupVersion) -> RollupVersion | None:
    return (
        RollupVersion.objects.filter(
            campaign_id=version.campaign_id, status=VersionStatus.PUBLISHED, week_start__lt=version.week_start
        )
        .order_by("-week_start")
        .first()
    )


def _district_of(districts: list[dict]) -> Case:
    """The district a problem's located unit lies in, as an SQL expression (NULL outside all)."""
    return Case(
        *[When(unit__path__startswith=district["path"], then=Value(district["pk"])) for district in districts],
        default=Value(None),
        output_field=IntegerField(),
    )


# What a ranking row reads: the snapshot's numbers and the unit's names, no model instances.
_RANK_FIELDS = {
    "unit_name": F("unit__name"),
    "unit_path": F("unit__path"),
    "parent_name": F("unit__parent__name"),
    "grandparent_name": F("unit__parent__parent__name"),
}
_RANK_METRICS = (
    "unit_id", "population", "composite", "score_rate", "observations", "failing_observations",
    "deduction_points", "problems_opened", "problems_due", "closed_on_time", "on_time_rate",
    "rework_count", "overdue_open", "rebounds", "rank", "rank_change", "board", "vetoed", "veto_events",
    "evidence_flagged", "rechecks_failed",
)  # fmt: skip
_PROBLEM_FIELDS = {
    "unit_name": F("unit__name"),
    "point_name": F("point__name"),
    "handler_name": F("handler__name"),
}
_CARD_FIELDS = ("pk", "description", "severity", "deduction", "rebound_of_id", "district_id")
_OVERDUE_FIELDS = ("pk", "description", "found_at", "deadline", "rework_count", "status", "district_id")
_LIST_FIELDS = (
    "pk", "description", "severity", "deduction", "found_at", "status", "deadline", "rebound_of_id",
    "district_id", "photo_count",
)  # fmt: skip


def _dress(row: dict) -> dict:
    """The printed forms of a ranking row's numbers."""
    row["score_rate_display"] = fmt_rate(row["score_rate"])
    row["on_time_rate_display"] = fmt_rate(row["on_time_rate"])
    row["change_display"] = rank_change_display(row["rank_change"], row["rank"])
    row["rank_display"] = "否决" if row["vetoed"] else row["rank"] if row["rank"] is not None else "样本不足"
    row["veto_display"] = "；".join(
        f"{event['title']}（{event['occurred_on']}发生，{'本周内已解决' if event['status'] == 'resolved' else '未解决'}）"
        for event in row["veto_events"] or []
    )
    change = row["rank_change"] or 0
    row["change_class"] = "up" if change > 0 and row["rank"] else "down" if change < 0 else ""
    return row


def _ranking(population: str, rows: list[dict], counts: dict, min_sample, *, workbook: str) -> Ranking:
    """A population's table. The workbook has every row; the printed one has the ranked rows — for
    the long tables (streets, communities) only the first and the last ten — then every vetoed row
    (一票否决: at the bottom of the ranking, whatever its composite), and names the 样本不足 units in
    a note (counts them when they are many)."""
    ranked = [row for row in rows if row["rank"] is not None]
    vetoed = [row for row in rows if row["rank"] is None and row["vetoed"]]
    unranked = [row for row in rows if row["rank"] is None and not row["vetoed"]]
    ranked_count, unranked_count = counts.get("ranked", 0), counts.get("unranked", 0)
    label = Population(population).label
    ranking = Ranking(
        population=population,
        label=label,
        rows=ranked + vetoed + unranked,
        print_top=ranked + vetoed,
        print_bottom=[],
        ranked_count=ranked_count,
        unranked_count=unranked_count,
        vetoed_count=counts.get("vetoed", 0),
    )
    notes = []
    if _cut(population, ranked_count):
        # By place in the ranked order, not by rank: units tied on a rank count one place each.
        bottom_from = ranked_count - PRINT_EDGE_ROWS
        ranking.print_top = [row for row in ranked if row["place"] <= PRINT_EDGE_ROWS]
        ranking.print_bottom = [row for row in ranked if row["place"] > bottom_from] + vetoed
        cut = f"共{ranked_count}个{label}参与排名，此处列出前{PRINT_EDGE_ROWS}名和后{PRINT_EDGE_ROWS}名"
        shown = ranking.print_top + ranking.print_bottom
        ties = {
            row["rank"]: f"第{row['rank']}名并列{row['tied']}个"
            for row in (ranking.print_top[-1:] + ranking.print_bottom[:1])
            if row["tied"] > sum(1 for other in shown if other["rank"] == row["rank"])
        }
        notes.append(cut + (f"（{'，'.join(ties.values())}，未全部列出）" if ties else ""))
    if vetoed:
        names = "；".join(f"{row['unit_name']}：{row['veto_display']}" for row in vetoed)
        notes.append(f"一票否决的{len(vetoed)}个单位不论综合分，名次记为“否决”，排在最后并列入黑榜（{names}）")
    if unranked_count:
        why = f"观测少于{min_sample}个" if min_sample else "样本不足"
        if _names_unranked(population, unranked_count):
            names = "、".join(row["unit_name"] for row in unranked)
            notes.append(f"本周{why}、不参与排名的{unranked_count}个单位：{names}")
        else:
            notes.append(f"另有{unranked_count}个{label}本周{why}，不参与排名")
    if notes:
        where = f"；完整排名见 Excel 附表“{SHEET_NAMES[population]}”（{workbook}）。"
        ranking.note = "；".join(notes) + (where if ranking.truncated or population in LONG_POPULATIONS else "。")
    return ranking


def _cut(population: str, ranked_count: int) -> bool:
    return population in LONG_POPULATIONS and ranked_count > 2 * PRINT_EDGE_ROWS


def _names_unranked(population: str, unranked_count: int) -> bool:
    return population not in LONG_POPULATIONS or unranked_count <= PRINT_UNRANKED_NAMES


def _lead(city: dict | None, summary: list[SummaryItem]) -> str:
    """The opening sentence of the bulletin, in the office's words."""
    if city is None:
        return "本周没有全市汇总数据。"
    items = {item.key: item for item in summary}

    def with_change(key: str) -> str:
        item = items[key]
        if item.delta is None:
            return item.display
        return f"{item.display}（较上周{item.delta_display}）" if item.delta else f"{item.display}（与上周持平）"

    parts = [
        f"本周全市共督查观测{city['observations']}项，不合格{city['failing_observations']}项，"
        f"得分率{with_change('score_rate')}",
        f"新发现问题{with_change('problems_opened')}个",
    ]
    if city["problems_due"]:
        parts.append(f"本周到期{city['problems_due']}个，按期整改率{with_change('on_time_rate')}")
    parts.append(f"周末超期未改{with_change('overdue_open')}个")
    if city["rebounds"]:
        parts.append(f"问题反弹{city['rebounds']}个")
    return "，".join(parts) + "。"


def bulletin_data(*, version: RollupVersion, full: bool = False) -> dict:
    """Everything the bulletin shows, read as plain rows (`.values()`) and SQL aggregates, in a
    fixed number of queries whatever the size of the city — never a model instance per row:
    the campaign (unless already joined), the previous published week, the two citywide rows, the
    ranked/unranked counts per population, the ranking rows, the districts, the per-district
    counts of the week's problems, then

    - printed (`full=False`: the print page and the PDF, 11 queries): of the ranking rows only
      those printed — districts and departments, the first and last ten streets and communities,
      every 红黑榜 row, the 样本不足 names; the first problems of each district (a window
      function) and their first photos; the overdue problems per district and the longest overdue;
    - the workbook (`full=True`, 10 queries): every ranking row, the week's whole problem list,
      the overdue problems per district and every overdue problem;

    and the week's accountability cases in full either way."""
    campaign = version.campaign  # 1 (none when the caller joined it)
    start, end = iso_week_bounds(version.week)
    previous = _previous_version(version)  # 2
    workbook = bulletin_filename(version, "xlsx")

    city_rows = {  # 3
        row["rollup_id"]: row
        for row in UnitWeekScore.objects.filter(
            rollup_id__in=[version.pk] + ([previous.pk] if previous else []), unit__isnull=True
        ).values("rollup_id", *(key for key, *_ in SUMMARY_FIELDS))
    }
    city = city_rows.get(version.pk)
    previous_city = city_rows.get(previous.pk) if previous else None
    summary = [
        SummaryItem(
            key=key,
            label=label,
            kind=kind,
            value=city[key] if city else None,
            previous=previous_city[key] if previous_city else None,
            good_when_up=good,
        )
        for key, label, kind, good in SUMMARY_FIELDS
    ]

    scores = UnitWeekScore.objects.filter(rollup=version, unit__isnull=False)
    counts = {  # 4
        row["population"]: row
        for row in scores.order_by()
        .values("population")
        .annotate(
            ranked=Count("pk", filter=Q(rank__isnull=False)),
            unranked=Count("pk", filter=Q(rank__isnull=True, vetoed=False)),
            vetoed=Count("pk", filter=Q(vetoed=True)),
            red=Count("pk", filter=Q(board=BoardList.RED)),
            black=Count("pk", filter=Q(board=BoardList.BLACK)),
        )
    }
    # Each row's place in its table (ties broken by score, then by the unit tree; the vetoed after
    # the ranked), its place on its board (a 黑榜 from the bottom up: the vetoed first), and how many
    # units share its rank.
    in_order = [
        F("rank").asc(nulls_last=True),
        F("vetoed").desc(),
        F("composite").desc(nulls_last=True),
        F("unit__path"),
    ]
    from_bottom = Case(
        When(vetoed=True, then=Value(-1_000_000)),
        When(board=BoardList.BLACK, then=-F("rank")),
        default=F("rank"),
        output_field=IntegerField(),
    )
    scores = scores.annotate(
        place=Window(RowNumber(), partition_by=[F("population")], order_by=in_order),
        board_place=Window(
            RowNumber(), partition_by=[F("population"), F("board")], order_by=[from_bottom, F("unit__path")]
        ),
        tied=Window(Count("pk"), partition_by=[F("population"), F("rank")]),
    )
    if not full:
        # One condition on the window values (SQL cannot filter on them with OR and plain columns).
        printed = [When(~Q(board="") & Q(board_place__lte=PRINT_BOARD_ROWS), then=Value(1))]
        for population in RANKED_POPULATIONS:
            count = counts.get(population, {})
            ranked, unranked = count.get("ranked", 0), count.get("unranked", 0)
            shown = Q(population=population, rank__isnull=False)
            if _cut(population, ranked):
                shown &= Q(place__lte=PRINT_EDGE_ROWS) | Q(place__gt=ranked - PRINT_EDGE_ROWS)
            printed.append(When(shown, then=Value(1)))
            printed.append(When(Q(population=population, vetoed=True), then=Value(1)))  # every vetoed row
            if unranked and _names_unranked(population, unranked):
                printed.append(When(Q(population=population, rank__isnull=True, vetoed=False), then=Value(1)))
        scores = scores.annotate(printed=Case(*printed, default=Value(0), output_field=IntegerField())).filter(
            printed=1
        )
    by_population: dict[str, list[dict]] = {p: [] for p in RANKED_POPULATIONS}
    rows = scores.values(*_RANK_METRICS, "place", "board_place", "tied", **_RANK_FIELDS).order_by("population", "place")
    for row in rows:  # 5
        by_population.setdefault(row["population"], []).append(_dress(row))
    min_sample = (version.rules or {}).get("min_sample")
    rankings = [
        _ranking(p, by_population[p], counts.get(p, {}), min_sample, workbook=workbook)
        for p in RANKED_POPULATIONS
        # The 区直部门 have a section only in a week that ranks some (a city without them shows none).
        if p != Population.DISTRICT_DEPARTMENT or counts.get(p)
    ]
    boards = []
    for ranking in rankings:
        listed = {BoardList.RED: [], BoardList.BLACK: []}
        for row in ranking.rows:
            if row["board"] in listed and (full or row["board_place"] <= PRINT_BOARD_ROWS):
                listed[row["board"]].append(row)
        count = counts.get(ranking.population, {})
        boards.append(
            Board(
                population=ranking.population,
                label=ranking.label,
                red=sorted(listed[BoardList.RED], key=lambda row: row["board_place"]),
                black=sorted(listed[BoardList.BLACK], key=lambda row: row["board_place"]),
                red_count=count.get("red", 0),
                black_count=count.get("black", 0),
            )
        )

    districts = list(  # 6
        Unit.objects.filter(kind=UnitKind.DISTRICT, active=True).order_by("path").values("pk", "name", "path")
    )
    district_of = _district_of(districts)
    district_names = {district["pk"]: district["name"] for district in districts}
    week_problems = Problem.objects.filter(
        campaign_id=version.campaign_id, found_at__gte=start, found_at__lt=end
    ).exclude(status=ProblemStatus.VOID)
    groups = {
        district["pk"]: DistrictProblems(district_id=district["pk"], name=district["name"]) for district in districts
    }
    groups[None] = DistrictProblems(district_id=None, name="未归属区县")
    for row in (  # 7
        week_problems.annotate(district_id=district_of)
        .order_by()
        .values("district_id")
        .annotate(
            total=Count("pk"),
            severe=Count("pk", filter=Q(severity=Severity.SEVERE)),
            rebounds=Count("pk", filter=Q(rebound_of__isnull=False)),
            closed=Count("pk", filter=Q(status=ProblemStatus.CLOSED)),
            deduction=Sum("deduction"),
        )
    ):
        group = groups[row["district_id"]]
        group.total, group.severe, group.rebounds = row["total"], row["severe"], row["rebounds"]
        group.closed, group.deduction = row["closed"], row["deduction"] or Decimal(0)
    district_groups = [groups[district["pk"]] for district in districts]
    if groups[None].total:
        district_groups.append(groups[None])

    problems: list[dict] = []
    per_district = PRINT_PROBLEMS_PER_DISTRICT
    if full:
        problems = list(  # 8 (workbook)
            week_problems.annotate(district_id=district_of, photo_count=Count("photos"))
            .values(*_LIST_FIELDS, check_item_text=F("check_item__text"), **_PROBLEM_FIELDS)
            .order_by("found_at", "pk")
        )
        for problem in problems:
            problem["district_name"] = district_names.get(problem["district_id"], "")
    else:
        # The printed cards: severe first, then the costliest, and of equals those with a photo.
        per_district = PRINT_PROBLEMS_PER_DISTRICT_MANY if len(districts) > MANY_DISTRICTS else per_district
        order = [F("severity").desc(), F("deduction").desc(), F("photo_count").desc(), F("found_at"), F("pk")]
        cards = list(  # 8 (printed)
            week_problems.annotate(district_id=district_of, photo_count=Count("photos"))
            .annotate(place=Window(RowNumber(), partition_by=[F("district_id")], order_by=order))
            .filter(place__lte=per_district)
            .values(*_CARD_FIELDS, "place", **_PROBLEM_FIELDS)
            .order_by("district_id", "place")
        )
        first_photo: dict[int, dict] = {}
        if cards:  # 9 (printed)
            for photo in (
                Photo.objects.filter(problems__in=[card["pk"] for card in cards])
                .order_by("uploaded_at", "pk")
                .values("pk", "thumbnail", problem_id=F("problems"))
            ):
                first_photo.setdefault(photo["problem_id"], photo)
        for card in sorted(cards, key=lambda card: card["place"]):
            groups[card["district_id"]].cards.append(ProblemCard(problem=card, thumb=first_photo.get(card["pk"])))

    overdue_problems = (
        Problem.objects.filter(
            campaign_id=version.campaign_id,
            found_at__lt=end,
            deadline__lte=version.week_end,
            shelved=False,
        )
        .exclude(status=ProblemStatus.VOID)
        .filter(Q(closed_at__isnull=True) | Q(closed_at__gte=end))
        .annotate(district_id=district_of)
    )
    month_ago = version.week_end - datetime.timedelta(days=LONG_OVERDUE_DAYS)
    overdue_districts = {  # 9 / 10: every overdue problem counted under its district
        row["district_id"]: row
        for row in overdue_problems.order_by()
        .values("district_id")
        .annotate(total=Count("pk"), long=Count("pk", filter=Q(deadline__lt=month_ago)), oldest=Min("deadline"))
    }
    overdue_summary = [
        {
            "name": name,
            "total": row["total"],
            "long": row["long"],
            "days": (version.week_end - row["oldest"]).days,
        }
        for pk, name in [*district_names.items(), (None, "未归属区县")]
        if (row := overdue_districts.get(pk))
    ]
    overdue_rows = overdue_problems.values(*_OVERDUE_FIELDS, **_PROBLEM_FIELDS).order_by("deadline", "pk")
    overdue = list(overdue_rows if full else overdue_rows[:PRINT_OVERDUE_ROWS])  # 10 / 11
    for problem in overdue:
        problem["district_name"] = district_names.get(problem["district_id"], "")
        problem["days_overdue"] = (version.week_end - problem["deadline"]).days
        problem["status_display"] = ProblemStatus(problem["status"]).label

    cases = list(  # 11 / 12
        AccountabilityCase.objects.filter(campaign_id=version.campaign_id, week=version.week)
        .exclude(status=CaseStatus.WITHDRAWN)
        .values("pk", "rule", "level", "streak", "reason", "status", "decision_note", unit_name=F("unit__name"))
        .order_by(
            Case(
                When(level=CaseLevel.ACCOUNT, then=Value(0)),
                When(level=CaseLevel.INTERVIEW, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            ),
            "unit__path",
            "rule",
        )
    )
    case_groups: dict[tuple, CaseGroup] = {}
    for case in cases:
        case["rule_display"] = CaseRule(case["rule"]).label
        case["level_display"] = CaseLevel(case["level"]).label
        case["status_display"] = CaseStatus(case["status"]).label
        group = case_groups.setdefault(
            (case["level"], case["rule"]),
            CaseGroup(case["rule_display"], case["level"], case["level_display"], []),
        )
        group.units.append(case["unit_name"] + (f"（连续{case['streak']}周）" if case["streak"] > 1 else ""))

    appeals_granted = list(  # 12 / 13: the week's granted 申诉 (their observations no longer count)
        Appeal.objects.filter(campaign_id=version.campaign_id, week=version.week, status=AppealStatus.GRANTED)
        .values(
            "decision_note",
            unit_name=F("unit__name"),
            point_name=F("observation__point__name"),
            item_text=F("observation__check_item__text"),
            deduction=F("observation__deduction"),
        )
        .order_by("unit__path", "pk")
    )

    return {
        "version": version,
        "campaign": campaign,
        "week": version.week,
        "week_label": week_label(version.week),
        "title": f"{campaign.name}周通报",
        "full": full,
        "workbook_name": workbook,
        "previous": previous,
        "previous_week_label": week_label(previous.week) if previous else "",
        "city": city,
        "previous_city": previous_city,
        "summary": summary,
        "lead": _lead(city, summary),
        "rankings": rankings,
        "truncated_labels": "、".join(ranking.label for ranking in rankings if ranking.truncated),
        "print_edge_rows": PRINT_EDGE_ROWS,
        "boards": boards,
        "board_rules": _board_rules(version.rules),
        "districts": district_groups,
        "problems": problems,
        "problem_total": sum(group.total for group in district_groups),
        "overdue": overdue,
        "overdue_total": sum(row["total"] for row in overdue_summary),
        "overdue_summary": overdue_summary,
        "long_overdue_days": LONG_OVERDUE_DAYS,
        "print_overdue_rows": PRINT_OVERDUE_ROWS,
        "cases": cases,
        "appeals_granted": appeals_granted,
        # Many cases: printed as the units of each rule and level (the workbook has each case).
        "case_groups": list(case_groups.values()) if len(cases) > PRINT_CASE_ROWS else [],
        "print_board_rows": PRINT_BOARD_ROWS,
        "print_problems_per_district": per_district,
    }


def _board_rules(rules: dict) -> str:
    """The 红黑榜 rule the week was computed with (the keys the roll-up records on the version),
    and the 一票否决 rule the roll-up applies to every week."""
    rules = rules or {}
    veto = "一票否决的单位不论综合分列入黑榜、不上红榜。"
    if rules.get("board_mode") == "threshold" and rules.get("red_line") and rules.get("black_line"):
        return f"红榜：综合分 ≥ {rules['red_line']}；黑榜：综合分 < {rules['black_line']}。样本不足的单位不上榜；{veto}"
    if rules.get("board_k"):
        return (
            f"红榜：各类别前 {rules['board_k']} 名；黑榜：各类别后 {rules['board_k']} 名。样本不足的单位不上榜；{veto}"
        )
    return f"样本不足的单位不上榜；{veto}"


# --- The page and the PDF ----------------------------------------------------------------------


# Where the print page's per-reader toolbar goes in the page (the same for every reader otherwise).
TOOLBAR_MARK = "<!-- bulletin-toolbar -->"


def bulletin_html(*, data: dict, for_pdf: bool = False, photo_url=None) -> str:
    """The A4 page. `photo_url(photo_id)` gives the browser's address of a thumbnail; the PDF reads
    thumbnails from storage instead (see `StorageFetcher`). The screen page has `TOOLBAR_MARK`
    where the view puts the reader's toolbar."""
    for group in data["districts"]:
        for card in group.cards:
            if card.thumb is None:
                card.src = ""
            elif for_pdf:
                card.src = f"{PDF_MEDIA_SCHEME}:{quote(card.thumb['thumbnail'])}"
            else:
                card.src = photo_url(card.thumb["pk"]) if photo_url else ""
    context = {**data, "for_pdf": for_pdf, "toolbar_mark": TOOLBAR_MARK, "generated_at": timezone.localtime()}
    # No request: the page is standalone, so the layout's context processors (and their queries) are not needed.
    return render_to_string("accountability/bulletin.html", context)


def _keep_truncated_images_refused() -> None:
    """Import WeasyPrint without its side effect: importing it sets Pillow's process-wide
    `ImageFile.LOAD_TRUNCATED_IMAGES = True`, after which a truncated upload would decode (padded
    grey) and be accepted as a photo by every later request of the process. The bulletin only embeds
    our own thumbnails, which are whole, so the flag is put back."""
    from PIL import ImageFile

    try:
        import weasyprint.images  # noqa: F401 - the import that sets the flag
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = False


def _storage_fetcher():
    """A WeasyPrint URL fetcher that reads only our own storage: never the network, never an
    arbitrary file. Thumbnails come from `default_storage` (a shared disk or object storage)."""
    _keep_truncated_images_refused()
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StorageFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            if url.startswith(f"{PDF_MEDIA_SCHEME}:"):
                name = unquote(url[len(PDF_MEDIA_SCHEME) + 1 :])
                if ".." in name.split("/"):
                    raise ValueError("非法的文件路径。")
                with default_storage.open(name, "rb") as handle:
                    return URLFetcherResponse(url, handle.read(), {"Content-Type": "image/jpeg"})
            if url.startswith("data:"):
                return super().fetch(url, headers)
            raise ValueError(f"周通报不读取外部资源：{url}")

    return StorageFetcher()


class PdfUnavailable(Exception):
    """WeasyPrint or the system libraries it needs (pango) are missing on this server."""

    message = "服务器缺少生成 PDF 所需的组件（WeasyPrint 与 pango），请联系管理员安装；可先使用打印页或 Excel。"


def bulletin_pdf(*, version: RollupVersion, data: dict | None = None, html: str | None = None, request=None) -> bytes:
    """The printed bulletin as an A4 PDF (WeasyPrint), made by the render job (`bulletin_store`).
    `request` is accepted and ignored: the PDF reads nothing over HTTP (see `StorageFetcher`)."""
    try:
        _keep_truncated_images_refused()
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # OSError: pango cannot be loaded
        raise PdfUnavailable(PdfUnavailable.message) from exc

    if html is None:
        html = bulletin_html(data=data or bulletin_data(version=version), for_pdf=True)
    return HTML(string=html, base_url="http://localhost/", url_fetcher=_storage_fetcher()).write_pdf()


def bulletin_filename(version: RollupVersion, extension: str) -> str:
    """'创建全国文明城市-2026年第47周-周通报.pdf': the week shown as a reader reads it, always with its
    year (a file outlives its year); the ASCII name of the download header keeps the ISO code."""
    year, number = version.week.split("-W")
    return f"{version.campaign.name}-{year}年第{int(number)}周-周通报.{extension}"


# --- Excel -------------------------------------------------------------------------------------

PERCENT = "0.0%"
PERCENT_DELTA = "+0.0%;-0.0%;0.0%"
DECIMAL = "0.00"


def _rank_columns(population: str) -> list[tuple[str, int, str | None, callable]]:
    """(header, width, number format, value) of a ranking sheet."""
    columns = [
        ("名次", 7, None, lambda r: r["rank_display"]),
        ("名次变化", 9, None, lambda r: r["change_display"]),
        ("单位", 24, None, lambda r: r["unit_name"]),
    ]
    if population in (Population.STREET, Population.DISTRICT_DEPARTMENT):
        columns.append(("所属区县", 14, None, lambda r: r["parent_name"] or ""))
    if population == Population.COMMUNITY:
        columns.append(("所属区县", 12, None, lambda r: r["grandparent_name"] or ""))
        columns.append(("所属街道", 14, None, lambda r: r["parent_name"] or ""))
    columns += [
        ("综合分", 9, DECIMAL, lambda r: r["composite"]),
        ("得分率", 9, PERCENT, lambda r: r["score_rate"]),
        ("观测数", 8, None, lambda r: r["observations"]),
        ("不合格数", 9, None, lambda r: r["failing_observations"]),
        ("扣分", 8, DECIMAL, lambda r: r["deduction_points"]),
        ("新发现问题", 11, None, lambda r: r["problems_opened"]),
        ("本周到期", 9, None, lambda r: r["problems_due"]),
        ("按期销号", 9, None, lambda r: r["closed_on_time"]),
        ("按期整改率", 11, PERCENT, lambda r: r["on_time_rate"]),
        ("返工次数", 9, None, lambda r: r["rework_count"]),
        ("周末超期未改", 13, None, lambda r: r["overdue_open"]),
        ("反弹", 7, None, lambda r: r["rebounds"]),
        ("证据疑点", 9, None, lambda r: r["evidence_flagged"]),
        ("抽查复核不属实", 15, None, lambda r: r["rechecks_failed"]),
        ("红黑榜", 8, None, lambda r: BoardList(r["board"]).label if r["board"] else ""),
        ("一票否决", 40, None, lambda r: r["veto_display"]),
    ]
    return columns


def _sheet(workbook, title: str, columns, rows) -> None:
    """A sheet with a bold, frozen header row, the given widths and number formats."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    sheet = workbook.create_sheet(title)
    append_row(sheet, [header for header, *_ in columns])
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="E8EEF7")
    for cell in sheet[1]:
        cell.font = bold
        cell.fill = fill
        cell.alignment = Alignment(horizontal="center", vertical="center")
    for index, (_header, width, _fmt, _value) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    for row in rows:
        append_row(sheet, [_cell(value(row)) for _header, _width, _fmt, value in columns])
    for index, (_header, _width, number_format, _value) in enumerate(columns, start=1):
        if number_format:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = number_format
    sheet.freeze_panes = "A2"
    if sheet.max_row > 1:
        sheet.auto_filter.ref = sheet.dimensions


def _cell(value):
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).replace(tzinfo=None)
    if isinstance(value, Decimal):
        return float(value)
    return value


def bulletin_xlsx(*, version: RollupVersion, data: dict | None = None) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    if data is None or not data["full"]:  # the workbook has every row: never the printed selection
        data = bulletin_data(version=version, full=True)
    workbook = Workbook()
    workbook.remove(workbook.active)

    summary_columns = [
        ("指标", 16, None, lambda item: item.label),
        ("本周", 12, None, lambda item: item.value),
        ("上周", 12, None, lambda item: item.previous),
        ("较上周", 12, None, lambda item: item.delta),
    ]
    _sheet(workbook, "概况", summary_columns, data["summary"])
    sheet = workbook["概况"]
    for row_index, item in enumerate(data["summary"], start=2):
        if item.kind == "rate":
            for column in "BC":
                sheet[f"{column}{row_index}"].number_format = PERCENT
            sheet[f"D{row_index}"].number_format = PERCENT_DELTA
        else:
            sheet[f"D{row_index}"].number_format = "+0;-0;0"
    version_ = data["version"]
    info = [
        ("创建活动", data["campaign"].name),
        ("周次", data["week_label"]),
        (
            "对比周",
            data["previous_week_label"] if data["previous"] else "无（首个发布周）",
        ),
        ("版本", f"第{version_.number}版"),
        ("发布时间", _cell(version_.published_at) if version_.published_at else ""),
        ("概述", data["lead"]),
    ]
    sheet.append([])
    for label, value in info:
        append_row(sheet, [label, value])
        sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True)
        if isinstance(value, datetime.datetime):
            sheet.cell(row=sheet.max_row, column=2).number_format = "yyyy-mm-dd hh:mm"

    for ranking in data["rankings"]:
        _sheet(workbook, SHEET_NAMES[ranking.population], _rank_columns(ranking.population), ranking.rows)

    board_rows = [
        (board.label, list_label, row)
        for board in data["boards"]
        for list_label, rows in (("红榜", board.red), ("黑榜", board.black))
        for row in rows
    ]
    _sheet(
        workbook,
        "红黑榜",
        [
            ("类别", 10, None, lambda r: r[0]),
            ("榜单", 7, None, lambda r: r[1]),
            ("名次", 7, None, lambda r: r[2]["rank_display"]),
            ("单位", 24, None, lambda r: r[2]["unit_name"]),
            ("综合分", 9, DECIMAL, lambda r: r[2]["composite"]),
            ("得分率", 9, PERCENT, lambda r: r[2]["score_rate"]),
            ("按期整改率", 11, PERCENT, lambda r: r[2]["on_time_rate"]),
            ("周末超期未改", 13, None, lambda r: r[2]["overdue_open"]),
            ("一票否决", 40, None, lambda r: r[2]["veto_display"]),
        ],
        board_rows,
    )

    problem_columns = [
        ("编号", 8, None, lambda p: p["pk"]),
        ("区县", 12, None, lambda p: p["district_name"]),
        ("属地单位", 16, None, lambda p: p["unit_name"]),
        ("点位", 22, None, lambda p: p["point_name"] or ""),
        ("问题描述", 40, None, lambda p: p["description"]),
        ("测评细则", 32, None, lambda p: p["check_item_text"] or ""),
        ("严重程度", 9, None, lambda p: Severity(p["severity"]).label),
        ("扣分", 7, DECIMAL, lambda p: p["deduction"]),
        ("发现时间", 17, "yyyy-mm-dd hh:mm", lambda p: p["found_at"]),
        ("当前状态", 9, None, lambda p: ProblemStatus(p["status"]).label),
        ("主办单位", 16, None, lambda p: p["handler_name"] or ""),
        ("整改期限", 11, "yyyy-mm-dd", lambda p: p["deadline"]),
        ("反弹", 6, None, lambda p: "是" if p["rebound_of_id"] else ""),
        ("照片数", 7, None, lambda p: p["photo_count"]),
    ]
    _sheet(workbook, "问题清单", problem_columns, data["problems"])

    overdue_columns = [
        ("编号", 8, None, lambda p: p["pk"]),
        ("区县", 12, None, lambda p: p["district_name"]),
        ("属地单位", 16, None, lambda p: p["unit_name"]),
        ("点位", 22, None, lambda p: p["point_name"] or ""),
        ("问题描述", 40, None, lambda p: p["description"]),
        ("主办单位", 16, None, lambda p: p["handler_name"] or ""),
        ("发现时间", 17, "yyyy-mm-dd hh:mm", lambda p: p["found_at"]),
        ("整改期限", 11, "yyyy-mm-dd", lambda p: p["deadline"]),
        ("至周日超期天数", 14, None, lambda p: p["days_overdue"]),
        ("返工次数", 9, None, lambda p: p["rework_count"]),
        ("当前状态", 9, None, lambda p: p["status_display"]),
    ]
    _sheet(workbook, "超期问题", overdue_columns, data["overdue"])

    case_columns = [
        ("单位", 24, None, lambda c: c["unit_name"]),
        ("触发规则", 14, None, lambda c: c["rule_display"]),
        ("建议处理", 14, None, lambda c: c["level_display"]),
        ("连续周数", 9, None, lambda c: c["streak"]),
        ("原因", 50, None, lambda c: c["reason"]),
        ("处理状态", 9, None, lambda c: c["status_display"]),
        ("处理情况", 30, None, lambda c: c["decision_note"]),
    ]
    _sheet(workbook, "问责事项", case_columns, data["cases"])

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
