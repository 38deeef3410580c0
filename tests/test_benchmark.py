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
    # The tantivy peer answered the same query classes from the same corpus.
    peer = figures.pop("peer")
    assert peer.pop("index")["documents"] == 30
    assert set(peer) and set(peer) <= set(figures["api"])
    for row in peer.values():
        assert row["runs"] == 2 and row["p50_ms"] > 0
    assert peer["common (said)"]["count"] > 15
