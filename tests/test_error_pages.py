"""Error pages are the archive's own: site header, a search box and a way home, never
Django's bare defaults."""

from __future__ import annotations

import re

import pytest
from django.test import RequestFactory
from django.views.defaults import server_error

pytestmark = pytest.mark.django_db


def _is_the_archives_page(page: str) -> None:
    assert 'class="site-header"' in page
    assert 'role="search"' in page and 'action="/search/"' in page
    assert 'href="/"' in page
    assert 'name="q" maxlength="4000"' in page  # the header's search box


@pytest.mark.parametrize("path", ["/articles/999/x/", "/entities/nope/", "/no/such/page"])
def test_a_missing_page_is_the_archives_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    page = response.content.decode()
    assert "<h1>Page not found</h1>" in page
    _is_the_archives_page(page)


def test_a_server_error_is_the_archives_500():
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    page = response.content.decode()
    assert "<h1>Something went wrong</h1>" in page
    _is_the_archives_page(page)


def test_every_search_box_stops_at_the_length_a_search_may_have(client):
    from articles.filters import SearchFilter

    longest = SearchFilter.base_filters["q"].extra["max_length"]
    for path in ("/", "/search/?q=Kyiv", "/entities/vladimir-putin/"):
        page = client.get(path).content.decode()
        boxes = re.findall(r'<input id="(?:header-)?q" type="search" name="q"[^>]*>', page)
        assert boxes, path
        assert all(f'maxlength="{longest}"' in box for box in boxes), boxes
