"""The 测评体系 (evaluation system) of a campaign, its task breakdown and the declaration materials."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from campaign.models import Campaign, Unit

from .choices import AssignmentRole, Level, MaterialAction, MaterialStatus, Method, RiskStatus, SystemKind


class IndicatorSystem(models.Model):
    """One edition of the evaluation system (e.g. 全国文明城市测评体系 2026版) attached to a campaign."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="indicator_systems", verbose_name="创建活动"
    )
    name = models.CharField("名称", max_length=200)
    kind = models.CharField("类别", max_length=20, choices=SystemKind.choices, default=SystemKind.NATIONAL)
    year = models.PositiveSmallIntegerField("版本年份")
    note = models.TextField("说明", blank=True)
    # The system the campaign is scored against now (forecast, board, tasks); one per campaign.
    # Switching it is audited through the history below.
    is_current = models.BooleanField("当前使用", default=False)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "测评体系"
        verbose_name_plural = "测评体系"
        ordering = ["-year", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "name"], name="indicatorsystem_unique_name"),
            models.UniqueConstraint(
                fields=["campaign"], condition=Q(is_current=True), name="indicatorsystem_one_current"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("indicator-system-detail", args=[self.pk])


class Indicator(models.Model):
    """A node of the tree: 测评项目 (1) → 指标名称 (2) → 测评内容 (3) → 测评标准 (4).

    `weight` is the 分值 the sheet gives (any level, may be blank). The fields after `veto` are
    derived by `indicators.services.indicator_system_rebuild` and never typed in: the materialised
    `path`, the level-1 ancestor `top`, `effective_weight` (own weight, else the sum of the
    children's) and `share_weight` (this node's part of the total when it is a leaf: its own
    weight, or an equal split of its nearest weighted ancestor's).
    """

    system = models.ForeignKey(
        IndicatorSystem, on_delete=models.CASCADE, related_name="indicators", verbose_name="测评体系"
    )
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="children", verbose_name="上级"
    )
    level = models.PositiveSmallIntegerField("层级", choices=Level.choices)
    code = models.CharField("编号", max_length=30, blank=True)
    title = models.CharField("名称", max_length=300)
    text = models.TextField("测评标准内容", blank=True)
    weight = models.DecimalField("分值", max_digits=7, decimal_places=2, null=True, blank=True)
    order = models.PositiveIntegerField("排序", default=0)
    veto = models.BooleanField("一票否决", default=False)
    requirements = models.TextField("材料要求", blank=True)
    point_types = models.CharField("适用点位", max_length=500, blank=True)
    deadline = models.DateField("完成时限", null=True, blank=True)
    # Derived (see the docstring).
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    top = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="+", editable=False)
    effective_weight = models.DecimalField(max_digits=9, decimal_places=4, null=True, blank=True, editable=False)
    children_weight = models.DecimalField(max_digits=9, decimal_places=4, null=True, blank=True, editable=False)
    share_weight = models.DecimalField(max_digits=9, decimal_places=4, default=0, editable=False)
    is_leaf = models.BooleanField(default=True, editable=False)
    # A leaf whose methods (own, else its nearest ancestor's) include 网上申报 or 材料审核.
    is_declaration = models.BooleanField(default=False, editable=False)
    history = HistoricalRecords(
        excluded_fields=[
            "path",
            "top",
            "effective_weight",
            "children_weight",
            "share_weight",
            "is_leaf",
            "is_declaration",
        ]
    )

    class Meta:
        verbose_name = "测评指标"
        verbose_name_plural = "测评指标"
        ordering = ["system", "path"]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "parent", "code"], condition=~Q(code=""), name="indicator_unique_code_under_parent"
            ),
            models.UniqueConstraint(
                fields=["system", "code"],
                condition=Q(parent__isnull=True) & ~Q(code=""),
                name="indicator_unique_top_code",
            ),
            models.CheckConstraint(
                condition=Q(weight__isnull=True) | Q(weight__gte=0), name="indicator_weight_not_negative"
            ),
            models.CheckConstraint(condition=Q(level__gte=1) & Q(level__lte=4), name="indicator_level_1_to_4"),
            models.CheckConstraint(condition=~Q(parent=F("id")), name="indicator_not_own_parent"),
        ]
        indexes = [models.Index(fields=["system", "level"])]

    def __str__(self) -> str:
        return f"{self.code} {self.title}".strip()

    def get_absolute_url(self) -> str:
        return reverse("indicator-detail", args=[self.pk])

    @property
    def label(self) -> str:
        return str(self)


class IndicatorMethod(models.Model):
    """One 测评方法 of an indicator (网上申报, 实地考察 …); an indicator may have several."""

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="method_rows")
    method = models.CharField("测评方法", max_length=20, choices=Method.choices)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "测评方法"
        verbose_name_plural = "测评方法"
        constraints = [models.UniqueConstraint(fields=["indicator", "method"], name="indicatormethod_unique")]

    def __str__(self) -> str:
        return self.get_method_display()


