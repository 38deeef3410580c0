"""manage.py benchmark on a tiny corpus: every query class answers through /api/search/."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_it_measures_every_query_class(tmp_path):
    out = tmp_path / "figures.json"
    call_command(
        "benchmark",
        "--articles", "30",
        "--corpus", str(tmp_path / "corpus"),
        "--runs", "2",
        "--enrich-sample", "0",
        "--no-http",
        "--json", str(out),
        verbosity=0,
    )  # fmt: skip
    figures = json.loads(out.read_text())
    assert figures["load"]["bulk_articles"] == 30
    assert figures["api"]["common (said)"]["count"] > 15
    assert figures["api"]["alias (Kiev)"]["count"] >= 1
    for row in figures["api"].values():
        assert row["runs"] == 2 and row["p50_ms"] > 0
    assert figures["sizes"]["database"] > 0
    # How fast the machine ran, at the start and at the end.
    for state in (figures["machine"], figures["machine_after"]):
        assert 0 < state["speed_check_seconds"] < 60
    # Every class set against the exact answer; on 30 articles the postgres backend is exact.
    assert set(figures["exact"]) == set(figures["api"])
    for name, row in figures["exact"].items():
        assert row["count"] == figures["api"][name]["count"]
        assert row["count_exact"] and row["all_facets_exact"], name
    assert figures["exact"]["common (said)"]["top10_agreement"] == 1.0
    assert figures["exact"]["entity filter"]["top10_agreement"] is None  # no text to rank
    # The backend's index was rebuilt and measured.
    assert figures["backend"] == "postgres"
    assert len(figures["index"]["indexes"]) == 2
    assert figures["index"]["bytes"] > 0 and figures["index"]["build_seconds"] > 0
    # The tantivy peer answered the same query classes from the same corpus.
    peer = figures.pop("peer")
    assert peer.pop("index")["documents"] == 30
    assert set(peer) and set(peer) <= set(figures["api"])
    for row in peer.values():
        assert row["runs"] == 2 and row["p50_ms"] > 0
    assert peer["common (said)"]["count"] > 15


def test_it_measures_the_tantivy_backend(tmp_path, settings):
    settings.SEARCH_INDEX_DIR = tmp_path / "index"
    out = tmp_path / "figures.json"
    call_command(
        "benchmark",
        "--backend", "tantivy",
        "--articles", "30",
        "--corpus", str(tmp_path / "corpus"),
        "--runs", "2",
        "--enrich-sample", "0",
        "--no-http",
        "--no-peer",
        "--json", str(out),
        verbosity=0,
    )  # fmt: skip
    figures = json.loads(out.read_text())
    assert figures["backend"] == "tantivy"
    assert figures["index"]["bytes"] > 0 and figures["index"]["build_seconds"] > 0
    # Every class is answered and set against the exact answer computed in SQL.
    assert set(figures["exact"]) == set(figures["api"])
    assert figures["api"]["common (said)"]["count"] > 15
    for name, row in figures["exact"].items():
        assert row["count"] == figures["api"][name]["count"], name
