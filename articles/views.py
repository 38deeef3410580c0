"""Public pages. Hidden articles (is_public=False) never appear here: every list,
count, facet and chart starts from Article.objects.public()."""

from __future__ import annotations

import re
from collections import Counter, defaultdict

from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_safe

from articles import cache, charts, citations, overview, search, story_versions
from articles.filters import ArticleListFilter, SearchFilter, error_messages
from articles.models import Article, ArticleTopic, Entity, Mention, Outlet, Section, Topic
from articles.search import stories as search_stories

LIST_SIZE = 20
RELATED = 5
RELATED_POOL = 2000  # articles nearest in time among which related ones are found


@require_safe
def home(request):
    figures, timeline = overview.current_with_chart()
    latest = search.for_list(Article.objects.public().order_by(*search.newest_first()))[:8]
    context = {
        "counts": figures["counts"],
        "timeline": timeline,
        "top_entities": figures["top_entities"],
        "top_entities_of": search.FACET_SAMPLE,
        "outlets": figures["outlets"],
        "topics": figures["topics"],
        "latest": latest,
    }
    return render(request, "articles/home.html", context)


@require_safe
def search_page(request):
    filterset = SearchFilter(request.GET, queryset=Article.objects.public())
    context = {"filterset": filterset, "params": request.GET, "sorts": search.SORTS}
    if not filterset.is_valid():
        context["errors"] = error_messages(filterset)
        return render(request, "articles/search.html", context, status=400)

    def page() -> str:
        # The page holds nothing of the visitor's (public pages show no user data),
        # so the same parameters make the same page: cached whole (rendering it costs
        # more than answering from the cached results).
        results = filterset.results()
        chosen = filterset.form.cleaned_data
        context.update(
            results=results,
            active=_active_filters(filterset),
            outlet_facet=_with_chosen(results.facets.outlet, chosen.get("outlet")),
            topic_facet=_with_chosen(results.facets.topic, chosen.get("topic")),
            searched_range=search.searched_range(chosen.get("from"), chosen.get("to")),
        )
        return render_to_string("articles/search.html", context, request)

    try:
        return HttpResponse(cache.cached("search-page", sorted(request.GET.lists()), page))
    except search.PageOutOfRange as exc:
        context["errors"] = {"page": [str(exc)]}
        return render(request, "articles/search.html", context, status=400)


@require_safe
def article_detail(request, pk, slug):
    article = get_object_or_404(
        Article.objects.public()
        .select_related("outlet", "source")
        .defer("search_vector", "source__raw"),
        pk=pk,
    )
    if slug != (article.slug or "article"):
        return redirect(article, permanent=True)
    # Like the search page, the same for every visitor: cached whole, per site address
    # and search (`q`: the entries matching it are listed, from a search result).
    q = request.GET.get("q", "")
    key = [article.pk, request.build_absolute_uri("/"), q]
    return HttpResponse(
        cache.cached("article-page", key, lambda: _article_page(request, article, q))
    )


@require_safe
def story_detail(request, pk):
    copies = story_versions.copies(pk)
    if not copies:
        raise Http404(f"There is no story {pk} with public copies.")
    versions = story_versions.versions(copies)
    outlets = {copy.outlet_id for copy in copies if copy.outlet_id}
    return render(
        request,
        "articles/story_detail.html",
        {"story_id": pk, "first": copies[0], "versions": versions, "outlet_count": len(outlets)},
    )


def _article_page(request, article, q: str) -> str:
    sections = list(article.sections.defer("search_vector").order_by("position"))
    mentions = list(
        Mention.objects.filter(article=article)
        .select_related("entity")
        .only(
            "section_id", "count", "entity__name", "entity__slug", "entity__kind", "entity__aliases"
        )
    )
    entities = _entities_by_kind(mentions)
    topics = list(
        Topic.objects.filter(article_tags__article=article, article_tags__excluded=False).order_by(
            "name"
        )
    )
    canonical_url = request.build_absolute_uri(article.get_absolute_url())
    return render_to_string(
        "articles/article_detail.html",
        {
            "article": article,
            "sections": sections,
            "section_links": _section_links(mentions),
            "toc": [s for s in sections if s.heading] if article.kind == Article.Kind.LIVE else [],
            "entities": entities,
            "topics": topics,
            "related": _related(article, mentions, topics),
            "story": _story_of(article),
            "canonical_url": canonical_url,
            "citation": citations.chicago(citations.Citation.of(article, canonical_url)),
            "q": q,
            "matching": _matching_sections(article, q),
        },
        request,
    )


