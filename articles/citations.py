"""An article's citation in four formats: plain text (Chicago bibliography style),
BibTeX, RIS and CSL-JSON, served at /articles/<id>/cite.<txt|bib|ris|json>.

Each gives both addresses a reader needs: the original (when the archive knows
it) and the archive's permalink. The access date is when the archive loaded the
article (its source document's load time), the day the text was last seen.

Bylines are the names the loader kept ("Erin Cunningham and John Hudson"); a
name of two or more words is read as given names then a family name, anything
else is kept as written ("Hudson", "Reuters staff")."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.text import slugify
from django.views.decorators.http import require_safe

from articles.api import allow_cors
from articles.models import Article

ARCHIVE_NAME = "War-coverage archive"

_SEPARATORS = re.compile(r"\s*(?:,\s*and\s+|;|,|\s&\s|\sand\s)\s*", re.IGNORECASE)
_SUFFIXES = {"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"}
_NAME_WORD = re.compile(r"^[^\W\d_][\w.'’-]*$")


@dataclass(frozen=True)
class Name:
    family: str = ""
    given: str = ""
    literal: str = ""  # a name that cannot be split, kept as written

    @property
    def inverted(self) -> str:
        return f"{self.family}, {self.given}" if self.family else self.literal

    @property
    def natural(self) -> str:
        return f"{self.given} {self.family}" if self.family else self.literal


def authors(byline: str) -> list[Name]:
    """The people in a byline: "Erin Cunningham and Hudson" ->
    [Name(family="Cunningham", given="Erin"), Name(literal="Hudson")]."""
    names = []
    for part in _SEPARATORS.split(_plain(byline)):
        part = part.strip(" .")
        if not part:
            continue
        words = part.split()
        if (
            len(words) >= 2
            and words[-1].casefold() not in _SUFFIXES
            and all(_NAME_WORD.match(w) for w in words)
        ):
            names.append(Name(family=words[-1], given=" ".join(words[:-1])))
        else:
            names.append(Name(literal=part))
    return names


def _plain(text: str) -> str:
    """One line: every run of whitespace (newlines included) becomes one space."""
    return " ".join((text or "").split())


@dataclass(frozen=True)
class Citation:
    pk: int
    title: str
    authors: list[Name]
    outlet: str
    outlet_slug: str
    published: datetime | None
    accessed: datetime
    permalink: str
    original_url: str
    dek: str

    @classmethod
    def of(cls, article: Article, permalink: str) -> Citation:
        """`article` with its outlet and source loaded (select_related)."""
        loaded = article.source.loaded_at if article.source else article.created_at
        return cls(
            pk=article.pk,
            title=_plain(article.title),
            authors=authors(article.byline),
            outlet=_plain(article.outlet.name) if article.outlet else "",
            outlet_slug=article.outlet.slug if article.outlet else "",
            published=article.published_at.astimezone(UTC) if article.published_at else None,
            accessed=loaded.astimezone(UTC),
            permalink=permalink,
            original_url=_plain(article.source_url),
            dek=_plain(article.dek),
        )


# --- Plain text (Chicago) ----------------------------------------------------


def chicago(c: Citation) -> str:
    """Family, Given, and Given Family. “Title.” Outlet, Month D, YYYY. Accessed
    Month D, YYYY. Original URL. Archived at permalink."""
    parts = []
    if c.authors:
        parts.append(_sentence(_chicago_names(c.authors)))
    parts.append(f"“{_sentence(c.title)}”")
    date = _long_date(c.published) if c.published else "n.d."
    parts.append(_sentence(f"{c.outlet}, {date}" if c.outlet else date))
    parts.append(f"Accessed {_long_date(c.accessed)}.")
    if c.original_url:
        parts.append(_sentence(c.original_url))
    parts.append(f"Archived at {c.permalink}.")
    return " ".join(parts)


def _chicago_names(names: list[Name]) -> str:
    """The first name inverted, the others as written (CMOS 14.76)."""
    first, rest = names[0].inverted, [n.natural for n in names[1:]]
    if not rest:
        return first
    if len(rest) == 1:
        return f"{first}, and {rest[0]}" if names[0].family else f"{first} and {rest[0]}"
    return ", ".join([first, *rest[:-1]]) + f", and {rest[-1]}"


def _sentence(text: str) -> str:
    return text if text.endswith((".", "?", "!")) else f"{text}."


def _long_date(value: datetime) -> str:
    return f"{value:%B} {value.day}, {value.year}"


# --- BibTeX ------------------------------------------------------------------

_BIBTEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "%": r"\%",
    "&": r"\&",
    "#": r"\#",
    "_": r"\_",
    "$": r"\$",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def bibtex_escape(text: str) -> str:
    """Text safe inside a braced BibTeX value: LaTeX's special characters escaped."""
    return "".join(_BIBTEX_SPECIAL.get(ch, ch) for ch in _plain(text))


def _safe_url(url: str) -> str:
    """A URL with nothing that could end a braced value or start a TeX command:
    characters URLs may not hold (braces, backslash, spaces, quotes, non-ASCII)
    are percent-encoded, which any browser reads as the same address."""
    return quote(url, safe=";/?:@&=+$,-_.!~*'()#%[]")


