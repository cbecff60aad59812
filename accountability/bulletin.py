"""The weekly bulletin (周通报) of a published week: the data, read with a fixed number of queries
whatever the size of the city, and its three renderings — the A4 page (shared by the print page
and the PDF), the PDF (WeasyPrint) and the Excel workbook.

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
from django.db.models import Case, Count, IntegerField, Prefetch, Q, Sum, Value, When, prefetch_related_objects
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone

from campaign.choices import UnitKind
from campaign.models import Unit
from campaign.selectors import scope_for
from inspections.choices import ProblemStatus, Severity
from inspections.models import Photo, Problem
from inspections.selectors import iso_week_bounds, week_label

from .choices import RANKED_POPULATIONS, BoardList, CaseLevel, CaseStatus, Population, VersionStatus
from .models import AccountabilityCase, RollupVersion, UnitWeekScore

# How much of the long lists the printed bulletin shows; Excel always has everything.
PRINT_EDGE_ROWS = 10  # the 社区村 table: the first and the last ten ranked
PRINT_PROBLEMS_PER_DISTRICT = 6
PRINT_OVERDUE_ROWS = 50

PDF_MEDIA_SCHEME = "bulletin-media"


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NOT_PUBLISHED = "没有已发布的周通报（周评比发布后才有周通报）。"


def may_read_bulletins(user) -> bool:
    """A bulletin is a 通报 within the government: every member, whatever the role, reads it."""
    scope = scope_for(user)
    return bool(scope.roles) or scope.is_superuser


def download_response(content: bytes, *, version: RollupVersion, extension: str, content_type: str) -> HttpResponse:
    """The bulletin as a download named in Chinese (RFC 5987 `filename*`), with an ASCII
    `filename` for the clients that do not read it."""
    response = HttpResponse(content, content_type=content_type)
    filename = quote(bulletin_filename(version, extension))
    response["Content-Disposition"] = (
        f"attachment; filename=\"bulletin-{version.week}.{extension}\"; filename*=UTF-8''{filename}"
    )
    return response


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
    population: str
    label: str
    rows: list[UnitWeekScore]  # every row: ranked by rank, then 样本不足
    print_top: list[UnitWeekScore]
    print_bottom: list[UnitWeekScore]  # empty unless the printed table is cut in the middle
    ranked_count: int
    unranked_count: int
    note: str = ""

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
    red: list[UnitWeekScore]
    black: list[UnitWeekScore]


@dataclass
class ProblemCard:
    problem: Problem
    thumb: Photo | None
    src: str = ""  # set by the renderer: a page URL or the PDF's storage URL


@dataclass
class DistrictProblems:
    district: Unit | None  # None: problems located outside every district
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


def _district_of(districts: list[Unit]) -> Case:
    """The district a problem's located unit lies in, as an SQL expression (NULL outside all)."""
    return Case(
        *[When(unit__path__startswith=district.path, then=Value(district.pk)) for district in districts],
        default=Value(None),
        output_field=IntegerField(),
    )


def _ranking(population: str, rows: list[UnitWeekScore], min_sample=None) -> Ranking:
    """A population's table. Excel has every row; the printed table has the ranked ones (for
    社区村, many, only the first and the last ten) and names the 样本不足 units in a note."""
    ranked = [row for row in rows if row.rank is not None]
    unranked = [row for row in rows if row.rank is None]
    label = Population(population).label
    ranking = Ranking(
        population=population,
        label=label,
        rows=ranked + unranked,
        print_top=ranked,
        print_bottom=[],
        ranked_count=len(ranked),
        unranked_count=len(unranked),
    )
    notes = []
    if population == Population.COMMUNITY and len(ranked) > 2 * PRINT_EDGE_ROWS:
        ranking.print_top = ranked[:PRINT_EDGE_ROWS]
        ranking.print_bottom = ranked[-PRINT_EDGE_ROWS:]
        notes.append(f"共{len(ranked)}个社区村参与排名，此处列出前{PRINT_EDGE_ROWS}名和后{PRINT_EDGE_ROWS}名")
    if unranked:
        why = f"观测少于{min_sample}个" if min_sample else "样本不足"
        if population == Population.COMMUNITY:
            notes.append(f"另有{len(unranked)}个社区村本周{why}，不参与排名")
        else:
            names = "、".join(row.unit.display_name for row in unranked)
            notes.append(f"本周{why}、不参与排名的{len(unranked)}个单位：{names}")
    if notes:
        excel = "；完整排名见 Excel 附表“社区排名”。" if population == Population.COMMUNITY else "。"
        ranking.note = "；".join(notes) + excel
    return ranking