def _matching_sections(article, q: str) -> list[Section]:
    """The article's sections matching the search `q` (all of them: a search result
    shows the best few), in the article's order; none for an invalid or empty search."""
    data = QueryDict(mutable=True)
    data["q"] = q
    filterset = SearchFilter(data, queryset=Article.objects.none())
    if not q or not filterset.is_valid() or filterset.text_query is None:
        return []
    return list(
        article.sections.filter(search_vector=filterset.text_query.search_query)
        .order_by("position")
        .only("anchor", "heading", "posted_at", "position")
    )


@require_safe
def entity_detail(request, slug):
    entity = get_object_or_404(Entity, slug=slug)
    mentioning = Article.objects.public().mentioning(entity)
    if not mentioning.exists():
        raise Http404("No public article mentions this entity.")
    return _article_list(
        request,
        "articles/entity_detail.html",
        mentioning,
        {"entity": entity},
        own=search.Selection(entities=frozenset({entity.slug})),
        co_mentioned=12,
    )


@require_safe
def outlet_detail(request, slug):
    outlet = get_object_or_404(Outlet, slug=slug)
    return _article_list(
        request,
        "articles/outlet_detail.html",
        Article.objects.public().filter(outlet=outlet),
        {"outlet": outlet},
        own=search.Selection(outlets=frozenset({outlet.slug})),
    )


@require_safe
def topic_detail(request, slug):
    topic = get_object_or_404(Topic, slug=slug)
    tagged = Article.objects.public().filter(
        Exists(ArticleTopic.objects.filter(article=OuterRef("pk"), topic=topic, excluded=False))
    )
    return _article_list(
        request,
        "articles/topic_detail.html",
        tagged,
        {"topic": topic},
        own=search.Selection(topics=frozenset({topic.slug})),
    )


# --- Helpers ---------------------------------------------------------------


def _article_list(request, template, articles, context, *, own, co_mentioned=0):
    """A page of `articles`, the list `own` (an entity, outlet or topic) makes,
    filterable by outlet and dates, with their timeline and, for an entity, the
    `co_mentioned` entities most named alongside."""
    search_params = _search_params(own)
    filterset = ArticleListFilter(request.GET, queryset=articles)
    context = {**context, "filterset": filterset, "params": request.GET}
    if not filterset.is_valid():
        # The form stays, with what was given, to be put right.
        context["errors"] = error_messages(filterset)
        context["outlet_choices"] = search.outlet_facet(articles)
        return render(request, template, context, status=400)
    filtered = filterset.qs

    def figures() -> dict:
        listed = search.get_backend().list_figures(
            search.ListRequest(
                articles=filtered,
                unfiltered=articles,
                own=own,
                chosen=filterset.selection(),
                co_mentioned=co_mentioned,
            )
        )
        return {
            "count": listed.count,
            "timeline": charts.timeline(listed.monthly, search_params, _outlet_colours()),
            "outlet_choices": _with_chosen(
                listed.outlets, filterset.form.cleaned_data.get("outlet")
            ),
            "co_mentioned": listed.co_mentioned,
            "co_mentioned_of": listed.co_mentioned_of,
        }

    key = [request.path, sorted(i for i in request.GET.lists() if i[0] != "page")]
    # Named for what the entry holds: entries of an earlier shape ("list") are
    # left to expire rather than read by code that no longer knows them.
    context.update(cache.cached("list-figures", key, figures), search_params=search_params)
    paginator = Paginator(search.for_list(filtered.order_by(*search.newest_first())), LIST_SIZE)
    paginator.count = context["count"]  # known: do not count again
    number = filterset.page_number
    if number > paginator.num_pages:
        context["errors"] = {
            "page": [f"There is no page {number}: the last page is {paginator.num_pages}."]
        }
        return render(request, template, context, status=400)
    context["page"] = paginator.page(number)
    return render(request, template, context)


def _search_params(own: search.Selection) -> dict[str, str]:
    """The search that finds the list `own` makes, as URL parameters."""
    given = {"entity": own.entities, "outlet": own.outlets, "topic": own.topics}
    return {name: slug for name, slugs in given.items() for slug in slugs}


def _outlet_colours() -> dict[str, str]:
    """The home page's colours for the outlets, for every chart."""
    return charts.outlet_colours(overview.outlets_by_size(overview.current()))


def _with_chosen(values: list[search.FacetValue], chosen) -> list[search.FacetValue]:
    """A facet's `values` and any `chosen` outlet or topic missing from them (none
    left under the other filters): it stays in view, to be turned off where it was
    turned on, rather than surviving only as a chip."""
    shown = {value.value for value in values}
    missing = [obj for obj in chosen or () if obj.slug not in shown]
    return values + [search.FacetValue(obj.slug, obj.name, 0, selected=True) for obj in missing]


