"""Routes of 市民随手拍 (issue 15, item 1), merged into the access matrix: public pages, no login.
Every persona (anonymous included) reads them; a POST with a bad body re-shows the form (200) and
writes nothing."""

from tests.access.matrix import Route, S, const

PUBLIC = S(200, 200, 200, 200, 200, 200, 200)


def reference(w, side) -> dict:
    return {"reference": w.obj("report", side).reference}


ROUTES: dict[str, Route] = {
    "public-report": Route(
        PUBLIC,
        writes={"post": PUBLIC},
        body=const({"description": "", "category": ""}),
        public="the public form names the campaign's public categories only",
    ),
    "public-report-lookup": Route(PUBLIC),
    "public-report-status": Route(PUBLIC, reference, public="a report's public status: no unit of its own"),
    "public-report-done": Route(PUBLIC, reference, public="the receipt of a report: its number and status"),
}
