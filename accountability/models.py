"""The rectification loop's facts and reference data: every transition of a problem as an
immutable event, the working-day calendar, and in-app notifications; and what is judged on them:
weekly roll-up versions and their snapshot rows, accountability cases, survey results, and the
stored 周通报 files of each published version."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from campaign.models import Campaign, JobRun, Unit
from indicators.models import Indicator
from inspections.models import CheckItem, Observation, Photo, Problem

from .choices import (
    ROBOT_KINDS,
    BoardList,
    BulletinKind,
    BulletinStatus,
    CaseLevel,
    CaseRule,
    CaseStatus,
    ChannelKind,
    CommitmentStatus,
    DayKind,
    DeliveryStatus,
    NotificationKind,
    Population,
    RecheckStatus,
    VersionStatus,
)


class ProblemEvent(models.Model):
    """One transition of a problem: who, in which role, when, from and to which status, the note,
    the evidence photos and the fields it changed. Never edited."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="events")
    action = models.CharField("操作", max_length=30)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="操作人"
    )
    role = models.CharField("身份", max_length=20)
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="操作单位"
    )
    from_status = models.CharField("原状态", max_length=20)
    to_status = models.CharField("新状态", max_length=20)
    note = models.TextField("说明", blank=True)
    photos = models.ManyToManyField(Photo, blank=True, related_name="problem_events", verbose_name="照片")
    changes = models.JSONField("变更", default=dict, blank=True)
    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "问题处置记录"
        verbose_name_plural = "问题处置记录"
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"#{self.problem_id} {self.action} {self.from_status}→{self.to_status}"


class CalendarDay(models.Model):
    """A day that is not what its weekday says: a public holiday on a weekday (休), or a 调休
    weekend day that is worked (班). Imported per year; every other day follows the weekday."""

    date = models.DateField("日期", unique=True)
    kind = models.CharField("类型", max_length=10, choices=DayKind.choices)
    history = HistoricalRecords()
    name = models.CharField("名称", max_length=50, blank=True)

    class Meta:
        verbose_name = "节假日与调休"
        verbose_name_plural = "节假日与调休"
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}".strip()


class Notification(models.Model):
    """An in-app notification, written only by `accountability.notify`. `key` makes a notification
    once-only per user however often a job runs; `campaign` scopes the list (none: every campaign)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    key = models.CharField(max_length=120)
    kind = models.CharField(
        "类型", max_length=20, choices=NotificationKind.choices, default=NotificationKind.OTHER, db_default="other"
    )
    message = models.CharField("内容", max_length=300)
    url = models.CharField("链接", max_length=300, blank=True, default="", db_default="")
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name="创建活动"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "通知"
        verbose_name_plural = "通知"
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="notification_once_per_key")]
        indexes = [
            models.Index(fields=["user"], condition=models.Q(read_at__isnull=True), name="notification_unread_by_user"),
        ]

    def __str__(self) -> str:
        return self.message

    @property
    def link(self) -> str:
        """Where the notification leads: its own url, else its problem's page."""
        if self.url:
            return self.url
        if self.problem_id:
            from django.urls import reverse

            return reverse("problem-detail", args=[self.problem_id])
        return ""


class NotificationPreference(models.Model):
    """A user's own push settings: e-mail and SMS on or off, and which kinds are pushed (an empty
    list: every kind). The in-app notification is written whatever these say."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference", verbose_name="用户"
    )
    email = models.BooleanField("邮件推送", default=True)
    sms = models.BooleanField("短信推送", default=False)
    kinds = models.JSONField("推送的通知类型", default=list, blank=True, help_text="为空表示全部类型")
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "通知偏好"
        verbose_name_plural = "通知偏好"

    def __str__(self) -> str:
        return f"{self.user} 的通知偏好"


class UnitChannel(models.Model):
    """A unit's group robot (企业微信 or 钉钉): gets a message for each notification about the unit
    of a kind it takes (an empty list: every kind). Managed by the office."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="channels", verbose_name="单位")
    kind = models.CharField(
        "渠道",
        max_length=20,
        choices=ROBOT_KINDS,
    )
    name = models.CharField("名称", max_length=60)
    webhook_url = models.CharField("机器人地址", max_length=500)
    secret = models.CharField("加签密钥", max_length=200, blank=True, help_text="钉钉机器人“加签”安全设置的密钥")
    enabled = models.BooleanField("启用", default=True)
    kinds = models.JSONField("推送的通知类型", default=list, blank=True, help_text="为空表示全部类型")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "单位推送渠道"
        verbose_name_plural = "单位推送渠道"
        ordering = ["unit__path", "kind", "id"]

    def __str__(self) -> str:
        return f"{self.unit} {self.get_kind_display()}（{self.name}）"


