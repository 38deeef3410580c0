"""The identify stage and the precedence rules of the pipeline: who wrote it, where, when."""

from datetime import UTC, datetime

import pytest

from articles.ingest.identify import (
    clean_byline,
    find_byline,
    find_dateline,
    find_text_date,
    outlet_from_text,
)
from articles.ingest.outlets import OUTLETS, find_outlet, outlet_for_domain
from articles.ingest.pipeline import REVIEW_NO_DATE, REVIEW_NO_OUTLET, parse_extracted
from articles.ingest.records import (
    DATE_METADATA,
    DATE_TEXT,
    DATE_UNKNOWN,
    KIND_ARTICLE,
    KIND_LIVE,
    Extracted,
    Hints,
)

PLAIN_ARTICLE = """\
Leaders meet to discuss tanks for Ukraine

Officials from more than 50 countries met at Ramstein Air Base on Friday.

No agreement on tanks was reached, officials said.
"""


def parse_one(text: str, hints: Hints | None = None, **metadata) -> object:
    records = parse_extracted(Extracted(origin="test.txt", text=text, **metadata), hints)
    assert len(records) == 1
    return records[0]


def test_the_outlet_table_has_one_row_per_slug_and_domain():
    slugs = [outlet.slug for outlet in OUTLETS]
    domains = [domain for outlet in OUTLETS for domain in outlet.domains]
    assert len(slugs) == len(set(slugs))
    assert len(domains) == len(set(domains))
    names = {outlet.name: outlet.domain for outlet in OUTLETS}
    assert names["The New York Times"] == "nytimes.com"
    assert names["The Washington Post"] == "washingtonpost.com"
    assert names["Al Jazeera"] == "aljazeera.com"
    assert names["BBC News"] == "bbc.co.uk"


@pytest.mark.parametrize(
    ("domain_or_url", "name"),
    [
        ("nytimes.com", "The New York Times"),
        ("https://www.nytimes.com/live/2023/01/20/world/russia-ukraine-news", "The New York Times"),
        ("https://edition.cnn.com/2022/01/26/europe/index.html", "CNN"),
        ("www.bbc.com/news/world-europe-60000000", "BBC News"),
        ("https://www.theguardian.com/world/2025/apr/11/ukraine", "The Guardian"),
        ("apnews.com", "Associated Press"),
        ("https://www.aljazeera.com/news/liveblog/2022/1/26/x", "Al Jazeera"),
    ],
)
def test_an_outlet_is_known_by_its_domain_or_any_url_on_it(domain_or_url, name):
    assert outlet_for_domain(domain_or_url).name == name


def test_an_unknown_or_look_alike_domain_is_no_outlet():
    assert outlet_for_domain("example.org") is None
    assert outlet_for_domain("notcnn.com") is None
    assert outlet_for_domain("") is None


@pytest.mark.parametrize("name", ["The Guardian", "guardian", "the Guardian", "theguardian.com"])
def test_an_outlet_is_found_by_name_slug_alias_or_domain(name):
    assert find_outlet(name).slug == "guardian"


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Headline\n\nCredit...Jane Roe/Getty Images\n\nBody text.", "The New York Times"),
        ("Body text.\n\nThis post appeared first on washingtonpost.com", "The Washington Post"),
        ("Caption. Photograph: Omar Havana/Getty\n\nBody.", "The Guardian"),
        ("Kyiv, Ukraine (CNN) Russia has not assembled forces.", "CNN"),
        ("(CNN) Foreign forces are rolling toward the border.", "CNN"),
        ("MOSCOW (AP) — The United States delivered a response.", "Associated Press"),
        ("KYIV, Jan 26 (Reuters) - Ukraine said on Wednesday.", "Reuters"),
        ("Caption [File: John Thys/AFP]\n\n1 hour ago (17:03 GMT)", "Al Jazeera"),
    ],
)
def test_an_outlet_is_recognised_by_the_marks_it_leaves_in_copied_text(text, name):
    assert outlet_from_text(text).name == name


def test_a_story_that_cites_another_outlet_is_not_attributed_to_it():
    text = "The visit was earlier reported by The Washington Post, and CNN confirmed it."
    assert outlet_from_text(text) is None


