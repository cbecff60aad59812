"""The phone app (PWA) routes: the web manifest, the service worker at the root scope and the
offline page — served without a login, with the right types and headers; the worker precaches only
static files that exist and changes its version when one of them changes; the record page loads
the outbox script; a resized photo without EXIF is accepted (flagged, never refused)."""

from __future__ import annotations

import io
import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from inspections import pwa
from inspections.models import PhotoFlag

pytestmark = pytest.mark.django_db


def worker_config(response) -> dict:
    text = response.content.decode("utf-8")
    match = re.search(r"^self\.SW_CONFIG = (\{.*\});$", text, re.MULTILINE)
    assert match, "the worker starts with its configuration"
    return json.loads(match.group(1))


def test_the_service_worker_is_served_at_the_root_without_a_login(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert response["Cache-Control"] == "no-cache"
    text = response.content.decode("utf-8")
    assert 'self.addEventListener("fetch"' in text  # static/js/sw.js follows the configuration
    config = worker_config(response)
    assert config["recordUrl"] == "/inspections/record/"
    assert config["offlineUrl"] == "/offline/"
    assert config["logoutUrl"] == "/logout/"
    # a POST to any of these signs someone in or out: the worker drops the kept record pages
    assert set(config["sessionUrls"]) == {"/login/", "/logout/", "/admin/login/", "/admin/logout/"}
    assert re.fullmatch(r"[0-9a-f]{16}", config["version"])


def test_the_worker_precaches_only_static_files_that_exist_and_the_offline_page(client):
    config = worker_config(client.get("/sw.js"))
    precache = config["precache"]
    assert "/offline/" in precache
    static = [url for url in precache if url != "/offline/"]
    assert len(static) == len(pwa.PRECACHE_STATIC)
    for url in static:
        assert url.startswith(config["staticPrefix"])
        assert finders.find(url.removeprefix(config["staticPrefix"])), f"{url} is not a static file"
    # The record page's shell: its scripts and the vendored CSS/JS the base layout loads.
    for needed in ("js/inspection-record.js", "js/offline-queue.js", "vendor/tabler/tabler.min.css", "css/app.css"):
        assert f"/static/{needed}" in static
    # Nothing that holds data: no API, no admin, no page but the offline one.
    assert not [url for url in precache if url.startswith(("/api/", "/admin/", "/inspections/"))]


def test_the_worker_version_changes_when_a_precached_file_changes(client, tmp_path, monkeypatch):
    copy = tmp_path / "inspection-record.js"
    copy.write_text("/* one */", encoding="utf-8")
    real = pwa._static_file

    def patched(path):
        return copy if path == "js/inspection-record.js" else real(path)

    monkeypatch.setattr(pwa, "_static_file", patched)
    first = worker_config(client.get("/sw.js"))["version"]
    assert worker_config(client.get("/sw.js"))["version"] == first  # stable while nothing changes
    copy.write_text("/* two, longer */", encoding="utf-8")
    assert worker_config(client.get("/sw.js"))["version"] != first


def test_the_manifest_is_valid_json_naming_the_record_page(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    data = json.loads(response.content.decode("utf-8"))
    assert data["name"] == "创城指挥平台"
    assert data["short_name"] == "创城督查"
    assert data["start_url"] == "/inspections/record/"
    assert data["display"] == "standalone"
    assert re.fullmatch(r"#[0-9a-f]{6}", data["theme_color"])
    sizes = set()
    for icon in data["icons"]:
        path = finders.find(icon["src"].removeprefix("/static/"))
        assert path, icon["src"]
        with Image.open(path) as image:
            assert image.format == "PNG"
            assert f"{image.width}x{image.height}" == icon["sizes"]
        sizes.add(icon["sizes"])
    assert {"192x192", "512x512"} <= sizes


def test_the_offline_page_is_chinese_and_names_no_user(web, inspector):
    client = web(inspector)
    response = client.get("/offline/")
    assert response.status_code == 200
    text = response.content.decode("utf-8")
    assert "当前离线" in text and "/inspections/record/" in text
    assert inspector.username not in text  # precached once, shown to whoever opens it


@pytest.mark.parametrize("path", ["/sw.js", "/manifest.webmanifest", "/offline/"])
def test_the_pwa_routes_refuse_writes(client, path):
    assert client.post(path).status_code == 405


def test_every_page_links_the_manifest_and_registers_the_worker(client):
    text = client.get("/login/").content.decode("utf-8")
    assert '<link rel="manifest" href="/manifest.webmanifest">' in text
    assert '<meta name="theme-color" content="#066fd1">' in text
    assert 'navigator.serviceWorker.register("/sw.js")' in text
    assert '"serviceWorker" in navigator' in text


def test_the_record_page_loads_the_outbox_before_the_record_script(web, inspector, round_):
    text = web(inspector).get("/inspections/record/").content.decode("utf-8")
    queue, record = text.find("js/offline-queue.js"), text.find("js/inspection-record.js")
    assert 0 < queue < record
    assert 'data-testid="outbox"' in text and 'data-testid="step-queued"' in text


def test_a_photo_resized_on_the_phone_without_exif_is_accepted_and_flagged(web, inspector):
    buffer = io.BytesIO()
    Image.new("RGB", (1600, 1200), (30, 120, 60)).save(buffer, format="JPEG", quality=80)  # no EXIF
    response = web(inspector).post(
        "/inspections/photo-upload/", {"file": SimpleUploadedFile("offline.jpg", buffer.getvalue(), "image/jpeg")}
    )
    assert response.status_code == 201
    photo_id = response.json()["id"]
    assert list(PhotoFlag.objects.filter(photo_id=photo_id).values_list("code", flat=True)) == ["no_exif"]
