"""The shared kernel: the campaign, the units that answer for it and the people who work in it."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from .choices import BoardMode, CampaignLevel, DistrictDepartmentRanking, JobStatus, PhaseKind, Role, UnitKind


class Campaign(models.Model):
    """One 创建活动 (创文, 创卫, 创森 …): everything campaign-specific hangs off it (多城联创)."""

    name = models.CharField("名称", max_length=100, unique=True)
    level = models.CharField("创建级别", max_length=20, choices=CampaignLevel.choices)
    start_date = models.DateField("启动日期")
    evaluation_date = models.DateField("测评日期", help_text="倒计时截止的日期")
    description = models.TextField("说明", blank=True)
    # Method shares of the yearly evaluation score (网上申报 / 实地考察 / 问卷调查), in percent.
    share_declaration = models.PositiveSmallIntegerField("网上申报占比(%)", default=40)
    share_field = models.PositiveSmallIntegerField("实地考察占比(%)", default=40)
    share_survey = models.PositiveSmallIntegerField("问卷调查占比(%)", default=20)
    active = models.BooleanField("进行中", default=True)
    # 评比规则: how the weekly roll-up turns a week's data into rankings, 红黑榜 and cases.
    weight_score = models.PositiveSmallIntegerField("综合分：得分率权重", default=70)
    weight_process = models.PositiveSmallIntegerField("综合分：按期整改率权重", default=30)
    min_sample = models.PositiveSmallIntegerField(
        "最少样本数", default=5, help_text="一周观测少于此数的单位显示为“样本不足”，不参与排名"
    )
    board_mode = models.CharField("红黑榜规则", max_length=20, choices=BoardMode.choices, default=BoardMode.RANK)
    board_k = models.PositiveSmallIntegerField("红黑榜名额 k", default=3)
    red_line = models.DecimalField("红榜线（综合分 ≥）", max_digits=5, decimal_places=2, default=90)
    black_line = models.DecimalField("黑榜线（综合分 <）", max_digits=5, decimal_places=2, default=85)
    overdue_case_threshold = models.PositiveSmallIntegerField(
        "超期问题问责线", default=5, help_text="周末仍超期未整改的问题多于此数时立案问责"
    )
    survey_target = models.DecimalField("满意率目标(%)", max_digits=5, decimal_places=2, default=85)
    district_departments = models.CharField(
        "区直部门排名",
        max_length=20,
        choices=DistrictDepartmentRanking.choices,
        default=DistrictDepartmentRanking.SEPARATE,
        help_text="区县下属部门（区直部门）单独排名，或与市直部门一起排名",
    )
    # 申诉: a week's appeal window closes on the n-th working day after its Sunday, at this hour.
    appeal_working_days = models.PositiveSmallIntegerField(
        "申诉期限（工作日）", default=2, help_text="周评比草稿计算后可申诉，至该周结束后第 N 个工作日的截止时点"
    )
    appeal_deadline_hour = models.PositiveSmallIntegerField(
        "申诉截止时点（时）", default=18, help_text="0—23，如 18 表示当日 18:00 截止"
    )
    # 抽查复核: a week with a re-check recorded 不属实 raises an accountability case for the unit.
    recheck_failed_raises_case = models.BooleanField(
        "抽查复核不属实立案", default=True, help_text="某周有抽查复核不属实的问题时，对相关单位立案问责"
    )
    # 承诺事项: a commitment still open past its deadline at two successive weeks' ends raises a case.
    commitment_overdue_raises_case = models.BooleanField(
        "承诺事项两次逾期立案",
        default=True,
        help_text="承诺事项连续两周周末仍逾期未完成时，发布周评比时对承诺单位立案问责",
    )
    # 调度会材料: besides the 黑榜, the units with open cases and those carrying commitments, the
    # weekly meeting pack calls this many units with the most problems overdue at the week's end.
    meeting_overdue_units = models.PositiveSmallIntegerField(
        "调度会：超期问题最多的单位数",
        default=3,
        help_text="调度会材料除黑榜、未结问责和有承诺事项的单位外，另列周末超期未改问题最多的前 N 个单位（0 为不列）",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "创建活动"
        verbose_name_plural = "创建活动"
        ordering = ["-active", "evaluation_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(share_declaration__lte=100) & Q(share_field__lte=100) & Q(share_survey__lte=100),
                name="campaign_shares_at_most_100",
            ),
            models.CheckConstraint(
                condition=Q(evaluation_date__gte=F("start_date")), name="campaign_evaluation_after_start"
            ),
            models.CheckConstraint(
                condition=Q(weight_score__lte=100) & Q(weight_process__lte=100), name="campaign_weights_at_most_100"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("campaign-detail", args=[self.pk])


class Phase(models.Model):
    """A stage of a campaign (全面启动 → 集中整治 → 巩固提高 → 长效管理) with its date range."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="phases", verbose_name="创建活动")
    kind = models.CharField("阶段", max_length=20, choices=PhaseKind.choices)
    start_date = models.DateField("开始日期")
    end_date = models.DateField("结束日期")
    note = models.CharField("工作重点", max_length=200, blank=True)

    class Meta:
        verbose_name = "创建阶段"
        verbose_name_plural = "创建阶段"
        ordering = ["campaign", "start_date"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "kind"], name="phase_unique_kind_per_campaign"),
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="phase_end_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} · {self.get_kind_display()}"

    def contains(self, day) -> bool:
        return self.start_date <= day <= self.end_date


