"""The search and list parameters, validated by django-filter. Strict: a bound
FilterSet with any invalid parameter filters to nothing, and its `errors` say why."""

from __future__ import annotations

import re

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, QuerySet

from articles import cache, search
from articles.models import Article, ArticleTopic, Entity, Outlet, Topic

_SLUG = re.compile(r"^[-\w]{1,220}$")
MAX_QUERY_CHARS = 4000


class SlugChoiceField(forms.ModelMultipleChoiceField):
    """Choices by slug. Values that cannot be slugs are rejected before the database
    sees them (a NUL byte there would be a server error, not a clear message). An
    empty value means no filter: a form's "All outlets" option sends `outlet=`."""

    def clean(self, value):
        if isinstance(value, list | tuple):
            value = [item for item in value if item != ""]
        return super().clean(value)

    def _check_values(self, value):
        for item in value:
            if not isinstance(item, str) or not _SLUG.match(item):
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": _printable(item)},
                )
        return super()._check_values(value)


def _printable(value) -> str:
    text = "".join(ch if ch.isprintable() else "?" for ch in str(value))
    return text if len(text) <= 60 else text[:59] + "…"


class SlugFilter(django_filters.ModelMultipleChoiceFilter):
    field_class = SlugChoiceField


def _unknown(what: str) -> dict:
    return {"invalid_choice": f"There is no {what} “%(value)s”.", "list": f"Give {what} slugs."}


class PageField(forms.IntegerField):
    default_error_messages = {
        "invalid": "Give the page as a whole number, 1 or more.",
        "min_value": "Give the page as a whole number, 1 or more.",
        "max_value": f"Pages stop at {search.MAX_PAGE}: narrow the search to see further.",
    }


class PageFilter(django_filters.Filter):
    field_class = PageField


class ArticleListForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("from"), cleaned.get("to")
        if start and end and start > end:
            self.add_error("to", "“to” is before “from”: give the earlier date first.")
        return cleaned


class SearchForm(ArticleListForm):
    text_query: search.TextQuery | None = None

    def clean_q(self):
        """The text, checked; its parsed form with spellings is kept as `text_query`."""
        text = self.cleaned_data.get("q") or ""
        try:
            self.text_query = search.build_text_query(text)
        except search.QueryError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return text


_DATE_ERROR = {
    "invalid": "Give dates as YYYY-MM-DD (year, month, day), for example 2023-01-20: "
    "a form like 01/02/2023 could be 1 February or 2 January."
}
# ISO dates only: Django would also read 01/02/2022, as the site's locale guesses.
_ISO_DATE = ["%Y-%m-%d"]


class ArticleListFilter(django_filters.FilterSet):
    """Outlet (any of them), dates and page: the filters of every article list."""

    outlet = SlugFilter(
        queryset=Outlet.objects.all(),
        to_field_name="slug",
        method="filter_outlet",
        label="Outlet",
        error_messages=_unknown("outlet"),
    )
    # `from` is a keyword in Python, so the two dates are declared by name.
    locals()["from"] = django_filters.DateFilter(
        method="filter_from", label="From", error_messages=_DATE_ERROR, input_formats=_ISO_DATE
    )
    locals()["to"] = django_filters.DateFilter(
        method="filter_to", label="To", error_messages=_DATE_ERROR, input_formats=_ISO_DATE
    )
    page = PageFilter(method="keep", label="Page", min_value=1, max_value=search.MAX_PAGE)

    class Meta:
        model = Article
        fields: list[str] = []
        form = ArticleListForm

    @property
    def qs(self):
        if self.is_bound and not self.is_valid():
            return self.queryset.none()
        return super().qs

    def filtered(self, skip: set[str] = frozenset()):
        """The queryset with every valid filter but those in `skip` (for facet counts)."""
        queryset = self.queryset.all()
        for name, value in self.form.cleaned_data.items():
            if name not in skip:
                queryset = self.filters[name].filter(queryset, value)
        return queryset

    def keep(self, queryset, name, value):
        return queryset  # read by the view, not a filter

    def filter_outlet(self, queryset, name, outlets):
        return queryset.filter(outlet__in=outlets) if outlets else queryset

    def filter_from(self, queryset, name, value):
        return queryset.filter(published_at__gte=search.day_start(value))

    def filter_to(self, queryset, name, value):
        return queryset.filter(published_at__lte=search.day_end(value))

    @property
    def page_number(self) -> int:
        return self.form.cleaned_data.get("page") or 1

    def selection(self) -> search.Selection:
        data = self.form.cleaned_data
        return search.Selection(
            outlets=frozenset(o.slug for o in data.get("outlet") or ()),
            topics=frozenset(t.slug for t in data.get("topic") or ()),
            entities=frozenset(e.slug for e in data.get("entity") or ()),
            date_from=data.get("from"),
            date_to=data.get("to"),
            kind=data.get("kind") or "",
        )


