"""Headline, outlet and date from a page's own metadata, measured on the 25 real pages.

The truth is labelled in tests/data/html_page_metadata.json from each page itself
(its JSON-LD, meta tags, visible headline and, where the page states no date in its
markup, its URL or image paths), with the evidence for each label.
"""

import json
from pathlib import Path

import pytest

from articles.ingest.html import extract_html
from articles.ingest.outlets import OUTLETS, outlet_for_domain, registered_domain
from articles.ingest.page_meta import PageMetadata, headline, publisher_name
from articles.ingest.pipeline import parse_extracted
from tests.ingest.corpora import CORPORA

PAGES_DIR = CORPORA / "html"
TRUTH = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "html_page_metadata.json").read_text("utf-8")
)
TARGET = 0.95
_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"'})


def comparable(text: str) -> str:
    # Curly and straight quotes are the same headline (og:title and h1 differ so).
    return " ".join(text.translate(_QUOTES).split())


@pytest.fixture(scope="module")
def records():
    loaded = {}
    for page in TRUTH:
        extracted = extract_html((PAGES_DIR / page / "source.html").read_bytes(), page)
        (loaded[page],) = parse_extracted(extracted)
    return loaded


def rate(records, right) -> tuple[float, list[str]]:
    wrong = [page for page, record in records.items() if not right(record, TRUTH[page])]
    return 1 - len(wrong) / len(records), wrong


def test_every_page_of_the_corpus_is_labelled():
    assert set(TRUTH) == {path.name for path in PAGES_DIR.iterdir() if path.is_dir()}


def test_the_title_is_the_publishers_headline(records):
    share, wrong = rate(records, lambda r, t: comparable(r.title) == comparable(t["headline"]))
    assert share >= TARGET, wrong


def test_the_outlet_has_its_canonical_name(records):
    share, wrong = rate(records, lambda r, t: r.outlet == t["outlet"])
    assert share >= TARGET, wrong


def test_the_date_is_the_publication_date(records):
    def right(record, truth):
        found = record.published_at
        return found is not None and found.date().isoformat() == truth["published"]

    share, wrong = rate(records, right)
    assert share >= TARGET, wrong


def test_a_date_in_the_pages_markup_wins_over_one_guessed_elsewhere(records):
    # htmldate reads 2016-11-09 from a script; the byline's <time> says 2016-11-15.
    assert records["msn"].published_at.date().isoformat() == "2016-11-15"
    # The Guardian's article:published_time keeps its time of day.
    assert records["guardian-1"].published_at.isoformat() == "2019-01-03T07:00:02+00:00"


@pytest.mark.parametrize(
    ("title", "site", "byline", "expected"),
    [
        ("Meta buys a startup | TechCrunch", "TechCrunch", "", "Meta buys a startup"),
        ("Ottawa sends aid - National | Globalnews.ca", "Global News", "", "Ottawa sends aid"),
        (
            "Kyiv hit overnight * The Gateway Pundit * by Paul Serran",
            "The Gateway Pundit",
            "",
            "Kyiv hit overnight",
        ),
        ("Drones over Kherson | Jane Roe", "The Guardian", "Jane Roe", "Drones over Kherson"),
        ("Talks resume — Reuters", "Reuters", "", "Talks resume"),
        # A dash inside the headline is the headline's, and an abbreviation no domain.
        ("Russia-Ukraine war - what we know", "BBC News", "", "Russia-Ukraine war - what we know"),
        ("Sanctions widen | U.S.", "Reuters", "", "Sanctions widen | U.S."),
    ],
)
def test_the_site_name_and_what_comes_with_it_leave_the_headline(title, site, byline, expected):
    page = PageMetadata(titles=[title], site_names=[site])
    assert headline(page, [site], byline) == expected


def test_a_title_that_is_the_sites_own_is_passed_over_for_the_stories():
    page = PageMetadata(
        titles=["Yahoo News - Latest News & Headlines"],
        title_tag="Russia: Cargo ship lost",
        h1s=["Russia: Cargo ship lost"],
        site_names=["Yahoo News"],
    )
    assert headline(page, ["Yahoo News"]) == "Russia: Cargo ship lost"


@pytest.mark.parametrize(
    ("site_names", "url", "expected"),
    [
        ([], "https://financialpost.com/news/x", "Financial Post"),  # not "Financialpost"
        (["Where Hope Finally Made a Comeback"], "https://www.thegatewaypundit.com/2023/x/",
         "The Gateway Pundit"),  # a tagline in og:site_name
        (["Canada"], "https://www.cbc.ca/news/canada/x", "CBC News"),  # a section
        (["HeraldSun"], "", "Herald Sun"),
        (["Kyiv Daily"], "https://kyivdaily.example/x", "Kyiv Daily"),  # unknown: its own word
        ([], "https://news.example.co.uk/x", "example.co.uk"),  # nothing but the domain
    ],
)  # fmt: skip
def test_the_publisher_is_named_as_the_registry_names_it(site_names, url, expected):
    assert publisher_name(PageMetadata(site_names=site_names), url) == expected


def test_outlets_are_keyed_by_registered_domain_and_never_by_a_public_suffix():
    assert registered_domain("https://www1.folha.uol.com.br/esporte/x") == "uol.com.br"
    assert outlet_for_domain("www1.folha.uol.com.br").name == "Folha de S.Paulo"
    assert outlet_for_domain("finance.yahoo.com").name == "Yahoo Finance"
    assert outlet_for_domain("gma.yahoo.com").name == "Yahoo"
    assert outlet_for_domain("com.br") is None
    assert outlet_for_domain("notcnn.com") is None


def test_the_registry_names_each_domain_and_slug_once():
    domains = [domain for outlet in OUTLETS for domain in outlet.domains]
    slugs = [outlet.slug for outlet in OUTLETS]
    assert len(domains) == len(set(domains))
    assert len(slugs) == len(set(slugs))


def test_only_a_web_address_becomes_the_pages_url():
    page = (
        "<html><head><meta property='og:url' content=\"javascript:alert('xss')\">"
        "<link rel='canonical' href='https://www.example.org/story'></head><body><article>"
        "<h1>Talks resume</h1><p>Negotiators met for a third day on Tuesday without agreeing "
        "on a ceasefire, officials said.</p><p>Both delegations said they would return to the "
        "table next week.</p></article></body></html>"
    )
    assert extract_html(page, "page.html").source_url == "https://www.example.org/story"
