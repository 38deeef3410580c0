"""Words typed in Cyrillic (Ukrainian or Russian) found under their Latin spellings:
`Київ` finds Kyiv, `Харьков` Kharkiv.

cyrtranslit gives the word's Latin forms by the Ukrainian and the Russian tables
("Kyjiv", "Kiev"); these scholarly forms are rarely what English-language outlets
write, so each is matched to a gazetteer entry by a loose key that ignores the
differences between transliteration systems (kh / x / h, j / y / i, zh / ž, ...).
The entry's spellings then join the query like any other transliteration."""

from __future__ import annotations

import re
from functools import cache

import cyrtranslit

from articles.ingest import gazetteer
from articles.search.query import fold

_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
# Longest first: "shch" before "sh" and "ch".
_LOOSE = (
    ("shch", "s"),
    ("kh", "h"),
    ("zh", "z"),
    ("sh", "s"),
    ("ch", "c"),
    ("ts", "c"),
    ("x", "h"),
    ("j", "i"),
    ("y", "i"),
)


def is_cyrillic(text: str) -> bool:
    return bool(_CYRILLIC.search(text))


def latin_forms(text: str) -> set[str]:
    """`text`'s Latin forms by the Ukrainian and Russian tables (no apostrophes)."""
    forms = {cyrtranslit.to_latin(text, language) for language in ("ua", "ru")}
    return {f.replace("'", "") for f in forms if not is_cyrillic(f)}


def loose_key(text: str) -> str:
    """The form in which transliterations of one name agree: "Kyjiv", "Kyiv" -> "kiv"."""
    key = re.sub(r"[^a-z ]", "", fold(text))
    for spelled, sound in _LOOSE:
        key = key.replace(spelled, sound)
    return re.sub(r"(.)\1+", r"\1", key)


@cache
def _entries_by_key() -> dict[str, gazetteer.Entry]:
    index: dict[str, gazetteer.Entry] = {}
    for entry in gazetteer.entries():
        for spelling in gazetteer.spellings(entry):
            index.setdefault(loose_key(spelling), entry)
    return index


def gazetteer_entry(text: str) -> gazetteer.Entry | None:
    """The gazetteer entry a Cyrillic word or name spells, or None."""
    for form in sorted(latin_forms(text)):
        if entry := _entries_by_key().get(loose_key(form)):
            return entry
    return None


def spellings(text: str) -> tuple[set[str], set[str]]:
    """(canonical names, Latin spellings) of a Cyrillic `text`: the gazetteer entry's,
    or else its plain transliterations."""
    if entry := gazetteer_entry(text):
        return {entry.name}, set(gazetteer.spellings(entry))
    return set(), latin_forms(text)
