"""The Chinese labels the pages use: weeks (campaign/weeks.py), jobs (campaign/job_labels.py), the
draft diff of the ranking page, and the template filters."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.template import Context, Template

from accountability.ranking_views import readable_changes
from campaign.job_labels import job_error_text, job_label, job_result_text
from campaign.weeks import week_label, week_short

TODAY = datetime.date(2026, 12, 5)


def test_a_week_of_this_year_reads_its_number_and_days():
    assert week_label("2026-W48", today=TODAY) == "第48周（11月23日—11月29日）"
    assert week_short("2026-W48", today=TODAY) == "第48周"


def test_a_week_of_another_year_carries_its_year():
    assert week_label("2025-W52", today=TODAY) == "2025年第52周（12月22日—12月28日）"
    assert week_short("2025-W52", today=TODAY) == "2025年第52周"


def test_a_week_across_the_new_year_names_both_months():
    assert week_label("2026-W01", today=TODAY) == "第1周（12月29日—1月4日）"
    assert week_label("2026-W53", today=TODAY) == "第53周（12月28日—1月3日）"


def test_anything_else_is_shown_as_it_is():
    assert week_label("", today=TODAY) == ""
    assert week_label(None, today=TODAY) == ""
    assert week_label("2026-W54", today=TODAY) == "2026-W54"  # no such week: not a label


def test_the_filters_use_the_current_year(settings):
    this_year = datetime.date.today().isocalendar()[0]
    rendered = Template("{% load weeks %}{{ a|week_label }}|{{ a|week_short }}|{{ b|week_short }}").render(
        Context({"a": f"{this_year}-W10", "b": f"{this_year - 1}-W10"})
    )
    label, short, other = rendered.split("|")
    assert label.startswith("第10周（") and short == "第10周" and other == f"{this_year - 1}年第10周"


def test_jobs_and_their_results_read_in_chinese():
    assert job_label("weekly_rollup") == "周评比计算"
    assert job_label("bulletin_render") == "周通报生成"
    assert job_label("import") == "导入"
    assert job_label("something_new") == "后台任务"
    text = job_result_text({"version": 3, "number": 2, "rows": 12, "outcome": "created", "mystery": 1})
    assert text == "版本记录：3、版本：第2版、行数：12、结果：已生成草稿、其他结果：1"
    assert job_result_text({"dry_run": False, "created": 8, "detail": "imports/x.json"}) == "仅预览：否、新增：8"
    assert job_result_text({"week": "2026-W48"}).startswith("周次：第48周")
    assert job_error_text("导入失败：第 2 行缺少名称") == "导入失败：第 2 行缺少名称"
    assert job_error_text("ValueError('boom')").startswith("运行出错")
    assert job_error_text("") == ""


def test_the_draft_diff_names_metrics_in_chinese():
    changes = readable_changes(
        [
            {
                "unit_id": 1,
                "unit_name": "甲区",
                "fields": {
                    "failing_observations": (7, 6),
                    "composite": (80, 82),
                    "score_rate": (Decimal("0.375"), Decimal("0.583333")),
                    "board": (None, "black"),
                    "vetoed": (False, True),
                    "veto_events": ([], [{"title": "重大安全事故", "status": "open"}]),
                },
            }
        ]
    )
    assert changes[0]["fields"] == {
        "不合格数": (7, 6),
        "综合分": (80, 82),
        "得分率": ("37.5%", "58.3%"),
        "红黑榜": (None, "黑榜"),
        "一票否决": ("否", "是"),
        "否决事件": ("无", "重大安全事故"),
    }


def test_filter_labels_stay_chinese_after_a_field_was_built_on_the_class():
    """The API schema reads a FilterSet's class-level filters before any instance names them: the
    page's filter still says 创建级别, never "Level"."""
    from campaign.filters import CampaignFilterSet
    from campaign.models import Campaign

    level = CampaignFilterSet.base_filters["level"]
    level.__dict__.pop("_field", None)
    try:
        assert level.field.label is None  # built without the model: Django would show "Level"
        form = CampaignFilterSet(data={}, queryset=Campaign.objects.none()).form
        assert form.fields["level"].label == "创建级别"
    finally:
        level.__dict__.pop("_field", None)
