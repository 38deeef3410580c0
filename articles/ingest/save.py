"""The one ingest stage that touches the database.

One transaction per article, keyed by a content hash: loading the same input
again changes nothing, and a crash never leaves half an article behind. A
source is stored as "failed: interrupted" until its outcome is recorded, so an
input whose load was killed says so until it is loaded again. Loaders running
side by side on overlapping inputs meet in the unique constraints; the loser of
such a race (or of a deadlock between their transactions) saves again.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import IntegrityError, OperationalError, transaction
from django.utils.text import slugify

from articles.ingest.checks import RULES_VERSION, checked_mention, in_byline, stop_key
from articles.ingest.outlets import find_outlet
from articles.ingest.records import ArticleRecord, EntityMention
from articles.models import (
    Article,
    Entity,
    EntityStopWord,
    Mention,
    Outlet,
    Section,
    SourceDocument,
)
from articles.stories import place_saved
from articles.topics import tag_articles

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
INTERRUPTED = "interrupted: the load stopped before this input was finished; load it again"
# A save that lost a race to another loader is tried again, this many times in all.
SAVE_ATTEMPTS = 3
# PostgreSQL's deadlock_detected and serialization_failure.
_RETRYABLE_SQLSTATES = {"40P01", "40001"}

_SPACES = re.compile(r"\s+")
# The columns ``metadata_differs`` reads.
REFRESHED_FIELDS = ("title", "outlet_id", "published_at", "date_source", "curated_fields")
# How much each way of knowing a date is trusted: a reload never trades a date
# for a less trusted one.
_DATE_TRUST = {"metadata": 3, "text": 2, "estimated": 1, "unknown": 0}


@dataclass
class SaveResult:
    outcome: str  # CREATED, UPDATED or UNCHANGED
    article_id: int
    sections: int = 0
    mentions: int = 0
    topics: int = 0


def content_hash(record: ArticleRecord) -> str:
    """Same outlet, title and text (whitespace aside) means the same article."""
    parts = [record.outlet, record.title, *(f"{s.heading}\n{s.body}" for s in record.sections)]
    normalised = "\x1f".join(_SPACES.sub(" ", part).strip() for part in parts)
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def sha256_of(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def store_source(origin: str, raw: bytes, fmt: str) -> SourceDocument:
    """Keep the raw input verbatim before anything can fail on it. Identical bytes
    are kept once; the first origin they were loaded from is kept with them."""
    digest = sha256_of(raw)
    try:
        with transaction.atomic():
            source, _ = SourceDocument.objects.get_or_create(
                sha256=digest,
                defaults={
                    "origin": origin,
                    "raw": raw,
                    "format": fmt,
                    "size": len(raw),
                    "status": SourceDocument.Status.FAILED,
                    "error": INTERRUPTED,
                },
            )
    except IntegrityError:  # another loader stored the same bytes at the same moment
        source = SourceDocument.objects.get(sha256=digest)
    return source


def record_outcome(source: SourceDocument, errors: list[str], loaded: int) -> None:
    """Note on the source whether it loaded, partly loaded or failed, and why."""
    if not errors:
        status = SourceDocument.Status.LOADED
    elif loaded:
        status = SourceDocument.Status.PARTIAL
    else:
        status = SourceDocument.Status.FAILED
    SourceDocument.objects.filter(pk=source.pk).update(status=status, error="\n".join(errors))


def save_article(
    record: ArticleRecord,
    mentions: list[list[EntityMention]],
    source: SourceDocument | None,
) -> SaveResult:
    """Create the article, or update the one loaded earlier from the same record:
    its text, and its title, outlet and date where the loader now finds better
    ones (``refresh_metadata``). Visibility, review state, curated topics and
    every field a curator edited are left as they are."""
    for _ in range(SAVE_ATTEMPTS - 1):
        try:
            return _save_article(record, mentions, source)
        except (IntegrityError, OperationalError) as error:
            # Another loader committed the same new entity, outlet or slug while
            # ours was open, or our transactions deadlocked: the next attempt
            # sees what it committed.
            if not _lost_a_race(error):
                raise
    return _save_article(record, mentions, source)


def _lost_a_race(error: Exception) -> bool:
    if isinstance(error, IntegrityError):
        return True
    return getattr(error.__cause__, "sqlstate", None) in _RETRYABLE_SQLSTATES


def _save_article(record, mentions, source) -> SaveResult:
    digest = content_hash(record)
    try:
        with transaction.atomic():
            existing = Article.objects.filter(content_hash=digest).only(*REFRESHED_FIELDS).first()
            if existing:
                return SaveResult(_refresh(existing, record), existing.pk)
            previous = _previous_version(record)
            if previous:
                article = _update_text(previous, record, digest, source)
                outcome = UPDATED
            else:
                article = _create(record, digest, source)
                outcome = CREATED
            sections = _replace_sections(article, record)
            mention_count = _save_mentions(article, sections, mentions)
            topic_count = tag_articles([article.pk])
            place_saved(article)
    except IntegrityError:
        # Another loader saved the same article between our check and our insert.
        existing = Article.objects.filter(content_hash=digest).only("pk").first()
        if existing is None:
            raise
        return SaveResult(UNCHANGED, existing.pk)
    return SaveResult(outcome, article.pk, len(sections), mention_count, topic_count)


def refresh_metadata(record: ArticleRecord) -> str:
    """Bring the article already saved with this record's content hash up to what the
    loader now finds: UPDATED when a title, outlet or date changed, else UNCHANGED."""
    with transaction.atomic():
        article = (
            Article.objects.filter(content_hash=content_hash(record))
            .only(*REFRESHED_FIELDS)
            .first()
        )
        return _refresh(article, record) if article else UNCHANGED


def metadata_differs(article_row: dict, record: ArticleRecord, outlet_id: int | None) -> bool:
    """Whether ``refresh_metadata`` would change an article, read from its row
    (title, outlet_id, published_at, date_source, curated_fields) without a query."""
    return bool(_metadata_changes(article_row, record, outlet_id))


def _refresh(article: Article, record: ArticleRecord) -> str:
    outlet = outlet_for(record)
    row = {field: getattr(article, field) for field in REFRESHED_FIELDS}
    changes = _metadata_changes(row, record, outlet.pk if outlet else None)
    if not changes:
        return UNCHANGED
    for field, value in changes.items():
        setattr(article, field, value)
    article.save(update_fields=[*changes, "updated_at"])
    return UPDATED


def _metadata_changes(row: dict, record: ArticleRecord, outlet_id: int | None) -> dict:
    curated = set(row["curated_fields"])
    changes: dict = {}
    title = record.title[:2000]
    if "title" not in curated and title and title != row["title"]:
        changes["title"] = title
    if "outlet" not in curated and outlet_id is not None and outlet_id != row["outlet_id"]:
        changes["outlet_id"] = outlet_id
    new_date, new_source = record.published_at, record.date_source
    if (
        "published_at" not in curated
        and new_date is not None
        and (new_date, new_source) != (row["published_at"], row["date_source"])
        and _DATE_TRUST.get(new_source, 0) >= _DATE_TRUST.get(row["date_source"], 0)
    ):
        changes["published_at"], changes["date_source"] = new_date, new_source
    return changes


def _previous_version(record: ArticleRecord) -> Article | None:
    """The article this record was loaded as before, if its text has changed since:
    the one from the same origin with the same title, or the only one from that
    origin when the record is the whole input (its title may be what changed), or
    the one from the same URL."""
    if record.origin:
        same_origin = list(Article.objects.filter(origin=record.origin)[:2])
        match = next((a for a in same_origin if a.title == record.title), None)
        if match or (len(same_origin) == 1 and not record.one_of_several):
            return match or same_origin[0]
    if record.source_url:
        return Article.objects.filter(source_url=record.source_url).first()
    return None


def article_fields(record: ArticleRecord, digest: str) -> dict:
    """The columns of a new article made from a record, as both loaders write them
    (bulk/rows.py copies these values): the truncations to the columns' sizes, a title
    for a story without one, and no date source without a date."""
    return {
        "origin": record.origin,
        "title": article_title(record),
        "kicker": record.kicker[:300],
        "dek": record.dek,
        "byline": record.byline[:500],
        "dateline": record.dateline[:100],
        "source_url": record.source_url[:2000],
        "published_at": record.published_at,
        "date_source": record.date_source if record.published_at else Article.DateSource.UNKNOWN,
        "kind": record.kind,
        "body": record.body,
        # As the database keeps it (Article.has_entries): written so that it need not.
        "has_entries": len(record.sections) > 1 or any(s.heading for s in record.sections),
        "content_hash": digest,
        "needs_review": bool(record.review_reasons),
        "review_reasons": "; ".join(record.review_reasons),
    }


def article_title(record: ArticleRecord) -> str:
    """The title column of a new article: truncated to its size, "(untitled)" for none."""
    return record.title[:2000] or "(untitled)"


def _create(record: ArticleRecord, digest: str, source: SourceDocument | None) -> Article:
    return Article.objects.create(
        outlet=outlet_for(record),
        source=source,
        entity_rules=RULES_VERSION,
        **article_fields(record, digest),
    )


def _update_text(
    article: Article, record: ArticleRecord, digest: str, source: SourceDocument | None
) -> Article:
    fields = article_fields(record, digest)
    if "title" not in article.curated_fields and record.title:
        article.title = fields["title"]
    _refresh_outlet_and_date(article, record)
    for name in ("kicker", "dek", "byline", "body", "kind", "content_hash"):
        setattr(article, name, fields[name])
    article.entity_rules = RULES_VERSION
    article.source = source or article.source
    article.save()
    return article


def _refresh_outlet_and_date(article: Article, record: ArticleRecord) -> None:
    outlet = outlet_for(record)
    row = {field: getattr(article, field) for field in REFRESHED_FIELDS}
    changes = _metadata_changes(row, record, outlet.pk if outlet else None)
    changes.pop("title", None)  # the text update decides the title
    for field, value in changes.items():
        setattr(article, field, value)


def outlet_for(record: ArticleRecord) -> Outlet | None:
    """The outlet row for a record: found by name, a curator's alias or domain, else
    created, with the registry's slug, domain and aliases when it knows the outlet.

    Rows win over the registry, so a curator's renaming or alias holds; a row
    whose name is not canonical (a site name or domain a page gave) takes the
    registry's name once the registry knows its domain."""
    if not record.outlet:
        return None
    known = find_outlet(record.outlet)
    domain = record.outlet_domain or (known.domain if known else "")
    outlet = (
        Outlet.objects.filter(name__iexact=record.outlet).first()
        or Outlet.objects.filter(aliases__contains=[record.outlet]).first()
        or (Outlet.objects.filter(domain__iexact=domain).first() if domain else None)
    )
    if outlet:
        return _canonical(outlet, known) if known and known.name == record.outlet else outlet
    name = record.outlet[:200]
    slug = known.slug if known else unique_slug(Outlet, name)
    is_canonical = known is not None and known.name == name
    with transaction.atomic():
        outlet, _ = Outlet.objects.get_or_create(
            name=name,
            defaults={
                "slug": slug,
                "domain": domain,
                "is_canonical": is_canonical,
                "aliases": list(known.aliases) if is_canonical else [],
            },
        )
    return outlet


