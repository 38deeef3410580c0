"""Each story once: a page of results keeps the best-ranked copy of each story
(articles/stories.py), with how many copies and outlets ran it and when it first
ran. Works on the ids any backend answers, in its order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Min

from articles.models import Article

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
    rows = (
        Article.objects.public()
        .filter(story_id__in=story_ids)
        .order_by()
        .values("story_id")
        .annotate(
            copies=Count("pk"), outlets=Count("outlet", distinct=True), first=Min("published_at")
        )
    )
    return {
        row["story_id"]: StoryInfo(row["story_id"], row["copies"], row["outlets"], row["first"])
        for row in rows
    }
