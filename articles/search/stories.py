"""Each story once: a page of results keeps the best-ranked copy of each story
(articles/stories.py), with how many copies and outlets ran it and when it first
ran. Works on the ids any backend answers, in its order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import connections, router

from articles.models import Article
from articles.search.ordering import ids_array

# A page of stories asks the backend for this many times as many articles, then
# more (doubling) while copies leave the page short.
OVERFETCH = 3


@dataclass(frozen=True)
class StoryInfo:
    story_id: int
    copies: int  # public copies in the archive
    outlets: int  # distinct outlets among them
    first_published: datetime | None


def first_of_each_story(ids: list[int], stories: dict[int, int]) -> list[int]:
    """`ids` (in rank order) less every copy of a story ranked lower than another;
    `stories`: the story of each id in one (as a backend's Answer gives them)."""
    seen: set[int] = set()
    kept = []
    for pk in ids:
        story = stories.get(pk)
        if story is None:
            kept.append(pk)
        elif story not in seen:
            seen.add(story)
            kept.append(pk)
    return kept


def story_info(story_ids: set[int]) -> dict[int, StoryInfo]:
    """Copies, outlets and first publication of each story, over its public copies."""
    if not story_ids:
        return {}
    with connections[router.db_for_read(Article)].cursor() as cursor:
        cursor.execute(_STORY_INFO_SQL, [ids_array(story_ids)])
        return {row[0]: StoryInfo(*row) for row in cursor.fetchall()}


# Written as SQL: a page asks it every time, and the ORM took longer to compile the
# aggregate than PostgreSQL to answer it.
_STORY_INFO_SQL = """
SELECT story_id, count(*), count(DISTINCT outlet_id), min(published_at)
FROM articles_article
WHERE story_id = ANY(%s::bigint[]) AND is_public
GROUP BY story_id
"""
