"""CSV, JSON Lines and JSON exports: one article per record, bad records reported alone."""

import csv
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from articles.ingest import tabular
from articles.ingest.decode import decode_bytes
from articles.ingest.records import Extracted, IngestError
from articles.ingest.tabular import ColumnMap, parse_date, read_csv, read_json, read_jsonl
from tests.ingest.corpora import CORPORA

REUTERS = CORPORA / "reuters21578"
BODY = "Russian forces shelled Kharkiv overnight.\n\nThe mayor said two people were hurt."


def articles(items) -> list[Extracted]:
    return [item for item in items if isinstance(item, Extracted)]


def errors(items) -> list[str]:
    return [str(item) for item in items if isinstance(item, IngestError)]


# --- CSV ---------------------------------------------------------------------------


def test_csv_columns_are_recognised_by_their_common_names_in_any_case():
    text = (
        "Headline,Text,Published_At,Link,Source,Author,Summary\n"
        f'Kharkiv shelled,"{BODY}",2022-03-01T08:30:00+02:00,https://example.com/k,'
        "Kyiv Independent,Jane Doe,Overnight strikes\n"
    )
    [record] = list(read_csv(text, "export.csv"))
    assert record == Extracted(
        origin="export.csv#1",
        text=BODY,
        title="Kharkiv shelled",
        byline="Jane Doe",
        source_url="https://example.com/k",
        site_name="Kyiv Independent",
        published_at=datetime(2022, 3, 1, 8, 30, tzinfo=timezone(timedelta(hours=2))),
        description="Overnight strikes",
    )


def test_csv_columns_named_by_the_operator_win():
    text = "story_head,story_text,headline\nThe real title,Body text here.,Not this one\n"
    [record] = list(read_csv(text, "x.csv", ColumnMap(title="Story_Head", body="story_text")))
    assert record.title == "The real title"
    assert record.text == "Body text here."


def test_column_names_in_other_scripts_are_recognised_when_named():
    text = "заголовок,текст\nОбстрел Харькова,Жители провели ночь в укрытиях.\n"
    [record] = list(read_csv(text, "ru.csv", ColumnMap(title="Заголовок", body="текст")))
    assert (record.title, record.text) == ("Обстрел Харькова", "Жители провели ночь в укрытиях.")


def test_a_csv_column_named_by_the_operator_must_exist():
    with pytest.raises(IngestError) as error:
        list(read_csv("title,text\nA,B\n", "x.csv", ColumnMap(body="content")))
    assert str(error.value) == "x.csv: no column named 'content' (found: title, text)"


def test_a_csv_without_a_body_column_is_refused_clearly():
    with pytest.raises(IngestError) as error:
        list(read_csv("title,date\nKharkiv shelled,2022-03-01\n", "inbox/export.csv"))
    assert str(error.value) == (
        "inbox/export.csv: no body column (looked for body, text, article...; "
        "name one with --body-column)"
    )


def test_a_csv_row_with_an_empty_body_is_reported_and_the_others_load():
    text = "title,body\nFirst,First body.\nSecond,\nThird,Third body.\n"
    items = list(read_csv(text, "x.csv"))
    assert [record.title for record in articles(items)] == ["First", "Third"]
    assert [record.origin for record in articles(items)] == ["x.csv#1", "x.csv#3"]
    assert errors(items) == ["x.csv#2: empty 'body', no article text"]


def test_a_csv_body_larger_than_the_csv_modules_default_limit_loads():
    body = "Word " * 60_000  # 300 kB, over csv's 128 KiB default
    [record] = list(read_csv(f'title,body\nLong,"{body}"\n', "big.csv"))
    assert record.text == body.strip()


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_semicolon_tab_and_pipe_separated_files_load(delimiter):
    text = f'title{delimiter}body\nA title, with a comma{delimiter}"Body; with a semicolon."\n'
    [record] = list(read_csv(text, "x.csv"))
    assert (record.title, record.text) == ("A title, with a comma", "Body; with a semicolon.")


def test_an_unreadable_csv_row_is_reported_where_loading_stopped(monkeypatch):
    # The csv module's own limit on field size is one error it can still raise.
    monkeypatch.setattr(tabular, "_allow_fields_as_large_as", lambda text: None)
    limit = csv.field_size_limit(1000)
    try:
        text = f"title,body\nGood,Fine.\nHuge,{'x' * 2000}\nMore,Rows.\n"
        items = list(read_csv(text, "x.csv"))
    finally:
        csv.field_size_limit(limit)
    assert [record.title for record in articles(items)] == ["Good"]
    assert errors(items) == [
        "x.csv#2: unreadable CSV row, loading stopped (field larger than field limit (1000))"
    ]