def _canonical(outlet: Outlet, known) -> Outlet:
    """A row found by its domain, renamed as the registry names it unless its name
    is canonical already (the registry's, or a curator's) or taken by another row."""
    if outlet.is_canonical or outlet.name == known.name:
        return outlet
    if Outlet.objects.filter(name=known.name).exists():
        return outlet
    outlet.aliases = sorted({*outlet.aliases, outlet.name, *known.aliases})
    outlet.name, outlet.is_canonical = known.name, True
    outlet.save(update_fields=["name", "aliases", "is_canonical"])
    return outlet


def unique_slug(model, name: str, qualifier: str = "") -> str:
    """A URL slug for a new row: readable where the name has Latin letters, and
    made unique with a short stable hash of the name where it is taken or empty
    ("ООО" and "Ведомости" must not share one)."""
    return free_slug(name, qualifier, lambda slug: model.objects.filter(slug=slug).exists())


def free_slug(name: str, qualifier: str, taken: Callable[[str], bool]) -> str:
    """`unique_slug`'s rule against any record of the slugs taken (the bulk loader
    keeps the entity table's in memory)."""
    base = slugify(name)[:180]
    candidates = [base, f"{base}-{qualifier}" if base and qualifier else ""]
    for candidate in candidates:
        if candidate and not taken(candidate):
            return candidate
    digest = hashlib.sha1(f"{name}\x1f{qualifier}".encode()).hexdigest()[:10]  # noqa: S324
    return f"{base}-{digest}" if base else f"{qualifier or 'x'}-{digest}"


