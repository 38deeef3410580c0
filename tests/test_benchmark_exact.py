"""The benchmark's exact reference: BM25 over every match, exact counts and facets."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from articles.bench import exact
from articles.management.commands.benchmark import query_classes
from articles.search.backends import postgres

pytestmark = pytest.mark.django_db


@pytest.fixture
def corpus(tmp_path):
    # A directory of its own: on the tantivy backend the index lives in tmp_path too.
    directory = tmp_path / "corpus"
    call_command("build_corpus", "--articles", "50", "--out", str(directory), verbosity=0)
    call_command("load_articles", str(directory), "--bulk", verbosity=0)
    return directory


def _classes():
    return query_classes({"rare": ("minister",), "medium": ("government",), "medium2": ("oil",)})


def test_within_its_limits_the_postgres_backend_is_exact(corpus):
    # Fewer matches than any of its limits: the backend ranks, counts and facets every one.
    for name, params in _classes().items():
        row = exact.agreement(params)
        assert row["count_exact"] and row["all_facets_exact"], name
        assert row["count"] == row["exact_count"]
        if "q" in params and row["exact_count"]:
            assert row["top10_agreement"] == 1.0 and row["top10_same_order"], name
    said = exact.agreement({"q": "said"})
    assert said["exact_count"] > 25
    assert said["facets_exact"] == dict.fromkeys(exact.FACETS, True)

    request = exact.search_request({"q": "government"})
    answer = exact.exact_answer(request)
    assert answer.count > 5
    # The backend's own ranking, given every match (fewer than its limit), agrees.
    every = list(
        postgres.matching(request.articles, request.text_query).values_list("pk", flat=True)
    )
    ranked = list(postgres.ranked(request.text_query, every).values_list("pk", flat=True)[:10])
    assert answer.top == ranked


@pytest.mark.postgres_only
def test_it_shows_where_the_backend_cuts(corpus, monkeypatch):
    # Rank only the newest 3 matches and count only the newest 5: the exact answer
    # must tell the difference.
    monkeypatch.setattr(postgres, "CANDIDATE_LIMIT", 3)
    monkeypatch.setattr(postgres, "SAMPLE_SIZE", 5)
    row = exact.agreement({"q": "said"})
    assert row["exact_count"] > 25
    assert row["count"] == 5 and not row["count_exact"]
    assert not row["backend_says_count_exact"]
    assert row["top10_agreement"] <= 0.3
    assert not row["facets_exact"]["month"] and not row["all_facets_exact"]
