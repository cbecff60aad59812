"""Access of the 疑点 and 抽查复核 routes (issue 14 item 4): the 疑点 list is read by the office,
leaders and liaisons (a liaison's rows are its units' — the list's scope, tested beside the
feature); an inspector gets 404, as for an object out of scope."""

from __future__ import annotations

from tests.access.matrix import Route, S

ROUTES: dict[str, Route] = {
    "evidence-flag-list": Route(S(302, 200, 404, 200, 200, 200, 200), export=True),
    "rankings-api:evidence-flag-list": Route(S(403, 200, 404, 200, 200, 200, 200)),
}
