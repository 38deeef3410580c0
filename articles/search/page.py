"""One page of results, assembled in PostgreSQL for the page's articles only
(whichever backend chose them): highlighted titles and snippets, the best matching
entries of live blogs, topics and entities, in a fixed number of grouped queries."""

from __future__ import annotations

import html
import re
from collections import defaultdict

from django.contrib.postgres.search import SearchHeadline, SearchQueryField, SearchRank
from django.core.exceptions import EmptyResultSet
from django.db import connections, router
from django.db.models import (
    BooleanField,
    ExpressionWrapper,
    F,
    Func,
    QuerySet,
    Value,
)
from django.db.models.functions import Coalesce, Left, NullIf
from django.utils.safestring import SafeString, mark_safe

from articles.models import Article, Mention, Section
from articles.search.ordering import AmongIds
from articles.search.query import TextQuery
from articles.search.results import Hit, SectionHit
from articles.search.stories import story_info
from articles.search_vectors import SEARCH_CONFIG

# ts_rank weights for D, C, B, A: title (A) > kicker, dek, entry heading (B) > body (C).
# These only choose which of a result's matching sections are shown first.
RANK_WEIGHTS = [0.1, 0.1, 0.4, 1.0]
SECTIONS_PER_RESULT = 3
HEADLINE_CHARS = 100_000  # ts_headline reads at most this much of a body
# ts_headline parses all the text it is given: a snippet is looked for in the body's
# first SNIPPET_CHARS, and in all of it only where those hold no match.
SNIPPET_CHARS = 2_000

# ts_headline marks matches with these; its whole output is then escaped and only
# they become <mark>, so article text never reaches the page as HTML.
_START, _STOP = "\ue000", "\ue001"
_HEADLINE = {
    "config": SEARCH_CONFIG,
    "start_sel": _START,
    "stop_sel": _STOP,
}

LIST_FIELDS = (
    "title",
    "slug",
    "kicker",
    "byline",
    "source_url",
    "published_at",
    "date_source",
    "kind",
    "outlet__slug",
    "outlet__name",
    "story",
)


def for_list(articles: QuerySet) -> QuerySet:
    """Only what a result list shows: never the body or the (large) search vector."""
    return articles.select_related("outlet").only(*LIST_FIELDS)


def page_hits(ids: list[int], text_query: TextQuery | None) -> list[Hit]:
    """The hits of a page whose article ids (in order) a backend chose: the articles
    and their highlighted titles and snippets in one query, then entries and tags."""
    marked = text_query.highlight_query if text_query else None
    rows = for_list(Article.objects.filter(pk__in=ids)).annotate(**_snippet_columns(marked))
    found = {article.pk: article for article in rows}
    articles = [found[pk] for pk in ids if pk in found]
    headlines = {a.pk: (a.title_headline, a.snippet_headline, a.body_matches) for a in articles}
    return _hits(articles, _snippets(headlines, marked), text_query)


def hits_for(articles: list[Article], text_query: TextQuery | None) -> list[Hit]:
    """What a search shows for each of `articles` (highlighted title and snippet,
    best matching sections, topics, entities), without the count and facets.
    A fixed number of queries, however many articles."""
    if not articles:
        return []
    marked = text_query.highlight_query if text_query else None
    rows = Article.objects.filter(pk__in=[a.pk for a in articles]).values_list(
        "pk", *_snippet_columns(marked).values()
    )
    headlines = {pk: (title, snippet, matches) for pk, title, snippet, matches in rows}
    return _hits(articles, _snippets(headlines, marked), text_query)


def _hits(articles: list[Article], snippets: dict, text_query: TextQuery | None) -> list[Hit]:
    if not articles:
        return []
    ids = [a.pk for a in articles]
    urls = {a.pk: a.get_absolute_url() for a in articles}
    sections = _section_hits(articles, urls, text_query) if text_query is not None else {}
    topics, entities = _tags_of(ids)
    stories = story_info({a.story_id for a in articles if a.story_id is not None})
    hits = []
    for article in articles:
        title_html, snippet_html = snippets[article.pk]
        section_hits, section_count = sections.get(article.pk, ([], 0))
        hits.append(
            Hit(
                article=article,
                url=urls[article.pk],
                title_html=title_html,
                snippet_html=snippet_html,
                sections=section_hits,
                section_count=section_count,
                topics=topics.get(article.pk, []),
                entities=entities.get(article.pk, []),
                story=stories.get(article.story_id),
            )
        )
    return hits


