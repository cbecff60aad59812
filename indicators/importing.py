"""Importing and exporting a city's 任务分解表 (the 测评体系 as offices keep it in a spreadsheet).

One row per 测评标准 (or per 测评内容 that has no standard). The 测评项目 / 指标名称 / 测评内容 cells
repeat down the rows: merged, repeated, or left blank meaning "same as above". A row's 测评方法,
牵头单位, 责任单位, 材料要求, 适用点位, 一票否决 and 完成时限 belong to the deepest node the row
names (the standard when there is one); its 分值 belongs to the row's 测评内容 (or, on a row
without one, to the deepest node). Same rules as every import: a preview lists every problem
with the spreadsheet's row number, the write is all or nothing, and importing the same sheet
again writes nothing at all. The export writes the same layout back, so that a round trip keeps
the content.
"""

from __future__ import annotations

import datetime
import io
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction

from campaign import lookups
from campaign.choices import UnitKind
from campaign.exporting import append_row
from campaign.importing import (
    Column,
    ImportFileError,
    ImportResult,
    RowChange,
    RowError,
    normalize_text,
    parse_sheet_date,
    read_table,
)
from campaign.lookups import UnitLookup
from campaign.models import Unit

from . import services
from .choices import AssignmentRole, Level, Method
from .models import Assignment, Indicator, IndicatorMethod, IndicatorSystem

INDICATOR_COLUMNS = [
    Column("project", "测评项目", ("一级指标", "测评项目名称", "项目"), required=True),
    Column("indicator", "指标名称", ("二级指标", "测评指标")),
    # A system imported only to score field checks (the evaluator's data) may lack the columns
    # below, or leave their cells blank: a warning each (RELAXED_COLUMNS), never an error.
    Column("content", "测评内容", ("三级指标", "测评内容名称")),
    Column("weight", "分值", ("权数", "分数", "权重", "分值(分)")),
    Column("standard", "测评标准", ("测评细则", "评分标准", "测评标准及要求"), required=True),
    Column("methods", "测评方法", ("考察方法", "测评方式")),
    Column("lead", "牵头单位", ("牵头部门", "牵头责任单位")),
    Column("responsible", "责任单位", ("责任部门", "配合单位", "责任单位(配合单位)")),
    Column("requirements", "材料要求", ("申报材料要求", "网上申报材料要求", "佐证材料")),
    Column("point_types", "适用点位", ("点位类型", "实地考察点位", "考察点位")),
    Column("veto", "一票否决", ("是否一票否决",)),
    Column("deadline", "完成时限", ("完成时间", "时限要求", "截止时间")),
]
HEADERS = {column.key: column.header for column in INDICATOR_COLUMNS}
LEVEL_COLUMNS = ((Level.PROJECT, "project"), (Level.INDICATOR, "indicator"), (Level.CONTENT, "content"))

# What offices write in the 测评方法 column, beside the six labels themselves.
METHOD_WORDS: dict[str, str] = {label: value for value, label in Method.choices} | {
    "网络申报": Method.ONLINE,
    "网上填报": Method.ONLINE,
    "资料审核": Method.REVIEW,
    "材料审查": Method.REVIEW,
    "实地测评": Method.FIELD,
    "实地检查": Method.FIELD,
    "实地察看": Method.FIELD,
    "问卷": Method.SURVEY,
    "入户问卷": Method.SURVEY,
    "问卷测评": Method.SURVEY,
    "网上调查": Method.WEB,
    "网络监测": Method.WEB,
    "数据统计": Method.DATA,
    "统计数据": Method.DATA,
}
METHOD_ORDER = {value: index for index, value in enumerate(Method.values)}
TRUE_WORDS = {"是", "Y", "YES", "1", "√", "✓", "TRUE", "一票否决"}
FALSE_WORDS = {"", "否", "N", "NO", "0", "×", "FALSE", "-"}

TITLE_MAX = Indicator._meta.get_field("title").max_length
CODE_MAX = Indicator._meta.get_field("code").max_length
POINT_TYPES_MAX = Indicator._meta.get_field("point_types").max_length
WEIGHT_MAX = Decimal("99999.99")

# --- Cells ----------------------------------------------------------------------------------------

ROMAN = "ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩⅪⅫ"
CHINESE_NUMBERS = "一二三四五六七八九十百零〇两"
DASHES = "-—–"

