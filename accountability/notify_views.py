"""Pages of notifications (mounted at /notifications/): the user's list (unread first, paginated,
全部标为已读; opening one marks it read), the user's own push settings, and for the office the
units' group robots (list, add, edit, enable/disable, 发送测试消息) and the delivery log. The
writes live in accountability.notify and accountability.services."""

from __future__ import annotations

import django_filters
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from campaign.filters import FilterSet
from campaign.generic import Col, ObjectListView, apply_validation_error
from campaign.models import Unit
from campaign.selectors import scope_for

from .choices import ROBOT_KINDS, ChannelKind, DeliveryStatus, NotificationKind
from .models import Delivery, Notification, UnitChannel
from .notify import (
    notification_list,
    preference_of,
    preference_update,
    unit_channel_create,
    unit_channel_test,
    unit_channel_update,
)
from .services import notification_mark_read

PAGE_SIZE = 30
CHECKBOX = forms.CheckboxInput(attrs={"class": "form-check-input"})


def _require_office(request) -> None:
    if not scope_for(request.user).is_office:
        raise PermissionDenied("只有创建办可以管理推送渠道和查看推送记录。")


@login_required
def notification_list_page(request):
    """The user's notifications of the current campaign (and those of none): unread first, then
    newest; a page of them in one statement (and its count)."""
    queryset = (
        notification_list(user=request.user)
        .alias(unread=ExpressionWrapper(Q(read_at__isnull=True), output_field=BooleanField()))
        .order_by("-unread", "-created_at", "-id")
    )
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page") or 1)
    unread = any(n.read_at is None for n in page.object_list) or (
        page.number > 1 and queryset.filter(read_at__isnull=True).exists()
    )
    return render(
        request,
        "accountability/notifications.html",
        {"title": "通知", "page_obj": page, "notifications": page.object_list, "unread": unread, "querystring": ""},
    )


@login_required
def notification_open(request, pk: int):
    """Open one of one's own notifications: it is marked read and the user is taken to its link."""
    notification = get_object_or_404(Notification.objects.filter(user=request.user), pk=pk)
    notification_mark_read(user=request.user, ids=[notification.pk])
    return HttpResponseRedirect(notification.link or reverse("notification-list"))


@login_required
@require_POST
def notification_read(request):
    """Mark one (`id`) or all of the user's notifications read; then back to the list or the problem."""
    given = request.POST.getlist("id")
    # ASCII digits only ("²" passes str.isdigit() and makes int() raise); ids given but none valid
    # mark nothing (not everything).
    ids = [int(v) for v in given if v.isascii() and v.isdigit() and len(v) < 12] if given else None
    marked = notification_mark_read(user=request.user, ids=ids)
    if ids is None:
        messages.success(request, f"已将 {marked} 条通知标为已读。")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("notification-list")
    return HttpResponseRedirect(target or reverse("notification-list"))


# --- the user's settings -------------------------------------------------------------------------


def _kinds_field(help_text: str) -> forms.MultipleChoiceField:
    """The kinds pushed, as check boxes (a user's preferences, a robot's): none chosen = every kind."""
    return forms.MultipleChoiceField(
        label="推送的通知类型",
        choices=NotificationKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        help_text=help_text,
    )


class PreferenceForm(forms.Form):
    email = forms.BooleanField(label="邮件推送（有邮箱时）", required=False, widget=CHECKBOX)
    sms = forms.BooleanField(label="短信推送（有手机号时）", required=False, widget=CHECKBOX)
    kinds = _kinds_field("不选表示全部类型；站内通知总会写入。")


@login_required
def notification_settings(request):
    preference = preference_of(request.user)
    initial = {"email": preference.email, "sms": preference.sms, "kinds": preference.kinds}
    form = PreferenceForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                preference_update(user=request.user, **form.cleaned_data)
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, "通知设置已保存。")
                return HttpResponseRedirect(reverse("notification-settings"))
        status = 400
    profile = getattr(request.user, "profile", None)
    return render(
        request,
        "accountability/notification_settings.html",
        {
            "title": "通知设置",
            "form": form,
            "email_address": request.user.email,
            "phone": profile.phone if profile else "",
        },
        status=status,
    )


# --- the office's robots -------------------------------------------------------------------------


class UnitChannelForm(forms.Form):
    unit = forms.ModelChoiceField(label="单位", queryset=Unit.objects.none())
    kind = forms.ChoiceField(label="渠道", choices=ROBOT_KINDS)
    name = forms.CharField(label="名称", max_length=60)
    webhook_url = forms.CharField(
        label="机器人地址", max_length=500, help_text="在企业微信或钉钉群的“群机器人”设置中复制的完整地址。"
    )
    secret = forms.CharField(
        label="加签密钥（钉钉）",
        max_length=200,
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="钉钉机器人开启“加签”时填写；编辑时留空表示不修改。",
    )
    clear_secret = forms.BooleanField(label="清除已保存的加签密钥", required=False, widget=CHECKBOX)
    enabled = forms.BooleanField(label="启用", required=False, initial=True, widget=CHECKBOX)
    kinds = _kinds_field("不选表示全部类型。")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = Unit.objects.filter(active=True).order_by("path")


