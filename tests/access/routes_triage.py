"""Routes of the 群众反映 triage (issue 15 items 1–3), merged into the access matrix: the office and
leaders read the queue and a report, the office triages, imports 12345 tickets, exports the replies
and manages the public categories; everyone else 403 (reports are nobody's district: a role rule,
not a scope). The hotline push takes the office's token or an intake key."""

from tests.access.matrix import (
    API_ACTION_OFFICE,
    API_ALL,
    API_WRITE_OFFICE,
    OK,
    PAGE_OFFICE,
    PAGE_OFFICE_LEADER,
    WRITE_OFFICE,
    Route,
    S,
    const,
    pk,
    sheet,
)

API_READERS = S(403, 200, 403, 200, 403, 403, 403)
API_ACTION_READERS = S(403, 405, 403, 405, 403, 403, 403)  # a reader's GET of a POST-only action
API_TRIAGE = S(403, OK, 403, 403, 403, 403, 403)
CATEGORY_BODY = const({"code": "yuequan", "name": "越权类别"})

ROUTES: dict[str, Route] = {
    "report-list": Route(PAGE_OFFICE_LEADER, export=True),
    "report-detail": Route(PAGE_OFFICE_LEADER, pk("report")),
    "report-triage": Route(
        S(302, 405, 403, 403, 403, 403, 403),
        pk("report"),
        {"post": WRITE_OFFICE},
        const({"action": "reject", "reason": "越权分拣"}),
    ),
    "report-import": Route(PAGE_OFFICE, writes={"post": WRITE_OFFICE}, body=sheet()),
    "report-replies": Route(PAGE_OFFICE),
    "publiccategory-list": Route(PAGE_OFFICE, export=True),
    "publiccategory-import": Route(PAGE_OFFICE, writes={"post": WRITE_OFFICE}, body=sheet()),
    "publiccategory-create": Route(PAGE_OFFICE, writes={"post": WRITE_OFFICE}, body=CATEGORY_BODY),
    "publiccategory-edit": Route(
        PAGE_OFFICE, pk("public_category"), {"post": WRITE_OFFICE}, const({"code": "litter", "name": "越权改名"})
    ),
    "inspections-api:report-list": Route(API_READERS),
    "inspections-api:report-detail": Route(API_READERS, pk("report")),
    "inspections-api:report-accept": Route(API_ACTION_READERS, pk("report"), {"post": API_TRIAGE}, const({})),
    "inspections-api:report-merge": Route(
        API_ACTION_READERS, pk("report"), {"post": API_TRIAGE}, lambda w, side: {"problem": w.obj("problem", side).pk}
    ),
    "inspections-api:report-reject": Route(
        API_ACTION_READERS, pk("report"), {"post": API_TRIAGE}, const({"reason": "越权分拣"})
    ),
    "inspections-api:report-import-tickets": Route(API_ACTION_OFFICE, writes={"post": API_WRITE_OFFICE}, body=sheet()),
    "inspections-api:public-category-list": Route(API_ALL, writes={"post": API_WRITE_OFFICE}, body=CATEGORY_BODY),
    "inspections-api:public-category-detail": Route(
        API_ALL,
        pk("public_category"),
        {"patch": API_WRITE_OFFICE, "put": API_WRITE_OFFICE},
        const({"name": "越权改名"}),
    ),
    "inspections-api:hotline-tickets": Route(
        S(405, 405, 405, 405, 405, 405, 405),
        writes={"post": API_WRITE_OFFICE},
        body=const({"ticket_no": "越权工单", "description": "越权"}),
    ),
}
