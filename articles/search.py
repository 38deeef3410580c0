"""Full-text search over the archive: small functions, no view code.

The pieces, in the order a search runs them:

1. `parse_query` reads PostgreSQL websearch syntax (``"exact phrase"``, ``or``,
   ``-exclude``) plus a prefix form (``leopard*``) into OR-ed groups of AND-ed
   terms, the same grouping `websearch_to_tsquery` makes, so a topic's query
   (tagged with websearch_to_tsquery in articles/topics.py) means the same here.
2. `build_text_query` looks up other spellings of each word and phrase in one
   query: entity names and aliases (Entity.aliases, GIN-indexed), person
   surnames, and the gazetteer's transliteration table (Kiev / Kyiv).
3. `matching` keeps the articles whose own vector matches or one of whose
   sections matches (a live-blog entry heading is only in the section vector).
4. `run_search` ranks at most CANDIDATE_LIMIT candidates, fetches one page,
   then computes snippets, section hits, tags and facets in a fixed number of
   grouped queries: the query count does not grow with the number of results.

Ranking, and why it stays bounded on a large archive: BM25 (articles/ranking.py,
with document frequencies the database keeps) must read every candidate's
(toasted) vector, so a word found in most of a million articles would make ranking
read them all. The candidates are therefore the newest CANDIDATE_LIMIT matches (a
cheap top-N on published_at); relevance orders those.
`SearchResults.bounded` says when the cut applied, and the page tells the reader
to narrow the search or sort by date. The count and facets are exact up to
SAMPLE_SIZE matches; past that the count is capped ("10,000+",
`SearchResults.count_capped`) and the outlet and month facets count the newest
SAMPLE_SIZE matches, the topic and entity facets the newest FACET_SAMPLE
(`facets_sampled`): counting every match of a common word would read every vector.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.contrib.postgres.search import (
    SearchHeadline,
    SearchQuery,
    SearchQueryCombinable,
    SearchQueryField,
    SearchRank,
)
from django.core.exceptions import EmptyResultSet
from django.db import connections, router
from django.db.models import (
    BigIntegerField,
    CharField,
    Count,
    DateTimeField,
    F,
    Func,
    Q,
    QuerySet,
    Sum,
    Value,
    Window,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import (
    Coalesce,
    Left,
    NullIf,
    RowNumber,
    Upper,
)
from django.db.models.lookups import In
from django.db.models.sql.where import WhereNode
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from articles.models import Article, ArticleTopic, Entity, Mention, Section
from articles.ranking import BM25Rank
from articles.search_vectors import SEARCH_CONFIG

try:  # The ingest gazetteer's transliteration table (Kiev / Kyiv, Kharkov / Kharkiv ...).
    from articles.ingest.gazetteer import lookup as _gazetteer_entry
    from articles.ingest.gazetteer import variants_of as _gazetteer_variants
except ImportError:  # pragma: no cover - only while the gazetteer is missing
    _gazetteer_entry = _gazetteer_variants = None

# Used only without the gazetteer: the transliterations readers search most.
_FALLBACK_VARIANTS = (
    ("Kyiv", "Kiev"),
    ("Kharkiv", "Kharkov"),
    ("Zaporizhzhia", "Zaporozhye"),
    ("Mykolaiv", "Nikolaev"),
    ("Luhansk", "Lugansk"),
    ("Odesa", "Odessa"),
)

PER_PAGE = 20
MAX_PAGE = 500
# Ranking reads each candidate's vector and its sections' (about 28 µs per candidate
# at 100k articles: 5,000 took 140 ms); past this many matches only the newest are
# ranked. The judged IR collections (1,400-1,460 documents) fit under it whole.
CANDIDATE_LIMIT = 2000
# Past this many matches the count is shown as "10,000+" and the outlet and month
# facets count the newest SAMPLE_SIZE matches only (SearchResults.count_capped).
SAMPLE_SIZE = 10_000
# The topic and entity facets read every tag and mention of each article they count
# (about 1 µs per mention, ~20 per article: 10,000 articles took 175 ms at 100k), so
# they count the newest FACET_SAMPLE matches (SearchResults.facets_sampled).
FACET_SAMPLE = 2000
# How many articles past the sample's cut cost as much to read as one matching headed
# section (`_sections_first`).
SECTION_ROW_COST = 7
# ts_rank weights for D, C, B, A: title (A) > kicker, dek, entry heading (B) > body (C).
# Results are ordered by BM25 (articles/ranking.py); these only choose which of a
# result's matching sections are shown first (`_section_hits`).
RANK_WEIGHTS = [0.1, 0.1, 0.4, 1.0]
# Up to this much is added for the number of matching sections (saturating).
SECTION_BONUS = 0.1
SECTIONS_PER_RESULT = 3
FACET_SIZE = 10
ENTITIES_PER_KIND = 5
SUGGEST_BELOW = 3  # "did you mean" when fewer results than this
MAX_TERMS = 16
MAX_SPELLINGS = 12  # per term, the term itself included
HEADLINE_CHARS = 100_000  # ts_headline reads at most this much of a body

SORTS = {"relevance": "Relevance", "newest": "Newest first", "oldest": "Oldest first"}

# ts_headline marks matches with these; its whole output is then escaped and only
# they become <mark>, so article text never reaches the page as HTML.
_START, _STOP = "\ue000", "\ue001"
_HEADLINE = {
    "config": SEARCH_CONFIG,
    "start_sel": _START,
    "stop_sel": _STOP,
}

WORD, PHRASE, PREFIX = "word", "phrase", "prefix"

_TOKEN = re.compile(r'(?P<neg>-*)(?:"(?P<phrase>[^"]*)"?|(?P<word>[^\s"]+))')
_HAS_WORD = re.compile(r"\w")
_NOT_SURNAME = {"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"}


class QueryError(ValueError):
    """A query that cannot be searched; the message says what to change."""


# --- Parsing ---------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    text: str  # as typed, without quotes, minus sign or star
    kind: str = WORD  # WORD, PHRASE or PREFIX
    negated: bool = False


@dataclass(frozen=True)
class ParsedQuery:
    """OR-ed groups of AND-ed terms: `a b or c` is (a and b) or c, as in websearch_to_tsquery."""

    groups: tuple[tuple[Term, ...], ...] = ()

    @property
    def terms(self) -> list[Term]:
        return [term for group in self.groups for term in group]

    def __bool__(self) -> bool:
        return bool(self.groups)


def parse_query(text: str) -> ParsedQuery:
    """Read websearch syntax plus `word*`. Raises QueryError for unsearchable queries."""
    groups: list[tuple[Term, ...]] = []
    current: list[Term] = []
    for match in _TOKEN.finditer(text or ""):
        negated = bool(match["neg"])
        if match["phrase"] is not None:
            term = Term(" ".join(match["phrase"].split()), PHRASE, negated)
        elif match["word"].lower() == "or" and not negated:
            if current:
                groups.append(tuple(current))
                current = []
            continue
        elif match["word"].endswith("*"):
            term = Term(_prefix_stem(match["word"]), PREFIX, negated)
        else:
            term = Term(match["word"], WORD, negated)
        if _HAS_WORD.search(term.text):
            current.append(term)
    if current:
        groups.append(tuple(current))
    parsed = ParsedQuery(tuple(groups))
    _check(parsed)
    return parsed


def _prefix_stem(word: str) -> str:
    # Only letters and digits reach to_tsquery: nothing else can be an operator there.
    return "".join(ch for ch in word if ch.isalnum())


def _check(parsed: ParsedQuery) -> None:
    if len(parsed.terms) > MAX_TERMS:
        raise QueryError(f"Too many search terms: use at most {MAX_TERMS}.")
    for group in parsed.groups:
        if all(term.negated for term in group):
            excluded = " ".join(_typed(term) for term in group)
            raise QueryError(
                f"“{excluded}” only says what to leave out: add a word to look for, "
                f"as in “Ukraine {excluded}”."
            )


def _typed(term: Term) -> str:
    text = f'"{term.text}"' if term.kind == PHRASE else term.text
    text = f"{text}*" if term.kind == PREFIX else text
    return f"-{text}" if term.negated else text


# --- Spelling variants -----------------------------------------------------


@dataclass(frozen=True)
class TextQuery:
    """A parsed query with the other spellings found for its terms."""

    parsed: ParsedQuery
    spellings: dict[Term, tuple[str, ...]] = field(default_factory=dict)

    def variants(self, term: Term) -> tuple[str, ...]:
        """Spellings other than the one typed."""
        typed = _fold(term.text)
        return tuple(s for s in self.spellings.get(term, ()) if _fold(s) != typed)

    @property
    def search_query(self) -> SearchQueryCombinable:
        return _or(_and(self._term_query(term) for term in group) for group in self.parsed.groups)

    @property
    def excluded_query(self) -> SearchQueryCombinable | None:
        """Any excluded term (with its spellings), or None when nothing is excluded."""
        excluded = [t for t in self.parsed.terms if t.negated]
        if not excluded:
            return None
        return _or(self._term_query(term, negate=False) for term in excluded)

    def _term_query(self, term: Term, *, negate: bool = True) -> SearchQueryCombinable:
        if term.kind == PREFIX:
            query = SearchQuery(f"{term.text}:*", search_type="raw", config=SEARCH_CONFIG)
        else:
            forms = (term.text, *self.variants(term))
            query = _or(
                SearchQuery(form, search_type="phrase", config=SEARCH_CONFIG) for form in forms
            )
        return _Not(query) if term.negated and negate else query

    def describe(self) -> str:
        """The query as understood, in plain words."""
        groups = [self._describe_group(group) for group in self.parsed.groups]
        return "Articles with " + "; or with ".join(groups) + "."

    def _describe_group(self, group: tuple[Term, ...]) -> str:
        wanted = [self._describe_term(t) for t in group if not t.negated]
        unwanted = [self._describe_term(t) for t in group if t.negated]
        text = _join(wanted, "and")
        if unwanted:
            text += ", but without " + _join(unwanted, "or")
        return text

    def _describe_term(self, term: Term) -> str:
        if term.kind == PREFIX:
            return f"a word starting with “{term.text}”"
        text = f"the exact phrase “{term.text}”" if term.kind == PHRASE else f"“{term.text}”"
        variants = self.variants(term)
        if variants:
            text += " (or " + ", ".join(variants[:4]) + (", …" if len(variants) > 4 else "") + ")"
        return text


class _Not(SearchQueryCombinable, Func):
    """!! around any query; Django's own `~` only negates a single SearchQuery."""

    template = "!!(%(expressions)s)"
    output_field = SearchQueryField()
    config = None


