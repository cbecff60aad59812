"""The map of problems (问题地图, issue 16 item 4): where the problems found in a period are, for the
points map's 问题 layer and the 大屏.

One read, `problem_map_data`, answered in two queries whatever the number of problems: the counts
(located, unlocated) by one aggregate, then up to `PROBLEM_MAP_LIMIT` rows as compact arrays
`[id, lat, lng, status, overdue]`, newest first. A problem's position is its own latitude/longitude
when it has both (a citizen's report, a 12345 ticket), else its point's — chosen in SQL. Problems
with neither are counted (`unlocated`), never listed. Scoped exactly like the problem list
(`problem_list`); void problems are left out (a voided problem is a correction, not a problem).
The filters are a plain Django form (`ProblemMapForm`), so the API and a page refuse bad input
with the same Chinese messages."""

from __future__ import annotations

import datetime

from django import forms
from django.db.models import Case, Count, DecimalField, F, IntegerField, Q, Subquery, Value, When
from django.utils import timezone

from campaign.models import Unit
from campaign.selectors import campaign_from_param

from .choices import ProblemStatus
from .models import PointType, PublicCategory
from .selectors import iso_week_bounds, overdue_q, problem_list

# The most problems one answer lists (newest first); beyond it the answer says `truncated`.
PROBLEM_MAP_LIMIT = 20_000

OPEN_STATUSES = [ProblemStatus.NEW, ProblemStatus.ASSIGNED, ProblemStatus.RECTIFYING, ProblemStatus.REVIEWING]

# The colours of the map, defined once: the page, the component and the 大屏 read them from the answer.
STATUS_COLOURS = {
    ProblemStatus.NEW: "#f76707",
    ProblemStatus.ASSIGNED: "#f59f00",
    ProblemStatus.RECTIFYING: "#4263eb",
    ProblemStatus.REVIEWING: "#ae3ec9",
    ProblemStatus.CLOSED: "#2fb344",
}
OVERDUE_COLOUR = "#d63939"

STATUS_GROUPS = [("open", "未办结"), ("closed", "已销号"), ("overdue", "超期")]

FIELDS = ["id", "lat", "lng", "status", "overdue"]


class ProblemMapForm(forms.Form):
    """The map's filters. `campaign`: an id or `all` (default the current campaign); `week` (ISO) or
    `since`/`until` (dates, inclusive, Asia/Shanghai) on the day found; `district`: a unit id, the
    problems located in its subtree; `category`: a 公众问题类别 id — its check items or point types;
    `point_type`: a point type id; `status`: open / closed / overdue; `overdue=1`: only overdue."""

    campaign = forms.CharField(required=False, max_length=20)
    week = forms.CharField(required=False, max_length=10)
    since = forms.DateField(required=False, error_messages={"invalid": "开始日期格式应为 2026-11-23。"})
    until = forms.DateField(required=False, error_messages={"invalid": "结束日期格式应为 2026-11-29。"})
    district = forms.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, error_messages={"invalid": "区域应为单位编号。"}
    )
    category = forms.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, error_messages={"invalid": "问题类别应为编号。"}
    )
    point_type = forms.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, error_messages={"invalid": "点位类别应为编号。"}
    )
    status = forms.ChoiceField(
        required=False,
        choices=[("", "全部")] + STATUS_GROUPS,
        error_messages={"invalid_choice": "状态应为 open（未办结）、closed（已销号）或 overdue（超期）。"},
    )
    overdue = forms.CharField(required=False, max_length=5)

    def clean_campaign(self):
        return campaign_from_param(self.cleaned_data.get("campaign"))

    def clean_week(self):
        week = self.cleaned_data.get("week") or ""
        if week:
            try:
                iso_week_bounds(week)
            except ValueError as exc:
                raise forms.ValidationError(str(exc)) from None
        return week

    def clean_overdue(self):
        raw = (self.cleaned_data.get("overdue") or "").strip().lower()
        if raw in ("", "0", "false"):
            return False
        if raw in ("1", "true"):
            return True
        raise forms.ValidationError("overdue 应为 1 或 0。")

    def clean_district(self):
        pk = self.cleaned_data.get("district")
        if pk is None:
            return None
        unit = Unit.objects.filter(pk=pk).only("pk", "path").first()
        if unit is None:
            raise forms.ValidationError(f"单位“{pk}”不存在。")
        return unit

    def clean_point_type(self):
        pk = self.cleaned_data.get("point_type")
        if pk is None:
            return None
        if not PointType.objects.filter(pk=pk).exists():
            raise forms.ValidationError(f"点位类别“{pk}”不存在。")
        return pk

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", "结束日期不能早于开始日期。")
        if data.get("week") and (since or until):
            self.add_error("week", "周次与起止日期只能选一种。")
        pk = data.get("category")
        if pk is not None and "campaign" in data:
            categories = PublicCategory.objects.filter(pk=pk)
            if data["campaign"] is not None:
                categories = categories.filter(campaign=data["campaign"])
            if not categories.exists():
                self.add_error("category", f"问题类别“{pk}”不存在。")
        return data


