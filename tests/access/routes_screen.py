"""Access of the 大屏 (issue 16 item 3): the page and its one JSON are the office's and the leaders',
as the 领导驾驶舱; everyone else is refused (403), anonymous sent to the login page (the page) or
refused (the API)."""

from __future__ import annotations

from tests.access.matrix import API_OFFICE, PAGE_OFFICE_LEADER, Route

ROUTES: dict[str, Route] = {
    "command-screen": Route(PAGE_OFFICE_LEADER),
    "screen-api:command-screen": Route(
        API_OFFICE | {"leader": 200},
        public="the 大屏 names every district, as the dashboard does, to the office and leaders only",
    ),
}
