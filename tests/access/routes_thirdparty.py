"""Routes of the 第三方测评结果导入 (issue 13, item 4), merged into the access matrix."""

from tests.access.matrix import (
    API_ACTION_OFFICE,
    API_WRITE_OFFICE,
    PAGE_OFFICE,
    WRITE_OFFICE,
    Route,
    sheet,
)

ROUTES: dict[str, Route] = {
    "third-party-import": Route(PAGE_OFFICE, writes={"post": WRITE_OFFICE}, body=sheet()),
    "inspections-api:third-party-results-import": Route(
        API_ACTION_OFFICE, writes={"post": API_WRITE_OFFICE}, body=sheet()
    ),
}
