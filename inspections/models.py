"""Field points, check items, inspection rounds, inspections, observations, photos and the problems
they open. Facts (observations, their charges) are append-only: a correction is a new inspection."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from campaign.models import Campaign, Unit
from indicators.models import Indicator

from .choices import (
    ChargeKind,
    ProblemSource,
    ProblemStatus,
    ReportChannel,
    ReportStatus,
    Result,
    RoundKind,
    Severity,
)


class PointType(models.Model):
    """A 点位类别 (农贸市场, 背街小巷 …) with the departments that usually supervise it (条)."""

    name = models.CharField("名称", max_length=50, unique=True)
    category = models.CharField("分类", max_length=50, blank=True, help_text="如：公共场所、窗口单位、交通站点")
    order = models.PositiveSmallIntegerField("排序", default=0)
    national = models.BooleanField("国家测评点位类别", default=False)
    active = models.BooleanField("启用", default=True)
    departments = models.ManyToManyField(
        Unit, blank=True, related_name="supervised_point_types", verbose_name="默认主管部门"
    )
    history = HistoricalRecords(m2m_fields=[departments])

    class Meta:
        verbose_name = "点位类别"
        verbose_name_plural = "点位类别"
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name


class Point(models.Model):
    """A field point (点位) that inspectors visit: its place in the territorial tree and its 条."""

    name = models.CharField("名称", max_length=200)
    point_type = models.ForeignKey(PointType, on_delete=models.PROTECT, related_name="points", verbose_name="类别")
    address = models.CharField("地址", max_length=300, blank=True)
    latitude = models.DecimalField("纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField("经度", max_digits=9, decimal_places=6, null=True, blank=True)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="points", verbose_name="所属社区或街道")
    departments = models.ManyToManyField(Unit, blank=True, related_name="supervised_points", verbose_name="主管部门")
    sponsor = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="sponsored_points", verbose_name="包保单位"
    )
    contact_name = models.CharField("负责人", max_length=50, blank=True)
    contact_phone = models.CharField("联系电话", max_length=50, blank=True)
    key_point = models.BooleanField("重点点位", default=False)
    active = models.BooleanField("启用", default=True)
    history = HistoricalRecords(m2m_fields=[departments])

    class Meta:
        verbose_name = "点位"
        verbose_name_plural = "点位"
        ordering = ["point_type__order", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["name", "point_type", "unit"], name="point_unique_name_type_unit"),
            models.CheckConstraint(
                condition=(Q(latitude__isnull=True) | (Q(latitude__gte=-90) & Q(latitude__lte=90)))
                & (Q(longitude__isnull=True) | (Q(longitude__gte=-180) & Q(longitude__lte=180))),
                name="point_coordinates_in_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("point-detail", args=[self.pk])


class CheckItem(models.Model):
    """A 测评细则: how to judge one 测评标准 at one point type, and what a failure costs."""

    point_type = models.ForeignKey(
        PointType, on_delete=models.PROTECT, related_name="check_items", verbose_name="点位类别"
    )
    indicator = models.ForeignKey(
        Indicator, on_delete=models.PROTECT, related_name="check_items", verbose_name="测评标准"
    )
    text = models.CharField("检查内容", max_length=500)
    counting_rule = models.CharField("计分规则", max_length=300, blank=True)
    per_occurrence = models.DecimalField("每处扣分", max_digits=6, decimal_places=2)
    cap = models.DecimalField("最高扣分", max_digits=6, decimal_places=2)
    severity = models.CharField("严重程度", max_length=20, choices=Severity.choices, default=Severity.NORMAL)
    exemption_note = models.CharField("说明", max_length=500, blank=True)
    departments = models.ManyToManyField(Unit, blank=True, related_name="charged_check_items", verbose_name="责任部门")
    order = models.PositiveIntegerField("排序", default=0)
    active = models.BooleanField("启用", default=True)
    deadline_days = models.PositiveSmallIntegerField(
        "整改时限(工作日)", null=True, blank=True, help_text="留空则按严重程度的默认时限"
    )
    history = HistoricalRecords(m2m_fields=[departments])

    class Meta:
        verbose_name = "测评细则"
        verbose_name_plural = "测评细则"
        ordering = ["point_type", "order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(per_occurrence__gt=0) & Q(cap__gte=F("per_occurrence")),
                name="checkitem_deduction_positive_and_capped",
            ),
            models.UniqueConstraint(fields=["point_type", "indicator", "text"], name="checkitem_unique_text"),
        ]

    def __str__(self) -> str:
        return self.text


class InspectionRound(models.Model):
    """A 督查批次: its kind, dates, inspectors and the points it samples (drawn reproducibly)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="rounds", verbose_name="创建活动")
    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类型", max_length=20, choices=RoundKind.choices)
    start_date = models.DateField("开始日期")
    end_date = models.DateField("结束日期")
    inspectors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="inspection_rounds", verbose_name="督查员"
    )
    points = models.ManyToManyField(Point, blank=True, related_name="rounds", verbose_name="点位")
    sample_seed = models.BigIntegerField("抽样种子", null=True, blank=True)
    sample_quota = models.JSONField("抽样配额", default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "督查批次"
        verbose_name_plural = "督查批次"
        ordering = ["-start_date", "-id"]
        constraints = [models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="round_end_after_start")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("round-detail", args=[self.pk])


class Inspection(models.Model):
    """What an inspector recorded at one point in one round. Never edited: a correction is a new
    inspection with a reason, and the old one stops counting (`current` is set by the service)."""

    round = models.ForeignKey(
        InspectionRound, on_delete=models.PROTECT, related_name="inspections", verbose_name="督查批次"
    )
    point = models.ForeignKey(Point, on_delete=models.PROTECT, related_name="inspections", verbose_name="点位")
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="inspections", verbose_name="督查员"
    )
    client_uuid = models.UUIDField("客户端编号", unique=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    submitted_at = models.DateTimeField("提交时间")
    latitude = models.DecimalField("纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField("经度", max_digits=9, decimal_places=6, null=True, blank=True)
    distance_m = models.PositiveIntegerField("距点位(米)", null=True, blank=True)
    far_from_point = models.BooleanField("位置偏离", default=False)
    note = models.TextField("备注", blank=True)
    supersedes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by", verbose_name="更正的记录"
    )
    correction_reason = models.TextField("更正原因", blank=True)
    current = models.BooleanField("有效", default=True, db_index=True)

    class Meta:
        verbose_name = "督查记录"
        verbose_name_plural = "督查记录"
        ordering = ["-submitted_at", "-id"]
        indexes = [
            # The list's order, read backwards: a page is read from the index, not a sort of all history.
            models.Index(fields=["submitted_at", "id"], name="inspection_submitted_id"),
            # A round's current inspections counted from the index alone (the rounds list and API).
            models.Index(fields=["round"], condition=Q(current=True), name="inspection_current_round"),
        ]

    def __str__(self) -> str:
        return f"{self.point} · {self.submitted_at:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse("inspection-detail", args=[self.pk])


class Observation(models.Model):
    """One check item judged at one inspection: the fact every score is computed from.

    deduction = min(occurrences × per-occurrence, cap); 严重不合格 = cap; 合格 = 0.
    loss = deduction / cap; score = 1 − loss. Stored as computed at submission, never edited.
    """

    inspection = models.ForeignKey(Inspection, on_delete=models.PROTECT, related_name="observations")
    # Denormalised from inspection.round.campaign so one campaign's week is read from this table
    # alone (index below) instead of joining every inspection and round of all history.
    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, related_name="+", db_index=False, verbose_name="创建活动"
    )
    check_item = models.ForeignKey(
        CheckItem, on_delete=models.PROTECT, related_name="observations", verbose_name="测评细则"
    )
    indicator = models.ForeignKey(
        Indicator, on_delete=models.PROTECT, related_name="observations", verbose_name="测评标准"
    )
    point = models.ForeignKey(Point, on_delete=models.PROTECT, related_name="observations", verbose_name="点位")
    result = models.CharField("结果", max_length=20, choices=Result.choices)
    occurrences = models.PositiveIntegerField("问题处数", default=0)
    note = models.TextField("说明", blank=True)
    deduction = models.DecimalField("扣分", max_digits=6, decimal_places=2)
    # The deduction was given as a value (a third-party evaluator's 扣分 0.3 of a cap of 1), not
    # counted from occurrences: it is stored and scored as given (score = 1 − deduction / cap).
    deduction_given = models.BooleanField("按扣分值录入", default=False)
    # A 申诉 granted by the office: the observation stops counting (the roll-up and every list of
    # counted observations skip it); written only by the accountability app's appeal service.
    appeal_granted = models.BooleanField("申诉已撤销扣分", default=False, db_default=False)
    loss = models.DecimalField("失分率", max_digits=7, decimal_places=6)
    score = models.DecimalField("得分", max_digits=7, decimal_places=6)
    observed_at = models.DateTimeField("观测时间", db_index=True)
    current = models.BooleanField("有效", default=True, db_index=True)
    charged_units = models.ManyToManyField(Unit, through="Charge", related_name="charged_observations")

    class Meta:
        verbose_name = "观测"
        verbose_name_plural = "观测"
        ordering = ["inspection", "check_item__order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["inspection", "check_item"], name="observation_one_per_item"),
            models.CheckConstraint(condition=Q(loss__gte=0) & Q(loss__lte=1), name="observation_loss_0_1"),
        ]
        indexes = [
            models.Index(fields=["campaign", "observed_at"], name="observation_campaign_time"),
            # The lists' order (newest first) over current observations: a deep page's keys come
            # from this index alone (see selectors.KeyPagePaginator).
            models.Index(fields=["observed_at", "id"], condition=Q(current=True), name="observation_current_time_id"),
        ]

    def __str__(self) -> str:
        return f"{self.check_item} · {self.get_result_display()}"


