"""The product's own 404 and 403 pages, with DEBUG on (as `make run` serves the demo) and off.

With DEBUG on Django would answer a 404 with its technical page listing every route; the
`ProductNotFoundMiddleware` answers with the product's Chinese page instead, the API keeps its JSON
error shape, and static files are left to their own 404."""

import pytest
from django.http import Http404

from campaign import errors

TECHNICAL = ("Using the URLconf", "DEBUG = True", "unit-detail", "api/v1/")


@pytest.fixture(params=[True, False], ids=["debug", "production"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


def _assert_product_404(response):
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert 'data-testid="error-404"' in html
    assert "该页面不存在，或您无权查看。" in html
    assert 'data-testid="error-home"' in html and 'data-testid="error-back"' in html
    for marker in TECHNICAL:
        assert marker not in html, marker
    return html


def test_unknown_path_answers_the_product_404(debug, web, city, liaison_jia):
    html = _assert_product_404(web(liaison_jia).get("/no-such-page/"))
    # The reader's own layout: menu and account, and the address it asked for.
    assert 'data-testid="user-menu"' in html
    assert "<code>/no-such-page/</code>" in html


def test_anonymous_unknown_path_answers_the_product_404(debug, client):
    html = _assert_product_404(client.get("/nowhere/"))
    assert 'data-testid="user-menu"' not in html


def test_an_object_out_of_scope_answers_the_product_404(debug, web, city, liaison_yi):
    """A view's Http404 (another street's unit) is the same page: it never says the unit exists."""
    html = _assert_product_404(web(liaison_yi).get(f"/units/{city.street_jia.pk}/"))
    assert city.street_jia.name not in html


def test_the_views_chinese_reason_is_shown_and_djangos_english_one_is_not(rf):
    request = rf.get("/rankings/units/1/")
    request.user = _anonymous()
    shown = errors.not_found(request, Http404("周次格式应为 2026-W47。")).content.decode()
    assert "周次格式应为 2026-W47。" in shown
    hidden = errors.not_found(request, Http404("No Unit matches the given query.")).content.decode()
    assert "No Unit matches" not in hidden and "该页面不存在，或您无权查看。" in hidden
    repeated = errors.not_found(request, Http404("未找到该单位，或您无权查看。")).content.decode()
    assert "未找到该单位" not in repeated and "该页面不存在，或您无权查看。" in repeated


def test_api_paths_keep_the_json_error_shape(debug, web, city, liaison_yi):
    client = web(liaison_yi)
    response = client.get("/api/v1/no-such-endpoint/")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "未找到该对象，或您无权查看。"}
    out_of_scope = client.get(f"/api/v1/units/{city.street_jia.pk}/")
    assert out_of_scope.status_code == 404
    assert out_of_scope.json()["code"] == "not_found"


def test_missing_static_and_media_files_are_left_to_their_own_404(settings, client):
    settings.DEBUG = True
    for path in ("/static/css/no-such.css", "/media/no-such.jpg"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert b'data-testid="error-404"' not in response.content, path
    # A file that exists is still served.
    assert client.get("/static/css/app.css").status_code == 200


def test_a_missing_slash_still_redirects(debug, web, city, office):
    response = web(office).get("/units")
    assert response.status_code == 301
    assert response["Location"] == "/units/"


def test_back_link_is_the_referring_page_of_this_site_only(debug, web, city, office):
    client = web(office)
    same_site = client.get("/nothing/", HTTP_REFERER="http://testserver/units/")
    assert 'href="http://testserver/units/" class="btn" data-testid="error-back"' in same_site.content.decode()
    foreign = client.get("/nothing/", HTTP_REFERER="https://evil.example/").content.decode()
    assert "evil.example" not in foreign
    assert 'onclick="history.back()" data-testid="error-back"' in foreign


def test_the_404_page_shows_a_pending_message_once_and_the_selected_campaign(settings, web, city, office, campaign):
    """The page is rendered after the messages middleware has answered: it still marks what it
    showed as read, and renders inside the request's campaign selection."""
    settings.DEBUG = True
    client = web(office)
    switched = client.post("/campaigns/switch/", {"campaign": campaign.pk, "next": "/missing-page/"})
    assert switched.status_code == 302 and switched["Location"] == "/missing-page/"
    html = _assert_product_404(client.get("/missing-page/"))
    assert f"已切换到“{campaign.name}”。" in html
    assert 'class="badge bg-blue-lt text-truncate campaign-badge"' in html and campaign.name in html
    assert "已切换到" not in client.get("/").content.decode()


def test_403_is_the_product_page_with_the_way_out(debug, web, city, liaison_jia):
    response = web(liaison_jia).get("/units/new/", HTTP_REFERER="http://testserver/units/tree/")
    assert response.status_code == 403
    html = response.content.decode()
    assert 'data-testid="error-403"' in html and "无权访问" in html
    assert 'data-testid="error-home"' in html
    assert 'href="http://testserver/units/tree/"' in html


def test_403_on_the_api_keeps_the_json_shape(rf):
    request = rf.get("/api/v1/units/")
    response = errors.permission_denied(request)
    assert response.status_code == 403
    assert b'"code": "permission_denied"' in response.content


def _anonymous():
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser()