class Unit(models.Model):
    """A unit that answers for the campaign: a 块 (district → street → community) or a 条 (department).

    `path` is the materialised chain of ids from the root ("/3/17/402/"), kept by
    campaign.services, so subtree and ancestor look-ups cost one query whatever the depth.
    """

    name = models.CharField("名称", max_length=100)
    short_name = models.CharField("简称", max_length=50, blank=True)
    code = models.CharField("编码", max_length=50, unique=True)
    kind = models.CharField("类型", max_length=20, choices=UnitKind.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name="上级单位"
    )
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    active = models.BooleanField("启用", default=True)
    leader_name = models.CharField("主要负责人", max_length=50, blank=True)
    liaison_name = models.CharField("联络员", max_length=50, blank=True)
    phone = models.CharField("联系电话", max_length=50, blank=True)
    history = HistoricalRecords(excluded_fields=["path", "depth"])

    class Meta:
        verbose_name = "单位"
        verbose_name_plural = "单位"
        ordering = ["path"]
        constraints = [
            models.CheckConstraint(condition=~Q(parent=F("id")), name="unit_not_own_parent"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("unit-detail", args=[self.pk])

    @property
    def display_name(self) -> str:
        return self.short_name or self.name

    @property
    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/") if part][:-1]

    @property
    def is_district_department(self) -> bool:
        """A 区直部门: a department with a district above it. Lists annotate `under_district`
        (campaign.selectors.with_kind_labels, one subquery); otherwise the parent chain is read."""
        if self.kind != UnitKind.DEPARTMENT or not self.parent_id:
            return False
        annotated = self.__dict__.get("under_district")
        if annotated is not None:
            return bool(annotated)
        parent = self.parent
        return parent.kind == UnitKind.DISTRICT or parent.is_district_department

    @property
    def kind_label(self) -> str:
        """The kind as the offices say it: a department under a district is a 区直部门."""
        return "区直部门" if self.is_district_department else self.get_kind_display()


class Membership(models.Model):
    """A person's role in a unit: 创建办, 督查员, 单位联络员 or 领导. A person may hold several."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name="用户"
    )
    role = models.CharField("角色", max_length=20, choices=Role.choices)
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="memberships", verbose_name="所属单位"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "成员角色"
        verbose_name_plural = "成员角色"
        ordering = ["user__username", "role"]
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "unit"], name="membership_unique_user_role_unit"),
            models.UniqueConstraint(
                fields=["user", "role"], condition=Q(unit__isnull=True), name="membership_unique_user_role_no_unit"
            ),
            models.CheckConstraint(
                condition=~Q(role=Role.LIAISON) | Q(unit__isnull=False), name="membership_liaison_has_unit"
            ),
        ]

    def __str__(self) -> str:
        where = f" · {self.unit}" if self.unit_id else ""
        return f"{self.user} · {self.get_role_display()}{where}"


class UserProfile(models.Model):
    """What the product keeps about a person beyond Django's user: the mobile number offices list
    people by, and whether the password was issued by the office (an import's one-time password)
    and must be changed at the first sign-in."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile", verbose_name="用户"
    )
    phone = models.CharField("手机号", max_length=20, blank=True, db_index=True)
    must_change_password = models.BooleanField("首次登录须修改密码", default=False)

    class Meta:
        verbose_name = "人员信息"
        verbose_name_plural = "人员信息"

    def __str__(self) -> str:
        return str(self.user)


class WorkGroup(models.Model):
    """A 工作组 of the command (综合协调组, 督查组 …): its leading officials answer for its member units."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="work_groups", verbose_name="创建活动"
    )
    name = models.CharField("名称", max_length=100)
    duties = models.TextField("职责", blank=True)
    leaders = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="led_work_groups", verbose_name="牵头领导"
    )
    units = models.ManyToManyField(Unit, blank=True, related_name="work_groups", verbose_name="成员单位")
    order = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        verbose_name = "工作组"
        verbose_name_plural = "工作组"
        ordering = ["campaign", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "name"], name="workgroup_unique_name_per_campaign"),
        ]

    def __str__(self) -> str:
        return self.name


class JobRun(models.Model):
    """One run of a background job (a roll-up, a reminder sweep, a worker check, an import), shown
    in the UI; a long one reports its progress (percentage, rows done) as it goes."""

    name = models.CharField("任务", max_length=100, db_index=True)
    status = models.CharField("状态", max_length=20, choices=JobStatus.choices, default=JobStatus.QUEUED)
    params = models.JSONField("参数", default=dict, blank=True)
    result = models.JSONField("结果", default=dict, blank=True)
    error = models.TextField("错误", blank=True)
    worker = models.CharField("执行节点", max_length=200, blank=True)
    # Progress of a long job (an import): written by the task as it goes, polled by the page.
    progress = models.PositiveSmallIntegerField("进度(%)", default=0)
    rows_done = models.PositiveIntegerField("已处理行数", default=0)
    rows_total = models.PositiveIntegerField("总行数", null=True, blank=True)
    stage = models.CharField("阶段", max_length=50, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, verbose_name="发起人"
    )
    queued_at = models.DateTimeField("排队时间", default=timezone.now)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    # The transactional outbox (campaign/jobs.py): the row is written in the caller's transaction
    # and handed to the broker after commit; these say whether that hand-over happened, and how
    # often a worker took the run (a run whose worker was lost is queued again, a bounded number
    # of times).
    dispatched_at = models.DateTimeField("派发时间", null=True, blank=True)
    dispatch_error = models.TextField("派发错误", blank=True)
    attempts = models.PositiveSmallIntegerField("执行次数", default=0)

    class Meta:
        verbose_name = "后台任务记录"
        verbose_name_plural = "后台任务记录"
        ordering = ["-queued_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} #{self.pk}"
