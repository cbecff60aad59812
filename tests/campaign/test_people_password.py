"""The forced password change at the first sign-in (issue 13 item 1): an account with a one-time
password is sent to the Chinese password-change page until it has changed it; its API token
requests answer 403 password_change_required (the token endpoint excepted); the change clears it.
And names, not logins, in the header."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from campaign.people import person_create
from campaign.services import membership_create

User = get_user_model()
NEW_PASSWORD = "新的密码Abc2026"


@pytest.fixture
def newcomer(city):
    user, password = person_create(full_name="新来的", phone="13800000021")
    membership_create(user=user, role="liaison", unit=city.street_jia)
    return user, password


def sign_in(client, username, password):
    return client.post("/login/", {"username": username, "password": password})


def test_pages_redirect_to_the_password_change_until_changed(client, newcomer):
    user, password = newcomer
    response = sign_in(client, user.username, password)
    assert response.status_code == 302
    for path in ("/", "/units/", "/problems/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"] == "/password/", path
    page = client.get("/password/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "初始密码" in html and "修改密码" in html
    response = client.post(
        "/password/", {"old_password": password, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == "/"
    user.profile.refresh_from_db()
    assert not user.profile.must_change_password
    home = client.get("/")
    assert home.status_code == 200 and "密码已修改" in home.content.decode()
    client.logout()
    assert sign_in(client, user.username, NEW_PASSWORD).status_code == 302
    assert client.get("/").status_code == 200


def test_a_wrong_old_password_keeps_the_flag(client, newcomer):
    user, password = newcomer
    sign_in(client, user.username, password)
    user.refresh_from_db()
    hash_before = user.password
    response = client.post(
        "/password/", {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 200
    assert client.get("/").status_code == 302
    user.profile.refresh_from_db()
    assert user.profile.must_change_password
    user.refresh_from_db()
    assert user.password == hash_before  # the refused change wrote nothing


def test_logout_is_allowed_while_flagged(client, newcomer):
    user, password = newcomer
    sign_in(client, user.username, password)
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302 and client.get("/")["Location"].startswith("/login/")


def test_api_token_requests_answer_403_until_changed(newcomer):
    user, password = newcomer
    client = APIClient()
    response = client.post("/api/v1/auth/token/", {"username": user.username, "password": password})
    assert response.status_code == 200  # the token endpoint itself is not refused
    token = response.json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.get("/api/v1/units/")
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "password_change_required" and "请先修改初始密码" in body["detail"]
    user.set_password(NEW_PASSWORD)
    user.save()
    user.profile.must_change_password = False
    user.profile.save()
    assert client.get("/api/v1/units/").status_code == 200


def test_api_session_requests_answer_403_not_a_redirect(client, newcomer):
    user, password = newcomer
    sign_in(client, user.username, password)
    response = client.get("/api/v1/units/")
    assert response.status_code == 403 and response.json()["code"] == "password_change_required"


def test_other_tokens_are_not_affected(liaison_jia):
    token = Token.objects.create(user=liaison_jia)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/v1/units/").status_code == 200


def test_ordinary_sign_in_is_not_redirected(client, liaison_jia):
    from tests.conftest import PASSWORD

    sign_in(client, "liaison_jia", PASSWORD)
    assert client.get("/").status_code == 200


def test_header_shows_the_name_not_the_login(client, liaison_jia):
    liaison_jia.first_name = "甲街道联络员"
    liaison_jia.save()
    client.force_login(liaison_jia)
    html = client.get("/").content.decode()
    phone_header = html[html.index('data-testid="user-name-phone"') :].split("</span>")[0]
    assert "甲街道联络员" in phone_header and "liaison_jia" not in phone_header
