"""The PostgreSQL full-text search backend (the default).

Matching: an article matches in its own vector or in one of its headed sections
(a live-blog entry heading is only in the section vector). Everything starts from
one sample: the newest SAMPLE_SIZE (+1) matches, taken along the newest-first
index. Up to SAMPLE_SIZE matches it is every match, so the count and facets are
exact; past it the count is a floor and the facets are counted over the sample
(topics and entities over its first FACET_SAMPLE). Relevance ranks the sample's
first CANDIDATE_LIMIT: BM25 (articles/ranking.py) must read every candidate's
(toasted) vector, so a word found in most of a large archive would make ranking
read them all. The answer says where these cuts applied; docs/benchmarks.md has
what they cost."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from operator import itemgetter

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import (
    BigIntegerField,
    CharField,
    Count,
    DateTimeField,
    F,
    Func,
    Q,
    QuerySet,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import TruncMonth
from django.utils import timezone

from articles.models import Article, Outlet, Section
from articles.ranking import BM25Rank, idf
from articles.search.backends import (
    Answer,
    ListFigures,
    ListRequest,
    SearchBackend,
    SearchRequest,
)
from articles.search.facets import (
    entity_facet,
    kind_values,
    month_values,
    monthly_row,
    outlet_facet,
    outlet_values,
    topic_facet,
)
from articles.search.ordering import ids_param, newest_first, oldest_first
from articles.search.query import TextQuery
from articles.search.results import Facets, FacetValue, Selection

# Past this many matches only the newest are ranked by relevance. The judged IR
# collections (1,400-1,460 documents) fit under it whole.
CANDIDATE_LIMIT = 2000
# Past this many matches the count is a floor and the outlet, month and kind
# facets count the newest SAMPLE_SIZE matches only.
SAMPLE_SIZE = 10_000
# The topic and entity facets read every tag and mention of each article they
# count, so they count the newest FACET_SAMPLE matches.
FACET_SAMPLE = 1000
# How many articles past the sample's cut cost as much to read as one matching
# headed section (`_sections_first`; docs/benchmarks.md has the measurements).
SECTION_ROW_COST = 1
# Past the sample's cut by date, the articles the article half did not find are read
# by id (`_past_the_cut`) when they are fewer than this share of those past the cut.
UNFOUND_SHARE = 0.5
# Up to this much is added to a result's relevance for its number of matching sections.
SECTION_BONUS = 0.1


class PostgresBackend(SearchBackend):
    name = "postgres"

    def search(self, request: SearchRequest) -> Answer:
        # What an article must match besides the filters: once narrowed to those
        # matching enough of the groups in their own vector, nothing more.
        matched_by = request.text_query
        if request.minimum_should_match > 1:
            request, matched_by = _with_minimum_should_match(request), None
        selection, text_query = request.selection, request.text_query
        size = max(SAMPLE_SIZE, CANDIDATE_LIMIT)
        if request.count_only:
            matches = (
                request.articles if matched_by is None else matching(request.articles, matched_by)
            )
            return _count_only(matches, size)
        base = request.outlet_facet_base if selection.outlets else None
        base_rows = _sample(base if base is not None else request.articles, matched_by, size + 1)
        base_capped = len(base_rows) > size
        outlet_counts = Counter(row[2] for row in base_rows)
        outlets = _outlets_named(outlet_counts)
        if base is None:
            rows = base_rows
        elif not base_capped:  # the matches are the base's rows in the selected outlets
            chosen = {pk for pk, (slug, _) in outlets.items() if slug in selection.outlets}
            rows = [row for row in base_rows if row[2] in chosen]
        else:
            rows = _sample(request.articles, matched_by, size + 1)
        count_capped = len(rows) > size
        rows, base_rows = rows[:size], base_rows[:size]
        count = len(rows)
        bounded = text_query is not None and request.sort == "relevance" and count > CANDIDATE_LIMIT
        reachable = min(count, CANDIDATE_LIMIT) if bounded else count
        page = []
        if request.offset < reachable:
            page = _page_rows(request, matched_by, rows, count_capped)
        facet_ids = [row[0] for row in rows[:FACET_SAMPLE]]
        tags_sampled = count_capped or count > FACET_SAMPLE
        return Answer(
            ids=[pk for pk, _ in page],
            count=count,
            reachable=reachable,
            facets=Facets(
                outlet=_outlet_facet(outlet_counts, outlets, selection),
                topic=topic_facet(facet_ids, selection.topics),
                entity=entity_facet(facet_ids, selection.entities),
                month=_month_facet(rows, selection),
                kind=kind_values(Counter(row[3] for row in rows), selection),
            ),
            count_exact=not count_capped,
            ranked_newest=CANDIDATE_LIMIT if bounded else None,
            outlets_counted=size if count_capped or base_capped else None,
            tags_counted=min(count, FACET_SAMPLE) if tags_sampled else None,
            story_count=len({-row[0] if row[4] is None else row[4] for row in rows}),
            stories={pk: story for pk, story in page if story is not None},
        )

    def list_figures(self, request: ListRequest) -> ListFigures:
        # Each reads every article of the list (docs/benchmarks.md: entity pages).
        if request.chosen == Selection():  # the list unfiltered: one count gives all three
            figures = _unfiltered_list_figures(request.articles)
        else:
            figures = ListFigures(
                count=request.articles.count(),
                monthly=_monthly_counts(request.articles),
                outlets=outlet_facet(request.unfiltered, request.chosen.outlets),
            )
        if request.co_mentioned:
            newest = request.unfiltered.order_by(*newest_first()).values("pk")
            figures.co_mentioned = _co_mentioned(
                newest[:FACET_SAMPLE], request.own.entities, request.co_mentioned
            )
            if newest[: FACET_SAMPLE + 1].count() > FACET_SAMPLE:
                figures.co_mentioned_of = FACET_SAMPLE
        return figures


def _count_only(matches: QuerySet, size: int) -> Answer:
    """The answer of a count-only request: `matches` counted up to `size`, in no order."""
    found = matches.order_by()[: size + 1].count()
    count = min(found, size)
    return Answer(ids=[], count=count, reachable=count, facets=Facets(), count_exact=found <= size)


def _unfiltered_list_figures(articles: QuerySet) -> ListFigures:
    """A list's count, timeline and outlet facet from its articles counted by month
    and outlet once, undated ones included (they count, but have no bar)."""
    rows = _by_month_and_outlet(articles)
    by_outlet = Counter()
    for _month, slug, name, n in rows:
        if slug is not None:
            by_outlet[slug, name] += n
    return ListFigures(
        count=sum(n for *_, n in rows),
        monthly=[monthly_row(month.date(), *rest) for month, *rest in rows if month is not None],
        outlets=outlet_values(((s, name, n) for (s, name), n in by_outlet.items()), Selection()),
    )


def _monthly_counts(articles: QuerySet) -> list[tuple]:
    """`articles` per month and outlet (`monthly_row`), the undated left out."""
    rows = _by_month_and_outlet(articles.filter(published_at__isnull=False))
    return [monthly_row(month.date(), slug, name, count) for month, slug, name, count in rows]


def _by_month_and_outlet(articles: QuerySet) -> list[tuple]:
    """(month or None, outlet slug, outlet name, articles) of `articles`."""
    return list(
        articles.order_by()
        .annotate(month=TruncMonth("published_at"))
        .values_list("month", "outlet__slug", "outlet__name")
        .annotate(n=Count("pk"))
    )


def _co_mentioned(articles: QuerySet, entities: frozenset[str], limit: int) -> list[FacetValue]:
    """The entities named in the most of `articles` (their ids) but `entities`, ties by
    name. The caller bounds `articles`: every article of a common entity took seconds."""
    try:
        sql, params = articles.query.sql_with_params()
    except EmptyResultSet:
        return []
    # Only entities that can still place (those above the last place's count, once
    # `entities` are out) are read by name.
    with connections[articles.db].cursor() as cursor:
        cursor.execute(
            _CO_MENTIONED_SQL.format(articles=sql),
            (*params, limit + len(entities) - 1, sorted(entities), limit),
        )
        rows = cursor.fetchall()
    return [FacetValue(slug, name, n, kind=kind) for slug, name, kind, n in rows]


# Counted per entity id, then named: grouping every mention by the entities' slugs and
# names sorted the rows with their text, twice as slow (docs/benchmarks.md).
_CO_MENTIONED_SQL = """
WITH counted AS MATERIALIZED (
    SELECT m.entity_id, count(DISTINCT m.article_id) AS n
    FROM articles_mention m
    WHERE m.article_id IN ({articles})
    GROUP BY m.entity_id
)
SELECT e.slug, e.name, e.kind, c.n
FROM counted c JOIN articles_entity e ON e.id = c.entity_id
WHERE c.n >= coalesce((SELECT n FROM counted ORDER BY n DESC OFFSET %s LIMIT 1), 0)
  AND e.slug <> ALL(%s)
