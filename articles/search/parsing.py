"""How PostgreSQL's text parser reads text, where other code must read it the same
way: the tantivy index (articles/search/tantivy_index.py) so that a query matches
the same articles as in the database, and the query's spellings
(articles/search/variants.py)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache

from django.db import connections, router

from articles.models import Article

# What PostgreSQL's text parser reads as an XML/HTML tag, whose words it indexes
# nowhere (Reuters-style "<Midwest Benefits Corp>", "<OIL>"), as one pattern: its
# grammar (wparser_def.c) is a name after "<" (or "</"), then "/>", ">" or a space,
# attributes (some punctuation, quoted values) and ">"; also <!-- comments -->,
# <!DOCTYPE ...> and <?xml ...>. "< 5 >", "<S&P>" and "<A/B>" are not tags.
_ATTRIBUTES = r"""(?:[A-Za-z0-9=\-_#/:.&?%~\s]|'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*")*>"""
PG_TAG = re.compile(
    rf"<(?:!--.*?-->|(?:![Dd]|\?x){_ATTRIBUTES}"
    rf"|(?:/[A-Za-z]|[A-Za-z:_])[\w:.\-]*(?:/?>|\s{_ATTRIBUTES}))",
    re.DOTALL,
)


def untagged(text: str) -> str:
    """`text` without what the database's parser takes for tags (they take no
    position in its vectors either, so a phrase reads across them)."""
    return PG_TAG.sub(" ", text) if "<" in text else text


# A hyphenated word ("minister-designate", "B-52H", "Kyiv-based") is read by the
# database's parser whole at one position and then part by part at the next ones,
# so "prime minister" is no phrase in "prime minister-designate" there. A part of
# digits alone is a number of its own ("F-16", "COVID-19": no hyphenated word), and
# one in a path or a host name is part of that ("Dlrs/Bu-Sorghum", "D-W.Va.").
_PART = r"(?=\d*[^\W\d_])[^\W_]++"  # letters and digits, a letter among them
HYPHENATED = re.compile(rf"(?<![\w/])(?<![^\W\d_]-){_PART}(?:-{_PART})++(?!\w)(?!\.[^\W\d_]{{2}})")
_NON_SPACE = re.compile(r"\S*")
# The whole word as one token for tantivy's tokenizer, which splits at a hyphen:
# joined by something no word holds.
WHOLE_WORD_JOIN = "0x0"


# A stretch of non-space with ".", "/" or "@" inside: where the parser may read one
# token that tantivy's tokenizer would split into words. Its grammar for these is
# long (a path: "Russia/Ukraine", "24/7", but "8-3/8" is 8, -3, /8; an abbreviation:
# "U.S." is u.s; a host: "bbc.co.uk", but "Ph.D" is a path; URLs, e-mail addresses,
# decimal numbers), so such stretches are read by the parser itself (`compounds`).
_SEPARATOR = re.compile(r"[./@](?=\w)")
_BETWEEN_TWO = re.compile(r"[^\s./@][./@]+[^\s./@]")
_TS_BLANK = 12  # ts_parse's token type for what lies between tokens
_COMPOUNDS_SQL = """
SELECT stretch, array_agg(token ORDER BY place)
FROM unnest(%s::text[]) AS stretch
CROSS JOIN LATERAL ts_parse('default', stretch) WITH ORDINALITY AS t(kind, token, place)
WHERE kind <> %s
GROUP BY stretch
"""


def _compound_spans(text: str) -> Iterable[tuple[int, int]]:
    # Only the stretch of non-space around a separator that something follows (not
    # a full stop) is looked at: a pattern for the whole stretch, tried at every
    # character of the text, cost several times as much.
    done = 0
    for separator in _SEPARATOR.finditer(text):
        if separator.start() < done:
            continue
        start, done = _stretch_around(text, separator.start(), done)
        if _BETWEEN_TWO.search(text, start, done):
            yield start, done


def _stretch_around(text: str, at: int, after: int) -> tuple[int, int]:
    """(start, end) of the stretch of non-space holding `at`, starting no earlier
    than `after`."""
    start = at
    while start > after and not text[start - 1].isspace():
        start -= 1
    return start, _NON_SPACE.match(text, at).end()


def compounds(stretches: Iterable[str], using: str | None = None) -> dict[str, str]:
    """stretch -> the same, written for tantivy's tokenizer as the database's parser
    reads it (`as_written`): one query for them all."""
    stretches = sorted(set(stretches))
    if not stretches:
        return {}
    using = using or router.db_for_read(Article)
    with connections[using].cursor() as cursor:
        cursor.execute(_COMPOUNDS_SQL, [stretches, _TS_BLANK])
        found = dict(cursor.fetchall())
    return {stretch: as_written(found.get(stretch, [])) for stretch in stretches}


@lru_cache(maxsize=4096)
def _typed_compound(stretch: str) -> str:
    return compounds([stretch])[stretch]


def typed_compounds(stretches: Iterable[str]) -> dict[str, str]:
    """`compounds` of a typed text's stretches, each remembered: a query's terms are
    read again for every field and spelling."""
    return {stretch: _typed_compound(stretch) for stretch in stretches}


def as_written(tokens: list[str]) -> str:
    """The parser's tokens as words for tantivy's tokenizer, which splits at any
    character but a letter or digit: each token's other characters are written as
    something no word holds ("u.s" -> "u0x2e0s"; a hyphen as in `_whole_then_parts`)."""
    return " ".join(_JOINER.sub(_joined, token) for token in tokens)


_JOINER = re.compile(r"[^\w]|_")


def _joined(match: re.Match) -> str:
    char = match.group(0)
    return WHOLE_WORD_JOIN if char == "-" else f"0x{ord(char):x}0"


def as_parsed_all(
    texts: list[str], read: Callable[[Iterable[str]], Mapping[str, str]]
) -> list[str]:
    """`texts` for tantivy's tokenizer, their words at the positions the database's
    parser gives them: tags left out (`untagged`), each hyphenated word whole and
    then in its parts, each stretch the parser may read as one token as it does
    (`read`: `compounds`, or `typed_compounds` for a query; one call for them all)."""
    texts = [untagged(text) for text in texts]
    spans = [list(_compound_spans(text)) for text in texts]
    found_in = zip(texts, spans, strict=True)
    written = read({text[s:e] for text, found in found_in for s, e in found})
    return [
        _hyphenated(_with_compounds(text, found, written))
        for text, found in zip(texts, spans, strict=True)
    ]


def as_parsed(text: str) -> str:
    """A typed text as `as_parsed_all` reads texts."""
    return as_parsed_all([text], typed_compounds)[0]


def _hyphenated(text: str) -> str:
    # Only the stretch of non-space around each hyphen is read: the pattern is tried
    # at every character it runs over, which for whole texts cost more than the rest
    # of a document (docs/benchmarks.md, index build).
    pieces, done = [], 0
    while (hyphen := text.find("-", done)) != -1:
        start, end = _stretch_around(text, hyphen, done)
        pieces += [text[done:start], HYPHENATED.sub(_whole_then_parts, text[start:end])]
        done = end
    pieces.append(text[done:])
    return "".join(pieces)


def _with_compounds(text: str, spans: list[tuple[int, int]], written: Mapping[str, str]) -> str:
    if not spans:
        return text
    pieces, done = [], 0
    for start, end in spans:
        pieces += [text[done:start], written[text[start:end]]]
        done = end
    pieces.append(text[done:])
    return "".join(pieces)


def _whole_then_parts(match: re.Match) -> str:
    word = match.group(0)
    return f"{word.replace('-', WHOLE_WORD_JOIN)} {word.replace('-', ' ')}"


def spaced(text: str) -> str:
    """`text` with its hyphenated words as separate words ("Kyiv-based" -> "Kyiv
    based"): the database matches those as a phrase wherever the hyphenated word
    stands too, since its parts follow it."""
    return HYPHENATED.sub(lambda match: match.group(0).replace("-", " "), text)
