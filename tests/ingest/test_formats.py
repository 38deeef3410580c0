"""Formats: which files are inputs, what each is, and its records or a clear error."""

import json
from pathlib import Path

import pytest

from articles.ingest.formats import (
    FORMATS,
    MAX_INPUT_BYTES,
    detect_format,
    discover_inputs,
    extract_records,
)
from articles.ingest.records import Extracted, IngestError
from tests.ingest.corpora import CORPORA

LATIN1_ARTICLE = CORPORA / "bbc" / "sport" / "199.txt"
GUARDIAN_PAGE = CORPORA / "html" / "guardian-1" / "source.html"
COMMON_CRAWL = CORPORA / "warc" / "resiliparse_warcfile.warc.gz"
CLIPPED = CORPORA / "warc" / "resiliparse_clipped.warc.gz"
REUTERS = CORPORA / "reuters21578" / "reut2-000.json"


def head_of(path: Path) -> bytes:
    return path.read_bytes()[:4096]


# --- detect_format -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("story.txt", "txt"),
        ("page.html", "html"),
        ("PAGE.HTM", "html"),
        ("export.csv", "csv"),
        ("export.tsv", "csv"),
        ("feed.jsonl", "jsonl"),
        ("feed.ndjson", "jsonl"),
        ("dump.json", "json"),
        ("crawl.warc", "warc"),
        ("crawl.warc.gz", "warc"),
        ("CRAWL.WARC.GZ", "warc"),
    ],
)
def test_the_extension_decides_the_format(name, fmt):
    assert detect_format(Path(name), b"anything") == fmt


@pytest.mark.parametrize(
    ("head", "fmt"),
    [
        (b"<!DOCTYPE html><html><head>", "html"),
        (b"\xef\xbb\xbf  <html lang='en'>", "html"),
        (b"<!-- saved page -->\n<html>", "html"),
        (b"WARC/1.0\r\nWARC-Type: warcinfo\r\n", "warc"),
        (b'[{"title": "A", "body": "B"}]', "json"),
        (b'{\n  "articles": [\n', "json"),
        (b'{"status": "ok", "articles": [{"title": "A"}]}', "jsonl"),  # read as JSON below
        (b'{"articles": [{"title": "A", "body": "B"}]}', "json"),
        (b'{"title": "A", "body": "B"}\n{"title": "C", "body": "D"}\n', "jsonl"),
        (b'{"title": "A", "body": "' + b"x" * 5000, "jsonl"),  # first line longer than head
        (b"Kharkiv shelled\n\nRussian forces shelled the city overnight.", "txt"),
        (b"\x00\x01\x02binary", "txt"),  # decoding reports it as binary
    ],
)
def test_content_decides_when_the_extension_does_not(head, fmt):
    assert detect_format(Path("inbox/download"), head) == fmt


def test_a_gzipped_warc_without_its_extension_is_recognised():
    assert detect_format(Path("crawl-00001"), head_of(COMMON_CRAWL)) == "warc"


def test_other_gzipped_data_is_not_taken_for_a_warc():
    assert detect_format(Path("blob.gz"), b"\x1f\x8b\x08\x00\x00\x00") == "txt"


def test_the_formats_the_loader_accepts():
    assert FORMATS == ("txt", "html", "csv", "jsonl", "json", "warc")


# --- extract_records -----------------------------------------------------------------


def test_a_text_file_is_one_record_of_decoded_text():
    [record] = list(extract_records(LATIN1_ARTICLE.read_bytes(), "txt", str(LATIN1_ARTICLE)))
    assert record.origin == str(LATIN1_ARTICLE)
    assert record.text.startswith("Chelsea sack Mutu\n\nChelsea have sacked Adrian Mutu")
    assert "£15.8m" in record.text


def test_an_html_file_is_one_record_with_the_pages_metadata():
    [record] = list(extract_records(GUARDIAN_PAGE.read_bytes(), "html", str(GUARDIAN_PAGE)))
    assert record.title.startswith("'What is the sea telling us?'")
    assert record.byline == "Eleanor Ainge Roy"


def test_auto_detects_the_format_from_the_origin_and_bytes():
    items = list(extract_records(REUTERS.read_bytes(), "auto", str(REUTERS)))
    assert len(items) == 1000


def test_a_bulk_file_yields_its_records_and_its_bad_records_as_errors(tmp_path):
    rows = "title,body\nFirst,First body.\nEmpty,\nThird,Third body.\n"
    items = list(extract_records(rows.encode(), "csv", "inbox/export.csv"))
    assert [type(item) for item in items] == [Extracted, IngestError, Extracted]
    assert str(items[1]) == "inbox/export.csv#2: empty 'body', no article text"


def test_jsonl_and_json_are_read_per_record():
    lines = "\n".join(json.dumps({"title": t, "text": f"{t} body."}) for t in ("A", "B"))
    assert [r.origin for r in extract_records(lines.encode(), "jsonl", "f.jsonl")] == [
        "f.jsonl#1",
        "f.jsonl#2",
    ]
    document = json.dumps({"items": [{"title": "A", "text": "Body."}]}).encode()
    assert [r.origin for r in extract_records(document, "json", "f.json")] == ["f.json#1"]


def test_a_minified_json_document_with_a_jsonl_name_still_loads():
    document = json.dumps({"status": "ok", "articles": [{"title": "A", "content": "Body."}]})
    [record] = list(extract_records(document.encode(), "jsonl", "export.jsonl"))
    assert record.text == "Body."


