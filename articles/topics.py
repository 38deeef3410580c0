"""Tagging articles and sections with topics: a topic is a saved search.

Tags the query finds are replaced on every run; tags a curator set (curated)
are never touched, and a curator's exclusion keeps the query from re-adding
the tag.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import transaction
from django.db.models import F

from articles.models import Article, ArticleTopic, Section, SectionTopic, Topic
from articles.search_vectors import SEARCH_CONFIG

# ts_rank of an article for its topic's query must reach this for a tag: one
# passing word in a long body (~0.01) is not what the article is about; a word
# in the title, or the topic's words repeated through the body, is. Sections are
# short, so any match tags a section.
MIN_ARTICLE_SCORE = 0.02


def topic_query(topic: Topic) -> SearchQuery:
    return SearchQuery(topic.query, search_type="websearch", config=SEARCH_CONFIG)


@transaction.atomic
def tag_articles(article_ids: Iterable[int], topics: Iterable[Topic] | None = None) -> int:
    """(Re)tag the given articles with every topic (or the given ones). Returns tags made."""
    article_ids = list(article_ids)
    topics = list(Topic.objects.all() if topics is None else topics)
    made = 0
    for topic in topics:
        made += _tag_articles_with(topic, Article.objects.filter(pk__in=article_ids))
        _tag_sections_with(topic, Section.objects.filter(article_id__in=article_ids))
    return made


@transaction.atomic
def retag_topic(topic: Topic) -> int:
    """Re-run one topic's query over the whole archive, e.g. after a curator edits it."""
    made = _tag_articles_with(topic, Article.objects.all())
    _tag_sections_with(topic, Section.objects.all())
    return made


def _tag_articles_with(topic: Topic, articles) -> int:
    query = topic_query(topic)
    ArticleTopic.objects.filter(topic=topic, curated=False, article__in=articles).delete()
    protected = ArticleTopic.objects.filter(topic=topic, curated=True).values("article_id")
    matches = (
        articles.filter(search_vector=query)
        .exclude(pk__in=protected)
        .annotate(score=SearchRank(F("search_vector"), query))
        .filter(score__gte=MIN_ARTICLE_SCORE)
        .values_list("pk", "score")
    )
    tags = [ArticleTopic(article_id=pk, topic=topic, score=score) for pk, score in matches]
    ArticleTopic.objects.bulk_create(tags, batch_size=2000)
    return len(tags)


def _tag_sections_with(topic: Topic, sections) -> None:
    query = topic_query(topic)
    SectionTopic.objects.filter(topic=topic, curated=False, section__in=sections).delete()
    protected = SectionTopic.objects.filter(topic=topic, curated=True).values("section_id")
    matches = (
        sections.filter(search_vector=query)
        .exclude(pk__in=protected)
        .annotate(score=SearchRank(F("search_vector"), query))
        .values_list("pk", "score")
    )
    SectionTopic.objects.bulk_create(
        [SectionTopic(section_id=pk, topic=topic, score=score) for pk, score in matches],
        batch_size=2000,
    )
