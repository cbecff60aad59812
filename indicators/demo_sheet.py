"""The demo city's 任务分解表: a realistic sheet, laid out the way offices lay theirs out.

Modelled on the national 测评体系 (测评项目 → 指标名称 → 测评内容 → 测评标准), with 示范市's units
as 牵头单位 and 责任单位. The layout mixes what real sheets do: a title row above the header, an
extra 序号 and 备注 column, parents merged down in some places and left blank ("same as above")
or repeated in others, codes written with and without a space, 分值 on the content's first row or
merged over its rows, several units in one cell with mixed separators. Deterministic: the same
content on every call (`tests/fixtures/indicators/demo_sheet.xlsx` is this sheet).
"""

from __future__ import annotations

import datetime
import io

# 测评方法 shorthands.
ONLINE, REVIEW, FIELD, SURVEY, WEB, DATA = "网上申报", "材料审核", "实地考察", "问卷调查", "网络调查", "数据采集"

DISTRICTS = "东湖区、西山区、南湖区、北塘区、滨江县"
HEADER = [
    "序号",
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
    "完成时限",
    "备注",
]
TITLE = "示范市创建全国文明城市测评体系任务分解表（2026年版）"

# A standard: (text, methods, requirements, point types, deadline, note). Codes 1) 2) 3) are added
# when the sheet is written, except under contents marked `uncoded`.
# A content: (code, title, weight, lead, responsible, standards, options).
SYSTEM = [
    (
        "Ⅰ-1",
        "思想引领与理论武装",
        [
            (
                "Ⅱ-1",
                "理论武装",
                [
                    (
                        "Ⅲ-1",
                        "理论学习",
                        3,
                        "市委宣传部",
                        "市委组织部、" + DISTRICTS,
                        [
                            (
                                "党委（党组）理论学习中心组学习制度健全，年度学习计划、学习记录完整。",
                                [ONLINE, REVIEW],
                                "年度学习计划、中心组学习记录、专题研讨材料",
                                "",
                                datetime.date(2026, 6, 30),
                                "省级重点指标",
                            ),
                            (
                                "开展习近平新时代中国特色社会主义思想宣讲活动，覆盖机关、社区、企业、学校。",
                                [ONLINE, REVIEW],
                                "宣讲活动方案、活动照片、新闻报道截图",
                                "",
                                datetime.date(2026, 6, 30),
                                "",
                            ),
                            ("市民对党的创新理论知晓率达到90%以上。", [SURVEY], "", "", None, ""),
                        ],
                        {},
                    ),
                    (
                        "Ⅲ-2",
                        "新时代文明实践中心建设",
                        3,
                        "市文明办",
                        "东湖区、西山区，湖滨街道，山前街道",
                        [
                            (
                                "建成区、街道、社区三级新时代文明实践中心（所、站），有场所、有队伍、有活动。",
                                [ONLINE, FIELD],
                                "阵地建设台账、场所照片",
                                "新时代文明实践中心",
                                None,
                                "",
                            ),
                            ("文明实践站每月开展活动不少于2次，活动记录完整。", [REVIEW], "", "", None, ""),
                            ("群众对新时代文明实践活动的参与率、满意率。", [SURVEY], "", "", None, ""),
                        ],
                        {},
                    ),
                    (
                        "Ⅲ-3",
                        "宣传阵地建设与管理",
                        2,
                        "中共示范市委宣传部",
                        "市文广旅局；市教育局",
                        [
                            (
                                "主流媒体开设创建专栏，及时宣传报道创建工作进展。",
                                [ONLINE, WEB],
                                "专栏截图、报道清单",
                                "",
                                None,
                                "",
                            ),
                            ("网络新媒体平台传播正能量，无违规有害信息。", [WEB], "", "", None, ""),
                            (
                                "宣传栏、电子显示屏内容更新及时，无过期、破损内容。",
                                [FIELD],
                                "",
                                "主次干道、公共广场",
                                None,
                                "",
                            ),
                        ],
                        {},
                    ),
                ],
            ),
            (
                "Ⅱ-2",
                "社会主义核心价值观宣传",
                [
                    (
                        "Ⅲ-4",
                        "公益广告宣传",
                        3,
                        "市委宣传部",
                        "市城管局、市交通运输局、市住建局、湖滨街道、山前街道",
                        [
                            (
                                "主次干道、商业大街公益广告设置规范，200米内至少1处。",
                                [FIELD],
                                "",
                                "主次干道、商业大街",
                                None,
                                "",
                            ),
                            (
                                "公交站点、公交车、出租车刊播公益广告，内容规范醒目。",
                                [FIELD],
                                "",
                                "公交站点、公交车、出租车",
                                None,
                                "",
                            ),
                            ("建筑工地围挡公益广告不低于围挡面积的20%。", [FIELD], "", "建筑工地", None, ""),
                        ],
                        {},
                    ),
                    (
                        "Ⅲ-5",
                        "核心价值观融入法治建设",
                        2,
                        "市委宣传部",
                        "市公安局、" + DISTRICTS,
                        [
                            (
                                "开展“宪法宣传周”等主题普法活动，有方案、有记录。",
                                [ONLINE, REVIEW],
                                "活动方案、活动照片",
                                "",
                                None,
                                "",
                            ),
                            ("公园、广场等公共场所设置法治文化宣传阵地。", [FIELD], "", "公园、公共广场", None, ""),
                            ("市民对社会主义核心价值观的知晓率、认同率。", [SURVEY], "", "", None, ""),
                        ],
                        {},
                    ),
                    (
                        "Ⅲ-6",
                        "核心价值观主题实践活动",
                        2,
                        "市文明办",
                        "市委宣传部、市商务局、市市场监管局",
                        [
                            (
                                "开展“我们的节日”主题活动，春节、清明、端午、中秋、重阳等节日活动有方案、有记录。",
                                [ONLINE, REVIEW],
                                "活动方案、总结、照片",
                                "",
                                None,
                                "",
                            ),
                            (
                                "农贸市场、商场超市等场所设置核心价值观宣传内容，不少于2处。",
                                [FIELD],
                                "",
                                "农贸市场、商场超市",
                                None,
                                "",
                            ),
                            ("主流媒体、新闻网站开展核心价值观宣传报道。", [WEB], "", "", None, ""),
                        ],
                        {},
                    ),
                ],
            ),
        ],
    ),
    (
        "Ⅰ-2",
        "崇德向善的道德风尚",
        [
            (
                "Ⅱ-3",
                "公民道德建设",
                [
                    (
                        "Ⅲ-7",
                        "道德模范学习宣传",
                        3,
                        "市文明办",
                        "市委宣传部、市总工会、团市委、市妇联",
                        [
                            (
                                "开展道德模范、“身边好人”评选表彰，有推荐评议制度。",
                                [ONLINE, REVIEW],
                                "评选办法、表彰文件",
                                "",
                                None,
                                "",
                            ),
                            ("建立道德模范礼遇帮扶机制，帮扶资金落实到位。", [REVIEW, DATA], "", "", None, ""),
                            ("市民对本地道德模范的知晓率。", [SURVEY], "", "", None, ""),
                        ],
                        {},
                    ),
                    (
                        "Ⅲ-8",
                        "移风易俗",
                        2,
                        "示范市民政局",
                        "湖滨街道、柳岸街道、山前街道、翠屏街道、南苑街道",
                        [
                            ("红白理事会、村规民约（居民公约）覆盖率达到100%。", [ONLINE, DATA], "", "", None, ""),
                            ("开展文明婚俗、殡葬改革宣传，无大操大办现象。", [REVIEW], "", "", None, ""),
                            ("群众对移风易俗工作的满意率。", [SURVEY], "", "", None, ""),
                        ],
                        {},
                    ),
                    (
                        "Ⅲ-9",
                        "文明餐桌与文明旅游",
                        2,
                        "市商务局",
                        "市文广旅局、市市场监管局",
                        [
                            (
                                "餐饮场所张贴“光盘行动”宣传提示，提供小份菜、半份菜。",
                                [FIELD],
                                "",
                                "宾馆酒店、商场超市",
                                None,
                                "",
                            ),
                            ("旅游景区设置文明旅游提示，导游讲解规范。", [FIELD], "", "景区景点", None, ""),
                            ("开展文明旅游宣传活动，有活动记录。", [ONLINE, REVIEW], "", "", None, ""),
                        ],
                        {},
                    ),
                ],
            ),
            (
                "Ⅱ-4",
                "诚信建设",
                [
                    (
                        "Ⅲ-10",
                        "社会信用体系建设",
                        3,
                        "市市场监管局",
                        "市财政局、市人社局、市商务局",
                        [
                            ("建立健全守信联合激励和失信联合惩戒机制。", [ONLINE, REVIEW], "制度文件", "", None, ""),
                            ("信用信息共享平台归集数据及时、完整。", [ONLINE, DATA], "", "", None, ""),
                            ("通过“信用中国”网站公示行政许可、行政处罚信息。", [WEB], "", "", None, ""),
                        ],
                        {},
                    ),
                    (
                        "Ⅲ-11",
                        "诚信经营",
                        2,
                        "示范市市场监督管理局",
                        "市商务局，" + DISTRICTS.replace("、", "，"),
                        [
                            ("商场超市、农贸市场明码标价，无价格欺诈。", [FIELD], "", "商场超市、农贸市场", None, ""),
                            ("开展“诚信经营示范店”创建活动。", [ONLINE, REVIEW], "", "", None, ""),
                            ("消费者投诉处理及时，处理结果反馈率100%。", [ONLINE, DATA], "", "", None, ""),
                        ],
                        {},
                    ),
                    (
                        "Ⅲ-12",
                        "政务诚信",
                        2,
                        "市政务办",
                        "市财政局、市人社局",
                        [
                            ("政府守信践诺，无拖欠企业账款、农民工工资问题。", [REVIEW, DATA], "", "", None, ""),
                            ("政务公开信息及时、准确、完整。", [WEB], "", "", None, ""),
                            ("群众对政务诚信的满意率。", [SURVEY], "", "", None, ""),
                        ],
                        {"uncoded": True},
                    ),
                ],
            ),
        ],
    ),
    (
        "Ⅰ-3",
        "志愿服务与文明创建",
        [
            (
                "Ⅱ-5",
                "志愿服务",
                [
                    (
                        "Ⅲ-13",
                        "志愿服务组织建设",
                        3,
                        "市文明办",
                        "团市委、市民政局",
                        [
                            ("注册志愿者人数占城市常住人口比例达到15%以上。", [ONLINE, DATA], "", "", None, ""),
                            (
                                "志愿服务组织管理规范，有章程、有制度、有台账。",
                                [ONLINE, REVIEW],
                                "组织章程、管理制度、服务台账",
                                "",
                                None,
                                "",
                            ),
                            ("建立志愿服务激励回馈机制。", [ONLINE, REVIEW], "", "", None, ""),
                        ],
                        {},
                    ),
                    (
                        "Ⅲ-14",
                        "志愿服务站点",
                        2,
                        "团市委",
                        "市交通运输局\n市卫健委\n湖滨街道",
                        [
                            (
                                "在车站、医院、公园等场所设立志愿服务站，标识醒目，有人值守。",
                                [FIELD],
                                "",
                                "公园、医院",
                                None,
                                "",
                            ),
                            ("志愿服务站每周开展服务不少于3次，有服务记录。", [REVIEW], "", "", None, ""),
                            ("市民对志愿服务的参与率。", [SURVEY], "", "", None, ""),
                        ],
                        {},
                    ),
                    (
                        "Ⅲ-15",
                        "学雷锋志愿服务活动",
                        2.5,
                        "团市委",
                        "市总工会、市妇联、市残联",
                        [
                            (
                                "围绕“学雷锋纪念日”等节点开展集中志愿服务活动。",
                                [ONLINE, REVIEW],
                                "活动方案、照片",
                                "",
                                None,
                                "",
                            ),
                            ("开展关爱空巢老人、留守儿童、残疾人志愿服务。", [ONLINE, REVIEW], "", "", None, ""),
                            ("主流媒体宣传志愿服务先进典型。", [WEB], "", "", None, ""),
                        ],
                        {},
                    ),
                ],
            ),
            (
                "Ⅱ-6",
                "群众性精神文明创建",
                [
                    (
                        "Ⅲ-16",
                        "文明单位创建",
                        2,
                        "市文明办",
                        "市政务办、市人社局、市卫健委",
                        [
                            ("文明单位创建工作有规划、有措施、有考核。", [ONLINE, REVIEW], "", "", None, ""),
                            ("窗口单位服务规范，使用文明用语，亮牌服务。", [FIELD], "", "政务大厅、银行网点", None, ""),
                            ("开展文明单位结对帮扶社区活动。", [REVIEW], "", "", None, ""),
                        ],
                        {},
                    ),
                    (
                        "Ⅲ-17",
                        "文明家庭创建",
                        2,
                        "市妇联",
                        DISTRICTS,
                        [
                            ("开展“最美家庭”评选活动。", [ONLINE, REVIEW], "", "", None, ""),
                            ("家风家训宣传进社区、进家庭。", [FIELD], "", "小区", None, ""),
                            ("市民对文明家庭创建的知晓率。", [SURVEY], "", "", None, ""),
                        ],
                        {},
                    ),
                    (
                        "Ⅲ-18",
                        "文明校园创建",
                        2,
                        "市教育局",
                        DISTRICTS,
                        [
                            ("学校开展文明校园创建，有方案、有活动。", [ONLINE, REVIEW], "", "", None, ""),
                            ("校园环境整洁，文明礼仪教育常态化。", [FIELD], "", "中小学校", None, ""),
                            ("师生对文明校园创建的满意率。", [SURVEY], "", "", None, ""),
                        ],
                        {},
                    ),
                ],
            ),
        ],
    ),
    (
        "Ⅰ-4",
        "规范有序的市场环境",
        [
            (
                "Ⅱ-7",
                "农贸市场秩序",
                [
                    (
                        "Ⅲ-19",
                        "农贸市场环境卫生",
                        3,
                        "市市场监管局",
                        "市城管局、湖滨街道、山前街道、运河街道",
                        [
                            ("市场内地面干净，无积水、无垃圾，下水道畅通。", [FIELD], "", "农贸市场", None, ""),
                            ("垃圾分类收集，日产日清。", [FIELD], "", "农贸市场", None, ""),
                            ("市场内公共厕所保洁到位，无异味。", [FIELD], "", "农贸市场", None, ""),
                        ],
                        {},
                    ),
                    (
                        "Ⅲ-20",
                        "农贸市场经营秩序",
                        3,
                        "市市场监管局",
                        "市城管局;湖滨街道;山前街道;运河街道",
                        [
                            (
                                "摊位划行归市，无占道经营、无乱堆乱放。",
                                [FIELD],
                                "",
                                "农贸市场",
                                None,
                                "划线内出店经营不算占道",
                            ),
                            ("明码标价，公平秤设置规范。", [FIELD], "", "农贸市场", None, ""),
                            ("活禽宰杀区域隔离设置，符合卫生要求。", [FIELD, DATA], "", "农贸市场", None, ""),
                        ],
                        {},
                    ),
                    (
                        "Ⅲ-21",
                        "食品安全",
                        2,
                        "市市场监管局",
                        "市卫健委、市农业农村局",
                        [
                            ("农产品快速检测室正常运行，检测结果公示。", [FIELD, DATA], "", "农贸市场", None, ""),
                            ("食品安全监督抽检合格率达到98%以上。", [ONLINE, DATA], "", "", None, ""),
                            ("群众对食品安全的满意率。", [SURVEY], "", "", None, ""),
                        ],
                        {},
                    ),
                ],
            ),
            (
                "Ⅱ-8",
                "窗口服务",
                [
                    (
                        "Ⅲ-22",
                        "政务服务",
                        3,
                        "市政务办",
                        DISTRICTS,
                        [
                            ("政务服务大厅设置导办台、无障碍设施、便民设施。", [FIELD], "", "政务大厅", None, ""),
                            ("推行“一网通办”，政务服务事项网上可办率达到90%以上。", [DATA, WEB], "", "", None, ""),
                            ("办事群众满意率。", [SURVEY], "", "", None, ""),
                        ],
                        {},
                    ),
                    (
                        "Ⅲ-23",
                        "公共服务窗口",
                        2,
                        "市文明办",
                        "市卫健委、市人社局、市交通运输局",
                        [
                            ("医院导诊服务规范，候诊秩序良好。", [FIELD], "", "医院", None, ""),
                            ("银行网点、电信营业厅文明服务规范。", [FIELD], "", "银行网点", None, ""),
                            ("窗口单位投诉处理机制健全，处理及时。", [ONLINE, REVIEW], "", "", None, ""),
                        ],
                        {},
                    ),
                    (
                        "Ⅲ-24",
                        "商业服务",
                        2,
                        "市商务局",
                        "市市场监管局",
                        [
                            ("商场超市安全出口畅通，消防设施完好。", [FIELD], "", "商场超市", None, ""),
                            ("宾馆酒店服务规范、诚信经营。", [FIELD], "", "宾馆酒店", None, ""),
                            ("开展商贸流通领域文明创建活动。", [ONLINE, REVIEW], "", "", None, ""),
                        ],
                        {},
                    ),
                ],
            ),
        ],
    ),
    (
        "Ⅰ-5",
        "整洁优美的城市环境",
        [
            (
                "Ⅱ-9",
                "市容环境",
                [
                    (
                        "Ⅲ-25",
                        "背街小巷",
                        3,
                        "市城管局",
                        "湖滨街道、柳岸街道、新华街道、山前街道、翠屏街道、运河街道",
                        [
                            ("路面平整，无坑洼积水，无破损。", [FIELD], "", "背街小巷", None, ""),
                            ("无乱搭乱建、乱贴乱画、乱拉乱挂。", [FIELD], "", "背街小巷", None, ""),
                            ("垃圾桶摆放整齐，垃圾及时清运。", [FIELD], "", "背街小巷", None, ""),
                        ],
                        {},
                    ),
                    (
                        "Ⅲ-26",
                        "  公共厕所 ",
                        2.5,
                        "示范市城市管理局",
                        DISTRICTS,
                        [
                            ("公共厕所布局合理，指示标识醒目。", [FIELD], "", "室外公共厕所", None, ""),
                            ("厕所干净无异味，无障碍设施完好可用。", [FIELD], "", "室外公共厕所", None, ""),
                            ("公共厕所建设管理台账完整。", [REVIEW, DATA], "建设管理台账", "", None, ""),
                        ],
                        {},
                    ),
                    (
                        "Ⅲ-27",
                        "主次干道市容",
                        3,
                        "市城管局",
                        "市住建局、市园林局、湖滨街道、山前街道",
                        [
                            ("主次干道无占道经营，机动车、非机动车停放有序。", [FIELD], "", "主次干道", None, ""),
                            ("户外广告、门头店招设置规范。", [FIELD], "", "主次干道、商业大街", None, ""),
                            ("城市管理问题群众投诉及时处置，处置率100%。", [ONLINE, DATA], "", "", None, ""),
                        ],
                        {},
                    ),
                ],
            ),
            (
                "Ⅱ-10",
                "生态环境",
                [
                    (
                        "Ⅲ-28",
                        "空气质量",
                        2,
                        "市生态环境局",
                        "市住建局、市交通运输局",
                        [
                            ("空气质量优良天数比率达到省定目标。", [ONLINE, DATA], "", "", None, ""),
                            ("建筑工地扬尘治理“六个百分之百”落实到位。", [FIELD], "", "建筑工地", None, ""),
                            ("大气污染防治工作方案及落实情况。", [ONLINE, REVIEW], "", "", None, ""),
                        ],
                        {},
                    ),
                    (
                        "Ⅲ-29",
                        "水环境",
                        2,
                        "市生态环境局",
                        "市水利局、市住建局",
                        [
                            ("城市建成区无黑臭水体。", [FIELD, DATA], "", "", None, ""),
                            ("集中式饮用水水源地水质达标率100%。", [ONLINE, DATA], "", "", None, ""),
                            ("河湖长制工作台账完整。", [ONLINE, REVIEW], "", "", None, ""),
                        ],
                        {},
                    ),
                    (
                        "Ⅲ-30",
                        "园林绿化",
                        2,
                        "市园林局",
                        DISTRICTS,
                        [
                            ("公园绿地干净整洁，设施完好，标识规范。", [FIELD], "", "公园", None, ""),
                            ("建成区绿地率、人均公园绿地面积达标。", [ONLINE, DATA], "", "", None, ""),
                            ("市民对城市绿化的满意率。", [SURVEY], "", "", None, ""),
                        ],
                        {},
                    ),
                ],
            ),
        ],
    ),
    (
        "Ⅰ-6",
        "安全便捷的公共秩序",
        [
            (
                "Ⅱ-11",
                "交通秩序",
                [
                    (
                        "Ⅲ-31",
                        "道路交通秩序",
                        3,
                        "市公安局交警支队",
                        "市交通运输局、" + DISTRICTS,
                        [
                            ("主要交通路口机动车礼让行人，无闯红灯现象。", [FIELD], "", "主要交通路口", None, ""),
                            ("非机动车、行人各行其道，文明交通劝导到位。", [FIELD], "", "主要交通路口", None, ""),
                            ("机动车、非机动车停放有序。", [FIELD], "", "主次干道", None, ""),
                        ],
                        {},
                    ),
                    (
                        "Ⅲ-32",
                        "公共交通",
                        2,
                        "市交通运输局",
                        "市公安局交警支队",
                        [
                            ("公交站点站牌信息清晰完整，候车亭整洁。", [FIELD], "", "公交站点", None, ""),
                            ("公交车、出租车车容整洁，驾驶员文明服务。", [FIELD], "", "公交车、出租车", None, ""),
                            ("公共交通乘客满意率。", [SURVEY], "", "", None, ""),
                        ],
                        {},
                    ),
                    (
                        "Ⅲ-33",
                        "交通安全宣传",
                        2,
                        "示范市公安局交通警察支队",
                        "市教育局、市交通运输局",
                        [
                            ("开展文明交通宣传进社区、进学校、进企业活动。", [ONLINE, REVIEW], "", "", None, ""),
                            ("道路交通事故数据统计分析、定期通报。", [ONLINE, DATA], "", "", None, ""),
                            ("主流媒体曝光交通不文明行为。", [WEB], "", "", None, ""),
                        ],
                        {},
                    ),
                ],
            ),
            (
                "Ⅱ-12",
                "城市建设与公共安全",
                [
                    (
                        "Ⅲ-34",
                        "无障碍设施",
                        2,
                        "市住建局",
                        "市残联、市交通运输局",
                        [
                            ("主次干道人行道盲道连续，无占用。", [FIELD], "", "主次干道", None, ""),
                            ("公共建筑出入口设置无障碍坡道、扶手。", [FIELD], "", "政务大厅、医院", None, ""),
                            ("无障碍环境建设工作方案及年度推进情况。", [ONLINE, REVIEW], "", "", None, ""),
                        ],
                        {},
                    ),
                    (
                        "Ⅲ-35",
                        "社会治安",
                        3,
                        "市公安局",
                        DISTRICTS,
                        [
                            ("群众安全感达到90%以上。", [SURVEY], "", "", None, ""),
                            ("社会治安防控体系建设有方案、有考核。", [ONLINE, REVIEW], "", "", None, ""),
                            ("刑事案件发案率逐年下降。", [ONLINE, DATA], "", "", None, ""),
                        ],
                        {},
                    ),
                    (
                        "Ⅲ-36",
                        "应急管理与安全生产",
                        2,
                        "市应急管理局",
                        DISTRICTS,
                        [
                            ("建立突发事件应急预案体系，定期组织演练。", [ONLINE, REVIEW], "", "", None, ""),
                            ("小区、公园设置应急避难场所标识。", [FIELD], "", "小区、公园", None, ""),
                            ("安全生产事故起数和死亡人数控制在目标以内。", [ONLINE, DATA], "", "", None, ""),
                        ],
                        {},
                    ),
                ],
            ),
        ],
    ),
    (
        "Ⅰ-7",
        "未成年人思想道德建设",
        [
            (
                "Ⅱ-13",
                "学校教育",
                [
                    (
                        "Ⅲ-37",
                        "学校德育",
                        3,
                        "市教育局",
                        "团市委、市妇联",
                        [
                            (
                                "中小学校开设道德与法治课程，德育工作有计划、有记录。",
                                [ONLINE, REVIEW],
                                "",
                                "",
                                None,
                                "",
                            ),
                            ("校园核心价值观宣传氛围浓厚。", [FIELD], "", "中小学校", None, ""),
                            ("学生对学校德育工作的满意率。", [SURVEY], "", "", None, ""),
                        ],
                        {},
                    ),
                    (
                        "Ⅲ-38",
                        "校园周边环境",
                        2,
                        "市教育局",
                        "市公安局、市市场监管局、市文广旅局",
                        [
                            ("校园周边２００米内无网吧、无游戏厅、无歌舞娱乐场所。", [FIELD], "", "中小学校", None, ""),
                            ("校门口交通秩序良好，设置护学岗。", [FIELD], "", "中小学校", None, ""),
                            ("校园周边食品安全专项检查记录完整。", [REVIEW, DATA], "", "", None, ""),
                        ],
                        {},
                    ),
                    (
                        "Ⅲ-39",
                        "心理健康教育",
                        2,
                        "市教育局",
                        "市卫健委",
                        [
                            ("中小学校配备心理健康教师，设置心理辅导室。", [ONLINE, REVIEW], "", "", None, ""),
                            ("建立学生心理健康档案。", [REVIEW], "", "", None, ""),
                            ("家长对学校心理健康教育的满意率。", [SURVEY], "", "", None, ""),
                        ],
                        {},
                    ),
                ],
            ),
            (
                "Ⅱ-14",
                "家庭教育与关爱服务",
                [
                    (
                        "Ⅲ-40",
                        "家庭教育",
                        2,
                        "市妇联",
                        "市教育局、湖滨街道、山前街道",
                        [
                            ("建立家长学校，每学期开展家庭教育指导不少于2次。", [ONLINE, REVIEW], "", "", None, ""),
                            ("社区家庭教育指导服务站点覆盖率达到90%以上。", [ONLINE, DATA], "", "", None, ""),
                            ("家长对家庭教育指导服务的满意率。", [SURVEY], "", "", None, ""),
                        ],
                        {},
                    ),
                    (
                        "Ⅲ-41",
                        "未成年人活动场所",
                        3,
                        "市文广旅局",
                        "市体育局、市教育局",
                        [
                            (
                                "青少年宫、图书馆、博物馆等公益性文化场所免费开放。",
                                [FIELD],
                                "",
                                "公共文化设施",
                                None,
                                "",
                            ),
                            ("社区设置“四点半课堂”等未成年人活动场所。", [FIELD], "", "小区", None, ""),
                            ("未成年人活动场所活动记录完整。", [ONLINE, REVIEW], "", "", None, ""),
                        ],
                        {},
                    ),
                    (
                        "Ⅲ-42",
                        "关爱留守儿童和困境儿童",
                        2,
                        "市民政局",
                        "市妇联、团市委、" + DISTRICTS,
                        [
                            ("建立留守儿童和困境儿童信息台账，实行动态管理。", [ONLINE, DATA], "", "", None, ""),
                            ("开展关爱帮扶志愿服务活动。", [ONLINE, REVIEW], "", "", None, ""),
                            ("主流媒体宣传关爱未成年人典型事迹。", [WEB], "", "", None, ""),
                        ],
                        {},
                    ),
                ],
            ),
        ],
    ),
]

