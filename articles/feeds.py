"""Atom (Django's syndication framework) and JSON Feed 1.1 for any search
(/search/feed.atom?..., /search/feed.json?..., the parameters of /search/) and
for every entity, outlet and topic (/entities/<slug>/feed.atom ...).

A feed holds the FEED_SIZE newest matching public articles, by publication date;
a search's feed, those its pages list (relaxed matching's when no page-full of
articles has every word, which the feed's description then says).
Each entry says why it matched: a line naming the entity or topic, then the
highlighted snippet and matching live-blog entries the search page shows. The
snippets are article text escaped, with matches in <mark>; Atom carries them as
type="html" (escaped once more by the XML writer), so a `<script>` in a title
or body reaches a feed reader as text, never as markup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from django.contrib.syndication.views import Feed
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from articles import search
from articles.api import invalid, read_only
from articles.filters import SearchFilter, error_messages
from articles.models import Article, ArticleTopic, Entity, Outlet, Topic
from articles.templatetags.archive_tags import http_url

FEED_SIZE = 50
ARCHIVE_NAME = "War-coverage archive"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"

# XML 1.0 cannot hold these at all; Django's XML writer refuses them.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(text: str | None) -> str | None:
    return _NOT_XML.sub("", text) if text is not None else None


@dataclass
class Entry:
    title: str
    link: str  # the article's permalink, also the entry's id
    html: SafeString  # why it matched
    published: datetime | None
    updated: datetime
    author: str
    categories: list[str]
    external_url: str


@dataclass
class FeedSource:
    """What a feed lists: `matches` (public articles), and `text_query` for the highlights."""

    title: str
    description: str
    page: str  # the HTML page with the same articles (a path)
    name: str  # URL name prefix: "search", "entity", "outlet", "topic"
    args: tuple
    matches: QuerySet
    text_query: search.TextQuery | None = None
    reason: str = ""  # said of every entry, e.g. "Mentions Kyiv"
    query_string: str = ""

    def url(self, request, fmt: str) -> str:
        path = reverse(f"{self.name}-feed-{fmt}", args=self.args)
        return request.build_absolute_uri(path + self.query_string)

    def entries(self, request) -> list[Entry]:
        """The newest FEED_SIZE matches with their highlights: a fixed number of queries."""
        articles = list(
            self.matches.order_by(*search.newest_first())
            .select_related("outlet")
            .only(*search.LIST_FIELDS, "updated_at")[:FEED_SIZE]
        )
        return [
            Entry(
                title=hit.article.title,
                link=request.build_absolute_uri(hit.url),
                html=self._why(hit, request),
                published=hit.article.published_at,
                updated=hit.article.updated_at,
                author=hit.article.byline,
                categories=[topic["name"] for topic in hit.topics],
                external_url=http_url(hit.article.source_url),
            )
            for hit in search.hits_for(articles, self.text_query)
        ]

    def _why(self, hit: search.Hit, request) -> SafeString:
        parts = []
        if self.reason:
            parts.append(format_html("<p><strong>{}</strong></p>", self.reason))
        if hit.snippet_html:
            parts.append(format_html("<p>{}</p>", hit.snippet_html))
        if hit.sections:
            entries = format_html_join(
                "",
                '<li><a href="{}">{}</a>: {}</li>',
                (
                    (
                        request.build_absolute_uri(section.url),
                        section.title_html,
                        section.snippet_html,
                    )
                    for section in hit.sections
                ),
            )
            label = f"{hit.section_count} matching entr{'y' if hit.section_count == 1 else 'ies'}"
            parts.append(format_html("<p>{}:</p><ul>{}</ul>", label, entries))
        return format_html_join("", "{}", ((part,) for part in parts))


# --- What each feed lists -------------------------------------------------------


def _highlighting(text: str) -> search.TextQuery | None:
    """A query used only to highlight (an entity's name, a topic's query), if it parses."""
    try:
        return search.build_text_query(text)
    except search.QueryError:
        return None


def search_source(request) -> FeedSource:
    filterset = SearchFilter(request.GET, queryset=Article.objects.public())
    if not filterset.is_valid():
        raise invalid(error_messages(filterset))
    data = filterset.form.cleaned_data
    q = data.get("q") or ""
    labels = [
        f"{label}: {obj.name}"
        for name, label in (("outlet", "Outlet"), ("topic", "Topic"), ("entity", "Entity"))
        for obj in data.get(name) or ()
    ]
    if data.get("kind"):
        labels.append(f"only {Article.Kind(data['kind']).label.lower()}s")
    labels += [f"{key} {data[key]:%Y-%m-%d}" for key in ("from", "to") if data.get(key)]
    what = f"“{q}”" if q else "newest articles"
    matches, text_query, relaxed = filterset.every_match()
    query = request.GET.copy()
    for ignored in ("page", "sort"):
        query.pop(ignored, None)
    encoded = query.urlencode()
    suffix = f"?{encoded}" if encoded else ""
    return FeedSource(
        title=f"{ARCHIVE_NAME}: {what}" + (f" ({', '.join(labels)})" if labels else ""),
        description=(
            " ".join(filter(None, [filterset.text_query.describe(), relaxed]))
            if filterset.text_query
            else "The newest articles in the archive."
        ),
        page=reverse("search") + suffix,
        name="search",
        args=(),
        matches=matches,
        text_query=text_query,
        query_string=suffix,
    )


def entity_source(slug: str) -> FeedSource:
    entity = get_object_or_404(Entity, slug=slug)
    mentioning = Article.objects.public().mentioning(entity)
    if not mentioning.exists():
        raise Http404("No public article mentions this entity.")
    return FeedSource(
        title=f"{ARCHIVE_NAME}: {entity.name}",
        description=f"The newest articles mentioning {entity.name}.",
        page=entity.get_absolute_url(),
        name="entity",
        args=(entity.slug,),
        matches=mentioning,
        text_query=_highlighting('"' + entity.name.replace('"', " ") + '"'),
        reason=f"Mentions {entity.name}",
    )


def outlet_source(slug: str) -> FeedSource:
    outlet = get_object_or_404(Outlet, slug=slug)
    return FeedSource(
        title=f"{ARCHIVE_NAME}: {outlet.name}",
        description=f"The newest articles from {outlet.name}.",
        page=outlet.get_absolute_url(),
        name="outlet",
        args=(outlet.slug,),
        matches=Article.objects.public().filter(outlet=outlet),
        reason=f"Published by {outlet.name}",
    )


def topic_source(slug: str) -> FeedSource:
    topic = get_object_or_404(Topic, slug=slug)
    tagged = Article.objects.public().filter(
        Exists(ArticleTopic.objects.filter(article=OuterRef("pk"), topic=topic, excluded=False))
    )
    return FeedSource(
        title=f"{ARCHIVE_NAME}: {topic.name}",
        description=topic.description or f"The newest articles tagged {topic.name}.",
        page=topic.get_absolute_url(),
        name="topic",
        args=(topic.slug,),
        matches=tagged,
        text_query=_highlighting(topic.query),
        reason=f"Tagged {topic.name}",
    )


# --- Atom ------------------------------------------------------------------------


class AtomFeed(Feed):
    """Django's Atom writer, fed entries computed once by the view."""

    feed_type = Atom1Feed
    author_name = ARCHIVE_NAME  # Atom wants an author for the feed or every entry

    def get_object(self, request, source: FeedSource, entries: list[Entry]):
        self._request = request
        return source, entries

    def title(self, obj):
        return xml_text(obj[0].title)

    def subtitle(self, obj):
        return xml_text(obj[0].description)

    def link(self, obj):
        return self._request.build_absolute_uri(obj[0].page)

    def feed_url(self, obj):
        return obj[0].url(self._request, "atom")

    def items(self, obj):
        return obj[1]

    def item_title(self, entry: Entry):
        return xml_text(entry.title)

    def item_link(self, entry: Entry):
        return entry.link

    def item_description(self, entry: Entry):
        return xml_text(str(entry.html))

    def item_pubdate(self, entry: Entry):
        return entry.published

    def item_updateddate(self, entry: Entry):
        return entry.updated

    def item_author_name(self, entry: Entry):
        return xml_text(entry.author) or None

    def item_categories(self, entry: Entry):
        return [xml_text(name) for name in entry.categories]