class SearchFilter(ArticleListFilter):
    """Every /search/ and /api/search/ parameter. Topics and entities narrow (an
    article must have all of them); outlets are alternatives."""

    q = django_filters.CharFilter(
        method="filter_q",
        label="Search",
        # Long enough for a pasted paragraph: past MAX_TERMS words the query layer
        # keeps the rarest (articles/search/words.py), so length costs little.
        max_length=MAX_QUERY_CHARS,
        error_messages={
            "max_length": f"The search is too long: use at most {MAX_QUERY_CHARS} characters."
        },
    )
    topic = SlugFilter(
        queryset=Topic.objects.all(),
        to_field_name="slug",
        method="filter_topics",
        label="Topic",
        error_messages=_unknown("topic"),
    )
    entity = SlugFilter(
        queryset=Entity.objects.all(),
        to_field_name="slug",
        method="filter_entities",
        label="Entity",
        error_messages=_unknown("entity"),
    )
    kind = django_filters.ChoiceFilter(
        choices=Article.Kind.choices,
        label="Kind",
        empty_label="Articles and live blogs",
        error_messages={"invalid_choice": "Kind is “article” or “live”."},
    )
    sort = django_filters.ChoiceFilter(
        choices=list(search.SORTS.items()),
        method="keep",
        label="Sort",
        empty_label=None,
        error_messages={"invalid_choice": "Sort by “relevance”, “newest” or “oldest”."},
    )
    copies = django_filters.ChoiceFilter(
        choices=[("story", "Each story once"), ("all", "Every copy")],
        method="keep",
        label="Copies",
        empty_label=None,
        error_messages={"invalid_choice": "Copies is “story” (each story once) or “all”."},
    )

    class Meta(ArticleListFilter.Meta):
        form = SearchForm

    @property
    def text_query(self) -> search.TextQuery | None:
        """The parsed query with its spellings (looked up once, when the form is cleaned)."""
        return self.form.text_query if self.is_valid() else None

    def filter_q(self, queryset, name, value):
        if self.text_query is None:
            return queryset
        return search.matching(queryset, self.text_query)

    def filter_topics(self, queryset, name, topics):
        for topic in topics:
            tagged = ArticleTopic.objects.filter(
                article=OuterRef("pk"), topic=topic, excluded=False
            )
            queryset = queryset.filter(Exists(tagged))
        return queryset

    def filter_entities(self, queryset, name, entities):
        for entity in entities:
            queryset = queryset.mentioning(entity)
        return queryset

    @property
    def sort_order(self) -> str:
        return self.form.cleaned_data.get("sort") or "relevance"

    @property
    def collapse(self) -> bool:
        """Each story once (its best-ranked copy), unless every copy was asked for."""
        return self.form.cleaned_data.get("copies") != "all"

    def results(self) -> search.SearchResults:
        """One page of results with facets. Call only when valid; raises PageOutOfRange.
        The page and the API share results for the same parameters (articles/cache.py)."""
        return cache.cached("search", sorted(self.data.lists()), self.run_search)

    def every_match(self) -> tuple[QuerySet, search.TextQuery | None, str | None]:
        """Every article the search's pages list, for exports and feeds (call only when
        valid): (the matches, the query they match, what relaxed matching did, if it
        did)."""
        if self.text_query is None:
            return self.qs, None, None
        matches, text_query, relaxation = search.every_match(
            self.filtered(skip={"q"}),
            text_query=self.text_query,
            outlet_facet_base=self.filtered(skip={"q", "outlet"}),
            selection=self.selection(),
        )
        return matches, text_query, relaxation.describe() if relaxation else None

    def run_search(self, per_page: int = search.PER_PAGE) -> search.SearchResults:
        """`results()` without the result cache. The backend is given the filters and
        the text apart: it matches the text its own way."""
        return search.run_search(
            self.filtered(skip={"q"}),
            text_query=self.text_query,
            sort=self.sort_order,
            page=self.page_number,
            outlet_facet_base=self.filtered(skip={"q", "outlet"}),
            selection=self.selection(),
            per_page=per_page,
            collapse=self.collapse,
        )


def error_messages(filterset: django_filters.FilterSet) -> dict[str, list[str]]:
    """{"parameter": ["what is wrong"]}, for the page and the API."""
    return {
        name: [str(message) for message in messages] for name, messages in filterset.errors.items()
    }