# Code shapes at the start of a cell, tried in turn; the code is kept as the sheet writes it.
_CODE_PATTERNS = [
    re.compile(rf"^(?:[{ROMAN}]+|[IVX]+)\s*[{DASHES}]\s*\d+(?:\s*[{DASHES}]\s*\d+)*"),  # Ⅲ-57, Ⅲ - 57
    re.compile(rf"^[(（]\s*(?:[{CHINESE_NUMBERS}]+|\d+)\s*[)）]"),  # (三) （三） (3)
    re.compile(rf"^[{CHINESE_NUMBERS}]+[、.．]"),  # 三、
    re.compile(r"^\d+(?:\.\d+)+\.?(?!\d)"),  # 3.2.1
    re.compile(r"^\d+[.．)）、]"),  # 1.  1)  1）  1、
    re.compile(r"^[\u2460-\u2473]"),  # ①
    re.compile(rf"^[{ROMAN}]+(?=[\s、.])"),  # Ⅰ 思想道德
    re.compile(r"^(?=[A-Za-z0-9.\-_/]*\d)[A-Za-z0-9][A-Za-z0-9.\-_/]*(?=\s)"),  # A1 标题
]
_ROMAN_CODE = re.compile(rf"^(?:[{ROMAN}]+|[IVX]+)\s*[{DASHES}]")
_AFTER_CODE = re.compile(r"^[\s、.．:：]+")
# Chinese characters, Chinese punctuation and quotes: the neighbours that make punctuation Chinese.
WIDE = "\u3000-\u303f\u4e00-\u9fff\u2018\u2019\u201c\u201d\uff01-\uff1f"
_WIDE_CHAR = re.compile(rf"[{WIDE}]")
# Chinese punctuation (、。《》，（）：；… and the curly quotes): a space beside one is stray.
WIDE_PUNCTUATION_CHARS = "\u3001-\u303f\uff01-\uff0f\uff1a-\uff1f\u2018\u2019\u201c\u201d"
_SPACE_BESIDE_WIDE_PUNCTUATION = re.compile(
    rf"[ \t]+(?=[{WIDE_PUNCTUATION_CHARS}])|(?<=[{WIDE_PUNCTUATION_CHARS}])[ \t]+"
)
_PUNCTUATION_NEAR_WIDE = re.compile(rf"(?<=[{WIDE}])[ \t]*([,;:?!])[ \t]*|[ \t]*([,;:?!])[ \t]*(?=[{WIDE}])")
_PARENTHESES = re.compile(r"\(([^()\n]*)\)")
WIDE_PUNCTUATION = {",": "，", ";": "；", ":": "：", "?": "？", "!": "！"}


def _chinese_punctuation(text: str) -> str:
    """Put back the Chinese punctuation that NFKC made half-width: 健全，有计划（含台账）."""

    def parentheses(match: re.Match) -> str:
        before = text[match.start() - 1] if match.start() else ""
        if _WIDE_CHAR.search(match.group(1)) or _WIDE_CHAR.match(before):
            return f"（{match.group(1)}）"
        return match.group(0)

    text = _PARENTHESES.sub(parentheses, text)
    return _PUNCTUATION_NEAR_WIDE.sub(lambda match: WIDE_PUNCTUATION[match.group(1) or match.group(2)], text)


def clean_text(value) -> str:
    """What the office meant to type: full-width letters and digits made half-width, Chinese
    punctuation kept Chinese, Roman numeral codes kept; spaces trimmed at the ends, runs of them
    made one, none beside Chinese punctuation — but a space between two words stays, Chinese ones
    included ("…项目 第0条标准": the evaluator's titles are matched as written)."""
    return _SPACE_BESIDE_WIDE_PUNCTUATION.sub("", _chinese_punctuation(normalize_text(value)))


def split_code_title(text) -> tuple[str, str]:
    """("Ⅲ-57", "无障碍设施") from "Ⅲ-57 无障碍设施", "Ⅲ-57无障碍设施"; ("(三)", …) from "（三）…";
    ("1)", …), ("1.", …), ("3.2.1", …), ("一、", …); ("", text) when the cell has no code."""
    text = clean_text(text)
    for pattern in _CODE_PATTERNS:
        match = pattern.match(text)
        if match:
            # One spelling per code: "1）" is "1)", and "(三)" is "（三）" (Chinese ordinals keep
            # Chinese brackets, as offices write them).
            code = "".join(unicodedata.normalize("NFKC", c) if c in "（）：；，．" else c for c in match.group(0))
            if re.search(r"[\u4e00-\u9fff]", code):
                code = code.replace("(", "（").replace(")", "）")
            if _ROMAN_CODE.match(code):
                code = re.sub(rf"\s*[{DASHES}]\s*", "-", code)
            return code.replace(" ", ""), _AFTER_CODE.sub("", text[match.end() :]).strip()
    return "", text


def split_list(text) -> list[str]:
    """Several values in one cell, separated by 、 ， , ； ; or line breaks."""
    return lookups.split_list(clean_text(text))


def title_and_text(body: str) -> tuple[str, str]:
    """A short cell is the node's title; a long or multi-line one keeps its first line (cut to
    fit) as the title and the whole of it as the text."""
    if "\n" not in body and len(body) <= TITLE_MAX:
        return body, ""
    first = body.split("\n", 1)[0]
    if len(first) > TITLE_MAX:
        first = first[: TITLE_MAX - 1] + "…"
    return first, body


