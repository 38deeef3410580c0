"""The clean stage: journalism kept, site furniture dropped, captions set apart."""

from pathlib import Path

import pytest

from articles.ingest.clean import (
    MEDIA_CREDIT,
    MEDIA_FEATURED,
    MEDIA_IMAGE,
    MEDIA_VIDEO,
    ROLE_BODY,
    ROLE_CAPTION,
    ROLE_FURNITURE,
    ROLE_KICKER,
    ROLE_MEDIA,
    clean_text,
    split_run_together_kicker,
    strip_credit,
)

BBC = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "bbc"


def body_texts(text: str) -> list[str]:
    return [p.text for p in clean_text(text) if p.role == ROLE_BODY]


def caption_texts(text: str) -> list[str]:
    return [p.text for p in clean_text(text) if p.role == ROLE_CAPTION]


def test_a_bare_nyt_credit_leaves_no_text_but_marks_where_the_photo_was():
    paragraphs = clean_text("Headline sentence here.\n\nCredit...Jane Roe/Getty Images\n\nBody.")
    assert [p.text for p in paragraphs if p.role == ROLE_BODY] == [
        "Headline sentence here.",
        "Body.",
    ]
    assert paragraphs[1].role == ROLE_MEDIA and paragraphs[1].media == MEDIA_CREDIT
    assert paragraphs[1].source == "Credit...Jane Roe/Getty Images"


def test_a_caption_glued_to_its_nyt_credit_is_kept_as_caption_without_the_credit():
    text = "A German tank during an exercise last October.Credit...Jo Kulbis/Associated Press"
    assert caption_texts(text) == ["A German tank during an exercise last October."]
    assert body_texts(text) == []


def test_a_doubled_nyt_credit_after_a_video_caption_is_stripped():
    text = "Video player loading\nThe move would freeze assets.CreditCredit...Evan Vucci/AP"
    paragraphs = clean_text(text)
    assert paragraphs[0].media == MEDIA_VIDEO
    assert caption_texts(text) == ["The move would freeze assets."]


def test_guardian_alt_text_and_photograph_caption_are_both_captions():
    text = (
        "He said Ukraine was at the centre of the conflict.\n\n"
        "A minister signs a document at a meeting, with flags behind him\n"
        "The minister said Ukraine was at the ‘epicentre’. Photograph: Omar Havana/Getty\n\n"
        "“It is between freedom and oppression,” he said."
    )
    assert caption_texts(text) == [
        "A minister signs a document at a meeting, with flags behind him",
        "The minister said Ukraine was at the ‘epicentre’.",
    ]
    assert body_texts(text) == [
        "He said Ukraine was at the centre of the conflict.",
        "“It is between freedom and oppression,” he said.",
    ]


def test_prose_glued_above_a_caption_stays_body_when_it_ends_like_a_sentence():
    text = "The talks ended without a deal.\nTanks at a depot. Photograph: A Person/Reuters"
    assert body_texts(text) == ["The talks ended without a deal."]


@pytest.mark.parametrize(
    ("line", "caption"),
    [
        ("Wendy Sherman [File: John Thys/AFP]", "Wendy Sherman"),
        ("Soldiers near Avdiivka, 25 January 2022 [Stanislav Kozliuk/EPA]",
         "Soldiers near Avdiivka, 25 January 2022"),
        ("A frigate sails off. (Russian Defense Ministry via AP)", "A frigate sails off."),
        ("Troops on parade in Kyiv. (AP Photo/Efrem Lukatsky)", "Troops on parade in Kyiv."),
        ("Boris Johnson in Kyiv. Photograph: Stefan Rousseau/PA", "Boris Johnson in Kyiv."),
    ],
)  # fmt: skip
def test_credit_styles_of_many_outlets_mark_a_caption(line, caption):
    assert caption_texts(line) == [caption]
    assert body_texts(line) == []


def test_a_quoted_bracket_inside_prose_is_not_a_credit():
    line = "“Hope for a dialogue in [Ukraine’s] interests,” he wrote."
    assert body_texts(line) == [line]
    assert strip_credit(line) == line


def test_a_pictured_line_is_a_caption_but_a_quote_mentioning_pictured_is_not():
    assert caption_texts("Sergey Lavrov pictured addressing the State Duma on Wednesday.") == [
        "Sergey Lavrov pictured addressing the State Duma on Wednesday."
    ]
    quote = "“The man pictured in the video is not our soldier,” the ministry said."
    assert body_texts(quote) == [quote]