class Charge(models.Model):
    """An observation charged to a unit: its territorial chain (community, street, district) and
    its departments (the check item's own, else the point's)."""

    observation = models.ForeignKey(Observation, on_delete=models.CASCADE, related_name="charges")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="charges")
    kind = models.CharField(max_length=20, choices=ChargeKind.choices)

    class Meta:
        verbose_name = "计分归属"
        verbose_name_plural = "计分归属"
        constraints = [models.UniqueConstraint(fields=["observation", "unit"], name="charge_unique")]
        indexes = [models.Index(fields=["unit", "observation"])]

    def __str__(self) -> str:
        return f"{self.unit} · {self.get_kind_display()}"


def photo_upload_to(instance, filename: str) -> str:
    return f"photos/{instance.sha256[:2]}/{instance.sha256}{instance.extension}"


def thumbnail_upload_to(instance, filename: str) -> str:
    return f"photos/thumbs/{instance.sha256[:2]}/{instance.sha256}.jpg"


class Photo(models.Model):
    """A photo taken in the field. Uploaded before the record that cites it; served only through
    views that check access."""

    file = models.ImageField("照片", upload_to=photo_upload_to, max_length=300)
    thumbnail = models.ImageField("缩略图", upload_to=thumbnail_upload_to, max_length=300)
    original_name = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=50)
    extension = models.CharField(max_length=10)
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    taken_at = models.DateTimeField("拍摄时间(EXIF)", null=True, blank=True)
    exif_latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    exif_longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    # Empty for a photo a citizen sent with a report (随手拍, Open311): no account behind it.
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    observation = models.ForeignKey(Observation, on_delete=models.PROTECT, null=True, blank=True, related_name="photos")
    # The 64-bit perceptual hash (imagehash's pHash, stored signed) and its PHASH_CHUNKS chunks,
    # each indexed: any hash within Hamming distance d < PHASH_CHUNKS shares at least one chunk
    # exactly (pigeonhole), so near-duplicates are found by one OR of indexed equalities
    # (multi-index hashing; inspections/photo_checks.py).
    phash = models.BigIntegerField("感知哈希", null=True, blank=True)
    phash_0 = models.PositiveSmallIntegerField(null=True, blank=True, db_index=True)
    phash_1 = models.PositiveSmallIntegerField(null=True, blank=True, db_index=True)
    phash_2 = models.PositiveSmallIntegerField(null=True, blank=True, db_index=True)
    phash_3 = models.PositiveSmallIntegerField(null=True, blank=True, db_index=True)
    phash_4 = models.PositiveSmallIntegerField(null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = "照片"
        verbose_name_plural = "照片"
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name or f"照片 {self.pk}"


# The perceptual hash is split into this many chunks (13, 13, 13, 13 and 12 bits). The duplicate
# distance must stay below it, or the pigeonhole no longer guarantees a shared chunk.
PHASH_CHUNKS = 5


def check_duplicate_distance() -> None:
    """Refuse, at startup, a PHOTO_DUPLICATE_DISTANCE the multi-index lookup cannot honour."""
    from django.core.exceptions import ImproperlyConfigured

    distance = getattr(settings, "PHOTO_DUPLICATE_DISTANCE", 4)
    if not isinstance(distance, int) or not 0 <= distance < PHASH_CHUNKS:
        raise ImproperlyConfigured(
            f"PHOTO_DUPLICATE_DISTANCE={distance!r}: must be an integer from 0 to {PHASH_CHUNKS - 1} "
            f"(the perceptual hash is indexed in {PHASH_CHUNKS} chunks; a larger distance could miss duplicates)."
        )


check_duplicate_distance()


class PhotoFlag(models.Model):
    """A doubt about a photo as evidence (a duplicate, an old or far-away shot, no EXIF…), with its
    reason in Chinese. Written by inspections/photo_checks.py when the photo is uploaded and when
    it is cited (an inspection, a rectification report); one row per (photo, code)."""

    class Code(models.TextChoices):
        DUPLICATE = "duplicate", "疑似重复"
        NEAR_DUPLICATE = "near_duplicate", "疑似重复"
        OLD = "old", "拍摄过早"
        FUTURE = "future", "时间异常"
        FAR = "far", "位置偏离"
        NO_EXIF = "no_exif", "无拍摄信息"
        BEFORE_ASSIGNED = "before_assigned", "早于交办"

    photo = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="flags", verbose_name="照片")
    code = models.CharField("类型", max_length=20, choices=Code.choices)
    message = models.CharField("原因", max_length=300)
    earlier_photo = models.ForeignKey(
        Photo, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="此前照片"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "照片疑点"
        verbose_name_plural = "照片疑点"
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["photo", "code"], name="photoflag_one_per_code")]

    def __str__(self) -> str:
        return f"{self.get_code_display()}：{self.message}"


