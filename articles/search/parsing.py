"""How PostgreSQL's text parser reads text, where other code must read it the same
way: the tantivy index (articles/search/tantivy_index.py) so that a query matches
the same articles as in the database, and the query's spellings
(articles/search/variants.py)."""

from __future__ import annotations

import re

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


def as_parsed(text: str) -> str:
    """`text` for tantivy's tokenizer, its words at the positions the database's
    parser gives them: tags left out (`untagged`), each hyphenated word whole and
    then in its parts."""
    text = untagged(text)
    # Only the stretch of non-space around each hyphen is read: the pattern is tried
    # at every character it runs over, which for whole texts cost more than the rest
    # of a document (docs/benchmarks.md, index build).
    pieces, done = [], 0
    while (hyphen := text.find("-", done)) != -1:
        start = hyphen
        while start > done and not text[start - 1].isspace():
            start -= 1
        end = _NON_SPACE.match(text, hyphen).end()
        pieces += [text[done:start], HYPHENATED.sub(_whole_then_parts, text[start:end])]
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
