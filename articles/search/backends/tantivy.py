"""The tantivy backend: an embedded search engine over an index of the public
articles (articles/search/tantivy_index.py) kept in step with PostgreSQL through the
outbox (articles/search/outbox.py).

Relevance runs over every match in two steps, the way Elasticsearch's rescore
does: tantivy ranks the matches by BM25 on the `weighted` field (the article's words
counted as the database's BM25 counts them), and the first of those, down to
RESCORE_WINDOW articles of one section (twice as many for a term with several
spellings), and more while one further down could still climb into the page, are
put in the archive's own BM25 order (articles/ranking.py), which PostgreSQL
computes for those articles only; pages past them keep tantivy's order.
Newest and oldest run over every match; the count and the facets are exact, the
facets counted in a thread beside the search for the page's articles.
The query is built from the shared TextQuery, never from the typed text, so phrases,
prefixes, exclusions, `or` groups and spellings mean what they mean on the postgres
backend. Every filter the search form offers is a tantivy filter. Facets
are requested as Elasticsearch-style aggregation JSON (`facet_aggregations`), which
an OpenSearch backend would send as it is."""

from __future__ import annotations

import itertools
import math
import os
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import astuple
from datetime import date
from functools import cache
from typing import NamedTuple

import tantivy
from django.db import connections, router
from django.db.models import Model

from articles.models import Article, Entity, Outlet, Section, Topic
from articles.ranking import K1, B, idf
from articles.search import outbox, tantivy_index
from articles.search.backends import (
    Answer,
    ListFigures,
    ListRequest,
    SearchBackend,
    SearchRequest,
)
from articles.search.backends.postgres import (
    SECTION_BONUS,
    archive_relevance,
    publication_microseconds,
)
from articles.search.dates import day_end, day_start
from articles.search.facets import (
    ENTITIES_PER_KIND,
    FACET_SIZE,
    kind_values,
    month_values,
    monthly_row,
    outlet_values,
)
from articles.search.ordering import AmongIds, ids_array, ids_param
from articles.search.parsing import as_parsed
from articles.search.query import PHRASE, PREFIX, WORD, Term, TextQuery, fold
from articles.search.results import Facets, FacetValue, Selection
from articles.search.tantivy_index import HEADINGS, SCHEMA, TEXT_FIELDS, WEIGHTED, entity_field

Occur = tantivy.Occur
# The article's own text, as the database's article vector: where every group can
# match, and where an excluded word is looked for (an entry heading only ever adds a
# match, through its entry).
ARTICLE_FIELDS = (WEIGHTED,)
# Terms aggregations are counted per index segment and then merged; asking each
# segment for this many terms makes the merged counts exact for every facet value
# an archive has in practice (months, outlets, topics; entities of one kind).
SEGMENT_TERMS = 65_536
# tantivy answers at most this many buckets (facet values) to one aggregation
# request, and says so with this error: its default limit, which tantivy-py does not
# let a caller raise. At 1M articles the organisations alone are about 65,000.
MAX_BUCKETS = 65_000
BUCKET_LIMIT_ERROR = "bucket limit was exceeded"
# The articles a search confirms against their headed entries (`_matching_in_an_entry`)
# are taken in one search up to this many (at 1M: 246 for "prime minister"), and
# counted first only past it.
ENTRY_CANDIDATES = 1000
# A search indexes at most this many queued changes before it answers.
CATCH_UP_PER_SEARCH = 2000
# Facets are counted as kept totals less the unmatched articles' values only for a
# text that matches more than this share of the filtered articles: every value of an
# unmatched article costs about twice what the leading values of a matched one do
# (docs/benchmarks.md, thirtieth session), so below it counting the matches is cheaper.
MOST_SHARE = 0.7
ENTITY_CANDIDATES = 50  # per kind, re-ordered by count and then name like the database
# On an index of one segment, the entities of every kind are first counted together
# (tantivy_index.ENTITY_KEYS: one column read a match instead of several, about half
# the time; docs/benchmarks.md), this many leaders in all; a kind whose first places
# they do not settle is counted on its own (`_split_leaders`).
ENTITY_LEADERS = 300
# Where a search is expected to match more than this many times as many articles as
# any entity outside the rebuild's leading ones is named in (ENTITY_KEYS_LEADING),
# the leading ones are counted first, alone: a kind's fifth place then seldom holds
# fewer, and reading them takes about 60% of the time every entity does (at 1M;
# docs/benchmarks.md, thirty-fourth session). Only what the counting costs depends on
# it, never the counts.
LEADING_ALONE_PAST = 20
# How many of tantivy's most relevant matches are put in the archive's BM25 order
# (docs/benchmarks.md: how often the archive's top 10 lies within them), counted in
# articles of one section: with them, the live blogs among them (`_first_window`),
# down to at most FIRST_WINDOW_SPREAD times as many matches.
RESCORE_WINDOW = 100
FIRST_WINDOW_SPREAD = 4
# ... times this many where a term has several spellings, whose scores tantivy only
# approximates (`_one_word`).
SPELLED_WINDOW = 2
# Past the window, matches are rescored while they might still reach the page
# (`_least_climbing`), up to this many in all: at a million articles tantivy's lengths
# (quantised token counts, not the archive's lexeme counts) leave near-ties deep.
MOST_RESCORED = 1000
# ... allowing a match past them to gain more than any rescored one did, by this
# share of the most the terms can score (`_ceiling`): the rescored may be mostly of
# one kind (live blogs, long articles), the next of another. Of the score, not of
# the section bonus, which both count alike.
CLIMB_MARGIN = 0.01
# The archive's BM25 adds up to SECTION_BONUS for an article's matching sections
# (articles/ranking.py). tantivy adds it for the article's sections, matching or not:
# for a word in most articles, where the bonus decides the order, nearly the same.
# Section counts past this one get the bonus of this one (within 0.1%).
COUNTED_SECTIONS = 100
# What the other spellings of a term add to its best one (`_one_word`; measured in
# docs/benchmarks.md: how deep the archive's top 10 lies in tantivy's order).
SPELLING_TIE = 0.3
# A prefix is scored as this many of its commonest completions.
PREFIX_COMPLETIONS = 32
# The database scores an article by the better of its own text and its best matching
# entry, where a heading occurrence counts 2 (articles/ranking.py). The index keeps
# headings apart from the scored text and gives a term in one what the database
# gives two occurrences in the shortest text, BM25's most: 2 (k1 + 1) / (2 + k1 (1 - b)).
# Scored too high, an article only enters the RESCORE_WINDOW, where the database's
# own score puts it in its place; scored too low, it might never reach it.
HEADING_SCORE = 2 * (K1 + 1) / (2 + K1 * (1 - B))


