"""The 变更记录: one feed of every score-relevant change — who, when, before and after.

The rows are django-simple-history's (one historical table per audited model, written by the
models' signals and, for bulk writes, by `campaign.audit`), plus inspection corrections, which
have no history table: a correction is a new `Inspection` that `supersedes` the old one, so its
entry is read from the inspection rows (who: the new inspection's inspector, when: its
submission, before/after: the failing items of the superseded and of the new inspection).

Reading is in two steps, so a page costs the same whatever the history's length:
1. `change_keys` — the filtered (source, row id, time) keys of every source, stacked with UNION ALL
   and ordered by time in the database; the paginator reads only a page of them (and the count);
2. `change_entries` — that page's rows only: per source on the page one query for its rows (each
   with the id of its previous version, a correlated subquery), one for those previous versions, one
   for the departments snapshots of both; then one query per related model for the names (units,
   indicators, users …). Values are compared raw and rendered in Chinese afterwards.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import BigIntegerField, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Cast
from django.utils import timezone

from accountability.models import CalendarDay
from campaign.audit import m2m_history_models
from campaign.models import Campaign, Membership
from campaign.selectors import scope_for
from indicators.models import Assignment, Indicator, IndicatorMethod, IndicatorSystem, NegativeListItem
from inspections.models import CheckItem, Inspection, Observation, Point, PointType

CHANGE_LABELS = {"+": "新增", "~": "修改", "-": "删除"}
CORRECTION = "correction"


@dataclass(frozen=True)
class Source:
    """One audited model: its key in URLs, its Chinese name, the fields that name an object
    (rendered and joined with `separator`), the history rows that count and fields not shown."""

    key: str
    label: str
    model: type[models.Model] | None
    repr_fields: tuple[str, ...]
    rows: Q = field(default_factory=Q)
    hidden: tuple[str, ...] = ()
    separator: str = " · "


SOURCES: dict[str, Source] = {
    source.key: source
    for source in (
        Source("checkitem", "测评细则", CheckItem, ("text",)),
        Source("indicator", "测评指标", Indicator, ("code", "title"), separator=" "),
        Source("indicatormethod", "测评方法", IndicatorMethod, ("indicator_id", "method")),
        # Inherited rows are derived by the tree's rebuild, not set by anyone: not audited.
        Source(
            "assignment",
            "任务分解",
            Assignment,
            ("indicator_id", "role", "unit_id"),
            Q(inherited=False),
            ("inherited",),
        ),
        Source("indicatorsystem", "测评体系", IndicatorSystem, ("name",)),
        Source("negativelistitem", "负面清单事项", NegativeListItem, ("code", "title"), separator=" "),
        Source("pointtype", "点位类别", PointType, ("name",)),
        Source("point", "点位", Point, ("name",)),
        Source("campaign", "创建活动（评比规则）", Campaign, ("name",)),
        Source("calendarday", "工作日历", CalendarDay, ("date", "name")),
        Source("membership", "人员角色", Membership, ("user_id", "role", "unit_id")),
        Source(CORRECTION, "检查更正", None, ()),
    )
}
MODEL_CHOICES = [(source.key, source.label) for source in SOURCES.values()]

# A correction's before/after, keyed like a model's fields.
CORRECTION_FIELDS = {"failures": "不合格项", "correction_reason": "更正原因"}


class UnknownModel(ValueError):
    """A `model` filter that names no audited model."""


@dataclass
class Change:
    """One entry of the feed. `before`/`after` hold only the changed fields (field name → value
    rendered as shown), `labels` their Chinese names, in the model's field order."""

    model: str
    model_label: str
    object_id: int
    object_repr: str
    change: str
    user: object | None
    changed_at: datetime.datetime
    before: dict[str, str]
    after: dict[str, str]
    labels: dict[str, str]
    reason: str = ""

    @property
    def change_label(self) -> str:
        return CHANGE_LABELS.get(self.change, self.change)

    @property
    def rows(self) -> list[tuple[str, str, str]]:
        """(label, before, after) of each changed field, for the table."""
        return [(label, self.before.get(name, ""), self.after.get(name, "")) for name, label in self.labels.items()]

    @property
    def user_name(self) -> str:
        return user_display(self.user)


