"""What a person sees on a phone and across charts, in headless Chromium: a readable
timeline with bars big enough to tap, one colour per outlet everywhere, the outlet and
date of an article in the first screen, and no request that fails (the icon)."""

from __future__ import annotations

import pytest

from articles.models import Article
from tests.browser.conftest import new_page

pytestmark = pytest.mark.browser

PHONE = 390


def test_on_a_phone_the_timeline_text_is_readable_and_its_bars_are_tap_targets(browser, site):
    context, page = new_page(browser, width=PHONE)
    for path in ("/", "/entities/vladimir-putin/", "/outlets/cnn/"):  # many months, and one
        page.goto(f"{site}{path}")
        chart = page.locator("svg.timeline__chart:visible")
        assert chart.count() == 1, path
        font_sizes = chart.locator("text.axis").evaluate_all(
            "(texts) => texts.map(t => parseFloat(getComputedStyle(t).fontSize) "
            "* t.getScreenCTM().a)"
        )
        assert min(font_sizes) >= 11, (path, font_sizes)
        widths = [box["width"] for box in _boxes(chart.locator("a.bar"))]
        assert widths and min(widths) >= 24, (path, widths)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE
    context.close()


def test_one_month_is_a_bar_not_a_slab_across_the_chart(browser, site):
    context, page = new_page(browser)
    page.goto(f"{site}/outlets/guardian/")  # one article, one month
    chart = page.locator("svg.timeline__chart:visible")
    bars = _boxes(chart.locator("a.bar"))
    assert len(bars) == 1
    assert bars[0]["width"] < chart.bounding_box()["width"] / 8
    context.close()


def test_an_outlet_has_one_colour_on_every_chart(browser, site):
    context, page = new_page(browser)
    colours = {}
    for path in ("/", "/entities/vladimir-putin/", "/topics/diplomacy-and-negotiations/"):
        page.goto(f"{site}{path}")
        legend = page.locator(".timeline .legend li").evaluate_all(
            "(items) => items.map(li => [li.textContent.trim(), "
            "li.querySelector('rect').getAttribute('fill')])"
        )
        assert legend, path
        for outlet, colour in legend:
            colours.setdefault(outlet, set()).add(colour)
    context.close()
    assert all(len(found) == 1 for found in colours.values()), colours
    assert len(colours["The Washington Post"]) == 1


def test_on_a_phone_an_articles_outlet_and_date_are_on_the_first_screen(browser, site):
    blog = Article.objects.get(kind=Article.Kind.LIVE, outlet__slug="al-jazeera")
    assert len(blog.dek) > 300  # the long dek that filled the first screen
    context = browser.new_context(viewport={"width": PHONE, "height": 700})
    page = context.new_page()
    page.goto(f"{site}{blog.get_absolute_url()}")
    meta = page.locator(".article__header .meta")
    box = meta.bounding_box()
    assert box["y"] + box["height"] <= 700
    assert meta.locator(".outlet").inner_text() == "Al Jazeera"
    context.close()


def test_no_page_asks_for_anything_that_is_not_there(browser, site):
    context, page = new_page(browser)
    failed = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    for path in ("/", "/search/?q=Kyiv", "/entities/vladimir-putin/"):
        page.goto(f"{site}{path}")
        page.wait_for_load_state("networkidle")
    context.close()
    assert failed == []


def _boxes(locator) -> list[dict]:
    return [box for box in (item.bounding_box() for item in locator.all()) if box]
