"""How the archive's text configuration and term statistics see a query's words:
which are stop words (no lexeme: "the", "of"), and how many articles hold each
(articles_termstat, refreshed after every load; articles/ranking.py). Queries of
more than MAX_TERMS words keep the rarest, the ones that tell articles apart. And
which of the archive's stems a prefix typed past them stands for ("negotiat*":
negoti, the stem of "negotiations")."""

from __future__ import annotations

from dataclasses import replace

from django.db import connections, router

from articles.models import Article
from articles.search.query import (
    MAX_TERMS,
    PHRASE,
    PREFIX,
    WORD,
    Corpus,
    ParsedQuery,
    QueryError,
    Term,
    check_length,
    fold,
    typed,
)
from articles.search_vectors import SEARCH_CONFIG

_WORD_SQL = """
SELECT w, cardinality(l.lexemes) = 0,
       (SELECT min(df) FROM articles_termstat WHERE lexeme = ANY(l.lexemes)),
       (SELECT max(n) FROM articles_corpusstat), (SELECT max(avgdl) FROM articles_corpusstat)
FROM unnest(%s::text[]) AS w
CROSS JOIN LATERAL (SELECT tsvector_to_array(to_tsvector(%s::regconfig, w)) AS lexemes) AS l
"""


def word_statistics(words: list[str]) -> tuple[dict[str, tuple[bool, int]], Corpus]:
    """(word -> (is a stop word, articles holding it; 0 when unknown), the corpus the
    statistics counted). One query."""
    if not words:
        return {}, Corpus()
    with connections[router.db_for_read(Article)].cursor() as cursor:
        cursor.execute(_WORD_SQL, [sorted(set(words)), SEARCH_CONFIG])
        rows = cursor.fetchall()
    statistics = {word: (stop, df or 0) for word, stop, df, _, _ in rows}
    _, _, _, articles, mean_length = rows[0]
    return statistics, Corpus(articles or 0, mean_length)


# Endings the English (Snowball) stemmer takes off a word, as they are written
# (-ity, -ly: the stemmer's -iti, -li), some inflected. A prefix typed into one of
# them ("negotiat" into -ation, "presiden" into -ent) reaches past the stem of its
# words ("negoti", "presid"): its completions with these endings find the stems.
ENDINGS = (
    *("e", "s", "es", "ed", "edly", "ing", "ingly", "y", "ies", "ied", "ly"),
    *("al", "ally", "ality", "alism", "alize", "ance", "ancy", "ence", "ency", "er", "ers"),
    *("ic", "ical", "icate", "icity", "able", "ably", "ability", "ible", "ibly", "ant", "ants"),
    *("ement", "ment", "ments", "ent", "ents", "ently", "ism", "ist", "ists", "ate", "ates"),
    *("ated", "ating", "ation", "ations", "ational", "ator", "ators", "ative", "ity", "ities"),
    *("ous", "ously", "ousness", "ive", "ively", "iveness", "ivity", "ize", "izes", "ized"),
    *("izing", "izer", "ization", "ion", "ions", "tional", "ful", "fully", "fulness", "ness"),
    *("less", "lessly", "ogy", "ogies"),
)


def completed_words(prefix: str) -> list[str]:
    """`prefix` completed with each of ENDINGS, also where it already holds the
    ending's start: "presiden" -> ..., "president" (-ent), "presidence" (-ence), ..."""
    words = {prefix}
    for ending in ENDINGS:
        for typed_part in range(len(ending)):
            if prefix.endswith(ending[:typed_part]):
                words.add(prefix + ending[typed_part:])
    return sorted(words)