ORDER BY c.n DESC, e.name ASC
LIMIT %s
"""


def _page_rows(
    request: SearchRequest, matched_by: TextQuery | None, rows: list[tuple], capped: bool
) -> list[tuple]:
    """One page of (id, story id); `rows`: the sample, newest first (every match
    unless `capped`); `matched_by`: what else the request's articles must match."""
    text_query, sort = request.text_query, request.sort
    start, stop = request.offset, request.offset + request.limit
    if text_query is not None and sort == "relevance":
        ranking = ranked(text_query, [row[0] for row in rows])
        stories = {row[0]: row[4] for row in rows[:CANDIDATE_LIMIT]}  # those ranked
        return [(pk, stories[pk]) for pk in ranking.values_list("pk", flat=True)[start:stop]]
    if sort == "oldest":
        rows = _sample(request.articles, matched_by, stop, oldest=True) if capped else _oldest(rows)
    elif capped and stop > len(rows):
        rows = _sample(request.articles, matched_by, stop)
    return [(row[0], row[4]) for row in rows[start:stop]]


def _oldest(rows: list[tuple]) -> list[tuple]:
    """Newest-first sample rows in oldest-first order (undated last, as in oldest_first)."""
    dated = [row for row in rows if row[1] is not None]
    undated = [row for row in rows if row[1] is None]
    return dated[::-1] + sorted(undated, key=lambda row: row[0])