def user_display(user) -> str:
    if user is None:
        return "系统"
    return user.get_full_name() or user.username


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def change_keys(
    *,
    model: str | None = None,
    object_id: int | None = None,
    user_id: int | None = None,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
):
    """The filtered keys (source, row id, time) of every change, newest first, as one query
    (UNION ALL of the sources) a paginator slices. Raises UnknownModel for an unknown key."""
    if model and model not in SOURCES:
        raise UnknownModel(model)
    keys = [model] if model else list(SOURCES)
    parts = []
    for key in keys:
        source = SOURCES[key]
        if key == CORRECTION:
            rows = Inspection.objects.filter(supersedes__isnull=False)
            at, who, pk = "submitted_at", "inspector_id", "pk"
            if object_id is not None:
                rows = rows.filter(Q(pk=object_id) | Q(supersedes_id=object_id))
        else:
            rows = source.model.history.filter(source.rows)
            at, who, pk = "history_date", "history_user_id", "history_id"
            if object_id is not None:
                rows = rows.filter(id=object_id)
        if user_id is not None:
            rows = rows.filter(**{who: user_id})
        if date_from is not None:
            rows = rows.filter(**{f"{at}__gte": _day_start(date_from)})
        if date_to is not None:
            rows = rows.filter(**{f"{at}__lt": _day_start(date_to + datetime.timedelta(days=1))})
        parts.append(
            rows.order_by()
            .annotate(
                k_source=Value(key, output_field=models.CharField()),
                k_row=Cast(F(pk), BigIntegerField()),
                k_at=F(at),
            )
            .values_list("k_source", "k_row", "k_at")
        )
    first, *rest = parts
    combined = first.union(*rest, all=True) if rest else first
    return combined.order_by("-k_at", "-k_row")


# --- Rendering ------------------------------------------------------------------------------------


def _tracked(source: Source) -> list[models.Field]:
    """The audited fields of a source, in the model's order (not the id)."""
    return [f for f in source.model.history.model.tracked_fields if f.attname != "id"]


def _m2m(source: Source) -> list[tuple[str, str, type[models.Model], str, str]]:
    """(field name, label, snapshot model, owner column, target column) of each tracked M2M."""
    out = []
    for m2m_field, snapshot in m2m_history_models(source.model.history.model):
        out.append(
            (
                m2m_field.name,
                str(m2m_field.verbose_name),
                snapshot,
                m2m_field.m2m_field_name(),
                m2m_field.m2m_reverse_field_name(),
            )
        )
    return out


def _related_model(source: Source, attname: str) -> type[models.Model] | None:
    for f in source.model._meta.concrete_fields:
        if f.attname == attname and f.is_relation:
            return f.related_model
    return None


def _label(source: Source, f: models.Field) -> str:
    """The field's Chinese name; a relation without its own takes its model's (测评指标)."""
    model_field = source.model._meta.get_field(f.name)
    label = str(model_field.verbose_name)
    if model_field.is_relation and label == model_field.name.replace("_", " "):
        return str(model_field.related_model._meta.verbose_name)
    return label


def _plain(value, model_field: models.Field | None) -> str:
    if value is None or value == "":
        return ""
    if model_field is not None and model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


class _Names:
    """Names of related objects, read once per model for a whole page."""

    def __init__(self):
        self.wanted: dict[type[models.Model], set] = defaultdict(set)
        self.names: dict[type[models.Model], dict] = {}
        self.objects: dict[type[models.Model], dict] = {}

    def want(self, model, value) -> None:
        if model is not None and value is not None:
            self.wanted[model].add(value)

    def load(self) -> None:
        user_model = get_user_model()
        for model, ids in self.wanted.items():
            objects = self.objects[model] = model.objects.in_bulk(ids)
            if model is user_model:
                self.names[model] = {pk: user_display(obj) for pk, obj in objects.items()}
            else:
                self.names[model] = {pk: str(obj) for pk, obj in objects.items()}

    def name(self, model, value) -> str:
        if value is None:
            return ""
        return self.names.get(model, {}).get(value) or f"#{value}（已删除）"


@dataclass
class _Row:
    key: tuple
    change: str
    user_id: int | None
    at: datetime.datetime
    object_id: int
    current: dict
    previous: dict | None
    reason: str = ""


