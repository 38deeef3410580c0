"""Did you mean: the archive's own words nearest those of a query that match
nothing or very little ("Leapord" -> Leopard, "Storm Shadw" -> Storm Shadow).

Each word (and each word of a quoted phrase) that fewer than RARE articles hold,
and that has no other spelling searched for it, is compared with the archive's
vocabulary: the lexemes of the term statistics (articles_termstat, refreshed after
every load), the nearest by trigram distance (a GiST trigram index) chosen by edit
distance, then by how many articles hold them. Only lexemes that are their own
stem are offered, so the corrected search finds the articles counted."""

from __future__ import annotations

from django.db import connections, router
from rapidfuzz.distance import OSA

from articles.models import Article
from articles.search.query import PHRASE, WORD, Term, TextQuery, fold, typed
from articles.search_vectors import SEARCH_CONFIG

RARE = 2  # a word held by fewer articles than this "matches very little"
# A correction must be held by this many times more articles than the word typed.
MORE_COMMON = 3
CANDIDATES = 30  # per word, the nearest lexemes by trigrams, compared by edit distance

_CANDIDATES_SQL = """
SELECT t.word, s.lexeme, s.df
FROM unnest(%s::text[]) AS t(word)
CROSS JOIN LATERAL (
    SELECT lexeme, df FROM articles_termstat
    WHERE lexeme <> ALL(tsvector_to_array(to_tsvector(%s::regconfig, t.word)))
      AND tsvector_to_array(to_tsvector(%s::regconfig, lexeme)) = ARRAY[lexeme]
    ORDER BY lexeme <-> t.word
    LIMIT %s
) AS s
"""


def suggest(text_query: TextQuery) -> str | None:
    """The query with its rare words corrected, or None. At most one query, and
    none when every word is common enough."""
    rare = _rare_words(text_query)
    if not rare:
        return None
    candidates = _candidates([fold(w) for w in rare])
    replacements = {}
    for word in rare:
        best = _closest(word, text_query.frequencies.get(word, 0), candidates.get(fold(word), []))
        if best:
            replacements[word] = best
    if not replacements:
        return None
    return " or ".join(
        " ".join(typed(_corrected(t, replacements)) for t in group)
        for group in text_query.parsed.groups
    )


def _rare_words(text_query: TextQuery) -> list[str]:
    """The words of wanted words and phrases that RARE articles or fewer hold."""
    words = []
    for term in text_query.wanted_terms:
        if term.kind not in (WORD, PHRASE) or text_query.variants(term):
            continue
        parts = term.text.split() if term.kind == PHRASE else [term.text]
        words += [w for w in parts if len(w) >= 3 and w.isalpha()]
    return [w for w in dict.fromkeys(words) if text_query.frequencies.get(w, 0) < RARE]


def _candidates(words: list[str]) -> dict[str, list[tuple[str, int]]]:
    """folded word -> [(lexeme, articles holding it)], the most similar first."""
    with connections[router.db_for_read(Article)].cursor() as cursor:
        cursor.execute(_CANDIDATES_SQL, [words, SEARCH_CONFIG, SEARCH_CONFIG, CANDIDATES])
        rows = cursor.fetchall()
    found: dict[str, list[tuple[str, int]]] = {}
    for word, lexeme, df in rows:
        found.setdefault(word, []).append((lexeme, df))
    return found


def _closest(word: str, frequency: int, candidates: list[tuple[str, int]]) -> str | None:
    """The candidate fewest edits away (then the commonest), held by MORE_COMMON times
    more articles; in the word's case. Edits allowed: a third of the word's length
    for a word no article holds, one for a word some do ("Shadow" is not "Show")."""
    allowed = max(1, len(word) // 3) if frequency == 0 else 1
    scored = [
        (OSA.distance(fold(word), lexeme), -df, lexeme)
        for lexeme, df in candidates
        if df >= max(1, MORE_COMMON * frequency) and lexeme != fold(word)
    ]
    scored = [s for s in scored if s[0] <= allowed]
    if not scored:
        return None
    lexeme = min(scored)[2]
    return lexeme.capitalize() if word[:1].isupper() else lexeme


def _corrected(term: Term, replacements: dict[str, str]) -> Term:
    if term.negated or term.kind not in (WORD, PHRASE):
        return term
    words = [replacements.get(w, w) for w in term.text.split()]
    return Term(" ".join(words), term.kind)
