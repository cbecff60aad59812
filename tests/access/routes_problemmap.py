"""Routes of the map of problems (issue 16 item 4), merged into the access matrix. Everyone signed in
reads the map; what it lists is the problem list's scope (tests/inspections/test_problem_map.py)."""

from tests.access.matrix import API_ALL, Route

ROUTES: dict[str, Route] = {
    "inspections-api:problem-map": Route(API_ALL),
}