def _or(queries):
    queries = list(queries)
    result = queries[0]
    for query in queries[1:]:
        result = result | query
    return result


def _and(queries):
    queries = list(queries)
    result = queries[0]
    for query in queries[1:]:
        result = result & query
    return result


def _join(items: list[str], word: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {word} " + items[-1]


def build_text_query(text: str) -> TextQuery | None:
    """Parse `text` and find other spellings of its terms (one query). None for no text."""
    parsed = parse_query(text)
    if not parsed:
        return None
    expandable = [t for t in parsed.terms if t.kind != PREFIX]
    # Spellings are looked up without accents: the vectors ignore them too.
    from_entities = _entity_spellings({unaccent(t.text) for t in expandable})
    spellings = {}
    for term in expandable:
        plain = unaccent(term.text)
        canonical, forms = from_entities.get(_fold(plain), (set(), set()))
        forms = forms | _transliterations(plain)
        if _gazetteer_entry is not None and (entry := _gazetteer_entry(plain)):
            canonical = canonical | {entry.name}
        spellings[term] = _ordered(term.text, canonical, forms)
    return TextQuery(parsed, spellings)


def unaccent(text: str) -> str:
    """ "Zélensky" -> "Zelensky" (letters without their combining marks)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _fold(text: str) -> str:
    return unaccent(text).casefold()


def _ordered(typed: str, canonical: set[str], forms: set[str]) -> tuple[str, ...]:
    """The typed spelling, then canonical names, then the other spellings, shortest first."""
    ranked = sorted(forms | canonical, key=lambda f: (f not in canonical, len(f), f))
    unique = {}
    for form in ranked:
        unique.setdefault(_fold(form), form)
    unique.pop(_fold(typed), None)
    return (typed, *list(unique.values())[: MAX_SPELLINGS - 1])


def _transliterations(term: str) -> set[str]:
    if _gazetteer_variants is not None:
        return _gazetteer_variants(term)
    for variants in _FALLBACK_VARIANTS:
        if _fold(term) in {_fold(v) for v in variants}:
            return set(variants)
    return {term}


def _entity_spellings(keys: set[str]) -> dict[str, tuple[set[str], set[str]]]:
    """folded term -> (canonical names, all spellings) of the entities it names:
    by name, alias, or (one-word term) a person's surname ("Zelenskyy" -> Volodymyr Zelensky)."""
    if not keys:
        return {}
    casings = sorted({c for k in keys for c in (k, k.lower(), k.upper(), k.title())})
    condition = Q(upper_name__in=sorted({k.upper() for k in keys})) | Q(aliases__overlap=casings)
    for key in keys:
        if " " not in key:
            condition |= Q(kind=Entity.Kind.PERSON, upper_name__endswith=f" {key.upper()}")
    rows = (
        Entity.objects.alias(upper_name=Upper("name"))
        .filter(condition)
        .values_list("name", "kind", "aliases")
    )
    found: dict[str, tuple[set[str], set[str]]] = {}
    for name, kind, aliases in rows:
        forms = {name, *aliases}
        surnames = {surname(f) for f in forms} - {""} if kind == Entity.Kind.PERSON else set()
        folded = {_fold(f) for f in forms | surnames}
        for key in keys:
            if _fold(key) in folded:
                canonical, spellings = found.setdefault(_fold(key), (set(), set()))
                canonical.add(name)
                spellings.update(forms | surnames)
    return found


def surname(name: str) -> str:
    words = [w for w in name.split() if w.casefold() not in _NOT_SURNAME]
    return words[-1] if len(words) > 1 and len(words[-1]) >= 3 else ""


# --- Matching and ranking --------------------------------------------------


def matching(articles: QuerySet, text_query: TextQuery) -> QuerySet:
    """Articles matching in their own vector or in one of their headed sections
    (entry headings are only in section vectors). An excluded word excludes the article
    wherever in it the word is, not only the entry that matched.

    A UNION of two GIN index scans: `vector @@ q OR id IN (...)` would make
    PostgreSQL test every article's vector. The UNION is tagged with the query so
    that `run_search` can take it apart again (`_match_parts`): the UNION hides the
    newest-first index from the planner, the article half alone does not."""
    in_article = Article.objects.order_by().filter(search_vector=text_query.search_query)
    either = in_article.values("pk").union(_section_matches(text_query).values("article_id"))
    either.query.search_text_query = text_query
    return articles.filter(pk__in=either)


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


def _match_parts(queryset: QuerySet) -> tuple[QuerySet, QuerySet] | None:
    """`queryset` (filtered by `matching`) split in two: the articles whose own vector
    matches, and those with a matching headed section. Their union is `queryset`.
    None when `queryset` has no text match in it."""
    in_article = _replace_text_match(queryset, lambda tq: Q(search_vector=tq.search_query))
    in_section = _replace_text_match(
        queryset, lambda tq: Q(pk__in=_section_matches(tq).values("article_id"))
    )
    if in_article is None or in_section is None:
        return None
    return in_article, in_section


def _replace_text_match(queryset: QuerySet, make) -> QuerySet | None:
    """`queryset` with its `matching` condition replaced by `make(text_query)`, or None
    unless it has exactly one."""
    clone = queryset.all()
    found = []

    def swap(node):
        if isinstance(node, WhereNode):
            copy = node.create(connector=node.connector, negated=node.negated)
            copy.children = [swap(child) for child in node.children]
            return copy
        text_query = getattr(getattr(node, "rhs", None), "search_text_query", None)
        if isinstance(node, In) and text_query is not None:
            found.append(text_query)
            return make(text_query).resolve_expression(clone.query)
        return node

    clone.query.where = swap(clone.query.where)
    return clone if len(found) == 1 else None


def newest_first():
    return [F("published_at").desc(nulls_last=True), F("pk").desc()]


def oldest_first():
    return [F("published_at").asc(nulls_last=True), F("pk").asc()]


def ranked(
    matches: QuerySet, text_query: TextQuery, candidates: list[int] | None = None
) -> QuerySet:
    """The newest CANDIDATE_LIMIT matches, most relevant first: BM25 (articles/ranking.py),
    the better of the article's and its best section's, plus a little per matching
    section; ties newest first. `candidates`: those matches' ids when already known
    (run_search's sample)."""
    if candidates is None:
        candidates = matches.order_by(*newest_first()).values("pk")[:CANDIDATE_LIMIT]
    else:
        candidates = ids_param(candidates[:CANDIDATE_LIMIT])
    # An excluded word only filters; a term typed twice counts once.
    counted = dict.fromkeys(t for t in text_query.parsed.terms if not t.negated)
    terms = [(text_query._term_query(term), term.text) for term in counted]
    rank = BM25Rank(text_query.search_query, terms, section_bonus=SECTION_BONUS)
    return (
        Article.objects.filter(pk__in=candidates)
        .alias(rank=rank)
        .order_by(F("rank").desc(), *newest_first())
    )


def ordered(matches: QuerySet, text_query: TextQuery | None, sort: str) -> QuerySet:
    if sort == "oldest":
        return matches.order_by(*oldest_first())
    if sort == "newest" or text_query is None:
        return matches.order_by(*newest_first())
    return ranked(matches, text_query)


def ids_param(ids: Iterable[int]) -> RawSQL:
    """A list of ids as one array parameter (`pk__in=ids_param(...)`), not one per id."""
    return RawSQL("SELECT unnest(%s::bigint[])", (list(ids),))


# --- The bounded sample ----------------------------------------------------

_SAMPLE_FIELDS = ("pk", "month", "outlet__slug", "outlet__name")
# The two halves of a text match (`_sample`) also give the date, which orders their
# union, as microseconds since 1970: integers cost nothing to read, timestamps do.
_HALF_FIELDS = ("pk", "at", "month", "outlet__slug", "outlet__name")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _publication_month():
    """The month of publication as "YYYY-MM", in the current time zone (as TruncMonth),
    made by PostgreSQL: parsing 10,000 timestamps in Python cost a search 30-115 ms."""
    local = Func(
        Value(timezone.get_current_timezone_name()),
        F("published_at"),
        function="timezone",
        output_field=DateTimeField(),
    )
    return Func(local, Value("YYYY-MM"), function="to_char", output_field=CharField())


def _publication_microseconds():
    """The moment of publication in microseconds since `_EPOCH` (exact), or None."""
    return Func(
        F("published_at"),
        template="(extract(epoch FROM %(expressions)s) * 1000000)::bigint",
        output_field=BigIntegerField(),
    )


def _sample(queryset: QuerySet, limit: int, *, oldest: bool = False) -> list[tuple]:
    """(pk, publication month, outlet slug, outlet name) of the first `limit` articles
    of `queryset`, newest (or oldest) first: exactly what `queryset.order_by(...)[:limit]`
    gives. The month is "YYYY-MM", or None for an undated article.

    A text match is taken in its two halves (`_match_parts`), merged here: the article
    half walks the newest-first index and stops after `limit` rows."""
    order = oldest_first() if oldest else newest_first()
    queryset = queryset.annotate(month=_publication_month(), at=_publication_microseconds())
    parts = _match_parts(queryset)
    if parts is None:
        return list(queryset.order_by(*order).values_list(*_SAMPLE_FIELDS)[:limit])
    in_article, in_section = parts
    first = _rows(in_article.order_by(*order).values_list(*_HALF_FIELDS)[:limit])
    found = {row[0] for row in first}
    if len(first) == limit and (cut := first[-1][1]) is not None:
        cut = _EPOCH + timedelta(microseconds=cut)
        in_section = _past_the_cut(queryset, cut, found, oldest=oldest)
    second = _rows(in_section.order_by(*order).values_list(*_HALF_FIELDS)[:limit])
    added = [row for row in second if row[0] not in found]  # usually none
    union = _in_order(first + added, oldest=oldest) if added else first
    return [(pk, *rest) for pk, _, *rest in union[:limit]]


def _rows(queryset: QuerySet) -> list[tuple]:
    """The rows of a values_list queryset as the database driver gives them: Django's
    own iteration costs about 2 µs a row, 10-15 ms for a full sample."""
    sql, params = queryset.query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:  # a replica when routed to one
        cursor.execute(sql, params)
        return cursor.fetchall()


def _past_the_cut(queryset: QuerySet, cut: datetime, found: set[int], *, oldest: bool) -> QuerySet:
    """The section half, less what cannot change the first `limit` of the union once
    the article half has filled them up to the date `cut`: articles on the far side
    of the cut (undated ones sort last either way), and those it found.

    Two ways to find them, chosen by the planner's row estimates (`_sections_first`):
    - Few articles past the cut (a word in most articles: `said`): look up the
      articles after the cut by date, and their sections by article id. The cut is
      a literal the planner sees, so it can estimate how few articles are that
      recent: the sample for `said` at 100k went from 317 to 194 ms.
    - Few matching headed sections (a word in a few percent of a large archive, whose
      cut lies years back): read those sections' article ids first, then the
      articles by id. Given the cut, the planner would read every article instead:
      at 1M, 771 ms for `hours` where this takes 101 (66 for the sections' article
      ids, 35 for the articles)."""
    bound = "published_at__lte" if oldest else "published_at__gte"
    past_the_cut = Article.objects.filter(**{bound: cut})

    def in_a_matching_section(text_query: TextQuery) -> Q:
        sections = _section_matches(text_query)
        if _sections_first(sections, past_the_cut):
            ids = sections.values_list("article_id", flat=True).distinct()
            return Q(pk__in=ids_param(set(ids) - found))
        return Q(pk__in=sections.values("article_id")) & ~Q(pk__in=ids_param(found))

    return _replace_text_match(queryset, in_a_matching_section).filter(**{bound: cut})


def _sections_first(sections: QuerySet, past_the_cut: QuerySet) -> bool:
    """Whether reading the matching headed sections first is the cheaper way to the
    section half: by the planner's row estimates, one such section costs about as much
    as `SECTION_ROW_COST` articles past the cut (measured at 1M for `hours`: 8,517
    sections read in 190 ms, 22 µs each; 250,000 articles past the cut in 770 ms,
    3 µs each)."""
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
)


