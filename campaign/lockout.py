"""Login lockouts (django-axes) that lock the right thing: the (username, client address) pair,
with the client's address read safely behind the documented reverse proxy, and a Chinese answer.

Behind nginx every request comes from the proxy's address: locking "the IP" would lock out the
whole office at once. `X-Forwarded-For` is honoured only when the request comes from one of
`TRUSTED_PROXIES` (settings, from the environment); the client is then the right-most address of
the header that is not itself a trusted proxy (the left part can be typed by anyone). A request
from anywhere else is its own `REMOTE_ADDR`, whatever header it sends."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render

LOCKED_MESSAGE = "该账号在本机连续登录失败次数过多，已暂时锁定，请 {minutes} 分钟后再试，或联系创建办重置。"


def _is_trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    for entry in getattr(settings, "TRUSTED_PROXIES", ()):
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def client_ip(request) -> str:
    remote = request.META.get("REMOTE_ADDR", "") or ""
    if not _is_trusted(remote):
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    for address in reversed(forwarded):
        if _is_trusted(address):
            continue
        try:
            return str(ipaddress.ip_address(address))
        except ValueError:
            return remote
    return remote


def locked_message() -> str:
    hours = getattr(settings, "AXES_COOLOFF_TIME", 1) or 1
    return LOCKED_MESSAGE.format(minutes=int(float(hours) * 60))


def lockout_response(request, original_response=None, credentials=None):
    """axes' answer to a locked (username, address): 429, in Chinese; JSON on API paths."""
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "locked_out", "detail": locked_message()}, status=429)
    return render(request, "registration/locked_out.html", {"message": locked_message()}, status=429)
