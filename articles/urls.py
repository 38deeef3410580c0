from django.urls import path, re_path

from articles import api, citations, exports, feeds, openapi, views

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search_page, name="search"),
    path("search/export.csv", exports.export_csv, name="search-export-csv"),
    path("search/export.jsonl", exports.export_jsonl, name="search-export-jsonl"),
    path("search/export.json", exports.export_manifest, name="search-export-manifest"),
    path("search/feed.atom", feeds.search_atom, name="search-feed-atom"),
    path("search/feed.json", feeds.search_json, name="search-feed-json"),
    path("articles/<int:pk>/<slug:slug>/", views.article_detail, name="article-detail"),
    re_path(
        r"^articles/(?P<pk>[0-9]+)/cite\.(?P<fmt>txt|bib|ris|json)$",
        citations.cite,
        name="article-cite",
    ),
    path("stories/<int:pk>/", views.story_detail, name="story-detail"),
    path("entities/<slug:slug>/", views.entity_detail, name="entity-detail"),
    path("entities/<slug:slug>/feed.atom", feeds.entity_atom, name="entity-feed-atom"),
    path("entities/<slug:slug>/feed.json", feeds.entity_json, name="entity-feed-json"),
    path("outlets/<slug:slug>/", views.outlet_detail, name="outlet-detail"),
    path("outlets/<slug:slug>/feed.atom", feeds.outlet_atom, name="outlet-feed-atom"),
    path("outlets/<slug:slug>/feed.json", feeds.outlet_json, name="outlet-feed-json"),
    path("topics/<slug:slug>/", views.topic_detail, name="topic-detail"),
    path("topics/<slug:slug>/feed.atom", feeds.topic_atom, name="topic-feed-atom"),
    path("topics/<slug:slug>/feed.json", feeds.topic_json, name="topic-feed-json"),
    # The JSON API (articles/api.py), described by /api/openapi.json.
    path("api/", api.index, name="api-root"),
    path("api/openapi.json", openapi.openapi_json, name="api-openapi"),
    path("api/search/", api.search, name="api-search"),
    path("api/articles/<int:pk>/", api.article, name="api-article"),
    path("api/stories/<int:pk>/", api.story, name="api-story"),
    path("api/entities/", api.entities, name="api-entities"),
    path("api/entities/<slug:slug>/", api.entity, name="api-entity"),
    path("api/outlets/", api.outlets, name="api-outlets"),
    path("api/topics/", api.topics, name="api-topics"),
    re_path(r"^api/", api.not_found, name="api-not-found"),
]
