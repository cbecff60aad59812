"""Build 任务分解表 spreadsheets in memory for the indicator import tests, and read trees back."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from indicators.importing import indicators_import
from indicators.models import Assignment, Indicator, IndicatorMethod
from tests.campaign.xlsx import make_xlsx, upload

FOUR_LEVELS = [
    "测评项目",
    "指标名称",
    "测评内容",
    "分值",
    "测评标准",
    "测评方法",
    "牵头单位",
    "责任单位",
    "材料要求",
    "适用点位",
]
THREE_LEVELS = ["测评项目", "测评内容", "分值", "测评标准", "测评方法", "牵头单位", "责任单位"]


def sheet(rows: list[list], *, header: list[str] = FOUR_LEVELS, merges=(), before: list[list] = ()) -> bytes:
    """An .xlsx with `before` (title rows), the header, then `rows`; `merges` such as "A2:A5"."""
    return make_xlsx([*before, header, *rows], merges=merges)


def run(system, data: bytes, *, dry_run: bool = False, name: str = "任务分解表.xlsx"):
    return indicators_import(system=system, file=upload(name, data), dry_run=dry_run)


def tree_of(system) -> list[tuple]:
    """The tree as (depth-first label path, level, code, title, text, weight, own methods, own lead, own
    responsible, requirements, point types, veto, deadline), comparable across systems."""
    nodes = {n.pk: n for n in Indicator.objects.filter(system=system)}
    methods: dict[int, list[str]] = {}
    for indicator_id, method in IndicatorMethod.objects.filter(indicator__system=system).values_list(
        "indicator_id", "method"
    ):
        methods.setdefault(indicator_id, []).append(method)
    units: dict[tuple, list[str]] = {}
    for indicator_id, role, name in Assignment.objects.filter(indicator__system=system, inherited=False).values_list(
        "indicator_id", "role", "unit__name"
    ):
        units.setdefault((indicator_id, role), []).append(name)

    def path(node) -> tuple:
        labels = []
        while node is not None:
            labels.append(f"{node.code} {node.title}".strip())
            node = nodes.get(node.parent_id)
        return tuple(reversed(labels))

    rows = []
    for node in sorted(nodes.values(), key=lambda n: n.path):
        rows.append(
            (
                path(node),
                node.level,
                node.code,
                node.title,
                node.text,
                None if node.weight is None else node.weight.normalize(),
                tuple(sorted(methods.get(node.pk, []))),
                tuple(sorted(units.get((node.pk, "lead"), []))),
                tuple(sorted(units.get((node.pk, "responsible"), []))),
                node.requirements,
                node.point_types,
                node.veto,
                node.deadline,
            )
        )
    return rows


def snapshot(system) -> list[tuple]:
    """Every stored fact of the system's tree, derived fields and inherited assignments included,
    to assert that an import changed nothing."""
    indicators = list(
        Indicator.objects.filter(system=system)
        .order_by("pk")
        .values_list(
            "pk",
            "parent_id",
            "level",
            "code",
            "title",
            "text",
            "weight",
            "order",
            "veto",
            "requirements",
            "point_types",
            "deadline",
            "path",
            "top_id",
            "effective_weight",
            "children_weight",
            "share_weight",
            "is_leaf",
            "is_declaration",
        )
    )
    methods = list(
        IndicatorMethod.objects.filter(indicator__system=system)
        .order_by("pk")
        .values_list("pk", "indicator_id", "method")
    )
    assignments = list(
        Assignment.objects.filter(indicator__system=system)
        .order_by("pk")
        .values_list("pk", "indicator_id", "unit_id", "role", "inherited")
    )
    return [indicators, methods, assignments]


def cells(data: bytes) -> tuple[list[list], list[str]]:
    """The first sheet's values (merged cells as stored: value in the top-left cell) and merged ranges."""
    workbook = load_workbook(io.BytesIO(data))
    worksheet = workbook.worksheets[0]
    values = [list(row) for row in worksheet.iter_rows(values_only=True)]
    return values, sorted(str(r) for r in worksheet.merged_cells.ranges)