class Delivery(models.Model):
    """One push of a notification through one channel, and its fate: 待发送 → 已发送, or 失败 and
    retried with backoff until 放弃. `target` is a masked description (never an address or a
    secret in full). A robot's message about a unit may have no notification (no liaison)."""

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries"
    )
    channel = models.CharField("渠道", max_length=20, choices=ChannelKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="接收人",
    )
    unit_channel = models.ForeignKey(
        UnitChannel, on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries", verbose_name="群机器人"
    )
    kind = models.CharField("通知类型", max_length=20, choices=NotificationKind.choices, default=NotificationKind.OTHER)
    title = models.CharField("标题", max_length=100)
    message = models.CharField("内容", max_length=300)
    url = models.CharField("链接", max_length=300, blank=True, default="")
    key = models.CharField(max_length=120, blank=True, default="")
    target = models.CharField("发送对象", max_length=200)
    status = models.CharField("状态", max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    last_error = models.CharField("最近错误", max_length=500, blank=True)
    next_attempt_at = models.DateTimeField("下次尝试", default=timezone.now)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "推送记录"
        verbose_name_plural = "推送记录"
        ordering = ["-created_at", "-id"]
        constraints = [
            # A keyed robot message (a job's reminder, a case) goes to a group once.
            models.UniqueConstraint(
                fields=["unit_channel", "key"], condition=~models.Q(key=""), name="delivery_once_per_channel_key"
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status__in=["pending", "failed"]),
                name="delivery_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.target}（{self.get_status_display()}）"


class RollupVersion(models.Model):
    """One computation of one (campaign, ISO week). A draft is recomputed in place; a published
    version never changes: recomputing a published week makes the next version, as a draft, which
    must be published again to replace it."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="rollups", verbose_name="创建活动")
    week = models.CharField("周次", max_length=8, help_text="ISO 周，如 2026-W47")
    week_start = models.DateField("周一")
    week_end = models.DateField("周日")
    number = models.PositiveSmallIntegerField("版本", default=1)
    status = models.CharField("状态", max_length=20, choices=VersionStatus.choices, default=VersionStatus.DRAFT)
    # The rules the numbers were computed with, so an old week still reads as it was computed.
    rules = models.JSONField("评比规则", default=dict)
    rows = models.PositiveIntegerField("行数", default=0)
    computed_at = models.DateTimeField("计算时间")
    run = models.ForeignKey(JobRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="发布人",
    )
    # The check-item versions the week counted (their history rows as of publishing), so a
    # contested number can be replayed against the rules that produced it.
    check_item_versions = models.ManyToManyField(
        CheckItem.history.model, blank=True, related_name="+", verbose_name="计分细则版本"
    )

    class Meta:
        verbose_name = "周评比版本"
        verbose_name_plural = "周评比版本"
        ordering = ["-week_start", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "week", "number"], name="rollup_version_unique"),
            models.UniqueConstraint(
                fields=["campaign", "week"],
                condition=models.Q(status="published"),
                name="rollup_one_published_per_week",
            ),
            models.UniqueConstraint(
                fields=["campaign", "week"], condition=models.Q(status="draft"), name="rollup_one_draft_per_week"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.week} 第{self.number}版（{self.get_status_display()}）"


class UnitWeekScore(models.Model):
    """One unit's week (the snapshot row a ranking shows), or with no unit the citywide row."""

    rollup = models.ForeignKey(RollupVersion, on_delete=models.CASCADE, related_name="scores")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="week_scores")
    population = models.CharField("类别", max_length=20, choices=Population.choices)
    observations = models.PositiveIntegerField("观测数", default=0)
    failing_observations = models.PositiveIntegerField("不合格数", default=0)
    deduction_points = models.DecimalField("扣分", max_digits=10, decimal_places=2, default=0)
    score_rate = models.DecimalField("得分率", max_digits=7, decimal_places=6, null=True, blank=True)
    problems_opened = models.PositiveIntegerField("新发现问题", default=0)
    problems_due = models.PositiveIntegerField("本周到期", default=0)
    closed_on_time = models.PositiveIntegerField("按期销号", default=0)
    on_time_rate = models.DecimalField("按期整改率", max_digits=7, decimal_places=6, null=True, blank=True)
    rework_count = models.PositiveIntegerField("返工次数", default=0)
    overdue_open = models.PositiveIntegerField("周末超期未改", default=0)
    rebounds = models.PositiveIntegerField("反弹", default=0)
    composite = models.DecimalField("综合分", max_digits=6, decimal_places=2, null=True, blank=True)
    sample_ok = models.BooleanField("样本充足", default=False)
    rank = models.PositiveIntegerField("排名", null=True, blank=True)
    rank_change = models.IntegerField("名次变化", null=True, blank=True, help_text="正数为上升")
    board = models.CharField("红黑榜", max_length=10, choices=BoardList.choices, blank=True)
    # 一票否决: an open veto event of the campaign (or one resolved during the week) against the
    # unit. A vetoed row has no rank, sits at the bottom of its population and on the 黑榜;
    # `veto_events` names the events ([{"id", "title", "occurred_on", "status"}]).
    vetoed = models.BooleanField("一票否决", default=False, db_default=False)
    veto_events = models.JSONField(
        "否决事件", default=list, db_default=models.Value([], output_field=models.JSONField()), blank=True
    )
    # Evidence (issue 14 item 4): flagged photos of the unit's observations and reports that week,
    # and 抽查复核 recorded 不属实 that week for problems it handled or that lie in it.
    evidence_flagged = models.PositiveIntegerField("证据疑点", default=0, db_default=0)
    rechecks_failed = models.PositiveIntegerField("抽查复核不属实", default=0, db_default=0)

    class Meta:
        verbose_name = "单位周评比"
        verbose_name_plural = "单位周评比"
        ordering = ["population", "rank", "unit__path"]
        constraints = [models.UniqueConstraint(fields=["rollup", "unit"], name="week_score_one_per_unit")]
        indexes = [
            models.Index(fields=["rollup", "population", "rank"]),
            models.Index(fields=["unit", "rollup"]),
        ]

    def __str__(self) -> str:
        return f"{self.rollup.week} {self.unit or '全市'} {self.composite}"


class AccountabilityCase(models.Model):
    """A flag raised on a unit when a week is published (谁丢分、谁领责), with its evidence and the
    office's decision. One per (campaign, week, unit, rule): republishing updates it."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="cases", verbose_name="创建活动")
    week = models.CharField("周次", max_length=8)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="accountability_cases", verbose_name="单位")
    rule = models.CharField("触发规则", max_length=20, choices=CaseRule.choices)
    level = models.CharField("建议处理", max_length=20, choices=CaseLevel.choices)
    streak = models.PositiveSmallIntegerField("连续周数", default=1)
    reason = models.CharField("原因", max_length=300)
    evidence = models.JSONField("证据", default=dict, blank=True, help_text="评比行、问题、风险事件的编号")
    # Cases are raised only from published rows, which are never deleted; DO_NOTHING lets a draft's
    # rows go in one DELETE when the draft is recomputed (the database still enforces the key).
    score = models.ForeignKey(
        UnitWeekScore, on_delete=models.DO_NOTHING, null=True, blank=True, related_name="+", verbose_name="评比行"
    )
    status = models.CharField("处理状态", max_length=20, choices=CaseStatus.choices, default=CaseStatus.PENDING)
    decision_note = models.TextField("处理情况", blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="处理人",
    )
    decided_at = models.DateTimeField("处理时间", null=True, blank=True)
    created_at = models.DateTimeField("立案时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "问责事项"
        verbose_name_plural = "问责事项"
        ordering = ["-week", "status", "unit__path", "rule"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "week", "unit", "rule"], name="case_one_per_rule_week"),
        ]

    def __str__(self) -> str:
        return f"{self.week} {self.unit} {self.get_rule_display()}"


class SurveyResult(models.Model):
    """A district's survey rates on a date (知晓率, 支持率, 参与率, 满意率), in percent."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="surveys", verbose_name="创建活动")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="surveys", verbose_name="区县")
    date = models.DateField("调查日期")
    awareness = models.DecimalField("知晓率(%)", max_digits=5, decimal_places=2, null=True, blank=True)
    support = models.DecimalField("支持率(%)", max_digits=5, decimal_places=2, null=True, blank=True)
    participation = models.DecimalField("参与率(%)", max_digits=5, decimal_places=2, null=True, blank=True)
    satisfaction = models.DecimalField("满意率(%)", max_digits=5, decimal_places=2, null=True, blank=True)
    sample_size = models.PositiveIntegerField("样本量", null=True, blank=True)
    imported_at = models.DateTimeField("导入时间", auto_now=True)

    class Meta:
        verbose_name = "问卷调查结果"
        verbose_name_plural = "问卷调查结果"
        ordering = ["-date", "unit__path"]
        constraints = [models.UniqueConstraint(fields=["campaign", "unit", "date"], name="survey_one_per_unit_date")]

    def __str__(self) -> str:
        return f"{self.date} {self.unit}"


def bulletin_upload_to(instance, filename: str) -> str:
    """One immutable name per rendering: the version and the content's hash."""
    version = instance.version
    return f"bulletins/{version.campaign_id}/{version.week}/v{version.number}-{instance.sha256[:16]}.{instance.kind}"


class BulletinFile(models.Model):
    """A published version's 周通报 as a stored file (the PDF or the Excel workbook), rendered once
    by a background job when the week is published and then served as it is. Its status and
    progress are what the page shows while it is being made."""

    version = models.ForeignKey(
        RollupVersion, on_delete=models.CASCADE, related_name="bulletin_files", verbose_name="周评比版本"
    )
    kind = models.CharField("类型", max_length=10, choices=BulletinKind.choices)
    # Through the storage API only (a shared disk today, S3-compatible storage later).
    file = models.FileField("文件", upload_to=bulletin_upload_to, max_length=300, blank=True)
    size = models.PositiveBigIntegerField("大小（字节）", default=0)
    sha256 = models.CharField("SHA-256", max_length=64, blank=True)
    status = models.CharField("状态", max_length=20, choices=BulletinStatus.choices, default=BulletinStatus.QUEUED)
    progress = models.PositiveSmallIntegerField("进度（%）", default=0)
    error = models.TextField("错误", blank=True)
    queued_at = models.DateTimeField("排队时间", default=timezone.now)
    rendered_at = models.DateTimeField("生成时间", null=True, blank=True)
    run = models.ForeignKey(
        JobRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="后台任务"
    )

    class Meta:
        verbose_name = "周通报文件"
        verbose_name_plural = "周通报文件"
        ordering = ["version", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["version", "kind"], name="bulletin_file_one_per_kind"),
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="bulletin_file_progress_max_100"),
        ]

    def __str__(self) -> str:
        return f"{self.version} {self.get_kind_display()}（{self.get_status_display()}）"


