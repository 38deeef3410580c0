"""The database enforces what the archive promises."""

import pytest
from django.contrib.postgres.search import SearchQuery
from django.db import IntegrityError, transaction

from articles.models import Article, ArticleTopic, Outlet, Topic
from articles.search_vectors import SEARCH_CONFIG


def _article(**fields) -> Article:
    defaults = {"title": "A title", "body": "Some text.", "content_hash": "a" * 64}
    return Article.objects.create(**{**defaults, **fields})


@pytest.mark.django_db
def test_the_same_content_is_stored_once():
    _article(content_hash="f" * 64)
    with pytest.raises(IntegrityError), transaction.atomic():
        _article(content_hash="f" * 64, title="Another title")


@pytest.mark.django_db
def test_an_unknown_date_cannot_carry_a_date():
    from django.utils import timezone

    with pytest.raises(IntegrityError), transaction.atomic():
        _article(date_source="unknown", published_at=timezone.now())


@pytest.mark.django_db
def test_only_curators_can_exclude_a_topic():
    article = _article()
    topic = Topic.objects.create(name="Test topic", slug="test-topic", query="tanks")
    with pytest.raises(IntegrityError), transaction.atomic():
        ArticleTopic.objects.create(article=article, topic=topic, curated=False, excluded=True)


@pytest.mark.django_db
def test_outlet_names_are_unique():
    Outlet.objects.create(name="Example Times", slug="example-times")
    with pytest.raises(IntegrityError), transaction.atomic():
        Outlet.objects.create(name="Example Times", slug="example-times-2")


@pytest.mark.django_db
def test_the_search_vector_is_kept_by_the_database_and_ignores_accents():
    article = _article(title="Zelénsky visits Dnípro", body="Tanks arrive.")
    query = SearchQuery("Zelensky Dnipro", config=SEARCH_CONFIG, search_type="websearch")
    assert list(Article.objects.filter(search_vector=query).values_list("pk", flat=True)) == [
        article.pk
    ]
    article.title = "Something else"
    article.save()
    assert not Article.objects.filter(pk=article.pk, search_vector=query).exists()


@pytest.mark.django_db
def test_a_title_match_weighs_more_than_a_body_match():
    from django.contrib.postgres.search import SearchRank
    from django.db.models import F

    in_title = _article(title="Leopard tanks", body="Text.", content_hash="1" * 64)
    in_body = _article(title="Other news", body="Leopard tanks.", content_hash="2" * 64)
    query = SearchQuery("leopard", config=SEARCH_CONFIG)
    ranked = (
        Article.objects.filter(pk__in=[in_title.pk, in_body.pk], search_vector=query)
        .annotate(rank=SearchRank(F("search_vector"), query))
        .order_by("-rank")
        .values_list("pk", flat=True)
    )
    assert list(ranked) == [in_title.pk, in_body.pk]


@pytest.mark.django_db
def test_an_articles_search_vector_stays_in_its_row_unless_the_row_outgrows_a_page():
    """Matching and ranking read every candidate's vector: one kept in the row is read
    with it, one moved out to TOAST costs an index lookup and chunk reads."""
    from django.db import connection

    if connection.pg_version < 170000:  # DATABASE_URL may name PostgreSQL 15 or 16
        pytest.skip("pg_column_toast_chunk_id(), which tells, came with PostgreSQL 17")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_column_size(search_vector), pg_column_size(a.*),"
            " pg_column_toast_chunk_id(search_vector) IS NOT NULL"
            " FROM articles_article AS a"
        )
        rows = cursor.fetchall()
    # PostgreSQL's default would move any vector out of a row past about 2 kB.
    assert any(vector > 2100 for vector, _, _ in rows)
    assert [row for row in rows if row[2] and row[1] < 8000] == []