class TantivyBackend(SearchBackend):
    name = "tantivy"

    def search(self, request: SearchRequest) -> Answer:
        # Committed changes are searchable at once; of a backlog (a load still
        # running) each search takes a bounded share, so none does a load's work.
        outbox.catch_up(wait=False, most=CATCH_UP_PER_SEARCH)
        generation = tantivy_index.commit_generation()  # before the searcher: _facet_counts
        searcher = tantivy_index.searcher()
        filters = Filters.of(request.selection)
        text = None
        if request.text_query:
            text = text_query(
                request.text_query,
                searcher,
                filters.all(outlets=False),
                minimum_should_match=request.minimum_should_match,
            )
        query = _all_of([text, *filters.all()])
        if request.count_only:
            count = _count(searcher, query)
            return Answer(ids=[], count=count, reachable=count, facets=Facets())
        stop = request.offset + request.limit
        bounds = None
        if text is not None:
            bounds = _match_bounds(searcher, request.text_query, request.minimum_should_match)
        counting = _ALONGSIDE.submit(
            _every_count, searcher, text, bounds, filters, request.selection, generation
        )
        if text is not None and request.sort == "relevance":
            scored = _scored(
                searcher, text, filters.all(), request.text_query, request.minimum_should_match
            )
            ids, stories = _by_relevance(searcher, scored, request.text_query, request.offset, stop)
        else:
            addresses = _by_date(searcher, query, oldest=request.sort == "oldest", stop=stop)
            ids = searcher.fast_field_values("id", addresses)
            stories = _stories(searcher, ids, addresses)
        counts, base = counting.result()
        count = _articles_in(counts)
        return Answer(
            ids=ids[request.offset : stop],
            count=count,
            reachable=count,
            facets=_facets(counts, base, request.selection),
            story_count=story_count(searcher, query, count, counts),
            stories={pk: stories[pk] for pk in ids[request.offset : stop] if pk in stories},
        )

    def list_figures(self, request: ListRequest) -> ListFigures:
        outbox.catch_up(wait=False, most=CATCH_UP_PER_SEARCH)
        searcher = tantivy_index.searcher()
        own = Filters.of(request.own).all()
        unfiltered = _all_of(own)
        query = _all_of([*own, *Filters.of(request.chosen).all()])
        of_unfiltered = {**OUTLETS}
        if request.co_mentioned:
            of_unfiltered["entities"] = _terms("entities", ENTITY_CANDIDATES)
        if request.chosen == Selection():
            counts = base = searcher.aggregate(query, {**MONTHS_BY_OUTLET, **of_unfiltered})
        else:
            counts = searcher.aggregate(query, MONTHS_BY_OUTLET)
            base = searcher.aggregate(unfiltered, of_unfiltered)
        names = {
            pk: (slug, name) for pk, slug, name in Outlet.objects.values_list("pk", "slug", "name")
        }
        outlets = [(*names[int(pk)], n) for pk, n in _buckets(base, "outlet").items()]
        figures = ListFigures(
            count=searcher.search(query, 1, count=True).count,
            monthly=_monthly(counts, names),
            outlets=outlet_values(outlets, request.chosen),
        )
        if request.co_mentioned:
            figures.co_mentioned = _co_mentioned(
                searcher, unfiltered, base, request.own, request.co_mentioned
            )
        return figures


# --- The text query ----------------------------------------------------------


def text_query(
    text: TextQuery,
    searcher: tantivy.Searcher,
    filters: list,
    *,
    minimum_should_match: int = 1,
) -> tantivy.Query:
    """The TextQuery as a tantivy query that matches what the database matches: all
    of a group's terms in the article's own text (title, kicker, dek, body), or all
    of them within one headed entry (its heading and its text), which PostgreSQL
    confirms unless each group is one word; relaxed matching (`minimum_should_match`
    > 1) counts the groups matched in the article's own text, as the database does.
    `filters`: the search's, which bound the articles checked in PostgreSQL."""
    anywhere = _any_of(_groups(text, TEXT_FIELDS))
    if minimum_should_match == 1 and _each_group_one_word(text):
        return anywhere  # a heading's word matches through its entry: nothing to check
    own_groups = _groups(text, ARTICLE_FIELDS)
    if minimum_should_match > 1:
        return tantivy.Query.boolean_query(
            [(Occur.Should, group) for group in own_groups],
            minimum_number_should_match=minimum_should_match,
        )
    found = [_any_of(own_groups)]
    if (sure := _surely_in_an_entry(text, anywhere)) is not None:
        found.append(sure)
    in_an_entry = _matching_in_an_entry(text, searcher, anywhere, _any_of(found), filters)
    if in_an_entry:
        found.append(tantivy.Query.term_set_query(SCHEMA, "id", in_an_entry))
    return found[0] if len(found) == 1 else _any_of(found)


def _each_group_one_word(text: TextQuery) -> bool:
    """Whether each group is one word or prefix, and none is excluded. A group's word
    in an entry heading then matches through that entry, as in the database (the
    heading is in the entry's vector), so the index's match is the database's. A
    phrase, or a word the index holds as several (`Kyiv-based`), could run from one
    heading into the next in the index's `headings`, which no entry holds."""
    return all(
        len(group) == 1 and not group[0].negated and _matches_as_one_word(text, group[0])
        for group in text.parsed.groups
    )


def _surely_in_an_entry(text: TextQuery, anywhere: tantivy.Query) -> tantivy.Query | None:
    """Where each group is one word, some with excluded words, each held as one word:
    the articles that match through an entry heading with no excluded word in any
    heading, which PostgreSQL need not confirm. A group's word in a heading matches
    through that entry, whose text (part of the article's own) `anywhere` has found
    free of the group's excluded words; only a heading can still hold one. None when
    the text is not of that form. An excluded prefix is left to PostgreSQL: should the
    index's reading of it (`_prefix`) miss one in a heading, an article the database
    leaves out would get through."""
    excluded = [term for group in text.parsed.groups for term in group if term.negated]
    one_word = all(
        len(wanted := [term for term in group if not term.negated]) == 1
        and _matches_as_one_word(text, wanted[0])
        for group in text.parsed.groups
    )
    if not one_word or not all(
        term.kind == WORD and _held_as_one_word(text, term) for term in excluded
    ):
        return None
    return tantivy.Query.boolean_query(
        [
            (Occur.Must, _any_of(_in_headings(text, text.wanted_terms))),
            (Occur.Must, anywhere),
            *((Occur.MustNot, q) for q in _in_headings(text, excluded)),
        ]
    )


def _in_headings(text: TextQuery, terms: list[Term]) -> list[tantivy.Query]:
    """Each of `terms` (that the index can look for) in the entry headings."""
    return [q for term in terms if (q := _term(text, term, (HEADINGS,))) is not None]


def _matches_as_one_word(text: TextQuery, term: Term) -> bool:
    """Whether a match of `term` is one word: a prefix's, or a word's the index holds
    as one (`_held_as_one_word`)."""
    return term.kind == PREFIX or _held_as_one_word(text, term)


def _held_as_one_word(text: TextQuery, term: Term) -> bool:
    """Whether the index holds each spelling of `term` as one word (not `Kyiv-based`,
    which it holds whole and in parts)."""
    return all(len(_positioned(form)) <= 1 for form in text.forms(term))


def _match_bounds(searcher, text: TextQuery, minimum_should_match: int) -> tuple[int, int]:
    """(At least, at most) how many articles `text_query` matches, read from its
    words' document frequencies. At most: each group's rarest term, in all its
    spellings and fields, summed over the groups. At least, only for a group of one
    word: the articles with that word in their own text (which `text_query` always
    matches, unless relaxed). A term with a prefix may match any article.
    The figures guide a choice between two exact ways to count facets
    (`_facet_counts`); tantivy's frequencies still count deleted articles until
    their segment merges, a small error that only makes the choice less apt."""
    least, most = 0, 0
    for group in text.parsed.groups:
        wanted = [term for term in group if not term.negated]
        if not wanted:
            continue
        most += min(_most_matches(searcher, text, term) for term in wanted)
        if minimum_should_match == 1 and len(group) == 1 and wanted[0].kind != PREFIX:
            single = [p for f in text.forms(wanted[0]) if len(p := _positioned(f)) == 1]
            least = max([least, *(_document_frequency(searcher, p[0][1]) for p in single)])
    return least, min(most, searcher.num_docs)


def _most_matches(searcher, text: TextQuery, term: Term) -> int:
    """The most articles `term` can match: each spelling in each text field has its
    rarest word."""
    if term.kind == PREFIX:
        return searcher.num_docs
    return sum(
        min(searcher.doc_freq(field, stem) for _, stem in positioned)
        for form in text.forms(term)
        if (positioned := _positioned(form))
        for field in TEXT_FIELDS
    )


def _any_of(groups: list[tantivy.Query]) -> tantivy.Query:
    if not groups:
        return tantivy.Query.empty_query()
    return tantivy.Query.boolean_query([(Occur.Should, group) for group in groups])