def test_an_agency_photo_credit_does_not_make_the_story_the_agencys():
    text = "Credit...Evan Vucci/Associated Press\n\nCredit...Leah Millis/Reuters\n\nBody."
    assert outlet_from_text(text).name == "The New York Times"


@pytest.mark.parametrize(
    ("texts", "byline"),
    [
        (["By Erin Cunningham", "CAIRO — Gunmen opened fire."], "Erin Cunningham"),
        (["By Anton Troianovski and Steven Erlanger"], "Anton Troianovski and Steven Erlanger"),
        (["Body.", "Hudson and Rauhala reported from Prague. Robyn Dixon contributed."],
         "Hudson and Rauhala"),
        (["Body.", "Erika Solomon and John Ismay contributed reporting."], ""),
        (["By the time the convoy arrived, it was dark, the mayor of the town told reporters."],
         ""),
    ],
)  # fmt: skip
def test_a_byline_is_read_from_a_by_line_or_a_reported_from_sign_off(texts, byline):
    assert find_byline(texts) == byline


def test_page_metadata_bylines_are_reduced_to_the_names():
    assert clean_byline("By Erin Cunningham") == "Erin Cunningham"
    assert clean_byline("By Jane Doe, CNN") == "Jane Doe"
    assert clean_byline("By GILLIAN MOHNEY March 11, 2015 3:46 PM") == "GILLIAN MOHNEY"
    assert clean_byline("Theresa May") == "Theresa May"


@pytest.mark.parametrize(
    ("lead", "dateline"),
    [
        ("BERLIN — Western defense officials on Friday failed to agree.", "BERLIN"),
        ("KYIV — The top U.S. diplomat made a rare wartime visit.", "KYIV"),
        ("MOSCOW (AP) — The United States on Wednesday delivered a response.", "MOSCOW"),
        ("NEW YORK, Jan 5 (Reuters) - Stocks fell.", "NEW YORK"),
        ("Kyiv, Ukraine (CNN) Russia has not assembled sufficient forces.", "Kyiv"),
        ("(CNN) Foreign forces bristling with weapons are rolling.", ""),
        ("U.S. officials said on Friday that talks would continue.", ""),
    ],
)
def test_a_dateline_is_read_from_the_lead(lead, dateline):
    assert find_dateline([lead]) == dateline


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["Headline", "Published On 26 Jan 2022", "Body."], datetime(2022, 1, 26, tzinfo=UTC)),
        (["Headline", "January 26, 2022", "Body."], datetime(2022, 1, 26, tzinfo=UTC)),
        (["Headline", "Body.", "Updated: 2024-09-11 14:03"], datetime(2024, 9, 11, tzinfo=UTC)),
        (["Headline", "Body text.", "Last updated on Jan. 20, 2023"],
         datetime(2023, 1, 20, tzinfo=UTC)),
    ],
)  # fmt: skip
def test_a_publication_date_written_in_the_text_is_found(texts, expected):
    assert find_text_date(texts) == expected


def test_a_date_inside_a_sentence_is_an_events_date_not_the_articles():
    texts = [
        "Headline",
        "The Navy said he had been listed as an active deserter since March 11, 2019.",
    ]
    assert find_text_date(texts) is None


def test_an_article_with_no_date_anywhere_is_left_undated_and_flagged():
    record = parse_one(PLAIN_ARTICLE)
    assert record.published_at is None
    assert record.date_source == DATE_UNKNOWN
    assert REVIEW_NO_DATE in record.review_reasons


def test_a_date_written_in_the_text_is_used_when_nothing_else_gives_one():
    record = parse_one(PLAIN_ARTICLE.replace("\n\n", "\n\nPublished On 26 Jan 2022\n\n", 1))
    assert record.published_at == datetime(2022, 1, 26, tzinfo=UTC)
    assert record.date_source == DATE_TEXT
    assert REVIEW_NO_DATE not in record.review_reasons


def test_page_metadata_date_beats_a_date_in_the_text():
    text = PLAIN_ARTICLE.replace("\n\n", "\n\nPublished On 26 Jan 2022\n\n", 1)
    record = parse_one(text, published_at=datetime(2022, 1, 27, 9, 30, tzinfo=UTC))
    assert record.published_at == datetime(2022, 1, 27, 9, 30, tzinfo=UTC)
    assert record.date_source == DATE_METADATA


