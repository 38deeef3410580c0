"""/search/export.csv, /search/export.jsonl and the manifest /search/export.json:
every match of any search, one row an article, how the export was made, cells a
spreadsheet would run made inert, hidden articles left out, and memory that
stays flat however many articles are exported."""

from __future__ import annotations

import csv
import gc
import hashlib
import io
import json
import tracemalloc
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from articles import exports, search
from articles.models import Article, ArticleTopic, Entity, Mention, Outlet, Section, Topic
from tests.test_api import HOSTILE_BYLINE, HOSTILE_TITLE, HOSTILE_URL, hidden, hostile

pytestmark = pytest.mark.django_db
__all__ = ["hidden", "hostile"]  # fixtures

AJ_LIVE = "US urges citizens in Ukraine ‘to consider departing now’: Live"


def streamed(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200, getattr(response, "content", b"")
    assert response.streaming, "exports are streamed"
    return response, b"".join(response.streaming_content).decode("utf-8")


def csv_rows(client, **params) -> list[dict]:
    response, text = streamed(client, "/search/export.csv", **params)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert text.startswith("\ufeff"), "a byte-order mark, for Excel"
    reader = csv.DictReader(io.StringIO(text[1:], newline=""))
    assert tuple(reader.fieldnames) == exports.CSV_COLUMNS
    return list(reader)


def jsonl_records(client, **params) -> list[dict]:
    response, text = streamed(client, "/search/export.jsonl", **params)
    assert response["Content-Type"] == "application/x-ndjson; charset=utf-8"
    return [json.loads(line) for line in text.splitlines()]


def test_the_csv_has_every_match_with_its_details(client):
    rows = csv_rows(client, q="Estonia")
    assert len(rows) == 3
    live = next(r for r in rows if r["title"] == AJ_LIVE)
    article = Article.objects.get(title=AJ_LIVE)
    assert live["id"] == str(article.pk)
    assert live["permalink"] == f"http://testserver{article.get_absolute_url()}"
    assert live["outlet"] == "Al Jazeera"
    assert live["published_date"] == "2022-01-26"
    assert live["published_at"] == "2022-01-26T00:00:00+00:00"
    assert live["kind"] == "live"
    assert live["topics"].split("; ") == list(
        ArticleTopic.objects.filter(article=article, excluded=False)
        .order_by("topic__name")
        .values_list("topic__name", flat=True)
    )
    assert set(live["entities"].split("; ")) == set(
        Mention.objects.filter(article=article).values_list("entity__name", flat=True)
    )
    anchors = live["matching_sections"].split()
    assert "us-fighter-jets-arrive-in-estonia-for-training" in anchors
    matching = search.build_text_query("Estonia").search_query
    expected = Section.objects.filter(article=article, search_vector=matching)
    assert anchors == list(expected.order_by("position").values_list("anchor", flat=True))


def test_without_a_query_every_public_article_is_exported_newest_first(client):
    rows = csv_rows(client)
    assert len(rows) == Article.objects.public().count() == 8
    dates = [r["published_at"] for r in rows]
    assert dates == sorted(dates, reverse=True)
    assert all(r["matching_sections"] == "" for r in rows)
    oldest = [r["published_at"] for r in csv_rows(client, sort="oldest")]
    assert oldest == sorted(dates)


def test_filters_apply_as_on_the_search_page(client):
    rows = csv_rows(client, q="tanks", outlet="cnn", kind="article")
    assert rows and {r["outlet"] for r in rows} == {"CNN"}
    api = client.get("/api/search/", {"q": "tanks", "outlet": "cnn", "kind": "article"}).json()
    assert {int(r["id"]) for r in rows} == {r["id"] for r in api["results"]}


def test_the_jsonl_starts_with_how_it_was_made_then_one_record_an_article(client):
    records = jsonl_records(client, q="Estonia", sort="relevance", page="1")
    meta, articles = records[0], records[1:]
    assert meta["type"] == "meta"
    assert meta["query"] == "Estonia" and meta["count"] == len(articles) == 3
    assert meta["order"] == "newest"
    assert meta["parameters"] == "q=Estonia&sort=relevance"
    assert {r["type"] for r in articles} == {"article"}
    live = next(r for r in articles if r["title"] == AJ_LIVE)
    assert live["outlet"] == {"slug": "al-jazeera", "name": "Al Jazeera"}
    assert {"slug", "name", "kind", "mentions"} == set(live["entities"][0])
    section = next(s for s in live["matching_sections"] if s["anchor"].startswith("us-fighter"))
    assert section["url"] == f"{live['permalink']}#{section['anchor']}"


def test_the_manifest_records_query_filters_time_and_archive_version(client):
    before = datetime.now(UTC)
    response = client.get(
        "/search/export.json", {"q": "tanks", "outlet": ["cnn", "guardian"], "from": "2022-01-01"}
    )
    assert response.status_code == 200
    manifest = response.json()
    assert manifest["query"] == "tanks"
    assert manifest["understood"] == "Articles with “tanks”."
    assert manifest["filters"] == {
        "outlet": ["cnn", "guardian"],
        "topic": [],
        "entity": [],
        "from": "2022-01-01",
        "to": None,
        "kind": None,
    }
    assert before <= datetime.fromisoformat(manifest["exported_at"]) <= datetime.now(UTC)
    assert manifest["software_version"] == "0.1.0"
    latest = max(Article.objects.values_list("updated_at", flat=True))
    assert manifest["data_changed_at"] == latest.isoformat()
    assert manifest["archive_version"] == f"0.1.0+{latest:%Y%m%dT%H%M%SZ}"
    assert manifest["count"] == len(
        csv_rows(client, q="tanks", outlet=["cnn", "guardian"], **{"from": "2022-01-01"})
    )
    query = "q=tanks&outlet=cnn&outlet=guardian&from=2022-01-01"
    assert manifest["files"]["csv"] == f"http://testserver/search/export.csv?{query}"
    assert manifest["search"] == f"http://testserver/search/?{query}"
    jsonl_meta = jsonl_records(
        client, q="tanks", outlet=["cnn", "guardian"], **{"from": "2022-01-01"}
    )[0]
    assert {k: v for k, v in jsonl_meta.items() if k != "exported_at"} == {
        k: v for k, v in manifest.items() if k != "exported_at"
    }


def test_the_search_page_links_to_the_exports(client):
    page = client.get("/search/", {"q": "tanks", "page": "1", "sort": "oldest"}).content.decode()
    assert 'href="/search/export.csv?q=tanks&amp;sort=oldest"' in page
    assert 'href="/search/export.jsonl?q=tanks&amp;sort=oldest"' in page
    assert 'href="/search/export.json?q=tanks&amp;sort=oldest"' in page


def test_invalid_parameters_are_a_json_400_and_nothing_is_streamed(client):
    for url in ("/search/export.csv", "/search/export.jsonl", "/search/export.json"):
        response = client.get(url, {"outlet": "nope"})
        assert response.status_code == 400
        assert response.json()["error"]["fields"] == {"outlet": ["There is no outlet “nope”."]}


def test_a_head_request_gets_the_headers_only(client):
    response = client.head("/search/export.csv", {"q": "tanks"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="archive-search-')
    assert b"".join(response.streaming_content) == b""


# --- Hostile text and hidden articles ----------------------------------------------


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+44 20", "'+44 20"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=cmd", "'\t=cmd"),
        ("\r=cmd", "'\r=cmd"),
        ("Kyiv = capital", "Kyiv = capital"),
        ("", ""),
    ],
)
def test_cells_a_spreadsheet_would_run_are_neutralised(cell, safe):
    assert exports.neutralise(cell) == safe


def test_hostile_text_round_trips_through_the_csv(client, hostile):
    [row] = csv_rows(client, q="zanzibarquux")
    assert row["title"] == "'" + HOSTILE_TITLE  # quotes, commas and the newline intact
    assert row["byline"] == "'" + HOSTILE_BYLINE
    assert row["source_url"] == HOSTILE_URL
    assert row["entities"] == "<script>Evil</script> & Co"
    assert row["matching_sections"] == "part-1"
    for cell in row.values():
        assert not cell.startswith(exports._FORMULA_START), cell


def test_hostile_text_round_trips_through_the_jsonl(client, hostile):
    [record] = jsonl_records(client, q="zanzibarquux")[1:]
    assert record["title"] == HOSTILE_TITLE  # data, not a spreadsheet: kept exactly
    assert record["byline"] == HOSTILE_BYLINE
    assert record["source_url"] == HOSTILE_URL


def test_hidden_articles_are_never_exported(client, hidden):
    assert csv_rows(client, q="qwertyhidden") == []
    assert jsonl_records(client, q="qwertyhidden")[0]["count"] == 0
    everything = csv_rows(client, entity="boris-pistorius")
    assert str(hidden.pk) not in {r["id"] for r in everything}
    assert str(hidden.pk) not in {r["id"] for r in csv_rows(client, topic="energy")}


# --- Streaming in constant memory ---------------------------------------------------


def _corpus(name: str, size: int) -> Outlet:
    """`size` articles of one outlet, each with a matching section, an entity and a topic."""
    outlet = Outlet.objects.create(name=name, slug=name.lower().replace(" ", "-"))
    start = datetime(2020, 1, 1, tzinfo=UTC)
    articles = Article.objects.bulk_create(
        Article(
            outlet=outlet,
            title=f"Leopard tank deliveries, report {n} from {name}",
            slug=f"leopard-{n}",
            byline="Jane Doe and John Roe",
            source_url=f"https://example.org/{name}/{n}",
            body=f"Germany agreed to send Leopard 2 tanks to Ukraine. Report {n}. " * 8,
            content_hash=hashlib.sha256(f"{name} {n}".encode()).hexdigest(),
            published_at=start + timedelta(minutes=n),
            date_source="metadata",
        )
        for n in range(size)
    )
    sections = Section.objects.bulk_create(
        Section(article=a, position=1, anchor="part-1", heading="Leopard tanks", body=a.body)
        for a in articles
    )
    entity = Entity.objects.get(slug="boris-pistorius")
    Mention.objects.bulk_create(
        Mention(entity=entity, article=a, section=s)
        for a, s in zip(articles, sections, strict=True)
    )
    topic = Topic.objects.get(slug="military-aid-and-weapons")
    ArticleTopic.objects.bulk_create(ArticleTopic(article=a, topic=topic) for a in articles)
    return outlet


def _export_peak(client, url: str, **params) -> tuple[int, int]:
    """(lines, peak bytes allocated by Python) for a whole export, read and thrown away."""
    gc.collect()
    tracemalloc.start()
    try:
        response = client.get(url, params)
        lines = sum(chunk.count(b"\n") for chunk in response.streaming_content)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return lines, peak


def test_memory_stays_flat_however_many_articles_are_exported(client, monkeypatch):
    # Small batches, so that both sizes run through many of them.
    monkeypatch.setattr(exports, "BATCH_SIZE", 200)
    small, large = 1_000, 5_000
    _corpus("Bench Small", small)
    _corpus("Bench Large", large)
    for url in ("/search/export.csv", "/search/export.jsonl"):
        _export_peak(client, url, q="leopard", outlet="bench-small")  # warm caches
        small_lines, small_peak = _export_peak(client, url, q="leopard", outlet="bench-small")
        large_lines, large_peak = _export_peak(client, url, q="leopard", outlet="bench-large")
        assert (small_lines, large_lines) == (small + 1, large + 1)  # a header or meta line
        print(
            f"{url}: peak {small_peak / 1024:.0f} KiB for {small} articles, "
            f"{large_peak / 1024:.0f} KiB for {large}"
        )
        # Five times the articles, the same memory: it holds one batch, never the export.
        assert large_peak < small_peak * 1.25, (small_peak, large_peak)


def test_the_ids_come_from_a_server_side_cursor(client, monkeypatch):
    """A client-side cursor would hold every row in libpq's memory, which tracemalloc
    cannot see: check that PostgreSQL is holding a cursor open while rows stream,
    and one that is not WITH HOLD (which would materialise the whole result)."""
    monkeypatch.setattr(exports, "BATCH_SIZE", 2)
    response = client.get("/search/export.csv", {"q": "tanks"})
    chunks = iter(response.streaming_content)
    next(chunks)  # the header
    next(chunks)  # the first batch: the cursor is open now
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_cursors WHERE NOT is_holdable")
        assert cursor.fetchone()[0] >= 1
    list(chunks)


def test_more_rows_than_a_batch_are_all_exported(client, monkeypatch):
    monkeypatch.setattr(exports, "BATCH_SIZE", 3)
    rows = csv_rows(client)
    assert len(rows) == 8 and len({r["id"] for r in rows}) == 8
