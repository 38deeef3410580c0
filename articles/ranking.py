"""BM25 relevance computed in PostgreSQL over the stored search vectors (issue 5).

ts_rank knows nothing of how rare a word is, so a common word of a query counted
as much as a rare one; BM25 weighs each query term by its inverse document
frequency and saturates its term frequency. On the judged collections
(`manage.py benchmark --ir`, docs/benchmarks.md) it ranks better than ts_rank.

For each positive query term i (with its spellings, as search.TextQuery builds it):

    score = Σ idf_i · tf_i · (k1 + 1) / (tf_i + k1 · (1 - b + b · dl / avgdl))

- tf_i: 5 · ts_rank_cd('{0.2,0.2,0.4,1.0}', vector, term_i). For one term
  ts_rank_cd adds the weights of its occurrences, so an occurrence in a title (A)
  counts 5, in a kicker, dek or entry heading (B) 2, in a body (C) 1.
- idf_i: ln(1 + (n - df + 0.5) / (df + 0.5)), df the smallest document frequency
  among the lexemes of the term as typed; a word the statistics do not know
  (a prefix, a word newer than the last refresh) counts as rare.
- dl: the vector's number of lexemes; avgdl their mean over the archive.

The statistics (migration 0008) are refreshed at the end of every load
(`refresh_term_statistics`); a search reads them with its words (search/words.py).
Without them (articles created directly, as in tests) every term weighs the same
and dl / avgdl is taken as 1: ranking still works.
"""

from __future__ import annotations

import math

from django.db import connections, router, transaction
from django.db.models import F, FloatField, Func

from articles.models import Article

K1 = 1.2
B = 0.75
# ts_rank_cd weights for D, C, B, A, and the factor turning them into counts.
TF_WEIGHTS = "{0.2,0.2,0.4,1.0}"
TF_SCALE = 5

_REFRESH_TERMS = """
INSERT INTO articles_termstat (lexeme, df)
SELECT word, ndoc FROM ts_stat('SELECT search_vector FROM articles_article')
"""
# Two loads that end together would both insert every lexeme; the second waits for
# the first to commit, then replaces its figures. The key is arbitrary but fixed.
_REFRESH_LOCK = "SELECT pg_advisory_xact_lock(hashtext('articles.refresh_term_statistics'))"
_REFRESH_CORPUS = """
INSERT INTO articles_corpusstat (id, n, avgdl)
SELECT 1, count(*), avg(length(search_vector)) FROM articles_article
ON CONFLICT (id) DO UPDATE SET n = EXCLUDED.n, avgdl = EXCLUDED.avgdl
"""


def refresh_term_statistics(using: str | None = None) -> tuple[int, int]:
    """Recompute every lexeme's document frequency and the corpus size and mean
    length, in one transaction (searches meanwhile use the previous figures); one
    refresh at a time.
    Reads every article vector.
    Returns (lexemes, articles)."""
    using = using or router.db_for_write(Article)
    with transaction.atomic(using), connections[using].cursor() as cursor:
        cursor.execute(_REFRESH_LOCK)
        # DELETE, not TRUNCATE: TRUNCATE would lock searches out until the commit.
        cursor.execute("DELETE FROM articles_termstat")
        cursor.execute(_REFRESH_TERMS)
        lexemes = cursor.rowcount
        cursor.execute(_REFRESH_CORPUS)
        cursor.execute("SELECT n FROM articles_corpusstat")
        (articles,) = cursor.fetchone()
    return lexemes, articles


def statistics_are_stale(using: str | None = None) -> bool:
    """The statistics do not count the archive's articles: a load was killed before
    its refresh, or articles were added or removed another way since."""
    using = using or router.db_for_write(Article)
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT max(n) FROM articles_corpusstat) "
            "IS DISTINCT FROM (SELECT count(*) FROM articles_article)"
        )
        return cursor.fetchone()[0]


def idf(articles: int, df: int) -> float:
    """BM25's inverse document frequency of a term held by `df` of `articles`."""
    return math.log(1 + (max(articles - df, 0) + 0.5) / (df + 0.5))


# The term weights (idf) and the mean length come as parameters, read with the query's
# words (search/words.py): as subqueries of their own they cost more to plan than a
# few hundred articles do to score (docs/benchmarks.md).
_IDF = "%s::float8"
_K = "{k1} * (1 - {b} + {b} * coalesce(length({v}.v) / nullif(%s::float8, 0), 1))".format(
    k1=K1, b=B, v="{v}"
)
# Only compiled SQL and numbers are formatted into these; values are parameters.
# One vector's BM25 (`score`) and its length normalisation (`k`). The vector is read
# (detoasted, decompressed) once, by ts_delete(v, ''), and the term frequencies come
# from a LATERAL subquery: both need OFFSET 0, or PostgreSQL inlines them and reads
# the vector again for every term (docs/benchmarks.md).
_BM25 = (
    "SELECT {score} AS score, {x}.k AS k, {v}.v AS v "
    "FROM (SELECT ts_delete({vector}, ''::text) AS v OFFSET 0) AS {v} "
    "CROSS JOIN LATERAL (SELECT {k} AS k, {tfs} OFFSET 0) AS {x}"
)
# An entry heading is only in its section's vector, so the best matching section is
# scored too, with its own term frequencies but its article's length: a live blog is
# ranked as one document, and a short entry does not outrank a whole article on the
# subject (measured: the same quality on the judged collections).
# Most articles are one section without a heading (no entries: Article.has_entries),
# whose vector is the body part (C) of the article's own (the loaders write the one
# body to both): it can score no higher than the article, and it matches where that
# part does (`archive_body_query`, migration 0025, tests that part in place). So only
# other articles' sections are read.
# `_m`: the matching sections' best score (`best`) or what gives it, and their number.
_RANK = (
    "(SELECT CASE WHEN NOT {has_entries} THEN _a.score + CASE WHEN _a.v @@ "
    "archive_body_query({query}) THEN {bonus} * 1 / (1 + 3.0) ELSE 0 END "
    "ELSE (SELECT greatest(_a.score, coalesce({best}, 0)) + {bonus} * _m.n / (_m.n + 3.0) "
    "FROM (SELECT {best_of_sections}, count(*) AS n FROM articles_section AS _s "
    "WHERE _s.article_id = {pk} AND _s.search_vector @@ {query}) AS _m) END "
    "FROM ({article}) AS _a)"
)


