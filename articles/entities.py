"""Curating entities: merging spelling variants into one entity."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from articles.models import Entity, Mention


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