class AppealStatus(models.TextChoices):
    FILED = "filed", "待裁定"
    REJECTED = "rejected", "维持"
    GRANTED = "granted", "撤销"


class Appeal(models.Model):
    """申诉: a charged unit contests one observation of a computed, unpublished week. Written only
    by `accountability.appeals` (file, decide); a granted appeal sets `Observation.appeal_granted`.
    One appeal per observation; `version` makes racing decisions exclusive."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="appeals", verbose_name="创建活动")
    week = models.CharField("周次", max_length=8, db_index=True)
    observation = models.OneToOneField(
        Observation, on_delete=models.PROTECT, related_name="appeal", verbose_name="观测记录"
    )
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="appeals", verbose_name="申诉单位")
    reason = models.TextField("申诉理由")
    photos = models.ManyToManyField(Photo, blank=True, related_name="appeals", verbose_name="佐证照片")
    status = models.CharField("状态", max_length=20, choices=AppealStatus.choices, default=AppealStatus.FILED)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="申诉人"
    )
    filed_at = models.DateTimeField("申诉时间", default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="裁定人",
    )
    decided_at = models.DateTimeField("裁定时间", null=True, blank=True)
    decision_note = models.TextField("裁定说明", blank=True)
    version = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "申诉"
        verbose_name_plural = "申诉"
        ordering = ["-filed_at", "-id"]
        indexes = [models.Index(fields=["campaign", "week", "status"], name="appeal_campaign_week")]

    def __str__(self) -> str:
        return f"申诉 #{self.pk}（{self.get_status_display()}）"


class AppealEvent(models.Model):
    """One step of an appeal (申诉、维持、撤销), or a publish that overrode undecided appeals
    (`appeal` empty, the week named): who, when, the note. Never edited."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, null=True, blank=True, related_name="events")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+", verbose_name="创建活动")
    week = models.CharField("周次", max_length=8)
    action = models.CharField("操作", max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="操作人"
    )
    note = models.TextField("说明", blank=True)
    at = models.DateTimeField("时间", default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "申诉记录"
        verbose_name_plural = "申诉记录"
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.action} {self.week}"


