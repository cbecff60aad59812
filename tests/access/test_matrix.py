"""Issue 12 part 2: the access matrix, generated from the URLconf.

Every route × the seven personas, with real object ids of the persona's own scope and of another
(tests/access/matrix.py declares what each gets; tests/access/conftest.py builds the world):

1. every route of the URLconf is declared (or skipped with a reason), and no declaration is stale —
   a new route fails here until someone says who may use it;
2. a GET answers the declared status — out of scope is 404, never 200, never 500 — and a 200 read
   by a liaison never names an object only the other district has (甲街道's and 市城管局's never
   乙区专用…, 乙街道's never 甲区专用…);
3. a write the persona must be refused answers the declared status and changes no row of any table.
"""

from __future__ import annotations

import hashlib
import io
import json

import pytest
from django.core.files.uploadedfile import UploadedFile
from django.db import connection
from django.urls import URLResolver, get_resolver, reverse
from openpyxl import load_workbook
from rest_framework.views import APIView

from campaign.generic import ObjectListView
from campaign.models import Unit
from tests.access.conftest import MARKER_A, MARKER_B
from tests.access.matrix import ADMIN, OK, PERSONAS, ROUTES, SIDES, SKIP, Bug, Route

WRITE_METHODS = ("post", "put", "patch", "delete")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Rows these tables hold are not the product's data: the session (a request may touch it) and the
# login lockout's records.
UNCHECKED_TABLES = {"django_session", "axes_accessattempt", "axes_accesslog", "axes_accessfailurelog"}


# What each scoped persona must never read: the names of objects of the other district only.
LEAK_MARKERS = {"liaison_a": MARKER_B, "dept": MARKER_B, "liaison_b": MARKER_A}


class DeclaredBug(AssertionError):
    """A case declared `Bug(...)` answered otherwise than the product should: the known finding."""


# --- The URLconf -----------------------------------------------------------------------------------


def url_routes() -> list[tuple[str, str, object]]:
    """(pattern, name, callback) of every route, names namespaced as `reverse` takes them."""

    def walk(resolver, prefix: str, namespace: str):
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                inner = namespace
                if entry.namespace:
                    inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
                yield from walk(entry, prefix + str(entry.pattern), inner)
            else:
                name = entry.name or ""
                if name and namespace:
                    name = f"{namespace}:{name}"
                yield prefix + str(entry.pattern), name, entry.callback

    return list(walk(get_resolver(), "", ""))


def implemented_writes(callback) -> set[str] | None:
    """The write methods a class-based view answers (None for a function view: read its code)."""
    actions = getattr(callback, "actions", None)
    if actions:  # a DRF viewset route
        return {m for m in actions if m in WRITE_METHODS}
    view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if view_class is None:
        return None
    if issubclass(view_class, APIView):  # its handlers
        return {m for m in WRITE_METHODS if hasattr(view_class, m)}
    # A Django view: a form view also answers PUT as POST; declaring POST covers both.
    return {"post"} if hasattr(view_class, "post") else set()


def test_every_route_is_declared():
    routes = url_routes()
    found, problems = set(), []
    for pattern, name, callback in routes:
        if pattern.startswith("admin/"):
            found.add("admin:*")
            continue
        key = name or pattern
        found.add(key)
        if key not in ROUTES and key not in SKIP:
            problems.append(f"undeclared route {key!r} ({pattern}): declare it in tests/access/matrix.py")
            continue
        route = ROUTES.get(key)
        if route is None:
            continue
        view_class = getattr(callback, "view_class", None)
        exports = name in ("task-list", "task-list-mine", "commitment-list") or (
            view_class is not None and issubclass(view_class, ObjectListView) and bool(view_class.export_name)
        )
        if exports != route.export:
            problems.append(f"{key}: the view {'exports' if exports else 'does not export'} xlsx: declare export=")
        implemented = implemented_writes(callback)
        declared = set(route.writes)
        if implemented is not None and not route.no_writes and implemented != declared:
            problems.append(f"{key}: the view writes by {sorted(implemented)}, the matrix declares {sorted(declared)}")
        if set(route.get) != set(PERSONAS) or any(set(by) != set(PERSONAS) for by in route.writes.values()):
            problems.append(f"{key}: every persona needs a declared status")
        if route.get["office"] == 405 and not route.writes and not route.no_writes:
            problems.append(f"{key}: answers GET with 405, so it takes writes: declare them")
        if route.writes and route.body is None:
            problems.append(f"{key}: a write route needs a body")
    for key in ROUTES.keys() | SKIP.keys():
        if key not in found and key != "admin:*":
            problems.append(f"stale declaration {key!r}: the URLconf has no such route")
    assert "admin:*" in found and set(ADMIN) == set(PERSONAS)
    assert not ROUTES.keys() & SKIP.keys()
    assert not problems, "\n".join(problems)


# --- Cases -----------------------------------------------------------------------------------------


def _split(expect) -> tuple:
    return expect if isinstance(expect, tuple) else (expect, expect)


def _cases(kind: str):
    """pytest params: reads (route, persona) or writes (route, method, persona), with an xfail mark
    on a case that declares a Bug."""
    params = []
    for name, route in sorted(ROUTES.items()):
        tables = {"get": route.get} if kind == "read" else route.writes
        for method, by_persona in tables.items():
            for persona in PERSONAS:
                expected = _split(by_persona[persona])
                if kind == "write" and all(e == OK for e in expected):
                    continue
                bugs = list(dict.fromkeys(e.reason for e in expected if isinstance(e, Bug)))
                marks = [pytest.mark.xfail(strict=True, raises=DeclaredBug, reason="; ".join(bugs))] if bugs else []
                args = (name, persona) if kind == "read" else (name, method, persona)
                params.append(pytest.param(*args, marks=marks, id="-".join(args)))
    return params


