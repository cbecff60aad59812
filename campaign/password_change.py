"""The forced password change at the first sign-in (an account created by 导入人员 or the membership
API carries a one-time password: `UserProfile.must_change_password`).

Signing in through the login page reads the flag once and keeps it in the session, so that the
middleware costs no query on ordinary requests. While it is set every page redirects to the
Chinese password-change page; API requests answer 403 `password_change_required`. A request with
`Authorization: Token …` is checked against the token's user (one query, on token requests only),
except the token endpoint itself. Changing the password clears the flag (profile and session).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect, JsonResponse
from django.urls import reverse

from . import people
from .models import UserProfile

SESSION_FLAG = "must_change_password"
API_PREFIX = "/api/"
REQUIRED_DETAIL = "您使用的是创建办下发的初始密码，请先修改初始密码后再使用系统（网页“修改密码”）。"


def _required_response() -> JsonResponse:
    return JsonResponse({"code": "password_change_required", "detail": REQUIRED_DETAIL}, status=403)


class PasswordChangeRequiredMiddleware:
    """After AuthenticationMiddleware (and the session)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path.startswith(API_PREFIX):
            if path != reverse("api:api-token") and self._api_flagged(request):
                return _required_response()
        elif getattr(request, "session", None) is not None and request.session.get(SESSION_FLAG):
            allowed = {reverse("password_change"), reverse("password_change_done"), reverse("logout")}
            if path not in allowed and request.user.is_authenticated:
                return HttpResponseRedirect(f"{reverse('password_change')}")
        return self.get_response(request)

    @staticmethod
    def _api_flagged(request) -> bool:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        keyword, _, key = header.partition(" ")
        if keyword == "Token" and key.strip():
            return UserProfile.objects.filter(user__auth_token__key=key.strip(), must_change_password=True).exists()
        session = getattr(request, "session", None)
        return bool(session is not None and session.get(SESSION_FLAG) and request.user.is_authenticated)


class LoginView(auth_views.LoginView):
    """The product's login page; remembers in the session whether the password must be changed."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.get_user()
        if people.must_change_password(user=user):
            self.request.session[SESSION_FLAG] = True
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change in the product's template; a forced change then leads home."""

    template_name = "campaign/password_change.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["forced"] = bool(self.request.session.get(SESSION_FLAG))
        return context

    def form_valid(self, form):
        forced = bool(self.request.session.pop(SESSION_FLAG, False))
        response = super().form_valid(form)
        people.password_changed(user=form.user)
        if forced:
            messages.success(self.request, "密码已修改，欢迎使用。")
            return HttpResponseRedirect(reverse("home"))
        return response
