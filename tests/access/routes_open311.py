"""Routes of Open311 GeoReport v2 and the office's API keys (issue 15 item 4), merged into the
access matrix. Open311 is public: every persona (anonymous included) reads the services and the
published requests; a POST without an api_key is 403 for everyone, the session counts for nothing."""

from tests.access.matrix import (
    API_OFFICE,
    API_POST_ONLY,
    API_WRITE_OFFICE,
    PAGE_OFFICE,
    PAGE_POST_ONLY,
    WRITE_OFFICE,
    Route,
    S,
    const,
    pk,
)

PUBLIC = S(200, 200, 200, 200, 200, 200, 200)
NO_KEY = S(403, 403, 403, 403, 403, 403, 403)
OPEN311 = "Open311 publishes the campaign's services and the public's reports to anyone (no personal data)"


def json_format(**extra):
    return lambda w, side: {"fmt": "json", **extra}


ROUTES: dict[str, Route] = {
    "open311-discovery": Route(PUBLIC, json_format(), public=OPEN311),
    "open311-services": Route(PUBLIC, json_format(), public=OPEN311),
    "open311-service": Route(
        PUBLIC, lambda w, side: {"fmt": "json", "service_code": w.obj("public_category", side).code}, public=OPEN311
    ),
    "open311-requests": Route(
        PUBLIC,
        json_format(),
        writes={"post": NO_KEY},
        body=const(
            {
                "api_key": "ck_not-a-key",
                "service_code": "litter",
                "description": "越权提交",
                "lat": "31.5",
                "long": "120.3",
            }
        ),
        public=OPEN311,
    ),
    "open311-request": Route(
        PUBLIC,
        lambda w, side: {"fmt": "xml", "service_request_id": w.obj("report", side).reference},
        public=OPEN311,
    ),
    "intakekey-list": Route(PAGE_OFFICE),
    "intakekey-create": Route(PAGE_OFFICE, writes={"post": WRITE_OFFICE}, body=const({"name": "越权密钥"})),
    "intakekey-revoke": Route(PAGE_POST_ONLY | {"anon": 302}, pk("intake_key"), {"post": WRITE_OFFICE}, const({})),
    "inspections-api:intake-key-list": Route(
        API_OFFICE, writes={"post": API_WRITE_OFFICE}, body=const({"name": "越权密钥"})
    ),
    "inspections-api:intake-key-revoke": Route(
        API_POST_ONLY | {"anon": 403}, pk("intake_key"), {"post": API_WRITE_OFFICE}, const({})
    ),
}