def _matching_in_an_entry(text, searcher, anywhere, found, filters) -> list[int]:
    """The articles whose match needs an entry heading's words, confirmed against
    their headed entries in PostgreSQL (of those `found` does not already match).
    The index keeps one document per article, its headings in one field, so it
    cannot tell whether the terms stand in one entry; such articles are few (a
    heading counts only for a term nowhere in the article's own text), and an
    excluded term has already left its articles out."""
    # Such an article has one of the words in a heading: looking there first spares
    # tantivy going through every article with a common word.
    in_a_heading = _any_of(_in_headings(text, text.wanted_terms))
    candidates = tantivy.Query.boolean_query(
        [(Occur.Must, q) for q in (in_a_heading, anywhere, *filters)] + [(Occur.MustNot, found)]
    )
    found_first = searcher.search(candidates, ENTRY_CANDIDATES, count=True)
    if not found_first.count:
        return []
    hits = found_first.hits
    if found_first.count > len(hits):  # more than the first search took: all of them
        hits = searcher.search(candidates, found_first.count, count=False).hits
    ids = searcher.fast_field_values("id", [address for _, address in hits])
    return list(
        Section.objects.filter(AmongIds("article_id", ids), search_vector=text.search_query)
        .exclude(heading="")
        .order_by()
        .values_list("article_id", flat=True)
        .distinct()
    )


def _groups(text: TextQuery, fields: tuple[str, ...]) -> list[tantivy.Query]:
    """Each OR-ed group as the AND of its terms in any of `fields` (an excluded term
    in the article's own text wherever a group looks)."""
    groups = []
    for group in text.parsed.groups:
        clauses = []
        for term in group:
            matches = _term(text, term, ARTICLE_FIELDS if term.negated else fields)
            if matches is not None:
                clauses.append((Occur.MustNot if term.negated else Occur.Must, matches))
        if any(occur == Occur.Must for occur, _ in clauses):
            groups.append(tantivy.Query.boolean_query(clauses))
    return groups


def _term(text: TextQuery, term: Term, fields: tuple[str, ...]) -> tantivy.Query | None:
    """A term in any of `fields`, in any of its spellings; None when it has no word
    the index keeps (only stop words: the database leaves such a term out too)."""
    if term.kind == PREFIX:
        each = [(f, q) for f in fields for q in _prefix(text, term, f)]
    else:
        assert term.kind in (WORD, PHRASE)
        each = [
            (f, query)
            for form in text.forms(term)
            if (positioned := _positioned(form))
            for f in fields
            if (query := _words(f, positioned)) is not None
        ]
    if not each:
        return None
    return tantivy.Query.boolean_query([(Occur.Should, q) for _, q in each])


def _prefix(text: TextQuery, term: Term, field: str) -> list[tantivy.Query]:
    """A prefix as the database reads it: each of its `_prefix_starts`, then the stems
    of the words starting with it that none reaches (`completions`)."""
    return [
        *(
            tantivy.Query.regex_query(SCHEMA, field, re.escape(s) + ".*")
            for s in _prefix_starts(term)
        ),
        *(tantivy.Query.term_query(SCHEMA, field, s) for s in text.completions.get(term, ())),
    ]


def _prefix_starts(term: Term) -> list[str]:
    """The indexed words a prefix's words start with: the prefix stemmed, and as typed
    (folded), since the English analyzer drops a stem such as `off` or `over` as a
    stop word."""
    starts = {*tantivy_index.ANALYZE.analyze(term.text), fold(term.text)}
    # "off" already finds every word "offens" would.
    return sorted(s for s in starts if not any(s != o and s.startswith(o) for o in starts))


def _positioned(form: str) -> list[tuple[int, str]]:
    """The indexed words of a spelling with their positions: a stop word leaves a
    gap, as in the database's phrase queries ("war in Ukraine": war, 2 later ukrain),
    and a hyphenated word is whole and then in parts, as in the index."""
    found = []
    for position, word in enumerate(_indexed_words(form)):
        for stem in tantivy_index.ANALYZE.analyze(word):
            found.append((position, stem))
    return found


def _words(field: str, positioned: list[tuple[int, str]]) -> tantivy.Query | None:
    if len(positioned) == 1:
        return tantivy.Query.term_query(SCHEMA, field, positioned[0][1])
    return tantivy.Query.phrase_query(SCHEMA, field, positioned)


# --- Relevance -----------------------------------------------------------------


def _scored(
    searcher, matching: tantivy.Query, filters: list, text: TextQuery, minimum_should_match: int
) -> tantivy.Query:
    """The articles `matching` (the text's query) finds among those `filters` keep,
    scored by `relevance` alone. Where the relevance query is the match itself
    (`_relevance_matches_alone`), the text's postings are read once. Where every
    match has each scored term (`_each_term_in_every_match`), the terms' scores are
    required too: tantivy then looks each up for the matches only, instead of
    reading every article that has any of them."""
    if _relevance_matches_alone(text, minimum_should_match):
        clauses = [(Occur.Must, relevance(searcher, text))]
        if filters:
            clauses.append((Occur.Must, tantivy.Query.const_score_query(_all_of(filters), 0.0)))
    else:
        matches = tantivy.Query.const_score_query(_all_of([matching, *filters]), 0.0)
        each = Occur.Must if _each_term_in_every_match(text, minimum_should_match) else Occur.Should
        clauses = [(Occur.Must, matches), *((each, s) for s in _term_scores(searcher, text))]
    return tantivy.Query.boolean_query([*clauses, (Occur.Should, _section_bonus())])


def _relevance_matches_alone(text: TextQuery, minimum_should_match: int) -> bool:
    """Whether `relevance` matches exactly what `text_query` does: each group one
    word (`_each_group_one_word`), not a prefix (relevance scores only a prefix's
    commonest completions), and each with a word the index keeps as typed
    (relevance leaves out a term without one, whose spellings might still match)."""
    return (
        minimum_should_match == 1
        and _each_group_one_word(text)
        and all(term.kind == WORD and _stems(term.text) for term in text.wanted_terms)
    )


def _each_term_in_every_match(text: TextQuery, minimum_should_match: int) -> bool:
    """Whether every article `text_query` matches has each term `relevance` scores in
    its own text or an entry heading: one group (no `or`, not relaxed) of words the
    index holds as one word each. Such a match has them all in its own text, or
    within one headed entry, which tantivy only confirms among articles that have
    each in one or the other (`_matching_in_an_entry`)."""
    return (
        minimum_should_match == 1
        and len(text.parsed.groups) == 1
        and all(term.kind == WORD and _held_as_one_word(text, term) for term in text.wanted_terms)
    )


@cache  # the same for every search
def _section_bonus() -> tantivy.Query:
    """The archive's bonus for an article's number of sections, less that of one
    section (which every article has: it changes no order)."""

    def bonus(n: int) -> float:
        return SECTION_BONUS * (n / (n + 3) - 1 / 4)

    clauses = [
        (
            Occur.Should,
            tantivy.Query.const_score_query(
                tantivy.Query.term_query(SCHEMA, "sections", n), bonus(n)
            ),
        )
        for n in range(2, COUNTED_SECTIONS)
    ]
    last = tantivy.Query.range_query(
        SCHEMA, "sections", tantivy.FieldType.Unsigned, COUNTED_SECTIONS, None
    )
    clauses.append((Occur.Should, tantivy.Query.const_score_query(last, bonus(COUNTED_SECTIONS))))
    return tantivy.Query.boolean_query(clauses)


def relevance(searcher, text: TextQuery) -> tantivy.Query:
    """The wanted terms on the weighted field, in every spelling, each weighed by
    the inverse document frequency the archive gives the term: that of its rarest
    word as typed (articles/ranking.py), in place of tantivy's own for each spelling.
    A term in an entry heading scores no less than the database could give the
    entry (`HEADING_SCORE`)."""
    return tantivy.Query.boolean_query([(Occur.Should, s) for s in _term_scores(searcher, text)])


def _term_scores(searcher, text: TextQuery) -> list[tantivy.Query]:
    """Each wanted term's part of `relevance` (a term without a word the index keeps
    has none)."""
    scores = []
    for term in text.wanted_terms:
        wanted = _term_idf(searcher, term)
        if wanted is None:
            continue
        spellings = [
            tantivy.Query.boost_query(query, wanted / own)
            for query, own in _weighted(searcher, text, term)
        ]
        score = _one_word(spellings)
        if (in_a_heading := _term(text, term, (HEADINGS,))) is not None:
            heading = tantivy.Query.const_score_query(in_a_heading, wanted * HEADING_SCORE)
            score = tantivy.Query.disjunction_max_query([score, heading])
        scores.append(score)
    return scores