def test_a_hinted_date_beats_page_metadata():
    hints = Hints(published_at=datetime(2022, 1, 28, tzinfo=UTC))
    record = parse_one(PLAIN_ARTICLE, hints, published_at=datetime(2022, 1, 27, tzinfo=UTC))
    assert record.published_at == datetime(2022, 1, 28, tzinfo=UTC)
    assert record.date_source == DATE_METADATA


def test_an_unknown_outlet_is_flagged_for_review():
    record = parse_one(PLAIN_ARTICLE)
    assert record.outlet == ""
    assert REVIEW_NO_OUTLET in record.review_reasons


def test_the_source_url_names_the_outlet():
    record = parse_one(PLAIN_ARTICLE, source_url="https://www.reuters.com/world/europe/x")
    assert (record.outlet, record.outlet_domain) == ("Reuters", "reuters.com")
    assert REVIEW_NO_OUTLET not in record.review_reasons


def test_a_hinted_outlet_beats_the_text_and_the_url():
    text = PLAIN_ARTICLE + "\nThis post appeared first on washingtonpost.com\n"
    record = parse_one(text, Hints(outlet="bbc-news"), source_url="https://cnn.com/x")
    assert (record.outlet, record.outlet_domain) == ("BBC News", "bbc.co.uk")


def test_a_hinted_outlet_missing_from_the_table_is_kept_as_given():
    record = parse_one(PLAIN_ARTICLE, Hints(outlet="The Kharkiv Gazette"))
    assert (record.outlet, record.outlet_domain) == ("The Kharkiv Gazette", "")


def test_an_aggregators_own_site_name_loses_to_the_outlet_marks_in_the_text():
    text = PLAIN_ARTICLE + "\nThis post appeared first on washingtonpost.com\n"
    record = parse_one(text, site_name="Daily Digest Aggregator")
    assert record.outlet == "The Washington Post"


def test_an_unlisted_site_name_is_used_when_the_text_cannot_tell():
    record = parse_one(PLAIN_ARTICLE, site_name="The Kharkiv Gazette")
    assert record.outlet == "The Kharkiv Gazette"


def test_hints_override_title_kicker_byline_and_kind():
    hints = Hints(title="A better headline", kicker="Analysis", byline="Jane Roe", kind=KIND_LIVE)
    record = parse_one("Politics\n\n" + PLAIN_ARTICLE, hints)
    assert (record.title, record.kicker, record.byline, record.kind) == (
        "A better headline",
        "Analysis",
        "Jane Roe",
        KIND_LIVE,
    )
    # The text's own headline is not left behind as body text.
    assert not record.body.startswith("Leaders meet")


def test_page_metadata_title_and_byline_beat_the_text():
    record = parse_one(
        "By John Doe\n\n" + PLAIN_ARTICLE.split("\n\n", 1)[1],
        title="Leaders meet to discuss tanks",
        byline="By Jane Roe",
    )
    assert (record.title, record.byline) == ("Leaders meet to discuss tanks", "Jane Roe")
    assert record.body.startswith("By John Doe") is False


def test_the_text_gives_kicker_title_byline_and_dateline():
    text = (
        "Politics\n\nBlinken arrives in Kyiv amid friction over arms\n\nBy Jane Roe\n\n"
        "KYIV — The top U.S. diplomat made a rare wartime visit to Kyiv on Wednesday."
    )
    record = parse_one(text)
    assert (record.kicker, record.title, record.byline, record.dateline) == (
        "Politics",
        "Blinken arrives in Kyiv amid friction over arms",
        "Jane Roe",
        "KYIV",
    )
    assert record.body.startswith("KYIV — ")
    assert record.kind == KIND_ARTICLE


def test_a_page_for_a_compilation_applies_its_outlet_only_where_the_text_cannot_tell():
    text = (
        "Wire story about the talks\n\nimg]\n\nMOSCOW (AP) — First paragraph.\n\nSecond.\n\n"
        "Unmarked story about the response\n\nimg]\n\nFirst paragraph.\n\nSecond paragraph."
    )
    records = parse_extracted(
        Extracted(origin="digest.txt", text=text), Hints(outlet="The Guardian")
    )
    assert [record.outlet for record in records] == ["Associated Press", "The Guardian"]


def test_a_plain_article_always_has_a_section():
    record = parse_one("Only a headline")
    assert len(record.sections) == 1
    assert record.title == "Only a headline"