class Assignment(models.Model):
    """A unit's responsibility for an indicator: 牵头单位 (lead) or 责任单位 (responsible).

    Rows with `inherited=False` are what the office assigned. A node with no own rows of a role
    takes its nearest ancestor's: those are stored as `inherited=True` rows, rebuilt by
    `indicators.services.indicator_system_rebuild`, so task lists and filters are plain SQL.
    """

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="assignments")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="indicator_assignments", verbose_name="单位")
    role = models.CharField("职责", max_length=20, choices=AssignmentRole.choices)
    inherited = models.BooleanField("继承自上级", default=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "任务分解"
        verbose_name_plural = "任务分解"
        constraints = [models.UniqueConstraint(fields=["indicator", "unit", "role"], name="assignment_unique")]
        indexes = [models.Index(fields=["unit", "role"])]

    def __str__(self) -> str:
        return f"{self.indicator} · {self.get_role_display()} · {self.unit}"


def material_upload_to(instance, filename: str) -> str:
    return f"materials/{instance.material.indicator.system_id}/{instance.material_id}/{filename}"


class Material(models.Model):
    """A unit's declaration material (网上申报材料) for one indicator, and where its review stands."""

    indicator = models.ForeignKey(
        Indicator, on_delete=models.PROTECT, related_name="materials", verbose_name="测评指标"
    )
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="materials", verbose_name="报送单位")
    description = models.TextField("说明")
    status = models.CharField("状态", max_length=20, choices=MaterialStatus.choices, default=MaterialStatus.PENDING)
    return_reason = models.TextField("退回原因", blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="报送人"
    )
    submitted_at = models.DateTimeField("报送时间")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="审核人",
    )
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)

    class Meta:
        verbose_name = "申报材料"
        verbose_name_plural = "申报材料"
        ordering = ["-submitted_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["indicator", "unit"], name="material_one_per_unit_indicator")]

    def __str__(self) -> str:
        return f"{self.unit} · {self.indicator}"

    def get_absolute_url(self) -> str:
        return reverse("material-detail", args=[self.pk])


class MaterialFile(models.Model):
    """One uploaded file of a material. A replaced file stays, as a previous version."""

    material = models.ForeignKey(Material, on_delete=models.CASCADE, related_name="files")
    file = models.FileField("文件", upload_to=material_upload_to, max_length=300)
    original_name = models.CharField("文件名", max_length=255)
    content_type = models.CharField("类型", max_length=100)
    size = models.PositiveBigIntegerField("大小")
    version = models.PositiveIntegerField("版本", default=1)
    replaces = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="替换的文件"
    )
    current = models.BooleanField("当前版本", default=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = "申报材料文件"
        verbose_name_plural = "申报材料文件"
        ordering = ["material", "-current", "original_name", "-version"]

    def __str__(self) -> str:
        return f"{self.original_name} v{self.version}"


class MaterialEvent(models.Model):
    """An immutable step of a material's review: submitted, returned (with a reason), approved."""

    material = models.ForeignKey(Material, on_delete=models.CASCADE, related_name="events")
    action = models.CharField("操作", max_length=20, choices=MaterialAction.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.TextField("说明", blank=True)
    status_after = models.CharField(max_length=20, choices=MaterialStatus.choices)
    at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = "材料审核记录"
        verbose_name_plural = "材料审核记录"
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} · {self.at:%Y-%m-%d %H:%M}"


class NegativeListItem(models.Model):
    """An item of the 负面清单: an event that suspends or cancels the campaign; `veto` for 一票否决."""

    system = models.ForeignKey(
        IndicatorSystem, on_delete=models.CASCADE, related_name="negative_items", verbose_name="测评体系"
    )
    code = models.CharField("编号", max_length=30, blank=True)
    title = models.CharField("事项", max_length=300)
    description = models.TextField("说明", blank=True)
    veto = models.BooleanField("一票否决", default=False)
    order = models.PositiveIntegerField("排序", default=0)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "负面清单事项"
        verbose_name_plural = "负面清单事项"
        ordering = ["system", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["system", "title"], name="negativeitem_unique_title")]

    def __str__(self) -> str:
        return f"{self.code} {self.title}".strip()


class RiskEvent(models.Model):
    """A registered risk event against a negative-list item. An open veto event outranks every score."""

    item = models.ForeignKey(
        NegativeListItem, on_delete=models.PROTECT, related_name="events", verbose_name="负面清单事项"
    )
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="risk_events", verbose_name="涉及单位")
    occurred_on = models.DateField("发生日期")
    description = models.TextField("情况说明")
    status = models.CharField("状态", max_length=20, choices=RiskStatus.choices, default=RiskStatus.OPEN)
    resolution = models.TextField("处置情况", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    resolved_at = models.DateTimeField("解决时间", null=True, blank=True)

    class Meta:
        verbose_name = "风险事件"
        verbose_name_plural = "风险事件"
        ordering = ["-occurred_on", "-id"]

    def __str__(self) -> str:
        return f"{self.occurred_on} {self.item.title} · {self.unit}"

    def get_absolute_url(self) -> str:
        return reverse("risk-event-list")
