"""Queries as people type them (issue 14), on the seed archive: sentences and long
queries are never a dead end or refused, stop words and unsearchable text get a
plain message, `|` is `or`, prefixes of stop-word stems work."""

from __future__ import annotations

import re

import pytest
from django.db import connection

from articles import search
from articles.filters import SearchFilter
from articles.models import Article, Entity, Mention, Outlet
from articles.search.backends import get_backend
from tests.test_exports import csv_rows, jsonl_records
from tests.test_feeds import atom, json_feed
from tests.test_search import (
    GUARDIAN,
    NYT_LIVE,
    WAPO_BLINKEN,
    api,
    make_article,
    seed_paragraph,
    titles,
)

pytestmark = pytest.mark.django_db


def _error(client, q) -> str:
    response = client.get("/api/search/", {"q": q})
    assert response.status_code == 400, response.content
    return response.json()["error"]["fields"]["q"][0]


def _articles_with(word: str) -> set[str]:
    return set(
        Article.objects.public()
        .filter(search_vector=search.TextQuery(search.parse_query(word)).search_query)
        .values_list("title", flat=True)
    )


# --- Never a dead end ---------------------------------------------------------


def test_when_no_article_has_every_word_those_with_most_of_them_are_ranked(client):
    # The NYT live blog names Pistorius, Rinkevics and the Leopard, never Blinken;
    # twenty more articles do the same, and five name Blinken alone.
    q = _three_of_four_words()
    data = api(client, q=q)
    assert data["relaxed"] == "No article has all 4 words; these have most of them."
    found = {r["title"] for r in data["results"]}
    # The twenty and the live blog: three of the four words each.
    assert data["count"] == 21 and len(found) == 20
    assert found <= {f"Ramstein notes {n}" for n in range(20)} | {NYT_LIVE}
    # The facets count the same 21; an outlet chosen narrows them as it would any search.
    live_outlet = Article.objects.get(title=NYT_LIVE).outlet.slug
    outlets = {f["slug"]: f["count"] for f in data["facets"]["outlet"]}
    assert outlets == {"guardian": 20, live_outlet: 1}
    assert sum(m["count"] for m in data["facets"]["month"]) == 21
    narrowed = api(client, q=q, outlet="guardian")
    assert narrowed["count"] == 20 and narrowed["relaxed"] == data["relaxed"]


def test_the_relaxing_goes_on_until_a_page_is_filled(client):
    q = "Pistorius Rinkevics Blinken Leopard"
    data = api(client, q=q)
    assert data["relaxed"] == "No article has all 4 words; these have at least one of them."
    any_word = set().union(*(_articles_with(w) for w in q.split()))
    assert {r["title"] for r in data["results"]} == any_word
    assert data["count"] == len(any_word)
    page = client.get("/search/", {"q": q}).content.decode()
    assert "No article has all 4 words; these have at least one of them." in page


def test_relaxing_only_counts_the_numbers_of_words_it_tries(client, monkeypatch):
    # Ranking and faceting every number of words tried made a question typed as a
    # sentence cost a whole search per try; only the one shown needs them.
    asked = []
    backend = type(get_backend())
    search_once = backend.search

    def recording(self, request):
        asked.append(request)
        return search_once(self, request)

    monkeypatch.setattr(backend, "search", recording)
    data = api(client, q=_three_of_four_words())
    assert data["count"] == 21 and len(data["facets"]["month"]) > 0
    assert [r.minimum_should_match for r in asked if r.count_only] == [2, 3]
    # The search for all four words, then the one shown: three of them.
    assert [r.minimum_should_match for r in asked if not r.count_only] == [1, 3]


# tantivy adds up one BM25 per field, the title's boosted five times: there one
# article with "Blinken" in its title outranks the live blog's three words in its body.
@pytest.mark.postgres_only
def test_the_article_with_most_of_the_words_ranks_first_when_relaxed(client):
    data = api(client, q="Pistorius Rinkevics Blinken Leopard")
    assert data["results"][0]["title"] == NYT_LIVE  # most of the words, and rare ones