def _active_filters(filterset) -> list[tuple[str, str, str]]:
    """(parameter, value, label) for each filter in force, to show and remove."""
    data = filterset.form.cleaned_data
    active = []
    for name, label in (("outlet", "Outlet"), ("topic", "Topic"), ("entity", "Entity")):
        for obj in data.get(name) or ():
            active.append((name, obj.slug, f"{label}: {obj.name}"))
    for name, label in (("from", "From"), ("to", "To")):
        if data.get(name):
            active.append((name, data[name].isoformat(), f"{label} {data[name]:%-d %B %Y}"))
    if data.get("kind"):
        active.append(("kind", data["kind"], f"Only {Article.Kind(data['kind']).label.lower()}s"))
    return active


def _entities_by_kind(mentions) -> list[tuple[str, list[tuple[Entity, int]]]]:
    totals: Counter = Counter()
    entities = {}
    for mention in mentions:
        totals[mention.entity_id] += mention.count
        entities[mention.entity_id] = mention.entity
    groups = defaultdict(list)
    for entity_id, count in sorted(totals.items(), key=lambda kv: (-kv[1], entities[kv[0]].name)):
        groups[entities[entity_id].kind].append((entities[entity_id], count))
    labels = dict(Entity.Kind.choices)
    return [(labels[kind], groups[kind]) for kind in labels if groups.get(kind)]


def _section_links(mentions) -> dict[int, list[tuple[re.Pattern, str, str]]]:
    """section id -> (spelling pattern, entity URL, entity name) for linking names in its text."""
    links = defaultdict(list)
    for mention in mentions:
        entity = mention.entity
        forms = {entity.name, *entity.aliases}
        if entity.kind == Entity.Kind.PERSON:
            forms |= {search.surname(f) for f in forms} - {""}
        forms = sorted((f for f in forms if len(f) >= 3), key=len, reverse=True)
        if forms:
            pattern = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, forms)) + r")(?!\w)")
            links[mention.section_id].append((pattern, entity.get_absolute_url(), entity.name))
    return links


def _story_of(article):
    """The article's story when other public copies of it exist (search.StoryInfo)."""
    if article.story_id is None:
        return None
    story = search_stories.story_info({article.story_id}).get(article.story_id)
    return story if story and story.copies > 1 else None


def _related(article, mentions, topics) -> list[Article]:
    """Other coverage: public articles sharing the most of this one's main entities
    and its topics, among the RELATED_POOL published nearest to it, less the copies
    of its own story (they are on the story page)."""
    totals: Counter = Counter()
    for mention in mentions:
        totals[mention.entity_id] += mention.count
    entity_ids = [entity_id for entity_id, _ in totals.most_common(10)]
    pool = _nearest_in_time(article, RELATED_POOL)
    if article.story_id is not None:
        copies = set(Article.objects.filter(story_id=article.story_id).values_list("pk", flat=True))
        pool = [pk for pk in pool if pk not in copies]
    pool = search.ids_param(pool)
    scores: Counter = Counter()
    shared_entities = (
        Mention.objects.filter(entity_id__in=entity_ids, article_id__in=pool)
        .values_list("article_id")
        .annotate(n=Count("entity_id", distinct=True))
        .order_by("-n")[:50]
    )
    for article_id, n in shared_entities:
        scores[article_id] += n
    if topics:
        shared_topics = (
            ArticleTopic.objects.filter(topic__in=topics, excluded=False, article_id__in=pool)
            .values_list("article_id")
            .annotate(n=Count("pk"))
            .order_by("-n")[:50]
        )
        for article_id, n in shared_topics:
            scores[article_id] += n
    best = [article_id for article_id, _ in scores.most_common(RELATED)]
    found = {a.pk: a for a in search.for_list(Article.objects.public().filter(pk__in=best))}
    return [found[pk] for pk in best if pk in found]


def _nearest_in_time(article, size: int) -> list[int]:
    """The ids of the `size` public articles published nearest to `article` (half
    before, half after), or the newest when it is undated. Coverage of the same events,
    and a bounded set: every article naming Russia is tens of thousands at 100k, too
    many to count for every article page."""
    others = Article.objects.public().exclude(pk=article.pk)
    if article.published_at is None:
        return list(others.order_by(*search.newest_first()).values_list("pk", flat=True)[:size])
    when = article.published_at
    before = others.filter(published_at__lte=when).order_by(*search.newest_first())
    after = others.filter(published_at__gt=when).order_by(*search.oldest_first())
    half = size // 2
    return [
        *before.values_list("pk", flat=True)[:half],
        *after.values_list("pk", flat=True)[:half],
    ]