def _term_idf(searcher, term: Term) -> float | None:
    """The idf the archive gives `term` (of its rarest word as typed), or None when it
    has no word the index keeps."""
    typed = [_document_frequency(searcher, s) for s in _stems(term.text)]
    return _idf(searcher, min(typed)) if typed else None


def _ceiling(searcher, text: TextQuery) -> float:
    """The most the text's terms can add to an article's BM25: each its idf times
    (k1 + 1), which a term's weight approaches as it fills a short text."""
    idfs = (_term_idf(searcher, term) for term in text.wanted_terms)
    return sum(idf * (K1 + 1) for idf in idfs if idf is not None)


def _one_word(spellings: list[tantivy.Query]) -> tantivy.Query:
    """One score for a term's spellings (or a prefix's completions). The archive counts
    them as one word, whose occurrences saturate together; tantivy scores each apart,
    and their sum favours an article using two spellings over one using one often.
    The best spelling's score plus SPELLING_TIE of the others' comes nearest."""
    if len(spellings) == 1:
        return spellings[0]
    return tantivy.Query.disjunction_max_query(spellings, SPELLING_TIE)


def _weighted(searcher, text: TextQuery, term: Term) -> list[tuple[tantivy.Query, float]]:
    """(query on the weighted field, the idf tantivy gives it) for each spelling of
    `term`, or each of a prefix's commonest completions."""
    if term.kind == PREFIX:  # the words `_prefix` matches, the commonest of them
        frequencies = {
            stem: _document_frequency(searcher, stem) for stem in text.completions.get(term, ())
        }
        for start in _prefix_starts(term):
            frequencies.update(
                searcher.terms_with_prefix(WEIGHTED, start, limit=PREFIX_COMPLETIONS)
            )
        commonest = sorted(frequencies.items(), key=lambda item: (-item[1], item[0]))
        return [
            (tantivy.Query.term_query(SCHEMA, WEIGHTED, word), _idf(searcher, df))
            for word, df in commonest[:PREFIX_COMPLETIONS]
            if df
        ]
    found = []
    for form in text.forms(term):
        if positioned := _positioned(form):
            # tantivy weighs a phrase by the sum of its words' idfs.
            own = sum(_idf(searcher, _document_frequency(searcher, s)) for _, s in positioned)
            found.append((_words(WEIGHTED, positioned), own))
    return found


def _stems(text: str) -> list[str]:
    return [stem for word in _indexed_words(text) for stem in tantivy_index.ANALYZE.analyze(word)]


def _indexed_words(text: str) -> list[str]:
    """The words of typed text in the order the index holds them (`as_parsed`)."""
    return re.findall(r"\w+", as_parsed(text))


def _document_frequency(searcher, stem: str) -> int:
    return searcher.doc_freq(WEIGHTED, stem)


def _idf(searcher, df: int) -> float:
    """BM25's inverse document frequency, as tantivy and the archive compute it
    (tantivy's own n also counts deleted documents until their segment is merged:
    a small difference that the rescoring absorbs)."""
    return idf(searcher.num_docs, df)


def _rescore_window(text: TextQuery) -> int:
    """How many articles of one section the first rescoring round holds (`_first_window`)."""
    spelled = any(len(text.forms(term)) > 1 for term in text.wanted_terms)
    return RESCORE_WINDOW * SPELLED_WINDOW if spelled else RESCORE_WINDOW


def _by_relevance(searcher, scored, text: TextQuery, offset: int, stop: int):
    """(The ids of the first `stop` matches of `scored` or more, most relevant first;
    the stories of those with other copies.) tantivy's order,
    its first matches (`_first_window`) put in the archive's order, and then every
    next match, up to MOST_RESCORED, that the page reaches or that could still climb
    into it (`_least_climbing`). Each round rescores all such matches at once: a
    rescoring query costs more for being one than for its length. tantivy finds the
    first MOST_RESCORED about as fast as the first few: it scores every match."""
    plain = _rescore_window(text)
    rescoring = plain > 0 and offset < MOST_RESCORED
    # tantivy counts unless told not to; the count comes from the facets.
    result = searcher.search(scored, max(stop, MOST_RESCORED if rescoring else 0), count=False)
    ids, stories = _ids_and_stories(searcher, result.hits)
    if not rescoring:  # tantivy's order
        return ids, stories
    scores = [score for score, _ in result.hits[:MOST_RESCORED]]
    own = dict(zip(ids[:MOST_RESCORED], scores, strict=True))
    done = _first_window(searcher, result.hits[:MOST_RESCORED], plain)
    archive_scores = archive_scorer(text)
    archive = archive_scores(ids[:done])
    ceiling = _ceiling(searcher, text)
    while True:
        least = _least_climbing(archive, own, stop, ceiling)
        reach = max(done, min(stop, len(scores)))
        while reach < len(scores) and scores[reach] >= least:
            reach += 1
        if reach == done:
            break
        archive.update(archive_scores(ids[done:reach]))
        done = reach
    first = sorted(archive, key=archive.get, reverse=True)
    return first + ids[done:], stories


def _first_window(searcher, hits: list, plain: int) -> int:
    """How many of `hits` (tantivy's order) are first put in the archive's: down to
    the one that brings `plain` articles of one section in, or FIRST_WINDOW_SPREAD
    times `plain`, or all. tantivy may score a live blog whose entry heading holds a
    term far above the archive's score for it (HEADING_SCORE), so live blogs can
    crowd the first places; an article of one section it scores nearly as the
    archive does, so that the page's last place among those rescored tells what a
    match further down must reach (`_least_climbing`)."""
    reach = hits[: plain * FIRST_WINDOW_SPREAD]
    sections = searcher.fast_field_values("sections", [address for _, address in reach])
    seen = 0
    for place, count in enumerate(sections, start=1):
        seen += count == 1
        if seen == plain:
            return place
    return len(sections)


def _ids_and_stories(searcher, hits: list) -> tuple[list[int], dict[int, int]]:
    addresses = [address for _, address in hits]
    ids = searcher.fast_field_values("id", addresses)
    return ids, _stories(searcher, ids, addresses)


def _least_climbing(archive: dict, own: dict, stop: int, ceiling: float) -> float:
    """The least tantivy score of a match, past those the archive has scored
    (`archive`; tantivy's scores: `own`), that could climb into the page's places
    (the first `stop`): if the archive gave it as much more than tantivy as it gave
    any of those, and CLIMB_MARGIN of the terms' `ceiling` on top, it would pass the
    last of them the page shows. The gain counts as at least 1, what an article whose
    words tantivy counts as the archive does (one spelling) gets: the rescored may
    all be ones tantivy overrates (a term in several spellings, used often)."""
    if not archive:
        return math.inf
    gain = max(1.0, *(archive[pk][0] / own[pk] for pk in archive if own[pk] > 0))
    ranked = sorted((key[0] for key in archive.values()), reverse=True)
    return (ranked[min(stop, len(ranked)) - 1] - CLIMB_MARGIN * ceiling) / gain


def archive_scorer(text: TextQuery) -> Callable[[list[int]], dict[int, tuple]]:
    """A function giving the archive's BM25 for `text` of each of some ids (matches),
    computed by PostgreSQL, as a key that sorts in the archive's order (greatest
    first): (score, publication, id). Its SQL is compiled once, for every round of a
    search's rescoring: compiling the BM25 expression costs more than scoring a few."""
    queryset = (
        Article.objects.filter(pk__in=ids_param([]))
        .order_by()  # in no order: the caller sorts
        .values_list("pk", archive_relevance(text), publication_microseconds())
    )
    sql, params = queryset.query.sql_with_params()
    *scoring_params, ids = params  # the ids are the only parameter past the columns
    if ids != ids_array([]):
        raise AssertionError(f"the ids are not the last parameter of {sql!r}")
    using = queryset.db

    def archive_scores(pks: list[int]) -> dict[int, tuple]:
        with connections[using].cursor() as cursor:
            cursor.execute(sql, (*scoring_params, ids_array(pks)))
            rows = cursor.fetchall()
        # The publication as an integer: parsing a thousand timestamps costs more.
        return {pk: (score, -math.inf if at is None else at, pk) for pk, score, at in rows}

    return archive_scores


# --- Filters -----------------------------------------------------------------


