"""Pages of 疑点 (flagged evidence) and 抽查复核. The reads and writes live in recheck.py."""

from __future__ import annotations

from campaign.generic import Col, ObjectListView
from campaign.selectors import campaign_current
from campaign.weeks import week_label

from .recheck import KIND_LABELS, EvidenceFlagFilterSet, evidence_flag_list, evidence_kind, evidence_week


class EvidenceFlagListView(ObjectListView):
    """疑点 list: flagged 督查照片 and 整改照片 per unit and week of the current campaign (office and
    leaders all, a liaison its units', others 404); the rows of a page are one statement."""

    template_name = "accountability/evidence_flags.html"
    filterset_class = EvidenceFlagFilterSet
    title = "证据疑点"
    export_name = "证据疑点"
    empty_message = "没有疑点：本活动被引用为证据的督查照片和整改照片均未发现重复、时间或位置异常。"
    columns = [
        Col("周次", lambda f: week_label(evidence_week(f)) if f.evidence_at else ""),
        Col("证据类型", lambda f: KIND_LABELS[evidence_kind(f)]),
        Col("单位", "unit_name"),
        Col("疑点", "code"),
        Col("原因", "message"),
        Col("照片编号", "photo_id"),
        Col("此前照片编号", "earlier_photo_id"),
        Col("问题编号", "problem_ref"),
        Col("督查记录编号", lambda f: f.photo.observation.inspection_id if f.photo.observation_id else None),
        Col("证据时间", "evidence_at"),
    ]

    def base_queryset(self):
        return evidence_flag_list(user=self.request.user, campaign=campaign_current())

    def can_add(self) -> bool:
        return False

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for flag in context["object_list"]:
            flag.kind_label = KIND_LABELS[evidence_kind(flag)]
            flag.week = evidence_week(flag)
        week = self.request.GET.get("week", "")
        if week and self.filterset is not None and not self.filterset.errors:
            context["title"] = f"{self.title} · {week_label(week)}"
        return context
