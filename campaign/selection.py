"""Which campaign a request reads (多城联创: one city runs 创文 and 创卫 side by side).

A request names its campaign with `?campaign=<id>` (links and the API), else the one the user
picked in the header's switcher (kept in the session), else the default: the active campaign
evaluated soonest. `CampaignSelectionMiddleware` records the choice for the request; every page,
widget and banner then reads it through `campaign.selectors.campaign_current()`, so no view has
to pass it down. Outside a request (Celery, management commands) nothing is selected and the
default applies."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field

SESSION_KEY = "campaign_id"


@dataclass
class Selection:
    """The request's choice and, once read, every campaign (a handful of rows: one query serves
    the switcher and the current campaign)."""

    wanted_id: int | None = None
    campaigns: list | None = field(default=None)


_selection: ContextVar[Selection | None] = ContextVar("campaign_selection", default=None)


def current_selection() -> Selection | None:
    return _selection.get()


def _wanted(request) -> int | None:
    raw = request.GET.get("campaign")
    if raw and str(raw).isdigit():
        return int(raw)
    session = getattr(request, "session", None)
    if session is not None:
        stored = session.get(SESSION_KEY)
        if isinstance(stored, int):
            return stored
    return None


class CampaignSelectionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _selection.set(Selection(wanted_id=_wanted(request)))
        try:
            return self.get_response(request)
        finally:
            _selection.reset(token)