def highlight(text: str) -> SafeString:
    """ts_headline output -> HTML: escape everything, then turn the markers into <mark>."""
    escaped = html.escape(" ".join((text or "").split()), quote=True)
    marked = re.sub(f"{_START}(.*?){_STOP}", r"<mark>\1</mark>", escaped, flags=re.DOTALL)
    return mark_safe(marked.replace(_START, "").replace(_STOP, ""))  # noqa: S308 - escaped above


def _snippet_columns(marked) -> dict:
    """The title and snippet to highlight, and whether the body holds what to mark
    (`_snippets`): with a query (what to mark), ts_headline of each, the snippet's over
    the body's first SNIPPET_CHARS; without, the title and the start of the dek (or
    body)."""
    if marked is None:
        lead = Coalesce(NullIf(F("dek"), Value("")), Left("body", HEADLINE_CHARS))
        return {
            "title_headline": F("title"),
            "snippet_headline": Left(lead, 320),
            "body_matches": Value(False),
        }
    return {
        "title_headline": SearchHeadline("title", marked, highlight_all=True, **_HEADLINE),
        "snippet_headline": _body_headline(marked, SNIPPET_CHARS),
        "body_matches": _BodyMatches(F("search_vector"), marked),
    }


def _body_headline(marked, chars: int) -> SearchHeadline:
    return SearchHeadline(
        Left("body", chars),
        marked,
        max_words=35,
        min_words=15,
        max_fragments=2,
        fragment_delimiter=" … ",
        **_HEADLINE,
    )


class _BodyMatches(Func):
    """Whether a query matches the body's part (weight C) of an article's vector."""

    output_field = BooleanField()

    def as_sql(self, compiler, connection, **extra_context):
        (vector, vector_params), (query, query_params) = (
            compiler.compile(expression) for expression in self.get_source_expressions()
        )
        return f"({vector} @@ archive_body_query({query}))", (*vector_params, *query_params)


def _snippets(headlines: dict[int, tuple], marked) -> dict[int, tuple[SafeString, SafeString]]:
    """{pk: (title, snippet, whether the body holds what to mark)} -> {pk: highlighted
    title and snippet}; a snippet that marks nothing of a body that holds a match past
    its first SNIPPET_CHARS is looked for in the whole body (one query for all such)."""
    if marked is None:
        return {
            pk: _highlighted(title, lead, lead=True) for pk, (title, lead, _) in headlines.items()
        }
    deeper = [
        pk
        for pk, (_, snippet, body_matches) in headlines.items()
        if body_matches and _START not in (snippet or "")
    ]
    whole = {}
    if deeper:
        rows = Article.objects.filter(pk__in=deeper).values_list(
            "pk", _body_headline(marked, HEADLINE_CHARS)
        )
        whole = dict(rows)
    return {
        pk: _highlighted(title, whole.get(pk, snippet), lead=False)
        for pk, (title, snippet, _) in headlines.items()
    }


def _highlighted(title: str, snippet: str, *, lead: bool) -> tuple[SafeString, SafeString]:
    """Highlighted title and snippet; a `lead` (no query) is trimmed at a word."""
    return highlight(title), highlight(_trim(snippet) if lead else snippet)


def _trim(text: str) -> str:
    text = " ".join((text or "").split())
    return text if len(text) < 300 else text[: text.rfind(" ", 0, 300)] + " …"


def _section_hits(
    articles: list[Article], urls: dict[int, str], text_query: TextQuery
) -> dict[int, tuple[list, int]]:
    """The best-ranked matching sections of each article (whose page is at
    `urls[pk]`), highlighted, in one query: which ones (ranked in
    `_SECTION_HITS_SQL`), then the headlines of those only."""
    try:
        matching_sql, params = _matching_sections(articles, text_query).query.sql_with_params()
    except EmptyResultSet:
        return {}
    with connections[router.db_for_read(Section)].cursor() as cursor:
        cursor.execute(
            _SECTION_HITS_SQL.format(matching=matching_sql),
            (
                SEARCH_CONFIG,
                _HEADING_OPTIONS,
                SEARCH_CONFIG,
                HEADLINE_CHARS,
                _ENTRY_OPTIONS,
                *params,
                SECTIONS_PER_RESULT,
            ),
        )
        rows = cursor.fetchall()
    found: dict[int, list[SectionHit]] = defaultdict(list)
    totals = {}
    for article_id, total, anchor, position, heading, posted_at, heading_hl, snippet in rows:
        totals[article_id] = total
        found[article_id].append(
            SectionHit(
                anchor=anchor,
                position=position,
                heading=heading,
                heading_html=highlight(heading_hl),
                posted_at=posted_at,
                snippet_html=highlight(snippet),
                url=f"{urls[article_id]}#{anchor}",
            )
        )
    return {article_id: (hits, totals[article_id]) for article_id, hits in found.items()}