def for_list(articles: QuerySet) -> QuerySet:
    """Only what a result list shows: never the body or the (large) search vector."""
    return articles.select_related("outlet").only(*LIST_FIELDS)


# --- Running a search ------------------------------------------------------


@dataclass
class SectionHit:
    anchor: str
    heading: str
    heading_html: SafeString
    posted_at: datetime | None
    snippet_html: SafeString
    url: str


@dataclass
class Hit:
    article: Article
    title_html: SafeString
    snippet_html: SafeString
    sections: list[SectionHit] = field(default_factory=list)
    section_count: int = 0
    topics: list[dict] = field(default_factory=list)  # {"slug", "name"}
    entities: list[dict] = field(default_factory=list)  # {"slug", "name", "kind"}


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool = False
    kind: str = ""


@dataclass
class Facets:
    outlet: list[FacetValue] = field(default_factory=list)
    topic: list[FacetValue] = field(default_factory=list)
    entity: list[FacetValue] = field(default_factory=list)
    month: list[FacetValue] = field(default_factory=list)

    def entity_by_kind(self) -> list[tuple[str, list[FacetValue]]]:
        labels = dict(Entity.Kind.choices)
        groups: dict[str, list[FacetValue]] = defaultdict(list)
        for value in self.entity:
            groups[value.kind].append(value)
        return [(labels.get(kind, kind), groups[kind]) for kind in labels if groups.get(kind)]