def cell_label(code: str, title: str, text: str = "") -> str:
    body = text or title
    return f"{code} {body}" if code else body


def _parse_weight(text: str) -> tuple[Decimal | None, str | None]:
    if not text:
        return None, None
    number = text.replace(" ", "").removesuffix("分")
    try:
        value = Decimal(number)
    except (InvalidOperation, ValueError):
        return None, f"分值“{text}”不是数字，请填写如 6 或 2.5 的数字。"
    if not value.is_finite():
        return None, f"分值“{text}”不是数字，请填写如 6 或 2.5 的数字。"
    if value < 0:
        return None, f"分值不能为负数（此处为 {text}）。"
    if value > WEIGHT_MAX:
        return None, f"分值“{text}”过大，不能超过 {WEIGHT_MAX}。"
    if value != value.quantize(Decimal("0.01")):
        return None, f"分值“{text}”最多保留两位小数。"
    return value, None


def _parse_date(text: str) -> tuple[datetime.date | None, str | None]:
    if not text:
        return None, None
    day = parse_sheet_date(text)
    return (day, None) if day else (None, f"完成时限“{text}”不是日期，请填写如 2026-06-30 的日期。")


def _format_decimal(value: Decimal | None) -> str:
    if value is None:
        return ""
    return format(value.normalize(), "f")


def _method_labels(values) -> str:
    return "、".join(Method(v).label for v in sorted(values, key=METHOD_ORDER.__getitem__))


# --- The plan -------------------------------------------------------------------------------------


@dataclass(eq=False)
class _Node:
    """A node as the sheet describes it, and the existing indicator it matches."""

    level: int
    code: str
    title: str
    text: str
    parent: _Node | None
    row: int  # the row that first names it
    order: int = 0
    own_row: int | None = None  # the row whose methods, units … are this node's own
    weight: Decimal | None = None
    weight_row: int | None = None
    methods: list[str] = field(default_factory=list)
    units: dict[str, list[Unit]] = field(default_factory=lambda: {role: [] for role in AssignmentRole.values})
    veto: bool = False
    requirements: str = ""
    point_types: str = ""
    deadline: datetime.date | None = None
    children: list[_Node] = field(default_factory=list)
    index: dict[tuple, _Node] = field(default_factory=dict)
    existing: Indicator | None = None
    saved: Indicator | None = None

    @property
    def label(self) -> str:
        return f"{Level(self.level).label} {cell_label(self.code, self.title)}"


@dataclass
class _RowValues:
    """The values of one row that belong to the row's deepest node."""

    methods: list[str]
    units: dict[str, list[Unit]]
    requirements: str
    point_types: str
    veto: bool
    deadline: datetime.date | None

    @property
    def any(self) -> bool:
        return bool(
            self.methods
            or any(self.units.values())
            or self.requirements
            or self.point_types
            or self.veto
            or self.deadline
        )


class _Broken:
    """Stands for a cell that could not be read, so that rows below it are not reported again."""


BROKEN = _Broken()


def _column_of(level: int) -> str:
    return {Level.PROJECT: "project", Level.INDICATOR: "indicator", Level.CONTENT: "content"}.get(level, "standard")


def _child_key(level: int, code: str, title: str) -> tuple:
    return ("code", code) if code else ("title", level, title)


class _Planner:
    def __init__(self, errors: list[RowError], present: set[str]):
        self.errors = errors
        self.root = _Node(level=0, code="", title="", text="", parent=None, row=0)
        self.nodes: list[_Node] = []
        self.levels = [(lvl, key) for lvl, key in LEVEL_COLUMNS if key == "project" or key in present]
        self.has_content = "content" in present

    def error(self, row: int, key: str, value: str, message: str) -> None:
        self.errors.append(RowError(row, HEADERS[key], value, message))

    def node(self, parent: _Node, level: int, cell: str, row: int, key: str) -> _Node | None:
        """The node a parent cell names under `parent`: the one already seen, or a new one."""
        code, body = split_code_title(cell)
        if not body:
            self.error(row, key, cell, f"“{cell}”只有编号，缺少名称。")
            return None
        if len(code) > CODE_MAX:
            self.error(row, key, cell, f"编号“{code}”过长，不能超过 {CODE_MAX} 个字符。")
            return None
        title, text = title_and_text(body)
        found = parent.index.get(_child_key(level, code, title))
        if found is not None:
            if found.level != level or found.title != title:
                self.error(
                    row,
                    key,
                    cell,
                    f"编号“{code}”在同一上级下重复：第 {found.row} 行已有“{cell_label(found.code, found.title)}”。",
                )
                return None
            return found
        node = _Node(level=level, code=code, title=title, text=text, parent=parent, row=row)
        parent.index[_child_key(level, code, title)] = node
        parent.children.append(node)
        self.nodes.append(node)
        return node

    def standard(self, content: _Node, cell: str, row: int) -> _Node | None:
        code, body = split_code_title(cell)
        if not body:
            self.error(row, "standard", cell, f"“{cell}”只有编号，缺少测评标准的内容。")
            return None
        if len(code) > CODE_MAX:
            self.error(row, "standard", cell, f"编号“{code}”过长，不能超过 {CODE_MAX} 个字符。")
            return None
        title, text = title_and_text(body)
        key = _child_key(Level.STANDARD, code, title)
        found = content.index.get(key)
        if found is not None:
            if code:
                message = (
                    f"编号“{code}”在同一{Level(content.level).label}下重复："
                    f"第 {found.row} 行已有“{cell_label(found.code, found.title)}”。"
                )
            else:
                message = f"与第 {found.row} 行的测评标准重复。"
            self.error(row, "standard", cell, message)
            return None
        node = _Node(level=Level.STANDARD, code=code, title=title, text=text, parent=content, row=row)
        content.index[key] = node
        content.children.append(node)
        self.nodes.append(node)
        return node