# --- Matching and ranking --------------------------------------------------


def _with_minimum_should_match(request: SearchRequest) -> SearchRequest:
    """`request` with its articles (and outlet facet base) narrowed to those whose own
    vector matches at least `minimum_should_match` of the text query's groups: the
    matches, each of which matches in its own vector."""

    def narrowed(articles: QuerySet | None) -> QuerySet | None:
        if articles is None:
            return None
        return _with_groups(articles, request.text_query, request.minimum_should_match)

    return replace(
        request,
        articles=narrowed(request.articles),
        outlet_facet_base=narrowed(request.outlet_facet_base),
    )


def _with_groups(articles: QuerySet, text_query: TextQuery, minimum: int) -> QuerySet:
    """`articles` whose own vector matches at least `minimum` of the query's groups:
    each group's matches found through the GIN index, then counted per article.
    Testing each group against each article read every article's vector
    (docs/benchmarks.md: questions typed as sentences)."""
    groups, params = [], []
    for group in text_query.parsed.groups:
        in_group = Article.objects.order_by().filter(search_vector=text_query.group_query(group))
        sql, group_params = in_group.values("pk").query.sql_with_params()
        groups.append(sql)
        params.extend(group_params)
    sql = _AT_LEAST_SQL.format(groups=" UNION ALL ".join(groups))
    # Only the groups' compiled SQL is formatted in; their values are parameters.
    return articles.filter(pk__in=RawSQL(sql, (*params, minimum)))  # noqa: S611


_AT_LEAST_SQL = "SELECT id FROM ({groups}) AS matched(id) GROUP BY id HAVING count(*) >= %s"


def matching_at_least(articles: QuerySet, text_query: TextQuery, minimum: int) -> QuerySet:
    """`matching`, of an article that matches at least `minimum` of the query's OR-ed
    groups (SearchRequest.minimum_should_match) in its own vector."""
    if minimum > 1:  # each of those matches in its own vector
        return _with_groups(articles, text_query, minimum)
    return matching(articles, text_query)


def matching(articles: QuerySet, text_query: TextQuery) -> QuerySet:
    """`articles` that match in their own vector or in one of their headed sections
    (entry headings are only in section vectors). An excluded word excludes the article
    wherever in it the word is, not only the entry that matched.

    A UNION of two GIN index scans: `vector @@ q OR id IN (...)` would make
    PostgreSQL test every article's vector. The search itself takes the two halves
    apart (`_sample`): the UNION hides the newest-first index from the planner."""
    either = _in_article(Article.objects.order_by(), text_query).values("pk")
    either = either.union(_section_matches(text_query).values("article_id"))
    return articles.filter(pk__in=either)


def _in_article(articles: QuerySet, text_query: TextQuery) -> QuerySet:
    """The half of `matching` whose own vector matches."""
    return articles.filter(search_vector=text_query.search_query)


def _in_a_section(articles: QuerySet, text_query: TextQuery) -> QuerySet:
    """The half of `matching` with a matching headed section."""
    return articles.filter(pk__in=_section_matches(text_query).values("article_id"))