def _lead(city: UnitWeekScore | None, summary: list[SummaryItem]) -> str:
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
        f"本周全市共督查观测{city.observations}项，不合格{city.failing_observations}项，"
        f"得分率{with_change('score_rate')}",
        f"新发现问题{with_change('problems_opened')}个",
    ]
    if city.problems_due:
        parts.append(f"本周到期{city.problems_due}个，按期整改率{with_change('on_time_rate')}")
    parts.append(f"周末超期未改{with_change('overdue_open')}个")
    if city.rebounds:
        parts.append(f"问题反弹{city.rebounds}个")
    return "，".join(parts) + "。"


def bulletin_data(*, version: RollupVersion) -> dict:
    """Everything the bulletin shows, in ten queries whatever the number of units and problems:
    the campaign (unless already joined), the previous published week, the two citywide rows,
    every score row, the districts, the per-district counts, the week's problems, the first photos
    of those shown, the overdue problems and the cases."""
    campaign = version.campaign  # 1 (none when the caller joined it)
    start, end = iso_week_bounds(version.week)
    previous = _previous_version(version)  # 2

    city_rows = {  # 3
        row.rollup_id: row
        for row in UnitWeekScore.objects.filter(
            rollup_id__in=[version.pk] + ([previous.pk] if previous else []), unit__isnull=True
        )
    }
    city = city_rows.get(version.pk)
    previous_city = city_rows.get(previous.pk) if previous else None
    summary = [
        SummaryItem(
            key=key,
            label=label,
            kind=kind,
            value=getattr(city, key) if city else None,
            previous=getattr(previous_city, key) if previous_city else None,
            good_when_up=good,
        )
        for key, label, kind, good in SUMMARY_FIELDS
    ]

    rows = list(  # 4
        UnitWeekScore.objects.filter(rollup=version, unit__isnull=False)
        .select_related("unit__parent__parent")
        .order_by("rank", "-composite", "unit__path")
    )
    by_population: dict[str, list[UnitWeekScore]] = {p: [] for p in RANKED_POPULATIONS}
    for row in rows:
        row.score_rate_display = fmt_rate(row.score_rate)
        row.on_time_rate_display = fmt_rate(row.on_time_rate)
        row.change_display = rank_change_display(row.rank_change, row.rank)
        row.change_class = (
            "up" if (row.rank_change or 0) > 0 and row.rank else "down" if (row.rank_change or 0) < 0 else ""
        )
        by_population.setdefault(row.population, []).append(row)
    min_sample = (version.rules or {}).get("min_sample")
    rankings = [_ranking(p, by_population[p], min_sample) for p in RANKED_POPULATIONS]
    boards = [
        Board(
            population=ranking.population,
            label=ranking.label,
            red=[row for row in ranking.rows if row.board == BoardList.RED],
            black=sorted(
                (row for row in ranking.rows if row.board == BoardList.BLACK),
                key=lambda row: (-(row.rank or 0), row.unit.path),
            ),
        )
        for ranking in rankings
    ]

    districts = list(Unit.objects.filter(kind=UnitKind.DISTRICT, active=True).order_by("path"))  # 5
    district_of = _district_of(districts)
    week_problems = Problem.objects.filter(
        campaign_id=version.campaign_id, found_at__gte=start, found_at__lt=end
    ).exclude(status=ProblemStatus.VOID)
    groups = {district.pk: DistrictProblems(district=district, name=district.name) for district in districts}
    groups[None] = DistrictProblems(district=None, name="未归属区县")
    for counts in (  # 6
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
        group = groups[counts["district_id"]]
        group.total, group.severe, group.rebounds = counts["total"], counts["severe"], counts["rebounds"]
        group.closed, group.deduction = counts["closed"], counts["deduction"] or Decimal(0)

    problems = list(  # 7
        week_problems.annotate(district_id=district_of, photo_count=Count("photos"))
        .select_related("unit", "point", "check_item", "handler")
        # The printed cards: severe first, then the costliest, and of equals those with a photo.
        .order_by("-severity", "-deduction", "-photo_count", "found_at", "pk")
    )
    shown: list[Problem] = []
    for problem in problems:
        group = groups[problem.district_id]
        if len(group.cards) < PRINT_PROBLEMS_PER_DISTRICT:
            group.cards.append(ProblemCard(problem=problem, thumb=None))
            shown.append(problem)
    if shown:  # 8
        prefetch_related_objects(shown, Prefetch("photos", queryset=Photo.objects.order_by("uploaded_at", "pk")))
    for group in groups.values():
        for card in group.cards:
            photos = list(card.problem.photos.all())
            card.thumb = photos[0] if photos else None
    district_names = {district.pk: district.name for district in districts}
    for problem in problems:
        problem.district_name = district_names.get(problem.district_id, "")
    district_groups = [groups[district.pk] for district in districts]
    if groups[None].total:
        district_groups.append(groups[None])

    overdue = list(  # 9
        Problem.objects.filter(
            campaign_id=version.campaign_id,
            found_at__lt=end,
            deadline__lte=version.week_end,
            shelved=False,
        )
        .exclude(status=ProblemStatus.VOID)
        .filter(Q(closed_at__isnull=True) | Q(closed_at__gte=end))
        .annotate(district_id=district_of)
        .select_related("unit", "point", "check_item", "handler")
        .order_by("deadline", "pk")
    )
    for problem in overdue:
        problem.district_name = district_names.get(problem.district_id, "")
        problem.days_overdue = (version.week_end - problem.deadline).days

    cases = list(  # 10
        AccountabilityCase.objects.filter(campaign_id=version.campaign_id, week=version.week)
        .exclude(status=CaseStatus.WITHDRAWN)
        .select_related("unit")
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

    return {
        "version": version,
        "campaign": campaign,
        "week": version.week,
        "week_label": week_label(version.week),
        "title": f"{campaign.name}周通报",
        "previous": previous,
        "previous_week_label": week_label(previous.week) if previous else "",
        "city": city,
        "previous_city": previous_city,
        "summary": summary,
        "lead": _lead(city, summary),
        "rankings": rankings,
        "boards": boards,
        "board_rules": _board_rules(version.rules),
        "districts": district_groups,
        "problems": problems,
        "problem_total": len(problems),
        "overdue": overdue,
        "overdue_shown": overdue[:PRINT_OVERDUE_ROWS],
        "overdue_hidden": max(0, len(overdue) - PRINT_OVERDUE_ROWS),
        "cases": cases,
        "print_problems_per_district": PRINT_PROBLEMS_PER_DISTRICT,
        "print_overdue_rows": PRINT_OVERDUE_ROWS,
    }


def _board_rules(rules: dict) -> str:
    """The 红黑榜 rule the week was computed with (the keys the roll-up records on the version)."""
    rules = rules or {}
    if rules.get("board_mode") == "threshold" and rules.get("red_line") and rules.get("black_line"):
        return f"红榜：综合分 ≥ {rules['red_line']}；黑榜：综合分 < {rules['black_line']}。样本不足的单位不上榜。"
    if rules.get("board_k"):
        return f"红榜：各类别前 {rules['board_k']} 名；黑榜：各类别后 {rules['board_k']} 名。样本不足的单位不上榜。"
    return "样本不足的单位不上榜。"


# --- The page and the PDF ----------------------------------------------------------------------


def bulletin_html(*, data: dict, for_pdf: bool = False, photo_url=None) -> str:
    """The A4 page. `photo_url(photo)` gives the browser's address of a thumbnail; the PDF reads
    thumbnails from storage instead (see `StorageFetcher`)."""
    for group in data["districts"]:
        for card in group.cards:
            if card.thumb is None:
                card.src = ""
            elif for_pdf:
                card.src = f"{PDF_MEDIA_SCHEME}:{quote(card.thumb.thumbnail.name)}"
            else:
                card.src = photo_url(card.thumb) if photo_url else ""
    context = {**data, "for_pdf": for_pdf, "generated_at": timezone.localtime()}
    # No request: the page is standalone, so the layout's context processors (and their queries) are not needed.
    return render_to_string("accountability/bulletin.html", context)


def _storage_fetcher():
    """A WeasyPrint URL fetcher that reads only our own storage: never the network, never an
    arbitrary file. Thumbnails come from `default_storage` (a shared disk or object storage)."""
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


def bulletin_pdf(*, version: RollupVersion, request=None, data: dict | None = None) -> bytes:
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # OSError: pango cannot be loaded
        raise PdfUnavailable(PdfUnavailable.message) from exc

    data = data or bulletin_data(version=version)
    html = bulletin_html(data=data, for_pdf=True)
    base_url = request.build_absolute_uri("/") if request is not None else "http://localhost/"
    return HTML(string=html, base_url=base_url, url_fetcher=_storage_fetcher()).write_pdf()


def bulletin_filename(version: RollupVersion, extension: str) -> str:
    return f"{version.campaign.name}-{version.week}-周通报.{extension}"


# --- Excel -------------------------------------------------------------------------------------

PERCENT = "0.0%"
PERCENT_DELTA = "+0.0%;-0.0%;0.0%"
DECIMAL = "0.00"


def _rank_columns(population: str) -> list[tuple[str, int, str | None, callable]]:
    """(header, width, number format, value) of a ranking sheet."""
    columns = [
        ("名次", 7, None, lambda r: r.rank if r.rank is not None else "样本不足"),
        ("名次变化", 9, None, lambda r: rank_change_display(r.rank_change, r.rank)),
        ("单位", 24, None, lambda r: r.unit.name),
    ]
    if population == Population.STREET:
        columns.append(("所属区县", 14, None, lambda r: r.unit.parent.name if r.unit.parent else ""))
    if population == Population.COMMUNITY:
        columns.append(
            (
                "所属区县",
                12,
                None,
                lambda r: r.unit.parent.parent.name if r.unit.parent and r.unit.parent.parent else "",
            )
        )
        columns.append(("所属街道", 14, None, lambda r: r.unit.parent.name if r.unit.parent else ""))
    columns += [
        ("综合分", 9, DECIMAL, lambda r: r.composite),
        ("得分率", 9, PERCENT, lambda r: r.score_rate),
        ("观测数", 8, None, lambda r: r.observations),
        ("不合格数", 9, None, lambda r: r.failing_observations),
        ("扣分", 8, DECIMAL, lambda r: r.deduction_points),
        ("新发现问题", 11, None, lambda r: r.problems_opened),
        ("本周到期", 9, None, lambda r: r.problems_due),
        ("按期销号", 9, None, lambda r: r.closed_on_time),
        ("按期整改率", 11, PERCENT, lambda r: r.on_time_rate),
        ("返工次数", 9, None, lambda r: r.rework_count),
        ("周末超期未改", 13, None, lambda r: r.overdue_open),
        ("反弹", 7, None, lambda r: r.rebounds),
        ("红黑榜", 8, None, lambda r: r.get_board_display()),
    ]
    return columns


def _sheet(workbook, title: str, columns, rows) -> None:
    """A sheet with a bold, frozen header row, the given widths and number formats."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    sheet = workbook.create_sheet(title)
    sheet.append([header for header, *_ in columns])
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="E8EEF7")
    for cell in sheet[1]:
        cell.font = bold
        cell.fill = fill
        cell.alignment = Alignment(horizontal="center", vertical="center")
    for index, (_header, width, _fmt, _value) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    for row in rows:
        sheet.append([_cell(value(row)) for _header, _width, _fmt, value in columns])
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

    data = data or bulletin_data(version=version)
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
        ("周次", f"{data['week']} {data['week_label']}"),
        (
            "对比周",
            f"{data['previous'].week} {data['previous_week_label']}" if data["previous"] else "无（首个发布周）",
        ),
        ("版本", f"第{version_.number}版"),
        ("发布时间", _cell(version_.published_at) if version_.published_at else ""),
        ("概述", data["lead"]),
    ]
    sheet.append([])
    for label, value in info:
        sheet.append([label, value])
        sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True)
        if isinstance(value, datetime.datetime):
            sheet.cell(row=sheet.max_row, column=2).number_format = "yyyy-mm-dd hh:mm"

    sheet_names = {
        Population.DISTRICT: "区县排名",
        Population.STREET: "街道排名",
        Population.COMMUNITY: "社区排名",
        Population.DEPARTMENT: "部门排名",
    }
    for ranking in data["rankings"]:
        _sheet(workbook, sheet_names[ranking.population], _rank_columns(ranking.population), ranking.rows)

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
            ("名次", 7, None, lambda r: r[2].rank),
            ("单位", 24, None, lambda r: r[2].unit.name),
            ("综合分", 9, DECIMAL, lambda r: r[2].composite),
            ("得分率", 9, PERCENT, lambda r: r[2].score_rate),
            ("按期整改率", 11, PERCENT, lambda r: r[2].on_time_rate),
            ("周末超期未改", 13, None, lambda r: r[2].overdue_open),
        ],
        board_rows,
    )

    problem_columns = [
        ("编号", 8, None, lambda p: p.pk),
        ("区县", 12, None, lambda p: p.district_name),
        ("属地单位", 16, None, lambda p: p.unit.name),
        ("点位", 22, None, lambda p: p.point.name if p.point else ""),
        ("问题描述", 40, None, lambda p: p.description),
        ("测评细则", 32, None, lambda p: p.check_item.text if p.check_item else ""),
        ("严重程度", 9, None, lambda p: p.get_severity_display()),
        ("扣分", 7, DECIMAL, lambda p: p.deduction),
        ("发现时间", 17, "yyyy-mm-dd hh:mm", lambda p: p.found_at),
        ("当前状态", 9, None, lambda p: p.get_status_display()),
        ("主办单位", 16, None, lambda p: p.handler.name if p.handler else ""),
        ("整改期限", 11, "yyyy-mm-dd", lambda p: p.deadline),
        ("反弹", 6, None, lambda p: "是" if p.rebound_of_id else ""),
        ("照片数", 7, None, lambda p: p.photo_count),
    ]
    _sheet(workbook, "问题清单", problem_columns, data["problems"])

    overdue_columns = [
        ("编号", 8, None, lambda p: p.pk),
        ("区县", 12, None, lambda p: p.district_name),
        ("属地单位", 16, None, lambda p: p.unit.name),
        ("点位", 22, None, lambda p: p.point.name if p.point else ""),
        ("问题描述", 40, None, lambda p: p.description),
        ("主办单位", 16, None, lambda p: p.handler.name if p.handler else ""),
        ("发现时间", 17, "yyyy-mm-dd hh:mm", lambda p: p.found_at),
        ("整改期限", 11, "yyyy-mm-dd", lambda p: p.deadline),
        ("至周日超期天数", 14, None, lambda p: p.days_overdue),
        ("返工次数", 9, None, lambda p: p.rework_count),
        ("当前状态", 9, None, lambda p: p.get_status_display()),
    ]
    _sheet(workbook, "超期问题", overdue_columns, data["overdue"])

    case_columns = [
        ("单位", 24, None, lambda c: c.unit.name),
        ("触发规则", 14, None, lambda c: c.get_rule_display()),
        ("建议处理", 14, None, lambda c: c.get_level_display()),
        ("连续周数", 9, None, lambda c: c.streak),
        ("原因", 50, None, lambda c: c.reason),
        ("处理状态", 9, None, lambda c: c.get_status_display()),
        ("处理情况", 30, None, lambda c: c.decision_note),
    ]
    _sheet(workbook, "问责事项", case_columns, data["cases"])

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
