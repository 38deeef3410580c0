"""/healthz tells a load balancer whether the archive can answer."""

import pytest
from django.db import connection


@pytest.mark.django_db
def test_it_reports_a_healthy_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db(transaction=True)
def test_it_answers_503_when_the_database_is_unreachable(client, tmp_path):
    real_host = connection.settings_dict["HOST"]
    connection.close()
    # A socket directory with no server in it: connecting fails for real.
    connection.settings_dict["HOST"] = str(tmp_path)
    try:
        response = client.get("/healthz")
    finally:
        connection.close()
        connection.settings_dict["HOST"] = real_host
    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"
    assert client.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_it_answers_head_as_uptime_monitors_probe(client):
    response = client.head("/healthz")
    assert response.status_code == 200
    assert response.content == b""


@pytest.mark.django_db
def test_every_public_page_answers_head(client):
    from articles.models import Article

    article = Article.objects.order_by("pk").first()
    for path in (
        "/",
        "/search/?q=Kyiv",
        article.get_absolute_url(),
        "/entities/vladimir-putin/",
        "/outlets/cnn/",
        "/topics/energy/",
        "/search/feed.atom",
        "/search/export.csv?q=Kyiv",
        "/api/",
        "/api/search/?q=Kyiv",
    ):
        response = client.head(path)
        assert response.status_code == 200, path
