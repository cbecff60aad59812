"""Routes of helper "indicators" (issue 13, item 9), merged into the access matrix: the campaign
phases write, the dashboard figures and a unit's trend (read-only)."""

from tests.access.matrix import (
    API_OFFICE,
    API_SCOPED,
    API_WRITE_OFFICE,
    Route,
    S,
    const,
    pk,
)

PHASES = {"phases": [{"kind": "launch", "start_date": "2026-01-01", "end_date": "2026-02-01", "note": "越权"}]}

ROUTES: dict[str, Route] = {
    # PUT only, the office's: a GET is 405 for the office, 403 for the others (permission first).
    "api:campaign-phases": Route(
        S(403, 405, 403, 403, 403, 403, 403), pk("campaign"), writes={"put": API_WRITE_OFFICE}, body=const(PHASES)
    ),
    # The 领导驾驶舱's figures: the office and leaders, as /dashboard/.
    "rankings-api:dashboard": Route(
        API_OFFICE | {"leader": 200},
        public="the dashboard names every district, as the page does, to the office and leaders only",
    ),
    # A unit's trend: scoped like its ranking page (out of scope 404).
    "rankings-api:unit-trend": Route(API_SCOPED, pk("unit")),
}
