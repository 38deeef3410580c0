"""Stories at load: copies of one text join one story, on the normal and the bulk
path, and curators' splits and merges hold for later loads. Real text: BBC articles
from ../shared/corpora and copies made of them the way aggregators make them."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import numpy
import pytest
from datasketch import MinHash
from django.core.management import call_command

from articles import stories
from articles.bench.story_pairs import Corpora, derive
from articles.ingest import bulk
from articles.ingest.bulk import BulkLoader
from articles.ingest.loader import Loader, LoadOptions
from articles.models import Article, Story, StoryBand
from tests.conftest import CORPORA, SEEDS

pytestmark = pytest.mark.django_db

ORIGINAL = "bbc:politics/081.txt"  # "Tory backing for ID cards"
OTHER = "bbc:politics/082.txt"


def _text(reference):
    return Corpora(CORPORA).text(reference)


def _write(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _record(text, outlet: str, published: str) -> dict:
    return {"title": text.title, "body": text.body, "outlet": outlet, "published": published}


def _story_of(title_start: str) -> int:
    return Article.objects.get(title__startswith=title_start).story_id


LOADERS = ["normal", "bulk", "large import"]


def _loader(kind: str, tmp_path: Path, monkeypatch) -> Loader:
    if kind == "normal":
        return Loader(LoadOptions())
    if kind == "large import":
        # The band table's index is dropped for the load: copies are found among the
        # band keys held in memory, each record in a batch of its own.
        monkeypatch.setattr(bulk, "DEFER_FROM_BYTES", 0)
        monkeypatch.setattr(bulk, "BATCH_SIZE", 1)
        monkeypatch.setattr(bulk, "CHUNK_SIZE", 1)
    return BulkLoader(LoadOptions(), ner_cache=tmp_path / "ner.sqlite")


def _original_and_copies(tmp_path: Path) -> Path:
    original = _text(ORIGINAL)
    return _write(
        tmp_path / "first" / "wire.jsonl",
        [
            _record(original, "BBC News", "2005-02-01"),
            _record(derive(original, "aggregator", 4), "NewsNow Aggregated", "2005-02-02"),
            _record(_text(OTHER), "BBC News", "2005-02-01"),
        ],
    )


@pytest.mark.parametrize("loader", LOADERS)
def test_an_aggregators_copy_joins_the_story_of_the_original(tmp_path, monkeypatch, loader):
    _loader(loader, tmp_path, monkeypatch).load([_original_and_copies(tmp_path)])
    original = Article.objects.get(title="Tory backing for ID cards")
    copy = Article.objects.get(outlet__name="NewsNow Aggregated")
    other = Article.objects.get(title=_text(OTHER).title)
    assert copy.title != original.title  # the aggregator rewrote the headline
    assert original.story_id is not None
    assert copy.story_id == original.story_id
    assert other.story_id not in (None, original.story_id)
    for article in (original, copy, other):
        assert StoryBand.objects.filter(article=article).count() == stories.BANDS


@pytest.mark.parametrize("loader", LOADERS)
def test_a_copy_loaded_later_finds_its_original_in_the_archive(tmp_path, monkeypatch, loader):
    original = _text(ORIGINAL)
    Loader(LoadOptions()).load(
        [_write(tmp_path / "a.jsonl", [_record(original, "BBC News", "2005-02-01")])]
    )
    later = derive(original, "reword", 9)
    _loader(loader, tmp_path, monkeypatch).load(
        [_write(tmp_path / "b.jsonl", [_record(later, "Global Desk", "2005-02-03")])]
    )
    copy = Article.objects.get(outlet__name="Global Desk")
    assert copy.story_id == Article.objects.get(outlet__name="BBC News").story_id


def test_band_keys_held_in_memory_find_every_article_holding_them():
    """`BandIndex` merges its sorted runs as batches come: after any number of them, a
    lookup finds exactly the (band, article) pairs added."""
    rng = random.Random(7)
    index, added = stories.BandIndex(), []
    for batch in range(20):
        first = batch * 100
        signed = {
            pk: tuple(rng.sample(range(500), 5)) for pk in range(first, first + rng.randint(1, 100))
        }
        index.add(*stories.band_rows(signed))
        added += [(band, pk) for pk, bands in signed.items() for band in bands]
        keys = rng.sample(range(600), 40)  # some held by no article
        # Asked twice, as when two articles of a batch share a key: found once.
        bands, holders = index.holders(numpy.array(keys * 2, dtype=numpy.int64))
        assert sorted(zip(bands.tolist(), holders.tolist(), strict=True)) == sorted(
            pair for pair in added if pair[0] in keys
        )


def test_a_template_notice_with_other_figures_is_another_story(tmp_path):
    notice = "Qtly div {n} cts vs {n} cts prior. Pay April {d}. Record March 30. " * 3
    body = notice + "The company said the board approved the payout at its regular meeting today."
    records = [
        {"title": "ACME CORP SETS PAYOUT", "body": body.format(n=10, d=15), "outlet": "Reuters"},
        {"title": "ACME CORP SETS PAYOUT", "body": body.format(n=12, d=21), "outlet": "AP"},
    ]
    Loader(LoadOptions()).load([_write(tmp_path / "n.jsonl", records)])
    first, second = Article.objects.filter(title="ACME CORP SETS PAYOUT")
    assert first.story_id != second.story_id


def test_a_curators_split_holds_for_the_next_load(tmp_path):
    Loader(LoadOptions()).load([_original_and_copies(tmp_path)])
    copy = Article.objects.get(outlet__name="NewsNow Aggregated")
    original_story = _story_of("Tory backing")
    stories.split_off([copy.pk])
    copy.refresh_from_db()
    assert copy.story_id != original_story
    # Another copy of the aggregator's text: it joins the split-off story, and the
    # original stays where the curator left it.
    again = {
        **_record(derive(_text(ORIGINAL), "aggregator", 4), "Daily Mirror Online", "2005-02-04")
    }
    Loader(LoadOptions()).load([_write(tmp_path / "again.jsonl", [again])])
    assert Article.objects.get(outlet__name="Daily Mirror Online").story_id == copy.story_id
    assert _story_of("Tory backing") == original_story


def test_a_curators_merge_holds_for_the_next_load(tmp_path):
    Loader(LoadOptions()).load([_original_and_copies(tmp_path)])
    kept = stories.merge([_story_of("Tory backing"), _story_of(_text(OTHER).title)])
    assert Story.objects.filter(pk=kept).exists()
    assert Article.objects.filter(story=kept).count() == 3
    repeat = _record(derive(_text(OTHER), "credits", 2), "Global Desk", "2005-02-05")
    Loader(LoadOptions()).load([_write(tmp_path / "repeat.jsonl", [repeat])])
    assert Article.objects.get(outlet__name="Global Desk").story_id == kept


def test_place_stories_gives_older_articles_their_stories(tmp_path):
    Loader(LoadOptions()).load([_original_and_copies(tmp_path)])
    Article.objects.update(story=None)
    StoryBand.objects.all().delete()
    call_command("place_stories", verbosity=0)
    assert not Article.objects.filter(story__isnull=True).exists()
    assert (
        _story_of("Tory backing") == Article.objects.get(outlet__name="NewsNow Aggregated").story_id
    )


def test_every_seed_article_has_a_story():
    seeds = Article.objects.filter(source__origin__startswith=str(SEEDS))
    assert seeds.count() == 8
    assert not seeds.filter(story__isnull=True).exists()


def test_signatures_stay_comparable_with_those_already_stored():
    """A signature stored by an earlier load must still find today's copies: the band
    keys of a body change only with a migration that makes the stored ones again
    (0018 made these)."""
    text = _text(ORIGINAL)
    bands = stories.fingerprint(text.body, text.title).bands
    assert len(bands) == stories.BANDS
    assert bands[:2] == (1998127479236309219, -3024515557778100056)
    assert hashlib.sha256(repr(bands).encode()).hexdigest()[:16] == "6d572fbade7178dd"


def test_a_batch_fingerprints_each_body_as_it_would_alone():
    """The loaders fingerprint a chunk of articles at once: no shingle runs over two
    bodies, and a body too short to shingle leaves the others' keys as they are."""
    texts = [(_text(ref).body, _text(ref).title) for ref in (ORIGINAL, OTHER)]
    texts[1:1] = [("", ""), ("Two words", "A headline of six words here"), ("x", "")]
    together = stories.fingerprints(texts)
    for (body, title), batched in zip(texts, together, strict=True):
        alone = stories.fingerprint(body, title)
        assert batched.shingles.tolist() == alone.shingles.tolist()
        assert (batched.figures, batched.bands) == (alone.figures, alone.bands)
    assert stories.signatures(texts) == [found.bands for found in together]
    assert [len(found.bands) for found in together] == [
        stories.BANDS,
        0,
        stories.BANDS,
        0,
        stories.BANDS,
    ]


