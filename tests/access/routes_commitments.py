"""Access of the 承诺事项 routes (issue 16 item 2): scoped like problems — the office and leaders read
every commitment, a liaison its units' (another's is 404), an inspector none (404; the list page
is refused). The world's commitments are reported done, awaiting confirmation; every write sent
here is refused and changes nothing: an empty form, a stale `version` (a conflict), a missing
note, or a persona who may not (the unit's own liaison may not confirm; the leader's group holds
甲街道 only)."""

from __future__ import annotations

from tests.access.matrix import API_POST_ONLY, PAGE_POST_ONLY, Route, S, const, pk


def _photo(w, side) -> dict:
    return {"pk": w.obj("commitment", side).pk, "photo": w.obj("commitment_photo", side).pk}


def _api_create(w, side) -> dict:
    return {"unit": w.city.street_jia.pk, "content": "", "due_date": "2099-01-01"}


READ = S(302, 200, 404, 200, (200, 404), (200, 404), 404)
API_READ = S(403, 200, 404, 200, (200, 404), (200, 404), 404)
STALE = const({"note": "越权处理", "version": "99"})
POST_PAGE = PAGE_POST_ONLY | {"anon": 302}
POST_API = API_POST_ONLY | {"anon": 403}

ROUTES: dict[str, Route] = {
    "commitment-list": Route(S(302, 200, 403, 200, 200, 200, 200), export=True),
    "commitment-create": Route(
        S(302, 200, 403, 200, 403, 403, 403),
        writes={"post": S(302, 400, 403, 400, 403, 403, 403)},
        body=const({"unit": "", "content": "", "due_date": ""}),
    ),
    "commitment-detail": Route(READ, pk("commitment")),
    "commitment-edit": Route(
        S(302, 200, 404, 403, (403, 404), (403, 404), 404),
        pk("commitment"),
        {"post": S(302, 400, 404, 403, (403, 404), (403, 404), 404)},
        const({"content": "", "due_date": ""}),
    ),
    "commitment-photo": Route(READ, _photo),
    # A stale version: the service's conflict is a message and a redirect; others are refused first.
    "commitment-report": Route(
        POST_PAGE, pk("commitment"), {"post": S(302, 403, 404, 403, (302, 404), (302, 404), 404)}, STALE
    ),
    "commitment-confirm": Route(
        POST_PAGE, pk("commitment"), {"post": S(302, 302, 404, (302, 403), (403, 404), (403, 404), 404)}, STALE
    ),
    "commitment-return": Route(
        POST_PAGE, pk("commitment"), {"post": S(302, 302, 404, (302, 403), (403, 404), (403, 404), 404)}, STALE
    ),
    "commitment-cancel": Route(
        POST_PAGE, pk("commitment"), {"post": S(302, 302, 404, 403, (403, 404), (403, 404), 404)}, STALE
    ),
    "commitments-api:commitment-list": Route(
        S(403, 200, 200, 200, 200, 200, 200),
        writes={"post": S(403, 400, 403, 400, 403, 403, 403)},
        body=_api_create,
    ),
    "commitments-api:commitment-detail": Route(
        API_READ,
        pk("commitment"),
        {"patch": S(403, 400, 404, 403, (403, 404), (403, 404), 404)},
        const({"content": ""}),
    ),
    "commitments-api:commitment-report-done": Route(
        POST_API, pk("commitment"), {"post": S(403, 403, 404, 403, (400, 404), (400, 404), 404)}, const({"note": ""})
    ),
    "commitments-api:commitment-confirm": Route(
        POST_API,
        pk("commitment"),
        {"post": S(403, 409, 404, (409, 403), (403, 404), (403, 404), 404)},
        const({"note": "", "version": 99}),
    ),
    "commitments-api:commitment-return": Route(
        POST_API,
        pk("commitment"),
        {"post": S(403, 400, 404, (400, 403), (403, 404), (403, 404), 404)},
        const({"note": ""}),
    ),
    "commitments-api:commitment-cancel": Route(
        POST_API, pk("commitment"), {"post": S(403, 400, 404, 403, (403, 404), (403, 404), 404)}, const({"note": ""})
    ),
}
