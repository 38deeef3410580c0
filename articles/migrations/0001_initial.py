import django.contrib.postgres.fields
import django.contrib.postgres.indexes
import django.contrib.postgres.search
import django.db.models.deletion
import django.db.models.functions.text
from django.contrib.postgres.operations import TrigramExtension, UnaccentExtension
from django.db import migrations, models

from articles.search_vectors import SEARCH_CONFIG, article_vector, section_vector

# English stemming over unaccented words, so "Zelenskyy" and "Zélensky" or
# "Dnipro" and "Dnípro" index alike. Must exist before the generated columns.
CREATE_SEARCH_CONFIG = f"""
CREATE TEXT SEARCH CONFIGURATION {SEARCH_CONFIG} (COPY = english);
ALTER TEXT SEARCH CONFIGURATION {SEARCH_CONFIG}
    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem;
"""
DROP_SEARCH_CONFIG = f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {SEARCH_CONFIG};"


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        TrigramExtension(),
        UnaccentExtension(),
        migrations.RunSQL(CREATE_SEARCH_CONFIG, DROP_SEARCH_CONFIG),
        migrations.CreateModel(
            name="Entity",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=200)),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("person", "Person"),
                            ("organisation", "Organisation"),
                            ("place", "Place"),
                            ("group", "Group"),
                            ("weapon", "Weapon system"),
                            ("event", "Event"),
                        ],
                        max_length=20,
                    ),
                ),
                ("slug", models.SlugField(max_length=220)),
                (
                    "aliases",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.CharField(max_length=200),
                        blank=True,
                        default=list,
                        help_text="Other spellings that mean this entity (Kiev for Kyiv). Used on the next load.",
                        size=None,
                    ),
                ),
                ("description", models.TextField(blank=True)),
            ],
            options={
                "verbose_name_plural": "entities",
                "ordering": ["name"],
                "indexes": [
                    django.contrib.postgres.indexes.GinIndex(
                        fields=["aliases"], name="articles_entity_aliases_gin"
                    ),
                    django.contrib.postgres.indexes.GinIndex(
                        django.contrib.postgres.indexes.OpClass(
                            django.db.models.functions.text.Upper("name"), name="gin_trgm_ops"
                        ),
                        name="articles_entity_name_trgm",
                    ),
                ],
                "constraints": [
                    models.UniqueConstraint(fields=("slug",), name="articles_entity_slug_uniq"),
                    models.UniqueConstraint(
                        fields=("name", "kind"), name="articles_entity_name_kind_uniq"
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="Outlet",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=200)),
                ("slug", models.SlugField(max_length=200)),
                ("domain", models.CharField(blank=True, max_length=200)),
            ],
            options={
                "ordering": ["name"],
                "constraints": [
                    models.UniqueConstraint(fields=("name",), name="articles_outlet_name_uniq"),
                    models.UniqueConstraint(fields=("slug",), name="articles_outlet_slug_uniq"),
                ],
            },
        ),
        migrations.CreateModel(
            name="Article",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "origin",
                    models.TextField(
                        blank=True, help_text="The record within the source it came from."
                    ),
                ),
                ("title", models.TextField()),
                ("slug", models.SlugField(blank=True, max_length=120)),
                ("kicker", models.CharField(blank=True, max_length=300)),
                ("dek", models.TextField(blank=True)),
                ("byline", models.CharField(blank=True, max_length=500)),
                ("dateline", models.CharField(blank=True, max_length=100)),
                ("source_url", models.URLField(blank=True, max_length=2000)),
                ("published_at", models.DateTimeField(blank=True, null=True)),
                (
                    "date_source",
                    models.CharField(
                        choices=[
                            ("metadata", "From metadata"),
                            ("text", "From the text"),
                            ("estimated", "Estimated"),
                            ("unknown", "Unknown"),
                        ],
                        default="unknown",
                        max_length=10,
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[("article", "Article"), ("live", "Live blog")],
                        default="article",
                        max_length=10,
                    ),
                ),
                ("body", models.TextField()),
                ("content_hash", models.CharField(max_length=64)),
                ("is_public", models.BooleanField(default=True)),
                ("needs_review", models.BooleanField(default=False)),
                ("review_reasons", models.TextField(blank=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "search_vector",
                    models.GeneratedField(
                        db_persist=True,
                        expression=article_vector(),
                        output_field=django.contrib.postgres.search.SearchVectorField(),
                    ),
                ),
                (
                    "outlet",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="articles",
                        to="articles.outlet",
                    ),
                ),
            ],
            options={
                "ordering": ["-published_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="Section",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("position", models.PositiveIntegerField()),
                ("heading", models.TextField(blank=True)),
                ("posted_at", models.DateTimeField(blank=True, null=True)),
                ("body", models.TextField(blank=True)),
                (
                    "captions",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.TextField(), blank=True, default=list, size=None
                    ),
                ),
                ("anchor", models.SlugField(max_length=120)),
                (
                    "search_vector",
                    models.GeneratedField(
                        db_persist=True,
                        expression=section_vector(),
                        output_field=django.contrib.postgres.search.SearchVectorField(),
                    ),
                ),
                (
                    "article",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="sections",
                        to="articles.article",
                    ),
                ),
            ],
            options={
                "ordering": ["article", "position"],
            },
        ),
        migrations.CreateModel(
            name="Mention",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("count", models.PositiveIntegerField(default=1)),
                (
                    "article",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="mentions",
                        to="articles.article",
                    ),
                ),
                (
                    "entity",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="mentions",
                        to="articles.entity",
                    ),
                ),
                (
                    "section",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="mentions",
                        to="articles.section",
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="SourceDocument",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("origin", models.TextField(help_text="Path or URL the input was read from.")),
                ("sha256", models.CharField(max_length=64)),
                ("format", models.CharField(max_length=10)),
                ("raw", models.BinaryField(help_text="The input exactly as it was read.")),
                ("size", models.PositiveBigIntegerField()),
                ("loaded_at", models.DateTimeField(auto_now_add=True)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("loaded", "Loaded"),
                            ("partial", "Partly loaded"),
                            ("failed", "Failed"),
                        ],
                        default="loaded",
                        max_length=10,
                    ),
                ),
                ("error", models.TextField(blank=True)),
            ],
            options={
                "ordering": ["-loaded_at"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("sha256",), name="articles_sourcedoc_sha256_uniq"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("status__in", ["loaded", "partial", "failed"])),
                        name="articles_sourcedoc_status_valid",
                    ),
                ],
            },
        ),
        migrations.AddField(
            model_name="article",
            name="source",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="articles",
                to="articles.sourcedocument",
            ),
        ),
        migrations.CreateModel(
            name="Topic",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=200)),
                ("slug", models.SlugField(max_length=200)),
                ("description", models.TextField(blank=True)),
                (
                    "query",
                    models.TextField(
                        help_text='Web search syntax: words, "exact phrases", or, -exclude. After changing it, use the “Re-tag articles” action.'
                    ),
                ),
            ],
            options={
                "ordering": ["name"],
                "constraints": [
                    models.UniqueConstraint(fields=("slug",), name="articles_topic_slug_uniq"),
                    models.UniqueConstraint(fields=("name",), name="articles_topic_name_uniq"),
                ],
            },
        ),
        migrations.CreateModel(
            name="SectionTopic",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("score", models.FloatField(default=0)),
                ("curated", models.BooleanField(default=False)),
                (
                    "section",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="topic_tags",
                        to="articles.section",
                    ),
                ),
                (
                    "topic",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="section_tags",
                        to="articles.topic",
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="ArticleTopic",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("score", models.FloatField(default=0)),
                ("curated", models.BooleanField(default=False)),
                ("excluded", models.BooleanField(default=False)),
                (
                    "article",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="topic_tags",
                        to="articles.article",
                    ),
                ),
                (
                    "topic",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="article_tags",
                        to="articles.topic",
                    ),
                ),
            ],
        ),
        migrations.AddField(
            model_name="article",
            name="topics",
            field=models.ManyToManyField(
                related_name="articles", through="articles.ArticleTopic", to="articles.topic"
            ),
        ),
        migrations.AddIndex(
            model_name="section",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["search_vector"], name="articles_section_search_gin"
            ),
        ),
        migrations.AddConstraint(
            model_name="section",
            constraint=models.UniqueConstraint(
                fields=("article", "position"), name="articles_section_position_uniq"
            ),
        ),
        migrations.AddConstraint(
            model_name="section",
            constraint=models.UniqueConstraint(
                fields=("article", "anchor"), name="articles_section_anchor_uniq"
            ),
        ),
        migrations.AddIndex(
            model_name="mention",
            index=models.Index(fields=["entity", "article"], name="articles_mention_ent_art_idx"),
        ),
        migrations.AddIndex(
            model_name="mention",
            index=models.Index(fields=["article"], name="articles_mention_article_idx"),
        ),
        migrations.AddConstraint(
            model_name="mention",
            constraint=models.UniqueConstraint(
                fields=("entity", "section"), name="articles_mention_entity_section_uniq"
            ),
        ),
        migrations.AddConstraint(
            model_name="mention",
            constraint=models.CheckConstraint(
                condition=models.Q(("count__gte", 1)), name="articles_mention_count_pos"
            ),
        ),
        migrations.AddConstraint(
            model_name="sectiontopic",
            constraint=models.UniqueConstraint(
                fields=("section", "topic"), name="articles_sectiontopic_uniq"
            ),
        ),
        migrations.AddIndex(
            model_name="articletopic",
            index=models.Index(fields=["topic", "article"], name="articles_arttopic_topic_idx"),
        ),
        migrations.AddConstraint(
            model_name="articletopic",
            constraint=models.UniqueConstraint(
                fields=("article", "topic"), name="articles_articletopic_uniq"
            ),
        ),
        migrations.AddConstraint(
            model_name="articletopic",
            constraint=models.CheckConstraint(
                condition=models.Q(("curated", True), ("excluded", False), _connector="OR"),
                name="articles_articletopic_only_curators_exclude",
            ),
        ),
        migrations.AddIndex(
            model_name="article",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["search_vector"], name="articles_article_search_gin"
            ),
        ),
        migrations.AddIndex(
            model_name="article",
            index=models.Index(fields=["published_at"], name="articles_article_published_idx"),
        ),
        migrations.AddIndex(
            model_name="article",
            index=models.Index(
                fields=["outlet", "published_at"], name="articles_art_outlet_pub_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="article",
            index=models.Index(
                condition=models.Q(("needs_review", True)),
                fields=["id"],
                name="articles_article_review_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="article",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.indexes.OpClass(
                    django.db.models.functions.text.Upper("title"), name="gin_trgm_ops"
                ),
                name="articles_article_title_trgm",
            ),
        ),
        migrations.AddConstraint(
            model_name="article",
            constraint=models.UniqueConstraint(
                fields=("content_hash",), name="articles_article_hash_uniq"
            ),
        ),
        migrations.AddConstraint(
            model_name="article",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("date_source", "unknown"), _negated=True),
                    ("published_at__isnull", True),
                    _connector="OR",
                ),
                name="articles_article_unknown_date_has_no_date",
            ),
        ),
    ]
