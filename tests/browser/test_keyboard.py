"""Keyboard only, in headless Chromium: search, filters and pages are reached with Tab
and used with Enter and the arrow keys, and nothing changes until the reader asks."""

from __future__ import annotations

import pytest

from articles import views
from tests.browser.conftest import new_page

pytestmark = pytest.mark.browser


def _tab_to(page, selector: str, text: str = "", *, backwards=False, limit=150) -> None:
    """Press Tab (Shift+Tab) until the focused element matches `selector` (and holds `text`)."""
    key = "Shift+Tab" if backwards else "Tab"
    focused = "([s, t]) => document.activeElement.matches(s)"
    focused += " && document.activeElement.textContent.includes(t)"
    for _ in range(limit):
        page.keyboard.press(key)
        if page.evaluate(focused, [selector, text]):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_search_and_its_options_with_the_keyboard_alone(browser, site):
    context, page = new_page(browser)
    page.goto(f"{site}/")
    _tab_to(page, "input#q")
    page.keyboard.type("Estonia")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search/?q=Estonia")
    assert page.locator(".hit").count() == 3

    # Moving through the Sort options changes nothing until the search is run again.
    _tab_to(page, "select[name=sort]")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.wait_for_timeout(500)
    assert page.url.endswith("/search/?q=Estonia")
    assert page.locator("select[name=sort]").input_value() == "oldest"
    page.keyboard.press("ArrowUp")
    _tab_to(page, "button[type=submit]", backwards=True)
    page.keyboard.press("Enter")
    page.wait_for_url("**/search/?q=Estonia&kind=&from=&to=&sort=newest")
    assert page.locator(".hit").count() == 3

    # A facet with Enter, and off again.
    _tab_to(page, ".facets a.facet-link", "Al Jazeera")
    page.keyboard.press("Enter")
    page.wait_for_url("**outlet=al-jazeera**")
    assert page.locator(".hit").count() == 1
    _tab_to(page, ".active-filters a")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "outlet=" not in url)
    assert page.locator(".hit").count() == 3
    context.close()


def test_a_pasted_paragraph_is_cut_to_the_longest_search(browser, site):
    context, page = new_page(browser)
    page.goto(f"{site}/")
    _tab_to(page, "input#q")
    page.keyboard.insert_text("Kyiv was calm overnight, officials said. " * 120)
    with page.expect_navigation() as navigation:
        page.keyboard.press("Enter")
    # The archive's own answer (results, or its message on how to shorten the search)
    # with the search in its box, not a bare 414 from the server.
    assert navigation.value.status in (200, 400)
    assert len(page.locator("input#q").input_value()) == 4000
    assert page.locator(".results, .errors").count() == 1
    context.close()


def test_filter_a_list_and_page_through_it_with_the_keyboard(browser, site, monkeypatch):
    monkeypatch.setattr(views, "LIST_SIZE", 2)  # pages, from the seeds' few articles
    context, page = new_page(browser)
    page.goto(f"{site}/entities/vladimir-putin/")
    _tab_to(page, "input[name=from]")
    page.keyboard.type("01012022")  # a date field takes its digits in the locale's order
    _tab_to(page, ".list-filters button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url("**from=2022-01-01**")
    assert page.locator(".errors").count() == 0
    count = int(page.locator("#list-title .muted").inner_text().strip("()"))
    assert count > 2 and page.locator(".article-list .article-item").count() == 2

    _tab_to(page, ".pagination a[rel=next]")
    page.keyboard.press("Enter")
    page.wait_for_url("**page=2**")
    assert "from=2022-01-01" in page.url  # the filter holds across pages
    assert page.locator(".pagination").inner_text().startswith("← Previous")
    _tab_to(page, ".pagination a[rel=prev]")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "page=1" in url or "page=" not in url)
    context.close()
