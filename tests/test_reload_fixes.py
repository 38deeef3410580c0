"""A reload of the same inputs applies the loader's better titles, outlets and dates
to what was loaded before, and never undoes a curator's edit."""

import importlib
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Group, User

from articles.ingest.bulk import BulkLoader
from articles.ingest.loader import Loader, LoadOptions
from articles.models import Article, Outlet
from tests.conftest import CORPORA

pytestmark = pytest.mark.django_db

GUARDIAN = CORPORA / "html" / "guardian-1" / "source.html"
SALON = CORPORA / "html" / "salon-1" / "source.html"  # an outlet the seeds do not have
HEADLINE = "'What is the sea telling us?': Māori tribes fearful over whale strandings"
PUBLISHED = datetime(2019, 1, 3, 7, 0, 2, tzinfo=UTC)


def load(path, bulk=False):
    loader = BulkLoader(LoadOptions()) if bulk else Loader(LoadOptions())
    return loader.load([path])


def as_an_older_loader_left_it(article: Article, text_changed: bool) -> None:
    """The title with the author, an outlet named after the domain, only the day."""
    old_outlet = Outlet.objects.create(name="Theguardian", slug="theguardian")
    article.title = HEADLINE + " | Eleanor Ainge Roy"
    article.outlet = old_outlet
    article.published_at = datetime(2019, 1, 3, tzinfo=UTC)
    if text_changed:  # the title was part of the content hash
        article.content_hash = "0" * 64
    article.save()


@pytest.mark.parametrize("bulk", [False, True], ids=["normal", "bulk"])
@pytest.mark.parametrize("text_changed", [False, True], ids=["same-hash", "new-hash"])
def test_a_reload_fixes_the_title_outlet_and_date_loaded_before(bulk, text_changed):
    load(GUARDIAN)
    as_an_older_loader_left_it(Article.objects.get(origin=str(GUARDIAN)), text_changed)

    report = load(GUARDIAN, bulk=bulk)

    article = Article.objects.select_related("outlet").get(
        origin=str(GUARDIAN)
    )  # updated, not loaded twice
    assert report.updated == 1
    assert article.title == HEADLINE
    assert article.outlet.name == "The Guardian"
    assert article.published_at == PUBLISHED


def test_a_reload_with_nothing_better_changes_nothing():
    load(GUARDIAN)
    before = Article.objects.values().get(origin=str(GUARDIAN))

    report = load(GUARDIAN)

    assert report.unchanged == 1
    assert Article.objects.values().get(origin=str(GUARDIAN)) == before


def test_an_outlet_named_after_its_domain_takes_the_registrys_name():
    Outlet.objects.create(name="Salon.com", slug="salon-com", domain="salon.com")
    load(SALON)
    outlet = Article.objects.select_related("outlet").get(origin=str(SALON)).outlet
    assert (outlet.name, outlet.slug) == ("Salon", "salon-com")  # the same row, renamed
    assert outlet.is_canonical
    assert "Salon.com" in outlet.aliases


def test_an_outlet_a_curator_renamed_keeps_its_name():
    Outlet.objects.create(
        name="Salon Magazine", slug="salon-magazine", domain="salon.com", is_canonical=True
    )
    load(SALON)
    assert Article.objects.get(origin=str(SALON)).outlet.name == "Salon Magazine"


@pytest.fixture
def curator_client(client, db):
    user = User.objects.create_user("curator", password="a-long-test-password", is_staff=True)
    user.groups.add(Group.objects.get(name="curators"))
    client.force_login(user)
    return client


def edit_in_admin(client, article: Article, **changes) -> None:
    url = f"/admin/articles/article/{article.pk}/change/"
    page = client.get(url)
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data.update(changes)
    for formset in page.context["inline_admin_formsets"]:
        prefix, formset = formset.formset.prefix, formset.formset
        data.update(
            {
                f"{prefix}-{n}": formset.management_form[n].value()
                for n in ["TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS"]
            }
        )
        for index, inline in enumerate(formset.forms):
            data.update(
                {f"{prefix}-{index}-{name}": inline[name].value() for name in inline.fields}
            )
    data = {k: ("" if v is None else v) for k, v in data.items() if v is not False}
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors


@pytest.mark.parametrize("text_changed", [False, True], ids=["same-hash", "new-hash"])
def test_a_reload_leaves_what_a_curator_edited(curator_client, text_changed):
    load(GUARDIAN)
    article = Article.objects.get(origin=str(GUARDIAN))
    other = Outlet.objects.create(name="Curated Outlet", slug="curated-outlet")
    edit_in_admin(
        curator_client,
        article,
        title="Māori tribes fear for stranded whales",
        outlet=other.pk,
        published_at_0="2019-01-04",
        published_at_1="09:00:00",
    )
    article.refresh_from_db()
    assert article.curated_fields == ["outlet", "published_at", "title"]
    if text_changed:
        Article.objects.filter(pk=article.pk).update(content_hash="0" * 64)

    load(GUARDIAN)

    article.refresh_from_db()
    assert article.title == "Māori tribes fear for stranded whales"
    assert article.outlet == other
    assert article.published_at.date().isoformat() == "2019-01-04"


def test_an_outlet_a_curator_added_for_a_domain_takes_its_pages(tmp_path):
    curated = Outlet.objects.create(
        name="Kyiv Daily", slug="kyiv-daily", domain="kyivdaily.news", is_canonical=True
    )
    page = tmp_path / "story.html"
    page.write_text(
        "<html><head><title>Shelling resumes | KD</title>"
        "<meta property='og:site_name' content='KD'>"
        "<link rel='canonical' href='https://www.kyivdaily.news/news/1'></head><body>"
        "<article><h1>Shelling resumes</h1><p>Shelling resumed along the front line on "
        "Tuesday, officials said, as talks stalled for a third day.</p><p>Both delegations "
        "said they would return to the table next week.</p></article></body></html>",
        encoding="utf-8",
    )

    load(page)

    article = Article.objects.get(origin=str(page))
    assert article.outlet == curated
    assert article.title == "Shelling resumes"


def test_edits_made_before_the_migration_are_read_from_the_admins_history():
    migration = importlib.import_module(
        "articles.migrations.0010_outlet_registry_and_curated_fields"
    )
    history = (
        '[{"changed": {"fields": ["Title", "Date source", "Is public"]}},'
        ' {"changed": {"name": "section", "object": "Part 1", "fields": ["Title"]}}]'
    )
    assert migration._changed_fields(history) == {"title", "published_at"}
    assert migration._changed_fields("Changed title.") == set()  # an old free-text entry
