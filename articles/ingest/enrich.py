"""Enrich stage: the canonical named entities of each section of an article.

The model and the gazetteer ruler find entity spans; this module turns them into one
canonical entity per real-world thing: "Mr. Zelensky", "Zelenskyy" and "Volodymyr
Zelensky" are one person, "kyiv" and "Kiev" are Kyiv. Resolution order for a span:

1. curators' aliases (from the database), then
2. the gazetteer (ruler match or spelling lookup), then
3. the model's label, corrected at article level: one spelling keeps one kind within
   an article, and a bare surname becomes the full name used elsewhere in the article.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from spacy.tokens import Doc, Span

from articles.ingest.checks import without_credits
from articles.ingest.gazetteer import lookup, spelling_key
from articles.ingest.nlp import load_nlp
from articles.ingest.records import ENTITY_KINDS, EntityMention, SectionRecord

Aliases = Mapping[str, tuple[str, str]]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


MODEL_KINDS = {
    "PERSON": "person",
    "ORG": "organisation",
    "GPE": "place",
    "LOC": "place",
    "FAC": "place",
    "EVENT": "event",
    # NORP ("Ukrainian", "Russians") is left out on purpose: nationality adjectives would
    # top every entity list. Armed groups come from the gazetteer instead.
}

# Ties in the per-article vote go to the kind the model most often mislabels as another.
KIND_PREFERENCE = ("person", "place", "organisation", "event", "weapon", "group")

# Leading words of a person span that are titles, not names (compared lower-case, no dots).
TITLE_WORDS = _words(
    """
    mr mrs ms miss mx dr prof sir dame lord lady gen general lt col maj capt sgt adm admiral
    cmdr commander colonel major captain sergeant lieutenant brig marshal field sen senator
    rep representative gov governor mayor president vice prime minister foreign defense
    defence interior home finance secretary deputy under assistant chancellor ambassador amb
    envoy of the state former ex chief chairman chairwoman chair head spokesman spokeswoman
    spokesperson pope king queen prince princess sheikh emir crown justice judge us uk un eu
    nato russian ukrainian american british german french
    """
)

# A person span right after one of these is a person whatever the model says ("Mr. Austin").
HONORIFICS = _words(
    """
    mr mrs ms miss mx dr prof gen lt col maj capt sgt adm sen rep gov president general
    admiral senator chancellor
    """
)

# A name right after one of these (lower-case, or before a comma: "the minister, Edgars
# Rinkevics, said") is a person's, whatever kind the model gave it.
ROLE_WORDS = _words(
    """
    minister spokesman spokeswoman spokesperson secretary ambassador envoy commander adviser
    advisor official lawmaker senator governor mayor director chairman chairwoman chief
    leader analyst professor researcher correspondent journalist reporter premier
    chancellor deputy president counterpart activist oligarch businessman businesswoman
    commentator economist expert prosecutor lawyer politician violinist pianist conductor
    composer singer writer author general colonel soldier
    """
)
# Words that make a name an organisation's, not a person's ("Edgars Rinkevics" has none).
ORGANISATION_WORDS = _words(
    """
    ministry department agency council committee party group company corporation corp inc
    ltd bank university institute organization organisation union alliance association
    forces army navy command service office news network foundation fund commission court
    parliament assembly federation club front brigade regiment corps guard media airlines
    times post journal
    """
)

NAME_SUFFIXES = _words("jr sr ii iii iv")
SURNAME_PARTICLES = _words("von van der den de la le du da di al el bin ibn dos das")
MIDDLE_INITIAL = re.compile(r"^[A-Z]\.?$")

DEMONYMS = _words(
    """
    ukrainian ukrainians russian russians american americans british briton britons german
    germans french european europeans western westerner westerners eastern soviet soviets
    polish pole poles chinese iranian iranians belarusian belarusians crimean baltic
    estonian estonians latvian latvians lithuanian lithuanians finnish finn finns swedish
    swede swedes danish dane danes dutch czech czechs slovak slovaks hungarian hungarians
    romanian romanians moldovan moldovans georgian georgians serbian serbians serb serbs
    turkish turk turks italian italians spanish japanese korean koreans north south kuwaiti
    syrian syrians israeli israelis palestinian palestinians arab arabs chechen chechens
    kazakh belgian norwegian canadian canadians australian slavic pan nazi nazis republican
    republicans democrat democrats
    """
)
DEMONYM_PREFIXES = ("pro-", "anti-", "ex-", "non-")

TIME_ZONES = _words("GMT UTC BST CET CEST EET EEST MSK EST EDT CST CDT PST PDT ET PT")

# Page furniture the model takes for names.
NOISE_WORDS = _words(
    """
    credit creditcredit caption explainer advertisement photo photos video live update
    updates state defense defence
    """
)

# Places whose "The" is part of the name; other entities lose a leading "the".
KEEP_THE = frozenset({"the hague", "the gambia", "the bahamas"})

CHUNK_CHARS = 100_000  # keeps one doc's memory bounded for very long live-blog entries


@dataclass
class Occurrence:
    """One entity span in the article, on its way to a canonical name."""

    section: int  # index into sections; -1 for the title (context only, not counted)
    surface: str  # spelling as written, honorific kept: "Mr. Zelensky"
    name: str  # current best name
    kind: str  # one of ENTITY_KINDS
    fixed: bool = False  # decided by an alias or the gazetteer: article rules leave it alone
    honorific: bool = False
    # False when only this article's context made the name ("Mr. Austin" -> "Lloyd Austin"):
    # the save stage stores surfaces as aliases that apply to every later article.
    surface_is_alias: bool = True


def extract_mentions(
    sections: list[SectionRecord],
    title: str = "",
    aliases: dict[str, tuple[str, str]] | None = None,
) -> list[list[EntityMention]]:
    """The canonical entities of each section, one list per section, most mentioned first.

    `aliases` maps a lower-cased spelling to (canonical name, kind); it wins over the
    gazetteer and the model. The title is read for context (full names) but not counted.
    """
    aliases = aliases or {}
    _check_alias_kinds(aliases)
    texts = [(-1, title)] + [(i, section_text(s)) for i, s in enumerate(sections)]
    occurrences = list(_occurrences(texts, aliases))
    return finish_article(occurrences, len(sections), aliases)


def finish_article(
    occurrences: list[Occurrence], n_sections: int, aliases: Aliases
) -> list[list[EntityMention]]:
    """The article-level rules on the occurrences of a whole article (its title's
    and every section's), then each section's mentions: the end of `extract_mentions`,
    which the bulk loader runs on spans it cached."""
    occurrences = resolve_article(occurrences)
    occurrences = [_apply_alias_to_name(o, aliases) for o in occurrences]
    return _count_by_section(occurrences, n_sections)


def _check_alias_kinds(aliases: Aliases) -> None:
    bad = {kind for _, kind in aliases.values()} - set(ENTITY_KINDS)
    if bad:
        raise ValueError(f"aliases use unknown entity kinds: {sorted(bad)}")


def section_text(section: SectionRecord) -> str:
    # Captions are left out: they carry photo credits ("Thomas Lohnes/Getty Images") whose
    # photographers would become the most mentioned people of the archive. Credit lines,
    # bylines and datelines in the body go for the same reason.
    return "\n\n".join(without_credits(part) for part in (section.heading, section.body) if part)


def _occurrences(texts: list[tuple[int, str]], aliases: Aliases) -> Iterable[Occurrence]:
    chunks = [(section, chunk) for section, text in texts for chunk in text_chunks(text)]
    docs = load_nlp().pipe(chunk for _, chunk in chunks)
    for (section, _), doc in zip(chunks, docs, strict=True):
        for span in entity_spans(doc):
            occurrence = classify_span(span, section, aliases)
            if occurrence is not None:
                yield occurrence


def text_chunks(text: str, limit: int = CHUNK_CHARS) -> list[str]:
    """Split at paragraph breaks so no piece is longer than limit; a paragraph longer
    than that (a text with no breaks) is cut at spaces, so none reaches spaCy's
    max_length, which raises rather than reads."""
    if len(text) <= limit:
        return [text] if text.strip() else []
    chunks: list[str] = []
    current = ""
    for paragraph in re.split(r"\n\s*\n", text):
        for piece in _cut(paragraph, limit):
            if current and len(current) + len(piece) > limit:
                chunks.append(current)
                current = ""
            current = f"{current}\n\n{piece}" if current else piece
    return chunks + [current] if current.strip() else chunks


def _cut(paragraph: str, limit: int) -> Iterable[str]:
    while len(paragraph) > limit:
        space = paragraph.rfind(" ", limit // 2, limit)
        cut = space if space > 0 else limit
        yield paragraph[:cut]
        paragraph = paragraph[cut:]
    yield paragraph


# --- one span -------------------------------------------------------------------------


def entity_spans(doc: Doc) -> list[Span]:
    """doc.ents, with a model PERSON span joined to a gazetteer person right after it.

    The ruler takes "Putin" out of "Vladimir V. Putin" and the model then tags "Vladimir
    V." alone; joined, the name resolves as a whole, and a first name the gazetteer does
    not know ("Akhmat Kadyrov", the father) makes a different person.
    """
    spans: list[Span] = []
    for span in doc.ents:
        previous = spans[-1] if spans else None
        if (
            previous is not None
            and previous.label_ == "PERSON"
            and span.label_ == "person"
            and all(t.text in BRACKETS for t in doc[previous.end : span.start])
        ):
            spans[-1] = Span(doc, previous.start, span.end, label="PERSON")
        else:
            spans.append(span)
    return spans


BRACKETS = frozenset("[]()")


def classify_span(span: Span, section: int, aliases: Aliases) -> Occurrence | None:
    """What one span is, before article-level rules; None for noise."""
    text = span_text(span)
    if not text:
        return None
    name = strip_leading_the(text)
    honorific = _honorific_before(span)
    surface = f"{honorific} {name}" if honorific else name
    occurrence = Occurrence(section, surface, name, "", honorific=bool(honorific))
    # Title stripping only where a person is likely: "US Army" must not become "Army".
    maybe_person = span.label_ == "PERSON" or bool(honorific)
    spellings = [surface, name] + ([person_name(name)] if maybe_person else [])
    for spelling in filter(None, spellings):
        if spelling.lower() in aliases:
            canonical, kind = aliases[spelling.lower()]
            # An alias to a bare surname ("Austin") must not stop this article's
            # "Lloyd Austin" from completing it.
            fixed = not (kind == "person" and is_surname_only(canonical))
            return replace(occurrence, name=canonical, kind=kind, fixed=fixed)
    entry = lookup(span.ent_id_ or name) or (lookup(spellings[-1]) if maybe_person else None)
    if entry is not None:
        return replace(occurrence, name=entry.name, kind=entry.kind, fixed=True)
    kind = model_kind(span.label_, name)
    if kind is None or is_noise(name):
        return None
    if honorific or (kind != "person" and _role_before(span) and _personal_name(name)):
        kind = "person"
    return replace(occurrence, kind=kind)


def span_text(span: Span) -> str:
    """The span's words without possessive endings, edge punctuation or brackets."""
    tokens = list(span)
    while tokens and (_is_possessive(tokens[-1].text) or tokens[-1].is_punct):
        tokens.pop()
    while tokens and tokens[0].is_punct:
        tokens.pop(0)
    text = "".join(t.text_with_ws for t in tokens)
    text = re.sub(r"[\[\]]", "", text)
    return strip_possessive(" ".join(text.split()))


def _is_possessive(token_text: str) -> bool:
    return token_text in {"'s", "\u2019s", "'", "\u2019", "'S", "\u2019S"}


def strip_possessive(text: str) -> str:
    """ "Ukraine’s" -> "Ukraine", "Burns'" -> "Burns" (straight and curly apostrophes)."""
    text = re.sub(r"['\u2019][sS]$", "", text)
    return re.sub(r"(?<=[sS])['\u2019]$", "", text)


def strip_leading_the(text: str) -> str:
    if text.lower().startswith("the ") and text.lower() not in KEEP_THE:
        return text[4:].lstrip()
    return text


def _honorific_before(span: Span) -> str:
    if span.start == 0:
        return ""
    previous = span.doc[span.start - 1].text
    # Lower-case "president" is a description ("former president Donald Trump"), not a title.
    return previous if previous[0].isupper() and _bare(previous) in HONORIFICS else ""


def _role_before(span: Span) -> bool:
    """ "the minister, Edgars Rinkevics", "the violinist Lisa Batiashvili"."""
    position = span.start - 1
    if position >= 0 and span.doc[position].text == ",":
        position -= 1
    return position >= 0 and _bare(span.doc[position].text) in ROLE_WORDS


def _personal_name(name: str) -> bool:
    """Two to four capitalised words, none of them an organisation's word."""
    words = name.split()
    return (
        2 <= len(words) <= 4
        and all(word[0].isupper() and word.isalpha() for word in words)
        and not any(_bare(word) in ORGANISATION_WORDS for word in words)
    )


def model_kind(label: str, name: str) -> str | None:
    if label in MODEL_KINDS:
        return MODEL_KINDS[label]
    if label == "PRODUCT" and WEAPON_DESIGNATION.match(name):
        return "weapon"
    return None


# Military designations the gazetteer does not list: "F-15", "T-72", "Su-25", "S-60".
WEAPON_DESIGNATION = re.compile(r"^[A-Z][A-Za-z]{0,3}-\d{1,4}[A-Z]?\d?s?$")


def is_noise(name: str) -> bool:
    """Spans that are not worth an entity page (the model's label aside)."""
    letters = [c for c in name if c.isalpha()]
    return (
        len(letters) <= 1
        or not any(c.isupper() for c in letters)  # "n’t", "defence ministry"
        or name.upper() in TIME_ZONES
        or "/" in name  # photo credits: "Leah Millis/Reuters"
        or name.endswith("-")  # "German-" from "German- or American-made"
        or spelling_key(name) in NOISE_WORDS
        or _is_demonym(name)
    )


def _is_demonym(name: str) -> bool:
    """ "Ukrainian", "Russians", "pro-Russian", "Pan-Slavic": adjectives, not entities."""
    parts: list[str] = []
    for word in spelling_key(name).split():
        for prefix in DEMONYM_PREFIXES:
            word = word.removeprefix(prefix)
        parts += [part for part in word.split("-") if part]
    return bool(parts) and all(part in DEMONYMS for part in parts)


# --- people's names ---------------------------------------------------------------------


def person_name(text: str) -> str:
    """A person's name for matching: no titles, middle initials or suffixes.

    "Defense Secretary Lloyd J. Austin III" -> "Lloyd Austin"; "Mr. Zelensky" -> "Zelensky".
    Returns "" when nothing but titles is left ("President").
    """
    tokens = text.replace(",", " ").split()
    while tokens and _bare(tokens[0]) in TITLE_WORDS:
        tokens.pop(0)
    while len(tokens) > 1 and _bare(tokens[-1]) in NAME_SUFFIXES:
        tokens.pop()
    if len(tokens) > 2:
        middle = [t for t in tokens[1:-1] if not MIDDLE_INITIAL.match(t)]
        tokens = [tokens[0], *middle, tokens[-1]]
    return " ".join(tokens) if any(c.isupper() for t in tokens for c in t) else ""


def _bare(token: str) -> str:
    return token.lower().replace(".", "")


def surname_key(name: str) -> str:
    """The family-name part of a name, particles included: "Jean-Yves Le Drian" -> "le drian"."""
    tokens = name.split()
    start = len(tokens) - 1
    while start > 0 and tokens[start - 1].lower() in SURNAME_PARTICLES:
        start -= 1
    return spelling_key(" ".join(tokens[start:]))


def is_surname_only(name: str) -> bool:
    return surname_key(name) == spelling_key(name)


# --- the whole article ------------------------------------------------------------------


def resolve_article(occurrences: list[Occurrence]) -> list[Occurrence]:
    """Apply the rules that need the whole article (title and every section)."""
    occurrences = vote_kinds(occurrences)
    occurrences = [_normalise_person(o) for o in occurrences]
    occurrences = [o for o in occurrences if o.name]
    occurrences = expand_surnames(occurrences)
    return prefer_spellings(occurrences)


def vote_kinds(occurrences: list[Occurrence]) -> list[Occurrence]:
    """One spelling, one kind per article: "Blinken" is not a place in one paragraph
    and a person in the next just because the model's guesses differ."""
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for o in occurrences:
        if not o.fixed:
            votes[spelling_key(o.name)][o.kind] += 1
    winners = {key: _winning_kind(counter) for key, counter in votes.items()}
    return [o if o.fixed else replace(o, kind=winners[spelling_key(o.name)]) for o in occurrences]


def _winning_kind(counter: Counter[str]) -> str:
    return max(counter, key=lambda kind: (counter[kind], -KIND_PREFERENCE.index(kind)))


def _normalise_person(o: Occurrence) -> Occurrence:
    if o.fixed or o.kind != "person":
        return o
    name = person_name(o.name)
    entry = lookup(name) if name else None
    if entry is not None:
        return replace(o, name=entry.name, kind=entry.kind, fixed=True)
    return replace(o, name=name)


def expand_surnames(occurrences: list[Occurrence]) -> list[Occurrence]:
    """A bare surname becomes the one full name with that surname in the article.

    The model's label is overruled ("Blinken" as GPE): within one article a capitalised
    surname shared with a named person is that person. Ambiguous surnames (two Sullivans)
    stay as they are.
    """
    full_names: dict[str, set[str]] = defaultdict(set)
    for o in occurrences:
        if o.kind == "person" and not is_surname_only(o.name):
            full_names[surname_key(o.name)].add(o.name)
    expanded = []
    for o in occurrences:
        candidates = full_names.get(surname_key(o.name), set())
        if not o.fixed and is_surname_only(o.name) and len(candidates) == 1:
            o = replace(o, name=next(iter(candidates)), kind="person", surface_is_alias=False)
        expanded.append(o)
    return expanded


def prefer_spellings(occurrences: list[Occurrence]) -> list[Occurrence]:
    """One display spelling per model-found entity: the most frequent, not in capitals
    when another spelling exists ("WASHINGTON" dateline vs "Washington")."""
    spellings: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for o in occurrences:
        if not o.fixed:
            spellings[(spelling_key(o.name), o.kind)][o.name] += 1
    chosen = {key: _display_spelling(counter) for key, counter in spellings.items()}
    return [
        o if o.fixed else replace(o, name=chosen[(spelling_key(o.name), o.kind)])
        for o in occurrences
    ]


def _display_spelling(counter: Counter[str]) -> str:
    best = max(counter, key=lambda s: (not s.isupper(), counter[s]))
    if best.isupper() and re.fullmatch(r"[A-Z][A-Z -]{4,}", best):
        return best.title()  # a dateline such as "BRUSSELS"; short capitals are acronyms
    return best


def _apply_alias_to_name(o: Occurrence, aliases: Aliases) -> Occurrence:
    """A curator may have renamed or re-kinded a canonical entity: honour that too."""
    if o.name.lower() in aliases:
        name, kind = aliases[o.name.lower()]
        return replace(o, name=name, kind=kind)
    return o


def _count_by_section(occurrences: list[Occurrence], n_sections: int) -> list[list[EntityMention]]:
    by_section: list[dict[tuple[str, str], EntityMention]] = [{} for _ in range(n_sections)]
    for o in occurrences:
        if o.section < 0:
            continue
        mention = by_section[o.section].setdefault(
            (o.name, o.kind), EntityMention(o.name, o.kind, 0)
        )
        mention.count += 1
        if o.surface_is_alias:
            mention.surfaces.add(o.surface)
    return [sorted(m.values(), key=lambda m: (-m.count, m.name)) for m in by_section]
