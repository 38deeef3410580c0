"""Article text is untrusted: a title, body, caption, byline, outlet name or
source URL carrying <script>, event handlers or javascript: URLs is loaded by the
real loader and then shown inert on every page, snippet, feed and export."""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser
from xml.etree import ElementTree

import pytest
from django.urls import Resolver404, resolve

from articles.ingest.loader import Loader, LoadOptions
from articles.models import Article, Entity, Mention, Topic

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert('xss')</script>"
IMG = "<img src=x onerror=alert('xss')>"
SVG = "<svg onload=alert('xss')>"
JS_LINK = "<a href=\"javascript:alert('xss')\">click</a>"
# What the reader must see instead: the same characters, escaped.
ESCAPED_SCRIPT = "&lt;script&gt;alert(&#x27;xss&#x27;)&lt;/script&gt;"

HOSTILE_RECORD = {
    "title": f"Kyiv shelling {SCRIPT} {IMG}",
    "byline": f"By {SVG} Jane Doe {SCRIPT}",
    "url": "javascript:alert('xss')//https://example.org/",
    "outlet": f"Outlet {SCRIPT}",
    "description": f"Standfirst {JS_LINK} {IMG}",
    "date": "2024-03-01",
    "body": (
        f"KYIV, Ukraine - Russian missiles struck Kyiv on Friday {SCRIPT}, officials in "
        "Ukraine said.\n\n"
        f"{IMG} Volodymyr Zelensky said air defence intercepted most missiles over Kyiv.\n\n"
        f"Officials said the strikes hit energy infrastructure {JS_LINK} across Ukraine.\n\n"
        f'<iframe src="javascript:alert(1)"></iframe> <body onload=alert(1)> "><script>x</script>'
    ),
}
# A caption (set apart from the body by its photo credit) and a title a
# spreadsheet would run as a formula.
CAPTION_RECORD = {
    "title": '=HYPERLINK("https://evil.example/","Kyiv artillery")',
    "outlet": f"Outlet {SCRIPT}",
    "date": "2024-03-02",
    "body": (
        "Ukrainian soldiers fired artillery near Bakhmut on Saturday, the army said.\n\n"
        f"Soldiers fire artillery near Bakhmut {SCRIPT}. Photograph: Jane Doe/Reuters\n\n"
        "The shelling went on through the night around Bakhmut."
    ),
}
HOSTILE_PAGE = f"""<!doctype html>
<html><head>
<title>Kherson counteroffensive {SCRIPT}</title>
<meta name="author" content="Ivan {SVG} Petrenko">
<meta property="og:site_name" content="Site {SCRIPT}">
<link rel="canonical" href="javascript:alert('xss')">
<script>alert('inline in the source page')</script>
</head><body onload="alert('xss')">
<article>
<h1>Kherson counteroffensive {SCRIPT}</h1>
<p>Ukrainian forces advanced towards Kherson on Monday {SCRIPT}, according to officials
in Kyiv who described the counteroffensive in the south of Ukraine.</p>
<p onmouseover="alert('xss')">Residents of Kherson said they heard artillery through the
night {IMG} as the fighting moved closer to the city on the Dnipro river.</p>
<p>The governor said the counteroffensive <a href="javascript:alert('xss')">continued</a>
for a third day, with Russian troops withdrawing from several villages.</p>
</article></body></html>
"""


@pytest.fixture
def hostile(tmp_path) -> Article:
    """The hostile inputs, loaded the way an operator loads anything (from a folder of
    their own: on the tantivy backend the index lives in `tmp_path` too)."""
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    records = inputs / "records.jsonl"
    records.write_text("\n".join(json.dumps(r) for r in (HOSTILE_RECORD, CAPTION_RECORD)) + "\n")
    (inputs / "page.html").write_text(HOSTILE_PAGE)
    report = Loader(LoadOptions()).load([inputs])
    assert report.failures == []
    assert report.created == 3
    article = Article.objects.get(title__startswith="Kyiv shelling")
    # Names a curator could type in admin are untrusted too.
    kyiv = Entity.objects.get(mentions__article=article, name="Kyiv")
    Entity.objects.filter(pk=kyiv.pk).update(description=f"Capital {SCRIPT} {IMG}")
    evil = Entity.objects.create(name=f"Evil {SCRIPT}", kind="org", slug="evil-entity")
    Mention.objects.create(entity=evil, article=article, section=article.sections.get(), count=1)
    Topic.objects.create(
        name=f"Shelling {SCRIPT}",
        slug="shelling",
        description=f"About {IMG}",
        query="shelling",
    ).article_tags.create(article=article, score=1, curated=True)
    return article