def _atom(request, source: FeedSource):
    return AtomFeed()(request, source=source, entries=source.entries(request))


def _json_feed(request, source: FeedSource):
    home = request.build_absolute_uri(source.page)
    items = []
    for entry in source.entries(request):
        item = {
            "id": entry.link,
            "url": entry.link,
            "title": entry.title,
            "content_html": str(entry.html),
            "date_modified": entry.updated.isoformat(),
        }
        if entry.external_url:
            item["external_url"] = entry.external_url
        if entry.published:
            item["date_published"] = entry.published.isoformat()
        if entry.author:
            item["authors"] = [{"name": entry.author}]
        if entry.categories:
            item["tags"] = entry.categories
        items.append(item)
    feed = {
        "version": JSON_FEED_VERSION,
        "title": source.title,
        "home_page_url": home,
        "feed_url": source.url(request, "json"),
        "description": source.description,
        "language": "en-GB",
        "authors": [{"name": ARCHIVE_NAME, "url": request.build_absolute_uri("/")}],
        "items": items,
    }
    return JsonResponse(
        feed,
        content_type="application/feed+json; charset=utf-8",
        json_dumps_params={"ensure_ascii": False},
    )


# --- Views -------------------------------------------------------------------------


@read_only
def search_atom(request):
    return _atom(request, search_source(request))


@read_only
def search_json(request):
    return _json_feed(request, search_source(request))


@read_only
def entity_atom(request, slug):
    return _atom(request, entity_source(slug))


@read_only
def entity_json(request, slug):
    return _json_feed(request, entity_source(slug))


@read_only
def outlet_atom(request, slug):
    return _atom(request, outlet_source(slug))


@read_only
def outlet_json(request, slug):
    return _json_feed(request, outlet_source(slug))


@read_only
def topic_atom(request, slug):
    return _atom(request, topic_source(slug))


@read_only
def topic_json(request, slug):
    return _json_feed(request, topic_source(slug))
