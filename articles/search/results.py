"""What a search gives the page, the API, the exports and the feeds."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from django.utils.safestring import SafeString

from articles.models import Article, Entity
from articles.search.query import TextQuery
from articles.search.relaxed import Relaxation
from articles.search.stories import StoryInfo

PER_PAGE = 20
MAX_PAGE = 500
SORTS = {"relevance": "Relevance", "newest": "Newest first", "oldest": "Oldest first"}


class PageOutOfRange(ValueError):
    pass


@dataclass
class Selection:
    """Every filter the user gave but the text: how facet values are marked selected,
    and what a backend without the database's queryset (tantivy) filters by."""

    outlets: frozenset[str] = frozenset()
    topics: frozenset[str] = frozenset()
    entities: frozenset[str] = frozenset()
    date_from: date | None = None
    date_to: date | None = None
    kind: str = ""


@dataclass
class SectionHit:
    anchor: str
    position: int  # in its article, from 1: "Entry 3" on both pages
    heading: str
    heading_html: SafeString
    posted_at: datetime | None
    snippet_html: SafeString
    url: str

    @property
    def title_html(self) -> str:
        """Its highlighted heading, or without one its place: "Entry 17" (digits only)."""
        return self.heading_html or f"Entry {self.position}"


@dataclass
class Hit:
    article: Article
    url: str  # the article's page
    title_html: SafeString
    snippet_html: SafeString
    sections: list[SectionHit] = field(default_factory=list)
    section_count: int = 0
    topics: list[dict] = field(default_factory=list)  # {"slug", "name"}
    entities: list[dict] = field(default_factory=list)  # {"slug", "name", "kind"}
    story: StoryInfo | None = None  # the story this article is a copy in

    @property
    def other_outlets(self) -> int:
        """How many other outlets ran this story."""
        if self.story is None:
            return 0
        return max(0, self.story.outlets - (1 if self.article.outlet_id else 0))


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool = False
    kind: str = ""


@dataclass
class Facets:
    outlet: list[FacetValue] = field(default_factory=list)
    topic: list[FacetValue] = field(default_factory=list)
    entity: list[FacetValue] = field(default_factory=list)
    month: list[FacetValue] = field(default_factory=list)
    kind: list[FacetValue] = field(default_factory=list)

    def entity_by_kind(self) -> list[tuple[str, list[FacetValue]]]:
        labels = dict(Entity.Kind.choices)
        groups: dict[str, list[FacetValue]] = defaultdict(list)
        for value in self.entity:
            groups[value.kind].append(value)
        return [(labels.get(kind, kind), groups[kind]) for kind in labels if groups.get(kind)]


@dataclass
class SearchResults:
    text_query: TextQuery | None
    count: int
    page: int
    num_pages: int
    hits: list[Hit]
    facets: Facets
    suggestion: str | None = None
    relaxation: Relaxation | None = None  # not every word matched (articles/search/relaxed.py)
    bounded: bool = False  # relevance ranked only the newest matches (the backend says how many)
    per_page: int = PER_PAGE
    count_capped: bool = False  # `count` is a floor ("10,000+"), not the total
    facets_sampled: bool = False  # some facets counted only the newest matches
    outlets_sampled: bool = False  # the outlet and month facets counted `sample_size` matches
    sample_size: int = 0
    tags_sampled: bool = False  # the topic and entity facets counted `facet_sample` matches
    facet_sample: int = 0
    story_count: int | None = None  # the stories the matches are copies in, when known
    collapsed: bool = False  # each story once (its best-ranked copy)

    @property
    def has_next(self) -> bool:
        return self.page < self.num_pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def first_index(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.hits else 0

    @property
    def last_index(self) -> int:
        return (self.page - 1) * self.per_page + len(self.hits)
