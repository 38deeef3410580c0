"""The URLs of the pages of outlets, entities and topics, each reversed once: a
search page links a hundred entities, and reversing a URL cost more than the rest of
a link. Not for articles and stories: remembered one by one, a long export would
fill the cache."""

from __future__ import annotations

from functools import lru_cache

from django.urls import get_script_prefix, get_urlconf, reverse


def page_url(name: str, *args) -> str:
    """reverse(name, args=args), remembered."""
    return _reversed(get_urlconf(), get_script_prefix(), name, args)


@lru_cache(maxsize=65_536)
def _reversed(urlconf, script_prefix: str, name: str, args: tuple) -> str:
    # Keyed by what `reverse` reads besides the name and arguments.
    return reverse(name, args=args, urlconf=urlconf)
