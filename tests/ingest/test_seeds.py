"""The seed articles the archive was created from, parsed the way the loader parses them."""

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from articles.ingest.pipeline import REVIEW_NO_DATE, load_manifest, parse_extracted
from articles.ingest.records import (
    DATE_METADATA,
    DATE_UNKNOWN,
    KIND_LIVE,
    ArticleRecord,
    Extracted,
    Hints,
    IngestError,
)

SEEDS = Path(__file__).resolve().parents[2] / "fixtures" / "seeds"
NYT_LIVE = "000_0e4d571b1702f214.txt"
WAPO_TRANSLATED = "001_8a38074ce1a56c90.txt"
WAPO_REPOST = "002_277481d5bd577af4.txt"
GUARDIAN_REPOST = "003_111580efd2975eb1.txt"
DIGEST = "004_4eba6182b57e1133.txt"

# What is not journalism and must never reach a body.
LEFTOVERS = re.compile(
    r"Credit(?:\.\.\.|…)|Photograph:|\[File:|img\]|Read Entire Article|Featured image of post"
    r"|^\d+ (?:seconds?|minutes?|hours?|days?|weeks?|months?) ago(?: \d+)?$"
    r"|ADVERTISEMENT|newsletter promotion|Licensed under|Hugo|Hide Caption|\|\s*\|",
    re.MULTILINE,
)


@pytest.fixture(scope="module")
def manifest() -> dict[str, Hints]:
    return load_manifest(SEEDS)


@pytest.fixture(scope="module")
def parsed(manifest) -> dict[str, list[ArticleRecord]]:
    return {
        path.name: parse_extracted(
            Extracted(origin=path.name, text=path.read_text(encoding="utf-8")),
            manifest[path.name],
        )
        for path in sorted(SEEDS.glob("*.txt"))
    }


@pytest.fixture(scope="module")
def articles(parsed) -> list[ArticleRecord]:
    return [record for records in parsed.values() for record in records]


def test_the_five_seed_files_parse_into_eight_articles(parsed):
    assert {name: len(records) for name, records in parsed.items()} == {
        NYT_LIVE: 1,
        WAPO_TRANSLATED: 1,
        WAPO_REPOST: 1,
        GUARDIAN_REPOST: 1,
        DIGEST: 4,
    }


