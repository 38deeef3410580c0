"""Topics tag what an article is about, measured on real articles a reader labelled
(tests/data/topic_labels.json, read from ../shared/corpora and the seeds)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import transaction

from articles import topic_quality
from articles.models import Article, ArticleTopic, SectionTopic, Topic
from articles.topics import excluded_terms, query_terms, retag, rule_fingerprint, stale_topics
from tests.conftest import SEEDS

pytestmark = pytest.mark.django_db

TARGET_PRECISION = 0.8
TARGET_RECALL = 0.7


@pytest.fixture(scope="module")
def labelled(django_db_setup, django_db_blocker):
    """The labelled articles saved by the loader's save path, once for the module."""
    with django_db_blocker.unblock(), transaction.atomic():
        items = topic_quality.read_labels()
        yield items, topic_quality.load(items)
        transaction.set_rollback(True)


def _seed_articles():
    return Article.objects.filter(source__origin__startswith=str(SEEDS))


def _live_blog():
    return _seed_articles().get(title__startswith="Allies Fail to Reach Agreement")


def _tags(article) -> set[str]:
    return set(article.topic_tags.filter(excluded=False).values_list("topic__slug", flat=True))


def test_the_labelled_set_is_read_from_the_corpora_as_it_was_labelled(labelled):
    items, article_ids = labelled
    assert len(items) >= 150
    assert len(set(article_ids)) >= 150
    assert {item.path.split("/")[1] for item in items if item.path.startswith("corpora/")} >= {
        "bbc",
        "reuters21578",
        "html",
        "warc",
    }


def test_every_topic_tags_what_the_labelled_articles_are_about(labelled):
    items, article_ids = labelled
    scores = topic_quality.measure(items, article_ids)
    assert set(scores) == set(Topic.objects.values_list("slug", flat=True))
    for slug, score in scores.items():
        positives = score.true_positives + score.false_negatives
        assert positives >= 4, f"{slug}: too few labelled articles to measure"
        assert score.precision >= TARGET_PRECISION, (slug, score.precision, score.errors)
        assert score.recall >= TARGET_RECALL, (slug, score.recall, score.errors)


def _labelled_tags(labelled, path: str, record: str) -> set[str]:
    items, article_ids = labelled
    article_id = next(
        article_id
        for item, article_id in zip(items, article_ids, strict=True)
        if (item.path, item.record) == (f"corpora/reuters21578/{path}", record)
    )
    return _tags(Article.objects.get(pk=article_id))


def test_an_arms_control_story_is_not_a_missile_strike_or_an_arms_delivery(labelled):
    """The topics' queries exclude "arms control", wherever it stands in them."""
    treaty = _labelled_tags(labelled, "reut2-001.json", "574")  # a draft INF treaty
    assert "missile-and-drone-strikes" not in treaty
    assert "military-aid-and-weapons" not in treaty
    assert "diplomacy-and-negotiations" in treaty
    fired = _labelled_tags(labelled, "reut2-010.json", "647")  # missiles fired at ships
    assert "missile-and-drone-strikes" in fired


def test_a_long_story_that_names_its_topic_often_is_tagged():
    """The Washington Post piece on strikes inside Russia is 9,600 characters long:
    its missiles, drones and air defences are below the density, but too many to
    be in passing."""
    strikes = _seed_articles().get(title__startswith="Ukraine can use US weapons")
    assert "missile-and-drone-strikes" in _tags(strikes)


def test_the_set_is_reported_in_a_calibration_and_a_held_out_half(labelled):
    items, article_ids = labelled
    halves = [topic_quality.measure_half(items, article_ids, h) for h in topic_quality.HALVES]
    whole = topic_quality.measure(items, article_ids)
    for slug, score in whole.items():
        parts = [half[slug] for half in halves if slug in half]
        assert sum(p.true_positives for p in parts) == score.true_positives
        assert sum(p.false_positives for p in parts) == score.false_positives
    assert all(len(half) >= 8 for half in halves)  # most topics are measured in each


def test_a_topic_no_longer_tags_nearly_every_seed_article():
    articles = list(_seed_articles())
    assert len(articles) == 8
    # Each tagged 7 of the 8 before; the labels give Military aid to 5 of them (one
    # more is tagged: a story whose "Armed Forces" and "arms shipped" count as arms).
    most = {"battlefield": 5, "diplomacy-and-negotiations": 5, "military-aid-and-weapons": 6}
    for slug, at_most in most.items():
        tagged = sum(slug in _tags(article) for article in articles)
        assert 1 <= tagged <= at_most, (slug, tagged)


def test_a_live_blog_is_tagged_by_what_several_of_its_entries_are_about():
    blog = _live_blog()
    tags = _tags(blog)
    assert tags >= {"military-aid-and-weapons", "mercenaries-and-foreign-fighters"}
    assert len(tags) <= 3  # not all ten, as when one entry's word tagged the whole blog
    wagner = blog.sections.get(heading__contains="Wagner")
    wagner_tags = set(wagner.topic_tags.values_list("topic__slug", flat=True))
    # Its closing "North Korea had provided arms ... through Wagner" adds Military aid,
    # which the labels do not give it: a false positive the measured precision counts.
    assert "mercenaries-and-foreign-fighters" in wagner_tags
    assert wagner_tags <= {"mercenaries-and-foreign-fighters", "military-aid-and-weapons"}
    for slug in tags:
        entries = SectionTopic.objects.filter(section__article=blog, topic__slug=slug)
        assert entries.count() >= 2


def test_one_quoted_word_does_not_tag_a_story():
    response = _seed_articles().get(title__startswith="Russia says US gives written response")
    assert "cyber-and-information-war" not in _tags(response)  # one quoted "cyberattacks"
    assert "diplomacy-and-negotiations" in _tags(response)


def test_curators_tags_and_exclusions_survive_a_retag():
    blog = _live_blog()
    energy = Topic.objects.get(slug="energy")
    aid = Topic.objects.get(slug="military-aid-and-weapons")
    ArticleTopic.objects.create(article=blog, topic=energy, curated=True)
    ArticleTopic.objects.filter(article=blog, topic=aid).update(curated=True, excluded=True)

    retag([energy, aid])

    assert blog.topic_tags.get(topic=energy).curated
    kept = blog.topic_tags.get(topic=aid)
    assert kept.curated and kept.excluded


@pytest.mark.parametrize("options", [[], ["--bulk"]], ids=["normal", "bulk"])
def test_a_reload_retags_what_was_loaded_before_when_a_topic_changes(options):
    nuclear = Topic.objects.get(slug="nuclear-risk")
    nuclear.query = "Wagner or mercenaries or Prigozhin"  # a curator's edit
    nuclear.save()
    assert nuclear in stale_topics()
    blog = _live_blog()
    assert "nuclear-risk" not in _tags(blog)

    call_command("load_articles", str(SEEDS), *options, verbosity=0)  # nothing new to load

    assert "nuclear-risk" in _tags(blog)
    nuclear.refresh_from_db()
    assert nuclear.tags_made_with == rule_fingerprint(nuclear)
    assert nuclear not in stale_topics()


def test_a_topic_looks_for_the_words_and_phrases_its_query_names():
    query = 'Wagner or "private military" or -Beethoven "Africa Corps" OR mercenaries'
    assert query_terms(query) == ["Wagner", "private military", "Africa Corps", "mercenaries"]
    assert excluded_terms(query + ' -"arms control"') == ["Beethoven", "arms control"]
