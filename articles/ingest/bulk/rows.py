"""The rows COPY writes for a batch of new articles, built with the normal path's
functions (`save.article_fields`, `save.mention_counts`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from articles.ingest import checks
from articles.ingest.bulk.workers import Prepared
from articles.ingest.bulk.writer import ARTICLE_COLUMNS
from articles.ingest.records import ArticleRecord
from articles.ingest.save import article_fields, mention_counts


@dataclass
class Pending:
    """A new article waiting for its batch to be written."""

    item: Prepared
    source_id: int | None


def batch_rows(
    pending: list[Pending],
    article_ids: list[int],
    section_ids: Iterator[int],
    outlet_id: Callable[[ArticleRecord], int | None],
    entity_for: Callable,
    now,
) -> tuple[list, list, list]:
    """Article, section and mention rows (ARTICLE_COLUMNS, SECTION_COLUMNS,
    MENTION_COLUMNS) of the pending articles, with the ids given."""
    article_rows, section_rows, mention_rows = [], [], []
    for article_id, pending_item in zip(article_ids, pending, strict=True):
        item = pending_item.item
        record = item.record
        article_rows.append(
            article_row(article_id, pending_item, outlet_id(record), now),
        )
        for position, (section, anchor, found) in enumerate(
            zip(record.sections, item.anchors, item.mentions, strict=True), start=1
        ):
            section_id = next(section_ids)
            section_rows.append(
                (
                    section_id,
                    article_id,
                    position,
                    section.heading,
                    section.posted_at,
                    section.body,
                    section.captions,
                    anchor,
                )
            )
            counts = mention_counts(found, record.byline, entity_for)
            mention_rows += [(pk, section_id, article_id, n) for pk, n in counts.items()]
    return article_rows, section_rows, mention_rows


def article_row(article_id: int, pending: Pending, outlet_id: int | None, now) -> tuple:
    row = {
        **article_fields(pending.item.record, pending.item.digest),
        "id": article_id,
        "outlet_id": outlet_id,
        "source_id": pending.source_id,
        "slug": pending.item.slug,
        "entity_rules": checks.RULES_VERSION,
        "is_public": True,
        "curated_fields": [],  # no curator has edited a new article
        "created_at": now,
        "updated_at": now,
    }
    return tuple(row[column] for column in ARTICLE_COLUMNS)