_COMPLETION_SQL = """
SELECT DISTINCT w.prefix, s.lexeme
FROM unnest(%(prefixes)s::text[], %(folded)s::text[], %(words)s::text[])
    AS w(prefix, folded, word)
CROSS JOIN LATERAL unnest(tsvector_to_array(to_tsvector(%(config)s::regconfig, w.word)))
    AS l(lexeme)
JOIN articles_termstat AS s ON s.lexeme = l.lexeme
WHERE NOT s.lexeme ^@ w.folded
  AND NOT EXISTS (
    SELECT FROM unnest(tsvector_to_array(to_tsvector(%(config)s::regconfig, w.folded))) AS own(stem)
    WHERE s.lexeme ^@ own.stem
  )
ORDER BY 1, 2
"""


def prefix_completions(prefixes: list[str]) -> dict[str, tuple[str, ...]]:
    """prefix -> the archive's stems of words starting with it that start neither
    with the prefix nor with its own stem, so a prefix search would miss them:
    "negotiat" -> ("negoti",). The words tried are the prefix's `completed_words`. One
    query."""
    triples = [
        (prefix, fold(prefix), word)
        for prefix in sorted({p for p in prefixes if len(p) >= 3})
        for word in completed_words(fold(prefix))
    ]
    if not triples:
        return {}
    as_typed, folded, words = (list(column) for column in zip(*triples, strict=True))
    with connections[router.db_for_read(Article)].cursor() as cursor:
        cursor.execute(
            _COMPLETION_SQL,
            {"prefixes": as_typed, "folded": folded, "words": words, "config": SEARCH_CONFIG},
        )
        rows = cursor.fetchall()
    completions: dict[str, tuple[str, ...]] = {}
    for prefix, lexeme in rows:
        completions[prefix] = (*completions.get(prefix, ()), lexeme)
    return completions


def searchable(
    parsed: ParsedQuery,
) -> tuple[ParsedQuery, tuple[str, ...], tuple, dict, Corpus]:
    """`parsed` without its stop words and, past MAX_TERMS terms, without its commonest
    words: (the query, the stop words, the words left out, word -> articles holding
    it, for the words, the words of phrases and the prefixes, and the corpus the
    statistics counted). Phrases, prefixes and exclusions are kept as typed. Raises
    QueryError when no word is left."""
    words = [t for t in parsed.terms if t.kind == WORD]
    in_phrases = [w for t in parsed.terms if t.kind == PHRASE for w in t.text.split()]
    prefixes = [t.text for t in parsed.terms if t.kind == PREFIX]
    statistics, corpus = word_statistics([t.text for t in words] + in_phrases + prefixes)
    stop = {t for t in words if statistics[t.text][0]}
    kept = _without(parsed, stop)
    if not kept:
        listed = ", ".join(f"“{typed(t)}”" for t in dict.fromkeys(parsed.terms))
        raise QueryError(
            f"{listed}: too common to search for on {'its' if len(words) == 1 else 'their'} "
            "own. Add a word that says what you are looking for, or quote a whole phrase."
        )
    left_out: list[Term] = []
    wanted = [t for t in dict.fromkeys(kept.terms) if t.kind == WORD and not t.negated]
    # The commonest first; of two as common, the later typed.
    by_frequency = sorted(wanted, key=lambda t: (-statistics[t.text][1], -wanted.index(t)))
    while len(kept.terms) > MAX_TERMS and by_frequency:
        left_out.append(by_frequency.pop(0))
        kept = _without(kept, set(left_out))
    check_length(kept)
    return (
        kept,
        tuple(dict.fromkeys(t.text for t in parsed.terms if t in stop)),
        tuple(t.text for t in sorted(left_out, key=lambda t: words.index(t))),
        {word: frequency for word, (_, frequency) in statistics.items()},
        corpus,
    )


def _without(parsed: ParsedQuery, terms: set[Term]) -> ParsedQuery:
    # A word typed twice in a group asks for nothing more: counted once (a pasted
    # paragraph repeats its words).
    groups = (tuple(dict.fromkeys(t for t in group if t not in terms)) for group in parsed.groups)
    return replace(parsed, groups=tuple(g for g in groups if g and not all(t.negated for t in g)))
