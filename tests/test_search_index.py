"""The tantivy backend against the postgres one on the seed archive (same matches,
orders, counts and facets), and its index following PostgreSQL: hidden articles,
curators' edits, a killed load, two writers, and /healthz and `manage.py check`
when the index disagrees. These switch to tantivy themselves, whatever
SEARCH_BACKEND the suite runs with."""

from __future__ import annotations

import html
import io
import itertools
import json
import re
import subprocess
import threading
import time
from datetime import UTC, date, datetime

import pytest
import tantivy
from django.core.management import call_command
from django.db import OperationalError, connection

from articles.bench.exact import search_request
from articles.bench.story_pairs import Corpora, Text, derive
from articles.entities import merge_entities
from articles.filters import SearchFilter
from articles.ingest.loader import Loader, LoadOptions
from articles.models import Article, ArticleTopic, Entity, Mention, Outlet, Topic
from articles.search import ListRequest, Selection, day_start, outbox, parsing, tantivy_index
from articles.search.backends import tantivy as tantivy_backend_module
from articles.search.backends.postgres import PostgresBackend
from articles.search.backends.tantivy import BUCKET_LIMIT_ERROR, MOST_SHARE, TantivyBackend
from articles.search_vectors import SEARCH_CONFIG
from tests.conftest import BASE_DIR, CORPORA, SEEDS
from tests.test_reliability import (
    BBC,
    _copy,
    _distinct,
    _env,
    _load_command,
    _wait_for_its_connection_to_close,
    killed_load,
)
from tests.test_search import (  # noqa: F401 - ranking_desk is a fixture
    make_article,
    ranking_desk,
    seed_paragraph,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def tantivy_backend(settings, tmp_path):
    """SEARCH_BACKEND=tantivy with an index rebuilt from this test's database."""
    settings.SEARCH_BACKEND = "tantivy"
    settings.SEARCH_INDEX_DIR = tmp_path / "tantivy-index"
    outbox.rebuild()
    return settings


def run(settings, backend: str, **params):
    settings.SEARCH_BACKEND = backend
    filterset = SearchFilter(params, queryset=Article.objects.public())
    assert filterset.is_valid(), filterset.errors
    return filterset.run_search(per_page=100)


def ids(results) -> list[int]:
    return [hit.article.pk for hit in results.hits]


def facet_counts(results) -> dict:
    facets = results.facets
    return {
        name: [(v.value, v.count) for v in getattr(facets, name)]
        for name in ("outlet", "topic", "entity", "month", "kind")
    }


def index_ids() -> list[int]:
    searcher = tantivy_index.searcher()
    hits = searcher.search(tantivy.Query.all_query(), max(searcher.num_docs, 1)).hits
    return sorted(searcher.fast_field_values("id", [address for _, address in hits]))


def public_ids() -> list[int]:
    return sorted(Article.objects.public().values_list("pk", flat=True))


# --- The same answers as the postgres backend ------------------------------------

QUERIES = [
    "Ukraine",
    "tanks",
    '"western tanks"',
    "tank*",
    "Kyiv -Blinken",
    "Kiev",  # a spelling: the archive writes Kyiv
    "Zelenskyy",  # an entity's alias
    "Pistorius or Blinken",
    "Estonia",
    '"war in Ukraine"',  # a stop word inside a phrase
]


@pytest.mark.parametrize("q", QUERIES)
def test_both_backends_find_the_same_articles_in_the_same_date_order(tantivy_backend, q):
    for sort in ("newest", "oldest"):
        postgres = run(tantivy_backend, "postgres", q=q, sort=sort)
        tantivy_results = run(tantivy_backend, "tantivy", q=q, sort=sort)
        assert ids(tantivy_results) == ids(postgres), (q, sort)
        assert tantivy_results.count == postgres.count
        assert tantivy_results.story_count == postgres.story_count, (q, sort)
        assert facet_counts(tantivy_results) == facet_counts(postgres), (q, sort)
    relevance = run(tantivy_backend, "tantivy", q=q)
    assert sorted(ids(relevance)) == sorted(ids(postgres))
    assert not (relevance.count_capped or relevance.bounded or relevance.facets_sampled)


def jsonl_of(tmp_path, name: str, texts) -> object:
    path = tmp_path / f"{name}.jsonl"
    path.write_text("".join(json.dumps({"title": t.title, "body": t.body}) + "\n" for t in texts))
    return path


def test_a_first_load_writes_the_index_whole_and_a_later_one_adds_to_it(settings, tmp_path):
    # A load that names at least as many articles as the index holds (here the first,
    # into an empty index) rebuilds it: one segment, recorded, whatever was public
    # before included. A smaller load catches up, into a segment of its own.
    settings.SEARCH_BACKEND = "tantivy"
    settings.SEARCH_INDEX_DIR = tmp_path / "loaded-index"
    texts = [Corpora(CORPORA).text(f"bbc:politics/{n:03d}.txt") for n in range(90, 96)]
    Loader(LoadOptions()).load([jsonl_of(tmp_path, "first", texts[:3])])
    searcher = tantivy_index.searcher()
    assert searcher.num_segments == 1 and tantivy_index.one_segment_build() is not None
    assert index_ids() == public_ids()

    Loader(LoadOptions()).load([jsonl_of(tmp_path, "second", texts[3:])])
    searcher = tantivy_index.searcher()
    assert searcher.num_segments == 2
    assert layout_of(searcher) == tantivy_backend_module.REBUILT_TOGETHER
    assert index_ids() == public_ids()
    assert outbox.pending_count() == 0


def test_the_story_count_stays_exact_past_the_aggregations_size(
    tantivy_backend, monkeypatch, tmp_path
):
    from articles.search.backends import tantivy as backend

    one, other = (Corpora(CORPORA).text(f"bbc:politics/{n}.txt") for n in ("081", "082"))
    copies = [one, derive(one, "credits", 3), derive(one, "reorder", 8)]
    copies += [other, derive(other, "credits", 3)]
    path = tmp_path / "copies.jsonl"
    path.write_text("".join(json.dumps({"title": t.title, "body": t.body}) + "\n" for t in copies))
    Loader(LoadOptions()).load([path])
    monkeypatch.setattr(backend, "SEGMENT_TERMS", 1)  # every search now asks for all
    monkeypatch.setitem(backend.STORY_AGGREGATIONS, "stories", backend._copied_stories(1))
    postgres = run(tantivy_backend, "postgres")
    assert postgres.story_count == postgres.count - 3  # two stories with copies
    assert run(tantivy_backend, "tantivy").story_count == postgres.story_count


def test_the_story_count_from_kept_totals_is_exact(tantivy_backend, monkeypatch, tmp_path):
    # A word in most articles is counted as the totals of every article less the few
    # it does not match. With copies of a story among those few, the stories left
    # must still be counted exactly: here one copy of three says "stated" where the
    # others say "said".
    one = Corpora(CORPORA).text("bbc:politics/081.txt")
    assert " said" in one.body
    reworded = Text(one.title, one.body.replace(" said", " stated"))
    copies = [one, derive(one, "credits", 3), reworded]
    path = tmp_path / "copies.jsonl"
    path.write_text("".join(json.dumps({"title": t.title, "body": t.body}) + "\n" for t in copies))
    Loader(LoadOptions()).load([path])
    story = Article.objects.get(title=one.title, body__contains=" stated").story_id
    assert Article.objects.filter(story_id=story).count() == 3
    kept = []
    less = tantivy_backend_module._Totals.less
    monkeypatch.setattr(
        tantivy_backend_module._Totals, "less", lambda self, m: kept.append(m) or less(self, m)
    )
    for _ in range(2):  # the totals wait for an index that has not changed since
        found = run(tantivy_backend, "tantivy", q="said")
    postgres = run(tantivy_backend, "postgres", q="said")
    assert found.count == postgres.count
    assert found.story_count == postgres.story_count
    assert kept and kept[-1]["story_copies"]["value"] >= 1  # a copy among the few


@pytest.mark.parametrize(
    "filters", [{}, {"outlet": ["cnn", "guardian"]}], ids=["everything", "two-outlets"]
)
def test_a_search_without_text_counts_its_facets_from_the_kept_totals(
    tantivy_backend, monkeypatch, filters
):
    # Without a text a search finds every article its filters keep: its facets are
    # those articles' totals, kept per commit (the whole archive's facets cost
    # nothing once counted), and a curator's edit reaches them once committed.
    taken = []
    less = tantivy_backend_module._Totals.less
    monkeypatch.setattr(
        tantivy_backend_module._Totals, "less", lambda self, m: taken.append(m) or less(self, m)
    )

    def assert_as_postgres_counts_them() -> list[int]:
        found = run(tantivy_backend, "tantivy", sort="newest", **filters)
        postgres = run(tantivy_backend, "postgres", sort="newest", **filters)
        assert facet_counts(found) == facet_counts(postgres)
        assert (found.count, found.story_count) == (postgres.count, postgres.story_count)
        assert ids(found) == ids(postgres)
        return ids(found)

    for _ in range(2):  # the totals wait for an index that has not changed since
        assert_as_postgres_counts_them()
    before = len(taken)
    newest = assert_as_postgres_counts_them()
    assert len(taken) == before + 1  # from the kept totals
    Article.objects.filter(pk=newest[0]).update(is_public=False)
    for _ in range(3):
        assert newest[0] not in assert_as_postgres_counts_them()
    assert len(taken) > before + 1  # kept anew for the edited index


@pytest.mark.parametrize(
    "filters",
    [
        {"outlet": ["cnn", "guardian", "al-jazeera"]},
        {"topic": ["battlefield"], "entity": ["russia"]},
        {"from": "2023-01-01", "to": "2023-01-31"},
        {"kind": "live"},
    ],
    ids=["outlets", "topic-and-entity", "dates", "kind"],
)
def test_every_filter_means_the_same_on_both_backends(tantivy_backend, filters):
    # A word in most articles, a rarer one, none.
    for q in ("Ukraine", "tanks", ""):
        postgres = run(tantivy_backend, "postgres", q=q, sort="newest", **filters)
        tantivy_results = run(tantivy_backend, "tantivy", q=q, sort="newest", **filters)
        assert ids(tantivy_results) == ids(postgres), (q, filters)
        assert tantivy_results.story_count == postgres.story_count, (q, filters)
        assert facet_counts(tantivy_results) == facet_counts(postgres), (q, filters)


LISTS = [
    ("entities", "kyiv", Entity),
    ("outlets", "guardian", Outlet),
    ("topics", "military-aid-and-weapons", Topic),
]


@pytest.mark.parametrize("own_field,slug,model", LISTS, ids=[field for field, _, _ in LISTS])
@pytest.mark.parametrize(
    "chosen",
    [
        Selection(),
        Selection(outlets=frozenset({"guardian", "washington-post"}), date_from=date(2024, 6, 1)),
    ],
    ids=["unfiltered", "outlet-and-date"],
)
def test_an_article_lists_figures_are_the_same_on_both_backends(
    tantivy_backend, own_field, slug, model, chosen
):
    own = Selection(**{own_field: frozenset({slug})})
    unfiltered = _listed(own_field, model.objects.get(slug=slug))
    filtered = (
        unfiltered.filter(published_at__gte=day_start(chosen.date_from))
        if chosen.date_from
        else unfiltered
    )
    if chosen.outlets:
        filtered = filtered.filter(outlet__slug__in=chosen.outlets)
    request = ListRequest(
        articles=filtered,
        unfiltered=unfiltered,
        own=own,
        chosen=chosen,
        co_mentioned=12 if own_field == "entities" else 0,
    )
    postgres = PostgresBackend().list_figures(request)
    tantivy_figures = TantivyBackend().list_figures(request)
    assert tantivy_figures.count == postgres.count == filtered.count() > 0
    assert sorted(tantivy_figures.monthly) == sorted(postgres.monthly)
    assert (
        sum(row[-1] for row in postgres.monthly)
        == filtered.filter(published_at__isnull=False).count()
    )
    assert tantivy_figures.outlets == postgres.outlets
    assert tantivy_figures.co_mentioned == postgres.co_mentioned
    if own_field == "entities":
        assert postgres.co_mentioned_of is None  # every article counted, as tantivy does
        assert slug not in [value.value for value in tantivy_figures.co_mentioned]
        assert len(tantivy_figures.co_mentioned) == 12


def _listed(own_field: str, listed):
    public = Article.objects.public()
    if own_field == "entities":
        return public.mentioning(listed)
    if own_field == "topics":
        tagged = ArticleTopic.objects.filter(topic=listed, excluded=False)
        return public.filter(pk__in=tagged.values("article_id"))
    return public.filter(outlet=listed)


# --- Where the database's definition of a match is subtle ------------------------


def reuters_texts_with_tags(limit: int) -> list[str]:
    """Real Reuters titles and bodies that hold "<...>" (as the loader reads them)."""
    found = []
    for path in sorted((CORPORA / "reuters21578").glob("reut2-*.json")):
        for record in json.loads(path.read_text(encoding="utf-8", errors="replace")):
            for text in (record.get("title") or "", record.get("body") or ""):
                if "&lt;" in text:
                    found.append(html.unescape(text))
                    if len(found) == limit:
                        return found
    return found


def test_the_index_leaves_out_what_postgresql_reads_as_tags():
    texts = reuters_texts_with_tags(300)
    texts.append("a<b c>d <S&P 500> <A/B> < 5 > <Dotx.O> <br/> <!-- x --> <a href='x>y'>")
    with connection.cursor() as cursor:
        for text in texts:
            cursor.execute(
                "SELECT coalesce(array_agg(token), '{}') FROM ts_debug(%s, %s) WHERE alias = 'tag'",
                [SEARCH_CONFIG, text],
            )
            assert [m.group(0) for m in parsing.PG_TAG.finditer(text)] == cursor.fetchone()[0]


def texts_with_hyphens(limit: int) -> list[str]:
    """Real BBC articles and Reuters bodies with a hyphen, half of each."""
    bbc = (p.read_text(errors="replace") for p in sorted((CORPORA / "bbc").glob("*/*.txt")))
    reuters = (
        record.get("body") or ""
        for path in sorted((CORPORA / "reuters21578").glob("reut2-*.json"))
        for record in json.loads(path.read_text(encoding="utf-8", errors="replace"))
    )
    found = []
    for texts in (bbc, reuters):
        found += itertools.islice((t for t in texts if "-" in t), limit // 2)
    return found


def test_the_index_reads_hyphenated_words_as_postgresql_does():
    texts = texts_with_hyphens(600)
    differing = []
    with connection.cursor() as cursor:
        for text in texts:
            cursor.execute(
                "SELECT coalesce(array_agg(token), '{}') FROM ts_debug(%s, %s) "
                "WHERE alias IN ('asciihword', 'hword', 'numhword')",
                [SEARCH_CONFIG, text],
            )
            found = parsing.HYPHENATED.findall(parsing.untagged(text))
            if found != cursor.fetchone()[0]:
                differing.append(text)
    # Left: a decimal number before letters ("£2.2bn-worth": the database starts
    # the word at "bn"), about one text in a thousand.
    assert len(texts) == 600 and len(differing) <= 2, differing


def test_a_phrase_does_not_run_into_a_hyphenated_word_on_either_backend(tantivy_backend):
    desk = Outlet.objects.create(name="Hyphen Desk", slug="hyphen-desk")
    designate = make_article(
        "Cabinet talks",
        ["Reagan said Japanese Prime Minister-designate Noboru met him."],
        outlet=desk,
    )
    minister = make_article("Budget", ["The prime minister said the budget holds."], outlet=desk)
    for q, found in (
        ('"prime minister"', [minister]),  # "minister-designate" stands where "minister" would
        ("minister-designate", [designate]),
        ('"minister designate"', [designate]),
        ("designate", [designate]),
    ):
        postgres = run(tantivy_backend, "postgres", q=q, outlet=["hyphen-desk"])
        tantivy_results = run(tantivy_backend, "tantivy", q=q, outlet=["hyphen-desk"])
        assert ids(tantivy_results) == ids(postgres) == [a.pk for a in found], q


def test_a_word_inside_one_of_the_parsers_compound_tokens_is_found_as_on_postgres(
    tantivy_backend,
):
    # PostgreSQL's parser reads each of these as one token (a path, an abbreviation,
    # a host, a decimal number), so the words inside are not words of the text.
    desk = Outlet.objects.create(name="Token Desk", slug="token-desk")
    wire = make_article(
        "Export prices",
        ["Argentine Grain/Oilseed registrations rose 3.5 pct, U.S. traders said."],
        outlet=desk,
    )
    talks = make_article(
        "Talks",
        ["Russia/Ukraine talks resumed, the site bbc.co.uk reported."],
        outlet=desk,
    )
    plain = make_article(
        "Harvest",
        ["The grain harvest in Ukraine grew 5 pct, the BBC said."],
        outlet=desk,
    )
    for q, found in (
        ("grain", [plain]),
        ("Grain/Oilseed", [wire]),
        ("Ukraine", [plain]),
        ("Russia/Ukraine", [talks]),
        ('"U.S."', [wire]),
        ("5", [plain]),
        ("3.5", [wire]),
        ("bbc", [plain]),
        ("bbc.co.uk", [talks]),
    ):
        postgres = run(tantivy_backend, "postgres", q=q, outlet=["token-desk"])
        tantivy_results = run(tantivy_backend, "tantivy", q=q, outlet=["token-desk"])
        assert ids(postgres) == [a.pk for a in found], q
        assert ids(tantivy_results) == ids(postgres), q


def test_a_word_only_inside_a_tag_matches_on_neither_backend(tantivy_backend):
    title = next(t for t in reuters_texts_with_tags(300) if re.search(r"<\w+>", t) and len(t) < 90)
    tagged = re.search(r"<(\w+)>", title).group(1)
    outside = max(re.findall(r"[A-Za-z]{5,}", parsing.PG_TAG.sub(" ", title)), key=len)
    desk = Outlet.objects.create(name="Tag Desk", slug="tag-desk")
    article = make_article(
        title, [seed_paragraph("000_0e4d571b1702f214.txt", "BERLIN")], outlet=desk
    )

    for q, found in ((tagged, False), (outside, True)):
        postgres = run(tantivy_backend, "postgres", q=q, outlet=["tag-desk"])
        tantivy_results = run(tantivy_backend, "tantivy", q=q, outlet=["tag-desk"])
        assert ids(tantivy_results) == ids(postgres) == ([article.pk] if found else []), q


def two_entry_live_blog(desk_slug: str, second_heading: str) -> tuple[Article, str, str]:
    """A live blog of two seed paragraphs, its first entry headed "Kestrels nest at
    Ramstein", alone in its own outlet; returns it and the two entries' text."""
    desk = Outlet.objects.create(name=desk_slug.replace("-", " ").title(), slug=desk_slug)
    berlin = seed_paragraph("000_0e4d571b1702f214.txt", "BERLIN — Western defense officials")
    inventory = seed_paragraph("000_0e4d571b1702f214.txt", "in case of a future deal")
    live = make_article(
        "Allies weigh the tank question",
        [berlin, inventory],
        headings=["Kestrels nest at Ramstein", second_heading],
        kind="live",
        outlet=desk,
    )
    return live, berlin, inventory


def test_a_heading_matches_together_with_its_own_entry_only(tantivy_backend):
    live, berlin, inventory = two_entry_live_blog("entry-desk", "Later")
    in_its_entry = "kestrels Western"  # the heading's entry says "Western"
    across_entries = "kestrels deal"  # only the other entry says "deal"
    assert "deal" not in berlin and "Western" not in inventory

    for q, all_words_match in ((in_its_entry, True), (across_entries, False)):
        postgres = run(tantivy_backend, "postgres", q=q, outlet=["entry-desk"])
        tantivy_results = run(tantivy_backend, "tantivy", q=q, outlet=["entry-desk"])
        # Across entries no article has both words: the page falls back to "most of
        # them" (one word) on both backends, and says so.
        assert (tantivy_results.relaxation is None) == (postgres.relaxation is None), q
        assert (postgres.relaxation is None) == all_words_match, q
        assert ids(tantivy_results) == ids(postgres) == [live.pk], q
        assert facet_counts(tantivy_results) == facet_counts(postgres), q


@pytest.mark.parametrize("taken_at_once", [1, 1000])
def test_entries_that_may_hold_the_match_are_all_checked(
    tantivy_backend, monkeypatch, taken_at_once
):
    # The articles whose match needs a heading are confirmed in PostgreSQL: all of
    # them, whether the first search for them took them all or not.
    monkeypatch.setattr(tantivy_backend_module, "ENTRY_CANDIDATES", taken_at_once)
    desk = Outlet.objects.create(name="Entries Desk", slug="entries-desk")
    berlin = seed_paragraph("000_0e4d571b1702f214.txt", "BERLIN — Western defense officials")
    inventory = seed_paragraph("000_0e4d571b1702f214.txt", "in case of a future deal")
    blogs = [
        make_article(
            f"Allies weigh the tank question, day {day}",
            [berlin, inventory],
            headings=["Kestrels nest at Ramstein", "Later"],
            kind="live",
            outlet=desk,
        )
        for day in (1, 2, 3)
    ]
    postgres = run(tantivy_backend, "postgres", q="kestrels Western", outlet=["entries-desk"])
    found = run(tantivy_backend, "tantivy", q="kestrels Western", outlet=["entries-desk"])
    assert postgres.relaxation is None and found.relaxation is None
    assert sorted(ids(found)) == sorted(ids(postgres)) == sorted(b.pk for b in blogs)


def test_a_word_in_a_heading_finds_its_entry_and_no_phrase_joins_two_headings(tantivy_backend):
    live, _, _ = two_entry_live_blog("heading-desk", "Lunchtime summary")
    # A word only in a heading matches through its entry; the index keeps the
    # headings in one field, where "Ramstein" is followed by "Lunchtime".
    for q, found in (("kestrels", [live.pk]), ("kestr*", [live.pk]), ('"Ramstein lunchtime"', [])):
        postgres = run(tantivy_backend, "postgres", q=q, outlet=["heading-desk"])
        tantivy_results = run(tantivy_backend, "tantivy", q=q, outlet=["heading-desk"])
        assert ids(tantivy_results) == ids(postgres) == found, q


def test_a_word_in_a_heading_with_an_excluded_word_matches_where_its_entry_does(tantivy_backend):
    live, _, _ = two_entry_live_blog("excluding-desk", "Lunchtime summary")
    # The excluded word nowhere, or only in the other entry's heading: the entry
    # headed "Kestrels nest at Ramstein" matches. In that heading: no entry matches.
    for q, found in (
        ("kestrels -zeppelin", [live.pk]),
        ("kestrels -lunchtime", [live.pk]),
        ("kestr* -zeppelin", [live.pk]),
        ("kestrels -ramstein", []),
        ("kestrels -zeppelin or lunchtime -ramstein", [live.pk]),
        ("kestrels -ramstein or lunchtime -kestrels", [live.pk]),
        ("kestrels -ramstein or lunchtime -summary", []),
    ):
        postgres = run(tantivy_backend, "postgres", q=q, outlet=["excluding-desk"])
        tantivy_results = run(tantivy_backend, "tantivy", q=q, outlet=["excluding-desk"])
        assert ids(tantivy_results) == ids(postgres) == found, q


def test_relevance_puts_a_title_match_first(tantivy_backend):
    results = run(tantivy_backend, "tantivy", q="Blinken Kyiv")
    assert results.hits[0].article.title.startswith("Blinken arrives in Kyiv")


# --- Relevance: the archive's BM25 ---------------------------------------------


@pytest.mark.parametrize("q", [*QUERIES, "Ukraine tanks", "Kyiv or Kiev"])
def test_relevance_is_the_archives_bm25_over_every_match(tantivy_backend, q):
    # The postgres backend ranks every match of the seed archive by the archive's BM25.
    postgres = run(tantivy_backend, "postgres", q=q)
    assert not postgres.bounded
    assert ids(run(tantivy_backend, "tantivy", q=q)) == ids(postgres), q


def page(settings, q: str, number: int, per_page: int) -> list[int]:
    settings.SEARCH_BACKEND = "tantivy"
    filterset = SearchFilter({"q": q, "page": number}, queryset=Article.objects.public())
    assert filterset.is_valid(), filterset.errors
    return ids(filterset.run_search(per_page=per_page))


def test_pages_past_the_rescored_matches_hold_every_other_match_once(tantivy_backend, monkeypatch):
    monkeypatch.setattr(tantivy_backend_module, "RESCORE_WINDOW", 4)
    monkeypatch.setattr(tantivy_backend_module, "MOST_RESCORED", 4)
    postgres = ids(run(tantivy_backend, "postgres", q="Ukraine"))
    assert len(postgres) == 8
    paged = [pk for number in (1, 2, 3) for pk in page(tantivy_backend, "Ukraine", number, 3)]
    assert sorted(paged) == sorted(postgres)  # every match, once
    window = paged[:4]  # tantivy's 4 most relevant, in the archive's order
    assert window == [pk for pk in postgres if pk in window]


def test_before_the_rescoring_a_title_match_outranks_a_heading_then_a_body_match(
    tantivy_backend,
    monkeypatch,
    ranking_desk,  # noqa: F811 - the fixture imported above
):
    # With no window, the order is tantivy's own, from the weighted field.
    monkeypatch.setattr(tantivy_backend_module, "RESCORE_WINDOW", 0)
    found = run(tantivy_backend, "tantivy", q="Pistorius", outlet=["ranking-desk"])
    assert [hit.article.pk for hit in found.hits] == [a.pk for a in ranking_desk]


@pytest.fixture
def spelling_desk():
    """Two articles of a news article's length, one with Kyiv three times, the other
    with Kyiv once and Kiev once. The archive counts a word's spellings as one word
    whose occurrences saturate together: the first weighs more."""
    desk = Outlet.objects.create(name="Spelling Desk", slug="spelling-desk")
    spellings = ("Kyiv", "Kiev", "Kiyv", "Kyyiv")
    seed = (SEEDS / "000_0e4d571b1702f214.txt").read_text(encoding="utf-8").split("\n\n")
    text = [p for p in seed if not any(spelling in p for spelling in spellings)]
    often = make_article("Aid arrives", ["Kyiv, Kyiv and Kyiv.", *text], outlet=desk)
    both = make_article("Aid arrives", ["Kyiv, Kiev and Lviv.", *text], outlet=desk)
    return often, both


def test_before_the_rescoring_one_spelling_used_often_outranks_two_used_once(
    tantivy_backend, spelling_desk, monkeypatch
):
    postgres = ids(run(tantivy_backend, "postgres", q="Kiev", outlet=["spelling-desk"]))
    assert postgres == [article.pk for article in spelling_desk]
    monkeypatch.setattr(tantivy_backend_module, "RESCORE_WINDOW", 0)
    assert ids(run(tantivy_backend, "tantivy", q="Kiev", outlet=["spelling-desk"])) == postgres


def test_a_term_with_several_spellings_has_a_wider_rescored_window(
    tantivy_backend, spelling_desk, monkeypatch
):
    # With the spellings' scores summed, tantivy's own order puts the article with
    # two spellings first; a window of one, doubled for the spelled term, still
    # gives the archive's order.
    postgres = ids(run(tantivy_backend, "postgres", q="Kiev", outlet=["spelling-desk"]))
    monkeypatch.setattr(tantivy_backend_module, "SPELLING_TIE", 1.0)
    monkeypatch.setattr(tantivy_backend_module, "RESCORE_WINDOW", 0)
    assert ids(run(tantivy_backend, "tantivy", q="Kiev", outlet=["spelling-desk"])) != postgres
    monkeypatch.setattr(tantivy_backend_module, "RESCORE_WINDOW", 1)
    assert ids(run(tantivy_backend, "tantivy", q="Kiev", outlet=["spelling-desk"])) == postgres


def test_a_page_past_the_window_is_in_the_archives_order(tantivy_backend, monkeypatch):
    # Rescoring reaches as far as the page does (up to MOST_RESCORED): the third page
    # of two is not tantivy's own order.
    monkeypatch.setattr(tantivy_backend_module, "RESCORE_WINDOW", 2)
    postgres = ids(run(tantivy_backend, "postgres", q="war"))
    monkeypatch.setattr(tantivy_backend_module, "MOST_RESCORED", 2)
    assert page(tantivy_backend, "war", 3, 2) != postgres[4:6]
    monkeypatch.setattr(tantivy_backend_module, "MOST_RESCORED", 1000)
    assert page(tantivy_backend, "war", 3, 2) == postgres[4:6]


def test_a_match_past_the_window_still_climbs_into_the_page(tantivy_backend, monkeypatch):
    # tantivy's own order puts one of the archive's two most relevant articles for
    # "war" past its first two; rescoring only those two leaves it off a page of two.
    archive = ids(run(tantivy_backend, "postgres", q="war"))[:2]
    monkeypatch.setattr(tantivy_backend_module, "RESCORE_WINDOW", 2)
    request = search_request({"q": "war"}, limit=2)  # the backend's page: no overfetch
    monkeypatch.setattr(tantivy_backend_module, "MOST_RESCORED", 2)
    assert TantivyBackend().search(request).ids != archive
    monkeypatch.setattr(tantivy_backend_module, "MOST_RESCORED", 1000)
    assert TantivyBackend().search(request).ids == archive


def test_a_word_in_every_article_ranks_the_live_blogs_with_most_entries_first(
    tantivy_backend, monkeypatch
):
    # The archive's BM25 hardly weighs such a word, and adds a little per matching
    # entry: tantivy's order, before the rescoring, must add it too.
    monkeypatch.setattr(tantivy_backend_module, "RESCORE_WINDOW", 0)
    postgres = run(tantivy_backend, "postgres", q="said")
    live_blogs = {hit.article.pk for hit in postgres.hits[:2]}
    assert {hit.article.kind for hit in postgres.hits[:2]} == {"live"}
    assert set(ids(run(tantivy_backend, "tantivy", q="said"))[:2]) == live_blogs


def test_an_index_of_an_earlier_schema_is_reported_then_rebuilt(settings, tmp_path, client):
    settings.SEARCH_BACKEND = "tantivy"
    settings.SEARCH_INDEX_DIR = tmp_path / "earlier-index"
    settings.SEARCH_INDEX_DIR.mkdir()
    earlier = tantivy.SchemaBuilder()  # as if written by a version without `weighted`
    earlier.add_unsigned_field("id", stored=True, indexed=True, fast=True)
    handle = tantivy.Index(earlier.build(), path=str(settings.SEARCH_INDEX_DIR)).writer()
    handle.commit()
    del handle

    health = client.get("/healthz").json()
    assert health["status"] == "degraded"
    assert "another schema" in health["search"]
    assert "rebuild_search_index" in health["search"]

    call_command("rebuild_search_index", verbosity=0)
    assert client.get("/healthz").json()["status"] == "ok"
    assert index_ids() == public_ids()
    assert run(settings, "tantivy", q="Blinken").hits[0].article.title.startswith("Blinken")


# --- The index follows the database ---------------------------------------------


def test_hidden_articles_never_appear(tantivy_backend, client):
    before = run(tantivy_backend, "tantivy", q="Ukraine")
    hidden = before.hits[0].article
    Article.objects.filter(pk=hidden.pk).update(is_public=False)  # as the admin's "hide"

    after = run(tantivy_backend, "tantivy", q="Ukraine")
    assert hidden.pk not in ids(after)
    assert after.count == before.count - 1
    assert sum(v.count for v in after.facets.kind) == after.count
    tantivy_backend.SEARCH_BACKEND = "tantivy"
    api = client.get("/api/search/", {"q": hidden.title}).json()
    assert hidden.pk not in [r["id"] for r in api["results"]]
    assert index_ids() == public_ids()


@pytest.mark.parametrize(
    "q",
    ["Ukraine", "said", "Kiev", '"prime minister"', "negotiat*", "grain or oil", "Ukraine -Russia"],
)
@pytest.mark.parametrize("relaxed", [1, 2])
def test_the_bounds_of_a_text_hold_its_matches(tantivy_backend, q, relaxed):
    # They choose how a search counts its facets, in place of counting its matches.
    text = search_request({"q": q}).text_query
    searcher = tantivy_index.searcher()
    query = tantivy_backend_module.text_query(text, searcher, [], minimum_should_match=relaxed)
    matches = searcher.search(query, 1, count=True).count
    least, most = tantivy_backend_module._match_bounds(searcher, text, relaxed)
    assert least <= matches <= most
    if q == "Ukraine" and relaxed == 1:  # in most articles, as the bounds alone can tell
        assert least * 2 > searcher.num_docs
    if q == '"prime minister"':
        assert most * 2 <= searcher.num_docs


def test_facets_of_a_word_in_most_articles_follow_every_commit(tantivy_backend):
    # Such a search counts the articles it does not match and subtracts them from
    # totals it keeps: totals kept past a commit would still count a hidden article.
    everything = run(tantivy_backend, "tantivy").count
    for step in ("first", "after a hide"):
        found = run(tantivy_backend, "tantivy", q="Ukraine")
        postgres = run(tantivy_backend, "postgres", q="Ukraine")
        assert found.count > MOST_SHARE * everything  # the word is in most articles
        assert found.count == postgres.count, step
        assert facet_counts(found) == facet_counts(postgres), step
        assert found.story_count == postgres.story_count, step
        for _ in range(2):  # the kept totals, once more
            assert facet_counts(run(tantivy_backend, "tantivy", q="Ukraine")) == facet_counts(
                postgres
            )
        Article.objects.filter(pk=found.hits[0].article.pk).update(is_public=False)


def test_facets_of_a_word_in_most_articles_leave_out_the_articles_without_it(tantivy_backend):
    # With no filter, the articles without the word are the whole archive less its
    # matches: the kept totals less theirs. Here one of them is of an outlet no match is.
    desk = Outlet.objects.create(name="Harbour Desk", slug="harbour-desk")
    make_article("Harbour cranes idle", ["Dockers waited for the ships all week."], outlet=desk)
    outbox.catch_up()
    everything = run(tantivy_backend, "tantivy").count
    for _ in range(3):  # counted, then from the kept totals
        found = run(tantivy_backend, "tantivy", q="Ukraine")
        postgres = run(tantivy_backend, "postgres", q="Ukraine")
        assert MOST_SHARE * everything < found.count < everything
        assert "harbour-desk" not in [v.value for v in found.facets.outlet]
        assert facet_counts(found) == facet_counts(postgres)


class _SmallerBucketLimit:
    """The index's searcher, refusing an aggregation whose answer holds more than
    `limit` buckets (facet values) as tantivy refuses one of more than 65,000."""

    def __init__(self, searcher, limit: int):
        self._searcher, self.limit, self.refused = searcher, limit, 0

    def aggregate(self, query, aggregations: dict) -> dict:
        answer = self._searcher.aggregate(query, aggregations)
        if sum(len(result.get("buckets", [None])) for result in answer.values()) > self.limit:
            self.refused += 1
            raise ValueError(f"Aborting aggregation because {BUCKET_LIMIT_ERROR}")
        return answer

    def __getattr__(self, name):
        return getattr(self._searcher, name)


def test_facets_of_a_word_in_most_articles_stay_exact_past_the_bucket_limit(
    tantivy_backend, monkeypatch
):
    # At 1M articles the organisations alone nearly fill tantivy's 65,000 buckets an
    # answer: the counts of every facet value are then asked for in parts.
    searcher = tantivy_index.searcher()
    every_value = searcher.aggregate(tantivy.Query.all_query(), tantivy_backend_module.EVERY_VALUE)
    sizes = [len(result.get("buckets", [None])) for result in every_value.values()]
    limit = sum(sizes) - 1  # every facet fits, not all of them at once
    assert max(sizes) * 2 < limit
    smaller = _SmallerBucketLimit(searcher, limit)
    monkeypatch.setattr(tantivy_backend_module, "MAX_BUCKETS", limit)
    # The entity leaders of a search counted as it goes (300 of 65,000 buckets) would
    # not fit so small a limit: a few.
    monkeypatch.setattr(tantivy_backend_module, "ENTITY_LEADERS", 5)
    monkeypatch.setattr(tantivy_index, "searcher", lambda: smaller)
    postgres = run(tantivy_backend, "postgres", q="Ukraine")
    for _ in range(3):  # the first search keeps the totals, the next ones use them
        found = run(tantivy_backend, "tantivy", q="Ukraine")
        assert facet_counts(found) == facet_counts(postgres)
        assert found.story_count == postgres.story_count
    assert smaller.refused > 0


def test_every_commit_moves_the_index_generation_on(tantivy_backend, tmp_path):
    first = tantivy_index.commit_generation()
    assert first is not None and first % 2 == 0  # even: no commit under way
    Article.objects.filter(pk=public_ids()[0]).update(kicker="Checked")
    outbox.catch_up()
    second = tantivy_index.commit_generation()
    assert second > first and second % 2 == 0
    # An index deleted and built again starts elsewhere: what a process kept for the
    # old one is never taken for the new one's.
    tantivy_backend.SEARCH_INDEX_DIR = tmp_path / "built-again"
    outbox.rebuild()
    assert tantivy_index.commit_generation() not in (first, second)


def test_a_curators_edits_reach_search(tantivy_backend):
    article = run(tantivy_backend, "tantivy", q="Estonia").hits[0].article
    desk = Outlet.objects.create(name="Curated Desk", slug="curated-desk")
    article.outlet = desk
    article.published_at = datetime(2019, 5, 17, 9, tzinfo=UTC)
    article.save()
    by_outlet = run(tantivy_backend, "tantivy", outlet=["curated-desk"])
    assert ids(by_outlet) == [article.pk]
    in_may = run(tantivy_backend, "tantivy", **{"from": "2019-05-01", "to": "2019-05-31"})
    assert ids(in_may) == [article.pk]
    assert [v.value for v in in_may.facets.month] == ["2019-05"]

    # An entity merge moves the mentions: the kept entity now names the article.
    keep = Entity.objects.create(name="Curated Person", kind="person", slug="curated-person")
    named = Mention.objects.filter(article=article).select_related("entity").first()
    merge_entities(keep, [named.entity])
    by_entity = run(tantivy_backend, "tantivy", entity=["curated-person"])
    assert article.pk in ids(by_entity)
    assert index_ids() == public_ids()


def test_an_entity_key_holds_the_entity_and_its_kind():
    kinds = tantivy_index.ENTITY_KINDS
    keys = {tantivy_index.entity_key(4321, kind) for kind in kinds}
    assert len(keys) == len(kinds)  # no two kinds share a key
    assert {tantivy_index.entity_of_key(key) for key in keys} == {(4321, k) for k in kinds}
    assert set(tantivy_index.KINDS_COUNTED_ALONE) < set(kinds)


def layout_of(searcher) -> str | None:
    return tantivy_backend_module._layout(
        searcher, tantivy_backend_module._recorded_build(searcher)
    )


def entity_facet(results) -> list[tuple[str, str, int]]:
    return [(v.kind, v.value, v.count) for v in results.facets.entity]


ENTITY_SEARCHES = ({}, {"q": "tanks"}, {"q": "Kyiv -Blinken"}, {"q": "Pistorius or Blinken"})


def assert_entity_facets_are_postgres_ones(settings) -> None:
    for params in ENTITY_SEARCHES:
        found = run(settings, "tantivy", **params)
        postgres = run(settings, "postgres", **params)
        assert entity_facet(found) == entity_facet(postgres), params


def recorded_settlements(monkeypatch) -> list[bool]:
    """Whether each kind's places were settled by the leaders, as searches go."""
    settled = []
    settled_places = tantivy_backend_module._settled_places

    def recorded(*args):
        places = settled_places(*args)
        settled.append(places is not None)
        return places

    monkeypatch.setattr(tantivy_backend_module, "_settled_places", recorded)
    return settled


@pytest.mark.parametrize("alone", [tantivy_index.KINDS_COUNTED_ALONE, ()])
@pytest.mark.parametrize("leaders", [1, 4, 12, 40, 300])
def test_entity_facets_counted_as_every_kinds_leaders_are_postgres_ones(
    tantivy_backend, monkeypatch, leaders, alone
):
    # On an index of one segment the entities of every kind are counted together, the
    # first `leaders` of them, and a kind whose first places they leave open is counted
    # on its own (as `alone` always are): few leaders leave most kinds to that, many
    # settle them all.
    monkeypatch.setattr(tantivy_index, "KINDS_COUNTED_ALONE", alone)
    outbox.rebuild()
    assert tantivy_index.searcher().num_segments == 1
    monkeypatch.setattr(tantivy_backend_module, "ENTITY_LEADERS", leaders)
    # Every search counted through the leaders, none from kept totals.
    monkeypatch.setattr(tantivy_backend_module._kept, "quiet", lambda generation: False)
    settled = recorded_settlements(monkeypatch)
    assert_entity_facets_are_postgres_ones(tantivy_backend)
    if leaders == 1:  # never five of a kind
        assert not any(settled)
    elif leaders == 40:  # some kinds settled by the leaders, some counted alone
        assert any(settled) and not all(settled)
    elif leaders == 300:  # every entity of these searches is among them
        assert all(settled)


@pytest.mark.parametrize("edited", [False, True])
@pytest.mark.parametrize("leading_alone_past", [0, 10**9])
@pytest.mark.parametrize("leading", [1, 3, 8])
def test_entity_facets_counting_the_leading_entities_first_are_postgres_ones(
    tantivy_backend, monkeypatch, leading, leading_alone_past, edited
):
    # The rebuild keeps the entities it finds in `leading` of its articles or more in
    # a column of their own too. A search counts that column alone (0), where any
    # other entity has at most the most one of them is named in, or every entity
    # (10**9): a kind whose places the first leaves open is counted the second way,
    # one still open on its own. Either way, after edits too, the facets are the
    # database's.
    monkeypatch.setattr(tantivy_index, "LEADING_MENTIONS", leading)
    outbox.rebuild()
    rare_most = tantivy_index.one_segment_build().rare_most
    assert 0 < rare_most < leading or (leading == 1 and rare_most == 0)
    if edited:
        index_with_articles_added_since_the_rebuild()
    monkeypatch.setattr(tantivy_backend_module, "LEADING_ALONE_PAST", leading_alone_past)
    settled = recorded_settlements(monkeypatch)
    assert_entity_facets_are_postgres_ones(tantivy_backend)
    if leading_alone_past or leading == 1:  # every entity of these searches is counted
        assert all(settled)
    elif leading == 3 and not edited:  # the others leave some kinds open
        assert any(settled) and not all(settled)


def index_with_articles_added_since_the_rebuild() -> None:
    """Edit a third of the public articles after the rebuild: indexed again, they
    leave its segment for others (as a load's articles go to new ones)."""
    Article.objects.filter(pk__in=public_ids()[::3]).update(kicker="Edited since")
    outbox.catch_up()


@pytest.mark.parametrize("leaders", [1, 4, 40, 300])
def test_entity_facets_after_edits_since_the_rebuild_are_postgres_ones(
    tantivy_backend, monkeypatch, leaders
):
    # After a rebuild the index is one segment; what is indexed since goes to others.
    # The rebuild's documents still lie together, so their leaders are counted in
    # one pass, and every entity of the others beside them.
    index_with_articles_added_since_the_rebuild()
    searcher = tantivy_index.searcher()
    assert searcher.num_segments > 1
    assert layout_of(searcher) == tantivy_backend_module.REBUILT_TOGETHER
    monkeypatch.setattr(tantivy_backend_module, "ENTITY_LEADERS", leaders)
    settled = recorded_settlements(monkeypatch)
    assert_entity_facets_are_postgres_ones(tantivy_backend)
    if leaders == 300:
        assert all(settled)


def test_entities_added_since_the_rebuild_past_the_bucket_limit_are_counted_kind_by_kind(
    tantivy_backend, monkeypatch
):
    # Every entity of the documents indexed since the rebuild is asked for: past
    # tantivy's bucket limit (after many loads without a rebuild), each kind on its own.
    index_with_articles_added_since_the_rebuild()
    searcher = tantivy_index.searcher()
    query = tantivy.Query.all_query()
    stories = tantivy_backend_module.STORY_AGGREGATIONS
    layout = tantivy_backend_module.REBUILT_TOGETHER
    together = searcher.aggregate(
        query, {**tantivy_backend_module.facet_aggregations(layout), **stories}
    )
    by_kind = searcher.aggregate(query, {**tantivy_backend_module.facet_aggregations(), **stories})
    limit = sum(len(result.get("buckets", [None])) for result in by_kind.values())
    assert sum(len(result.get("buckets", [None])) for result in together.values()) > limit
    smaller = _SmallerBucketLimit(searcher, limit)
    monkeypatch.setattr(tantivy_index, "searcher", lambda: smaller)
    for params in ({}, {"q": "tanks"}):
        found = run(tantivy_backend, "tantivy", **params)
        assert facet_counts(found) == facet_counts(run(tantivy_backend, "postgres", **params))
    assert smaller.refused > 0


def test_entities_are_counted_kind_by_kind_when_the_rebuild_is_not_known_to_lie_together(
    tantivy_backend, monkeypatch
):
    # The record of the rebuild that wrote one segment names one build; a searcher
    # on an index without its documents (built again meanwhile, or older) must not
    # take that index's rebuilt documents to lie together.
    index_with_articles_added_since_the_rebuild()
    searcher = tantivy_index.searcher()
    tantivy_index.record_one_segment_build(tantivy_index.new_build())
    assert layout_of(searcher) is None
    tantivy_index.record_one_segment_build(None)
    assert layout_of(searcher) is None
    settled = recorded_settlements(monkeypatch)
    assert_entity_facets_are_postgres_ones(tantivy_backend)
    assert settled == []


@pytest.mark.parametrize("q", ["Ukraine", "tanks"])
def test_an_entity_filed_under_another_kind_moves_to_that_kinds_facet(tantivy_backend, q):
    # The index counts each kind of entity apart: a curator's new kind for an entity
    # must reach it, as an entity merge does ("Ukraine": kept totals less the
    # unmatched articles; "tanks": the matches counted).
    facet = run(tantivy_backend, "tantivy", q=q).facets.entity
    named = max((v for v in facet if v.kind != "event"), key=lambda v: v.count)
    entity = Entity.objects.get(slug=named.value)
    entity.kind = "event"  # where the seed archive's counts are smallest: it leads them
    entity.save()
    found, postgres = run(tantivy_backend, "tantivy", q=q), run(tantivy_backend, "postgres", q=q)
    assert (entity.kind, entity.slug, named.count) in entity_facet(postgres)
    assert entity_facet(found) == entity_facet(postgres)
    assert outbox.pending_count() == 0


def test_the_outbox_is_empty_once_searched(tantivy_backend):
    Article.objects.filter(pk__in=public_ids()[:3]).update(kicker="Checked")
    assert outbox.pending_count() >= 3
    run(tantivy_backend, "tantivy", q="Ukraine")
    assert outbox.pending_count() == 0


def test_a_second_writer_waits_for_the_first(tantivy_backend):
    held = threading.Event()

    def hold():
        with tantivy_index.writer():
            held.set()
            time.sleep(1.5)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(10)
    with pytest.raises(tantivy_index.IndexBusy), tantivy_index.writer(wait=0):
        pass
    started = time.monotonic()
    with tantivy_index.writer(wait=30) as second:
        second.delete_documents_by_query(tantivy.Query.term_query(tantivy_index.SCHEMA, "id", 0))
    holder.join()
    assert time.monotonic() - started > 0.5  # it waited, then wrote
    assert index_ids() == public_ids()


def test_healthz_and_check_report_an_index_that_disagrees(tantivy_backend, client):
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok", "search": "ok"}
    with tantivy_index.writer() as handle:  # an article the database does not have
        stray = tantivy.Document()
        stray.add_unsigned("id", 10**9)
        stray.add_boolean("public", True)
        handle.add_document(stray)

    health = client.get("/healthz").json()
    assert health["status"] == "degraded"
    assert "rebuild_search_index" in health["search"]
    out = io.StringIO()
    call_command("check", stdout=out, stderr=out)
    assert "articles.W001" in out.getvalue()

    call_command("rebuild_search_index", verbosity=0)
    assert client.get("/healthz").json()["status"] == "ok"
    out = io.StringIO()
    call_command("check", stdout=out, stderr=out)
    assert "articles.W001" not in out.getvalue()


def test_an_index_built_by_an_older_version_asks_for_a_rebuild(tantivy_backend, client):
    assert client.get("/healthz").json()["search"] == "ok"
    # As an index from before words in tags were left out would be: its count agrees.
    (tantivy_index.index_dir() / tantivy_index.VERSION_FILE).write_text("1\n")

    health = client.get("/healthz").json()
    assert health["status"] == "degraded"
    assert "older version" in health["search"] and "rebuild_search_index" in health["search"]
    out = io.StringIO()
    call_command("check", stdout=out, stderr=out)
    assert "articles.W001" in out.getvalue()

    call_command("rebuild_search_index", verbosity=0)
    assert client.get("/healthz").json()["search"] == "ok"


def _reading_ahead() -> bool:
    return any(thread.name == "index-read-ahead" for thread in threading.enumerate())


@pytest.mark.django_db(transaction=True)
def test_a_rebuild_reads_ahead_the_same_documents(seed_archive, settings, tmp_path, monkeypatch):
    settings.SEARCH_BACKEND = "tantivy"
    settings.SEARCH_INDEX_DIR = tmp_path / "tantivy-index"
    monkeypatch.setattr(tantivy_index, "BATCH", 5)  # several batches of the seeds
    every = Article.objects.all()
    read_ahead = tantivy_index.documents(every, read_ahead=True)
    first = next(read_ahead)
    assert _reading_ahead()
    ahead = [first.to_dict(), *(document.to_dict() for document in read_ahead)]
    assert not _reading_ahead()
    assert ahead == [document.to_dict() for document in tantivy_index.documents(every)]
    assert len(ahead) == len(public_ids()) > 5

    # A caller that stops early (a failed write) stops the reading too.
    stopped = tantivy_index.documents(every, read_ahead=True)
    next(stopped)
    stopped.close()
    assert not _reading_ahead()

    outbox.rebuild()
    assert index_ids() == public_ids()


@pytest.mark.django_db(transaction=True)
def test_a_rebuild_that_fails_reading_keeps_the_index_it_had(
    seed_archive, settings, tmp_path, monkeypatch
):
    settings.SEARCH_BACKEND = "tantivy"
    settings.SEARCH_INDEX_DIR = tmp_path / "tantivy-index"
    outbox.rebuild()
    monkeypatch.setattr(tantivy_index, "BATCH", 5)
    reading = tantivy_index._batches

    def failing(articles):  # the connection lost after the first batch
        yield from itertools.islice(reading(articles), 1)
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(tantivy_index, "_batches", failing)
    with pytest.raises(OperationalError, match="server closed the connection"):
        outbox.rebuild()
    assert not _reading_ahead()
    assert index_ids() == public_ids()  # the old index, whole


@pytest.mark.django_db(transaction=True)
def test_a_killed_load_rerun_leaves_database_and_index_in_agreement(
    seed_archive, settings, tmp_path
):
    settings.SEARCH_BACKEND = "tantivy"
    settings.SEARCH_INDEX_DIR = tmp_path / "tantivy-index"
    outbox.rebuild()
    index = tantivy_index.open_index()  # this process keeps its handle throughout
    assert index_ids() == public_ids()
    _copy(_distinct(sorted((BBC / "business").glob("*.txt")), 30), tmp_path / "batch")
    env = _env(SEARCH_BACKEND="tantivy", SEARCH_INDEX_DIR=str(settings.SEARCH_INDEX_DIR))
    mine = Article.objects.filter(origin__startswith=str(tmp_path))
    killed_load(tmp_path / "batch", env, mine, at_least=8)
    _wait_for_its_connection_to_close()
    assert mine.count() < 30
    assert index_ids() != public_ids()  # the killed load never caught the index up

    rerun = subprocess.run(
        _load_command(tmp_path / "batch"),
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert mine.count() == 30
    # This process sees the other process's commits without reopening the index.
    assert tantivy_index.open_index() is index
    assert index_ids() == public_ids()
    assert outbox.pending_count() == 0