class RecheckDraw(models.Model):
    """抽查复核: a reproducible random draw of closed problems of a campaign's weeks for an
    independent re-check — the seed and the parameters recorded, so the same candidates, seed and
    parameters give the same problems (`accountability.recheck.recheck_sample`)."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="recheck_draws", verbose_name="创建活动"
    )
    week_from = models.CharField("起始周", max_length=8)
    week_to = models.CharField("截止周", max_length=8)
    seed = models.BigIntegerField("随机种子")
    # {"count" | "percent", "per_district", "flagged_first", "candidates"}
    parameters = models.JSONField("抽取参数", default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="抽取人"
    )
    created_at = models.DateTimeField("抽取时间", default=timezone.now)

    class Meta:
        verbose_name = "抽查复核批次"
        verbose_name_plural = "抽查复核批次"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"抽查复核 #{self.pk}"


class Recheck(models.Model):
    """One drawn problem's re-check: 待复核 → 属实 / 不属实 (with a note; it reopens the problem as
    返工 through the workflow's `recheck_fail`). Written only by `accountability.recheck`."""

    draw = models.ForeignKey(RecheckDraw, on_delete=models.CASCADE, related_name="rechecks")
    problem = models.ForeignKey(Problem, on_delete=models.PROTECT, related_name="rechecks", verbose_name="问题")
    district = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="所在区县"
    )
    flagged = models.BooleanField("证据有疑点", default=False)
    status = models.CharField("复核结果", max_length=20, choices=RecheckStatus.choices, default=RecheckStatus.PENDING)
    checker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="复核人",
    )
    checked_at = models.DateTimeField("复核时间", null=True, blank=True, db_index=True)
    note = models.TextField("复核说明", blank=True)
    photos = models.ManyToManyField(Photo, blank=True, related_name="rechecks", verbose_name="复核照片")
    version = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "抽查复核"
        verbose_name_plural = "抽查复核"
        ordering = ["draw", "id"]
        constraints = [models.UniqueConstraint(fields=["draw", "problem"], name="recheck_one_per_draw")]
        indexes = [models.Index(fields=["problem", "status"], name="recheck_problem_status")]

    def __str__(self) -> str:
        return f"抽查复核 问题 #{self.problem_id}（{self.get_status_display()}）"


