"""Curating entities: merging spelling variants into one entity, and re-checking what
earlier loads made with the rules in force now."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Sum

from articles import cache
from articles.ingest.checks import ORGANISATION, PERSON, PLACE, check_entity, variant_key
from articles.ingest.gazetteer import lookup, spelling_key
from articles.ingest.save import curated_stop_words
from articles.models import Entity, Mention

# Kinds the model guesses between; the archive's evidence settles a name's kind among them.
GUESSED_KINDS = frozenset({PERSON, ORGANISATION, PLACE})
# Merges moved in one statement (two parameters each).
MERGE_CHUNK = 10_000


@transaction.atomic
def merge_entities(keep: Entity, others: list[Entity]) -> Entity:
    """Fold `others` into `keep`: their names and aliases become its aliases and
    their mentions become its mentions (counts added where both name a section).
    Nothing is lost but the merged rows themselves."""
    merge_all([(other, keep) for other in others if other.pk != keep.pk])
    cache.changed()
    return keep


def merge_all(pairs: list[tuple[Entity, Entity]]) -> None:
    """`merge_entities` for many (merged, kept) pairs at once; no kept entity is merged."""
    if not pairs:
        return
    kept: dict[int, Entity] = {}
    names: dict[int, set[str]] = defaultdict(set)
    for other, keep in pairs:
        kept[keep.pk] = keep
        names[keep.pk].update([other.name, *other.aliases])
    _move_mentions([(other.pk, keep.pk) for other, keep in pairs])
    for keep in kept.values():
        aliases = {*keep.aliases, *names[keep.pk]} - {keep.name}
        keep.aliases = sorted(aliases, key=str.lower)
    Entity.objects.bulk_update(kept.values(), ["aliases"], batch_size=500)
    _delete([other.pk for other, _ in pairs])


def _delete(pks: list[int]) -> int:
    """Delete entities and their mentions in two statements. A queryset's delete() would
    send a signal, and so bump the result cache, once per row; the caller bumps it once."""
    if not pks:
        return 0
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM articles_mention WHERE entity_id = ANY(%s)", [pks])
        cursor.execute("DELETE FROM articles_entity WHERE id = ANY(%s)", [pks])
        return cursor.rowcount


def _move_mentions(moves: list[tuple[int, int]]) -> None:
    """Each (from, to) entity's mentions become the other's, counts added where both
    name a section: one statement per chunk, however many entities merge."""
    for start in range(0, len(moves), MERGE_CHUNK):
        chunk = moves[start : start + MERGE_CHUNK]
        rows = ", ".join(["(%s::bigint, %s::bigint)"] * len(chunk))
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                WITH moves(source, target) AS (VALUES {rows}),
                moved AS (
                    DELETE FROM articles_mention m USING moves
                    WHERE m.entity_id = moves.source
                    RETURNING moves.target, m.section_id, m.article_id, m.count
                )
                INSERT INTO articles_mention (entity_id, section_id, article_id, count)
                SELECT target, section_id, article_id, SUM(count) FROM moved
                GROUP BY target, section_id, article_id
                ON CONFLICT (entity_id, section_id)
                DO UPDATE SET count = articles_mention.count + EXCLUDED.count
                """,  # noqa: S608 (only placeholders are formatted in)
                [pk for move in chunk for pk in move],
            )


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
    the kind checks, the transliteration key, and the kind most of a name's mentions
    carry. A curator's entity (`curated`) is never changed, merged away or dropped;
    variants of its name are merged into it."""
    report = RecheckReport()
    _check_each(curated_stop_words(), report)
    _merge_groups(Entity.objects.all(), lambda name, kind: (variant_key(name, kind), kind), report)
    _merge_groups(
        Entity.objects.filter(kind__in=GUESSED_KINDS),
        lambda name, kind: spelling_key(name),
        report,
        only=lambda group: len({row[2] for row in group}) > 1,
    )
    # Mentions found anew (an article loaded under older rules) may leave an entity
    # that nothing names any more: a journalist of a credit line, say.
    orphans = Entity.objects.filter(curated=False, mentions__isnull=True)
    report.dropped += _delete(list(orphans.values_list("pk", flat=True)))
    cache.changed()
    return report


# The table is read as (pk, name, kind, curated) rows: entities are made only of the few
# that change.
_ROW = ("pk", "name", "kind", "curated")


def _check_each(stop_words: frozenset[str], report: RecheckReport) -> None:
    rows = list(Entity.objects.order_by("pk").values_list(*_ROW))
    by_name: dict[tuple[str, str], int] = {}
    for pk, name, kind, _ in rows:
        by_name.setdefault((name.lower(), kind), pk)
    dropped: list[int] = []
    renamed: dict[int, tuple[str, str]] = {}
    merged: dict[int, int] = {}
    for pk, name, kind, curated in rows:
        checked = None if curated else check_entity(name, kind, stop_words)
        if curated or checked == (name, kind):
            continue
        if checked is None:
            dropped.append(pk)
            continue
        target = by_name.get((checked[0].lower(), checked[1]))
        if target is not None and target != pk:
            merged[pk] = target
            continue
        if by_name.get((name.lower(), kind)) == pk:
            del by_name[(name.lower(), kind)]
        by_name[(checked[0].lower(), checked[1])] = pk
        renamed[pk] = checked
    # A target that is itself dropped or merged away waits for the next load's check.
    gone = {*dropped, *merged}
    merged = {pk: target for pk, target in merged.items() if target not in gone}
    entities = Entity.objects.in_bulk([*renamed, *merged, *merged.values()])
    for pk, (name, kind) in renamed.items():
        entities[pk].name, entities[pk].kind = name, kind
    _delete(dropped)
    changed = [entities[pk] for pk in renamed]
    Entity.objects.bulk_update(changed, ["name", "kind"], batch_size=500)  # slugs stay
    merge_all([(entities[pk], entities[target]) for pk, target in merged.items()])
    report.dropped += len(dropped)
    report.changed += len(renamed)
    report.merged += len(merged)


def _merge_groups(
    entities,
    key: Callable[[str, str], Hashable],
    report: RecheckReport,
    only: Callable[[list[tuple]], bool] = bool,
) -> None:
    """Fold each group of entities sharing a key into one: a curator's, else the
    gazetteer's canonical name, else the one with most mentions. Other curators'
    entities stay apart."""
    groups: dict[Hashable, list[tuple]] = defaultdict(list)
    for row in entities.order_by("pk").values_list(*_ROW):
        groups[key(row[1], row[2])].append(row)
    groups = {k: g for k, g in groups.items() if len(g) > 1 and only(g)}
    members = [row[0] for group in groups.values() for row in group]
    totals = dict(
        Mention.objects.filter(entity__in=members)
        .values("entity")
        .annotate(total=Sum("count"))
        .values_list("entity", "total")
    )

    def rank(row: tuple) -> tuple:
        pk, name, _, curated = row
        entry = lookup(name)
        canonical = entry is not None and entry.name == name
        return (not curated, not canonical, -totals.get(pk, 0), pk)

    moves = []
    for group in groups.values():
        keep, *others = sorted(group, key=rank)
        moves += [(other[0], keep[0]) for other in others if not other[3]]
    entities = Entity.objects.in_bulk([pk for move in moves for pk in move])
    merge_all([(entities[other], entities[keep]) for other, keep in moves])
    report.merged += len(moves)