def _row_values(row, units: UnitLookup, errors: list[RowError]) -> _RowValues | None:
    ok = True
    methods: list[str] = []
    for word in split_list(row.get("methods")):
        for part in re.split(r"[/+\s]+", word):
            if not part:
                continue
            method = METHOD_WORDS.get(part)
            if method is None:
                known = "、".join(Method.labels)
                errors.append(
                    RowError(row.number, HEADERS["methods"], part, f"无法识别的测评方法“{part}”，可填写：{known}。")
                )
                ok = False
            elif method not in methods:
                methods.append(method)
    chosen: dict[str, list[Unit]] = {}
    for role, key in ((AssignmentRole.LEAD, "lead"), (AssignmentRole.RESPONSIBLE, "responsible")):
        chosen[role] = []
        for ref in split_list(row.get(key)):
            unit, message = units.resolve(ref)
            if unit is None:
                errors.append(RowError(row.number, HEADERS[key], ref, message))
                ok = False
            elif unit not in chosen[role]:
                chosen[role].append(unit)
    veto_text = row.get("veto").upper()
    if veto_text not in TRUE_WORDS | FALSE_WORDS:
        errors.append(RowError(row.number, HEADERS["veto"], row.get("veto"), "一票否决请填写“是”或“否”。"))
        ok = False
    deadline, message = _parse_date(row.get("deadline"))
    if message:
        errors.append(RowError(row.number, HEADERS["deadline"], row.get("deadline"), message))
        ok = False
    point_types = "、".join(split_list(row.get("point_types")))
    if len(point_types) > POINT_TYPES_MAX:
        errors.append(
            RowError(
                row.number, HEADERS["point_types"], row.get("point_types"), f"适用点位不能超过 {POINT_TYPES_MAX} 个字。"
            )
        )
        ok = False
    if not ok:
        return None
    return _RowValues(
        methods=methods,
        units=chosen,
        requirements=clean_text(row.get("requirements")),
        point_types=point_types,
        veto=veto_text in TRUE_WORDS,
        deadline=deadline,
    )


