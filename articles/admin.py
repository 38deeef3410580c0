"""Curation: staff fix metadata, hide items, merge entities, manage topics and
work through the review queue."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.db import models
from django.db.models import Count
from django.template.response import TemplateResponse
from django.utils.html import format_html

from articles import cache, stories
from articles.entities import merge_entities
from articles.models import (
    ArchiveOverview,
    Article,
    ArticleTopic,
    Entity,
    EntityStopWord,
    Mention,
    Outlet,
    ReviewQueueEntry,
    SearchOutbox,
    Section,
    SectionTopic,
    SourceDocument,
    Story,
    Topic,
)
from articles.quality import quality_report
from articles.topics import retag_topic

# Form fields whose edits the next load must not undo (save.refresh_metadata).
_CURATED_BY_FORM_FIELD = {
    "title": "title",
    "outlet": "outlet",
    "published_at": "published_at",
    "date_source": "published_at",
}


@admin.register(Outlet)
class OutletAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "domain", "is_canonical", "article_count"]
    list_filter = ["is_canonical"]
    search_fields = ["name", "domain", "aliases"]
    prepopulated_fields = {"slug": ["name"]}
    fields = ["name", "slug", "domain", "aliases", "is_canonical"]

    def save_model(self, request, obj, form, change):
        if "name" in form.changed_data:
            obj.is_canonical = True  # a curator named it
        super().save_model(request, obj, form, change)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(article_total=Count("articles"))

    @admin.display(description="articles", ordering="article_total")
    def article_count(self, obj):
        return obj.article_total


@admin.register(SourceDocument)
class SourceDocumentAdmin(admin.ModelAdmin):
    """Raw inputs are evidence: readable, never edited here."""

    list_display = ["origin", "format", "status", "size", "loaded_at", "article_count"]
    list_filter = ["status", "format"]
    search_fields = ["origin", "sha256", "error"]
    date_hierarchy = "loaded_at"
    readonly_fields = [
        "origin",
        "sha256",
        "format",
        "size",
        "loaded_at",
        "status",
        "error",
        "raw_preview",
    ]
    exclude = ["raw"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("raw").annotate(article_total=Count("articles"))

    @admin.display(description="articles", ordering="article_total")
    def article_count(self, obj):
        return obj.article_total

    @admin.display(description="raw input (first 20,000 characters)")
    def raw_preview(self, obj):
        # format_html escapes: the raw input is untrusted.
        return format_html("<pre style='white-space:pre-wrap'>{}</pre>", obj.raw_text[:20_000])

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class SectionInline(admin.StackedInline):
    model = Section
    extra = 0
    fields = ["position", "heading", "posted_at", "anchor", "body", "captions"]
    show_change_link = True


class ArticleTopicInline(admin.TabularInline):
    model = ArticleTopic
    extra = 0
    fields = ["topic", "score", "curated", "excluded"]
    readonly_fields = ["score"]
    autocomplete_fields = ["topic"]


class ArticleActions:
    """Bulk actions shared by the article list and the review queue."""

    @admin.action(description="Publish selected articles")
    def publish(self, request, queryset):
        count = queryset.update(is_public=True)
        cache.changed()
        self.message_user(request, f"{count} article(s) published.")

    @admin.action(description="Hide selected articles from public pages")
    def hide(self, request, queryset):
        count = queryset.update(is_public=False)
        cache.changed()
        self.message_user(request, f"{count} article(s) hidden.")

    @admin.action(description="Mark selected articles as reviewed")
    def mark_reviewed(self, request, queryset):
        count = queryset.update(needs_review=False, review_reasons="")
        cache.changed()
        self.message_user(request, f"{count} article(s) marked reviewed.")

    @admin.action(description="Split selected articles into a story of their own")
    def split_story(self, request, queryset):
        story = stories.split_off(queryset.values_list("pk", flat=True))
        cache.changed()
        self.message_user(request, f"{queryset.count()} article(s) moved to story {story}.")


@admin.register(Article)
class ArticleAdmin(ArticleActions, admin.ModelAdmin):
    list_display = [
        "title",
        "outlet",
        "published_at",
        "date_source",
        "kind",
        "is_public",
        "needs_review",
    ]
    list_filter = ["is_public", "needs_review", "kind", "date_source", "outlet"]
    search_fields = ["title", "byline", "source_url", "content_hash"]
    date_hierarchy = "published_at"
    list_select_related = ["outlet"]
    autocomplete_fields = ["outlet"]
    readonly_fields = [
        "curated_fields",
        "content_hash",
        "source",
        "origin",
        "created_at",
        "updated_at",
    ]
    inlines = [SectionInline, ArticleTopicInline]
    actions = ["publish", "hide", "mark_reviewed", "split_story"]
    raw_id_fields = ["story"]
    # A source URL typed without a scheme is https (Django 6's default).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = [
        (None, {"fields": ["title", "slug", "kicker", "dek", "outlet", "byline", "dateline"]}),
        ("Date", {"fields": ["published_at", "date_source"]}),
        ("Visibility and review", {"fields": ["is_public", "needs_review", "review_reasons"]}),
        ("Text", {"fields": ["kind", "body"]}),
        ("Story", {"fields": ["story"]}),
        (
            "Provenance",
            {
                "fields": [
                    "curated_fields",
                    "source_url",
                    "source",
                    "origin",
                    "content_hash",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("body")

    def save_model(self, request, obj, form, change):
        edited = {
            _CURATED_BY_FORM_FIELD[f] for f in form.changed_data if f in _CURATED_BY_FORM_FIELD
        }
        if change and edited:
            obj.curated_fields = sorted({*obj.curated_fields, *edited})
        super().save_model(request, obj, form, change)


class CopyInline(admin.TabularInline):
    model = Article
    fk_name = "story"
    fields = ["title", "outlet", "published_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ["published_at", "id"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Story)
class StoryAdmin(admin.ModelAdmin):
    list_display = ["__str__", "copy_count", "created_at"]
    inlines = [CopyInline]
    actions = ["merge"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(copy_count=Count("copies"))

    @admin.display(ordering="copy_count", description="copies")
    def copy_count(self, obj):
        return obj.copy_count

    @admin.action(description="Merge selected stories (the copies are one story)")
    def merge(self, request, queryset):
        kept = stories.merge(queryset.values_list("pk", flat=True))
        cache.changed()
        self.message_user(request, f"Merged into story {kept}.")


@admin.register(ReviewQueueEntry)
class ReviewQueueAdmin(ArticleAdmin):
    """Articles the loader was unsure about: unknown date or outlet, suspicious parse."""

    list_display = ["title", "outlet", "published_at", "review_reasons", "source"]
    list_filter = ["date_source", "kind", "outlet"]
    actions = ["mark_reviewed", "publish", "hide"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(needs_review=True)


@admin.register(Section)
class SectionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "article", "position", "posted_at"]
    search_fields = ["heading", "article__title"]
    date_hierarchy = "posted_at"
    raw_id_fields = ["article"]
    list_select_related = ["article"]


class MentionInline(admin.TabularInline):
    model = Mention
    extra = 0
    fields = ["article", "section", "count"]
    readonly_fields = ["article", "section", "count"]
    can_delete = False
    max_num = 0
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("article", "section")


class MergeEntitiesForm(forms.Form):
    keep = forms.ModelChoiceField(
        queryset=Entity.objects.none(),
        widget=forms.RadioSelect,
        label="Keep this entity; the others become its aliases",
    )


@admin.register(Entity)
class EntityAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "alias_list", "mention_count", "curated"]
    list_filter = ["kind", "curated"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MentionInline]
    actions = ["merge"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(mention_total=Count("mentions"))

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if search_term:
            # Aliases are an array: an exact (case-sensitive) alias also finds the entity.
            queryset |= self.model.objects.filter(aliases__contains=[search_term]).annotate(
                mention_total=Count("mentions")
            )
        return queryset, may_have_duplicates

    def save_model(self, request, obj, form, change):
        # A curator's edit is a decision the next load must keep; unticking "curated"
        # alone hands the entity back to the loaders' checks.
        if set(form.changed_data) - {"curated"}:
            obj.curated = True
        super().save_model(request, obj, form, change)

    @admin.display(description="aliases")
    def alias_list(self, obj):
        return ", ".join(obj.aliases)

    @admin.display(description="mentions", ordering="mention_total")
    def mention_count(self, obj):
        return obj.mention_total

    @admin.action(description="Merge selected entities into one")
    def merge(self, request, queryset):
        entities = list(queryset.order_by("-mention_total", "name"))
        if len(entities) < 2:
            self.message_user(request, "Select at least two entities to merge.", messages.WARNING)
            return None
        form = MergeEntitiesForm(request.POST if "keep" in request.POST else None)
        form.fields["keep"].queryset = queryset
        if form.is_bound and form.is_valid():
            keep = form.cleaned_data["keep"]
            merged = merge_entities(keep, [e for e in entities if e.pk != keep.pk])
            Entity.objects.filter(pk=merged.pk).update(curated=True)  # loads keep the merge
            self.message_user(request, f"Merged {len(entities) - 1} entities into “{merged}”.")
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Merge entities",
            "entities": entities,
            "form": form,
            "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/articles/entity/merge.html", context)


@admin.register(EntityStopWord)
class EntityStopWordAdmin(admin.ModelAdmin):
    """Words that are never entities, added to the list the project ships
    (articles/ingest/not_entities.txt). The next load drops them everywhere."""

    list_display = ["phrase", "note"]
    search_fields = ["phrase", "note"]


@admin.register(Mention)
class MentionAdmin(admin.ModelAdmin):
    list_display = ["entity", "article", "section", "count"]
    list_filter = ["entity__kind"]
    search_fields = ["entity__name"]
    raw_id_fields = ["entity", "section", "article"]
    list_select_related = ["entity", "article", "section"]


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "query", "article_count"]
    search_fields = ["name", "query"]
    prepopulated_fields = {"slug": ["name"]}
    actions = ["retag"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(article_total=Count("article_tags"))

    @admin.display(description="articles", ordering="article_total")
    def article_count(self, obj):
        return obj.article_total

    @admin.action(description="Re-tag articles with the selected topics (after a query change)")
    def retag(self, request, queryset):
        for topic in queryset:
            count = retag_topic(topic)
            self.message_user(request, f"“{topic}”: {count} article(s) tagged by its query.")


@admin.register(ArticleTopic)
class ArticleTopicAdmin(admin.ModelAdmin):
    """Topic tags on articles: made by a topic's query, or set by a curator."""

    list_display = ["article", "topic", "score", "curated", "excluded"]
    list_filter = ["topic", "curated", "excluded"]
    search_fields = ["article__title", "topic__name"]
    raw_id_fields = ["article"]
    list_select_related = ["article", "topic"]