def test_a_flattened_photo_gallery_becomes_one_caption_per_photo():
    line = (
        "Photos: Tensions rise Soldiers drive vehicles in Luhansk. Hide Caption 1 of 3 "
        "Photos: Tensions rise Ground crew unload weapons at Boryspil. Hide Caption 2 of 3 "
        "Photos: Tensions rise Troops take part in drills. Hide Caption 3 of 3"
    )
    assert caption_texts(line) == [
        "Soldiers drive vehicles in Luhansk.",
        "Ground crew unload weapons at Boryspil.",
        "Troops take part in drills.",
    ]


@pytest.mark.parametrize(
    "line",
    [
        "ADVERTISEMENT",
        "Advertisement",
        "Story continues below advertisement",
        "skip past newsletter promotion",
        "Sign up to our daily newsletter",
        "Read Entire Article",
        "Continue reading the main story",
        "1 week ago 19",
        "3 days ago",
        "Licensed under CC BY-NC-SA 4.0",
        "使用 Hugo 建立",
        "主題 StackJimmy 設計",
        "Built with Hugo",
        "Theme Stack designed by Jimmy",
        "© 2024 Example News. All rights reserved.",
        "Bhayangkara | Wisata | | |",
        "Home | World | Politics | Sport",
        "This post appeared first on washingtonpost.com",
    ],
)
def test_site_furniture_is_dropped_from_the_text(line):
    paragraphs = clean_text(f"A first paragraph of the story.\n\n{line}\n\nThe last paragraph.")
    assert body_texts(f"A first paragraph of the story.\n\n{line}\n\nThe last paragraph.") == [
        "A first paragraph of the story.",
        "The last paragraph.",
    ]
    # Kept out of sight, not lost: the identify stage reads outlet marks from it.
    assert [p.source for p in paragraphs if p.role == ROLE_FURNITURE] == [line]


@pytest.mark.parametrize(
    "line",
    [
        "Copyright law was changed in 2004.",
        "WordPress founder quits",
        "The theme of the summit was designed by diplomats.",
        "Ukraine said Russia used 2 hours ago as a pretext.",
        "He spoke 51 seconds ago (18:04 GMT)",
    ],
)
def test_prose_that_resembles_furniture_is_kept(line):
    assert body_texts(line) == [line]


def test_image_video_and_featured_placeholders_become_markers():
    text = "Featured image of post Big Story\n\nBig Story\n\nimg]\n\nVideo player loading"
    paragraphs = clean_text(text)
    assert [(p.role, p.media, p.text) for p in paragraphs] == [
        (ROLE_MEDIA, MEDIA_FEATURED, "Big Story"),
        (ROLE_BODY, "", "Big Story"),
        (ROLE_MEDIA, MEDIA_IMAGE, ""),
        (ROLE_MEDIA, MEDIA_VIDEO, ""),
    ]


def test_a_headline_printed_twice_is_kept_once():
    text = "US urges citizens to leave: Live\n\nUS urges citizens to leave: Live\n\nimg]\n\nBody."
    assert body_texts(text) == ["US urges citizens to leave: Live", "Body."]


def test_a_caption_printed_twice_is_kept_once():
    caption = "In this photo released on Jan. 26, 2022, a frigate sails. (Ministry via AP)"
    assert caption_texts(f"{caption}\n\n{caption}\n\nMOSCOW (AP) — Text.") == [
        "In this photo released on Jan. 26, 2022, a frigate sails."
    ]


def test_a_kicker_run_into_the_headline_is_split_off():
    paragraphs = clean_text("Russia-Ukraine WarAllies Fail to Reach Agreement on Tanks\n\nBody.")
    assert (paragraphs[0].role, paragraphs[0].text) == (ROLE_KICKER, "Russia-Ukraine War")
    assert (paragraphs[1].role, paragraphs[1].text) == (
        ROLE_BODY,
        "Allies Fail to Reach Agreement on Tanks",
    )


def test_a_single_word_kicker_run_into_the_headline_is_split_off():
    assert split_run_together_kicker("OpinionWhy the West Must Send Tanks Now") == (
        "Opinion",
        "Why the West Must Send Tanks Now",
    )


def test_a_camel_cased_name_in_a_headline_is_not_taken_for_a_kicker():
    text = "WorldCom director admits lying\n\nThe former WorldCom finance chief said he lied."
    assert body_texts(text)[0] == "WorldCom director admits lying"
    assert split_run_together_kicker("YouTube removes war videos") == (
        "",
        "YouTube removes war videos",
    )
    assert split_run_together_kicker("McConnell Says Aid Will Pass") == (
        "",
        "McConnell Says Aid Will Pass",
    )


@pytest.mark.skipif(not BBC.is_dir(), reason="needs ../shared/corpora/bbc")
def test_ordinary_bbc_articles_lose_no_text():
    for path in sorted((BBC / "politics").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        paragraphs = clean_text(text)
        assert all(p.role == ROLE_BODY for p in paragraphs), path.name
        assert sum(len(p.text.split()) for p in paragraphs) == len(text.split()), path.name