def test_relaxing_keeps_phrases_exclusions_and_or_exact(client):
    # The prefix stays required, the exclusion excluded: only the words may be missing.
    data = api(client, q="Pistorius Blinken Zelensky tank* -Rinkevics")
    assert data["relaxed"] is not None
    found = {r["title"] for r in data["results"]}
    assert found and NYT_LIVE not in found  # it says Rinkevics
    assert found <= _articles_with("tank*")
    # Each side of `or` relaxes its own words; its phrase stays required.
    data = api(client, q='Pistorius Blinken or "Storm Shadow" Zelensky')
    assert data["relaxed"].startswith("Only 1 article has every word of one side of “or”")
    allowed = _articles_with("Pistorius") | _articles_with("Blinken")
    allowed |= _articles_with("Zelensky") & _articles_with('"Storm Shadow"')
    found = {r["title"] for r in data["results"]}
    assert found and found <= allowed


def test_a_long_sentence_is_never_refused(client):
    q = (
        "what did the defence ministers of Germany and Poland say about sending Leopard "
        "tanks to Ukraine before the meeting at Ramstein air base in January and what "
        "happened to the coalition afterwards"
    )
    data = api(client, q=q)
    assert data["count"] > 0
    understood = data["understood"]
    assert "Too common to search for: “what”, “did”, “the”" in understood
    assert "Left out, as the commonest of more than 16 words: " in understood
    # Every word left out is at least as common as every word kept.
    left_out = understood.split("Left out, as the commonest of more than 16 words: ")[1]
    dropped = [w.strip("“”.") for w in left_out.replace(" and ", ", ").split(", ")]
    filterset = SearchFilter({"q": q}, queryset=Article.objects.public())
    assert filterset.is_valid()
    kept = [t.text for t in filterset.text_query.parsed.terms]
    assert len(kept) == search.MAX_TERMS
    df = _document_frequencies(kept + dropped)
    assert min(df[w] for w in dropped) >= max(df[w] for w in kept)


def test_a_pasted_paragraph_that_repeats_itself_searches_its_words_once(client):
    q = "Kyiv was calm overnight, officials said. " * 90
    data = api(client, q=q)
    assert data["count"] > 0
    filterset = SearchFilter({"q": q}, queryset=Article.objects.public())
    assert filterset.is_valid()
    terms = [t.text.strip(",.") for t in filterset.text_query.parsed.terms]
    assert terms == ["Kyiv", "calm", "overnight", "officials", "said"]


def _document_frequencies(words: list[str]) -> dict[str, int]:
    from articles.search.words import word_statistics

    statistics, _ = word_statistics(words)
    return {word: frequency for word, (_, frequency) in statistics.items()}


def _three_of_four_words() -> str:
    """Twenty articles with three of the query's four words, as the live blog has; five
    with one of them: the query relaxes to "most of them" (returned)."""
    outlet = Outlet.objects.get(slug="guardian")
    three = [seed_paragraph("000_0e4d571b1702f214.txt", w) for w in ("Rinkevics", "Pistorius")]
    assert "Leopard" in three[0] and not any("Blinken" in p for p in three)
    for number in range(20):
        make_article(f"Ramstein notes {number}", three, outlet=outlet)
    for number in range(5):
        make_article(f"Blinken notes {number}", [f"Blinken spoke ({number})."], outlet=outlet)
    return "Pistorius Rinkevics Blinken Leopard"


def test_an_export_of_a_relaxed_search_holds_what_its_pages_list(client):
    q = _three_of_four_words()
    page = api(client, q=q)
    listed = {r["id"] for r in page["results"]}
    rows = csv_rows(client, q=q)
    exported = {int(row["id"]) for row in rows}
    # Every article with three of the words, past the first page's twenty.
    assert len(exported) == page["count"] == 21 and listed < exported
    assert exported == {
        a.pk for a in Article.objects.filter(title__startswith="Ramstein notes")
    } | {Article.objects.get(title=NYT_LIVE).pk}
    meta, *records = jsonl_records(client, q=q)
    assert meta["count"] == len(records) == 21
    assert (
        meta["relaxed"]
        == page["relaxed"]
        == ("No article has all 4 words; these have most of them.")
    )
    assert client.get("/search/export.json", {"q": q}).json()["relaxed"] == meta["relaxed"]
    # Exact searches say nothing of it.
    assert jsonl_records(client, q="Rinkevics")[0]["relaxed"] is None


def test_a_feed_of_a_relaxed_search_lists_what_its_pages_list(client):
    q = "Pistorius Rinkevics Blinken Leopard"  # no seed has all 4; each has one
    page = api(client, q=q)
    feed = json_feed(client, "/search/feed.json", q=q)
    assert {item["title"] for item in feed["items"]} == {r["title"] for r in page["results"]}
    assert len(feed["items"]) == page["count"] > 0
    assert feed["description"].endswith(page["relaxed"])
    atom_feed = atom(client, "/search/feed.atom", q=q)
    assert len(atom_feed.findall("{http://www.w3.org/2005/Atom}entry")) == page["count"]


