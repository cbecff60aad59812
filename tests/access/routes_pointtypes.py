"""Routes of the point types import and export (issue 13, item 3), merged into the access matrix."""

from tests.access.matrix import (
    API_ACTION_OFFICE,
    API_WRITE_OFFICE,
    PAGE_ALL,
    PAGE_OFFICE,
    WRITE_OFFICE,
    Route,
    const,
    pk,
    sheet,
)

ROUTES: dict[str, Route] = {
    "pointtype-list": Route(PAGE_ALL, export=True),
    "pointtype-import": Route(PAGE_OFFICE, writes={"post": WRITE_OFFICE}, body=sheet()),
    "pointtype-create": Route(
        PAGE_OFFICE, writes={"post": WRITE_OFFICE}, body=const({"name": "越权类别", "order": "99"})
    ),
    "pointtype-edit": Route(
        PAGE_OFFICE,
        pk("point_type"),
        {"post": WRITE_OFFICE},
        const({"name": "越权改名", "category": "越权分类", "order": "1"}),
    ),
    "inspections-api:point-type-import-point-types": Route(
        API_ACTION_OFFICE, writes={"post": API_WRITE_OFFICE}, body=sheet()
    ),
}