@admin.register(SectionTopic)
class SectionTopicAdmin(admin.ModelAdmin):
    list_display = ["section", "topic", "score", "curated"]
    list_filter = ["topic", "curated"]
    search_fields = ["section__heading", "section__article__title", "topic__name"]
    raw_id_fields = ["section"]
    list_select_related = ["section", "topic"]


@staff_member_required
def quality_report_view(request):
    """The quality report (articles/quality.py) for staff, each finding linked to its fix."""
    context = {**admin.site.each_context(request), "title": "Quality report"}
    context["sections"] = quality_report()
    return TemplateResponse(request, "admin/quality_report.html", context)


class ReadOnlyAdmin(admin.ModelAdmin):
    """What the archive keeps for itself, shown to curators and changed by none."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SearchOutbox)
class SearchOutboxAdmin(ReadOnlyAdmin):
    """Changes the search index has yet to take in (SEARCH_BACKEND=tantivy): read only,
    written by the database's triggers and emptied by the index."""

    list_display = ["article_id", "queued_at"]


@admin.register(ArchiveOverview)
class ArchiveOverviewAdmin(ReadOnlyAdmin):
    """The home page's figures and the content version they were computed at
    (articles/overview.py): made again by the next load or request after a change."""

    list_display = ["version", "computed_at"]
