"""Relaxed matching: when requiring every word of a query finds fewer than a page of
articles, the articles with most of its words, ranked by BM25 over all of them.

`a b c -d "e f"` relaxes to `(a "e f" -d) or (b "e f" -d) or (c "e f" -d)`: each
plain word becomes optional, while quoted phrases and prefixes stay required and
exclusions stay excluded. The backend is asked for the articles matching at least
`minimum` of these groups (SearchRequest.minimum_should_match), `minimum` going
down one word at a time from all but one until a page is filled. A query with
`or` already says what may be missing, so it is taken as typed."""

from __future__ import annotations

from dataclasses import dataclass, replace

from articles.search.query import WORD, Term, TextQuery


@dataclass(frozen=True)
class Relaxation:
    """What relaxed matching did, for the page: every result has at least `minimum`
    of the query's `words` (plain words; `exact` results have them all)."""

    words: int
    minimum: int
    exact: int

    def describe(self) -> str:
        if self.exact:
            found = f"Only {self.exact} article{'s' if self.exact != 1 else ''} "
            found += f"{'have' if self.exact != 1 else 'has'} all {self.words} words"
        else:
            found = f"No article has all {self.words} words"
        if self.minimum == 1:
            return f"{found}; these have at least one of them."
        return f"{found}; these have most of them."


def optional_words(text_query: TextQuery) -> list[Term]:
    """The words relaxed matching may leave out: a one-group query's plain words."""
    if len(text_query.parsed.groups) != 1:
        return []
    (group,) = text_query.parsed.groups
    words = [t for t in dict.fromkeys(group) if t.kind == WORD and not t.negated]
    return words if len(words) >= 2 else []


def relaxed(text_query: TextQuery, words: list[Term]) -> TextQuery:
    """`text_query` as the alternatives of its `words`, each with every other term
    (phrases, prefixes, exclusions) still required: one group per word."""
    (group,) = text_query.parsed.groups
    kept = tuple(t for t in group if t not in words)
    groups = tuple((word, *kept) for word in words)
    return replace(text_query, parsed=replace(text_query.parsed, groups=groups))