def _plan(rows, *, present: set[str], errors: list[RowError]) -> _Planner:
    """Walk the rows top to bottom, keeping the nodes the row above named at each level."""
    planner = _Planner(errors, present)
    units = UnitLookup()
    current: dict[int, _Node | _Broken | None] = {level: None for level, _ in planner.levels}
    for row in rows:
        n = row.number
        weight, message = _parse_weight(row.get("weight"))
        if message:
            planner.error(n, "weight", row.get("weight"), message)
        values = _row_values(row, units, errors)

        parent: _Node = planner.root
        changed = False  # a level above names another node than the row above: blanks below start empty
        broken = False
        for position, (level, key) in enumerate(planner.levels):
            cell = row.get(key)
            if cell:
                node = planner.node(parent, level, cell, n, key)
                if node is None:
                    current[level] = BROKEN
                    for deeper, _ in planner.levels[position + 1 :]:
                        current[deeper] = None
                    broken = True
                    break
                changed = changed or node is not current[level]
                current[level] = node
            else:
                above = current[level]
                if above is BROKEN and not changed:
                    broken = True  # already reported on the row that named it
                    break
                if changed or above is None or above is BROKEN or above.parent is not parent:
                    current[level] = None
                    if level == Level.PROJECT:
                        planner.error(
                            n, key, "", "测评项目为空，上方也没有可沿用的测评项目，无法确定此行属于哪个测评项目。"
                        )
                        broken = True
                        break
            if current[level] is not None:
                parent = current[level]
        if broken:
            continue

        content = current.get(Level.CONTENT)
        deepest: _Node = parent
        if row.get("standard"):
            # A sheet without a 测评内容 column (a field-only system): the standards hang under the
            # deepest node the row names (its 指标名称, else its 测评项目), and carry their 分值.
            holder = content if planner.has_content else parent
            if holder is None:
                planner.error(
                    n,
                    "content",
                    "",
                    "此行有测评标准，但测评内容为空，上方也没有可沿用的测评内容，无法确定该标准属于哪个测评内容。",
                )
                continue
            standard = planner.standard(holder, row.get("standard"), n)
            if standard is None:
                continue
            deepest = standard

        # 分值 is the content's (a row that repeats the content and adds a standard included).
        weighted = content if content is not None else deepest
        if weight is not None:
            if weighted.weight_row is not None and weighted.weight != weight:
                planner.error(
                    n,
                    "weight",
                    row.get("weight"),
                    f"“{cell_label(weighted.code, weighted.title)}”的分值在第 {weighted.weight_row} 行为 "
                    f"{_format_decimal(weighted.weight)}，此行为 {_format_decimal(weight)}；同一{Level(weighted.level).label}只能有一个分值。",
                )
            elif weighted.weight_row is None:
                weighted.weight, weighted.weight_row = weight, n

        if values is None:
            continue
        if deepest.own_row is not None and deepest.own_row != n:
            if values.any:
                planner.error(
                    n,
                    _column_of(deepest.level),
                    "",
                    f"此行与第 {deepest.own_row} 行重复：“{cell_label(deepest.code, deepest.title)}”已在第 {deepest.own_row} 行填写。",
                )
            continue
        deepest.own_row = n
        deepest.methods = values.methods
        deepest.units = values.units
        deepest.requirements = values.requirements
        deepest.point_types = values.point_types
        deepest.veto = values.veto
        deepest.deadline = values.deadline
    return planner


# --- Warnings: what a field-only system may leave out ----------------------------------------------

# The columns a system imported only to score field checks may lack or leave blank, and what a
# blank means downstream (a warning on the preview, never an error). The rest stay errors: a row
# must name its 测评项目 (or have one above it), a code needs a title, 测评标准 is a column of every
# sheet, and a 测评内容 column left blank with none above a standard is ambiguous.
RELAXED_COLUMNS = ("content", "weight", "methods", "lead", "responsible")
BLANK_WARNINGS = {
    "weight": "未填分值：该指标按实地考察计分时不影响，网上申报完成度将不计其权重。",
    "methods": "未填测评方法：该指标不计入网上申报完成度；实地考察按检查项计分，不受影响。",
    "lead": "未填牵头单位：该指标不会列入任何单位的任务单；实地考察按点位和检查项计分，不受影响。",
    "responsible": "未填责任单位：该指标不会列入任何单位的任务单；实地考察按点位和检查项计分，不受影响。",
}
MISSING_COLUMN_WARNINGS = {
    "content": "表中没有“测评内容”列：测评标准直接列在指标名称（或测评项目）下，分值填在测评标准所在行。",
    "weight": "表中没有“分值”列：各指标都没有分值，按实地考察计分时不影响，网上申报完成度将不计其权重。",
    "methods": "表中没有“测评方法”列：各指标都不计入网上申报完成度；实地考察按检查项计分，不受影响。",
    "lead": "表中没有“牵头单位”列：各指标都不会按牵头单位列入任务单；实地考察不受影响。",
    "responsible": "表中没有“责任单位”列：各指标都不会按责任单位列入任务单；实地考察不受影响。",
}


def _warnings(planner: _Planner, present: set[str]) -> list[RowError]:
    """One warning per column a field-only sheet left out, then one per row whose node ends up
    without a 分值, a 测评方法, a 牵头单位 or a 责任单位 — neither its own nor one inherited from a
    node above it (a standard takes its content's 分值, methods and units pass down). Only the
    nodes the sheet names are checked, and only leaves: a parent's values are its leaves'."""
    warnings = [
        RowError(None, HEADERS[key], "", MISSING_COLUMN_WARNINGS[key]) for key in RELAXED_COLUMNS if key not in present
    ]
    weight_warned: set[int] = set()
    for node in planner.nodes:
        if node.children:
            continue
        chain = []
        walker: _Node | None = node
        while walker is not None and walker.level:
            chain.append(walker)
            walker = walker.parent
        row = node.own_row or node.row
        if "weight" in present and not any(n.weight is not None for n in chain):
            # The 分值 is the content's: one warning on the row naming it, not one per standard.
            weighted = next((n for n in chain if n.level == Level.CONTENT), node)
            if id(weighted) not in weight_warned:
                weight_warned.add(id(weighted))
                warnings.append(RowError(weighted.row, HEADERS["weight"], "", BLANK_WARNINGS["weight"]))
        if "methods" in present and not any(n.methods for n in chain):
            warnings.append(RowError(row, HEADERS["methods"], "", BLANK_WARNINGS["methods"]))
        for role, key in ((AssignmentRole.LEAD, "lead"), (AssignmentRole.RESPONSIBLE, "responsible")):
            if key in present and not any(n.units[role] for n in chain):
                warnings.append(RowError(row, HEADERS[key], "", BLANK_WARNINGS[key]))
    warnings.sort(key=lambda w: w.row or 0)
    return warnings


