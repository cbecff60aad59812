"""The demo's check items hang under the 测评标准 whose text they check (issue 13, item 7), so the
leaders' 指标失分 charge losses to the standards really failed ("安全出口畅通" once hung under
"餐饮场所张贴‘光盘行动’宣传提示")."""

import pytest

from inspections.demo import CATALOG
from inspections.models import CheckItem

# Item → words the text of its standard (or, for a generic one, its 测评内容/指标) must contain,
# written from the demo sheet by hand, not read from the demo module's table.
EXPECTED = {
    "安全出口畅通": ("Ⅲ-24", "安全出口畅通"),
    "明码标价，公平秤设置规范": ("Ⅲ-20", "明码标价"),
    "无占道经营、无乱堆乱放": ("Ⅲ-20", "无占道经营"),
    "地面干净，无积水、无垃圾": ("Ⅲ-19", "地面干净"),
    "路面平整，无坑洼积水": ("Ⅲ-25", "路面平整"),
    "厕所干净无异味": ("Ⅲ-26", "无异味"),
    "标识醒目": ("Ⅲ-26", "指示标识醒目"),
    "导诊服务规范，候诊秩序良好": ("Ⅲ-23", "导诊服务规范"),
    "校门口交通秩序良好": ("Ⅲ-38", "校门口交通秩序良好"),
    "校园周边200米内无网吧、无游戏厅": ("Ⅲ-38", "无网吧"),
    "站牌信息清晰完整": ("Ⅲ-32", "站牌信息清晰完整"),
    "200米内至少1处公益广告": ("Ⅲ-4", "200米内至少1处"),
    "机动车、非机动车停放有序": ("Ⅲ-27", "停放有序"),
    "设施完好，标识规范": ("Ⅲ-30", "设施完好，标识规范"),
    # No standard of the sheet words these for their place: the 测评内容 or 指标 of their topic.
    "从大门步行200米，抽查2个楼道：楼道整洁无杂物": ("Ⅱ-9", "市容环境"),
    "公益广告不少于3处": ("Ⅲ-4", "公益广告宣传"),
    "服务文明规范": ("Ⅲ-24", "商业服务"),
}


@pytest.fixture
def demo_items(db):
    from campaign.demo import seed_all
    from inspections.demo import seed_items_and_points

    context = seed_all(only=("campaign", "indicators"))
    seed_items_and_points(context)
    return {item.text: item for item in CheckItem.objects.select_related("indicator__parent")}


def _content_code(indicator) -> str:
    """The 测评内容 (Ⅲ-…) or 指标 (Ⅱ-…) code an item's standard belongs to."""
    return indicator.code if not indicator.code.endswith(")") else indicator.parent.code


def test_pinned_items_hang_under_the_standard_they_check(demo_items):
    for text, (code, words) in EXPECTED.items():
        indicator = demo_items[text].indicator
        assert (_content_code(indicator), words in indicator.title) == (code, True), (text, indicator.title)


def test_no_item_hangs_under_a_standard_about_something_else(demo_items):
    # The old wrong pairs: nothing under the 光盘行动 standard or the theory study ones.
    for item in demo_items.values():
        assert "光盘行动" not in item.indicator.title, item.text
        if item.indicator.top.code == "Ⅰ-1":  # 思想引领: only the items about 宣传 belong there
            assert "公益广告" in item.text or "核心价值观" in item.text, (item.text, item.indicator.title)
    # Every item of the demo table is seeded under its standard, one per (type, standard, text).
    assert len(demo_items) == len({text for rows in CATALOG.values() for _ref, text, *_ in rows})


def test_every_field_item_of_the_demo_names_a_standard_of_its_topic(demo_items):
    """Items under a 测评标准 (a leaf) share a phrase (three characters) with it; the few under a 测评内容 or 指标
    are the generic ones pinned above."""
    generic = {text for text, (code, _words) in EXPECTED.items() if not demo_items[text].indicator.code.endswith(")")}
    for item in demo_items.values():
        indicator = item.indicator
        if not indicator.code.endswith(")"):
            assert item.text in generic | {"道路设施完好", "核心价值观主题宣传"}, item.text
            continue
        phrases = {item.text[i : i + 3] for i in range(len(item.text) - 2)}
        assert any(phrase in indicator.title for phrase in phrases), (item.text, indicator.title)
