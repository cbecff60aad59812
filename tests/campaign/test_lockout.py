"""Lockouts lock the (username, client address) pair, behind a trusted proxy too; the token
endpoint answers a lockout with 429 and keeps working when the cache is down (issue 12, part 6)."""

import pytest
from django.test import override_settings

from campaign.lockout import client_ip

pytestmark = pytest.mark.django_db

LOCKING = {"AXES_ENABLED": True, "AXES_FAILURE_LIMIT": 3}
PASSWORD = "correct-horse-42"


@pytest.fixture
def people(office, leader):
    for user in (office, leader):
        user.set_password(PASSWORD)
        user.save()
    return office, leader


def _login(client, username, password, **meta):
    return client.post("/login/", {"username": username, "password": password}, **meta)


def _fail(client, username, times, **meta):
    for _ in range(times):
        _login(client, username, "wrong", **meta)


class _Request:
    def __init__(self, remote, forwarded=""):
        self.META = {"REMOTE_ADDR": remote, "HTTP_X_FORWARDED_FOR": forwarded}


@override_settings(TRUSTED_PROXIES=["127.0.0.1", "10.9.0.0/16"])
def test_the_client_address_trusts_forwarded_for_only_from_trusted_proxies():
    assert client_ip(_Request("127.0.0.1", "192.168.3.7")) == "192.168.3.7"
    # Spoofed left-hand entries are skipped: the right-most address that is not a proxy is the client.
    assert client_ip(_Request("127.0.0.1", "6.6.6.6, 192.168.3.7, 10.9.1.1")) == "192.168.3.7"
    assert client_ip(_Request("203.0.113.5", "192.168.3.7")) == "203.0.113.5"
    assert client_ip(_Request("127.0.0.1", "not-an-ip")) == "127.0.0.1"
    assert client_ip(_Request("127.0.0.1", "")) == "127.0.0.1"


@override_settings(**LOCKING)
def test_a_locked_pair_does_not_lock_the_colleague_on_the_same_address(client, people):
    office, leader = people
    _fail(client, office.username, 3, REMOTE_ADDR="10.0.0.5")
    locked = _login(client, office.username, PASSWORD, REMOTE_ADDR="10.0.0.5")
    assert locked.status_code == 429
    assert "已暂时锁定" in locked.content.decode()
    # The colleague at the same desk (same address) logs in; so does the same user elsewhere.
    assert _login(client, leader.username, PASSWORD, REMOTE_ADDR="10.0.0.5").status_code == 302
    client.logout()
    assert _login(client, office.username, PASSWORD, REMOTE_ADDR="10.0.0.6").status_code == 302


@override_settings(**LOCKING, TRUSTED_PROXIES=["127.0.0.1"])
def test_behind_the_proxy_one_person_does_not_lock_out_the_office(client, people):
    office, leader = people
    via_proxy = {"REMOTE_ADDR": "127.0.0.1"}
    _fail(client, office.username, 3, HTTP_X_FORWARDED_FOR="192.168.1.10", **via_proxy)
    assert (
        _login(client, office.username, PASSWORD, HTTP_X_FORWARDED_FOR="192.168.1.10", **via_proxy).status_code == 429
    )
    assert (
        _login(client, office.username, PASSWORD, HTTP_X_FORWARDED_FOR="192.168.1.11", **via_proxy).status_code == 302
    )
    client.logout()
    assert (
        _login(client, leader.username, PASSWORD, HTTP_X_FORWARDED_FOR="192.168.1.10", **via_proxy).status_code == 302
    )


@override_settings(**LOCKING)
def test_a_forged_forwarded_for_from_an_untrusted_address_does_not_dodge_the_lock(client, people):
    office, _leader = people
    for n in range(3):
        _login(client, office.username, "wrong", REMOTE_ADDR="10.0.0.7", HTTP_X_FORWARDED_FOR=f"1.1.1.{n}")
    assert (
        _login(client, office.username, PASSWORD, REMOTE_ADDR="10.0.0.7", HTTP_X_FORWARDED_FOR="1.1.1.9").status_code
        == 429
    )


@override_settings(**LOCKING)
def test_the_token_endpoint_answers_a_lockout_with_429_in_chinese(api, people):
    office, leader = people
    client = api()
    wrong = {"username": office.username, "password": "wrong"}
    statuses = [client.post("/api/v1/auth/token/", wrong, REMOTE_ADDR="10.0.0.8").status_code for _ in range(3)]
    # The attempt that reaches the limit is already answered as a lockout, not as a wrong password.
    assert statuses == [400, 400, 429]
    answer = client.post(
        "/api/v1/auth/token/", {"username": office.username, "password": PASSWORD}, REMOTE_ADDR="10.0.0.8"
    )
    assert answer.status_code == 429
    assert answer.json()["code"] == "locked_out" and "已暂时锁定" in answer.json()["detail"]
    answer = client.post(
        "/api/v1/auth/token/", {"username": leader.username, "password": PASSWORD}, REMOTE_ADDR="10.0.0.8"
    )
    assert answer.status_code == 200 and answer.json()["token"]


def test_the_token_endpoint_works_when_the_cache_is_down(api, people, settings, caplog):
    office, _leader = people
    # A Redis cache on a port nothing listens on: every throttle read fails. (Changing CACHES
    # through the settings fixture resets Django's cache handlers, and restores them after.)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    answer = api().post("/api/v1/auth/token/", {"username": office.username, "password": PASSWORD})
    assert answer.status_code == 200 and answer.json()["token"]
    assert "cache unavailable" in caplog.text
