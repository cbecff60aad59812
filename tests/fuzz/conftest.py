"""The schema fuzzer's world: the access matrix's city and objects (tests/access/conftest.py, built
the same way), one API token per persona, and the project's WSGI application called in-process.

The world is built once for the module inside a transaction rolled back at its end; every example
runs in a savepoint that is rolled back too, so each request meets the same world."""

from __future__ import annotations

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import override_settings
from rest_framework.authtoken.models import Token

from campaign.celery import app as celery_app
from tests.access.conftest import build_world


@pytest.fixture(scope="module")
def fuzz_world(django_db_setup, django_db_blocker, tmp_path_factory):
    media = tmp_path_factory.mktemp("fuzz-media")
    celery_app.conf.task_always_eager = True
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media), transaction.atomic():
        world = build_world()
        world.media_root = media
        world.tokens = {persona: Token.objects.create(user=user).key for persona, user in world.users.items()}
        yield world
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _fuzz_media(request, _eager_celery, settings):
    if "fuzz_world" in request.fixturenames:
        settings.MEDIA_ROOT = request.getfixturevalue("fuzz_world").media_root


@pytest.fixture(scope="module")
def wsgi_app():
    """Django's WSGI handler, as gunicorn runs it. Its request signals would close the database
    connection after each request (and with it the test's transaction): Django's own test client
    disconnects them the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