@dataclass
class SearchResults:
    text_query: TextQuery | None
    count: int
    page: int
    num_pages: int
    hits: list[Hit]
    facets: Facets
    suggestion: str | None = None
    bounded: bool = False  # relevance ranked only the newest CANDIDATE_LIMIT matches
    per_page: int = PER_PAGE
    # More than SAMPLE_SIZE matches: `count` is SAMPLE_SIZE ("10,000+"), not the total.
    count_capped: bool = False
    # Some facets counted only the newest matches: topics and entities past
    # FACET_SAMPLE matches, outlets and months past SAMPLE_SIZE (when count_capped, or
    # when the outlet facet's base, the matches in any outlet, passed SAMPLE_SIZE).
    facets_sampled: bool = False
    facet_sample: int = FACET_SAMPLE
    outlets_sampled: bool = False  # the outlet and month facets counted `sample_size`
    sample_size: int = SAMPLE_SIZE

    @property
    def tags_sampled(self) -> bool:
        """The topic and entity facets counted the newest `facet_sample` matches only."""
        return self.count > self.facet_sample

    @property
    def count_label(self) -> str:
        """The count for people: "10,000+" when capped."""
        return f"{self.count:,}+" if self.count_capped else f"{self.count:,}"

    @property
    def has_next(self) -> bool:
        return self.page < self.num_pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def first_index(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.hits else 0

    @property
    def last_index(self) -> int:
        return (self.page - 1) * self.per_page + len(self.hits)


class PageOutOfRange(ValueError):
    pass


@dataclass
class Selection:
    """The filters in force, for marking facet values as selected."""

    outlets: frozenset[str] = frozenset()
    topics: frozenset[str] = frozenset()
    entities: frozenset[str] = frozenset()
    date_from: date | None = None
    date_to: date | None = None


def run_search(
    matches: QuerySet,
    *,
    text_query: TextQuery | None,
    sort: str = "relevance",
    page: int = 1,
    outlet_facet_base: QuerySet | None = None,
    selection: Selection | None = None,
    per_page: int = PER_PAGE,
) -> SearchResults:
    """One page of results with facets. `matches`: public articles, filtered and matched.
    `outlet_facet_base`: the same without the outlet filter (outlets are alternatives).

    Everything starts from one sample: the newest SAMPLE_SIZE (+1) matches, taken
    along the newest-first index. Up to SAMPLE_SIZE matches it is every match, so the
    count and facets are exact; past it the count is capped and the facets are
    counted over the sample (topics and entities over its first FACET_SAMPLE). The
    relevance candidates are its first CANDIDATE_LIMIT."""
    selection = selection or Selection()
    size = max(SAMPLE_SIZE, CANDIDATE_LIMIT)
    separate_base = outlet_facet_base is not None and bool(selection.outlets)
    base_rows = _sample(outlet_facet_base if separate_base else matches, size + 1)
    base_capped = len(base_rows) > size
    if not separate_base:
        rows = base_rows
    elif not base_capped:  # the matches are the base's rows in the selected outlets
        rows = [row for row in base_rows if row[2] in selection.outlets]
    else:
        rows = _sample(matches, size + 1)
    count_capped = len(rows) > size
    rows, base_rows = rows[:size], base_rows[:size]
    ids = [row[0] for row in rows]
    count = len(ids)
    bounded = text_query is not None and sort == "relevance" and count > CANDIDATE_LIMIT
    reachable = min(count, CANDIDATE_LIMIT) if bounded else count
    num_pages = max(1, min(MAX_PAGE, math.ceil(reachable / per_page)))
    if page > num_pages:
        raise PageOutOfRange(f"There is no page {page}: the last page is {num_pages}.")
    offset = (page - 1) * per_page
    articles = _page(matches, text_query, sort, rows, count_capped, offset, per_page)
    hits = _hits(articles, text_query)
    suggestion = None
    if text_query is not None and count < SUGGEST_BELOW:
        suggestion = suggest(text_query)
    facet_ids = ids_param(ids[:FACET_SAMPLE])
    return SearchResults(
        text_query=text_query,
        count=count,
        page=page,
        num_pages=num_pages,
        hits=hits,
        facets=Facets(
            outlet=_outlet_facet(base_rows, selection),
            topic=topic_facet(Article.objects.filter(pk__in=facet_ids), selection.topics),
            entity=entity_facet(Article.objects.filter(pk__in=facet_ids), selection.entities),
            month=_month_facet(rows, selection),
        ),
        suggestion=suggestion,
        bounded=bounded,
        per_page=per_page,
        count_capped=count_capped,
        facets_sampled=count_capped or base_capped or count > FACET_SAMPLE,
        facet_sample=FACET_SAMPLE,
        outlets_sampled=count_capped or base_capped,
        sample_size=SAMPLE_SIZE,
    )


def _page(matches, text_query, sort, rows, capped, offset, per_page) -> list[Article]:
    """One page of articles; `rows`: the sample, newest first (every match unless `capped`)."""
    if text_query is not None and sort == "relevance":
        candidates = [row[0] for row in rows]
        ranking = ranked(matches, text_query, candidates)
        return list(for_list(ranking)[offset : offset + per_page])
    if sort == "oldest":
        rows = _sample(matches, offset + per_page, oldest=True) if capped else _oldest(rows)
    elif capped and offset + per_page > len(rows):
        rows = _sample(matches, offset + per_page)
    ids = [row[0] for row in rows[offset : offset + per_page]]
    found = {a.pk: a for a in for_list(Article.objects.filter(pk__in=ids))}
    return [found[pk] for pk in ids if pk in found]


def _oldest(rows: list[tuple]) -> list[tuple]:
    """Newest-first sample rows in oldest-first order (undated last, as in oldest_first)."""
    dated = [row for row in rows if row[1] is not None]
    undated = [row for row in rows if row[1] is None]
    return dated[::-1] + sorted(undated, key=lambda row: row[0])


def _hits(articles: list[Article], text_query: TextQuery | None) -> list[Hit]:
    if not articles:
        return []
    ids = [a.pk for a in articles]
    search_query = text_query.search_query if text_query else None
    snippets = _article_snippets(ids, search_query)
    sections = _section_hits(articles, search_query) if search_query is not None else {}
    topics = _topics_of(ids)
    entities = _entities_of(ids)
    hits = []
    for article in articles:
        title_html, snippet_html = snippets[article.pk]
        section_hits, section_count = sections.get(article.pk, ([], 0))
        hits.append(
            Hit(
                article=article,
                title_html=title_html,
                snippet_html=snippet_html,
                sections=section_hits,
                section_count=section_count,
                topics=topics.get(article.pk, []),
                entities=entities.get(article.pk, []),
            )
        )
    return hits


def highlight(text: str) -> SafeString:
    """ts_headline output -> HTML: escape everything, then turn the markers into <mark>."""
    escaped = html.escape(" ".join((text or "").split()), quote=True)
    marked = re.sub(f"{_START}(.*?){_STOP}", r"<mark>\1</mark>", escaped, flags=re.DOTALL)
    return mark_safe(marked.replace(_START, "").replace(_STOP, ""))  # noqa: S308 - escaped above


def _article_snippets(ids: list[int], search_query) -> dict[int, tuple[SafeString, SafeString]]:
    """Highlighted title and snippet, for the page's articles only."""
    text = Coalesce(NullIf(F("dek"), Value("")), Left("body", HEADLINE_CHARS))
    if search_query is None:
        rows = Article.objects.filter(pk__in=ids).values_list("pk", "title", Left(text, 320))
        return {pk: (highlight(title), highlight(_trim(lead))) for pk, title, lead in rows}
    rows = Article.objects.filter(pk__in=ids).values_list(
        "pk",
        SearchHeadline("title", search_query, highlight_all=True, **_HEADLINE),
        SearchHeadline(
            Left("body", HEADLINE_CHARS),
            search_query,
            max_words=35,
            min_words=15,
            max_fragments=2,
            fragment_delimiter=" … ",
            **_HEADLINE,
        ),
    )
    return {pk: (highlight(title), highlight(snippet)) for pk, title, snippet in rows}


def _trim(text: str) -> str:
    text = " ".join((text or "").split())
    return text if len(text) < 300 else text[: text.rfind(" ", 0, 300)] + " …"


def _section_hits(articles: list[Article], search_query) -> dict[int, tuple[list, int]]:
    """The best-ranked matching sections of each article (two queries: which, then snippets)."""
    best = (
        Section.objects.filter(article_id__in=[a.pk for a in articles], search_vector=search_query)
        .annotate(rank=SearchRank(F("search_vector"), search_query, weights=RANK_WEIGHTS))
        .annotate(
            row=Window(
                RowNumber(),
                partition_by=F("article_id"),
                order_by=[F("rank").desc(), F("position").asc()],
            ),
            total=Window(Count("pk"), partition_by=F("article_id")),
        )
        .filter(row__lte=SECTIONS_PER_RESULT)
        .values_list("pk", "article_id", "total", "row")
    )
    order = {}
    totals = {}
    for pk, article_id, total, row in best:
        order[pk] = row
        totals[article_id] = total
    if not order:
        return {}
    rows = Section.objects.filter(pk__in=order).values_list(
        "pk",
        "article_id",
        "anchor",
        "heading",
        "posted_at",
        SearchHeadline("heading", search_query, highlight_all=True, **_HEADLINE),
        SearchHeadline(
            Left("body", HEADLINE_CHARS),
            search_query,
            max_words=30,
            min_words=12,
            max_fragments=1,
            **_HEADLINE,
        ),
    )
    urls = {a.pk: a.get_absolute_url() for a in articles}
    found: dict[int, list[tuple[int, SectionHit]]] = defaultdict(list)
    for pk, article_id, anchor, heading, posted_at, heading_hl, snippet in rows:
        hit = SectionHit(
            anchor=anchor,
            heading=heading,
            heading_html=highlight(heading_hl),
            posted_at=posted_at,
            snippet_html=highlight(snippet),
            url=f"{urls[article_id]}#{anchor}",
        )
        found[article_id].append((order[pk], hit))
    return {
        article_id: ([hit for _, hit in sorted(pairs, key=lambda p: p[0])], totals[article_id])
        for article_id, pairs in found.items()
    }


def _topics_of(ids: list[int]) -> dict[int, list[dict]]:
    rows = (
        ArticleTopic.objects.filter(article_id__in=ids, excluded=False)
        .order_by("topic__name")
        .values_list("article_id", "topic__slug", "topic__name")
    )
    found = defaultdict(list)
    for article_id, slug, name in rows:
        found[article_id].append({"slug": slug, "name": name})
    return found


def _entities_of(ids: list[int]) -> dict[int, list[dict]]:
    """Each article's entities, most mentioned first."""
    rows = (
        Mention.objects.filter(article_id__in=ids)
        .values("article_id", "entity__slug", "entity__name", "entity__kind")
        .annotate(mentions=Sum("count"))
        .order_by("article_id", "-mentions", "entity__name")
    )
    found = defaultdict(list)
    for row in rows:
        found[row["article_id"]].append(
            {"slug": row["entity__slug"], "name": row["entity__name"], "kind": row["entity__kind"]}
        )
    return found


# --- Facets ----------------------------------------------------------------


def _outlet_facet(rows: list[tuple], selection: Selection) -> list[FacetValue]:
    """The outlet facet from sample rows of the matches in any outlet.

    Outlets are alternatives (outlet=a&outlet=b is either), so their counts come
    from the matches before the outlet filter; the count and the months keep only
    the selected outlets. Topics and entities narrow (all must apply), so their
    facets count within the results (`topic_facet`, `entity_facet`)."""
    by_outlet: dict[str, list] = {}
    for _pk, _month, slug, name in rows:
        if slug is not None:
            by_outlet.setdefault(slug, [name, 0])[1] += 1
    ranked_outlets = sorted(by_outlet.items(), key=lambda item: (-item[1][1], item[1][0]))
    return [
        FacetValue(slug, name, n, slug in selection.outlets)
        for slug, (name, n) in ranked_outlets[:FACET_SIZE]
    ]


def _month_facet(rows: list[tuple], selection: Selection) -> list[FacetValue]:
    """Matches per month of publication (in the current time zone, as TruncMonth)."""
    by_month: dict[str, int] = defaultdict(int)
    for _pk, month, _slug, _name in rows:
        if month is not None:
            by_month[month] += 1
    months = []
    for month in sorted(by_month):
        first, last = month_bounds(month)
        selected = (selection.date_from, selection.date_to) == (first, last)
        months.append(FacetValue(month, first.strftime("%B %Y"), by_month[month], selected))
    return months


def outlet_facet(articles: QuerySet, selected=frozenset()) -> list[FacetValue]:
    rows = (
        articles.order_by()
        .filter(outlet__isnull=False)
        .values("outlet__slug", "outlet__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "outlet__name")[:FACET_SIZE]
    )
    return [
        FacetValue(r["outlet__slug"], r["outlet__name"], r["n"], r["outlet__slug"] in selected)
        for r in rows
    ]


def topic_facet(articles: QuerySet, selected=frozenset()) -> list[FacetValue]:
    rows = (
        ArticleTopic.objects.filter(article__in=articles.order_by().values("pk"), excluded=False)
        .values("topic__slug", "topic__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "topic__name")[:FACET_SIZE]
    )
    return [
        FacetValue(r["topic__slug"], r["topic__name"], r["n"], r["topic__slug"] in selected)
        for r in rows
    ]


# Each article's distinct entities (a small per-article step along the mention
# index), then a count per entity id, and only then the entities' names: grouping
# all the mention rows by slug with count(DISTINCT) sorted every row with its text
# (spilling to disk from a few thousand articles on).
_ENTITY_FACET_SQL = """
SELECT slug, name, kind, n FROM (
    SELECT e.slug, e.name, e.kind, c.n,
           row_number() OVER (PARTITION BY e.kind ORDER BY c.n DESC, e.name ASC) AS place
    FROM (
        SELECT named.entity_id, count(*) AS n
        FROM (SELECT DISTINCT matched.pk FROM ({articles}) AS matched(pk)) AS a
        CROSS JOIN LATERAL (
            SELECT DISTINCT m.entity_id FROM articles_mention m WHERE m.article_id = a.pk
        ) AS named
        GROUP BY named.entity_id
    ) AS c
    JOIN articles_entity e ON e.id = c.entity_id
) AS placed
WHERE place <= %s
ORDER BY kind, place
"""


def entity_facet(articles: QuerySet, selected=frozenset()) -> list[FacetValue]:
    """The ENTITIES_PER_KIND entities of each kind named in the most matching articles."""
    try:
        sql, params = articles.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:
        return []
    with connections[articles.db].cursor() as cursor:
        cursor.execute(_ENTITY_FACET_SQL.format(articles=sql), (*params, ENTITIES_PER_KIND))
        rows = cursor.fetchall()
    return [FacetValue(slug, name, n, slug in selected, kind=kind) for slug, name, kind, n in rows]


def month_bounds(month: str) -> tuple[date, date]:
    """'2023-01' -> (2023-01-01, 2023-01-31)."""
    year, number = (int(part) for part in month.split("-"))
    first = date(year, number, 1)
    following = date(year + number // 12, number % 12 + 1, 1)
    return first, date.fromordinal(following.toordinal() - 1)


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def day_end(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=UTC)


# --- Did you mean ----------------------------------------------------------

# Entity names and public titles, both trigram-indexed on UPPER(...): each term
# is compared with them by word similarity (`<%`, index-backed), and the most
# similar word of the closest names becomes the suggestion. Words that only occur
# in bodies are not suggested: ts_stat over the vectors would read the whole archive.
_SUGGEST_SQL = """
SELECT t.term, c.text
FROM unnest(%s::text[]) AS t(term)
CROSS JOIN LATERAL (
    (SELECT e.name AS text, word_similarity(t.term, UPPER(e.name)) AS similarity
     FROM articles_entity e
     WHERE t.term <%% UPPER(e.name)
       AND EXISTS (
           SELECT 1 FROM articles_mention m JOIN articles_article a ON a.id = m.article_id
           WHERE m.entity_id = e.id AND a.is_public
       )
     ORDER BY similarity DESC LIMIT 5)
    UNION ALL
    (SELECT a.title, word_similarity(t.term, UPPER(a.title))
     FROM articles_article a
     WHERE a.is_public AND t.term <%% UPPER(a.title)
     ORDER BY 2 DESC LIMIT 5)
) AS c
-- A word the archive has is not misspelt, even when the whole query finds little.
WHERE NOT EXISTS (
    SELECT 1 FROM articles_article a
    WHERE a.search_vector @@ plainto_tsquery(%s::regconfig, t.term) AND a.is_public
)
"""


def suggest(text_query: TextQuery) -> str | None:
    """A corrected query ("Pistorious" -> "Pistorius"), or None. One query."""
    words = [
        t.text
        for t in text_query.parsed.terms
        if t.kind == WORD and not t.negated and len(t.text) >= 3 and t.text.isalpha()
    ]
    if not words:
        return None
    with connections[router.db_for_read(Article)].cursor() as cursor:
        cursor.execute(_SUGGEST_SQL, [[w.upper() for w in words], SEARCH_CONFIG])
        rows = cursor.fetchall()
    names = defaultdict(list)
    for term, text in rows:
        names[term].append(text)
    replacements = {}
    for word in words:
        best = _closest_word(word, names.get(word.upper(), []))
        if best:
            replacements[word] = best
    if not replacements:
        return None

    def retyped(term: Term) -> str:
        if term.kind == WORD and not term.negated and term.text in replacements:
            term = Term(replacements[term.text])
        return _typed(term)

    return " or ".join(" ".join(retyped(t) for t in group) for group in text_query.parsed.groups)


def _closest_word(word: str, texts: list[str]) -> str | None:
    best, best_score = None, 0.45
    for text in texts:
        for candidate in re.findall(r"\w+", text):
            if candidate.casefold() == word.casefold():
                return None  # the word is in the archive as typed
            score = trigram_similarity(word, candidate)
            if score > best_score:
                best, best_score = candidate, score
    return best


def _trigrams(word: str) -> set[str]:
    padded = f"  {word.casefold()} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def trigram_similarity(a: str, b: str) -> float:
    """pg_trgm's similarity() for single words."""
    ta, tb = _trigrams(a), _trigrams(b)
    return len(ta & tb) / len(ta | tb)


# --- Hits without a page (feeds: articles/feeds.py) ------------------------


def hits_for(articles: list[Article], text_query: TextQuery | None) -> list[Hit]:
    """What run_search shows for each of `articles` (highlighted title and snippet,
    best matching sections, topics, entities), without the count and facets.
    A fixed number of queries, however many articles."""
    return _hits(articles, text_query)
