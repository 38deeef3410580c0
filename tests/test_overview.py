"""The archive's overview (articles/overview.py): the home page's archive-wide
figures are kept in the database, made by a load before it reports, and made again
after any other change; what a page shows is never older than the data it reads."""

import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles import cache, overview
from articles.models import ArchiveOverview, Article, Outlet


def fresh() -> dict:
    """What the archive holds now, as the stored overview keeps it (JSON)."""
    return json.loads(json.dumps(overview.compute()))


def reads_mentions(captured) -> bool:
    return any("articles_mention" in query["sql"] for query in captured.captured_queries)


def test_the_overview_is_what_the_archive_holds(db):
    figures = overview.current()
    assert figures == fresh()
    assert figures["counts"]["articles"] == Article.objects.public().count() == 8
    assert overview.outlets_by_size(figures)[0] == "cnn"  # the only outlet with two
    dated = Article.objects.public().filter(published_at__isnull=False).count()
    assert sum(articles for *_, articles in figures["months"]) == dated


def test_a_committed_change_reaches_the_overview_at_the_next_request(client, db, commits):
    assert "Moved Desk" not in client.get("/").content.decode()
    article = Article.objects.public().filter(outlet__slug="cnn").first()
    with commits():
        article.outlet = Outlet.objects.create(name="Moved Desk", slug="moved-desk")
        article.save()
    figures = overview.current()
    assert figures == fresh()
    assert "moved-desk" in overview.outlets_by_size(figures)
    page = client.get("/").content.decode()
    assert 'href="/outlets/moved-desk/">Moved Desk</a> <span class="count">1</span>' in page
    assert '<th scope="col">Moved Desk</th>' in page  # the timeline drawn again, not its old markup


def test_a_process_reads_the_figures_once_a_version(client, db, commits):
    """Reading and parsing them cost every home and list page 5-10 ms at 100k."""

    def reads_figures() -> bool:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/").status_code == 200
        return any('"figures"' in query["sql"] for query in captured.captured_queries)

    reads_figures()
    assert not reads_figures()
    with commits():
        Outlet.objects.create(name="Another Desk", slug="another-desk")
    assert reads_figures()  # made again at the new version
    assert not reads_figures()


def test_figures_kept_in_another_format_are_made_again(db):
    """After a deploy that changes what the figures hold, at the same content version."""
    overview.current()
    ArchiveOverview.objects.update(figures={"format": overview.FORMAT - 1, "counts": {}})
    assert overview.current() == fresh()


@pytest.mark.usefixtures("seed_archive")
def test_a_load_leaves_the_overview_current_for_every_reader(client, tmp_path):
    story = tmp_path / "story.txt"
    story.write_text(
        "Ferry service resumes at Quillmarsh\n\n"
        "The ferry between the island and Quillmarsh ran again on Monday, officials said.\n",
        encoding="utf-8",
    )
    call_command("load_articles", str(story), "--outlet", "Ferry Wire", verbosity=0)
    stored = ArchiveOverview.objects.get()
    assert stored.version == cache.content_version()
    assert stored.figures == fresh()
    assert "ferry-wire" in overview.outlets_by_size(stored.figures)
    with CaptureQueriesContext(connection) as captured:
        page = client.get("/").content.decode()
    assert not reads_mentions(captured)  # the figures were read, not counted
    assert "<dt>Articles</dt><dd>9</dd>" in page
