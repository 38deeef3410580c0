"""An empty parameter means "no filter", as a form sends it for "All outlets" or a date
left blank: every page and the API answer as if it were not there."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "blank", "given"),
    [
        ("/entities/vladimir-putin/", "outlet=&to=", "from=2023-01-01"),
        ("/topics/diplomacy-and-negotiations/", "outlet=&from=", "to=2022-12-31"),
        ("/outlets/cnn/", "from=&to=&page=", ""),
        ("/search/", "outlet=&topic=&entity=&kind=&from=&to=&sort=&page=", "q=Putin"),
    ],
)
def test_a_page_reads_an_empty_parameter_as_no_filter(client, path, blank, given):
    with_blanks = client.get(f"{path}?{blank}&{given}")
    without = client.get(f"{path}?{given}")
    assert with_blanks.status_code == 200, with_blanks.content.decode()[:2000]
    assert without.status_code == 200
    assert _article_links(with_blanks) == _article_links(without) != []


def test_the_api_reads_an_empty_parameter_as_no_filter(client):
    with_blanks = client.get("/api/search/?outlet=&topic=&entity=&from=&to=&q=Putin")
    without = client.get("/api/search/?q=Putin")
    assert with_blanks.status_code == 200, with_blanks.json()
    assert with_blanks.json()["count"] == without.json()["count"] > 0
    assert client.get("/api/search/?outlet=").json()["count"] == 8


def test_an_empty_value_beside_a_real_one_keeps_the_real_one(client):
    data = client.get("/api/search/?outlet=&outlet=cnn").json()
    assert {hit["outlet"]["slug"] for hit in data["results"]} == {"cnn"}


def test_an_unknown_outlet_is_still_refused(client):
    response = client.get("/entities/vladimir-putin/?outlet=nope")
    assert response.status_code == 400
    assert "There is no outlet “nope”" in response.content.decode()


def _article_links(response) -> list[str]:
    return re.findall(r'href="(/articles/\d+/[^"#]*)"', response.content.decode())


def test_a_list_page_refusing_its_filters_still_shows_them_to_put_right(client):
    response = client.get("/topics/energy/?from=2024-01-01&to=2023-01-01")
    page = response.content.decode()
    assert response.status_code == 400
    assert "“to” is before “from”" in page
    assert "<legend>Filter these articles</legend>" in page
    assert 'name="from" value="2024-01-01"' in page and 'name="to" value="2023-01-01"' in page
