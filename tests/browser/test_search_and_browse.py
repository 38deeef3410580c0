"""The archive in real headless Chromium against a live server holding the seeds:
search from the home page, follow a section deep link, filter with a facet,
use a live blog's table of contents, and read the timeline (chart and table).
Screenshots go to /tmp for a person to look at."""

from __future__ import annotations

import pytest

from tests.browser.conftest import SCREENSHOTS, in_viewport, new_page

pytestmark = pytest.mark.browser


def test_search_from_home_filter_with_a_facet_and_open_an_entry(browser, site):
    context, page = new_page(browser)
    page.goto(f"{site}/")
    page.get_by_label("Search the archive").fill("Estonia")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/search/?q=Estonia")
    assert page.locator(".hit").count() == 3
    assert "Articles with “Estonia”" in page.locator(".understood").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "archive-search.png"), full_page=True)

    entry = page.locator(".section-hit__link", has_text="US fighter jets arrive in Estonia")
    href = entry.get_attribute("href")
    assert href.endswith("#us-fighter-jets-arrive-in-estonia-for-training")
    assert entry.locator("mark").inner_text() == "Estonia"

    page.locator(".facets a.facet-link", has_text="Al Jazeera").click()
    page.wait_for_url("**/search/?q=Estonia&outlet=al-jazeera")
    assert page.locator(".hit").count() == 1
    assert page.locator(".active-filters").inner_text().startswith("Outlet: Al Jazeera")
    page.locator(".facets a.is-selected", has_text="Al Jazeera").click()  # and off again
    page.wait_for_url("**/search/?q=Estonia")
    assert page.locator(".hit").count() == 3

    page.locator(".section-hit__link", has_text="US fighter jets arrive in Estonia").click()
    page.wait_for_url(f"**{href}")
    target = page.locator("#us-fighter-jets-arrive-in-estonia-for-training")
    assert target.is_visible() and in_viewport(page, target)
    assert page.evaluate("document.querySelector(':target').id") == target.get_attribute("id")
    context.close()


def test_a_live_blogs_table_of_contents_links_to_its_entries(browser, site):
    context, page = new_page(browser)
    page.goto(f"{site}/search/?q=Estonia&kind=live")
    page.locator(".hit__title a").first.click()
    toc = page.get_by_role("navigation", name="Entries in this live blog")
    toc.wait_for()  # counting does not wait for the article page; on a busy machine it was early
    assert toc.locator("li").count() == 34
    link = toc.get_by_role("link", name="Czechs to donate 4,000 artillery shells to Ukraine")
    link.click()
    page.wait_for_url("**#czechs-to-donate-4000-artillery-shells-to-ukraine")
    entry = page.locator("#czechs-to-donate-4000-artillery-shells-to-ukraine")
    assert in_viewport(page, entry)
    assert entry.get_by_role("heading").inner_text() == link.inner_text()
    assert entry.locator("figcaption").count() == 1  # the entry's photo caption
    # With JavaScript the citation gets a copy button.
    assert page.get_by_role("button", name="Copy citation").is_visible()
    context.close()


def test_the_timeline_renders_with_a_table_alternative(browser, site):
    context, page = new_page(browser)
    page.goto(f"{site}/")
    chart = page.locator("svg.timeline__chart:visible")
    box = chart.bounding_box()
    assert box["width"] > 900 and box["height"] > 150
    assert chart.locator("a.bar").count() == 5
    table = page.locator(".timeline__table table")
    assert not table.is_visible()
    page.get_by_text("Show the numbers as a table").click()
    assert table.is_visible() and table.locator("tbody tr").count() == 5
    page.screenshot(path=str(SCREENSHOTS / "archive-home.png"), full_page=True)
    chart.locator("a.bar").first.click()
    page.wait_for_url("**/search/?from=2022-01-01&to=2022-01-31")
    assert page.locator(".hit").count() == 4
    context.close()

    context, page = new_page(browser, width=390)
    page.goto(f"{site}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    page.screenshot(path=str(SCREENSHOTS / "archive-home-mobile.png"), full_page=True)
    page.goto(f"{site}/search/?q=Kyiv")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(SCREENSHOTS / "archive-search-mobile.png"), full_page=True)
    context.close()


def test_search_and_facets_work_without_javascript(browser, site):
    context, page = new_page(browser, javascript=False)
    page.goto(f"{site}/")
    page.get_by_label("Search the archive").fill("Pistorious")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search/?q=Pistorious")
    page.get_by_role("link", name="Pistorius").click()
    page.wait_for_url("**/search/?q=Pistorius")
    assert page.locator(".hit").count() == 2
    page.locator(".facets a.facet-link", has_text="The Guardian").click()
    page.wait_for_url("**outlet=guardian")
    assert page.locator(".hit").count() == 1
    page.select_option("select[name=sort]", "newest")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**sort=newest**")
    assert "outlet=guardian" in page.url  # filters survive a new search
    assert not page.get_by_role("button", name="Copy citation").count()
    context.close()