class UnitChannelListView(ObjectListView):
    title = "推送渠道"
    template_name = "accountability/unit_channels.html"
    empty_message = "还没有配置群机器人。"
    empty_hint = "点击“新增”，填写单位的企业微信或钉钉群机器人地址，该单位的通知会同时推送到群里。"
    columns = [
        Col("单位", "unit.name"),
        Col("渠道", "kind"),
        Col("名称", "name"),
        Col("推送类型", lambda c: "、".join(NotificationKind(k).label for k in c.kinds) or "全部"),
        Col("状态", lambda c: "启用" if c.enabled else "停用"),
    ]

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            _require_office(request)
        return super().dispatch(request, *args, **kwargs)

    def base_queryset(self):
        return UnitChannel.objects.select_related("unit").order_by("unit__path", "kind", "id")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["add_url"] = reverse("unit-channel-create")
        context["extra_actions"] = [("推送记录", reverse("delivery-list"))]
        return context


def _channel_form_page(request, channel: UnitChannel | None):
    _require_office(request)
    if channel is None:
        initial = {"enabled": True}
    else:
        initial = {
            "unit": channel.unit_id,
            "kind": channel.kind,
            "name": channel.name,
            "enabled": channel.enabled,
            "kinds": channel.kinds,
        }
    form = UnitChannelForm(request.POST or None, initial=initial)
    if channel is not None:
        # The address carries the robot's key: like the secret, never shown back; blank keeps it.
        form.fields["webhook_url"].required = False
        form.fields["webhook_url"].help_text = "已保存机器人地址（含密钥，不显示）；留空表示不修改，填写则替换。"
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = dict(form.cleaned_data)
            if channel is not None and not data.get("webhook_url"):
                data.pop("webhook_url", None)
            try:
                if channel is None:
                    channel = unit_channel_create(user=request.user, data=data)
                else:
                    channel = unit_channel_update(user=request.user, channel=channel, data=data)
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, f"推送渠道“{channel.name}”已保存。")
                return HttpResponseRedirect(reverse("unit-channel-list"))
        status = 400
    return render(
        request,
        "accountability/unit_channel_form.html",
        {
            "title": "新增推送渠道" if channel is None or channel.pk is None else f"编辑推送渠道：{channel.name}",
            "form": form,
            "channel": channel,
            "has_secret": bool(channel and channel.secret),
        },
        status=status,
    )


@login_required
def unit_channel_create_page(request):
    return _channel_form_page(request, None)


@login_required
def unit_channel_edit_page(request, pk: int):
    _require_office(request)
    return _channel_form_page(request, get_object_or_404(UnitChannel, pk=pk))


@login_required
@require_POST
def unit_channel_toggle(request, pk: int):
    """启用 / 停用 a robot (the office)."""
    _require_office(request)
    channel = get_object_or_404(UnitChannel, pk=pk)
    try:
        unit_channel_update(user=request.user, channel=channel, data={"enabled": not channel.enabled})
    except ValidationError as exc:  # a stored value today's rules refuse (e.g. an older address)
        messages.error(request, f"推送渠道“{channel.name}”未能修改：{'；'.join(exc.messages)}请先编辑。")
    else:
        messages.success(request, f"推送渠道“{channel.name}”已{'启用' if channel.enabled else '停用'}。")
    return HttpResponseRedirect(reverse("unit-channel-list"))


@login_required
@require_POST
def unit_channel_test_page(request, pk: int):
    """发送测试消息 through a robot now; the result is shown and logged."""
    _require_office(request)
    channel = get_object_or_404(UnitChannel, pk=pk)
    delivery = unit_channel_test(user=request.user, channel=channel)
    if delivery.status == DeliveryStatus.SENT:
        messages.success(request, f"测试消息已发送到“{channel.name}”，请在群里查看。")
    else:
        messages.error(request, f"测试消息发送失败：{delivery.last_error}")
    return HttpResponseRedirect(reverse("unit-channel-list"))


# --- the office's delivery log -------------------------------------------------------------------


class DeliveryFilterSet(FilterSet):
    """The delivery log's filters, shared by the page and the API."""

    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices, label="状态")
    channel = django_filters.ChoiceFilter(choices=ChannelKind.choices, label="渠道")

    class Meta:
        model = Delivery
        fields = ["status", "channel"]


class DeliveryListView(ObjectListView):
    title = "推送记录"
    filterset_class = DeliveryFilterSet
    empty_message = "还没有推送记录：开启邮件、短信推送或配置群机器人后，每次推送都会记录在这里。"
    columns = [
        Col("时间", "created_at"),
        Col("渠道", "channel"),
        Col("发送对象", "target"),
        Col("类型", "kind"),
        Col("内容", "message"),
        Col("状态", "status"),
        Col("尝试次数", "attempts"),
        Col("最近错误", "last_error"),
        Col("发送时间", "sent_at"),
    ]

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            _require_office(request)
        return super().dispatch(request, *args, **kwargs)

    def can_add(self) -> bool:
        return False

    def base_queryset(self):
        return Delivery.objects.order_by("-created_at", "-id")
