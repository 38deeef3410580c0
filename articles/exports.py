"""Every result of a search, streamed: /search/export.csv, /search/export.jsonl,
and the manifest that says how an export was made, /search/export.json.

They take the same parameters as /search/ (the page is ignored) and hold every
matching public article, with no row cap, in constant memory:

- One ordered query of article ids runs on a server-side cursor (a named
  PostgreSQL cursor, which QuerySet.iterator() opens), read BATCH_SIZE ids at
  a time. It runs inside a transaction so the cursor needs no WITH HOLD: with
  it, PostgreSQL would materialise the whole result when the query starts.
- Each batch of ids is then filled in by four queries on primary keys (articles
  with their outlets, topics, entities, matching sections) and written out as
  one chunk. Nothing but the current batch is ever held.

The rows are the articles the search's pages list: those with every word or, when
no page-full of articles has them all, relaxed matching's (articles/search/relaxed.py),
which the manifest's `relaxed` then describes as the page does.

Order: by date, newest first (oldest first with sort=oldest). A relevance
order would need every match ranked before the first row could be sent (the
search page ranks only the newest CANDIDATE_LIMIT); the manifest records the order.

A spreadsheet treats a cell starting with = + - @ (or tab, CR) as a formula:
such CSV cells get a leading apostrophe (`neutralise`). JSON Lines keeps text as is.
"""

from __future__ import annotations

import csv
import io
import json
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import metadata
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Max, QuerySet, Sum
from django.http import JsonResponse, StreamingHttpResponse
from django.urls import reverse

from articles import search
from articles.api import invalid, read_only
from articles.filters import SearchFilter, error_messages
from articles.models import Article, ArticleTopic, Mention
from articles.search.ordering import AmongIds

BATCH_SIZE = 1000
# What a search's pages list: (the matching articles, the query they match, what
# relaxed matching did or None), as SearchFilter.every_match answers it.
Found = tuple[QuerySet, search.TextQuery | None, str | None]

