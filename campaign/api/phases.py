"""`PUT /api/v1/campaigns/{id}/phases/`: replace a campaign's phases (创建阶段), the office only.

The body names every phase the campaign keeps: `{"phases": [{"kind", "start_date", "end_date",
"note"}]}` (an empty list clears them). `campaign.services.campaign_set_phases` validates — each
kind once, no end before its start, no overlap — in Chinese, all or nothing, as the 设置创建阶段
page does. An archived campaign's phases may be corrected (the page allows it too: phases are
history, not scoring rules)."""

from __future__ import annotations

from rest_framework import serializers

from ..choices import PhaseKind
from .serializers import StrictFieldsMixin


class PhaseInputSerializer(StrictFieldsMixin, serializers.Serializer):
    kind = serializers.ChoiceField(choices=PhaseKind.choices, help_text="阶段：" + "、".join(PhaseKind.labels))
    start_date = serializers.DateField(help_text="开始日期")
    end_date = serializers.DateField(help_text="结束日期")
    note = serializers.CharField(allow_blank=True, default="", max_length=200, help_text="工作重点")


class PhasesInputSerializer(StrictFieldsMixin, serializers.Serializer):
    phases = PhaseInputSerializer(many=True, allow_empty=True, help_text="该创建活动的全部阶段（替换原有阶段）")

    def as_tuples(self) -> list[tuple]:
        return [
            (phase["kind"], phase["start_date"], phase["end_date"], phase.get("note", ""))
            for phase in self.validated_data["phases"]
        ]
