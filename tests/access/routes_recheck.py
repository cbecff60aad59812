"""Access of the 疑点 and 抽查复核 routes (issue 14 item 4): the 疑点 list is read by the office,
leaders and liaisons (a liaison's rows are its units' — the list's scope, tested beside the
feature); an inspector gets 404, as for an object out of scope."""

from __future__ import annotations

from tests.access.matrix import API_POST_ONLY, PAGE_OFFICE_LEADER, PAGE_POST_ONLY, Route, S, const

ROUTES: dict[str, Route] = {
    "evidence-flag-list": Route(S(302, 200, 404, 200, 200, 200, 200), export=True),
    "rankings-api:evidence-flag-list": Route(S(403, 200, 404, 200, 200, 200, 200)),
}


def _record(w, side) -> dict:
    return {"pk": w.obj("recheck", side).pk}


# Refused writes change nothing: the office's draw names no week (a form error), its record has no
# note for 不属实 (refused); everyone else is refused before the service.
RECHECKS: dict[str, Route] = {
    "recheck-list": Route(
        PAGE_OFFICE_LEADER,
        writes={"post": S(302, 400, 403, 403, 403, 403, 403)},
        body=const({"week_from": "", "week_to": "", "by": "count", "number": "1"}),
    ),
    "recheck-record": Route(
        PAGE_POST_ONLY,
        _record,
        {"post": S(302, 302, 403, 403, 403, 403, 403)},
        const({"outcome": "false", "note": ""}),
    ),
    "rankings-api:recheck-draw-list": Route(
        S(403, 200, 403, 200, 403, 403, 403),
        writes={"post": S(403, 400, 403, 403, 403, 403, 403)},
        body=const({"week_from": "2020-W01", "week_to": "2020-W01", "count": 1}),
    ),
    "rankings-api:recheck-record": Route(
        API_POST_ONLY | {"anon": 403},
        _record,
        {"post": S(403, 400, 403, 403, 403, 403, 403)},
        const({"outcome": False, "note": ""}),
    ),
}
ROUTES.update(RECHECKS)