CSV_COLUMNS = (
    "id",
    "permalink",
    "title",
    "outlet",
    "published_date",
    "published_at",
    "byline",
    "source_url",
    "kind",
    "topics",
    "entities",
    "matching_sections",
    "story_id",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ARTICLE_FIELDS = (
    "title",
    "slug",
    "byline",
    "source_url",
    "published_at",
    "kind",
    "outlet__slug",
    "outlet__name",
    "story",
)


def neutralise(cell: str) -> str:
    """A cell a spreadsheet would run as a formula, made plain text ("=1+1" -> "'=1+1")."""
    return f"'{cell}" if cell.startswith(_FORMULA_START) else cell


# --- Rows ----------------------------------------------------------------------


@dataclass
class Row:
    article: Article
    permalink: str
    topics: list[dict] = field(default_factory=list)  # {"slug", "name"}
    entities: list[dict] = field(default_factory=list)  # {"slug", "name", "kind", "mentions"}
    sections: list[str] = field(default_factory=list)  # anchors of the matching sections


def export_order(sort: str) -> str:
    return "oldest" if sort == "oldest" else "newest"


def rows(filterset: SearchFilter, base_url: str, found: Found | None = None) -> Iterator[list[Row]]:
    """Every match of a valid `filterset` (`found`, unless given: the articles its
    search pages list, relaxed matching's when it made them), in batches of
    BATCH_SIZE, in export order. `base_url`: the site's address
    ("https://archive.example.org"), for permalinks."""
    matches, text_query, _ = found or filterset.every_match()
    order = search.oldest_first() if filterset.sort_order == "oldest" else search.newest_first()
    ids = matches.order_by(*order).values_list("pk", flat=True)
    with transaction.atomic(using=ids.db):  # one snapshot, on the replica when routed
        batch: list[int] = []
        for pk in ids.iterator(chunk_size=BATCH_SIZE):
            batch.append(pk)
            if len(batch) == BATCH_SIZE:
                yield _fill(batch, text_query, base_url)
                batch = []
        if batch:
            yield _fill(batch, text_query, base_url)


def _fill(ids: list[int], text_query: search.TextQuery | None, base_url: str) -> list[Row]:
    articles = {
        a.pk: a
        for a in Article.objects.filter(AmongIds("pk", ids))
        .select_related("outlet")
        .only(*_ARTICLE_FIELDS)
        .order_by()
    }
    found = {pk: Row(a, base_url + a.get_absolute_url()) for pk, a in articles.items()}
    topics = (
        ArticleTopic.objects.filter(AmongIds("article_id", ids), excluded=False)
        .order_by("topic__name")
        .values_list("article_id", "topic__slug", "topic__name")
    )
    for article_id, slug, name in topics:
        found[article_id].topics.append({"slug": slug, "name": name})
    entities = (
        Mention.objects.filter(AmongIds("article_id", ids))
        .values_list("article_id", "entity__slug", "entity__name", "entity__kind")
        .annotate(mentions=Sum("count"))
        .order_by("article_id", "-mentions", "entity__name")
    )
    for article_id, slug, name, kind, mentions in entities:
        found[article_id].entities.append(
            {"slug": slug, "name": name, "kind": kind, "mentions": mentions}
        )
    if text_query is not None:
        sections = (
            search.matching_entries(ids, text_query)
            .order_by("article_id", "position")
            .values_list("article_id", "anchor")
        )
        for article_id, anchor in sections:
            found[article_id].sections.append(anchor)
    # An article hidden since the id query ran is left out, not half-written.
    return [found[pk] for pk in ids if pk in found]


# --- Formats ---------------------------------------------------------------------


def csv_chunks(batches: Iterable[list[Row]]) -> Iterator[str]:
    """A UTF-8 byte-order mark (so Excel reads the text as UTF-8), the header, then
    one chunk of rows per batch. Lists are joined with "; ", anchors with spaces."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield "\ufeff" + _drain(buffer)
    for batch in batches:
        for row in batch:
            writer.writerow([_csv_cell(value) for value in _csv_values(row)])
        yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _csv_values(row: Row) -> list:
    article = row.article
    published = article.published_at
    return [
        article.pk,
        row.permalink,
        article.title,
        article.outlet.name if article.outlet else "",
        f"{published.astimezone(UTC):%Y-%m-%d}" if published else "",
        published.isoformat() if published else "",
        article.byline,
        article.source_url,
        article.kind,
        "; ".join(t["name"] for t in row.topics),
        "; ".join(e["name"] for e in row.entities),
        " ".join(row.sections),
        article.story_id or "",
    ]


def _csv_cell(value) -> str | int:
    return neutralise(value) if isinstance(value, str) else value


def jsonl_chunks(meta: dict, batches: Iterable[list[Row]]) -> Iterator[str]:
    """The manifest as a first record of type "meta", then one "article" record a line."""
    yield _json_line(meta)
    for batch in batches:
        yield "".join(_json_line(article_record(row)) for row in batch)


def _json_line(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False) + "\n"


def article_record(row: Row) -> dict:
    article = row.article
    outlet = article.outlet
    return {
        "type": "article",
        "id": article.pk,
        "permalink": row.permalink,
        "title": article.title,
        "outlet": {"slug": outlet.slug, "name": outlet.name} if outlet else None,
        "published_at": article.published_at.isoformat() if article.published_at else None,
        "byline": article.byline,
        "source_url": article.source_url or None,
        "kind": article.kind,
        "topics": row.topics,
        "entities": row.entities,
        "matching_sections": [
            {"anchor": anchor, "url": f"{row.permalink}#{anchor}"} for anchor in row.sections
        ],
        "story_id": article.story_id,
    }


# --- How an export was made ------------------------------------------------------


@cache
def software_version() -> str:
    try:
        return metadata.version("war-coverage-archive")
    except metadata.PackageNotFoundError:
        pyproject = Path(settings.BASE_DIR) / "pyproject.toml"
        try:
            return tomllib.loads(pyproject.read_text())["project"]["version"]
        except (OSError, KeyError, tomllib.TOMLDecodeError):
            return "unknown"


def archive_state() -> dict:
    """Which archive an export came from: the software version and the time the
    last article was loaded or changed (so a later export of the same search that
    reports the same state holds the same rows). One query."""
    state = Article.objects.aggregate(changed=Max("updated_at"))
    changed = state["changed"].astimezone(UTC) if state["changed"] else None
    version = software_version()
    return {
        "archive_version": f"{version}+{changed:%Y%m%dT%H%M%SZ}" if changed else version,
        "software_version": version,
        "data_changed_at": changed.isoformat() if changed else None,
    }


def manifest(filterset: SearchFilter, request, found: Found | None = None) -> dict:
    """How an export is made: the query, filters, order, count, time and archive
    version; `relaxed` says when the search's pages, and so the export, list the
    articles with most of the words (no article had them all)."""
    matches, _, relaxed = found or filterset.every_match()
    data = filterset.form.cleaned_data
    query = request.GET.copy()
    query.pop("page", None)
    encoded = query.urlencode()
    suffix = f"?{encoded}" if encoded else ""

    def link(name: str) -> str:
        return request.build_absolute_uri(reverse(name) + suffix)

    return {
        "type": "meta",
        "query": data.get("q") or "",
        "understood": filterset.text_query.describe() if filterset.text_query else None,
        "relaxed": relaxed,
        "filters": {
            "outlet": sorted(o.slug for o in data.get("outlet") or ()),
            "topic": sorted(t.slug for t in data.get("topic") or ()),
            "entity": sorted(e.slug for e in data.get("entity") or ()),
            "from": data["from"].isoformat() if data.get("from") else None,
            "to": data["to"].isoformat() if data.get("to") else None,
            "kind": data.get("kind") or None,
        },
        "parameters": encoded,
        "order": export_order(filterset.sort_order),
        "count": matches.count(),
        "exported_at": datetime.now(UTC).isoformat(),
        **archive_state(),
        "columns": list(CSV_COLUMNS),
        "search": link("search"),
        "files": {
            "csv": link("search-export-csv"),
            "jsonl": link("search-export-jsonl"),
            "manifest": link("search-export-manifest"),
        },
    }


# --- Views -------------------------------------------------------------------------


def _valid_filterset(request) -> SearchFilter:
    filterset = SearchFilter(request.GET, queryset=Article.objects.public())
    if not filterset.is_valid():
        raise invalid(error_messages(filterset))
    return filterset


def _filename(extension: str) -> str:
    return f"archive-search-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.{extension}"


def _streamed(request, content: Iterator[str], content_type: str, extension: str):
    if request.method == "HEAD":
        content = iter(())  # the headers only: never run the export for nothing
    response = StreamingHttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{_filename(extension)}"'
    response["X-Robots-Tag"] = "noindex"
    return response


@read_only
def export_csv(request):
    filterset = _valid_filterset(request)
    batches = rows(filterset, request.build_absolute_uri("/")[:-1])
    return _streamed(request, csv_chunks(batches), "text/csv; charset=utf-8", "csv")


@read_only
def export_jsonl(request):
    filterset = _valid_filterset(request)
    found = filterset.every_match()
    meta = manifest(filterset, request, found)
    batches = rows(filterset, request.build_absolute_uri("/")[:-1], found)
    return _streamed(
        request, jsonl_chunks(meta, batches), "application/x-ndjson; charset=utf-8", "jsonl"
    )


@read_only
def export_manifest(request):
    return JsonResponse(manifest(_valid_filterset(request), request))