def test_a_csv_with_only_a_header_is_refused():
    with pytest.raises(IngestError, match=r"^x\.csv: no rows after the header$"):
        list(read_csv("title,body\n", "x.csv"))


# --- JSON Lines ----------------------------------------------------------------------


def test_jsonl_gives_one_article_per_line_and_reports_bad_lines_by_number():
    lines = [
        json.dumps({"headline": "One", "content": "Body one."}),
        "{not json",
        "",
        json.dumps(["a", "list"]),
        json.dumps({"headline": "Two", "content": "Body two."}),
    ]
    items = list(read_jsonl("\n".join(lines), "feed.jsonl"))
    assert [(r.origin, r.title) for r in articles(items)] == [
        ("feed.jsonl#1", "One"),
        ("feed.jsonl#5", "Two"),
    ]
    assert errors(items) == [
        "feed.jsonl#2: not valid JSON"
        " (column 2: Expecting property name enclosed in double quotes)",
        "feed.jsonl#4: expected a JSON object, found list",
    ]


def test_jsonl_without_a_body_key_is_refused():
    text = "\n".join(json.dumps({"title": f"T{n}", "date": "2022-01-01"}) for n in range(3))
    with pytest.raises(IngestError, match=r"^f\.jsonl: no body key \(looked for body, text"):
        list(read_jsonl(text, "f.jsonl"))


# --- JSON ----------------------------------------------------------------------------


def test_a_json_array_gives_one_article_per_record():
    text = json.dumps([{"title": "A", "body": "Body A."}, {"title": "B", "body": "Body B."}])
    assert [(r.origin, r.text) for r in read_json(text, "a.json")] == [
        ("a.json#1", "Body A."),
        ("a.json#2", "Body B."),
    ]


@pytest.mark.parametrize("key", ["articles", "records", "items", "Articles"])
def test_a_json_object_holding_the_records_under_a_known_key(key):
    text = json.dumps({"status": "ok", key: [{"title": "A", "text": "Body A."}]})
    [record] = list(read_json(text, "a.json"))
    assert record.text == "Body A."


def test_a_newsapi_response_loads_with_its_nested_source_and_camel_case_keys():
    text = json.dumps(
        {
            "status": "ok",
            "totalResults": 1,
            "articles": [
                {
                    "source": {"id": "bbc-news", "name": "BBC News"},
                    "author": ["Paul Adams", "Laura Gozzi"],
                    "title": "Ukraine war: Kherson retaken",
                    "description": "Ukrainian troops enter the city.",
                    "url": "https://www.bbc.co.uk/news/world-europe-63580372",
                    "publishedAt": "2022-11-11T14:05:00Z",
                    "content": "Ukrainian troops have entered Kherson.",
                }
            ],
        }
    )
    [record] = list(read_json(text, "news.json"))
    assert record.site_name == "BBC News"
    assert record.byline == "Paul Adams; Laura Gozzi"
    assert record.published_at == datetime(2022, 11, 11, 14, 5, tzinfo=UTC)
    assert record.source_url == "https://www.bbc.co.uk/news/world-europe-63580372"


def test_a_body_without_words_is_reported_not_loaded():
    # {"articles": 5} is one object whose body key holds a number; a CSV row of
    # dashes is a separator. Neither is an article; the good record still loads.
    [error] = list(read_json(json.dumps({"articles": 5}), "five.json"))
    assert str(error) == "five.json#1: 'articles' holds no words ('5')"
    items = list(read_csv("title,body\nA,Body A.\nB,-----\n", "x.csv"))
    assert [record.text for record in articles(items)] == ["Body A."]
    assert errors(items) == ["x.csv#2: 'body' holds no words ('-----')"]


def test_invalid_json_is_refused_with_where_it_broke():
    with pytest.raises(IngestError) as error:
        list(read_json('[{"title": "A",\n "body": }]', "bad.json"))
    assert str(error.value) == "bad.json: not valid JSON (line 2, column 10: Expecting value)"


def test_a_json_record_that_is_not_an_object_is_reported_alone():
    items = list(read_json(json.dumps([{"body": "Fine."}, "stray string"]), "a.json"))
    assert len(articles(items)) == 1
    assert errors(items) == ["a.json#2: expected a JSON object, found str"]