class _Tags(HTMLParser):
    """Every start tag of a page, with its attributes as the browser reads them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {name: value or "" for name, value in attrs}))


_URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster"}


def assert_inert(page: str, where: str) -> None:
    """No script but the site's own files, no event handler, no script URL."""
    parser = _Tags()
    parser.feed(page)
    for tag, attrs in parser.tags:
        if tag == "script":
            assert attrs.get("src", "").startswith("/static/"), (where, tag, attrs)
        assert tag not in {"iframe", "object", "embed", "base", "frame"}, (where, tag, attrs)
        if tag == "img":
            assert attrs.get("src", "").startswith("/"), (where, tag, attrs)
        for name, value in attrs.items():
            assert not name.startswith("on"), (where, tag, name, value)
            if name in _URL_ATTRIBUTES:
                scheme = re.sub(r"[\s\x00-\x1f]", "", value).lower().split(":", 1)[0]
                assert scheme not in {"javascript", "vbscript", "data"}, (where, tag, value)
    assert "<script>alert" not in page, where


def _get(client, url: str, **params) -> str:
    response = client.get(url, params)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def test_the_hostile_text_is_stored_as_given(hostile):
    # The archive keeps what it was given; escaping happens on output.
    assert SCRIPT in hostile.title
    assert SCRIPT in hostile.sections.get().body
    captioned = Article.objects.get(title__startswith="=HYPERLINK")
    assert any(SCRIPT in caption for caption in captioned.sections.get().captions)


def test_the_article_page_shows_hostile_text_inert(client, hostile):
    page = _get(client, hostile.get_absolute_url())
    assert_inert(page, "article page")
    assert f"Kyiv shelling {ESCAPED_SCRIPT}" in page  # shown, as text
    assert "&lt;svg onload=alert(&#x27;xss&#x27;)&gt; Jane Doe" in page  # the byline
    assert "Standfirst &lt;a href=" in page
    # A javascript: source URL is shown as text, never as a link.
    assert "Original address: <code>javascript:alert(&#x27;xss&#x27;)" in page


def test_a_caption_is_shown_inert(client, hostile):
    captioned = Article.objects.get(title__startswith="=HYPERLINK")
    page = _get(client, captioned.get_absolute_url())
    assert_inert(page, "captioned article page")
    assert f"Soldiers fire artillery near Bakhmut {ESCAPED_SCRIPT}." in page


def test_the_html_page_loads_without_its_scripts_or_links(client, hostile):
    article = Article.objects.get(title__startswith="Kherson counteroffensive")
    page = _get(client, article.get_absolute_url())
    assert_inert(page, "article from an HTML page")
    assert "inline in the source page" not in page
    assert article.source_url == "" or not article.source_url.startswith("javascript")


def test_home_lists_hostile_titles_inert(client, hostile):
    page = _get(client, "/")
    assert_inert(page, "home")
    assert ESCAPED_SCRIPT in page


def test_search_results_and_snippets_are_inert(client, hostile):
    for q in ("Kyiv shelling", "script alert", "Zelensky missiles", "artillery Bakhmut", "xss"):
        page = _get(client, "/search/", q=q)
        assert_inert(page, f"search {q!r}")
    page = _get(client, "/search/", q="Kyiv shelling")
    assert ESCAPED_SCRIPT in page


def test_a_hostile_query_is_echoed_inert(client, hostile):
    for q in (SCRIPT, IMG, '"><script>alert(1)</script>', "javascript:alert(1)"):
        response = client.get("/search/", {"q": q})
        assert response.status_code in (200, 400)
        assert_inert(response.content.decode(), f"search echo {q!r}")
        api = client.get("/api/search/", {"q": q})
        assert api.status_code in (200, 400)
        assert api["Content-Type"].startswith("application/json")


def test_entity_outlet_and_topic_pages_are_inert(client, hostile):
    kyiv = Entity.objects.get(name="Kyiv")
    urls = [
        kyiv.get_absolute_url(),
        Entity.objects.get(slug="evil-entity").get_absolute_url(),
        hostile.outlet.get_absolute_url(),
        Topic.objects.get(slug="shelling").get_absolute_url(),
    ]
    for url in urls:
        page = _get(client, url)
        assert_inert(page, url)
        assert ESCAPED_SCRIPT in page, url