# --- Matching the existing tree -------------------------------------------------------------------


def _match(planner: _Planner, existing: list[Indicator], errors: list[RowError]) -> None:
    """Pair each planned node with the existing indicator at the same place: the path of codes,
    else of titles."""
    children: dict[int | None, list[Indicator]] = defaultdict(list)
    for indicator in existing:
        children[indicator.parent_id].append(indicator)

    def walk(parent: _Node, parent_pk: int | None) -> None:
        pool = children.get(parent_pk, []) if (parent_pk is not None or parent is planner.root) else []
        claimed: set[int] = set()
        codes_in_sheet = {child.code for child in parent.children if child.code}
        by_code = {clean_text(i.code): i for i in pool if i.code}
        for node in parent.children:
            candidate = by_code.get(node.code) if node.code else None
            if candidate is None:
                continue
            if candidate.level != node.level:
                errors.append(
                    RowError(
                        node.row,
                        HEADERS[_column_of(node.level)],
                        cell_label(node.code, node.title),
                        f"编号“{node.code}”已被同一上级下的{Level(candidate.level).label}“{candidate}”使用。",
                    )
                )
                continue
            node.existing = candidate
            claimed.add(candidate.pk)
        for node in parent.children:
            if node.existing is not None:
                continue
            for candidate in pool:
                if (
                    candidate.pk not in claimed
                    and candidate.level == node.level
                    and clean_text(candidate.title) == node.title
                    and not (node.code and candidate.code and clean_text(candidate.code) in codes_in_sheet)
                ):
                    node.existing = candidate
                    claimed.add(candidate.pk)
                    break
        _plan_orders(parent.children)
        for node in parent.children:
            walk(node, node.existing.pk if node.existing else None)

    walk(planner.root, None)


def _plan_orders(children: list[_Node]) -> None:
    """Keep the existing orders where the sheet keeps their sequence and leaves room for new nodes;
    else number the children 1, 2, 3 … as the sheet lists them."""
    last = 0
    orders = []
    for position, node in enumerate(children):
        if node.existing is not None:
            if node.existing.order <= last:
                break
            last = node.existing.order
        else:
            following = next((c.existing.order for c in children[position + 1 :] if c.existing is not None), None)
            if following is not None and last + 1 >= following:
                break
            last += 1
        orders.append(last)
    else:
        for node, order in zip(children, orders, strict=True):
            node.order = order
        return
    for position, node in enumerate(children, start=1):
        node.order = position


# --- Import ---------------------------------------------------------------------------------------

FIELD_HEADERS = {
    "code": "编号",
    "title": "名称",
    "text": "内容",
    "weight": "分值",
    "methods": "测评方法",
    AssignmentRole.LEAD: "牵头单位",
    AssignmentRole.RESPONSIBLE: "责任单位",
    "requirements": "材料要求",
    "point_types": "适用点位",
    "veto": "一票否决",
    "deadline": "完成时限",
    "order": "排序",
}


def _changes(
    node: _Node, methods: dict[int, set[str]], units: dict[tuple[int, str], set[int]], unit_names: dict[int, str]
) -> dict[str, tuple[str, str]]:
    """What importing `node` would change on its existing indicator (field → (old, new))."""
    old = node.existing
    changes: dict[str, tuple[str, str]] = {}
    for key in ("code", "title", "text", "requirements", "point_types"):
        before, after = getattr(old, key), getattr(node, key)
        if before != after and clean_text(before) != after:
            changes[key] = (before, after)
    if old.weight != node.weight:
        changes["weight"] = (_format_decimal(old.weight), _format_decimal(node.weight))
    if old.veto != node.veto:
        changes["veto"] = ("是" if old.veto else "否", "是" if node.veto else "否")
    if old.deadline != node.deadline:
        changes["deadline"] = (
            old.deadline.isoformat() if old.deadline else "",
            node.deadline.isoformat() if node.deadline else "",
        )
    if old.order != node.order:
        changes["order"] = (str(old.order), str(node.order))
    if methods.get(old.pk, set()) != set(node.methods):
        changes["methods"] = (_method_labels(methods.get(old.pk, set())), _method_labels(node.methods))
    for role in AssignmentRole.values:
        before = units.get((old.pk, role), set())
        after = {u.pk for u in node.units[role]}
        if before != after:
            changes[role] = (
                "、".join(sorted(unit_names[pk] for pk in before)),
                "、".join(u.display_name for u in node.units[role]),
            )
    return changes