def test_the_signature_is_datasketchs_minhash():
    """`minhash_values` computes in one array expression what datasketch's MinHash, with
    the archive's seed, makes of a body's hashed shingles."""
    for reference in (ORIGINAL, OTHER):
        text = _text(reference)
        shingles = stories.fingerprint(text.body, text.title).shingles
        minhash = MinHash(
            num_perm=stories.BANDS * stories.ROWS, seed=1, hashfunc=int, scheme="affine32"
        )
        minhash.update_batch(shingles.tolist())
        (values,) = stories.minhash_values(shingles, numpy.array([0]))
        assert values.tolist() == minhash.hashvalues.tolist()


def test_signatures_made_again_find_the_copies_of_articles_loaded_before(tmp_path):
    original = _text(ORIGINAL)
    Loader(LoadOptions()).load(
        [_write(tmp_path / "a.jsonl", [_record(original, "BBC News", "2005-02-01")])]
    )
    # As a version that made signatures another way left it: no band in common.
    StoryBand.objects.all().delete()
    StoryBand.objects.bulk_create(
        StoryBand(band=band, article=article)
        for article in Article.objects.all()
        for band in range(1, stories.BANDS + 1)
    )

    assert stories.sign_again() == Article.objects.count()
    assert not StoryBand.objects.filter(band__range=(1, stories.BANDS)).exists()

    later = derive(original, "reword", 9)
    Loader(LoadOptions()).load(
        [_write(tmp_path / "b.jsonl", [_record(later, "Global Desk", "2005-02-03")])]
    )
    copy = Article.objects.get(outlet__name="Global Desk")
    assert copy.story_id == Article.objects.get(outlet__name="BBC News").story_id


def test_deleting_an_article_deletes_its_band_keys(tmp_path):
    Loader(LoadOptions()).load([_original_and_copies(tmp_path)])
    copy = Article.objects.get(outlet__name="NewsNow Aggregated")
    assert StoryBand.objects.filter(article=copy).exists()
    copy.delete()
    assert not StoryBand.objects.filter(article_id=copy.pk).exists()
    original = Article.objects.get(title="Tory backing for ID cards")
    assert StoryBand.objects.filter(article=original).count() == stories.BANDS