def test_the_api_returns_escaped_snippets_as_json(client, hostile):
    response = client.get("/api/search/", {"q": "Kyiv shelling"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["X-Content-Type-Options"] == "nosniff"
    hit = next(h for h in response.json()["results"] if h["id"] == hostile.pk)
    assert hit["title"] == hostile.title  # data, for the client to escape
    # Snippets are HTML: escaped, only <mark> added.
    snippets = [hit["snippet"], *(s["snippet"] for s in hit["sections"])]
    for snippet in snippets:
        assert_inert(snippet, "API snippet")
        assert set(re.findall(r"</?([a-z]+)", snippet)) <= {"mark"}, snippet


# --- Feeds, exports and citations (when routed) ---------------------------------


def _body(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def _routed(path: str) -> bool:
    try:
        resolve(path)
    except Resolver404:
        return False
    return True


def _require(path: str) -> None:
    if not _routed(path):
        pytest.skip(f"{path} is not routed yet")


def _feed_paths(hostile) -> list[str]:
    kyiv = Entity.objects.get(name="Kyiv")
    return [
        "/search/feed.{fmt}?q=Kyiv+shelling",
        f"/entities/{kyiv.slug}/feed.{{fmt}}",
        "/entities/evil-entity/feed.{fmt}",
        f"/outlets/{hostile.outlet.slug}/feed.{{fmt}}",
        "/topics/shelling/feed.{fmt}",
    ]


def test_atom_feeds_carry_hostile_text_as_text(client, hostile):
    _require("/search/feed.atom")
    for template in _feed_paths(hostile):
        url = template.format(fmt="atom")
        response = client.get(url)
        assert response.status_code == 200, url
        root = ElementTree.fromstring(_body(response))  # noqa: S314 - our own feed
        found = False
        for element in root.iter():
            text = element.text or ""
            if element.get("type") in ("html", "xhtml"):
                # What a feed reader renders as HTML must itself be inert.
                assert_inert(text, f"{url} {element.tag}")
            found = found or "alert('xss')" in text
            for name, value in element.attrib.items():
                assert not value.strip().lower().startswith("javascript:"), (url, name, value)
        assert found, f"{url}: the hostile title should be in the feed, as text"


def test_json_feeds_carry_escaped_html(client, hostile):
    _require("/search/feed.json")
    for template in _feed_paths(hostile):
        url = template.format(fmt="json")
        response = client.get(url)
        assert response.status_code == 200, url
        assert not response["Content-Type"].startswith("text/html"), url
        items = json.loads(_body(response))["items"]
        assert items, url
        for item in items:
            if "content_html" in item:
                assert_inert(item["content_html"], f"{url} content_html")
            for key in ("url", "external_url"):
                assert not str(item.get(key, "")).lower().startswith("javascript:"), (url, item)


def test_the_csv_export_neutralises_formulas(client, hostile):
    _require("/search/export.csv")
    response = client.get("/search/export.csv", {"q": "artillery Bakhmut"})
    assert response.status_code == 200
    assert not response["Content-Type"].startswith("text/html")
    rows = list(csv.reader(io.StringIO(_body(response).decode("utf-8-sig"))))
    cells = [cell for row in rows[1:] for cell in row]
    assert any("HYPERLINK" in cell for cell in cells), "the hostile title should be exported"
    for cell in cells:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_exports_and_citations_are_never_served_as_html(client, hostile):
    _require("/search/export.csv")
    urls = [f"/search/export.{fmt}?q=Kyiv+shelling" for fmt in ("csv", "jsonl", "json")]
    urls += [f"/articles/{hostile.pk}/cite.{fmt}" for fmt in ("txt", "bib", "ris", "json")]
    for url in urls:
        if not _routed(url.split("?")[0]):
            continue
        response = client.get(url)
        assert response.status_code == 200, url
        assert not response["Content-Type"].startswith("text/html"), url
        assert response["X-Content-Type-Options"] == "nosniff", url
        assert "Kyiv shelling" in _body(response).decode("utf-8-sig"), url


def _html_fields(value, key=""):
    """Every string in a JSON document that is meant to be HTML."""
    if isinstance(value, dict):
        for name, item in value.items():
            yield from _html_fields(item, name)
    elif isinstance(value, list):
        for item in value:
            yield from _html_fields(item, key)
    elif isinstance(value, str) and ("snippet" in key or "html" in key):
        yield key, value


def test_every_api_answer_is_json_with_inert_html(client, hostile):
    kyiv = Entity.objects.get(name="Kyiv")
    urls = [
        "/api/search/?q=Kyiv+shelling",
        f"/api/articles/{hostile.pk}/",
        f"/api/entities/{kyiv.slug}/",
        "/api/entities/evil-entity/",
        "/api/entities/",
        "/api/outlets/",
        "/api/topics/",
    ]
    for url in urls:
        if not _routed(url.split("?")[0]):
            continue
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"].startswith("application/json"), url
        for key, html in _html_fields(json.loads(_body(response))):
            assert_inert(html, f"{url} {key}")
