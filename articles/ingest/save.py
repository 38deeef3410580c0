"""The one ingest stage that touches the database.

One transaction per article, keyed by a content hash: loading the same input
again changes nothing, and a crash never leaves half an article behind. A
source is stored as "failed: interrupted" until its outcome is recorded, so an
input whose load was killed says so until it is loaded again. Loaders running
side by side on overlapping inputs meet in the unique constraints; the loser of
such a race (or of a deadlock between their transactions) saves again.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from django.db import IntegrityError, OperationalError, transaction
from django.utils.text import slugify

from articles.ingest.identify import find_outlet
from articles.ingest.records import ArticleRecord, EntityMention
from articles.models import Article, Entity, Mention, Outlet, Section, SourceDocument
from articles.stories import place_saved
from articles.topics import tag_articles

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
INTERRUPTED = "interrupted: the load stopped before this input was finished; load it again"
# A save that lost a race to another loader is tried again, this many times in all.
SAVE_ATTEMPTS = 3
# PostgreSQL's deadlock_detected and serialization_failure.
_RETRYABLE_SQLSTATES = {"40P01", "40001"}

_SPACES = re.compile(r"\s+")


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
    """Create the article, or update the text of the one loaded earlier from the
    same record. Curators' fields (outlet, date, visibility, review state and
    curated topics) of an article already in the archive are left as they are."""
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
            existing = Article.objects.filter(content_hash=digest).only("pk").first()
            if existing:
                return SaveResult(UNCHANGED, existing.pk)
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


def _previous_version(record: ArticleRecord) -> Article | None:
    """The article this record was loaded as before, if its text has changed since."""
    if record.origin:
        match = Article.objects.filter(origin=record.origin, title=record.title).first()
        if match:
            return match
    if record.source_url:
        return Article.objects.filter(source_url=record.source_url).first()
    return None


def _create(record: ArticleRecord, digest: str, source: SourceDocument | None) -> Article:
    return Article.objects.create(
        outlet=outlet_for(record),
        source=source,
        origin=record.origin,
        title=record.title[:2000] or "(untitled)",
        kicker=record.kicker[:300],
        dek=record.dek,
        byline=record.byline[:500],
        dateline=record.dateline[:100],
        source_url=record.source_url[:2000],
        published_at=record.published_at,
        date_source=record.date_source if record.published_at else Article.DateSource.UNKNOWN,
        kind=record.kind,
        body=record.body,
        content_hash=digest,
        needs_review=bool(record.review_reasons),
        review_reasons="; ".join(record.review_reasons),
    )


def _update_text(
    article: Article, record: ArticleRecord, digest: str, source: SourceDocument | None
) -> Article:
    article.title = record.title[:2000] or article.title
    article.kicker = record.kicker[:300]
    article.dek = record.dek
    article.byline = record.byline[:500]
    article.body = record.body
    article.kind = record.kind
    article.content_hash = digest
    article.source = source or article.source
    article.save()
    return article


def outlet_for(record: ArticleRecord) -> Outlet | None:
    """The outlet row for a record: found by name or domain, else created, with
    the slug and domain of the known-outlets table when the outlet is in it."""
    if not record.outlet:
        return None
    known = find_outlet(record.outlet)
    domain = record.outlet_domain or (known.domain if known else "")
    outlet = Outlet.objects.filter(name__iexact=record.outlet).first()
    if outlet is None and domain:
        outlet = Outlet.objects.filter(domain__iexact=domain).first()
    if outlet:
        return outlet
    name = record.outlet[:200]
    slug = known.slug if known else unique_slug(Outlet, name)
    with transaction.atomic():
        outlet, _ = Outlet.objects.get_or_create(
            name=name, defaults={"slug": slug, "domain": domain}
        )
    return outlet


def unique_slug(model, name: str, qualifier: str = "") -> str:
    """A URL slug for a new row: readable where the name has Latin letters, and
    made unique with a short stable hash of the name where it is taken or empty
    ("ООО" and "Ведомости" must not share one)."""
    base = slugify(name)[:180]
    candidates = [base, f"{base}-{qualifier}" if base and qualifier else ""]
    for candidate in candidates:
        if candidate and not model.objects.filter(slug=candidate).exists():
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
            anchor=_unique_anchor(section.heading, position, anchors),
        )
        for position, section in enumerate(record.sections, start=1)
    ]
    return Section.objects.bulk_create(sections)


def _unique_anchor(heading: str, position: int, taken: set[str]) -> str:
    base = slugify(heading)[:80].strip("-") or f"part-{position}"
    anchor = base if base not in taken else f"{base}-{position}"
    taken.add(anchor)
    return anchor


def _save_mentions(
    article: Article, sections: list[Section], mentions: list[list[EntityMention]]
) -> int:
    rows = []
    for section, found in zip(sections, mentions, strict=False):
        counts: dict[int, int] = {}
        for mention in found:
            entity = entity_for(mention)
            counts[entity.pk] = counts.get(entity.pk, 0) + mention.count
        rows += [
            Mention(entity_id=pk, section=section, article=article, count=count)
            for pk, count in counts.items()
        ]
    Mention.objects.bulk_create(rows)
    return len(rows)


def entity_for(mention: EntityMention) -> Entity:
    """The entity a mention names: by canonical name, then by alias (a curator may
    have merged this name into another entity), else a new one."""
    entity = (
        Entity.objects.filter(name__iexact=mention.name, kind=mention.kind).first()
        or Entity.objects.filter(aliases__contains=[mention.name]).first()
    )
    if entity is None:
        entity = _create_entity(mention)
    new_aliases = _new_aliases(entity, mention.surfaces)
    if new_aliases:
        entity.aliases = sorted({*entity.aliases, *new_aliases}, key=str.lower)
        entity.save(update_fields=["aliases"])
    return entity


def _create_entity(mention: EntityMention) -> Entity:
    slug = unique_slug(Entity, mention.name, mention.kind)
    with transaction.atomic():
        entity, _ = Entity.objects.get_or_create(
            name=mention.name[:200], kind=mention.kind, defaults={"slug": slug}
        )
    return entity


def _new_aliases(entity: Entity, surfaces: set[str]) -> set[str]:
    known = {entity.name.lower(), *(alias.lower() for alias in entity.aliases)}
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
