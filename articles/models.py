"""The archive's data: what was loaded, what it became, and how it is tagged."""

from __future__ import annotations

import re

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, HashIndex, OpClass
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Exists, F, Func, OuterRef, Value
from django.db.models.functions import Coalesce, Now, Upper
from django.urls import reverse
from django.utils.text import slugify

from articles.links import page_url
from articles.search_vectors import article_vector, section_vector


def public_origin(origin: str) -> str:
    """Where an input came from, for readers: an address as it is, a path as its file
    name (with any "#record" after it), never the directories of the loading machine."""
    if "://" in (origin or "").split("#", 1)[0]:
        return origin
    path, hash_sign, record = (origin or "").partition("#")
    return re.split(r"[\\/]", path)[-1] + hash_sign + record


def _count(rows: models.QuerySet, outer: str) -> Coalesce:
    """An annotation: how many of `rows` (filtered on an OuterRef through `outer`)."""
    counted = rows.order_by().values(outer).annotate(n=models.Count("*")).values("n")
    return Coalesce(models.Subquery(counted), 0)


class OutletQuerySet(models.QuerySet):
    def with_public_counts(self):
        """Outlets that have public articles, each with `article_count` (all their
        articles less the hidden ones: `PublicArticleQuerySet.hidden`)."""
        articles = Article.objects.filter(outlet=OuterRef("pk"))
        hidden = articles.hidden()
        return self.filter(Exists(articles.filter(is_public=True))).annotate(
            article_count=_count(articles, "outlet") - _count(hidden, "outlet")
        )


class Outlet(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200)
    domain = models.CharField(
        max_length=200, blank=True, help_text="The registered domain it publishes on."
    )
    aliases = ArrayField(
        models.CharField(max_length=200),
        default=list,
        blank=True,
        help_text="Other names pages give it (site names, taglines). Used on the next load.",
    )
    is_canonical = models.BooleanField(
        "canonical name",
        default=False,
        help_text="The name is the outlet's own: from the outlet registry or checked by a curator.",
    )

    objects = OutletQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["name"], name="articles_outlet_name_uniq"),
            models.UniqueConstraint(fields=["slug"], name="articles_outlet_slug_uniq"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return page_url("outlet-detail", self.slug)


class SourceDocument(models.Model):
    """One loaded input, kept byte for byte, whether or not it parsed."""

    class Status(models.TextChoices):
        LOADED = "loaded", "Loaded"
        PARTIAL = "partial", "Partly loaded"
        FAILED = "failed", "Failed"

    origin = models.TextField(help_text="Path or URL the input was read from.")
    sha256 = models.CharField(max_length=64)
    format = models.CharField(max_length=10)
    raw = models.BinaryField(help_text="The input exactly as it was read.")
    size = models.PositiveBigIntegerField()
    loaded_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, choices=Status, default=Status.LOADED)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-loaded_at"]
        constraints = [
            models.UniqueConstraint(fields=["sha256"], name="articles_sourcedoc_sha256_uniq"),
            models.CheckConstraint(
                condition=models.Q(status__in=["loaded", "partial", "failed"]),
                name="articles_sourcedoc_status_valid",
            ),
        ]

    def __str__(self):
        return self.origin

    @property
    def raw_text(self) -> str:
        """The raw bytes shown as text (undecodable bytes replaced)."""
        return bytes(self.raw).decode("utf-8", errors="replace")


class Story(models.Model):
    """The copies of one text that outlets ran (articles/stories.py). Curators split
    and merge stories in admin; loads add new copies and never move old ones."""

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "stories"

    def __str__(self):
        return f"Story {self.pk}"

    def get_absolute_url(self):
        return reverse("story-detail", args=[self.pk])


class PublicArticleQuerySet(models.QuerySet):
    def public(self):
        return self.filter(is_public=True)

    def hidden(self):
        """Hidden articles: few, and indexed (`articles_article_hidden_idx`). Public
        counts are taken as all less what these hold: asking every article, section
        or mention whether its article is public reads the whole table."""
        return self.filter(is_public=False)

    def mentioning(self, entity):
        """Articles naming `entity` in any section (a semi-join: no duplicate rows)."""
        return self.filter(
            models.Exists(Mention.objects.filter(article=models.OuterRef("pk"), entity=entity))
        )


def article_slug(title: str) -> str:
    """The URL slug of an article with this title (the bulk loader writes it too)."""
    return slugify(title)[:120] or "article"