def _section_matches(text_query: TextQuery) -> QuerySet:
    """Headed sections matching the query (less those of articles with an excluded word)."""
    # An article's vector holds its sections' bodies, so only a section's heading
    # can match where the article does not: the heading test is cheap and comes
    # first, sparing the vectors of heading-less sections (most of them).
    in_section = (
        Section.objects.order_by().exclude(heading="").filter(search_vector=text_query.search_query)
    )
    if (excluded := text_query.excluded_query) is not None:
        in_section = in_section.exclude(article__search_vector=excluded)
    return in_section


def ranked(text_query: TextQuery, candidates: list[int]) -> QuerySet:
    """The first CANDIDATE_LIMIT of `candidates` (ids of matches, newest first), most
    relevant first."""
    candidates = Article.objects.filter(pk__in=ids_param(candidates[:CANDIDATE_LIMIT]))
    return by_relevance(candidates, text_query)


def by_relevance(articles: QuerySet, text_query: TextQuery) -> QuerySet:
    """`articles` (matches of `text_query`) most relevant first: BM25
    (articles/ranking.py), the better of the article's and its best section's, plus a
    little per matching section; ties newest first."""
    return articles.alias(rank=archive_relevance(text_query)).order_by(
        F("rank").desc(), *newest_first()
    )


def archive_relevance(text_query: TextQuery) -> BM25Rank:
    """The relevance of an article matching `text_query`, as `by_relevance` orders by."""
    # An excluded word only filters; a term typed twice counts once.
    corpus = text_query.corpus
    terms = [
        (text_query.term_query(term), idf(corpus.articles, text_query.document_frequency(term)))
        for term in text_query.wanted_terms
    ]
    return BM25Rank(
        text_query.search_query,
        terms,
        mean_length=corpus.mean_length,
        section_bonus=SECTION_BONUS,
    )


# --- The bounded sample ----------------------------------------------------

# The outlet by id: its slug and name are looked up once per outlet (`_outlets_named`),
# not joined to every row of the sample (docs/benchmarks.md).
_SAMPLE_FIELDS = ("pk", "month", "outlet_id", "kind", "story_id")
# The two halves of a text match (`_sample`) also give the date, which orders their
# union, as microseconds since 1970: integers cost nothing to read, timestamps do.
_HALF_FIELDS = ("pk", "at", "month", "outlet_id", "kind", "story_id")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_WITHOUT_MICROSECONDS = itemgetter(0, *range(2, len(_HALF_FIELDS)))


def _publication_month():
    """The month of publication as "YYYY-MM", in the current time zone (as TruncMonth),
    made by PostgreSQL: parsing thousands of timestamps in Python is slow."""
    local = Func(
        Value(timezone.get_current_timezone_name()),
        F("published_at"),
        function="timezone",
        output_field=DateTimeField(),
    )
    return Func(local, Value("YYYY-MM"), function="to_char", output_field=CharField())


def publication_microseconds():
    """The moment of publication in microseconds since `_EPOCH` (exact), or None."""
    return Func(
        F("published_at"),
        template="(extract(epoch FROM %(expressions)s) * 1000000)::bigint",
        output_field=BigIntegerField(),
    )


def _sample(
    articles: QuerySet, text_query: TextQuery | None, limit: int, *, oldest: bool = False
) -> list[tuple]:
    """(pk, publication month, outlet id, kind, story id) of the first `limit`
    matches of `text_query` in `articles` (all of them without a text query), newest
    (or oldest) first: exactly what `matching(articles, text_query).order_by(...)[:limit]`
    gives. The month is "YYYY-MM", or None for an undated article.

    A text match is taken in its two halves, merged here: the article half walks the
    newest-first index and stops after `limit` rows."""
    order = oldest_first() if oldest else newest_first()
    articles = articles.annotate(month=_publication_month(), at=publication_microseconds())
    if text_query is None:
        return list(articles.order_by(*order).values_list(*_SAMPLE_FIELDS)[:limit])
    in_article = _in_article(articles, text_query)
    first = _rows(in_article.order_by(*order).values_list(*_HALF_FIELDS)[:limit])
    found = {row[0] for row in first}
    if len(first) == limit and (cut := first[-1][1]) is not None:
        cut = _EPOCH + timedelta(microseconds=cut)
        in_section = _past_the_cut(articles, text_query, cut, found, oldest=oldest)
    else:
        in_section = _in_a_section(articles, text_query)
    second = _rows(in_section.order_by(*order).values_list(*_HALF_FIELDS)[:limit])
    added = [row for row in second if row[0] not in found]  # usually none
    union = _in_order(first + added, oldest=oldest) if added else first
    return list(map(_WITHOUT_MICROSECONDS, union[:limit]))


