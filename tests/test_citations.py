"""/articles/<id>/cite.<txt|bib|ris|json>: Chicago plain text, BibTeX, RIS and
CSL-JSON, each with the original and the archive's addresses and the load date as
access date; hostile text escaped where the format needs it; hidden articles 404."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from articles import citations
from articles.citations import Name
from articles.models import Article, SourceDocument
from tests.test_api import HOSTILE_TITLE, HOSTILE_URL, hidden, hostile, make_article

pytestmark = pytest.mark.django_db
__all__ = ["hidden", "hostile"]  # fixtures

WAPO_STRIKES = "Ukraine can use US weapons for limited strikes in Russia, Biden says"
ORIGINAL = "https://www.washingtonpost.com/world/2024/05/30/biden-ukraine-weapons-russia/"


@pytest.fixture
def wapo():
    article = Article.objects.select_related("source").get(title=WAPO_STRIKES)
    Article.objects.filter(pk=article.pk).update(source_url=ORIGINAL)
    article.refresh_from_db()
    return article


def cite(client, article, fmt) -> tuple[str, str]:
    response = client.get(f"/articles/{article.pk}/cite.{fmt}")
    assert response.status_code == 200, response.content
    return response["Content-Type"], response.content.decode()


def permalink(article) -> str:
    return f"http://testserver{article.get_absolute_url()}"


def accessed(article) -> datetime:
    return article.source.loaded_at.astimezone(UTC)


def test_plain_text_is_chicago_with_both_addresses_and_the_access_date(client, wapo):
    content_type, text = cite(client, wapo, "txt")
    assert content_type == "text/plain; charset=utf-8"
    day = accessed(wapo)
    assert text == (
        f"Hudson and Rauhala. “{WAPO_STRIKES}.” The Washington Post, May 30, 2024. "
        f"Accessed {day:%B} {day.day}, {day.year}. {ORIGINAL}. "
        f"Archived at {permalink(wapo)}.\n"
    )


def test_bibtex(client, wapo):
    content_type, text = cite(client, wapo, "bib")
    assert content_type == "application/x-bibtex; charset=utf-8"
    assert text == (
        f"@article{{washingtonpost2024-{wapo.pk},\n"
        "  author = {{Hudson} and {Rauhala}},\n"
        f"  title = {{{{{WAPO_STRIKES}}}}},\n"
        "  journal = {The Washington Post},\n"
        "  date = {2024-05-30},\n"
        "  year = {2024},\n"
        "  month = may,\n"
        f"  url = {{{ORIGINAL}}},\n"
        f"  urldate = {{{accessed(wapo):%Y-%m-%d}}},\n"
        f"  note = {{Archived at \\url{{{permalink(wapo)}}}}},\n"
        "}\n"
    )


def test_ris(client, wapo):
    content_type, text = cite(client, wapo, "ris")
    assert content_type == "application/x-research-info-systems; charset=utf-8"
    assert text.endswith("ER  - \r\n")
    lines = text.split("\r\n")[:-1]
    assert all(re.fullmatch(r"[A-Z][A-Z0-9]  - .*", line) for line in lines), lines
    assert lines == [
        "TY  - NEWS",
        "AU  - Hudson",
        "AU  - Rauhala",
        f"TI  - {WAPO_STRIKES}",
        "T2  - The Washington Post",
        "PY  - 2024",
        "DA  - 2024/05/30/",
        f"UR  - {ORIGINAL}",
        f"Y2  - {accessed(wapo):%Y/%m/%d}/",
        f"N1  - Archived at {permalink(wapo)}",
        "DB  - War-coverage archive",
        "ER  - ",
    ]


def test_csl_json(client, wapo):
    content_type, text = cite(client, wapo, "json")
    assert content_type == "application/vnd.citationstyles.csl+json; charset=utf-8"
    day = accessed(wapo)
    assert json.loads(text) == [
        {
            "id": f"archive-{wapo.pk}",
            "type": "article-newspaper",
            "title": WAPO_STRIKES,
            "container-title": "The Washington Post",
            "author": [{"literal": "Hudson"}, {"literal": "Rauhala"}],
            "issued": {"date-parts": [[2024, 5, 30]]},
            "accessed": {"date-parts": [[day.year, day.month, day.day]]},
            "URL": ORIGINAL,
            "archive": "War-coverage archive",
            "archive_location": permalink(wapo),
            "note": f"Archived at {permalink(wapo)}",
        }
    ]


def test_downloads_are_named_and_readable_from_any_origin(client, wapo):
    response = client.get(f"/articles/{wapo.pk}/cite.bib")
    assert response["Content-Disposition"] == f'attachment; filename="article-{wapo.pk}.bib"'
    assert response["Access-Control-Allow-Origin"] == "*"
    assert client.get(f"/articles/{wapo.pk}/cite.txt")["Content-Disposition"].startswith("inline")


@pytest.mark.parametrize(
    ("byline", "names"),
    [
        ("", []),
        ("Erin Cunningham", [Name("Cunningham", "Erin")]),
        ("Hudson and Rauhala", [Name(literal="Hudson"), Name(literal="Rauhala")]),
        (
            "Erin Cunningham, John Hudson and Mary Ilyushina",
            [Name("Cunningham", "Erin"), Name("Hudson", "John"), Name("Ilyushina", "Mary")],
        ),
        (
            "Anne-Marie O’Neill & Jean de la Croix",
            [Name("O’Neill", "Anne-Marie"), Name("Croix", "Jean de la")],
        ),
        ("Martin Luther King Jr.", [Name(literal="Martin Luther King Jr")]),
        ("Jane Doe; AFP", [Name("Doe", "Jane"), Name(literal="AFP")]),
        ("Alexandra Prokopenko", [Name("Prokopenko", "Alexandra")]),  # "and" inside a name
    ],
)
def test_bylines_become_authors(byline, names):
    assert citations.authors(byline) == names


@pytest.mark.parametrize(
    ("byline", "expected"),
    [
        ("Erin Cunningham", "Cunningham, Erin."),
        ("Erin Cunningham and John Hudson", "Cunningham, Erin, and John Hudson."),
        (
            "Erin Cunningham, John Hudson and Mary Ilyushina",
            "Cunningham, Erin, John Hudson, and Mary Ilyushina.",
        ),
    ],
)
def test_chicago_inverts_only_the_first_author(client, byline, expected):
    article = make_article("A title?", "Body.", byline=byline)
    _, text = cite(client, article, "txt")
    assert text.startswith(f"{expected} “A title?” June 1, 2024. Accessed ")


def test_without_date_outlet_or_source_the_citation_says_so(client):
    article = make_article("Undated", "Body.", published_at=None, date_source="unknown")
    SourceDocument.objects.filter(pk=article.source_id).delete()
    article.refresh_from_db()
    _, text = cite(client, article, "txt")
    created = article.created_at.astimezone(UTC)
    assert text == (
        f"“Undated.” n.d. Accessed {created:%B} {created.day}, {created.year}. "
        f"Archived at {permalink(article)}.\n"
    )
    _, bib = cite(client, article, "bib")
    assert f"@article{{archivend-{article.pk}," in bib and "year" not in bib
    assert f"  url = {{{permalink(article)}}}," in bib


def _bibtex_unescape(text: str) -> str:
    for escaped, plain in [
        (r"\textbackslash{}", "\\"),
        (r"\textasciitilde{}", "~"),
        (r"\textasciicircum{}", "^"),
        (r"\{", "{"),
        (r"\}", "}"),
        (r"\%", "%"),
        (r"\&", "&"),
        (r"\#", "#"),
        (r"\_", "_"),
        (r"\$", "$"),
    ]:
        text = text.replace(escaped, plain)
    return text


def _balanced(text: str) -> bool:
    depth = 0
    for match in re.finditer(r"\\.|[{}]", text):
        token = match.group()
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def test_bibtex_escapes_every_special_character(client, hostile):
    _, text = cite(client, hostile, "bib")
    assert _balanced(text)
    title = re.search(r"^  title = \{\{(.*)\}\},$", text, re.MULTILINE).group(1)
    escapes = r"\\(?:textbackslash|textasciitilde|textasciicircum)\{\}|\\[{}%&#_$]"
    assert not re.search(r"[\\{}%&#_$~^]", re.sub(escapes, "", title)), "all escaped"
    assert r"\{braces\}" in title and r"100\%" in title and r"\$x\_y" in title
    assert r"\textbackslash{}input\{/etc/passwd\}" in title
    assert _bibtex_unescape(title) == " ".join(HOSTILE_TITLE.split())
    author = re.search(r"^  author = \{(.*)\},$", text, re.MULTILINE).group(1)
    assert author == '{@SUM(1+1)} and {Jane "JJ" O’Brien}'
    # A URL is verbatim in biblatex: what could break the file is percent-encoded.
    assert "  url = {https://example.org/a?b=1&c=%7Bx%7D%20y#frag}," in text
    assert len(re.findall(r"^\S", text, re.MULTILINE)) == 2, "one entry, one closing brace"


def test_hostile_text_stays_on_its_line_in_ris_and_is_data_in_csl_json(client, hostile):
    _, text = cite(client, hostile, "ris")
    lines = text.split("\r\n")[:-1]
    assert all(re.fullmatch(r"[A-Z][A-Z0-9]  - .*", line) for line in lines), lines
    assert f"TI  - {' '.join(HOSTILE_TITLE.split())}" in lines
    assert f"UR  - {HOSTILE_URL}" in lines
    _, csl = cite(client, hostile, "json")
    assert json.loads(csl)[0]["title"] == " ".join(HOSTILE_TITLE.split())


def test_plain_text_is_never_html(client, hostile):
    response = client.get(f"/articles/{hostile.pk}/cite.txt")
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_hidden_unknown_and_other_formats_are_404(client, hidden, wapo):
    assert client.get(f"/articles/{hidden.pk}/cite.bib").status_code == 404
    assert client.get("/articles/999999/cite.txt").status_code == 404
    assert client.get(f"/articles/{wapo.pk}/cite.docx").status_code == 404


def test_the_article_page_offers_every_format(client, wapo):
    page = client.get(wapo.get_absolute_url()).content.decode()
    for fmt in ("txt", "bib", "ris", "json"):
        assert f'href="/articles/{wapo.pk}/cite.{fmt}"' in page


def test_the_article_page_offers_the_same_citation_as_cite_txt(client):
    from articles.models import Article

    article = Article.objects.public().filter(byline__gt="").first()
    page = client.get(article.get_absolute_url())
    text = client.get(f"/articles/{article.pk}/cite.txt").content.decode().strip()
    assert page.context["citation"].strip() == text