def _url(world, name: str, route: Route, side: str) -> str:
    kwargs = route.kwargs(world, side) if route.kwargs else {}
    return reverse(name, kwargs=kwargs) + route.query.format(week=world.week)


def _requests(world, name: str, route: Route, persona: str, expect, kind: str = "write"):
    """(url, side, expected) for the persona's own side and, when its URL differs, the other side;
    a read of a list that exports also reads its workbook."""
    own, other = SIDES[persona]
    expected = _split(expect)
    first, second = _url(world, name, route, own), _url(world, name, route, other)
    for url, side, status in ((first, own, expected[0]), (second, other, expected[1])):
        if side == other and url == first:
            break
        yield url, side, status
        if route.export and kind == "read":
            yield url + ("&" if "?" in url else "?") + "export=xlsx", side, status


def _body_text(response) -> str:
    """The text a reader gets: the page, the JSON, or every cell of a workbook."""
    data = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
    if response.get("Content-Type", "").startswith(XLSX):
        workbook = load_workbook(io.BytesIO(data), read_only=True)
        return "\n".join(
            str(value) for sheet in workbook for row in sheet.iter_rows(values_only=True) for value in row if value
        )
    return data.decode("utf-8", errors="replace")


def _check(status: int, expected, where: str, bugs: list, leak: bool = False):
    """Assert a declared status (and no leak); a declared Bug is collected instead: whether the
    product now answers as it should (status, and no leak)."""
    if isinstance(expected, Bug):
        bugs.append((status == expected.expected and not leak, f"{where}: {status}{' with a leak' if leak else ''}"))
        return
    assert status == expected, f"{where}: answered {status}, declared {expected}"
    assert not leak, f"{where}: names an object of the other district only"


def _raise_bugs(bugs: list):
    """A declared bug still there raises DeclaredBug (the case's strict xfail); once every one is
    fixed the case passes, which strict xfail turns into a failure until the declaration is updated."""
    still = [where for fixed, where in bugs if not fixed]
    if still:
        raise DeclaredBug("; ".join(still))


@pytest.mark.parametrize(("name", "persona"), _cases("read"))
def test_reads(world, db, name, persona):
    route = ROUTES[name]
    client = world.client(persona)
    bugs: list = []
    for url, side, expected in _requests(world, name, route, persona, route.get[persona], "read"):
        response = client.get(url)
        marker = LEAK_MARKERS.get(persona)
        leak = response.status_code == 200 and marker and not route.public and marker in _body_text(response)
        _check(response.status_code, expected, f"GET {url} as {persona} ({side})", bugs, leak)
    _raise_bugs(bugs)


def test_admin_is_the_office_s(world, db):
    for persona in PERSONAS:
        assert world.client(persona).get("/admin/").status_code == ADMIN[persona], persona


# --- Refused writes --------------------------------------------------------------------------------


def database_checksum() -> dict[str, tuple]:
    """Per table (all of them but the session's and the lockout's): the row count and a hash of its
    rows, in an order that does not depend on how the database returns them. PostgreSQL hashes
    every table in one statement; SQLite's rows are hashed here."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        tables = [t for t in sorted(connection.introspection.table_names(cursor)) if t not in UNCHECKED_TABLES]
        if connection.vendor == "postgresql":
            cursor.execute(
                " UNION ALL ".join(
                    f"SELECT %s, count(*), md5(coalesce(string_agg(r::text, E'\\n' ORDER BY r::text), ''))"
                    f" FROM {quote(table)} AS r"
                    for table in tables
                ),
                tables,
            )
            return {table: (count, digest) for table, count, digest in cursor.fetchall()}
        result = {}
        for table in tables:
            cursor.execute(f"SELECT * FROM {quote(table)}")
            rows = sorted(repr(row) for row in cursor.fetchall())
            result[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
        return result


def test_the_checksum_sees_one_changed_field(world, db):
    before = database_checksum()
    assert before == database_checksum()
    Unit.objects.filter(pk=world.city.street_yi.pk).update(phone="13900000000")
    after = database_checksum()
    assert [table for table in before if before[table] != after[table]] == [Unit._meta.db_table]


def _send(client, method: str, url: str, body: dict):
    is_api = url.startswith("/api/")
    has_file = any(isinstance(value, UploadedFile) for value in body.values())
    if method == "post" and (has_file or not is_api):
        return client.post(url, body)
    if not is_api:
        return client.generic(method.upper(), url)
    return client.generic(method.upper(), url, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize(("name", "method", "persona"), _cases("write"))
def test_refused_writes_change_nothing(world, db, name, method, persona):
    route = ROUTES[name]
    client = world.client(persona)
    bugs: list = []
    for url, side, expected in _requests(world, name, route, persona, route.writes[method][persona]):
        if expected == OK:
            continue
        before = database_checksum()
        response = _send(client, method, url, route.body(world, side))
        where = f"{method.upper()} {url} as {persona} ({side})"
        _check(response.status_code, expected, where, bugs)
        after = database_checksum()
        changed = sorted(table for table in before if before[table] != after.get(table))
        if isinstance(expected, Bug):
            bugs[-1] = (bugs[-1][0] and not changed, bugs[-1][1])
            continue
        assert not changed, f"{where}: refused with {response.status_code} but changed {changed}"
    _raise_bugs(bugs)
