"""build_corpus: a deterministic corpus of JSON Lines that the loader reads."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from django.core.management import call_command

from articles.bench.corpus import OUTLETS, read_copies, split_sentences
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


def test_bodies_are_distinct_but_for_a_few_percent_of_copies(tmp_path):
    call_command("build_corpus", "--articles", "3000", "--out", str(tmp_path), verbosity=0)
    records = _records(tmp_path)
    by_url = {r["url"]: r for r in records}
    copies = read_copies(tmp_path)
    assert 0.02 * len(records) <= len(copies) <= 0.07 * len(records)
    assert {kind for _, _, kind in copies} == {"wire copy", "update"}
    # Apart from the copies, no two articles share a body, and none shares a paragraph
    # with more than a few others: the text is recombined, not drawn from a pool.
    originals = [r for r in records if r["url"] not in {url for url, _, _ in copies}]
    assert len({r["body"] for r in originals}) == len(originals)
    plain = [r for r in originals if not r["title"].startswith("Live updates: ")]
    paragraphs = Counter(p for r in plain for p in r["body"].split("\n\n"))
    assert paragraphs.most_common(1)[0][1] <= 3
    for url, original_url, kind in copies:
        copy, original = by_url[url], by_url[original_url]
        assert copy["date"] > original["date"]
        assert (copy["outlet"] == original["outlet"]) == (kind == "update")
        # A copy keeps most of its original's sentences: near, not exact.
        kept = set(split_sentences(copy["body"].replace("\n\n", " ")))
        first = split_sentences(original["body"].replace("\n\n", " "))
        assert sum(s in kept for s in first) >= 0.5 * len(first)


def test_sentences_come_from_every_source(tmp_path):
    from articles.bench.corpus import default_corpora, read_sources

    sources = read_sources(default_corpora())
    text = {s for passage in sources.passages for s in passage}
    # One sentence known to be in each kind of source (read in place, not copied here).
    assert any("Reuter" not in s and "dlrs" in s for s in text)  # Reuters-21578
    assert any("Sony" in s and "PlayStation" in s for s in text)  # BBC
    assert any("Leopard 2" in s for s in text)  # seeds
    assert sources.sentences > 100_000
    assert split_sentences("Mr. Smith met U.S. officials. They agreed.") == [
        "Mr. Smith met U.S. officials.",
        "They agreed.",
    ]


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