# How each parent column is laid out below its first row: merged, left blank, or repeated.
MERGED, BLANK, REPEATED = "merged", "blank", "repeated"
METHOD_SEPARATORS = ["、", "，", "、", ";"]


def _label(code: str, title: str, *, spaced: bool) -> str:
    return f"{code} {title}" if spaced else f"{code}{title}"


def build_demo_sheet() -> bytes:
    """The demo 任务分解表 as .xlsx bytes."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "任务分解表"
    sheet.append([TITLE])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center")
    sheet.append(HEADER)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    column = {name: index for index, name in enumerate(HEADER, start=1)}

    def lay_out(col: str, first_row: int, last_row: int, value: str, style: str) -> None:
        sheet.cell(row=first_row, column=column[col], value=value)
        if last_row == first_row:
            return
        if style == MERGED:
            sheet.merge_cells(start_row=first_row, start_column=column[col], end_row=last_row, end_column=column[col])
        elif style == REPEATED:
            for row in range(first_row + 1, last_row + 1):
                sheet.cell(row=row, column=column[col], value=value)

    row = 3
    number = 0
    content_index = 0
    for p_index, (p_code, p_title, indicators) in enumerate(SYSTEM):
        p_first = row
        for i_index, (i_code, i_title, contents) in enumerate(indicators):
            i_first = row
            for c_code, c_title, weight, lead, responsible, standards, options in contents:
                c_first = row
                for s_index, (text, methods, requirements, point_types, deadline, note) in enumerate(
                    standards, start=1
                ):
                    number += 1
                    if options.get("uncoded"):
                        standard = text
                    elif content_index % 7 == 3:
                        standard = f"{s_index}）{text}"  # full-width parenthesis, as typed in WPS
                    else:
                        standard = f"{s_index}) {text}"
                    separator = METHOD_SEPARATORS[(content_index + s_index) % len(METHOD_SEPARATORS)]
                    values = {
                        "序号": number,
                        "测评标准": standard,
                        "测评方法": separator.join(methods),
                        "牵头单位": lead,
                        "责任单位": responsible,
                        "材料要求": requirements or None,
                        "适用点位": point_types or None,
                        "完成时限": deadline,
                        "备注": note or None,
                    }
                    for name, value in values.items():
                        cell = sheet.cell(row=row, column=column[name], value=value)
                        if name == "完成时限" and value is not None:
                            cell.number_format = "yyyy-mm-dd"
                    row += 1
                c_last = row - 1
                c_style = (MERGED, BLANK, REPEATED)[content_index % 3]
                lay_out("测评内容", c_first, c_last, _label(c_code, c_title, spaced=content_index % 5 != 4), c_style)
                lay_out("分值", c_first, c_last, weight, MERGED if content_index % 4 == 0 else BLANK)
                content_index += 1
            i_style = (MERGED, BLANK, REPEATED)[(p_index * 2 + i_index) % 3]
            lay_out("指标名称", i_first, row - 1, _label(i_code, i_title, spaced=i_index == 0), i_style)
        p_style = MERGED if p_index % 2 == 0 else BLANK
        lay_out("测评项目", p_first, row - 1, _label(p_code, p_title, spaced=p_index % 2 == 0), p_style)

    widths = {
        "序号": 6,
        "测评项目": 20,
        "指标名称": 18,
        "测评内容": 24,
        "分值": 6,
        "测评标准": 56,
        "测评方法": 16,
        "牵头单位": 18,
        "责任单位": 32,
        "材料要求": 26,
        "适用点位": 18,
        "完成时限": 12,
        "备注": 16,
    }
    for name, width in widths.items():
        sheet.column_dimensions[sheet.cell(row=2, column=column[name]).column_letter].width = width
    for cells in sheet.iter_rows(min_row=3):
        for cell in cells:
            cell.alignment = Alignment(vertical="center", wrap_text=True)
    sheet.freeze_panes = "A3"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
