"""The split stage: live blogs into entries, compilations into stories, the rest untouched."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from articles.ingest.clean import clean_text
from articles.ingest.pipeline import parse_extracted
from articles.ingest.records import KIND_ARTICLE, KIND_LIVE, Extracted, Hints
from articles.ingest.split import parse_live_stamp, split_compilation, split_sections

BBC = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "bbc"
JAN_26 = datetime(2022, 1, 26, tzinfo=UTC)

STAMPED_BLOG = """\
Summary paragraph of the day's events, written as a sentence.

Here are all the latest updates:

51 seconds ago (18:04 GMT)

US ambassador delivers written response

The ambassador delivered a written response, the secretary said.

11 mins ago (17:54 GMT)

US diplomat says Putin likely to use force

The deputy secretary warned that force may be used by mid-February.

A deputy secretary speaking in Kyiv [File: John Thys/AFP]

1 hour ago (17:03 GMT)

Czechs to donate artillery shells

The Czech defence ministry said it would donate shells.
"""

# An entry headline, then the entry's photo credit or caption, then its text.
HEADLINED_BLOG = """\
A meeting of allies ends with no consensus on sending Kyiv tanks.

Credit...Jane Roe/Getty Images

BERLIN — Officials on Friday failed to reach an agreement on exporting tanks to Ukraine.

Ukraine’s officials had hoped for a deal, and Mr. Austin said talks would go on.

A Navy SEAL who deserted in 2019 has been killed in Ukraine.

Credit...John Doe/The New York Times

A former Navy SEAL was killed in Ukraine this week, the Navy said.

Leopard 2 tanks could help Ukraine in a new Russian offensive.

A tank during an exercise.Credit...A. Person/Associated Press

What is a Leopard 2 tank?

The Leopard 2 is one of the world’s leading battle tanks, used by many armies.

How could the tank help Ukraine?

Until now, both Ukraine and Russia have used Soviet-era tanks in battle, and the Leopards would \
offer a big step forward in capability for Ukraine on the battlefield in the spring.

A European security organization calls on Russia to explain how its vehicles showed up in Ukraine.

A regional security organization in Europe has demanded an explanation after video emerged \
appearing to show its vehicles, stuck in Russia, being moved into occupied eastern Ukraine.
"""

COMPILATION = """\
Featured image of post First outlet's live blog: Live

First outlet's live blog: Live

img]

First story, first paragraph.

First story, second paragraph.

Second outlet's story about the talks

img]

Kyiv (CNN) Second story, first paragraph.

Second story, second paragraph.

A teaser with one paragraph only

img]

A single paragraph of teaser text.

Third outlet's story on the response

img]

MOSCOW (AP) — Third story, first paragraph.