def bibtex_key(c: Citation) -> str:
    outlet = re.sub(r"[^a-z0-9]", "", slugify(c.outlet_slug or c.outlet)) or "archive"
    year = str(c.published.year) if c.published else "nd"
    return f"{outlet}{year}-{c.pk}"


def bibtex(c: Citation) -> str:
    """A biblatex/BibTeX @article (Zotero, JabRef and Mendeley import it). The
    title is double-braced so styles keep its capitals; `url` is verbatim in
    biblatex, so it is percent-encoded rather than TeX-escaped."""
    fields = []
    if c.authors:
        people = " and ".join(
            f"{bibtex_escape(n.family)}, {bibtex_escape(n.given)}"
            if n.family
            else f"{{{bibtex_escape(n.literal)}}}"
            for n in c.authors
        )
        fields.append(("author", f"{{{people}}}"))
    fields.append(("title", f"{{{{{bibtex_escape(c.title)}}}}}"))
    if c.outlet:
        fields.append(("journal", f"{{{bibtex_escape(c.outlet)}}}"))
    if c.published:
        fields.append(("date", f"{{{c.published:%Y-%m-%d}}}"))
        fields.append(("year", f"{{{c.published.year}}}"))
        fields.append(("month", _MONTHS[c.published.month - 1]))
    fields.append(("url", f"{{{_safe_url(c.original_url or c.permalink)}}}"))
    fields.append(("urldate", f"{{{c.accessed:%Y-%m-%d}}}"))
    archived = _safe_url(c.permalink).replace("%", r"\%").replace("#", r"\#")
    fields.append(("note", f"{{Archived at \\url{{{archived}}}}}"))
    if c.dek:
        fields.append(("abstract", f"{{{bibtex_escape(c.dek)}}}"))
    body = ",\n".join(f"  {name} = {value}" for name, value in fields)
    return f"@article{{{bibtex_key(c)},\n{body},\n}}\n"


# --- RIS ---------------------------------------------------------------------


def ris(c: Citation) -> str:
    """RIS (EndNote, Zotero, Mendeley): one `TAG  - value` per line, CRLF line ends.
    Every value is one line, so no text can start a tag of its own."""
    lines = [("TY", "NEWS")]
    lines += [("AU", n.inverted) for n in c.authors]
    lines.append(("TI", c.title))
    if c.outlet:
        lines.append(("T2", c.outlet))
    if c.published:
        lines.append(("PY", str(c.published.year)))
        lines.append(("DA", f"{c.published:%Y/%m/%d}/"))
    lines.append(("UR", c.original_url or c.permalink))
    lines.append(("Y2", f"{c.accessed:%Y/%m/%d}/"))
    if c.dek:
        lines.append(("AB", c.dek))
    lines.append(("N1", f"Archived at {c.permalink}"))
    lines.append(("DB", ARCHIVE_NAME))
    lines.append(("ER", ""))
    return "".join(f"{tag}  - {_plain(value)}\r\n" for tag, value in lines)


# --- CSL-JSON ------------------------------------------------------------------


def csl(c: Citation) -> list[dict]:
    """CSL-JSON (citeproc, Zotero, Pandoc): a list holding the one item."""
    item = {
        "id": f"archive-{c.pk}",
        "type": "article-newspaper",
        "title": c.title,
        "container-title": c.outlet or None,
        "author": [
            {"family": n.family, "given": n.given} if n.family else {"literal": n.literal}
            for n in c.authors
        ]
        or None,
        "issued": _date_parts(c.published) if c.published else None,
        "accessed": _date_parts(c.accessed),
        "URL": c.original_url or c.permalink,
        "archive": ARCHIVE_NAME,
        "archive_location": c.permalink,
        "abstract": c.dek or None,
        "note": f"Archived at {c.permalink}",
    }
    return [{key: value for key, value in item.items() if value is not None}]


def _date_parts(value: datetime) -> dict:
    return {"date-parts": [[value.year, value.month, value.day]]}


# --- The view ------------------------------------------------------------------

FORMATS = {
    "txt": ("text/plain; charset=utf-8", "inline", lambda c: chicago(c) + "\n"),
    "bib": ("application/x-bibtex; charset=utf-8", "attachment", bibtex),
    "ris": ("application/x-research-info-systems; charset=utf-8", "attachment", ris),
    "json": (
        "application/vnd.citationstyles.csl+json; charset=utf-8",
        "inline",
        lambda c: json.dumps(csl(c), ensure_ascii=False, indent=2) + "\n",
    ),
}


@require_safe
def cite(request, pk: int, fmt: str):
    article = get_object_or_404(
        Article.objects.public()
        .select_related("outlet", "source")
        .defer("body", "search_vector", "source__raw"),
        pk=pk,
    )
    content_type, disposition, render = FORMATS[fmt]
    permalink = request.build_absolute_uri(article.get_absolute_url())
    response = HttpResponse(render(Citation.of(article, permalink)), content_type=content_type)
    response["Content-Disposition"] = f'{disposition}; filename="article-{article.pk}.{fmt}"'
    return allow_cors(response)