class Filters:
    """The user's filters as tantivy queries (all of them: none needs PostgreSQL)."""

    def __init__(self, outlets, others, outlet_ids=()):
        self.outlets = outlets
        self.others = others
        self.outlet_ids = outlet_ids

    @classmethod
    def of(cls, selection: Selection) -> Filters:
        # The index holds only public articles (tantivy_index.documents): no filter
        # for that, which every match would pay for.
        others = []
        for topic_id in _ids(Topic, selection.topics):
            others.append(tantivy.Query.term_query(SCHEMA, "topics", topic_id))
        for entity_id in _ids(Entity, selection.entities):
            others.append(tantivy.Query.term_query(SCHEMA, "entities", entity_id))
        if selection.date_from or selection.date_to:
            others.append(_published_between(selection))
        if selection.kind:
            others.append(tantivy.Query.term_query(SCHEMA, "kind", selection.kind))
        outlets, ids = None, ()
        if selection.outlets:
            ids = _ids(Outlet, selection.outlets)
            outlets = tantivy.Query.term_set_query(SCHEMA, "outlet", ids)
        return cls(outlets, others, ids)

    def all(self, *, outlets: bool = True) -> list[tantivy.Query]:
        return [*self.others, self.outlets] if outlets and self.outlets else list(self.others)

    def chosen_outlets(self) -> str:
        """The outlet filter as a query string, as a filter aggregation takes it."""
        return " OR ".join(f"outlet:{pk}" for pk in self.outlet_ids)


def _ids(model: type[Model], slugs: frozenset[str]) -> list[int]:
    if not slugs:
        return []
    found = list(model.objects.filter(slug__in=slugs).values_list("pk", flat=True))
    # A slug that names nothing matches no article (the form refuses one anyway).
    return found if len(found) == len(slugs) else [*found, 0]


def _published_between(selection: Selection) -> tantivy.Query:
    lower = day_start(selection.date_from) if selection.date_from else None
    upper = day_end(selection.date_to) if selection.date_to else None
    return tantivy.Query.range_query(
        SCHEMA,
        "published",
        tantivy.FieldType.Integer,
        tantivy_index.microseconds(lower) if lower else None,
        tantivy_index.microseconds(upper) if upper else None,
    )


def _all_of(queries) -> tantivy.Query:
    """The articles every one of `queries` (None: no condition) finds; every article
    when there is none."""
    wanted = [q for q in queries if q is not None]
    if not wanted:
        return tantivy.Query.all_query()
    if len(wanted) == 1:
        return wanted[0]
    return tantivy.Query.boolean_query([(Occur.Must, q) for q in wanted])


# --- Date order ----------------------------------------------------------------


def _by_date(searcher, query, *, oldest: bool, stop: int) -> list:
    """The addresses of the first `stop` matches newest (or oldest) first, ties by id
    as in the database: tantivy orders by the date key alone, so the articles sharing
    the last key taken are read whole and put in order."""
    field = "oldest" if oldest else "newest"
    order = tantivy.Order.Asc if oldest else tantivy.Order.Desc
    hits = searcher.search(query, stop, count=False, order_by_field=field, order=order).hits
    keyed = [(key, address) for key, address in hits]
    if len(keyed) == stop:
        last = keyed[-1][0]
        tie = tantivy.Query.range_query(SCHEMA, field, tantivy.FieldType.Integer, last, last)
        tied_query = _all_of([query, tie])
        size = searcher.search(tied_query, 1, count=True).count
        tied = searcher.search(tied_query, size, count=False).hits
        keyed = [(k, a) for k, a in keyed if k != last] + [(last, a) for _, a in tied]
    ids = searcher.fast_field_values("id", [address for _, address in keyed])
    rows = sorted(zip(keyed, ids, strict=True), key=lambda row: (row[0][0], row[1]))
    if not oldest:
        rows.reverse()
    return [address for (_, address), _ in rows[:stop]]


def _stories(searcher, ids: list[int], addresses: list) -> dict[int, int]:
    """The story of each of `ids` (at `addresses`) that has other public copies."""
    stories = searcher.fast_field_values("story", addresses)
    return {pk: story for pk, story in zip(ids, stories, strict=True) if story is not None}


# --- Facets --------------------------------------------------------------------


def _terms(field: str, size: int, *, one_segment: bool = False) -> dict:
    """The first `size` values of `field` by count. A segment's first `size` are
    exact: merged from several, each must give more (SEGMENT_TERMS)."""
    each = size if one_segment else SEGMENT_TERMS
    return {"terms": {"field": field, "size": size, "segment_size": each}}


OUTLETS = {"outlet": _terms("outlet", SEGMENT_TERMS)}
# The leading entities of every kind, among a rebuild's documents and among those
# indexed since (tantivy_index.ENTITY_KEYS or ENTITY_KEYS_LEADING, ENTITY_KEYS_ADDED).
LEADERS, ADDED = "entity_leaders", "entity_added"
# Where the documents of the index's last rebuild lie (`_layout`), which decides how
# the entities are counted: in an index of one segment (after a rebuild, until a
# load or an edit commits another, or once merged), each column's leaders; with the
# rebuild's documents in one segment and others in more, its leaders and every
# entity of the others; else (None) each kind on its own.
ONE_SEGMENT, REBUILT_TOGETHER = "one segment", "rebuilt together"


def facet_aggregations(layout: str | None = None, *, leading_only: bool = False) -> dict:
    """Every facet as one Elasticsearch-style aggregation request; the entities as
    `layout` (`_layout`) allows, which `_split_leaders` turns into each kind's counts,
    of the rebuild's documents only the leading entities if `leading_only`."""
    if layout is None:
        entities = _entity_aggregations(ENTITY_CANDIDATES)
    else:
        one = layout == ONE_SEGMENT
        entities = {
            LEADERS: _rebuilt_leaders(leading_only),
            ADDED: _terms(tantivy_index.ENTITY_KEYS_ADDED, _added_size(layout), one_segment=one),
            **_entity_aggregations(
                ENTITY_CANDIDATES, one_segment=one, kinds=tantivy_index.KINDS_COUNTED_ALONE
            ),
        }
    return {
        **OUTLETS,
        "month": _terms("month", SEGMENT_TERMS),
        "kind": _terms("kind", 10),
        "topic": _terms("topics", SEGMENT_TERMS),
        **entities,
    }


def _rebuilt_leaders(leading_only: bool) -> dict:
    keys = tantivy_index.ENTITY_KEYS_LEADING if leading_only else tantivy_index.ENTITY_KEYS
    return _terms(keys, ENTITY_LEADERS, one_segment=True)


def _added_size(layout: str) -> int:
    """How many entities of the documents indexed since the last rebuild are asked
    for: their leaders when they share its segment, else every one."""
    return ENTITY_LEADERS if layout == ONE_SEGMENT else SEGMENT_TERMS


def _entity_aggregations(
    size: int = SEGMENT_TERMS, *, one_segment: bool = False, kinds=tantivy_index.ENTITY_KINDS
) -> dict:
    return {
        f"entity_{kind}": _terms(entity_field(kind), size, one_segment=one_segment)
        for kind in kinds
    }


# Facets are counted in a thread of their own while the page's articles are found and
# put in order: tantivy lets go of the GIL while it counts, so with a core to spare a
# search takes the longer of the two rather than their sum.
def _thread_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=4, thread_name_prefix="tantivy-facets")


_ALONGSIDE = _thread_pool()


def _renew_thread_pool() -> None:
    """A forked process (the bulk loader's workers) has none of its parent's threads:
    a pool that thought it had would never run what it is given."""
    global _ALONGSIDE
    _ALONGSIDE = _thread_pool()


os.register_at_fork(after_in_child=_renew_thread_pool)


def _every_count(searcher, text, bounds, filters: Filters, selection: Selection, generation):
    """(Every facet's counts over the matches, as `_facet_counts` gives them; the
    outlet facet's, over the matches in any outlet.)"""
    if not selection.outlets:
        counts = _facet_counts(searcher, text, bounds, filters.all(), selection, generation)
        return counts, counts
    any_outlet = _AnyOutlet(_all_of([text, *filters.all(outlets=False)]), filters.chosen_outlets())
    counts = _facet_counts(searcher, text, bounds, filters.all(), selection, generation, any_outlet)
    if ANY_OUTLET in counts:  # counted with the matches
        return counts, {"outlet": counts.pop(ANY_OUTLET)}
    return counts, searcher.aggregate(any_outlet.query, OUTLETS)