# --- Edge queries -------------------------------------------------------------


@pytest.mark.parametrize("q", ["👍", "or", "-", "!", "&", "<->"])
def test_a_query_with_no_searchable_word_gets_a_message_not_the_archive(client, q):
    assert _error(client, q) == (
        f"“{q}” has no word to search for: type a word, a name or a “quoted phrase”."
    )
    page = client.get("/search/", {"q": q})
    assert page.status_code == 400
    assert "has no word to search for" in page.content.decode()


@pytest.mark.parametrize("q", ["the", "a the of"])
def test_a_query_of_stop_words_only_says_so(client, q):
    message = _error(client, q)
    assert "too common to search for" in message
    assert "check the spelling" not in message.lower()


def test_stop_words_are_not_described_as_required(client):
    understood = api(client, q="coalition of the willing")["understood"]
    assert understood == (
        "Articles with “coalition” and “willing”. Too common to search for: “of” and “the”."
    )


def test_a_bar_means_or(client):
    either = set(titles(client, q="Pistorius or Blinken"))
    assert set(titles(client, q="Pistorius | Blinken")) == either
    assert set(titles(client, q="Pistorius|Blinken")) == either
    assert {GUARDIAN, WAPO_BLINKEN} <= either


@pytest.mark.parametrize("stem", ["off", "all", "on", "over", "under", "out"])
def test_a_prefix_on_a_stop_word_stem_finds_words_starting_with_it(client, stem):
    found = titles(client, q=f"{stem}*")
    assert found
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM articles_article WHERE is_public AND "
            "search_vector @@ to_tsquery('simple', %s)",
            [f"{stem}:*"],
        )
        assert len(found) == min(cursor.fetchone()[0], 20)


def test_a_prefix_finds_offensive(client):
    assert set(titles(client, q="off*")) >= set(titles(client, q="offensive")) != set()


@pytest.mark.parametrize("prefix", ["negotiat", "escalat", "presiden", "happ"])
def test_a_prefix_finds_every_article_with_a_word_starting_with_it(client, prefix):
    # "negotiations" is indexed as its stem "negoti", which "negotiat" does not start.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT title FROM articles_article WHERE is_public AND "
            "concat_ws(' ', title, kicker, dek, body) ~* %s",
            [rf"\m{prefix}"],
        )
        written = {title for (title,) in cursor.fetchall()}
    assert written
    assert set(titles(client, q=f"{prefix}*")) == written
    # Highlighted as the words they are.
    marked = _marked(client, f"{prefix}*")
    assert marked and all(word.startswith(prefix) for word in marked), marked


# --- Highlights and alternatives ----------------------------------------------


def _marked(client, q) -> set[str]:
    """Every word marked in the titles, snippets and entries of the results page for `q`."""
    page = client.get("/search/", {"q": q}).content.decode()
    return {mark.casefold() for mark in re.findall(r"<mark>(.*?)</mark>", page)}


@pytest.mark.parametrize(
    ("q", "never"),
    [
        ("Putin", {"president", "v", "vladimir"}),
        ("Leopard", {"ii", "2"}),
        ("Zelenskyy", {"president"}),
    ],
)
def test_only_what_matched_is_highlighted_never_a_word_of_an_alias(client, q, never):
    marked = _marked(client, q)
    assert marked, q
    assert not marked & never, marked


def test_a_name_seen_once_brings_no_spellings_into_a_search(client):
    # A one-off recognition (one article) with a spelling of Kyiv as its alias.
    article = Article.objects.get(title=GUARDIAN)
    noisy = Entity.objects.create(
        name="Condemned Kyiv Officials", kind=Entity.Kind.GROUP, slug="noise", aliases=["Kyjiw"]
    )
    Mention.objects.create(entity=noisy, section=article.sections.first(), article=article)
    assert "Condemned" not in api(client, q="Kyjiw")["understood"]
    # Seen in a second article, it is a spelling the archive can trust.
    other = Article.objects.get(title=WAPO_BLINKEN)
    Mention.objects.create(entity=noisy, section=other.sections.first(), article=other)
    assert "Condemned Kyiv Officials" in api(client, q="Kyjiw")["understood"]


