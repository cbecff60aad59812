"""The push channels of notifications: e-mail (Django's mail), SMS through a pluggable backend
(`SMS_BACKEND`: console, file or an HTTP gateway) and the group robots of 企业微信 and 钉钉.

Each `send_*` function sends one message or raises `ChannelError` with a Chinese reason that names
no secret (a webhook's key or a 钉钉 secret never reaches a log, an error or the delivery log).
HTTP uses the standard library (requests is not a dependency) with a short timeout
(`NOTIFY_HTTP_TIMEOUT`, 5 s by default)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import logging
import socket
import time
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class ChannelError(Exception):
    """A message was not delivered; the text (Chinese, no secrets) is recorded on the delivery."""


class ChannelGone(ChannelError):
    """Nothing to deliver to (a robot deleted or disabled, a user without an address or phone):
    retrying cannot help, the delivery is given up at once."""


def timeout() -> float:
    return float(getattr(settings, "NOTIFY_HTTP_TIMEOUT", 5))


def check_webhook_url(url: str) -> str | None:
    """A Chinese reason when the URL is not an http(s) address urllib can send to, else None."""
    url = (url or "").strip()
    try:
        parsed = urllib.parse.urlsplit(url)
        parsed.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return "机器人地址格式不正确。"
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        return "机器人地址须以 http:// 或 https:// 开头。"
    if not url.isascii() or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return "机器人地址不能含有空格、中文或控制字符（请从群机器人设置中完整复制）。"
    return None


def mask_url(url: str) -> str:
    """The scheme, host and path of a webhook with its query (the robot's key) hidden."""
    try:
        parsed = urllib.parse.urlsplit(url or "")
    except ValueError:
        return "（无效地址）"
    if not parsed.netloc:
        return "（无效地址）"
    return f"{parsed.scheme}://{parsed.netloc}{parsed.path}" + ("?…" if parsed.query else "")


def mask_email(address: str) -> str:
    name, _, domain = (address or "").partition("@")
    return f"{name[:1]}***@{domain}" if domain else "***"


def mask_phone(phone: str) -> str:
    phone = (phone or "").strip()
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "****"


def post_json(url: str, payload: dict, *, headers: dict | None = None) -> dict:
    """POST JSON and return the JSON answer (an empty dict for an empty body). A timeout, a
    refused connection, a 4xx/5xx or an answer that is not JSON raise ChannelError."""
    problem = check_webhook_url(url)
    if problem:
        raise ChannelError(problem)
    request = urllib.request.Request(
        url,
        data=json.dumps(payload, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout()) as response:
            body = response.read(65536)
    except urllib.error.HTTPError as exc:
        raise ChannelError(f"服务器返回 HTTP {exc.code}。") from None
    except TimeoutError:
        raise ChannelError(f"连接超时（{timeout():g} 秒）。") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, (TimeoutError, socket.timeout)):
            raise ChannelError(f"连接超时（{timeout():g} 秒）。") from None
        raise ChannelError("无法连接到服务器。") from None
    except OSError:
        raise ChannelError("网络错误，无法发送。") from None
    except http.client.HTTPException:  # a malformed status line or headers
        raise ChannelError("服务器的应答不是有效的 HTTP。") from None
    except ValueError:  # an address urllib cannot send to (stored before check_webhook_url knew it)
        raise ChannelError("机器人地址格式不正确。") from None
    if not body.strip():
        return {}
    try:
        answer = json.loads(body)
    except ValueError:
        raise ChannelError("服务器的应答不是 JSON。") from None
    return answer if isinstance(answer, dict) else {}


def _robot_answer(answer: dict) -> None:
    """Both robots answer {"errcode": 0, "errmsg": "ok"} on success."""
    code = answer.get("errcode")
    if code != 0:
        message = str(answer.get("errmsg", ""))[:100]
        raise ChannelError(f"机器人返回错误码 {code}：{message}" if code is not None else "机器人应答缺少错误码。")


def _markdown(title: str, text: str, url: str) -> str:
    body = f"**{title}**\n\n{text}"
    if url:
        body += f"\n\n[查看详情]({url})"
    return body


def send_wecom(*, webhook_url: str, title: str, text: str, url: str = "") -> None:
    """企业微信群机器人: a markdown message (content up to 4096 bytes)."""
    content = _markdown(title, text, url).encode()[:4000].decode(errors="ignore")
    _robot_answer(post_json(webhook_url, {"msgtype": "markdown", "markdown": {"content": content}}))


def dingtalk_sign(secret: str, timestamp: int) -> str:
    """钉钉加签: urlencode(base64(HmacSHA256(secret, f"{timestamp}\\n{secret}")))."""
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def dingtalk_url(webhook_url: str, secret: str, *, timestamp: int | None = None) -> str:
    """The webhook with `timestamp` (ms) and `sign` appended when the robot is signed."""
    if not secret:
        return webhook_url
    timestamp = timestamp if timestamp is not None else int(time.time() * 1000)
    separator = "&" if urllib.parse.urlsplit(webhook_url).query else "?"
    return f"{webhook_url}{separator}timestamp={timestamp}&sign={dingtalk_sign(secret, timestamp)}"


def send_dingtalk(*, webhook_url: str, secret: str = "", title: str, text: str, url: str = "") -> None:
    """钉钉群机器人: a markdown message, signed when the robot has a secret."""
    payload = {"msgtype": "markdown", "markdown": {"title": title[:60], "text": _markdown(title, text, url)}}
    _robot_answer(post_json(dingtalk_url(webhook_url, secret), payload))


def send_email(*, address: str, title: str, text: str, url: str = "") -> None:
    if not address:
        raise ChannelGone("用户没有邮箱地址。")
    body = f"{text}\n\n{url}" if url else text
    try:
        send_mail(f"创城指挥平台：{title}", body, settings.DEFAULT_FROM_EMAIL, [address], fail_silently=False)
    except Exception as exc:  # SMTP errors of every kind: recorded, retried
        raise ChannelError(f"邮件发送失败（{type(exc).__name__}）。") from None


# --- SMS ---------------------------------------------------------------------------------------


class ConsoleSmsBackend:
    """Development: the message is logged, nothing is sent."""

    def send(self, *, phone: str, text: str) -> None:
        logger.info("短信 → %s：%s", mask_phone(phone), text)


class FileSmsBackend:
    """Appends one JSON line per message to `SMS_FILE_PATH` (tests, demos, a gateway that reads a spool)."""

    def send(self, *, phone: str, text: str) -> None:
        path = getattr(settings, "SMS_FILE_PATH", "")
        if not path:
            raise ChannelError("未配置短信文件路径（SMS_FILE_PATH）。")
        line = json.dumps({"phone": phone, "text": text, "at": timezone.now().isoformat()}, ensure_ascii=False)
        try:
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(line + "\n")
        except OSError:
            raise ChannelError("无法写入短信文件。") from None


class HttpSmsBackend:
    """POSTs {"phone", "text"} as JSON to `SMS_GATEWAY_URL` with `Authorization: Bearer
    SMS_GATEWAY_TOKEN`; a 2xx answer is success (a JSON answer with a non-zero `code` or
    `errcode` is a failure)."""

    def send(self, *, phone: str, text: str) -> None:
        url = getattr(settings, "SMS_GATEWAY_URL", "")
        if not url:
            raise ChannelError("未配置短信网关地址（SMS_GATEWAY_URL）。")
        token = getattr(settings, "SMS_GATEWAY_TOKEN", "")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        answer = post_json(url, {"phone": phone, "text": text}, headers=headers)
        for field in ("code", "errcode"):
            if field in answer and answer[field] not in (0, "0", "OK", "ok"):
                raise ChannelError(f"短信网关返回错误码 {str(answer[field])[:30]}。")


def sms_backend():
    path = getattr(settings, "SMS_BACKEND", "accountability.channels.ConsoleSmsBackend")
    return import_string(path)()


def send_sms(*, phone: str, text: str) -> None:
    if not phone:
        raise ChannelGone("用户没有登记手机号。")
    sms_backend().send(phone=phone, text=text[:300])
