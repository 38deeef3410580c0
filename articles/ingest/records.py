"""Plain data passed between ingest stages. No Django imports here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


class IngestError(Exception):
    """An input that cannot be loaded. The message is one line a user can act on."""


# How an article's date was known, most trusted first.
DATE_METADATA = "metadata"  # page metadata, WARC capture, CSV/JSON column, manifest, --published
DATE_TEXT = "text"  # an explicit date written in the text
DATE_ESTIMATED = "estimated"
DATE_UNKNOWN = "unknown"

KIND_ARTICLE = "article"
KIND_LIVE = "live"


@dataclass
class Hints:
    """What the operator or a manifest says about an input; overrides guesses."""

    outlet: str = ""  # outlet name or slug
    published_at: datetime | None = None
    title: str = ""
    kicker: str = ""
    byline: str = ""
    source_url: str = ""
    kind: str = ""  # "" means detect


@dataclass
class Extracted:
    """One record as a format reader found it: text plus whatever metadata it had."""

    origin: str  # file path, or path#record-N / the WARC record's URL
    text: str  # plain text, paragraphs separated by blank lines
    title: str = ""
    byline: str = ""
    source_url: str = ""
    site_name: str = ""  # outlet name or domain from page metadata / a column
    published_at: datetime | None = None  # timezone-aware when known
    description: str = ""  # page description / dek
    # When a crawler fetched the page (WARC-Date), timezone-aware. Not a publication
    # date: the page may be years older than its capture.
    captured_at: datetime | None = None


@dataclass
class SectionRecord:
    heading: str = ""
    body: str = ""
    posted_at: datetime | None = None  # live-blog entries only
    captions: list[str] = field(default_factory=list)


@dataclass
class ArticleRecord:
    origin: str
    title: str
    sections: list[SectionRecord]
    outlet: str = ""  # outlet display name ("The New York Times"), "" when unknown
    outlet_domain: str = ""  # e.g. "nytimes.com" when known
    kicker: str = ""
    dek: str = ""
    byline: str = ""
    dateline: str = ""  # "BERLIN", "MOSCOW"
    source_url: str = ""
    published_at: datetime | None = None
    date_source: str = DATE_UNKNOWN
    kind: str = KIND_ARTICLE
    review_reasons: list[str] = field(default_factory=list)
    # One of several stories split from one input record (a compilation): the
    # stories share an origin, so the origin alone does not tell which is which.
    one_of_several: bool = False

    @property
    def body(self) -> str:
        return "\n\n".join(s.body for s in self.sections if s.body)


ENTITY_KINDS = ("person", "organisation", "place", "group", "weapon", "event")


@dataclass
class EntityMention:
    """One canonical entity found in one section."""

    name: str  # canonical name: "Volodymyr Zelensky", "Kyiv", "Leopard 2"
    kind: str  # one of ENTITY_KINDS
    count: int = 1
    surfaces: set[str] = field(default_factory=set)  # spellings seen: {"Zelenskyy", "Mr. Zelensky"}
