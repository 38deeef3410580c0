from django.urls import path

from articles import api, views

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search_page, name="search"),
    path("api/search/", api.search, name="api-search"),
    path("articles/<int:pk>/<slug:slug>/", views.article_detail, name="article-detail"),
    path("entities/<slug:slug>/", views.entity_detail, name="entity-detail"),
    path("outlets/<slug:slug>/", views.outlet_detail, name="outlet-detail"),
    path("topics/<slug:slug>/", views.topic_detail, name="topic-detail"),
]
