"""Search behaviour on the seed archive (real PostgreSQL, real seed text):
the query language, spelling variants, ranking, section hits, snippets,
facets, suggestions, and a query count that does not grow with the results."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_script_prefix

from articles import search
from articles.models import Article, Entity, Mention, Outlet, Section
from articles.search.backends import postgres
from articles.search.page import HEADLINE_CHARS, SNIPPET_CHARS

pytestmark = pytest.mark.django_db

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"

NYT_LIVE = "Allies Fail to Reach Agreement on Providing Western Tanks to Ukraine"
AJ_LIVE = "US urges citizens in Ukraine ‘to consider departing now’: Live"
WAPO_STRIKES = "Ukraine can use US weapons for limited strikes in Russia, Biden says"
WAPO_BLINKEN = "Blinken arrives in Kyiv amid U.S.-Ukraine friction over arms restrictions"
GUARDIAN = "Ukraine allies promise €21bn in military support for Kyiv"
AP = "Russia says US gives written response on Ukraine demands"


def seed_paragraph(name: str, containing: str) -> str:
    """A real paragraph from a seed file."""
    text = (SEEDS / name).read_text(encoding="utf-8")
    return next(p.strip() for p in text.split("\n\n") if containing in p)


def make_article(title, bodies, *, outlet, headings=None, kind="article", public=True, **fields):
    fields.setdefault("published_at", datetime(2023, 2, 1, tzinfo=UTC))
    fields.setdefault("date_source", "metadata")
    article = Article.objects.create(
        outlet=outlet,
        title=title,
        body="\n\n".join(bodies),
        kind=kind,
        is_public=public,
        content_hash=hashlib.sha256(f"{title}{bodies}".encode()).hexdigest(),
        **fields,
    )
    headings = headings or [""] * len(bodies)
    for position, (heading, body) in enumerate(zip(headings, bodies, strict=True)):
        Section.objects.create(
            article=article,
            position=position,
            heading=heading,
            body=body,
            anchor=f"entry-{position + 1}",
            posted_at=datetime(2023, 2, 1, 9 + position, tzinfo=UTC) if kind == "live" else None,
        )
    return article


def api(client, **params):
    response = client.get("/api/search/", params)
    assert response.status_code == 200, response.content
    return response.json()


def titles(client, **params) -> list[str]:
    return [r["title"] for r in api(client, **params)["results"]]


# --- Query language -------------------------------------------------------


def test_a_word_finds_every_article_containing_it(client):
    found = titles(client, q="Pistorius")
    assert set(found) == {NYT_LIVE, GUARDIAN}
    assert not Article.objects.filter(body__contains="Pistorius").exclude(title__in=found).exists()


def test_an_exact_phrase_needs_the_words_together(client):
    # The Washington Post has "battle" and "tanks", but not side by side.
    strikes = Article.objects.get(title=WAPO_STRIKES).body
    assert "battle" in strikes and "tanks" in strikes and "battle tanks" not in strikes
    both = api(client, q="battle tanks")
    assert both["relaxed"] == "Only 2 articles have all 2 words; these have at least one of them."
    assert {r["title"] for r in both["results"][:2]} == {NYT_LIVE, WAPO_STRIKES}
    assert titles(client, q='"battle tanks"') == [NYT_LIVE]


def test_a_phrase_runs_from_a_title_into_the_text_but_never_round_the_title(client):
    # The database reads title, dek and body in a row, once: a phrase may run from
    # the title's last word into the dek, and from the dek into the body; the index
    # repeats the title to weigh it, and no phrase may run across a repeat's edge.
    desk = Outlet.objects.create(name="Phrase Desk", slug="phrase-desk")
    plain = seed_paragraph("000_0e4d571b1702f214.txt", "BERLIN — Western defense officials")
    article = make_article(
        "Pistorius and the tanks Germany holds back",
        [plain],
        outlet=desk,
        dek="Allies meet at Ramstein",
    )

    def found(phrase: str) -> list[int]:
        return [r["id"] for r in api(client, q=f'"{phrase}"', outlet="phrase-desk")["results"]]

    assert found("holds back. Allies meet") == [article.pk]
    assert found("at Ramstein: Berlin") == [article.pk]
    assert found("holds back Pistorius") == []
    assert found("back of Pistorius") == []


def test_or_finds_either_word(client):
    pistorius = set(titles(client, q="Pistorius"))
    blinken = set(titles(client, q="Blinken"))
    assert set(titles(client, q="Pistorius or Blinken")) == pistorius | blinken
    assert pistorius - blinken and blinken - pistorius


def test_a_minus_excludes_articles_with_the_word_anywhere(client):
    # The NYT live blog mentions Kyiv in some entries but not all: excluding Kyiv
    # excludes the article, not only the entries that say it.
    assert NYT_LIVE in titles(client, q="Pistorius")
    assert titles(client, q="Pistorius -Kyiv") == []
    assert set(titles(client, q="tanks -Pistorius")) == set(titles(client, q="tanks")) - {
        NYT_LIVE,
        GUARDIAN,
    }


def test_a_prefix_finds_words_starting_with_it(client):
    # "Leopards" and "Leopard" are in the NYT blog; "leopar" alone is no word.
    assert titles(client, q="leopar") == []
    assert NYT_LIVE in titles(client, q="leopar*")


def test_accents_do_not_matter(client):
    # The Guardian writes "Pål Jonson".
    assert titles(client, q="Pal Jonson") == [GUARDIAN]
    assert titles(client, q="Pål Jonson") == [GUARDIAN]
    assert titles(client, q="Zélensky") == titles(client, q="Zelensky")


def test_kiev_finds_articles_that_only_say_kyiv(client):
    guardian = Article.objects.get(title=GUARDIAN)
    assert "Kyiv" in guardian.body and "Kiev" not in guardian.body
    assert GUARDIAN in titles(client, q="Kiev")
    assert set(titles(client, q="Kiev")) == set(titles(client, q="Kyiv"))


def test_zelenskyy_finds_articles_that_say_zelensky(client):
    nyt = Article.objects.get(title=NYT_LIVE)
    assert "Zelensky" in nyt.body and "Zelenskyy" not in nyt.body
    found = titles(client, q="Zelenskyy")
    assert NYT_LIVE in found and WAPO_BLINKEN in found
    assert set(found) == set(titles(client, q="Zelensky"))


def test_an_alias_added_by_a_curator_is_searched(client):
    kyiv = Entity.objects.get(slug="kyiv")
    assert titles(client, q="Kyjiw") == []
    kyiv.aliases = [*kyiv.aliases, "Kyjiw"]
    kyiv.save()
    assert set(titles(client, q="Kyjiw")) == set(titles(client, q="Kyiv"))


def test_an_entitys_spellings_are_searched_once_two_public_articles_name_it(client):
    """One article naming an entity may be a tagging slip; two are trusted. A hidden
    article does not count."""
    entity = Entity.objects.create(
        name="Pechersk Lavra", kind="place", slug="pechersk-lavra", aliases=["Lavrska"]
    )
    first, second = Article.objects.public().order_by("pk")[:2]
    draft = make_article("Draft", ["The Lavrska monastery."], outlet=first.outlet, public=False)

    def named_in(article) -> None:
        section = article.sections.first()
        Mention.objects.create(entity=entity, article=article, section=section, count=1)

    def understood() -> str:
        return api(client, q="Lavrska")["understood"]

    named_in(first)
    named_in(draft)
    assert "Pechersk Lavra" not in understood()
    named_in(second)
    assert "(or Pechersk Lavra)" in understood()


def test_transliteration_variants_are_one_spelling(client):
    # Kharkiv is in the Washington Post; nobody in the seeds writes Kharkov.
    assert WAPO_STRIKES in titles(client, q="Kharkov")
    assert set(titles(client, q="Kharkov")) == set(titles(client, q="Kharkiv"))


def test_the_query_is_explained_in_plain_words(client):
    understood = api(client, q='Kiev "battle tanks" or leopard* -Abrams')["understood"]
    assert understood == (
        "Articles with “Kiev” (or Kyiv, Kiyv, Kyyiv) and the exact phrase “battle tanks”; "
        "or with a word starting with “leopard”, but without “Abrams” "
        "(or M1A1, M1A2)."
    )
    page = client.get("/search/", {"q": "Kiev"}).content.decode()
    assert "Searching for" in page and "Articles with “Kiev” (or Kyiv, Kiyv, Kyyiv)." in page


def test_parse_query_groups_like_websearch_to_tsquery():
    parsed = search.parse_query('a b or "c d" -e f*')
    assert parsed.groups == (
        (search.Term("a"), search.Term("b")),
        (
            search.Term("c d", search.PHRASE),
            search.Term("e", negated=True),
            search.Term("f", search.PREFIX),
        ),
    )
    assert search.parse_query("or tanks or").groups == ((search.Term("tanks"),),)
    assert not search.parse_query("  ")
    with pytest.raises(search.QueryError, match="has no word to search for"):
        search.parse_query(' " & | ')


# --- Ranking --------------------------------------------------------------


@pytest.fixture
def ranking_desk():
    """Three articles made of real seed paragraphs: Pistorius in a title, in a live
    entry heading, and in a body only."""
    desk = Outlet.objects.create(name="Ranking Desk", slug="ranking-desk")
    plain = seed_paragraph("000_0e4d571b1702f214.txt", "BERLIN — Western defense officials")
    inventory = seed_paragraph("000_0e4d571b1702f214.txt", "in case of a future deal")
    assert "Pistorius" not in plain
    title = make_article("Pistorius and the tanks Germany holds back", [plain], outlet=desk)
    heading = make_article(
        "Live: allies meet at Ramstein",
        [plain, plain.replace("BERLIN — ", "")],
        headings=["Pistorius offers training", "No deal on tanks"],
        kind="live",
        outlet=desk,
    )
    body = make_article("Allies weigh the tank question", [inventory], outlet=desk)
    return title, heading, body


def test_a_title_match_outranks_a_heading_match_which_outranks_a_body_match(client, ranking_desk):
    title, heading, body = ranking_desk
    assert titles(client, q="Pistorius", outlet="ranking-desk") == [
        title.title,
        heading.title,
        body.title,
    ]


def test_on_the_seeds_the_article_titled_with_the_word_comes_first(client):
    found = titles(client, q="Blinken")
    assert found[0] == WAPO_BLINKEN
    assert len(found) > 1


def test_sorting_by_date(client):
    newest = api(client, q="Ukraine", sort="newest")["results"]
    dates = [r["published_at"] for r in newest]
    assert dates == sorted(dates, reverse=True)
    oldest = api(client, q="Ukraine", sort="oldest")["results"]
    assert [r["published_at"] for r in oldest] == sorted(dates)


# --- Section hits and snippets -------------------------------------------


def test_matching_entries_are_listed_with_deep_links(client):
    result = api(client, q="Estonia", kind="live")["results"][0]
    assert result["title"] == AJ_LIVE
    section = result["sections"][0]
    assert section["heading"] == "US fighter jets arrive in Estonia for training"
    assert section["anchor"] == "us-fighter-jets-arrive-in-estonia-for-training"
    assert section["posted_at"] == "2022-01-26T17:31:00+00:00"
    assert section["url"].endswith(
        f"{Article.objects.get(title=AJ_LIVE).get_absolute_url()}#{section['anchor']}"
    )
    assert "<mark>Estonia</mark>" in section["snippet"]
    page = client.get("/search/", {"q": "Estonia"}).content.decode()
    assert (
        f'href="{Article.objects.get(title=AJ_LIVE).get_absolute_url()}#{section["anchor"]}"'
        in page
    )
    # The entry's moment and the live blog's day, as every page writes them.
    assert '<time datetime="2022-01-26T17:31:00+00:00">26 Jan 2022, 17:31</time> UTC' in page
    assert '<time datetime="2022-01-26T00:00:00+00:00">26 January 2022</time>' in page


def test_at_most_three_entries_per_article_with_the_total(client):
    result = next(r for r in api(client, q="Ukraine")["results"] if r["title"] == AJ_LIVE)
    assert len(result["sections"]) == search.SECTIONS_PER_RESULT
    page = client.get("/search/", {"q": "Ukraine", "kind": "live"}).content.decode()
    matching = Section.objects.filter(
        article__title=AJ_LIVE, search_vector=search.build_text_query("Ukraine").search_query
    ).count()
    assert matching > 3
    assert f"{matching} matching entries" in page


def test_snippets_highlight_matches_and_escape_article_text(client):
    desk = Outlet.objects.create(name="Test Desk", slug="test-desk")
    paragraph = seed_paragraph("003_111580efd2975eb1.txt", "played down the Trump")
    make_article(
        "Pistorius <script>alert('title')</script>",
        [f"{paragraph} <script>alert('body')</script> 5 < 6 & <b>Pistorius</b>"],
        outlet=desk,
    )
    data = api(client, q="Pistorius", outlet="test-desk")
    snippet = data["results"][0]["snippet"]
    assert "<mark>Pistorius</mark>" in snippet
    # ts_headline drops tags from snippets; what is left is escaped text.
    assert "<script" not in snippet and "<b>" not in snippet
    assert "alert(&#x27;body&#x27;)" in snippet and "5 &lt; 6 &amp;" in snippet
    page = client.get("/search/", {"q": "Pistorius", "outlet": "test-desk"}).content.decode()
    assert "<script>alert" not in page
    # The highlighted title keeps the tags as text.
    assert "<mark>Pistorius</mark> &lt;script&gt;alert(&#x27;title&#x27;)&lt;/script&gt;" in page


def test_a_snippet_finds_a_match_deep_in_a_long_body(client):
    # A snippet is looked for in the body's start first; a match only further on,
    # past it, is found in the whole body.
    desk = Outlet.objects.create(name="Test Desk", slug="test-desk")
    start = (SEEDS / "001_8a38074ce1a56c90.txt").read_text(encoding="utf-8")
    assert len(start) > SNIPPET_CHARS and "Pistorius" not in start
    late = seed_paragraph("003_111580efd2975eb1.txt", "played down the Trump")
    make_article("Berlin weighs its options", [start, late], outlet=desk)
    make_article(
        "Pistorius in Kyiv",
        [late, start],
        outlet=desk,
        published_at=datetime(2023, 3, 1, tzinfo=UTC),
    )

    results = api(client, q="Pistorius", outlet="test-desk", sort="newest")["results"]

    assert [r["title"] for r in results] == ["Pistorius in Kyiv", "Berlin weighs its options"]
    for result in results:
        assert "<mark>Pistorius</mark>" in result["snippet"]
        assert "played down" in result["snippet"]


def test_highlight_never_lets_markup_through():
    assert search.highlight("\ue000<img src=x>\ue001 \ue000x") == "<mark>&lt;img src=x&gt;</mark> x"


# --- Facets ---------------------------------------------------------------


def test_facets_count_the_current_results(client):
    data = api(client, q="Kyiv")
    outlets = {f["slug"]: f["count"] for f in data["facets"]["outlet"]}
    expected = {}
    for result in data["results"]:
        expected[result["outlet"]["slug"]] = expected.get(result["outlet"]["slug"], 0) + 1
    assert outlets == expected
    months = {f["month"]: f["count"] for f in data["facets"]["month"]}
    assert sum(months.values()) == data["count"]
    assert months["2022-01"] == sum(
        1 for r in data["results"] if r["published_at"][:7] == "2022-01"
    )
    topic_counts = {f["slug"]: f["count"] for f in data["facets"]["topic"]}
    for slug, count in topic_counts.items():
        assert count == sum(1 for r in data["results"] if slug in r["topics"])
    entity = {f["slug"]: f for f in data["facets"]["entity"]}
    assert entity["kyiv"]["kind"] == "place"
    assert entity["kyiv"]["count"] == sum(1 for r in data["results"] if "kyiv" in r["entities"])


@pytest.mark.parametrize("q", ["quince", ""])  # the text search's sample, and browsing
def test_months_are_counted_in_the_archive_time_zone(client, settings, q):
    settings.TIME_ZONE = "Europe/Kyiv"  # UTC+2 in winter
    desk = Outlet.objects.create(name="Month Desk", slug="month-desk")
    late_january_utc = datetime(2023, 1, 31, 23, 30, tzinfo=UTC)  # 1 February in Kyiv
    make_article("Quince one", ["Quince orchards."], outlet=desk, published_at=late_january_utc)
    mid_january = datetime(2023, 1, 15, 12, tzinfo=UTC)
    make_article("Quince two", ["More quince."], outlet=desk, published_at=mid_january)
    make_article("Quince three", ["Undated quince."], outlet=desk, published_at=None)

    data = api(client, q=q, outlet="month-desk")

    assert data["count"] == 3
    months = [(f["month"], f["count"]) for f in data["facets"]["month"]]
    assert months == [("2023-01", 1), ("2023-02", 1)]


def test_entity_facets_show_the_top_entities_of_each_kind(client):
    facet = api(client, q="Ukraine")["facets"]["entity"]
    kinds = {f["kind"] for f in facet}
    assert {"person", "place", "organisation", "weapon"} <= kinds
    for kind in kinds:
        counts = [f["count"] for f in facet if f["kind"] == kind]
        assert len(counts) <= search.ENTITIES_PER_KIND
        assert counts == sorted(counts, reverse=True)


def test_the_entity_facet_reads_entities_named_once_only_for_kinds_short_of_others():
    # A sample names thousands of entities once. One of them cannot take a place in
    # a kind with ENTITIES_PER_KIND named more often, so the facet looks them up only
    # for kinds short of those; each kind's first places (most articles, then name)
    # must still be exactly those over every mention.
    desk = Outlet.objects.create(name="Facet Desk", slug="facet-desk")
    articles = [make_article(f"Facet {i}", [f"Facet body {i}."], outlet=desk) for i in range(4)]

    def named(name, kind, in_articles):
        entity = Entity.objects.create(name=name, kind=kind, slug=name.lower().replace(" ", "-"))
        for i in in_articles:
            section = articles[i].sections.get()
            Mention.objects.create(entity=entity, section=section, article=articles[i])

    for n, name in enumerate(["Ada", "Bo", "Cy", "Di", "Ed", "Fay"]):
        named(name, "person", range(2 + n % 2))  # every person's place goes to one of these
    named("Aaron Once", "person", [0])
    named("Zed Org", "organisation", [0, 1])
    named("Yak Org", "organisation", [1, 2])
    for name in ("Delta Org", "Alpha Org", "Echo Org", "Bravo Org"):
        named(name, "organisation", [3])
    named("Xville", "place", [2])
    named("Wtown", "place", [0])

    facet = search.entity_facet(Article.objects.filter(outlet=desk))
    by_kind = {}
    for value in facet:
        by_kind.setdefault(value.kind, []).append((value.label, value.count))

    assert by_kind["person"] == [("Bo", 3), ("Di", 3), ("Fay", 3), ("Ada", 2), ("Cy", 2)]
    assert by_kind["organisation"] == [
        ("Yak Org", 2),
        ("Zed Org", 2),
        ("Alpha Org", 1),
        ("Bravo Org", 1),
        ("Delta Org", 1),
    ]
    assert by_kind["place"] == [("Wtown", 1), ("Xville", 1)]


def test_outlet_counts_ignore_the_outlet_filter_so_others_can_be_added(client):
    data = api(client, q="Kyiv", outlet="guardian")
    assert {r["outlet"]["slug"] for r in data["results"]} == {"guardian"}
    assert len(data["facets"]["outlet"]) > 1


def test_facet_links_add_and_remove_the_filter(client):
    page = client.get("/search/", {"q": "Kyiv"}).content.decode()
    assert 'href="?q=Kyiv&amp;outlet=guardian"' in page
    assert 'href="?q=Kyiv&amp;entity=kyiv"' in page
    assert 'href="?q=Kyiv&amp;from=2025-04-01&amp;to=2025-04-30"' in page
    filtered = client.get("/search/", {"q": "Kyiv", "outlet": "guardian"}).content.decode()
    assert re.search(r'href="\?q=Kyiv" class="facet-link is-selected"', filtered)
    assert "Outlet: The Guardian" in filtered


def test_a_hits_entities_link_to_their_pages_under_the_sites_own_address(client, settings):
    """The entity links are made once per slug and address (a cached tag): a site
    served under a path prefix gets its own links, not those made for another."""
    settings.RESULT_CACHE_SECONDS = 0  # each page rendered, not served whole from the cache
    first = api(client, q="Kyiv")["results"][0]
    page = client.get("/search/", {"q": "Kyiv"}).content.decode()
    hit = page[page.index(first["title"]) :]
    named = re.findall(r'<ul class="tags" aria-label="Mentioned">(.*?)</ul>', hit, re.S)[0]
    links = re.findall(r'<a href="([^"]+)">', named)
    assert links == [f"/entities/{slug}/" for slug in first["entities"][:5]]
    assert client.get(links[0]).status_code == 200
    with override_script_prefix("/archive/"):
        prefixed = client.get("/search/", {"q": "Kyiv"}).content.decode()
    assert f'href="/archive{links[0]}"' in prefixed
    again = client.get("/search/", {"q": "Kyiv"}).content.decode()
    assert f'href="{links[0]}"' in again and "/archive/entities/" not in again


def test_the_kind_facet_counts_articles_and_live_blogs_and_links_to_each(client):
    data = api(client, q="Kyiv", copies="all")
    assert data["count"] <= len(data["results"])  # every match on the page, to count by hand
    kinds = {f["kind"]: (f["name"], f["count"]) for f in data["facets"]["kind"]}
    for kind, name in (("article", "Article"), ("live", "Live blog")):
        assert kinds[kind] == (name, sum(1 for r in data["results"] if r["kind"] == kind))

    page = client.get("/search/", {"q": "Kyiv"}).content.decode()
    assert 'href="?q=Kyiv&amp;kind=live" class="facet-link"' in page
    live_only = client.get("/search/", {"q": "Kyiv", "kind": "live"}).content.decode()
    assert re.search(
        r'href="\?q=Kyiv" class="facet-link is-selected"[^>]*><span>Live blog', live_only
    )
    assert "Only live blogs" in live_only
    only = api(client, q="Kyiv", kind="live", copies="all")
    assert [f["kind"] for f in only["facets"]["kind"]] == ["live"]
    assert only["count"] == kinds["live"][1]


# --- Did you mean ---------------------------------------------------------


def test_a_misspelt_name_gets_a_suggestion(client):
    data = api(client, q="Pistorious")
    assert data["count"] == 0
    assert data["suggestion"] == "Pistorius"
    page = client.get("/search/", {"q": "Pistorious"}).content.decode()
    assert 'Did you mean <a href="?q=Pistorius">Pistorius</a>?' in page


def test_a_misspelt_title_word_gets_a_suggestion_keeping_the_rest(client):
    assert api(client, q="Blinkn arrives")["suggestion"] == "Blinken arrives"


def test_words_in_the_archive_are_not_corrected(client):
    assert api(client, q="Zelenskyy")["suggestion"] is None
    assert api(client, q="Pistorius")["suggestion"] is None


# --- Cost -----------------------------------------------------------------


def _queries(client, url, params) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params).status_code == 200
    return len(captured.captured_queries)


# Queries per request, by backend. Postgres: spellings (two for words that name an
# entity, as these do: the entities, then which are trusted); how common the words
# are; count with the outlet and month facets (2: articles matching in their text, then
# those matching in an entry heading); the names of the outlets counted; the page's
# order by relevance; the page's articles with their snippets; entries; tags (topics
# and entities); topic and entity facets.
# Tantivy: spellings; how common the words are; the outbox; the archive's BM25 of its
# most relevant matches (a text search by relevance); the page's articles with
# their snippets; entries; tags; the names of the outlets, topics and
# entities its facets counted (one query). Both: the page's stories' copies (which articles
# are copies of one story, the backend tells). "Did you mean" adds one when fewer
# than three match; each kind of filter adds one lookup of the slugs given
# (tantivy: two, the ids too).
QUERIES = {
    "postgres": {"search": 12, "filtered": 14, "browse": 7},
    "tantivy": {"search": 9, "filtered": 14, "browse": 5},
}


def test_the_query_count_does_not_grow_with_the_results(client, settings, monkeypatch):
    # Snippets read whole bodies here: one found past a body's start costs one more
    # query a page (test_a_snippet_finds_a_match_deep_in_a_long_body).
    monkeypatch.setattr("articles.search.page.SNIPPET_CHARS", HEADLINE_CHARS)
    expected = QUERIES[settings.SEARCH_BACKEND]
    many = _queries(client, "/api/search/", {"q": "Ukraine"})
    few = _queries(client, "/api/search/", {"q": "Kharkiv"})
    assert api(client, q="Ukraine")["count"] == 8 and api(client, q="Kharkiv")["count"] == 3
    assert many == few == expected["search"]
    assert api(client, q="Rinkevics")["count"] == 1
    # + "did you mean"
    assert _queries(client, "/api/search/", {"q": "Rinkevics"}) == expected["search"] + 1
    filtered = {
        "q": "Ukraine",
        "outlet": ["cnn", "guardian", "al-jazeera"],
        "topic": "military-aid-and-weapons",
        "entity": "russia",
    }
    assert api(client, **filtered)["count"] == 2
    # + "did you mean": 2 match
    assert _queries(client, "/api/search/", filtered) == expected["filtered"] + 1
    assert _queries(client, "/search/", {"q": "Ukraine"}) == expected["search"]
    # Browsing: no spellings, no ranking, no entries.
    assert _queries(client, "/search/", {}) == expected["browse"]


@pytest.mark.postgres_only
def test_ranking_is_bounded_to_the_newest_candidates(client, monkeypatch):
    monkeypatch.setattr(postgres, "CANDIDATE_LIMIT", 3)
    data = api(client, q="Ukraine")
    assert data["count"] == 8  # the count and facets still cover every match
    assert data["num_pages"] == 1 and len(data["results"]) == 3
    newest_three = titles(client, q="Ukraine", sort="newest")[:3]
    assert set(titles(client, q="Ukraine")) == set(newest_three)
    page = client.get("/search/", {"q": "Ukraine"}).content.decode()
    assert "relevance ranks only the newest ones" in page


# --- The bounded sample ---------------------------------------------------


def test_the_section_half_reads_the_headings_first_only_when_they_are_fewer():
    # Past the sample's cut, the section half either reads the matching headed
    # sections first or the articles after the cut first, whichever the planner
    # estimates fewer (a medium word in a large archive against `said`).
    desk = Outlet.objects.create(name="Estimate Desk", slug="estimate-desk")
    first_day = datetime(2022, 1, 1, tzinfo=UTC)
    for day in range(240):  # live blogs, every one with an entry headed "Roads reopen"
        make_article(
            f"Report {day}",
            ["Crews worked overnight.", "Traffic moved again."],
            headings=["Roads reopen", "Kestrels nest" if day in (3, 4) else "Update"],
            kind="live",
            outlet=desk,
            published_at=first_day + timedelta(days=day),
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE articles_article")
        cursor.execute("ANALYZE articles_section")  # the estimates come from these statistics

    def sections(word):
        return postgres._section_matches(search.build_text_query(word))

    def past(day):
        return Article.objects.filter(published_at__gte=first_day + timedelta(days=day))

    assert postgres._estimated_rows(past(40)) == pytest.approx(200, rel=0.25)
    assert postgres._sections_first(sections("kestrels"), past(40))  # 2 sections, 200 articles
    assert not postgres._sections_first(sections("roads"), past(40))  # 240 sections


@pytest.mark.parametrize(
    ("sections_first", "unfound_share"),
    [(False, 0.0), (False, 1.01), (True, 0.5)],
    ids=["by-date", "by-date-the-unfound-by-id", "sections-first"],
)
def test_the_sample_is_the_first_matches_in_order_wherever_the_word_is(
    monkeypatch, sections_first, unfound_share
):
    # `_sample` merges articles matching in their own text with those matching only
    # in an entry heading, and past a cut skips the headings of older articles. For
    # every size and both orders it must equal the plain ordered query, whichever way
    # the section half is read (chosen by row estimates and by how many the article
    # half found, on a large archive).
    monkeypatch.setattr(postgres, "_sections_first", lambda *_: sections_first)
    monkeypatch.setattr(postgres, "UNFOUND_SHARE", unfound_share)
    desk = Outlet.objects.create(name="Sample Desk", slug="sample-desk")

    def on(day, hour=12):
        return {"published_at": datetime(2023, 3, day, hour, tzinfo=UTC)}

    def in_text(day):
        make_article(f"Kestrels {day}", ["Kestrels nest on the roof."], outlet=desk, **on(day))

    def in_heading(day, hour=12):
        make_article(
            f"Live {day}-{hour}",
            ["Sirens sounded.", "Crews cleared the roads."],
            headings=["Morning", "Kestrels seen over the roads"],
            kind="live",
            outlet=desk,
            **on(day, hour),
        )

    # Ties at noon on days 1, 6 and 10; ids break them, so the creation order matters:
    # the heading-only match comes first at both ends (newest on day 10, oldest on day 1).
    for day in (2, 3, 5, 6, 8, 10):
        in_text(day)
    for day, hour in ((1, 12), (4, 12), (6, 12), (9, 12), (9, 13), (10, 12)):
        in_heading(day, hour)
    in_text(1)
    make_article("Undated kestrels", ["Kestrels again."], outlet=desk, published_at=None)
    make_article(
        "Undated live",
        ["Quiet night."],
        headings=["Kestrels at dusk"],
        kind="live",
        outlet=desk,
        published_at=None,
    )
    articles = Article.objects.filter(outlet=desk)
    kestrels = search.build_text_query("kestrels")
    plain = search.matching(articles, kestrels).annotate(month=postgres._publication_month())
    assert plain.count() == 15

    for oldest in (False, True):
        order = search.oldest_first() if oldest else search.newest_first()
        for limit in range(1, 17):
            expected = list(plain.order_by(*order).values_list(*postgres._SAMPLE_FIELDS)[:limit])
            sample = postgres._sample(articles, kestrels, limit, oldest=oldest)
            assert sample == expected, (oldest, limit)
