"""Routes of the point types import and export (issue 13, item 3), merged into the access matrix."""

from tests.access.matrix import (
    API_ACTION_OFFICE,
    API_WRITE_OFFICE,
    PAGE_ALL,
    PAGE_OFFICE,
    WRITE_OFFICE,
    Route,
    sheet,
)

ROUTES: dict[str, Route] = {
    "pointtype-list": Route(PAGE_ALL, export=True),
    "pointtype-import": Route(PAGE_OFFICE, writes={"post": WRITE_OFFICE}, body=sheet()),
    "inspections-api:point-type-import-point-types": Route(
        API_ACTION_OFFICE, writes={"post": API_WRITE_OFFICE}, body=sheet()
    ),
}