def _history_rows(source: Source, ids: list[int]) -> list[_Row]:
    """A page's history rows of one source with their previous versions: three queries."""
    history = source.model.history.model
    fields = [f.attname for f in _tracked(source)]
    previous_id = Subquery(
        history.objects.filter(id=OuterRef("id"), history_id__lt=OuterRef("history_id"))
        .order_by("-history_id")
        .values("history_id")[:1]
    )
    current = list(
        history.objects.filter(history_id__in=ids)
        .annotate(previous_id=previous_id)
        .values(
            "history_id",
            "history_type",
            "history_user_id",
            "history_date",
            "history_change_reason",
            "previous_id",
            "id",
            *fields,
        )
    )
    previous_ids = [row["previous_id"] for row in current if row["previous_id"] is not None]
    previous = {row["history_id"]: row for row in history.objects.filter(history_id__in=previous_ids).values()}
    m2m = _m2m(source)
    if m2m:
        all_ids = [row["history_id"] for row in current] + previous_ids
        for name, _label, snapshot, _owner, target in m2m:
            sets: dict[int, set] = defaultdict(set)
            for history_id, target_id in snapshot.objects.filter(history_id__in=all_ids).values_list(
                "history_id", f"{target}_id"
            ):
                sets[history_id].add(target_id)
            for row in current:
                row[name] = sets.get(row["history_id"], set())
            for row in previous.values():
                row[name] = sets.get(row["history_id"], set())
    return [
        _Row(
            key=(source.key, row["history_id"]),
            change=row["history_type"],
            user_id=row["history_user_id"],
            at=row["history_date"],
            object_id=row["id"],
            current=row,
            previous=previous.get(row["previous_id"]),
            reason=row["history_change_reason"] or "",
        )
        for row in current
    ]


def _correction_rows(ids: list[int]) -> list[_Row]:
    """A page's corrections: the new inspections and, in one query, the failing observations of
    them and of the inspections they superseded."""
    inspections = list(
        Inspection.objects.filter(pk__in=ids).values(
            "pk", "inspector_id", "submitted_at", "supersedes_id", "correction_reason", "point__name"
        )
    )
    both = [i["pk"] for i in inspections] + [i["supersedes_id"] for i in inspections]
    failures: dict[int, list[str]] = defaultdict(list)
    for inspection_id, text, occurrences in (
        Observation.objects.filter(inspection_id__in=both, result="fail")
        .order_by("check_item__order", "id")
        .values_list("inspection_id", "check_item__text", "occurrences")
    ):
        failures[inspection_id].append(f"{text}（{occurrences}处）" if occurrences else text)
    rows = []
    for i in inspections:
        rows.append(
            _Row(
                key=(CORRECTION, i["pk"]),
                change="~",
                user_id=i["inspector_id"],
                at=i["submitted_at"],
                object_id=i["pk"],
                current={
                    "failures": "；".join(failures[i["pk"]]) or "全部合格",
                    "correction_reason": i["correction_reason"],
                    "repr": f"{i['point__name']} 检查 #{i['pk']}（更正 #{i['supersedes_id']}）",
                },
                previous={"failures": "；".join(failures[i["supersedes_id"]]) or "全部合格", "correction_reason": ""},
            )
        )
    return rows


def change_entries(keys) -> list[Change]:
    """The entries of a page of keys (from `change_keys`), in the keys' order."""
    by_source: dict[str, list[int]] = defaultdict(list)
    for source_key, row_id, _at in keys:
        by_source[source_key].append(row_id)
    rows: dict[tuple, _Row] = {}
    for source_key, ids in by_source.items():
        read = _correction_rows(ids) if source_key == CORRECTION else _history_rows(SOURCES[source_key], ids)
        rows.update({row.key: row for row in read})

    names = _Names()
    user_model = get_user_model()
    for row in rows.values():
        names.want(user_model, row.user_id)
        if row.key[0] == CORRECTION:
            continue
        source = SOURCES[row.key[0]]
        for version in (row.current, row.previous or {}):
            for f in _tracked(source):
                names.want(_related_model(source, f.attname), version.get(f.attname))
            for name, _label, _snapshot, _owner, _target in _m2m(source):
                for pk in version.get(name, ()):
                    names.want(source.model._meta.get_field(name).related_model, pk)
    names.load()

    users = names.objects.get(user_model, {})
    entries = []
    for source_key, row_id, _at in keys:
        row = rows.get((source_key, row_id))
        if row is None:
            continue
        entries.append(_entry(row, names, users))
    return entries


