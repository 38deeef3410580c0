"""The quality report: what curators should look at in the entities and outlets.

Four lists, each finding with a link to the admin page that fixes it:

- **entity kind conflicts**: an entity whose name is also another entity's name or
  alias under a different kind, whose kind is not the one the project's gazetteer
  gives, or whose name or aliases point to another kind: a country or city
  ("Moldova" as an organisation, "Siauliai" as a person), a person's title in an
  alias ("President X"), an organisation's or an event's word ("Beijing Olympics"
  as a place);
- **probable duplicates**: entities whose names differ only by transliteration
  (Andrei / Andrey Turchak, Zelensky / Zelenskyy) or by an organisation's form
  (AFP / AFP news agency); the link selects them together for the merge action;
- **one-off multi-word entities**: names of several words found once in one
  article, often a phrase the recogniser took for a name ("Mine-Resistant
  Ambush-Protected Vehicles") or a byline ("Hudson and Rauhala");
- **outlets without a canonical name**: outlets named from a page's site name or
  domain that neither the registry nor a curator has confirmed.

Used by ``manage.py quality_report`` and the staff-only admin page
``/admin/quality/``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Q, Sum
from django.urls import reverse

from articles.ingest.checks import known_place
from articles.ingest.gazetteer import lookup as gazetteer_lookup
from articles.ingest.gazetteer import spelling_key
from articles.models import Entity, Outlet

# Words that name an organisation's form rather than the organisation.
_ORGANISATION_FORMS = re.compile(
    r"\b(?:the|news agency|press agency|agency|news service|inc|ltd|llc|plc|corp|corporation"
    r"|company|co|group)\b\.?",
)
_PERSON_TITLE = re.compile(
    r"^(?:mr|mrs|ms|dr|president|gen|general|lt|col|adm|admiral|sen|senator|rep|gov|governor"
    r"|prime minister|foreign minister|defen[cs]e minister|minister|secretary|chancellor"
    r"|king|queen|pope)\.?\s",
    re.IGNORECASE,
)
_ORGANISATION_WORDS = frozenset(
    {"ministry", "council", "committee", "agency", "party", "army", "navy", "command",
     "orchestra", "philharmonic", "service", "parliament", "assembly", "commission",
     "institute", "university", "corporation", "company"}
)  # fmt: skip
_EVENT_WORDS = frozenset(
    {"olympics", "olympic", "games", "summit", "war", "conference", "championship",
     "festival", "election"}
)  # fmt: skip
# Organisations and (armed) groups are told apart by curators, not by these signs.
_ALIKE = {"organisation", "group"}
# Cities smaller than this share their names with too many people and things.
_MIN_WORDS = 2
# A person's name of this many words or more is rarely one person ("Hudson and Rauhala").
_MIN_PERSON_WORDS = 3


@dataclass(frozen=True)
class Finding:
    subject: str  # what is wrong: an entity or outlet, as a curator knows it
    detail: str  # why it is listed
    fix_url: str  # the admin page that fixes it


@dataclass(frozen=True)
class Section:
    title: str
    explanation: str
    findings: list[Finding]


def quality_report() -> list[Section]:
    return [
        Section(
            "Entity kind conflicts",
            "Entities whose name is used under another kind, or whose kind the gazetteer "
            "contradicts. Fix the kind, or merge the entities.",
            kind_conflicts(),
        ),
        Section(
            "Probable duplicate entities",
            "Names that differ only by transliteration or organisation form. Select "
            "the entities and merge them.",
            probable_duplicates(),
        ),
        Section(
            "One-off multi-word entities",
            "Names of several words found once, in one article: check that each is "
            "an entity at all.",
            one_off_multiword_entities(),
        ),
        Section(
            "Outlets without a canonical name",
            "Outlets named from a page's site name or domain. Give each its own name "
            "(and the other names pages use as aliases) and tick 'canonical name'.",
            outlets_without_canonical_name(),
        ),
    ]


def kind_conflicts() -> list[Finding]:
    entities = list(Entity.objects.only("pk", "name", "kind", "aliases").order_by("name", "pk"))
    kinds_by_spelling: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for entity in entities:
        kinds_by_spelling[spelling_key(entity.name)].add((entity.kind, "name"))
        for alias in entity.aliases:
            kinds_by_spelling[spelling_key(alias)].add((entity.kind, "alias"))
    findings = []
    for entity in entities:
        reasons = sorted(
            f"also {'named' if how == 'name' else 'an alias'} as a{_n(kind)} {kind}"
            for kind, how in kinds_by_spelling[spelling_key(entity.name)]
            if kind != entity.kind
        )
        entry = gazetteer_lookup(entity.name)
        if entry is not None and entry.kind != entity.kind:
            reasons.append(f"the gazetteer has {entry.name} as a{_n(entry.kind)} {entry.kind}")
        elif entry is None:
            reasons += [
                reason
                for kind, reason in _kind_evidence(entity)
                if kind != entity.kind and {kind, entity.kind} != _ALIKE
            ]
        if reasons:
            findings.append(
                Finding(f"{entity.name} ({entity.kind})", "; ".join(reasons), _change_url(entity))
            )
    return findings


def probable_duplicates() -> list[Finding]:
    groups: dict[str, list[Entity]] = defaultdict(list)
    for entity in Entity.objects.only("pk", "name", "kind").order_by("name", "pk"):
        forms = {entity.name, organisation_key(entity.name)}
        for key in {transliteration_key(form) for form in forms} - {""}:
            groups[key].append(entity)
    findings, seen = [], set()
    for group in groups.values():
        members = tuple(sorted({entity.pk: entity for entity in group}.values(), key=_by_name))
        ids = tuple(entity.pk for entity in members)
        if len(members) < 2 or ids in seen:
            continue
        seen.add(ids)
        names = " / ".join(f"{entity.name} ({entity.kind})" for entity in members)
        url = reverse("admin:articles_entity_changelist") + "?id__in=" + ",".join(map(str, ids))
        findings.append(Finding(names, f"{len(members)} entities, one spelling", url))
    return sorted(findings, key=lambda finding: finding.subject.casefold())


def one_off_multiword_entities() -> list[Finding]:
    once = (
        Entity.objects.filter(name__contains=" ")
        .annotate(article_total=Count("mentions__article", distinct=True))
        .annotate(mention_total=Sum("mentions__count"))
        .filter(article_total=1, mention_total=1)
        .order_by("name", "pk")
    )
    return [
        Finding(f"{entity.name} ({entity.kind})", "named once, in one article", _change_url(entity))
        for entity in once
        if _is_multiword(entity)
    ]


def outlets_without_canonical_name() -> list[Finding]:
    outlets = (
        Outlet.objects.filter(is_canonical=False)
        .annotate(article_total=Count("articles"))
        .filter(~Q(article_total=0))
        .order_by("name")
    )
    return [
        Finding(
            outlet.name,
            f"{outlet.article_total} article(s)"
            + (f", domain {outlet.domain}" if outlet.domain else ""),
            reverse("admin:articles_outlet_change", args=[outlet.pk]),
        )
        for outlet in outlets
    ]


def transliteration_key(name: str) -> str:
    """One key for spellings that differ by transliteration: Andrei / Andrey,
    Zelensky / Zelenskyy / Zelenskiy, Kharkiv / Kharkov are not merged (o/i differ)."""
    key = re.sub(r"[^\w ]", "", spelling_key(name)).replace("y", "i").replace("j", "i")
    return re.sub(r"(\w)\1+", r"\1", key)  # doubled letters: "ii", "ss"


def organisation_key(name: str) -> str:
    """A name without the words for an organisation's form: "AFP news agency" -> "afp"."""
    return " ".join(_ORGANISATION_FORMS.sub(" ", spelling_key(name)).split())


