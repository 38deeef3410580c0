"""Relaxed matching: when requiring every word of a query finds fewer than a page of
articles, the articles with most of its words, ranked by BM25 over all of them.

`a b c -d "e f"` relaxes to `(a "e f" -d) or (b "e f" -d) or (c "e f" -d)`: each
plain word becomes optional, while quoted phrases and prefixes stay required and
exclusions stay excluded, each within its side of an `or` (`a b or c "d e"`
relaxes to `a or b or (c "d e")`). The backend is asked for the articles matching
at least `minimum` of these groups (SearchRequest.minimum_should_match): the most
words that still fill a page."""

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
    alternatives: bool = False  # the query has `or`: "all the words" of one side

    def describe(self) -> str:
        every = "every word of one side of “or”" if self.alternatives else f"all {self.words} words"
        if self.exact:
            found = f"Only {self.exact} article{'s' if self.exact != 1 else ''} "
            found += f"{'have' if self.exact != 1 else 'has'} {every}"
        else:
            found = f"No article has {every}"
        if self.minimum == 1:
            return f"{found}; these have at least one of them."
        return f"{found}; these have most of them."


def optional_words(text_query: TextQuery) -> list[Term]:
    """The words relaxed matching may leave out: the plain words, when some side of
    the query has two or more (otherwise leaving one out changes nothing)."""
    groups = text_query.parsed.groups
    if not any(len(_words(group)) >= 2 for group in groups):
        return []
    return list(dict.fromkeys(word for group in groups for word in _words(group)))


def _words(group: tuple[Term, ...]) -> list[Term]:
    return [t for t in dict.fromkeys(group) if t.kind == WORD and not t.negated]


def relaxed(text_query: TextQuery) -> TextQuery:
    """`text_query` as the alternatives of its plain words, each with every other
    term of its side (phrases, prefixes, exclusions) still required."""
    groups = []
    for group in text_query.parsed.groups:
        words = _words(group)
        kept = tuple(t for t in group if t not in words)
        groups += [(word, *kept) for word in words] if words else [group]
    unique = tuple(dict.fromkeys(groups))
    return replace(text_query, parsed=replace(text_query.parsed, groups=unique))
