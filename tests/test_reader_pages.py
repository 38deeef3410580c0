"""What a first-time reader met on the seed archive: facets that keep what was chosen,
zero-result pages that offer nothing empty, wording that says what is counted, honest
provenance, an icon."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.templatetags.static import static

from articles.models import Article, Outlet

pytestmark = pytest.mark.django_db


def _facet(page: str, title: str) -> str:
    found = re.search(rf"<h3>{title}</h3>\s*<ul>(.*?)</ul>", page, re.S)
    return found.group(1) if found else ""


def test_a_chosen_outlet_stays_in_the_facet_when_the_other_filters_leave_it_none(client):
    # Outlets are alternatives: Al Jazeera has a match for Estonia, CNN none.
    page = client.get("/search/?q=Estonia&outlet=al-jazeera&outlet=cnn").content.decode()
    outlets = _facet(page, "Outlet")
    cnn = re.search(
        r'<a href="([^"]*)" class="facet-link is-selected"[^>]*><span>CNN</span>', outlets
    )
    assert cnn is not None, outlets
    assert 'CNN</span> <span class="count">0</span>' in outlets
    assert "outlet=cnn" not in cnn.group(1)  # choosing it again turns it off


def test_a_chosen_outlet_stays_in_a_lists_outlet_menu(client):
    tagged = Article.objects.filter(
        topic_tags__topic__slug="diplomacy-and-negotiations", topic_tags__excluded=False
    )
    absent = Outlet.objects.exclude(articles__in=tagged).order_by("slug").first()
    page = client.get(f"/topics/diplomacy-and-negotiations/?outlet={absent.slug}").content.decode()
    assert f'<option value="{absent.slug}" selected>{absent.name} (0)</option>' in page


def test_a_search_with_no_results_offers_no_export_feed_or_empty_refine_box(client):
    page = client.get("/search/?q=zzzzqqq").content.decode()
    assert "0 results" in page and "Nothing matches this search" in page
    assert "Export all" not in page and "export.csv" not in page
    assert "Follow this search" not in page and "feed.atom?q=zzzzqqq" not in page
    assert 'id="facets"' not in page
    with_results = client.get("/search/?q=Estonia").content.decode()
    assert "Export all 3 results" in with_results and 'id="facets"' in with_results


def test_the_wording_says_what_is_counted(client):
    home = client.get("/").content.decode()
    # Eight articles: every one of them is counted, not "the newest 2000".
    assert "Named in the most articles." in home and "newest 2000" not in home
    entity = client.get("/entities/vladimir-putin/").content.decode()
    assert "Articles naming Vladimir Putin over time" in entity
    assert "Mentions over time" not in entity
    assert "Named in the most of the articles naming Vladimir Putin." in entity


def test_provenance_names_the_file_not_the_machines_directories(client):
    article = Article.objects.select_related("source").order_by("pk").first()
    assert "/" in article.source.origin and not article.source_url  # as the seeds are
    page = client.get(article.get_absolute_url()).content.decode()
    name = article.source.origin.rsplit("/", 1)[-1]
    assert f"<dt>Source file</dt><dd><code>{name}</code></dd>" in page
    assert article.source.origin not in page
    assert "<dt>Original</dt><dd>Address not known</dd>" in page
    assert "each article links to its original" not in page


def test_every_page_names_its_icon_and_the_icon_is_served(client):
    page = client.get("/").content.decode()
    icon = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page)
    assert icon is not None
    assert icon.group(1) == static("favicon.svg") and finders.find("favicon.svg")
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == icon.group(1)
