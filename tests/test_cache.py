"""The result cache (articles/cache.py): a repeated search costs one query, and
nothing a curator or a load changes is hidden by it: the next request sees it."""

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache as django_cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles import cache
from articles.models import Article, Entity, SearchOutbox

SEARCH = "/api/search/"


@pytest.fixture
def cache_on(settings):
    settings.RESULT_CACHE_SECONDS = 300
    django_cache.clear()
    yield
    django_cache.clear()


def result_ids(client, **params) -> list[int]:
    return [hit["id"] for hit in client.get(SEARCH, params).json()["results"]]


# Checking the query reads how common its words are and their spellings (2 small
# index lookups, the trusted entities a word such as Kyiv names in one; a query of
# stop words only is refused before any cache), then the content version and the
# cached results (2).
CACHED_SEARCH_QUERIES = 4


def test_a_repeated_search_reads_only_its_words_the_version_and_the_cache(
    client, db, cache_on, django_assert_num_queries
):
    first = client.get(SEARCH, {"q": "Kyiv"}).json()
    assert first["count"] > 0
    with django_assert_num_queries(CACHED_SEARCH_QUERIES):
        again = client.get(SEARCH, {"q": "Kyiv"}).json()
    assert again == first


def test_the_page_and_the_api_share_results_whatever_the_parameter_order(
    client, db, cache_on, django_assert_num_queries
):
    client.get("/search/", {"q": "Kyiv", "sort": "newest"})
    with django_assert_num_queries(CACHED_SEARCH_QUERIES):
        client.get(f"{SEARCH}?sort=newest&q=Kyiv")


def test_different_searches_are_not_confused(client, db, cache_on):
    newest = result_ids(client, q="Kyiv", sort="newest")
    oldest = result_ids(client, q="Kyiv", sort="oldest")
    assert len(newest) > 1
    assert newest != oldest
    assert result_ids(client, q="Pistorius") != newest


def test_an_article_hidden_by_a_curator_leaves_cached_results_at_once(
    client, db, cache_on, commits
):
    before = result_ids(client, q="Kyiv")
    assert 1 < len(before) < 20  # one page: the count is the page's length
    hidden = Article.objects.get(pk=before[0])
    curator = User.objects.create_user("curator", password="a-long-test-password", is_staff=True)
    curator.groups.add(Group.objects.get(name="curators"))
    client.force_login(curator)
    with commits():
        client.post("/admin/articles/article/", {"action": "hide", "_selected_action": [hidden.pk]})
    client.logout()
    after = client.get(SEARCH, {"q": "Kyiv"}).json()
    assert hidden.pk not in [hit["id"] for hit in after["results"]]
    assert after["count"] == len(before) - 1


def test_an_edit_saved_in_admin_or_shell_is_seen_at_once(client, db, cache_on, commits):
    assert client.get(SEARCH, {"q": "Zvezdograd"}).json()["count"] == 0
    article = Article.objects.public().first()
    with commits():
        article.title = "Shelling reported near Zvezdograd"
        article.save()
    assert result_ids(client, q="Zvezdograd") == [article.pk]


@pytest.mark.parametrize("path", [[], ["--bulk"]], ids=["normal", "bulk"])
def test_a_load_is_seen_at_once(client, db, cache_on, commits, tmp_path, path):
    assert client.get(SEARCH, {"q": "Quillmarsh"}).json()["count"] == 0
    home_before = client.get("/").content
    story = tmp_path / "story.txt"
    story.write_text(
        "Ferry service resumes at Quillmarsh\n\n"
        "The ferry between the island and Quillmarsh ran again on Monday, officials said.\n",
        encoding="utf-8",
    )
    with commits():
        call_command("load_articles", str(story), "--outlet", "Test Wire", *path, verbosity=0)
    assert client.get(SEARCH, {"q": "Quillmarsh"}).json()["count"] == 1
    home_after = client.get("/").content
    assert home_after != home_before
    assert b"Test Wire" in home_after  # the outlet list is recounted


def test_a_curators_new_alias_is_used_by_the_next_search(client, db, cache_on, commits):
    facets = client.get(SEARCH, {"q": "Kyiv"}).json()["facets"]["entity"]
    names = {f["slug"] for f in facets}
    assert names
    keep = Entity.objects.get(slug=sorted(names)[0])
    with commits():
        keep.aliases = [*keep.aliases, "Zvezdograd"]
        keep.save()
    # Aliases expand queries: the new spelling finds what the entity's name finds.
    assert client.get(SEARCH, {"q": "Zvezdograd"}).json()["count"] > 0


def test_changes_outside_a_transaction_move_the_version_at_once(db):
    version = cache.content_version()
    cache.changed()  # inside the test's transaction: waits for the commit
    assert cache.content_version() == version
    cache._bump()
    assert cache.content_version() == version + 1


def test_with_the_cache_off_every_search_runs(client, db):
    client.get(SEARCH, {"q": "Kyiv"})
    with CaptureQueriesContext(connection) as queries:
        client.get(SEARCH, {"q": "Kyiv"})
    assert len(queries) > 5


def test_a_cached_article_page_follows_edits_and_hiding(client, db, cache_on, commits):
    article = Article.objects.public().first()
    url = article.get_absolute_url()
    assert client.get(url).status_code == 200
    with commits():
        article.title = "Corrected: shelling reported near Zvezdograd"
        article.save()
    assert b"Corrected: shelling reported near Zvezdograd" in client.get(url).content
    Article.objects.filter(pk=article.pk).update(is_public=False)  # no signal, no commit
    assert client.get(url).status_code == 404  # visibility is checked on every request


def test_a_cached_search_page_is_the_same_page(client, db, cache_on):
    first = client.get("/search/", {"q": "Kyiv"})
    again = client.get("/search/", {"q": "Kyiv"})
    assert first.status_code == again.status_code == 200
    assert first.content == again.content
    assert b"Kyiv" in again.content


def test_the_search_index_catching_up_leaves_cached_pages_alone(
    db, django_capture_on_commit_callbacks
):
    """The outbox is bookkeeping: taking its rows away moves no content version, where
    a receiver made each catch-up one UPDATE of the version per article."""
    article = Article.objects.first()
    SearchOutbox.objects.bulk_create([SearchOutbox(article_id=article.pk) for _ in range(50)])
    with django_capture_on_commit_callbacks() as callbacks:
        SearchOutbox.objects.all().delete()
    assert callbacks == []
