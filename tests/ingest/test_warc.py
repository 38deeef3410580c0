"""WARC captures: every HTML page fetched becomes a record; damage is reported, not fatal."""

import gzip
import io
from datetime import UTC, datetime

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from articles.ingest.records import Extracted, IngestError
from articles.ingest.warc import read_warc
from tests.ingest.corpora import CORPORA

WARCS = CORPORA / "warc"
COMMON_CRAWL = WARCS / "resiliparse_warcfile.warc.gz"
CLIPPED = WARCS / "resiliparse_clipped.warc.gz"
CLUEWEB = WARCS / "resiliparse_clueweb-quirk.warc.gz"

# The 16 HTML responses of the Common Crawl excerpt, in file order.
COMMON_CRAWL_URLS = [
    "http://003338.cn/l41/481397.html",
    "http://01spb.ru/company/",
    "http://035.psb556.com/24/i/u_1090813/article.html",
    "http://037426.cn/",
    "http://041696.com/15477/list_6_4.html",
    "http://044545.com/topic/20200207/015849.html",
    "http://0513mt.com/index.php/art/detail/id/8884.html",
    "http://05925.net/index.php/vod/type/id/53.html",
    "http://06.live-radsport.ch/fahrerstatistik_801/Anthony_Ravard.html",
    "http://06.live-radsport.ch/tippspiel/stats_140_petzi.html",
    "http://0615235.com/02mjqjo%7Bibotij2.btq?odmbtt=106&tdmbtt=121",
    "http://0755krk.com/76104/list_4_1.html",
    "http://0760.jxtdw.com/area/sanxiang/",
    "http://077678u.info/erxiaoshujinguang/list_6_2.html",
    "http://0900-hovenier.nl/gelderland/oosterbeek/",
    "http://096355.com/video/11073.html?11073-0-2",
]


@pytest.fixture(scope="module")
def common_crawl() -> list:
    return list(read_warc(COMMON_CRAWL.read_bytes(), str(COMMON_CRAWL)))


def by_url(items) -> dict[str, Extracted]:
    return {item.source_url: item for item in items if isinstance(item, Extracted)}


def origin_of(item) -> str:
    return item.origin if isinstance(item, Extracted) else str(item).split(": ", 1)[0]


def test_each_html_response_gives_one_item_named_by_its_url(common_crawl):
    # Requests, metadata records and the warcinfo record are skipped.
    assert [origin_of(item) for item in common_crawl] == [
        f"{COMMON_CRAWL}#{url}" for url in COMMON_CRAWL_URLS
    ]


def test_pages_with_text_become_articles_and_an_empty_page_an_error(common_crawl):
    pages = by_url(common_crawl)
    assert list(pages) == COMMON_CRAWL_URLS[:-1]
    assert [str(item) for item in common_crawl if isinstance(item, IngestError)] == [
        f"{COMMON_CRAWL}#{COMMON_CRAWL_URLS[-1]}: no article text found in the HTML page"
    ]


def test_the_capture_time_is_kept_apart_from_the_publication_date(common_crawl):
    pages = by_url(common_crawl)
    company = pages["http://01spb.ru/company/"]
    assert company.captured_at == datetime(2020, 8, 8, 18, 31, 12, tzinfo=UTC)
    assert company.published_at is None  # the page has no date of its own

    listing = pages["http://041696.com/15477/list_6_4.html"]
    assert listing.published_at == datetime(2020, 4, 9, tzinfo=UTC)
    assert listing.captured_at == datetime(2020, 8, 8, 17, 31, 34, tzinfo=UTC)


def test_the_charset_from_the_http_header_is_used(common_crawl):
    # Content-Type: text/html; charset=windows-1251
    assert by_url(common_crawl)["http://01spb.ru/company/"].title.startswith("О компании")


def test_the_charset_from_the_pages_meta_tag_is_used(common_crawl):
    # No charset in the HTTP header; <meta ... charset=gbk>.
    assert by_url(common_crawl)["http://041696.com/15477/list_6_4.html"].title == (
        "上海特舟实业有限公司"
    )


def test_a_truncated_record_is_reported_naming_the_file():
    items = list(read_warc(CLIPPED.read_bytes(), str(CLIPPED)))
    url = (
        "http://www.houstonpress.com/music/"
        "a-humble-chance-the-rapper-leads-a-spiritual-awakening-at-revention-8866723"
    )
    assert [str(item) for item in items] == [
        f"{CLIPPED}#{url}: the record is truncated (the file ends inside it)"
    ]


def test_a_file_cut_short_keeps_the_records_before_the_cut():
    raw = COMMON_CRAWL.read_bytes()
    items = list(read_warc(raw[: len(raw) // 2], "half.warc.gz"))
    *complete, last = items
    assert [item.source_url for item in complete] == COMMON_CRAWL_URLS[: len(complete)]
    assert len(complete) >= 5
    assert str(last).startswith(f"half.warc.gz#{COMMON_CRAWL_URLS[len(complete)]}: ")
    assert "truncated" in str(last)


def test_a_cut_inside_a_skipped_record_is_still_reported():
    plain = gzip.decompress(COMMON_CRAWL.read_bytes())
    cut = plain.index(b"WARC-Type: metadata") + 500  # inside the first metadata record
    items = list(read_warc(plain[:cut], "cut.warc"))
    assert [type(item) for item in items] == [Extracted, IngestError]
    assert str(items[-1]) == f"cut.warc#{COMMON_CRAWL_URLS[0]}: the record is truncated " + (
        "(the file ends inside it)"
    )


def test_an_old_warc_0_18_file_with_an_impossible_date_loads():
    # ClueWeb09: WARC/0.18, EUC-JP pages and WARC-Date "2008-10-294T05:21:46-0700".
    items = list(read_warc(CLUEWEB.read_bytes(), str(CLUEWEB)))
    assert len(items) == 29
    pages = [item for item in items if isinstance(item, Extracted)]
    assert len(pages) == 29
    assert all(page.captured_at is None for page in pages)
    assert all("ヘッドポーター" in page.title for page in pages)  # EUC-JP decoded


def test_a_page_with_an_unreadable_body_does_not_stop_the_pages_after_it():
    page = b"<html><head><title>Strike on Kyiv</title></head><body><article>" + (
        b"<p>Missiles hit the capital overnight and power was cut in several districts.</p>" * 5
    )
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True)
    for number, (encoding, body) in enumerate([("", page), ("gzip", b"not gzip"), ("", page)]):
        headers = [("Content-Type", "text/html; charset=utf-8")]
        headers += [("Content-Encoding", encoding)] if encoding else []
        http = StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1")
        writer.write_record(
            writer.create_warc_record(
                f"http://example.com/{number}", "response", io.BytesIO(body), http_headers=http
            )
        )

    items = list(read_warc(buffer.getvalue(), "made.warc.gz"))

    assert [type(item) for item in items] == [Extracted, IngestError, Extracted]
    assert (
        str(items[1]) == "made.warc.gz#http://example.com/1: no article text found in the HTML page"
    )
    assert items[2].title == "Strike on Kyiv"


@pytest.mark.parametrize(
    "raw",
    [
        b"This is a text file, not an archive.\n",
        b"not a warc at all\n",  # five words: warcio reads it as an ARC header
        gzip.compress(b"just some gzipped text"),
        b"\x1f\x8b\x08\x00broken",
    ],
)
def test_a_file_that_is_not_a_warc_is_refused(raw):
    with pytest.raises(IngestError, match=r"^inbox/capture\.warc: not a (readable )?WARC file"):
        list(read_warc(raw, "inbox/capture.warc"))