def indicators_import(*, system: IndicatorSystem, file, dry_run: bool) -> ImportResult:
    """Import a 任务分解表 into `system`: every row checked first, then all or nothing.

    Existing nodes are matched by the path of codes (else titles) and updated in place; nodes the
    sheet does not name are left as they are. When nothing changes nothing is written.
    """
    try:
        rows = read_table(file, columns=INDICATOR_COLUMNS)
    except ImportFileError as exc:
        return exc.as_result(dry_run=dry_run)
    result = ImportResult(dry_run=dry_run)
    errors = result.errors
    present = set(rows[0].values)
    planner = _plan(rows, present=present, errors=errors)

    existing = list(Indicator.objects.filter(system=system))
    if not errors:
        _match(planner, existing, errors)
    errors.sort(key=lambda e: e.row or 0)
    if errors:
        return result
    result.warnings.extend(_warnings(planner, present))

    methods: dict[int, set[str]] = defaultdict(set)
    for indicator_id, method in IndicatorMethod.objects.filter(indicator__system=system).values_list(
        "indicator_id", "method"
    ):
        methods[indicator_id].add(method)
    units: dict[tuple[int, str], set[int]] = defaultdict(set)
    for indicator_id, role, unit_id in Assignment.objects.filter(indicator__system=system, inherited=False).values_list(
        "indicator_id", "role", "unit_id"
    ):
        units[(indicator_id, role)].add(unit_id)
    unit_names = {u.pk: u.display_name for u in Unit.objects.filter(pk__in={pk for s in units.values() for pk in s})}

    planned_changes: dict[int, dict] = {}
    for node in planner.nodes:
        if node.existing is None:
            result.rows.append(RowChange(node.row, "create", node.label))
            continue
        changes = _changes(node, methods, units, unit_names)
        planned_changes[id(node)] = changes
        result.rows.append(
            RowChange(
                node.row,
                "update" if changes else "unchanged",
                node.label,
                {FIELD_HEADERS[key]: value for key, value in changes.items()},
            )
        )
    if dry_run or not (result.created or result.updated):
        return result
    _apply(system=system, nodes=planner.nodes, planned_changes=planned_changes)
    return result


@transaction.atomic
def _apply(*, system: IndicatorSystem, nodes: list[_Node], planned_changes: dict[int, dict]) -> None:
    for node in nodes:  # parents come before their children
        parent = node.parent.saved if node.parent is not None and node.parent.level else None
        if node.existing is None:
            node.saved = services.indicator_create(
                system=system,
                level=node.level,
                title=node.title,
                parent=parent,
                code=node.code,
                text=node.text,
                weight=node.weight,
                methods=node.methods,
                order=node.order,
                veto=node.veto,
                requirements=node.requirements,
                point_types=node.point_types,
                deadline=node.deadline,
                rebuild=False,
            )
            for role, chosen in node.units.items():
                if chosen:
                    services.indicator_set_units(indicator=node.saved, role=role, units=chosen, rebuild=False)
            continue
        node.saved = node.existing
        changes = planned_changes[id(node)]
        fields = {key: getattr(node, key) for key in changes if key in services.INDICATOR_FIELDS}
        if "methods" in changes:
            fields["methods"] = node.methods
        if fields:
            services.indicator_update(indicator=node.existing, rebuild=False, **fields)
        for role in AssignmentRole.values:
            if role in changes:
                services.indicator_set_units(indicator=node.existing, role=role, units=node.units[role], rebuild=False)
    services.indicator_system_rebuild(system=system)


# --- Export ---------------------------------------------------------------------------------------


# Departments first, then the territorial units from the top down, as offices list them in a cell.
UNIT_KIND_ORDER = {
    UnitKind.DEPARTMENT: 0,
    UnitKind.DISTRICT: 1,
    UnitKind.STREET: 2,
    UnitKind.COMMUNITY: 3,
    UnitKind.OTHER: 4,
}


def _unit_reference(unit: Unit, lookup: UnitLookup) -> str:
    """The short name when it names only this unit, else the name, else the code."""
    for name in (unit.short_name, unit.name):
        if name and len(lookup.by_name.get(name, [])) == 1 and name not in lookup.by_code:
            return name
    return unit.code