class _AnyOutlet(NamedTuple):
    """The matches in any outlet (`query`), and the chosen outlets as a query string
    (`chosen`): what the outlet facet counts beside the matches' facets."""

    query: tantivy.Query
    chosen: str


def _facet_counts(
    searcher,
    text,
    bounds,
    filters: list,
    selection: Selection,
    generation,
    any_outlet: _AnyOutlet | None = None,
):
    """Every facet's counts (as `facet_aggregations` and STORY_AGGREGATIONS give them)
    for the articles `filters` and `text` find. When the text matches most of the
    filtered articles (MOST_SHARE), those are the filtered articles' counts, kept per
    commit, less the counts of the few that do not match: a word in most of an archive
    ("said", "Ukraine") costs what a rare one does. Without a text they are the kept
    counts themselves: the whole archive's facets cost nothing once counted. `bounds`:
    `_match_bounds` of the text; `any_outlet`: counted alongside when the matches are
    (`_counted`)."""
    query = _all_of([text, *filters])
    filtered = _all_of(filters)
    key = (generation, astuple(selection))
    kept = _kept.articles(key, lambda: _count(searcher, filtered))
    # The text's most times the filters' share, as if the two were unrelated.
    most = bounds[1] if bounds is not None else searcher.num_docs
    expected = most * kept // max(searcher.num_docs, 1)
    totals = _kept.get(key)
    if (
        generation is None
        or generation % 2  # a commit under way: nothing to keep counts for
        or (totals is None and not _kept.quiet(generation))
        or (text is not None and not _finds_most(searcher, query, bounds, kept))
    ):
        return _counted(searcher, query, expected, any_outlet)
    try:
        totals = totals or _Totals(_every_value(searcher, filtered))
        missing = NOTHING_MISSING
        if text is not None:
            unmatched = tantivy.Query.boolean_query([(Occur.Must, filtered), (Occur.MustNot, text)])
            missing = _every_value(searcher, unmatched, totals.sizes)
    except ValueError as exc:
        if not _over_bucket_limit(exc):
            raise
        # A facet with more values than one answer holds.
        return _counted(searcher, query, expected, any_outlet)
    if tantivy_index.commit_generation() != generation:  # the searcher may be newer
        return _counted(searcher, query, expected, any_outlet)
    _kept.keep(key, totals)
    return totals.less(missing)


def _finds_most(searcher, query, bounds: tuple[int, int], filtered: int) -> bool:
    """Whether `query`, a text whose matches are within `bounds` and filters that keep
    `filtered` articles, finds more than MOST_SHARE of those; counted only when the
    bounds cannot tell. The filters leave out at most the archive's other articles, so
    at least `least` less those are among the filtered. A text in at most half that
    share of the archive is taken to be in less of the filtered too, uncounted: the
    count costs about what counting the facets does, and a wrong guess only costs
    time (`_facet_counts` is exact either way)."""
    least, most = bounds
    enough = MOST_SHARE * filtered
    if min(most, filtered) <= enough or most <= MOST_SHARE / 2 * searcher.num_docs:
        return False
    if least - (searcher.num_docs - filtered) > enough:
        return True
    return _count(searcher, query) > enough


def _every_value(searcher, query, sizes: dict[str, int] | None = None) -> dict:
    """EVERY_VALUE over the articles `query` finds, in as few requests as tantivy's
    bucket limit allows: in one when its answer fits; else packed by `sizes` (at most
    how many values each aggregation has, as a `_Totals` over more articles knows),
    or one aggregation a request."""
    try:
        return searcher.aggregate(query, EVERY_VALUE)
    except ValueError as exc:
        if not _over_bucket_limit(exc):
            raise
    if sizes is None:
        groups = [{name: spec} for name, spec in EVERY_VALUE.items()]
    else:
        groups, used = [{}], 0
        for name, spec in EVERY_VALUE.items():
            if groups[-1] and used + sizes[name] > MAX_BUCKETS:
                groups.append({})
                used = 0
            groups[-1][name] = spec
            used += sizes[name]
    counts = {}
    for group in groups:
        counts.update(searcher.aggregate(query, group))
    return counts


def _over_bucket_limit(error: ValueError) -> bool:
    return BUCKET_LIMIT_ERROR in str(error)


def _count(searcher, query) -> int:
    return searcher.search(query, 1, count=True).count


def _counted(searcher, query, expected: int, any_outlet: _AnyOutlet | None = None) -> dict:
    """Every facet's counts over the articles `query` finds, about `expected` of them
    (which only chooses how the entities are counted); with `any_outlet`, also the
    outlet facet over the matches in any outlet (ANY_OUTLET)."""
    build = _recorded_build(searcher)
    layout = _layout(searcher, build)
    rare_most = build.rare_most if build is not None else None
    if rare_most is not None and expected <= LEADING_ALONE_PAST * rare_most:
        rare_most = None  # every entity of the rebuild's documents counted
    leading_only = rare_most is not None
    try:
        counts = _aggregate(
            searcher,
            query,
            {**facet_aggregations(layout, leading_only=leading_only), **STORY_AGGREGATIONS},
            any_outlet,
        )
    except ValueError as exc:
        # Past tantivy's bucket limit only when every entity of the documents indexed
        # since the rebuild is asked for, and they are many: each kind on its own.
        if layout != REBUILT_TOGETHER or not _over_bucket_limit(exc):
            raise
        layout = None
        counts = _aggregate(
            searcher, query, {**facet_aggregations(), **STORY_AGGREGATIONS}, any_outlet
        )
    if layout is not None:
        _split_leaders(searcher, query, counts, layout, rare_most)
    _widen_tied_entities(searcher, query, counts)
    return counts


# The outlet facet over the matches in any outlet, and the chosen outlets' matches, in
# one answer (`_aggregate`).
ANY_OUTLET, CHOSEN = "outlet_any", "chosen"


def _aggregate(searcher, query, aggregations: dict, any_outlet: _AnyOutlet | None) -> dict:
    """`aggregations` over the articles `query` finds; with `any_outlet` (whose query
    and chosen outlets find the same), from one pass over the matches in any outlet,
    the chosen outlets' counted through a filter aggregation, and the outlet facet
    over them all as ANY_OUTLET: one request where there were two (docs/benchmarks.md)."""
    if any_outlet is None:
        return searcher.aggregate(query, aggregations)
    answer = searcher.aggregate(
        any_outlet.query,
        {
            ANY_OUTLET: OUTLETS["outlet"],
            CHOSEN: {"filter": any_outlet.chosen, "aggs": aggregations},
        },
    )
    return {**{name: answer[CHOSEN][name] for name in aggregations}, ANY_OUTLET: answer[ANY_OUTLET]}


def _layout(searcher, build: tantivy_index.OneSegmentBuild | None) -> str | None:
    """Where the documents of the index's last rebuild lie, as `facet_aggregations`
    takes it: ONE_SEGMENT, REBUILT_TOGETHER when the rebuild recorded that it wrote one
    segment and this searcher's index holds that rebuild's documents (`build`, its
    `_recorded_build`: the record may be of a newer or an older index), else None."""
    if searcher.num_segments == 1:
        return ONE_SEGMENT
    if build is not None:
        return REBUILT_TOGETHER
    return None


def _recorded_build(searcher) -> tantivy_index.OneSegmentBuild | None:
    """The record of the rebuild that wrote one segment, when this searcher's index
    holds that rebuild's documents."""
    build = tantivy_index.one_segment_build()
    if build is not None and searcher.doc_freq(tantivy_index.BUILD, build.number) > 0:
        return build
    return None


class _Leaders(NamedTuple):
    """The leading entities of a column (entity key -> articles), and the most
    articles an entity not among them can be named in."""

    counts: dict[int, int]
    beyond: int