def matching_entries(article_ids: list[int], text_query: TextQuery) -> QuerySet:
    """The sections of these articles that `text_query` matches, but a plain article's:
    an article of one section without a heading has no entries to list (its snippet
    is the article's own)."""
    return Section.objects.filter(
        AmongIds("article_id", article_ids),
        article__has_entries=True,
        search_vector=text_query.search_query,
    )


def _matching_sections(articles: list[Article], text_query: TextQuery) -> QuerySet:
    """(pk, article, position, rank, what to mark) of each of `articles`' matching
    entries."""
    search_query = text_query.search_query
    return (
        matching_entries([a.pk for a in articles], text_query)
        .order_by()
        .annotate(
            rank=SearchRank(F("search_vector"), search_query, weights=RANK_WEIGHTS),
            marked=ExpressionWrapper(text_query.highlight_query, output_field=SearchQueryField()),
        )
        .values_list("pk", "article_id", "position", "rank", "marked")
    )


# Each article's SECTIONS_PER_RESULT best-ranked matching sections (ties in order of
# position) and how many match. ts_headline reads the whole text it is given, so
# only the sections shown get one. The window is written here: filtered through the
# ORM, which emulates a filter on a window function, the matching query was compiled
# twice.
_SECTION_HITS_SQL = """
SELECT best.article_id, best.total, s.anchor, s.position, s.heading, s.posted_at,
       ts_headline(%s::regconfig, s.heading, best.marked, %s),
       ts_headline(%s::regconfig, left(s.body, %s), best.marked, %s)
FROM (
    SELECT m.pk, m.article_id, m.marked,
           row_number() OVER (PARTITION BY m.article_id ORDER BY m.rank DESC, m.position)
               AS place,
           count(*) OVER (PARTITION BY m.article_id) AS total
    FROM ({matching}) AS m(pk, article_id, position, rank, marked)
) AS best
JOIN articles_section s ON s.id = best.pk
WHERE best.place <= %s
ORDER BY best.article_id, best.place
"""
_HEADING_OPTIONS = f"StartSel={_START}, StopSel={_STOP}, HighlightAll=true"
_ENTRY_OPTIONS = f"StartSel={_START}, StopSel={_STOP}, MaxWords=30, MinWords=12, MaxFragments=1"


def _tags_of(ids: list[int]) -> tuple[dict[int, list[dict]], dict[int, list[dict]]]:
    """Each article's topics (by name) and entities (most mentioned first, ties by
    name), in one query."""
    with connections[router.db_for_read(Mention)].cursor() as cursor:
        cursor.execute(_TAGS_SQL, [ids, ids])
        rows = cursor.fetchall()
    topics, entities = defaultdict(list), defaultdict(list)
    for tag, article_id, slug, name, kind, _ in rows:
        if tag == "topic":
            topics[article_id].append({"slug": slug, "name": name})
        else:
            entities[article_id].append({"slug": slug, "name": name, "kind": kind})
    return topics, entities


# Mentions are summed per entity first, then the entities read by id: joined before
# summing, the planner hashed the whole entity table for a page's few hundred
# mentions.
_TAGS_SQL = """
SELECT 'topic' AS tag, tagged.article_id, t.slug, t.name, '' AS kind, 0 AS mentions
FROM articles_articletopic tagged
JOIN articles_topic t ON t.id = tagged.topic_id
WHERE tagged.article_id = ANY(%s) AND NOT tagged.excluded
UNION ALL
SELECT 'entity', m.article_id, e.slug, e.name, e.kind, m.mentions
FROM (
    SELECT article_id, entity_id, sum(count) AS mentions
    FROM articles_mention
    WHERE article_id = ANY(%s)
    GROUP BY article_id, entity_id
) AS m
JOIN articles_entity e ON e.id = m.entity_id
ORDER BY tag, article_id, mentions DESC, name
"""
