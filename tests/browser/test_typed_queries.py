"""Queries as people type them (issue 14), in real headless Chromium against a live
server holding the seeds: what the page says when not every word matches, when a
query has nothing to search for or a date is not ISO, and the one-click correction."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import new_page

pytestmark = pytest.mark.browser


def _search(page, address: str, q: str) -> None:
    page.goto(f"{address}/search/")
    page.get_by_label("Search the archive").fill(q)
    page.get_by_role("button", name="Search").click()
    page.wait_for_load_state()


def test_a_query_no_article_fully_matches_says_so_above_the_closest(browser, site):
    context, page = new_page(browser)
    _search(page, site, "Pistorius Rinkevics Blinken Leopard")
    assert page.locator(".relaxed").inner_text() == (
        "No article has all 4 words; these have at least one of them."
    )
    # The live blog has three of the words: it is listed, with only those marked.
    hit = page.locator(".hit").filter(
        has=page.locator(".hit__title", has_text="Allies Fail to Reach Agreement")
    )
    assert hit.count() == 1
    marked = {m.casefold() for m in hit.locator("mark").all_inner_texts()}
    assert marked and marked <= {"pistorius", "rinkevics", "blinken", "leopard", "leopards"}
    context.close()


def test_a_misspelling_is_corrected_in_one_click(browser, site):
    context, page = new_page(browser)
    _search(page, site, "Leapord tanks")
    suggestion = page.locator(".suggestion")
    assert suggestion.inner_text() == "Did you mean Leopard tanks?"
    suggestion.get_by_role("link", name="Leopard tanks").click()
    page.wait_for_url(re.compile(r"/search/\?q=Leopard\+tanks"))
    assert page.get_by_label("Search the archive").input_value() == "Leopard tanks"
    assert page.locator(".suggestion").count() == 0
    assert page.locator(".hit").count() > 0
    context.close()


def test_long_sentences_stop_words_and_nothing_to_search_for_are_explained(browser, site):
    context, page = new_page(browser)
    _search(page, site, "what happened to the coalition of the willing")
    understood = page.locator(".understood").first.inner_text()
    assert "Articles with “happened” and “coalition” and “willing”" not in understood
    assert "Too common to search for: “what”, “to”, “the” and “of”." in understood
    assert page.locator(".hit").count() > 0

    _search(page, site, "👍")
    assert "“👍” has no word to search for" in page.locator(".errors").inner_text()
    assert page.locator(".hit").count() == 0

    _search(page, site, "a the of")
    assert "too common to search for" in page.locator(".errors").inner_text()
    context.close()


def test_dates_are_iso_and_the_page_says_which_it_searched(browser, site):
    context, page = new_page(browser)
    page.goto(f"{site}/search/?q=Ukraine&from=01/02/2022")
    assert "Give dates as YYYY-MM-DD" in page.locator(".errors").inner_text()
    page.goto(f"{site}/search/?q=Ukraine&from=2022-02-01&to=2022-02-28")
    assert page.locator(".searched-range").inner_text() == (
        "Published from 1 February 2022 to 28 February 2022 (UTC)."
    )
    context.close()


def test_a_name_in_cyrillic_finds_the_latin_spelling(browser, site):
    context, page = new_page(browser)
    _search(page, site, "Київ")
    assert "Kyiv" in page.locator(".understood").first.inner_text()
    assert page.locator(".hit").count() > 0
    assert "Kyiv" in page.locator(".hit mark").all_inner_texts()
    context.close()