def _kind_evidence(entity: Entity) -> list[tuple[str, str]]:
    """Kinds an entity's own name and aliases point to, with why."""
    evidence = []
    if known_place(entity.name) is not None:
        evidence.append(("place", "a country, region or city has that name (GeoNames, ISO 3166)"))
    titled = next((alias for alias in entity.aliases if _PERSON_TITLE.match(alias)), None)
    if titled:
        evidence.append(("person", f"an alias gives a person's title: {titled!r}"))
    words = set(re.findall(r"\w+", spelling_key(entity.name)))
    if words & _ORGANISATION_WORDS:
        evidence.append(("organisation", "its name has an organisation's word"))
    if words & _EVENT_WORDS:
        evidence.append(("event", "its name has an event's word"))
    return evidence


def _is_multiword(entity: Entity) -> bool:
    words = len(entity.name.split())
    return words >= (_MIN_PERSON_WORDS if entity.kind == Entity.Kind.PERSON else _MIN_WORDS)


def _change_url(entity: Entity) -> str:
    return reverse("admin:articles_entity_change", args=[entity.pk])


def _by_name(entity: Entity) -> tuple[str, int]:
    return entity.name.casefold(), entity.pk


def _n(word: str) -> str:
    return "n" if word[:1] in "aeiou" else ""
