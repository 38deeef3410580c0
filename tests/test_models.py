"""The database enforces what the archive promises."""

import pytest
from django.contrib.postgres.search import SearchQuery
from django.db import IntegrityError, transaction

from articles.models import Article, ArticleTopic, Outlet, Section, Topic
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


def entries_by_their_sections() -> set[int]:
    """The articles with more than one section or a headed one, read from the sections."""
    counts: dict[int, int] = {}
    headed = set()
    for article_id, heading in Section.objects.values_list("article_id", "heading"):
        counts[article_id] = counts.get(article_id, 0) + 1
        if heading:
            headed.add(article_id)
    return {pk for pk, n in counts.items() if n > 1} | headed


def _has_entries(article: Article) -> bool:
    return Article.objects.values_list("has_entries", flat=True).get(pk=article.pk)


@pytest.mark.django_db
def test_an_article_has_entries_as_its_sections_say_whatever_writes_them():
    # The ranking scores an article without entries by its own text alone, reading
    # the flag the database keeps from the sections however they are written.
    article = _article()
    first = Section.objects.create(article=article, position=1, body="Some text.", anchor="a")
    assert not _has_entries(article)
    second = Section.objects.create(article=article, position=2, body="More.", anchor="b")
    assert _has_entries(article)
    second.delete()
    assert not _has_entries(article)
    Section.objects.filter(pk=first.pk).update(heading="10:42 Shelling resumes")
    assert _has_entries(article)
    first.heading = ""
    first.save()
    assert not _has_entries(article)
    other = _article(content_hash="b" * 64)
    Section.objects.filter(pk=first.pk).update(article=other, heading="Moved")
    assert (_has_entries(article), _has_entries(other)) == (False, True)
    assert set(Article.objects.filter(has_entries=True).values_list("pk", flat=True)) == (
        entries_by_their_sections()
    )


def _row_version(article: Article) -> str:
    """Where the article's row lies: an update writes a new version elsewhere."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT ctid::text FROM articles_article WHERE id = %s", [article.pk])
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_a_reload_that_writes_the_sections_anew_leaves_the_article_row_alone():
    # A load that updates an article's text removes its sections and writes the new
    # ones in one statement: the flag holds through it, and the article's row is not
    # rewritten for it.
    article = _article(kind="live")

    def write_sections(body: str) -> None:
        Section.objects.bulk_create(
            Section(article=article, position=n, body=body, anchor=f"entry-{n}") for n in (1, 2)
        )

    write_sections("Text.")
    assert _has_entries(article)
    before = _row_version(article)
    article.sections.all().delete()
    assert _has_entries(article)  # no section: kept as it was
    write_sections("New text.")
    assert _has_entries(article)
    assert _row_version(article) == before


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
