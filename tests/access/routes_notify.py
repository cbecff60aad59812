"""Access of the notification routes (issue 15 item 5): everyone signed in reads their own list and
settings and opens only their own notifications (another's is 404); the units' group robots and
the delivery log are the office's alone (403 for everyone else, pages and API)."""

from __future__ import annotations

from tests.access.matrix import (
    API_ACTION_OFFICE,
    API_ALL,
    API_OFFICE,
    API_WRITE_OFFICE,
    OK,
    PAGE_ALL,
    PAGE_OFFICE,
    PAGE_POST_ONLY,
    WRITE_OFFICE,
    Route,
    S,
    const,
    pk,
)

# A robot the refused writes would add or change: a local address nobody listens on.
ROBOT = {"unit": "", "kind": "wecom", "name": "越权添加的机器人", "webhook_url": "http://127.0.0.1:9/robot"}

ROUTES: dict[str, Route] = {
    # Opening a notification marks it read and follows its link: one's own only.
    "notification-open": Route(S(302, 404, 404, 404, (302, 404), (302, 404), 404), pk("notification")),
    "notification-settings": Route(
        PAGE_ALL, writes={"post": S(302, OK, OK, OK, OK, OK, OK)}, body=const({"email": "on"})
    ),
    "unit-channel-list": Route(PAGE_OFFICE),
    "unit-channel-create": Route(PAGE_OFFICE, writes={"post": WRITE_OFFICE}, body=const(ROBOT)),
    "unit-channel-edit": Route(
        PAGE_OFFICE, pk("unit_channel"), {"post": WRITE_OFFICE}, const({**ROBOT, "name": "越权改名"})
    ),
    "unit-channel-toggle": Route(PAGE_POST_ONLY | {"anon": 302}, pk("unit_channel"), {"post": WRITE_OFFICE}, const({})),
    "unit-channel-test": Route(PAGE_POST_ONLY | {"anon": 302}, pk("unit_channel"), {"post": WRITE_OFFICE}, const({})),
    "delivery-list": Route(PAGE_OFFICE),
    "accountability-api:notification-preferences": Route(
        API_ALL, writes={"put": S(403, OK, OK, OK, OK, OK, OK)}, body=const({"email": False})
    ),
    "accountability-api:unit-channel-list": Route(API_OFFICE, writes={"post": API_WRITE_OFFICE}, body=const(ROBOT)),
    "accountability-api:unit-channel-detail": Route(
        API_OFFICE, pk("unit_channel"), {"patch": API_WRITE_OFFICE}, const({"name": "越权改名"})
    ),
    "accountability-api:unit-channel-test": Route(
        API_ACTION_OFFICE, pk("unit_channel"), {"post": API_WRITE_OFFICE}, const({})
    ),
    "accountability-api:delivery-list": Route(API_OFFICE),
}