def _leaders(result: dict, size: int) -> _Leaders:
    buckets = result["buckets"]
    beyond = buckets[-1]["doc_count"] if len(buckets) == size else 0
    return _Leaders({bucket["key"]: bucket["doc_count"] for bucket in buckets}, beyond)


def _split_leaders(searcher, query, counts: dict, layout: str, rare_most: int | None) -> None:
    """The entity leaders in `counts` (LEADERS, ADDED) as each kind's counts, as
    `_entity_aggregations` gives them (but KINDS_COUNTED_ALONE, counted already): a
    kind's entities known exactly where they settle its first ENTITIES_PER_KIND
    places (`_settled_places`), else that kind counted on its own. With `rare_most`,
    LEADERS are of the rebuild's leading entities only, and any other has at most
    that many of its documents."""
    leaders = _leaders(counts.pop(LEADERS), ENTITY_LEADERS)
    rebuilt = (leaders,) if rare_most is None else (leaders, _Leaders({}, rare_most))
    added = _leaders(counts.pop(ADDED), _added_size(layout))
    kinds = [
        kind for kind in tantivy_index.ENTITY_KINDS if kind not in tantivy_index.KINDS_COUNTED_ALONE
    ]
    keys_of = {kind: set() for kind in kinds}
    for key in itertools.chain(*(column.counts for column in (*rebuilt, added))):
        _, kind = tantivy_index.entity_of_key(key)
        if kind in keys_of:
            keys_of[kind].add(key)
    unsettled = []
    for kind, keys in keys_of.items():
        places = _settled_places(keys, rebuilt, added)
        if places is None:
            unsettled.append(kind)
        else:
            counts[f"entity_{kind}"] = {"buckets": places}
    if unsettled:
        one = layout == ONE_SEGMENT
        alone = _entity_aggregations(ENTITY_CANDIDATES, one_segment=one, kinds=unsettled)
        counts.update(searcher.aggregate(query, alone))


def _settled_places(
    keys: set[int], rebuilt: tuple[_Leaders, ...], added: _Leaders
) -> list[dict] | None:
    """The entities (keys of one kind) whose counts the leaders give exactly, most
    named first, when they hold every entity of the kind that can take or share one
    of its first ENTITIES_PER_KIND places: the last of those places is named more
    often than any other entity can be. Else None.
    `rebuilt`: the leaders of the rebuild's documents, in columns that name disjoint
    entities; `added`: of the documents indexed since. An entity's count is exact
    where a column of each names it, or none can hide more of it."""
    hidden = max(column.beyond for column in rebuilt)  # in none of `rebuilt`'s leaders
    exact, most_other = [], hidden + added.beyond
    for key in keys:
        known = next((column.counts[key] for column in rebuilt if key in column.counts), None)
        least, most = (known, known) if known is not None else (0, hidden)
        least += added.counts.get(key, 0)
        most += added.counts.get(key, added.beyond)
        if least == most:
            exact.append((least, key))
        else:
            most_other = max(most_other, most)
    exact.sort(reverse=True)
    if len(exact) < ENTITIES_PER_KIND:
        settled = most_other == 0
    else:
        settled = exact[ENTITIES_PER_KIND - 1][0] > most_other
    if not settled:
        return None
    return [{"key": tantivy_index.entity_of_key(key)[0], "doc_count": n} for n, key in exact]


class _KeptTotals:
    """This process's totals, by (commit generation, filter choice): those of the
    latest commit only, for its last few filter choices (each holds a count for
    every entity); and for more choices, how many articles they keep."""

    SIZE = 4
    ARTICLE_COUNTS = 256

    def __init__(self):
        self._by_key: dict[tuple, _Totals] = {}
        self._articles: dict[tuple, int] = {}
        self._lock = threading.Lock()  # a worker may run several threads
        self._last_generation: int | None = None

    def get(self, key: tuple) -> _Totals | None:
        return self._by_key.get(key)

    def keep(self, key: tuple, totals: _Totals) -> None:
        self._keep(self._by_key, key, totals, self.SIZE)

    def articles(self, key: tuple, count: Callable[[], int]) -> int:
        """How many articles the filter choice of `key` keeps: its totals', or
        `count()` once per commit. It only chooses between two exact ways of counting
        facets (`_facet_counts`), so a count a commit has just changed does no harm."""
        if (totals := self._by_key.get(key)) is not None:
            return totals.articles
        if (found := self._articles.get(key)) is None:
            found = count()
            self._keep(self._articles, key, found, self.ARTICLE_COUNTS)
        return found

    def _keep(self, kept: dict, key: tuple, value, size: int) -> None:
        with self._lock:
            for old in [k for k in kept if k[0] != key[0]]:
                del kept[old]
            kept.pop(key, None)
            kept[key] = value
            while len(kept) > size:
                del kept[next(iter(kept))]

    def quiet(self, generation: int) -> bool:
        """Whether the index has not changed since this process's last search.
        Totals cost half as much again as the matches' counts; while a load commits
        between searches they would be counted anew for each one, so they wait for a
        quiet index."""
        quiet = self._last_generation == generation
        self._last_generation = generation
        return quiet


_kept = _KeptTotals()


class _Totals:
    """Every facet value's count over some articles, from an EVERY_VALUE aggregation;
    `less` gives the counts over all but some of them."""

    SMALL = ("outlet", "month", "kind", "topic")

    def __init__(self, counts: dict):
        # How many values each aggregation has here: at most that many elsewhere.
        self.sizes = {name: len(result.get("buckets", [None])) for name, result in counts.items()}
        self.small = {name: _buckets(counts, name) for name in self.SMALL}
        self.articles = _articles_in(counts)
        self.story_copies = counts["story_copies"]["value"]
        self.stories = _buckets(counts, "stories")
        # The copies past each story's first: what `story_count` takes from the matches.
        self.later_copies = sum(n - 1 for n in self.stories.values())
        # Most counted first, so that `less` reads only the entities that can lead.
        self.entities = {
            name: sorted(_buckets(counts, name).items(), key=lambda item: -item[1])
            for name in _entity_aggregations()
        }

    def less(self, missing: dict) -> dict:
        """The counts of `facet_aggregations` and STORY_AGGREGATIONS over these
        articles but those `missing` (an EVERY_VALUE aggregation over them) counts."""
        counts = {}
        for name, totals in self.small.items():
            counts[name] = _as_buckets(_counts_less(totals, _buckets(missing, name)))
        for name, ranked in self.entities.items():
            counts[name] = _as_buckets(_contending_less(ranked, _buckets(missing, name)))
        counts["story_copies"] = {"value": self.story_copies - missing["story_copies"]["value"]}
        counts["stories"] = self._stories_less(_buckets(missing, "stories"))
        return counts

    def _stories_less(self, missing: dict) -> dict:
        """The stories' part of `less`. Totals that hold every story give the copies
        past each story's first directly (a story's missing copies take from those,
        down to its first), and `story_count` needs no second request however many
        copies there are; else the stories with copies, as STORY_AGGREGATIONS asks."""
        if len(self.stories) < SEGMENT_TERMS:
            taken = sum(min(m, self.stories.get(key, 1) - 1) for key, m in missing.items())
            return {"later_copies": self.later_copies - taken}
        return _as_buckets(_counts_less(self.stories, missing), least=2)


def _counts_less(totals: dict, missing: dict) -> dict:
    """`totals` less `missing`. The missing articles are few (MOST_SHARE): the totals
    are copied and only their values changed, not every value looked up."""
    counted = dict(totals)
    for key, n in missing.items():
        if key in counted:
            counted[key] -= n
    return counted


def _contending_less(ranked: list[tuple], missing: dict) -> dict:
    """Of entities ranked by a total count, the counts less `missing` of those that
    can take one of the first ENTITIES_PER_KIND places (ties included): an entity
    whose total is below the last place's count cannot reach it."""
    found: dict = {}
    floor = 0
    for key, total in ranked:
        if total < floor:
            break
        found[key] = total - missing.get(key, 0)
        if len(found) >= ENTITIES_PER_KIND:
            floor = sorted(found.values(), reverse=True)[ENTITIES_PER_KIND - 1]
    return found


