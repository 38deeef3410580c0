"""Stories in real headless Chromium against a live server: a search shows each
story once, the switch shows every copy, and the story page lists who ran it first
and what changed. Screenshots go to /tmp for a person to look at."""

from __future__ import annotations

import json

import pytest

from articles.bench.story_pairs import Corpora, derive
from articles.ingest.loader import Loader, LoadOptions
from tests.browser.conftest import SCREENSHOTS, new_page
from tests.conftest import CORPORA

pytestmark = pytest.mark.browser

QUERY = '"shadow cabinet" "ID cards"'


@pytest.fixture
def site(browser, live_server, seed_archive, tmp_path):
    original = Corpora(CORPORA).text("bbc:politics/081.txt")
    copies = [
        (original, "BBC News", "2005-02-01"),
        (derive(original, "aggregator", 4), "NewsNow Aggregated", "2005-02-02"),
        (derive(original, "credits", 3), "Global Desk", "2005-02-03"),
    ]
    path = tmp_path / "copies.jsonl"
    path.write_text(
        "".join(
            json.dumps({"title": t.title, "body": t.body, "outlet": o, "published": d}) + "\n"
            for t, o, d in copies
        ),
        encoding="utf-8",
    )
    Loader(LoadOptions()).load([path])
    return live_server.url


def test_a_search_shows_each_story_once_and_every_copy_on_request(browser, site):
    context, page = new_page(browser)
    page.goto(f"{site}/search/?q={QUERY}")
    assert page.locator(".hit").count() == 1
    assert "3 results in 1 story" in page.locator("#results-title").inner_text()
    assert page.locator(".hit__story").inner_text().startswith("Also run by 2 outlets")
    page.screenshot(path=str(SCREENSHOTS / "archive-stories-collapsed.png"), full_page=True)
    page.get_by_role("link", name="Show every copy").click()
    page.wait_for_url("**copies=all**")
    assert page.locator(".hit").count() == 3
    context.close()


def test_the_story_page_shows_who_ran_it_first_and_what_changed(browser, site):
    context, page = new_page(browser)
    page.goto(f"{site}/search/?q={QUERY}")
    page.locator(".hit__story a").click()
    page.wait_for_url("**/stories/*/")
    rows = page.locator(".story-copy__outlet")
    assert rows.all_inner_texts() == ["BBC News", "NewsNow Aggregated", "Global Desk"]
    assert "First run by BBC News" in page.locator(".story .meta").inner_text()
    headline = page.locator(".story-headline").first
    assert headline.locator("del").inner_text() == "Tory backing for ID cards"
    assert page.locator(".story-change--added").count() >= 1
    page.screenshot(path=str(SCREENSHOTS / "archive-story-page.png"), full_page=True)
    context.close()
