"""axe-core (the copy bundled in axe-playwright-python) on every kind of public page
of the seed archive, at desktop and phone widths: no serious or critical violation."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from articles.models import Article
from tests.browser.conftest import new_page

pytestmark = pytest.mark.browser

WIDTHS = (1280, 390)
BLOCKING = {"serious", "critical"}


def _pages() -> list[str]:
    live_blogs = Article.objects.filter(kind=Article.Kind.LIVE).order_by("pk")
    assert live_blogs.count() == 2, "the seed archive has two live blogs"
    return [
        "/",
        "/search/?q=Estonia",
        "/search/?q=zzzzqqq",
        *(blog.get_absolute_url() for blog in live_blogs),
        "/entities/vladimir-putin/",
        "/outlets/washington-post/",
        "/topics/diplomacy-and-negotiations/",
        "/entities/nope/",  # the 404 page
    ]


def _blocking_violations(page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {[node['target'] for node in v['nodes']][:5]}"
        for v in results.response["violations"]
        if v["impact"] in BLOCKING
    ]


@pytest.mark.parametrize("width", WIDTHS)
def test_no_page_has_a_serious_or_critical_axe_violation(browser, site, width):
    context, page = new_page(browser, width=width)
    found = {}
    for path in _pages():
        response = page.goto(f"{site}{path}")
        assert response.status == (404 if "nope" in path else 200), path
        if violations := _blocking_violations(page):
            found[path] = violations
    context.close()
    assert found == {}, "\n".join(f"{path}: {v}" for path, v in found.items())


def test_the_admin_sign_in_page_has_a_main_heading(browser, site):
    context, page = new_page(browser)
    page.goto(f"{site}/admin/login/")
    assert page.get_by_role("heading", level=1).count() == 1
    results = Axe().run(page)
    assert [v["id"] for v in results.response["violations"]] == []
    context.close()