def _rows(queryset: QuerySet) -> list[tuple]:
    """The rows of a values_list queryset as the database driver gives them: Django's
    own iteration is slower (docs/benchmarks.md)."""
    sql, params = queryset.query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:  # a replica when routed to one
        cursor.execute(sql, params)
        return cursor.fetchall()


def _past_the_cut(
    articles: QuerySet, text_query: TextQuery, cut: datetime, found: set[int], *, oldest: bool
) -> QuerySet:
    """The section half, less what cannot change the first `limit` of the union once
    the article half has filled them up to the date `cut`: articles on the far side
    of the cut (undated ones sort last either way), and those it found.

    Two ways to find them, chosen by the planner's row estimates (`_sections_first`):
    - Few articles past the cut: look up the request's articles after the cut by
      date, and their sections by article id. The cut is a literal the planner sees,
      so it can estimate how few articles are that recent. When the article half
      found most of them (a word in most articles: `said`), their ids are read
      first, and only the few it did not find are read with their sections.
    - Few matching headed sections (a word in a few percent of a large archive, whose
      cut lies years back): read those sections' article ids first, then the
      articles by id. Given the cut, the planner would read every article instead."""
    bound = "published_at__lte" if oldest else "published_at__gte"
    sections = _section_matches(text_query)
    past_the_cut = articles.order_by().filter(**{bound: cut})
    if _sections_first(sections, past_the_cut):
        ids = sections.values_list("article_id", flat=True).distinct()
        in_a_section = Q(pk__in=ids_param(set(ids) - found))
    else:
        past = {pk for (pk,) in _rows(past_the_cut.values_list("pk"))}
        unfound = past - found
        if len(unfound) < UNFOUND_SHARE * len(past):
            in_a_section = Q(pk__in=ids_param(unfound)) & Q(pk__in=sections.values("article_id"))
        else:
            in_a_section = Q(pk__in=sections.values("article_id")) & ~Q(pk__in=ids_param(found))
    return past_the_cut.filter(in_a_section)


def _sections_first(sections: QuerySet, past_the_cut: QuerySet) -> bool:
    """Whether reading the matching headed sections first is the cheaper way to the
    section half: by the planner's row estimates, one such section costs about as much
    as `SECTION_ROW_COST` articles past the cut (docs/benchmarks.md)."""
    return _estimated_rows(sections) * SECTION_ROW_COST < _estimated_rows(past_the_cut)


def _estimated_rows(queryset: QuerySet) -> float:
    """The planner's estimate of the rows `queryset` gives (planning only, no execution)."""
    sql, params = queryset.query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        (plan,) = cursor.fetchone()  # psycopg reads the JSON column into lists
    return plan[0]["Plan"]["Plan Rows"]


def _in_order(rows: list[tuple], *, oldest: bool) -> list[tuple]:
    """Half rows (pk, microseconds, ...) in `newest_first` (or `oldest_first`) order."""
    dated = sorted((row for row in rows if row[1] is not None), key=lambda row: (row[1], row[0]))
    undated = sorted((row for row in rows if row[1] is None), key=lambda row: row[0])
    if not oldest:
        dated.reverse()
        undated.reverse()
    return dated + undated


# --- Facets from the sample ------------------------------------------------


def _outlets_named(ids: Iterable[int | None]) -> dict[int, tuple[str, str]]:
    """{id: (slug, name)} of the outlets with these ids (None: no outlet)."""
    named = Outlet.objects.filter(pk__in=[pk for pk in ids if pk is not None])
    return {pk: (slug, name) for pk, slug, name in named.values_list("pk", "slug", "name")}


def _outlet_facet(counts: Counter, outlets: dict, selection: Selection) -> list:
    """The outlet facet from the sample's matches in any outlet counted by outlet id;
    `outlets`: their slugs and names (`_outlets_named`)."""
    counted = (outlets[pk] + (n,) for pk, n in counts.items() if pk in outlets)
    return outlet_values(counted, selection)


def _month_facet(rows: list[tuple], selection: Selection) -> list:
    """Matches per month of publication (in the current time zone, as TruncMonth)."""
    return month_values(Counter(row[1] for row in rows if row[1] is not None), selection)
