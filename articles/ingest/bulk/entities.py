"""Entity lookup in memory for the bulk loader.

Entities are resolved in article order, in the main process, against an
in-memory copy of the entity table (name, kind, aliases, slugs), with the rules
of `save.entity_for`; new ones get their ids here and are written with the batch.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection

from articles.ingest.bulk.writer import ENTITY_COLUMNS, copy_rows, next_ids
from articles.ingest.checks import checked_mention
from articles.ingest.save import curated_stop_words, free_slug, new_surfaces
from articles.models import Entity


class EntityIndex:
    """The entity table in memory, resolved with the rules of `save.entity_for`.
    New entities get their ids here and are written with `save_changes`."""

    def __init__(self):
        self.by_name: dict[tuple[str, str], list[Entity]] = {}
        self.by_alias: dict[str, list[Entity]] = {}
        self.known: dict[int, set[str]] = {}  # pk -> lower-cased name and aliases
        self.slugs: set[str] = set()
        self.changed: dict[int, Entity] = {}
        self.new: dict[int, Entity] = {}
        self._ids: deque[int] = deque()
        self.stop_words = curated_stop_words()
        for entity in Entity.objects.order_by("name", "pk"):
            self._index(entity)

    def _index(self, entity: Entity) -> None:
        self.by_name.setdefault((entity.name.lower(), entity.kind), []).append(entity)
        for alias in entity.aliases:
            self.by_alias.setdefault(alias, []).append(entity)
        self.known[entity.pk] = {entity.name.lower(), *(a.lower() for a in entity.aliases)}
        self.slugs.add(entity.slug)

    def _is_curated(self, name: str, kind: str) -> bool:
        return any(e.curated for e in self.by_name.get((name.lower(), kind), ()))

    def entity_for(self, name: str, kind: str, surfaces: Iterable[str]) -> Entity | None:
        """The entity a mention (name, kind, surfaces) names, noting new aliases; None
        when the name is no entity."""
        checked = checked_mention(name, kind, self.stop_words, self._is_curated)
        if checked is None:
            return None
        name, kind = checked
        candidates = self.by_name.get((name.lower(), kind)) or self.by_alias.get(name)
        entity = candidates[0] if candidates else self._create(name, kind)
        known = self.known[entity.pk]
        new = new_surfaces(known, surfaces)
        if new:
            entity.aliases = sorted({*entity.aliases, *new}, key=str.lower)
            for alias in new:
                self.by_alias.setdefault(alias, []).append(entity)
            known.update(alias.lower() for alias in new)
            if entity.pk not in self.new:
                self.changed[entity.pk] = entity
        return entity

    def _create(self, name: str, kind: str) -> Entity:
        if not self._ids:
            self._ids.extend(next_ids("articles_entity", 500))
        entity = Entity(
            pk=self._ids.popleft(),
            name=name[:200],
            kind=kind,
            slug=free_slug(name, kind, self.slugs.__contains__),
            aliases=[],
            description="",
        )
        self._index(entity)
        self.new[entity.pk] = entity
        return entity

    def take_changes(self) -> EntityChanges:
        """The entities made and the aliases added since the last call, as they are now."""
        changes = EntityChanges(
            [
                (e.pk, e.name, e.kind, e.slug, list(e.aliases), e.description, e.curated)
                for e in self.new.values()
            ],
            [Entity(pk=e.pk, aliases=list(e.aliases)) for e in self.changed.values()],
        )
        self.new.clear()
        self.changed.clear()
        return changes

    def save_changes(self) -> None:
        self.take_changes().save()


@dataclass
class EntityChanges:
    new: list[tuple]  # ENTITY_COLUMNS
    aliased: list[Entity]  # pk and aliases

    def save(self) -> None:
        if self.new:
            with connection.cursor() as cursor:
                copy_rows(cursor, "articles_entity", ENTITY_COLUMNS, self.new)
        if self.aliased:
            Entity.objects.bulk_update(self.aliased, ["aliases"], batch_size=500)