class Problem(models.Model):
    """A problem to be fixed by whoever owns it. Opened here (status 待交办) by a failing
    observation or by the office; the rectification workflow that moves its status lives in the
    accountability app, which is the only writer of `status` after opening."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="problems")
    source = models.CharField("来源", max_length=20, choices=ProblemSource.choices)
    status = models.CharField("状态", max_length=20, choices=ProblemStatus.choices, default=ProblemStatus.NEW)
    point = models.ForeignKey(
        Point, on_delete=models.PROTECT, null=True, blank=True, related_name="problems", verbose_name="点位"
    )
    check_item = models.ForeignKey(
        CheckItem, on_delete=models.PROTECT, null=True, blank=True, related_name="problems", verbose_name="测评细则"
    )
    indicator = models.ForeignKey(
        Indicator, on_delete=models.PROTECT, null=True, blank=True, related_name="problems", verbose_name="测评标准"
    )
    observation = models.OneToOneField(
        Observation, on_delete=models.PROTECT, null=True, blank=True, related_name="problem"
    )
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="located_problems", verbose_name="属地单位")
    description = models.TextField("问题描述")
    severity = models.CharField("严重程度", max_length=20, choices=Severity.choices, default=Severity.NORMAL)
    deduction = models.DecimalField("扣分", max_digits=6, decimal_places=2, default=0)
    photos = models.ManyToManyField(Photo, blank=True, related_name="problems", verbose_name="照片")
    found_at = models.DateTimeField("发现时间", db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # Workflow state, written only by accountability.workflow (the one state machine).
    handler = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="handled_problems", verbose_name="主办单位"
    )
    co_handlers = models.ManyToManyField(Unit, blank=True, related_name="co_handled_problems", verbose_name="协办单位")
    deadline = models.DateField("整改期限", null=True, blank=True, db_index=True)
    original_deadline = models.DateField("原定期限", null=True, blank=True)
    rework_count = models.PositiveSmallIntegerField("返工次数", default=0)
    shelved = models.BooleanField("挂账", default=False)
    shelved_until = models.DateField("挂账计划完成日期", null=True, blank=True)
    pending_request = models.CharField("待处理申请", max_length=20, blank=True)
    requested_deadline = models.DateField("申请延期至", null=True, blank=True)
    request_reason = models.TextField("申请理由", blank=True)
    closed_at = models.DateTimeField("销号时间", null=True, blank=True)
    rebound_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="rebounds", verbose_name="反弹自"
    )
    # Later failing observations of the same item at the same point while this problem is open.
    sightings = models.ManyToManyField(
        Observation, blank=True, related_name="sighted_problems", verbose_name="再次发现"
    )
    # Where the problem is, when it has no point or is somewhere else than its point (a citizen's
    # report, a 12345 ticket): the duplicate matching and the map read these, else the point's.
    latitude = models.DecimalField("纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField("经度", max_digits=9, decimal_places=6, null=True, blank=True)
    address = models.CharField("地址", max_length=300, blank=True, default="", db_default="")
    version = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = "问题"
        verbose_name_plural = "问题"
        ordering = ["-found_at", "-id"]
        indexes = [
            # The list's order, read backwards: a deep page's keys come from this index alone.
            models.Index(fields=["found_at", "id"], name="problem_found_id"),
            # Open problems (a quarter of all history) by deadline: the home and dashboard counts
            # (待交办, 待复查, 超期) read this index alone instead of every problem ever opened.
            models.Index(
                fields=["deadline", "status", "shelved"],
                condition=~Q(status__in=[ProblemStatus.CLOSED, ProblemStatus.VOID]),
                name="problem_open_deadline",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.description[:30]}"

    def get_absolute_url(self) -> str:
        return reverse("problem-detail", args=[self.pk])


class PublicCategory(models.Model):
    """A category the public reports under (随手拍's 问题类别, Open311's service): the campaign's own
    list, mapped to the check items and point types it stands for, so a report can be matched to open
    problems and routed. `code` is the Open311 service_code."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="public_categories", verbose_name="创建活动"
    )
    code = models.SlugField("编码", max_length=40)
    name = models.CharField("名称", max_length=60)
    description = models.CharField("说明", max_length=300, blank=True)
    group = models.CharField("分组", max_length=60, blank=True)
    order = models.PositiveIntegerField("排序", default=0)
    active = models.BooleanField("启用", default=True)
    check_items = models.ManyToManyField(
        CheckItem, blank=True, related_name="public_categories", verbose_name="对应测评细则"
    )
    point_types = models.ManyToManyField(
        PointType, blank=True, related_name="public_categories", verbose_name="对应点位类别"
    )

    class Meta:
        verbose_name = "公众问题类别"
        verbose_name_plural = "公众问题类别"
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "code"], name="public_category_unique_code"),
            models.UniqueConstraint(fields=["campaign", "name"], name="public_category_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class IntakeKey(models.Model):
    """An API key the office issues to an outside system (an Open311 client, the 12345 platform).
    Only its SHA-256 is stored; the key is shown once when issued."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="intake_keys", verbose_name="创建活动"
    )
    name = models.CharField("名称", max_length=100)
    prefix = models.CharField("前缀", max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    active = models.BooleanField("启用", default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("签发时间", auto_now_add=True)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)

    class Meta:
        verbose_name = "接口密钥"
        verbose_name_plural = "接口密钥"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name}（{self.prefix}…）"


class Report(models.Model):
    """A problem reported from outside the office — a citizen's 随手拍, a 12345 ticket, an Open311
    request — waiting in the 待分拣 queue until the office accepts it (a new problem), merges it into
    an open problem (another sighting of it) or rejects it with a reason. `reference` is the public,
    unguessable number the citizen's status page and Open311 answer by; the reporter's phone and
    name are never shown outside the office."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="reports", verbose_name="创建活动")
    channel = models.CharField("渠道", max_length=20, choices=ReportChannel.choices)
    reference = models.CharField("受理编号", max_length=20, unique=True)
    status = models.CharField("状态", max_length=20, choices=ReportStatus.choices, default=ReportStatus.PENDING)
    category = models.ForeignKey(
        PublicCategory,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reports",
        verbose_name="问题类别",
    )
    category_text = models.CharField("原始类别", max_length=100, blank=True)
    description = models.TextField("问题描述")
    address = models.CharField("地址", max_length=300, blank=True)
    latitude = models.DecimalField("纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField("经度", max_digits=9, decimal_places=6, null=True, blank=True)
    # Private: shown to the office only, never on the status page or through Open311.
    reporter_name = models.CharField("反映人", max_length=50, blank=True)
    reporter_phone = models.CharField("联系电话", max_length=20, blank=True)
    photos = models.ManyToManyField(Photo, blank=True, related_name="reports", verbose_name="照片")
    submitted_at = models.DateTimeField("提交时间", db_index=True)
    intake_key = models.ForeignKey(
        IntakeKey, on_delete=models.PROTECT, null=True, blank=True, related_name="reports", verbose_name="接口密钥"
    )
    # 12345: the platform's ticket, unique per campaign; a re-import updates the same report.
    ticket_no = models.CharField("工单编号", max_length=50, blank=True)
    called_at = models.DateTimeField("来电时间", null=True, blank=True)
    ticket_due_at = models.DateTimeField("办理时限", null=True, blank=True)
    # Triage.
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="reports", verbose_name="属地单位"
    )
    point = models.ForeignKey(
        Point, on_delete=models.PROTECT, null=True, blank=True, related_name="reports", verbose_name="点位"
    )
    problem = models.ForeignKey(
        Problem, on_delete=models.PROTECT, null=True, blank=True, related_name="reports", verbose_name="问题"
    )
    reject_reason = models.CharField("不予受理理由", max_length=300, blank=True)
    triaged_at = models.DateTimeField("分拣时间", null=True, blank=True)
    triaged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The reply to send back (to the hotline platform, the citizen): recorded when the problem closes.
    reply = models.TextField("办理回复", blank=True)
    replied_at = models.DateTimeField("回复时间", null=True, blank=True)
    version = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = "群众反映"
        verbose_name_plural = "群众反映"
        ordering = ["-submitted_at", "-id"]
        indexes = [
            models.Index(fields=["campaign", "status", "submitted_at"], name="report_queue"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "ticket_no"], condition=~Q(ticket_no=""), name="report_unique_ticket"
            ),
            models.CheckConstraint(
                condition=(Q(latitude__isnull=True) | (Q(latitude__gte=-90) & Q(latitude__lte=90)))
                & (Q(longitude__isnull=True) | (Q(longitude__gte=-180) & Q(longitude__lte=180))),
                name="report_coordinates_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.description[:30]}"