# --- Reuters-21578 -------------------------------------------------------------------


@pytest.fixture(scope="module")
def reuters_000() -> list:
    path = REUTERS / "reut2-000.json"
    return list(read_json(decode_bytes(path.read_bytes(), str(path)), str(path)))


def test_reuters_loads_every_record_with_a_body_and_reports_the_rest(reuters_000):
    assert len(reuters_000) == 1000
    assert len(articles(reuters_000)) == 925
    missing = errors(reuters_000)
    assert len(missing) == 75
    assert missing[0] == f"{REUTERS / 'reut2-000.json'}#30: empty 'body', no article text"


def test_a_reuters_story_keeps_its_title_date_and_dateline(reuters_000):
    first = reuters_000[0]
    assert first.origin == f"{REUTERS / 'reut2-000.json'}#1"
    assert first.title == "BAHIA COCOA REVIEW"
    assert first.published_at == datetime(1987, 2, 26, 15, 1, 1, 790000, tzinfo=UTC)
    assert first.text.startswith("SALVADOR, Feb 26 - Showers continued throughout the week in the")


def test_reuters_hard_wrapped_lines_are_joined_into_paragraphs(reuters_000):
    paragraphs = reuters_000[0].text.split("\n\n")
    assert paragraphs[1] == "The dry period means the temporao will be late this year."
    assert all("\n" not in paragraph for paragraph in paragraphs)


def test_reuters_entities_and_control_characters_are_resolved(reuters_000):
    titles = [record.title for record in articles(reuters_000)]
    assert "STANDARD OIL <SRD> TO FORM FINANCIAL UNIT" in titles
    for record in articles(reuters_000):
        for value in (record.text, record.title):
            assert "&#" not in value and "&lt;" not in value
            assert not any(ord(char) < 32 and char != "\n" for char in value)


def test_the_whole_reuters_collection_loads_its_19043_bodies():
    loaded = 0
    for path in sorted(REUTERS.glob("reut2-*.json")):
        items = read_json(decode_bytes(path.read_bytes(), str(path)), str(path))
        loaded += len(articles(items))
    assert loaded == 19043  # the collection's documented count of documents with a body


# --- dates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2022-02-24", datetime(2022, 2, 24, tzinfo=UTC)),
        ("2022-02-24T05:30:00Z", datetime(2022, 2, 24, 5, 30, tzinfo=UTC)),
        ("2022-02-24 05:30", datetime(2022, 2, 24, 5, 30, tzinfo=UTC)),
        (
            "2022-02-24T05:30:00+03:00",
            datetime(2022, 2, 24, 5, 30, tzinfo=timezone(timedelta(hours=3))),
        ),
        (
            "Thu, 24 Feb 2022 05:30:00 +0300",
            datetime(2022, 2, 24, 5, 30, tzinfo=timezone(timedelta(hours=3))),
        ),
        ("26-FEB-1987 15:01:01.79", datetime(1987, 2, 26, 15, 1, 1, 790000, tzinfo=UTC)),
        ("24 February 2022", datetime(2022, 2, 24, tzinfo=UTC)),
        ("February 24, 2022 5:00 PM", datetime(2022, 2, 24, 17, 0, tzinfo=UTC)),
        ("24 Feb 2022 10:00 MSK", datetime(2022, 2, 24, 7, 0, tzinfo=UTC)),
        ("27-MAR-1987 00:02:59.13RM", datetime(1987, 3, 27, 0, 2, 59, 130000, tzinfo=UTC)),
        (1645680600, datetime(2022, 2, 24, 5, 30, tzinfo=UTC)),
        ("1645680600000", datetime(2022, 2, 24, 5, 30, tzinfo=UTC)),
    ],
)
def test_dates_are_read_leniently_and_made_timezone_aware(value, expected):
    assert parse_date(value) == expected


@pytest.mark.parametrize(
    "value",
    ["", None, "soon", "February 2022", "March 5", "yesterday", "3 days ago", "2022", 2022, True],
)
def test_an_unreadable_or_incomplete_date_is_none_not_a_guess(value):
    assert parse_date(value) is None


def test_a_record_with_an_unreadable_date_still_loads():
    [record] = list(read_csv("title,body,date\nT,Body.,not a date\n", "x.csv"))
    assert record.published_at is None
