"""Curating entities: merging spelling variants into one entity, and re-checking what
earlier loads made with the rules in force now."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F, Sum

from articles.ingest.checks import ORGANISATION, PERSON, PLACE, check_entity, variant_key
from articles.ingest.gazetteer import lookup, spelling_key
from articles.ingest.save import curated_stop_words
from articles.models import Entity, Mention

# Kinds the model guesses between; the archive's evidence settles a name's kind among them.
GUESSED_KINDS = frozenset({PERSON, ORGANISATION, PLACE})


@transaction.atomic
def merge_entities(keep: Entity, others: list[Entity]) -> Entity:
    """Fold `others` into `keep`: their names and aliases become its aliases and
    their mentions become its mentions (counts added where both name a section).
    Nothing is lost but the merged rows themselves."""
    others = [e for e in others if e.pk != keep.pk]
    aliases = set(keep.aliases)
    for other in others:
        aliases.update([other.name, *other.aliases])
        _move_mentions(other, keep)
    aliases.discard(keep.name)
    keep.aliases = sorted(aliases, key=str.lower)
    keep.save(update_fields=["aliases"])
    Entity.objects.filter(pk__in=[o.pk for o in others]).delete()
    return keep


def _move_mentions(source: Entity, target: Entity) -> None:
    shared = Mention.objects.filter(entity=source, section__mentions__entity=target)
    for mention in shared:
        Mention.objects.filter(entity=target, section_id=mention.section_id).update(
            count=F("count") + mention.count
        )
    shared.delete()
    Mention.objects.filter(entity=source).update(entity=target)


@dataclass
class RecheckReport:
    dropped: int = 0  # no entity after all: deleted with their mentions
    changed: int = 0  # renamed or given another kind
    merged: int = 0  # folded into another entity

    def __str__(self):
        return f"{self.dropped} dropped, {self.changed} corrected, {self.merged} merged"


@transaction.atomic
def recheck_entities() -> RecheckReport:
    """Apply the entity checks in force to every entity loaded before: the stop-lists,
    the kind checks, the transliteration key and the kind most mentions carry. A
    curator's entity (`curated`) is never changed, merged away or dropped; variants of
    its name are merged into it."""
    report = RecheckReport()
    entities = _checked(list(Entity.objects.order_by("pk")), curated_stop_words(), report)
    for group in _groups(entities, lambda e: (variant_key(e.name, e.kind), e.kind)):
        _merge_group(group, report)
    entities = list(Entity.objects.filter(kind__in=GUESSED_KINDS).order_by("pk"))
    for group in _groups(entities, lambda e: spelling_key(e.name)):
        if len({e.kind for e in group}) > 1:
            _merge_group(group, report)
    return report


def _checked(entities: list[Entity], stop_words, report: RecheckReport) -> list[Entity]:
    by_name = {(e.name.lower(), e.kind): e for e in reversed(entities)}
    kept = []
    for entity in entities:
        if entity.pk is None:  # merged into an earlier one
            continue
        checked = None if entity.curated else check_entity(entity.name, entity.kind, stop_words)
        if entity.curated or checked == (entity.name, entity.kind):
            kept.append(entity)
            continue
        by_name.pop((entity.name.lower(), entity.kind), None)
        if checked is None:
            entity.delete()
            report.dropped += 1
            continue
        target = by_name.get((checked[0].lower(), checked[1]))
        if target is not None:
            merge_entities(target, [entity])
            entity.pk = None
            report.merged += 1
            continue
        entity.name, entity.kind = checked
        entity.save(update_fields=["name", "kind"])  # the slug stays: links keep working
        by_name[(entity.name.lower(), entity.kind)] = entity
        kept.append(entity)
        report.changed += 1
    return [e for e in kept if e.pk is not None]


def _groups(entities: list[Entity], key) -> list[list[Entity]]:
    groups: dict[object, list[Entity]] = defaultdict(list)
    for entity in entities:
        groups[key(entity)].append(entity)
    return [group for group in groups.values() if len(group) > 1]


def _merge_group(group: list[Entity], report: RecheckReport) -> None:
    """Fold the group into one entity: a curator's, else the gazetteer's canonical
    name, else the one with most mentions. Other curators' entities stay apart."""
    totals = dict(
        Mention.objects.filter(entity__in=group)
        .values_list("entity")
        .annotate(total=Sum("count"))
        .values_list("entity", "total")
    )

    def rank(entity: Entity) -> tuple:
        entry = lookup(entity.name)
        canonical = entry is not None and entry.name == entity.name
        return (not entity.curated, not canonical, -totals.get(entity.pk, 0), entity.pk)

    keep, *others = sorted(group, key=rank)
    others = [e for e in others if not e.curated]
    if others:
        merge_entities(keep, others)
        report.merged += len(others)