def _as_buckets(counts: dict, least: int = 1) -> dict:
    return {"buckets": [{"key": k, "doc_count": n} for k, n in counts.items() if n >= least]}


def _widen_tied_entities(searcher, query, counts: dict) -> None:
    """Entities are ordered by count and then name. When the candidates of a kind
    end in a tie with its last place shown, an entity left out of them could come
    first by name: count that kind's every entity instead."""
    for kind in tantivy_index.ENTITY_KINDS:
        name = f"entity_{kind}"
        found = sorted(_buckets(counts, name).values(), reverse=True)
        if len(found) == ENTITY_CANDIDATES and found[-1] == found[ENTITIES_PER_KIND - 1]:
            wider = {name: _terms(entity_field(kind), SEGMENT_TERMS)}
            counts[name] = searcher.aggregate(query, wider)[name]


def _articles_in(counts: dict) -> int:
    """How many articles facet counts are over: every article has a kind."""
    return sum(_buckets(counts, "kind").values())


def _buckets(result: dict, name: str) -> dict:
    return {bucket["key"]: bucket["doc_count"] for bucket in result[name]["buckets"]}


def _facets(counts: dict, base: dict, selection: Selection) -> Facets:
    outlets = _buckets(base, "outlet")
    topics = _buckets(counts, "topic")
    entities = {}
    for kind in tantivy_index.ENTITY_KINDS:
        entities.update(_contenders(_buckets(counts, f"entity_{kind}"), ENTITIES_PER_KIND))
    names = _names(outlets=outlets, topics=topics, entities=entities)
    return Facets(
        outlet=outlet_values(
            [(slug, name, outlets[pk]) for pk, slug, name, _ in names["outlet"]], selection
        ),
        topic=_top(
            [
                FacetValue(slug, name, topics[pk], slug in selection.topics)
                for pk, slug, name, _ in names["topic"]
            ],
            FACET_SIZE,
        ),
        entity=_entity_values(entities, names["entity"], selection),
        month=month_values(
            {
                f"{int(m) // 100:04d}-{int(m) % 100:02d}": n
                for m, n in _buckets(counts, "month").items()
            },
            selection,
        ),
        kind=kind_values(_buckets(counts, "kind"), selection),
    )


def _contenders(counts: dict, places: int) -> dict:
    """The values that can take one of the first `places` by count and then name
    (those tied with the last place included): only their names need reading."""
    if len(counts) <= places:
        return counts
    floor = sorted(counts.values(), reverse=True)[places - 1]
    return {value: n for value, n in counts.items() if n >= floor}


def _names(*, outlets=(), topics=(), entities=()) -> dict[str, list[tuple]]:
    """(id, slug, name, kind) of the outlets, topics and entities (ids) a search
    counted, by table, in one query (as three, they cost as much as the counting)."""
    found: dict[str, list[tuple]] = {"outlet": [], "topic": [], "entity": []}
    if not (outlets or topics or entities):
        return found
    with connections[router.db_for_read(Entity)].cursor() as cursor:
        cursor.execute(_NAMES_SQL, [[int(pk) for pk in ids] for ids in (outlets, topics, entities)])
        for table, *row in cursor.fetchall():
            found[table].append(tuple(row))
    return found


_NAMES_SQL = """
SELECT 'outlet', id, slug, name, '' FROM articles_outlet WHERE id = ANY(%s)
UNION ALL
SELECT 'topic', id, slug, name, '' FROM articles_topic WHERE id = ANY(%s)
UNION ALL
SELECT 'entity', id, slug, name, kind FROM articles_entity WHERE id = ANY(%s)
"""


def _top(values: list[FacetValue], size: int) -> list[FacetValue]:
    return sorted(values, key=lambda v: (-v.count, v.label))[:size]


def _entity_values(counts: dict, named: list[tuple], selection: Selection) -> list[FacetValue]:
    values = [
        FacetValue(slug, name, counts[pk], slug in selection.entities, kind=kind)
        for pk, slug, name, kind in named
    ]
    by_kind = []
    for kind in sorted(tantivy_index.ENTITY_KINDS):  # as the database's facet: by kind
        by_kind += _top([v for v in values if v.kind == kind], ENTITIES_PER_KIND)
    return by_kind


# Articles per month, and per outlet within each month.
MONTHS_BY_OUTLET = {"months": {**_terms("month", SEGMENT_TERMS), "aggs": OUTLETS}}


def _monthly(counts: dict, outlets: dict[int, tuple[str, str]]) -> list[tuple]:
    """`MONTHS_BY_OUTLET` as rows of `monthly_row` (`outlets`: id -> slug, name); a
    month's articles without an outlet (none of its outlet buckets) count under an
    unknown one."""
    rows = []
    for bucket in counts["months"]["buckets"]:
        key = int(bucket["key"])
        month = date(key // 100, key % 100, 1)
        for by_outlet in bucket["outlet"]["buckets"]:
            slug, name = outlets[int(by_outlet["key"])]
            rows.append(monthly_row(month, slug, name, by_outlet["doc_count"]))
        without_outlet = bucket["doc_count"] - sum(
            b["doc_count"] for b in bucket["outlet"]["buckets"]
        )
        if without_outlet:
            rows.append(monthly_row(month, None, None, without_outlet))
    return rows


def _co_mentioned(searcher, query, counts: dict, own: Selection, limit: int) -> list[FacetValue]:
    """The `limit` entities named in the most of the articles `query` finds, but the
    list's own, ties by name; `counts["entities"]` are the most named of them."""
    found = _buckets(counts, "entities")
    own_ids = set(_ids(Entity, own.entities))
    ranked = sorted((n for pk, n in found.items() if int(pk) not in own_ids), reverse=True)
    if len(found) == ENTITY_CANDIDATES and len(ranked) >= limit and ranked[-1] == ranked[limit - 1]:
        # A tie at the last place shown: an entity left out could come first by name.
        wider = {"entities": _terms("entities", SEGMENT_TERMS)}
        found = _buckets(searcher.aggregate(query, wider), "entities")
    others = _contenders({pk: n for pk, n in found.items() if int(pk) not in own_ids}, limit)
    return _top(
        [
            FacetValue(slug, name, others[pk], kind=kind)
            for pk, slug, name, kind in _names(entities=others)["entity"]
        ],
        limit,
    )


# --- Stories -------------------------------------------------------------------


def _copied_stories(size: int) -> dict:
    """The stories with more than one copy among the matches, and how many."""
    terms = _terms("story", size)
    terms["terms"]["min_doc_count"] = 2
    return terms


# The copies among the matches (articles with a `story`: tantivy_index.py) and how
# many of them each story has. A story with one copy among the matches counts the
# same whether its article has a `story` or not, so only those with more come back.
STORY_AGGREGATIONS = {
    "story_copies": {"value_count": {"field": "story"}},
    "stories": _copied_stories(SEGMENT_TERMS),
}


# Every value of every facet and every story's copies: what `_Totals` keeps.
EVERY_VALUE = {
    **facet_aggregations(),
    **_entity_aggregations(),
    "story_copies": STORY_AGGREGATIONS["story_copies"],
    "stories": _terms("story", SEGMENT_TERMS),
}
# EVERY_VALUE's answer over no articles: what `_Totals.less` takes from a search
# without a text, which finds every article its filters keep.
NOTHING_MISSING = {
    **{name: {"buckets": []} for name in EVERY_VALUE},
    "story_copies": {"value": 0},
}


def story_count(searcher, query, matches: int, counts: dict) -> int:
    """The exact number of stories among `matches`: each match is one, less the
    other copies of each story. A terms aggregation is exact while no index segment
    has more stories than it is asked for (tantivy's cardinality aggregation is an
    estimate); past that, which `story_copies` bounds, it is asked for them all,
    unless the counts came from totals that hold every story (`_Totals.less`)."""
    stories = counts["stories"]
    if "later_copies" in stories:  # from totals that hold every story
        return matches - stories["later_copies"]
    copies = int(counts["story_copies"]["value"])
    if copies > SEGMENT_TERMS:
        stories = searcher.aggregate(query, {"stories": _copied_stories(copies)})["stories"]
    return matches - sum(bucket["doc_count"] - 1 for bucket in stories["buckets"])