class Article(models.Model):
    class DateSource(models.TextChoices):
        METADATA = "metadata", "From metadata"
        TEXT = "text", "From the text"
        ESTIMATED = "estimated", "Estimated"
        UNKNOWN = "unknown", "Unknown"

    class Kind(models.TextChoices):
        ARTICLE = "article", "Article"
        LIVE = "live", "Live blog"

    outlet = models.ForeignKey(
        Outlet, null=True, blank=True, on_delete=models.PROTECT, related_name="articles"
    )
    source = models.ForeignKey(
        SourceDocument,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="articles",
    )
    origin = models.TextField(blank=True, help_text="The record within the source it came from.")
    title = models.TextField()
    slug = models.SlugField(max_length=120, blank=True)
    kicker = models.CharField(max_length=300, blank=True)
    dek = models.TextField(blank=True)
    byline = models.CharField(max_length=500, blank=True)
    dateline = models.CharField(max_length=100, blank=True)
    source_url = models.URLField(max_length=2000, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    date_source = models.CharField(max_length=10, choices=DateSource, default=DateSource.UNKNOWN)
    kind = models.CharField(max_length=10, choices=Kind, default=Kind.ARTICLE)
    body = models.TextField()
    content_hash = models.CharField(max_length=64)
    entity_rules = models.PositiveSmallIntegerField(
        default=0,
        help_text="Version of the entity rules its mentions were found with "
        "(articles/ingest/checks.py): loading it again finds them anew when older.",
    )
    is_public = models.BooleanField(default=True)
    # More than one section, or a headed one: entries of its own. The ranking scores an
    # article without them by its own text alone (articles/ranking.py) and reads this
    # rather than counting its sections for every match it scores. The database keeps
    # it, whatever writes the sections (a trigger on them, migrations 0028-0029); an
    # article left without sections (a reload, between its old and new ones) keeps it.
    has_entries = models.BooleanField(default=False, db_default=False, editable=False)
    needs_review = models.BooleanField(default=False)
    review_reasons = models.TextField(blank=True)
    curated_fields = ArrayField(
        models.CharField(max_length=30),
        default=list,
        blank=True,
        editable=False,
        help_text="Fields a curator edited (title, outlet, published_at): loads leave them.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    search_vector = models.GeneratedField(
        expression=article_vector(), output_field=SearchVectorField(), db_persist=True
    )
    topics = models.ManyToManyField("Topic", through="ArticleTopic", related_name="articles")
    story = models.ForeignKey(
        Story,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="copies",
        help_text="The story this article is a copy in. Move it to split or merge stories.",
    )

    objects = PublicArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["content_hash"], name="articles_article_hash_uniq"),
            models.CheckConstraint(
                condition=~models.Q(date_source="unknown") | models.Q(published_at__isnull=True),
                name="articles_article_unknown_date_has_no_date",
            ),
        ]
        indexes = [
            GinIndex(fields=["search_vector"], name="articles_article_search_gin"),
            models.Index(fields=["published_at"], name="articles_article_published_idx"),
            # Newest-first lists and the postgres backend's sample and relevance
            # candidates (articles/search/backends/postgres.py) walk this index and stop
            # after a page: no sort over every match of a common word. With visibility
            # in it, the public articles past a date are read from the index alone.
            models.Index(
                F("published_at").desc(nulls_last=True),
                F("id").desc(),
                name="articles_article_newest_idx",
                include=["is_public"],
            ),
            # The loader's "is this an update of an article loaded before?" lookups
            # (save._previous_version, ingest/bulk/__init__.py): hash indexes, since origins and
            # URLs can be longer than a btree entry may be.
            HashIndex(fields=["origin"], name="articles_article_origin_hash"),
            HashIndex(fields=["source_url"], name="articles_article_url_hash"),
            models.Index(fields=["outlet", "published_at"], name="articles_art_outlet_pub_idx"),
            # The review queue in admin (articles/admin.py) lists only these rows.
            models.Index(
                fields=["id"],
                name="articles_article_review_idx",
                condition=models.Q(needs_review=True),
            ),
            # PublicArticleQuerySet.hidden: public counts as all less what these hold.
            models.Index(
                fields=["id"],
                name="articles_article_hidden_idx",
                condition=models.Q(is_public=False),
            ),
            # Did-you-mean suggestions compare the query with titles (articles/search/suggest.py).
            GinIndex(
                OpClass(Upper("title"), name="gin_trgm_ops"), name="articles_article_title_trgm"
            ),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = article_slug(self.title)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("article-detail", args=[self.pk, self.slug or "article"])


class StoryBand(models.Model):
    """One of an article's MinHash band keys (articles/stories.py): new loads find an
    article's copies among the articles holding the same keys."""

    # Article first: a load's rows go to the end of the primary key, and only the
    # band index takes them at random places.
    pk = models.CompositePrimaryKey("article", "band")
    # No database constraint: a load writes BANDS rows an article, and checking each
    # at commit cost as much as writing it (docs/benchmarks.md). Deleting an article
    # through Django still deletes its rows, and a row left by a raw delete is
    # harmless: the lookup reads candidates' texts, and a deleted one has none.
    article = models.ForeignKey(
        Article,
        on_delete=models.CASCADE,
        related_name="story_bands",
        db_constraint=False,
        db_index=False,  # the primary key starts with it
    )
    band = models.BigIntegerField(db_index=True)

    def __str__(self):
        return f"band {self.band} of {self.article_id}"


class Section(models.Model):
    """A part of an article: the whole text of a plain article, or one live-blog entry."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="sections")
    position = models.PositiveIntegerField()
    heading = models.TextField(blank=True)
    posted_at = models.DateTimeField(null=True, blank=True)
    body = models.TextField(blank=True)
    captions = ArrayField(models.TextField(), default=list, blank=True)
    anchor = models.SlugField(max_length=120)
    search_vector = models.GeneratedField(
        expression=section_vector(), output_field=SearchVectorField(), db_persist=True
    )

    class Meta:
        ordering = ["article", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["article", "position"], name="articles_section_position_uniq"
            ),
            models.UniqueConstraint(
                fields=["article", "anchor"], name="articles_section_anchor_uniq"
            ),
        ]
        indexes = [
            # Only an entry heading can match where its article's own vector does not
            # (backends/postgres.py: _section_matches), so only headed sections are
            # searched through this index: a third of them.
            GinIndex(
                fields=["search_vector"],
                condition=~models.Q(heading=""),
                name="articles_section_headed_gin",
            )
        ]

    def __str__(self):
        return self.heading or f"{self.article.title} ({self.position})"

    def get_absolute_url(self):
        return f"{self.article.get_absolute_url()}#{self.anchor}"


class Entity(models.Model):
    class Kind(models.TextChoices):
        PERSON = "person", "Person"
        ORGANISATION = "organisation", "Organisation"
        PLACE = "place", "Place"
        GROUP = "group", "Group"
        WEAPON = "weapon", "Weapon system"
        EVENT = "event", "Event"

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind)
    slug = models.SlugField(max_length=220)
    aliases = ArrayField(
        models.CharField(max_length=200),
        default=list,
        blank=True,
        help_text="Other spellings that mean this entity (Kiev for Kyiv). Used on the next load.",
    )
    description = models.TextField(blank=True)
    curated = models.BooleanField(
        default=False,
        help_text="A curator decided this entity's name, kind and aliases: loads never "
        "rename, re-kind, merge away or drop it. Set by any edit or merge in admin.",
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "entities"
        constraints = [
            models.UniqueConstraint(fields=["slug"], name="articles_entity_slug_uniq"),
            models.UniqueConstraint(fields=["name", "kind"], name="articles_entity_name_kind_uniq"),
        ]
        indexes = [
            # Alias expansion in search and the loader's lookup of curated aliases.
            GinIndex(fields=["aliases"], name="articles_entity_aliases_gin"),
            # Did-you-mean suggestions over entity names (articles/search/suggest.py).
            GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="articles_entity_name_trgm"),
            # Names equal but for case: each search's spelling lookup and its check
            # that a name stands for one kind only (articles/search/variants.py).
            models.Index(Upper("name"), name="articles_entity_upper_name"),
            # A person's surname, the last word of the name: a one-word search term
            # is looked up among them (articles/search/variants.py).
            models.Index(
                Upper(Func(F("name"), Value(" ([^ ]+)$"), function="substring")),
                condition=models.Q(kind="person"),
                name="articles_entity_surname",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return page_url("entity-detail", self.slug)


class EntityStopWord(models.Model):
    """A word or phrase that is never an entity ("Alliance", "the West"): loads drop it
    and the next load drops what was found before. Adds to the list the project ships
    (articles/ingest/not_entities.txt)."""

    phrase = models.CharField(max_length=200, unique=True)
    note = models.CharField(max_length=300, blank=True, help_text="Why it is no entity.")

    class Meta:
        ordering = ["phrase"]

    def __str__(self):
        return self.phrase


class Mention(models.Model):
    """An entity named in a section, with how often. `article` is kept alongside
    the section so per-article facets and filters need no join through sections."""

    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="mentions")
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="mentions")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="mentions")
    count = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "section"], name="articles_mention_entity_section_uniq"
            ),
            models.CheckConstraint(
                condition=models.Q(count__gte=1), name="articles_mention_count_pos"
            ),
        ]
        indexes = [
            models.Index(fields=["entity", "article"], name="articles_mention_ent_art_idx"),
            # (article, entity): a search's entity facet reads each counted article's
            # entities from this index alone (an index-only scan), not the table.
            models.Index(fields=["article", "entity"], name="articles_mention_art_ent_idx"),
        ]

    def __str__(self):
        return f"{self.entity} in {self.section_id} ({self.count})"


class TopicQuerySet(models.QuerySet):
    def with_public_counts(self):
        """Every topic, with `article_count`: public articles it tags (not excluded;
        all less the hidden ones': `PublicArticleQuerySet.hidden`)."""
        tags = ArticleTopic.objects.filter(topic=OuterRef("pk"), excluded=False)
        hidden = tags.filter(article__in=Article.objects.hidden())
        return self.annotate(article_count=_count(tags, "topic") - _count(hidden, "topic"))


class Topic(models.Model):
    """A saved search: articles and sections matching `query` are tagged with it."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200)
    description = models.TextField(blank=True)
    query = models.TextField(
        help_text='Web search syntax: words, "exact phrases", or, -exclude. '
        "After changing it, use the “Re-tag articles” action (the next load also does)."
    )
    # What the topic's tags were made with (the tagging rule and this query): when it
    # is not today's, the next load re-tags the archive with the topic.
    tags_made_with = models.CharField(max_length=16, blank=True, editable=False)

    objects = TopicQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["slug"], name="articles_topic_slug_uniq"),
            models.UniqueConstraint(fields=["name"], name="articles_topic_name_uniq"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return page_url("topic-detail", self.slug)


class ArticleTopic(models.Model):
    """An article tagged with a topic: by its query (score) or by a curator.

    Curated rows survive re-tagging; a curated row with `excluded` set keeps the
    query from tagging that article again."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="topic_tags")
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="article_tags")
    score = models.FloatField(default=0)
    curated = models.BooleanField(default=False)
    excluded = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["article", "topic"], name="articles_articletopic_uniq"),
            models.CheckConstraint(
                condition=models.Q(curated=True) | models.Q(excluded=False),
                name="articles_articletopic_only_curators_exclude",
            ),
        ]
        indexes = [models.Index(fields=["topic", "article"], name="articles_arttopic_topic_idx")]

    def __str__(self):
        return f"{self.topic} on {self.article_id}"


class SectionTopic(models.Model):
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="topic_tags")
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="section_tags")
    score = models.FloatField(default=0)
    curated = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["section", "topic"], name="articles_sectiontopic_uniq"),
        ]

    def __str__(self):
        return f"{self.topic} on section {self.section_id}"


class ReviewQueueEntry(Article):
    """Articles flagged for review, as their own admin list (the review queue)."""

    class Meta:
        proxy = True
        verbose_name = "review queue entry"
        verbose_name_plural = "review queue"


class SearchOutbox(models.Model):
    """Articles whose search index entry is out of date (articles/search/outbox.py).

    Written by triggers on the article tables in the same transaction as the
    change (migration 0009), whatever made it: a load, an admin edit, a merge; the
    search index takes the rows away once it has indexed those articles. Not a
    foreign key: a deleted article's row says to remove it from the index."""

    article_id = models.BigIntegerField()
    queued_at = models.DateTimeField(db_default=Now())

    def __str__(self):
        return f"article {self.article_id}"


class ArchiveOverview(models.Model):
    """The home page's archive-wide figures as of one content version (one row:
    articles/overview.py)."""

    version = models.BigIntegerField()
    figures = models.JSONField()
    computed_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"overview at version {self.version}"
