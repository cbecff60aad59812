"""Access of the people routes (issue 13: 导入人员, the membership and users API): the office only."""

from __future__ import annotations

from tests.access.matrix import (
    API_ACTION_OFFICE,
    API_OFFICE,
    API_WRITE_OFFICE,
    PAGE_OFFICE,
    WRITE_OFFICE,
    Route,
    const,
    pk,
    sheet,
)

ROUTES: dict[str, Route] = {
    "membership-import": Route(PAGE_OFFICE, writes={"post": WRITE_OFFICE}, body=sheet()),
    "api:membership-list": Route(
        API_OFFICE,
        writes={"post": API_WRITE_OFFICE},
        body=const({"full_name": "越权新人", "phone": "13800000099", "role": "office"}),
    ),
    "api:membership-detail": Route(
        API_OFFICE, pk("membership"), {"patch": API_WRITE_OFFICE}, const({"role": "office"})
    ),
    "api:membership-deactivate": Route(API_ACTION_OFFICE, pk("membership"), {"post": API_WRITE_OFFICE}, const({})),
    "api:membership-import": Route(API_ACTION_OFFICE, writes={"post": API_WRITE_OFFICE}, body=sheet()),
    "api:user-list": Route(API_OFFICE),
}
