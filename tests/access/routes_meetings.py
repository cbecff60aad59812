"""Access of the 调度会材料 routes (issue 16 item 1): the meeting pack of a published week is the
指挥部's — the office prepares it, leaders chair it — so both read it and everyone else is refused
(403); anonymous is sent to the login page (pages) or refused (the API). Only the office changes
it: a leader's write is 403 and changes nothing.

The world's week is published (tests/access/conftest.py), so its pack page answers 200. Its PDF was
never asked for: the page says so with a 404, the API's file with the error shape's 404.

The writes sent here are refused and change nothing: 添加单位 / 移出 with no unit (the office gets
the service's message and a redirect to the pack; the API a 400 for a unit that does not exist), and taking back a unit the office
never added. 生成 PDF is the office's (OK: not sent); the API's render takes no body. The page's
write views check the method before the login, so an anonymous GET is a 405 (no login redirect for
a route that only takes a POST)."""

from __future__ import annotations

from tests.access.matrix import (
    API_OFFICE,
    API_POST_ONLY,
    OK,
    PAGE_OFFICE_LEADER,
    Route,
    S,
    const,
    week,
)

API_READ = API_OFFICE | {"leader": 200}
# A pack that was never rendered: its PDF is a 404 to the readers, 403 to everyone else.
PDF_NONE = S(302, 404, 403, 404, 403, 403, 403)
API_PDF_NONE = S(403, 404, 403, 404, 403, 403, 403)
# require_POST runs before login_required: every GET is 405, anonymous included.
PAGE_POST = S(405, 405, 405, 405, 405, 405, 405)
# The office's refused write is the pack page again with the service's message (302).
PAGE_WRITE = S(302, OK, 403, 403, 403, 403, 403)
PAGE_WRITE_REFUSED = S(302, 302, 403, 403, 403, 403, 403)
API_WRITE_REFUSED = S(403, 400, 403, 403, 403, 403, 403)
# A body naming no unit: the office's is refused by the service (400); everyone else's is refused
# before the body is read (403).
NO_UNIT = 999_999_999


def _api_unit(w, side) -> dict:
    """The pack's unit URL for a unit of the side (never added to the world's pack)."""
    return {"campaign": w.campaign.pk, "week": w.week, "unit": w.obj("unit", side).pk}


ROUTES: dict[str, Route] = {
    "meeting-list": Route(PAGE_OFFICE_LEADER),
    "meeting-page": Route(PAGE_OFFICE_LEADER, week()),
    "meeting-pdf": Route(PDF_NONE, week()),
    "meeting-status": Route(PAGE_OFFICE_LEADER, week()),
    "meeting-generate": Route(PAGE_POST, week(), {"post": PAGE_WRITE}, const({})),
    "meeting-add-unit": Route(PAGE_POST, week(), {"post": PAGE_WRITE_REFUSED}, const({"unit": ""})),
    "meeting-remove-unit": Route(PAGE_POST, week(), {"post": PAGE_WRITE_REFUSED}, const({"unit": ""})),
    "meeting-packs-api:meeting-pack": Route(
        API_READ,
        week("campaign"),
        public="the pack names the units the 调度会 hears, any district's, to the office and leaders only",
    ),
    "meeting-packs-api:meeting-pack-units": Route(
        API_POST_ONLY, week("campaign"), {"post": API_WRITE_REFUSED}, const({"unit": NO_UNIT})
    ),
    # Taking back a unit the office never added: the service's 400.
    "meeting-packs-api:meeting-pack-unit": Route(API_POST_ONLY, _api_unit, {"delete": API_WRITE_REFUSED}, const({})),
    "meeting-packs-api:meeting-pack-render": Route(
        API_POST_ONLY, week("campaign"), {"post": S(403, OK, 403, 403, 403, 403, 403)}, const({})
    ),
    "meeting-packs-api:meeting-pack-pdf": Route(API_PDF_NONE, week("campaign")),
}