Third story, second paragraph.
"""


def test_a_stamped_live_blog_is_split_into_one_section_per_entry():
    result = split_sections(clean_text(STAMPED_BLOG), JAN_26)
    assert result.kind == KIND_LIVE
    assert [section.heading for section in result.sections] == [
        "US ambassador delivers written response",
        "US diplomat says Putin likely to use force",
        "Czechs to donate artillery shells",
    ]
    assert result.sections[1].body == (
        "The deputy secretary warned that force may be used by mid-February."
    )
    assert result.sections[1].captions == ["A deputy secretary speaking in Kyiv"]


def test_entry_stamps_give_utc_times_on_the_articles_day():
    result = split_sections(clean_text(STAMPED_BLOG), JAN_26)
    assert [section.posted_at for section in result.sections] == [
        datetime(2022, 1, 26, 18, 4, tzinfo=UTC),
        datetime(2022, 1, 26, 17, 54, tzinfo=UTC),
        datetime(2022, 1, 26, 17, 3, tzinfo=UTC),
    ]


def test_the_summary_above_the_entries_is_kept_without_its_lead_in():
    result = split_sections(clean_text(STAMPED_BLOG), JAN_26)
    assert result.intro == ["Summary paragraph of the day's events, written as a sentence."]


def test_entry_times_are_unknown_when_the_articles_date_is_unknown():
    result = split_sections(clean_text(STAMPED_BLOG), None)
    assert result.kind == KIND_LIVE
    assert [section.posted_at for section in result.sections] == [None, None, None]


def test_a_stamp_in_another_time_zone_is_converted_to_utc():
    assert parse_live_stamp("2 hours ago (14:30 BST)", JAN_26.date()) == datetime(
        2022, 1, 26, 13, 30, tzinfo=UTC
    )
    assert parse_live_stamp("Updated 09:05 GMT", JAN_26.date()) == datetime(
        2022, 1, 26, 9, 5, tzinfo=UTC
    )
    assert parse_live_stamp("A sentence about 18:04 GMT.", JAN_26.date()) is None


def test_entries_before_midnight_in_a_newest_first_blog_fall_on_the_day_before():
    text = "\n\n".join(
        f"{stamp}\n\nHeadline number {n}\n\nText of entry {n}."
        for n, stamp in enumerate(["00:40 GMT", "00:05 GMT", "23:50 GMT", "23:10 GMT"])
    )
    result = split_sections(clean_text(text), JAN_26)
    assert [section.posted_at for section in result.sections] == [
        datetime(2022, 1, 26, 0, 40, tzinfo=UTC),
        datetime(2022, 1, 26, 0, 5, tzinfo=UTC),
        datetime(2022, 1, 25, 23, 50, tzinfo=UTC),
        datetime(2022, 1, 25, 23, 10, tzinfo=UTC),
    ]


def test_a_live_blog_without_stamps_is_split_at_its_entry_headlines():
    result = split_sections(clean_text(HEADLINED_BLOG), None)
    assert result.kind == KIND_LIVE
    assert [section.heading for section in result.sections] == [
        "A meeting of allies ends with no consensus on sending Kyiv tanks.",
        "A Navy SEAL who deserted in 2019 has been killed in Ukraine.",
        "Leopard 2 tanks could help Ukraine in a new Russian offensive.",
        "A European security organization calls on Russia to explain how its vehicles "
        "showed up in Ukraine.",
    ]


def test_question_subheads_stay_inside_their_live_blog_entry():
    result = split_sections(clean_text(HEADLINED_BLOG), None)
    leopard = result.sections[2]
    assert "What is a Leopard 2 tank?" in leopard.body
    assert "How could the tank help Ukraine?" in leopard.body
    assert leopard.captions == ["A tank during an exercise."]


def test_an_entry_without_a_photo_is_found_because_its_lead_restates_the_headline():
    result = split_sections(clean_text(HEADLINED_BLOG), None)
    assert result.sections[-1].body.startswith("A regional security organization in Europe")


def test_two_photos_in_an_ordinary_article_do_not_make_it_a_live_blog():
    text = (
        "Officials met in Berlin on Friday to discuss tanks.\n\n"
        "Credit...Jane Roe/Getty Images\n\n"
        "The talks went on for five hours.\n\n"
        "A second short paragraph ends here.\n\n"
        "Credit...John Doe/Reuters\n\n"
        "No agreement was announced."
    )
    result = split_sections(clean_text(text), None)
    assert result.kind == KIND_ARTICLE
    assert len(result.sections) == 1


def test_an_article_hint_keeps_a_live_looking_page_in_one_section():
    result = split_sections(clean_text(STAMPED_BLOG), JAN_26, kind=KIND_ARTICLE)
    assert result.kind == KIND_ARTICLE
    assert len(result.sections) == 1


def test_a_compilation_page_is_split_into_its_stories():
    stories = split_compilation(clean_text(COMPILATION))
    titles = [next(p.text for p in story.paragraphs if p.is_body) for story in stories]
    assert titles == [
        "First outlet's live blog: Live",
        "Second outlet's story about the talks",
        "Third outlet's story on the response",
    ]


def test_a_one_paragraph_teaser_is_kept_as_a_headed_section_of_the_story_before_it():
    records = parse_extracted(Extracted(origin="digest.txt", text=COMPILATION), Hints())
    second = records[1]
    assert [section.heading for section in second.sections] == [
        "",
        "A teaser with one paragraph only",
    ]
    assert second.sections[1].body == "A single paragraph of teaser text."
    assert any("A teaser with one paragraph only" in reason for reason in second.review_reasons)


def test_a_page_with_one_pictured_headline_is_not_a_compilation():
    text = "Big story headline\n\nimg]\n\nFirst paragraph.\n\nSecond paragraph."
    assert len(split_compilation(clean_text(text))) == 1


@pytest.mark.skipif(not BBC.is_dir(), reason="needs ../shared/corpora/bbc")
@pytest.mark.parametrize("topic", ["politics", "business", "tech", "sport", "entertainment"])
def test_ordinary_bbc_articles_stay_one_article_with_one_section(topic):
    for path in sorted((BBC / topic).glob("*.txt")):
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:  # sport/199.txt is Latin-1
            text = raw.decode("latin-1")
        records = parse_extracted(Extracted(origin=path.name, text=text), Hints())
        assert len(records) == 1, path
        assert records[0].kind == KIND_ARTICLE, path
        assert len(records[0].sections) == 1, path
        assert records[0].title == " ".join(text.splitlines()[0].split()), path
