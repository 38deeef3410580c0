"""`load_articles` on real inputs: the seeds, the shared corpora and bad files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from articles.entities import merge_entities
from articles.ingest.loader import Loader, LoadOptions
from articles.models import (
    Article,
    ArticleTopic,
    Entity,
    Mention,
    Section,
    SourceDocument,
    Topic,
)
from tests.conftest import BASE_DIR, CORPORA, SEEDS

pytestmark = pytest.mark.django_db

LEFTOVERS = (
    "Credit...",
    "Photograph:",
    "[File:",
    "img]",
    "Read Entire Article",
    "Featured image of post",
    "1 week ago 19",
    "ADVERTISEMENT",
)


def _load(*paths: Path, **options):
    return Loader(LoadOptions(**options)).load(list(paths))


def _seed_articles():
    return Article.objects.filter(source__origin__startswith=str(SEEDS))


def _table_sizes() -> dict[str, int]:
    models = (Article, Section, Entity, Mention, ArticleTopic, SourceDocument)
    return {model.__name__: model.objects.count() for model in models}


def test_the_seeds_load_as_eight_articles_from_six_outlets():
    articles = _seed_articles().select_related("outlet")
    assert articles.count() == 8
    outlets = sorted(a.outlet.name for a in articles)
    assert outlets == [
        "Al Jazeera",
        "Associated Press",
        "CNN",
        "CNN",
        "The Guardian",
        "The New York Times",
        "The Washington Post",
        "The Washington Post",
    ]
    assert all(a.published_at is not None for a in articles)


def test_the_al_jazeera_live_blog_has_34_timestamped_entries():
    blog = _seed_articles().get(outlet__name="Al Jazeera")
    assert blog.kind == Article.Kind.LIVE
    sections = list(blog.sections.all())
    assert len(sections) == 34
    assert all(s.heading and s.posted_at for s in sections)
    assert (
        sections[0].heading
        == "US ambassador in Moscow delivers written response to Russian concerns"
    )
    assert sections[0].posted_at.isoformat() == "2022-01-26T18:04:00+00:00"
    assert len({s.anchor for s in sections}) == 34


def test_the_new_york_times_live_blog_has_a_section_per_entry():
    blog = _seed_articles().get(outlet__name="The New York Times")
    assert blog.kind == Article.Kind.LIVE
    assert blog.title == "Allies Fail to Reach Agreement on Providing Western Tanks to Ukraine"
    assert blog.kicker == "Russia-Ukraine War"
    headings = list(blog.sections.values_list("heading", flat=True))
    assert len(headings) > 1
    assert all(headings)


def test_no_credit_or_caption_line_is_left_in_any_body():
    for article in _seed_articles():
        for leftover in LEFTOVERS:
            assert leftover not in article.body, (article.title, leftover)
    captions = [c for s in Section.objects.filter(article__in=_seed_articles()) for c in s.captions]
    assert any("Pistorius" in caption for caption in captions)


def test_every_raw_input_is_kept_byte_for_byte():
    for path in sorted(SEEDS.glob("*.txt")):
        source = SourceDocument.objects.get(origin=str(path))
        assert bytes(source.raw) == path.read_bytes()
        assert source.status == SourceDocument.Status.LOADED


def test_spelling_variants_are_one_entity():
    kyiv = Entity.objects.get(name="Kyiv", kind="place")
    assert "Kiev" in kyiv.aliases
    zelensky = Entity.objects.get(name="Volodymyr Zelensky", kind="person")
    assert {"Zelensky", "Zelenskyy"} <= set(zelensky.aliases)
    assert not Entity.objects.exclude(pk=zelensky.pk).filter(name__icontains="zelensk").exists()
    weapons = set(Entity.objects.filter(kind="weapon").values_list("name", flat=True))
    assert {"Leopard 2", "M1 Abrams", "Challenger 2"} <= weapons


def test_seed_articles_are_tagged_with_topics():
    tanks = _seed_articles().get(outlet__name="The New York Times")
    assert tanks.topic_tags.filter(topic__slug="military-aid-and-weapons").exists()


def test_reloading_the_same_inputs_changes_nothing():
    before = _table_sizes()
    report = _load(SEEDS)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 8)
    assert report.failures == []
    assert _table_sizes() == before


def test_curators_edits_survive_a_reload(tmp_path):
    article = _seed_articles().get(outlet__name="The Guardian")
    article.is_public = False
    article.published_at = article.published_at.replace(hour=9)
    article.curated_fields = ["published_at"]  # as the admin records a curator's edit
    article.save()
    topic = Topic.objects.get(slug="military-aid-and-weapons")
    ArticleTopic.objects.update_or_create(
        article=article, topic=topic, defaults={"curated": True, "excluded": True}
    )

    _load(SEEDS)

    article.refresh_from_db()
    assert article.is_public is False
    assert article.published_at.hour == 9
    assert article.topic_tags.get(topic=topic).excluded is True


def test_a_merged_entity_absorbs_its_names_on_the_next_load(tmp_path):
    austin = Entity.objects.get(name="Lloyd Austin")
    keep = Entity.objects.create(
        name="Lloyd J. Austin III", kind="person", slug="lloyd-j-austin-iii"
    )
    merge_entities(keep, [austin])
    story = tmp_path / "austin.txt"
    story.write_text(
        "Austin visits Berlin\n\nBERLIN — Lloyd Austin met Boris Pistorius on Friday to "
        "discuss Leopard 2 tanks for Ukraine.\n"
    )

    _load(story, outlet="Reuters", published_at=None)

    assert not Entity.objects.filter(name="Lloyd Austin").exists()
    new_article = Article.objects.get(source__origin=str(story))
    assert new_article.mentions.filter(entity=keep).exists()


def test_an_article_without_a_date_goes_to_the_review_queue(tmp_path):
    story = tmp_path / "undated.txt"
    story.write_text(
        "Shelling hits Kharkiv\n\nKharkiv came under heavy shelling overnight, "
        "the regional governor said.\n"
    )
    report = _load(story, outlet="Reuters")
    assert report.failures == []
    article = Article.objects.get(source__origin=str(story))
    assert article.published_at is None
    assert article.date_source == Article.DateSource.UNKNOWN
    assert article.needs_review
    assert "date" in article.review_reasons.lower()


def test_published_option_dates_an_undated_story(tmp_path):
    story = tmp_path / "dated.txt"
    story.write_text("Drones strike Odesa\n\nDrones struck the port of Odesa overnight.\n")
    _load(story, outlet="Reuters", published_at=_utc("2023-07-19"))
    article = Article.objects.get(source__origin=str(story))
    assert article.published_at == _utc("2023-07-19")
    assert article.date_source == Article.DateSource.METADATA


def test_a_dry_run_saves_nothing(tmp_path):
    story = tmp_path / "dry.txt"
    story.write_text("Talks in Istanbul\n\nNegotiators met in Istanbul on Tuesday.\n")
    before = _table_sizes()
    report = _load(story, outlet="Reuters", dry_run=True)
    assert report.created == 1
    assert _table_sizes() == before


BAD_INPUTS = {
    "random.txt": (bytes(range(256)) * 8, "binary"),
    "empty.txt": (b"", "empty"),
    "no-body.csv": (b"headline,date\nTanks arrive,2023-01-20\n", "no body column"),
    "broken.json": (b'[{"title": "x", "body": ', "json"),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_a_bad_input_is_reported_kept_and_does_not_stop_the_batch(tmp_path, name):
    raw, problem = BAD_INPUTS[name]
    bad = tmp_path / name
    bad.write_bytes(raw)
    good = tmp_path / "good.txt"
    good.write_text("Grain deal talks resume\n\nTurkey hosted talks on the grain deal on Monday.\n")

    report = _load(tmp_path, outlet="Reuters", published_at=_utc("2023-07-01"))

    assert len(report.failures) == 1
    assert report.failures[0].startswith(str(bad))
    assert problem in report.failures[0].lower()
    source = SourceDocument.objects.get(origin=str(bad))
    assert source.status == SourceDocument.Status.FAILED
    assert bytes(source.raw) == raw
    assert source.error == report.failures[0]
    assert not Article.objects.filter(source=source).exists()
    assert Article.objects.filter(source__origin=str(good)).count() == 1


def test_a_file_over_the_size_limit_is_refused_and_kept(tmp_path):
    big = tmp_path / "big.txt"
    big.write_text("Headline\n\n" + "word " * 5000)
    report = _load(big, max_bytes=10_000)
    assert len(report.failures) == 1
    assert "too large" in report.failures[0]
    assert bytes(SourceDocument.objects.get(origin=str(big)).raw) == big.read_bytes()


def test_a_file_too_large_to_keep_is_refused_unread_and_the_batch_goes_on(tmp_path):
    # A sparse file: 300 MiB long, no disk used. Reading it whole and storing it in
    # a bytea failed the whole batch with a database error ("invalid memory alloc").
    huge = tmp_path / "a-huge-file.txt"
    with huge.open("wb") as handle:
        handle.truncate(300 * 1024 * 1024)
    good = tmp_path / "b-good.txt"
    good.write_text("A headline that loads\n\nA body of plain text that follows it.\n")
    report = _load(tmp_path)
    assert report.failures == [
        f"{huge}: too large to load (300.0 MiB; the limit is 50.0 MiB), not kept"
    ]
    assert not SourceDocument.objects.filter(origin=str(huge)).exists()
    assert Article.objects.filter(source__origin=str(good)).count() == 1


def test_a_truncated_warc_keeps_what_was_read_and_reports_the_cut(tmp_path):
    whole = (CORPORA / "warc" / "resiliparse_warcfile.warc.gz").read_bytes()
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    report = _load(cut)
    assert len(report.failures) == 1
    assert report.failures[0].startswith(str(cut))
    source = SourceDocument.objects.get(origin=str(cut))
    assert source.status in {SourceDocument.Status.PARTIAL, SourceDocument.Status.FAILED}
    assert bytes(source.raw) == cut.read_bytes()


def test_a_latin1_text_loads_with_the_right_characters():
    path = CORPORA / "bbc" / "sport" / "199.txt"
    report = _load(path, outlet="BBC News", published_at=_utc("2005-01-01"))
    assert report.failures == []
    article = Article.objects.get(source__origin=str(path))
    assert "£" in article.body
    assert "\ufffd" not in article.body


def test_html_pages_load_with_their_metadata():
    pages = sorted((CORPORA / "html").iterdir())
    report = _load(*(page / "source.html" for page in pages))
    assert report.failures == []
    truth = json.loads((BASE_DIR / "tests" / "data" / "html_page_metadata.json").read_text())
    titles_matching = outlets_matching = 0
    for page in pages:
        article = Article.objects.get(source__origin=str(page / "source.html"))
        titles_matching += article.title == truth[page.name]["headline"]
        outlets_matching += article.outlet.name == truth[page.name]["outlet"]
    assert titles_matching == outlets_matching == len(pages)


def test_a_warc_capture_loads_every_html_response():
    path = CORPORA / "warc" / "resiliparse_warcfile.warc.gz"
    report = _load(path)
    articles = Article.objects.filter(source__origin=str(path))
    assert articles.count() == report.created >= 10
    assert all(a.source_url.startswith("http") for a in articles)
    assert all(a.published_at is not None for a in articles)


def test_reuters_json_records_load_with_their_dates(tmp_path):
    records = json.loads((CORPORA / "reuters21578" / "reut2-000.json").read_text())[:40]
    export = tmp_path / "reuters.json"
    export.write_text(json.dumps(records))
    with_body = [r for r in records if (r.get("body") or "").strip()]

    report = _load(export, outlet="Reuters")

    assert report.created == len(with_body)
    assert len(report.failures) == len(records) - len(with_body)
    dates = Article.objects.filter(source__origin=str(export)).values_list(
        "published_at", flat=True
    )
    assert all(d is not None and d.year == 1987 for d in dates)


def test_a_csv_export_loads_with_named_columns(tmp_path):
    bbc = sorted((CORPORA / "bbc" / "politics").glob("*.txt"))[:5]
    rows = ["story_headline,story_text,day"]
    for path in bbc:
        headline, _, text = path.read_text(encoding="utf-8", errors="replace").partition("\n")
        rows.append(",".join(json.dumps(v) for v in (headline, text.strip(), "2005-03-01")))
    export = tmp_path / "bbc.csv"
    export.write_text("\n".join(rows))

    report = _load(
        export,
        outlet="BBC News",
        columns=__import__("articles.ingest.formats", fromlist=["ColumnMap"]).ColumnMap(
            title="story_headline", body="story_text", date="day"
        ),
    )

    assert report.failures == []
    assert report.created == 5
    titles = set(Article.objects.filter(source__origin=str(export)).values_list("title", flat=True))
    assert titles == {p.read_text(errors="replace").partition("\n")[0].strip() for p in bbc}


@pytest.mark.django_db(transaction=True)
def test_the_command_exits_1_naming_each_failed_file(tmp_path, settings):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00\x01\x02" * 100)
    good = tmp_path / "good.txt"
    good.write_text("Ceasefire talks\n\nEnvoys met in Riyadh on Tuesday.\n")
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'].replace('/', '%2F')}/{db['NAME']}",
        "SECRET_KEY": "test-only-" + "k" * 40,
        # The test's own index (tests/conftest.py), not the project's.
        "SEARCH_INDEX_DIR": str(settings.SEARCH_INDEX_DIR),
    }
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "load_articles",
            str(tmp_path),
            "--outlet",
            "Reuters",
            "--published",
            "2024-02-20",
        ],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, result.stderr
    assert f"FAILED {bad}:" in result.stderr
    assert "files read:        2" in result.stdout
    assert "articles created:  1" in result.stdout
    assert Article.objects.filter(source__origin=str(good)).count() == 1


def _utc(day: str):
    from datetime import UTC, datetime

    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def test_a_passing_mention_does_not_tag_an_article_with_a_topic():
    tv_story = _seed_articles().get(title__startswith="The West fears Russia")
    tags = set(tv_story.topic_tags.values_list("topic__slug", flat=True))
    assert "cyber-and-information-war" in tags  # it is about Russian state TV
    assert "military-aid-and-weapons" not in tags  # "weapons" appears once in passing
