"""The archive's content as plain data, independent of ids: what two load paths must
agree on (tests/test_bulk_load.py compares the bulk and the normal path with it)."""

from __future__ import annotations

from articles.models import Article, ArticleTopic, Entity, Mention, Outlet, Section, SectionTopic

ARTICLE_FIELDS = (
    "content_hash",
    "outlet__name",
    "origin",
    "title",
    "slug",
    "kicker",
    "dek",
    "byline",
    "dateline",
    "source_url",
    "published_at",
    "date_source",
    "kind",
    "body",
    "has_entries",
    "is_public",
    "needs_review",
    "review_reasons",
    "search_vector",
)


def archive_snapshot() -> dict:
    articles = {row[0]: row[1:] for row in Article.objects.values_list(*ARTICLE_FIELDS)}
    sections = set(
        Section.objects.values_list(
            "article__content_hash",
            "position",
            "heading",
            "posted_at",
            "body",
            "anchor",
            "search_vector",
        )
    )
    captions = {
        (h, p): tuple(c)
        for h, p, c in Section.objects.values_list("article__content_hash", "position", "captions")
    }
    mentions = set(
        Mention.objects.values_list(
            "section__article__content_hash",
            "section__position",
            "entity__name",
            "entity__kind",
            "count",
        )
    )
    mention_articles_agree = not Mention.objects.exclude(article_id=F_section_article()).exists()
    entities = {
        (name, kind): (slug, frozenset(aliases))
        for name, kind, slug, aliases in Entity.objects.values_list(
            "name", "kind", "slug", "aliases"
        )
    }
    topics = {
        (h, slug): round(score, 6)
        for h, slug, score in ArticleTopic.objects.values_list(
            "article__content_hash", "topic__slug", "score"
        )
    }
    section_topics = {
        (h, position, slug): round(score, 6)
        for h, position, slug, score in SectionTopic.objects.values_list(
            "section__article__content_hash", "section__position", "topic__slug", "score"
        )
    }
    outlets = set(Outlet.objects.values_list("name", "slug", "domain"))
    return {
        "articles": articles,
        "sections": sections,
        "captions": captions,
        "mentions": mentions,
        "mention_articles_agree": mention_articles_agree,
        "entities": entities,
        "topics": topics,
        "section_topics": section_topics,
        "outlets": outlets,
    }


def F_section_article():  # noqa: N802 - reads as the expression it is
    from django.db.models import F

    return F("section__article_id")
