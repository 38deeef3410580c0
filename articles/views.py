"""Public pages. Hidden articles (is_public=False) never appear here."""

from django.shortcuts import get_object_or_404, render

from articles.models import Article, Entity, Outlet, Topic


def home(request):
    latest = Article.objects.public().select_related("outlet")[:20]
    return render(request, "articles/home.html", {"latest": latest})


def article_detail(request, pk, slug):
    article = get_object_or_404(Article.objects.public().select_related("outlet", "source"), pk=pk)
    return render(
        request,
        "articles/article_detail.html",
        {"article": article, "sections": article.sections.all()},
    )


def entity_detail(request, slug):
    entity = get_object_or_404(Entity, slug=slug)
    articles = (
        Article.objects.public().filter(mentions__entity=entity).distinct().select_related("outlet")
    )
    return render(request, "articles/entity_detail.html", {"entity": entity, "articles": articles})


def outlet_detail(request, slug):
    outlet = get_object_or_404(Outlet, slug=slug)
    articles = outlet.articles.public()
    return render(request, "articles/outlet_detail.html", {"outlet": outlet, "articles": articles})


def topic_detail(request, slug):
    topic = get_object_or_404(Topic, slug=slug)
    articles = (
        Article.objects.public()
        .filter(topic_tags__topic=topic, topic_tags__excluded=False)
        .select_related("outlet")
    )
    return render(request, "articles/topic_detail.html", {"topic": topic, "articles": articles})