def _bm25(vector: str, terms: list[tuple[str, list, float]], alias: str, k: tuple[str, list]):
    """(SQL, params) of `_BM25` for the vector `vector` (SQL) and `terms`: (tsquery SQL,
    its params, idf); `k`: (SQL, params) of the length normalisation (`_own_length`)."""
    v, x = f"{alias}_v", f"{alias}_x"
    score_sql, score_params = [], []
    tf_sql, tf_params = [], []
    for i, (query, query_params, weight) in enumerate(terms):
        score_sql.append(f"{_IDF} * {x}.tf{i} * {K1 + 1} / ({x}.tf{i} + {x}.k)")
        score_params.append(weight)
        tf_sql.append(f"{TF_SCALE} * ts_rank_cd('{TF_WEIGHTS}', {v}.v, {query}) AS tf{i}")
        tf_params += query_params
    score, tfs = " + ".join(score_sql), ", ".join(tf_sql)
    k_sql, k_params = k
    sql = _BM25.format(score=score, vector=vector, tfs=tfs, v=v, x=x, k=k_sql)
    return sql, [*score_params, *k_params, *tf_params]


def _own_length(alias: str, mean_length: float | None) -> tuple[str, list]:
    """(SQL, params) of `_K` for the vector of `_bm25`'s `alias`, against the archive's
    `mean_length` (None without statistics: every length counts as the mean)."""
    return _K.format(v=f"{alias}_v"), [mean_length]


class BM25Rank(Func):
    """An article's relevance: the greater of its own BM25 and that of its best
    section matching `search_query`, plus up to `section_bonus` for the number of
    matching sections (saturating). `terms`: (tsquery, idf) for each query term that
    counts (not the excluded ones); `mean_length`: the archive's mean vector length
    (`Corpus`).

    One correlated subquery per candidate, so the page query needs no GROUP BY.
    Without term statistics every term weighs the same and dl / avgdl counts as 1."""

    output_field = FloatField()

    def __init__(self, search_query, terms, *, mean_length: float | None, section_bonus: float):
        queries = [query for query, _ in terms]
        super().__init__(F("pk"), F("has_entries"), F("search_vector"), search_query, *queries)
        self.weights = [weight for _, weight in terms]
        self.mean_length = mean_length
        self.section_bonus = section_bonus

    def as_sql(self, compiler, connection, **extra_context):
        compiled = [compiler.compile(e) for e in self.get_source_expressions()]
        (pk, _), (has_entries, _), (vector, _), (query, query_params), *queries = compiled
        terms = [
            (sql, list(params), weight)
            for (sql, params), weight in zip(queries, self.weights, strict=True)
        ]
        article, article_params = _bm25(vector, terms, "_a", _own_length("_a", self.mean_length))
        (best, best_params), (of_sections, of_sections_params) = _best_section(terms)
        sql = _RANK.format(
            article=article,
            best=best,
            best_of_sections=of_sections,
            bonus=float(self.section_bonus),
            has_entries=has_entries,
            pk=pk,
            query=query,
        )
        # In order of appearance: the plain section's test, the other sections'.
        return sql, (
            *query_params,
            *best_params,
            *of_sections_params,
            *query_params,
            *article_params,
        )


_BEST_OF_SECTIONS = "max((SELECT _b.score FROM ({section}) AS _b)) AS best"


def _best_section(terms: list[tuple[str, list, float]]) -> tuple[tuple, tuple]:
    """((SQL, params) of the best matching section's score from `_m`, (SQL, params) of
    what `_m` aggregates over the sections for it), with the article's length (`_a.k`)."""
    if len(terms) == 1:
        # BM25 of one term grows with its frequency: the best section is the one where
        # the term counts most, scored once rather than every section.
        (query, query_params, weight) = terms[0]
        tf = f"max({TF_SCALE} * ts_rank_cd('{TF_WEIGHTS}', _s.search_vector, {query})) AS tf"
        best = f"{_IDF} * _m.tf * {K1 + 1} / (_m.tf + _a.k)"
        return (best, [weight]), (tf, query_params)
    section, section_params = _bm25("_s.search_vector", terms, "_b", ("_a.k", []))
    return ("_m.best", []), (_BEST_OF_SECTIONS.format(section=section), section_params)