def test_a_spelling_holding_the_word_itself_is_not_an_alternative(client):
    russia = Entity.objects.get(slug="russia")
    russia.aliases = [*russia.aliases, "Condemned Russia", "Russia said on Tuesday that"]
    russia.save()
    assert "Condemned" not in api(client, q="Russia")["understood"]
    assert "Tuesday" not in api(client, q="Russia")["understood"]


# --- Dates --------------------------------------------------------------------


def test_only_iso_dates_are_read_and_the_page_says_what_is_accepted(client):
    message = client.get("/api/search/", {"q": "Ukraine", "from": "01/02/2022"}).json()
    assert "YYYY-MM-DD" in message["error"]["fields"]["from"][0]
    page = client.get("/search/", {"q": "Ukraine", "from": "01/02/2022"})
    assert page.status_code == 400
    assert "a form like 01/02/2023 could be 1 February or 2 January" in page.content.decode()


def test_the_page_states_the_dates_it_searched(client):
    params = {"q": "Ukraine", "from": "2022-02-01", "to": "2022-03-31"}
    said = "Published from 1 February 2022 to 31 March 2022 (UTC)."
    assert api(client, **params)["searched_range"] == said
    assert said in client.get("/search/", params).content.decode()
    assert api(client, q="Ukraine", to="2023-01-31")["searched_range"] == (
        "Published on or before 31 January 2023 (UTC)."
    )
    assert api(client, q="Ukraine")["searched_range"] is None


# --- Other scripts ------------------------------------------------------------


@pytest.mark.parametrize(
    ("cyrillic", "latin"),
    [("Київ", "Kyiv"), ("Киев", "Kyiv"), ("Харків", "Kharkiv"), ("Зеленський", "Zelensky")],
)
def test_a_name_typed_in_cyrillic_finds_its_latin_spellings(client, cyrillic, latin):
    found = set(titles(client, q=cyrillic))
    assert found and found == set(titles(client, q=latin))
    assert latin in api(client, q=cyrillic)["understood"]


# --- Hyphenated words -----------------------------------------------------------


@pytest.mark.parametrize("q", ["Kyiv-based", '"Kyiv-based drone makers"'])
def test_a_hyphenated_word_also_finds_its_words_apart(client, q):
    # The database reads "Kyiv-based" as one word (and then its parts), so alone it
    # would not find "Kyiv based"; written apart the words find both.
    outlet = Outlet.objects.get(slug="guardian")
    joined = make_article("Drone makers", ["Kyiv-based drone makers ship more."], outlet=outlet)
    apart = make_article("More drones", ["The Kyiv based drone makers grow."], outlet=outlet)
    data = api(client, q=q)
    assert {r["id"] for r in data["results"]} == {joined.pk, apart.pk}
    assert "Kyiv based" in data["understood"]


# --- Did you mean, from the archive's own words ---------------------------------


@pytest.mark.parametrize(
    ("q", "corrected"),
    [
        ("Leapord", "Leopard"),
        ("Storm Shadw", "Storm Shadow"),
        ('"Storm Shadw" missiles', '"Storm Shadow" missiles'),
        ("Pistorious", "Pistorius"),
        ("Blinkn arrives", "Blinken arrives"),
    ],
)
def test_a_word_matching_nothing_gets_the_archive_word_nearest_it(client, q, corrected):
    assert api(client, q=q)["suggestion"] == corrected


def test_a_word_the_archive_holds_is_never_corrected(client):
    for q in ("Leopard", "Storm Shadow", "Rinkevics", "Kharkov", "Zelenskyy"):
        assert api(client, q=q)["suggestion"] is None, q


def test_the_correction_is_one_click_away_even_when_other_words_found_articles(client):
    data = api(client, q="Leapord tanks")
    assert data["count"] > 0 and data["suggestion"] == "Leopard tanks"
    page = client.get("/search/", {"q": "Leapord tanks"}).content.decode()
    assert 'Did you mean <a href="?q=Leopard+tanks">Leopard tanks</a>?' in page


def test_a_phrase_no_article_has_becomes_optional_rather_than_a_dead_end(client):
    assert api(client, q='"Storm Leopard"')["count"] == 0  # alone, it stays exact
    data = api(client, q='"Storm Leopard" Pistorius Blinken')
    assert data["relaxed"] == (
        "No article has all 3 words and phrases; these have at least one of them."
    )
    found = {r["title"] for r in data["results"]}
    assert found and found == _articles_with("Pistorius") | _articles_with("Blinken")