def test_the_manifest_gives_dates_for_all_and_an_outlet_only_where_the_text_cannot():
    entries = json.loads((SEEDS / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(entries) == sorted(path.name for path in SEEDS.glob("*.txt"))
    assert {name: set(entry) for name, entry in entries.items()} == {
        NYT_LIVE: {"published"},
        WAPO_TRANSLATED: {"published", "outlet"},
        WAPO_REPOST: {"published"},
        GUARDIAN_REPOST: {"published"},
        DIGEST: {"published"},
    }


def test_every_seed_article_is_dated_from_the_manifest(articles):
    for record in articles:
        assert record.date_source == DATE_METADATA
        assert record.published_at.tzinfo is not None
    assert not any(REVIEW_NO_DATE in record.review_reasons for record in articles)


def test_the_nyt_live_blog_is_identified_from_its_text(parsed):
    (blog,) = parsed[NYT_LIVE]
    assert blog.kind == KIND_LIVE
    assert blog.outlet == "The New York Times"
    assert blog.outlet_domain == "nytimes.com"
    assert blog.kicker == "Russia-Ukraine War"
    assert blog.title == "Allies Fail to Reach Agreement on Providing Western Tanks to Ukraine"
    assert blog.dateline == "BERLIN"
    assert blog.published_at == datetime(2023, 1, 20, tzinfo=UTC)
    assert blog.review_reasons == []


def test_the_nyt_live_blog_has_one_section_per_entry_each_under_its_headline(parsed):
    (blog,) = parsed[NYT_LIVE]
    headings = [section.heading for section in blog.sections]
    assert len(headings) == 16
    assert all(headings)
    assert headings[0] == (
        "A meeting of Ukraine’s allies ends with no consensus on sending Kyiv Western tanks."
    )
    assert "A Navy SEAL who deserted in 2019 has been killed in Ukraine." in headings
    # An entry without a photo, and an entry whose picture is a video.
    assert (
        "A European security organization calls on Russia to explain how its vehicles showed "
        "up in occupied Ukraine." in headings
    )
    assert (
        "The U.S. will name the Wagner mercenary group a transnational criminal organization."
        in headings
    )
    assert headings[-1] == (
        "Ukraine allies announce new military aid ahead of a key meeting of defense ministers."
    )
    assert blog.sections[0].body.startswith("BERLIN — Western defense officials")


def test_question_subheads_of_a_nyt_entry_stay_in_that_entry(parsed):
    (blog,) = parsed[NYT_LIVE]
    leopard = next(s for s in blog.sections if s.heading.startswith("Leopard 2 tanks"))
    assert "\n\nWhat is a Leopard 2 tank?\n\n" in leopard.body
    assert leopard.body.endswith("Erika Solomon and John Ismay contributed reporting.")
    assert leopard.captions == [
        "A German Leopard tank during a NATO military exercise held in Lithuania last October."
    ]


def test_the_translated_washington_post_story_takes_its_byline_from_the_sign_off(parsed):
    (story,) = parsed[WAPO_TRANSLATED]
    assert story.byline == "Hudson and Rauhala"
    assert story.outlet == "The Washington Post"
    assert story.title == "Ukraine can use US weapons for limited strikes in Russia, Biden says"
    assert len(story.sections) == 1


def test_the_reposted_washington_post_story_is_recognised_from_its_repost_notice(parsed, manifest):
    assert manifest[WAPO_REPOST].outlet == ""
    (story,) = parsed[WAPO_REPOST]
    assert story.outlet == "The Washington Post"
    assert story.kicker == "Politics"
    assert story.title == (
        "Blinken arrives in Kyiv amid U.S.-Ukraine friction over arms restrictions"
    )
    assert story.dateline == "KYIV"
    assert "appeared first on" not in story.body


def test_the_reposted_guardian_story_is_recognised_and_keeps_its_caption_apart(parsed, manifest):
    assert manifest[GUARDIAN_REPOST].outlet == ""
    (story,) = parsed[GUARDIAN_REPOST]
    assert story.outlet == "The Guardian"
    assert story.title == "Ukraine allies promise €21bn in military support for Kyiv"
    assert story.body.startswith("Ukraine’s allies have announced a record €21bn")
    assert story.sections[0].captions == [
        "Boris Pistorius signs a document at a meeting, with a Germany sign in front of him and "
        "flags",
        "Germany’s Boris Pistorius said Ukraine was at the ‘epicentre of a broader conflict’.",
    ]
    assert "Boris Pistorius signs a document" not in story.body


def test_the_digest_page_is_four_stories_with_their_own_outlets_and_titles(parsed):
    assert [(record.outlet, record.title) for record in parsed[DIGEST]] == [
        ("Al Jazeera", "US urges citizens in Ukraine ‘to consider departing now’: Live"),
        ("CNN", "Ukraine-Russia news: troops ‘insufficient’ for full invasion"),
        ("Associated Press", "Russia says US gives written response on Ukraine demands"),
        (
            "CNN",
            "The West fears Russia is about to attack Ukraine. But that’s not the way Russians "
            "are seeing it on TV",
        ),
    ]
    assert [record.dateline for record in parsed[DIGEST]] == ["", "Kyiv", "MOSCOW", ""]


def test_the_al_jazeera_live_blog_has_a_timestamped_entry_for_every_stamp(parsed):
    text = (SEEDS / DIGEST).read_text(encoding="utf-8")
    stamps = re.findall(r"^.* ago \((\d\d):(\d\d) GMT\)$", text, re.MULTILINE)
    assert len(stamps) == 34
    blog = parsed[DIGEST][0]
    assert blog.kind == KIND_LIVE
    assert len(blog.sections) == 34
    assert all(section.heading for section in blog.sections)
    assert [(s.posted_at.hour, s.posted_at.minute) for s in blog.sections] == [
        (int(hour), int(minute)) for hour, minute in stamps
    ]
    assert all(s.posted_at.date() == date(2022, 1, 26) for s in blog.sections)
    assert all(s.posted_at.utcoffset().total_seconds() == 0 for s in blog.sections)


def test_the_al_jazeera_live_blog_opens_with_the_newest_entry(parsed):
    first = parsed[DIGEST][0].sections[0]
    assert first.posted_at == datetime(2022, 1, 26, 18, 4, tzinfo=UTC)
    assert first.heading == "US ambassador in Moscow delivers written response to Russian concerns"
    assert first.body.startswith("The US ambassador John Sullivan in Moscow has delivered")


def test_the_al_jazeera_summary_becomes_the_dek(parsed):
    blog = parsed[DIGEST][0]
    assert blog.dek.startswith("US embassy in Ukraine says situation can deteriorate")
    assert "Here are all the latest updates" not in blog.dek


def test_no_credit_placeholder_or_site_furniture_is_left_in_any_article(articles):
    for record in articles:
        texts = [record.title, record.kicker, record.dek, record.byline]
        texts += [text for section in record.sections for text in (section.heading, section.body)]
        for text in texts:
            assert not LEFTOVERS.search(text), (record.title, LEFTOVERS.search(text).group())


def test_no_caption_is_left_in_any_body(articles):
    for record in articles:
        for section in record.sections:
            paragraphs = section.body.split("\n\n")
            for caption in section.captions:
                assert caption not in paragraphs, caption


def test_captions_are_kept_with_their_section(parsed):
    al_jazeera = parsed[DIGEST][0]
    sherman = next(s for s in al_jazeera.sections if s.heading.startswith("US diplomat says"))
    assert sherman.captions == ["US Deputy Secretary of State Wendy Sherman"]
    ap = parsed[DIGEST][2]
    assert len(ap.sections[0].captions) == 1  # the page printed it twice
    assert ap.sections[0].captions[0].startswith("In this photo taken from video")
    assert ap.body.startswith("MOSCOW (AP) — The United States on Wednesday delivered")
    nyt_video = next(s for s in parsed[NYT_LIVE][0].sections if "Wagner" in s.heading)
    assert nyt_video.captions[0].startswith("The move would freeze the company’s assets")


def test_a_seed_with_no_date_in_its_text_is_undated_and_flagged_without_the_manifest():
    text = (SEEDS / WAPO_REPOST).read_text(encoding="utf-8")
    (story,) = parse_extracted(Extracted(origin=WAPO_REPOST, text=text), Hints())
    assert story.published_at is None
    assert story.date_source == DATE_UNKNOWN
    assert REVIEW_NO_DATE in story.review_reasons


def test_live_entries_have_no_times_when_the_digest_is_undated():
    text = (SEEDS / DIGEST).read_text(encoding="utf-8")
    blog = parse_extracted(Extracted(origin=DIGEST, text=text), Hints())[0]
    assert len(blog.sections) == 34
    assert all(section.posted_at is None for section in blog.sections)


def test_parsing_is_deterministic(manifest, parsed):
    text = (SEEDS / DIGEST).read_text(encoding="utf-8")
    again = parse_extracted(Extracted(origin=DIGEST, text=text), manifest[DIGEST])
    assert again == parsed[DIGEST]


def test_a_malformed_manifest_is_reported_by_file_name(tmp_path):
    (tmp_path / "manifest.json").write_text('{"a.txt": {"published": "2022-01-26"', "utf-8")
    with pytest.raises(IngestError, match=re.escape(str(tmp_path / "manifest.json"))):
        load_manifest(tmp_path)


@pytest.mark.parametrize(
    "content",
    [
        '["a.txt"]',
        '{"a.txt": "2022-01-26"}',
        '{"a.txt": {"published": "26/01/2022"}}',
        '{"a.txt": {"kind": "podcast"}}',
        '{"a.txt": {"date": "2022-01-26"}}',
    ],
)
def test_a_manifest_with_wrong_values_is_rejected(tmp_path, content):
    (tmp_path / "manifest.json").write_text(content, "utf-8")
    with pytest.raises(IngestError, match="manifest.json"):
        load_manifest(tmp_path)


def test_a_manifest_accepts_dates_and_datetimes(tmp_path):
    (tmp_path / "manifest.json").write_text(
        json.dumps(
            {
                "a.txt": {"published": "2022-01-26", "outlet": "cnn", "kind": "live"},
                "b.txt": {"published": "2022-01-26T18:04:00+02:00"},
                "c.txt": {"published": "2022-01-26T18:04:00"},
            }
        ),
        "utf-8",
    )
    hints = load_manifest(tmp_path)
    assert hints["a.txt"] == Hints(
        outlet="cnn", published_at=datetime(2022, 1, 26, tzinfo=UTC), kind="live"
    )
    assert hints["b.txt"].published_at == datetime(2022, 1, 26, 16, 4, tzinfo=UTC)
    assert hints["c.txt"].published_at == datetime(2022, 1, 26, 18, 4, tzinfo=UTC)


def test_a_directory_without_a_manifest_has_no_hints(tmp_path):
    assert load_manifest(tmp_path) == {}