def _replace_sections(article: Article, record: ArticleRecord) -> list[Section]:
    article.sections.all().delete()  # only on a text update; mentions go with them
    anchors: set[str] = set()
    sections = [
        Section(
            article=article,
            position=position,
            heading=section.heading,
            posted_at=section.posted_at,
            body=section.body,
            captions=section.captions,
            anchor=unique_anchor(section.heading, position, anchors),
        )
        for position, section in enumerate(record.sections, start=1)
    ]
    return Section.objects.bulk_create(sections)


def unique_anchor(heading: str, position: int, taken: set[str]) -> str:
    """A section's anchor: its heading as a slug, numbered where one is taken."""
    base = slugify(heading)[:80].strip("-") or f"part-{position}"
    anchor = base if base not in taken else f"{base}-{position}"
    taken.add(anchor)
    return anchor


def refresh_mentions(article_id: int, mentions: list[list[EntityMention]]) -> int:
    """Replace the mentions of an article loaded under older entity rules with those
    found now. Its text and curators' fields stay as they are."""
    with transaction.atomic():
        article = Article.objects.select_for_update().get(pk=article_id)
        Mention.objects.filter(article=article).delete()
        sections = list(article.sections.order_by("position"))
        count = _save_mentions(article, sections, mentions)
        Article.objects.filter(pk=article_id).update(entity_rules=RULES_VERSION)
    return count


