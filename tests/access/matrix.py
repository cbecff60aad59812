"""The access matrix: every route of the URLconf, and what each persona gets from it.

One declaration per route name (namespaced as Django names it: "unit-detail" is the page,
"api:unit-detail" the API). A `Route` says which object its URL names (`kwargs(world, side)`), the
status each persona gets from a GET, and, for each write method, the status of every persona that
must be refused (`OK` marks who may write: those writes are not sent). A status is one number for
both sides, or a pair `(own, other)`: the persona's own object (A for 甲街道's liaison, office,
inspector, leader and anonymous; B for 乙街道's liaison; the department's own for 市城管局's liaison)
and an object of another scope (B, or A for 乙街道's liaison; for the department an object not
charged to it). Out of scope is 404, never 403 and never 200: a liaison must not learn that another
street's object exists.

`Bug(expected, reason)` declares what the product should answer where it does not today: the case
runs as `xfail(strict=True)`, so the suite stays green, the bug stays visible, and the fix turns it
into a failure until the declaration is updated.

test_matrix.py fails on any named route (or unnamed pattern) that is neither here nor in `SKIP`,
and on any name here that the URLconf no longer has.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from campaign.files import minimal_pdf
from tests.campaign.xlsx import make_xlsx, upload

OK = "ok"  # the persona may do it: not sent by the refused-writes test


@dataclass(frozen=True)
class Bug:
    """The status the product should answer, where today it answers something else (a finding)."""

    expected: int
    reason: str  # what is wrong today; a 200 declared a Bug is also wrong while it leaks


Status = int | str | Bug
Expect = Status | tuple[Status, Status]

PERSONAS = ("anon", "office", "inspector", "leader", "liaison_a", "liaison_b", "dept")
# The persona's own side and the other side (see the module docstring).
SIDES = {
    "anon": ("A", "B"),
    "office": ("A", "B"),
    "inspector": ("A", "B"),
    "leader": ("A", "B"),
    "liaison_a": ("A", "B"),
    "liaison_b": ("B", "A"),
    "dept": ("D", "B"),
}


def S(
    anon: Expect, office: Expect, inspector: Expect, leader: Expect, liaison_a: Expect, liaison_b: Expect, dept: Expect
):
    """Statuses in the order of PERSONAS."""
    return dict(zip(PERSONAS, (anon, office, inspector, leader, liaison_a, liaison_b, dept), strict=True))


@dataclass
class Route:
    get: dict[str, Expect]
    kwargs: Callable | None = None  # (world, side) -> URL kwargs
    writes: dict[str, dict[str, Expect]] = field(default_factory=dict)  # method -> persona -> status
    body: Callable | None = None  # (world, side) -> the request body of a write
    query: str = ""
    no_writes: str = ""  # why a route that accepts writes has none declared here
    public: str = ""  # why its 200 body may name any district's objects (no leak check)
    export: bool = False  # also read as ?export=xlsx (same statuses; the workbook's cells leak-checked)


def pk(kind: str, key: str = "pk") -> Callable:
    return lambda w, side: {key: w.obj(kind, side).pk}


def week(key: str = "campaign_id") -> Callable:
    return lambda w, side: {key: w.campaign.pk, "week": w.week}


def sheet(name: str = "import.xlsx") -> Callable:
    return lambda w, side: {"file": upload(name, make_xlsx([["名称", "编码"], ["越权导入", "X-9"]])), "confirm": "1"}


def const(data: dict) -> Callable:
    return lambda w, side: dict(data)


# --- Shapes that recur ---------------------------------------------------------------------------
# Pages: anonymous is sent to the login page.
PAGE_ALL = S(302, 200, 200, 200, 200, 200, 200)
PAGE_OFFICE = S(302, 200, 403, 403, 403, 403, 403)
PAGE_OFFICE_LEADER = S(302, 200, 403, 200, 403, 403, 403)
PAGE_SCOPED = S(302, 200, 200, 200, (200, 404), (200, 404), (200, 404))
PAGE_POST_ONLY = S(302, 405, 405, 405, 405, 405, 405)
# Office-only page writes; for a scoped object a liaison gets 403 on its own, 404 on another's.
WRITE_OFFICE = S(302, OK, 403, 403, 403, 403, 403)
WRITE_OFFICE_SCOPED = S(302, OK, 403, 403, (403, 404), (403, 404), (403, 404))
# API: anonymous gets 403 (session authentication first).
API_ALL = S(403, 200, 200, 200, 200, 200, 200)
API_OFFICE = S(403, 200, 403, 403, 403, 403, 403)
API_SCOPED = S(403, 200, 200, 200, (200, 404), (200, 404), (200, 404))
API_POST_ONLY = S(403, 405, 405, 405, 405, 405, 405)
API_ACTION_OFFICE = S(403, 405, 403, 403, 403, 403, 403)  # a POST-only action the office may use
API_WRITE_OFFICE = S(403, OK, 403, 403, 403, 403, 403)
API_WRITE_OFFICE_SCOPED = S(403, OK, 403, 403, (403, 404), (403, 404), (403, 404))


def unit_form(w, side) -> dict:
    return {"name": "越权改名", "code": "X-1", "kind": "community", "parent": w.city.street_jia.pk, "active": "on"}


ROUTES: dict[str, Route] = {
    # --- Kernel pages ------------------------------------------------------------------------------
    "home": Route(PAGE_ALL),
    "login": Route(S(200, 302, 302, 302, 302, 302, 302), no_writes="signing in: tests/campaign/test_lockout.py"),
    "logout": Route(S(405, 405, 405, 405, 405, 405, 405), no_writes="signing out writes only the session"),
    "password_change": Route(
        PAGE_ALL | {"anon": 302},
        writes={"post": S(302, OK, OK, OK, OK, OK, OK)},
        body=const({"old_password": "x", "new_password1": "越权密码2026x", "new_password2": "越权密码2026x"}),
    ),
    "password_change_done": Route(PAGE_ALL),
    "unit-list": Route(PAGE_ALL, export=True),
    "unit-tree": Route(PAGE_ALL),
    "unit-create": Route(PAGE_OFFICE, writes={"post": WRITE_OFFICE}, body=unit_form),
    "unit-import": Route(PAGE_OFFICE, writes={"post": WRITE_OFFICE}, body=sheet()),
    "unit-detail": Route(PAGE_SCOPED, pk("unit")),
    "unit-edit": Route(
        S(302, 200, 403, 403, (403, 404), (403, 404), (403, 404)), pk("unit"), {"post": WRITE_OFFICE_SCOPED}, unit_form
    ),
    "unit-contacts": Route(
        S(302, 200, 403, 403, (200, 404), (200, 404), (200, 404)),
        pk("unit"),
        {"post": S(302, OK, 403, 403, (OK, 404), (OK, 404), (OK, 404))},
        const({"leader_name": "越权", "liaison_name": "越权", "phone": "13800000000"}),
    ),
    "unit-delete": Route(
        S(302, 200, 403, 403, (403, 404), (403, 404), (403, 404)), pk("unit"), {"post": WRITE_OFFICE_SCOPED}, const({})
    ),
    "membership-list": Route(PAGE_OFFICE, export=True),
    "membership-create": Route(
        PAGE_OFFICE,
        writes={"post": WRITE_OFFICE},
        body=lambda w, side: {
            "username": "intruder",
            "password": "越权密码2026x",
            "role": "office",
            "unit": w.city.dept_office.pk,
        },
    ),
    "membership-delete": Route(PAGE_POST_ONLY | {"anon": 302}, pk("membership"), {"post": WRITE_OFFICE}, const({})),
    "campaign-list": Route(PAGE_ALL, export=True),
    # The switcher writes only the session (any signed-in user may pick a campaign).
    "campaign-switch": Route(
        PAGE_POST_ONLY | {"anon": 302},
        writes={"post": S(302, OK, OK, OK, OK, OK, OK)},
        body=lambda w, side: {"campaign": w.campaign.pk},
    ),
    "campaign-create": Route(
        PAGE_OFFICE,
        writes={"post": WRITE_OFFICE},
        body=const(
            {"name": "越权活动", "level": "national", "start_date": "2026-01-01", "evaluation_date": "2027-01-01"}
        ),
    ),
    "campaign-detail": Route(PAGE_ALL, pk("campaign")),
    "campaign-edit": Route(
        PAGE_OFFICE,
        pk("campaign"),
        {"post": WRITE_OFFICE},
        const({"name": "越权改名", "level": "national", "start_date": "2026-01-01", "evaluation_date": "2027-01-01"}),
    ),
    "campaign-phases": Route(
        PAGE_OFFICE,
        pk("campaign"),
        {"post": WRITE_OFFICE},
        const(
            {
                "form-TOTAL_FORMS": "1",
                "form-INITIAL_FORMS": "0",
                "form-0-kind": "launch",
                "form-0-start": "2026-01-01",
                "form-0-end": "2026-02-01",
            }
        ),
    ),
    "workgroup-create": Route(
        PAGE_OFFICE, pk("campaign", "campaign_pk"), {"post": WRITE_OFFICE}, const({"name": "越权工作组", "order": "0"})
    ),
    "workgroup-edit": Route(
        PAGE_OFFICE,
        lambda w, side: {"campaign_pk": w.campaign.pk, "pk": w.obj("workgroup", side).pk},
        {"post": WRITE_OFFICE},
        const({"name": "越权改名", "order": "0"}),
    ),
    "jobrun-list": Route(PAGE_OFFICE),
    "jobrun-worker-check": Route(PAGE_POST_ONLY | {"anon": 302}, writes={"post": WRITE_OFFICE}, body=const({})),
    # --- Indicators pages --------------------------------------------------------------------------
    "indicator-system-list": Route(PAGE_ALL),
    "indicator-system-create": Route(
        PAGE_OFFICE,
        writes={"post": WRITE_OFFICE},
        body=lambda w, side: {"campaign": w.campaign.pk, "name": "越权体系", "kind": "national", "year": "2026"},
    ),
    "indicator-system-detail": Route(PAGE_ALL, pk("system")),
    "indicator-system-edit": Route(
        PAGE_OFFICE,
        pk("system"),
        {"post": WRITE_OFFICE},
        lambda w, side: {"campaign": w.campaign.pk, "name": "越权改名", "kind": "national", "year": "2026"},
    ),
    "indicator-system-set-current": Route(
        PAGE_POST_ONLY | {"anon": 302}, pk("system"), {"post": WRITE_OFFICE}, const({})
    ),
    "indicator-system-import": Route(PAGE_OFFICE, pk("system"), {"post": WRITE_OFFICE}, sheet()),
    "indicator-system-export": Route(PAGE_ALL, pk("system")),
    "indicator-detail": Route(PAGE_ALL, pk("indicator")),
    "indicator-edit": Route(
        PAGE_OFFICE, pk("indicator"), {"post": WRITE_OFFICE}, const({"code": "Ⅲ-9", "title": "越权改名", "weight": "9"})
    ),
    "indicator-units": Route(
        PAGE_OFFICE, pk("indicator"), {"post": WRITE_OFFICE}, lambda w, side: {"lead": [w.city.street_yi.pk]}
    ),
    "task-list-mine": Route(PAGE_ALL, export=True),
    "task-list": Route(PAGE_SCOPED, pk("unit", "unit_pk"), export=True),
    "material-list": Route(PAGE_ALL, export=True),
    "material-upload": Route(
        S(302, 403, 403, 403, 200, 200, 200),
        writes={"post": S(302, 403, 403, 403, OK, OK, OK)},
        body=lambda w, side: {
            "indicator": w.obj("indicator", side).pk,
            "unit": w.obj("unit", side).pk,
            "description": "越权报送",
            "files": upload("a.pdf", minimal_pdf()),
        },
    ),
    "material-detail": Route(PAGE_SCOPED, pk("material")),
    # The office reviews; a leader only for units of its work group (宣传组: 甲街道, 市城管局).
    "material-review": Route(
        PAGE_POST_ONLY | {"anon": 302},
        pk("material"),
        {"post": S(302, OK, 403, (OK, 403), (403, 404), (403, 404), (403, 404))},
        const({"approve": "1"}),
    ),
    "material-resubmit": Route(
        PAGE_POST_ONLY | {"anon": 302},
        pk("material"),
        {"post": S(302, 403, 403, 403, (OK, 404), (OK, 404), (OK, 404))},
        const({"description": "越权重报"}),
    ),
    "material-file": Route(PAGE_SCOPED, pk("material_file")),
    "declaration-board": Route(PAGE_OFFICE_LEADER),
    "negative-list": Route(PAGE_OFFICE_LEADER),
    "negative-item-create": Route(
        PAGE_OFFICE,
        writes={"post": WRITE_OFFICE},
        body=lambda w, side: {"system": w.obj("system", side).pk, "title": "越权事项", "veto": "on"},
    ),
    "risk-event-list": Route(PAGE_OFFICE_LEADER, export=True),
    "risk-event-create": Route(
        PAGE_OFFICE,
        writes={"post": WRITE_OFFICE},
        body=lambda w, side: {
            "item": w.obj("negative", side).pk,
            "unit": w.obj("unit", side).pk,
            "occurred_on": "2026-11-01",
            "description": "越权登记",
        },
    ),
    "risk-event-resolve": Route(PAGE_OFFICE, pk("risk"), {"post": WRITE_OFFICE}, const({"resolution": "越权处置"})),
    # --- Inspections pages -------------------------------------------------------------------------
    "point-list": Route(PAGE_ALL, export=True),
    "point-map": Route(PAGE_ALL),
    "point-create": Route(
        PAGE_OFFICE,
        writes={"post": WRITE_OFFICE},
        body=lambda w, side: {
            "name": "越权点位",
            "point_type": w.obj("point_type", side).pk,
            "unit": w.obj("unit", side).pk,
        },
    ),
    "point-import": Route(PAGE_OFFICE, writes={"post": WRITE_OFFICE}, body=sheet()),
    "point-detail": Route(PAGE_SCOPED, pk("point")),
    "point-edit": Route(
        S(302, 200, 403, 403, (403, 404), (403, 404), (403, 404)),
        pk("point"),
        {"post": WRITE_OFFICE_SCOPED},
        lambda w, side: {
            "name": "越权改名",
            "point_type": w.obj("point_type", side).pk,
            "unit": w.obj("unit", side).pk,
        },
    ),
    "checkitem-list": Route(PAGE_ALL, export=True),
    "checkitem-import": Route(PAGE_OFFICE, writes={"post": WRITE_OFFICE}, body=sheet()),
    "round-list": Route(S(302, 200, 200, 200, 403, 403, 403), export=True),
    "round-create": Route(
        PAGE_OFFICE,
        writes={"post": WRITE_OFFICE},
        body=lambda w, side: {
            "campaign": w.campaign.pk,
            "name": "越权批次",
            "kind": "weekly",
            "start_date": "2026-11-01",
            "end_date": "2026-11-08",
            "mode": "manual",
        },
    ),
    "round-detail": Route(S(302, 200, 200, 200, 403, 403, 403), pk("round")),
    # GET of the draw form sends everyone allowed to read rounds back to the round page.
    "round-draw": Route(
        S(302, 302, 302, 302, 403, 403, 403), pk("round"), {"post": WRITE_OFFICE}, const({"seed": "7"})
    ),
    "inspection-record": Route(
        S(302, 200, 200, 403, 403, 403, 403),
        writes={"post": S(401, OK, OK, 403, 403, 403, 403)},
        body=lambda w, side: {"round": w.obj("round", side).pk, "point": w.obj("point", side).pk},
    ),
    "inspection-photo-upload": Route(
        S(405, 405, 405, 405, 405, 405, 405),
        # The phone's upload answers JSON: 401 when the session has expired.
        writes={"post": S(401, OK, OK, 403, OK, OK, OK)},
        body=lambda w, side: {"file": upload("a.txt", b"not a photo")},
    ),
    "photo-file": Route(PAGE_SCOPED, pk("photo")),
    "photo-thumb": Route(PAGE_SCOPED, pk("photo")),
    "inspection-detail": Route(PAGE_SCOPED, pk("inspection")),
    "inspection-correct": Route(
        S(302, 200, 200, 403, (403, 404), (403, 404), (403, 404)),
        pk("inspection"),
        {"post": S(302, OK, OK, 403, (403, 404), (403, 404), (403, 404))},
        const({"client_uuid": "6f1c1f1e-1111-4222-8333-444455556666", "correction_reason": "越权更正"}),
    ),
    "observation-list": Route(PAGE_ALL, export=True),
    "problem-list": Route(PAGE_ALL, export=True),
    "problem-create": Route(
        PAGE_OFFICE,
        writes={"post": WRITE_OFFICE},
        body=lambda w, side: {
            "campaign": w.campaign.pk,
            "source": "hotline",
            "severity": "normal",
            "description": "越权登记",
            "unit": w.obj("unit", side).pk,
        },
    ),
    "problem-detail": Route(PAGE_SCOPED, pk("problem")),
    # --- Accountability pages ----------------------------------------------------------------------
    "problem-queue-assign": Route(
        PAGE_OFFICE_LEADER,
        writes={"post": S(302, OK, 403, 403, 403, 403, 403)},
        body=lambda w, side: {"problems": [w.obj("problem", side).pk], "handler": w.obj("unit", side).pk},
        export=True,
    ),
    "problem-queue-review": Route(PAGE_OFFICE_LEADER, export=True),
    "problem-mine": Route(S(302, 403, 403, 403, 200, 200, 200), export=True),
    # Problems are in 复查 (reviewing): the office approves or rejects; a handler has nothing to do.
    "problem-transition": Route(
        PAGE_POST_ONLY | {"anon": 302},
        pk("problem"),
        {"post": S(302, OK, OK, 403, (OK, 404), (OK, 404), (OK, 404))},
        const({"action": "approve", "note": "越权销号"}),
    ),
    "problem-photo-file": Route(PAGE_SCOPED, pk("event_photo")),
    "problem-photo-thumb": Route(PAGE_SCOPED, pk("event_photo")),
    "notification-list": Route(PAGE_ALL),
    # Marking one's own notifications read: everyone signed in.
    "notification-read": Route(
        PAGE_POST_ONLY | {"anon": 302}, writes={"post": S(302, OK, OK, OK, OK, OK, OK)}, body=const({})
    ),
    "rankings": Route(PAGE_ALL, query="?week={week}"),
    "ranking-run": Route(
        PAGE_POST_ONLY | {"anon": 302}, writes={"post": WRITE_OFFICE}, body=lambda w, side: {"week": w.week}
    ),
    "ranking-publish": Route(
        PAGE_POST_ONLY | {"anon": 302}, writes={"post": WRITE_OFFICE}, body=lambda w, side: {"week": w.week}
    ),
    "rollup-runs": Route(PAGE_OFFICE_LEADER),
    "ranking-unit": Route(PAGE_SCOPED, pk("unit"), query="?week={week}"),
    "case-list": Route(PAGE_ALL),
    # Cases: inspectors read none; a liaison its units' (the department has none).
    "case-detail": Route(
        S(302, 200, 404, 200, (200, 404), (200, 404), 404),
        pk("case"),
        {"post": S(302, OK, 404, 403, (403, 404), (403, 404), 404)},
        const({"status": "notified", "note": "越权处理"}),
    ),
    "dashboard": Route(PAGE_OFFICE_LEADER),
    "survey-list": Route(PAGE_ALL),
    "survey-import": Route(PAGE_OFFICE, writes={"post": WRITE_OFFICE}, body=sheet()),
    "survey-template": Route(PAGE_OFFICE),
    "bulletin-list": Route(PAGE_ALL),
    "bulletin-page": Route(
        PAGE_ALL, week(), public="the 周通报 is the city's notice to every unit: it names each district's problems"
    ),
    # The files are never rendered here (on_commit does not run): the page's downloads answer 202
    # (a "being made" page) to every reader.
    "bulletin-pdf": Route(S(302, 202, 202, 202, 202, 202, 202), week()),
    "bulletin-xlsx": Route(S(302, 202, 202, 202, 202, 202, 202), week()),
    "bulletin-status": Route(PAGE_ALL, week()),
    "bulletin-regenerate": Route(S(405, 405, 405, 405, 405, 405, 405), week(), {"post": WRITE_OFFICE}, const({})),
    # A photo of a problem found in a published week is part of the bulletin, which every reader
    # reads whole (all districts are ranked in it): by design, not a leak.
    "bulletin-photo": Route(PAGE_ALL, lambda w, side: {**week()(w, side), "photo_id": w.obj("photo", side).pk}),
    "history-list": Route(PAGE_OFFICE_LEADER),
    # --- API: kernel -------------------------------------------------------------------------------
    "api:api-root": Route(API_ALL),
    "api:api-token": Route(API_POST_ONLY | {"anon": 405}, no_writes="signing in: tests/campaign/test_lockout.py"),
    "api:campaign-list": Route(
        API_ALL,
        writes={"post": API_WRITE_OFFICE},
        body=const(
            {"name": "越权活动", "level": "national", "start_date": "2026-01-01", "evaluation_date": "2027-01-01"}
        ),
    ),
    "api:campaign-detail": Route(
        API_ALL,
        pk("campaign"),
        {"put": API_WRITE_OFFICE, "patch": API_WRITE_OFFICE, "delete": API_WRITE_OFFICE},
        const({"name": "越权改名", "level": "national", "start_date": "2026-01-01", "evaluation_date": "2027-01-01"}),
    ),
    "api:unit-list": Route(
        API_ALL,
        writes={"post": API_WRITE_OFFICE},
        body=lambda w, side: {"name": "越权单位", "code": "X-1", "kind": "community", "parent": w.city.street_jia.pk},
    ),
    "api:unit-import-units": Route(API_ACTION_OFFICE, writes={"post": API_WRITE_OFFICE}, body=sheet()),
    "api:unit-detail": Route(
        API_SCOPED,
        pk("unit"),
        {"put": API_WRITE_OFFICE_SCOPED, "patch": API_WRITE_OFFICE_SCOPED, "delete": API_WRITE_OFFICE_SCOPED},
        const({"name": "越权改名", "code": "X-1", "kind": "street"}),
    ),
    "api:work-group-list": Route(
        API_ALL,
        writes={"post": API_WRITE_OFFICE},
        body=lambda w, side: {"campaign": w.campaign.pk, "name": "越权工作组"},
    ),
    "api:work-group-detail": Route(
        API_ALL,
        pk("workgroup"),
        {"put": API_WRITE_OFFICE, "patch": API_WRITE_OFFICE, "delete": API_WRITE_OFFICE},
        lambda w, side: {"campaign": w.campaign.pk, "name": "越权改名"},
    ),
    "api:job-run-list": Route(API_OFFICE),
    "api:job-run-worker-check": Route(API_ACTION_OFFICE, writes={"post": API_WRITE_OFFICE}, body=const({})),
    "api:job-run-detail": Route(API_OFFICE, pk("job")),
    # --- API: accountability -----------------------------------------------------------------------
    "accountability-api:problem-transition": Route(
        API_POST_ONLY | {"anon": 403},
        pk("problem"),
        {"post": S(403, OK, OK, 403, (OK, 404), (OK, 404), (OK, 404))},
        const({"action": "approve", "note": "越权销号"}),
    ),
    "accountability-api:problem-events": Route(API_SCOPED, pk("problem")),
    "accountability-api:problem-actions": Route(API_SCOPED, pk("problem")),
    "accountability-api:notification-list": Route(API_ALL),
    "accountability-api:notification-read": Route(
        API_POST_ONLY | {"anon": 403}, writes={"post": S(403, OK, OK, OK, OK, OK, OK)}, body=const({})
    ),
    "accountability-api:holiday-list": Route(API_ALL),
    "accountability-api:holiday-import": Route(API_ACTION_OFFICE, writes={"post": API_WRITE_OFFICE}, body=sheet()),
    "rankings-api:rankings": Route(API_ALL, query="?week={week}"),
    "rankings-api:rankings-publish": Route(
        API_ACTION_OFFICE, writes={"post": API_WRITE_OFFICE}, body=lambda w, side: {"week": w.week}
    ),
    "rankings-api:rollups": Route(
        S(403, 200, 403, 200, 403, 403, 403), writes={"post": API_WRITE_OFFICE}, body=lambda w, side: {"week": w.week}
    ),
    "rankings-api:case-list": Route(API_ALL),
    "rankings-api:case-detail": Route(S(403, 200, 404, 200, (200, 404), (200, 404), 404), pk("case")),
    "rankings-api:case-decide": Route(
        API_POST_ONLY | {"anon": 403},
        pk("case"),
        {"post": S(403, OK, 404, 403, (403, 404), (403, 404), 404)},
        const({"status": "notified", "note": "越权处理"}),
    ),
    "surveys-api:survey-list": Route(API_ALL),
    "surveys-api:survey-import": Route(API_ACTION_OFFICE, writes={"post": API_WRITE_OFFICE}, body=sheet()),
    # No rendered files here: the API answers 503 bulletin_rendering to every reader.
    "bulletins-api:bulletin-pdf": Route(S(403, 503, 503, 503, 503, 503, 503), week("campaign")),
    "bulletins-api:bulletin-xlsx": Route(S(403, 503, 503, 503, 503, 503, 503), week("campaign")),
    "history-api:history": Route(S(403, 200, 403, 200, 403, 403, 403)),
    # --- API: inspections --------------------------------------------------------------------------
    "inspections-api:point-type-list": Route(
        API_ALL, writes={"post": API_WRITE_OFFICE}, body=const({"name": "越权类别", "order": 99})
    ),
    "inspections-api:point-type-detail": Route(
        API_ALL, pk("point_type"), {"put": API_WRITE_OFFICE, "patch": API_WRITE_OFFICE}, const({"name": "越权改名"})
    ),
    "inspections-api:point-list": Route(
        API_ALL,
        writes={"post": API_WRITE_OFFICE},
        body=lambda w, side: {
            "name": "越权点位",
            "point_type": w.obj("point_type", side).pk,
            "unit": w.obj("unit", side).pk,
        },
    ),
    "inspections-api:point-import-points": Route(API_ACTION_OFFICE, writes={"post": API_WRITE_OFFICE}, body=sheet()),
    # Writes are refused before the point is looked up: 403 for any id, which tells nothing.
    "inspections-api:point-detail": Route(
        API_SCOPED,
        pk("point"),
        {"put": API_WRITE_OFFICE, "patch": API_WRITE_OFFICE},
        lambda w, side: {
            "name": "越权改名",
            "point_type": w.obj("point_type", side).pk,
            "unit": w.obj("unit", side).pk,
        },
    ),
    "inspections-api:check-item-list": Route(
        API_ALL,
        writes={"post": API_WRITE_OFFICE},
        body=lambda w, side: {
            "point_type": w.obj("point_type", side).pk,
            "indicator": w.obj("indicator", side).pk,
            "text": "越权检查项",
            "per_occurrence": "1",
            "cap": "1",
        },
    ),
    "inspections-api:check-item-import-check-items": Route(
        API_ACTION_OFFICE, writes={"post": API_WRITE_OFFICE}, body=sheet()
    ),
    "inspections-api:check-item-detail": Route(
        API_ALL, pk("check_item"), {"put": API_WRITE_OFFICE, "patch": API_WRITE_OFFICE}, const({"text": "越权改名"})
    ),
    # Liaisons list rounds but read none of them (an empty list).
    "inspections-api:round-list": Route(
        API_ALL,
        writes={"post": API_WRITE_OFFICE},
        body=lambda w, side: {
            "campaign": w.campaign.pk,
            "name": "越权批次",
            "kind": "weekly",
            "start_date": "2026-11-01",
            "end_date": "2026-11-08",
        },
    ),
    "inspections-api:round-detail": Route(S(403, 200, 200, 200, 404, 404, 404), pk("round")),
    "inspections-api:round-draw": Route(
        API_ACTION_OFFICE, pk("round"), {"post": S(403, OK, 403, 403, 403, 403, 403)}, const({"seed": 7, "quota": {}})
    ),
    "inspections-api:inspection-list": Route(
        API_ALL,
        writes={"post": S(403, OK, OK, 403, 403, 403, 403)},
        body=lambda w, side: {
            "round": w.obj("round", side).pk,
            "point": w.obj("point", side).pk,
            "client_uuid": "6f1c1f1e-1111-4222-8333-444455556666",
            "observations": [{"check_item": w.obj("check_item", side).pk, "result": "fail", "occurrences": 1}],
        },
    ),
    "inspections-api:inspection-detail": Route(API_SCOPED, pk("inspection")),
    "inspections-api:observation-list": Route(API_ALL),
    "inspections-api:observation-detail": Route(API_SCOPED, pk("observation")),
    "inspections-api:photo-list": Route(
        API_POST_ONLY | {"anon": 403},
        writes={"post": S(403, OK, OK, 403, OK, OK, OK)},
        body=lambda w, side: {"file": upload("a.txt", b"not a photo")},
    ),
    "inspections-api:photo-detail": Route(API_SCOPED, pk("photo")),
    "inspections-api:problem-list": Route(
        API_ALL,
        writes={"post": API_WRITE_OFFICE},
        body=lambda w, side: {
            "campaign": w.campaign.pk,
            "source": "hotline",
            "description": "越权登记",
            "unit": w.obj("unit", side).pk,
        },
    ),
    "inspections-api:problem-detail": Route(API_SCOPED, pk("problem")),
    # --- API: indicators ---------------------------------------------------------------------------
    "indicators-api:indicator-system-list": Route(
        API_ALL,
        writes={"post": API_WRITE_OFFICE},
        body=lambda w, side: {"campaign": w.campaign.pk, "name": "越权体系", "kind": "national", "year": 2026},
    ),
    "indicators-api:indicator-system-detail": Route(
        API_ALL,
        pk("system"),
        {"put": API_WRITE_OFFICE, "patch": API_WRITE_OFFICE},
        lambda w, side: {"campaign": w.campaign.pk, "name": "越权改名", "kind": "national", "year": 2026},
    ),
    "indicators-api:indicator-system-import-indicators": Route(
        API_ACTION_OFFICE, pk("system"), {"post": API_WRITE_OFFICE}, sheet()
    ),
    "indicators-api:indicator-system-set-current": Route(
        API_ACTION_OFFICE, pk("system"), {"post": API_WRITE_OFFICE}, const({})
    ),
    "indicators-api:indicator-list": Route(
        API_ALL,
        writes={"post": API_WRITE_OFFICE},
        body=lambda w, side: {"system": w.obj("system", side).pk, "level": 1, "code": "Ⅰ-9", "title": "越权指标"},
    ),
    "indicators-api:indicator-detail": Route(
        API_ALL,
        pk("indicator"),
        {"put": API_WRITE_OFFICE, "patch": API_WRITE_OFFICE, "delete": API_WRITE_OFFICE},
        const({"title": "越权改名"}),
    ),
    "indicators-api:indicator-set-units": Route(
        API_ACTION_OFFICE,
        pk("indicator"),
        {"post": API_WRITE_OFFICE},
        lambda w, side: {"role": "lead", "units": [w.city.street_yi.pk]},
    ),
    "indicators-api:material-list": Route(
        API_ALL,
        writes={"post": S(403, 403, 403, 403, OK, OK, OK)},
        body=lambda w, side: {
            "indicator": w.obj("indicator", side).pk,
            "unit": w.obj("unit", side).pk,
            "description": "越权报送",
            "files": upload("a.pdf", minimal_pdf()),
        },
    ),
    "indicators-api:material-detail": Route(API_SCOPED, pk("material")),
    "indicators-api:material-file": Route(
        API_SCOPED, lambda w, side: {"pk": w.obj("material", side).pk, "file_id": w.obj("material_file", side).pk}
    ),
    "indicators-api:material-resubmit": Route(
        API_POST_ONLY | {"anon": 403},
        pk("material"),
        {"post": S(403, 403, 403, 403, (OK, 404), (OK, 404), (OK, 404))},
        const({"description": "越权重报"}),
    ),
    "indicators-api:material-review": Route(
        API_POST_ONLY | {"anon": 403},
        pk("material"),
        {"post": S(403, OK, 403, (OK, 403), (403, 404), (403, 404), (403, 404))},
        const({"approve": True}),
    ),
    # The negative list is reference data of a system (no unit): every reader may read it.
    "indicators-api:negative-list-item-list": Route(
        API_ALL,
        writes={"post": API_WRITE_OFFICE},
        body=lambda w, side: {"system": w.obj("system", side).pk, "title": "越权事项", "veto": True},
    ),
    "indicators-api:negative-list-item-detail": Route(API_ALL, pk("negative")),
    "indicators-api:risk-event-list": Route(
        S(403, 200, 200, 200, 200, 200, 200),
        writes={"post": API_WRITE_OFFICE},
        body=lambda w, side: {
            "item": w.obj("negative", side).pk,
            "unit": w.obj("unit", side).pk,
            "occurred_on": "2026-11-01",
            "description": "越权登记",
        },
    ),
    "indicators-api:risk-event-detail": Route(
        S(
            403,
            200,
            200,
            200,
            (200, 404),
            (200, 404),
            (404, 404),
        ),
        pk("risk"),
    ),
    "indicators-api:risk-event-resolve": Route(
        API_ACTION_OFFICE, pk("risk"), {"post": API_WRITE_OFFICE}, const({"resolution": "越权处置"})
    ),
}


def _merge_feature_routes() -> None:
    """Routes declared beside the feature that added them, one module each (`routes_*.py` in this
    package, each with its own `ROUTES` dict built from this module's helpers), merged here so
    several features can declare theirs without editing one file."""
    import importlib
    import pathlib

    for path in sorted(pathlib.Path(__file__).parent.glob("routes_*.py")):
        module = importlib.import_module(f"{__package__}.{path.stem}")
        clashes = ROUTES.keys() & module.ROUTES.keys()
        assert not clashes, f"{path.name} declares routes already declared: {sorted(clashes)}"
        ROUTES.update(module.ROUTES)


_merge_feature_routes()

# Routes the matrix does not request, each with its reason. Keys: a route name, or "admin:*" for
# every route of the Django admin (declared as one group in ADMIN), or a pattern for unnamed routes.
SKIP: dict[str, str] = {
    "api-schema": "the OpenAPI document (public to signed-in users, no data): tests/campaign/test_api_units.py",
    "api-docs": "Swagger UI's static shell around the schema",
    "api-redoc": "ReDoc's static shell around the schema",
    "inspections-api:api-root": "shadowed: /api/v1/ resolves to api:api-root first",
    "indicators-api:api-root": "shadowed: /api/v1/ resolves to api:api-root first",
}

# The admin, as one group: its index, requested by every persona (only the office is staff).
ADMIN = S(302, 200, 302, 302, 302, 302, 302)