def test_a_csv_without_a_body_column_fails_as_a_whole():
    with pytest.raises(IngestError) as error:
        list(extract_records(b"title,date\nA,2022-01-01\n", "csv", "inbox/export.csv"))
    assert str(error.value).startswith("inbox/export.csv: no body column")
    assert "--body-column" in str(error.value)


def test_a_warc_yields_its_pages_and_reports_a_truncated_record():
    items = list(extract_records(CLIPPED.read_bytes(), "warc", str(CLIPPED)))
    assert len(items) == 1
    assert isinstance(items[0], IngestError)
    assert str(items[0]).startswith(f"{CLIPPED}#http://www.houstonpress.com/")
    pages = list(extract_records(COMMON_CRAWL.read_bytes(), "warc", str(COMMON_CRAWL)))
    assert len(pages) == 16


def test_an_input_over_the_size_limit_is_refused():
    with pytest.raises(IngestError) as error:
        list(extract_records(b"x" * 2_000_000, "txt", "inbox/huge.txt", max_bytes=1024 * 1024))
    assert str(error.value) == ("inbox/huge.txt: too large to load (1.9 MiB; the limit is 1.0 MiB)")


def test_the_default_size_limit_is_50_mib():
    assert MAX_INPUT_BYTES == 50 * 1024 * 1024
    big = b"A line of text that repeats.\n" * (MAX_INPUT_BYTES // 29 + 1)
    with pytest.raises(IngestError, match=r"^big\.txt: too large to load \(50\.0 MiB"):
        list(extract_records(big, "txt", "big.txt"))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "inbox/x: empty file"),
        (b" \n\n \t", "inbox/x: empty file"),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00", "inbox/x: looks like a binary file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "inbox/x: looks like a binary file"),
    ],
)
@pytest.mark.parametrize("fmt", ["txt", "html", "csv", "jsonl", "json"])
def test_empty_and_binary_files_are_refused_clearly_in_every_text_format(raw, message, fmt):
    with pytest.raises(IngestError) as error:
        list(extract_records(raw, fmt, "inbox/x"))
    assert str(error.value).startswith(message)


def test_a_binary_file_given_as_warc_is_refused():
    with pytest.raises(IngestError, match=r"^inbox/x: not a (readable )?WARC file"):
        list(extract_records(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "warc", "inbox/x"))


def test_an_unknown_format_is_refused():
    with pytest.raises(IngestError) as error:
        list(extract_records(b"text", "pdf", "a.pdf"))
    assert str(error.value) == "a.pdf: unknown format 'pdf' (use one of: txt, html, csv, " + (
        "jsonl, json, warc)"
    )


def test_text_in_different_encodings_loads_with_the_right_characters():
    samples = {
        "utf-8": "Zelensky in Kyiv: “we will win” — 24 February",
        "utf-8-sig": "Zelensky in Kyiv: “we will win” — 24 February",
        "utf-16": "Зеленський у Києві: «ми переможемо»",
        "cp1251": "Зеленский в Киеве: «мы победим». " * 4,
        "cp1252": "Ärger in Köln über die Entscheidung. " + "Viel mehr Text hier. " * 20,
    }
    for encoding, text in samples.items():
        [record] = list(extract_records(text.encode(encoding), "txt", f"{encoding}.txt"))
        assert record.text == text, encoding


# --- discover_inputs -----------------------------------------------------------------


def make_tree(root: Path) -> None:
    for name in [
        "b.txt",
        "a.html",
        "manifest.json",
        ".hidden.txt",
        ".git/config",
        "sub/c.csv",
        "sub/manifest.json",
        "sub/deeper/d.jsonl",
        "sub/.cache/e.txt",
    ]:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")


def test_directories_are_walked_recursively_in_sorted_order(tmp_path):
    make_tree(tmp_path)
    found = discover_inputs([tmp_path])
    assert [path.relative_to(tmp_path).as_posix() for path in found] == [
        "a.html",
        "b.txt",
        "sub/c.csv",
        "sub/deeper/d.jsonl",
    ]


def test_named_files_come_in_the_order_given_and_only_once(tmp_path):
    make_tree(tmp_path)
    named = [tmp_path / "b.txt", tmp_path / "sub", tmp_path / "a.html", tmp_path / "b.txt"]
    found = discover_inputs(named)
    assert [path.relative_to(tmp_path).as_posix() for path in found] == [
        "b.txt",
        "sub/c.csv",
        "sub/deeper/d.jsonl",
        "a.html",
    ]


def test_a_manifest_is_never_an_input_even_when_named(tmp_path):
    # `load_articles inbox/*` names the manifest along with the files it describes.
    make_tree(tmp_path)
    assert discover_inputs([tmp_path / "manifest.json", tmp_path / "b.txt"]) == [tmp_path / "b.txt"]


def test_a_missing_path_is_an_error_naming_it(tmp_path):
    missing = tmp_path / "nowhere" / "file.txt"
    with pytest.raises(IngestError) as error:
        discover_inputs([tmp_path, missing])
    assert str(error.value) == f"{missing}: no such file or directory"


def test_the_bbc_corpus_is_found_whole():
    found = discover_inputs([CORPORA / "bbc"])
    assert len([path for path in found if path.suffix == ".txt"]) == 2225
    assert found == sorted(found)
