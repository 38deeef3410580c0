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

from articles import cache
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
        made += _retag(topic, Article.objects.filter(pk__in=article_ids))
        _retag(topic, Section.objects.filter(article_id__in=article_ids))
    return made


@transaction.atomic
def retag_topic(topic: Topic) -> int:
    """Re-run one topic's query over the whole archive, e.g. after a curator edits it."""
    made = _retag(topic, Article.objects.all())
    _retag(topic, Section.objects.all())
    cache.changed()
    return made


def _retag(topic: Topic, owners) -> int:
    """Replace the tags `topic`'s query made on `owners` (articles or sections),
    leaving curated tags alone. Returns the number of tags made."""
    tag_model, owner, min_score = (
        (ArticleTopic, "article", MIN_ARTICLE_SCORE)
        if owners.model is Article
        else (SectionTopic, "section", 0.0)
    )
    query = topic_query(topic)
    tags = tag_model.objects.filter(topic=topic)
    tags.filter(curated=False, **{f"{owner}__in": owners}).delete()
    matches = (
        owners.filter(search_vector=query)
        .exclude(pk__in=tags.filter(curated=True).values(f"{owner}_id"))
        .annotate(score=SearchRank(F("search_vector"), query))
        .filter(score__gte=min_score)
        .values_list("pk", "score")
    )
    made = [tag_model(**{f"{owner}_id": pk}, topic=topic, score=score) for pk, score in matches]
    tag_model.objects.bulk_create(made, batch_size=2000)
    return len(made)
