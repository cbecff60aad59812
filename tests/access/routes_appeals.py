"""Access of the 申诉 routes (issue 14 item 5): scoped like problems — office and leaders read every
appeal, the inspector those of its rounds, a liaison its units' (another's is 404). The world's week
is published, so every filing and decision is refused (nothing changes): filing needs the week's
window, deciding the office or the leader of a work group over the unit (the leader's group holds
甲街道)."""

from __future__ import annotations

from tests.access.matrix import API_ALL, API_POST_ONLY, PAGE_ALL, PAGE_POST_ONLY, PAGE_SCOPED, Route, S, const, pk

FILE_BODY = const({"reason": "越权申诉"})
DECIDE_BODY = const({"decision": "grant", "note": "越权裁定"})


def _api_file_body(w, side) -> dict:
    return {"observation": w.obj("observation", side).pk, "reason": "越权申诉"}


def _photo(w, side) -> dict:
    return {"pk": w.obj("appeal", side).pk, "photo": w.obj("appeal_photo", side).pk}


ROUTES: dict[str, Route] = {
    "appeal-list": Route(PAGE_ALL),
    # The form re-renders with the service's refusal (already appealed, not charged, or not readable: 404).
    "appeal-create": Route(
        PAGE_SCOPED,
        pk("observation", "observation"),
        {"post": S(302, 200, 200, 200, (200, 404), (200, 404), (200, 404))},
        FILE_BODY,
    ),
    # A decider's refusal (the week is published) is a message and a redirect.
    "appeal-decide": Route(
        PAGE_POST_ONLY | {"anon": 302},
        pk("appeal"),
        {"post": S(302, 302, 403, (302, 403), (403, 404), (403, 404), 404)},
        DECIDE_BODY,
    ),
    "appeal-photo": Route(S(302, 200, 200, 200, (200, 404), (200, 404), 404), _photo),
    "rankings-api:appeal-list": Route(
        API_ALL, writes={"post": S(403, 400, 400, 400, 400, 400, 400)}, body=_api_file_body
    ),
    "rankings-api:appeal-detail": Route(S(403, 200, 200, 200, (200, 404), (200, 404), 404), pk("appeal")),
    "rankings-api:appeal-decide": Route(
        API_POST_ONLY | {"anon": 403},
        pk("appeal"),
        {"post": S(403, 400, 403, (400, 403), (403, 404), (403, 404), 404)},
        DECIDE_BODY,
    ),
}
