"""build_corpus: a deterministic corpus of JSON Lines that the loader reads."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from articles.bench.corpus import OUTLETS
from articles.ingest.gazetteer import entries, spellings


def _records(directory):
    return [json.loads(line) for path in sorted(directory.glob("*.jsonl")) for line in path.open()]


def test_it_is_deterministic(tmp_path):
    call_command("build_corpus", "--articles", "300", "--out", str(tmp_path / "a"), verbosity=0)
    call_command("build_corpus", "--articles", "300", "--out", str(tmp_path / "b"), verbosity=0)
    first, second = _records(tmp_path / "a"), _records(tmp_path / "b")
    assert first == second
    assert len(first) == 300
    call_command(
        "build_corpus",
        "--articles",
        "300",
        "--seed",
        "2",
        "--out",
        str(tmp_path / "c"),
        verbosity=0,
    )
    assert _records(tmp_path / "c") != first


def test_it_spreads_outlets_dates_and_live_blogs(tmp_path):
    call_command("build_corpus", "--articles", "1000", "--out", str(tmp_path), verbosity=0)
    records = _records(tmp_path)
    assert {r["outlet"] for r in records} == {name for name, _ in OUTLETS}
    years = {r["date"][:4] for r in records}
    assert min(years) == "2014" and max(years) == "2026"
    live = [r for r in records if r["title"].startswith("Live updates: ")]
    assert 60 <= len(live) <= 140
    assert len({r["url"] for r in records}) == 1000
    # Plain bodies are drawn from a pool of recombined texts (NER cost), live blogs combine entries.
    assert len({r["body"] for r in records}) > 600


def test_it_names_gazetteer_entities_in_several_spellings(tmp_path):
    call_command("build_corpus", "--articles", "1000", "--out", str(tmp_path), verbosity=0)
    text = " ".join(r["body"] for r in _records(tmp_path))
    assert "Kyiv" in text and "Kiev" in text
    people = [e for e in entries() if e.kind == "person"]
    assert sum(any(s in text for s in spellings(e)) for e in people) > 10


@pytest.mark.django_db
def test_the_loader_reads_it(tmp_path):
    from articles.models import Article

    call_command("build_corpus", "--articles", "12", "--out", str(tmp_path), verbosity=0)
    before = Article.objects.count()
    call_command("load_articles", str(tmp_path), "--bulk", verbosity=0)
    assert Article.objects.count() == before + 12
    assert (
        Article.objects.filter(source_url__contains="/bench/", outlet__isnull=False).count() == 12
    )
