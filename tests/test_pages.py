"""The browse pages on the seed archive: home, article, entity, outlet and topic
pages show their parts, escape untrusted text, and never show hidden articles."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

import pytest
from django.core.cache import cache as django_cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles import overview
from articles.models import Article, ArticleTopic, Entity, Mention, Outlet, Section, Topic

pytestmark = pytest.mark.django_db

NYT_LIVE = "Allies Fail to Reach Agreement on Providing Western Tanks to Ukraine"
AJ_LIVE = "US urges citizens in Ukraine ‘to consider departing now’: Live"
WAPO_STRIKES = "Ukraine can use US weapons for limited strikes in Russia, Biden says"
GUARDIAN = "Ukraine allies promise €21bn in military support for Kyiv"


def html(client, url, status=200, **params) -> str:
    response = client.get(url, params)
    assert response.status_code == status, (url, response.status_code)
    return response.content.decode()


def article(title) -> Article:
    return Article.objects.get(title=title)


def make_article(title, body, *, outlet, public=True, **fields):
    fields.setdefault("published_at", datetime(2023, 2, 1, tzinfo=UTC))
    fields.setdefault("date_source", "metadata")
    captions = fields.pop("captions", [])
    created = Article.objects.create(
        outlet=outlet,
        title=title,
        body=body,
        is_public=public,
        content_hash=hashlib.sha256(f"{title}{body}".encode()).hexdigest(),
        **fields,
    )
    section = Section.objects.create(
        article=created, position=0, body=body, anchor="part-1", captions=captions
    )
    return created, section


# --- Home -----------------------------------------------------------------


def test_home_has_a_search_box_counts_and_lists(client):
    page = html(client, "/")
    assert re.search(
        r'<form class="big-search" role="search" action="/search/" method="get">', page
    )
    assert '<label for="q" class="visually-hidden">Search the archive</label>' in page
    assert "<dt>Articles</dt><dd>8</dd>" in page and "<dt>Live blogs</dt><dd>2</dd>" in page
    entries = Section.objects.count()
    assert f"<dt>Entries and sections</dt><dd>{entries}</dd>" in page
    assert "Latest articles" in page and GUARDIAN in page  # the newest
    assert 'href="/entities/ukraine/"' in page  # most mentioned
    assert 'href="/outlets/al-jazeera/">Al Jazeera</a>' in page
    assert 'href="/topics/military-aid-and-weapons/">Military aid and weapons</a>' in page


def test_home_counts_only_what_public_articles_hold(client, commits):
    topic = Topic.objects.filter(article_tags__isnull=False).first()
    nyt = Outlet.objects.get(slug="new-york-times")
    with commits():
        desk = Outlet.objects.create(name="Hidden Desk", slug="hidden-desk")
        hidden, section = make_article("Draft", "Kyiv and Odesa.", outlet=desk, public=False)
        named_only_here = Entity.objects.create(name="Odesa Port Authority", kind="org", slug="opa")
        named_elsewhere = Mention.objects.filter(article__is_public=True).first().entity
        for entity in (named_only_here, named_elsewhere):
            Mention.objects.create(entity=entity, section=section, article=hidden, count=1)
        ArticleTopic.objects.create(article=hidden, topic=topic)
        make_article("Another draft", "Kyiv.", outlet=nyt, public=False)
    page = html(client, "/")
    tagged = ArticleTopic.objects.filter(topic=topic, excluded=False, article__is_public=True)
    assert f'{topic.name}</a> <span class="count">{tagged.count()}</span>' in page
    by_nyt = nyt.articles.filter(is_public=True).count()
    assert f'{nyt.name}</a> <span class="count">{by_nyt}</span>' in page
    assert "Hidden Desk" not in page
    public_sections = Section.objects.filter(article__is_public=True).count()
    named = Entity.objects.filter(mentions__article__is_public=True).distinct().count()
    assert public_sections < Section.objects.count()
    assert f"<dt>Entries and sections</dt><dd>{public_sections}</dd>" in page
    assert named < Entity.objects.filter(mentions__isnull=False).distinct().count()
    assert f"<dt>People, places and more</dt><dd>{named}</dd>" in page
    assert "<dt>Articles</dt><dd>8</dd>" in page


def test_the_home_timeline_is_an_svg_with_a_table_and_links_to_searches(client):
    page = html(client, "/")
    svg = re.search(r'<svg class="timeline__chart timeline__chart--wide".*?</svg>', page, re.DOTALL)
    svg = svg.group(0)
    # A group of links, not an image: an image cannot hold links (axe: nested-interactive).
    assert 'role="group"' in svg and 'role="img"' not in svg
    # January 2022: the Al Jazeera blog, two CNN stories and AP, stacked by outlet.
    assert 'href="/search/?from=2022-01-01&amp;to=2022-01-31"' in svg
    assert "<title>January 2022: 4 articles; CNN 2; Al Jazeera 1; Associated Press 1</title>" in svg
    assert svg.count("<rect") == 8 - 1  # one segment per outlet and month: CNN's two share one
    assert 'href="/search/?from=2022-01-01&amp;to=2022-01-31&amp;outlet=cnn"' not in svg
    table = re.search(r'<details class="timeline__table">.*?</details>', page, re.DOTALL).group(0)
    assert "<caption>Articles per month and outlet</caption>" in table
    row = re.search(r"January 2022</a></th>(.*?)</tr>", table, re.DOTALL).group(1)
    assert re.findall(r"<td>(\d+)</td>", row)[-1] == "4"


def test_an_outlet_name_is_text_in_the_chart_and_its_table(client, commits):
    """Outlet names come from the articles loaded (untrusted): escaped in the bars'
    titles, the legend and the table, which are written partly outside the template."""
    with commits():
        desk = Outlet.objects.create(name='<b onclick="x()">Desk & Co</b>', slug="desk-co")
        make_article("Report", "Kyiv.", outlet=desk, published_at=datetime(2022, 1, 9, tzinfo=UTC))
    page = html(client, "/")
    chart = re.search(r'<figure class="timeline".*?</figure>', page, re.DOTALL).group(0)
    assert "<b" not in chart
    escaped = "&lt;b onclick=&quot;x()&quot;&gt;Desk &amp; Co&lt;/b&gt;"
    assert f"; {escaped} 1" in chart  # a bar's title
    assert f'<th scope="col">{escaped}</th>' in chart


def outlets_by_size() -> list[str]:
    return overview.outlets_by_size(overview.current())


def test_outlets_without_a_colour_share_one_segment_and_keep_their_column(client, commits):
    """Eight outlets have the palette's colours; the rest are one grey segment a bar
    (each its own segment made a large archive's home page 1 MB), each still counted
    in the table."""
    with commits():
        for n in range(10):
            desk = Outlet.objects.create(name=f"Desk {n}", slug=f"desk-{n}")
            make_article(
                f"Report {n}", "Kyiv.", outlet=desk, published_at=datetime(2010, 5, 3, tzinfo=UTC)
            )
    page = html(client, "/")
    svg = re.search(r'<svg class="timeline__chart timeline__chart--wide".*?</svg>', page, re.DOTALL)
    may = 'href="/search/?from=2010-05-01&amp;to=2010-05-31">'
    bar = re.search(re.escape(may) + r"(.*?)</a>", svg.group(0), re.DOTALL).group(1)
    coloured = [slug for slug in outlets_by_size()[:8] if slug.startswith("desk-")]
    grey = 10 - len(coloured)
    assert grey > 1
    assert bar.count("<rect") == len(coloured) + 1
    assert bar.count('fill="#9aa0a6"') == 1
    assert f"; {grey} other outlets {grey}</title>" in bar
    table = re.search(r'<details class="timeline__table">.*?</details>', page, re.DOTALL).group(0)
    row = re.search(r"May 2010</a></th>(.*?)</tr>", table, re.DOTALL).group(1)
    cells = [int(n) for n in re.findall(r"<td>(\d+)</td>", row)]
    assert cells.count(1) == 10 and cells[-1] == 10 and sum(cells[:-1]) == 10


def test_home_reads_its_figures_in_a_fixed_number_of_queries(client, commits):
    """However large the archive, the home page reads its overview (one row) rather
    than counting: as many queries before and after five more articles."""

    def queries() -> int:
        html(client, "/")  # the overview at this version, made if missing
        django_cache.clear()  # the chart's markup is cached: a miss each time
        with CaptureQueriesContext(connection) as captured:
            html(client, "/")
        return len(captured.captured_queries)

    before = queries()
    with commits():
        desk = Outlet.objects.create(name="More Desk", slug="more-desk")
        for n in range(5):
            make_article(f"Another report {n}", "Kyiv was calm.", outlet=desk)
    assert queries() == before
    assert "<dt>Articles</dt><dd>13</dd>" in html(client, "/")


# --- Article --------------------------------------------------------------


def test_an_article_shows_its_parts(client):
    strikes = article(WAPO_STRIKES)
    page = html(client, strikes.get_absolute_url())
    assert f'<h1 id="article-title">{WAPO_STRIKES}</h1>' in page
    assert '<a class="outlet" href="/outlets/washington-post/">The Washington Post</a>' in page
    assert '<time datetime="2024-05-30T00:00:00+00:00">30 May 2024</time>' in page
    assert "(date from metadata)" in page
    assert '<p class="byline">Hudson and Rauhala</p>' in page
    assert "<h2>Topics</h2>" in page and 'href="/topics/military-aid-and-weapons/"' in page
    assert "<h3>Person</h3>" in page and "<h3>Place</h3>" in page
    # Entity names in the text link to their pages.
    assert (
        '<a class="entity" href="/entities/dmitry-peskov/" title="Dmitry Peskov">Dmitry Peskov</a>'
        in page
    )
    # Provenance and a citation.
    # Provenance names the file, never the loading machine's directories.
    file_name = strikes.source.origin.rsplit("/", 1)[-1]
    assert strikes.source.sha256 in page and f"<code>{file_name}</code>" in page
    assert "Hudson and Rauhala. “Ukraine can use US weapons" in page
    assert f"Archived at http://testserver{strikes.get_absolute_url()}." in page


def test_the_kicker_is_shown(client):
    page = html(client, article(NYT_LIVE).get_absolute_url())
    assert '<p class="kicker">Russia-Ukraine War</p>' in page


def test_a_live_blog_has_a_table_of_contents_linking_to_its_entries(client):
    live = article(AJ_LIVE)
    page = html(client, live.get_absolute_url())
    toc = re.search(r'<nav class="toc".*?</nav>', page, re.DOTALL).group(0)
    entries = list(live.sections.exclude(heading="").order_by("position"))
    assert len(entries) == 34
    links = re.findall(r'<a href="#([^"]+)">', toc)
    assert links == [e.anchor for e in entries]
    for anchor in links:
        assert f'<section id="{anchor}"' in page
    first = entries[0]
    assert f'<a href="#{first.anchor}">{first.heading}</a> <time' in toc
    assert "26 Jan, 18:04" in toc


def test_captions_are_shown_as_captions(client):
    live = article(AJ_LIVE)
    section = live.sections.exclude(captions=[]).first()
    page = html(client, live.get_absolute_url())
    assert (
        f'<figure class="caption"><figcaption>{section.captions[0]}</figcaption></figure>' in page
    )


def test_related_articles_share_entities_and_topics(client):
    page = html(client, article(GUARDIAN).get_absolute_url())
    related = re.search(r"<h2>Related coverage</h2>(.*?)</section>", page, re.DOTALL).group(1)
    assert len(re.findall(r'class="article-item"', related)) == 5
    assert GUARDIAN not in related
    assert NYT_LIVE in related  # Pistorius, Ramstein, tanks


def test_a_wrong_slug_redirects_to_the_canonical_url(client):
    strikes = article(WAPO_STRIKES)
    response = client.get(f"/articles/{strikes.pk}/not-the-slug/")
    assert response.status_code == 301
    assert response["Location"] == strikes.get_absolute_url()


def test_an_unknown_article_is_404(client):
    assert client.get("/articles/999999/anything/").status_code == 404


def test_untrusted_text_is_escaped_and_only_http_links_are_links(client):
    desk = Outlet.objects.create(name="Escape <Desk>", slug="escape-desk")
    hostile, _ = make_article(
        "A <script>alert('title')</script> headline",
        "Body <script>alert('body')</script> & <img src=x onerror=alert(1)>",
        outlet=desk,
        byline="<b>By</b> Someone",
        kicker="<i>Kicker</i>",
        source_url="javascript:alert(1)",
        captions=["<script>alert('caption')</script>"],
    )
    page = html(client, hostile.get_absolute_url())
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "A &lt;script&gt;alert(&#x27;title&#x27;)&lt;/script&gt; headline" in page
    assert "Body &lt;script&gt;alert(&#x27;body&#x27;)&lt;/script&gt; &amp; &lt;img" in page
    assert "&lt;b&gt;By&lt;/b&gt; Someone" in page and "&lt;i&gt;Kicker&lt;/i&gt;" in page
    assert (
        "<figcaption>&lt;script&gt;alert(&#x27;caption&#x27;)&lt;/script&gt;</figcaption>" in page
    )
    assert 'href="javascript:' not in page
    assert "Original address: <code>javascript:alert(1)</code>" in page
    assert "Escape &lt;Desk&gt;" in page

    hostile.source_url = "https://www.example.com/story?a=1&b=<2>"
    hostile.save()
    page = html(client, hostile.get_absolute_url())
    assert 'href="https://www.example.com/story?a=1&amp;b=&lt;2&gt;"' in page


# --- Entity ---------------------------------------------------------------


def test_an_entity_page_shows_name_aliases_timeline_articles_and_companions(client):
    page = html(client, "/entities/kyiv/")
    assert "<h1>Kyiv</h1>" in page and '<p class="kicker">Place</p>' in page
    assert "Also written: Kiev" in page
    assert "Articles naming Kyiv over time" in page
    assert '<svg class="timeline__chart timeline__chart--wide"' in page
    assert 'href="/search/?entity=kyiv&amp;from=2024-05-01&amp;to=2024-05-31"' in page
    mentioning = set(
        Mention.objects.filter(entity__slug="kyiv").values_list("article__title", flat=True)
    )
    for title in mentioning:
        assert title.replace("’", "’") in page
    assert f'Articles mentioning Kyiv <span class="muted">({len(mentioning)})</span>' in page
    companions = re.search(r"Often mentioned with</h2>(.*?)</aside>", page, re.DOTALL).group(1)
    assert 'href="/entities/ukraine/"' in companions
    assert 'href="/entities/kyiv/"' not in companions


def test_an_entitys_articles_filter_by_outlet_and_date(client):
    page = html(client, "/entities/kyiv/", outlet="guardian")
    assert GUARDIAN in page and WAPO_STRIKES not in page
    page = html(client, "/entities/kyiv/", **{"from": "2024-01-01", "to": "2024-12-31"})
    assert WAPO_STRIKES in page and GUARDIAN not in page
    assert "There is no outlet “nope”." in html(client, "/entities/kyiv/", 400, outlet="nope")


def test_an_unknown_entity_is_404(client):
    assert client.get("/entities/no-such-entity/").status_code == 404


# --- Outlet and topic -----------------------------------------------------


def test_an_outlet_page_lists_its_articles_with_a_timeline(client):
    page = html(client, "/outlets/cnn/")
    assert "<h1>CNN</h1>" in page and '<svg class="timeline__chart timeline__chart--wide"' in page
    for cnn in Article.objects.filter(outlet__slug="cnn"):
        assert f'href="{cnn.get_absolute_url()}"' in page
    assert WAPO_STRIKES not in page


def test_article_lists_paginate(client):
    desk = Outlet.objects.create(name="Pager Desk", slug="pager-desk")
    for day in range(1, 22):
        make_article(
            f"Daily report {day}",
            "Kyiv.",
            outlet=desk,
            published_at=datetime(2023, 3, day, tzinfo=UTC),
        )
    first = html(client, "/outlets/pager-desk/")
    assert "Page 1 of 2" in first and "Daily report 21" in first and "Daily report 1<" not in first
    assert 'href="?page=2"' in first
    second = html(client, "/outlets/pager-desk/", page=2)
    assert "Daily report 1<" in second and "Daily report 2<" not in second
    assert "There is no page 3: the last page is 2." in html(
        client, "/outlets/pager-desk/", 400, page=3
    )


def test_a_topic_page_shows_its_query_and_tagged_articles(client):
    aid = Topic.objects.get(slug="military-aid-and-weapons")
    page = html(client, "/topics/military-aid-and-weapons/")
    assert "<h1>Military aid and weapons</h1>" in page
    assert f"<code>{aid.query.replace(chr(34), '&quot;')}</code>" in page
    tagged = Article.objects.filter(topic_tags__topic=aid, topic_tags__excluded=False)
    assert tagged.exists()
    for each in tagged:
        assert f'href="{each.get_absolute_url()}"' in page
    untagged = Article.objects.exclude(pk__in=tagged.values("pk")).first()
    assert f'href="{untagged.get_absolute_url()}"' not in page


# --- Hidden articles ------------------------------------------------------


@pytest.fixture
def hidden(commits):
    """A hidden article in its own outlet and month, naming an entity nothing else
    names, tagged with a topic, and sharing entities with the seeds (committed, as
    far as the pages can tell)."""
    with commits():
        outlet = Outlet.objects.create(name="Quarantined Wire", slug="quarantined-wire")
        secret, section = make_article(
            "Pistorius and Zelensky in Kyiv: Xylophonics secret briefing",
            "Boris Pistorius met Volodymyr Zelensky in Kyiv to discuss Leopard 2 tanks.",
            outlet=outlet,
            public=False,
            published_at=datetime(2019, 3, 5, tzinfo=UTC),
        )
        only_here = Entity.objects.create(name="Xylophonics Ltd", kind="organisation", slug="xylo")
        for entity in [only_here, *Entity.objects.filter(slug__in=["kyiv", "boris-pistorius"])]:
            Mention.objects.create(entity=entity, section=section, article=secret, count=1)
        ArticleTopic.objects.create(article=secret, topic=Topic.objects.get(slug="energy"), score=1)
    return secret


def test_a_hidden_article_is_404(client, hidden):
    assert client.get(hidden.get_absolute_url()).status_code == 404


def test_a_hidden_article_is_not_searchable(client, hidden):
    for params in ({"q": "Pistorius"}, {"q": "Xylophonics"}, {}, {"outlet": "quarantined-wire"}):
        data = client.get("/api/search/", params).json()
        assert hidden.pk not in [r["id"] for r in data["results"]]
        assert "quarantined-wire" not in [f["slug"] for f in data["facets"]["outlet"]]
        assert "xylo" not in [f["slug"] for f in data["facets"]["entity"]]
        assert "2019-03" not in [f["month"] for f in data["facets"]["month"]]
    assert client.get("/api/search/", {"q": "Pistorius"}).json()["count"] == 2
    assert client.get("/api/search/", {"topic": "energy"}).json()["count"] == (
        ArticleTopic.objects.filter(topic__slug="energy", article__is_public=True).count()
    )
    assert client.get("/api/search/", {"q": "Xylophonic"}).json()["suggestion"] is None
    assert "Xylophonics" not in html(client, "/search/", q="Pistorius")


def test_a_hidden_article_is_not_on_any_page(client, hidden):
    pages = [
        "/",
        "/outlets/quarantined-wire/",
        "/entities/kyiv/",
        "/entities/boris-pistorius/",
        "/topics/energy/",
        article(NYT_LIVE).get_absolute_url(),  # related articles
        article(GUARDIAN).get_absolute_url(),
    ]
    for url in pages:
        page = html(client, url)
        assert "Xylophonics" not in page, url
        assert hidden.get_absolute_url() not in page, url
        assert "March 2019" not in page, url
    home = html(client, "/")
    assert "<dt>Articles</dt><dd>8</dd>" in home and "Quarantined Wire" not in home
    assert client.get("/entities/xylo/").status_code == 404  # named only in hidden text