def _save_mentions(
    article: Article, sections: list[Section], mentions: list[list[EntityMention]]
) -> int:
    rows = []
    lookup = functools.partial(entity_for, stop_words=curated_stop_words())
    for section, found in zip(sections, mentions, strict=False):
        as_tuples = ((m.name, m.kind, m.count, m.surfaces) for m in found)
        counts = mention_counts(as_tuples, article.byline, lookup)
        rows += [
            Mention(entity_id=pk, section=section, article=article, count=count)
            for pk, count in counts.items()
        ]
    Mention.objects.bulk_create(rows)
    return len(rows)


def mention_counts(
    found: Iterable[tuple[str, str, int, Iterable[str]]],
    byline: str,
    entity_for: Callable[[str, str, Iterable[str]], Entity | None],
) -> dict[int, int]:
    """One section's mentions (name, kind, count, surfaces) counted per entity id, as
    both loaders store them: the authors of the byline and names that are no entity
    after all ("the Alliance", a title) left out."""
    counts: dict[int, int] = {}
    for name, kind, count, surfaces in found:
        if in_byline(name, kind, byline):
            continue
        entity = entity_for(name, kind, surfaces)
        if entity is not None:
            counts[entity.pk] = counts.get(entity.pk, 0) + count
    return counts


def curated_stop_words() -> frozenset[str]:
    """The curators' stop-list from admin (the shipped one is read by `checks`)."""
    return frozenset(map(stop_key, EntityStopWord.objects.values_list("phrase", flat=True)))


def _is_curated(name: str, kind: str) -> bool:
    return Entity.objects.filter(name__iexact=name, kind=kind, curated=True).exists()


def entity_for(
    name: str, kind: str, surfaces: Iterable[str], stop_words: frozenset[str] = frozenset()
) -> Entity | None:
    """The entity a mention (name, kind, surfaces) names, once checked
    (`checks.checked_mention`): by canonical name, then by alias (a curator may have
    merged this name into another entity), else a new one. None when the name is no
    entity."""
    checked = checked_mention(name, kind, stop_words, _is_curated)
    if checked is None:
        return None
    name, kind = checked
    entity = (
        Entity.objects.filter(name__iexact=name, kind=kind).first()
        or Entity.objects.filter(aliases__contains=[name]).first()
    )
    if entity is None:
        entity = _create_entity(name, kind)
    known = {entity.name.lower(), *(alias.lower() for alias in entity.aliases)}
    new_aliases = new_surfaces(known, surfaces)
    if new_aliases:
        entity.aliases = sorted({*entity.aliases, *new_aliases}, key=str.lower)
        entity.save(update_fields=["aliases"])
    return entity


def _create_entity(name: str, kind: str) -> Entity:
    slug = unique_slug(Entity, name, kind)
    with transaction.atomic():
        entity, _ = Entity.objects.get_or_create(
            name=name[:200], kind=kind, defaults={"slug": slug}
        )
    return entity


def new_surfaces(known: set[str], surfaces: Iterable[str]) -> set[str]:
    """The spellings of an entity not among `known` (its name and aliases, lower-cased),
    truncated to the alias size: its new aliases."""
    return {s[:200] for s in surfaces if s.lower() not in known}


def known_aliases() -> dict[str, tuple[str, str]]:
    """Every alias in the archive, lower-cased, mapped to its entity's (name, kind).

    Aliases are the spellings curators set or merged in admin plus those the
    enricher resolved without context (never "Mr. Austin" from one article), so
    applying them to every later article is safe; they win over the gazetteer."""
    table: dict[str, tuple[str, str]] = {}
    for name, kind, aliases in Entity.objects.exclude(aliases=[]).values_list(
        "name", "kind", "aliases"
    ):
        for alias in aliases:
            table[alias.lower()] = (name, kind)
    return table
