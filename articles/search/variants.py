"""Other spellings of a query's words and phrases, looked up in one query: entity
names and aliases (Entity.aliases, GIN-indexed), person surnames, the
gazetteer's transliteration table (Kiev / Kyiv), for a word in Cyrillic its
Latin spellings (articles/search/scripts.py: Київ / Kyiv), and for a hyphenated
word its words apart (Kyiv-based / Kyiv based: the database reads a hyphenated word
as one, so it would not find them apart).

Only trustworthy spellings join a query: the gazetteer's (curated) and those of
entities the archive has seen in several articles under one kind. Recognition on
noisy text makes one-off entities ("Condemned Russia") that would otherwise drag
their words into every search for "Russia". A spelling that holds another of the
term's one-word spellings as a word adds no match ("President Putin" for Putin)
and is left out too."""

from __future__ import annotations

import re

from django.db import connections, router

from articles.ingest.gazetteer import lookup as gazetteer_entry
from articles.ingest.gazetteer import variants_of as transliterations
from articles.models import Entity
from articles.search import scripts
from articles.search.parsing import spaced
from articles.search.query import PREFIX, TextQuery, fold, parse_query, unaccent
from articles.search.words import prefix_completions, searchable

MAX_SPELLINGS = 12  # per term, the term itself included
# An entity's spellings are searched once it is mentioned in this many public articles.
TRUSTED_AFTER = 2
_WORD = re.compile(r"\w+")
_NOT_SURNAME = {"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"}


def build_text_query(text: str) -> TextQuery | None:
    """Parse `text` and find other spellings of its terms (one query). None for no text."""
    parsed = parse_query(text)
    if not parsed:
        return None
    parsed, stop_words, left_out, frequencies, corpus = searchable(parsed)
    expandable = [t for t in parsed.terms if t.kind != PREFIX]
    # Spellings are looked up without accents: the vectors ignore them too.
    from_entities = _entity_spellings({unaccent(t.text) for t in expandable})
    spellings = {}
    for term in expandable:
        plain = unaccent(term.text)
        canonical, forms = from_entities.get(fold(plain), (set(), set()))
        forms = forms | transliterations(plain) | {spaced(plain)}  # "Kyiv-based": "Kyiv based"
        if entry := gazetteer_entry(plain):
            canonical = canonical | {entry.name}
        if scripts.is_cyrillic(plain):
            names, latin = scripts.spellings(plain)
            canonical, forms = canonical | names, forms | latin
        spellings[term] = _ordered(term.text, canonical, forms)
    prefixes = [t for t in parsed.terms if t.kind == PREFIX]
    stems = prefix_completions([t.text for t in prefixes])
    return TextQuery(
        parsed,
        spellings,
        stop_words=stop_words,
        left_out=left_out,
        frequencies=frequencies,
        corpus=corpus,
        completions={t: stems[t.text] for t in prefixes if t.text in stems},
    )


def _ordered(typed: str, canonical: set[str], forms: set[str]) -> tuple[str, ...]:
    """The typed spelling, then canonical names, then the other spellings, shortest first."""
    ranked = sorted(forms | canonical, key=lambda f: (f not in canonical, len(f), f))
    unique = {}
    for form in ranked:
        unique.setdefault(fold(form), form)
    unique.pop(fold(typed), None)
    single = {fold(f) for f in [typed, *unique.values()] if len(_WORD.findall(f)) == 1}
    kept = [f for f in unique.values() if not _holds_one_of(f, single)]
    return (typed, *kept[: MAX_SPELLINGS - 1])


def _holds_one_of(form: str, words: set[str]) -> bool:
    """Whether a multi-word `form` has one of `words` among its words."""
    parts = [fold(part) for part in _WORD.findall(form)]
    return len(parts) > 1 and any(part in words for part in parts)


def _entity_spellings(keys: set[str]) -> dict[str, tuple[set[str], set[str]]]:
    """folded term -> (canonical names, all spellings) of the entities it names:
    by name, alias, or (one-word term) a person's surname ("Zelenskyy" -> Volodymyr Zelensky)."""
    if not keys:
        return {}
    casings = sorted({c for k in keys for c in (k, k.lower(), k.upper(), k.title())})
    params = {
        "names": sorted({k.upper() for k in keys}),
        "casings": casings,
        "surnames": sorted({k.upper() for k in keys if " " not in k}),
        "seen": TRUSTED_AFTER - 1,
    }
    with connections[router.db_for_read(Entity)].cursor() as cursor:
        cursor.execute(_TRUSTED_NAMED_SQL, params)
        rows = cursor.fetchall()
    found: dict[str, tuple[set[str], set[str]]] = {}
    for name, kind, aliases in rows:
        forms = {name, *aliases}
        surnames_of = {surname(f) for f in forms} - {""} if kind == Entity.Kind.PERSON else set()
        folded = {fold(f) for f in forms | surnames_of}
        for key in keys:
            if fold(key) in folded:
                canonical, spellings = found.setdefault(fold(key), (set(), set()))
                canonical.add(name)
                spellings.update(forms | surnames_of)
    return found


# The trusted entities a query's terms name (by name, alias, or a person's surname:
# the last word of the name, as the index `articles_entity_surname` holds it): seen in
# TRUSTED_AFTER public articles or more (whether such an article exists: counting them
# all read thousands of mentions for a common name), under no other kind. Written as
# SQL: the ORM spent more compiling it (about 2 ms) than PostgreSQL running it.
_TRUSTED_NAMED_SQL = """
SELECT e.name, e.kind, e.aliases
FROM articles_entity e
WHERE (
    upper(e.name) = ANY(%(names)s)
    OR e.aliases && %(casings)s::varchar[]
    OR (e.kind = 'person' AND upper(substring(e.name, ' ([^ ]+)$')) = ANY(%(surnames)s))
  )
  AND EXISTS (
      SELECT FROM (
          SELECT DISTINCT m.article_id
          FROM articles_mention m JOIN articles_article a ON a.id = m.article_id
          WHERE m.entity_id = e.id AND a.is_public
          ORDER BY m.article_id
          OFFSET %(seen)s LIMIT 1
      ) AS enough
  )
  AND NOT EXISTS (
      SELECT FROM articles_entity other
      WHERE upper(other.name) = upper(e.name) AND other.kind <> e.kind
  )
"""


def surname(name: str) -> str:
    words = [w for w in name.split() if w.casefold() not in _NOT_SURNAME]
    return words[-1] if len(words) > 1 and len(words[-1]) >= 3 else ""
