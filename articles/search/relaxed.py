"""Relaxed matching: when requiring every word of a query finds fewer than a page of
articles, the articles with most of its words, ranked by BM25 over all of them.

`a b c -d "e f"` relaxes to `(a "e f" -d) or (b "e f" -d) or (c "e f" -d)`: each
plain word becomes optional, while quoted phrases and prefixes stay required and
exclusions stay excluded, each within its side of an `or` (`a b or c "d e"`
relaxes to `a or b or (c "d e")`). The backend is asked for the articles matching
at least `minimum` of these groups (SearchRequest.minimum_should_match): the most
words that still fill a page. When no article has even one word with the phrases
and prefixes, these become optional too, each still matched exactly (a phrase as
a phrase); exclusions always stay."""

from __future__ import annotations

from dataclasses import dataclass, replace

from articles.search.query import PHRASE, PREFIX, WORD, Term, TextQuery


@dataclass(frozen=True)
class Relaxation:
    """What relaxed matching did, for the page: every result has at least `minimum`
    of the query's `words` (plain words; `exact` results have them all)."""

    words: int
    minimum: int
    exact: int
    alternatives: bool = False  # the query has `or`: "all the words" of one side
    phrases: bool = False  # quoted phrases and prefixes were optional too (as typed)

    def describe(self) -> str:
        if self.alternatives:
            every = f"every word{' and phrase' if self.phrases else ''} of one side of “or”"
        else:
            every = f"all {self.words} words{' and phrases' if self.phrases else ''}"
        if self.exact:
            found = f"Only {self.exact} article{'s' if self.exact != 1 else ''} "
            found += f"{'have' if self.exact != 1 else 'has'} {every}"
        else:
            found = f"No article has {every}"
        if self.minimum == 1:
            return f"{found}; these have at least one of them."
        return f"{found}; these have most of them."


def optional_words(text_query: TextQuery, *, phrases: bool = False) -> list[Term]:
    """The terms relaxed matching may leave out: the plain words (and with `phrases`,
    the phrases and prefixes), when some side of the query has two or more
    (otherwise leaving one out changes nothing)."""
    groups = text_query.parsed.groups
    if not any(len(_optional(group, phrases)) >= 2 for group in groups):
        return []
    return list(dict.fromkeys(term for group in groups for term in _optional(group, phrases)))


def _optional(group: tuple[Term, ...], phrases: bool) -> list[Term]:
    kinds = (WORD, PHRASE, PREFIX) if phrases else (WORD,)
    return [t for t in dict.fromkeys(group) if t.kind in kinds and not t.negated]


def relaxed(text_query: TextQuery, *, phrases: bool = False) -> TextQuery:
    """`text_query` as the alternatives of its plain words (with `phrases`, of its
    phrases and prefixes too), each with every other term of its side (phrases,
    prefixes, exclusions) still required."""
    groups = []
    for group in text_query.parsed.groups:
        words = _optional(group, phrases)
        kept = tuple(t for t in group if t not in words)
        groups += [(word, *kept) for word in words] if words else [group]
    unique = tuple(dict.fromkeys(groups))
    return replace(text_query, parsed=replace(text_query.parsed, groups=unique))
