"""The office's 接口密钥 pages (issue 15 item 4): the keys of the current campaign, the 签发 form
(the raw key shown once, on the answer to the POST, never again) and 停用."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from campaign.generic import Col, ObjectFormView, ObjectListView, OfficeRequiredMixin, apply_validation_error
from campaign.people import display_name
from campaign.permissions import can_manage
from campaign.selectors import campaign_current

from .intake_keys import NAME_MAX_LENGTH, intake_key_issue, intake_key_list, intake_key_revoke
from .models import IntakeKey


class IntakeKeyForm(forms.Form):
    name = forms.CharField(
        label="密钥名称",
        max_length=NAME_MAX_LENGTH,
        help_text="写明使用该密钥的外部系统，如“市民通小程序”“区网格化平台”，便于日后辨认和停用。",
        error_messages={"required": "请填写密钥名称（如使用该密钥的系统名称）。"},
    )


class IntakeKeyListView(OfficeRequiredMixin, ObjectListView):
    title = "接口密钥"
    template_name = "inspections/intake_key_list.html"
    columns = [
        Col("名称", "name"),
        Col("编码前缀", lambda key: f"{key.prefix}…"),
        Col("签发人", lambda key: display_name(key.created_by)),
        Col("签发时间", "created_at"),
        Col("最近使用", "last_used_at"),
        Col("状态", lambda key: "启用" if key.active else "已停用"),
    ]
    empty_message = "还没有接口密钥。"
    empty_hint = "点击“签发密钥”，为需要向本平台提交问题的外部系统（如 Open311 客户端）签发一个密钥。"

    def base_queryset(self):
        return intake_key_list(campaign=campaign_current())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            campaign=campaign_current(),
            issue_url=reverse("intakekey-create"),
            open311_url=self.request.build_absolute_uri(reverse("open311-services", kwargs={"fmt": "json"})),
        )
        return context


class IntakeKeyCreateView(ObjectFormView):
    """签发: a POST that succeeds answers the page with the raw key (shown once), not a redirect, so
    the key never travels in a URL or a session."""

    title = "签发接口密钥"
    form_class = IntakeKeyForm
    template_name = "inspections/intake_key_form.html"

    def cancel_url(self) -> str:
        return reverse("intakekey-list")

    def extra_context(self) -> dict:
        return {"campaign": campaign_current()}

    def post(self, request, *args, **kwargs):
        form = self.form_class(request.POST)
        if form.is_valid():
            try:
                key, raw = intake_key_issue(
                    campaign=campaign_current(), name=form.cleaned_data["name"], user=request.user
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                response = render(
                    request,
                    "inspections/intake_key_issued.html",
                    {"title": "接口密钥已签发", "key": key, "raw": raw, "list_url": reverse("intakekey-list")},
                )
                response["Cache-Control"] = "no-store"
                return response
        return self.render_form(form, status=400)


@login_required
@require_POST
def intake_key_revoke_view(request, pk: int):
    if not can_manage(request.user):
        raise PermissionDenied("只有创建办可以停用接口密钥。")
    key = get_object_or_404(IntakeKey, pk=pk)
    try:
        intake_key_revoke(key=key, user=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, f"已停用接口密钥“{key.name}”（{key.prefix}…）：使用它的请求将被拒绝。")
    return HttpResponseRedirect(reverse("intakekey-list"))
