"""The entities of the seed archive a reader sees: right kinds, no non-entities, one
entity per thing; and a reload applies the checks to what earlier loads made, except
where a curator decided."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.db.models import Count, Sum

from articles.ingest.checks import RULES_VERSION
from articles.models import Article, Entity, EntityStopWord, Mention
from tests.conftest import BASE_DIR, SEEDS

pytestmark = pytest.mark.django_db

LABELS = json.loads((BASE_DIR / "tests" / "data" / "seed_entities.json").read_text("utf-8"))
NOT_AN_ENTITY = None


def most_mentioned(order: str, limit: int = 40) -> list[tuple[str, str]]:
    """(name, kind) of the most mentioned entities: by mentions, or by articles as the
    home page counts them."""
    rows = (
        Mention.objects.values("entity__name", "entity__kind")
        .annotate(mentions=Sum("count"), articles=Count("article", distinct=True))
        .order_by(f"-{order}", "entity__name")[:limit]
    )
    return [(row["entity__name"], row["entity__kind"]) for row in rows]


def wrong(entities: list[tuple[str, str]]) -> list[str]:
    errors = []
    for name, kind in entities:
        if name not in LABELS["labels"]:
            errors.append(f"{name} ({kind}): not labelled in tests/data/seed_entities.json")
        elif LABELS["labels"][name] is NOT_AN_ENTITY:
            errors.append(f"{name} ({kind}): not an entity")
        elif LABELS["labels"][name] != kind:
            errors.append(f"{name}: {kind}, should be {LABELS['labels'][name]}")
    return errors


@pytest.mark.parametrize("order", ["mentions", "articles"])
def test_the_40_most_mentioned_entities_are_entities_of_the_right_kind(order):
    top = most_mentioned(order)
    assert len(top) == 40
    assert wrong(top) == []


def test_the_errors_issue_15_lists_are_gone():
    archive = dict(Entity.objects.values_list("name", "kind"))
    for name, kind in LABELS["issue_errors"].items():
        if kind is NOT_AN_ENTITY:
            assert name not in archive, name
        elif name in archive:
            assert archive[name] == kind, name


def test_spelling_variants_are_one_entity():
    names = set(Entity.objects.values_list("name", flat=True))
    for variants in LABELS["one_entity"]:
        assert len(names & set(variants)) == 1, variants


def test_journalists_of_credit_lines_are_no_entities():
    credited = ["Robyn Dixon", "Alex Horton", "Tyler Pager", "Yuras Karmanau", "Rauhala"]
    assert not Entity.objects.filter(name__in=credited).exists()


# --- a reload -----------------------------------------------------------------------------


def _as_an_older_load_left_it():
    """The archive as the loader made it before the checks: the seed articles' mentions
    found with older rules, and the errors issue 15 saw."""
    Article.objects.update(entity_rules=0)
    moldova = Entity.objects.get(name="Moldova", kind="place")
    wrong_moldova = Entity.objects.create(name="Moldova", kind="organisation", slug="moldova-o")
    moldova.mentions.update(entity=wrong_moldova)
    moldova.delete()
    turchak = Entity.objects.get(name="Andrey Turchak")
    andrei = Entity.objects.create(name="Andrei Turchak", kind="person", slug="andrei-turchak")
    mention = turchak.mentions.first()
    section = mention.section
    Mention.objects.filter(pk=mention.pk).update(entity=andrei)
    west = Entity.objects.create(name="West", kind="place", slug="west")
    Mention.objects.create(entity=west, section=section, article=section.article, count=3)
    hudson = Entity.objects.create(name="Hudson", kind="person", slug="hudson")
    credits = Article.objects.get(body__contains="Hudson and Rauhala reported from Prague")
    Mention.objects.create(entity=hudson, section=credits.sections.last(), article=credits, count=1)


# Both loaders: the bulk one finds the mentions of an article loaded under older rules
# anew through the normal path's refresh_mentions.
LOADERS = pytest.mark.parametrize("options", [[], ["--bulk"]], ids=["normal", "bulk"])


@LOADERS
def test_a_reload_applies_the_checks_to_what_was_loaded_before(options):
    _as_an_older_load_left_it()
    call_command("load_articles", str(SEEDS), *options, verbosity=0)
    archive = set(Entity.objects.values_list("name", "kind"))
    assert ("Moldova", "place") in archive
    assert ("Moldova", "organisation") not in archive
    assert {"West", "Hudson"}.isdisjoint(name for name, _ in archive)
    assert len({"Andrei Turchak", "Andrey Turchak"} & {name for name, _ in archive}) == 1
    assert not Article.objects.exclude(entity_rules=RULES_VERSION).exists()
    for order in ("mentions", "articles"):
        assert wrong(most_mentioned(order)) == []


@LOADERS
def test_a_reload_keeps_a_curators_decision(options):
    # A curator decided "The West" is a place worth a page, and merged "Moldova" into a
    # region of their own naming: the next load must not undo either.
    moldova = Entity.objects.get(name="Moldova", kind="place")
    west = Entity.objects.create(name="West", kind="place", slug="the-west", curated=True)
    mention = moldova.mentions.first()
    Mention.objects.create(entity=west, section=mention.section, article=mention.article)
    moldova.name, moldova.kind, moldova.curated = "Republic of Moldova", "organisation", True
    moldova.aliases = ["Moldova"]
    moldova.save()
    Article.objects.update(entity_rules=0)
    call_command("load_articles", str(SEEDS), *options, verbosity=0)
    assert Entity.objects.get(pk=west.pk).mentions.exists()
    kept = Entity.objects.get(pk=moldova.pk)
    assert (kept.name, kept.kind) == ("Republic of Moldova", "organisation")
    assert kept.mentions.exists()
    assert not Entity.objects.filter(name="Moldova").exists()


def test_a_curators_stop_word_drops_the_entity_on_the_next_load():
    assert Entity.objects.filter(name="Kremlin").exists()
    EntityStopWord.objects.create(phrase="the Kremlin", note="a metonym, not an entity")
    call_command("load_articles", str(SEEDS), verbosity=0)
    assert not Entity.objects.filter(name="Kremlin").exists()
