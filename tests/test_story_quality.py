"""The Measure of story detection: precision and recall of "same story" on the
labelled pairs in tests/data/story_pairs.json (docs/quality.md, "Stories")."""

from __future__ import annotations

from pathlib import Path

import pytest

from articles.bench.story_pairs import (
    Corpora,
    derive,
    detector_says_same,
    fingerprint,
    measure,
    read_pairs,
)
from tests.conftest import CORPORA

PAIRS = Path(__file__).parent / "data" / "story_pairs.json"


@pytest.fixture(scope="module")
def labelled():
    return read_pairs(PAIRS)


def test_the_referenced_corpus_texts_are_the_ones_labelled(labelled):
    _, fingerprints = labelled
    corpora = Corpora(CORPORA)
    changed = [
        ref for ref, digest in fingerprints.items() if fingerprint(corpora.text(ref).body) != digest
    ]
    assert not changed


def test_the_set_has_every_kind_of_copy_and_hard_negative(labelled):
    pairs, _ = labelled
    kinds = {pair.kind for pair in pairs}
    for how in ("headline", "trim", "reorder", "credits", "reword", "aggregator"):
        assert f"derived {how}" in kinds
    assert {"reuters wire repeat", "bbc headline rewritten"} <= kinds
    assert {"same template, different facts", "bbc same subject, other article"} <= kinds
    assert sum(p.same for p in pairs) >= 500 and sum(not p.same for p in pairs) >= 400


def test_derived_copies_are_made_the_same_way_from_the_same_seed():
    original = Corpora(CORPORA).text("bbc:politics/081.txt")
    copy = derive(original, "aggregator", 5)
    assert copy == derive(original, "aggregator", 5)
    assert copy.title != original.title and copy.body != original.body
    assert "This post appeared first on" in copy.body


def test_same_story_precision_and_recall_meet_the_targets(labelled):
    pairs, _ = labelled
    result, wrong = measure(pairs, Corpora(CORPORA), detector_says_same)
    assert result.precision >= 0.98, wrong[:10]
    assert result.recall >= 0.95, wrong[:10]
