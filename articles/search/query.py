"""The query language: PostgreSQL websearch syntax (``"exact phrase"``, ``or``,
``-exclude``) plus a prefix form (``leopard*``), read into OR-ed groups of AND-ed
terms, the same grouping `websearch_to_tsquery` makes, so a topic's query (tagged
with websearch_to_tsquery in articles/topics.py) means the same here.

`TextQuery` is a parsed query with the other spellings of its terms
(articles/search/variants.py); every backend builds its own query from it."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchQuery, SearchQueryCombinable, SearchQueryField
from django.db.models import Func

from articles.search_vectors import SEARCH_CONFIG

WORD, PHRASE, PREFIX = "word", "phrase", "prefix"
MAX_TERMS = 16

_TOKEN = re.compile(r'(?P<neg>-*)(?:"(?P<phrase>[^"]*)"?|(?P<bar>\|)|(?P<word>[^\s"|]+))')
_HAS_WORD = re.compile(r"\w")
_WORD = re.compile(r"\w+")


class QueryError(ValueError):
    """A query that cannot be searched; the message says what to change."""


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
    """Read websearch syntax plus `word*` (`|` is `or`). Raises QueryError for
    unsearchable queries. An empty text gives an empty query (no text filter)."""
    groups: list[tuple[Term, ...]] = []
    current: list[Term] = []
    for match in _TOKEN.finditer(text or ""):
        negated = bool(match["neg"])
        if match["phrase"] is not None:
            term = Term(" ".join(match["phrase"].split()), PHRASE, negated)
        elif match["bar"] or (match["word"].lower() == "or" and not negated):
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
    if not parsed and (text or "").strip():
        raise QueryError(
            f"“{text.strip()}” has no word to search for: type a word, a name or a “quoted phrase”."
        )
    _check(parsed)
    return parsed


def _prefix_stem(word: str) -> str:
    # Only letters and digits reach to_tsquery: nothing else can be an operator there.
    return "".join(ch for ch in word if ch.isalnum())


def check_length(parsed: ParsedQuery) -> None:
    """Past MAX_TERMS once stop words and the commonest words are left out (variants.py)."""
    if len(parsed.terms) > MAX_TERMS:
        raise QueryError(
            f"Too many quoted phrases, prefixes and exclusions: use at most {MAX_TERMS}."
        )


def _check(parsed: ParsedQuery) -> None:
    for group in parsed.groups:
        if all(term.negated for term in group):
            excluded = " ".join(typed(term) for term in group)
            raise QueryError(
                f"“{excluded}” only says what to leave out: add a word to look for, "
                f"as in “Ukraine {excluded}”."
            )


def typed(term: Term) -> str:
    """The term as a reader would type it."""
    text = f'"{term.text}"' if term.kind == PHRASE else term.text
    text = f"{text}*" if term.kind == PREFIX else text
    return f"-{text}" if term.negated else text


def unaccent(text: str) -> str:
    """ "Zélensky" -> "Zelensky" (letters without their combining marks)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(text: str) -> str:
    """The form spellings are compared in: no accents, no case."""
    return unaccent(text).casefold()


@dataclass(frozen=True)
class Corpus:
    """The archive as the term statistics last counted it (articles/ranking.py): its
    number of articles and their mean vector length; none counted, 0 and None."""

    articles: int = 0
    mean_length: float | None = None