class Commitment(models.Model):
    """承诺事项: what a unit promised at (or after) a 调度会, by when, who answers. Written only by
    `accountability.commitments`; every change is a `CommitmentEvent`. 逾期 is derived (open past its
    deadline on the working-day calendar: `commitments.overdue_q`), never stored. `version` makes
    racing changes exclusive."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="commitments", verbose_name="创建活动"
    )
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="commitments", verbose_name="承诺单位")
    week = models.CharField("调度会周次", max_length=8, blank=True, db_index=True)
    content = models.CharField("承诺内容", max_length=500)
    due_date = models.DateField("完成时限")
    answerer = models.CharField("责任领导", max_length=50, blank=True)
    answerer_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="责任领导账号",
    )
    problems = models.ManyToManyField(Problem, blank=True, related_name="commitments", verbose_name="关联问题")
    indicator = models.ForeignKey(
        Indicator,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="commitments",
        verbose_name="关联指标",
    )
    status = models.CharField(
        "状态", max_length=20, choices=CommitmentStatus.choices, default=CommitmentStatus.OPEN, db_index=True
    )
    # When the liaison last reported it done (cleared when the office sends it back), confirmed,
    # cancelled: what the week's-end reads (carried forward, the overdue-twice rule) go by.
    reported_at = models.DateTimeField("报告完成时间", null=True, blank=True)
    completed_at = models.DateTimeField("确认完成时间", null=True, blank=True)
    cancelled_at = models.DateTimeField("撤销时间", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="登记人"
    )
    created_at = models.DateTimeField("登记时间", default=timezone.now)
    version = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "承诺事项"
        verbose_name_plural = "承诺事项"
        ordering = ["due_date", "id"]
        indexes = [
            models.Index(fields=["campaign", "unit", "status"], name="commitment_unit_status"),
            models.Index(fields=["campaign", "due_date"], name="commitment_due"),
        ]

    def __str__(self) -> str:
        return f"承诺事项 #{self.pk}（{self.unit}）"


class CommitmentEvent(models.Model):
    """One step of a commitment (登记、修改、报告完成、确认完成、退回、撤销): who, when, the note, the
    evidence photos, the fields changed (`changes`: {field: [old, new]}). Never edited."""

    commitment = models.ForeignKey(Commitment, on_delete=models.CASCADE, related_name="events")
    action = models.CharField("操作", max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="操作人"
    )
    note = models.TextField("说明", blank=True)
    photos = models.ManyToManyField(Photo, blank=True, related_name="commitment_events", verbose_name="佐证照片")
    changes = models.JSONField("变更内容", default=dict, blank=True)
    at = models.DateTimeField("时间", default=timezone.now)

    class Meta:
        verbose_name = "承诺事项记录"
        verbose_name_plural = "承诺事项记录"
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.action} #{self.commitment_id}"


def meeting_pack_upload_to(instance, filename: str) -> str:
    """One immutable name per rendering: the week, the version and the content's hash."""
    version = instance.version
    return f"meetings/{version.campaign_id}/{version.week}/v{version.number}-{instance.sha256[:16]}.pdf"


class MeetingPack(models.Model):
    """调度会材料 of a published week: the units the office added to those the campaign's rules call
    (`accountability.meeting`), and the PDF last rendered by a background job (`run`: its status,
    progress and error). The print page and the API read the pack live; the PDF is a copy made at
    `rendered_at`, rendered again when the office changes the units or asks for it."""

    version = models.OneToOneField(
        RollupVersion, on_delete=models.CASCADE, related_name="meeting_pack", verbose_name="周评比版本"
    )
    added_units = models.ManyToManyField(Unit, blank=True, related_name="+", verbose_name="创建办添加的单位")
    file = models.FileField("PDF 文件", upload_to=meeting_pack_upload_to, max_length=300, blank=True)
    size = models.PositiveBigIntegerField("大小（字节）", default=0)
    sha256 = models.CharField("SHA-256", max_length=64, blank=True)
    rendered_at = models.DateTimeField("生成时间", null=True, blank=True)
    run = models.ForeignKey(
        JobRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="生成任务"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField("创建时间", default=timezone.now)

    class Meta:
        verbose_name = "调度会材料"
        verbose_name_plural = "调度会材料"

    def __str__(self) -> str:
        return f"调度会材料 {self.version}"