def indicators_export(*, system: IndicatorSystem) -> bytes:
    """The system as a 任务分解表 in the import's layout: one row per leaf (and a row of its own for
    a parent that carries values no leaf row can), parents merged down over their rows."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    nodes = list(Indicator.objects.filter(system=system).order_by("order", "pk"))
    children: dict[int | None, list[Indicator]] = defaultdict(list)
    for node in nodes:
        children[node.parent_id].append(node)
    methods: dict[int, set[str]] = defaultdict(set)
    for indicator_id, method in IndicatorMethod.objects.filter(indicator__system=system).values_list(
        "indicator_id", "method"
    ):
        methods[indicator_id].add(method)
    own_units: dict[tuple[int, str], list[Unit]] = defaultdict(list)
    assignments = Assignment.objects.filter(indicator__system=system, inherited=False).select_related("unit")
    for assignment in sorted(assignments, key=lambda a: (UNIT_KIND_ORDER.get(a.unit.kind, 9), a.unit.path)):
        own_units[(assignment.indicator_id, assignment.role)].append(assignment.unit)
    lookup = UnitLookup()

    def carries_values(node: Indicator) -> bool:
        return bool(
            methods.get(node.pk)
            or own_units.get((node.pk, AssignmentRole.LEAD))
            or own_units.get((node.pk, AssignmentRole.RESPONSIBLE))
            or node.veto
            or node.deadline
            or node.requirements
            or node.point_types
            or (node.weight is not None and node.level != Level.CONTENT)
        )

    lines: list[tuple[dict[int, Indicator], Indicator]] = []  # (nodes by level, the row's own node)

    def emit(node: Indicator, path: dict[int, Indicator]) -> None:
        path = {**path, node.level: node}
        kids = children.get(node.pk, [])
        if not kids or carries_values(node):
            lines.append((path, node))
        for kid in kids:
            emit(kid, path)

    for root in children.get(None, []):
        emit(root, {})

    keys = ["project"]
    if any(n.level == Level.INDICATOR for n in nodes):
        keys.append("indicator")
    # A field-only system's standards may hang right under their 测评项目 / 指标名称: without any
    # 测评内容 the column is left out, so that the sheet imports back the same way.
    if any(n.level == Level.CONTENT for n in nodes) or not any(n.level == Level.STANDARD for n in nodes):
        keys.append("content")
    keys += ["weight", "standard", "methods", "lead", "responsible", "requirements", "point_types"]
    if any(n.veto for n in nodes):
        keys.append("veto")
    if any(n.deadline for n in nodes):
        keys.append("deadline")
    level_of_key = {
        "project": Level.PROJECT,
        "indicator": Level.INDICATOR,
        "content": Level.CONTENT,
        "standard": Level.STANDARD,
    }

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "任务分解表"
    append_row(sheet, [HEADERS[key] for key in keys])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)

    def value(key: str, path: dict[int, Indicator], own: Indicator):
        if key in level_of_key:
            node = path.get(level_of_key[key])
            return cell_label(node.code, node.title, node.text) if node is not None else None
        if key == "weight":
            weighted = path.get(Level.CONTENT, own)
            if weighted.weight is None:
                return None
            return (
                int(weighted.weight)
                if weighted.weight == weighted.weight.to_integral_value()
                else float(weighted.weight)
            )
        if key == "methods":
            return _method_labels(methods.get(own.pk, set())) or None
        if key in ("lead", "responsible"):
            role = AssignmentRole.LEAD if key == "lead" else AssignmentRole.RESPONSIBLE
            return "、".join(_unit_reference(u, lookup) for u in own_units.get((own.pk, role), [])) or None
        if key == "veto":
            return "是" if own.veto else "否"
        if key == "deadline":
            return own.deadline
        return getattr(own, key) or None

    for path, own in lines:
        append_row(sheet, [value(key, path, own) for key in keys])
        for column, key in enumerate(keys, start=1):
            cell = sheet.cell(row=sheet.max_row, column=column)
            cell.alignment = Alignment(vertical="center", wrap_text=True)
            if key == "deadline" and own.deadline:
                cell.number_format = "yyyy-mm-dd"

    # Parents (and a content's 分值) merged down over their rows, as offices lay them out.
    def merge_runs(column: int, identity) -> None:
        start = 0
        for index in range(1, len(lines) + 1):
            if (
                index < len(lines)
                and identity(lines[index]) is not None
                and identity(lines[index]) == identity(lines[start])
            ):
                continue
            if identity(lines[start]) is not None and index - start > 1:
                sheet.merge_cells(start_row=start + 2, start_column=column, end_row=index + 1, end_column=column)
            start = index

    for column, key in enumerate(keys, start=1):
        if key in ("project", "indicator", "content"):
            level = level_of_key[key]
            merge_runs(column, lambda line, level=level: line[0][level].pk if level in line[0] else None)
        elif key == "weight":
            merge_runs(column, lambda line: line[0][Level.CONTENT].pk if Level.CONTENT in line[0] else None)

    widths = {
        "project": 22,
        "indicator": 22,
        "content": 28,
        "weight": 8,
        "standard": 60,
        "methods": 18,
        "lead": 20,
        "responsible": 30,
        "requirements": 30,
        "point_types": 18,
        "veto": 10,
        "deadline": 12,
    }
    for column, key in enumerate(keys, start=1):
        sheet.column_dimensions[sheet.cell(row=1, column=column).column_letter].width = widths[key]
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
