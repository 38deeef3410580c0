"""Did you mean: a corrected query when a search finds little.

Entity names and public titles, both trigram-indexed on UPPER(...): each term is
compared with them by word similarity (`<%`, index-backed), and the most similar
word of the closest names becomes the suggestion. Words that only occur in bodies
are not suggested: ts_stat over the vectors would read the whole archive."""

from __future__ import annotations

import re
from collections import defaultdict

from django.db import connections, router

from articles.models import Article
from articles.search.query import WORD, Term, TextQuery, typed
from articles.search_vectors import SEARCH_CONFIG

SUGGEST_BELOW = 3  # "did you mean" when fewer results than this

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
        return typed(term)

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