@dataclass(frozen=True)
class TextQuery:
    """A parsed query with the other spellings found for its terms."""

    parsed: ParsedQuery
    spellings: dict[Term, tuple[str, ...]] = field(default_factory=dict)
    # Words typed but not searched: too common to mean anything ("the", "of"), and
    # the commonest words of a query longer than MAX_TERMS.
    stop_words: tuple[str, ...] = ()
    left_out: tuple[str, ...] = ()
    # How many articles hold each typed word (each word of a phrase, each prefix as a
    # word), and the corpus, as the term statistics last counted: BM25 weighs the
    # terms by them (`document_frequency`), "did you mean" looks at the rare words.
    frequencies: dict[str, int] = field(default_factory=dict)
    corpus: Corpus = Corpus()
    # For a prefix, the archive's stems of words starting with it that the prefix
    # does not reach: "negotiat*" must find "negotiations", stemmed "negoti".
    completions: dict[Term, tuple[str, ...]] = field(default_factory=dict)

    def document_frequency(self, term: Term) -> int:
        """How many articles hold the rarest word of `term` as typed (BM25's df; a
        phrase's words are counted apart), as `frequencies` gives them; 0 when none of
        its words is known."""
        words = term.text.split() if term.kind == PHRASE else [term.text]
        return min((f for w in words if (f := self.frequencies.get(w, 0)) > 0), default=0)

    def variants(self, term: Term) -> tuple[str, ...]:
        """Spellings other than the one typed."""
        typed_form = fold(term.text)
        return tuple(s for s in self.spellings.get(term, ()) if fold(s) != typed_form)

    def forms(self, term: Term) -> tuple[str, ...]:
        """The typed spelling and the others (not for a prefix, which has no spellings)."""
        return (term.text, *self.variants(term))

    @property
    def wanted_terms(self) -> list[Term]:
        """The terms that count for relevance: not excluded, each once however often typed."""
        return list(dict.fromkeys(t for t in self.parsed.terms if not t.negated))

    @property
    def search_query(self) -> SearchQueryCombinable:
        """The whole query as a PostgreSQL tsquery (also used to highlight any backend's hits)."""
        return _or(self.group_query(group) for group in self.parsed.groups)

    def group_query(self, group: tuple[Term, ...]) -> SearchQueryCombinable:
        """One of the query's OR-ed groups: all of its terms."""
        return _and(self.term_query(term) for term in group)

    @property
    def excluded_query(self) -> SearchQueryCombinable | None:
        """Any excluded term (with its spellings), or None when nothing is excluded."""
        excluded = [t for t in self.parsed.terms if t.negated]
        if not excluded:
            return None
        return _or(self.term_query(term, negate=False) for term in excluded)

    @property
    def highlight_query(self) -> SearchQueryCombinable | None:
        """What to mark in titles and snippets: any wanted term as typed, with those of
        its spellings that are one word. ts_headline marks every word of a query
        wherever it stands, so a multi-word alias ("President Putin") would mark every
        "President"; its name word is marked anyway when it is a spelling of its own."""
        wanted = self.wanted_terms
        if not wanted:
            return None
        return _or(self.term_query(t, forms=self.whole_word_forms(t)) for t in wanted)

    def whole_word_forms(self, term: Term) -> tuple[str, ...]:
        """The typed form and the one-word spellings (the typed phrase, for a phrase)."""
        return (term.text, *(f for f in self.variants(term) if len(_WORD.findall(f)) == 1))

    def term_query(
        self, term: Term, *, negate: bool = True, forms: tuple[str, ...] | None = None
    ) -> SearchQueryCombinable:
        """One term (with its spellings, or only `forms`) as a tsquery, negated if
        excluded (unless `negate`)."""
        if term.kind == PREFIX:
            # Also without the English dictionary, which reads a stem such as `off`
            # or `over` as a stop word and would find nothing.
            query = _or(
                [
                    SearchQuery(f"{term.text}:*", search_type="raw", config=SEARCH_CONFIG),
                    SearchQuery(
                        f"{unaccent(term.text).lower()}:*", search_type="raw", config="simple"
                    ),
                    *(
                        SearchQuery(f"'{stem}'", search_type="raw", config="simple")
                        for stem in self.completions.get(term, ())
                    ),
                ]
            )
        else:
            query = _or(
                SearchQuery(form, search_type="phrase", config=SEARCH_CONFIG)
                for form in (forms or self.forms(term))
            )
        return _Not(query) if term.negated and negate else query

    def describe(self) -> str:
        """The query as understood, in plain words."""
        groups = [self._describe_group(group) for group in self.parsed.groups]
        text = "Articles with " + "; or with ".join(groups) + "."
        if self.stop_words:
            quoted = _join([f"“{w}”" for w in self.stop_words], "and")
            text += f" Too common to search for: {quoted}."
        if self.left_out:
            quoted = _join([f"“{w}”" for w in self.left_out], "and")
            text += f" Left out, as the commonest of more than {MAX_TERMS} words: {quoted}."
        return text

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
