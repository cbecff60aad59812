"""The product's own 404 page even when DEBUG is on.

With DEBUG on (as `make run` serves the demo) Django answers a 404 with its technical page, which
lists every route of the project: a liaison who follows a stale link learns the whole URL map and
sees an English developer page instead of the product. Production (DEBUG off) already calls
`handler404` (`campaign.errors.not_found`); this middleware gives DEBUG the same answer, so what a
reader sees in the demo is what production shows.

Two kinds of 404 reach Django's technical page:

- an `Http404` raised by a view (an object out of scope, a bad week): `process_exception` answers
  it with the product's page before Django's handler sees it;
- a path that matches no route: the resolver fails before any view, inside the handler below this
  middleware, so the exception is already a technical response when it comes back up. It is
  recognised by the request having no `resolver_match` (no route matched) and replaced.

A 404 that a view renders itself (e.g. the bulletin list naming an unpublished week) has a route
and no exception: it is the product's page already and passes untouched. Static and media files
are left alone (whitenoise and the storage answer for them; a missing asset needs no page).
PermissionDenied never reaches a technical page: Django calls `handler403` whatever DEBUG says.

Placed after the authentication and campaign-selection middleware, so the page renders with the
reader's menu and the campaign the request selected.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404

from .errors import not_found


class ProductNotFoundMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            settings.DEBUG
            and response.status_code == 404
            and getattr(request, "resolver_match", None) is None
            and not _is_file_path(request.path)
        ):
            response = not_found(request)
            _consume_messages(request, response)
        return response

    def process_exception(self, request, exception):
        if settings.DEBUG and isinstance(exception, Http404) and not _is_file_path(request.path):
            return not_found(request, exception)
        return None


def _is_file_path(path: str) -> bool:
    prefixes = [prefix for prefix in (settings.STATIC_URL, settings.MEDIA_URL) if prefix and prefix != "/"]
    return any(path.startswith(prefix) for prefix in prefixes)


def _consume_messages(request, response) -> None:
    """The page was rendered after the messages middleware answered; store what it displayed as
    read, as that middleware would have, so a message is not shown again on the next page."""
    storage = getattr(request, "_messages", None)
    if storage is not None:
        storage.update(response)
