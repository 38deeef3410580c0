"""Ranking quality on a judged collection (issue 5): Cranfield's 1,400 documents loaded
the way a user loads them (`load_articles --bulk`, NER and all) into the test
database beside the seeds, its 225 questions asked through the search filters and
`run_search` (the code behind /search/ and /api/search/), and nDCG@10 measured
against the collection's relevance judgements.

Each question is asked twice (articles/bench/ir.py): as typed, the way a reader
would type it, and as its content words OR-ed by hand; the tantivy peer gets the
same text. Results are limited to
the collection's own outlet, so the seed articles sharing the database do not
take part. Everything is loaded in one transaction that is rolled back afterwards.
"""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client, override_settings

from articles.bench import ir, peer
from tests.conftest import CORPORA

# nDCG@10 measured on the whole of Cranfield (225 queries) with the archive's ranking
# as it stands: BM25 over the stored vectors (articles/ranking.py), 0.410
# (`manage.py benchmark --ir`, docs/benchmarks.md; ts_rank without idf got 0.327,
# the tantivy peer gets 0.377, a random ranking 0.007). The floor is 90% of it:
# room for small changes in matching or ranking, while any ranking that ignores the
# text (date order scores ~0.01) or loses most of its quality fails. Raise it with
# the measurement when the ranking improves.
MEASURED_NDCG = 0.410
FLOOR = 0.9 * MEASURED_NDCG
# The target is at least the BM25 peer's nDCG@10; allowed below it by this.
PEER_MARGIN = 0.02
# The questions as typed (issue 14): nDCG@10 0.379 on the whole of Cranfield
# (`benchmark --ir`, docs/benchmarks.md; the tantivy peer given the same text 0.350),
# held at 90% of it, and at most this share of them without any result.
MEASURED_TYPED_NDCG = 0.379
TYPED_FLOOR = 0.9 * MEASURED_TYPED_NDCG
MOST_WITHOUT_RESULT = 0.02
DEPTH = 10  # nDCG@10 needs the first ten results only

# pytest-django creates the test database only for sessions holding a test marked
# for it: without this, running this file alone would load into the real database.
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def cranfield(django_db_setup, django_db_blocker, tmp_path_factory):
    """nDCG@10 of the archive (by relevance, and by date as the broken ranking a floor
    must catch), of a random ranking, and of the tantivy peer when it is installed."""
    collection = ir.read_collection(CORPORA / "ir" / "cran", "cran")
    out = tmp_path_factory.mktemp("ir")
    figures = {"random": ir.random_ndcg(collection)}
    with django_db_blocker.unblock(), transaction.atomic():
        load = ir.load(collection, out / "cran")
        assert load["articles"] == load["documents"] == 1400
        rankings = ir.archive_rankings(collection, depth=DEPTH)
        assert len(rankings) == len(collection.queries) == 225
        queries = [ir.run_text(text, run) for _, text in collection.queries[:3] for run in ir.RUNS]
        figures["api_agrees"] = all(
            _api_page(q) == ir.archive_ranking("cran", q, 20) for q in queries
        )
        figures["archive"] = ir.evaluate(rankings, collection)["ndcg@10"]
        typed = ir.evaluate(ir.archive_rankings(collection, depth=DEPTH, run="typed"), collection)
        figures["typed"], figures["typed_no_result"] = typed["ndcg@10"], typed["no_result"]
        # Date order only has to be shown far below the floor: every fifth query will do.
        every_fifth = [number for number, _ in collection.queries][::5]
        rankings = ir.archive_rankings(collection, every_fifth, depth=DEPTH, sort="newest")
        figures["newest_first"] = ir.evaluate(rankings, collection)["ndcg@10"]
        transaction.set_rollback(True)
    if peer.available():
        rankings = ir.peer_rankings(collection, out / "cran", out / "tantivy", depth=DEPTH)
        figures["tantivy"] = ir.evaluate(rankings, collection)["ndcg@10"]
        rankings = ir.peer_rankings(
            collection, out / "cran", out / "tantivy", depth=DEPTH, run="typed"
        )
        figures["tantivy_typed"] = ir.evaluate(rankings, collection)["ndcg@10"]
    return figures


def _api_page(q: str) -> list[int]:
    """Document numbers on the first page of /api/search/ for `q` in Cranfield's outlet."""
    from articles.models import Outlet

    slug = Outlet.objects.get(name="IR cran").slug
    with override_settings(RESULT_CACHE_SECONDS=0):
        response = Client().get("/api/search/", {"q": q, "outlet": slug})
    assert response.status_code == 200, response.content
    return [int(hit["source_url"].rsplit("/", 1)[1]) for hit in response.json()["results"]]


def test_the_figures_are_those_of_the_search_api(cranfield):
    # ir.archive_ranking calls run_search as the filters do for /api/search/, with
    # longer pages: the API's first page must be its first 20.
    assert cranfield["api_agrees"]


def test_the_archive_ranks_cranfield_at_least_as_well_as_measured(cranfield):
    assert cranfield["archive"] >= FLOOR, cranfield


def test_the_floor_would_catch_a_ranking_that_ignores_the_text(cranfield):
    # The same matches in date order, and a random draw, score far below the floor:
    # the floor test above fails if relevance ranking stops working.
    assert cranfield["newest_first"] < FLOOR / 2, cranfield
    assert cranfield["random"] < FLOOR / 10, cranfield
    assert cranfield["archive"] >= 5 * max(cranfield["newest_first"], cranfield["random"])


def test_the_archive_ranks_cranfield_as_well_as_the_bm25_peer(cranfield):
    if "tantivy" not in cranfield:
        pytest.skip(peer.MISSING)
    assert cranfield["archive"] >= cranfield["tantivy"] - PEER_MARGIN, cranfield


def test_questions_typed_as_sentences_rank_at_least_as_well_as_measured(cranfield):
    assert cranfield["typed"] >= TYPED_FLOOR, cranfield
    assert cranfield["typed"] >= 5 * max(cranfield["newest_first"], cranfield["random"])


def test_almost_every_question_typed_as_a_sentence_finds_something(cranfield):
    assert cranfield["typed_no_result"] <= MOST_WITHOUT_RESULT, cranfield


def test_questions_typed_as_sentences_rank_as_well_as_the_bm25_peer(cranfield):
    if "tantivy_typed" not in cranfield:
        pytest.skip(peer.MISSING)
    assert cranfield["typed"] >= cranfield["tantivy_typed"] - PEER_MARGIN, cranfield
