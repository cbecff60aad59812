"""Every 导入模板 the product offers imports into the demo city as it is (issue 13, item 6).

The import pages are found in the URLconf (every `ImportView`), so a new import joins this test by
itself. Each page's template is downloaded as the office and uploaded back to the same page: the
preview must list no row error and offer the confirm step. Exports that re-import unchanged are
tested beside each import (tests/campaign/test_units_roundtrip.py, tests/campaign/test_people*.py,
tests/indicators/test_export_roundtrip.py, tests/inspections/test_roundtrips.py).
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver

from campaign.demo import seed_all
from campaign.generic import ImportView
from indicators.choices import SystemKind
from indicators.services import indicator_system_create

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def import_routes(patterns=None, prefix: str = "/") -> list[tuple[str, type]]:
    found = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            found += import_routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            view = getattr(pattern.callback, "view_class", None)
            if view is not None and issubclass(view, ImportView):
                found.append((prefix + str(pattern.pattern), view))
    return found


def test_the_import_pages_are_found():
    paths = {path for path, _ in import_routes()}
    assert {"/units/import/", "/members/import/", "/inspections/point-types/import/"} <= paths
    assert len(paths) >= 8


@pytest.mark.django_db
def test_every_template_imports_into_the_demo_city_as_it_is(client):
    demo = seed_all()
    client.force_login(demo["users"]["office"])
    campaign = demo["campaign"]
    # The 任务分解表 imports into a system of its own (a new edition of the demo campaign's).
    fresh = indicator_system_create(
        campaign=campaign, name="示范市测评体系（模板试导入）", kind=SystemKind.NATIONAL, year=2027
    )
    previews = {}
    for pattern, view in import_routes():
        path = pattern.replace("<int:pk>", str(fresh.pk))
        assert "<" not in path, f"{pattern}: a new URL argument this test does not fill"
        template = client.get(f"{path}?template=1")
        assert template.status_code == 200, path
        content = b"".join(template.streaming_content) if template.streaming else template.content
        upload = SimpleUploadedFile("模板.xlsx", content, XLSX)
        response = client.post(path, {"file": upload})
        html = response.content.decode()
        previews[path] = response.status_code
        assert response.status_code == 200, (
            f"{view.__name__} {path}: {response.status_code}\n{html[html.find('import-errors') :][:1500]}"
        )
        assert 'data-testid="import-errors"' not in html, path
        assert "第二步：确认导入" in html, path
    assert len(previews) >= 8