def _period_q(*, week: str, since: datetime.date | None, until: datetime.date | None) -> Q:
    if week:
        start, end = iso_week_bounds(week)
        return Q(found_at__gte=start, found_at__lt=end)
    tz = timezone.get_default_timezone()
    condition = Q()
    if since:
        condition &= Q(found_at__gte=datetime.datetime.combine(since, datetime.time.min, tzinfo=tz))
    if until:
        end = datetime.datetime.combine(until + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)
        condition &= Q(found_at__lt=end)
    return condition


def problem_map_queryset(*, user, filters: dict):
    """The problems the map shows for cleaned `filters` (ProblemMapForm.cleaned_data), annotated
    with `map_lat`, `map_lng` (own position, else the point's) and `map_overdue` (overdue_q)."""
    problems = problem_list(user=user, campaign=filters.get("campaign")).exclude(status=ProblemStatus.VOID)
    problems = problems.filter(
        _period_q(week=filters.get("week") or "", since=filters.get("since"), until=filters.get("until"))
    )
    if filters.get("district") is not None:
        problems = problems.filter(unit__in=Unit.objects.filter(path__startswith=filters["district"].path).values("pk"))
    if filters.get("category") is not None:
        through_items = PublicCategory.check_items.through.objects.filter(publiccategory_id=filters["category"])
        through_types = PublicCategory.point_types.through.objects.filter(publiccategory_id=filters["category"])
        problems = problems.filter(
            Q(check_item_id__in=Subquery(through_items.values("checkitem_id")))
            | Q(point__point_type_id__in=Subquery(through_types.values("pointtype_id")))
        )
    if filters.get("point_type") is not None:
        problems = problems.filter(point__point_type_id=filters["point_type"])
    today = timezone.localdate()
    overdue = overdue_q(today)
    status = filters.get("status")
    if status == "open":
        problems = problems.filter(status__in=OPEN_STATUSES)
    elif status == "closed":
        problems = problems.filter(status=ProblemStatus.CLOSED)
    if status == "overdue" or filters.get("overdue"):
        problems = problems.filter(overdue)
    own = Q(latitude__isnull=False, longitude__isnull=False)
    coordinate = DecimalField(max_digits=9, decimal_places=6)
    return problems.annotate(
        map_lat=Case(When(own, then=F("latitude")), default=F("point__latitude"), output_field=coordinate),
        map_lng=Case(When(own, then=F("longitude")), default=F("point__longitude"), output_field=coordinate),
        map_overdue=Case(When(overdue, then=Value(1)), default=Value(0), output_field=IntegerField()),
    )


def problem_map_data(*, user, filters: dict, limit: int = PROBLEM_MAP_LIMIT) -> dict:
    """The compact answer: counts, then up to `limit` rows [id, lat, lng, status, overdue (0/1)].
    Two queries (the counts, the rows), whatever the number of problems."""
    problems = problem_map_queryset(user=user, filters=filters)
    located = Q(map_lat__isnull=False, map_lng__isnull=False)
    counts = problems.order_by().aggregate(located=Count("pk", filter=located), unlocated=Count("pk", filter=~located))
    rows = []
    if counts["located"]:
        rows = list(
            problems.filter(located)
            .order_by("-found_at", "-id")
            .values_list("pk", "map_lat", "map_lng", "status", "map_overdue")[:limit]
        )
    campaign = filters.get("campaign")
    return {
        "campaign": campaign.pk if campaign is not None else None,
        "fields": FIELDS,
        "problems": [[pk, float(lat), float(lng), status, overdue] for pk, lat, lng, status, overdue in rows],
        "count": len(rows),
        "located": counts["located"],
        "unlocated": counts["unlocated"],
        "truncated": counts["located"] > len(rows),
        "limit": limit,
        "statuses": status_legend(),
    }


def status_legend() -> list[dict]:
    """The statuses the map colours, each with its label and colour, then 超期 (a flag over any open one)."""
    labels = dict(ProblemStatus.choices)
    legend = [{"code": code, "label": labels[code], "colour": colour} for code, colour in STATUS_COLOURS.items()]
    return legend + [{"code": "overdue", "label": "超期", "colour": OVERDUE_COLOUR}]