def _entry(row: _Row, names: _Names, users: dict) -> Change:
    source = SOURCES[row.key[0]]
    user = users.get(row.user_id)
    if source.key == CORRECTION:
        labels = dict(CORRECTION_FIELDS)
        before = {k: row.previous.get(k, "") for k in labels}
        after = {k: row.current.get(k, "") for k in labels}
        return Change(
            source.key,
            source.label,
            row.object_id,
            row.current["repr"],
            row.change,
            user,
            row.at,
            before,
            after,
            labels,
        )

    def render(version: dict, f: models.Field) -> str:
        value = version.get(f.attname)
        related = _related_model(source, f.attname)
        if related is not None:
            return names.name(related, value) if value is not None else ""
        model_field = source.model._meta.get_field(f.name) if f.attname == f.name else None
        return _plain(value, model_field)

    def render_set(version: dict, name: str) -> str:
        related = source.model._meta.get_field(name).related_model
        return "、".join(sorted(names.name(related, pk) for pk in version.get(name, ())))

    labels, before, after = {}, {}, {}
    current, previous = row.current, row.previous
    for f in _tracked(source):
        if f.name in source.hidden:
            continue
        old = previous.get(f.attname) if previous else None
        new = current.get(f.attname)
        if row.change == "+" or previous is None and row.change == "~":
            if new in (None, ""):
                continue
            labels[f.name] = _label(source, f)
            after[f.name] = render(current, f)
        elif row.change == "-":
            if new in (None, ""):
                continue
            labels[f.name] = _label(source, f)
            before[f.name] = render(current, f)
        elif old != new:
            labels[f.name] = _label(source, f)
            before[f.name], after[f.name] = render(previous, f), render(current, f)
    for name, label, _snapshot, _owner, _target in _m2m(source):
        new_set, old_set = current.get(name, set()), (previous or {}).get(name, set())
        if row.change == "-":
            if new_set:
                labels[name], before[name] = label, render_set(current, name)
        elif previous is None or row.change == "+":
            if new_set:
                labels[name], after[name] = label, render_set(current, name)
        elif new_set != old_set:
            labels[name] = label
            before[name], after[name] = render_set(previous, name), render_set(current, name)

    object_repr = source.separator.join(
        text
        for text in (
            render(current, next(f for f in _tracked(source) if f.attname == attname)) for attname in source.repr_fields
        )
        if text
    )
    return Change(
        source.key,
        source.label,
        row.object_id,
        object_repr or f"#{row.object_id}",
        row.change,
        user,
        row.at,
        before,
        after,
        labels,
        row.reason,
    )


# --- Filters ------------------------------------------------------------------------------------


class HistoryFilterForm(forms.Form):
    """The feed's filters, shared by the page and the API (`model`, `object`, `user`, `from`, `to`);
    each refusal names its field in Chinese."""

    model = forms.ChoiceField(
        label="对象类型",
        required=False,
        choices=[("", "全部类型"), *MODEL_CHOICES],
        error_messages={"invalid_choice": "对象类型“%(value)s”不存在；可选：" + "、".join(SOURCES) + "。"},
    )
    object = forms.IntegerField(
        label="对象编号", required=False, min_value=1, error_messages={"invalid": "对象编号应为正整数。"}
    )
    user = forms.IntegerField(
        label="操作人", required=False, min_value=1, error_messages={"invalid": "操作人应为用户编号。"}
    )
    date_from = forms.DateField(
        label="开始日期", required=False, error_messages={"invalid": "开始日期格式应为 2026-01-31。"}
    )
    date_to = forms.DateField(
        label="结束日期", required=False, error_messages={"invalid": "结束日期格式应为 2026-01-31。"}
    )

    def __init__(self, data=None, **kwargs):
        if data is not None:  # the URL says from/to; a form field cannot be named `from`
            data = data.copy()
            for outer, inner in (("from", "date_from"), ("to", "date_to")):
                if outer in data and inner not in data:
                    data[inner] = data[outer]
        super().__init__(data, **kwargs)

    def clean(self):
        data = super().clean()
        if data.get("object") and not data.get("model"):
            self.add_error("object", "按对象编号筛选时需同时选择对象类型。")
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            self.add_error("date_to", "结束日期不能早于开始日期。")
        return data

    def keys(self):
        """The keys of the valid filters (call after is_valid())."""
        data = self.cleaned_data
        return change_keys(
            model=data.get("model") or None,
            object_id=data.get("object"),
            user_id=data.get("user"),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )


def may_read_history(user) -> bool:
    """The office and the leaders read the 变更记录; nobody else."""
    scope = scope_for(user)
    return scope.is_office or scope.is_leader
